package dev.corvo.sdk;

import java.net.InetAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a handler for every job of some queues over one {@code StreamLifecycle} stream.
 *
 * <pre>{@code
 * Worker worker = Worker.builder().servers("http://127.0.0.1:8080").concurrency(8).build();
 * worker.handle("emails", job -> Map.of("sent", send(job.payloadAs(Email.class))));
 * worker.run(); // until SIGTERM/SIGINT (a graceful drain) or stop()
 * }</pre>
 *
 * <ul>
 *   <li><b>Flow control:</b> {@code concurrency} credits, one more per finished job: jobs are
 *       pushed as they become ready and never more run at once.
 *   <li><b>Leases:</b> running jobs are heartbeated every third of the lease with their
 *       progress and checkpoint; a job the server stops (cancelled, reassigned) has its
 *       {@link JobContext#cancelled()} signal set.
 *   <li><b>Outcomes are never lost:</b> each ack or fail is kept until the server answers it,
 *       sent again after a refusal's retry hint or on the next stream.
 *   <li><b>Reconnects forever</b> (jittered backoff, 100 ms to 10 s, at least the server's
 *       hint), to the next URL when a node is unreachable, to the leader a hint names. A key
 *       the server refuses, or queues outside its scopes, end {@link #run} with a {@link
 *       CorvoException}.
 *   <li><b>Graceful drain</b> on SIGTERM, SIGINT or {@link #stop}: no new jobs; running ones
 *       may finish within the drain timeout and their outcomes are delivered; those still
 *       running then are failed with {@code worker shutting down}. A second signal stops at
 *       once. While {@code run} is active the JVM's handlers for those signals are replaced
 *       (and put back when it returns), so {@code run} returns after the drain and the
 *       program goes on; a shutdown hook drains too if the JVM exits otherwise.
 * </ul>
 *
 * Logs through {@link System.Logger} ({@code dev.corvo.sdk.Worker}); never the API key.
 */
public final class Worker {
  /** The server's limit on outstanding credits per stream. */
  public static final int CONCURRENCY_MAX = 4096;
  private static final System.Logger LOG = System.getLogger("dev.corvo.sdk.Worker");

  private final Connections.Settings settings;
  private final String workerId;
  private final String hostname;
  private final int concurrency;
  private final Duration lease;
  private final Duration drainTimeout;
  private final boolean handleSignals;
  private final Executor executor;
  private final Map<String, JobHandler> handlers = new LinkedHashMap<>();
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile WorkerLoop loop;
  private volatile boolean stopRequested;
  private boolean started;

  private Worker(Builder b) {
    settings = b.settings.copy();
    hostname = hostname();
    workerId = b.workerId != null ? b.workerId : defaultWorkerId(hostname);
    concurrency = b.concurrency;
    lease = b.lease;
    drainTimeout = b.drainTimeout;
    handleSignals = b.handleSignals;
    executor = b.executor;
    new Connections(settings).close(); // checks the URLs, the key and the TLS files now
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The id this worker reports to the server ({@code <hostname>-<8 hex>} by default). */
  public String workerId() {
    return workerId;
  }

  /** Sets the handler of {@code queue} (one per queue; a worker may serve several). */
  public synchronized Worker handle(String queue, JobHandler handler) {
    if (started) {
      throw new IllegalStateException("handlers must be set before run()");
    }
    handlers.put(Objects.requireNonNull(queue, "queue"), Objects.requireNonNull(handler, "handler"));
    return this;
  }

  /**
   * Works jobs until stopped, then drains and returns. Throws {@link CorvoException} when the
   * server refuses the worker for good (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT,
   * UNIMPLEMENTED); connection problems are retried forever instead.
   */
  public void run() {
    WorkerLoop l;
    synchronized (this) {
      if (started) {
        throw new IllegalStateException("a Worker runs once");
      }
      if (handlers.isEmpty()) {
        throw new IllegalStateException("no handler: call handle(queue, handler) before run()");
      }
      started = true;
    }
    Connections connections = new Connections(settings);
    ExecutorService owned = executor == null ? handlerPool(concurrency) : null;
    l = new WorkerLoop(
        connections,
        handlers,
        workerId,
        hostname,
        concurrency,
        (int) lease.toSeconds(),
        drainTimeout.toMillis(),
        owned != null ? owned : executor);
    loop = l;
    if (stopRequested) {
      l.stop(false);
    }
    SignalTrap trap = handleSignals ? SignalTrap.install(() -> l.stop(false), () -> l.stop(true)) : null;
    Thread hook = new Thread(this::drainOnExit, "corvo-worker-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      l.run();
    } finally {
      if (trap != null) {
        trap.close();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // The hook is what waits for this run; nothing to remove.
      }
      if (owned != null) {
        owned.shutdownNow();
      }
      connections.close();
      done.countDown();
    }
  }

  /** Asks the worker to drain and return from {@link #run}; returns at once. Idempotent. */
  public void stop() {
    stopRequested = true;
    WorkerLoop l = loop;
    if (l != null) {
      l.stop(false);
    }
  }

  /** On JVM exit (other than by the signals run() handles): drain before the JVM goes. */
  private void drainOnExit() {
    stop();
    try {
      long waitMs = drainTimeout.toMillis() + WorkerLoop.OUTCOME_GRACE_MS;
      if (!done.await(waitMs, TimeUnit.MILLISECONDS)) {
        LOG.log(System.Logger.Level.WARNING, "the JVM is exiting before the worker drained");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ExecutorService handlerPool(int size) {
    AtomicInteger n = new AtomicInteger();
    ThreadFactory threads =
        r -> {
          Thread t = new Thread(r, "corvo-handler-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    // Never more than `size` jobs run (credits); idle threads go after a minute.
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), threads);
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** The default worker id: {@code <hostname>-<8 random hex>}, unique per process start. */
  static String defaultWorkerId(String hostname) {
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    return hostname + "-" + HexFormat.of().formatHex(random);
  }

  static String hostname() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }

  /** Builds a {@link Worker}. */
  public static final class Builder {
    private final Connections.Settings settings = new Connections.Settings();
    private String workerId;
    private int concurrency = 1;
    private Duration lease = Duration.ofSeconds(60);
    private Duration drainTimeout = Duration.ofSeconds(30);
    private boolean handleSignals = true;
    private Executor executor;

    private Builder() {}

    /** Node URLs ({@code http://} or {@code https://}); default {@code http://127.0.0.1:8080}. */
    public Builder servers(String... urls) {
      settings.servers(urls);
      return this;
    }

    public Builder servers(List<String> urls) {
      return servers(urls.toArray(String[]::new));
    }

    /** Sent as {@code authorization: Bearer <key>}; default {@code CORVO_API_KEY}. */
    public Builder apiKey(String apiKey) {
      settings.apiKey = apiKey;
      return this;
    }

    /** A CA certificate (PEM) to trust for {@code https://} instead of the system roots. */
    public Builder caCert(Path pem) {
      settings.caCert = pem;
      return this;
    }

    /** A client certificate chain and its PKCS#8 private key (PEM), for mutual TLS. */
    public Builder clientCert(Path certPem, Path keyPem) {
      settings.clientCert = certPem;
      settings.clientKey = keyPem;
      return this;
    }

    /** Shown in {@code corvo workers} and job state; default {@code <hostname>-<8 hex>}. */
    public Builder workerId(String workerId) {
      this.workerId = Objects.requireNonNull(workerId);
      return this;
    }

    /** Jobs run at once, 1..4096 (default 1). */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1 || concurrency > CONCURRENCY_MAX) {
        throw new IllegalArgumentException("concurrency must be 1.." + CONCURRENCY_MAX + ", got " + concurrency);
      }
      this.concurrency = concurrency;
      return this;
    }

    /** The lease of each job, 1 s..1 h in whole seconds (default 60 s); heartbeats every third. */
    public Builder lease(Duration lease) {
      long s = lease.toSeconds();
      if (s < 1 || s > 3600) {
        throw new IllegalArgumentException("lease must be 1 s..1 h, got " + lease);
      }
      this.lease = Duration.ofSeconds(s);
      return this;
    }

    /** How long running jobs may finish after a stop (default 30 s). */
    public Builder drainTimeout(Duration drainTimeout) {
      if (drainTimeout.isNegative()) {
        throw new IllegalArgumentException("drainTimeout must not be negative");
      }
      this.drainTimeout = drainTimeout;
      return this;
    }

    /** Whether {@code run()} handles SIGTERM and SIGINT (default true). */
    public Builder handleSignals(boolean handleSignals) {
      this.handleSignals = handleSignals;
      return this;
    }

    /**
     * Where handlers run (default: a pool of up to {@code concurrency} daemon threads). For
     * example {@code Executors.newVirtualThreadPerTaskExecutor()} on Java 21. The worker
     * never submits more than {@code concurrency} jobs at once.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor);
      return this;
    }

    public Worker build() {
      return new Worker(this);
    }
  }
}
