// A minimal worker: works N jobs of a queue through the Java SDK, acknowledges each (its
// result says which job it was), and exits 0 once their outcomes are delivered.
//
//   java -cp CLASSPATH MinimalWorker.java SERVER_URL QUEUE N
//
// The API key, when the server needs one, comes from CORVO_API_KEY.
import dev.corvo.sdk.CorvoException;
import dev.corvo.sdk.Worker;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

class MinimalWorker {
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: MinimalWorker SERVER_URL QUEUE N");
      System.exit(2);
    }
    String server = args[0];
    String queue = args[1];
    int n;
    try {
      n = Integer.parseInt(args[2]);
    } catch (NumberFormatException e) {
      n = 0;
    }
    if (n < 1) {
      System.err.println("MinimalWorker: N must be a positive number");
      System.exit(2);
    }
    int jobs = n;
    Worker worker;
    try {
      worker = Worker.builder().servers(server).build();
    } catch (IllegalArgumentException e) {
      System.err.println("MinimalWorker: " + e.getMessage());
      System.exit(1);
      return;
    }
    AtomicInteger done = new AtomicInteger();
    worker.handle(queue, job -> {
      if (done.incrementAndGet() >= jobs) {
        worker.stop(); // the outcome of this job is still delivered before run() returns
      }
      System.out.printf("worked %s (attempt %d)%n", job.id(), job.attempt());
      return Map.of("worked_by", "java", "job_id", job.id());
    });
    try {
      worker.run();
    } catch (CorvoException e) {
      System.err.println("MinimalWorker: " + e.getMessage());
      System.exit(1);
    }
  }
}
