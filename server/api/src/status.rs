//! A node's status at one instant: what `GET /metrics` turns into gauges and what
//! `ClusterService.GetNodeStatus` (and so `corvo status`) answers. One snapshot feeds both so
//! they never disagree.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use corvo_core::model::JobState;
use corvo_raft::RaftStatus;

use crate::host::DiskUsage;

/// Who this node is; fixed at start (given by `server/node`, which reads the config).
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// The node's name (`--node-id`).
    pub name: String,
    /// The address clients use (`--bind`).
    pub client_addr: String,
    pub data_dir: PathBuf,
    pub started: Instant,
}

/// Whether the node should get traffic, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    /// Why the node is not ready (empty when it is).
    pub reasons: Vec<String>,
}

impl Readiness {
    /// The state before the first check has run.
    pub fn starting() -> Readiness {
        Readiness {
            ready: false,
            reasons: vec!["starting: readiness not checked yet".into()],
        }
    }
}

/// See the module doc.
#[derive(Clone, Debug)]
pub struct NodeStatus {
    pub node: String,
    pub client_addr: String,
    pub version: &'static str,
    pub uptime: Duration,
    pub raft: RaftStatus,
    /// Jobs per (queue, state) with at least one job, in queue order.
    pub queue_counts: Vec<(String, JobState, u64)>,
    pub disk: DiskUsage,
    /// Open worker streams.
    pub streams: usize,
    /// Distinct workers with an open stream.
    pub workers: usize,
    pub draining: bool,
    pub readiness: Readiness,
    /// The newest snapshot archive on this node.
    pub last_snapshot: Option<corvo_raft::SnapshotInfo>,
    /// What start-up did (replay, snapshot restore).
    pub startup: corvo_raft::StartupReport,
    /// The log index the read view has reached.
    pub view_index: u64,
    /// Why the read view's projector stopped, if it did.
    pub view_error: Option<String>,
    /// Every queue with settings (pause, limits, retention), in name order.
    pub queue_settings: Vec<(String, corvo_core::queues::QueueConfig)>,
    /// Leases held back by each queue's limits since this process started.
    pub throttled_totals: Vec<(String, u64)>,
    /// Finished jobs purged by retention since this process started.
    pub purged_total: u64,
    /// How long ago the oldest finished job still waiting for its purge fell due.
    pub retention_lag_ms: u64,
    /// Idempotency keys held by the state.
    pub idempotency_keys: u64,
}

impl NodeStatus {
    /// Applied entries the read view does not reflect yet.
    pub fn view_lag(&self) -> u64 {
        self.raft
            .last_applied
            .unwrap_or(0)
            .saturating_sub(self.view_index)
    }
}

impl NodeStatus {
    /// Committed entries not applied yet.
    pub fn apply_backlog(&self) -> u64 {
        let committed = self.raft.committed.unwrap_or(0);
        committed.saturating_sub(self.raft.last_applied.unwrap_or(0))
    }

    /// Jobs in `state` over all queues.
    pub fn jobs_in(&self, state: JobState) -> u64 {
        self.queue_counts
            .iter()
            .filter(|(_, s, _)| *s == state)
            .map(|(_, _, n)| n)
            .sum()
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A leader with no jobs, streams or disk: enough to encode metrics in unit tests.
    pub fn idle_status() -> NodeStatus {
        NodeStatus {
            node: "n1".into(),
            client_addr: "127.0.0.1:8080".into(),
            version: "test",
            uptime: Duration::ZERO,
            raft: RaftStatus {
                node_id: 1,
                role: corvo_raft::Role::Leader,
                leader_id: Some(1),
                term: 1,
                last_log_index: Some(1),
                committed: Some(1),
                last_applied: Some(1),
                snapshot_index: None,
                purged_index: None,
                fatal: None,
                cluster_id: None,
            },
            queue_counts: Vec::new(),
            disk: DiskUsage::default(),
            streams: 0,
            workers: 0,
            draining: false,
            readiness: Readiness::starting(),
            last_snapshot: None,
            startup: Default::default(),
            view_index: 1,
            view_error: None,
            queue_settings: Vec::new(),
            throttled_totals: Vec::new(),
            purged_total: 0,
            retention_lag_ms: 0,
            idempotency_keys: 0,
        }
    }
}
