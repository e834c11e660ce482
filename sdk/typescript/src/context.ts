// What a handler gets: the job, a way to report progress and checkpoints, the cancellation
// signal, and the explicit fail.

import { Code, CorvoError, JobFailed } from "./errors.js";
import { parseJson, priorityName, type PriorityName } from "./convert.js";
import type { FetchBatchJob } from "./gen/corvo/v1/worker_pb.js";

/** Receives a handler's progress and checkpoint (JSON text; undefined: unchanged). */
export type Reporter = (progressJson: string | undefined, checkpointJson: string | undefined) => void;

/** A leased job handed to a handler. */
export class JobContext<P = unknown> {
  /** The job's id. */
  readonly id: string;
  readonly queue: string;
  /** This attempt, starting at 1. */
  readonly attempt: number;
  /** Attempts in total. */
  readonly maxAttempts: number;
  /** The payload, parsed. */
  readonly payload: P;
  /** The checkpoint the previous attempt saved (parsed), or null. */
  readonly previousCheckpoint: unknown;
  readonly tags: Readonly<Record<string, string>>;
  readonly priority: PriorityName;
  /** The lease's fencing token (sent back with every heartbeat and the outcome). */
  readonly leaseToken: bigint;
  /** The producer's W3C traceparent (empty when the server does not trace). */
  readonly traceParent: string;
  /**
   * Aborted when the server says stop: the job was cancelled, its lease was lost or it was
   * settled elsewhere, or the worker is shutting down past its drain timeout. Pass it to
   * anything that takes a signal, or check `cancelled`.
   */
  readonly signal: AbortSignal;

  private failure: string | undefined;
  private readonly reporter: Reporter;

  /** Parses the job's JSON fields; throws a CorvoError when one does not parse. */
  constructor(job: FetchBatchJob, signal: AbortSignal, reporter: Reporter) {
    this.id = job.jobId;
    this.queue = job.queue;
    this.attempt = job.attempt;
    this.maxAttempts = job.maxRetries;
    this.payload = parseField(job.payloadJson || "{}", "payload") as P;
    this.previousCheckpoint = parseField(job.checkpointJson, "checkpoint");
    this.tags = Object.freeze((parseField(job.tagsJson, "tags") ?? {}) as Record<string, string>);
    this.priority = priorityName(job.priority);
    this.leaseToken = job.leaseToken;
    this.traceParent = job.traceParent;
    this.signal = signal;
    this.reporter = reporter;
  }

  /** Whether the server said to stop this job (see `signal`). */
  get cancelled(): boolean {
    return this.signal.aborted;
  }

  /** The message given to `fail()`, if it was called. */
  get failedWith(): string | undefined {
    return this.failure;
  }

  /**
   * Records progress (a JSON object): sent with the next heartbeat, at most a second from now,
   * and visible through GetJob.
   */
  progress(value: object): void {
    this.reporter(objectJson(value, "progress"), undefined);
  }

  /**
   * Records a checkpoint (a JSON object): sent like progress, and handed to the next attempt
   * (as `previousCheckpoint`) if this one fails.
   */
  checkpoint(value: object): void {
    this.reporter(undefined, objectJson(value, "checkpoint"));
  }

  /**
   * Fails the job with `message` when the handler returns, whatever it returns (the job is
   * retried by its backoff, or dead after its last attempt). Returns a `JobFailed` for
   * `throw ctx.fail(...)` or `return ctx.fail(...)`.
   */
  fail(message: string): JobFailed {
    this.failure = message;
    return new JobFailed(message);
  }
}

function parseField(text: string, field: string): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    throw new CorvoError(Code.InvalidArgument, `the job's ${field} is not JSON: ${(e as Error).message}`);
  }
}

/** Progress and checkpoints are JSON objects (the server stores nothing else). */
function objectJson(value: object, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new TypeError(`${what}: not JSON-serializable: ${(e as Error).message}`);
  }
  if (text === undefined || !text.startsWith("{")) {
    throw new TypeError(`${what}: must be a JSON object such as {"done": 3}, got ${text ?? typeof value}`);
  }
  return text;
}
