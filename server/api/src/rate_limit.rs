//! The rate limit layer: a token bucket per caller (per API key; per address on a server that
//! runs open), with governor's keyed limiters.
//!
//! ```text
//!  request ─▶ open path (probes, reflection) or the cluster secret ─▶ inner (never limited)
//!             bucket of the caller (its key's rate, else its role's, else the default)
//!               ├─ empty ─▶ RESOURCE_EXHAUSTED + grpc-retry-pushback-ms (when a token comes)
//!               └▶ inner, with a RateBudget in the extensions: a worker stream takes one more
//!                  token per frame (a frame over the rate gets ERROR_CODE_OVERLOADED and
//!                  retry_after_ms, and changes nothing)
//! ```
//!
//! A bucket holds one second of its rate (burst = rate). Limits are per node: a caller
//! spreading over three nodes gets up to three times its rate, and a call a follower relays is
//! counted on the follower and again on the leader.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use corvo_core::access::Role;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::ApiError;
use crate::principal::{Identity, Principal};
use crate::stack::BoxFuture;

/// Requests (and stream frames) per second, per caller.
#[derive(Clone, Debug)]
pub struct RateOptions {
    /// A key without its own limit gets its role's, else this (20 000/s: far above what one
    /// well-behaved client sends on this hardware, low enough to stop a runaway loop). 0 turns
    /// rate limiting off.
    pub key_rps_default: u32,
    /// Per-role defaults that replace `key_rps_default` (readonly: 2 000/s; observers do not
    /// need the data plane's rate).
    pub role_rps: Vec<(Role, u32)>,
    /// Each address on a server that runs open (no key exists) (20 000/s); loopback callers
    /// are not limited.
    pub anonymous_rps: u32,
}

impl Default for RateOptions {
    fn default() -> Self {
        RateOptions {
            key_rps_default: 20_000,
            role_rps: vec![(Role::Readonly, 2_000)],
            anonymous_rps: 20_000,
        }
    }
}

/// Whose bucket a call draws from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    Key(String),
    Address(IpAddr),
}

/// Checks beyond which a limiter forgets the buckets of callers gone quiet, so that a flood of
/// addresses cannot grow memory without bound.
const RETAIN_EVERY_CHECKS: u64 = 65_536;

/// The buckets of every caller, grouped by rate (one keyed limiter per distinct rate).
pub struct RateLimits {
    opts: RateOptions,
    limiters: Mutex<HashMap<NonZeroU32, Arc<DefaultKeyedRateLimiter<Caller>>>>,
    checks: AtomicU64,
}

impl RateLimits {
    pub fn new(opts: RateOptions) -> Arc<RateLimits> {
        Arc::new(RateLimits {
            opts,
            limiters: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        })
    }

    /// The caller's bucket key and rate; `None` for callers that are never limited (the
    /// cluster secret: other nodes of this cluster) or when limiting is off.
    fn bucket(&self, principal: &Principal, address: Option<IpAddr>) -> Option<(Caller, u32)> {
        let (caller, rps) = match &principal.identity {
            Identity::Cluster => return None,
            // Open on loopback is a developer's machine (or a benchmark): nothing to protect.
            Identity::Anonymous if address?.is_loopback() => return None,
            Identity::Anonymous => (Caller::Address(address?), self.opts.anonymous_rps),
            Identity::Key { id, .. } => {
                let role_default = self
                    .opts
                    .role_rps
                    .iter()
                    .find(|(r, _)| *r == principal.role)
                    .map_or(self.opts.key_rps_default, |(_, rps)| *rps);
                (
                    Caller::Key(id.clone()),
                    principal.rate_limit_rps.unwrap_or(role_default),
                )
            }
        };
        (rps > 0).then_some((caller, rps))
    }

    fn limiter(&self, rps: NonZeroU32) -> Arc<DefaultKeyedRateLimiter<Caller>> {
        let mut limiters = self
            .limiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        limiters
            .entry(rps)
            .or_insert_with(|| Arc::new(RateLimiter::keyed(Quota::per_second(rps))))
            .clone()
    }

    /// Takes one token from the caller's bucket: the budget for the rest of the call (its
    /// stream frames), or RESOURCE_EXHAUSTED with the time until a token is back.
    pub fn admit(
        self: &Arc<Self>,
        principal: &Principal,
        address: Option<IpAddr>,
    ) -> Result<Option<RateBudget>, ApiError> {
        let Some((caller, rps)) = self.bucket(principal, address) else {
            return Ok(None);
        };
        let Some(rps) = NonZeroU32::new(rps) else {
            return Ok(None);
        };
        let budget = RateBudget {
            limiter: self.limiter(rps),
            limits: self.clone(),
            who: principal.to_string(),
            caller,
            rps: rps.get(),
        };
        budget.take()?;
        Ok(Some(budget))
    }

    fn note_check(&self, limiter: &DefaultKeyedRateLimiter<Caller>) {
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(RETAIN_EVERY_CHECKS)
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// One caller's bucket, carried by a call so that its stream frames draw from it too.
#[derive(Clone)]
pub struct RateBudget {
    limiter: Arc<DefaultKeyedRateLimiter<Caller>>,
    limits: Arc<RateLimits>,
    who: String,
    caller: Caller,
    rps: u32,
}

impl RateBudget {
    /// Takes a token, or says how long until one is back.
    pub fn take(&self) -> Result<(), ApiError> {
        self.limits.note_check(&self.limiter);
        match self.limiter.check_key(&self.caller) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    who: self.who.clone(),
                    rps: self.rps,
                    retry_after_ms: (wait.as_millis() as u64).max(1),
                })
            }
        }
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct RateLimitLayer {
    limits: Arc<RateLimits>,
}

impl RateLimitLayer {
    pub fn new(limits: Arc<RateLimits>) -> Self {
        RateLimitLayer { limits }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            limits: self.limits.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limits: Arc<RateLimits>,
}

impl<S> Service<Request<Body>> for RateLimit<S>
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

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        // Open paths carry no principal: probes are never limited.
        let Some(principal) = req.extensions().get::<Principal>() else {
            return Box::pin(self.inner.call(req));
        };
        let address = crate::connection::remote_ip(req.extensions());
        match self.limits.admit(principal, address) {
            Ok(budget) => {
                if let Some(budget) = budget {
                    req.extensions_mut().insert(budget);
                }
                Box::pin(self.inner.call(req))
            }
            Err(e) => {
                let response = crate::auth::refusal(&req, e);
                Box::pin(std::future::ready(Ok(response)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tonic::Code;
    use tower::ServiceExt;

    use super::*;

    fn key(id: &str, role: Role, rps: Option<u32>) -> Principal {
        Principal {
            identity: Identity::Key {
                id: id.into(),
                name: id.into(),
            },
            role,
            rate_limit_rps: rps,
            ..Principal::anonymous()
        }
    }

    async fn call(
        layer: &RateLimitLayer,
        principal: Option<Principal>,
    ) -> Result<bool, (Code, u64)> {
        let inner = tower::service_fn(|req: Request<Body>| async move {
            let budget = req.extensions().get::<RateBudget>().is_some();
            let mut r = Response::new(Body::empty());
            r.extensions_mut().insert(budget);
            Ok::<_, Infallible>(r)
        });
        let mut req = Request::builder()
            .uri("/corvo.v1.WorkerService/Enqueue")
            .header("content-type", "application/grpc")
            .body(Body::empty())
            .unwrap();
        if let Some(p) = principal {
            req.extensions_mut().insert(p);
        }
        let response = layer.layer(inner).oneshot(req).await.unwrap();
        match tonic::Status::from_header_map(response.headers()) {
            Some(s) if s.code() != Code::Ok => {
                let hint = s
                    .metadata()
                    .get("grpc-retry-pushback-ms")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .expect("a retry hint");
                Err((s.code(), hint))
            }
            _ => Ok(*response.extensions().get::<bool>().unwrap()),
        }
    }

    #[tokio::test]
    async fn a_key_over_its_rate_is_refused_with_a_hint_and_others_are_not() {
        let layer = RateLimitLayer::new(RateLimits::new(RateOptions::default()));
        let slow = key("slow", Role::Worker, Some(2));
        assert_eq!(call(&layer, Some(slow.clone())).await, Ok(true));
        assert_eq!(call(&layer, Some(slow.clone())).await, Ok(true));
        let (code, hint) = call(&layer, Some(slow.clone())).await.unwrap_err();
        assert_eq!(code, Code::ResourceExhausted);
        assert!((1..=500).contains(&hint), "a token every 500 ms: {hint}");
        // Another key has its own bucket; the cluster secret and probes are never limited.
        assert_eq!(
            call(&layer, Some(key("other", Role::Worker, Some(2)))).await,
            Ok(true)
        );
        for _ in 0..10 {
            assert_eq!(call(&layer, Some(Principal::cluster())).await, Ok(false));
            assert_eq!(call(&layer, None).await, Ok(false));
        }
    }

    #[tokio::test]
    async fn stream_frames_draw_from_the_calls_bucket() {
        let limits = RateLimits::new(RateOptions::default());
        let budget = limits
            .admit(&key("k", Role::Worker, Some(3)), None)
            .unwrap()
            .expect("a budget");
        budget.take().unwrap();
        budget.take().unwrap();
        let e = budget.take().unwrap_err();
        assert!(matches!(e, ApiError::RateLimited { rps: 3, .. }), "{e:?}");
        // Roles have their defaults; anonymous callers are limited per address.
        let opts = RateOptions::default();
        let readonly = limits.bucket(&key("r", Role::Readonly, None), None);
        assert_eq!(readonly.map(|(_, rps)| rps), Some(2_000));
        let worker = limits.bucket(&key("w", Role::Worker, None), None);
        assert_eq!(worker.map(|(_, rps)| rps), Some(opts.key_rps_default));
        let addr: IpAddr = "10.0.0.7".parse().unwrap();
        let anonymous = limits.bucket(&Principal::anonymous(), Some(addr));
        assert_eq!(anonymous, Some((Caller::Address(addr), opts.anonymous_rps)));
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(limits.bucket(&Principal::anonymous(), Some(local)), None);
        let off = RateLimits::new(RateOptions {
            key_rps_default: 0,
            role_rps: vec![],
            anonymous_rps: 0,
        });
        assert!(
            off.admit(&key("w", Role::Worker, None), Some(addr))
                .unwrap()
                .is_none()
        );
    }
}
