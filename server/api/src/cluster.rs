//! `corvo.v1.ClusterService`: node and cluster status for operators (`corvo status`,
//! `corvo cluster status`). Join, Remove and TransferLeader arrive here with clustering.

use corvo_core::model::JobState;
use corvo_raft::Role;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::cluster_service_server::ClusterService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::engine::Engine;
use crate::status::NodeStatus;

/// Most (queue, state) rows one NodeStatus lists (1 000): a deployment with very many
/// queues still gets a bounded answer; the totals by state always cover every queue.
pub const STATUS_QUEUE_COUNTS_MAX: usize = 1_000;

#[derive(Clone)]
pub struct Cluster {
    engine: Engine,
}

impl Cluster {
    pub fn new(engine: Engine) -> Self {
        Cluster { engine }
    }
}

#[tonic::async_trait]
impl ClusterService for Cluster {
    async fn get_node_status(
        &self,
        _req: Request<pb::GetNodeStatusRequest>,
    ) -> Result<Response<pb::GetNodeStatusResponse>, Status> {
        let status = self.engine.node_status().await?;
        Ok(Response::new(pb::GetNodeStatusResponse {
            status: Some(node_status_to_proto(&status)),
        }))
    }

    async fn get_cluster_status(
        &self,
        _req: Request<pb::GetClusterStatusRequest>,
    ) -> Result<Response<pb::GetClusterStatusResponse>, Status> {
        // One member today: this node. With clustering, the others are asked over the peer
        // port and answer `reachable = false` with the error when they cannot be reached.
        let status = self.engine.node_status().await?;
        Ok(Response::new(pb::GetClusterStatusResponse {
            leader_raft_id: status.raft.leader_id,
            nodes: vec![pb::ClusterNodeStatus {
                node_id: status.node.clone(),
                reachable: true,
                error: String::new(),
                status: Some(node_status_to_proto(&status)),
            }],
        }))
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
    }
}
