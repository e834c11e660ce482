package dev.corvo.sdk;

/**
 * What an enqueue answered: the job's id and {@code pending}, {@code scheduled}, or {@code
 * duplicate} when an existing job holds the unique key (then {@code id} is that job's).
 */
public record EnqueueResult(String id, String status) {
  public boolean duplicate() {
    return "duplicate".equals(status);
  }
}
