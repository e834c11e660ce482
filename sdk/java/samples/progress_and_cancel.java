// A long job: it reports progress and a checkpoint after every item (the next attempt resumes
// from it) and stops when the server says so. Here an operator's CancelJob stops it after 3 s.
import dev.corvo.sdk.CorvoClient;
import dev.corvo.sdk.EnqueueResult;
import dev.corvo.sdk.JobOptions;
import dev.corvo.sdk.Worker;
import dev.corvo.v1.Job;
import java.time.Duration;
import java.util.Map;

class ProgressAndCancel {
  record Report(int items) {}

  record Checkpoint(int next) {}

  public static void main(String[] args) throws Exception {
    String server = "http://127.0.0.1:8080";

    try (CorvoClient client = CorvoClient.builder().servers(server).build()) {
      EnqueueResult res = client.enqueue("reports", new Report(100), JobOptions.DEFAULTS);

      Worker worker = Worker.builder().servers(server).lease(Duration.ofSeconds(30)).build();
      worker.handle("reports", job -> {
        int items = job.payloadAs(Report.class).items();
        Checkpoint cp = job.checkpointAs(Checkpoint.class); // null, or where the last attempt stopped
        for (int i = cp == null ? 0 : cp.next(); i < items; i++) {
          if (job.isCancelled()) { // cancelled, lease lost, or the drain timed out
            System.out.printf("%s stopped by the server at item %d%n", job.id(), i);
            return job.fail("stopped at item " + i); // (or wait on job.cancelled(), a future)
          }
          Thread.sleep(100); // one item of work
          // Sent with the next heartbeat (within a second); visible through GetJob.
          job.progress(Map.of("done", i + 1, "total", items));
          job.checkpoint(new Checkpoint(i + 1));
        }
        return Map.of("items", items);
      });

      Thread operator = new Thread(() -> {
        try {
          Thread.sleep(3000);
          Job info = client.getJob(res.id());
          System.out.printf("progress %s, checkpoint %s%n", info.getProgressJson(), info.getCheckpointJson());
          client.cancelJob(res.id());
          Thread.sleep(500);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          worker.stop();
        }
      });
      operator.start();
      worker.run();
    }
  }
}
