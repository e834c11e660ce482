//! Joining a cluster, both sides of it on the client port.
//!
//! - Asking: a node started with `--join <url>` and an empty log calls
//!   `ClusterService.Join` on that node (any member; a follower forwards to the leader),
//!   retrying while no leader answers, and fails start-up on a refusal.
//! - Answering over HTTP: `POST /api/v1/cluster/join` with `{node_id, raft_addr, api_addr}`
//!   (optionally `raft_id`) is the same call as the gRPC Join, for scripts without a gRPC
//!   client. Both require the cluster secret (`authorization: Bearer <secret>` or
//!   `x-corvo-cluster-secret`) or an admin API key: the auth layer checks it for both.

use std::time::{Duration, Instant};

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

/// Asks `target` to add this node; returns once this node is a voter.
pub async fn join_cluster(
    target: &str,
    secret: &ClusterSecret,
    req: pb::JoinRequest,
    tls: Option<tonic::transport::ClientTlsConfig>,
) -> anyhow::Result<pb::JoinResponse> {
    let url = join_url(target, tls.is_some());
    let mut endpoint = Endpoint::from_shared(url.clone())
        .with_context(|| format!("--join {target:?} is not a URL"))?
        .connect_timeout(JOIN_CONNECT_TIMEOUT)
        .timeout(JOIN_FORWARD_TIMEOUT);
    if url.starts_with("https://") {
        let tls = tls.context("--join names an https:// URL: set --tls-ca (or --peer-tls-ca)")?;
        endpoint = endpoint
            .tls_config(tls)
            .with_context(|| format!("TLS for --join {target}"))?;
    }
    let started = Instant::now();
    loop {
        let attempt = async {
            let channel = endpoint
                .connect()
                .await
                .map_err(|e| tonic::Status::unavailable(format!("connecting to {url}: {e}")))?;
            let mut request = tonic::Request::new(req.clone());
            let value = MetadataValue::try_from(secret.expose()).map_err(|_| {
                tonic::Status::invalid_argument("the cluster secret is not valid metadata")
            })?;
            request.metadata_mut().insert(SECRET_HEADER, value);
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
