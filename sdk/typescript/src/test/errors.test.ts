import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CorvoError,
  ErrorCode,
  frameError,
  grpcCodeOf,
  isRefusedForGood,
  mayHaveApplied,
  parsePushback,
  toCorvoError,
} from "../errors.js";

test("a status with hints becomes a CorvoError with the leader, the pushback and the Corvo code", () => {
  const e = toCorvoError(
    new ConnectError("not the leader (leader: 10.0.0.1:8080)", Code.Unavailable, {
      "x-corvo-leader": "10.0.0.1:8080",
      "grpc-retry-pushback-ms": "250",
    }),
  );
  assert.ok(e instanceof CorvoError);
  assert.equal(e.code, Code.Unavailable);
  assert.equal(e.codeName, "UNAVAILABLE");
  assert.equal(e.errorCode, ErrorCode.NOT_LEADER);
  assert.equal(e.leaderAddr, "10.0.0.1:8080");
  assert.equal(e.retryAfterMs, 250);
  assert.equal(e.message, "not the leader (leader: 10.0.0.1:8080)");
});

test("unary statuses map to Corvo codes as docs/errors tabulates", () => {
  const code = (c: Code, m: string) => toCorvoError(new ConnectError(m, c)).errorCode;
  assert.equal(code(Code.FailedPrecondition, "lease token for job x is stale: ..."), ErrorCode.STALE_LEASE);
  assert.equal(code(Code.FailedPrecondition, "job x is completed, cannot ack"), ErrorCode.INVALID_STATE);
  assert.equal(code(Code.NotFound, "job 01ABC not found"), ErrorCode.NOT_FOUND);
  assert.equal(code(Code.ResourceExhausted, "rate limit of 2 requests per second exceeded"), ErrorCode.OVERLOADED);
  assert.equal(code(Code.PermissionDenied, "permission denied: queue q"), ErrorCode.PERMISSION_DENIED);
  assert.equal(code(Code.Unauthenticated, "unauthenticated: missing API key"), ErrorCode.UNAUTHENTICATED);
});

test("OUTCOME_UNKNOWN is gRPC UNKNOWN both ways, may have been applied, and is never refused-for-good", () => {
  const e = toCorvoError(new ConnectError("outcome unknown: leadership changed while the request was in flight", Code.Unknown));
  assert.equal(e.errorCode, ErrorCode.OUTCOME_UNKNOWN);
  assert.equal(e.errorCodeName, "OUTCOME_UNKNOWN");
  assert.equal(grpcCodeOf(ErrorCode.OUTCOME_UNKNOWN), Code.Unknown);
  const f = frameError(ErrorCode.OUTCOME_UNKNOWN, "outcome unknown: ...", 0n, "");
  assert.equal(f.code, Code.Unknown);
  assert.equal(f.errorCode, ErrorCode.OUTCOME_UNKNOWN);
  assert.equal(mayHaveApplied(e), true);
  assert.equal(mayHaveApplied(f), true);
  assert.equal(mayHaveApplied(new CorvoError(Code.Unknown, "x", { errorCode: ErrorCode.OUTCOME_UNKNOWN, notSent: true })), true);
  assert.ok(!isRefusedForGood(e));
});

test("pushback values: non-negative integers only", () => {
  assert.equal(parsePushback("120"), 120);
  assert.equal(parsePushback(" 5 "), 5);
  assert.equal(parsePushback("-1"), undefined);
  assert.equal(parsePushback("soon"), undefined);
  assert.equal(parsePushback(null), undefined);
});

test("refusals a reconnect cannot fix", () => {
  for (const c of [Code.Unauthenticated, Code.PermissionDenied, Code.InvalidArgument, Code.Unimplemented]) {
    assert.ok(isRefusedForGood(new CorvoError(c, "x")));
  }
  for (const c of [Code.Unavailable, Code.Canceled, Code.Internal, Code.ResourceExhausted, Code.DeadlineExceeded]) {
    assert.ok(!isRefusedForGood(new CorvoError(c, "x")));
  }
});

test("a write refused before any work is safe to send again; an unknown outcome is not", () => {
  const u = (m: string) => new CorvoError(Code.Unavailable, m);
  assert.equal(mayHaveApplied(new CorvoError(Code.Unavailable, "connect ECONNREFUSED", { notSent: true })), false);
  assert.equal(mayHaveApplied(new CorvoError(Code.ResourceExhausted, "rate limit")), false);
  assert.equal(mayHaveApplied(u("server busy: calls in flight; retry in 100 ms")), false);
  assert.equal(mayHaveApplied(u("not the leader (leader: unknown)")), false);
  assert.equal(mayHaveApplied(u("cannot reach the leader: no leader is known (an election is under way)")), false);
  assert.equal(
    mayHaveApplied(u("cannot reach the leader: forwarding to the leader at 127.0.0.1:1: transport error: tcp connect error: Connection refused (os error 111)")),
    false,
  );
  assert.equal(mayHaveApplied(u("unavailable: leadership changed while the request was in flight; its outcome is unknown")), true);
  assert.equal(mayHaveApplied(u("cannot reach the leader: forwarding to the leader at 127.0.0.1:1: connection reset")), true);
  assert.equal(mayHaveApplied(new CorvoError(Code.DeadlineExceeded, "deadline")), true);
});

test("socket errors before sending are marked notSent", () => {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
  const e = toCorvoError(new ConnectError("connect ECONNREFUSED 127.0.0.1:1", Code.Unavailable, undefined, undefined, cause));
  assert.equal(e.notSent, true);
});
