package dev.corvo.sdk;

/**
 * Works one job. Returning completes the job with the returned value as its result (JSON; a
 * {@code String} is JSON text, {@code null} means no result). Throwing fails it with the
 * exception's message and stack trace, and it is retried by its backoff or goes dead; {@code
 * return job.fail("...")} or {@code throw new JobFailedException("...")} fails it with just a
 * message.
 */
@FunctionalInterface
public interface JobHandler {
  Object handle(JobContext job) throws Exception;
}
