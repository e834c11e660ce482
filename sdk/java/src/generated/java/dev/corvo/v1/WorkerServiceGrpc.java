package dev.corvo.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
 * over a long-lived bidirectional stream), report progress, and settle them.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler (version 1.71.0)",
    comments = "Source: corvo/v1/worker.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class WorkerServiceGrpc {

  private WorkerServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "corvo.v1.WorkerService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.EnqueueRequest,
      dev.corvo.v1.EnqueueResponse> getEnqueueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Enqueue",
      requestType = dev.corvo.v1.EnqueueRequest.class,
      responseType = dev.corvo.v1.EnqueueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.EnqueueRequest,
      dev.corvo.v1.EnqueueResponse> getEnqueueMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.EnqueueRequest, dev.corvo.v1.EnqueueResponse> getEnqueueMethod;
    if ((getEnqueueMethod = WorkerServiceGrpc.getEnqueueMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getEnqueueMethod = WorkerServiceGrpc.getEnqueueMethod) == null) {
          WorkerServiceGrpc.getEnqueueMethod = getEnqueueMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.EnqueueRequest, dev.corvo.v1.EnqueueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Enqueue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.EnqueueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.EnqueueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("Enqueue"))
              .build();
        }
      }
    }
    return getEnqueueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.FetchRequest,
      dev.corvo.v1.FetchResponse> getFetchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Fetch",
      requestType = dev.corvo.v1.FetchRequest.class,
      responseType = dev.corvo.v1.FetchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.FetchRequest,
      dev.corvo.v1.FetchResponse> getFetchMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.FetchRequest, dev.corvo.v1.FetchResponse> getFetchMethod;
    if ((getFetchMethod = WorkerServiceGrpc.getFetchMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getFetchMethod = WorkerServiceGrpc.getFetchMethod) == null) {
          WorkerServiceGrpc.getFetchMethod = getFetchMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.FetchRequest, dev.corvo.v1.FetchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Fetch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.FetchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.FetchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("Fetch"))
              .build();
        }
      }
    }
    return getFetchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.FetchBatchRequest,
      dev.corvo.v1.FetchBatchResponse> getFetchBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "FetchBatch",
      requestType = dev.corvo.v1.FetchBatchRequest.class,
      responseType = dev.corvo.v1.FetchBatchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.FetchBatchRequest,
      dev.corvo.v1.FetchBatchResponse> getFetchBatchMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.FetchBatchRequest, dev.corvo.v1.FetchBatchResponse> getFetchBatchMethod;
    if ((getFetchBatchMethod = WorkerServiceGrpc.getFetchBatchMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getFetchBatchMethod = WorkerServiceGrpc.getFetchBatchMethod) == null) {
          WorkerServiceGrpc.getFetchBatchMethod = getFetchBatchMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.FetchBatchRequest, dev.corvo.v1.FetchBatchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "FetchBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.FetchBatchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.FetchBatchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("FetchBatch"))
              .build();
        }
      }
    }
    return getFetchBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.AckRequest,
      dev.corvo.v1.AckResponse> getAckMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Ack",
      requestType = dev.corvo.v1.AckRequest.class,
      responseType = dev.corvo.v1.AckResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.AckRequest,
      dev.corvo.v1.AckResponse> getAckMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.AckRequest, dev.corvo.v1.AckResponse> getAckMethod;
    if ((getAckMethod = WorkerServiceGrpc.getAckMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getAckMethod = WorkerServiceGrpc.getAckMethod) == null) {
          WorkerServiceGrpc.getAckMethod = getAckMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.AckRequest, dev.corvo.v1.AckResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Ack"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.AckRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.AckResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("Ack"))
              .build();
        }
      }
    }
    return getAckMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.AckBatchRequest,
      dev.corvo.v1.AckBatchResponse> getAckBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AckBatch",
      requestType = dev.corvo.v1.AckBatchRequest.class,
      responseType = dev.corvo.v1.AckBatchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.AckBatchRequest,
      dev.corvo.v1.AckBatchResponse> getAckBatchMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.AckBatchRequest, dev.corvo.v1.AckBatchResponse> getAckBatchMethod;
    if ((getAckBatchMethod = WorkerServiceGrpc.getAckBatchMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getAckBatchMethod = WorkerServiceGrpc.getAckBatchMethod) == null) {
          WorkerServiceGrpc.getAckBatchMethod = getAckBatchMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.AckBatchRequest, dev.corvo.v1.AckBatchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AckBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.AckBatchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.AckBatchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("AckBatch"))
              .build();
        }
      }
    }
    return getAckBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.StreamLifecycleRequest,
      dev.corvo.v1.StreamLifecycleResponse> getStreamLifecycleMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamLifecycle",
      requestType = dev.corvo.v1.StreamLifecycleRequest.class,
      responseType = dev.corvo.v1.StreamLifecycleResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.StreamLifecycleRequest,
      dev.corvo.v1.StreamLifecycleResponse> getStreamLifecycleMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.StreamLifecycleRequest, dev.corvo.v1.StreamLifecycleResponse> getStreamLifecycleMethod;
    if ((getStreamLifecycleMethod = WorkerServiceGrpc.getStreamLifecycleMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getStreamLifecycleMethod = WorkerServiceGrpc.getStreamLifecycleMethod) == null) {
          WorkerServiceGrpc.getStreamLifecycleMethod = getStreamLifecycleMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.StreamLifecycleRequest, dev.corvo.v1.StreamLifecycleResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamLifecycle"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.StreamLifecycleRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.StreamLifecycleResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("StreamLifecycle"))
              .build();
        }
      }
    }
    return getStreamLifecycleMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.FailRequest,
      dev.corvo.v1.FailResponse> getFailMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Fail",
      requestType = dev.corvo.v1.FailRequest.class,
      responseType = dev.corvo.v1.FailResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.FailRequest,
      dev.corvo.v1.FailResponse> getFailMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.FailRequest, dev.corvo.v1.FailResponse> getFailMethod;
    if ((getFailMethod = WorkerServiceGrpc.getFailMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getFailMethod = WorkerServiceGrpc.getFailMethod) == null) {
          WorkerServiceGrpc.getFailMethod = getFailMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.FailRequest, dev.corvo.v1.FailResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Fail"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.FailRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.FailResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("Fail"))
              .build();
        }
      }
    }
    return getFailMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.HeartbeatRequest,
      dev.corvo.v1.HeartbeatResponse> getHeartbeatMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Heartbeat",
      requestType = dev.corvo.v1.HeartbeatRequest.class,
      responseType = dev.corvo.v1.HeartbeatResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.HeartbeatRequest,
      dev.corvo.v1.HeartbeatResponse> getHeartbeatMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.HeartbeatRequest, dev.corvo.v1.HeartbeatResponse> getHeartbeatMethod;
    if ((getHeartbeatMethod = WorkerServiceGrpc.getHeartbeatMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getHeartbeatMethod = WorkerServiceGrpc.getHeartbeatMethod) == null) {
          WorkerServiceGrpc.getHeartbeatMethod = getHeartbeatMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.HeartbeatRequest, dev.corvo.v1.HeartbeatResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Heartbeat"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.HeartbeatRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.HeartbeatResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("Heartbeat"))
              .build();
        }
      }
    }
    return getHeartbeatMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.SubscribeRequest,
      dev.corvo.v1.SubscribeResponse> getSubscribeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Subscribe",
      requestType = dev.corvo.v1.SubscribeRequest.class,
      responseType = dev.corvo.v1.SubscribeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.SubscribeRequest,
      dev.corvo.v1.SubscribeResponse> getSubscribeMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.SubscribeRequest, dev.corvo.v1.SubscribeResponse> getSubscribeMethod;
    if ((getSubscribeMethod = WorkerServiceGrpc.getSubscribeMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getSubscribeMethod = WorkerServiceGrpc.getSubscribeMethod) == null) {
          WorkerServiceGrpc.getSubscribeMethod = getSubscribeMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.SubscribeRequest, dev.corvo.v1.SubscribeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Subscribe"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.SubscribeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.SubscribeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("Subscribe"))
              .build();
        }
      }
    }
    return getSubscribeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetServerInfoRequest,
      dev.corvo.v1.GetServerInfoResponse> getGetServerInfoMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetServerInfo",
      requestType = dev.corvo.v1.GetServerInfoRequest.class,
      responseType = dev.corvo.v1.GetServerInfoResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetServerInfoRequest,
      dev.corvo.v1.GetServerInfoResponse> getGetServerInfoMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetServerInfoRequest, dev.corvo.v1.GetServerInfoResponse> getGetServerInfoMethod;
    if ((getGetServerInfoMethod = WorkerServiceGrpc.getGetServerInfoMethod) == null) {
      synchronized (WorkerServiceGrpc.class) {
        if ((getGetServerInfoMethod = WorkerServiceGrpc.getGetServerInfoMethod) == null) {
          WorkerServiceGrpc.getGetServerInfoMethod = getGetServerInfoMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetServerInfoRequest, dev.corvo.v1.GetServerInfoResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetServerInfo"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetServerInfoRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetServerInfoResponse.getDefaultInstance()))
              .setSchemaDescriptor(new WorkerServiceMethodDescriptorSupplier("GetServerInfo"))
              .build();
        }
      }
    }
    return getGetServerInfoMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static WorkerServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkerServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkerServiceStub>() {
        @java.lang.Override
        public WorkerServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkerServiceStub(channel, callOptions);
        }
      };
    return WorkerServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static WorkerServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkerServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkerServiceBlockingV2Stub>() {
        @java.lang.Override
        public WorkerServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkerServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return WorkerServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static WorkerServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkerServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkerServiceBlockingStub>() {
        @java.lang.Override
        public WorkerServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkerServiceBlockingStub(channel, callOptions);
        }
      };
    return WorkerServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static WorkerServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<WorkerServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<WorkerServiceFutureStub>() {
        @java.lang.Override
        public WorkerServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new WorkerServiceFutureStub(channel, callOptions);
        }
      };
    return WorkerServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
   * over a long-lived bidirectional stream), report progress, and settle them.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Enqueue one job. Returns the new job id, or the id of the existing job with status
     * "duplicate" when `options.unique_key` is held by a job enqueued within the unique period.
     * </pre>
     */
    default void enqueue(dev.corvo.v1.EnqueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.EnqueueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getEnqueueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lease at most one job from `queues`. Waits for work up to `max_wait_ms` (default 30 s)
     * and answers `found = false` when none arrived. An empty fetch never writes to the log.
     * </pre>
     */
    default void fetch(dev.corvo.v1.FetchRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.FetchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getFetchMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lease up to `count` jobs from `queues`, waiting like Fetch for the first one.
     * </pre>
     */
    default void fetchBatch(dev.corvo.v1.FetchBatchRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.FetchBatchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getFetchBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * Complete a leased job with an optional result. With `lease_token` set, an ack for a
     * lease that is no longer current fails with FAILED_PRECONDITION and changes nothing.
     * </pre>
     */
    default void ack(dev.corvo.v1.AckRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.AckResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAckMethod(), responseObserver);
    }

    /**
     * <pre>
     * Complete many leased jobs. Each item gets its own result; one bad item never fails the rest.
     * </pre>
     */
    default void ackBatch(dev.corvo.v1.AckBatchRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.AckBatchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAckBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * The worker's main loop on one stream: each frame may carry acks, fails, heartbeats,
     * enqueues and a fetch (legacy `fetch_count`) or a credit grant (`credits`). Legacy frames
     * get one response each; with credits the server pushes jobs as they become ready.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<dev.corvo.v1.StreamLifecycleRequest> streamLifecycle(
        io.grpc.stub.StreamObserver<dev.corvo.v1.StreamLifecycleResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getStreamLifecycleMethod(), responseObserver);
    }

    /**
     * <pre>
     * Report a failed attempt. The job is retried with its backoff, or becomes dead when it has
     * used all of its attempts.
     * </pre>
     */
    default void fail(dev.corvo.v1.FailRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.FailResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getFailMethod(), responseObserver);
    }

    /**
     * <pre>
     * Extend the leases of running jobs by their own lease duration and record progress and
     * checkpoints. Each job answers "ok", or "cancel" when the worker should stop it.
     * </pre>
     */
    default void heartbeat(dev.corvo.v1.HeartbeatRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.HeartbeatResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getHeartbeatMethod(), responseObserver);
    }

    /**
     * <pre>
     * Stream the event log, starting after `last_event_id`, then follow new events.
     * </pre>
     */
    default void subscribe(dev.corvo.v1.SubscribeRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.SubscribeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSubscribeMethod(), responseObserver);
    }

    /**
     * <pre>
     * The server's build version.
     * </pre>
     */
    default void getServerInfo(dev.corvo.v1.GetServerInfoRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetServerInfoResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetServerInfoMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service WorkerService.
   * <pre>
   * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
   * over a long-lived bidirectional stream), report progress, and settle them.
   * </pre>
   */
  public static abstract class WorkerServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return WorkerServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service WorkerService.
   * <pre>
   * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
   * over a long-lived bidirectional stream), report progress, and settle them.
   * </pre>
   */
  public static final class WorkerServiceStub
      extends io.grpc.stub.AbstractAsyncStub<WorkerServiceStub> {
    private WorkerServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkerServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkerServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Enqueue one job. Returns the new job id, or the id of the existing job with status
     * "duplicate" when `options.unique_key` is held by a job enqueued within the unique period.
     * </pre>
     */
    public void enqueue(dev.corvo.v1.EnqueueRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.EnqueueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getEnqueueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lease at most one job from `queues`. Waits for work up to `max_wait_ms` (default 30 s)
     * and answers `found = false` when none arrived. An empty fetch never writes to the log.
     * </pre>
     */
    public void fetch(dev.corvo.v1.FetchRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.FetchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getFetchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lease up to `count` jobs from `queues`, waiting like Fetch for the first one.
     * </pre>
     */
    public void fetchBatch(dev.corvo.v1.FetchBatchRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.FetchBatchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getFetchBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Complete a leased job with an optional result. With `lease_token` set, an ack for a
     * lease that is no longer current fails with FAILED_PRECONDITION and changes nothing.
     * </pre>
     */
    public void ack(dev.corvo.v1.AckRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.AckResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAckMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Complete many leased jobs. Each item gets its own result; one bad item never fails the rest.
     * </pre>
     */
    public void ackBatch(dev.corvo.v1.AckBatchRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.AckBatchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAckBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The worker's main loop on one stream: each frame may carry acks, fails, heartbeats,
     * enqueues and a fetch (legacy `fetch_count`) or a credit grant (`credits`). Legacy frames
     * get one response each; with credits the server pushes jobs as they become ready.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<dev.corvo.v1.StreamLifecycleRequest> streamLifecycle(
        io.grpc.stub.StreamObserver<dev.corvo.v1.StreamLifecycleResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getStreamLifecycleMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * Report a failed attempt. The job is retried with its backoff, or becomes dead when it has
     * used all of its attempts.
     * </pre>
     */
    public void fail(dev.corvo.v1.FailRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.FailResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getFailMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Extend the leases of running jobs by their own lease duration and record progress and
     * checkpoints. Each job answers "ok", or "cancel" when the worker should stop it.
     * </pre>
     */
    public void heartbeat(dev.corvo.v1.HeartbeatRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.HeartbeatResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getHeartbeatMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Stream the event log, starting after `last_event_id`, then follow new events.
     * </pre>
     */
    public void subscribe(dev.corvo.v1.SubscribeRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.SubscribeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getSubscribeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The server's build version.
     * </pre>
     */
    public void getServerInfo(dev.corvo.v1.GetServerInfoRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetServerInfoResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetServerInfoMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service WorkerService.
   * <pre>
   * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
   * over a long-lived bidirectional stream), report progress, and settle them.
   * </pre>
   */
  public static final class WorkerServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<WorkerServiceBlockingV2Stub> {
    private WorkerServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkerServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkerServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Enqueue one job. Returns the new job id, or the id of the existing job with status
     * "duplicate" when `options.unique_key` is held by a job enqueued within the unique period.
     * </pre>
     */
    public dev.corvo.v1.EnqueueResponse enqueue(dev.corvo.v1.EnqueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getEnqueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lease at most one job from `queues`. Waits for work up to `max_wait_ms` (default 30 s)
     * and answers `found = false` when none arrived. An empty fetch never writes to the log.
     * </pre>
     */
    public dev.corvo.v1.FetchResponse fetch(dev.corvo.v1.FetchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFetchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lease up to `count` jobs from `queues`, waiting like Fetch for the first one.
     * </pre>
     */
    public dev.corvo.v1.FetchBatchResponse fetchBatch(dev.corvo.v1.FetchBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFetchBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Complete a leased job with an optional result. With `lease_token` set, an ack for a
     * lease that is no longer current fails with FAILED_PRECONDITION and changes nothing.
     * </pre>
     */
    public dev.corvo.v1.AckResponse ack(dev.corvo.v1.AckRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAckMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Complete many leased jobs. Each item gets its own result; one bad item never fails the rest.
     * </pre>
     */
    public dev.corvo.v1.AckBatchResponse ackBatch(dev.corvo.v1.AckBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAckBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The worker's main loop on one stream: each frame may carry acks, fails, heartbeats,
     * enqueues and a fetch (legacy `fetch_count`) or a credit grant (`credits`). Legacy frames
     * get one response each; with credits the server pushes jobs as they become ready.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<dev.corvo.v1.StreamLifecycleRequest, dev.corvo.v1.StreamLifecycleResponse>
        streamLifecycle() {
      return io.grpc.stub.ClientCalls.blockingBidiStreamingCall(
          getChannel(), getStreamLifecycleMethod(), getCallOptions());
    }

    /**
     * <pre>
     * Report a failed attempt. The job is retried with its backoff, or becomes dead when it has
     * used all of its attempts.
     * </pre>
     */
    public dev.corvo.v1.FailResponse fail(dev.corvo.v1.FailRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFailMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Extend the leases of running jobs by their own lease duration and record progress and
     * checkpoints. Each job answers "ok", or "cancel" when the worker should stop it.
     * </pre>
     */
    public dev.corvo.v1.HeartbeatResponse heartbeat(dev.corvo.v1.HeartbeatRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getHeartbeatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Stream the event log, starting after `last_event_id`, then follow new events.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.corvo.v1.SubscribeResponse>
        subscribe(dev.corvo.v1.SubscribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getSubscribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The server's build version.
     * </pre>
     */
    public dev.corvo.v1.GetServerInfoResponse getServerInfo(dev.corvo.v1.GetServerInfoRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetServerInfoMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service WorkerService.
   * <pre>
   * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
   * over a long-lived bidirectional stream), report progress, and settle them.
   * </pre>
   */
  public static final class WorkerServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<WorkerServiceBlockingStub> {
    private WorkerServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkerServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkerServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Enqueue one job. Returns the new job id, or the id of the existing job with status
     * "duplicate" when `options.unique_key` is held by a job enqueued within the unique period.
     * </pre>
     */
    public dev.corvo.v1.EnqueueResponse enqueue(dev.corvo.v1.EnqueueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getEnqueueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lease at most one job from `queues`. Waits for work up to `max_wait_ms` (default 30 s)
     * and answers `found = false` when none arrived. An empty fetch never writes to the log.
     * </pre>
     */
    public dev.corvo.v1.FetchResponse fetch(dev.corvo.v1.FetchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFetchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lease up to `count` jobs from `queues`, waiting like Fetch for the first one.
     * </pre>
     */
    public dev.corvo.v1.FetchBatchResponse fetchBatch(dev.corvo.v1.FetchBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFetchBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Complete a leased job with an optional result. With `lease_token` set, an ack for a
     * lease that is no longer current fails with FAILED_PRECONDITION and changes nothing.
     * </pre>
     */
    public dev.corvo.v1.AckResponse ack(dev.corvo.v1.AckRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAckMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Complete many leased jobs. Each item gets its own result; one bad item never fails the rest.
     * </pre>
     */
    public dev.corvo.v1.AckBatchResponse ackBatch(dev.corvo.v1.AckBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAckBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Report a failed attempt. The job is retried with its backoff, or becomes dead when it has
     * used all of its attempts.
     * </pre>
     */
    public dev.corvo.v1.FailResponse fail(dev.corvo.v1.FailRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getFailMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Extend the leases of running jobs by their own lease duration and record progress and
     * checkpoints. Each job answers "ok", or "cancel" when the worker should stop it.
     * </pre>
     */
    public dev.corvo.v1.HeartbeatResponse heartbeat(dev.corvo.v1.HeartbeatRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getHeartbeatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Stream the event log, starting after `last_event_id`, then follow new events.
     * </pre>
     */
    public java.util.Iterator<dev.corvo.v1.SubscribeResponse> subscribe(
        dev.corvo.v1.SubscribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getSubscribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The server's build version.
     * </pre>
     */
    public dev.corvo.v1.GetServerInfoResponse getServerInfo(dev.corvo.v1.GetServerInfoRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetServerInfoMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service WorkerService.
   * <pre>
   * WorkerService is what producers and workers talk to: enqueue jobs, lease them (unary or
   * over a long-lived bidirectional stream), report progress, and settle them.
   * </pre>
   */
  public static final class WorkerServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<WorkerServiceFutureStub> {
    private WorkerServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected WorkerServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new WorkerServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Enqueue one job. Returns the new job id, or the id of the existing job with status
     * "duplicate" when `options.unique_key` is held by a job enqueued within the unique period.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.EnqueueResponse> enqueue(
        dev.corvo.v1.EnqueueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getEnqueueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lease at most one job from `queues`. Waits for work up to `max_wait_ms` (default 30 s)
     * and answers `found = false` when none arrived. An empty fetch never writes to the log.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.FetchResponse> fetch(
        dev.corvo.v1.FetchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getFetchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lease up to `count` jobs from `queues`, waiting like Fetch for the first one.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.FetchBatchResponse> fetchBatch(
        dev.corvo.v1.FetchBatchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getFetchBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Complete a leased job with an optional result. With `lease_token` set, an ack for a
     * lease that is no longer current fails with FAILED_PRECONDITION and changes nothing.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.AckResponse> ack(
        dev.corvo.v1.AckRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAckMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Complete many leased jobs. Each item gets its own result; one bad item never fails the rest.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.AckBatchResponse> ackBatch(
        dev.corvo.v1.AckBatchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAckBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Report a failed attempt. The job is retried with its backoff, or becomes dead when it has
     * used all of its attempts.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.FailResponse> fail(
        dev.corvo.v1.FailRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getFailMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Extend the leases of running jobs by their own lease duration and record progress and
     * checkpoints. Each job answers "ok", or "cancel" when the worker should stop it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.HeartbeatResponse> heartbeat(
        dev.corvo.v1.HeartbeatRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getHeartbeatMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The server's build version.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetServerInfoResponse> getServerInfo(
        dev.corvo.v1.GetServerInfoRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetServerInfoMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_ENQUEUE = 0;
  private static final int METHODID_FETCH = 1;
  private static final int METHODID_FETCH_BATCH = 2;
  private static final int METHODID_ACK = 3;
  private static final int METHODID_ACK_BATCH = 4;
  private static final int METHODID_FAIL = 5;
  private static final int METHODID_HEARTBEAT = 6;
  private static final int METHODID_SUBSCRIBE = 7;
  private static final int METHODID_GET_SERVER_INFO = 8;
  private static final int METHODID_STREAM_LIFECYCLE = 9;

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
        case METHODID_ENQUEUE:
          serviceImpl.enqueue((dev.corvo.v1.EnqueueRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.EnqueueResponse>) responseObserver);
          break;
        case METHODID_FETCH:
          serviceImpl.fetch((dev.corvo.v1.FetchRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.FetchResponse>) responseObserver);
          break;
        case METHODID_FETCH_BATCH:
          serviceImpl.fetchBatch((dev.corvo.v1.FetchBatchRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.FetchBatchResponse>) responseObserver);
          break;
        case METHODID_ACK:
          serviceImpl.ack((dev.corvo.v1.AckRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.AckResponse>) responseObserver);
          break;
        case METHODID_ACK_BATCH:
          serviceImpl.ackBatch((dev.corvo.v1.AckBatchRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.AckBatchResponse>) responseObserver);
          break;
        case METHODID_FAIL:
          serviceImpl.fail((dev.corvo.v1.FailRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.FailResponse>) responseObserver);
          break;
        case METHODID_HEARTBEAT:
          serviceImpl.heartbeat((dev.corvo.v1.HeartbeatRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.HeartbeatResponse>) responseObserver);
          break;
        case METHODID_SUBSCRIBE:
          serviceImpl.subscribe((dev.corvo.v1.SubscribeRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.SubscribeResponse>) responseObserver);
          break;
        case METHODID_GET_SERVER_INFO:
          serviceImpl.getServerInfo((dev.corvo.v1.GetServerInfoRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetServerInfoResponse>) responseObserver);
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
        case METHODID_STREAM_LIFECYCLE:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.streamLifecycle(
              (io.grpc.stub.StreamObserver<dev.corvo.v1.StreamLifecycleResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getEnqueueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.EnqueueRequest,
              dev.corvo.v1.EnqueueResponse>(
                service, METHODID_ENQUEUE)))
        .addMethod(
          getFetchMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.FetchRequest,
              dev.corvo.v1.FetchResponse>(
                service, METHODID_FETCH)))
        .addMethod(
          getFetchBatchMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.FetchBatchRequest,
              dev.corvo.v1.FetchBatchResponse>(
                service, METHODID_FETCH_BATCH)))
        .addMethod(
          getAckMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.AckRequest,
              dev.corvo.v1.AckResponse>(
                service, METHODID_ACK)))
        .addMethod(
          getAckBatchMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.AckBatchRequest,
              dev.corvo.v1.AckBatchResponse>(
                service, METHODID_ACK_BATCH)))
        .addMethod(
          getStreamLifecycleMethod(),
          io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
            new MethodHandlers<
              dev.corvo.v1.StreamLifecycleRequest,
              dev.corvo.v1.StreamLifecycleResponse>(
                service, METHODID_STREAM_LIFECYCLE)))
        .addMethod(
          getFailMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.FailRequest,
              dev.corvo.v1.FailResponse>(
                service, METHODID_FAIL)))
        .addMethod(
          getHeartbeatMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.HeartbeatRequest,
              dev.corvo.v1.HeartbeatResponse>(
                service, METHODID_HEARTBEAT)))
        .addMethod(
          getSubscribeMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.corvo.v1.SubscribeRequest,
              dev.corvo.v1.SubscribeResponse>(
                service, METHODID_SUBSCRIBE)))
        .addMethod(
          getGetServerInfoMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetServerInfoRequest,
              dev.corvo.v1.GetServerInfoResponse>(
                service, METHODID_GET_SERVER_INFO)))
        .build();
  }

  private static abstract class WorkerServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    WorkerServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.corvo.v1.WorkerProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("WorkerService");
    }
  }

  private static final class WorkerServiceFileDescriptorSupplier
      extends WorkerServiceBaseDescriptorSupplier {
    WorkerServiceFileDescriptorSupplier() {}
  }

  private static final class WorkerServiceMethodDescriptorSupplier
      extends WorkerServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    WorkerServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (WorkerServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new WorkerServiceFileDescriptorSupplier())
              .addMethod(getEnqueueMethod())
              .addMethod(getFetchMethod())
              .addMethod(getFetchBatchMethod())
              .addMethod(getAckMethod())
              .addMethod(getAckBatchMethod())
              .addMethod(getStreamLifecycleMethod())
              .addMethod(getFailMethod())
              .addMethod(getHeartbeatMethod())
              .addMethod(getSubscribeMethod())
              .addMethod(getGetServerInfoMethod())
              .build();
        }
      }
    }
    return result;
  }
}
