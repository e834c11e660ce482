// The one error type of the SDK, and the one place that turns transport errors into it.
//
// Every failed call rejects with a `CorvoError`: the gRPC status code, the server's message,
// the Corvo `ErrorCode` (exact on stream frames and per-item results; derived from the status
// for unary calls, as docs/errors/README.md tabulates), and the server's hints.

import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode } from "./gen/corvo/v1/worker_pb.js";

export { Code, ErrorCode };

/** Response metadata naming the leader (`host:port`) on UNAVAILABLE. */
export const LEADER_HEADER = "x-corvo-leader";
/** Response metadata: wait this long (ms) before retrying (gRFC A6). */
export const PUSHBACK_HEADER = "grpc-retry-pushback-ms";

/** gRPC status names, indexed by code (`Code.Unavailable` → "UNAVAILABLE"). */
const CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
  "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** Socket errors raised before a request reached the server: retrying cannot duplicate it. */
const CONNECT_PHASE_ERRNOS = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH",
]);

export interface CorvoErrorInit {
  /** The Corvo error code, when known. */
  errorCode?: ErrorCode;
  /** How long the server asked to wait before retrying, ms. */
  retryAfterMs?: number;
  /** The leader's `host:port`, when the server named it. */
  leaderAddr?: string;
  /** True when the request never reached a server (connection refused, unknown host). */
  notSent?: boolean;
  cause?: unknown;
}

/** Any failure of a Corvo call: gRPC status code, message, Corvo error code and hints. */
export class CorvoError extends Error {
  override name = "CorvoError";
  /** The gRPC status code (`Code.Unavailable` is 14, as on the wire). */
  readonly code: Code;
  /** The Corvo error code (`ErrorCode.UNSPECIFIED` when there is none). */
  readonly errorCode: ErrorCode;
  /** The server's retry hint, ms (`grpc-retry-pushback-ms` or `retry_after_ms`). */
  readonly retryAfterMs: number | undefined;
  /** The leader's `host:port` (`x-corvo-leader` or `leader_addr`). */
  readonly leaderAddr: string | undefined;
  /** The request never reached a server. */
  readonly notSent: boolean;

  constructor(code: Code, message: string, init: CorvoErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.errorCode = init.errorCode ?? ErrorCode.UNSPECIFIED;
    this.retryAfterMs = init.retryAfterMs;
    this.leaderAddr = init.leaderAddr;
    this.notSent = init.notSent ?? false;
  }

  /** The status name: "UNAVAILABLE", "PERMISSION_DENIED", ... */
  get codeName(): string {
    return CODE_NAMES[this.code] ?? `CODE_${this.code}`;
  }

  /** The Corvo error code's name: "NOT_LEADER", ... ("UNSPECIFIED" when none). */
  get errorCodeName(): string {
    return ErrorCode[this.errorCode] ?? `ERROR_CODE_${this.errorCode}`;
  }

  override toString(): string {
    return `CorvoError: ${this.codeName}: ${this.message}`;
  }
}

/** A handler's explicit failure: the job fails with this message (and is retried or dead). */
export class JobFailed extends Error {
  override name = "JobFailed";
  constructor(message: string) {
    super(message);
  }
}

/** Turns anything a call threw into a `CorvoError` (never a bare transport exception). */
export function toCorvoError(err: unknown): CorvoError {
  if (err instanceof CorvoError) return err;
  if (err instanceof ConnectError) {
    const md = err.metadata;
    const leader = md.get(LEADER_HEADER);
    const pushback = parsePushback(md.get(PUSHBACK_HEADER));
    const notSent = isConnectPhase(err.cause);
    const message = err.rawMessage || err.message;
    return new CorvoError(err.code, message, {
      errorCode: deriveErrorCode(err.code, message, leader),
      retryAfterMs: pushback,
      leaderAddr: leader || undefined,
      notSent,
      cause: err,
    });
  }
  if (err instanceof Error && err.name === "AbortError") {
    return new CorvoError(Code.Canceled, err.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CorvoError(Code.Unknown, message, { cause: err, notSent: isConnectPhase(err) });
}

/** An error frame of a stream response as a `CorvoError`. */
export function frameError(
  errorCode: ErrorCode,
  message: string,
  retryAfterMs: bigint,
  leaderAddr: string,
): CorvoError {
  return new CorvoError(grpcCodeOf(errorCode), message, {
    errorCode,
    retryAfterMs: retryAfterMs > 0n ? Number(retryAfterMs) : undefined,
    leaderAddr: leaderAddr || undefined,
  });
}

/** `grpc-retry-pushback-ms`: a non-negative integer; anything else means no hint. */
export function parsePushback(value: string | null | undefined): number | undefined {
  if (value == null || !/^\d+$/.test(value.trim())) return undefined;
  const ms = Number(value.trim());
  return Number.isSafeInteger(ms) ? ms : undefined;
}

function isConnectPhase(cause: unknown): boolean {
  let c: unknown = cause;
  for (let depth = 0; depth < 4 && c != null; depth++) {
    const errno = (c as { code?: unknown }).code;
    if (typeof errno === "string" && CONNECT_PHASE_ERRNOS.has(errno)) return true;
    c = (c as { cause?: unknown }).cause;
  }
  return false;
}

/** The status a stream `ErrorCode` stands for (docs/errors/README.md). */
export function grpcCodeOf(e: ErrorCode): Code {
  switch (e) {
    case ErrorCode.INVALID_ARGUMENT: return Code.InvalidArgument;
    case ErrorCode.NOT_FOUND: return Code.NotFound;
    case ErrorCode.STALE_LEASE:
    case ErrorCode.INVALID_STATE: return Code.FailedPrecondition;
    case ErrorCode.OVERLOADED:
    case ErrorCode.NOT_LEADER:
    case ErrorCode.UNAVAILABLE: return Code.Unavailable;
    case ErrorCode.INTERNAL: return Code.Internal;
    case ErrorCode.UNAUTHENTICATED: return Code.Unauthenticated;
    case ErrorCode.PERMISSION_DENIED: return Code.PermissionDenied;
    case ErrorCode.OUTCOME_UNKNOWN: return Code.Unknown;
    default: return Code.Unknown;
  }
}

/** The Corvo code of a unary status, by the table of docs/errors/README.md. */
function deriveErrorCode(code: Code, message: string, leader: string | null): ErrorCode {
  switch (code) {
    case Code.InvalidArgument: return ErrorCode.INVALID_ARGUMENT;
    case Code.NotFound: return /^job .* not found$/.test(message) ? ErrorCode.NOT_FOUND : ErrorCode.UNSPECIFIED;
    case Code.FailedPrecondition:
      if (message.includes("lease token")) return ErrorCode.STALE_LEASE;
      return /^job .* cannot /.test(message) ? ErrorCode.INVALID_STATE : ErrorCode.UNSPECIFIED;
    case Code.ResourceExhausted: return ErrorCode.OVERLOADED;
    case Code.Unavailable:
      if (message.startsWith("not the leader")) return ErrorCode.NOT_LEADER;
      if (message.startsWith("server overloaded") || message.startsWith("server busy")) return ErrorCode.OVERLOADED;
      return leader !== null || message.startsWith("unavailable") || message.startsWith("cannot reach the leader")
        ? ErrorCode.UNAVAILABLE
        : ErrorCode.UNSPECIFIED;
    case Code.Internal: return ErrorCode.INTERNAL;
    case Code.Unauthenticated: return ErrorCode.UNAUTHENTICATED;
    case Code.PermissionDenied: return ErrorCode.PERMISSION_DENIED;
    // The server answers UNKNOWN only for a write whose outcome it cannot vouch for.
    case Code.Unknown: return ErrorCode.OUTCOME_UNKNOWN;
    default: return ErrorCode.UNSPECIFIED;
  }
}

/** Errors a retry cannot fix when opening a stream (SPEC: reconnects end there). */
export function isRefusedForGood(e: CorvoError): boolean {
  return (
    e.code === Code.Unauthenticated ||
    e.code === Code.PermissionDenied ||
    e.code === Code.InvalidArgument ||
    e.code === Code.Unimplemented
  );
}

/** Whether a refused write may nonetheless have been applied (the server said so). */
export function mayHaveApplied(e: CorvoError): boolean {
  if (e.errorCode === ErrorCode.OUTCOME_UNKNOWN) return true;
  if (e.notSent || e.code === Code.ResourceExhausted) return false;
  if (e.code !== Code.Unavailable) return true;
  // Refusals made before any work: shed, rate, not the leader, draining, and a follower that
  // could not reach the leader at all (no leader, or no connection to it).
  return !(
    /^(server busy|server overloaded|not the leader|unavailable: server is (draining|shutting down))/.test(e.message) ||
    /^cannot reach the leader: (no leader is known|the leader \(raft id|.*(tcp connect error|connection refused|dns error))/i.test(e.message)
  );
}
