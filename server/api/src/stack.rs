//! The tower stack in front of the client port: THE one place it is assembled.
//!
//! Outer to inner, in the order of the design (DESIGN §9): trace context → metrics → auth →
//! leader forwarding → services (gRPC, health, reflection and the HTTP routes, merged into
//! one router). Each layer has its own module and test; the rate limit, backpressure and
//! timeout layers go between auth and forwarding, at their marked places.

use std::sync::Arc;

use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};

use crate::auth::AuthLayer;
use crate::forward::ForwardLayer;
use crate::metrics::Metrics;
use crate::rpc_metrics::{KnownMethods, RpcMetricsLayer};
use crate::trace_context::TraceContextLayer;

/// The layers, outermost first; hand it to `tonic::transport::Server::layer`.
pub type PublicStack = ServiceBuilder<
    Stack<
        ForwardLayer,
        Stack<AuthLayer, Stack<RpcMetricsLayer, Stack<TraceContextLayer, Identity>>>,
    >,
>;

/// Builds the stack for the client port. The trace-context layer is a pass-through unless OTLP
/// export was turned on ([`crate::trace_context::set_enabled`]) before this is called.
pub fn public(
    metrics: Arc<Metrics>,
    methods: KnownMethods,
    auth: AuthLayer,
    forward: ForwardLayer,
) -> PublicStack {
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
        // Auth: before anything spends work on a request, and on every node a call reaches
        // (a follower checks a call before relaying it, the leader checks it again: keys are
        // replicated state, and the forwarding header grants nothing). Probes and reflection
        // pass without a key. The rate limit (per key, so after auth) and backpressure go
        // next, then the unary timeout.
        .layer(auth)
        //
        // Leader forwarding: inside auth, so only authenticated calls leave the node; a
        // forwarded call is traced (its span is the parent of the leader's) and counted here
        // with the leader's answer. Only WorkerService, JobService and KeyService calls leave
        // the node.
        .layer(forward)
}
