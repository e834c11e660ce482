// A flaky handler: the job fails twice, is retried after 1 s then 2 s (exponential backoff),
// and completes on its third attempt. A job that uses all of its attempts goes dead with its
// last error and stack trace.
import dev.corvo.sdk.CorvoClient;
import dev.corvo.sdk.EnqueueResult;
import dev.corvo.sdk.JobOptions;
import dev.corvo.sdk.Worker;
import dev.corvo.v1.BackoffKind;
import dev.corvo.v1.Job;
import dev.corvo.v1.JobState;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

class RetryWithBackoff {
  public static void main(String[] args) throws Exception {
    String server = "http://127.0.0.1:8080";

    try (CorvoClient client = CorvoClient.builder().servers(server).build()) {
      EnqueueResult res = client.enqueue("payments", Map.of("invoice", 42), JobOptions.builder()
          .maxAttempts(5)
          .backoff(BackoffKind.BACKOFF_KIND_EXPONENTIAL, Duration.ofSeconds(1), Duration.ofMinutes(1))
          .uniqueKey("invoice-42") // enqueue it again: status "duplicate", same job id
          .build());

      Worker worker = Worker.builder().servers(server).build();
      worker.handle("payments", job -> switch (job.attempt()) {
        case 1 -> throw new IOException("gateway timeout"); // fails the attempt, with the stack trace
        case 2 -> job.fail("gateway answered 502"); // the same, with just the message
        default -> {
          if (job.attempt() == job.maxAttempts()) {
            System.out.println("last attempt for " + job.id());
          }
          yield Map.of("charged", true);
        }
      });

      Thread watch = new Thread(() -> {
        while (true) {
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
          Job info = client.getJob(res.id());
          System.out.printf("%s: %s, attempt %d, last error \"%s\"%n",
              info.getId(), info.getState(), info.getAttempt(), info.getLastError());
          if (info.getState() == JobState.JOB_STATE_COMPLETED || info.getState() == JobState.JOB_STATE_DEAD) {
            worker.stop(); // drain and let run() return
            return;
          }
        }
      });
      watch.start();
      worker.run();
    }
  }
}
