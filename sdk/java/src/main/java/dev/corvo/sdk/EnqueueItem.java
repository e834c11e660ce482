package dev.corvo.sdk;

import java.util.Objects;

/**
 * One job of {@link CorvoClient#enqueueBatch}: its queue, payload (a {@code String} is JSON
 * text; anything else is serialized) and options.
 */
public record EnqueueItem(String queue, Object payload, JobOptions options) {
  public EnqueueItem {
    Objects.requireNonNull(queue, "queue");
    options = options == null ? JobOptions.DEFAULTS : options;
  }

  public static EnqueueItem of(String queue, Object payload) {
    return new EnqueueItem(queue, payload, JobOptions.DEFAULTS);
  }
}
