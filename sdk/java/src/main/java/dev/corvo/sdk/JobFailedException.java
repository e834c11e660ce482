package dev.corvo.sdk;

/**
 * Thrown by a handler to fail its job with a message and no stack trace (an expected failure:
 * bad input, a remote service said no). The job is retried by its backoff or goes dead.
 */
public class JobFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public JobFailedException(String message) {
    super(message, null, false, false);
  }
}
