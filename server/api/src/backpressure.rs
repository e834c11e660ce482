//! The backpressure layer: bounded work in flight on this node, shed early with a hint.
//!
//! ```text
//!  request ─▶ pool of its method:
//!    StreamLifecycle ─▶ worker streams (--max-worker-streams)    ┐ full: RESOURCE_EXHAUSTED
//!    Subscribe       ─▶ Subscribe streams (--max-subscribe-streams)┘ + pushback; open streams
//!                                                                    are unharmed
//!    Fetch, FetchBatch ─▶ waiting fetches (--max-inflight-fetches) ┐ full: UNAVAILABLE +
//!    other WorkerService / JobService calls ─▶ calls               ┘ pushback (shed)
//!                        (--max-inflight-calls)
//!    anything else (probes, reflection, /metrics, ClusterService, KeyService) ─▶ no pool: an
//!    operator and the orchestrator must reach a node that is shedding load
//!  └▶ inner; the permit rides in the response body and is freed when the body ends or is
//!     dropped, so a stream holds its permit for its whole life
//! ```
//!
//! tower's `ConcurrencyLimit` frees its permit when the response headers are sent, which for a
//! stream is at once; hence the permit in the body. Long polls get their own pool so that
//! thousands of idle waiting fetches cannot starve enqueues and acks.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::ApiError;
use crate::stack::BoxFuture;

/// How much work a node takes at once. Every limit refuses with its own reason.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Open `StreamLifecycle` streams on this node (1 024: one per worker process is typical).
    pub worker_streams_max: usize,
    /// Open `Subscribe` streams (256: dashboards and event consumers, each read from the log).
    pub subscribe_streams_max: usize,
    /// Unary calls in flight, long polls excepted (1 024: about 1 s of proposals at the propose
    /// queue's bound; beyond that, callers wait in the queue instead of in the network).
    pub calls_max: usize,
    /// Fetch and FetchBatch calls in flight (4 096): most are idle long polls.
    pub fetches_max: usize,
    /// The hint on a shed call (100 ms: a fraction of a propose round under load).
    pub shed_retry_after_ms: u64,
    /// The hint on a refused stream (1 s: streams are long-lived; a worker retrying at once
    /// would only be refused again).
    pub stream_retry_after_ms: u64,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            worker_streams_max: 1_024,
            subscribe_streams_max: 256,
            calls_max: 1_024,
            fetches_max: 4_096,
            shed_retry_after_ms: 100,
            stream_retry_after_ms: 1_000,
        }
    }
}

/// Which pool a method draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    WorkerStreams,
    SubscribeStreams,
    Fetches,
    Calls,
    /// Never limited here.
    None,
}

pub fn pool(path: &str) -> Pool {
    match path {
        "/corvo.v1.WorkerService/StreamLifecycle" => Pool::WorkerStreams,
        "/corvo.v1.WorkerService/Subscribe" => Pool::SubscribeStreams,
        "/corvo.v1.WorkerService/Fetch" | "/corvo.v1.WorkerService/FetchBatch" => Pool::Fetches,
        p if p.starts_with("/corvo.v1.WorkerService/")
            || p.starts_with("/corvo.v1.JobService/") =>
        {
            Pool::Calls
        }
        _ => Pool::None,
    }
}

/// The semaphores of the pools; shared by every connection.
pub struct Pools {
    opts: PoolOptions,
    worker_streams: Arc<Semaphore>,
    subscribe_streams: Arc<Semaphore>,
    fetches: Arc<Semaphore>,
    calls: Arc<Semaphore>,
}

impl Pools {
    pub fn new(opts: PoolOptions) -> Arc<Pools> {
        Arc::new(Pools {
            worker_streams: Arc::new(Semaphore::new(opts.worker_streams_max)),
            subscribe_streams: Arc::new(Semaphore::new(opts.subscribe_streams_max)),
            fetches: Arc::new(Semaphore::new(opts.fetches_max)),
            calls: Arc::new(Semaphore::new(opts.calls_max)),
            opts,
        })
    }

    /// A permit of `pool`, or the refusal; `Ok(None)` for calls no pool limits.
    pub fn admit(&self, pool: Pool) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        let (sem, refusal) = match pool {
            Pool::None => return Ok(None),
            Pool::WorkerStreams => (
                &self.worker_streams,
                ApiError::TooManyStreams {
                    kind: "worker",
                    max: self.opts.worker_streams_max,
                    retry_after_ms: self.opts.stream_retry_after_ms,
                },
            ),
            Pool::SubscribeStreams => (
                &self.subscribe_streams,
                ApiError::TooManyStreams {
                    kind: "Subscribe",
                    max: self.opts.subscribe_streams_max,
                    retry_after_ms: self.opts.stream_retry_after_ms,
                },
            ),
            Pool::Fetches => (
                &self.fetches,
                ApiError::Shed {
                    what: format!("{} fetches in flight", self.opts.fetches_max),
                    retry_after_ms: self.opts.shed_retry_after_ms,
                },
            ),
            Pool::Calls => (
                &self.calls,
                ApiError::Shed {
                    what: format!("{} calls in flight", self.opts.calls_max),
                    retry_after_ms: self.opts.shed_retry_after_ms,
                },
            ),
        };
        sem.clone()
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| refusal)
    }

    /// Permits in use, by pool (for status and tests).
    pub fn in_use(&self, pool: Pool) -> usize {
        let (sem, max) = match pool {
            Pool::WorkerStreams => (&self.worker_streams, self.opts.worker_streams_max),
            Pool::SubscribeStreams => (&self.subscribe_streams, self.opts.subscribe_streams_max),
            Pool::Fetches => (&self.fetches, self.opts.fetches_max),
            Pool::Calls => (&self.calls, self.opts.calls_max),
            Pool::None => return 0,
        };
        max - sem.available_permits()
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct BackpressureLayer {
    pools: Arc<Pools>,
}

impl BackpressureLayer {
    pub fn new(pools: Arc<Pools>) -> Self {
        BackpressureLayer { pools }
    }
}

impl<S> Layer<S> for BackpressureLayer {
    type Service = Backpressure<S>;

    fn layer(&self, inner: S) -> Backpressure<S> {
        Backpressure {
            inner,
            pools: self.pools.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Backpressure<S> {
    inner: S,
    pools: Arc<Pools>,
}

impl<S> Service<Request<Body>> for Backpressure<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let permit = match self.pools.admit(pool(req.uri().path())) {
            Ok(None) => return Box::pin(self.inner.call(req)),
            Ok(Some(permit)) => permit,
            Err(e) => {
                let response = crate::auth::refusal(&req, e);
                return Box::pin(std::future::ready(Ok(response)));
            }
        };
        let call = self.inner.call(req);
        Box::pin(async move {
            let response = call.await?;
            Ok(response.map(|body| Body::new(PermitBody { body, permit })))
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that holds a pool permit until it ends or is dropped.
    struct PermitBody {
        #[pin]
        body: Body,
        permit: OwnedSemaphorePermit,
    }
}

impl HttpBody for PermitBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    /// The inner body's answer. An empty body (a trailers-only error answer) must say so:
    /// otherwise the response goes out as HEADERS without END_STREAM and then an empty DATA
    /// frame ending the stream, which gRPC C-core clients (Python, C++, Ruby) reject as
    /// UNKNOWN. `tonic::body::Body::new` then drops this wrapper, and the permit with it, as
    /// soon as the response is built: the call is over by then.
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tonic::Code;
    use tower::ServiceExt;

    use super::*;

    fn pools(max: usize) -> Arc<Pools> {
        Pools::new(PoolOptions {
            worker_streams_max: max,
            subscribe_streams_max: max,
            calls_max: max,
            fetches_max: max,
            ..PoolOptions::default()
        })
    }

    /// Calls `path` through the layer; the response (whose body, not yet read, holds the
    /// permit) or the refusal's code and hint.
    async fn call(pools: &Arc<Pools>, path: &str) -> Result<Response<Body>, (Code, String)> {
        call_answering(pools, path, || {
            Body::new(http_body_util::Full::new(bytes::Bytes::from_static(b"x")))
        })
        .await
    }

    async fn call_answering(
        pools: &Arc<Pools>,
        path: &str,
        body: fn() -> Body,
    ) -> Result<Response<Body>, (Code, String)> {
        let inner = tower::service_fn(move |_req: Request<Body>| async move {
            Ok::<_, Infallible>(Response::new(body()))
        });
        let req = Request::builder()
            .uri(path)
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap();
        let response = BackpressureLayer::new(pools.clone())
            .layer(inner)
            .oneshot(req)
            .await
            .unwrap();
        match tonic::Status::from_header_map(response.headers()) {
            Some(s) if s.code() != Code::Ok => {
                let hint = s
                    .metadata()
                    .get("grpc-retry-pushback-ms")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .expect("a retry hint");
                Err((s.code(), hint))
            }
            _ => Ok(response),
        }
    }

    #[tokio::test]
    async fn a_stream_holds_its_permit_until_its_body_is_gone() {
        let pools = pools(1);
        let stream = "/corvo.v1.WorkerService/StreamLifecycle";
        let first = call(&pools, stream).await.expect("the first stream");
        assert_eq!(pools.in_use(Pool::WorkerStreams), 1);
        let (code, hint) = call(&pools, stream).await.unwrap_err();
        assert_eq!((code, hint.as_str()), (Code::ResourceExhausted, "1000"));
        // Other pools are separate: an enqueue and a fetch still go through.
        drop(
            call(&pools, "/corvo.v1.WorkerService/Enqueue")
                .await
                .unwrap(),
        );
        drop(
            call(&pools, "/corvo.v1.WorkerService/FetchBatch")
                .await
                .unwrap(),
        );
        drop(first);
        assert_eq!(pools.in_use(Pool::WorkerStreams), 0);
        drop(call(&pools, stream).await.expect("a stream again"));
    }

    /// An empty answer (a trailers-only gRPC error) says it is complete, so it goes out as one
    /// HEADERS frame ending the stream, and its permit is back at once.
    #[tokio::test]
    async fn an_empty_answer_ends_at_once_and_frees_its_permit() {
        let pools = pools(1);
        let r = call_answering(&pools, "/corvo.v1.JobService/GetJob", Body::empty)
            .await
            .expect("answered");
        assert!(http_body::Body::is_end_stream(r.body()));
        assert_eq!(pools.in_use(Pool::Calls), 0);
    }

    #[tokio::test]
    async fn calls_past_the_bound_are_shed_and_probes_never_are() {
        let pools = pools(2);
        let held: Vec<_> =
            futures::future::join_all((0..2).map(|_| call(&pools, "/corvo.v1.JobService/GetJob")))
                .await;
        assert!(held.iter().all(Result::is_ok));
        let (code, hint) = call(&pools, "/corvo.v1.WorkerService/Ack")
            .await
            .unwrap_err();
        assert_eq!((code, hint.as_str()), (Code::Unavailable, "100"));
        for open in [
            "/grpc.health.v1.Health/Check",
            "/healthz",
            "/corvo.v1.ClusterService/GetNodeStatus",
            "/corvo.v1.KeyService/ListKeys",
        ] {
            assert!(call(&pools, open).await.is_ok(), "{open}");
        }
        drop(held);
        assert!(call(&pools, "/corvo.v1.WorkerService/Ack").await.is_ok());
    }
}
