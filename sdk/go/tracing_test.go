package corvo

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestTraceparentGoesOutWithTheCall(t *testing.T) {
	if ctx := withTraceparent(context.Background()); ctx != context.Background() {
		t.Fatal("no span, no header")
	}
	ctx := parentContext(context.Background(), testTraceparent)
	md, _ := metadata.FromOutgoingContext(withTraceparent(ctx))
	if got := md.Get("traceparent"); len(got) != 1 || got[0] != testTraceparent {
		t.Fatalf("traceparent: %v", got)
	}
}

func TestHandlerSpanJoinsTheProducersTrace(t *testing.T) {
	ctx := parentContext(context.Background(), testTraceparent)
	// Without an OTel SDK the span is not recorded, but the trace context still flows.
	ctx, span := otel.Tracer(tracerName).Start(ctx, "corvo.worker.execute", trace.WithSpanKind(trace.SpanKindConsumer))
	defer span.End()
	if got := trace.SpanContextFromContext(ctx).TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("trace id %s", got)
	}
	if sc := trace.SpanContextFromContext(parentContext(context.Background(), "garbage")); sc.IsValid() {
		t.Fatal("an unparsable traceparent is ignored")
	}
}
