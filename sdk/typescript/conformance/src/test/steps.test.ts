import assert from "node:assert/strict";
import { test } from "node:test";
import { runSteps, type StepContext } from "../steps.js";

interface Fake extends StepContext {
  progressed: object[];
  checkpointed: object[];
  failedWith: string | undefined;
  controller: AbortController;
}

function fakeContext(attempt = 1, previousCheckpoint: unknown = null): Fake {
  const controller = new AbortController();
  const ctx: Fake = {
    id: "job-1",
    attempt,
    previousCheckpoint,
    signal: controller.signal,
    controller,
    progressed: [],
    checkpointed: [],
    failedWith: undefined,
    progress: (v) => void ctx.progressed.push(v),
    checkpoint: (v) => void ctx.checkpointed.push(v),
    fail: (m) => {
      ctx.failedWith = m;
      return new Error(m);
    },
  };
  return ctx;
}

const noSleep = async () => {};

test("without steps the result is the attempt and the checkpoint received", async () => {
  assert.deepEqual(await runSteps(fakeContext(2, { page: 3 }), {}, () => {}), { attempt: 2, checkpoint: { page: 3 } });
  assert.deepEqual(await runSteps(fakeContext(), "not an object", () => {}), { attempt: 1, checkpoint: null });
});

test("steps run in order; a step with an attempt runs only on that attempt", async () => {
  const slept: number[] = [];
  const ctx = fakeContext(2);
  const steps = [
    { op: "sleep", ms: 5 },
    { op: "progress", progress: { pct: 50 }, checkpoint: { page: 1 } },
    { op: "fail", error: "first attempt only", attempt: 1 },
    { op: "progress", checkpoint: { page: 2 } },
  ];
  const r = await runSteps(ctx, { steps }, () => {}, async (ms) => void slept.push(ms));
  assert.deepEqual(slept, [5]);
  assert.deepEqual(ctx.progressed, [{ pct: 50 }]);
  assert.deepEqual(ctx.checkpointed, [{ page: 1 }, { page: 2 }]);
  assert.equal(ctx.failedWith, undefined);
  assert.deepEqual(r, { attempt: 2, checkpoint: null });
});

test("terminal steps: complete returns its result, fail is the explicit fail, throw throws", async () => {
  assert.deepEqual(await runSteps(fakeContext(), { steps: [{ op: "complete", result: { ok: true } }, { op: "throw" }] }, () => {}), { ok: true });
  const ctx = fakeContext();
  await runSteps(ctx, { steps: [{ op: "fail", error: "nope" }] }, () => {}, noSleep);
  assert.equal(ctx.failedWith, "nope");
  await assert.rejects(runSteps(fakeContext(), { steps: [{ op: "throw", error: "kaboom" }] }, () => {}), /kaboom/);
  await assert.rejects(runSteps(fakeContext(), { steps: [{ op: "dance" }] }, () => {}), /unknown step op "dance"/);
});

test("wait_cancel: the signal prints the cancelled event and fails with cancelled", async () => {
  const ctx = fakeContext();
  const events: object[] = [];
  const running = runSteps(ctx, { steps: [{ op: "wait_cancel", timeout_ms: 10_000 }] }, (e) => void events.push(e));
  setTimeout(() => ctx.controller.abort(), 10);
  await running;
  assert.deepEqual(events, [{ event: "cancelled", job_id: "job-1" }]);
  assert.equal(ctx.failedWith, "cancelled");
});

test("wait_cancel: no signal within the timeout fails with not cancelled", async () => {
  const ctx = fakeContext();
  const events: object[] = [];
  await runSteps(ctx, { steps: [{ op: "wait_cancel", timeout_ms: 20 }] }, (e) => void events.push(e));
  assert.deepEqual(events, []);
  assert.equal(ctx.failedWith, "not cancelled");
});
