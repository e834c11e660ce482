// Waiting between attempts: the reconnect backoff (exponential, full jitter) and the frame
// pacer that keeps a worker under a rate limit the server told it about.

/** Reconnect backoff: the first wait and the longest (SPEC: 100 ms to 10 s). */
export const RECONNECT_FIRST_MS = 100;
export const RECONNECT_MAX_MS = 10_000;

/**
 * Exponential backoff with full jitter: the n-th wait is uniform in [0, min(max, first·2^n)).
 * `random` is injectable for tests.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = RECONNECT_FIRST_MS,
    private readonly maxMs = RECONNECT_MAX_MS,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next wait, ms; at least `floorMs` (a server's retry hint). */
  next(floorMs = 0): number {
    const ceiling = Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(Math.floor(this.random() * ceiling), floorMs);
  }

  /** After a success: the next wait starts from the first again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** The longest gap the pacer keeps between frames, ms. */
export const PACE_MAX_MS = 10_000;
/** Each accepted frame shrinks the gap by this factor. */
const PACE_DECAY = 0.95;
/** Below this gap, ms, frames go out unpaced. */
const PACE_MIN_MS = 5;

/**
 * Spaces frames out after the server refused one for load: the gap grows to at least the
 * server's `retry_after_ms` (doubling on repeated refusals) and shrinks by 5% per accepted
 * frame, so a worker under a rate limit settles just below it instead of hammering it.
 */
export class Pacer {
  private gap = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;

  /** When the next frame may go out (ms, same clock as `sent`). */
  nextAt(): number {
    return this.gap === 0 ? Number.NEGATIVE_INFINITY : this.lastSentAt + this.gap;
  }

  sent(now: number): void {
    this.lastSentAt = now;
  }

  accepted(): void {
    this.gap *= PACE_DECAY;
    if (this.gap < PACE_MIN_MS) this.gap = 0;
  }

  refused(retryAfterMs: number): void {
    this.gap = Math.min(PACE_MAX_MS, Math.max(this.gap * 2, retryAfterMs, PACE_MIN_MS));
  }

  get gapMs(): number {
    return this.gap;
  }
}
