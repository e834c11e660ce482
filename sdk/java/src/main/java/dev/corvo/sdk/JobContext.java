package dev.corvo.sdk;

import com.google.gson.reflect.TypeToken;
import dev.corvo.v1.FetchBatchJob;
import dev.corvo.v1.Priority;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One job handed to a {@link JobHandler}: what it is, and the handler's ways to report
 * progress, keep a checkpoint, learn that it must stop, and fail.
 *
 * <p>{@link #progress} and {@link #checkpoint(Object)} take a JSON object (a {@code Map}, a
 * record, or JSON text of an object); they go out with the next heartbeat (within a second)
 * and are visible through {@code GetJob}; a checkpoint is handed to the next attempt if this
 * one fails. Safe to use from any thread.
 */
public final class JobContext {
  private static final Object FAILED = new Object();
  private static final TypeToken<Map<String, String>> TAGS = new TypeToken<>() {};

  /** Progress and checkpoint set since the last heartbeat (null when unchanged). */
  record Updates(String progressJson, String checkpointJson) {}

  private final FetchBatchJob job;
  private final Runnable onUpdate;
  private final CompletableFuture<Void> cancelled = new CompletableFuture<>();
  private String progressJson;
  private String checkpointJson;
  private volatile String failure;

  JobContext(FetchBatchJob job, Runnable onUpdate) {
    this.job = job;
    this.onUpdate = onUpdate;
  }

  public String id() {
    return job.getJobId();
  }

  public String queue() {
    return job.getQueue();
  }

  /** This attempt, starting at 1. */
  public int attempt() {
    return job.getAttempt();
  }

  /** Attempts in total. */
  public int maxAttempts() {
    return job.getMaxRetries();
  }

  public Priority priority() {
    return job.getPriority();
  }

  public Map<String, String> tags() {
    Map<String, String> tags = job.getTagsJson().isBlank() ? null : Json.GSON.fromJson(job.getTagsJson(), TAGS);
    return tags == null ? Map.of() : Map.copyOf(tags);
  }

  /** The payload parsed: a {@code Map}, {@code List}, {@code String}, number, boolean or null. */
  public Object payload() {
    return Json.decode(job.getPayloadJson());
  }

  /** The payload read into {@code type} (a record, a class with fields, a {@code Map}...). */
  public <T> T payloadAs(Class<T> type) {
    return Json.decode(job.getPayloadJson(), type);
  }

  /** The payload as JSON text. */
  public String payloadJson() {
    return job.getPayloadJson();
  }

  /** The checkpoint the previous attempt left, parsed; null when there is none. */
  public Object checkpoint() {
    return Json.decode(job.getCheckpointJson());
  }

  /** The previous attempt's checkpoint read into {@code type}; null when there is none. */
  public <T> T checkpointAs(Class<T> type) {
    return Json.decode(job.getCheckpointJson(), type);
  }

  /** The previous attempt's checkpoint as JSON text; null when there is none. */
  public String checkpointJson() {
    return job.getCheckpointJson().isBlank() ? null : job.getCheckpointJson();
  }

  /** The producer's W3C traceparent, empty when the job was not traced. */
  public String traceParent() {
    return job.getTraceParent();
  }

  /** Reports progress (a JSON object), stored with the next heartbeat. */
  public void progress(Object value) {
    update(Json.encodeObject(value, "progress"), null);
  }

  /** Saves a checkpoint (a JSON object) that the next attempt receives if this one fails. */
  public void checkpoint(Object value) {
    update(null, Json.encodeObject(value, "checkpoint"));
  }

  /**
   * Whether the server said to stop this job: it was cancelled, its lease was lost and it
   * went to another worker, or the worker is shutting down past its drain timeout.
   */
  public boolean isCancelled() {
    return cancelled.isDone();
  }

  /** Completes when the job must stop (see {@link #isCancelled}); wait on it or chain on it. */
  public CompletableFuture<Void> cancelled() {
    return cancelled.copy();
  }

  /**
   * Fails the job with {@code message} (no stack trace): {@code return job.fail("bad input");}.
   * The value returned only marks the failure; the job fails whatever the handler returns.
   */
  public Object fail(String message) {
    failure = message == null || message.isEmpty() ? "failed" : message;
    return FAILED;
  }

  String failure() {
    return failure;
  }

  void cancel() {
    cancelled.complete(null);
  }

  /** Takes what was set since the last call; null when nothing was. */
  synchronized Updates takeUpdates() {
    if (progressJson == null && checkpointJson == null) {
      return null;
    }
    Updates u = new Updates(progressJson, checkpointJson);
    progressJson = null;
    checkpointJson = null;
    return u;
  }

  private void update(String progress, String checkpoint) {
    boolean wasClean;
    synchronized (this) {
      wasClean = progressJson == null && checkpointJson == null;
      if (progress != null) {
        progressJson = progress;
      }
      if (checkpoint != null) {
        checkpointJson = checkpoint;
      }
    }
    if (wasClean) {
      onUpdate.run();
    }
  }
}
