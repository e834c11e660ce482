//! Joining a cluster, both sides of it on the client port.
//!
//! - Asking: a node started with `--join <url>` and an empty log calls
//!   `ClusterService.Join` on that node (any member; a follower forwards to the leader),
//!   retrying while no leader answers, and fails start-up on a refusal.
//! - Answering over HTTP: `POST /api/v1/cluster/join` with `{node_id, raft_addr, api_addr}`
//!   (optionally `raft_id`) is the same call as the gRPC Join, for scripts without a gRPC
//!   client. Both require the cluster secret (`authorization: Bearer <secret>` or
//!   `x-corvo-cluster-secret`) or an admin API key: the auth layer checks it for both.

use std::time::Duration;

use anyhow::{Context, bail};
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use corvo_api::cluster::{Cluster, JOIN_FORWARD_TIMEOUT};
use corvo_raft::{ClusterSecret, SECRET_HEADER};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::cluster_service_client::ClusterServiceClient;
use serde::Deserialize;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;
use tracing::{info, warn};

/// The HTTP join endpoint (named in the operations guide).
pub const JOIN_PATH: &str = "/api/v1/cluster/join";
/// How long a joining node keeps asking while the node it asks is down or has no leader.
const JOIN_RETRY_MAX: Duration = Duration::from_secs(60);
/// Pause between join attempts.
const JOIN_RETRY_EVERY: Duration = Duration::from_millis(500);
/// Connecting to the node named by `--join`.
const JOIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// `--join` as a URL: `host:port` gets `https://` when this node calls members over TLS,
/// else `http://`.
pub fn join_url(target: &str, tls: bool) -> String {
    if target.contains("://") {
        target.to_owned()
    } else if tls {
        format!("https://{target}")
    } else {
        format!("http://{target}")
    }
}

/// `--seek-cluster`: looks for a live member among `targets` until `wait` has passed. A
/// member that answers a check-only join is returned (this start then joins through it); a
/// member that refuses (this id belongs to a voter with data, a wrong secret, ...) stops
/// start-up with its answer, since starting a second cluster is exactly what the flag
/// prevents; `None` when no target could be reached: this node starts the cluster.
pub async fn seek_cluster(
    targets: &[String],
    secret: &ClusterSecret,
    check: pb::JoinRequest,
    tls: Option<tonic::transport::ClientTlsConfig>,
    wait: Duration,
) -> anyhow::Result<Option<String>> {
    let started = corvo_clock::monotonic();
    loop {
        for target in targets {
            let url = join_url(target, tls.is_some());
            let channel = match endpoint(target, &url, tls.clone())?.connect().await {
                Ok(channel) => channel,
                Err(e) => {
                    info!(target = %url, error = %e, "seeking a cluster: no answer");
                    continue;
                }
            };
            let answer = ClusterServiceClient::new(channel)
                .join(with_secret(check.clone(), secret)?)
                .await;
            match answer {
                Ok(_) => {
                    info!(target = %url, "seeking a cluster: found a live member; joining it");
                    return Ok(Some(target.clone()));
                }
                // A member without a leader right now: the cluster exists; the join waits.
                Err(status) if status.code() == Code::Unavailable => {
                    info!(target = %url, error = %status.message(), "seeking a cluster: a member answered without a leader; joining it");
                    return Ok(Some(target.clone()));
                }
                Err(status) => bail!(
                    "--seek-cluster: {url} is a live member but refuses this node: {:?}: {}",
                    status.code(),
                    status.message()
                ),
            }
        }
        if started.elapsed() >= wait {
            warn!(
                waited = ?wait,
                "seeking a cluster: no member answered; starting a new cluster"
            );
            return Ok(None);
        }
        tokio::time::sleep(JOIN_RETRY_EVERY).await;
    }
}

/// The client endpoint of the member `target` (`url`), with TLS for `https://`.
fn endpoint(
    target: &str,
    url: &str,
    tls: Option<tonic::transport::ClientTlsConfig>,
) -> anyhow::Result<Endpoint> {
    let mut endpoint = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("{target:?} is not a URL"))?
        .connect_timeout(JOIN_CONNECT_TIMEOUT)
        .timeout(JOIN_FORWARD_TIMEOUT);
    if url.starts_with("https://") {
        let tls = tls.context("an https:// member URL needs --tls-ca (or --peer-tls-ca)")?;
        endpoint = endpoint
            .tls_config(tls)
            .with_context(|| format!("TLS for {target}"))?;
    }
    Ok(endpoint)
}

/// A join request carrying the cluster secret.
fn with_secret(
    req: pb::JoinRequest,
    secret: &ClusterSecret,
) -> anyhow::Result<tonic::Request<pb::JoinRequest>> {
    let mut request = tonic::Request::new(req);
    let value = MetadataValue::try_from(secret.expose())
        .map_err(|_| anyhow::anyhow!("the cluster secret is not valid metadata"))?;
    request.metadata_mut().insert(SECRET_HEADER, value);
    Ok(request)
}

/// Asks `target` to add this node; returns once this node is a voter.
pub async fn join_cluster(
    target: &str,
    secret: &ClusterSecret,
    req: pb::JoinRequest,
    tls: Option<tonic::transport::ClientTlsConfig>,
) -> anyhow::Result<pb::JoinResponse> {
    let url = join_url(target, tls.is_some());
    let endpoint = endpoint(target, &url, tls).context("--join")?;
    let started = corvo_clock::monotonic();
    loop {
        let attempt = async {
            let channel = endpoint
                .connect()
                .await
                .map_err(|e| tonic::Status::unavailable(format!("connecting to {url}: {e}")))?;
            let request = with_secret(req.clone(), secret)
                .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?;
            ClusterServiceClient::new(channel).join(request).await
        };
        match attempt.await {
            Ok(answer) => return Ok(answer.into_inner()),
            // The node is down, starting, or has no leader yet: ask again.
            Err(status)
                if status.code() == Code::Unavailable && started.elapsed() < JOIN_RETRY_MAX =>
            {
                warn!(target = %url, error = %status.message(), "join: not answered yet; retrying");
                tokio::time::sleep(JOIN_RETRY_EVERY).await;
            }
            Err(status) => bail!(
                "joining the cluster through {url} failed: {:?}: {}",
                status.code(),
                status.message()
            ),
        }
    }
}

/// The JSON body of `POST /api/v1/cluster/join`.
#[derive(Debug, Deserialize)]
struct JoinBody {
    /// The joining node's name (`--node-id`).
    node_id: String,
    /// Its Raft id; derived from `node_id` when absent (docs/adr/0006-node-ids.md).
    raft_id: Option<u64>,
    raft_addr: String,
    api_addr: String,
}

/// The HTTP join route, served with the client port's other HTTP routes.
pub fn http_routes(cluster: Cluster) -> axum::Router {
    axum::Router::new()
        .route(JOIN_PATH, post(http_join))
        .with_state(cluster)
}

async fn http_join(
    State(cluster): State<Cluster>,
    Json(body): Json<JoinBody>,
) -> (http::StatusCode, String) {
    let req = pb::JoinRequest {
        raft_id: body
            .raft_id
            .unwrap_or_else(|| crate::server::raft_node_id(&body.node_id)),
        raft_address: body.raft_addr,
        client_address: body.api_addr,
        node_id: body.node_id,
        // An operator's request on a node's behalf: idempotent for an existing member.
        new_data_dir: false,
        check_only: false,
    };
    info!(raft_id = req.raft_id, node = %req.node_id, "join requested over HTTP");
    match cluster.join(req, false).await {
        Ok(done) => {
            let body = serde_json::json!({
                "status": "ok",
                "leader_raft_id": done.leader_raft_id,
                "already_member": done.already_member,
                "voters": done.voters,
                "cluster_id": done.cluster_id,
            });
            (http::StatusCode::OK, format!("{body}\n"))
        }
        Err(e) => status_reply(&tonic::Status::from(e)),
    }
}

fn status_reply(status: &tonic::Status) -> (http::StatusCode, String) {
    let code = match status.code() {
        Code::Unauthenticated => http::StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => http::StatusCode::FORBIDDEN,
        Code::InvalidArgument => http::StatusCode::BAD_REQUEST,
        Code::FailedPrecondition => http::StatusCode::CONFLICT,
        Code::NotFound => http::StatusCode::NOT_FOUND,
        Code::Unavailable => http::StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => http::StatusCode::GATEWAY_TIMEOUT,
        _ => http::StatusCode::INTERNAL_SERVER_ERROR,
    };
    let leader = status
        .metadata()
        .get("x-corvo-leader")
        .and_then(|v| v.to_str().ok());
    let body = serde_json::json!({
        "status": "error",
        "code": format!("{:?}", status.code()),
        "error": status.message(),
        "leader": leader,
    });
    (code, format!("{body}\n"))
}
