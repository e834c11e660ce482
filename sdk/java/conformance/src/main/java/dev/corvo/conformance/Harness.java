package dev.corvo.conformance;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.corvo.sdk.CorvoException;
import dev.corvo.sdk.JobContext;
import dev.corvo.sdk.Worker;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker harness of sdk/conformance/README.md: one SDK worker, every queue with the step
 * handler, one JSON object per line on stdout (everything else on stderr).
 */
public final class Harness {
  private static final String USAGE =
      "usage: harness --server URL [--server URL ...] --queue Q [--queue Q ...]\n"
          + "               [--concurrency N] [--lease-secs S] [--drain-timeout-ms MS] [--max-jobs N]\n"
          + "               [--api-key KEY] [--ca-cert PEM_FILE] [--worker-id ID]";

  private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);

  private Harness() {}

  /** The command line. */
  static final class Options {
    final List<String> servers = new ArrayList<>();
    final List<String> queues = new ArrayList<>();
    int concurrency = 1;
    Integer leaseSecs;
    Long drainTimeoutMs;
    int maxJobs;
    String apiKey;
    String caCert;
    String workerId;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String flag = args[i];
        String value;
        int eq = flag.indexOf('=');
        if (flag.startsWith("--") && eq > 0) {
          value = flag.substring(eq + 1);
          flag = flag.substring(0, eq);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new IllegalArgumentException(flag + " needs a value");
        }
        switch (flag) {
          case "--server" -> o.servers.add(value);
          case "--queue" -> o.queues.add(value);
          case "--concurrency" -> o.concurrency = Integer.parseInt(value);
          case "--lease-secs" -> o.leaseSecs = Integer.parseInt(value);
          case "--drain-timeout-ms" -> o.drainTimeoutMs = Long.parseLong(value);
          case "--max-jobs" -> o.maxJobs = Integer.parseInt(value);
          case "--api-key" -> o.apiKey = value;
          case "--ca-cert" -> o.caCert = value;
          case "--worker-id" -> o.workerId = value;
          default -> throw new IllegalArgumentException("unknown flag " + flag);
        }
      }
      if (o.servers.isEmpty() || o.queues.isEmpty()) {
        throw new IllegalArgumentException("--server and --queue are required");
      }
      return o;
    }
  }

  public static void main(String[] args) {
    Options o;
    Worker worker;
    try {
      o = Options.parse(args);
      Worker.Builder b = Worker.builder().servers(o.servers).concurrency(o.concurrency);
      if (o.leaseSecs != null) {
        b.lease(Duration.ofSeconds(o.leaseSecs));
      }
      if (o.drainTimeoutMs != null) {
        b.drainTimeout(Duration.ofMillis(o.drainTimeoutMs));
      }
      if (o.apiKey != null) {
        b.apiKey(o.apiKey);
      }
      if (o.caCert != null) {
        b.caCert(Path.of(o.caCert));
      }
      if (o.workerId != null) {
        b.workerId(o.workerId);
      }
      worker = b.build();
    } catch (IllegalArgumentException e) {
      System.err.println("harness: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    AtomicInteger returned = new AtomicInteger();
    int maxJobs = o.maxJobs;
    for (String queue : o.queues) {
      worker.handle(queue, job -> {
        try {
          return handle(job);
        } finally {
          emit(event("finished", job.id()));
          if (maxJobs > 0 && returned.incrementAndGet() == maxJobs) {
            worker.stop();
          }
        }
      });
    }
    System.err.println("harness: worker " + worker.workerId() + " on " + o.queues);
    emit(event("started", null));
    try {
      worker.run();
    } catch (CorvoException e) {
      System.err.println("harness: the worker stopped with an error: " + e.getMessage());
      System.exit(1);
    }
    emit(event("stopped", null));
    System.exit(0);
  }

  private static Object handle(JobContext job) throws InterruptedException {
    JsonElement checkpoint = job.checkpointJson() == null ? JsonNull.INSTANCE : JsonParser.parseString(job.checkpointJson());
    JsonObject started = event("job", job.id());
    started.addProperty("queue", job.queue());
    started.addProperty("attempt", job.attempt());
    started.add("checkpoint", checkpoint);
    emit(started);
    JsonElement payload = JsonParser.parseString(job.payloadJson().isBlank() ? "{}" : job.payloadJson());
    Steps.Job steps =
        new Steps.Job() {
          @Override
          public String id() {
            return job.id();
          }

          @Override
          public int attempt() {
            return job.attempt();
          }

          @Override
          public JsonElement checkpoint() {
            return checkpoint;
          }

          @Override
          public void progress(JsonElement progress) {
            job.progress(progress);
          }

          @Override
          public void checkpoint(JsonElement value) {
            job.checkpoint(value);
          }

          @Override
          public CompletableFuture<Void> cancelled() {
            return job.cancelled();
          }

          @Override
          public Object fail(String message) {
            return job.fail(message);
          }
        };
    return Steps.run(payload, steps, id -> emit(event("cancelled", id)));
  }

  private static JsonObject event(String name, String jobId) {
    JsonObject e = new JsonObject();
    e.addProperty("event", name);
    if (jobId != null) {
      e.addProperty("job_id", jobId);
    }
    return e;
  }

  /** One line per event, flushed at once; lines from handler threads never interleave. */
  private static void emit(JsonObject event) {
    synchronized (OUT) {
      OUT.println(event);
      OUT.flush();
    }
  }
}
