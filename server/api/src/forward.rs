//! Leader forwarding: a follower passes WorkerService, JobService, KeyService and QueueService
//! calls to the leader, so a client may talk to any node (DESIGN §6, ADR 0010).
//!
//! ```text
//!  request ─▶ Forward::call ── not forwardable (ClusterService, health, reflection, HTTP,
//!               │              GetServerInfo, already forwarded, not gRPC) ──▶ inner (local)
//!               ├─ this node leads (or drains) ──────────────────────────────▶ inner (local)
//!               ├─ no leader known ─▶ UNAVAILABLE + grpc-retry-pushback-ms (a worker stream
//!               │                     is served here instead, as when the leader cannot be
//!               │                     connected to: its frames answer NOT_LEADER +
//!               │                     leader_addr on the legacy fields, which old clients
//!               │                     act on)
//!               └─ leader elsewhere ─▶ + x-corvo-forwarded-from: <this node>
//!                    └▶ cached Channel to the leader's client address (raw HTTP/2: headers,
//!                       streaming bodies and trailers pass through both ways)
//!                         └─ connect/transport error ─▶ UNAVAILABLE + x-corvo-leader
//! ```
//!
//! Reads are forwarded too, and the leader confirms that it still leads before it answers
//! those that claim consistency (`Engine::linearize`, ADR 0026). A forwarded request is never
//! forwarded again: a node that receives one serves it, and answers NotLeader if it does not
//! lead any more. A failed forward is never retried here: the call may have been a write
//! that the leader applied.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Layer, Service, ServiceExt};

use crate::engine::Engine;
use crate::error::ApiError;
use crate::stack::BoxFuture;

/// Marks a request a follower forwarded (its value: the follower's node name). A node never
/// forwards a marked request again, so a stale view of the leader cannot make a loop.
pub const FORWARDED_FROM_HEADER: &str = "x-corvo-forwarded-from";
/// Connecting to the leader's client port (1 s): a forward to an unreachable leader fails
/// fast with UNAVAILABLE instead of holding the caller.
pub const FORWARD_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// HTTP/2 pings on the connection to the leader (every 5 s, answer within 5 s), also while
/// idle: a leader that vanished without closing the connection is noticed and the calls on
/// it fail instead of hanging.
pub const FORWARD_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
pub const FORWARD_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The services whose calls go to the leader (path prefixes).
const FORWARDED_SERVICES: [&str; 4] = [
    "/corvo.v1.WorkerService/",
    "/corvo.v1.JobService/",
    "/corvo.v1.KeyService/",
    "/corvo.v1.QueueService/",
];
/// The worker stream: without a leader to forward it to it is served locally, where every
/// frame that needs the leader is answered with the legacy NOT_LEADER + `leader_addr` fields.
const STREAM_METHOD: &str = "/corvo.v1.WorkerService/StreamLifecycle";
/// Methods of those services that describe the node answering, not the cluster's state.
const LOCAL_METHODS: [&str; 1] = ["/corvo.v1.WorkerService/GetServerInfo"];

/// Where a forwardable call should be served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Here: this node leads, or it is draining (its own answers apply).
    Local,
    /// At the leader, reached on its advertised client address.
    Leader { raft_id: u64, api_addr: String },
    /// No leader is known (an election, or this node is cut off from the majority).
    NoLeader,
    /// A leader is known, but not its address: this node has not received the membership
    /// that names it yet (a node that just joined and is catching up).
    LeaderAddressUnknown { raft_id: u64 },
}

/// What the layer needs to know about the cluster; [`Engine`] in the server.
pub trait LeaderView: Send + Sync + 'static {
    fn route(&self) -> Route;

    /// The probes of leaders' client addresses this node shares (see [`LeaderProbe`]).
    fn probe(&self) -> &LeaderProbe;
}

impl LeaderView for Engine {
    fn route(&self) -> Route {
        if self.is_draining() {
            return Route::Local;
        }
        let status = self.raft().status();
        match status.leader_id {
            None => Route::NoLeader,
            Some(id) if id == status.node_id => Route::Local,
            Some(id) => match self.raft().api_addr_of(id) {
                Some(api_addr) => Route::Leader {
                    raft_id: id,
                    api_addr,
                },
                None => Route::LeaderAddressUnknown { raft_id: id },
            },
        }
    }

    fn probe(&self) -> &LeaderProbe {
        self.leader_probe()
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct ForwardLayer {
    shared: Arc<Shared>,
}

struct Shared {
    view: Arc<dyn LeaderView>,
    /// This node's name, the value of [`FORWARDED_FROM_HEADER`].
    node: HeaderValue,
    /// The channel to the current leader; replaced when leadership moves.
    leader: Mutex<Option<LeaderChannel>>,
    /// TLS to the leader's client port, when the client ports serve TLS.
    tls: Option<tonic::transport::ClientTlsConfig>,
}

struct LeaderChannel {
    raft_id: u64,
    api_addr: String,
    channel: Channel,
}

impl ForwardLayer {
    pub fn new(
        view: Arc<dyn LeaderView>,
        node_name: &str,
        tls: Option<tonic::transport::ClientTlsConfig>,
    ) -> Self {
        let node = HeaderValue::from_str(node_name)
            .unwrap_or_else(|_| HeaderValue::from_static("unnamed"));
        ForwardLayer {
            shared: Arc::new(Shared {
                view,
                node,
                leader: Mutex::new(None),
                tls,
            }),
        }
    }
}

impl<S> Layer<S> for ForwardLayer {
    type Service = Forward<S>;

    fn layer(&self, inner: S) -> Forward<S> {
        Forward {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// See the module doc.
#[derive(Clone)]
pub struct Forward<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request<Body>> for Forward<S>
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

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if !forwardable(&req) {
            return Box::pin(self.inner.call(req));
        }
        let route = self.shared.view.route();
        let no_leader = matches!(route, Route::NoLeader | Route::LeaderAddressUnknown { .. });
        if no_leader && req.uri().path() == STREAM_METHOD {
            return Box::pin(self.inner.call(req));
        }
        let (raft_id, api_addr) = match route {
            Route::Local => return Box::pin(self.inner.call(req)),
            Route::NoLeader => {
                return ready(refusal(ApiError::LeaderUnreachable {
                    leader_addr: None,
                    reason: "no leader is known (an election is under way, or this node is cut off from the majority)".into(),
                }));
            }
            Route::LeaderAddressUnknown { raft_id } => {
                return ready(refusal(ApiError::LeaderUnreachable {
                    leader_addr: None,
                    reason: format!(
                        "the leader (raft id {raft_id}) is not in this node's membership yet: it is still catching up"
                    ),
                }));
            }
            Route::Leader { raft_id, api_addr } => (raft_id, api_addr),
        };
        let channel = match self.shared.channel(raft_id, &api_addr) {
            Ok(channel) => channel,
            Err(reason) => {
                return ready(refusal(ApiError::LeaderUnreachable {
                    leader_addr: Some(api_addr),
                    reason,
                }));
            }
        };
        let req = self.shared.mark(req);
        if req.uri().path() == STREAM_METHOD {
            // A worker stream goes to the leader only once the connection is up; otherwise it
            // is served here, where its frames say NOT_LEADER + leader_addr (legacy fields).
            let local = self.inner.clone();
            // The channel's own connection is made in the background and would fail only
            // after taking `req`: a probe first (shared with the node's other streams).
            let view = self.shared.view.clone();
            return Box::pin(async move {
                if !view.probe().reachable(&api_addr).await {
                    tracing::debug!(leader = %api_addr, "leader unreachable: serving the worker stream here");
                    return local.oneshot(req).await;
                }
                match channel.oneshot(req).await {
                    Ok(response) => Ok(relayed(response, &api_addr)),
                    Err(e) => Ok(refusal(ApiError::LeaderUnreachable {
                        leader_addr: Some(api_addr.clone()),
                        reason: format!(
                            "forwarding to the leader at {api_addr}: {}",
                            error_chain(&e)
                        ),
                    })),
                }
            });
        }
        Box::pin(async move {
            match channel.oneshot(req).await {
                Ok(response) => Ok(relayed(response, &api_addr)),
                Err(e) => {
                    let reason = format!(
                        "forwarding to the leader at {api_addr}: {}",
                        error_chain(&e)
                    );
                    tracing::debug!(leader = %api_addr, %reason, "forward failed");
                    Ok(refusal(ApiError::LeaderUnreachable {
                        leader_addr: Some(api_addr),
                        reason,
                    }))
                }
            }
        })
    }
}

/// How long the answer of a probe of a leader's client address stands for every caller that
/// asks about the same address.
pub const PROBE_FRESH: Duration = Duration::from_secs(1);

/// Whether the leader's client address takes connections, asked by every worker stream that
/// opens on a follower (forwarded only when it does) and by every stream on a node that
/// stopped leading (ended only when it does), also every few seconds while it does not.
/// One probe at a time per node: callers that ask while one is under way wait for its answer,
/// and an answer stands for [`PROBE_FRESH`]. When the leadership moves, the thousands of
/// streams of a busy node make one connection to the new leader, not one each.
#[derive(Default)]
pub struct LeaderProbe {
    /// The last answer: the address, when it was made, whether it connected.
    last: tokio::sync::Mutex<Option<(String, std::time::Instant, bool)>>,
}

impl LeaderProbe {
    /// Whether a TCP connection to `addr` opens within [`FORWARD_CONNECT_TIMEOUT`] (or did,
    /// for this address, less than [`PROBE_FRESH`] ago).
    pub async fn reachable(&self, addr: &str) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at_addr, at, answer)) = last.as_ref()
            && at_addr == addr
            && at.elapsed() < PROBE_FRESH
        {
            return *answer;
        }
        let probe = tokio::time::timeout(
            FORWARD_CONNECT_TIMEOUT,
            tokio::net::TcpStream::connect(addr),
        )
        .await;
        let answer = matches!(probe, Ok(Ok(_)));
        *last = Some((addr.to_owned(), corvo_clock::monotonic(), answer));
        answer
    }
}

impl Shared {
    /// The channel to leader `raft_id` at `api_addr`, made (lazily connecting) when the
    /// cached one is for another leader or address.
    fn channel(&self, raft_id: u64, api_addr: &str) -> Result<Channel, String> {
        let mut cached = self.leader.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = cached.as_ref()
            && c.raft_id == raft_id
            && c.api_addr == api_addr
        {
            return Ok(c.channel.clone());
        }
        let endpoint = crate::cluster::member_endpoint(api_addr, self.tls.as_ref())
            .map_err(|e| format!("the leader's address is not usable: {e}"))?
            .connect_timeout(FORWARD_CONNECT_TIMEOUT)
            .http2_keep_alive_interval(FORWARD_KEEPALIVE_INTERVAL)
            .keep_alive_timeout(FORWARD_KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true);
        let channel = endpoint.connect_lazy();
        tracing::info!(leader = raft_id, addr = %api_addr, "forwarding calls to a new leader");
        *cached = Some(LeaderChannel {
            raft_id,
            api_addr: api_addr.to_owned(),
            channel: channel.clone(),
        });
        Ok(channel)
    }

    /// Marks `req` as forwarded by this node, and makes this node's RPC span (when tracing
    /// is on) the parent of the leader's.
    fn mark(&self, mut req: Request<Body>) -> Request<Body> {
        let headers = req.headers_mut();
        headers.insert(FORWARDED_FROM_HEADER, self.node.clone());
        if let Some(tp) = crate::trace_context::current_traceparent()
            && let Ok(v) = HeaderValue::from_str(&tp)
        {
            headers.insert("traceparent", v);
        }
        req
    }
}

/// A gRPC call (over HTTP/2, as the leader will get it) to a forwarded service, not marked as
/// forwarded already.
fn forwardable(req: &Request<Body>) -> bool {
    let path = req.uri().path();
    req.version() == http::Version::HTTP_2
        && req
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
        && !req.headers().contains_key(FORWARDED_FROM_HEADER)
        && FORWARDED_SERVICES.iter().any(|s| path.starts_with(s))
        && !LOCAL_METHODS.contains(&path)
}

/// The leader's answer, passed through; if the leader goes away mid-answer (a stream when
/// the leader dies), it ends with UNAVAILABLE trailers instead of a reset stream, so clients
/// see a status they retry and reconnect on.
fn relayed(response: Response<Body>, leader: &str) -> Response<Body> {
    let leader = leader.to_owned();
    response.map(|body| {
        Body::new(EndsWithStatus {
            inner: body,
            leader,
            done: false,
        })
    })
}

pin_project_lite::pin_project! {
    /// A relayed body whose transport error becomes gRPC trailers.
    struct EndsWithStatus {
        #[pin]
        inner: Body,
        leader: String,
        done: bool,
    }
}

impl http_body::Body for EndsWithStatus {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Err(e))) => {
                *this.done = true;
                let status = tonic::Status::from(ApiError::LeaderUnreachable {
                    leader_addr: Some(this.leader.clone()),
                    reason: format!("the connection to the leader at {} broke: {e}", this.leader),
                });
                // The status as a trailers-only answer carries it: its grpc-* fields and hints.
                let mut trailers = http::HeaderMap::new();
                for (name, value) in status.into_http::<Body>().headers() {
                    if name != CONTENT_TYPE {
                        trailers.append(name.clone(), value.clone());
                    }
                }
                Poll::Ready(Some(Ok(http_body::Frame::trailers(trailers))))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The gRPC answer for a call that could not be forwarded (through the one error mapping).
fn refusal(e: ApiError) -> Response<Body> {
    tonic::Status::from(e).into_http()
}

fn ready<E: Send + 'static>(response: Response<Body>) -> BoxFuture<Response<Body>, E> {
    Box::pin(std::future::ready(Ok(response)))
}

/// An error and its sources, one line (tonic's transport error says little by itself).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use corvo_sdk::proto as pb;

    use super::*;

    struct Fixed(Route, LeaderProbe);

    impl LeaderView for Fixed {
        fn route(&self) -> Route {
            self.0.clone()
        }

        fn probe(&self) -> &LeaderProbe {
            &self.1
        }
    }

    /// The inner service answers 200 with an `x-local` header: the call was served here.
    fn layer(
        route: Route,
    ) -> Forward<
        impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future: Send> + Clone,
    > {
        let inner = tower::service_fn(|_req: Request<Body>| async {
            let mut r = Response::new(Body::empty());
            r.headers_mut()
                .insert("x-local", HeaderValue::from_static("1"));
            Ok::<_, Infallible>(r)
        });
        ForwardLayer::new(Arc::new(Fixed(route, LeaderProbe::default())), "n2", None).layer(inner)
    }

    fn grpc(path: &str) -> Request<Body> {
        let mut req = Request::new(Body::empty());
        *req.uri_mut() = path.parse().unwrap();
        *req.version_mut() = http::Version::HTTP_2;
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        req
    }

    fn status(r: &Response<Body>) -> tonic::Status {
        tonic::Status::from_header_map(r.headers()).expect("a trailers-only gRPC status")
    }

    /// A loopback address nothing listens on.
    fn closed_addr() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    }

    /// Many streams asking at once whether the same leader takes connections make one
    /// connection between them; another address is probed on its own, and a closed one
    /// answers no.
    #[tokio::test]
    async fn streams_asking_about_the_same_leader_share_one_probe() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let probe = LeaderProbe::default();
        let answers = futures::future::join_all((0..50).map(|_| probe.reachable(&addr))).await;
        assert!(answers.iter().all(|a| *a), "{answers:?}");
        assert!(probe.reachable(&addr).await);
        // Every connection made is queued on the listener by now: count them.
        let mut connections = 0;
        while let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_millis(200), listener.accept()).await
        {
            connections += 1;
        }
        assert_eq!(connections, 1, "one probe for 51 questions");

        let closed = closed_addr();
        assert!(!probe.reachable(&closed).await, "nothing listens there");
        assert!(!probe.reachable(&closed).await);
        assert!(
            probe.reachable(&addr).await,
            "the other address is probed anew"
        );
        let accepted = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(matches!(accepted, Ok(Ok(_))), "a new probe connected");
    }

    #[tokio::test]
    async fn local_calls_never_leave_the_node() {
        let leader = Route::Leader {
            raft_id: 1,
            api_addr: closed_addr(),
        };
        let mut marked = grpc("/corvo.v1.WorkerService/Enqueue");
        marked
            .headers_mut()
            .insert(FORWARDED_FROM_HEADER, HeaderValue::from_static("n3"));
        let mut http = Request::new(Body::empty());
        *http.uri_mut() = "/corvo.v1.JobService/GetJob".parse().unwrap();
        let mut http1 = grpc("/corvo.v1.JobService/GetJob");
        *http1.version_mut() = http::Version::HTTP_11;
        for req in [
            grpc("/corvo.v1.ClusterService/GetNodeStatus"),
            grpc("/grpc.health.v1.Health/Check"),
            grpc("/corvo.v1.WorkerService/GetServerInfo"),
            marked,
            http,
            http1,
        ] {
            let path = req.uri().path().to_owned();
            let r = layer(leader.clone()).oneshot(req).await.unwrap();
            assert!(r.headers().contains_key("x-local"), "{path} left the node");
        }
        for path in [
            "/corvo.v1.WorkerService/Enqueue",
            "/corvo.v1.JobService/GetJob",
        ] {
            let r = layer(Route::Local).oneshot(grpc(path)).await.unwrap();
            assert!(
                r.headers().contains_key("x-local"),
                "the leader forwarded {path}"
            );
        }
    }

    #[tokio::test]
    async fn no_leader_is_unavailable_with_a_retry_hint() {
        for (route, says) in [
            (Route::NoLeader, "no leader"),
            (Route::LeaderAddressUnknown { raft_id: 7 }, "catching up"),
        ] {
            let r = layer(route.clone())
                .oneshot(grpc("/corvo.v1.JobService/CancelJob"))
                .await
                .unwrap();
            assert!(!r.headers().contains_key("x-local"));
            assert_eq!(status(&r).code(), tonic::Code::Unavailable);
            assert!(status(&r).message().contains(says), "{:?}", status(&r));
            assert!(r.headers().contains_key("grpc-retry-pushback-ms"));
            assert!(!r.headers().contains_key("x-corvo-leader"));
            // The worker stream is served here: its frames carry NOT_LEADER (legacy fields).
            let r = layer(route)
                .oneshot(grpc("/corvo.v1.WorkerService/StreamLifecycle"))
                .await
                .unwrap();
            assert!(r.headers().contains_key("x-local"));
        }
    }

    #[tokio::test]
    async fn an_unreachable_leader_is_unavailable_naming_it_promptly() {
        let addr = closed_addr();
        let started = corvo_clock::monotonic();
        let r = layer(Route::Leader {
            raft_id: 1,
            api_addr: addr.clone(),
        })
        .oneshot(grpc("/corvo.v1.WorkerService/Enqueue"))
        .await
        .unwrap();
        assert!(started.elapsed() < FORWARD_CONNECT_TIMEOUT * 5);
        assert!(!r.headers().contains_key("x-local"));
        assert_eq!(status(&r).code(), tonic::Code::Unavailable);
        assert!(status(&r).message().contains(&addr), "{:?}", status(&r));
        assert_eq!(r.headers().get("x-corvo-leader").unwrap(), addr.as_str());
        assert!(r.headers().contains_key("grpc-retry-pushback-ms"));
    }

    /// A leader's JobService that answers GetJob with the headers the call arrived with.
    struct EchoLeader;

    #[tonic::async_trait]
    impl corvo_sdk::proto::job_service_server::JobService for EchoLeader {
        async fn get_job(
            &self,
            req: tonic::Request<pb::GetJobRequest>,
        ) -> Result<tonic::Response<pb::GetJobResponse>, tonic::Status> {
            let header = |name| {
                req.metadata()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_owned()
            };
            let seen = [FORWARDED_FROM_HEADER, "authorization"]
                .map(header)
                .join("|");
            Ok(tonic::Response::new(pb::GetJobResponse {
                job: Some(pb::Job {
                    id: format!("{}|{seen}", req.get_ref().job_id),
                    ..Default::default()
                }),
            }))
        }
        async fn cancel_job(
            &self,
            _: tonic::Request<pb::CancelJobRequest>,
        ) -> Result<tonic::Response<pb::CancelJobResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
        async fn retry_job(
            &self,
            _: tonic::Request<pb::RetryJobRequest>,
        ) -> Result<tonic::Response<pb::RetryJobResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
        async fn delete_job(
            &self,
            _: tonic::Request<pb::DeleteJobRequest>,
        ) -> Result<tonic::Response<pb::DeleteJobResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
        async fn list_jobs(
            &self,
            _: tonic::Request<pb::ListJobsRequest>,
        ) -> Result<tonic::Response<pb::ListJobsResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
        async fn bulk_jobs(
            &self,
            _: tonic::Request<pb::BulkJobsRequest>,
        ) -> Result<tonic::Response<pb::BulkJobsResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
        async fn get_operation(
            &self,
            _: tonic::Request<pb::GetOperationRequest>,
        ) -> Result<tonic::Response<pb::GetOperationResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
        async fn list_operations(
            &self,
            _: tonic::Request<pb::ListOperationsRequest>,
        ) -> Result<tonic::Response<pb::ListOperationsResponse>, tonic::Status> {
            Err(tonic::Status::unimplemented("test"))
        }
    }

    #[tokio::test]
    async fn a_forwarded_call_reaches_the_leader_marked_with_its_headers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(corvo_sdk::proto::job_service_server::JobServiceServer::new(
                    EchoLeader,
                ))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        let follower = layer(Route::Leader {
            raft_id: 1,
            api_addr: addr,
        });
        let mut client = corvo_sdk::proto::job_service_client::JobServiceClient::new(follower);
        let mut req = tonic::Request::new(pb::GetJobRequest {
            job_id: "j1".into(),
        });
        req.metadata_mut()
            .insert("authorization", "Bearer k".parse().unwrap());
        let job = client.get_job(req).await.unwrap().into_inner().job.unwrap();
        assert_eq!(job.id, "j1|n2|Bearer k");
    }

    #[tokio::test]
    async fn the_channel_follows_the_leader() {
        let shared = Shared {
            view: Arc::new(Fixed(Route::NoLeader, LeaderProbe::default())),
            node: HeaderValue::from_static("n2"),
            leader: Mutex::new(None),
            tls: None,
        };
        shared.channel(1, "127.0.0.1:1").unwrap();
        shared.channel(1, "127.0.0.1:1").unwrap();
        let id = |s: &Shared| {
            let c = s.leader.lock().unwrap();
            c.as_ref().map(|c| (c.raft_id, c.api_addr.clone()))
        };
        assert_eq!(id(&shared), Some((1, "127.0.0.1:1".to_owned())));
        shared.channel(2, "127.0.0.1:2").unwrap();
        assert_eq!(id(&shared), Some((2, "127.0.0.1:2".to_owned())));
        assert!(shared.channel(3, "not an address").is_err());
    }
}
