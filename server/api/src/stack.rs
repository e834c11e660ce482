//! The tower stack in front of the client port: THE one place it is assembled.
//!
//! Outer to inner, in the order of the design (DESIGN §9): sensitive headers → trace context →
//! metrics → panic catcher → auth → rate limit → backpressure → timeout → leader forwarding →
//! services (gRPC, health, reflection and the HTTP routes, merged into one router). Each of our
//! layers has its own module and test; the first and the fourth are tower-http's.
//! [`PublicLayers`] carries their shared state from the node.

use std::sync::Arc;
use std::time::Duration;

use http::header::AUTHORIZATION;
use http::{HeaderName, Response};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use crate::auth::AuthLayer;
use crate::backpressure::{BackpressureLayer, Pools};
use crate::deadline::DeadlineLayer;
use crate::forward::ForwardLayer;
use crate::metrics::Metrics;
use crate::rate_limit::{RateLimitLayer, RateLimits};
use crate::rpc_metrics::{KnownMethods, RpcMetricsLayer};
use crate::trace_context::TraceContextLayer;

/// The future of every layer of this stack that answers some requests itself.
pub(crate) type BoxFuture<T, E> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send>>;

/// What the layers of the client port share with the rest of the node.
pub struct PublicLayers {
    pub metrics: Arc<Metrics>,
    pub methods: KnownMethods,
    pub auth: AuthLayer,
    pub rate_limits: Arc<RateLimits>,
    pub pools: Arc<Pools>,
    /// The bound of an ordinary unary call.
    pub call_timeout: Duration,
    /// The longest wait a long-polling fetch may ask for.
    pub fetch_wait_max: Duration,
    pub forward: ForwardLayer,
}

/// A panic in a handler answers INTERNAL (trailers-only) instead of dropping the connection,
/// and counts as an `internal` rejection.
fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<tonic::body::Body> {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown cause");
    tracing::error!(panic = what, "a request handler panicked");
    tonic::Status::from(crate::error::ApiError::Internal(format!(
        "the request handler failed: {what}"
    )))
    .into_http()
}

type PanicHandler = fn(Box<dyn std::any::Any + Send + 'static>) -> Response<tonic::body::Body>;

/// The layers, outermost first; hand it to `tonic::transport::Server::layer`.
pub type PublicStack = ServiceBuilder<
    Stack<
        ForwardLayer,
        Stack<
            DeadlineLayer,
            Stack<
                BackpressureLayer,
                Stack<
                    RateLimitLayer,
                    Stack<
                        AuthLayer,
                        Stack<
                            CatchPanicLayer<PanicHandler>,
                            Stack<
                                RpcMetricsLayer,
                                Stack<
                                    TraceContextLayer,
                                    Stack<SetSensitiveRequestHeadersLayer, Identity>,
                                >,
                            >,
                        >,
                    >,
                >,
            >,
        >,
    >,
>;

/// Request headers that carry credentials: marked sensitive, so no `Debug` of a request (a
/// trace, a log line) shows them.
pub const CREDENTIAL_HEADERS: [HeaderName; 3] = [
    AUTHORIZATION,
    HeaderName::from_static(crate::auth::API_KEY_HEADER),
    HeaderName::from_static(corvo_raft::SECRET_HEADER),
];

/// Builds the stack for the client port. The trace-context layer is a pass-through unless OTLP
/// export was turned on ([`crate::trace_context::set_enabled`]) before this is called.
pub fn public(layers: PublicLayers) -> PublicStack {
    ServiceBuilder::new()
        // Credentials are marked sensitive before anything could record a request.
        .layer(SetSensitiveRequestHeadersLayer::new(CREDENTIAL_HEADERS))
        //
        // Trace context (W3C traceparent): every later layer's work, metrics included, then
        // belongs to the caller's trace.
        .layer(TraceContextLayer::new(crate::trace_context::enabled()))
        //
        // Metrics: outside auth, rate limit and backpressure so that what they refuse is
        // counted and timed too (with its status code); inside tracing. Covers everything on
        // the port, health probes, reflection and /metrics included.
        .layer(RpcMetricsLayer::new(layers.metrics, layers.methods))
        //
        // Panics: caught inside metrics (a panic is counted with its INTERNAL code) and outside
        // everything that could panic; the connection and its other streams live on.
        .layer(CatchPanicLayer::custom(answer_panic as PanicHandler))
        //
        // Auth: before anything spends work on a request, and on every node a call reaches
        // (a follower checks a call before relaying it, the leader checks it again: keys are
        // replicated state, and the forwarding header grants nothing). Probes and reflection
        // pass without a key.
        .layer(layers.auth)
        //
        // Rate limit: needs the caller auth found (its bucket is per key); before
        // backpressure, so a client over its quota is told so (RESOURCE_EXHAUSTED) instead of
        // taking an in-flight slot others need. Probes and the cluster are never limited.
        .layer(RateLimitLayer::new(layers.rate_limits))
        //
        // Backpressure: bounded streams and calls in flight, shed at once with a hint, before
        // any work (a permit rides in the response body, so a stream holds one for its life).
        // Probes, ClusterService and KeyService have no pool: an operator and the orchestrator
        // reach a node that sheds load.
        .layer(BackpressureLayer::new(layers.pools))
        //
        // Timeout: unary calls only, closest to the work it bounds; inside backpressure so a
        // timed-out call frees its slot.
        .layer(DeadlineLayer::new(
            layers.call_timeout,
            layers.fetch_wait_max,
        ))
        //
        // Leader forwarding: last, so only authenticated, admitted calls leave the node; a
        // forwarded call is traced (its span is the parent of the leader's) and counted here
        // with the leader's answer. Only WorkerService, JobService and KeyService calls leave
        // the node; the leader checks them again from the top.
        .layer(layers.forward)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::Request;
    use tower::{Layer, ServiceExt};

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_instead_of_dropping_the_connection() {
        let inner = tower::service_fn(|_req: Request<tonic::body::Body>| async {
            if true {
                panic!("boom");
            }
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        });
        let svc = CatchPanicLayer::custom(answer_panic as PanicHandler).layer(inner);
        let req = Request::builder()
            .uri("/corvo.v1.WorkerService/Enqueue")
            .body(tonic::body::Body::empty())
            .unwrap();
        let response = svc.oneshot(req).await.unwrap();
        let status = tonic::Status::from_header_map(response.headers()).expect("a status");
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(status.message().contains("boom"), "{}", status.message());
    }

    #[tokio::test]
    async fn credentials_reach_the_services_marked_sensitive() {
        let inner = tower::service_fn(|req: Request<tonic::body::Body>| async move {
            for name in CREDENTIAL_HEADERS {
                let value = req.headers().get(&name).expect("the header is passed on");
                assert!(value.is_sensitive(), "{name} is not marked sensitive");
                assert!(!format!("{:?}", req.headers()).contains("s3cret"));
            }
            Ok::<_, Infallible>(Response::new(tonic::body::Body::empty()))
        });
        let svc = SetSensitiveRequestHeadersLayer::new(CREDENTIAL_HEADERS).layer(inner);
        let mut req = Request::builder().uri("/x");
        for name in CREDENTIAL_HEADERS {
            req = req.header(name, "s3cret-value-for-the-test");
        }
        svc.oneshot(req.body(tonic::body::Body::empty()).unwrap())
            .await
            .unwrap();
    }
}
