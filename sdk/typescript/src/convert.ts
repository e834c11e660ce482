// The SDK's plain types and their conversion to and from the generated messages: JSON text
// becomes values, enums become lower-case names, timestamps become Dates, 64-bit counts numbers.

import { getRandomValues } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, CorvoError } from "./errors.js";
import {
  BackoffKind,
  EnqueueOptionsSchema,
  JobState,
  Priority,
  type EnqueueOptions as PbEnqueueOptions,
} from "./gen/corvo/v1/worker_pb.js";
import {
  OperationState,
  type Job as PbJob,
  type JobFilter as PbJobFilter,
  type Operation as PbOperation,
} from "./gen/corvo/v1/job_pb.js";
import type { Queue as PbQueue, WorkerStream } from "./gen/corvo/v1/queue_pb.js";

export type PriorityName = "critical" | "high" | "normal" | "low";
export type JobStateName =
  | "pending" | "scheduled" | "active" | "retrying" | "held" | "completed" | "dead" | "cancelled";
export type BackoffKindName = "none" | "fixed" | "linear" | "exponential";
export type OperationStateName = "running" | "done" | "failed";

/** How the delay before the next attempt grows (the server adds the exponential kind's jitter). */
export interface Backoff {
  /** Default "exponential". */
  kind?: BackoffKindName;
  /** Base delay, ms (default 5000 on the server). */
  baseMs?: number;
  /** Largest delay, ms (default 600000 on the server). */
  capMs?: number;
}

/** Options of a new job; every one is optional. */
export interface EnqueueOptions {
  /** Default "normal". */
  priority?: PriorityName;
  /** Attempts in total, the first included (default 3, at most 1000). */
  maxAttempts?: number;
  backoff?: Backoff;
  /** Do not deliver before this time (a Date or Unix ms). Not with `delayMs`. */
  scheduledAt?: Date | number;
  /** Do not deliver before this many ms from now. Not with `scheduledAt`. */
  delayMs?: number;
  /** The job becomes dead ("expired") when it has not started this many ms after enqueue. */
  expireAfterMs?: number;
  /** At most one job per (queue, key) within `uniquePeriodMs`: a second enqueue answers "duplicate". */
  uniqueKey?: string;
  /** Default 1 h when `uniqueKey` is set. */
  uniquePeriodMs?: number;
  /**
   * The call's identity (at most 255 bytes): an enqueue to the same queue with this key within
   * the server's window (24 h) creates nothing and answers the first one's job (`replayed`).
   * Default: a fresh random key per call, kept across the client's own retries of it; set one
   * to make retries across calls or processes safe too ("" sends none).
   */
  idempotencyKey?: string;
  /** Free-form labels, returned to the worker and searchable. */
  tags?: Record<string, string>;
}

/** A job as stored. JSON fields are parsed (null when empty). */
export interface Job {
  id: string;
  queue: string;
  state: JobStateName;
  payload: unknown;
  priority: PriorityName;
  /** Attempts started so far. */
  attempt: number;
  maxAttempts: number;
  backoff: Backoff | undefined;
  tags: Record<string, string>;
  uniqueKey: string;
  createdAt: Date | undefined;
  scheduledAt: Date | undefined;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  expireAt: Date | undefined;
  /** Set while active. */
  workerId: string;
  leaseToken: bigint;
  leaseDeadline: Date | undefined;
  progress: unknown;
  checkpoint: unknown;
  result: unknown;
  lastError: string;
  /** The producer's W3C traceparent (empty when the server does not trace). */
  traceParent: string;
}

/** Which jobs a listing or a bulk action selects: every filter given must match. */
export interface JobFilter {
  queue?: string;
  /** Any of these states (ListJobs takes one: the first). */
  states?: JobStateName[];
  priority?: PriorityName;
  tags?: Record<string, string>;
  payloadContains?: string;
  errorContains?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface Queue {
  name: string;
  /** Jobs per state. */
  counts: Record<JobStateName, number>;
  oldestPendingAgeMs: number;
  enqueuedLastMinute: number;
  completedLastMinute: number;
  failedLastMinute: number;
  throttledLastMinute: number;
  paused: boolean;
  /** 0: no limit. */
  concurrencyLimit: number;
  rateStarts: number;
  rateWindowMs: number;
  retentionMs: number;
  deadRetentionMs: number;
  effectiveRetentionMs: number;
  effectiveDeadRetentionMs: number;
}

/** One open worker stream. */
export interface WorkerInfo {
  workerId: string;
  hostname: string;
  queues: string[];
  credits: number;
  jobsHeld: number;
  connectedAt: Date | undefined;
  lastFrameAt: Date | undefined;
}

/** A bulk operation's progress. */
export interface Operation {
  id: string;
  action: string;
  state: OperationStateName;
  examined: number;
  succeeded: number;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  error: string;
  queue: string;
}

const PRIORITIES: Record<PriorityName, Priority> = {
  critical: Priority.CRITICAL,
  high: Priority.HIGH,
  normal: Priority.NORMAL,
  low: Priority.LOW,
};
const BACKOFF_KINDS: Record<BackoffKindName, BackoffKind> = {
  none: BackoffKind.NONE,
  fixed: BackoffKind.FIXED,
  linear: BackoffKind.LINEAR,
  exponential: BackoffKind.EXPONENTIAL,
};
const STATES: Record<JobStateName, JobState> = {
  pending: JobState.PENDING,
  scheduled: JobState.SCHEDULED,
  active: JobState.ACTIVE,
  retrying: JobState.RETRYING,
  held: JobState.HELD,
  completed: JobState.COMPLETED,
  dead: JobState.DEAD,
  cancelled: JobState.CANCELLED,
};

function invalid(message: string): CorvoError {
  return new CorvoError(Code.InvalidArgument, message);
}

function nameOf<N extends string, V>(table: Record<N, V>, value: V, fallback: N): N {
  for (const [name, v] of Object.entries(table) as [N, V][]) if (v === value) return name;
  return fallback;
}

export function priorityName(p: Priority): PriorityName {
  return nameOf(PRIORITIES, p, "normal");
}

export function stateName(s: JobState): JobStateName {
  return nameOf(STATES, s, "pending");
}

export function priorityValue(p: PriorityName, field = "priority"): Priority {
  const v = PRIORITIES[p];
  if (v === undefined) throw invalid(`${field}: ${JSON.stringify(p)} is not one of critical, high, normal, low`);
  return v;
}

export function stateValue(s: JobStateName, field = "state"): JobState {
  const v = STATES[s];
  if (v === undefined) throw invalid(`${field}: ${JSON.stringify(s)} is not a job state`);
  return v;
}

/**
 * A payload as JSON text: a string is taken as JSON text already (and must parse), anything
 * else is serialized; undefined means `{}`.
 */
export function payloadJson(payload: unknown, field = "payload"): string {
  if (payload === undefined) return "";
  if (typeof payload === "string") {
    try {
      JSON.parse(payload);
    } catch (e) {
      throw invalid(`${field}: a string payload must be JSON text (${(e as Error).message}); pass the value itself to send a JSON string`);
    }
    return payload;
  }
  return toJson(payload, field);
}

/** JSON.stringify, with a CorvoError naming the field when the value does not serialize. */
export function toJson(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw invalid(`${field}: not JSON-serializable: ${(e as Error).message}`);
  }
  if (text === undefined) throw invalid(`${field}: not JSON-serializable (${typeof value})`);
  return text;
}

/** Parses stored JSON text; empty text is `empty`. */
export function parseJson(text: string, empty: unknown = null): unknown {
  if (text.trim() === "") return empty;
  return JSON.parse(text);
}

function ms(value: number | undefined, field: string): bigint {
  if (value === undefined) return 0n;
  if (!Number.isFinite(value) || value < 0) throw invalid(`${field}: must be a non-negative number of ms, got ${value}`);
  return BigInt(Math.round(value));
}

/** 128 random bits as 32 hex digits: a key no other call sends. */
export function freshIdempotencyKey(): string {
  return Buffer.from(getRandomValues(new Uint8Array(16))).toString("hex");
}

/**
 * The proto options of an enqueue; `now` (Unix ms) resolves `delayMs`. Without
 * `idempotencyKey` a fresh one is drawn: build them once per call, so retries send the same.
 */
export function enqueueOptions(o: EnqueueOptions = {}, now = Date.now(), prefix = "options."): PbEnqueueOptions {
  const out = create(EnqueueOptionsSchema);
  if (o.priority !== undefined) out.priority = priorityValue(o.priority, `${prefix}priority`);
  if (o.maxAttempts !== undefined) {
    if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1) {
      throw invalid(`${prefix}maxAttempts: must be a positive integer, got ${o.maxAttempts}`);
    }
    out.maxAttempts = o.maxAttempts;
  }
  if (o.backoff !== undefined) {
    const kind = o.backoff.kind ?? "exponential";
    const k = BACKOFF_KINDS[kind];
    if (k === undefined) throw invalid(`${prefix}backoff.kind: ${JSON.stringify(kind)} is not one of none, fixed, linear, exponential`);
    out.backoff = {
      $typeName: "corvo.v1.BackoffPolicy",
      kind: k,
      baseMs: ms(o.backoff.baseMs, `${prefix}backoff.baseMs`),
      capMs: ms(o.backoff.capMs, `${prefix}backoff.capMs`),
    };
  }
  if (o.scheduledAt !== undefined && o.delayMs !== undefined) {
    throw invalid(`${prefix}scheduledAt and ${prefix}delayMs: give one or the other`);
  }
  if (o.scheduledAt !== undefined) {
    const at = o.scheduledAt instanceof Date ? o.scheduledAt.getTime() : o.scheduledAt;
    if (!Number.isFinite(at)) throw invalid(`${prefix}scheduledAt: not a valid time`);
    out.scheduledAt = timestampFromMs(at);
  } else if (o.delayMs !== undefined) {
    out.scheduledAt = timestampFromMs(now + Number(ms(o.delayMs, `${prefix}delayMs`)));
  }
  out.expireAfterMs = ms(o.expireAfterMs, `${prefix}expireAfterMs`);
  if (o.uniqueKey !== undefined) out.uniqueKey = o.uniqueKey;
  out.uniquePeriodMs = ms(o.uniquePeriodMs, `${prefix}uniquePeriodMs`);
  out.idempotencyKey = o.idempotencyKey ?? freshIdempotencyKey();
  if (o.tags !== undefined) {
    for (const [k, v] of Object.entries(o.tags)) {
      if (typeof v !== "string") throw invalid(`${prefix}tags.${k}: tag values are strings`);
      out.tags[k] = v;
    }
  }
  return out;
}

export function date(ts: Timestamp | undefined): Date | undefined {
  return ts === undefined ? undefined : timestampDate(ts);
}

/** Stored JSON, parsed; the server validated it on write, but text that does not parse is kept. */
function parseStored(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return text;
  }
}

export function toJob(j: PbJob): Job {
  return {
    id: j.id,
    queue: j.queue,
    state: stateName(j.state),
    payload: parseStored(j.payloadJson || "{}"),
    priority: priorityName(j.priority),
    attempt: j.attempt,
    maxAttempts: j.maxAttempts,
    backoff: j.backoff && {
      kind: nameOf(BACKOFF_KINDS, j.backoff.kind, "exponential"),
      baseMs: Number(j.backoff.baseMs),
      capMs: Number(j.backoff.capMs),
    },
    tags: { ...j.tags },
    uniqueKey: j.uniqueKey,
    createdAt: date(j.createdAt),
    scheduledAt: date(j.scheduledAt),
    startedAt: date(j.startedAt),
    finishedAt: date(j.finishedAt),
    expireAt: date(j.expireAt),
    workerId: j.workerId,
    leaseToken: j.leaseToken,
    leaseDeadline: date(j.leaseDeadline),
    progress: parseStored(j.progressJson),
    checkpoint: parseStored(j.checkpointJson),
    result: parseStored(j.resultJson),
    lastError: j.lastError,
    traceParent: j.traceParent,
  };
}

export function jobFilter(f: JobFilter, out: PbJobFilter): PbJobFilter {
  if (f.queue !== undefined) out.queue = f.queue;
  if (f.states !== undefined) out.states = f.states.map((s) => stateValue(s, "filter.states"));
  if (f.priority !== undefined) out.priority = priorityValue(f.priority, "filter.priority");
  if (f.tags !== undefined) out.tags = { ...f.tags };
  if (f.payloadContains !== undefined) out.payloadContains = f.payloadContains;
  if (f.errorContains !== undefined) out.errorContains = f.errorContains;
  if (f.createdAfter !== undefined) out.createdAfter = timestampFromMs(f.createdAfter.getTime());
  if (f.createdBefore !== undefined) out.createdBefore = timestampFromMs(f.createdBefore.getTime());
  return out;
}

export function toQueue(q: PbQueue | undefined): Queue {
  if (q === undefined) throw new CorvoError(Code.Internal, "the server answered without the queue");
  const counts = Object.fromEntries(Object.keys(STATES).map((s) => [s, 0])) as Record<JobStateName, number>;
  for (const c of q.counts) if (c.state !== JobState.UNSPECIFIED) counts[stateName(c.state)] = Number(c.count);
  return {
    name: q.name,
    counts,
    oldestPendingAgeMs: Number(q.oldestPendingAgeMs),
    enqueuedLastMinute: q.enqueuedLastMinute,
    completedLastMinute: q.completedLastMinute,
    failedLastMinute: q.failedLastMinute,
    throttledLastMinute: q.throttledLastMinute,
    paused: q.paused,
    concurrencyLimit: q.concurrencyLimit,
    rateStarts: q.rateStarts,
    rateWindowMs: Number(q.rateWindowMs),
    retentionMs: Number(q.retentionMs),
    deadRetentionMs: Number(q.deadRetentionMs),
    effectiveRetentionMs: Number(q.effectiveRetentionMs),
    effectiveDeadRetentionMs: Number(q.effectiveDeadRetentionMs),
  };
}

export function toWorker(w: WorkerStream): WorkerInfo {
  return {
    workerId: w.workerId,
    hostname: w.hostname,
    queues: [...w.queues],
    credits: w.credits,
    jobsHeld: w.jobsHeld,
    connectedAt: date(w.connectedAt),
    lastFrameAt: date(w.lastFrameAt),
  };
}

export function toOperation(o: PbOperation | undefined): Operation {
  if (o === undefined) throw new CorvoError(Code.Internal, "the server answered without the operation");
  const state: OperationStateName =
    o.state === OperationState.DONE ? "done" : o.state === OperationState.FAILED ? "failed" : "running";
  return {
    id: o.id,
    action: o.action,
    state,
    examined: Number(o.examined),
    succeeded: Number(o.succeeded),
    createdAt: date(o.createdAt),
    updatedAt: date(o.updatedAt),
    error: o.error,
    queue: o.queue,
  };
}
