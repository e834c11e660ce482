package dev.corvo.sdk;

/**
 * What an enqueue answered: the job's id and {@code pending}, {@code scheduled}, or {@code
 * duplicate} when an existing job holds the unique key or the idempotency key matched an
 * earlier enqueue (then {@code id} is that job's), and whether it was such a {@link #replayed()
 * replay}.
 */
public record EnqueueResult(String id, String status, boolean replayed) {
  public EnqueueResult(String id, String status) {
    this(id, status, false);
  }

  public boolean duplicate() {
    return "duplicate".equals(status);
  }

  /**
   * The idempotency key matched an earlier enqueue to the queue (within the server's window):
   * nothing was created, {@link #id()} is that enqueue's job and {@link #status()} is {@code
   * duplicate}. With the client's own fresh key this means one of its retries found the first
   * attempt applied.
   */
  @Override
  public boolean replayed() {
    return replayed;
  }
}
