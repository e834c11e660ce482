package dev.corvo.sdk;

import dev.corvo.v1.StreamLifecycleRequest;
import dev.corvo.v1.StreamLifecycleResponse;
import dev.corvo.v1.WorkerServiceGrpc;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@code StreamLifecycle} stream used only to enqueue: one frame out, its answer back. It
 * grants no credits, so the server pushes nothing down it and answers arrive in order.
 */
final class EnqueueStream implements AutoCloseable {
  private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
  private final ClientCallStreamObserver<StreamLifecycleRequest> requests;
  private boolean ended;

  EnqueueStream(Channel channel, Metadata headers) {
    StreamObserver<StreamLifecycleResponse> observer =
        new StreamObserver<>() {
          @Override
          public void onNext(StreamLifecycleResponse r) {
            answers.add(r);
          }

          @Override
          public void onError(Throwable t) {
            answers.add(t);
          }

          @Override
          public void onCompleted() {
            answers.add(Status.UNAVAILABLE.withDescription("the server ended the stream").asRuntimeException());
          }
        };
    requests =
        (ClientCallStreamObserver<StreamLifecycleRequest>)
            WorkerServiceGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .streamLifecycle(observer);
  }

  /** Sends {@code frame} and waits for its answer until {@code deadlineNanos} (nanoTime). */
  StreamLifecycleResponse exchange(StreamLifecycleRequest frame, long deadlineNanos) {
    requests.onNext(frame);
    Object answer;
    try {
      answer = answers.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
    if (answer == null) {
      throw Status.DEADLINE_EXCEEDED.withDescription("no answer to an enqueue frame within the call timeout")
          .asRuntimeException();
    }
    if (answer instanceof StatusRuntimeException e) {
      ended = true;
      throw e;
    }
    if (answer instanceof Throwable t) {
      ended = true;
      throw Status.fromThrowable(t).asRuntimeException(Status.trailersFromThrowable(t));
    }
    return (StreamLifecycleResponse) answer;
  }

  /** Abandons the stream (after an error or a timeout). */
  void cancel() {
    if (!ended) {
      ended = true;
      requests.cancel("abandoned by the client", null);
    }
  }

  /** Ends the stream cleanly. */
  @Override
  public void close() {
    if (!ended) {
      ended = true;
      requests.onCompleted();
    }
  }
}
