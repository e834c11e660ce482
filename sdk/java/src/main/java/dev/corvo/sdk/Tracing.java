package dev.corvo.sdk;

import dev.corvo.v1.FetchBatchJob;
import io.grpc.Metadata;
import java.util.function.Supplier;

/**
 * OpenTelemetry, when the application has {@code io.opentelemetry:opentelemetry-api} on its
 * classpath: {@code enqueue} sends the current context as the {@code traceparent} header, and
 * each job runs in a {@code corvo.worker.execute} span (kind consumer) whose parent is the
 * job's {@code trace_parent}. Without the API this class never touches an OpenTelemetry type;
 * with the API but no SDK installed the global no-op implementation costs next to nothing.
 */
final class Tracing {
  private static final boolean PRESENT = detect();

  private Tracing() {}

  private static boolean detect() {
    try {
      Class.forName("io.opentelemetry.api.GlobalOpenTelemetry", false, Tracing.class.getClassLoader());
      Class.forName("io.opentelemetry.context.Context", false, Tracing.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Adds the current trace context to outgoing call headers. */
  static void inject(Metadata headers) {
    if (PRESENT) {
      Otel.inject(headers);
    }
  }

  /** Runs a job's handler inside its consumer span; a failed outcome marks the span. */
  static Outbox.Outcome execute(FetchBatchJob job, Supplier<Outbox.Outcome> body) {
    return PRESENT ? Otel.execute(job, body) : body.get();
  }

  /** Loaded only when the API is present. */
  private static final class Otel {
    private static final io.opentelemetry.context.propagation.TextMapSetter<Metadata> SETTER =
        (carrier, key, value) -> {
          if (carrier != null) {
            carrier.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
          }
        };
    private static final io.opentelemetry.context.propagation.TextMapGetter<String> TRACEPARENT =
        new io.opentelemetry.context.propagation.TextMapGetter<>() {
          @Override
          public Iterable<String> keys(String carrier) {
            return java.util.List.of("traceparent");
          }

          @Override
          public String get(String carrier, String key) {
            return "traceparent".equals(key) ? carrier : null;
          }
        };

    static void inject(Metadata headers) {
      io.opentelemetry.api.GlobalOpenTelemetry.getPropagators()
          .getTextMapPropagator()
          .inject(io.opentelemetry.context.Context.current(), headers, SETTER);
    }

    @SuppressWarnings("try") // the scope only needs closing
    static Outbox.Outcome execute(FetchBatchJob job, Supplier<Outbox.Outcome> body) {
      io.opentelemetry.context.Context parent = io.opentelemetry.context.Context.current();
      if (!job.getTraceParent().isEmpty()) {
        parent =
            io.opentelemetry.api.GlobalOpenTelemetry.getPropagators()
                .getTextMapPropagator()
                .extract(io.opentelemetry.context.Context.root(), job.getTraceParent(), TRACEPARENT);
      }
      io.opentelemetry.api.trace.Span span =
          io.opentelemetry.api.GlobalOpenTelemetry.getTracer("dev.corvo.sdk")
              .spanBuilder("corvo.worker.execute")
              .setSpanKind(io.opentelemetry.api.trace.SpanKind.CONSUMER)
              .setParent(parent)
              .setAttribute("messaging.system", "corvo")
              .setAttribute("messaging.destination.name", job.getQueue())
              .setAttribute("messaging.message.id", job.getJobId())
              .setAttribute("corvo.job.attempt", (long) job.getAttempt())
              .startSpan();
      try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
        Outbox.Outcome outcome = body.get();
        if (!outcome.completed()) {
          span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, outcome.error());
        }
        return outcome;
      } finally {
        span.end();
      }
    }
  }
}
