// Run until SIGTERM or SIGINT (or stop()): then no new jobs are taken, running ones get up to
// the drain timeout to finish, those still running are failed back with "worker shutting
// down" (retried at once elsewhere), and run() returns. A second signal stops at once.
import static java.lang.System.Logger.Level.ERROR;
import static java.lang.System.Logger.Level.INFO;

import dev.corvo.sdk.CorvoException;
import dev.corvo.sdk.Worker;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

class GracefulShutdown {
  private static final System.Logger LOG = System.getLogger("videos");

  public static void main(String[] args) {
    // The SDK logs connection changes and refused outcomes (never the API key) through
    // System.Logger "dev.corvo.sdk.Worker": java.util.logging unless another backend is set.
    Worker worker = Worker.builder()
        .servers("http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080")
        .concurrency(16)
        .drainTimeout(Duration.ofSeconds(20)) // keep it below the orchestrator's kill grace period
        .build();
    worker.handle("videos", job -> {
      try {
        job.cancelled().get(5, TimeUnit.SECONDS); // the drain timed out or the job was stopped
        return job.fail("stopped before the transcode finished");
      } catch (TimeoutException transcoded) { // 5 s of transcoding
        return Map.of("status", "transcoded");
      }
    });
    LOG.log(INFO, "working as {0}", worker.workerId());
    try {
      worker.run(); // returns after the drain
    } catch (CorvoException e) { // refused for good: a bad key, a queue outside its scopes
      LOG.log(ERROR, "refused by the server: {0} ({1}): {2}", e.statusCode(), e.errorCode(), e.getMessage());
      System.exit(1);
    }
    LOG.log(INFO, "drained; exiting");
  }
}
