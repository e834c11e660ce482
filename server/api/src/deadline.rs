//! The timeout layer: a server-side bound on every unary call, closest to the services.
//!
//! A unary call of WorkerService, JobService or KeyService that has not answered after
//! `call_timeout` (Fetch and FetchBatch: their longest wait plus `call_timeout`) answers
//! DEADLINE_EXCEEDED and its work is dropped; a write it had already proposed may still
//! commit (its outcome is unknown to the caller, as with any timeout). Streams are not bounded
//! here: they live as long as the worker, and keepalive notices a vanished one. The caller's
//! own `grpc-timeout` still applies on top (tonic enforces it).

use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::backpressure::{Pool, pool};
use crate::error::ApiError;
use crate::stack::BoxFuture;

/// See the module doc.
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    /// The bound of an ordinary unary call (30 s).
    call_timeout: Duration,
    /// The bound of a long-polling fetch: its longest wait plus `call_timeout`.
    fetch_timeout: Duration,
}

impl DeadlineLayer {
    pub fn new(call_timeout: Duration, fetch_wait_max: Duration) -> Self {
        DeadlineLayer {
            call_timeout,
            fetch_timeout: fetch_wait_max + call_timeout,
        }
    }

    fn timeout(&self, path: &str) -> Option<Duration> {
        match pool(path) {
            Pool::Fetches => Some(self.fetch_timeout),
            Pool::Calls => Some(self.call_timeout),
            _ if path.starts_with("/corvo.v1.KeyService/") => Some(self.call_timeout),
            _ => None,
        }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            layer: *self,
        }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S> Service<Request<Body>> for Deadline<S>
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
        let path = req.uri().path().to_owned();
        let Some(limit) = self.layer.timeout(&path) else {
            return Box::pin(self.inner.call(req));
        };
        let call = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_) => {
                    let e = ApiError::DeadlineExceeded {
                        reason: format!(
                            "{} did not answer within the server's {limit:?} bound",
                            path.trim_start_matches('/')
                        ),
                    };
                    Ok(tonic::Status::from(e).into_http())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tonic::Code;
    use tower::ServiceExt;

    use super::*;

    /// A service that answers after `delay`.
    async fn call(path: &str, delay: Duration) -> Code {
        let inner = tower::service_fn(move |_req: Request<Body>| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, Infallible>(Response::new(Body::empty()))
        });
        let layer = DeadlineLayer::new(Duration::from_secs(30), Duration::from_secs(60));
        let req = Request::builder().uri(path).body(Body::empty()).unwrap();
        let response = layer.layer(inner).oneshot(req).await.unwrap();
        tonic::Status::from_header_map(response.headers()).map_or(Code::Ok, |s| s.code())
    }

    #[tokio::test(start_paused = true)]
    async fn unary_calls_are_bounded_and_long_polls_get_their_wait_on_top() {
        let enqueue = "/corvo.v1.WorkerService/Enqueue";
        assert_eq!(call(enqueue, Duration::from_secs(29)).await, Code::Ok);
        assert_eq!(
            call(enqueue, Duration::from_secs(31)).await,
            Code::DeadlineExceeded
        );
        let fetch = "/corvo.v1.WorkerService/FetchBatch";
        assert_eq!(call(fetch, Duration::from_secs(89)).await, Code::Ok);
        assert_eq!(
            call(fetch, Duration::from_secs(91)).await,
            Code::DeadlineExceeded
        );
        // Streams, probes and membership changes have their own bounds.
        for path in [
            "/corvo.v1.WorkerService/StreamLifecycle",
            "/grpc.health.v1.Health/Watch",
            "/corvo.v1.ClusterService/Join",
        ] {
            assert_eq!(
                call(path, Duration::from_secs(600)).await,
                Code::Ok,
                "{path}"
            );
        }
    }
}
