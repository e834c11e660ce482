//! `corvo.v1.ClusterService`: node and cluster status for operators (`corvo status`,
//! `corvo cluster status`), and the membership changes (Join, RemoveNode, TransferLeader),
//! which need the cluster secret or an admin key (the auth layer checks that). A follower
//! forwards a join to the leader it knows (once: a forwarded join that lands on a non-leader
//! answers UNAVAILABLE + `x-corvo-leader`).
//!
//! Calls this node makes to other members (status, a forwarded join) carry the cluster
//! secret: every member knows it, and the auth layer takes it as the cluster's own caller.

use std::time::Duration;

use corvo_core::model::JobState;
use corvo_raft::{ClusterSecret, CorvoNode, Role, SECRET_HEADER};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::cluster_service_client::ClusterServiceClient;
use corvo_sdk::proto::cluster_service_server::ClusterService;
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::status::NodeStatus;

/// How long GetClusterStatus waits for each other member's status: an unreachable member
/// must not hold the answer for long.
pub const MEMBER_STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a forwarded join may take on the leader: its catch-up bound plus a margin.
pub const JOIN_FORWARD_TIMEOUT: Duration =
    Duration::from_secs(corvo_raft::membership::JOIN_CATCH_UP_MAX.as_secs() + 10);
/// Connecting to another member (status, forwarded joins).
const MEMBER_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Marks a join forwarded by a follower, so it is forwarded at most once.
const FORWARDED_HEADER: &str = "x-corvo-forwarded";
/// GetStateDigest waits at most this long for the applied index (60 s), 10 s by default.
const DIGEST_WAIT_MAX: Duration = Duration::from_secs(60);
const DIGEST_WAIT_DEFAULT: Duration = Duration::from_secs(10);

/// Most (queue, state) rows one NodeStatus lists (1 000): a deployment with very many
/// queues still gets a bounded answer; the totals by state always cover every queue.
pub const STATUS_QUEUE_COUNTS_MAX: usize = 1_000;

#[derive(Clone)]
pub struct Cluster {
    engine: Engine,
    /// `None`: this node accepts no membership changes.
    secret: Option<ClusterSecret>,
}

impl Cluster {
    pub fn new(engine: Engine, secret: Option<ClusterSecret>) -> Self {
        Cluster { engine, secret }
    }

    /// Adds a node (see `ClusterService.Join`): here when this node leads, else forwarded to
    /// the leader once. The caller has been authorized.
    pub async fn join(
        &self,
        req: pb::JoinRequest,
        forwarded: bool,
    ) -> Result<pb::JoinResponse, ApiError> {
        if self.secret.is_none() {
            return Err(ApiError::FailedPrecondition {
                reason: "this node has no cluster secret (--cluster-secret): it accepts no joins"
                    .into(),
            });
        }
        if req.raft_id == 0 && req.node_id.is_empty() {
            return Err(ApiError::invalid(
                "raft_id",
                "raft_id or node_id is required",
            ));
        }
        for (field, value) in [
            ("raft_address", &req.raft_address),
            ("client_address", &req.client_address),
        ] {
            if value.is_empty() || value.contains("://") {
                return Err(ApiError::invalid(
                    field,
                    format!("must be host:port, got {value:?}"),
                ));
            }
        }
        let node = CorvoNode {
            raft_addr: req.raft_address.clone(),
            api_addr: req.client_address.clone(),
            name: req.node_id.clone(),
        };
        match self
            .engine
            .raft()
            .join(req.raft_id, node, req.new_data_dir, req.check_only)
            .await
        {
            Ok(done) => Ok(pb::JoinResponse {
                leader_raft_id: done.leader_id,
                already_member: done.already_member,
                voters: u32::try_from(done.voters).unwrap_or(u32::MAX),
                cluster_id: self.engine.raft().cluster_id().unwrap_or_default(),
            }),
            Err(corvo_raft::MembershipError::NotLeader {
                leader_addr: Some(addr),
                ..
            }) if !forwarded => self.forward_join(&addr, req).await,
            Err(e) => Err(e.into()),
        }
    }

    async fn forward_join(
        &self,
        leader: &str,
        req: pb::JoinRequest,
    ) -> Result<pb::JoinResponse, ApiError> {
        tracing::info!(
            leader,
            raft_id = req.raft_id,
            "join: forwarding to the leader"
        );
        let tls = self.engine.opts().member_tls.as_ref();
        let mut client = member_client(leader, tls, JOIN_FORWARD_TIMEOUT).await?;
        let mut request = self.member_request(req)?;
        request
            .metadata_mut()
            .insert(FORWARDED_HEADER, MetadataValue::from_static("1"));
        // The leader's answer is passed on as it came (it went through its error mapping).
        client
            .join(request)
            .await
            .map(Response::into_inner)
            .map_err(|status| ApiError::Relayed(Box::new(status)))
    }

    /// A request to another member, carrying the cluster secret.
    fn member_request<T>(&self, message: T) -> Result<Request<T>, ApiError> {
        let mut request = Request::new(message);
        if let Some(secret) = &self.secret {
            let value = MetadataValue::try_from(secret.expose()).map_err(|_| {
                ApiError::Internal("the cluster secret is not valid metadata".into())
            })?;
            request.metadata_mut().insert(SECRET_HEADER, value);
        }
        Ok(request)
    }

    /// Every member's status (see `ClusterService.GetClusterStatus`).
    async fn cluster_status(&self) -> Result<pb::GetClusterStatusResponse, ApiError> {
        // Every member of the membership this node knows, this node first; the others are
        // asked concurrently, each within MEMBER_STATUS_TIMEOUT.
        let raft = self.engine.raft();
        let me = raft.status().node_id;
        let mut members = raft.members();
        members.sort_by_key(|m| (m.raft_id != me, m.raft_id));
        if members.is_empty() {
            // Not a member yet (a joining node before its join): report this node alone.
            let status = self.engine.node_status().await?;
            return Ok(pb::GetClusterStatusResponse {
                leader_raft_id: status.raft.leader_id,
                nodes: vec![pb::ClusterNodeStatus {
                    node_id: status.node.clone(),
                    reachable: true,
                    raft_id: me,
                    client_address: status.client_addr.clone(),
                    status: Some(node_status_to_proto(&status)),
                    ..Default::default()
                }],
            });
        }
        let nodes =
            futures::future::join_all(members.into_iter().map(|m| self.member_status(m, me))).await;
        Ok(pb::GetClusterStatusResponse {
            leader_raft_id: raft.status().leader_id,
            nodes,
        })
    }

    /// One member's entry in GetClusterStatus: this node's own status, or the member's
    /// GetNodeStatus over its client address.
    async fn member_status(&self, member: corvo_raft::Member, me: u64) -> pb::ClusterNodeStatus {
        let mut entry = pb::ClusterNodeStatus {
            node_id: member.node.name.clone(),
            reachable: false,
            error: String::new(),
            status: None,
            raft_id: member.raft_id,
            voter: member.voter,
            client_address: member.node.api_addr.clone(),
            raft_address: member.node.raft_addr.clone(),
        };
        let status = if member.raft_id == me {
            self.engine
                .node_status()
                .await
                .map(|s| node_status_to_proto(&s))
                .map_err(|e| e.to_string())
        } else {
            match self.member_request(pb::GetNodeStatusRequest {}) {
                Ok(request) => {
                    let tls = self.engine.opts().member_tls.as_ref();
                    remote_status(&member.node.api_addr, tls, request).await
                }
                Err(e) => Err(e.to_string()),
            }
        };
        match status {
            Ok(s) => {
                entry.reachable = true;
                entry.status = Some(s);
            }
            Err(e) => entry.error = e,
        }
        entry
    }
}

/// The endpoint of another member's client port: `https://` with `tls` (the port serves TLS),
/// else `http://`.
pub fn member_endpoint(
    addr: &str,
    tls: Option<&tonic::transport::ClientTlsConfig>,
) -> Result<Endpoint, String> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
        .map_err(|e| format!("member address {addr:?}: {e}"))?;
    match tls {
        Some(tls) => endpoint
            .tls_config(tls.clone())
            .map_err(|e| format!("TLS for member {addr:?}: {e}")),
        None => Ok(endpoint),
    }
}

/// A ClusterService client for another member's client address, with `timeout` per call.
async fn member_client(
    addr: &str,
    tls: Option<&tonic::transport::ClientTlsConfig>,
    timeout: Duration,
) -> Result<ClusterServiceClient<tonic::transport::Channel>, ApiError> {
    let endpoint = member_endpoint(addr, tls)
        .map_err(ApiError::Internal)?
        .connect_timeout(MEMBER_CONNECT_TIMEOUT)
        .timeout(timeout);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| ApiError::Unavailable {
            reason: format!("connecting to member at {addr}: {e}"),
            retry_after_ms: crate::error::NOT_LEADER_RETRY_MS,
        })?;
    Ok(ClusterServiceClient::new(channel))
}

async fn remote_status(
    addr: &str,
    tls: Option<&tonic::transport::ClientTlsConfig>,
    request: Request<pb::GetNodeStatusRequest>,
) -> Result<pb::NodeStatus, String> {
    let ask = async {
        let mut client = member_client(addr, tls, MEMBER_STATUS_TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        let answer = client
            .get_node_status(request)
            .await
            .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
        answer
            .into_inner()
            .status
            .ok_or_else(|| "the member answered without a status".to_owned())
    };
    tokio::time::timeout(MEMBER_STATUS_TIMEOUT + MEMBER_CONNECT_TIMEOUT, ask)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer from {addr} within {MEMBER_STATUS_TIMEOUT:?}"
            ))
        })
}

#[tonic::async_trait]
impl ClusterService for Cluster {
    async fn get_node_status(
        &self,
        req: Request<pb::GetNodeStatusRequest>,
    ) -> Result<Response<pb::GetNodeStatusResponse>, Status> {
        let principal = Principal::of(&req)?;
        let status = self.engine.node_status().await?;
        let mut status = node_status_to_proto(&status);
        within_scopes(&mut status, &principal);
        Ok(Response::new(pb::GetNodeStatusResponse {
            status: Some(status),
        }))
    }

    async fn get_cluster_status(
        &self,
        req: Request<pb::GetClusterStatusRequest>,
    ) -> Result<Response<pb::GetClusterStatusResponse>, Status> {
        let principal = Principal::of(&req)?;
        let mut answer = self.cluster_status().await?;
        for node in &mut answer.nodes {
            if let Some(status) = node.status.as_mut() {
                within_scopes(status, &principal);
            }
        }
        Ok(Response::new(answer))
    }
    async fn join(
        &self,
        req: Request<pb::JoinRequest>,
    ) -> Result<Response<pb::JoinResponse>, Status> {
        let forwarded = req.metadata().contains_key(FORWARDED_HEADER);
        Ok(Response::new(self.join(req.into_inner(), forwarded).await?))
    }

    async fn remove_node(
        &self,
        req: Request<pb::RemoveNodeRequest>,
    ) -> Result<Response<pb::RemoveNodeResponse>, Status> {
        let voters = self
            .engine
            .raft()
            .remove(req.into_inner().raft_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::RemoveNodeResponse {
            voters: u32::try_from(voters).unwrap_or(u32::MAX),
        }))
    }

    async fn transfer_leader(
        &self,
        req: Request<pb::TransferLeaderRequest>,
    ) -> Result<Response<pb::TransferLeaderResponse>, Status> {
        self.engine
            .raft()
            .transfer_leader(req.into_inner().raft_id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::TransferLeaderResponse {}))
    }

    async fn get_state_digest(
        &self,
        req: Request<pb::GetStateDigestRequest>,
    ) -> Result<Response<pb::GetStateDigestResponse>, Status> {
        let req = req.into_inner();
        let wait = match req.wait_ms {
            0 => DIGEST_WAIT_DEFAULT,
            ms => Duration::from_millis(u64::from(ms)).min(DIGEST_WAIT_MAX),
        };
        self.engine
            .raft()
            .wait_applied(req.min_applied_index, wait)
            .await
            .map_err(|e| ApiError::DeadlineExceeded {
                reason: e.to_string(),
            })?;
        // The applied index is read after the digest: the digest covers at least up to the
        // requested index, and equals another node's only if their states are equal.
        let engine = self.engine.clone();
        let (digest, applied_index) = tokio::task::spawn_blocking(move || {
            let digest = engine.store().digest().map_err(|e| e.to_string())?;
            Ok::<_, String>((digest, engine.raft().status().last_applied))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("digest task: {e}")))?
        .map_err(ApiError::Internal)?;
        Ok(Response::new(pb::GetStateDigestResponse {
            digest,
            applied_index,
        }))
    }

    async fn create_snapshot(
        &self,
        req: Request<pb::CreateSnapshotRequest>,
    ) -> Result<Response<pb::CreateSnapshotResponse>, Status> {
        // A snapshot costs a full copy of the state: the auth layer lets only the cluster
        // secret and admin keys ask for one (anyone on a lone node that runs open).
        let _ = req;
        let info = self
            .engine
            .raft()
            .create_snapshot()
            .await
            .map_err(snapshot_status)?;
        tracing::info!(file = %info.path.display(), index = info.last_index, "snapshot created on request");
        Ok(Response::new(pb::CreateSnapshotResponse {
            snapshot: Some(snapshot_to_proto(&info)),
        }))
    }

    async fn list_snapshots(
        &self,
        _req: Request<pb::ListSnapshotsRequest>,
    ) -> Result<Response<pb::ListSnapshotsResponse>, Status> {
        let snapshots = self
            .engine
            .raft()
            .list_snapshots()
            .await
            .map_err(snapshot_status)?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshots: snapshots.iter().map(snapshot_to_proto).collect(),
        }))
    }
}

/// A caller scoped to some queues sees only their counts (and totals over them).
fn within_scopes(status: &mut pb::NodeStatus, principal: &Principal) {
    if !principal.is_scoped() {
        return;
    }
    status
        .queue_counts
        .retain(|c| principal.scopes.allows(&c.queue));
    for total in &mut status.job_counts {
        total.count = status
            .queue_counts
            .iter()
            .filter(|c| c.state == total.state)
            .map(|c| c.count)
            .sum();
    }
}

fn snapshot_status(e: corvo_raft::RaftError) -> ApiError {
    match e {
        corvo_raft::RaftError::InvalidOptions(reason) => ApiError::FailedPrecondition { reason },
        corvo_raft::RaftError::ShuttingDown => ApiError::Unavailable {
            reason: "the node is shutting down".into(),
            retry_after_ms: 1_000,
        },
        corvo_raft::RaftError::Timeout { .. } => ApiError::DeadlineExceeded {
            reason: e.to_string(),
        },
        other => ApiError::Internal(format!("snapshot: {other}")),
    }
}

pub fn snapshot_to_proto(s: &corvo_raft::SnapshotInfo) -> pb::SnapshotInfo {
    pb::SnapshotInfo {
        file_name: s.file_name.clone(),
        path: s.path.display().to_string(),
        last_index: s.last_index,
        last_term: s.last_term,
        size_bytes: s.size_bytes,
        created_unix_ms: s.created_unix_ms,
    }
}

pub fn node_status_to_proto(s: &NodeStatus) -> pb::NodeStatus {
    let raft = &s.raft;
    let role = match raft.role {
        Role::Learner => pb::NodeRole::Learner,
        Role::Follower => pb::NodeRole::Follower,
        Role::Candidate => pb::NodeRole::Candidate,
        Role::Leader => pb::NodeRole::Leader,
        Role::Shutdown => pb::NodeRole::Shutdown,
    };
    let job_counts = JobState::ALL
        .iter()
        .map(|state| pb::StateCount {
            state: convert::state_to_proto(*state).into(),
            count: s.jobs_in(*state),
        })
        .collect();
    let queue_counts = s
        .queue_counts
        .iter()
        .take(STATUS_QUEUE_COUNTS_MAX)
        .map(|(queue, state, count)| pb::QueueStateCount {
            queue: queue.clone(),
            state: convert::state_to_proto(*state).into(),
            count: *count,
        })
        .collect();
    pb::NodeStatus {
        node_id: s.node.clone(),
        raft_id: raft.node_id,
        client_address: s.client_addr.clone(),
        role: role.into(),
        term: raft.term,
        leader_raft_id: raft.leader_id,
        last_log_index: raft.last_log_index,
        committed_index: raft.committed,
        applied_index: raft.last_applied,
        apply_backlog: s.apply_backlog(),
        disk: Some(pb::DiskUsage {
            used_bytes: s.disk.used_bytes,
            free_bytes: s.disk.free_bytes,
            size_bytes: s.disk.size_bytes,
        }),
        last_snapshot: s.last_snapshot.as_ref().map(snapshot_to_proto),
        view_applied_index: s.view_index,
        view_error: s.view_error.clone().unwrap_or_default(),
        worker_streams: u32::try_from(s.streams).unwrap_or(u32::MAX),
        workers_connected: u32::try_from(s.workers).unwrap_or(u32::MAX),
        job_counts,
        queue_counts,
        queue_counts_truncated: s.queue_counts.len() > STATUS_QUEUE_COUNTS_MAX,
        ready: s.readiness.ready,
        not_ready_reasons: s.readiness.reasons.clone(),
        draining: s.draining,
        version: s.version.to_owned(),
        uptime_ms: u64::try_from(s.uptime.as_millis()).unwrap_or(u64::MAX),
        raft_error: raft.fatal.clone().unwrap_or_default(),
        cluster_id: raft.cluster_id.clone().unwrap_or_default(),
    }
}
