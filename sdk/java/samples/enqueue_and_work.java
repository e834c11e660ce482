// Enqueue two jobs, then work the queue with four jobs at once until SIGTERM or Ctrl-C.
import dev.corvo.sdk.CorvoClient;
import dev.corvo.sdk.EnqueueResult;
import dev.corvo.sdk.JobOptions;
import dev.corvo.sdk.Worker;
import dev.corvo.v1.Priority;
import java.util.List;
import java.util.Map;

class EnqueueAndWork {
  record Email(String to, String subject) {}

  public static void main(String[] args) {
    String server = "http://127.0.0.1:8080"; // API key: CORVO_API_KEY

    try (CorvoClient client = CorvoClient.builder().servers(server).build()) {
      for (String to : List.of("ada@example.com", "alan@example.com")) {
        EnqueueResult res = client.enqueue("emails", new Email(to, "Welcome"),
            JobOptions.builder().priority(Priority.PRIORITY_HIGH).tag("kind", "welcome").build());
        System.out.printf("enqueued %s (%s)%n", res.id(), res.status());
      }
    }

    Worker worker = Worker.builder().servers(server).concurrency(4).build();
    worker.handle("emails", job -> {
      Email email = job.payloadAs(Email.class); // a bad payload throws: the attempt fails
      System.out.printf("sending \"%s\" to %s (attempt %d of %d)%n",
          email.subject(), email.to(), job.attempt(), job.maxAttempts());
      return Map.of("message_id", "msg-" + job.id()); // the job's result
    });
    worker.run(); // until SIGTERM/SIGINT, then a graceful drain
  }
}
