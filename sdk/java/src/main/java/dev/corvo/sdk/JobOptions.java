package dev.corvo.sdk;

import com.google.protobuf.Timestamp;
import dev.corvo.v1.BackoffKind;
import dev.corvo.v1.BackoffPolicy;
import dev.corvo.v1.Priority;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of a new job; every one is optional and the server's default applies when unset
 * (priority normal, 3 attempts, exponential backoff from 5 s to 10 min, no unique key). Without
 * an {@link Builder#idempotencyKey idempotency key} the client sends a fresh random one per call.
 *
 * <pre>{@code
 * JobOptions.builder()
 *     .priority(Priority.PRIORITY_HIGH)
 *     .maxAttempts(5)
 *     .backoff(BackoffKind.BACKOFF_KIND_EXPONENTIAL, Duration.ofSeconds(1), Duration.ofMinutes(5))
 *     .delay(Duration.ofSeconds(30))          // or .scheduledAt(instant)
 *     .uniqueKey("welcome-" + userId)          // a second enqueue answers "duplicate"
 *     .idempotencyKey("invoice-42")           // a retry answers the first job: replayed()
 *     .tag("tenant", "acme")
 *     .build();
 * }</pre>
 */
public final class JobOptions {
  /** No options: the server's defaults. */
  public static final JobOptions DEFAULTS = builder().build();
  /** The longest idempotency key the server takes, in bytes. */
  static final int IDEMPOTENCY_KEY_BYTES_MAX = 255;

  private final Priority priority;
  private final int maxAttempts;
  private final BackoffKind backoffKind;
  private final Duration backoffBase;
  private final Duration backoffCap;
  private final Instant scheduledAt;
  private final Duration delay;
  private final Duration expireAfter;
  private final String uniqueKey;
  private final Duration uniquePeriod;
  private final String idempotencyKey;
  private final Map<String, String> tags;

  private JobOptions(Builder b) {
    priority = b.priority;
    maxAttempts = b.maxAttempts;
    backoffKind = b.backoffKind;
    backoffBase = b.backoffBase;
    backoffCap = b.backoffCap;
    scheduledAt = b.scheduledAt;
    delay = b.delay;
    expireAfter = b.expireAfter;
    uniqueKey = b.uniqueKey;
    uniquePeriod = b.uniquePeriod;
    idempotencyKey = b.idempotencyKey;
    tags = Map.copyOf(b.tags);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The wire form; a delay counts from {@code now}. The idempotency key is left empty when none
   * was set: {@link CorvoClient} fills in a fresh one per call.
   */
  dev.corvo.v1.EnqueueOptions toProto(Instant now) {
    dev.corvo.v1.EnqueueOptions.Builder o = dev.corvo.v1.EnqueueOptions.newBuilder();
    if (priority != null) {
      o.setPriority(priority);
    }
    o.setMaxAttempts(maxAttempts);
    if (backoffKind != null) {
      BackoffPolicy.Builder p = BackoffPolicy.newBuilder().setKind(backoffKind);
      if (backoffBase != null) {
        p.setBaseMs(backoffBase.toMillis());
      }
      if (backoffCap != null) {
        p.setCapMs(backoffCap.toMillis());
      }
      o.setBackoff(p);
    }
    Instant at = scheduledAt != null ? scheduledAt : delay != null ? now.plus(delay) : null;
    if (at != null) {
      o.setScheduledAt(Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()));
    }
    if (expireAfter != null) {
      o.setExpireAfterMs(expireAfter.toMillis());
    }
    if (uniqueKey != null) {
      o.setUniqueKey(uniqueKey);
    }
    if (uniquePeriod != null) {
      o.setUniquePeriodMs(uniquePeriod.toMillis());
    }
    if (idempotencyKey != null) {
      o.setIdempotencyKey(idempotencyKey);
    }
    o.putAllTags(tags);
    return o.build();
  }

  public static final class Builder {
    private Priority priority;
    private int maxAttempts;
    private BackoffKind backoffKind;
    private Duration backoffBase;
    private Duration backoffCap;
    private Instant scheduledAt;
    private Duration delay;
    private Duration expireAfter;
    private String uniqueKey;
    private Duration uniquePeriod;
    private String idempotencyKey;
    private final Map<String, String> tags = new LinkedHashMap<>();

    private Builder() {}

    /** Critical, high, normal (the default) or low; FIFO within one priority. */
    public Builder priority(Priority priority) {
      this.priority = Objects.requireNonNull(priority);
      return this;
    }

    /** Attempts in total, the first included (default 3, at most 1000). */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * How the wait before a retry grows: none, fixed ({@code base}), linear ({@code base}
     * times the attempt) or exponential ({@code base} doubled per attempt, the server adds
     * jitter); never more than {@code cap}. Null durations take the server's defaults.
     */
    public Builder backoff(BackoffKind kind, Duration base, Duration cap) {
      this.backoffKind = Objects.requireNonNull(kind);
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /** Not delivered before this time (instead of {@link #delay}). */
    public Builder scheduledAt(Instant at) {
      this.scheduledAt = Objects.requireNonNull(at);
      return this;
    }

    /** Not delivered before this long after the enqueue (instead of {@link #scheduledAt}). */
    public Builder delay(Duration delay) {
      this.delay = nonNegative(delay, "delay");
      return this;
    }

    /** The job becomes dead ("expired") if it has not started this long after the enqueue. */
    public Builder expireAfter(Duration expireAfter) {
      this.expireAfter = nonNegative(expireAfter, "expireAfter");
      return this;
    }

    /**
     * The unique key: while a job of the queue holds it (for the unique period), an enqueue
     * with the same key answers {@code duplicate} with that job's id.
     */
    public Builder uniqueKey(String key) {
      this.uniqueKey = Objects.requireNonNull(key);
      return this;
    }

    /** How long the unique key is held (server default 1 h). */
    public Builder uniquePeriod(Duration period) {
      this.uniquePeriod = nonNegative(period, "uniquePeriod");
      return this;
    }

    /**
     * The enqueue's identity (1 to 255 bytes of UTF-8), which makes retrying it safe: another
     * enqueue to the same queue with the same key within the server's window (24 h) creates
     * nothing and answers the first one's job ({@link EnqueueResult#replayed()}, status {@code
     * duplicate}); one with another payload is refused ({@code INVALID_ARGUMENT}). When unset,
     * the client sends a fresh random key per call (the same on its own retries of that call);
     * set one to make your own retries, across calls or processes, safe too.
     */
    public Builder idempotencyKey(String key) {
      int bytes = Objects.requireNonNull(key).getBytes(StandardCharsets.UTF_8).length;
      if (bytes < 1 || bytes > IDEMPOTENCY_KEY_BYTES_MAX) {
        throw new IllegalArgumentException(
            "idempotencyKey must be 1 to " + IDEMPOTENCY_KEY_BYTES_MAX + " bytes, got " + bytes);
      }
      this.idempotencyKey = key;
      return this;
    }

    public Builder tag(String key, String value) {
      tags.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    public Builder tags(Map<String, String> tags) {
      tags.forEach(this::tag);
      return this;
    }

    public JobOptions build() {
      if (scheduledAt != null && delay != null) {
        throw new IllegalArgumentException("set scheduledAt or delay, not both");
      }
      return new JobOptions(this);
    }

    private static Duration nonNegative(Duration d, String what) {
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " must not be negative, got " + d);
      }
      return d;
    }
  }
}
