import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ErrorCode,
  ItemResultSchema,
  StreamLifecycleResponseSchema,
  type StreamLifecycleResponse,
} from "../gen/corvo/v1/worker_pb.js";
import { FRAME_ITEMS_MAX, Ledger, clampText, type Outcome, type Subscription } from "../ledger.js";

const SUB: Subscription = { queues: ["q"], workerId: "w-1", hostname: "h", leaseSecs: 60 };

const ack = (jobId: string, token = 7n): Outcome => ({ kind: "ack", jobId, leaseToken: token, resultJson: `{"id":"${jobId}"}` });
const fail = (jobId: string): Outcome => ({ kind: "fail", jobId, leaseToken: 7n, error: "boom", backtrace: "at x" });

function ok(jobId: string) {
  return create(ItemResultSchema, { jobId });
}
function itemError(jobId: string, code: ErrorCode, message = "no") {
  return create(ItemResultSchema, { jobId, code, message });
}
function answer(
  requestId: bigint,
  fields: Exclude<MessageInitShape<typeof StreamLifecycleResponseSchema>, StreamLifecycleResponse> = {},
): StreamLifecycleResponse {
  return create(StreamLifecycleResponseSchema, { ...fields, requestId });
}

test("the first frame subscribes and grants the concurrency; a job uses a credit; its ack grants one back", () => {
  const l = new Ledger(4);
  const first = l.nextFrame(SUB, 0, false, true)!;
  assert.equal(first.frame.credits, 4);
  assert.deepEqual(first.frame.queues, ["q"]);
  assert.equal(first.frame.workerId, "w-1");
  assert.equal(l.nextFrame(SUB, 0, false), undefined, "nothing more to send while the server holds 4");
  l.answer(answer(first.record.requestId));
  l.hold("a", 7n);
  assert.equal(l.creditsHeldByServer, 3);
  assert.equal(l.nextFrame(SUB, 1, false), undefined, "a running job does not free a slot");
  l.finish(ack("a"));
  const next = l.nextFrame(SUB, 0, false)!;
  assert.equal(next.frame.acks.length, 1);
  assert.equal(next.frame.acks[0].leaseToken, 7n, "every ack carries its lease token");
  assert.equal(next.frame.credits, 1);
  const a = l.answer(answer(next.record.requestId, { ackResults: [ok("a")] }))!;
  assert.deepEqual(a.settled.map((o) => o.jobId), ["a"]);
  assert.equal(l.pendingOutcomes, 0);
});

test("a frame refused whole for load is taken back whole and sent again", () => {
  const l = new Ledger(1);
  l.hold("a", 7n);
  l.finish(ack("a"));
  const sent = l.nextFrame(SUB, 0, false)!;
  assert.equal(sent.frame.credits, 1);
  assert.equal(l.nextFrame(SUB, 0, false), undefined, "an outcome in flight is not sent twice");
  const a = l.answer(
    answer(sent.record.requestId, { errorCode: ErrorCode.OVERLOADED, error: "OVERLOADED: frame: rate", retryAfterMs: 480n }),
  )!;
  assert.equal(a.refused?.code, ErrorCode.OVERLOADED);
  assert.equal(a.refused?.retryAfterMs, 480);
  assert.equal(l.pendingOutcomes, 1, "the outcome is still owed");
  assert.equal(l.creditsHeldByServer, 0, "the refused frame granted nothing");
  const again = l.nextFrame(SUB, 0, false)!;
  assert.equal(again.frame.acks[0].jobId, "a");
  assert.equal(again.frame.credits, 1);
  assert.ok(again.frame.requestId > sent.frame.requestId);
});

test("item results settle, drop (stale lease) or keep (transient) each outcome", () => {
  const l = new Ledger(3);
  for (const id of ["a", "b", "c"]) l.hold(id, 7n);
  l.finish(ack("a"));
  l.finish(ack("b"));
  l.finish(fail("c"));
  const sent = l.nextFrame(SUB, 0, false)!;
  assert.deepEqual(sent.record.acks, ["a", "b"]);
  assert.deepEqual(sent.record.fails, ["c"]);
  const a = l.answer(
    answer(sent.record.requestId, {
      errorCode: ErrorCode.STALE_LEASE,
      ackResults: [ok("a"), itemError("b", ErrorCode.STALE_LEASE)],
      failResults: [itemError("c", ErrorCode.UNAVAILABLE)],
    }),
  )!;
  assert.equal(a.refused, undefined, "item results mean the frame was applied");
  assert.deepEqual(a.settled.map((o) => o.jobId), ["a"]);
  assert.deepEqual(a.dropped.map((d) => [d.outcome.jobId, d.code]), [["b", ErrorCode.STALE_LEASE]]);
  const again = l.nextFrame(SUB, 0, false)!;
  assert.deepEqual(again.record.fails, ["c"], "a transient item refusal is sent again");
  assert.equal(again.frame.fails[0].backtrace, "at x");
});

test("an item whose outcome is unknown is not sent again (OUTCOME_UNKNOWN is not transient)", () => {
  const l = new Ledger(1);
  l.hold("a", 7n);
  l.finish(ack("a"));
  const sent = l.nextFrame(SUB, 0, false)!;
  const a = l.answer(answer(sent.record.requestId, { ackResults: [itemError("a", ErrorCode.OUTCOME_UNKNOWN)] }))!;
  assert.deepEqual(a.dropped.map((d) => [d.outcome.jobId, d.code]), [["a", ErrorCode.OUTCOME_UNKNOWN]]);
  assert.equal(l.pendingOutcomes, 0);
  assert.equal(l.nextFrame(SUB, 1, false), undefined);
});

test("a lost stream hands its unanswered outcomes to the next one, which starts without credits", () => {
  const l = new Ledger(2);
  l.nextFrame(SUB, 0, false, true);
  l.hold("a", 7n);
  l.finish(ack("a"));
  l.nextFrame(SUB, 0, false);
  assert.equal(l.framesInFlight, 2);
  l.streamLost();
  assert.equal(l.framesInFlight, 0);
  assert.equal(l.creditsHeldByServer, 0);
  const first = l.nextFrame(SUB, 0, false, true)!;
  assert.equal(first.frame.acks[0].jobId, "a");
  assert.equal(first.frame.credits, 2);
  // An answer from the old stream for the old frame is ignored.
  assert.equal(l.answer(answer(2n, { ackResults: [ok("a")] })), undefined);
  assert.equal(l.pendingOutcomes, 1);
});

test("heartbeats carry the lease token and new progress; refused ones are sent again", () => {
  const l = new Ledger(2);
  l.hold("a", 11n);
  l.hold("b", 12n);
  l.heartbeatAll();
  l.report("b", '{"pct":50}', undefined);
  const hb = l.nextFrame(SUB, 2, false)!;
  assert.deepEqual(
    hb.frame.heartbeats.map((h) => [h.jobId, h.leaseToken, h.progressJson, h.checkpointJson]),
    [["a", 11n, "", ""], ["b", 12n, '{"pct":50}', ""]],
  );
  assert.equal(l.nextFrame(SUB, 2, false), undefined);
  l.answer(answer(hb.record.requestId, { errorCode: ErrorCode.UNAVAILABLE, retryAfterMs: 100n }));
  const again = l.nextFrame(SUB, 2, false)!;
  assert.equal(again.frame.heartbeats.length, 2);
  assert.equal(again.frame.heartbeats[1].progressJson, '{"pct":50}');
  const a = l.answer(answer(again.record.requestId, { heartbeatResults: [ok("a"), itemError("b", ErrorCode.STALE_LEASE)] }))!;
  assert.deepEqual(a.stop, ["b"], "a heartbeat refused for its lease stops the job");
});

test("an outcome waits until the job's last checkpoint is confirmed (acks and fails apply before heartbeats)", () => {
  const l = new Ledger(1);
  l.hold("a", 7n);
  l.report("a", undefined, '{"page":3}');
  l.finish(fail("a"));
  assert.equal(l.pendingOutcomes, 1);
  const report = l.nextFrame(SUB, 0, false)!;
  assert.equal(report.frame.fails.length, 0, "the fail is held back");
  assert.equal(report.frame.heartbeats[0].checkpointJson, '{"page":3}');
  assert.equal(l.nextFrame(SUB, 0, false)?.frame.fails.length ?? 0, 0);
  l.answer(answer(report.record.requestId, { heartbeatResults: [ok("a")] }));
  const outcome = l.nextFrame(SUB, 0, false)!;
  assert.deepEqual(outcome.record.fails, ["a"]);
});

test("a report refused with its frame keeps the outcome waiting until it is confirmed", () => {
  const l = new Ledger(1);
  l.hold("a", 7n);
  l.report("a", '{"p":1}', undefined);
  const first = l.nextFrame(SUB, 1, false)!;
  l.finish(ack("a"));
  l.answer(answer(first.record.requestId, { errorCode: ErrorCode.OVERLOADED, retryAfterMs: 10n }));
  const again = l.nextFrame(SUB, 0, false)!;
  assert.equal(again.frame.acks.length, 0);
  assert.equal(again.frame.heartbeats[0].progressJson, '{"p":1}');
  l.answer(answer(again.record.requestId, { heartbeatResults: [ok("a")] }));
  assert.deepEqual(l.nextFrame(SUB, 0, false)!.record.acks, ["a"]);
});

test("a result the server refuses becomes a failure saying why", () => {
  const l = new Ledger(1);
  l.hold("a", 7n);
  l.finish(ack("a"));
  const sent = l.nextFrame(SUB, 0, false)!;
  const msg = "invalid acks[0].result_json: is 2000000 bytes, at most 1048576 allowed";
  const a = l.answer(answer(sent.record.requestId, { errorCode: ErrorCode.INVALID_ARGUMENT, error: msg }))!;
  assert.equal(a.refused?.code, ErrorCode.INVALID_ARGUMENT);
  assert.deepEqual(l.repairItem(a.record, msg), { jobId: "a", what: "result replaced by a failure" });
  const again = l.nextFrame(SUB, 0, false)!;
  assert.equal(again.frame.acks.length, 0);
  assert.match(again.frame.fails[0].error, /refused the job's result: invalid acks\[0\]/);
  assert.equal(l.repairItem(a.record, "invalid queues: bad name"), undefined, "a frame-wide problem names no item");
});

test("draining grants no credits", () => {
  const l = new Ledger(8);
  const f = l.nextFrame(SUB, 0, true, true)!;
  assert.equal(f.frame.credits, 0);
  assert.equal(f.frame.drain, true);
  assert.equal(l.creditsWanted(0, true), 0);
  assert.equal(l.hasWork(0, true), false);
});

test("the drain is told at once, then on every frame, again after a refusal and on a new stream", () => {
  const l = new Ledger(2);
  const first = l.nextFrame(SUB, 0, false, true)!;
  l.answer(answer(first.record.requestId));
  l.hold("a", 7n);
  l.hold("b", 8n);
  assert.equal(l.nextFrame(SUB, 2, false), undefined, "nothing to say before the drain");
  assert.equal(l.hasWork(2, true), true, "the drain is news");
  const told = l.nextFrame(SUB, 2, true)!;
  assert.equal(told.frame.drain, true);
  assert.equal(told.frame.credits, 0);
  assert.equal(told.frame.acks.length + told.frame.fails.length + told.frame.heartbeats.length, 0, "even empty");
  assert.equal(l.nextFrame(SUB, 2, true), undefined, "told once");
  // Refused whole: not applied, so it is told again.
  l.answer(answer(told.record.requestId, { errorCode: ErrorCode.OVERLOADED, error: "OVERLOADED", retryAfterMs: 100n }));
  const again = l.nextFrame(SUB, 2, true)!;
  assert.equal(again.frame.drain, true);
  assert.equal(again.frame.credits, 0);
  l.answer(answer(again.record.requestId));
  // Later frames: heartbeats and outcomes carry it and grant nothing.
  l.heartbeatAll();
  const beat = l.nextFrame(SUB, 2, true)!;
  assert.deepEqual([beat.frame.drain, beat.frame.credits, beat.frame.heartbeats.length], [true, 0, 2]);
  l.answer(answer(beat.record.requestId, { heartbeatResults: [ok("a"), ok("b")] }));
  l.finish(ack("a"));
  const done = l.nextFrame(SUB, 1, true)!;
  assert.deepEqual([done.frame.drain, done.frame.credits, done.frame.acks.length], [true, 0, 1]);
  // A new stream (a reconnect during the drain): its first frame says so, with what is owed.
  l.streamLost();
  assert.equal(l.hasWork(1, true), true);
  const fresh = l.nextFrame(SUB, 1, true, true)!;
  assert.deepEqual([fresh.frame.drain, fresh.frame.credits, fresh.frame.acks.length], [true, 0, 1]);
  assert.deepEqual(fresh.frame.queues, ["q"]);
});

test("jobs pushed beyond the credits we counted are absorbed: no grant until the slots free", () => {
  const l = new Ledger(2);
  const f = l.nextFrame(SUB, 0, false, true)!;
  l.answer(answer(f.record.requestId));
  for (const id of ["a", "b", "c"]) l.hold(id, 1n);
  assert.equal(l.creditsHeldByServer, 0);
  assert.equal(l.creditsWanted(3, false), 0);
  assert.equal(l.creditsWanted(1, false), 1);
});

test("a frame carries at most FRAME_ITEMS_MAX items; the rest go in the next", () => {
  const l = new Ledger(4096);
  const n = FRAME_ITEMS_MAX + 5;
  for (let i = 0; i < n; i++) {
    l.hold(`j${i}`, 1n);
    l.finish(ack(`j${i}`));
  }
  const one = l.nextFrame(SUB, 0, false)!;
  const two = l.nextFrame(SUB, 0, false)!;
  assert.equal(one.frame.acks.length, FRAME_ITEMS_MAX);
  assert.equal(two.frame.acks.length, 5);
  assert.equal(l.nextFrame(SUB, 0, false), undefined);
});

test("a revoked job gets no heartbeats and owes no outcome", () => {
  const l = new Ledger(1);
  l.hold("a", 1n);
  l.report("a", '{"p":1}', undefined);
  l.forget("a");
  assert.equal(l.heldLeases, 0);
  assert.equal(l.nextFrame(SUB, 0, false)?.frame.heartbeats.length ?? 0, 0);
});

test("fail texts are cut to what the server takes, at a character boundary", () => {
  const long = "é".repeat(40_000);
  const cut = clampText(long, 1000);
  assert.ok(Buffer.byteLength(cut) <= 1000);
  assert.ok(cut.endsWith("…[truncated]"));
  assert.ok(!cut.includes("\uFFFD"));
  assert.equal(clampText("short"), "short");
});
