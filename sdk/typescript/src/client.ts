// The client: enqueue (one job, or many over a stream), and the job and queue admin calls.
//
// Every unary call has the call timeout (30 s by default) as its deadline. Within it, a call
// refused before the server did any work (connection refused, shed, rate-limited, not the
// leader, no leader yet) is tried again after the server's hint, on the next URL or at the
// leader the server named. Every enqueue carries an idempotency key (the caller's, or a fresh
// one per call), so one whose first try may have been applied is sent again with the same key
// (one sent with no key at all, neither idempotency nor unique, is not). An OUTCOME_UNKNOWN
// error (gRPC UNKNOWN) is never retried.

import { create, type DescService } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, type CallOptions, type Client as ConnectClient } from "@connectrpc/connect";
import { Backoff } from "./backoff.js";
import { CALL_TIMEOUT_MS_DEFAULT, Endpoints, type ConnectionOptions } from "./connection.js";
import {
  enqueueOptions,
  jobFilter,
  payloadJson,
  priorityValue,
  stateName,
  stateValue,
  toJob,
  toOperation,
  toQueue,
  toWorker,
  type EnqueueOptions,
  type Job,
  type JobFilter,
  type JobStateName,
  type Operation,
  type PriorityName,
  type Queue,
  type WorkerInfo,
} from "./convert.js";
import { Code, CorvoError, ErrorCode, frameError, grpcCodeOf, mayHaveApplied, toCorvoError } from "./errors.js";
import { BulkAction, BulkJobsRequestSchema, JobFilterSchema, JobService } from "./gen/corvo/v1/job_pb.js";
import { QueueService } from "./gen/corvo/v1/queue_pb.js";
import {
  StreamLifecycleRequestSchema,
  WorkerService,
  type EnqueueOptions as PbEnqueueOptions,
  type ItemResult,
  type LifecycleEnqueueItem,
  type StreamLifecycleRequest,
  type StreamLifecycleResponse,
} from "./gen/corvo/v1/worker_pb.js";
import { Pipe } from "./pipe.js";
import { activeTraceparent, loadTracing } from "./tracing.js";

/** Enqueues per StreamLifecycle frame in `enqueueBatch` (SPEC: at most 1000). */
export const BATCH_FRAME_ITEMS_MAX = 1000;
/** Tries per call (the first included); the call timeout bounds them too. */
const CALL_ATTEMPTS_MAX = 20;

export interface ClientOptions extends ConnectionOptions {
  /** Deadline of each unary call, retries included, ms (default 30000). */
  callTimeoutMs?: number;
}

export interface EnqueueResult {
  /** The new job's id, or the existing job's for a duplicate unique key or a replayed call. */
  id: string;
  status: "pending" | "scheduled" | "duplicate";
  /** The job's state now ("pending" when a replayed call's job is gone). */
  state: JobStateName;
  /** The idempotency key matched an earlier enqueue: nothing was created (status "duplicate"). */
  replayed: boolean;
}

export interface EnqueueItem {
  queue: string;
  payload?: unknown;
  options?: EnqueueOptions;
}

/** ListJobs filters (all optional; each one given must match). */
export interface ListJobsFilter {
  queue?: string;
  state?: JobStateName;
  priority?: PriorityName;
  tags?: Record<string, string>;
  payloadContains?: string;
  errorContains?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  /** Read-your-writes: wait until the view holds every write acknowledged before the call. */
  consistent?: boolean;
}

export interface Page {
  /** 1..1000 (default 100). */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
}

export interface JobPage {
  jobs: Job[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export type BulkActionName = "retry" | "cancel" | "delete" | "move" | "set_priority";

/** Which jobs a bulk action takes: these ids (at most 1000), a filter, or every job. */
export type BulkSelection = { ids: string[] } | { filter: JobFilter } | { allJobs: true };

export interface BulkResult {
  examined: number;
  succeeded: number;
  /** With ids: one result per id, in order (code "UNSPECIFIED" when it succeeded). */
  results: { jobId: string; errorCode: ErrorCode; message: string; state: JobStateName | undefined }[];
  /** Set when the action goes on as an operation (follow it with getOperation). */
  operationId: string;
}

const BULK_ACTIONS: Record<BulkActionName, BulkAction> = {
  retry: BulkAction.RETRY,
  cancel: BulkAction.CANCEL,
  delete: BulkAction.DELETE,
  move: BulkAction.MOVE,
  set_priority: BulkAction.SET_PRIORITY,
};

interface CallPolicy {
  /** Sending it twice does no harm (false: only when the first try was surely not applied). */
  idempotent: boolean;
  headers?: Record<string, string>;
}

/** Enqueues jobs and administers jobs and queues. */
export class Client {
  private readonly endpoints: Endpoints;
  private readonly callTimeoutMs: number;
  private readonly clients = new Map<string, ConnectClient<DescService>>();

  constructor(options: ClientOptions = {}) {
    this.callTimeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS_DEFAULT;
    if (!(this.callTimeoutMs > 0)) throw new CorvoError(Code.InvalidArgument, "callTimeoutMs: must be positive");
    this.endpoints = new Endpoints(options);
  }

  /** Closes the connections (calls made afterwards open them again). */
  close(): void {
    this.endpoints.close();
    this.clients.clear();
  }

  // ---- enqueue ----

  /**
   * Enqueues one job. `payload` is any JSON-serializable value, or JSON text as a string.
   * With OpenTelemetry active, the current context goes along as `traceparent`.
   */
  async enqueue<P = unknown>(queue: string, payload?: P, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const request = {
      queue,
      payloadJson: payloadJson(payload),
      options: enqueueOptions(options),
    };
    await loadTracing();
    const traceparent = activeTraceparent();
    const r = await this.call(
      WorkerService,
      (c, o) => c.enqueue(request, o),
      { idempotent: keyed(request.options), headers: traceparent ? { traceparent } : undefined },
    );
    const status = r.status === "duplicate" || r.status === "scheduled" ? r.status : "pending";
    return { id: r.jobId, status, state: stateName(r.state), replayed: r.replayed };
  }

  /**
   * Enqueues many jobs over one StreamLifecycle stream, at most 1000 per frame; returns their
   * ids in order (an existing job's id for a duplicate unique key or a replayed item). Frames
   * are applied one by one: when one fails, the error says which items before it were enqueued.
   */
  async enqueueBatch(items: readonly EnqueueItem[]): Promise<string[]> {
    return (await this.enqueueBatchResults(items)).map((r) => r.id);
  }

  /** `enqueueBatch`, with each item's status, state and `replayed` besides its id. */
  async enqueueBatchResults(items: readonly EnqueueItem[]): Promise<EnqueueResult[]> {
    const now = Date.now();
    const all: Omit<LifecycleEnqueueItem, "$typeName">[] = items.map((it, i) => ({
      queue: it.queue,
      payloadJson: payloadJson(it.payload, `items[${i}].payload`),
      options: enqueueOptions(it.options, now, `items[${i}].options.`),
    }));
    await loadTracing();
    const traceparent = activeTraceparent();
    const results: EnqueueResult[] = [];
    let stream: BatchStream | undefined;
    try {
      for (let start = 0; start < all.length; start += BATCH_FRAME_ITEMS_MAX) {
        const chunk = all.slice(start, start + BATCH_FRAME_ITEMS_MAX);
        const resp = await this.retrying({ idempotent: chunk.every((it) => keyed(it.options)) }, async () => {
          stream ??= new BatchStream(this.endpoints, traceparent);
          try {
            return await stream.exchange(chunk, start, this.callTimeoutMs);
          } catch (e) {
            // A frame refused for load leaves the stream usable; anything else ends it.
            if (!(e instanceof CorvoError && e.errorCode === ErrorCode.OVERLOADED)) {
              stream.close();
              stream = undefined;
            }
            throw e;
          }
        });
        resp.enqueueResults.forEach((r, i) => {
          if (r.code !== ErrorCode.UNSPECIFIED) {
            throw new CorvoError(grpcCodeOf(r.code), `items[${start + i}]: ${r.message}`, { errorCode: r.code });
          }
          results.push(batchResult(r));
        });
        if (resp.enqueueResults.length !== chunk.length) {
          throw new CorvoError(Code.Internal, `the server answered ${resp.enqueueResults.length} results for ${chunk.length} enqueues`);
        }
      }
    } catch (e) {
      const err = e instanceof CorvoError ? e : toCorvoError(e);
      if (results.length === 0) throw err;
      throw new CorvoError(err.code, `${err.message} (items[0..${results.length - 1}] were enqueued)`, {
        errorCode: err.errorCode,
        retryAfterMs: err.retryAfterMs,
        leaderAddr: err.leaderAddr,
        cause: err,
      });
    } finally {
      stream?.close();
    }
    return results;
  }

  // ---- jobs ----

  async getJob(id: string): Promise<Job> {
    const r = await this.call(JobService, (c, o) => c.getJob({ jobId: id }, o), { idempotent: true });
    if (!r.job) throw new CorvoError(Code.Internal, "the server answered without the job");
    return toJob(r.job);
  }

  /** Jobs matching every filter given, newest first, a page at a time. */
  async listJobs(filter: ListJobsFilter = {}, page: Page = {}): Promise<JobPage> {
    const request = {
      queue: filter.queue ?? "",
      state: filter.state === undefined ? 0 : stateValue(filter.state, "filter.state"),
      priority: filter.priority === undefined ? 0 : priorityValue(filter.priority, "filter.priority"),
      tags: { ...filter.tags },
      payloadContains: filter.payloadContains ?? "",
      errorContains: filter.errorContains ?? "",
      createdAfter: filter.createdAfter && timestampFromDate(filter.createdAfter),
      createdBefore: filter.createdBefore && timestampFromDate(filter.createdBefore),
      pageSize: page.pageSize ?? 0,
      pageToken: page.pageToken ?? "",
      consistent: filter.consistent ?? false,
    };
    const r = await this.call(JobService, (c, o) => c.listJobs(request, o), { idempotent: true });
    return { jobs: r.jobs.map(toJob), nextPageToken: r.nextPageToken };
  }

  /** Cancels a job that is not finished; returns its state after. */
  async cancelJob(id: string): Promise<JobStateName> {
    const r = await this.call(JobService, (c, o) => c.cancelJob({ jobId: id }, o), { idempotent: true });
    return stateName(r.state);
  }

  /** Puts a dead, cancelled or completed job back to pending with a fresh attempt budget. */
  async retryJob(id: string): Promise<JobStateName> {
    const r = await this.call(JobService, (c, o) => c.retryJob({ jobId: id }, o), { idempotent: true });
    return stateName(r.state);
  }

  /** Removes a job that is not active. */
  async deleteJob(id: string): Promise<void> {
    await this.call(JobService, (c, o) => c.deleteJob({ jobId: id }, o), { idempotent: true });
  }

  /** Retries, cancels, deletes, moves or re-prioritizes many jobs at once. */
  async bulkJobs(
    action: BulkActionName,
    selection: BulkSelection,
    options: { targetQueue?: string; priority?: PriorityName } = {},
  ): Promise<BulkResult> {
    const a = BULK_ACTIONS[action];
    if (a === undefined) throw new CorvoError(Code.InvalidArgument, `action: ${JSON.stringify(action)} is not a bulk action`);
    const request = create(BulkJobsRequestSchema, {
      action: a,
      targetQueue: options.targetQueue ?? "",
      priority: options.priority === undefined ? 0 : priorityValue(options.priority),
    });
    if ("ids" in selection) request.jobIds = [...selection.ids];
    else if ("filter" in selection) request.filter = jobFilter(selection.filter, create(JobFilterSchema));
    else request.allJobs = true;
    const r = await this.call(JobService, (c, o) => c.bulkJobs(request, o), { idempotent: true });
    return {
      examined: Number(r.examined),
      succeeded: Number(r.succeeded),
      results: r.results.map((x) => ({
        jobId: x.jobId,
        errorCode: x.code,
        message: x.message,
        state: x.state === 0 ? undefined : stateName(x.state),
      })),
      operationId: r.operationId,
    };
  }

  /** A bulk operation's progress (from bulkJobs, clearQueue or destroyQueue). */
  async getOperation(id: string): Promise<Operation> {
    const r = await this.call(JobService, (c, o) => c.getOperation({ operationId: id }, o), { idempotent: true });
    return toOperation(r.operation);
  }

  /** The operations kept (the newest 256), newest first. */
  async listOperations(): Promise<Operation[]> {
    const r = await this.call(JobService, (c, o) => c.listOperations({}, o), { idempotent: true });
    return r.operations.map((op) => toOperation(op));
  }

  // ---- queues ----

  async listQueues(): Promise<Queue[]> {
    const r = await this.call(QueueService, (c, o) => c.listQueues({}, o), { idempotent: true });
    return r.queues.map((q) => toQueue(q));
  }

  async getQueue(name: string): Promise<Queue> {
    const r = await this.call(QueueService, (c, o) => c.getQueue({ queue: name }, o), { idempotent: true });
    return toQueue(r.queue);
  }

  /** Stops handing out the queue's jobs (enqueues are still accepted). */
  async pauseQueue(name: string): Promise<Queue> {
    const r = await this.call(QueueService, (c, o) => c.pauseQueue({ queue: name }, o), { idempotent: true });
    return toQueue(r.queue);
  }

  async resumeQueue(name: string): Promise<Queue> {
    const r = await this.call(QueueService, (c, o) => c.resumeQueue({ queue: name }, o), { idempotent: true });
    return toQueue(r.queue);
  }

  /**
   * Pauses the queue, then waits up to `waitMs` (at most 600000) for its active jobs to finish.
   * The call timeout is extended by `waitMs` for this call.
   */
  async drainQueue(name: string, waitMs = 0): Promise<{ queue: Queue; drained: boolean; active: number }> {
    const r = await this.call(
      QueueService,
      (c, o) => c.drainQueue({ queue: name, waitMs }, o),
      { idempotent: true },
      this.callTimeoutMs + waitMs,
    );
    return { queue: toQueue(r.queue), drained: r.drained, active: Number(r.active) };
  }

  /** Removes the queue's waiting jobs; large queues answer with an operation to follow. */
  async clearQueue(name: string): Promise<{ removed: number; operationId: string }> {
    const r = await this.call(QueueService, (c, o) => c.clearQueue({ queue: name }, o), { idempotent: true });
    return { removed: Number(r.removed), operationId: r.operationId };
  }

  /** Removes every job of the queue and its settings; `confirm` must repeat the name. */
  async destroyQueue(name: string, confirm: string): Promise<string> {
    const r = await this.call(QueueService, (c, o) => c.destroyQueue({ queue: name, confirm }, o), { idempotent: true });
    return r.operationId;
  }

  /** Sets (or with 0, removes) the queue's concurrency limit and rate limit. */
  async setQueueLimits(
    name: string,
    limits: { concurrency?: number; rateStarts?: number; rateWindowMs?: number },
  ): Promise<Queue> {
    const request = {
      queue: name,
      concurrency: limits.concurrency ?? 0,
      rateStarts: limits.rateStarts ?? 0,
      rateWindowMs: BigInt(Math.round(limits.rateWindowMs ?? 0)),
    };
    const r = await this.call(QueueService, (c, o) => c.setQueueLimits(request, o), { idempotent: true });
    return toQueue(r.queue);
  }

  /** Sets (or with 0, removes) the queue's retention overrides, ms. */
  async setQueueRetention(name: string, retention: { retentionMs?: number; deadRetentionMs?: number }): Promise<Queue> {
    const request = {
      queue: name,
      retentionMs: BigInt(Math.round(retention.retentionMs ?? 0)),
      deadRetentionMs: BigInt(Math.round(retention.deadRetentionMs ?? 0)),
    };
    const r = await this.call(QueueService, (c, o) => c.setQueueRetention(request, o), { idempotent: true });
    return toQueue(r.queue);
  }

  /** The worker streams connected (to the leader), optionally only those taking `queue`. */
  async listWorkers(queue = ""): Promise<WorkerInfo[]> {
    const r = await this.call(QueueService, (c, o) => c.listWorkers({ queue }, o), { idempotent: true });
    return r.workers.map(toWorker);
  }

  /** The answering node's build version. */
  async serverInfo(): Promise<{ serverVersion: string; apiVersion: string }> {
    const r = await this.call(WorkerService, (c, o) => c.getServerInfo({}, o), { idempotent: true });
    return { serverVersion: r.serverVersion, apiVersion: r.apiVersion };
  }

  // ---- calls ----

  private async call<S extends DescService, T>(
    service: S,
    invoke: (client: ConnectClient<S>, options: CallOptions) => Promise<T>,
    policy: CallPolicy,
    timeoutMs = this.callTimeoutMs,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    return this.retrying(policy, () => {
      const options: CallOptions = { timeoutMs: Math.max(1, deadline - Date.now()), headers: policy.headers };
      return invoke(this.clientFor(service), options);
    }, deadline);
  }

  /** Tries `attempt` again while the error allows it and the deadline is not passed. */
  private async retrying<T>(policy: CallPolicy, attempt: () => Promise<T>, deadline = Date.now() + this.callTimeoutMs): Promise<T> {
    const backoff = new Backoff();
    for (let n = 1; ; n++) {
      const url = this.endpoints.current;
      try {
        return await attempt();
      } catch (err) {
        const e = toCorvoError(err);
        if (n >= CALL_ATTEMPTS_MAX || !retryable(e, policy.idempotent)) throw e;
        const wait = backoff.next(e.retryAfterMs ?? 0);
        if (Date.now() + wait >= deadline) throw e;
        if (this.endpoints.current === url) {
          if (e.leaderAddr) this.endpoints.follow(e.leaderAddr);
          else if (e.code === Code.Unavailable) this.endpoints.advance();
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private clientFor<S extends DescService>(service: S): ConnectClient<S> {
    const url = this.endpoints.current;
    const key = `${service.typeName} ${url}`;
    let c = this.clients.get(key);
    if (!c) {
      c = createClient(service, this.endpoints.transport(url)) as unknown as ConnectClient<DescService>;
      this.clients.set(key, c);
    }
    return c as unknown as ConnectClient<S>;
  }
}

/** An enqueue the server deduplicates when sent again (an idempotency or a unique key). */
function keyed(o: PbEnqueueOptions | undefined): boolean {
  return (o?.idempotencyKey ?? "") !== "" || (o?.uniqueKey ?? "") !== "";
}

/** One item's result of an enqueue frame ("duplicate" or "replayed" name an earlier job). */
function batchResult(r: ItemResult): EnqueueResult {
  const replayed = r.message === "replayed";
  const state = stateName(r.state);
  const status = replayed || r.message === "duplicate" ? "duplicate" : state === "scheduled" ? "scheduled" : "pending";
  return { id: r.jobId, status, state, replayed };
}

/** Refused before any work, or sent again harmlessly: worth another try. */
function retryable(e: CorvoError, idempotent: boolean): boolean {
  // The write may have been applied and the server could not vouch for a repeat.
  if (e.errorCode === ErrorCode.OUTCOME_UNKNOWN) return false;
  const transient =
    e.notSent ||
    e.code === Code.Unavailable ||
    (e.code === Code.ResourceExhausted && e.retryAfterMs !== undefined);
  return transient && (idempotent || !mayHaveApplied(e));
}

/** One StreamLifecycle stream carrying enqueue frames, one answer awaited at a time. */
class BatchStream {
  private readonly pipe = new Pipe<StreamLifecycleRequest>();
  private readonly abort = new AbortController();
  private readonly responses: AsyncIterator<StreamLifecycleResponse>;
  private nextRequestId = 1n;

  constructor(endpoints: Endpoints, traceparent: string | undefined) {
    const client = createClient(WorkerService, endpoints.transport());
    this.responses = client
      .streamLifecycle(this.pipe, { signal: this.abort.signal, headers: traceparent ? { traceparent } : undefined })
      [Symbol.asyncIterator]();
  }

  /** Sends one frame of enqueues; resolves with its answer, rejects with a refused frame. */
  async exchange(
    items: Omit<LifecycleEnqueueItem, "$typeName">[],
    start: number,
    timeoutMs: number,
  ): Promise<StreamLifecycleResponse> {
    const requestId = this.nextRequestId++;
    this.pipe.push(create(StreamLifecycleRequestSchema, { requestId, enqueues: items }));
    const timer = setTimeout(() => this.abort.abort(new CorvoError(Code.DeadlineExceeded, `no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      for (;;) {
        const next = await this.responses.next();
        if (next.done) throw new CorvoError(Code.Unavailable, "the server ended the stream");
        const resp = next.value;
        if (resp.requestId !== requestId) continue;
        if (resp.errorCode !== ErrorCode.UNSPECIFIED && resp.enqueueResults.length === 0) {
          const e = frameError(resp.errorCode, resp.error, resp.retryAfterMs, resp.leaderAddr);
          // A whole frame refused for load or leadership was not applied.
          const notApplied = resp.errorCode === ErrorCode.OVERLOADED || resp.errorCode === ErrorCode.NOT_LEADER;
          throw new CorvoError(e.code, renumber(resp.error, start), {
            errorCode: e.errorCode,
            retryAfterMs: e.retryAfterMs,
            leaderAddr: e.leaderAddr,
            notSent: notApplied,
          });
        }
        return resp;
      }
    } catch (err) {
      if (this.abort.signal.aborted && this.abort.signal.reason instanceof CorvoError) throw this.abort.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.pipe.close();
    this.abort.abort();
  }
}

/** Frame errors name an item by its index in the frame (`enqueues[3].queue`): say which item it is. */
function renumber(message: string, start: number): string {
  return message.replace(/\benqueues\[(\d+)\]/g, (_, i: string) => `items[${start + Number(i)}]`);
}
