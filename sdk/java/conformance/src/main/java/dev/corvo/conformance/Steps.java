package dev.corvo.conformance;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The handler's step language (sdk/conformance/README.md): a payload without {@code steps}
 * returns {@code {"attempt": N, "checkpoint": C}}; with steps, they run in order (a step with
 * {@code "attempt": N} only on attempt N) until a terminal one, else that same result.
 */
final class Steps {
  /** What the steps need of a job (the SDK's JobContext, or a fake in tests). */
  interface Job {
    String id();

    int attempt();

    /** The checkpoint received, JSON null when none. */
    JsonElement checkpoint();

    void progress(JsonElement progress);

    void checkpoint(JsonElement checkpoint);

    CompletableFuture<Void> cancelled();

    /** The SDK's explicit fail (not an exception); returns what the handler returns. */
    Object fail(String message);
  }

  /** Where the {@code cancelled} event goes. */
  interface Events {
    void cancelled(String jobId);
  }

  private Steps() {}

  /** Runs the payload's steps; returns the handler's result, or throws for a "throw" step. */
  static Object run(JsonElement payload, Job job, Events events) throws InterruptedException {
    JsonArray steps = null;
    if (payload != null && payload.isJsonObject() && payload.getAsJsonObject().has("steps")) {
      steps = payload.getAsJsonObject().getAsJsonArray("steps");
    }
    if (steps != null) {
      for (JsonElement s : steps) {
        JsonObject step = s.getAsJsonObject();
        if (step.has("attempt") && step.get("attempt").getAsInt() != job.attempt()) {
          continue;
        }
        String op = step.get("op").getAsString();
        switch (op) {
          case "sleep" -> Thread.sleep(step.get("ms").getAsLong());
          case "progress" -> {
            if (present(step, "progress")) {
              job.progress(step.get("progress"));
            }
            if (present(step, "checkpoint")) {
              job.checkpoint(step.get("checkpoint"));
            }
          }
          case "wait_cancel" -> {
            long timeoutMs = step.has("timeout_ms") ? step.get("timeout_ms").getAsLong() : 0;
            try {
              job.cancelled().get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
              return job.fail("not cancelled");
            } catch (ExecutionException e) {
              // The signal never fails; treat it as fired.
            }
            events.cancelled(job.id());
            return job.fail("cancelled");
          }
          case "complete" -> {
            return step.has("result") ? step.get("result") : JsonNull.INSTANCE;
          }
          case "fail" -> {
            return job.fail(step.get("error").getAsString());
          }
          case "throw" -> throw new HandlerException(step.get("error").getAsString());
          default -> throw new IllegalArgumentException("unknown step op: " + op);
        }
      }
    }
    JsonObject result = new JsonObject();
    result.addProperty("attempt", job.attempt());
    result.add("checkpoint", job.checkpoint());
    return result;
  }

  private static boolean present(JsonObject step, String field) {
    return step.has(field) && !step.get(field).isJsonNull();
  }

  /** What a "throw" step raises: an ordinary exception with the step's message. */
  static final class HandlerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HandlerException(String message) {
      super(message);
    }
  }
}
