package dev.corvo.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
 * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
 * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
 * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
 * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
 * the status calls need an admin, operator or readonly key (docs/security.md).
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler (version 1.71.0)",
    comments = "Source: corvo/v1/cluster.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class ClusterServiceGrpc {

  private ClusterServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "corvo.v1.ClusterService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetNodeStatusRequest,
      dev.corvo.v1.GetNodeStatusResponse> getGetNodeStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetNodeStatus",
      requestType = dev.corvo.v1.GetNodeStatusRequest.class,
      responseType = dev.corvo.v1.GetNodeStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetNodeStatusRequest,
      dev.corvo.v1.GetNodeStatusResponse> getGetNodeStatusMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetNodeStatusRequest, dev.corvo.v1.GetNodeStatusResponse> getGetNodeStatusMethod;
    if ((getGetNodeStatusMethod = ClusterServiceGrpc.getGetNodeStatusMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getGetNodeStatusMethod = ClusterServiceGrpc.getGetNodeStatusMethod) == null) {
          ClusterServiceGrpc.getGetNodeStatusMethod = getGetNodeStatusMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetNodeStatusRequest, dev.corvo.v1.GetNodeStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetNodeStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetNodeStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetNodeStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("GetNodeStatus"))
              .build();
        }
      }
    }
    return getGetNodeStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetClusterStatusRequest,
      dev.corvo.v1.GetClusterStatusResponse> getGetClusterStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetClusterStatus",
      requestType = dev.corvo.v1.GetClusterStatusRequest.class,
      responseType = dev.corvo.v1.GetClusterStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetClusterStatusRequest,
      dev.corvo.v1.GetClusterStatusResponse> getGetClusterStatusMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetClusterStatusRequest, dev.corvo.v1.GetClusterStatusResponse> getGetClusterStatusMethod;
    if ((getGetClusterStatusMethod = ClusterServiceGrpc.getGetClusterStatusMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getGetClusterStatusMethod = ClusterServiceGrpc.getGetClusterStatusMethod) == null) {
          ClusterServiceGrpc.getGetClusterStatusMethod = getGetClusterStatusMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetClusterStatusRequest, dev.corvo.v1.GetClusterStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetClusterStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetClusterStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetClusterStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("GetClusterStatus"))
              .build();
        }
      }
    }
    return getGetClusterStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.JoinRequest,
      dev.corvo.v1.JoinResponse> getJoinMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Join",
      requestType = dev.corvo.v1.JoinRequest.class,
      responseType = dev.corvo.v1.JoinResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.JoinRequest,
      dev.corvo.v1.JoinResponse> getJoinMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.JoinRequest, dev.corvo.v1.JoinResponse> getJoinMethod;
    if ((getJoinMethod = ClusterServiceGrpc.getJoinMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getJoinMethod = ClusterServiceGrpc.getJoinMethod) == null) {
          ClusterServiceGrpc.getJoinMethod = getJoinMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.JoinRequest, dev.corvo.v1.JoinResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Join"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.JoinRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.JoinResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("Join"))
              .build();
        }
      }
    }
    return getJoinMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.RemoveNodeRequest,
      dev.corvo.v1.RemoveNodeResponse> getRemoveNodeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RemoveNode",
      requestType = dev.corvo.v1.RemoveNodeRequest.class,
      responseType = dev.corvo.v1.RemoveNodeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.RemoveNodeRequest,
      dev.corvo.v1.RemoveNodeResponse> getRemoveNodeMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.RemoveNodeRequest, dev.corvo.v1.RemoveNodeResponse> getRemoveNodeMethod;
    if ((getRemoveNodeMethod = ClusterServiceGrpc.getRemoveNodeMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getRemoveNodeMethod = ClusterServiceGrpc.getRemoveNodeMethod) == null) {
          ClusterServiceGrpc.getRemoveNodeMethod = getRemoveNodeMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.RemoveNodeRequest, dev.corvo.v1.RemoveNodeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RemoveNode"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RemoveNodeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RemoveNodeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("RemoveNode"))
              .build();
        }
      }
    }
    return getRemoveNodeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.TransferLeaderRequest,
      dev.corvo.v1.TransferLeaderResponse> getTransferLeaderMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TransferLeader",
      requestType = dev.corvo.v1.TransferLeaderRequest.class,
      responseType = dev.corvo.v1.TransferLeaderResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.TransferLeaderRequest,
      dev.corvo.v1.TransferLeaderResponse> getTransferLeaderMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.TransferLeaderRequest, dev.corvo.v1.TransferLeaderResponse> getTransferLeaderMethod;
    if ((getTransferLeaderMethod = ClusterServiceGrpc.getTransferLeaderMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getTransferLeaderMethod = ClusterServiceGrpc.getTransferLeaderMethod) == null) {
          ClusterServiceGrpc.getTransferLeaderMethod = getTransferLeaderMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.TransferLeaderRequest, dev.corvo.v1.TransferLeaderResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TransferLeader"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.TransferLeaderRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.TransferLeaderResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("TransferLeader"))
              .build();
        }
      }
    }
    return getTransferLeaderMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetStateDigestRequest,
      dev.corvo.v1.GetStateDigestResponse> getGetStateDigestMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetStateDigest",
      requestType = dev.corvo.v1.GetStateDigestRequest.class,
      responseType = dev.corvo.v1.GetStateDigestResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetStateDigestRequest,
      dev.corvo.v1.GetStateDigestResponse> getGetStateDigestMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetStateDigestRequest, dev.corvo.v1.GetStateDigestResponse> getGetStateDigestMethod;
    if ((getGetStateDigestMethod = ClusterServiceGrpc.getGetStateDigestMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getGetStateDigestMethod = ClusterServiceGrpc.getGetStateDigestMethod) == null) {
          ClusterServiceGrpc.getGetStateDigestMethod = getGetStateDigestMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetStateDigestRequest, dev.corvo.v1.GetStateDigestResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetStateDigest"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetStateDigestRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetStateDigestResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("GetStateDigest"))
              .build();
        }
      }
    }
    return getGetStateDigestMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.CreateSnapshotRequest,
      dev.corvo.v1.CreateSnapshotResponse> getCreateSnapshotMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateSnapshot",
      requestType = dev.corvo.v1.CreateSnapshotRequest.class,
      responseType = dev.corvo.v1.CreateSnapshotResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.CreateSnapshotRequest,
      dev.corvo.v1.CreateSnapshotResponse> getCreateSnapshotMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.CreateSnapshotRequest, dev.corvo.v1.CreateSnapshotResponse> getCreateSnapshotMethod;
    if ((getCreateSnapshotMethod = ClusterServiceGrpc.getCreateSnapshotMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getCreateSnapshotMethod = ClusterServiceGrpc.getCreateSnapshotMethod) == null) {
          ClusterServiceGrpc.getCreateSnapshotMethod = getCreateSnapshotMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.CreateSnapshotRequest, dev.corvo.v1.CreateSnapshotResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateSnapshot"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.CreateSnapshotRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.CreateSnapshotResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("CreateSnapshot"))
              .build();
        }
      }
    }
    return getCreateSnapshotMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ListSnapshotsRequest,
      dev.corvo.v1.ListSnapshotsResponse> getListSnapshotsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSnapshots",
      requestType = dev.corvo.v1.ListSnapshotsRequest.class,
      responseType = dev.corvo.v1.ListSnapshotsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ListSnapshotsRequest,
      dev.corvo.v1.ListSnapshotsResponse> getListSnapshotsMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ListSnapshotsRequest, dev.corvo.v1.ListSnapshotsResponse> getListSnapshotsMethod;
    if ((getListSnapshotsMethod = ClusterServiceGrpc.getListSnapshotsMethod) == null) {
      synchronized (ClusterServiceGrpc.class) {
        if ((getListSnapshotsMethod = ClusterServiceGrpc.getListSnapshotsMethod) == null) {
          ClusterServiceGrpc.getListSnapshotsMethod = getListSnapshotsMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ListSnapshotsRequest, dev.corvo.v1.ListSnapshotsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSnapshots"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListSnapshotsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListSnapshotsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ClusterServiceMethodDescriptorSupplier("ListSnapshots"))
              .build();
        }
      }
    }
    return getListSnapshotsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ClusterServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ClusterServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ClusterServiceStub>() {
        @java.lang.Override
        public ClusterServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ClusterServiceStub(channel, callOptions);
        }
      };
    return ClusterServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static ClusterServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ClusterServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ClusterServiceBlockingV2Stub>() {
        @java.lang.Override
        public ClusterServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ClusterServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return ClusterServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ClusterServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ClusterServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ClusterServiceBlockingStub>() {
        @java.lang.Override
        public ClusterServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ClusterServiceBlockingStub(channel, callOptions);
        }
      };
    return ClusterServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ClusterServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ClusterServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ClusterServiceFutureStub>() {
        @java.lang.Override
        public ClusterServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ClusterServiceFutureStub(channel, callOptions);
        }
      };
    return ClusterServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
   * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
   * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
   * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
   * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
   * the status calls need an admin, operator or readonly key (docs/security.md).
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * The status of the node that answers: its Raft role, term, leader and indexes, apply
     * backlog, data-dir disk use, open worker streams, job counts by state, readiness, drain
     * state, version and uptime. Answered locally, without a leader (so it works on a node that
     * has lost its cluster). Reads replicated counters: it never scans the jobs.
     * </pre>
     */
    default void getNodeStatus(dev.corvo.v1.GetNodeStatusRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetNodeStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetNodeStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * The status of every member of the membership the answering node knows, as it reaches
     * them over their client addresses: each member's GetNodeStatus (2 s timeout each), or
     * `reachable = false` with the error. Any member answers; no leader is needed.
     * </pre>
     */
    default void getClusterStatus(dev.corvo.v1.GetClusterStatusRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetClusterStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetClusterStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * Adds a node to the cluster: as a learner until it has caught up, then as a voter. Any
     * member may be asked; a follower forwards the call to the leader. Idempotent: a node that
     * is already a voter with the same addresses gets OK. Joins are applied one at a time.
     * Requires the cluster secret or an admin key: UNAUTHENTICATED without a valid credential,
     * PERMISSION_DENIED for a key of another role, FAILED_PRECONDITION when the answering node
     * has no cluster secret configured.
     * </pre>
     */
    default void join(dev.corvo.v1.JoinRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.JoinResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getJoinMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes a node from the membership (asked of the leader or forwarded to it). Requires the
     * cluster secret or an admin key.
     * </pre>
     */
    default void removeNode(dev.corvo.v1.RemoveNodeRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RemoveNodeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRemoveNodeMethod(), responseObserver);
    }

    /**
     * <pre>
     * Asks the leader to hand leadership to the given voter. Returns once the request is
     * handed to Raft; the new leader shows in GetClusterStatus. Requires the cluster secret or
     * an admin key.
     * </pre>
     */
    default void transferLeader(dev.corvo.v1.TransferLeaderRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.TransferLeaderResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTransferLeaderMethod(), responseObserver);
    }

    /**
     * <pre>
     * A digest (SHA-256) of the answering node's whole replicated state, taken once its applied
     * index has reached `min_applied_index`: equal digests at equal applied indexes mean equal
     * replicas. For tests and operators checking a replica.
     * </pre>
     */
    default void getStateDigest(dev.corvo.v1.GetStateDigestRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetStateDigestResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetStateDigestMethod(), responseObserver);
    }

    /**
     * <pre>
     * Builds a snapshot of the answering node's state now and returns it once it is on disk
     * (`&lt;data-dir&gt;/snapshots/`). The archive file is the backup unit: copy it off the node.
     * Snapshots are also built automatically (by entry count and by age). Requires the
     * cluster secret or an admin key (anyone on a lone node without a secret that runs open).
     * </pre>
     */
    default void createSnapshot(dev.corvo.v1.CreateSnapshotRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.CreateSnapshotResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateSnapshotMethod(), responseObserver);
    }

    /**
     * <pre>
     * The snapshot archives on the answering node, newest first (at most two are kept).
     * </pre>
     */
    default void listSnapshots(dev.corvo.v1.ListSnapshotsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListSnapshotsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSnapshotsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service ClusterService.
   * <pre>
   * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
   * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
   * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
   * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
   * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
   * the status calls need an admin, operator or readonly key (docs/security.md).
   * </pre>
   */
  public static abstract class ClusterServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return ClusterServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service ClusterService.
   * <pre>
   * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
   * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
   * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
   * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
   * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
   * the status calls need an admin, operator or readonly key (docs/security.md).
   * </pre>
   */
  public static final class ClusterServiceStub
      extends io.grpc.stub.AbstractAsyncStub<ClusterServiceStub> {
    private ClusterServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ClusterServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ClusterServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * The status of the node that answers: its Raft role, term, leader and indexes, apply
     * backlog, data-dir disk use, open worker streams, job counts by state, readiness, drain
     * state, version and uptime. Answered locally, without a leader (so it works on a node that
     * has lost its cluster). Reads replicated counters: it never scans the jobs.
     * </pre>
     */
    public void getNodeStatus(dev.corvo.v1.GetNodeStatusRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetNodeStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetNodeStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The status of every member of the membership the answering node knows, as it reaches
     * them over their client addresses: each member's GetNodeStatus (2 s timeout each), or
     * `reachable = false` with the error. Any member answers; no leader is needed.
     * </pre>
     */
    public void getClusterStatus(dev.corvo.v1.GetClusterStatusRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetClusterStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetClusterStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Adds a node to the cluster: as a learner until it has caught up, then as a voter. Any
     * member may be asked; a follower forwards the call to the leader. Idempotent: a node that
     * is already a voter with the same addresses gets OK. Joins are applied one at a time.
     * Requires the cluster secret or an admin key: UNAUTHENTICATED without a valid credential,
     * PERMISSION_DENIED for a key of another role, FAILED_PRECONDITION when the answering node
     * has no cluster secret configured.
     * </pre>
     */
    public void join(dev.corvo.v1.JoinRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.JoinResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getJoinMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes a node from the membership (asked of the leader or forwarded to it). Requires the
     * cluster secret or an admin key.
     * </pre>
     */
    public void removeNode(dev.corvo.v1.RemoveNodeRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RemoveNodeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRemoveNodeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Asks the leader to hand leadership to the given voter. Returns once the request is
     * handed to Raft; the new leader shows in GetClusterStatus. Requires the cluster secret or
     * an admin key.
     * </pre>
     */
    public void transferLeader(dev.corvo.v1.TransferLeaderRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.TransferLeaderResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTransferLeaderMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * A digest (SHA-256) of the answering node's whole replicated state, taken once its applied
     * index has reached `min_applied_index`: equal digests at equal applied indexes mean equal
     * replicas. For tests and operators checking a replica.
     * </pre>
     */
    public void getStateDigest(dev.corvo.v1.GetStateDigestRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetStateDigestResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetStateDigestMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Builds a snapshot of the answering node's state now and returns it once it is on disk
     * (`&lt;data-dir&gt;/snapshots/`). The archive file is the backup unit: copy it off the node.
     * Snapshots are also built automatically (by entry count and by age). Requires the
     * cluster secret or an admin key (anyone on a lone node without a secret that runs open).
     * </pre>
     */
    public void createSnapshot(dev.corvo.v1.CreateSnapshotRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.CreateSnapshotResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateSnapshotMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The snapshot archives on the answering node, newest first (at most two are kept).
     * </pre>
     */
    public void listSnapshots(dev.corvo.v1.ListSnapshotsRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListSnapshotsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSnapshotsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service ClusterService.
   * <pre>
   * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
   * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
   * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
   * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
   * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
   * the status calls need an admin, operator or readonly key (docs/security.md).
   * </pre>
   */
  public static final class ClusterServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<ClusterServiceBlockingV2Stub> {
    private ClusterServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ClusterServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ClusterServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * The status of the node that answers: its Raft role, term, leader and indexes, apply
     * backlog, data-dir disk use, open worker streams, job counts by state, readiness, drain
     * state, version and uptime. Answered locally, without a leader (so it works on a node that
     * has lost its cluster). Reads replicated counters: it never scans the jobs.
     * </pre>
     */
    public dev.corvo.v1.GetNodeStatusResponse getNodeStatus(dev.corvo.v1.GetNodeStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetNodeStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The status of every member of the membership the answering node knows, as it reaches
     * them over their client addresses: each member's GetNodeStatus (2 s timeout each), or
     * `reachable = false` with the error. Any member answers; no leader is needed.
     * </pre>
     */
    public dev.corvo.v1.GetClusterStatusResponse getClusterStatus(dev.corvo.v1.GetClusterStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetClusterStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Adds a node to the cluster: as a learner until it has caught up, then as a voter. Any
     * member may be asked; a follower forwards the call to the leader. Idempotent: a node that
     * is already a voter with the same addresses gets OK. Joins are applied one at a time.
     * Requires the cluster secret or an admin key: UNAUTHENTICATED without a valid credential,
     * PERMISSION_DENIED for a key of another role, FAILED_PRECONDITION when the answering node
     * has no cluster secret configured.
     * </pre>
     */
    public dev.corvo.v1.JoinResponse join(dev.corvo.v1.JoinRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getJoinMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a node from the membership (asked of the leader or forwarded to it). Requires the
     * cluster secret or an admin key.
     * </pre>
     */
    public dev.corvo.v1.RemoveNodeResponse removeNode(dev.corvo.v1.RemoveNodeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRemoveNodeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Asks the leader to hand leadership to the given voter. Returns once the request is
     * handed to Raft; the new leader shows in GetClusterStatus. Requires the cluster secret or
     * an admin key.
     * </pre>
     */
    public dev.corvo.v1.TransferLeaderResponse transferLeader(dev.corvo.v1.TransferLeaderRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTransferLeaderMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A digest (SHA-256) of the answering node's whole replicated state, taken once its applied
     * index has reached `min_applied_index`: equal digests at equal applied indexes mean equal
     * replicas. For tests and operators checking a replica.
     * </pre>
     */
    public dev.corvo.v1.GetStateDigestResponse getStateDigest(dev.corvo.v1.GetStateDigestRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetStateDigestMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Builds a snapshot of the answering node's state now and returns it once it is on disk
     * (`&lt;data-dir&gt;/snapshots/`). The archive file is the backup unit: copy it off the node.
     * Snapshots are also built automatically (by entry count and by age). Requires the
     * cluster secret or an admin key (anyone on a lone node without a secret that runs open).
     * </pre>
     */
    public dev.corvo.v1.CreateSnapshotResponse createSnapshot(dev.corvo.v1.CreateSnapshotRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateSnapshotMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The snapshot archives on the answering node, newest first (at most two are kept).
     * </pre>
     */
    public dev.corvo.v1.ListSnapshotsResponse listSnapshots(dev.corvo.v1.ListSnapshotsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSnapshotsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service ClusterService.
   * <pre>
   * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
   * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
   * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
   * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
   * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
   * the status calls need an admin, operator or readonly key (docs/security.md).
   * </pre>
   */
  public static final class ClusterServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<ClusterServiceBlockingStub> {
    private ClusterServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ClusterServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ClusterServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * The status of the node that answers: its Raft role, term, leader and indexes, apply
     * backlog, data-dir disk use, open worker streams, job counts by state, readiness, drain
     * state, version and uptime. Answered locally, without a leader (so it works on a node that
     * has lost its cluster). Reads replicated counters: it never scans the jobs.
     * </pre>
     */
    public dev.corvo.v1.GetNodeStatusResponse getNodeStatus(dev.corvo.v1.GetNodeStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetNodeStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The status of every member of the membership the answering node knows, as it reaches
     * them over their client addresses: each member's GetNodeStatus (2 s timeout each), or
     * `reachable = false` with the error. Any member answers; no leader is needed.
     * </pre>
     */
    public dev.corvo.v1.GetClusterStatusResponse getClusterStatus(dev.corvo.v1.GetClusterStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetClusterStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Adds a node to the cluster: as a learner until it has caught up, then as a voter. Any
     * member may be asked; a follower forwards the call to the leader. Idempotent: a node that
     * is already a voter with the same addresses gets OK. Joins are applied one at a time.
     * Requires the cluster secret or an admin key: UNAUTHENTICATED without a valid credential,
     * PERMISSION_DENIED for a key of another role, FAILED_PRECONDITION when the answering node
     * has no cluster secret configured.
     * </pre>
     */
    public dev.corvo.v1.JoinResponse join(dev.corvo.v1.JoinRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getJoinMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a node from the membership (asked of the leader or forwarded to it). Requires the
     * cluster secret or an admin key.
     * </pre>
     */
    public dev.corvo.v1.RemoveNodeResponse removeNode(dev.corvo.v1.RemoveNodeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRemoveNodeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Asks the leader to hand leadership to the given voter. Returns once the request is
     * handed to Raft; the new leader shows in GetClusterStatus. Requires the cluster secret or
     * an admin key.
     * </pre>
     */
    public dev.corvo.v1.TransferLeaderResponse transferLeader(dev.corvo.v1.TransferLeaderRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTransferLeaderMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * A digest (SHA-256) of the answering node's whole replicated state, taken once its applied
     * index has reached `min_applied_index`: equal digests at equal applied indexes mean equal
     * replicas. For tests and operators checking a replica.
     * </pre>
     */
    public dev.corvo.v1.GetStateDigestResponse getStateDigest(dev.corvo.v1.GetStateDigestRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetStateDigestMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Builds a snapshot of the answering node's state now and returns it once it is on disk
     * (`&lt;data-dir&gt;/snapshots/`). The archive file is the backup unit: copy it off the node.
     * Snapshots are also built automatically (by entry count and by age). Requires the
     * cluster secret or an admin key (anyone on a lone node without a secret that runs open).
     * </pre>
     */
    public dev.corvo.v1.CreateSnapshotResponse createSnapshot(dev.corvo.v1.CreateSnapshotRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateSnapshotMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The snapshot archives on the answering node, newest first (at most two are kept).
     * </pre>
     */
    public dev.corvo.v1.ListSnapshotsResponse listSnapshots(dev.corvo.v1.ListSnapshotsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSnapshotsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service ClusterService.
   * <pre>
   * ClusterService is the operator's view of the nodes: is each one reachable, is a leader
   * elected, is its apply backlog growing, is its disk filling up, are workers connected, and
   * is it ready for traffic. `corvo status` and `corvo cluster status` are built on it.
   * Join, RemoveNode, TransferLeader and CreateSnapshot need the cluster secret
   * (`authorization: Bearer &lt;secret&gt;` or `x-corvo-cluster-secret` metadata) or an admin API key;
   * the status calls need an admin, operator or readonly key (docs/security.md).
   * </pre>
   */
  public static final class ClusterServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<ClusterServiceFutureStub> {
    private ClusterServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ClusterServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ClusterServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * The status of the node that answers: its Raft role, term, leader and indexes, apply
     * backlog, data-dir disk use, open worker streams, job counts by state, readiness, drain
     * state, version and uptime. Answered locally, without a leader (so it works on a node that
     * has lost its cluster). Reads replicated counters: it never scans the jobs.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetNodeStatusResponse> getNodeStatus(
        dev.corvo.v1.GetNodeStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetNodeStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The status of every member of the membership the answering node knows, as it reaches
     * them over their client addresses: each member's GetNodeStatus (2 s timeout each), or
     * `reachable = false` with the error. Any member answers; no leader is needed.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetClusterStatusResponse> getClusterStatus(
        dev.corvo.v1.GetClusterStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetClusterStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Adds a node to the cluster: as a learner until it has caught up, then as a voter. Any
     * member may be asked; a follower forwards the call to the leader. Idempotent: a node that
     * is already a voter with the same addresses gets OK. Joins are applied one at a time.
     * Requires the cluster secret or an admin key: UNAUTHENTICATED without a valid credential,
     * PERMISSION_DENIED for a key of another role, FAILED_PRECONDITION when the answering node
     * has no cluster secret configured.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.JoinResponse> join(
        dev.corvo.v1.JoinRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getJoinMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes a node from the membership (asked of the leader or forwarded to it). Requires the
     * cluster secret or an admin key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.RemoveNodeResponse> removeNode(
        dev.corvo.v1.RemoveNodeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRemoveNodeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Asks the leader to hand leadership to the given voter. Returns once the request is
     * handed to Raft; the new leader shows in GetClusterStatus. Requires the cluster secret or
     * an admin key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.TransferLeaderResponse> transferLeader(
        dev.corvo.v1.TransferLeaderRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTransferLeaderMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * A digest (SHA-256) of the answering node's whole replicated state, taken once its applied
     * index has reached `min_applied_index`: equal digests at equal applied indexes mean equal
     * replicas. For tests and operators checking a replica.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetStateDigestResponse> getStateDigest(
        dev.corvo.v1.GetStateDigestRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetStateDigestMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Builds a snapshot of the answering node's state now and returns it once it is on disk
     * (`&lt;data-dir&gt;/snapshots/`). The archive file is the backup unit: copy it off the node.
     * Snapshots are also built automatically (by entry count and by age). Requires the
     * cluster secret or an admin key (anyone on a lone node without a secret that runs open).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.CreateSnapshotResponse> createSnapshot(
        dev.corvo.v1.CreateSnapshotRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateSnapshotMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The snapshot archives on the answering node, newest first (at most two are kept).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ListSnapshotsResponse> listSnapshots(
        dev.corvo.v1.ListSnapshotsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSnapshotsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_NODE_STATUS = 0;
  private static final int METHODID_GET_CLUSTER_STATUS = 1;
  private static final int METHODID_JOIN = 2;
  private static final int METHODID_REMOVE_NODE = 3;
  private static final int METHODID_TRANSFER_LEADER = 4;
  private static final int METHODID_GET_STATE_DIGEST = 5;
  private static final int METHODID_CREATE_SNAPSHOT = 6;
  private static final int METHODID_LIST_SNAPSHOTS = 7;

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
        case METHODID_GET_NODE_STATUS:
          serviceImpl.getNodeStatus((dev.corvo.v1.GetNodeStatusRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetNodeStatusResponse>) responseObserver);
          break;
        case METHODID_GET_CLUSTER_STATUS:
          serviceImpl.getClusterStatus((dev.corvo.v1.GetClusterStatusRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetClusterStatusResponse>) responseObserver);
          break;
        case METHODID_JOIN:
          serviceImpl.join((dev.corvo.v1.JoinRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.JoinResponse>) responseObserver);
          break;
        case METHODID_REMOVE_NODE:
          serviceImpl.removeNode((dev.corvo.v1.RemoveNodeRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.RemoveNodeResponse>) responseObserver);
          break;
        case METHODID_TRANSFER_LEADER:
          serviceImpl.transferLeader((dev.corvo.v1.TransferLeaderRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.TransferLeaderResponse>) responseObserver);
          break;
        case METHODID_GET_STATE_DIGEST:
          serviceImpl.getStateDigest((dev.corvo.v1.GetStateDigestRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetStateDigestResponse>) responseObserver);
          break;
        case METHODID_CREATE_SNAPSHOT:
          serviceImpl.createSnapshot((dev.corvo.v1.CreateSnapshotRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.CreateSnapshotResponse>) responseObserver);
          break;
        case METHODID_LIST_SNAPSHOTS:
          serviceImpl.listSnapshots((dev.corvo.v1.ListSnapshotsRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ListSnapshotsResponse>) responseObserver);
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
          getGetNodeStatusMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetNodeStatusRequest,
              dev.corvo.v1.GetNodeStatusResponse>(
                service, METHODID_GET_NODE_STATUS)))
        .addMethod(
          getGetClusterStatusMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetClusterStatusRequest,
              dev.corvo.v1.GetClusterStatusResponse>(
                service, METHODID_GET_CLUSTER_STATUS)))
        .addMethod(
          getJoinMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.JoinRequest,
              dev.corvo.v1.JoinResponse>(
                service, METHODID_JOIN)))
        .addMethod(
          getRemoveNodeMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.RemoveNodeRequest,
              dev.corvo.v1.RemoveNodeResponse>(
                service, METHODID_REMOVE_NODE)))
        .addMethod(
          getTransferLeaderMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.TransferLeaderRequest,
              dev.corvo.v1.TransferLeaderResponse>(
                service, METHODID_TRANSFER_LEADER)))
        .addMethod(
          getGetStateDigestMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetStateDigestRequest,
              dev.corvo.v1.GetStateDigestResponse>(
                service, METHODID_GET_STATE_DIGEST)))
        .addMethod(
          getCreateSnapshotMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.CreateSnapshotRequest,
              dev.corvo.v1.CreateSnapshotResponse>(
                service, METHODID_CREATE_SNAPSHOT)))
        .addMethod(
          getListSnapshotsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ListSnapshotsRequest,
              dev.corvo.v1.ListSnapshotsResponse>(
                service, METHODID_LIST_SNAPSHOTS)))
        .build();
  }

  private static abstract class ClusterServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ClusterServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.corvo.v1.ClusterProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ClusterService");
    }
  }

  private static final class ClusterServiceFileDescriptorSupplier
      extends ClusterServiceBaseDescriptorSupplier {
    ClusterServiceFileDescriptorSupplier() {}
  }

  private static final class ClusterServiceMethodDescriptorSupplier
      extends ClusterServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    ClusterServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (ClusterServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ClusterServiceFileDescriptorSupplier())
              .addMethod(getGetNodeStatusMethod())
              .addMethod(getGetClusterStatusMethod())
              .addMethod(getJoinMethod())
              .addMethod(getRemoveNodeMethod())
              .addMethod(getTransferLeaderMethod())
              .addMethod(getGetStateDigestMethod())
              .addMethod(getCreateSnapshotMethod())
              .addMethod(getListSnapshotsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
