package dev.corvo.sdk;

import dev.corvo.v1.ErrorCode;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * Every error of the SDK: the gRPC status code, the server's message and, where the server
 * sent one (stream frames and per-item results), the Corvo {@link ErrorCode}. Never a bare
 * transport exception.
 *
 * <p>{@code UNKNOWN} ({@code ERROR_CODE_OUTCOME_UNKNOWN}) is a write the server cannot say was
 * applied or not (leadership changed mid-call, or it was not committed in time) and that carried
 * no idempotency key or lease token: the SDK never retries it, since that could apply it twice.
 * Check before sending it again.
 */
public class CorvoException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  static final Metadata.Key<String> PUSHBACK =
      Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> LEADER =
      Metadata.Key.of("x-corvo-leader", Metadata.ASCII_STRING_MARSHALLER);

  private final Status.Code statusCode;
  private final ErrorCode errorCode;
  private final long retryAfterMs;

  CorvoException(Status.Code statusCode, ErrorCode errorCode, String message, long retryAfterMs, Throwable cause) {
    super(statusCode + ": " + message, cause);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.retryAfterMs = retryAfterMs;
  }

  /** The gRPC status code ({@code UNAVAILABLE}, {@code PERMISSION_DENIED}...). */
  public Status.Code statusCode() {
    return statusCode;
  }

  /** The Corvo error code, {@code ERROR_CODE_UNSPECIFIED} when the server sent none. */
  public ErrorCode errorCode() {
    return errorCode;
  }

  /** How long the server asked to wait before retrying, 0 when it gave no hint. */
  public long retryAfterMs() {
    return retryAfterMs;
  }

  /** A failed gRPC call (or any other throwable) as a {@code CorvoException}. */
  static CorvoException from(Throwable t) {
    if (t instanceof CorvoException c) {
      return c;
    }
    Status status = Status.fromThrowable(t);
    Metadata trailers = Status.trailersFromThrowable(t);
    String message = status.getDescription();
    Throwable cause = status.getCause();
    if (message == null || message.isEmpty()) {
      message = cause != null ? cause.toString() : status.getCode().toString();
    } else if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
      message = message + ": " + cause.getMessage(); // "io exception: Connection refused: ..."
    }
    return new CorvoException(status.getCode(), ErrorCode.ERROR_CODE_UNSPECIFIED, message, pushbackMs(trailers), t);
  }

  /** A stream frame or item refused with a Corvo error code. */
  static CorvoException fromCode(ErrorCode code, String message, long retryAfterMs) {
    return new CorvoException(statusOf(code), code, message, retryAfterMs, null);
  }

  /** The pushback hint of a failed call's trailers, 0 when there is none. */
  static long pushbackMs(Metadata trailers) {
    String v = trailers == null ? null : trailers.get(PUSHBACK);
    if (v == null) {
      return 0;
    }
    try {
      return Math.max(0, Long.parseLong(v.trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** The leader a failed call's trailers name ({@code host:port}), or null. */
  static String leader(Metadata trailers) {
    String v = trailers == null ? null : trailers.get(LEADER);
    return v == null || v.isBlank() ? null : v.trim();
  }

  /** The gRPC code the server uses for the same error on unary calls. */
  static Status.Code statusOf(ErrorCode code) {
    return switch (code) {
      case ERROR_CODE_INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
      case ERROR_CODE_NOT_FOUND -> Status.Code.NOT_FOUND;
      case ERROR_CODE_STALE_LEASE, ERROR_CODE_INVALID_STATE -> Status.Code.FAILED_PRECONDITION;
      case ERROR_CODE_OVERLOADED, ERROR_CODE_NOT_LEADER, ERROR_CODE_UNAVAILABLE -> Status.Code.UNAVAILABLE;
      case ERROR_CODE_UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
      case ERROR_CODE_PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
      case ERROR_CODE_OUTCOME_UNKNOWN -> Status.Code.UNKNOWN;
      case ERROR_CODE_UNSPECIFIED -> Status.Code.OK;
      default -> Status.Code.INTERNAL;
    };
  }
}
