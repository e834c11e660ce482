package dev.corvo.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * QueueService is the operator's view of queues: what each holds and how fast it moves, and
 * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
 * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
 * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
 * name is an error, not a new paused queue). Limits and retention may be set before a queue's
 * first job. Settings are replicated state: they hold on
 * every node and across leader changes, and the limits are enforced where jobs are leased,
 * for worker streams and unary fetches alike. Admin and operator keys may call every method;
 * readonly keys ListQueues, GetQueue and ListWorkers.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler (version 1.71.0)",
    comments = "Source: corvo/v1/queue.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class QueueServiceGrpc {

  private QueueServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "corvo.v1.QueueService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ListQueuesRequest,
      dev.corvo.v1.ListQueuesResponse> getListQueuesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListQueues",
      requestType = dev.corvo.v1.ListQueuesRequest.class,
      responseType = dev.corvo.v1.ListQueuesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ListQueuesRequest,
      dev.corvo.v1.ListQueuesResponse> getListQueuesMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ListQueuesRequest, dev.corvo.v1.ListQueuesResponse> getListQueuesMethod;
    if ((getListQueuesMethod = QueueServiceGrpc.getListQueuesMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getListQueuesMethod = QueueServiceGrpc.getListQueuesMethod) == null) {
          QueueServiceGrpc.getListQueuesMethod = getListQueuesMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ListQueuesRequest, dev.corvo.v1.ListQueuesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListQueues"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListQueuesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListQueuesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("ListQueues"))
              .build();
        }
      }
    }
    return getListQueuesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetQueueRequest,
      dev.corvo.v1.GetQueueResponse> getGetQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetQueue",
      requestType = dev.corvo.v1.GetQueueRequest.class,
      responseType = dev.corvo.v1.GetQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetQueueRequest,
      dev.corvo.v1.GetQueueResponse> getGetQueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetQueueRequest, dev.corvo.v1.GetQueueResponse> getGetQueueMethod;
    if ((getGetQueueMethod = QueueServiceGrpc.getGetQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getGetQueueMethod = QueueServiceGrpc.getGetQueueMethod) == null) {
          QueueServiceGrpc.getGetQueueMethod = getGetQueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetQueueRequest, dev.corvo.v1.GetQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("GetQueue"))
              .build();
        }
      }
    }
    return getGetQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.PauseQueueRequest,
      dev.corvo.v1.PauseQueueResponse> getPauseQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PauseQueue",
      requestType = dev.corvo.v1.PauseQueueRequest.class,
      responseType = dev.corvo.v1.PauseQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.PauseQueueRequest,
      dev.corvo.v1.PauseQueueResponse> getPauseQueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.PauseQueueRequest, dev.corvo.v1.PauseQueueResponse> getPauseQueueMethod;
    if ((getPauseQueueMethod = QueueServiceGrpc.getPauseQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getPauseQueueMethod = QueueServiceGrpc.getPauseQueueMethod) == null) {
          QueueServiceGrpc.getPauseQueueMethod = getPauseQueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.PauseQueueRequest, dev.corvo.v1.PauseQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PauseQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.PauseQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.PauseQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("PauseQueue"))
              .build();
        }
      }
    }
    return getPauseQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ResumeQueueRequest,
      dev.corvo.v1.ResumeQueueResponse> getResumeQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResumeQueue",
      requestType = dev.corvo.v1.ResumeQueueRequest.class,
      responseType = dev.corvo.v1.ResumeQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ResumeQueueRequest,
      dev.corvo.v1.ResumeQueueResponse> getResumeQueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ResumeQueueRequest, dev.corvo.v1.ResumeQueueResponse> getResumeQueueMethod;
    if ((getResumeQueueMethod = QueueServiceGrpc.getResumeQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getResumeQueueMethod = QueueServiceGrpc.getResumeQueueMethod) == null) {
          QueueServiceGrpc.getResumeQueueMethod = getResumeQueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ResumeQueueRequest, dev.corvo.v1.ResumeQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResumeQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ResumeQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ResumeQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("ResumeQueue"))
              .build();
        }
      }
    }
    return getResumeQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.DrainQueueRequest,
      dev.corvo.v1.DrainQueueResponse> getDrainQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DrainQueue",
      requestType = dev.corvo.v1.DrainQueueRequest.class,
      responseType = dev.corvo.v1.DrainQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.DrainQueueRequest,
      dev.corvo.v1.DrainQueueResponse> getDrainQueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.DrainQueueRequest, dev.corvo.v1.DrainQueueResponse> getDrainQueueMethod;
    if ((getDrainQueueMethod = QueueServiceGrpc.getDrainQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getDrainQueueMethod = QueueServiceGrpc.getDrainQueueMethod) == null) {
          QueueServiceGrpc.getDrainQueueMethod = getDrainQueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.DrainQueueRequest, dev.corvo.v1.DrainQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DrainQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.DrainQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.DrainQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("DrainQueue"))
              .build();
        }
      }
    }
    return getDrainQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ClearQueueRequest,
      dev.corvo.v1.ClearQueueResponse> getClearQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ClearQueue",
      requestType = dev.corvo.v1.ClearQueueRequest.class,
      responseType = dev.corvo.v1.ClearQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ClearQueueRequest,
      dev.corvo.v1.ClearQueueResponse> getClearQueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ClearQueueRequest, dev.corvo.v1.ClearQueueResponse> getClearQueueMethod;
    if ((getClearQueueMethod = QueueServiceGrpc.getClearQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getClearQueueMethod = QueueServiceGrpc.getClearQueueMethod) == null) {
          QueueServiceGrpc.getClearQueueMethod = getClearQueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ClearQueueRequest, dev.corvo.v1.ClearQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ClearQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ClearQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ClearQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("ClearQueue"))
              .build();
        }
      }
    }
    return getClearQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.DestroyQueueRequest,
      dev.corvo.v1.DestroyQueueResponse> getDestroyQueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DestroyQueue",
      requestType = dev.corvo.v1.DestroyQueueRequest.class,
      responseType = dev.corvo.v1.DestroyQueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.DestroyQueueRequest,
      dev.corvo.v1.DestroyQueueResponse> getDestroyQueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.DestroyQueueRequest, dev.corvo.v1.DestroyQueueResponse> getDestroyQueueMethod;
    if ((getDestroyQueueMethod = QueueServiceGrpc.getDestroyQueueMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getDestroyQueueMethod = QueueServiceGrpc.getDestroyQueueMethod) == null) {
          QueueServiceGrpc.getDestroyQueueMethod = getDestroyQueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.DestroyQueueRequest, dev.corvo.v1.DestroyQueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DestroyQueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.DestroyQueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.DestroyQueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("DestroyQueue"))
              .build();
        }
      }
    }
    return getDestroyQueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.SetQueueLimitsRequest,
      dev.corvo.v1.SetQueueLimitsResponse> getSetQueueLimitsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SetQueueLimits",
      requestType = dev.corvo.v1.SetQueueLimitsRequest.class,
      responseType = dev.corvo.v1.SetQueueLimitsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.SetQueueLimitsRequest,
      dev.corvo.v1.SetQueueLimitsResponse> getSetQueueLimitsMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.SetQueueLimitsRequest, dev.corvo.v1.SetQueueLimitsResponse> getSetQueueLimitsMethod;
    if ((getSetQueueLimitsMethod = QueueServiceGrpc.getSetQueueLimitsMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getSetQueueLimitsMethod = QueueServiceGrpc.getSetQueueLimitsMethod) == null) {
          QueueServiceGrpc.getSetQueueLimitsMethod = getSetQueueLimitsMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.SetQueueLimitsRequest, dev.corvo.v1.SetQueueLimitsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SetQueueLimits"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.SetQueueLimitsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.SetQueueLimitsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("SetQueueLimits"))
              .build();
        }
      }
    }
    return getSetQueueLimitsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.SetQueueRetentionRequest,
      dev.corvo.v1.SetQueueRetentionResponse> getSetQueueRetentionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "SetQueueRetention",
      requestType = dev.corvo.v1.SetQueueRetentionRequest.class,
      responseType = dev.corvo.v1.SetQueueRetentionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.SetQueueRetentionRequest,
      dev.corvo.v1.SetQueueRetentionResponse> getSetQueueRetentionMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.SetQueueRetentionRequest, dev.corvo.v1.SetQueueRetentionResponse> getSetQueueRetentionMethod;
    if ((getSetQueueRetentionMethod = QueueServiceGrpc.getSetQueueRetentionMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getSetQueueRetentionMethod = QueueServiceGrpc.getSetQueueRetentionMethod) == null) {
          QueueServiceGrpc.getSetQueueRetentionMethod = getSetQueueRetentionMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.SetQueueRetentionRequest, dev.corvo.v1.SetQueueRetentionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "SetQueueRetention"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.SetQueueRetentionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.SetQueueRetentionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("SetQueueRetention"))
              .build();
        }
      }
    }
    return getSetQueueRetentionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ListWorkersRequest,
      dev.corvo.v1.ListWorkersResponse> getListWorkersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListWorkers",
      requestType = dev.corvo.v1.ListWorkersRequest.class,
      responseType = dev.corvo.v1.ListWorkersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ListWorkersRequest,
      dev.corvo.v1.ListWorkersResponse> getListWorkersMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ListWorkersRequest, dev.corvo.v1.ListWorkersResponse> getListWorkersMethod;
    if ((getListWorkersMethod = QueueServiceGrpc.getListWorkersMethod) == null) {
      synchronized (QueueServiceGrpc.class) {
        if ((getListWorkersMethod = QueueServiceGrpc.getListWorkersMethod) == null) {
          QueueServiceGrpc.getListWorkersMethod = getListWorkersMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ListWorkersRequest, dev.corvo.v1.ListWorkersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListWorkers"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListWorkersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListWorkersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new QueueServiceMethodDescriptorSupplier("ListWorkers"))
              .build();
        }
      }
    }
    return getListWorkersMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static QueueServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceStub>() {
        @java.lang.Override
        public QueueServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceStub(channel, callOptions);
        }
      };
    return QueueServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static QueueServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceBlockingV2Stub>() {
        @java.lang.Override
        public QueueServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return QueueServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static QueueServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceBlockingStub>() {
        @java.lang.Override
        public QueueServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceBlockingStub(channel, callOptions);
        }
      };
    return QueueServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static QueueServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<QueueServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<QueueServiceFutureStub>() {
        @java.lang.Override
        public QueueServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new QueueServiceFutureStub(channel, callOptions);
        }
      };
    return QueueServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * QueueService is the operator's view of queues: what each holds and how fast it moves, and
   * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
   * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
   * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
   * name is an error, not a new paused queue). Limits and retention may be set before a queue's
   * first job. Settings are replicated state: they hold on
   * every node and across leader changes, and the limits are enforced where jobs are leased,
   * for worker streams and unary fetches alike. Admin and operator keys may call every method;
   * readonly keys ListQueues, GetQueue and ListWorkers.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Every queue with jobs or settings, in name order, with its counts, rates and settings.
     * </pre>
     */
    default void listQueues(dev.corvo.v1.ListQueuesRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListQueuesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListQueuesMethod(), responseObserver);
    }

    /**
     * <pre>
     * One queue. NOT_FOUND when it has neither jobs nor settings.
     * </pre>
     */
    default void getQueue(dev.corvo.v1.GetQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Stop handing out the queue's jobs, on every stream and fetch at once. Enqueues are still
     * accepted; active jobs run on. Idempotent.
     * </pre>
     */
    default void pauseQueue(dev.corvo.v1.PauseQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.PauseQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPauseQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Hand out the queue's jobs again.
     * </pre>
     */
    default void resumeQueue(dev.corvo.v1.ResumeQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ResumeQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResumeQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Pause the queue, then wait (at most `wait_ms`, up to 600000) until no job of it is active.
     * The queue stays paused; `drained` says whether the active jobs are all gone.
     * </pre>
     */
    default void drainQueue(dev.corvo.v1.DrainQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.DrainQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDrainQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Remove the queue's pending, scheduled and retrying jobs (from the state, the read view and
     * every fetch); active and finished jobs stay. Runs in bounded batches: small queues answer
     * with the count, larger ones with an operation to follow (JobService.GetOperation).
     * </pre>
     */
    default void clearQueue(dev.corvo.v1.ClearQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ClearQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getClearQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Remove every job of the queue (active ones too: their workers are told to stop) and its
     * settings. `confirm` must repeat the queue's name. Runs as an operation.
     * </pre>
     */
    default void destroyQueue(dev.corvo.v1.DestroyQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.DestroyQueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDestroyQueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Set or remove the queue's concurrency limit (never more active jobs than this) and rate
     * limit (at most `rate_starts` jobs start per `rate_window_ms`).
     * </pre>
     */
    default void setQueueLimits(dev.corvo.v1.SetQueueLimitsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.SetQueueLimitsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetQueueLimitsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Set or remove the queue's retention overrides: how long its completed and cancelled jobs
     * (`retention_ms`) and dead jobs (`dead_retention_ms`) are kept before they are removed.
     * Shorter values apply to jobs that finish afterwards.
     * </pre>
     */
    default void setQueueRetention(dev.corvo.v1.SetQueueRetentionRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.SetQueueRetentionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetQueueRetentionMethod(), responseObserver);
    }

    /**
     * <pre>
     * The worker streams connected to the answering node (the leader serves them all, unless a
     * follower could not reach it).
     * </pre>
     */
    default void listWorkers(dev.corvo.v1.ListWorkersRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListWorkersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListWorkersMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service QueueService.
   * <pre>
   * QueueService is the operator's view of queues: what each holds and how fast it moves, and
   * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
   * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
   * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
   * name is an error, not a new paused queue). Limits and retention may be set before a queue's
   * first job. Settings are replicated state: they hold on
   * every node and across leader changes, and the limits are enforced where jobs are leased,
   * for worker streams and unary fetches alike. Admin and operator keys may call every method;
   * readonly keys ListQueues, GetQueue and ListWorkers.
   * </pre>
   */
  public static abstract class QueueServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return QueueServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service QueueService.
   * <pre>
   * QueueService is the operator's view of queues: what each holds and how fast it moves, and
   * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
   * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
   * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
   * name is an error, not a new paused queue). Limits and retention may be set before a queue's
   * first job. Settings are replicated state: they hold on
   * every node and across leader changes, and the limits are enforced where jobs are leased,
   * for worker streams and unary fetches alike. Admin and operator keys may call every method;
   * readonly keys ListQueues, GetQueue and ListWorkers.
   * </pre>
   */
  public static final class QueueServiceStub
      extends io.grpc.stub.AbstractAsyncStub<QueueServiceStub> {
    private QueueServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Every queue with jobs or settings, in name order, with its counts, rates and settings.
     * </pre>
     */
    public void listQueues(dev.corvo.v1.ListQueuesRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListQueuesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListQueuesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * One queue. NOT_FOUND when it has neither jobs nor settings.
     * </pre>
     */
    public void getQueue(dev.corvo.v1.GetQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Stop handing out the queue's jobs, on every stream and fetch at once. Enqueues are still
     * accepted; active jobs run on. Idempotent.
     * </pre>
     */
    public void pauseQueue(dev.corvo.v1.PauseQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.PauseQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPauseQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Hand out the queue's jobs again.
     * </pre>
     */
    public void resumeQueue(dev.corvo.v1.ResumeQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ResumeQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResumeQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Pause the queue, then wait (at most `wait_ms`, up to 600000) until no job of it is active.
     * The queue stays paused; `drained` says whether the active jobs are all gone.
     * </pre>
     */
    public void drainQueue(dev.corvo.v1.DrainQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.DrainQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDrainQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Remove the queue's pending, scheduled and retrying jobs (from the state, the read view and
     * every fetch); active and finished jobs stay. Runs in bounded batches: small queues answer
     * with the count, larger ones with an operation to follow (JobService.GetOperation).
     * </pre>
     */
    public void clearQueue(dev.corvo.v1.ClearQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ClearQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getClearQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Remove every job of the queue (active ones too: their workers are told to stop) and its
     * settings. `confirm` must repeat the queue's name. Runs as an operation.
     * </pre>
     */
    public void destroyQueue(dev.corvo.v1.DestroyQueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.DestroyQueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDestroyQueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Set or remove the queue's concurrency limit (never more active jobs than this) and rate
     * limit (at most `rate_starts` jobs start per `rate_window_ms`).
     * </pre>
     */
    public void setQueueLimits(dev.corvo.v1.SetQueueLimitsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.SetQueueLimitsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetQueueLimitsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Set or remove the queue's retention overrides: how long its completed and cancelled jobs
     * (`retention_ms`) and dead jobs (`dead_retention_ms`) are kept before they are removed.
     * Shorter values apply to jobs that finish afterwards.
     * </pre>
     */
    public void setQueueRetention(dev.corvo.v1.SetQueueRetentionRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.SetQueueRetentionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetQueueRetentionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The worker streams connected to the answering node (the leader serves them all, unless a
     * follower could not reach it).
     * </pre>
     */
    public void listWorkers(dev.corvo.v1.ListWorkersRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListWorkersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListWorkersMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service QueueService.
   * <pre>
   * QueueService is the operator's view of queues: what each holds and how fast it moves, and
   * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
   * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
   * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
   * name is an error, not a new paused queue). Limits and retention may be set before a queue's
   * first job. Settings are replicated state: they hold on
   * every node and across leader changes, and the limits are enforced where jobs are leased,
   * for worker streams and unary fetches alike. Admin and operator keys may call every method;
   * readonly keys ListQueues, GetQueue and ListWorkers.
   * </pre>
   */
  public static final class QueueServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<QueueServiceBlockingV2Stub> {
    private QueueServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Every queue with jobs or settings, in name order, with its counts, rates and settings.
     * </pre>
     */
    public dev.corvo.v1.ListQueuesResponse listQueues(dev.corvo.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListQueuesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One queue. NOT_FOUND when it has neither jobs nor settings.
     * </pre>
     */
    public dev.corvo.v1.GetQueueResponse getQueue(dev.corvo.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Stop handing out the queue's jobs, on every stream and fetch at once. Enqueues are still
     * accepted; active jobs run on. Idempotent.
     * </pre>
     */
    public dev.corvo.v1.PauseQueueResponse pauseQueue(dev.corvo.v1.PauseQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPauseQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hand out the queue's jobs again.
     * </pre>
     */
    public dev.corvo.v1.ResumeQueueResponse resumeQueue(dev.corvo.v1.ResumeQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResumeQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pause the queue, then wait (at most `wait_ms`, up to 600000) until no job of it is active.
     * The queue stays paused; `drained` says whether the active jobs are all gone.
     * </pre>
     */
    public dev.corvo.v1.DrainQueueResponse drainQueue(dev.corvo.v1.DrainQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDrainQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Remove the queue's pending, scheduled and retrying jobs (from the state, the read view and
     * every fetch); active and finished jobs stay. Runs in bounded batches: small queues answer
     * with the count, larger ones with an operation to follow (JobService.GetOperation).
     * </pre>
     */
    public dev.corvo.v1.ClearQueueResponse clearQueue(dev.corvo.v1.ClearQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getClearQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Remove every job of the queue (active ones too: their workers are told to stop) and its
     * settings. `confirm` must repeat the queue's name. Runs as an operation.
     * </pre>
     */
    public dev.corvo.v1.DestroyQueueResponse destroyQueue(dev.corvo.v1.DestroyQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDestroyQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Set or remove the queue's concurrency limit (never more active jobs than this) and rate
     * limit (at most `rate_starts` jobs start per `rate_window_ms`).
     * </pre>
     */
    public dev.corvo.v1.SetQueueLimitsResponse setQueueLimits(dev.corvo.v1.SetQueueLimitsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetQueueLimitsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Set or remove the queue's retention overrides: how long its completed and cancelled jobs
     * (`retention_ms`) and dead jobs (`dead_retention_ms`) are kept before they are removed.
     * Shorter values apply to jobs that finish afterwards.
     * </pre>
     */
    public dev.corvo.v1.SetQueueRetentionResponse setQueueRetention(dev.corvo.v1.SetQueueRetentionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetQueueRetentionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The worker streams connected to the answering node (the leader serves them all, unless a
     * follower could not reach it).
     * </pre>
     */
    public dev.corvo.v1.ListWorkersResponse listWorkers(dev.corvo.v1.ListWorkersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListWorkersMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service QueueService.
   * <pre>
   * QueueService is the operator's view of queues: what each holds and how fast it moves, and
   * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
   * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
   * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
   * name is an error, not a new paused queue). Limits and retention may be set before a queue's
   * first job. Settings are replicated state: they hold on
   * every node and across leader changes, and the limits are enforced where jobs are leased,
   * for worker streams and unary fetches alike. Admin and operator keys may call every method;
   * readonly keys ListQueues, GetQueue and ListWorkers.
   * </pre>
   */
  public static final class QueueServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<QueueServiceBlockingStub> {
    private QueueServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Every queue with jobs or settings, in name order, with its counts, rates and settings.
     * </pre>
     */
    public dev.corvo.v1.ListQueuesResponse listQueues(dev.corvo.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListQueuesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One queue. NOT_FOUND when it has neither jobs nor settings.
     * </pre>
     */
    public dev.corvo.v1.GetQueueResponse getQueue(dev.corvo.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Stop handing out the queue's jobs, on every stream and fetch at once. Enqueues are still
     * accepted; active jobs run on. Idempotent.
     * </pre>
     */
    public dev.corvo.v1.PauseQueueResponse pauseQueue(dev.corvo.v1.PauseQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPauseQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Hand out the queue's jobs again.
     * </pre>
     */
    public dev.corvo.v1.ResumeQueueResponse resumeQueue(dev.corvo.v1.ResumeQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResumeQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Pause the queue, then wait (at most `wait_ms`, up to 600000) until no job of it is active.
     * The queue stays paused; `drained` says whether the active jobs are all gone.
     * </pre>
     */
    public dev.corvo.v1.DrainQueueResponse drainQueue(dev.corvo.v1.DrainQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDrainQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Remove the queue's pending, scheduled and retrying jobs (from the state, the read view and
     * every fetch); active and finished jobs stay. Runs in bounded batches: small queues answer
     * with the count, larger ones with an operation to follow (JobService.GetOperation).
     * </pre>
     */
    public dev.corvo.v1.ClearQueueResponse clearQueue(dev.corvo.v1.ClearQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getClearQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Remove every job of the queue (active ones too: their workers are told to stop) and its
     * settings. `confirm` must repeat the queue's name. Runs as an operation.
     * </pre>
     */
    public dev.corvo.v1.DestroyQueueResponse destroyQueue(dev.corvo.v1.DestroyQueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDestroyQueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Set or remove the queue's concurrency limit (never more active jobs than this) and rate
     * limit (at most `rate_starts` jobs start per `rate_window_ms`).
     * </pre>
     */
    public dev.corvo.v1.SetQueueLimitsResponse setQueueLimits(dev.corvo.v1.SetQueueLimitsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetQueueLimitsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Set or remove the queue's retention overrides: how long its completed and cancelled jobs
     * (`retention_ms`) and dead jobs (`dead_retention_ms`) are kept before they are removed.
     * Shorter values apply to jobs that finish afterwards.
     * </pre>
     */
    public dev.corvo.v1.SetQueueRetentionResponse setQueueRetention(dev.corvo.v1.SetQueueRetentionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetQueueRetentionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The worker streams connected to the answering node (the leader serves them all, unless a
     * follower could not reach it).
     * </pre>
     */
    public dev.corvo.v1.ListWorkersResponse listWorkers(dev.corvo.v1.ListWorkersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListWorkersMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service QueueService.
   * <pre>
   * QueueService is the operator's view of queues: what each holds and how fast it moves, and
   * the levers: pause, resume, drain, clear, destroy, concurrency and rate limits, retention.
   * A queue exists while it has jobs or settings; every method but ListQueues, SetQueueLimits,
   * SetQueueRetention and ListWorkers answers NOT_FOUND for one that does not (so a mistyped
   * name is an error, not a new paused queue). Limits and retention may be set before a queue's
   * first job. Settings are replicated state: they hold on
   * every node and across leader changes, and the limits are enforced where jobs are leased,
   * for worker streams and unary fetches alike. Admin and operator keys may call every method;
   * readonly keys ListQueues, GetQueue and ListWorkers.
   * </pre>
   */
  public static final class QueueServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<QueueServiceFutureStub> {
    private QueueServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected QueueServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new QueueServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Every queue with jobs or settings, in name order, with its counts, rates and settings.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ListQueuesResponse> listQueues(
        dev.corvo.v1.ListQueuesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListQueuesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * One queue. NOT_FOUND when it has neither jobs nor settings.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetQueueResponse> getQueue(
        dev.corvo.v1.GetQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Stop handing out the queue's jobs, on every stream and fetch at once. Enqueues are still
     * accepted; active jobs run on. Idempotent.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.PauseQueueResponse> pauseQueue(
        dev.corvo.v1.PauseQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPauseQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Hand out the queue's jobs again.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ResumeQueueResponse> resumeQueue(
        dev.corvo.v1.ResumeQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResumeQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Pause the queue, then wait (at most `wait_ms`, up to 600000) until no job of it is active.
     * The queue stays paused; `drained` says whether the active jobs are all gone.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.DrainQueueResponse> drainQueue(
        dev.corvo.v1.DrainQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDrainQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Remove the queue's pending, scheduled and retrying jobs (from the state, the read view and
     * every fetch); active and finished jobs stay. Runs in bounded batches: small queues answer
     * with the count, larger ones with an operation to follow (JobService.GetOperation).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ClearQueueResponse> clearQueue(
        dev.corvo.v1.ClearQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getClearQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Remove every job of the queue (active ones too: their workers are told to stop) and its
     * settings. `confirm` must repeat the queue's name. Runs as an operation.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.DestroyQueueResponse> destroyQueue(
        dev.corvo.v1.DestroyQueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDestroyQueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Set or remove the queue's concurrency limit (never more active jobs than this) and rate
     * limit (at most `rate_starts` jobs start per `rate_window_ms`).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.SetQueueLimitsResponse> setQueueLimits(
        dev.corvo.v1.SetQueueLimitsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetQueueLimitsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Set or remove the queue's retention overrides: how long its completed and cancelled jobs
     * (`retention_ms`) and dead jobs (`dead_retention_ms`) are kept before they are removed.
     * Shorter values apply to jobs that finish afterwards.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.SetQueueRetentionResponse> setQueueRetention(
        dev.corvo.v1.SetQueueRetentionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetQueueRetentionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The worker streams connected to the answering node (the leader serves them all, unless a
     * follower could not reach it).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ListWorkersResponse> listWorkers(
        dev.corvo.v1.ListWorkersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListWorkersMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_LIST_QUEUES = 0;
  private static final int METHODID_GET_QUEUE = 1;
  private static final int METHODID_PAUSE_QUEUE = 2;
  private static final int METHODID_RESUME_QUEUE = 3;
  private static final int METHODID_DRAIN_QUEUE = 4;
  private static final int METHODID_CLEAR_QUEUE = 5;
  private static final int METHODID_DESTROY_QUEUE = 6;
  private static final int METHODID_SET_QUEUE_LIMITS = 7;
  private static final int METHODID_SET_QUEUE_RETENTION = 8;
  private static final int METHODID_LIST_WORKERS = 9;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_LIST_QUEUES:
          serviceImpl.listQueues((dev.corvo.v1.ListQueuesRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ListQueuesResponse>) responseObserver);
          break;
        case METHODID_GET_QUEUE:
          serviceImpl.getQueue((dev.corvo.v1.GetQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetQueueResponse>) responseObserver);
          break;
        case METHODID_PAUSE_QUEUE:
          serviceImpl.pauseQueue((dev.corvo.v1.PauseQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.PauseQueueResponse>) responseObserver);
          break;
        case METHODID_RESUME_QUEUE:
          serviceImpl.resumeQueue((dev.corvo.v1.ResumeQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ResumeQueueResponse>) responseObserver);
          break;
        case METHODID_DRAIN_QUEUE:
          serviceImpl.drainQueue((dev.corvo.v1.DrainQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.DrainQueueResponse>) responseObserver);
          break;
        case METHODID_CLEAR_QUEUE:
          serviceImpl.clearQueue((dev.corvo.v1.ClearQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ClearQueueResponse>) responseObserver);
          break;
        case METHODID_DESTROY_QUEUE:
          serviceImpl.destroyQueue((dev.corvo.v1.DestroyQueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.DestroyQueueResponse>) responseObserver);
          break;
        case METHODID_SET_QUEUE_LIMITS:
          serviceImpl.setQueueLimits((dev.corvo.v1.SetQueueLimitsRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.SetQueueLimitsResponse>) responseObserver);
          break;
        case METHODID_SET_QUEUE_RETENTION:
          serviceImpl.setQueueRetention((dev.corvo.v1.SetQueueRetentionRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.SetQueueRetentionResponse>) responseObserver);
          break;
        case METHODID_LIST_WORKERS:
          serviceImpl.listWorkers((dev.corvo.v1.ListWorkersRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ListWorkersResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getListQueuesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ListQueuesRequest,
              dev.corvo.v1.ListQueuesResponse>(
                service, METHODID_LIST_QUEUES)))
        .addMethod(
          getGetQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetQueueRequest,
              dev.corvo.v1.GetQueueResponse>(
                service, METHODID_GET_QUEUE)))
        .addMethod(
          getPauseQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.PauseQueueRequest,
              dev.corvo.v1.PauseQueueResponse>(
                service, METHODID_PAUSE_QUEUE)))
        .addMethod(
          getResumeQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ResumeQueueRequest,
              dev.corvo.v1.ResumeQueueResponse>(
                service, METHODID_RESUME_QUEUE)))
        .addMethod(
          getDrainQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.DrainQueueRequest,
              dev.corvo.v1.DrainQueueResponse>(
                service, METHODID_DRAIN_QUEUE)))
        .addMethod(
          getClearQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ClearQueueRequest,
              dev.corvo.v1.ClearQueueResponse>(
                service, METHODID_CLEAR_QUEUE)))
        .addMethod(
          getDestroyQueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.DestroyQueueRequest,
              dev.corvo.v1.DestroyQueueResponse>(
                service, METHODID_DESTROY_QUEUE)))
        .addMethod(
          getSetQueueLimitsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.SetQueueLimitsRequest,
              dev.corvo.v1.SetQueueLimitsResponse>(
                service, METHODID_SET_QUEUE_LIMITS)))
        .addMethod(
          getSetQueueRetentionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.SetQueueRetentionRequest,
              dev.corvo.v1.SetQueueRetentionResponse>(
                service, METHODID_SET_QUEUE_RETENTION)))
        .addMethod(
          getListWorkersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ListWorkersRequest,
              dev.corvo.v1.ListWorkersResponse>(
                service, METHODID_LIST_WORKERS)))
        .build();
  }

  private static abstract class QueueServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    QueueServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.corvo.v1.QueueProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("QueueService");
    }
  }

  private static final class QueueServiceFileDescriptorSupplier
      extends QueueServiceBaseDescriptorSupplier {
    QueueServiceFileDescriptorSupplier() {}
  }

  private static final class QueueServiceMethodDescriptorSupplier
      extends QueueServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    QueueServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (QueueServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new QueueServiceFileDescriptorSupplier())
              .addMethod(getListQueuesMethod())
              .addMethod(getGetQueueMethod())
              .addMethod(getPauseQueueMethod())
              .addMethod(getResumeQueueMethod())
              .addMethod(getDrainQueueMethod())
              .addMethod(getClearQueueMethod())
              .addMethod(getDestroyQueueMethod())
              .addMethod(getSetQueueLimitsMethod())
              .addMethod(getSetQueueRetentionMethod())
              .addMethod(getListWorkersMethod())
              .build();
        }
      }
    }
    return result;
  }
}
