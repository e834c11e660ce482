import assert from "node:assert/strict";
import { test } from "node:test";
import { activeTraceparent, formatTraceparent, inExecuteSpan, loadTracing, parseTraceparent } from "../tracing.js";

test("W3C traceparent parses to a remote span context and formats back", () => {
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const sc = parseTraceparent(tp)!;
  assert.equal(sc.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(sc.spanId, "00f067aa0ba902b7");
  assert.equal(sc.traceFlags, 1);
  assert.equal(formatTraceparent(sc), tp);
  assert.equal(parseTraceparent(""), undefined);
  assert.equal(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), undefined);
  assert.equal(parseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), undefined);
});

test("without @opentelemetry/api tracing is a no-op", async () => {
  await loadTracing();
  assert.equal(activeTraceparent(), undefined);
  const v = await inExecuteSpan("", { jobId: "j", queue: "q", attempt: 1, workerId: "w" }, async () => 42, () => undefined);
  assert.equal(v, 42);
});
