//! The RPC metrics layer: counts and times every request on the client port by method and
//! status code (`corvo_rpc_requests_total`, `corvo_rpc_duration_seconds`).
//!
//! ```text
//!  request ─▶ RpcMetrics::call: method label (bounded), start time
//!               └▶ inner service ─▶ response headers: grpc-status (trailers-only) / HTTP status
//!                    └▶ MeteredBody: trailers' grpc-status; recorded when the body ends or is
//!                       dropped (a stream is timed over its whole life)
//! ```
//!
//! Nothing is exempt: health checks, reflection and the HTTP routes are counted like any other
//! method. Label values are bounded: `method` is one of the methods the port serves (from the
//! descriptor sets it serves, plus its HTTP routes) or `_unknown`; `code` is a gRPC status name
//! (`OK`, `UNAVAILABLE`, ...) or, for plain HTTP, the status number. A gRPC response that ends
//! without a status (the client went away) is counted as `CANCELLED`.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use prost::Message;
use tower::{Layer, Service};

use crate::metrics::{Metrics, RpcLabels};

/// The `method` label of a request for a path the port does not serve (bounds the label
/// against scanners probing random paths).
pub const UNKNOWN_METHOD: &str = "_unknown";

/// The methods the port serves: the label values `method` may take.
#[derive(Clone, Debug, Default)]
pub struct KnownMethods {
    /// gRPC methods as `package.Service/Method`, HTTP routes as `/path`.
    methods: HashSet<String>,
}

impl KnownMethods {
    /// Every method of every service in the encoded `FileDescriptorSet`s, plus `http_paths`.
    pub fn new(descriptor_sets: &[&[u8]], http_paths: &[&str]) -> Result<Self, prost::DecodeError> {
        let mut methods: HashSet<String> = http_paths.iter().map(|p| (*p).to_owned()).collect();
        for set in descriptor_sets {
            let set = prost_types::FileDescriptorSet::decode(*set)?;
            for file in &set.file {
                for service in &file.service {
                    for method in &service.method {
                        methods.insert(format!(
                            "{}.{}/{}",
                            file.package(),
                            service.name(),
                            method.name()
                        ));
                    }
                }
            }
        }
        Ok(KnownMethods { methods })
    }

    /// The label for a request path: `package.Service/Method` for gRPC, `/path` for HTTP.
    fn label(&self, path: &str, grpc: bool) -> String {
        let key = if grpc {
            path.strip_prefix('/').unwrap_or(path)
        } else {
            path
        };
        if self.methods.contains(key) {
            key.to_owned()
        } else {
            UNKNOWN_METHOD.to_owned()
        }
    }
}

/// Wraps a service with [`RpcMetrics`].
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: Arc<Metrics>,
    methods: Arc<KnownMethods>,
}

impl RpcMetricsLayer {
    pub fn new(metrics: Arc<Metrics>, methods: KnownMethods) -> Self {
        RpcMetricsLayer {
            metrics,
            methods: Arc::new(methods),
        }
    }
}

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> RpcMetrics<S> {
        RpcMetrics {
            inner,
            metrics: self.metrics.clone(),
            methods: self.methods.clone(),
        }
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
    methods: Arc<KnownMethods>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RpcMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let grpc = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let call = Call {
            metrics: self.metrics.clone(),
            method: self.methods.label(req.uri().path(), grpc),
            grpc,
            started: corvo_clock::monotonic(),
            code: None,
            ended: false,
        };
        ResponseFuture {
            inner: self.inner.call(req),
            call: Some(call),
        }
    }
}

pin_project! {
    /// Resolves to the response with its body wrapped in a [`MeteredBody`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<MeteredBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(call) = call.as_mut() {
                    call.code = if call.grpc {
                        grpc_status(response.headers())
                    } else {
                        Some(response.status().as_u16().to_string())
                    };
                }
                Ok(response.map(|inner| MeteredBody { inner, call }))
            }
            Err(e) => {
                if let Some(mut call) = call {
                    call.code = Some(if call.grpc { "UNKNOWN" } else { "500" }.into());
                    call.ended = true;
                }
                Err(e)
            }
        })
    }
}

pin_project! {
    /// A response body that records its request when it ends or is dropped.
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let (Some(call), Some(trailers)) = (this.call.as_mut(), f.trailers_ref())
                    && call.grpc
                    && let Some(code) = grpc_status(trailers)
                {
                    call.code = Some(code);
                }
            }
            Some(Err(_)) => {}
            None => {
                if let Some(mut call) = this.call.take() {
                    call.ended = true;
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One request being measured; recorded exactly once, when dropped.
struct Call {
    metrics: Arc<Metrics>,
    method: String,
    grpc: bool,
    started: Instant,
    /// The status seen so far (headers, then trailers).
    code: Option<String>,
    /// The response body reached its end (else it was dropped early).
    ended: bool,
}

impl Drop for Call {
    fn drop(&mut self) {
        let code = match self.code.take() {
            Some(code) => code,
            // A gRPC body that ended without trailers is malformed; one dropped early lost
            // its client.
            None if self.grpc && self.ended => "UNKNOWN".to_owned(),
            None if self.grpc => "CANCELLED".to_owned(),
            None => "000".to_owned(),
        };
        let labels = RpcLabels {
            method: std::mem::take(&mut self.method),
            code,
        };
        self.metrics.observe_rpc(&labels, self.started.elapsed());
    }
}

/// The name of the `grpc-status` in `headers` (`OK`, `NOT_FOUND`, ...), if present.
fn grpc_status(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    let name = match value.parse::<u8>().ok()? {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    };
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::bytes::Bytes;
    use tower::ServiceExt;
    use tower_test::mock;

    /// Reads a body to its end.
    async fn drain<B: Body + Unpin>(mut body: B) {
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            assert!(frame.is_ok());
        }
    }

    fn layer() -> (Arc<Metrics>, RpcMetricsLayer) {
        let metrics = Arc::new(Metrics::new());
        let methods = KnownMethods {
            methods: ["corvo.v1.WorkerService/Enqueue", "/metrics"]
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
        };
        (metrics.clone(), RpcMetricsLayer::new(metrics, methods))
    }

    fn grpc_request(path: &str) -> Request<String> {
        Request::builder()
            .uri(path)
            .header("content-type", "application/grpc")
            .body(String::new())
            .unwrap()
    }

    fn scrape(metrics: &Metrics) -> String {
        metrics
            .encode(&crate::status::tests_support::idle_status(), false)
            .1
    }

    #[tokio::test]
    async fn grpc_calls_are_counted_by_method_and_trailer_status_when_the_body_ends() {
        let (metrics, layer) = layer();
        let (inner, mut handle) = mock::pair::<Request<String>, Response<TrailerBody>>();
        let mut svc = layer.layer(inner);

        let pending = svc
            .ready()
            .await
            .expect("ready")
            .call(grpc_request("/corvo.v1.WorkerService/Enqueue"));
        let (_, send) = handle.next_request().await.expect("the request arrives");
        send.send_response(Response::new(TrailerBody::with_status("5")));
        let response = pending.await.expect("a response");
        assert!(
            !scrape(&metrics).contains("corvo_rpc_requests_total{"),
            "nothing is recorded before the body ends"
        );
        drain(response.into_body()).await;
        let text = scrape(&metrics);
        assert!(
            text.contains(
                r#"corvo_rpc_requests_total{method="corvo.v1.WorkerService/Enqueue",code="NOT_FOUND"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"corvo_rpc_duration_seconds_count{method="corvo.v1.WorkerService/Enqueue",code="NOT_FOUND"} 1"#
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn unknown_paths_share_one_label_and_a_dropped_grpc_body_is_cancelled() {
        let (metrics, layer) = layer();
        let (inner, mut handle) = mock::pair::<Request<String>, Response<TrailerBody>>();
        let mut svc = layer.layer(inner);
        for path in ["/scanner/a", "/scanner/b"] {
            let pending = svc.ready().await.expect("ready").call(grpc_request(path));
            let (_, send) = handle.next_request().await.expect("the request arrives");
            send.send_response(Response::new(TrailerBody::with_status("0")));
            drop(pending.await.expect("a response"));
        }
        let text = scrape(&metrics);
        assert!(
            text.contains(r#"corvo_rpc_requests_total{method="_unknown",code="CANCELLED"} 2"#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn plain_http_is_counted_with_its_status() {
        let (metrics, layer) = layer();
        let (inner, mut handle) = mock::pair::<Request<String>, Response<TrailerBody>>();
        let mut svc = layer.layer(inner);
        let pending = svc
            .ready()
            .await
            .expect("ready")
            .call(Request::get("/metrics").body(String::new()).unwrap());
        let (_, send) = handle.next_request().await.expect("the request arrives");
        send.send_response(Response::new(TrailerBody::empty()));
        drain(pending.await.expect("a response").into_body()).await;
        assert!(
            scrape(&metrics)
                .contains(r#"corvo_rpc_requests_total{method="/metrics",code="200"} 1"#)
        );
    }

    /// A body of one data frame and, optionally, gRPC trailers.
    struct TrailerBody {
        data: Option<Bytes>,
        trailers: Option<HeaderMap>,
    }

    impl TrailerBody {
        fn with_status(code: &str) -> Self {
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", code.parse().unwrap());
            TrailerBody {
                data: Some(Bytes::from_static(b"x")),
                trailers: Some(trailers),
            }
        }

        fn empty() -> Self {
            TrailerBody {
                data: None,
                trailers: None,
            }
        }
    }

    impl Body for TrailerBody {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            if let Some(data) = self.data.take() {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
        }
    }
}
