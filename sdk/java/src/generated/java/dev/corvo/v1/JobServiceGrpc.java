package dev.corvo.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * JobService is the operator's view of jobs: look one up, list and search them, cancel,
 * retry or delete one.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler (version 1.71.0)",
    comments = "Source: corvo/v1/job.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class JobServiceGrpc {

  private JobServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "corvo.v1.JobService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetJobRequest,
      dev.corvo.v1.GetJobResponse> getGetJobMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetJob",
      requestType = dev.corvo.v1.GetJobRequest.class,
      responseType = dev.corvo.v1.GetJobResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetJobRequest,
      dev.corvo.v1.GetJobResponse> getGetJobMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetJobRequest, dev.corvo.v1.GetJobResponse> getGetJobMethod;
    if ((getGetJobMethod = JobServiceGrpc.getGetJobMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getGetJobMethod = JobServiceGrpc.getGetJobMethod) == null) {
          JobServiceGrpc.getGetJobMethod = getGetJobMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetJobRequest, dev.corvo.v1.GetJobResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetJob"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetJobRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetJobResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("GetJob"))
              .build();
        }
      }
    }
    return getGetJobMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.CancelJobRequest,
      dev.corvo.v1.CancelJobResponse> getCancelJobMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CancelJob",
      requestType = dev.corvo.v1.CancelJobRequest.class,
      responseType = dev.corvo.v1.CancelJobResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.CancelJobRequest,
      dev.corvo.v1.CancelJobResponse> getCancelJobMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.CancelJobRequest, dev.corvo.v1.CancelJobResponse> getCancelJobMethod;
    if ((getCancelJobMethod = JobServiceGrpc.getCancelJobMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getCancelJobMethod = JobServiceGrpc.getCancelJobMethod) == null) {
          JobServiceGrpc.getCancelJobMethod = getCancelJobMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.CancelJobRequest, dev.corvo.v1.CancelJobResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CancelJob"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.CancelJobRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.CancelJobResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("CancelJob"))
              .build();
        }
      }
    }
    return getCancelJobMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.RetryJobRequest,
      dev.corvo.v1.RetryJobResponse> getRetryJobMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RetryJob",
      requestType = dev.corvo.v1.RetryJobRequest.class,
      responseType = dev.corvo.v1.RetryJobResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.RetryJobRequest,
      dev.corvo.v1.RetryJobResponse> getRetryJobMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.RetryJobRequest, dev.corvo.v1.RetryJobResponse> getRetryJobMethod;
    if ((getRetryJobMethod = JobServiceGrpc.getRetryJobMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getRetryJobMethod = JobServiceGrpc.getRetryJobMethod) == null) {
          JobServiceGrpc.getRetryJobMethod = getRetryJobMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.RetryJobRequest, dev.corvo.v1.RetryJobResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RetryJob"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RetryJobRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RetryJobResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("RetryJob"))
              .build();
        }
      }
    }
    return getRetryJobMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.DeleteJobRequest,
      dev.corvo.v1.DeleteJobResponse> getDeleteJobMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteJob",
      requestType = dev.corvo.v1.DeleteJobRequest.class,
      responseType = dev.corvo.v1.DeleteJobResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.DeleteJobRequest,
      dev.corvo.v1.DeleteJobResponse> getDeleteJobMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.DeleteJobRequest, dev.corvo.v1.DeleteJobResponse> getDeleteJobMethod;
    if ((getDeleteJobMethod = JobServiceGrpc.getDeleteJobMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getDeleteJobMethod = JobServiceGrpc.getDeleteJobMethod) == null) {
          JobServiceGrpc.getDeleteJobMethod = getDeleteJobMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.DeleteJobRequest, dev.corvo.v1.DeleteJobResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteJob"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.DeleteJobRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.DeleteJobResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("DeleteJob"))
              .build();
        }
      }
    }
    return getDeleteJobMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ListJobsRequest,
      dev.corvo.v1.ListJobsResponse> getListJobsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListJobs",
      requestType = dev.corvo.v1.ListJobsRequest.class,
      responseType = dev.corvo.v1.ListJobsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ListJobsRequest,
      dev.corvo.v1.ListJobsResponse> getListJobsMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ListJobsRequest, dev.corvo.v1.ListJobsResponse> getListJobsMethod;
    if ((getListJobsMethod = JobServiceGrpc.getListJobsMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getListJobsMethod = JobServiceGrpc.getListJobsMethod) == null) {
          JobServiceGrpc.getListJobsMethod = getListJobsMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ListJobsRequest, dev.corvo.v1.ListJobsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListJobs"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListJobsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListJobsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("ListJobs"))
              .build();
        }
      }
    }
    return getListJobsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.BulkJobsRequest,
      dev.corvo.v1.BulkJobsResponse> getBulkJobsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BulkJobs",
      requestType = dev.corvo.v1.BulkJobsRequest.class,
      responseType = dev.corvo.v1.BulkJobsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.BulkJobsRequest,
      dev.corvo.v1.BulkJobsResponse> getBulkJobsMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.BulkJobsRequest, dev.corvo.v1.BulkJobsResponse> getBulkJobsMethod;
    if ((getBulkJobsMethod = JobServiceGrpc.getBulkJobsMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getBulkJobsMethod = JobServiceGrpc.getBulkJobsMethod) == null) {
          JobServiceGrpc.getBulkJobsMethod = getBulkJobsMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.BulkJobsRequest, dev.corvo.v1.BulkJobsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BulkJobs"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.BulkJobsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.BulkJobsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("BulkJobs"))
              .build();
        }
      }
    }
    return getBulkJobsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetOperationRequest,
      dev.corvo.v1.GetOperationResponse> getGetOperationMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetOperation",
      requestType = dev.corvo.v1.GetOperationRequest.class,
      responseType = dev.corvo.v1.GetOperationResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetOperationRequest,
      dev.corvo.v1.GetOperationResponse> getGetOperationMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetOperationRequest, dev.corvo.v1.GetOperationResponse> getGetOperationMethod;
    if ((getGetOperationMethod = JobServiceGrpc.getGetOperationMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getGetOperationMethod = JobServiceGrpc.getGetOperationMethod) == null) {
          JobServiceGrpc.getGetOperationMethod = getGetOperationMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetOperationRequest, dev.corvo.v1.GetOperationResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetOperation"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetOperationRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetOperationResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("GetOperation"))
              .build();
        }
      }
    }
    return getGetOperationMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ListOperationsRequest,
      dev.corvo.v1.ListOperationsResponse> getListOperationsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListOperations",
      requestType = dev.corvo.v1.ListOperationsRequest.class,
      responseType = dev.corvo.v1.ListOperationsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ListOperationsRequest,
      dev.corvo.v1.ListOperationsResponse> getListOperationsMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ListOperationsRequest, dev.corvo.v1.ListOperationsResponse> getListOperationsMethod;
    if ((getListOperationsMethod = JobServiceGrpc.getListOperationsMethod) == null) {
      synchronized (JobServiceGrpc.class) {
        if ((getListOperationsMethod = JobServiceGrpc.getListOperationsMethod) == null) {
          JobServiceGrpc.getListOperationsMethod = getListOperationsMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ListOperationsRequest, dev.corvo.v1.ListOperationsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListOperations"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListOperationsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListOperationsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new JobServiceMethodDescriptorSupplier("ListOperations"))
              .build();
        }
      }
    }
    return getListOperationsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static JobServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<JobServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<JobServiceStub>() {
        @java.lang.Override
        public JobServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new JobServiceStub(channel, callOptions);
        }
      };
    return JobServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static JobServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<JobServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<JobServiceBlockingV2Stub>() {
        @java.lang.Override
        public JobServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new JobServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return JobServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static JobServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<JobServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<JobServiceBlockingStub>() {
        @java.lang.Override
        public JobServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new JobServiceBlockingStub(channel, callOptions);
        }
      };
    return JobServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static JobServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<JobServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<JobServiceFutureStub>() {
        @java.lang.Override
        public JobServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new JobServiceFutureStub(channel, callOptions);
        }
      };
    return JobServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * JobService is the operator's view of jobs: look one up, list and search them, cancel,
   * retry or delete one.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * The job with its current state, lease, attempts, progress, result and last error.
     * </pre>
     */
    default void getJob(dev.corvo.v1.GetJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetJobResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetJobMethod(), responseObserver);
    }

    /**
     * <pre>
     * Cancel a pending, scheduled, retrying or active job. An active job's worker learns it on
     * its next heartbeat or stream frame. Cancelling a finished job fails with FAILED_PRECONDITION.
     * </pre>
     */
    default void cancelJob(dev.corvo.v1.CancelJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.CancelJobResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCancelJobMethod(), responseObserver);
    }

    /**
     * <pre>
     * Put a dead, cancelled or completed job back to pending with a fresh attempt budget.
     * </pre>
     */
    default void retryJob(dev.corvo.v1.RetryJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RetryJobResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRetryJobMethod(), responseObserver);
    }

    /**
     * <pre>
     * Remove a job that is not active.
     * </pre>
     */
    default void deleteJob(dev.corvo.v1.DeleteJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.DeleteJobResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteJobMethod(), responseObserver);
    }

    /**
     * <pre>
     * Jobs matching every filter given, newest first, a page at a time. Served from the read
     * view (SQLite), which follows the state a moment behind; each job is returned as currently
     * stored. Set `consistent` to see every write acknowledged before the call.
     * </pre>
     */
    default void listJobs(dev.corvo.v1.ListJobsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListJobsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListJobsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Act on many jobs at once: retry, cancel, delete, move to another queue, or change the
     * priority of waiting jobs; selected by `job_ids` (at most 1000; each gets its own result)
     * or by `filter` (the filters ListJobs takes). A filter selecting up to 1000 jobs is acted
     * on at once; beyond that the call returns an operation that goes on in bounded batches
     * (follow it with GetOperation). Jobs an action does not apply to (a pending job to retry,
     * an active one to delete) are skipped and not counted.
     * </pre>
     */
    default void bulkJobs(dev.corvo.v1.BulkJobsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.BulkJobsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBulkJobsMethod(), responseObserver);
    }

    /**
     * <pre>
     * A bulk operation's progress (any node answers: operations are replicated state). An
     * operation whose leader changed goes on at the new leader.
     * </pre>
     */
    default void getOperation(dev.corvo.v1.GetOperationRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetOperationResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetOperationMethod(), responseObserver);
    }

    /**
     * <pre>
     * The operations kept (the newest 256), newest first.
     * </pre>
     */
    default void listOperations(dev.corvo.v1.ListOperationsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListOperationsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListOperationsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service JobService.
   * <pre>
   * JobService is the operator's view of jobs: look one up, list and search them, cancel,
   * retry or delete one.
   * </pre>
   */
  public static abstract class JobServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return JobServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service JobService.
   * <pre>
   * JobService is the operator's view of jobs: look one up, list and search them, cancel,
   * retry or delete one.
   * </pre>
   */
  public static final class JobServiceStub
      extends io.grpc.stub.AbstractAsyncStub<JobServiceStub> {
    private JobServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected JobServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new JobServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * The job with its current state, lease, attempts, progress, result and last error.
     * </pre>
     */
    public void getJob(dev.corvo.v1.GetJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetJobResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetJobMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Cancel a pending, scheduled, retrying or active job. An active job's worker learns it on
     * its next heartbeat or stream frame. Cancelling a finished job fails with FAILED_PRECONDITION.
     * </pre>
     */
    public void cancelJob(dev.corvo.v1.CancelJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.CancelJobResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCancelJobMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Put a dead, cancelled or completed job back to pending with a fresh attempt budget.
     * </pre>
     */
    public void retryJob(dev.corvo.v1.RetryJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RetryJobResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRetryJobMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Remove a job that is not active.
     * </pre>
     */
    public void deleteJob(dev.corvo.v1.DeleteJobRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.DeleteJobResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteJobMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Jobs matching every filter given, newest first, a page at a time. Served from the read
     * view (SQLite), which follows the state a moment behind; each job is returned as currently
     * stored. Set `consistent` to see every write acknowledged before the call.
     * </pre>
     */
    public void listJobs(dev.corvo.v1.ListJobsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListJobsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListJobsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Act on many jobs at once: retry, cancel, delete, move to another queue, or change the
     * priority of waiting jobs; selected by `job_ids` (at most 1000; each gets its own result)
     * or by `filter` (the filters ListJobs takes). A filter selecting up to 1000 jobs is acted
     * on at once; beyond that the call returns an operation that goes on in bounded batches
     * (follow it with GetOperation). Jobs an action does not apply to (a pending job to retry,
     * an active one to delete) are skipped and not counted.
     * </pre>
     */
    public void bulkJobs(dev.corvo.v1.BulkJobsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.BulkJobsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBulkJobsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * A bulk operation's progress (any node answers: operations are replicated state). An
     * operation whose leader changed goes on at the new leader.
     * </pre>
     */
    public void getOperation(dev.corvo.v1.GetOperationRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetOperationResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetOperationMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The operations kept (the newest 256), newest first.
     * </pre>
     */
    public void listOperations(dev.corvo.v1.ListOperationsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListOperationsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListOperationsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service JobService.
   * <pre>
   * JobService is the operator's view of jobs: look one up, list and search them, cancel,
   * retry or delete one.
   * </pre>
   */
  public static final class JobServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<JobServiceBlockingV2Stub> {
    private JobServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected JobServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new JobServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * The job with its current state, lease, attempts, progress, result and last error.
     * </pre>
     */
    public dev.corvo.v1.GetJobResponse getJob(dev.corvo.v1.GetJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Cancel a pending, scheduled, retrying or active job. An active job's worker learns it on
     * its next heartbeat or stream frame. Cancelling a finished job fails with FAILED_PRECONDITION.
     * </pre>
     */
    public dev.corvo.v1.CancelJobResponse cancelJob(dev.corvo.v1.CancelJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCancelJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Put a dead, cancelled or completed job back to pending with a fresh attempt budget.
     * </pre>
     */
    public dev.corvo.v1.RetryJobResponse retryJob(dev.corvo.v1.RetryJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRetryJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Remove a job that is not active.
     * </pre>
     */
    public dev.corvo.v1.DeleteJobResponse deleteJob(dev.corvo.v1.DeleteJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Jobs matching every filter given, newest first, a page at a time. Served from the read
     * view (SQLite), which follows the state a moment behind; each job is returned as currently
     * stored. Set `consistent` to see every write acknowledged before the call.
     * </pre>
     */
    public dev.corvo.v1.ListJobsResponse listJobs(dev.corvo.v1.ListJobsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListJobsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Act on many jobs at once: retry, cancel, delete, move to another queue, or change the
     * priority of waiting jobs; selected by `job_ids` (at most 1000; each gets its own result)
     * or by `filter` (the filters ListJobs takes). A filter selecting up to 1000 jobs is acted
     * on at once; beyond that the call returns an operation that goes on in bounded batches
     * (follow it with GetOperation). Jobs an action does not apply to (a pending job to retry,
     * an active one to delete) are skipped and not counted.
     * </pre>
     */
    public dev.corvo.v1.BulkJobsResponse bulkJobs(dev.corvo.v1.BulkJobsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBulkJobsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A bulk operation's progress (any node answers: operations are replicated state). An
     * operation whose leader changed goes on at the new leader.
     * </pre>
     */
    public dev.corvo.v1.GetOperationResponse getOperation(dev.corvo.v1.GetOperationRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetOperationMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The operations kept (the newest 256), newest first.
     * </pre>
     */
    public dev.corvo.v1.ListOperationsResponse listOperations(dev.corvo.v1.ListOperationsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListOperationsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service JobService.
   * <pre>
   * JobService is the operator's view of jobs: look one up, list and search them, cancel,
   * retry or delete one.
   * </pre>
   */
  public static final class JobServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<JobServiceBlockingStub> {
    private JobServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected JobServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new JobServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * The job with its current state, lease, attempts, progress, result and last error.
     * </pre>
     */
    public dev.corvo.v1.GetJobResponse getJob(dev.corvo.v1.GetJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Cancel a pending, scheduled, retrying or active job. An active job's worker learns it on
     * its next heartbeat or stream frame. Cancelling a finished job fails with FAILED_PRECONDITION.
     * </pre>
     */
    public dev.corvo.v1.CancelJobResponse cancelJob(dev.corvo.v1.CancelJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCancelJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Put a dead, cancelled or completed job back to pending with a fresh attempt budget.
     * </pre>
     */
    public dev.corvo.v1.RetryJobResponse retryJob(dev.corvo.v1.RetryJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRetryJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Remove a job that is not active.
     * </pre>
     */
    public dev.corvo.v1.DeleteJobResponse deleteJob(dev.corvo.v1.DeleteJobRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteJobMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Jobs matching every filter given, newest first, a page at a time. Served from the read
     * view (SQLite), which follows the state a moment behind; each job is returned as currently
     * stored. Set `consistent` to see every write acknowledged before the call.
     * </pre>
     */
    public dev.corvo.v1.ListJobsResponse listJobs(dev.corvo.v1.ListJobsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListJobsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Act on many jobs at once: retry, cancel, delete, move to another queue, or change the
     * priority of waiting jobs; selected by `job_ids` (at most 1000; each gets its own result)
     * or by `filter` (the filters ListJobs takes). A filter selecting up to 1000 jobs is acted
     * on at once; beyond that the call returns an operation that goes on in bounded batches
     * (follow it with GetOperation). Jobs an action does not apply to (a pending job to retry,
     * an active one to delete) are skipped and not counted.
     * </pre>
     */
    public dev.corvo.v1.BulkJobsResponse bulkJobs(dev.corvo.v1.BulkJobsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBulkJobsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A bulk operation's progress (any node answers: operations are replicated state). An
     * operation whose leader changed goes on at the new leader.
     * </pre>
     */
    public dev.corvo.v1.GetOperationResponse getOperation(dev.corvo.v1.GetOperationRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetOperationMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The operations kept (the newest 256), newest first.
     * </pre>
     */
    public dev.corvo.v1.ListOperationsResponse listOperations(dev.corvo.v1.ListOperationsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListOperationsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service JobService.
   * <pre>
   * JobService is the operator's view of jobs: look one up, list and search them, cancel,
   * retry or delete one.
   * </pre>
   */
  public static final class JobServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<JobServiceFutureStub> {
    private JobServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected JobServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new JobServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * The job with its current state, lease, attempts, progress, result and last error.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetJobResponse> getJob(
        dev.corvo.v1.GetJobRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetJobMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Cancel a pending, scheduled, retrying or active job. An active job's worker learns it on
     * its next heartbeat or stream frame. Cancelling a finished job fails with FAILED_PRECONDITION.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.CancelJobResponse> cancelJob(
        dev.corvo.v1.CancelJobRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCancelJobMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Put a dead, cancelled or completed job back to pending with a fresh attempt budget.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.RetryJobResponse> retryJob(
        dev.corvo.v1.RetryJobRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRetryJobMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Remove a job that is not active.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.DeleteJobResponse> deleteJob(
        dev.corvo.v1.DeleteJobRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteJobMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Jobs matching every filter given, newest first, a page at a time. Served from the read
     * view (SQLite), which follows the state a moment behind; each job is returned as currently
     * stored. Set `consistent` to see every write acknowledged before the call.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ListJobsResponse> listJobs(
        dev.corvo.v1.ListJobsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListJobsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Act on many jobs at once: retry, cancel, delete, move to another queue, or change the
     * priority of waiting jobs; selected by `job_ids` (at most 1000; each gets its own result)
     * or by `filter` (the filters ListJobs takes). A filter selecting up to 1000 jobs is acted
     * on at once; beyond that the call returns an operation that goes on in bounded batches
     * (follow it with GetOperation). Jobs an action does not apply to (a pending job to retry,
     * an active one to delete) are skipped and not counted.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.BulkJobsResponse> bulkJobs(
        dev.corvo.v1.BulkJobsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBulkJobsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * A bulk operation's progress (any node answers: operations are replicated state). An
     * operation whose leader changed goes on at the new leader.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetOperationResponse> getOperation(
        dev.corvo.v1.GetOperationRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetOperationMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The operations kept (the newest 256), newest first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ListOperationsResponse> listOperations(
        dev.corvo.v1.ListOperationsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListOperationsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_JOB = 0;
  private static final int METHODID_CANCEL_JOB = 1;
  private static final int METHODID_RETRY_JOB = 2;
  private static final int METHODID_DELETE_JOB = 3;
  private static final int METHODID_LIST_JOBS = 4;
  private static final int METHODID_BULK_JOBS = 5;
  private static final int METHODID_GET_OPERATION = 6;
  private static final int METHODID_LIST_OPERATIONS = 7;

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
        case METHODID_GET_JOB:
          serviceImpl.getJob((dev.corvo.v1.GetJobRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetJobResponse>) responseObserver);
          break;
        case METHODID_CANCEL_JOB:
          serviceImpl.cancelJob((dev.corvo.v1.CancelJobRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.CancelJobResponse>) responseObserver);
          break;
        case METHODID_RETRY_JOB:
          serviceImpl.retryJob((dev.corvo.v1.RetryJobRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.RetryJobResponse>) responseObserver);
          break;
        case METHODID_DELETE_JOB:
          serviceImpl.deleteJob((dev.corvo.v1.DeleteJobRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.DeleteJobResponse>) responseObserver);
          break;
        case METHODID_LIST_JOBS:
          serviceImpl.listJobs((dev.corvo.v1.ListJobsRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ListJobsResponse>) responseObserver);
          break;
        case METHODID_BULK_JOBS:
          serviceImpl.bulkJobs((dev.corvo.v1.BulkJobsRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.BulkJobsResponse>) responseObserver);
          break;
        case METHODID_GET_OPERATION:
          serviceImpl.getOperation((dev.corvo.v1.GetOperationRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetOperationResponse>) responseObserver);
          break;
        case METHODID_LIST_OPERATIONS:
          serviceImpl.listOperations((dev.corvo.v1.ListOperationsRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ListOperationsResponse>) responseObserver);
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
          getGetJobMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetJobRequest,
              dev.corvo.v1.GetJobResponse>(
                service, METHODID_GET_JOB)))
        .addMethod(
          getCancelJobMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.CancelJobRequest,
              dev.corvo.v1.CancelJobResponse>(
                service, METHODID_CANCEL_JOB)))
        .addMethod(
          getRetryJobMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.RetryJobRequest,
              dev.corvo.v1.RetryJobResponse>(
                service, METHODID_RETRY_JOB)))
        .addMethod(
          getDeleteJobMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.DeleteJobRequest,
              dev.corvo.v1.DeleteJobResponse>(
                service, METHODID_DELETE_JOB)))
        .addMethod(
          getListJobsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ListJobsRequest,
              dev.corvo.v1.ListJobsResponse>(
                service, METHODID_LIST_JOBS)))
        .addMethod(
          getBulkJobsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.BulkJobsRequest,
              dev.corvo.v1.BulkJobsResponse>(
                service, METHODID_BULK_JOBS)))
        .addMethod(
          getGetOperationMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetOperationRequest,
              dev.corvo.v1.GetOperationResponse>(
                service, METHODID_GET_OPERATION)))
        .addMethod(
          getListOperationsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ListOperationsRequest,
              dev.corvo.v1.ListOperationsResponse>(
                service, METHODID_LIST_OPERATIONS)))
        .build();
  }

  private static abstract class JobServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    JobServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.corvo.v1.JobProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("JobService");
    }
  }

  private static final class JobServiceFileDescriptorSupplier
      extends JobServiceBaseDescriptorSupplier {
    JobServiceFileDescriptorSupplier() {}
  }

  private static final class JobServiceMethodDescriptorSupplier
      extends JobServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    JobServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (JobServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new JobServiceFileDescriptorSupplier())
              .addMethod(getGetJobMethod())
              .addMethod(getCancelJobMethod())
              .addMethod(getRetryJobMethod())
              .addMethod(getDeleteJobMethod())
              .addMethod(getListJobsMethod())
              .addMethod(getBulkJobsMethod())
              .addMethod(getGetOperationMethod())
              .addMethod(getListOperationsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
