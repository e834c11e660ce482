//! Trace context: the outermost layer of the client port (DESIGN §9).
//!
//! Each request gets an `rpc` span (`otel.name` = the gRPC method path, `rpc.system = grpc`,
//! `rpc.service`, `rpc.method`, `otel.kind = server`) whose parent is the caller's W3C
//! `traceparent` header, extracted with the global propagator; the inner service's future runs
//! in that span, so everything the request does (metrics, propose, ...) belongs to the caller's
//! trace. Off (no span at all, a plain pass-through) unless OTLP export is configured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http::{HeaderMap, Request};
use opentelemetry::propagation::Extractor;
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns request and propose spans on; the process's telemetry set-up calls it when an OTLP
/// exporter is installed. Without it no span is created on the request path at all.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether OTLP tracing is on (see [`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Reads propagation fields from HTTP/2 headers (gRPC metadata).
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The trace-context layer; `enabled` is false when no OTLP endpoint is configured.
#[derive(Clone, Copy, Debug)]
pub struct TraceContextLayer {
    enabled: bool,
}

impl TraceContextLayer {
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }
}

impl<S> Layer<S> for TraceContextLayer {
    type Service = TraceContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceContext {
            inner,
            enabled: self.enabled,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TraceContext<S> {
    inner: S,
    enabled: bool,
}

/// The span for one request, a child of the caller's `traceparent` when it sent one.
pub fn rpc_span(headers: &HeaderMap, path: &str) -> tracing::Span {
    let trimmed = path.trim_start_matches('/');
    let (service, method) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let span = tracing::info_span!(
        "rpc",
        otel.name = %trimmed,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    // Fails only when the span is disabled (filtered out): then there is nothing to link.
    let _ = span.set_parent(parent);
    span
}

/// The current span's context as a W3C `traceparent`, when tracing is on and the span is
/// sampled-in or at least valid: what the API stores on an enqueued job.
pub fn current_traceparent() -> Option<String> {
    if !enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    let mut fields = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut fields));
    fields.remove("traceparent")
}

/// Makes `span` a child of the W3C `traceparent` string (a job's stored context). No-op when
/// the string does not parse or tracing is off.
pub fn set_parent_traceparent(span: &tracing::Span, traceparent: &str) {
    if !enabled() || traceparent.is_empty() {
        return;
    }
    let mut fields = std::collections::HashMap::new();
    fields.insert("traceparent".to_owned(), traceparent.to_owned());
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&fields));
    let _ = span.set_parent(parent);
}

impl<S, B> Service<Request<B>> for TraceContext<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let span = if self.enabled {
            rpc_span(req.headers(), req.uri().path())
        } else {
            tracing::Span::none()
        };
        let future = span.in_scope(|| self.inner.call(req));
        future.instrument(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use tower::ServiceExt;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                .parse()
                .unwrap(),
        );
        headers
    }

    #[test]
    fn extracts_the_callers_traceparent() {
        let cx = TraceContextPropagator::new().extract(&HeaderExtractor(&headers()));
        let span = cx.span();
        let sc = span.span_context();
        assert!(sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(sc.span_id().to_string(), "b7ad6b7169203331");
    }

    #[tokio::test]
    async fn disabled_is_a_pass_through_without_a_span() {
        let inner = tower::service_fn(|req: Request<()>| async move {
            assert!(tracing::Span::current().is_none());
            Ok::<_, std::convert::Infallible>(req.uri().path().to_owned())
        });
        let mut req = Request::new(());
        *req.uri_mut() = "/corvo.v1.JobService/Enqueue".parse().unwrap();
        *req.headers_mut() = headers();
        let out = TraceContextLayer::new(false)
            .layer(inner)
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(out, "/corvo.v1.JobService/Enqueue");
    }
}
