package corvo

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

const tracerName = "example.invalid/corvo/sdk/go"

// w3c is the global propagator when it handles W3C trace context, else TraceContext: the
// job's trace_parent is a W3C traceparent whatever the application installed.
func w3c() propagation.TextMapPropagator {
	p := otel.GetTextMapPropagator()
	if slices.Contains(p.Fields(), "traceparent") {
		return p
	}
	return propagation.TraceContext{}
}

// withTraceparent adds the current span's context to the outgoing metadata as the W3C
// traceparent header (nothing when ctx holds no valid span: no OTel SDK installed).
func withTraceparent(ctx context.Context) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	carrier := propagation.MapCarrier{}
	w3c().Inject(ctx, carrier)
	var kv []string
	for k, v := range carrier {
		kv = append(kv, k, v)
	}
	if len(kv) == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// parentContext returns ctx with the remote span context of a W3C traceparent (unchanged
// when the string is empty or does not parse).
func parentContext(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return w3c().Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}
