package dev.corvo.sdk;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Reconnect delays: exponential from {@link #FIRST_MS} to {@link #MAX_MS} with full jitter
 * (a uniform wait between 0 and the current ceiling, so many workers that lost the same node
 * do not come back in step), and never shorter than a hint the server gave.
 */
final class Backoff {
  static final long FIRST_MS = 100;
  static final long MAX_MS = 10_000;

  private final DoubleSupplier random;
  private int failures;

  Backoff() {
    this(() -> ThreadLocalRandom.current().nextDouble());
  }

  /** {@code random} yields values in [0, 1). */
  Backoff(DoubleSupplier random) {
    this.random = random;
  }

  /** The ceiling of the next wait: 100 ms doubled per failure in a row, at most 10 s. */
  long ceilingMs() {
    int doublings = Math.min(failures, 20);
    return Math.min(MAX_MS, FIRST_MS << doublings);
  }

  /** The wait before the next attempt; at least {@code hintMs} (0: no hint). */
  long nextMs(long hintMs) {
    long ceiling = ceilingMs();
    failures++;
    long jittered = (long) (random.getAsDouble() * (ceiling + 1));
    return Math.max(Math.min(jittered, ceiling), hintMs);
  }

  /** A connection succeeded: the next failure starts from the first ceiling again. */
  void reset() {
    failures = 0;
  }
}
