//! The tower stack in front of the client port: THE one place it is assembled.
//!
//! Outer to inner, in the order of the design (DESIGN §9): trace context → metrics → leader
//! forwarding → auth → rate limit → backpressure → timeout → services (gRPC, health,
//! reflection and the HTTP routes, merged into one router). Trace context, metrics and
//! forwarding exist today; each later layer goes at its marked place, with its own module and
//! test.

use std::sync::Arc;

use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};

use crate::forward::ForwardLayer;
use crate::metrics::Metrics;
use crate::rpc_metrics::{KnownMethods, RpcMetricsLayer};
use crate::trace_context::TraceContextLayer;

/// The layers, outermost first; hand it to `tonic::transport::Server::layer`.
pub type PublicStack =
    ServiceBuilder<Stack<ForwardLayer, Stack<RpcMetricsLayer, Stack<TraceContextLayer, Identity>>>>;

/// Builds the stack for the client port. The trace-context layer is a pass-through unless OTLP
/// export was turned on ([`crate::trace_context::set_enabled`]) before this is called.
pub fn public(metrics: Arc<Metrics>, methods: KnownMethods, forward: ForwardLayer) -> PublicStack {
    ServiceBuilder::new()
        // Trace context (W3C traceparent) goes first: every later layer's work, metrics
        // included, then belongs to the caller's trace.
        .layer(TraceContextLayer::new(crate::trace_context::enabled()))
        //
        // Metrics: outside auth, rate limit and backpressure so that what they refuse is
        // counted and timed too (with its status code); inside tracing. Covers everything on
        // the port, health probes, reflection and /metrics included.
        .layer(RpcMetricsLayer::new(metrics, methods))
        //
        // Leader forwarding: inside trace context and metrics, so a forwarded call is traced
        // (its span is the parent of the leader's) and counted here with the leader's answer;
        // outside auth, rate limit and backpressure, which the leader applies to the call it
        // serves (a follower must not spend its own budget on calls it only relays, nor refuse
        // them by its own load). Only WorkerService and JobService calls leave the node.
        .layer(forward)
    // Auth (API keys) comes next: it must see every request before anything spends work on it.
    // Then the per-key rate limit (needs the principal auth found), then backpressure (bounded
    // in-flight work, shed with UNAVAILABLE), then the unary timeout, closest to the services.
}
