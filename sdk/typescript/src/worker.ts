// The worker runtime: one StreamLifecycle stream per worker, handlers per queue.
//
//   run() ── session(): open the stream at endpoints.current ──▶ frames from the ledger
//     ▲         │  answers ─▶ ledger (settle / take back) ; jobs ─▶ start ; cancel ids ─▶ abort
//     │         ▼  the stream ends (error, NOT_LEADER, the drain done)
//     └── wait: full-jitter backoff 100 ms → 10 s, at least the server's hint; next URL or leader
//
// Credits: the stream grants `concurrency` minus the jobs running, waiting and already granted,
// so at most `concurrency` jobs run. Outcomes stay in the ledger until the server answers for
// them; refused frames go out again after `retry_after_ms` (and the pacer spaces frames out),
// lost streams hand theirs to the next. SIGTERM/SIGINT (or stop()) drain: a frame with `drain`
// goes at once (the server drops the stream's credits and pushes nothing more), every later
// frame carries it too and grants nothing, running jobs finish for up to the drain timeout,
// then those left are failed with "worker shutting down".

import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { createClient } from "@connectrpc/connect";
import { Backoff, Pacer } from "./backoff.js";
import { Endpoints, type ConnectionOptions } from "./connection.js";
import { JobContext } from "./context.js";
import { Code, CorvoError, ErrorCode, frameError, isRefusedForGood, toCorvoError } from "./errors.js";
import {
  WorkerService,
  type FetchBatchJob,
  type StreamLifecycleRequest,
  type StreamLifecycleResponse,
} from "./gen/corvo/v1/worker_pb.js";
import { Ledger, type Answer, type Outcome, type Subscription } from "./ledger.js";
import type { Logger } from "./logger.js";
import { Pipe } from "./pipe.js";
import { inExecuteSpan, loadTracing } from "./tracing.js";

/** Jobs run at once: the default and the server's limit on credits. */
export const CONCURRENCY_DEFAULT = 1;
export const CONCURRENCY_MAX = 4096;
/** Lease, seconds (heartbeats go out every third of it). */
export const LEASE_SECS_DEFAULT = 60;
export const LEASE_SECS_MAX = 3600;
/** How long running jobs may finish after a stop. */
export const DRAIN_TIMEOUT_MS_DEFAULT = 30_000;
/** The message jobs still running at the end of a drain are failed with (SPEC). */
export const SHUTTING_DOWN = "worker shutting down";
/** After the drain timeout, how long the worker keeps trying to deliver outcomes. */
const DELIVERY_GRACE_MS = 10_000;
/** Frames sent and not yet answered (more outcomes wait and go in the next frame). */
const FRAMES_IN_FLIGHT_MAX = 4;
/** Progress and checkpoints go out at most this long after they were set (SPEC: 1 s). */
const REPORT_DELAY_MAX_MS = 1_000;
/** A stop-at-once leaves this long for its last frame to go out. */
const STOP_NOW_GRACE_MS = 500;
/** Repeated warnings (refused frames) are logged at most this often. */
const WARN_EVERY_MS = 5_000;

export interface WorkerOptions extends ConnectionOptions {
  /** Shown in `corvo workers` and job state; default `<hostname>-<8 random hex>`. */
  workerId?: string;
  /** Jobs run at once, 1..4096 (default 1). */
  concurrency?: number;
  /** Lease length, seconds, 1..3600 (default 60). */
  leaseSecs?: number;
  /** How long running jobs may finish after SIGTERM/SIGINT or stop(), ms (default 30000). */
  drainTimeoutMs?: number;
  /** Drain on SIGTERM and SIGINT while running (a second signal stops at once). Default true. */
  handleSignals?: boolean;
  /** The host name reported to the server (default: os.hostname()). */
  hostname?: string;
}

/**
 * Works one job: return a JSON-serializable value to complete it with that result; throw (or
 * call `ctx.fail`) to fail it.
 */
export type Handler<P = unknown, R = unknown> = (ctx: JobContext<P>) => R | Promise<R>;

interface Running {
  job: FetchBatchJob;
  controller: AbortController;
  /** The server said stop: its outcome is not wanted. */
  revoked: boolean;
  /** Failed back by the drain: its outcome, when the handler returns, is ignored. */
  abandoned: boolean;
}

type StreamEnd =
  | { kind: "stop" }
  | { kind: "fatal"; error: CorvoError }
  | { kind: "broken"; error: CorvoError };

interface Live {
  url: string;
  pipe: Pipe<StreamLifecycleRequest>;
  abort: AbortController;
  answered: boolean;
  subscribed: boolean;
  ending: StreamEnd | undefined;
}

type State = "idle" | "running" | "draining" | "stopped";

/** Runs handlers for the jobs of some queues; see the module overview. */
export class Worker {
  /** This worker's id (the default is unique per process start). */
  readonly workerId: string;
  private readonly endpoints: Endpoints;
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly leaseSecs: number;
  private readonly drainTimeoutMs: number;
  private readonly handleSignals: boolean;
  private readonly hostname: string;
  private readonly handlers = new Map<string, Handler<any, unknown>>();
  private readonly ledger: Ledger;
  private readonly running = new Map<string, Running>();
  /** Jobs pushed beyond the concurrency (credits the server held longer than we counted). */
  private readonly waiting: FetchBatchJob[] = [];
  private readonly backoff = new Backoff();
  private readonly pacer = new Pacer();
  private state: State = "idle";
  private live: Live | undefined;
  private holdUntil = 0;
  private pumpQueued = false;
  private sendTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private lastReportAt = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly stopTimers: NodeJS.Timeout[] = [];
  private wake: (() => void) | undefined;
  private finished: Promise<void> = Promise.resolve();
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private warnsSuppressed = 0;
  private signalsSeen = 0;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.signalsSeen++;
    if (this.signalsSeen === 1) {
      this.log.info(`${signal}: draining (a second signal stops at once)`);
      void this.stop();
    } else {
      this.log.warn(`${signal} again: stopping at once`);
      this.stopNow();
    }
  };

  constructor(options: WorkerOptions = {}) {
    this.concurrency = integerIn(options.concurrency ?? CONCURRENCY_DEFAULT, 1, CONCURRENCY_MAX, "concurrency");
    this.leaseSecs = integerIn(options.leaseSecs ?? LEASE_SECS_DEFAULT, 1, LEASE_SECS_MAX, "leaseSecs");
    this.drainTimeoutMs = integerIn(options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS_DEFAULT, 0, 2 ** 31 - 1, "drainTimeoutMs");
    this.hostname = options.hostname ?? osHostname();
    this.workerId = options.workerId ?? `${this.hostname}-${randomBytes(4).toString("hex")}`;
    if (this.workerId === "") throw invalid("workerId: must not be empty");
    this.handleSignals = options.handleSignals ?? true;
    this.endpoints = new Endpoints(options);
    this.log = this.endpoints.logger;
    this.ledger = new Ledger(this.concurrency);
  }

  /** Runs `handler` for every job of `queue` (one handler per queue; several queues per worker). */
  handle<P = unknown, R = unknown>(queue: string, handler: Handler<P, R>): this {
    if (this.state !== "idle") throw invalid("handle: register handlers before run()");
    if (queue === "") throw invalid("handle: the queue name must not be empty");
    if (this.handlers.has(queue)) throw invalid(`handle: queue ${JSON.stringify(queue)} already has a handler`);
    this.handlers.set(queue, handler as Handler<any, unknown>);
    return this;
  }

  /**
   * Works jobs until stopped (SIGTERM/SIGINT, `stop()`), then drains and resolves. Rejects with
   * a CorvoError when the server refuses the worker for good (bad key, permission, invalid
   * options); connection failures are retried forever.
   */
  run(): Promise<void> {
    if (this.state !== "idle") return Promise.reject(invalid("run: a worker runs once"));
    if (this.handlers.size === 0) return Promise.reject(invalid("run: no handler (call handle(queue, handler) first)"));
    this.state = "running";
    this.finished = this.loop();
    return this.finished;
  }

  /**
   * Drains: takes no more jobs, lets the running ones finish for up to the drain timeout,
   * sends their outcomes, fails those still running with "worker shutting down", and makes
   * `run()` resolve. Resolves when `run()` has returned.
   */
  stop(): Promise<void> {
    if (this.state === "idle") {
      this.state = "stopped";
      return Promise.resolve();
    }
    if (this.state !== "running") return this.finished.catch(() => undefined);
    this.state = "draining";
    this.log.info("draining", { running: this.running.size, drainTimeoutMs: this.drainTimeoutMs });
    for (const job of this.waiting.splice(0)) this.giveBack(job);
    // The frame with `drain`, at once: the server pushes nothing more on this stream.
    this.send();
    this.stopTimers.push(
      setTimeout(() => this.abandonRunning(), this.drainTimeoutMs),
      setTimeout(() => {
        const owed = this.ledger.owed();
        if (owed.length > 0) {
          this.log.error("stopping with outcomes the server never confirmed", {
            jobs: owed.map((o) => o.jobId).join(","),
          });
        }
        this.stopNow();
      }, this.drainTimeoutMs + DELIVERY_GRACE_MS),
    );
    this.pump();
    this.checkDrained();
    return this.finished.catch(() => undefined);
  }

  /**
   * Stops at once: running jobs are signalled and failed back (best effort, one last frame),
   * and `run()` resolves.
   */
  stopNow(): void {
    if (this.state === "idle" || this.state === "stopped") {
      this.state = "stopped";
      return;
    }
    const wasDraining = this.state === "draining";
    this.state = "draining";
    if (!wasDraining) for (const job of this.waiting.splice(0)) this.giveBack(job);
    this.abandonRunning();
    this.state = "stopped";
    const live = this.live;
    if (live && !live.ending) {
      this.holdUntil = 0;
      if (this.sendTimer) clearTimeout(this.sendTimer.timer);
      this.sendTimer = undefined;
      this.send(true);
      live.ending = { kind: "stop" };
      live.pipe.close();
      setTimeout(() => live.abort.abort(), STOP_NOW_GRACE_MS).unref();
    }
    this.wake?.();
  }

  // ---- the connection loop ----

  private async loop(): Promise<void> {
    await loadTracing();
    if (this.handleSignals) {
      process.on("SIGTERM", this.onSignal);
      process.on("SIGINT", this.onSignal);
    }
    const everyMs = Math.max(1, Math.floor((this.leaseSecs * 1000) / 3));
    this.heartbeatTimer = setInterval(() => {
      if (this.ledger.heldLeases === 0) return;
      this.ledger.heartbeatAll();
      this.pump();
    }, everyMs);
    this.log.info("worker starting", {
      workerId: this.workerId,
      queues: [...this.handlers.keys()].join(","),
      concurrency: this.concurrency,
      servers: this.endpoints.servers.join(","),
    });
    try {
      for (;;) {
        if (this.done()) return;
        const end = await this.session();
        if (end.kind === "fatal") {
          // run() rejects with it: the caller reports it.
          this.abandonRunning(false);
          throw end.error;
        }
        if (this.done()) return;
        if (end.kind === "stop") return;
        const wait = this.backoff.next(end.error.retryAfterMs ?? 0);
        const from = this.endpoints.current;
        const to = (end.error.leaderAddr && this.endpoints.follow(end.error.leaderAddr)) || this.endpoints.advance();
        this.log.warn("worker stream ended; reconnecting", {
          server: from,
          error: `${end.error.codeName}: ${end.error.message}`,
          next: to,
          inMs: wait,
        });
        await this.sleep(wait);
      }
    } finally {
      this.cleanup();
    }
  }

  /** One stream, from opening to its end. */
  private async session(): Promise<StreamEnd> {
    const url = this.endpoints.current;
    const live: Live = {
      url,
      pipe: new Pipe(),
      abort: new AbortController(),
      answered: false,
      subscribed: false,
      ending: undefined,
    };
    this.live = live;
    this.holdUntil = 0;
    const client = createClient(WorkerService, this.endpoints.transport(url));
    try {
      this.send();
      const responses = client.streamLifecycle(live.pipe, { signal: live.abort.signal });
      for await (const resp of responses) {
        this.onResponse(live, resp);
        if (live.ending) break;
      }
      return live.ending ?? { kind: "broken", error: new CorvoError(Code.Unavailable, "the server ended the stream") };
    } catch (err) {
      if (live.ending) return live.ending;
      const e = toCorvoError(err);
      return isRefusedForGood(e) ? { kind: "fatal", error: e } : { kind: "broken", error: e };
    } finally {
      this.live = undefined;
      live.pipe.close();
      live.abort.abort();
      this.ledger.streamLost();
      if (this.sendTimer) {
        clearTimeout(this.sendTimer.timer);
        this.sendTimer = undefined;
      }
    }
  }

  private onResponse(live: Live, resp: StreamLifecycleResponse): void {
    if (resp.requestId !== 0n) {
      const answer = this.ledger.answer(resp);
      if (answer) this.onAnswer(live, answer);
    } else if (resp.errorCode !== ErrorCode.UNSPECIFIED) {
      // The server's pusher hit an error (it waits by itself before trying again).
      if (resp.errorCode === ErrorCode.NOT_LEADER) {
        this.end(live, { kind: "broken", error: frameError(resp.errorCode, resp.error, resp.retryAfterMs, resp.leaderAddr) });
      } else {
        this.warnThrottled("the server could not lease jobs", { error: resp.error });
      }
    }
    for (const id of resp.cancelJobIds) this.revoke(id, "the server stopped it (cancelled, reassigned or finished)");
    for (const job of resp.jobs) this.accept(job);
    this.checkDrained();
    this.pump();
  }

  private onAnswer(live: Live, a: Answer): void {
    for (const d of a.dropped) {
      this.log.warn("outcome refused; dropped", {
        job: d.outcome.jobId,
        outcome: d.outcome.kind,
        code: ErrorCode[d.code],
        error: d.message,
      });
    }
    for (const id of a.stop) this.revoke(id, "its lease is no longer valid");
    const r = a.refused;
    if (!r) {
      this.pacer.accepted();
      if (!live.answered) {
        live.answered = true;
        this.backoff.reset();
        this.log.info("worker stream open", { server: live.url, workerId: this.workerId, draining: this.state !== "running" || undefined });
      }
      return;
    }
    const error = frameError(r.code, r.message, BigInt(r.retryAfterMs), r.leaderAddr);
    switch (r.code) {
      case ErrorCode.NOT_LEADER:
        this.end(live, { kind: "broken", error });
        return;
      case ErrorCode.UNAUTHENTICATED:
      case ErrorCode.PERMISSION_DENIED:
        this.end(live, { kind: "fatal", error });
        return;
      case ErrorCode.INVALID_ARGUMENT: {
        const fixed = this.ledger.repairItem(a.record, r.message);
        if (!fixed) {
          this.end(live, { kind: "fatal", error });
          return;
        }
        this.log.warn("the server refused an item of a frame", { job: fixed.jobId, action: fixed.what, error: r.message });
        return;
      }
      default: {
        // Overloaded, unavailable, internal: nothing was applied; send it all again later.
        const wait = r.retryAfterMs > 0 ? r.retryAfterMs : 1_000;
        this.holdUntil = Math.max(this.holdUntil, Date.now() + wait);
        this.pacer.refused(wait);
        this.warnThrottled("frame refused; sending it again", { error: withCode(r.code, r.message), inMs: wait });
      }
    }
  }

  /** Ends the live stream for `why` (the session returns it). */
  private end(live: Live, why: StreamEnd): void {
    if (live.ending) return;
    live.ending = why;
    live.pipe.close();
    live.abort.abort();
  }

  // ---- jobs ----

  private accept(job: FetchBatchJob): void {
    if (this.running.has(job.jobId) || this.waiting.some((j) => j.jobId === job.jobId)) {
      // Leased to us again (the old lease ran out): the old run's outcome would be refused.
      this.revoke(job.jobId, "leased again under a new lease");
      this.running.delete(job.jobId);
    }
    this.ledger.hold(job.jobId, job.leaseToken);
    if (this.state !== "running") {
      this.giveBack(job);
    } else if (this.running.size >= this.concurrency) {
      this.waiting.push(job);
    } else {
      this.start(job);
    }
  }

  /** A job that will not run here: failed back at once so it is retried elsewhere. */
  private giveBack(job: FetchBatchJob): void {
    this.ledger.finish({ kind: "fail", jobId: job.jobId, leaseToken: job.leaseToken, error: SHUTTING_DOWN, backtrace: "" });
  }

  private start(job: FetchBatchJob): void {
    const r: Running = { job, controller: new AbortController(), revoked: false, abandoned: false };
    this.running.set(job.jobId, r);
    void this.execute(r).then((outcome) => this.onFinished(r, outcome));
  }

  /** Runs the handler; never rejects. */
  private async execute(r: Running): Promise<Outcome> {
    const { job } = r;
    const base = { jobId: job.jobId, leaseToken: job.leaseToken };
    let ctx: JobContext;
    try {
      ctx = new JobContext(job, r.controller.signal, (p, c) => this.report(job.jobId, p, c));
    } catch (e) {
      return { ...base, kind: "fail", error: (e as Error).message, backtrace: "" };
    }
    const handler = this.handlers.get(job.queue);
    if (!handler) return { ...base, kind: "fail", error: `no handler for queue ${job.queue} in this worker`, backtrace: "" };
    try {
      const value = await inExecuteSpan(
        job.traceParent,
        { jobId: job.jobId, queue: job.queue, attempt: job.attempt, workerId: this.workerId },
        async () => handler(ctx),
        () => ctx.failedWith,
      );
      if (ctx.failedWith !== undefined) return { ...base, kind: "fail", error: ctx.failedWith, backtrace: "" };
      return { ...base, kind: "ack", resultJson: resultJson(value) };
    } catch (e) {
      if (ctx.failedWith !== undefined) return { ...base, kind: "fail", error: ctx.failedWith, backtrace: "" };
      return { ...base, kind: "fail", ...describe(e) };
    }
  }

  private onFinished(r: Running, outcome: Outcome): void {
    if (r.abandoned || this.running.get(r.job.jobId) !== r) return;
    this.running.delete(r.job.jobId);
    if (!r.revoked) this.ledger.finish(outcome);
    if (this.state === "running") {
      const next = this.waiting.shift();
      if (next) this.start(next);
    }
    this.checkDrained();
    this.pump();
  }

  /** The server said stop: signal the handler; its outcome is not wanted any more. */
  private revoke(jobId: string, reason: string): void {
    this.ledger.forget(jobId);
    const i = this.waiting.findIndex((j) => j.jobId === jobId);
    if (i >= 0) this.waiting.splice(i, 1);
    const r = this.running.get(jobId);
    if (r && !r.revoked) {
      r.revoked = true;
      r.controller.abort(abortReason(jobId, reason));
    }
  }

  /** The drain is over (or a stop-at-once): fail back every running job and signal it. */
  private abandonRunning(failBack = true): void {
    for (const r of this.running.values()) {
      r.abandoned = true;
      if (!r.revoked && failBack) {
        this.ledger.finish({ kind: "fail", jobId: r.job.jobId, leaseToken: r.job.leaseToken, error: SHUTTING_DOWN, backtrace: "" });
      }
      r.controller.abort(abortReason(r.job.jobId, SHUTTING_DOWN));
    }
    if (this.running.size > 0 && failBack) this.log.warn("failed back jobs still running", { jobs: this.running.size, error: SHUTTING_DOWN });
    this.running.clear();
    this.pump();
    this.checkDrained();
  }

  private report(jobId: string, progressJson: string | undefined, checkpointJson: string | undefined): void {
    if (!this.ledger.report(jobId, progressJson, checkpointJson) || this.reportTimer) return;
    const delay = Math.min(REPORT_DELAY_MAX_MS, Math.max(0, this.lastReportAt + REPORT_DELAY_MAX_MS - Date.now()));
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      this.lastReportAt = Date.now();
      this.pump();
    }, delay);
  }

  // ---- sending ----

  /** Sends what is owed soon (once per turn of the event loop). */
  private pump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.send();
    });
  }

  /** Sends the next frames now, within the retry hold, the pacer and the frames in flight. */
  private send(ignoreLimits = false): void {
    const live = this.live;
    if (!live || live.ending || live.pipe.isClosed) return;
    const draining = this.state !== "running";
    for (;;) {
      const now = Date.now();
      const at = Math.max(this.holdUntil, this.pacer.nextAt());
      if (!ignoreLimits && at > now) {
        this.sendAt(at);
        return;
      }
      if (!ignoreLimits && this.ledger.framesInFlight >= FRAMES_IN_FLIGHT_MAX) return;
      const occupied = this.running.size + this.waiting.length;
      const next = this.ledger.nextFrame(this.subscription(), occupied, draining, !live.subscribed);
      if (!next) return;
      live.subscribed = true;
      live.pipe.push(next.frame);
      this.pacer.sent(now);
      if (ignoreLimits) return;
    }
  }

  private sendAt(at: number): void {
    if (this.sendTimer && this.sendTimer.at <= at) return;
    if (this.sendTimer) clearTimeout(this.sendTimer.timer);
    const timer = setTimeout(() => {
      this.sendTimer = undefined;
      this.send();
    }, Math.max(0, at - Date.now()));
    this.sendTimer = { at, timer };
  }

  private subscription(): Subscription {
    return {
      queues: [...this.handlers.keys()],
      workerId: this.workerId,
      hostname: this.hostname,
      leaseSecs: this.leaseSecs,
    };
  }

  // ---- stopping ----

  private done(): boolean {
    if (this.state === "stopped") return true;
    return (
      this.state === "draining" &&
      this.running.size === 0 &&
      this.waiting.length === 0 &&
      this.ledger.pendingOutcomes === 0
    );
  }

  /** When a drain has nothing left to do: end the stream (or the wait) so run() returns. */
  private checkDrained(): void {
    if (!this.done()) return;
    if (this.live) this.end(this.live, { kind: "stop" });
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      const self = this;
      function finish() {
        clearTimeout(timer);
        if (self.wake === finish) self.wake = undefined;
        resolve();
      }
      this.wake = finish;
    });
  }

  private cleanup(): void {
    if (this.handleSignals) {
      process.off("SIGTERM", this.onSignal);
      process.off("SIGINT", this.onSignal);
    }
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reportTimer);
    if (this.sendTimer) clearTimeout(this.sendTimer.timer);
    for (const t of this.stopTimers) clearTimeout(t);
    this.state = "stopped";
    this.endpoints.close();
    this.log.info("worker stopped", { workerId: this.workerId });
  }

  private warnThrottled(message: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) {
      this.warnsSuppressed++;
      return;
    }
    this.log.warn(message, this.warnsSuppressed > 0 ? { ...fields, suppressed: this.warnsSuppressed } : fields);
    this.lastWarnAt = now;
    this.warnsSuppressed = 0;
  }
}

/** A handler's return value as JSON text ("" for undefined: no result). */
function resultJson(value: unknown): string {
  if (value === undefined) return "";
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch (e) {
    throw new TypeError(`the handler's result is not JSON-serializable: ${(e as Error).message}`);
  }
  throw new TypeError(`the handler's result is not JSON-serializable (${typeof value})`);
}

/** A thrown value as an error message and a stack trace. */
function describe(e: unknown): { error: string; backtrace: string } {
  if (e instanceof Error) {
    return { error: e.message || e.name, backtrace: e.stack ?? "" };
  }
  let error: string;
  try {
    error = typeof e === "string" ? e : JSON.stringify(e) ?? String(e);
  } catch {
    error = String(e);
  }
  return { error: `thrown: ${error}`, backtrace: "" };
}

/** "OVERLOADED: message", unless the message already starts with its code. */
function withCode(code: ErrorCode, message: string): string {
  const name = ErrorCode[code] ?? String(code);
  return message.startsWith(name) ? message : `${name}: ${message}`;
}

function abortReason(jobId: string, reason: string): Error {
  const e = new Error(`job ${jobId} must stop: ${reason}`);
  e.name = "AbortError";
  return e;
}

function integerIn(v: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`${field}: must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

function invalid(message: string): CorvoError {
  return new CorvoError(Code.InvalidArgument, message);
}
