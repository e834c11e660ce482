//! The timeout layer: a server-side bound on every unary call, closest to the services.
//!
//! A unary call of WorkerService, JobService or KeyService that has not answered after
//! `call_timeout` (Fetch and FetchBatch: their longest wait plus `call_timeout`) answers
//! DEADLINE_EXCEEDED and its work is dropped; a write it had already proposed may still
//! commit (its outcome is unknown to the caller, as with any timeout). Streams are not bounded
//! here: they live as long as the worker, and keepalive notices a vanished one. The caller's
//! own `grpc-timeout` applies too: such a call answers DEADLINE_EXCEEDED a moment
//! ([`CALLER_DEADLINE_MARGIN`]) before the caller's deadline. Without that, tonic's own timer,
//! which runs outside this stack, would end it first with CANCELLED "Timeout expired", a code
//! clients treat as "the caller gave up" rather than "the deadline passed".

use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::backpressure::{Pool, pool};
use crate::error::ApiError;
use crate::stack::BoxFuture;

/// How much earlier than the caller's `grpc-timeout` a bounded call answers
/// DEADLINE_EXCEEDED (at most; a tenth of a short timeout), so that its answer reaches the
/// caller before the caller's own timer (tonic clients end the call with CANCELLED) or tonic's
/// server-side timer fires, even on a loaded machine.
pub const CALLER_DEADLINE_MARGIN: Duration = Duration::from_millis(200);

/// The caller's `grpc-timeout` header: an integer of at most 8 digits and a unit (`H`, `M`,
/// `S`, `m`, `u`, `n`). `None` when absent or malformed (tonic then ignores it too).
fn caller_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// When a call bounded by the server's `limit` answers, given the caller's timeout.
fn bound(limit: Duration, caller: Option<Duration>) -> (Duration, bool) {
    match caller.map(|t| t.saturating_sub(margin(t))) {
        Some(answer_by) if answer_by < limit => (answer_by, true),
        _ => (limit, false),
    }
}

fn margin(timeout: Duration) -> Duration {
    CALLER_DEADLINE_MARGIN.min(timeout / 10)
}

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
        let (limit, callers) = bound(limit, caller_timeout(req.headers()));
        let call = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_) => {
                    let whose = if callers {
                        "the caller's deadline (grpc-timeout)"
                    } else {
                        "the server's bound"
                    };
                    let e = ApiError::DeadlineExceeded {
                        reason: format!(
                            "{} did not answer within {whose}: {limit:?}",
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
        call_with(path, delay, None).await
    }

    /// The same, with the caller's `grpc-timeout` header.
    async fn call_with(path: &str, delay: Duration, grpc_timeout: Option<&str>) -> Code {
        let inner = tower::service_fn(move |_req: Request<Body>| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, Infallible>(Response::new(Body::empty()))
        });
        let layer = DeadlineLayer::new(Duration::from_secs(30), Duration::from_secs(60));
        let mut req = Request::builder().uri(path);
        if let Some(t) = grpc_timeout {
            req = req.header("grpc-timeout", t);
        }
        let req = req.body(Body::empty()).unwrap();
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

    #[tokio::test(start_paused = true)]
    async fn the_callers_deadline_answers_deadline_exceeded_before_tonics_timer() {
        let fetch = "/corvo.v1.WorkerService/FetchBatch";
        let wait = Duration::from_secs(30); // an empty queue's long poll
        assert_eq!(
            call_with(fetch, wait, Some("2S")).await,
            Code::DeadlineExceeded
        );
        assert_eq!(
            call_with(fetch, Duration::from_millis(1_700), Some("2000m")).await,
            Code::Ok,
            "answered within the deadline's margin"
        );
        // A caller's deadline beyond the server's bound changes nothing.
        let enqueue = "/corvo.v1.WorkerService/Enqueue";
        assert_eq!(
            call_with(enqueue, Duration::from_secs(31), Some("1H")).await,
            Code::DeadlineExceeded
        );
    }

    #[test]
    fn grpc_timeout_headers_parse_like_the_spec_says() {
        let parse = |v: &str| {
            let mut h = http::HeaderMap::new();
            h.insert("grpc-timeout", v.parse().unwrap());
            caller_timeout(&h)
        };
        assert_eq!(parse("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse("1500m"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse("7u"), Some(Duration::from_micros(7)));
        for bad in ["", "S", "123456789S", "2s", "-1S", "1.5S"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            bound(Duration::from_secs(30), Some(Duration::from_secs(2))),
            (Duration::from_millis(1_800), true)
        );
        assert_eq!(
            bound(Duration::from_secs(30), Some(Duration::from_millis(100))),
            (Duration::from_millis(90), true)
        );
    }
}
