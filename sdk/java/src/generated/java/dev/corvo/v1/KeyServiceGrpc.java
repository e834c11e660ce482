package dev.corvo.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * KeyService manages API keys: who may call this cluster, with which role, on which queues.
 * Admin keys only (and, while the server runs open because no key exists yet, any caller).
 * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
 * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
 * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
 * state: a key created on one node works on every node of the cluster.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler (version 1.71.0)",
    comments = "Source: corvo/v1/key.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class KeyServiceGrpc {

  private KeyServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "corvo.v1.KeyService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.CreateKeyRequest,
      dev.corvo.v1.CreateKeyResponse> getCreateKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateKey",
      requestType = dev.corvo.v1.CreateKeyRequest.class,
      responseType = dev.corvo.v1.CreateKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.CreateKeyRequest,
      dev.corvo.v1.CreateKeyResponse> getCreateKeyMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.CreateKeyRequest, dev.corvo.v1.CreateKeyResponse> getCreateKeyMethod;
    if ((getCreateKeyMethod = KeyServiceGrpc.getCreateKeyMethod) == null) {
      synchronized (KeyServiceGrpc.class) {
        if ((getCreateKeyMethod = KeyServiceGrpc.getCreateKeyMethod) == null) {
          KeyServiceGrpc.getCreateKeyMethod = getCreateKeyMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.CreateKeyRequest, dev.corvo.v1.CreateKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.CreateKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.CreateKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KeyServiceMethodDescriptorSupplier("CreateKey"))
              .build();
        }
      }
    }
    return getCreateKeyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.ListKeysRequest,
      dev.corvo.v1.ListKeysResponse> getListKeysMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListKeys",
      requestType = dev.corvo.v1.ListKeysRequest.class,
      responseType = dev.corvo.v1.ListKeysResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.ListKeysRequest,
      dev.corvo.v1.ListKeysResponse> getListKeysMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.ListKeysRequest, dev.corvo.v1.ListKeysResponse> getListKeysMethod;
    if ((getListKeysMethod = KeyServiceGrpc.getListKeysMethod) == null) {
      synchronized (KeyServiceGrpc.class) {
        if ((getListKeysMethod = KeyServiceGrpc.getListKeysMethod) == null) {
          KeyServiceGrpc.getListKeysMethod = getListKeysMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.ListKeysRequest, dev.corvo.v1.ListKeysResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListKeys"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListKeysRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.ListKeysResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KeyServiceMethodDescriptorSupplier("ListKeys"))
              .build();
        }
      }
    }
    return getListKeysMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.GetKeyRequest,
      dev.corvo.v1.GetKeyResponse> getGetKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetKey",
      requestType = dev.corvo.v1.GetKeyRequest.class,
      responseType = dev.corvo.v1.GetKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.GetKeyRequest,
      dev.corvo.v1.GetKeyResponse> getGetKeyMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.GetKeyRequest, dev.corvo.v1.GetKeyResponse> getGetKeyMethod;
    if ((getGetKeyMethod = KeyServiceGrpc.getGetKeyMethod) == null) {
      synchronized (KeyServiceGrpc.class) {
        if ((getGetKeyMethod = KeyServiceGrpc.getGetKeyMethod) == null) {
          KeyServiceGrpc.getGetKeyMethod = getGetKeyMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.GetKeyRequest, dev.corvo.v1.GetKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.GetKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KeyServiceMethodDescriptorSupplier("GetKey"))
              .build();
        }
      }
    }
    return getGetKeyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.RevokeKeyRequest,
      dev.corvo.v1.RevokeKeyResponse> getRevokeKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RevokeKey",
      requestType = dev.corvo.v1.RevokeKeyRequest.class,
      responseType = dev.corvo.v1.RevokeKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.RevokeKeyRequest,
      dev.corvo.v1.RevokeKeyResponse> getRevokeKeyMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.RevokeKeyRequest, dev.corvo.v1.RevokeKeyResponse> getRevokeKeyMethod;
    if ((getRevokeKeyMethod = KeyServiceGrpc.getRevokeKeyMethod) == null) {
      synchronized (KeyServiceGrpc.class) {
        if ((getRevokeKeyMethod = KeyServiceGrpc.getRevokeKeyMethod) == null) {
          KeyServiceGrpc.getRevokeKeyMethod = getRevokeKeyMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.RevokeKeyRequest, dev.corvo.v1.RevokeKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RevokeKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RevokeKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RevokeKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KeyServiceMethodDescriptorSupplier("RevokeKey"))
              .build();
        }
      }
    }
    return getRevokeKeyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.corvo.v1.RotateKeyRequest,
      dev.corvo.v1.RotateKeyResponse> getRotateKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RotateKey",
      requestType = dev.corvo.v1.RotateKeyRequest.class,
      responseType = dev.corvo.v1.RotateKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.corvo.v1.RotateKeyRequest,
      dev.corvo.v1.RotateKeyResponse> getRotateKeyMethod() {
    io.grpc.MethodDescriptor<dev.corvo.v1.RotateKeyRequest, dev.corvo.v1.RotateKeyResponse> getRotateKeyMethod;
    if ((getRotateKeyMethod = KeyServiceGrpc.getRotateKeyMethod) == null) {
      synchronized (KeyServiceGrpc.class) {
        if ((getRotateKeyMethod = KeyServiceGrpc.getRotateKeyMethod) == null) {
          KeyServiceGrpc.getRotateKeyMethod = getRotateKeyMethod =
              io.grpc.MethodDescriptor.<dev.corvo.v1.RotateKeyRequest, dev.corvo.v1.RotateKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RotateKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RotateKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.corvo.v1.RotateKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new KeyServiceMethodDescriptorSupplier("RotateKey"))
              .build();
        }
      }
    }
    return getRotateKeyMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static KeyServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KeyServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KeyServiceStub>() {
        @java.lang.Override
        public KeyServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KeyServiceStub(channel, callOptions);
        }
      };
    return KeyServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static KeyServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KeyServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KeyServiceBlockingV2Stub>() {
        @java.lang.Override
        public KeyServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KeyServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return KeyServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static KeyServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KeyServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KeyServiceBlockingStub>() {
        @java.lang.Override
        public KeyServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KeyServiceBlockingStub(channel, callOptions);
        }
      };
    return KeyServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static KeyServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<KeyServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<KeyServiceFutureStub>() {
        @java.lang.Override
        public KeyServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new KeyServiceFutureStub(channel, callOptions);
        }
      };
    return KeyServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * KeyService manages API keys: who may call this cluster, with which role, on which queues.
   * Admin keys only (and, while the server runs open because no key exists yet, any caller).
   * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
   * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
   * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
   * state: a key created on one node works on every node of the cluster.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a key and returns its secret (once). `name` and `role` are required; `queues`
     * limits the key to queues matching any of the globs (`emails.*`; empty = every queue).
     * </pre>
     */
    default void createKey(dev.corvo.v1.CreateKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.CreateKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateKeyMethod(), responseObserver);
    }

    /**
     * <pre>
     * Every key, revoked ones included, without secrets, in creation order.
     * </pre>
     */
    default void listKeys(dev.corvo.v1.ListKeysRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListKeysResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListKeysMethod(), responseObserver);
    }

    /**
     * <pre>
     * One key, without its secret. NOT_FOUND for an unknown id.
     * </pre>
     */
    default void getKey(dev.corvo.v1.GetKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetKeyMethod(), responseObserver);
    }

    /**
     * <pre>
     * Refuses the key from now on, on every node. It stays listed (revoked). Revoking twice
     * changes nothing.
     * </pre>
     */
    default void revokeKey(dev.corvo.v1.RevokeKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RevokeKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRevokeKeyMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gives the key a new secret (returned once) under the same id, role and scopes. The old
     * secret keeps working for `grace_ms` (default 24 h, at most 30 days; 0 ends it now), so
     * clients can be moved over without downtime. FAILED_PRECONDITION for a revoked key.
     * </pre>
     */
    default void rotateKey(dev.corvo.v1.RotateKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RotateKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRotateKeyMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service KeyService.
   * <pre>
   * KeyService manages API keys: who may call this cluster, with which role, on which queues.
   * Admin keys only (and, while the server runs open because no key exists yet, any caller).
   * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
   * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
   * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
   * state: a key created on one node works on every node of the cluster.
   * </pre>
   */
  public static abstract class KeyServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return KeyServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service KeyService.
   * <pre>
   * KeyService manages API keys: who may call this cluster, with which role, on which queues.
   * Admin keys only (and, while the server runs open because no key exists yet, any caller).
   * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
   * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
   * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
   * state: a key created on one node works on every node of the cluster.
   * </pre>
   */
  public static final class KeyServiceStub
      extends io.grpc.stub.AbstractAsyncStub<KeyServiceStub> {
    private KeyServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KeyServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KeyServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a key and returns its secret (once). `name` and `role` are required; `queues`
     * limits the key to queues matching any of the globs (`emails.*`; empty = every queue).
     * </pre>
     */
    public void createKey(dev.corvo.v1.CreateKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.CreateKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateKeyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Every key, revoked ones included, without secrets, in creation order.
     * </pre>
     */
    public void listKeys(dev.corvo.v1.ListKeysRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.ListKeysResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListKeysMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * One key, without its secret. NOT_FOUND for an unknown id.
     * </pre>
     */
    public void getKey(dev.corvo.v1.GetKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.GetKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetKeyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Refuses the key from now on, on every node. It stays listed (revoked). Revoking twice
     * changes nothing.
     * </pre>
     */
    public void revokeKey(dev.corvo.v1.RevokeKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RevokeKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRevokeKeyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gives the key a new secret (returned once) under the same id, role and scopes. The old
     * secret keeps working for `grace_ms` (default 24 h, at most 30 days; 0 ends it now), so
     * clients can be moved over without downtime. FAILED_PRECONDITION for a revoked key.
     * </pre>
     */
    public void rotateKey(dev.corvo.v1.RotateKeyRequest request,
        io.grpc.stub.StreamObserver<dev.corvo.v1.RotateKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRotateKeyMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service KeyService.
   * <pre>
   * KeyService manages API keys: who may call this cluster, with which role, on which queues.
   * Admin keys only (and, while the server runs open because no key exists yet, any caller).
   * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
   * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
   * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
   * state: a key created on one node works on every node of the cluster.
   * </pre>
   */
  public static final class KeyServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<KeyServiceBlockingV2Stub> {
    private KeyServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KeyServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KeyServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a key and returns its secret (once). `name` and `role` are required; `queues`
     * limits the key to queues matching any of the globs (`emails.*`; empty = every queue).
     * </pre>
     */
    public dev.corvo.v1.CreateKeyResponse createKey(dev.corvo.v1.CreateKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Every key, revoked ones included, without secrets, in creation order.
     * </pre>
     */
    public dev.corvo.v1.ListKeysResponse listKeys(dev.corvo.v1.ListKeysRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListKeysMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One key, without its secret. NOT_FOUND for an unknown id.
     * </pre>
     */
    public dev.corvo.v1.GetKeyResponse getKey(dev.corvo.v1.GetKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Refuses the key from now on, on every node. It stays listed (revoked). Revoking twice
     * changes nothing.
     * </pre>
     */
    public dev.corvo.v1.RevokeKeyResponse revokeKey(dev.corvo.v1.RevokeKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRevokeKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gives the key a new secret (returned once) under the same id, role and scopes. The old
     * secret keeps working for `grace_ms` (default 24 h, at most 30 days; 0 ends it now), so
     * clients can be moved over without downtime. FAILED_PRECONDITION for a revoked key.
     * </pre>
     */
    public dev.corvo.v1.RotateKeyResponse rotateKey(dev.corvo.v1.RotateKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRotateKeyMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service KeyService.
   * <pre>
   * KeyService manages API keys: who may call this cluster, with which role, on which queues.
   * Admin keys only (and, while the server runs open because no key exists yet, any caller).
   * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
   * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
   * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
   * state: a key created on one node works on every node of the cluster.
   * </pre>
   */
  public static final class KeyServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<KeyServiceBlockingStub> {
    private KeyServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KeyServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KeyServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a key and returns its secret (once). `name` and `role` are required; `queues`
     * limits the key to queues matching any of the globs (`emails.*`; empty = every queue).
     * </pre>
     */
    public dev.corvo.v1.CreateKeyResponse createKey(dev.corvo.v1.CreateKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Every key, revoked ones included, without secrets, in creation order.
     * </pre>
     */
    public dev.corvo.v1.ListKeysResponse listKeys(dev.corvo.v1.ListKeysRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListKeysMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * One key, without its secret. NOT_FOUND for an unknown id.
     * </pre>
     */
    public dev.corvo.v1.GetKeyResponse getKey(dev.corvo.v1.GetKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Refuses the key from now on, on every node. It stays listed (revoked). Revoking twice
     * changes nothing.
     * </pre>
     */
    public dev.corvo.v1.RevokeKeyResponse revokeKey(dev.corvo.v1.RevokeKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRevokeKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gives the key a new secret (returned once) under the same id, role and scopes. The old
     * secret keeps working for `grace_ms` (default 24 h, at most 30 days; 0 ends it now), so
     * clients can be moved over without downtime. FAILED_PRECONDITION for a revoked key.
     * </pre>
     */
    public dev.corvo.v1.RotateKeyResponse rotateKey(dev.corvo.v1.RotateKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRotateKeyMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service KeyService.
   * <pre>
   * KeyService manages API keys: who may call this cluster, with which role, on which queues.
   * Admin keys only (and, while the server runs open because no key exists yet, any caller).
   * A key is 256 random bits from the server's OS RNG, returned once by CreateKey and
   * RotateKey and stored only as its SHA-256: it can never be shown again. Send it as
   * `authorization: Bearer &lt;key&gt;` (or `x-api-key: &lt;key&gt;`) on every call. Keys are replicated
   * state: a key created on one node works on every node of the cluster.
   * </pre>
   */
  public static final class KeyServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<KeyServiceFutureStub> {
    private KeyServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected KeyServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new KeyServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a key and returns its secret (once). `name` and `role` are required; `queues`
     * limits the key to queues matching any of the globs (`emails.*`; empty = every queue).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.CreateKeyResponse> createKey(
        dev.corvo.v1.CreateKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateKeyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Every key, revoked ones included, without secrets, in creation order.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.ListKeysResponse> listKeys(
        dev.corvo.v1.ListKeysRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListKeysMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * One key, without its secret. NOT_FOUND for an unknown id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.GetKeyResponse> getKey(
        dev.corvo.v1.GetKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetKeyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Refuses the key from now on, on every node. It stays listed (revoked). Revoking twice
     * changes nothing.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.RevokeKeyResponse> revokeKey(
        dev.corvo.v1.RevokeKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRevokeKeyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gives the key a new secret (returned once) under the same id, role and scopes. The old
     * secret keeps working for `grace_ms` (default 24 h, at most 30 days; 0 ends it now), so
     * clients can be moved over without downtime. FAILED_PRECONDITION for a revoked key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.corvo.v1.RotateKeyResponse> rotateKey(
        dev.corvo.v1.RotateKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRotateKeyMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_KEY = 0;
  private static final int METHODID_LIST_KEYS = 1;
  private static final int METHODID_GET_KEY = 2;
  private static final int METHODID_REVOKE_KEY = 3;
  private static final int METHODID_ROTATE_KEY = 4;

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
        case METHODID_CREATE_KEY:
          serviceImpl.createKey((dev.corvo.v1.CreateKeyRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.CreateKeyResponse>) responseObserver);
          break;
        case METHODID_LIST_KEYS:
          serviceImpl.listKeys((dev.corvo.v1.ListKeysRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.ListKeysResponse>) responseObserver);
          break;
        case METHODID_GET_KEY:
          serviceImpl.getKey((dev.corvo.v1.GetKeyRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.GetKeyResponse>) responseObserver);
          break;
        case METHODID_REVOKE_KEY:
          serviceImpl.revokeKey((dev.corvo.v1.RevokeKeyRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.RevokeKeyResponse>) responseObserver);
          break;
        case METHODID_ROTATE_KEY:
          serviceImpl.rotateKey((dev.corvo.v1.RotateKeyRequest) request,
              (io.grpc.stub.StreamObserver<dev.corvo.v1.RotateKeyResponse>) responseObserver);
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
          getCreateKeyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.CreateKeyRequest,
              dev.corvo.v1.CreateKeyResponse>(
                service, METHODID_CREATE_KEY)))
        .addMethod(
          getListKeysMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.ListKeysRequest,
              dev.corvo.v1.ListKeysResponse>(
                service, METHODID_LIST_KEYS)))
        .addMethod(
          getGetKeyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.GetKeyRequest,
              dev.corvo.v1.GetKeyResponse>(
                service, METHODID_GET_KEY)))
        .addMethod(
          getRevokeKeyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.RevokeKeyRequest,
              dev.corvo.v1.RevokeKeyResponse>(
                service, METHODID_REVOKE_KEY)))
        .addMethod(
          getRotateKeyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.corvo.v1.RotateKeyRequest,
              dev.corvo.v1.RotateKeyResponse>(
                service, METHODID_ROTATE_KEY)))
        .build();
  }

  private static abstract class KeyServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    KeyServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.corvo.v1.KeyProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("KeyService");
    }
  }

  private static final class KeyServiceFileDescriptorSupplier
      extends KeyServiceBaseDescriptorSupplier {
    KeyServiceFileDescriptorSupplier() {}
  }

  private static final class KeyServiceMethodDescriptorSupplier
      extends KeyServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    KeyServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (KeyServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new KeyServiceFileDescriptorSupplier())
              .addMethod(getCreateKeyMethod())
              .addMethod(getListKeysMethod())
              .addMethod(getGetKeyMethod())
              .addMethod(getRevokeKeyMethod())
              .addMethod(getRotateKeyMethod())
              .build();
        }
      }
    }
    return result;
  }
}
