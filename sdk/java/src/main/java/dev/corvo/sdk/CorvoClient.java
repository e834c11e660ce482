package dev.corvo.sdk;

import dev.corvo.v1.BulkAction;
import dev.corvo.v1.BulkJobsRequest;
import dev.corvo.v1.BulkJobsResponse;
import dev.corvo.v1.CancelJobRequest;
import dev.corvo.v1.ClearQueueRequest;
import dev.corvo.v1.ClearQueueResponse;
import dev.corvo.v1.DeleteJobRequest;
import dev.corvo.v1.DestroyQueueRequest;
import dev.corvo.v1.DrainQueueRequest;
import dev.corvo.v1.DrainQueueResponse;
import dev.corvo.v1.EnqueueOptions;
import dev.corvo.v1.EnqueueRequest;
import dev.corvo.v1.EnqueueResponse;
import dev.corvo.v1.ErrorCode;
import dev.corvo.v1.GetJobRequest;
import dev.corvo.v1.GetOperationRequest;
import dev.corvo.v1.GetQueueRequest;
import dev.corvo.v1.ItemResult;
import dev.corvo.v1.Job;
import dev.corvo.v1.JobFilter;
import dev.corvo.v1.JobServiceGrpc;
import dev.corvo.v1.JobState;
import dev.corvo.v1.LifecycleEnqueueItem;
import dev.corvo.v1.ListJobsRequest;
import dev.corvo.v1.ListJobsResponse;
import dev.corvo.v1.ListQueuesRequest;
import dev.corvo.v1.ListWorkersRequest;
import dev.corvo.v1.Operation;
import dev.corvo.v1.PauseQueueRequest;
import dev.corvo.v1.Queue;
import dev.corvo.v1.QueueServiceGrpc;
import dev.corvo.v1.ResumeQueueRequest;
import dev.corvo.v1.RetryJobRequest;
import dev.corvo.v1.SetQueueLimitsRequest;
import dev.corvo.v1.SetQueueRetentionRequest;
import dev.corvo.v1.StreamLifecycleRequest;
import dev.corvo.v1.StreamLifecycleResponse;
import dev.corvo.v1.WorkerServiceGrpc;
import dev.corvo.v1.WorkerStream;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The Corvo client: enqueue jobs, look them up and act on them, administer queues.
 *
 * <pre>{@code
 * try (CorvoClient client = CorvoClient.builder().servers("http://127.0.0.1:8080").build()) {
 *   EnqueueResult r = client.enqueue("emails", Map.of("to", "ada@example.com"));
 * }
 * }</pre>
 *
 * Any node serves every call. A call that cannot reach a node goes to the next URL; a node
 * that names the leader ({@code x-corvo-leader}) is left for it; a call the server sheds with
 * a retry hint ({@code grpc-retry-pushback-ms}) is sent again after the hint, all within the
 * call timeout. Every failure is a {@link CorvoException}. A {@code String} payload is JSON
 * text; any other value is serialized to JSON. Thread-safe; close it to release connections.
 */
public final class CorvoClient implements AutoCloseable {
  /** Enqueues per frame of {@link #enqueueBatch} (the server takes at most 1024 items). */
  static final int ENQUEUE_FRAME_ITEMS_MAX = 1000;
  /** Attempts of one call beyond one per server URL (hints, pushback). */
  private static final int EXTRA_ATTEMPTS = 4;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Connections connections;
  private final Duration callTimeout;

  private CorvoClient(Builder b) {
    this.connections = new Connections(b.settings);
    this.callTimeout = b.callTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---- enqueue ------------------------------------------------------------------------------

  public EnqueueResult enqueue(String queue, Object payload) {
    return enqueue(queue, payload, JobOptions.DEFAULTS);
  }

  /**
   * Enqueues one job. With a unique key already held, answers status {@code duplicate} and
   * the existing job's id. The current OpenTelemetry context (when the API is on the
   * classpath) goes with it as {@code traceparent}.
   *
   * <p>The enqueue carries its options' idempotency key, or a fresh random one made once for
   * this call, so the client's retries of it never create a second job: a retry that finds the
   * first attempt applied answers its job, {@link EnqueueResult#replayed() replayed}. A {@link
   * CorvoException} with status {@code UNKNOWN} ({@code ERROR_CODE_OUTCOME_UNKNOWN}) says the
   * job may or may not exist; it is never retried.
   */
  public EnqueueResult enqueue(String queue, Object payload, JobOptions options) {
    // Built once, before the retries: each attempt sends the same idempotency key.
    EnqueueRequest req = enqueueRequest(queue, payload, options, Instant.now());
    Metadata trace = traceHeaders();
    EnqueueResponse r =
        call(callTimeout, (ch, d) ->
            WorkerServiceGrpc.newBlockingStub(ch)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(trace))
                .withDeadline(d)
                .enqueue(req));
    return new EnqueueResult(r.getJobId(), r.getStatus(), r.getReplayed());
  }

  /** The request of one {@link #enqueue}, with a fresh idempotency key when none is set. */
  static EnqueueRequest enqueueRequest(String queue, Object payload, JobOptions options, Instant now) {
    return EnqueueRequest.newBuilder()
        .setQueue(Objects.requireNonNull(queue, "queue"))
        .setPayloadJson(payloadJson(payload))
        .setOptions(keyed((options == null ? JobOptions.DEFAULTS : options).toProto(now)))
        .build();
  }

  /** One item of {@link #enqueueBatch}, with a fresh idempotency key when none is set. */
  static LifecycleEnqueueItem enqueueItem(EnqueueItem item, Instant now) {
    return LifecycleEnqueueItem.newBuilder()
        .setQueue(item.queue())
        .setPayloadJson(payloadJson(item.payload()))
        .setOptions(keyed(item.options().toProto(now)))
        .build();
  }

  /** {@code options}, with a fresh idempotency key when they carry none. */
  private static EnqueueOptions keyed(EnqueueOptions options) {
    if (!options.getIdempotencyKey().isEmpty()) {
      return options;
    }
    return options.toBuilder().setIdempotencyKey(freshIdempotencyKey()).build();
  }

  /** 128 random bits as 32 lowercase hex digits: a key no other call sends. */
  static String freshIdempotencyKey() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /**
   * Enqueues many jobs over one {@code StreamLifecycle} stream, at most 1000 per frame, and
   * returns their ids in order (an existing job's id for a duplicate unique key or a replayed
   * idempotency key). Frames the server refuses with a retry hint are sent again after it. On
   * an error, the frames before the failing one are enqueued; the exception's message says how
   * many items that was. Each item carries its options' idempotency key, or a fresh random one
   * made once for this call, so a frame sent again never creates a job twice.
   */
  public List<String> enqueueBatch(List<EnqueueItem> items) {
    List<EnqueueResult> results = enqueueBatchResults(items);
    List<String> ids = new ArrayList<>(results.size());
    for (EnqueueResult r : results) {
      ids.add(r.id());
    }
    return ids;
  }

  /**
   * {@link #enqueueBatch}, answering each item's {@link EnqueueResult} in order: its id, status
   * ({@code pending}, {@code scheduled} or {@code duplicate}) and whether its idempotency key
   * was {@link EnqueueResult#replayed() replayed}.
   */
  public List<EnqueueResult> enqueueBatchResults(List<EnqueueItem> items) {
    // Built once, before the retries: a frame sent again carries the same idempotency keys.
    Instant now = Instant.now();
    List<LifecycleEnqueueItem> all = new ArrayList<>(items.size());
    for (EnqueueItem item : items) {
      all.add(enqueueItem(item, now));
    }
    List<EnqueueResult> results = new ArrayList<>(all.size());
    Metadata trace = traceHeaders();
    EnqueueStream stream = null;
    try {
      for (int from = 0; from < all.size(); from += ENQUEUE_FRAME_ITEMS_MAX) {
        List<LifecycleEnqueueItem> chunk = all.subList(from, Math.min(all.size(), from + ENQUEUE_FRAME_ITEMS_MAX));
        StreamLifecycleRequest frame =
            StreamLifecycleRequest.newBuilder()
                .setRequestId(from / ENQUEUE_FRAME_ITEMS_MAX + 1)
                .addAllEnqueues(chunk)
                .build();
        String done = " (" + from + " of " + all.size() + " items were enqueued before this frame)";
        Retry retry = new Retry(callTimeout);
        while (true) {
          Connections.Target target = connections.current();
          StreamLifecycleResponse resp;
          try {
            if (stream == null) {
              stream = new EnqueueStream(connections.channel(target), trace);
            }
            resp = stream.exchange(frame, retry.deadline);
          } catch (StatusRuntimeException e) {
            stream.cancel();
            stream = null;
            if (retry.again(target, e)) {
              continue;
            }
            CorvoException c = CorvoException.from(e);
            throw new CorvoException(c.statusCode(), c.errorCode(), messageOf(e) + done, c.retryAfterMs(), e);
          }
          ErrorCode code = resp.getErrorCode();
          if (code != ErrorCode.ERROR_CODE_UNSPECIFIED && resp.getEnqueueResultsCount() == 0) {
            if (code == ErrorCode.ERROR_CODE_NOT_LEADER) {
              stream.close();
              stream = null;
            }
            if (retry.again(target, code, resp.getRetryAfterMs(), resp.getLeaderAddr())) {
              continue;
            }
            throw CorvoException.fromCode(code, resp.getError() + done, resp.getRetryAfterMs());
          }
          for (int i = 0; i < resp.getEnqueueResultsCount(); i++) {
            ItemResult r = resp.getEnqueueResults(i);
            if (r.getCode() != ErrorCode.ERROR_CODE_UNSPECIFIED) {
              throw CorvoException.fromCode(r.getCode(), "item " + (from + i) + ": " + r.getMessage() + done, 0);
            }
          }
          results.addAll(enqueueResults(resp));
          break;
        }
      }
    } finally {
      if (stream != null) {
        stream.close();
      }
    }
    return results;
  }

  /** The results of a frame's enqueues (all accepted), in order. */
  static List<EnqueueResult> enqueueResults(StreamLifecycleResponse resp) {
    int n = Math.max(resp.getEnqueueResultsCount(), resp.getEnqueuedJobIdsCount());
    List<EnqueueResult> results = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ItemResult r = i < resp.getEnqueueResultsCount() ? resp.getEnqueueResults(i) : ItemResult.getDefaultInstance();
      String id = i < resp.getEnqueuedJobIdsCount() ? resp.getEnqueuedJobIds(i) : r.getJobId();
      boolean replayed = "replayed".equals(r.getMessage());
      String status =
          replayed || "duplicate".equals(r.getMessage())
              ? "duplicate"
              : r.getState() == JobState.JOB_STATE_SCHEDULED ? "scheduled" : "pending";
      results.add(new EnqueueResult(id, status, replayed));
    }
    return results;
  }

  // ---- jobs ---------------------------------------------------------------------------------

  /** The job with its state, lease, attempts, progress, checkpoint, result and last error. */
  public Job getJob(String id) {
    GetJobRequest req = GetJobRequest.newBuilder().setJobId(id).build();
    return call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).getJob(req)).getJob();
  }

  /**
   * Jobs matching {@code filter} (queue, at most one state, priority, tags, payload and error
   * text, creation time), newest first; pass the response's {@code next_page_token} as
   * {@code pageToken} for the next page ({@code null} or empty for the first).
   */
  public ListJobsResponse listJobs(JobFilter filter, int pageSize, String pageToken) {
    JobFilter f = filter == null ? JobFilter.getDefaultInstance() : filter;
    if (f.getStatesCount() > 1) {
      throw new IllegalArgumentException("listJobs filters by one state at most, got " + f.getStatesList());
    }
    ListJobsRequest.Builder req =
        ListJobsRequest.newBuilder()
            .setQueue(f.getQueue())
            .setPriority(f.getPriority())
            .putAllTags(f.getTagsMap())
            .setPayloadContains(f.getPayloadContains())
            .setErrorContains(f.getErrorContains())
            .setPageSize(pageSize)
            .setPageToken(pageToken == null ? "" : pageToken);
    if (f.getStatesCount() == 1) {
      req.setState(f.getStates(0));
    }
    if (f.hasCreatedAfter()) {
      req.setCreatedAfter(f.getCreatedAfter());
    }
    if (f.hasCreatedBefore()) {
      req.setCreatedBefore(f.getCreatedBefore());
    }
    return listJobs(req.build());
  }

  /** ListJobs with every field of the request (e.g. {@code consistent} reads). */
  public ListJobsResponse listJobs(ListJobsRequest request) {
    return call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).listJobs(request));
  }

  /** Cancels a job that is not finished; a running one's worker is told to stop. */
  public JobState cancelJob(String id) {
    CancelJobRequest req = CancelJobRequest.newBuilder().setJobId(id).build();
    return call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).cancelJob(req)).getState();
  }

  /** Puts a dead, cancelled or completed job back to pending with a fresh attempt budget. */
  public JobState retryJob(String id) {
    RetryJobRequest req = RetryJobRequest.newBuilder().setJobId(id).build();
    return call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).retryJob(req)).getState();
  }

  /** Removes a job that is not active. */
  public void deleteJob(String id) {
    DeleteJobRequest req = DeleteJobRequest.newBuilder().setJobId(id).build();
    call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).deleteJob(req));
  }

  /** Acts on jobs by id (at most 1000; one result each). */
  public BulkJobsResponse bulkJobs(BulkAction action, List<String> ids) {
    return bulkJobs(BulkJobsRequest.newBuilder().setAction(action).addAllJobIds(ids).build());
  }

  /** Acts on the jobs a filter selects; beyond 1000 the answer names an operation to follow. */
  public BulkJobsResponse bulkJobs(BulkAction action, JobFilter filter) {
    return bulkJobs(BulkJobsRequest.newBuilder().setAction(action).setFilter(filter).build());
  }

  /** BulkJobs with every field of the request (move target, priority, all jobs). */
  public BulkJobsResponse bulkJobs(BulkJobsRequest request) {
    return call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).bulkJobs(request));
  }

  /** A bulk operation's progress (from bulkJobs, clearQueue or destroyQueue). */
  public Operation getOperation(String id) {
    GetOperationRequest req = GetOperationRequest.newBuilder().setOperationId(id).build();
    return call(callTimeout, (ch, d) -> JobServiceGrpc.newBlockingStub(ch).withDeadline(d).getOperation(req))
        .getOperation();
  }

  // ---- queues -------------------------------------------------------------------------------

  public List<Queue> listQueues() {
    ListQueuesRequest req = ListQueuesRequest.getDefaultInstance();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).listQueues(req))
        .getQueuesList();
  }

  public Queue getQueue(String name) {
    GetQueueRequest req = GetQueueRequest.newBuilder().setQueue(name).build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).getQueue(req)).getQueue();
  }

  /** Stops handing out the queue's jobs (enqueues are still accepted). */
  public Queue pauseQueue(String name) {
    PauseQueueRequest req = PauseQueueRequest.newBuilder().setQueue(name).build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).pauseQueue(req))
        .getQueue();
  }

  public Queue resumeQueue(String name) {
    ResumeQueueRequest req = ResumeQueueRequest.newBuilder().setQueue(name).build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).resumeQueue(req))
        .getQueue();
  }

  /** Pauses the queue, then waits up to {@code wait} (at most 10 min) for its active jobs. */
  public DrainQueueResponse drainQueue(String name, Duration wait) {
    DrainQueueRequest req = DrainQueueRequest.newBuilder().setQueue(name).setWaitMs((int) wait.toMillis()).build();
    return call(callTimeout.plus(wait), (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).drainQueue(req));
  }

  /** Removes the queue's pending, scheduled and retrying jobs. */
  public ClearQueueResponse clearQueue(String name) {
    ClearQueueRequest req = ClearQueueRequest.newBuilder().setQueue(name).build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).clearQueue(req));
  }

  /** Removes every job of the queue and its settings; {@code confirm} must repeat the name. */
  public String destroyQueue(String name, String confirm) {
    DestroyQueueRequest req = DestroyQueueRequest.newBuilder().setQueue(name).setConfirm(confirm).build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).destroyQueue(req))
        .getOperationId();
  }

  /**
   * Sets (0: removes) the queue's concurrency limit and its rate limit of {@code rateStarts}
   * starts per {@code rateWindow} (null: the server's default of 1 s).
   */
  public Queue setQueueLimits(String name, int concurrency, int rateStarts, Duration rateWindow) {
    SetQueueLimitsRequest req =
        SetQueueLimitsRequest.newBuilder()
            .setQueue(name)
            .setConcurrency(concurrency)
            .setRateStarts(rateStarts)
            .setRateWindowMs(rateWindow == null ? 0 : rateWindow.toMillis())
            .build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).setQueueLimits(req))
        .getQueue();
  }

  /** Sets how long finished and dead jobs of the queue are kept (null: the cluster default). */
  public Queue setQueueRetention(String name, Duration retention, Duration deadRetention) {
    SetQueueRetentionRequest req =
        SetQueueRetentionRequest.newBuilder()
            .setQueue(name)
            .setRetentionMs(retention == null ? 0 : retention.toMillis())
            .setDeadRetentionMs(deadRetention == null ? 0 : deadRetention.toMillis())
            .build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).setQueueRetention(req))
        .getQueue();
  }

  /** The worker streams connected, only those taking jobs from {@code queue} unless null. */
  public List<WorkerStream> listWorkers(String queue) {
    ListWorkersRequest req = ListWorkersRequest.newBuilder().setQueue(queue == null ? "" : queue).build();
    return call(callTimeout, (ch, d) -> QueueServiceGrpc.newBlockingStub(ch).withDeadline(d).listWorkers(req))
        .getWorkersList();
  }

  @Override
  public void close() {
    connections.close();
  }

  // ---- calls --------------------------------------------------------------------------------

  @FunctionalInterface
  private interface Attempt<T> {
    T run(Channel channel, Deadline deadline);
  }

  private <T> T call(Duration timeout, Attempt<T> attempt) {
    Retry retry = new Retry(timeout);
    while (true) {
      Connections.Target target = connections.current();
      try {
        return attempt.run(connections.channel(target), Deadline.after(retry.remainingNanos(), TimeUnit.NANOSECONDS));
      } catch (StatusRuntimeException e) {
        if (!retry.again(target, e)) {
          throw CorvoException.from(e);
        }
      }
    }
  }

  /** The attempts of one call: where to go next and how long to wait first. */
  private final class Retry {
    final long deadline;
    final Backoff backoff = new Backoff();
    int attempts;

    Retry(Duration timeout) {
      deadline = System.nanoTime() + timeout.toNanos();
    }

    long remainingNanos() {
      return Math.max(0, deadline - System.nanoTime());
    }

    boolean again(Connections.Target target, StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      long pushback = CorvoException.pushbackMs(e.getTrailers());
      String leader = CorvoException.leader(e.getTrailers());
      boolean retryable = code == Status.Code.UNAVAILABLE || (code == Status.Code.RESOURCE_EXHAUSTED && pushback > 0);
      if (!retryable) {
        return false;
      }
      if (leader == null && pushback == 0) {
        // No answer from the server itself: a transport failure, so the next URL.
        connections.failed(target);
        return pause(attempts < connections.size() ? 0 : backoff.nextMs(0));
      }
      return follow(target, leader, pushback);
    }

    /** A stream frame refused whole with {@code code}. */
    boolean again(Connections.Target target, ErrorCode code, long retryAfterMs, String leaderAddr) {
      if (code == ErrorCode.ERROR_CODE_NOT_LEADER) {
        return follow(target, leaderAddr.isEmpty() ? null : leaderAddr, retryAfterMs);
      }
      return Outbox.retryable(code) && pause(backoff.nextMs(retryAfterMs));
    }

    private boolean follow(Connections.Target target, String leader, long pushback) {
      if (leader != null) {
        connections.followLeader(target, leader);
        return pause(0);
      }
      return pause(backoff.nextMs(pushback));
    }

    private boolean pause(long waitMs) {
      attempts++;
      if (attempts > connections.size() + EXTRA_ATTEMPTS) {
        return false;
      }
      if (TimeUnit.MILLISECONDS.toNanos(waitMs) >= remainingNanos()) {
        return false;
      }
      try {
        Thread.sleep(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CorvoException(Status.Code.CANCELLED, ErrorCode.ERROR_CODE_UNSPECIFIED, "interrupted", 0, e);
      }
      return true;
    }
  }

  private static String payloadJson(Object payload) {
    String json = Json.encode(payload, "payload");
    return json == null ? "{}" : json;
  }

  private static Metadata traceHeaders() {
    Metadata headers = new Metadata();
    Tracing.inject(headers);
    return headers;
  }

  private static String messageOf(StatusRuntimeException e) {
    String d = e.getStatus().getDescription();
    return d == null ? e.getStatus().getCode().toString() : d;
  }

  /** Builds a {@link CorvoClient}. */
  public static final class Builder {
    private final Connections.Settings settings = new Connections.Settings();
    private Duration callTimeout = Duration.ofSeconds(30);

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

    /** How long one call may take, retries included (default 30 s). */
    public Builder callTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("callTimeout must be positive");
      }
      this.callTimeout = timeout;
      return this;
    }

    public CorvoClient build() {
      return new CorvoClient(this);
    }
  }
}
