import assert from "node:assert/strict";
import { test } from "node:test";
import { CorvoError } from "../errors.js";
import { enqueueOptions, payloadJson } from "../convert.js";
import { BackoffKind, Priority } from "../gen/corvo/v1/worker_pb.js";

test("enqueue options map to the proto, delay resolved against now", () => {
  const o = enqueueOptions(
    {
      priority: "critical",
      maxAttempts: 5,
      backoff: { kind: "fixed", baseMs: 200, capMs: 1000 },
      delayMs: 1500,
      expireAfterMs: 60_000,
      uniqueKey: "order-1",
      uniquePeriodMs: 5_000,
      tags: { tenant: "a" },
    },
    1_000_000,
  );
  assert.equal(o.priority, Priority.CRITICAL);
  assert.equal(o.maxAttempts, 5);
  assert.equal(o.backoff?.kind, BackoffKind.FIXED);
  assert.equal(o.backoff?.baseMs, 200n);
  assert.equal(o.scheduledAt?.seconds, 1001n);
  assert.equal(o.scheduledAt?.nanos, 500_000_000);
  assert.equal(o.expireAfterMs, 60_000n);
  assert.equal(o.uniqueKey, "order-1");
  assert.equal(o.uniquePeriodMs, 5_000n);
  assert.deepEqual(o.tags, { tenant: "a" });
});

test("the idempotency key: the caller's when given, else a fresh 128-bit hex one per build", () => {
  assert.equal(enqueueOptions({ idempotencyKey: "order-1/charge" }).idempotencyKey, "order-1/charge");
  assert.equal(enqueueOptions({ idempotencyKey: "" }).idempotencyKey, "", "empty sends none");
  const a = enqueueOptions().idempotencyKey;
  const b = enqueueOptions({ uniqueKey: "u" }).idempotencyKey;
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.match(b, /^[0-9a-f]{32}$/);
  assert.notEqual(a, b);
});

test("bad options are refused with the field named", () => {
  assert.throws(() => enqueueOptions({ delayMs: 1, scheduledAt: new Date() }), (e: CorvoError) => /scheduledAt and options.delayMs/.test(e.message));
  assert.throws(() => enqueueOptions({ priority: "urgent" as never }), /options.priority/);
  assert.throws(() => enqueueOptions({ maxAttempts: 0 }), /maxAttempts/);
  assert.throws(() => enqueueOptions({ expireAfterMs: -1 }), /expireAfterMs/);
});

test("payloads: values are serialized, strings are JSON text already", () => {
  assert.equal(payloadJson({ a: 1 }), '{"a":1}');
  assert.equal(payloadJson('{"a":1}'), '{"a":1}');
  assert.equal(payloadJson(undefined), "");
  assert.equal(payloadJson([1, 2]), "[1,2]");
  assert.throws(() => payloadJson("not json"), /must be JSON text/);
  assert.throws(() => payloadJson({ n: 1n }), /not JSON-serializable/);
});
