//! The auth layer: who is calling, and may they call this method at all.
//!
//! ```text
//!  request ─▶ access(path) ── Open (health, readiness, liveness, reflection; /metrics
//!               │              unless --metrics-auth) ──────────────────────▶ inner
//!               ├─ credential: `authorization: Bearer K`, `x-api-key: K`, or
//!               │  `x-corvo-cluster-secret: K` (malformed → UNAUTHENTICATED)
//!               ├─ K = the cluster secret ─▶ Principal::cluster
//!               ├─ K a key ─▶ KeyRing::lookup (expired, revoked, rotated out →
//!               │             UNAUTHENTICATED; unknown → on a follower, wait for the next
//!               │             key reload (at most CATCH_UP_WAIT): the key may have just been
//!               │             created on the leader; then UNAUTHENTICATED)
//!               ├─ no K: open mode (no key exists, no --require-auth) ─▶ anonymous
//!               │        else UNAUTHENTICATED
//!               ├─ role not allowed for the method ─▶ PERMISSION_DENIED
//!               └▶ inner, with the Principal in the request's extensions
//! ```
//!
//! Every node checks every call it receives, calls forwarded by a follower included: the
//! keys are replicated state, and the forwarding header only stops a second forward, so
//! forging it gains nothing. Queue scopes are checked by the services (they need the
//! message). Refusals are trailers-only gRPC statuses, or JSON with the HTTP status on the
//! HTTP routes, through the one error mapping.

use std::sync::Arc;
use std::task::{Context, Poll};

use corvo_raft::{Clock, ClusterSecret, SECRET_HEADER};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::ApiError;
use crate::keyring::{Credential, KeyRefusal, KeyRing, well_formed};
use crate::permissions::{self, Access};
use crate::principal::{Identity, Principal};
use crate::stack::BoxFuture;

/// The header that carries an API key when `authorization` is used for something else.
pub const API_KEY_HEADER: &str = "x-api-key";
/// How long a follower waits for a key it does not know to arrive by replication: a key
/// created on the leader is applied here within about a heartbeat.
pub const CATCH_UP_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// Calls waiting for a key at once; beyond it an unknown key is refused at once (a flood of
/// made-up keys must not pile up waiting calls).
pub const CATCH_UP_WAITERS_MAX: usize = 64;

/// How calls are authenticated (from `corvo server` flags).
#[derive(Clone, Debug, Default)]
pub struct AuthOptions {
    /// Refuse every call without a valid credential, even before the first key exists.
    pub require_auth: bool,
    /// `/metrics` needs a key (admin, operator or readonly) instead of being open.
    pub metrics_auth: bool,
    /// With `--tls-client-ca`: every call that is not open must come over a connection that
    /// presented a verified client certificate.
    pub require_client_cert: bool,
}

/// See the module doc.
#[derive(Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
}

struct Shared {
    ring: Arc<KeyRing>,
    secret: Option<ClusterSecret>,
    opts: AuthOptions,
    clock: Arc<dyn Clock>,
    /// Whether this node leads (its keys are then the newest: it waits for none).
    leads: Arc<dyn Fn() -> bool + Send + Sync>,
    waiters: Arc<tokio::sync::Semaphore>,
}

impl AuthLayer {
    pub fn new(
        ring: Arc<KeyRing>,
        secret: Option<ClusterSecret>,
        opts: AuthOptions,
        clock: Arc<dyn Clock>,
        leads: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Self {
        AuthLayer {
            shared: Arc::new(Shared {
                ring,
                secret,
                opts,
                clock,
                leads,
                waiters: Arc::new(tokio::sync::Semaphore::new(CATCH_UP_WAITERS_MAX)),
            }),
        }
    }
}

/// Who was let in, and the key they presented (if they presented one).
type Caller = (Principal, Option<Credential>);

/// Why a call is not let in.
enum Refusal {
    Now(ApiError),
    /// A well-formed key this node does not know.
    UnknownKey,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Now(e)
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request<Body>> for Auth<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
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
        let refused = match self.shared.check(&req) {
            Ok(None) => return Box::pin(self.inner.call(req)),
            Ok(Some(caller)) => {
                admit(&mut req, caller);
                return Box::pin(self.inner.call(req));
            }
            Err(Refusal::Now(e)) => e,
            Err(Refusal::UnknownKey) => match self.shared.catch_up_slot() {
                Some(slot) => {
                    // Wait (off the accept path) for the key to be replicated here, then check
                    // once more. The inner service is ready (poll_ready) and a clone takes over.
                    let shared = self.shared.clone();
                    let inner = self.inner.clone();
                    let mut inner = std::mem::replace(&mut self.inner, inner);
                    return Box::pin(async move {
                        shared.wait_for_reload().await;
                        drop(slot);
                        match shared.check(&req) {
                            Ok(caller) => {
                                if let Some(caller) = caller {
                                    admit(&mut req, caller);
                                }
                                inner.call(req).await
                            }
                            Err(Refusal::Now(e)) => Ok(refusal(&req, e)),
                            Err(Refusal::UnknownKey) => {
                                Ok(refusal(&req, KeyRefusal::Unknown.into()))
                            }
                        }
                    });
                }
                None => KeyRefusal::Unknown.into(),
            },
        };
        let response = refusal(&req, refused);
        Box::pin(std::future::ready(Ok(response)))
    }
}

/// Puts the caller into the request's extensions, for the layers and services after auth.
fn admit<B>(req: &mut Request<B>, (principal, credential): Caller) {
    req.extensions_mut().insert(principal);
    if let Some(credential) = credential {
        req.extensions_mut().insert(credential);
    }
}

impl Shared {
    /// A slot to wait for an unknown key, on a follower with slots left.
    fn catch_up_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if (self.leads)() {
            return None;
        }
        self.waiters.clone().try_acquire_owned().ok()
    }

    /// Until the keys are reloaded, at most [`CATCH_UP_WAIT`].
    async fn wait_for_reload(&self) {
        let mut reloads = self.ring.reloads();
        let _ = tokio::time::timeout(CATCH_UP_WAIT, reloads.changed()).await;
    }

    /// `None` for an open path, the caller (and the key it presented) for any other it may
    /// call, else the refusal.
    fn check<B>(&self, req: &Request<B>) -> Result<Option<Caller>, Refusal> {
        let path = req.uri().path();
        let access = permissions::access(path, self.opts.metrics_auth);
        if access == Access::Open {
            return Ok(None);
        }
        if self.opts.require_client_cert && !crate::connection::has_client_cert(req.extensions()) {
            return Err(Refusal::Now(ApiError::Unauthenticated {
                reason: "this server requires a client certificate (mTLS): connect with one signed by its client CA".into(),
            }));
        }
        let (principal, credential) = self.principal(req.headers())?;
        if !permissions::allows(access, &principal, self.secret.is_some()) {
            let method = path.trim_start_matches('/');
            if principal.identity == Identity::Anonymous {
                // No credential at all: the caller has to present one.
                return Err(Refusal::Now(ApiError::Unauthenticated {
                    reason: format!(
                        "{method} needs {}: send it as `authorization: Bearer <key>`",
                        permissions::describe(access)
                    ),
                }));
            }
            return Err(Refusal::Now(ApiError::PermissionDenied {
                reason: format!(
                    "{principal} (role {}) may not call {method}: it needs {}",
                    principal.role.as_str(),
                    permissions::describe(access)
                ),
            }));
        }
        Ok(Some((principal, credential)))
    }

    fn principal(&self, headers: &HeaderMap) -> Result<(Principal, Option<Credential>), Refusal> {
        let Some(secret) = credential(headers)? else {
            if !self.opts.require_auth && !self.ring.has_keys() {
                return Ok((Principal::anonymous(), None));
            }
            return Err(Refusal::Now(ApiError::Unauthenticated {
                reason: format!(
                    "missing API key: send `authorization: Bearer <key>` or `{API_KEY_HEADER}: <key>`"
                ),
            }));
        };
        if self
            .secret
            .as_ref()
            .is_some_and(|s| s.matches(secret.as_bytes()))
        {
            return Ok((Principal::cluster(), None));
        }
        if !well_formed(secret) {
            return Err(Refusal::Now(ApiError::Unauthenticated {
                reason: "malformed API key: expected 16 to 512 visible ASCII characters".into(),
            }));
        }
        let principal = self
            .ring
            .lookup(secret, self.clock.now_ms())
            .map_err(|r| match r {
                KeyRefusal::Unknown => Refusal::UnknownKey,
                KeyRefusal::Refused(e) => Refusal::Now(e),
            })?;
        Ok((principal, Some(Credential::new(self.ring.clone(), secret))))
    }
}

/// The credential a request presents, if any; an `authorization` header that is not
/// `Bearer <token>`, or a value that is not text, is malformed.
fn credential(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let malformed = |why: &str| ApiError::Unauthenticated {
        reason: format!("malformed credential: {why}"),
    };
    if let Some(v) = headers.get(AUTHORIZATION) {
        let text = v
            .to_str()
            .map_err(|_| malformed("the authorization header is not text"))?;
        let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(malformed("the authorization header must be `Bearer <key>`"));
        }
        return Ok(Some(token.trim()));
    }
    for name in [API_KEY_HEADER, SECRET_HEADER] {
        if let Some(v) = headers.get(name) {
            let text = v
                .to_str()
                .map_err(|_| malformed(&format!("the {name} header is not text")))?;
            return Ok(Some(text.trim()));
        }
    }
    Ok(None)
}

/// The refusal as the caller expects it: a trailers-only gRPC status, or JSON on HTTP.
pub(crate) fn refusal<B>(req: &Request<B>, e: ApiError) -> Response<Body> {
    let grpc = req
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if grpc {
        return tonic::Status::from(e).into_http();
    }
    http_refusal(e)
}

/// An error on an HTTP route: its HTTP status and `{"status":"error","code":..,"error":..}`.
pub fn http_refusal(e: ApiError) -> Response<Body> {
    let code = e.http_status();
    let status = tonic::Status::from(e);
    let body = serde_json::json!({
        "status": "error",
        "code": format!("{:?}", status.code()),
        "error": status.message(),
    });
    let mut response = Response::new(Body::new(http_body_util::Full::new(bytes::Bytes::from(
        format!("{body}\n"),
    ))));
    *response.status_mut() = code;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use corvo_core::access::{ApiKey, KeySecret, Role};
    use tonic::Code;
    use tower::ServiceExt;

    use super::*;
    use crate::keyring::hash_secret;

    struct Fixed(AtomicU64);
    impl Clock for Fixed {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
    }

    const WORKER_KEY: &str = "worker-secret-0123456789";

    fn ring(with_key: bool) -> Arc<KeyRing> {
        Arc::new(KeyRing::new(keys(with_key)))
    }

    fn keys(with_key: bool) -> Vec<ApiKey> {
        with_key
            .then(|| ApiKey {
                id: "key_w".into(),
                name: "workers".into(),
                role: Role::Worker,
                queues: vec!["emails.*".into()],
                created_at_ms: 0,
                expires_at_ms: None,
                rate_limit_rps: None,
                revoked_at_ms: None,
                last_used_ms: None,
                secrets: vec![KeySecret {
                    hash: hash_secret(WORKER_KEY),
                    created_at_ms: 0,
                    valid_until_ms: None,
                }],
            })
            .into_iter()
            .collect()
    }

    /// The layer over a service that answers OK and says who it saw.
    async fn call(
        layer: &AuthLayer,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Option<Identity>, (Code, String)> {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let inner = {
            let seen = seen.clone();
            tower::service_fn(move |req: Request<Body>| {
                *seen.lock().unwrap() = req
                    .extensions()
                    .get::<Principal>()
                    .map(|p| p.identity.clone());
                async { Ok::<_, std::convert::Infallible>(Response::new(Body::empty())) }
            })
        };
        let mut req = Request::builder()
            .uri(path)
            .header(CONTENT_TYPE, "application/grpc");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = layer
            .layer(inner)
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        match tonic::Status::from_header_map(response.headers()) {
            Some(s) if s.code() != Code::Ok => Err((s.code(), s.message().to_owned())),
            _ => Ok(seen.lock().unwrap().clone()),
        }
    }

    fn layer(ring: Arc<KeyRing>, opts: AuthOptions) -> AuthLayer {
        AuthLayer::new(
            ring,
            ClusterSecret::new("the-cluster-secret"),
            opts,
            Arc::new(Fixed(AtomicU64::new(1_000))),
            Arc::new(|| true),
        )
    }

    #[tokio::test]
    async fn an_open_server_lets_anonymous_callers_in_until_the_first_key() {
        let open = layer(ring(false), AuthOptions::default());
        assert_eq!(
            call(&open, "/corvo.v1.JobService/DeleteJob", &[]).await,
            Ok(Some(Identity::Anonymous))
        );
        // A membership change still needs the secret on a node that has one.
        let (code, msg) = call(&open, "/corvo.v1.ClusterService/Join", &[])
            .await
            .unwrap_err();
        assert_eq!(code, Code::Unauthenticated);
        assert!(msg.contains("cluster secret"), "{msg}");
        let keyed = layer(ring(true), AuthOptions::default());
        let (code, msg) = call(&keyed, "/corvo.v1.JobService/GetJob", &[])
            .await
            .unwrap_err();
        assert_eq!(code, Code::Unauthenticated);
        assert!(msg.contains("missing API key"), "{msg}");
        let required = layer(
            ring(false),
            AuthOptions {
                require_auth: true,
                ..Default::default()
            },
        );
        let (code, _) = call(&required, "/corvo.v1.JobService/GetJob", &[])
            .await
            .unwrap_err();
        assert_eq!(code, Code::Unauthenticated);
    }

    #[tokio::test]
    async fn credentials_are_read_from_each_header_and_checked() {
        let l = layer(ring(true), AuthOptions::default());
        let enqueue = "/corvo.v1.WorkerService/Enqueue";
        let worker = Some(Identity::Key {
            id: "key_w".into(),
            name: "workers".into(),
        });
        let bearer = format!("Bearer {WORKER_KEY}");
        assert_eq!(
            call(&l, enqueue, &[("authorization", &bearer)]).await,
            Ok(worker.clone())
        );
        assert_eq!(
            call(&l, enqueue, &[("x-api-key", WORKER_KEY)]).await,
            Ok(worker)
        );
        assert_eq!(
            call(
                &l,
                enqueue,
                &[("x-corvo-cluster-secret", "the-cluster-secret")]
            )
            .await,
            Ok(Some(Identity::Cluster))
        );
        for (headers, expected) in [
            (vec![("authorization", "Basic abc")], "Bearer"),
            (vec![("authorization", "Bearer")], "Bearer"),
            (vec![("x-api-key", "short")], "malformed"),
            (
                vec![("x-api-key", "an-unknown-key-of-good-length")],
                "unknown API key",
            ),
        ] {
            let (code, msg) = call(&l, enqueue, &headers).await.unwrap_err();
            assert_eq!(code, Code::Unauthenticated, "{headers:?}");
            assert!(msg.contains(expected), "{headers:?}: {msg}");
        }
    }

    #[tokio::test]
    async fn a_role_is_refused_methods_outside_its_part_of_the_matrix() {
        let l = layer(ring(true), AuthOptions::default());
        let key = [("x-api-key", WORKER_KEY)];
        let (code, msg) = call(&l, "/corvo.v1.JobService/DeleteJob", &key)
            .await
            .unwrap_err();
        assert_eq!(code, Code::PermissionDenied);
        assert!(
            msg.contains("role worker") && msg.contains("corvo.v1.JobService/DeleteJob"),
            "{msg}"
        );
        // Probes and reflection never need a key.
        assert_eq!(
            call(&l, "/grpc.health.v1.Health/Check", &[]).await,
            Ok(None)
        );
        assert_eq!(
            call(
                &l,
                "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                &[]
            )
            .await,
            Ok(None)
        );
        assert_eq!(call(&l, "/metrics", &[]).await, Ok(None));
        let metrics_keyed = layer(
            ring(true),
            AuthOptions {
                metrics_auth: true,
                ..Default::default()
            },
        );
        let (code, _) = call(&metrics_keyed, "/metrics", &[]).await.unwrap_err();
        assert_eq!(code, Code::Unauthenticated);
    }

    #[tokio::test(start_paused = true)]
    async fn a_follower_waits_briefly_for_a_key_it_does_not_know_yet() {
        let ring = ring(false);
        let follower = AuthLayer::new(
            ring.clone(),
            None,
            AuthOptions::default(),
            Arc::new(Fixed(AtomicU64::new(1_000))),
            Arc::new(|| false),
        );
        let key = [("x-api-key", WORKER_KEY)];
        let enqueue = "/corvo.v1.WorkerService/Enqueue";
        // The key arrives by replication while the call waits.
        let arrives = {
            let ring = ring.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                ring.reload(keys(true));
            })
        };
        assert!(matches!(
            call(&follower, enqueue, &key).await,
            Ok(Some(Identity::Key { .. }))
        ));
        arrives.await.unwrap();
        // A key that never arrives is refused after the wait.
        let started = tokio::time::Instant::now();
        let (code, msg) = call(
            &follower,
            enqueue,
            &[("x-api-key", "never-created-key-0000")],
        )
        .await
        .unwrap_err();
        assert_eq!(code, Code::Unauthenticated);
        assert!(msg.contains("unknown API key"), "{msg}");
        assert!(started.elapsed() >= CATCH_UP_WAIT);
    }
}
