// What a worker owes the server and what the server owes it, independent of any transport:
// the outcomes not yet confirmed, the credits granted, the leases to heartbeat, and the frames
// in flight. The worker asks for the next frame, hands back each answer, and is told what
// happened; no I/O and no clock here, so every path is unit-tested.
//
//   finish(job) ──▶ outcomes[unsent] ──nextFrame()──▶ outcomes[sent in #n] ──answer(#n)──▶ settled
//                          ▲                                      │
//                          └──── refused whole / stream lost ─────┘   (sent again later)

import { create } from "@bufbuild/protobuf";
import {
  ErrorCode,
  StreamLifecycleRequestSchema,
  type ItemResult,
  type StreamLifecycleRequest,
  type StreamLifecycleResponse,
} from "./gen/corvo/v1/worker_pb.js";

/** Items (acks, fails, heartbeats) in one frame; the server takes at most 1024. */
export const FRAME_ITEMS_MAX = 1000;
/** Bytes of JSON and error text in one frame (the server's message limit is 16 MiB). */
export const FRAME_BYTES_MAX = 4 << 20;
/** Error and backtrace text sent with a fail (the server takes at most 64 KiB each). */
export const FAIL_TEXT_BYTES_MAX = 32 << 10;

/** A finished job's outcome. */
export type Outcome =
  | { kind: "ack"; jobId: string; leaseToken: bigint; resultJson: string }
  | { kind: "fail"; jobId: string; leaseToken: bigint; error: string; backtrace: string };

/** What the worker subscribes with on every frame. */
export interface Subscription {
  queues: string[];
  workerId: string;
  hostname: string;
  leaseSecs: number;
}

/** The contents of a frame in flight, to settle or take back when its answer comes. */
export interface FrameRecord {
  requestId: bigint;
  acks: string[];
  fails: string[];
  heartbeats: { jobId: string; progress: boolean; checkpoint: boolean }[];
  credits: number;
  /** The frame told the server the worker drains. */
  drain: boolean;
}

/** An outcome the server refused for good (stale lease, not found): dropped. */
export interface Dropped {
  outcome: Outcome;
  code: ErrorCode;
  message: string;
}

/** What an answer to one of our frames meant. */
export interface Answer {
  /** The frame answered. */
  record: FrameRecord;
  /** The frame was refused whole (nothing applied); its contents are unsent again. */
  refused?: { code: ErrorCode; message: string; retryAfterMs: number; leaderAddr: string };
  /** Outcomes the server applied. */
  settled: Outcome[];
  /** Outcomes refused for good. */
  dropped: Dropped[];
  /** Jobs whose heartbeat was refused: the worker must stop them. */
  stop: string[];
}

interface Lease {
  leaseToken: bigint;
  progressJson: string;
  checkpointJson: string;
  progressDirty: boolean;
  checkpointDirty: boolean;
  due: boolean;
  /** The frame carrying this job's last progress or checkpoint, until it is answered (0n: none). */
  reportInFlight: bigint;
  /**
   * The outcome of a job that finished with a report not yet confirmed: it waits, because the
   * server applies a frame's acks and fails before its heartbeats (and the checkpoint must be
   * stored before a fail hands it to the next attempt).
   */
  final: Outcome | undefined;
}

/** Codes after which an item may succeed if sent again (never OUTCOME_UNKNOWN: it may have applied). */
const TRANSIENT = new Set([ErrorCode.OVERLOADED, ErrorCode.UNAVAILABLE, ErrorCode.NOT_LEADER, ErrorCode.INTERNAL]);

export class Ledger {
  /** Leases held (running or waiting to run), heartbeated until settled or revoked. */
  private readonly leases = new Map<string, Lease>();
  /** Outcomes not yet confirmed; `sentIn` 0n means not sent on the current stream. */
  private readonly outcomes = new Map<string, { outcome: Outcome; sentIn: bigint }>();
  private readonly inflight = new Map<bigint, FrameRecord>();
  private nextRequestId = 1n;
  /** Credits the server holds for this stream by our count (granted, not yet used). */
  private serverCredits = 0;
  /** Leases holding a final outcome. */
  private finals = 0;
  /** The current stream carried a frame with `drain` (the server pushes nothing more on it). */
  private drainTold = false;

  constructor(private readonly concurrency: number) {}

  // ---- jobs ----

  /** A job arrived: it used one of the server's credits; heartbeat it from now on. */
  hold(jobId: string, leaseToken: bigint): void {
    this.serverCredits = Math.max(0, this.serverCredits - 1);
    this.leases.set(jobId, {
      leaseToken,
      progressJson: "",
      checkpointJson: "",
      progressDirty: false,
      checkpointDirty: false,
      due: false,
      reportInFlight: 0n,
      final: undefined,
    });
  }

  /** The server said stop: no more heartbeats, and no outcome (it is not wanted). */
  forget(jobId: string): void {
    const l = this.leases.get(jobId);
    if (l?.final !== undefined) this.finals--;
    this.leases.delete(jobId);
  }

  isHeld(jobId: string): boolean {
    return this.leases.has(jobId);
  }

  /**
   * A job finished: its outcome is owed until the server confirms it. It goes out after the
   * job's last progress and checkpoint are confirmed.
   */
  finish(outcome: Outcome): void {
    const l = this.leases.get(outcome.jobId);
    if (l && (l.progressDirty || l.checkpointDirty || l.reportInFlight !== 0n)) {
      if (l.final === undefined) this.finals++;
      l.final = clampOutcome(outcome);
      l.due = false;
      return;
    }
    this.leases.delete(outcome.jobId);
    this.outcomes.set(outcome.jobId, { outcome: clampOutcome(outcome), sentIn: 0n });
  }

  /** Progress or checkpoint (JSON text) to send with the job's next heartbeat. */
  report(jobId: string, progressJson: string | undefined, checkpointJson: string | undefined): boolean {
    const l = this.leases.get(jobId);
    if (!l) return false;
    if (progressJson !== undefined) {
      l.progressJson = progressJson;
      l.progressDirty = true;
    }
    if (checkpointJson !== undefined) {
      l.checkpointJson = checkpointJson;
      l.checkpointDirty = true;
    }
    return true;
  }

  /** Every held lease gets a heartbeat in the next frame. */
  heartbeatAll(): void {
    for (const l of this.leases.values()) if (l.final === undefined) l.due = true;
  }

  // ---- frames ----

  /** Outcomes not yet confirmed (those waiting for their job's last report included). */
  get pendingOutcomes(): number {
    return this.outcomes.size + this.finals;
  }

  /** Leases held by jobs still running or waiting to run. */
  get heldLeases(): number {
    return this.leases.size - this.finals;
  }

  get framesInFlight(): number {
    return this.inflight.size;
  }

  get creditsHeldByServer(): number {
    return this.serverCredits;
  }

  /** Credits to grant so that jobs running, waiting and coming add up to the concurrency. */
  creditsWanted(occupied: number, draining: boolean): number {
    if (draining) return 0;
    return Math.max(0, this.concurrency - occupied - this.serverCredits);
  }

  /** Whether a frame would carry anything besides the subscription (or the drain, untold). */
  hasWork(occupied: number, draining: boolean): boolean {
    if (draining && !this.drainTold) return true;
    if (this.creditsWanted(occupied, draining) > 0) return true;
    for (const o of this.outcomes.values()) if (o.sentIn === 0n) return true;
    for (const l of this.leases.values()) if (l.due || l.progressDirty || l.checkpointDirty) return true;
    return false;
  }

  /**
   * The next frame: unsent outcomes, due heartbeats and the credits wanted, within the frame
   * limits. Undefined when there is nothing to send and `force` is false. While draining every
   * frame carries `drain` (and grants nothing); a stream not told yet gets one even if empty.
   */
  nextFrame(
    sub: Subscription,
    occupied: number,
    draining: boolean,
    force = false,
  ): { frame: StreamLifecycleRequest; record: FrameRecord } | undefined {
    if (!force && !this.hasWork(occupied, draining)) return undefined;
    const requestId = this.nextRequestId++;
    const frame = create(StreamLifecycleRequestSchema, {
      requestId,
      queues: sub.queues,
      workerId: sub.workerId,
      hostname: sub.hostname,
      leaseDuration: sub.leaseSecs,
    });
    const record: FrameRecord = { requestId, acks: [], fails: [], heartbeats: [], credits: 0, drain: draining };
    let items = 0;
    let bytes = 0;
    const fits = (size: number) => items === 0 || (items < FRAME_ITEMS_MAX && bytes + size <= FRAME_BYTES_MAX);
    for (const entry of this.outcomes.values()) {
      if (entry.sentIn !== 0n) continue;
      const o = entry.outcome;
      const size = o.kind === "ack" ? o.resultJson.length : o.error.length + o.backtrace.length;
      if (!fits(size)) break;
      items++;
      bytes += size;
      entry.sentIn = requestId;
      if (o.kind === "ack") {
        frame.acks.push({ $typeName: "corvo.v1.AckBatchItem", jobId: o.jobId, resultJson: o.resultJson, leaseToken: o.leaseToken });
        record.acks.push(o.jobId);
      } else {
        frame.fails.push({
          $typeName: "corvo.v1.LifecycleFailItem",
          jobId: o.jobId,
          error: o.error,
          backtrace: o.backtrace,
          leaseToken: o.leaseToken,
        });
        record.fails.push(o.jobId);
      }
    }
    for (const [jobId, l] of this.leases) {
      if (!(l.due || l.progressDirty || l.checkpointDirty)) continue;
      const progress = l.progressDirty ? l.progressJson : "";
      const checkpoint = l.checkpointDirty ? l.checkpointJson : "";
      if (!fits(progress.length + checkpoint.length)) break;
      items++;
      bytes += progress.length + checkpoint.length;
      frame.heartbeats.push({
        $typeName: "corvo.v1.LifecycleHeartbeatItem",
        jobId,
        progressJson: progress,
        checkpointJson: checkpoint,
        leaseToken: l.leaseToken,
      });
      record.heartbeats.push({ jobId, progress: l.progressDirty, checkpoint: l.checkpointDirty });
      if (l.progressDirty || l.checkpointDirty) l.reportInFlight = requestId;
      l.due = l.progressDirty = l.checkpointDirty = false;
    }
    record.credits = this.creditsWanted(occupied, draining);
    frame.credits = record.credits;
    frame.drain = draining;
    if (draining) this.drainTold = true;
    this.serverCredits += record.credits;
    this.inflight.set(requestId, record);
    return { frame, record };
  }

  /** Settles a frame by its answer (responses with request_id 0 are not answers). */
  answer(resp: StreamLifecycleResponse): Answer | undefined {
    const record = this.inflight.get(resp.requestId);
    if (!record) return undefined;
    this.inflight.delete(resp.requestId);
    const out: Answer = { record, settled: [], dropped: [], stop: [] };
    const itemResults = resp.ackResults.length + resp.failResults.length + resp.heartbeatResults.length;
    if (resp.errorCode !== ErrorCode.UNSPECIFIED && itemResults === 0) {
      this.takeBack(record, true);
      out.refused = {
        code: resp.errorCode,
        message: resp.error,
        retryAfterMs: Number(resp.retryAfterMs),
        leaderAddr: resp.leaderAddr,
      };
      return out;
    }
    this.settleItems(record.acks, resp.ackResults, record.requestId, out);
    this.settleItems(record.fails, resp.failResults, record.requestId, out);
    if (resp.heartbeatResults.length === 0) {
      // The frame's heartbeats were not applied (the frame reported their error): again.
      this.takeBackHeartbeats(record);
    }
    record.heartbeats.forEach((h, i) => {
      const r = resp.heartbeatResults[i];
      if (r !== undefined && r.code !== ErrorCode.UNSPECIFIED) out.stop.push(h.jobId);
    });
    this.releaseFinals(record);
    return out;
  }

  /**
   * A frame refused with INVALID_ARGUMENT naming one item (`acks[2].result_json`): make that
   * item acceptable (a result the server refuses becomes a fail saying why; a progress report
   * it refuses is dropped). False when the message names no item of the frame.
   */
  repairItem(record: FrameRecord, message: string): { jobId: string; what: string } | undefined {
    const m = /\b(acks|fails|heartbeats)\[(\d+)\]/.exec(message);
    if (!m) return undefined;
    const index = Number(m[2]);
    if (m[1] === "heartbeats") {
      const h = record.heartbeats[index];
      const l = h && this.leases.get(h.jobId);
      if (!h) return undefined;
      if (l) l.progressDirty = l.checkpointDirty = false;
      this.releaseFinal(h.jobId);
      return { jobId: h.jobId, what: "progress/checkpoint dropped" };
    }
    const jobId = (m[1] === "acks" ? record.acks : record.fails)[index];
    const entry = jobId === undefined ? undefined : this.outcomes.get(jobId);
    if (!entry) return undefined;
    const o = entry.outcome;
    const reason = m[1] === "acks" ? "the server refused the job's result" : "the server refused the failure report";
    entry.outcome = clampOutcome({ kind: "fail", jobId: o.jobId, leaseToken: o.leaseToken, error: `${reason}: ${message}`, backtrace: "" });
    return { jobId: o.jobId, what: m[1] === "acks" ? "result replaced by a failure" : "failure text replaced" };
  }

  /** The stream broke: nothing in flight will be answered; a new stream starts without credits. */
  streamLost(): void {
    for (const record of this.inflight.values()) this.takeBack(record, false);
    this.inflight.clear();
    this.serverCredits = 0;
    this.drainTold = false;
  }

  /** Outcomes still owed (for the log when a worker gives up on delivering them). */
  owed(): Outcome[] {
    const waiting = [...this.leases.values()].flatMap((l) => (l.final ? [l.final] : []));
    return [...this.outcomes.values()].map((e) => e.outcome).concat(waiting);
  }

  private settleItems(ids: string[], results: ItemResult[], requestId: bigint, out: Answer): void {
    ids.forEach((jobId, i) => {
      const entry = this.outcomes.get(jobId);
      if (!entry || entry.sentIn !== requestId) return;
      const r = results[i];
      if (r === undefined || TRANSIENT.has(r.code)) {
        entry.sentIn = 0n;
        return;
      }
      this.outcomes.delete(jobId);
      if (r.code === ErrorCode.UNSPECIFIED) out.settled.push(entry.outcome);
      else out.dropped.push({ outcome: entry.outcome, code: r.code, message: r.message });
    });
  }

  private takeBack(record: FrameRecord, answered: boolean): void {
    for (const jobId of [...record.acks, ...record.fails]) {
      const entry = this.outcomes.get(jobId);
      if (entry && entry.sentIn === record.requestId) entry.sentIn = 0n;
    }
    this.takeBackHeartbeats(record);
    // A refused frame granted nothing (nor told the drain); a lost stream's credits are gone
    // with it.
    if (answered) this.serverCredits = Math.max(0, this.serverCredits - record.credits);
    if (answered && record.drain) this.drainTold = false;
    this.inflight.delete(record.requestId);
  }

  private takeBackHeartbeats(record: FrameRecord): void {
    for (const h of record.heartbeats) {
      const l = this.leases.get(h.jobId);
      if (!l) continue;
      if (l.final === undefined) l.due = true;
      l.progressDirty ||= h.progress;
      l.checkpointDirty ||= h.checkpoint;
      if (l.reportInFlight === record.requestId) l.reportInFlight = 0n;
    }
  }

  /** Outcomes whose job's last report is now confirmed become sendable. */
  private releaseFinals(record: FrameRecord): void {
    for (const h of record.heartbeats) {
      const l = this.leases.get(h.jobId);
      if (l && l.reportInFlight === record.requestId) l.reportInFlight = 0n;
      this.releaseFinal(h.jobId);
    }
  }

  private releaseFinal(jobId: string): void {
    const l = this.leases.get(jobId);
    if (!l || l.final === undefined || l.progressDirty || l.checkpointDirty || l.reportInFlight !== 0n) return;
    this.finals--;
    this.leases.delete(jobId);
    this.outcomes.set(jobId, { outcome: l.final, sentIn: 0n });
  }
}

/** Keeps fail texts within what the server takes. */
function clampOutcome(o: Outcome): Outcome {
  if (o.kind === "ack") return o;
  return { ...o, error: clampText(o.error), backtrace: clampText(o.backtrace) };
}

/** `text` cut to FAIL_TEXT_BYTES_MAX bytes of UTF-8 (at a character boundary). */
export function clampText(text: string, maxBytes = FAIL_TEXT_BYTES_MAX): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = " …[truncated]";
  let cut = Buffer.from(text).subarray(0, maxBytes - Buffer.byteLength(marker)).toString("utf8");
  if (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return cut + marker;
}
