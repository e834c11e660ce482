package dev.corvo.sdk;

import dev.corvo.v1.ErrorCode;
import dev.corvo.v1.FetchBatchJob;
import dev.corvo.v1.StreamLifecycleRequest;
import dev.corvo.v1.StreamLifecycleResponse;
import dev.corvo.v1.WorkerServiceGrpc;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One run of a {@link Worker}: the loop on the thread that called {@code run()}, which alone
 * owns the state below. Everything else (stream responses, finished handlers, progress,
 * stop requests) reaches it as events on one queue, so there are no locks around the state;
 * timers (heartbeats, retry hints, reconnects, the drain deadline) are the queue's poll
 * timeout, so nothing spins.
 *
 * <pre>
 *  gRPC callbacks ──Response/Ended──┐
 *  handler threads ──Finished/Dirty─┼─▶ events ─▶ loop: running jobs, Outbox ─▶ frames
 *  stop(), signals ──Stop───────────┘                        (one stream at a time)
 * </pre>
 *
 * The events are bounded by the work itself: one Finished per job (at most {@code
 * concurrency} run at once), one Dirty per job between two heartbeats, and responses to at
 * most one unanswered frame plus pushes bounded by the credits granted.
 */
final class WorkerLoop {
  private static final System.Logger LOG = System.getLogger("dev.corvo.sdk.Worker");
  /** Progress and checkpoints go out at most this often (and at most this late). */
  static final long PROGRESS_INTERVAL_MS = 1_000;
  /** After the drain timeout, how long to keep trying to deliver the last outcomes. */
  static final long OUTCOME_GRACE_MS = 10_000;
  /** After a second signal, how long to try to deliver the fails of the jobs cut short. */
  static final long STOP_NOW_GRACE_MS = 2_000;
  /** The longest idle wait of the loop (nothing is due; a safety net, not a poll). */
  static final long IDLE_WAIT_MS = 5_000;
  /** The server's limit on an error or backtrace (64 KiB); a little under it. */
  static final int ERROR_BYTES_MAX = 60_000;
  static final String SHUTTING_DOWN = "worker shutting down";

  private record Response(int gen, StreamLifecycleResponse resp) {}

  private record Ended(int gen, Throwable error) {}

  private record Finished(Active job, Outbox.Outcome outcome) {}

  private record Dirty(String jobId) {}

  private record Stop(boolean now) {}

  /** A job handed to its handler. */
  private static final class Active {
    final FetchBatchJob job;
    final JobContext ctx;
    long leaseToken;

    Active(FetchBatchJob job, JobContext ctx) {
      this.job = job;
      this.ctx = ctx;
      this.leaseToken = job.getLeaseToken();
    }
  }

  /** The current worker stream. */
  private static final class Stream {
    final int gen;
    final Connections.Target target;
    final ClientCallStreamObserver<StreamLifecycleRequest> requests;
    boolean answered;
    boolean accepted;

    Stream(int gen, Connections.Target target, ClientCallStreamObserver<StreamLifecycleRequest> requests) {
      this.gen = gen;
      this.target = target;
      this.requests = requests;
    }
  }

  private final Connections connections;
  private final Map<String, JobHandler> handlers;
  private final int concurrency;
  private final long heartbeatEveryMs;
  private final long drainTimeoutMs;
  private final Executor executor;
  private final StreamLifecycleRequest template;
  private final String workerId;

  private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final Map<String, Active> running = new LinkedHashMap<>();
  /** Jobs pushed beyond the free slots (credits a refused frame had granted after all). */
  private final ArrayDeque<FetchBatchJob> waiting = new ArrayDeque<>();
  private final Set<String> dirty = new LinkedHashSet<>();
  /** Jobs the server told us to stop: a refusal of their outcome is expected. */
  private final Set<String> stoppedByServer = new HashSet<>();
  private final Outbox outbox = new Outbox();
  private final Backoff backoff = new Backoff();

  private Stream stream;
  private int generation;
  private long reconnectAtMs;
  /** The last stream could not be opened or broke: the next attempt dials at once. */
  private boolean dialFailed;
  private long nextHeartbeatMs;
  private long lastProgressMs = Long.MIN_VALUE / 2;
  private boolean draining;
  private boolean abandoned;
  private boolean stoppingNow;
  private long drainDeadlineMs;
  private long giveUpAtMs;
  private CorvoException fatal;

  WorkerLoop(
      Connections connections,
      Map<String, JobHandler> handlers,
      String workerId,
      String hostname,
      int concurrency,
      int leaseSecs,
      long drainTimeoutMs,
      Executor executor) {
    this.connections = connections;
    this.handlers = Map.copyOf(handlers);
    this.workerId = workerId;
    this.concurrency = concurrency;
    this.heartbeatEveryMs = leaseSecs * 1000L / 3;
    this.drainTimeoutMs = drainTimeoutMs;
    this.executor = executor;
    this.template =
        StreamLifecycleRequest.newBuilder()
            .addAllQueues(this.handlers.keySet())
            .setWorkerId(workerId)
            .setHostname(hostname)
            .setLeaseDuration(leaseSecs)
            .build();
  }

  /** Asks for a graceful drain ({@code now}: fail running jobs back at once). Any thread. */
  void stop(boolean now) {
    events.add(new Stop(now));
  }

  /** Runs until drained; throws when the server refused the worker for good. */
  void run() {
    try {
      loop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CorvoException(Status.Code.CANCELLED, ErrorCode.ERROR_CODE_UNSPECIFIED, "worker interrupted", 0, e);
    } finally {
      for (Active a : running.values()) {
        a.ctx.cancel();
      }
      if (stream != null) {
        if (fatal == null) {
          stream.requests.onCompleted();
        } else {
          stream.requests.cancel("worker stopped", null);
        }
        stream = null;
      }
    }
    if (fatal != null) {
      LOG.log(Level.ERROR, "worker {0}: the server refused the worker: {1}", workerId, fatal.getMessage());
      throw fatal;
    }
  }

  private void loop() throws InterruptedException {
    long now = nowMs();
    reconnectAtMs = now;
    nextHeartbeatMs = now + heartbeatEveryMs;
    LOG.log(Level.INFO, "worker {0} starting: queues {1}, concurrency {2}", workerId, handlers.keySet(), String.valueOf(concurrency));
    while (true) {
      now = nowMs();
      if (fatal != null) {
        return;
      }
      if (draining) {
        if (!abandoned && now >= drainDeadlineMs) {
          abandonRunning(stoppingNow ? "stopping now" : "drain timeout");
        }
        if (running.isEmpty() && waiting.isEmpty() && outbox.settled()) {
          LOG.log(Level.INFO, "worker {0} drained: every outcome delivered", workerId);
          return;
        }
        if (now >= giveUpAtMs) {
          LOG.log(Level.WARNING, "worker {0} stopping with {1} outcomes not confirmed by the server",
              workerId, String.valueOf(outbox.outcomesPending()));
          return;
        }
      }
      if (stream == null && now >= reconnectAtMs) {
        connect();
      }
      if (now >= nextHeartbeatMs) {
        heartbeatAll();
        nextHeartbeatMs = now + heartbeatEveryMs;
      }
      if (!dirty.isEmpty() && now >= lastProgressMs + PROGRESS_INTERVAL_MS) {
        flushProgress();
        lastProgressMs = now;
      }
      send(now);
      Object event = events.poll(Math.max(1, nextWakeMs(now) - now), TimeUnit.MILLISECONDS);
      while (event != null) {
        handle(event, nowMs());
        event = events.poll();
      }
    }
  }

  private long nextWakeMs(long now) {
    long wake = now + IDLE_WAIT_MS;
    if (!running.isEmpty() || !waiting.isEmpty()) {
      wake = Math.min(wake, nextHeartbeatMs);
    }
    if (!dirty.isEmpty()) {
      wake = Math.min(wake, lastProgressMs + PROGRESS_INTERVAL_MS);
    }
    if (stream == null) {
      wake = Math.min(wake, reconnectAtMs);
    } else if (outbox.hasWork() && outbox.nextSendAtMs() > now) {
      wake = Math.min(wake, outbox.nextSendAtMs());
    }
    if (draining) {
      wake = Math.min(wake, abandoned ? giveUpAtMs : drainDeadlineMs);
    }
    return wake;
  }

  private void handle(Object event, long now) {
    if (event instanceof Response r) {
      onResponse(r, now);
    } else if (event instanceof Finished f) {
      onFinished(f);
    } else if (event instanceof Dirty d) {
      if (running.containsKey(d.jobId)) {
        dirty.add(d.jobId);
      }
    } else if (event instanceof Ended e) {
      onEnded(e, now);
    } else if (event instanceof Stop s) {
      onStop(s.now, now);
    }
  }

  // ---- the stream ---------------------------------------------------------------------------

  private void connect() {
    Connections.Target target = connections.current();
    if (dialFailed) {
      // This loop's own backoff has waited: gRPC's reconnect backoff must not add to it.
      connections.resetConnectBackoff(target);
    }
    int gen = ++generation;
    StreamObserver<StreamLifecycleResponse> observer =
        new StreamObserver<>() {
          @Override
          public void onNext(StreamLifecycleResponse resp) {
            events.add(new Response(gen, resp));
          }

          @Override
          public void onError(Throwable t) {
            events.add(new Ended(gen, t));
          }

          @Override
          public void onCompleted() {
            events.add(new Ended(gen, null));
          }
        };
    ClientCallStreamObserver<StreamLifecycleRequest> requests =
        (ClientCallStreamObserver<StreamLifecycleRequest>)
            WorkerServiceGrpc.newStub(connections.channel(target))
                // The callbacks only queue an event: run them on the transport's thread.
                .withExecutor(Runnable::run)
                .streamLifecycle(observer);
    stream = new Stream(gen, target, requests);
    outbox.spent(nowMs());
    // The opening frame: the free slots as credits (none while draining), every outcome the
    // last stream left unconfirmed, and a heartbeat for every job held.
    outbox.grant(draining ? 0 : free());
    heartbeatAll();
    LOG.log(Level.DEBUG, "opening a worker stream to {0}", target);
  }

  private void send(long now) {
    if (stream == null) {
      return;
    }
    StreamLifecycleRequest frame;
    while ((frame = outbox.next(template, now)) != null) {
      if (LOG.isLoggable(Level.TRACE)) {
        LOG.log(Level.TRACE, "frame {0}: {1} acks, {2} fails, {3} heartbeats, {4} credits{5}",
            String.valueOf(frame.getRequestId()), frame.getAcksCount(), frame.getFailsCount(),
            frame.getHeartbeatsCount(), frame.getCredits(), frame.getDrain() ? ", drain" : "");
      }
      stream.requests.onNext(frame);
    }
  }

  /** Drops the current stream at once and connects again after {@code delayMs}. */
  private void restart(String why, long delayMs, long now) {
    stream.requests.cancel(why, null);
    stream = null;
    outbox.onStreamLost();
    reconnectAtMs = now + delayMs;
  }

  private void onEnded(Ended e, long now) {
    if (stream == null || e.gen != stream.gen) {
      return;
    }
    Stream ended = stream;
    stream = null;
    outbox.onStreamLost();
    dialFailed = true;
    Status status =
        e.error == null
            ? Status.UNAVAILABLE.withDescription("the server ended the stream")
            : Status.fromThrowable(e.error);
    Metadata trailers = e.error == null ? null : Status.trailersFromThrowable(e.error);
    switch (status.getCode()) {
      case UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, UNIMPLEMENTED -> {
        fatal = CorvoException.from(e.error != null ? e.error : status.asRuntimeException());
        return;
      }
      default -> {}
    }
    String leader = CorvoException.leader(trailers);
    if (leader != null) {
      connections.followLeader(ended.target, leader);
    } else if (!ended.answered) {
      connections.failed(ended.target);
    }
    long delay = backoff.nextMs(CorvoException.pushbackMs(trailers));
    reconnectAtMs = now + delay;
    LOG.log(Level.WARNING, "worker stream to {0} ended ({1}: {2}); reconnecting to {3} in {4} ms",
        ended.target, status.getCode(), describe(status), connections.current(), String.valueOf(delay));
  }

  private void onResponse(Response r, long now) {
    StreamLifecycleResponse resp = r.resp;
    if (LOG.isLoggable(Level.TRACE)) {
      LOG.log(Level.TRACE, "response {0}: {1} jobs, {2} ack results, {3} fail results, error {4}",
          String.valueOf(resp.getRequestId()), resp.getJobsCount(), resp.getAckResultsCount(),
          resp.getFailResultsCount(), resp.getErrorCode());
    }
    if (stream == null || r.gen != stream.gen) {
      // A stream we left: its jobs are leased to us all the same.
      resp.getJobsList().forEach(this::accept);
      return;
    }
    if (!stream.answered) {
      stream.answered = true;
      dialFailed = false;
      backoff.reset();
      LOG.log(Level.INFO, "worker {0} connected to {1}", workerId, stream.target);
    }
    Outbox.Answer a = outbox.onResponse(resp, now);
    if (a.ours && a.refusedWhole) {
      onRefused(a, now);
      if (fatal != null || stream == null || stream.gen != r.gen) {
        resp.getJobsList().forEach(this::accept);
        return;
      }
    } else if (a.ours) {
      stream.accepted = true;
    }
    for (Outbox.Outcome o : a.confirmed) {
      stoppedByServer.remove(o.jobId());
    }
    for (Outbox.Dropped d : a.dropped) {
      onDropped(d);
    }
    for (String id : a.stop) {
      stopJob(id);
    }
    for (String id : resp.getCancelJobIdsList()) {
      stopJob(id);
    }
    resp.getJobsList().forEach(this::accept);
    if (!a.ours && resp.getErrorCode() != ErrorCode.ERROR_CODE_UNSPECIFIED) {
      LOG.log(Level.WARNING, "the server could not lease jobs for this worker: {0}", resp.getError());
      if (resp.getErrorCode() == ErrorCode.ERROR_CODE_NOT_LEADER && !resp.getLeaderAddr().isEmpty()) {
        connections.followLeader(stream.target, resp.getLeaderAddr());
        restart("following the leader", 0, now);
      }
    }
  }

  /** A frame refused whole (nothing of it applied). */
  private void onRefused(Outbox.Answer a, long now) {
    switch (a.code) {
      case ERROR_CODE_PERMISSION_DENIED, ERROR_CODE_UNAUTHENTICATED -> {
        fatal = CorvoException.fromCode(a.code, a.error, 0);
      }
      case ERROR_CODE_NOT_LEADER -> {
        if (!a.leaderAddr.isEmpty()) {
          connections.followLeader(stream.target, a.leaderAddr);
          LOG.log(Level.INFO, "following the leader at {0}", a.leaderAddr);
          restart("following the leader", 0, now);
        } else {
          restart("no leader", backoff.nextMs(a.retryAfterMs), now);
        }
      }
      case ERROR_CODE_OVERLOADED, ERROR_CODE_UNAVAILABLE ->
          LOG.log(Level.WARNING, "the server refused a frame ({0}); sending it again in {1} ms",
              a.error, String.valueOf(Math.max(0, outbox.holdUntilMs() - now)));
      case ERROR_CODE_INVALID_ARGUMENT -> {
        if (!stream.accepted && a.outcomes == 0) {
          fatal = CorvoException.fromCode(a.code, a.error, 0);
        } else {
          LOG.log(Level.WARNING, "the server refused a frame: {0}", a.error);
        }
      }
      default -> LOG.log(Level.WARNING, "the server refused a frame: {0}", a.error);
    }
  }

  /** An outcome refused for good: logged; a refused result becomes a fail, once. */
  private void onDropped(Outbox.Dropped d) {
    Outbox.Outcome o = d.outcome();
    // Expected when the server had stopped the job (cancelled, reassigned): not a warning.
    Level level = stoppedByServer.remove(o.jobId()) ? Level.INFO : Level.WARNING;
    LOG.log(level, "job {0}: the server refused its {1} ({2}: {3})",
        o.jobId(), o.completed() ? "ack" : "fail", d.code(), d.message());
    if (o.completed() && d.code() == ErrorCode.ERROR_CODE_INVALID_ARGUMENT) {
      outbox.add(Outbox.Outcome.fail(o.jobId(), o.leaseToken(), truncate("the server refused the result: " + d.message()), ""));
    }
  }

  // ---- jobs ---------------------------------------------------------------------------------

  private int free() {
    return Math.max(0, concurrency - running.size() - waiting.size());
  }

  private void accept(FetchBatchJob job) {
    String id = job.getJobId();
    Active known = running.get(id);
    if (known != null) {
      known.leaseToken = job.getLeaseToken();
      return;
    }
    if (draining) {
      outbox.add(Outbox.Outcome.fail(id, job.getLeaseToken(), SHUTTING_DOWN, ""));
      return;
    }
    if (running.size() >= concurrency) {
      waiting.add(job);
      return;
    }
    start(job);
  }

  private void start(FetchBatchJob job) {
    JobHandler handler = handlers.get(job.getQueue());
    if (handler == null) {
      outbox.add(Outbox.Outcome.fail(job.getJobId(), job.getLeaseToken(), "no handler for queue " + job.getQueue(), ""));
      outbox.grant(1);
      return;
    }
    String id = job.getJobId();
    Active a = new Active(job, new JobContext(job, () -> events.add(new Dirty(id))));
    running.put(id, a);
    try {
      executor.execute(() -> events.add(new Finished(a, Tracing.execute(job, () -> execute(handler, a.ctx)))));
    } catch (RejectedExecutionException e) {
      events.add(new Finished(a, failure("the handler executor refused the job: " + e.getMessage(), "")));
    }
  }

  /** Runs the handler on its thread; never throws. */
  private static Outbox.Outcome execute(JobHandler handler, JobContext ctx) {
    try {
      Object result = handler.handle(ctx);
      if (ctx.failure() != null) {
        return failure(ctx.failure(), "");
      }
      try {
        return Outbox.Outcome.complete(ctx.id(), 0, Json.encode(result, "the handler's result"));
      } catch (IllegalArgumentException e) {
        return failure(e.getMessage(), "");
      }
    } catch (JobFailedException e) {
      return failure(messageOf(e), "");
    } catch (Throwable t) {
      StringWriter trace = new StringWriter();
      t.printStackTrace(new PrintWriter(trace));
      return failure(messageOf(t), trace.toString());
    }
  }

  private static Outbox.Outcome failure(String error, String backtrace) {
    return Outbox.Outcome.fail("", 0, truncate(error), truncate(backtrace));
  }

  private void onFinished(Finished f) {
    Active a = f.job;
    String id = a.job.getJobId();
    if (running.get(id) != a) {
      return; // failed back at the drain timeout
    }
    running.remove(id);
    dirty.remove(id);
    beat(a);
    Outbox.Outcome o = f.outcome;
    outbox.add(new Outbox.Outcome(id, a.leaseToken, o.completed(), o.resultJson(), o.error(), o.backtrace()));
    if (!draining) {
      FetchBatchJob next = waiting.poll();
      if (next != null) {
        start(next);
      } else {
        outbox.grant(1);
      }
    }
  }

  private void stopJob(String id) {
    Active a = running.get(id);
    if (a != null) {
      a.ctx.cancel();
      stoppedByServer.add(id);
    } else {
      waiting.removeIf(j -> j.getJobId().equals(id));
    }
  }

  /** Queues a heartbeat for the job, with what its handler set since the last one. */
  private void beat(Active a) {
    JobContext.Updates u = a.ctx.takeUpdates();
    outbox.beat(new Outbox.Beat(a.job.getJobId(), a.leaseToken,
        u == null ? null : u.progressJson(), u == null ? null : u.checkpointJson()));
  }

  private void heartbeatAll() {
    for (Active a : running.values()) {
      beat(a);
    }
    for (FetchBatchJob j : waiting) {
      outbox.beat(new Outbox.Beat(j.getJobId(), j.getLeaseToken(), null, null));
    }
    dirty.clear();
  }

  private void flushProgress() {
    for (String id : dirty) {
      Active a = running.get(id);
      JobContext.Updates u = a == null ? null : a.ctx.takeUpdates();
      if (u != null) {
        outbox.beat(new Outbox.Beat(id, a.leaseToken, u.progressJson(), u.checkpointJson()));
      }
    }
    dirty.clear();
  }

  // ---- stopping -----------------------------------------------------------------------------

  private void onStop(boolean immediately, long now) {
    if (!draining) {
      draining = true;
      drainDeadlineMs = now + drainTimeoutMs;
      giveUpAtMs = drainDeadlineMs + OUTCOME_GRACE_MS;
      LOG.log(Level.INFO, "worker {0} draining: no new jobs; {1} running may finish within {2} ms",
          workerId, String.valueOf(running.size()), String.valueOf(drainTimeoutMs));
      for (FetchBatchJob j : waiting) {
        outbox.add(Outbox.Outcome.fail(j.getJobId(), j.getLeaseToken(), SHUTTING_DOWN, ""));
      }
      waiting.clear();
      // The next frame says drain: the server drops the credits it holds for this stream
      // and pushes nothing more; so does every frame after it, on this stream or the next.
      outbox.drain();
    }
    if (immediately && !abandoned) {
      stoppingNow = true;
      drainDeadlineMs = now;
      giveUpAtMs = now + STOP_NOW_GRACE_MS;
    }
  }

  /** The drain timeout passed: the jobs still running are failed back, to be retried at once. */
  private void abandonRunning(String why) {
    abandoned = true;
    if (!running.isEmpty()) {
      LOG.log(Level.WARNING, "{0}: failing {1} jobs still running with \"{2}\"", why, String.valueOf(running.size()), SHUTTING_DOWN);
    }
    for (Active a : running.values()) {
      a.ctx.cancel();
      beat(a);
      outbox.add(Outbox.Outcome.fail(a.job.getJobId(), a.leaseToken, SHUTTING_DOWN, ""));
    }
    running.clear();
    dirty.clear();
  }

  // ---- helpers ------------------------------------------------------------------------------

  private static long nowMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }

  private static String messageOf(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getName() : m;
  }

  private static String describe(Status s) {
    String cause = s.getCause() == null ? null : s.getCause().getMessage();
    if (s.getDescription() == null) {
      return cause != null ? cause : "no details";
    }
    return cause == null ? s.getDescription() : s.getDescription() + ": " + cause;
  }

  /** Cuts {@code s} to the server's limit on error text (UTF-8 bytes), on a character boundary. */
  static String truncate(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= ERROR_BYTES_MAX) {
      return s;
    }
    int end = ERROR_BYTES_MAX;
    while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
      end--;
    }
    return new String(bytes, 0, end, StandardCharsets.UTF_8) + "…";
  }
}
