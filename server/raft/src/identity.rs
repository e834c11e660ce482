//! Cluster identity on peer RPCs: every call names the cluster it belongs to and the node it
//! is meant for, and the receiver refuses a call for another cluster or another node.
//!
//! The cluster id is made at bootstrap (a ULID) and stored in the Raft log's metadata. A node
//! that joins with `--join` learns it from the answer to its check-only join, before its peer
//! port opens; a node added by an operator (`--no-bootstrap`, then a join sent for it) learns
//! it from the first peer call that carries one and passes the secret, i.e. from the cluster
//! that added it. Once known it never changes. The
//! secret proves a caller may talk to the cluster; the id tells two clusters that share a
//! secret apart (a pod 0 that lost its volume and started a second cluster), and the target
//! node id catches a call that reached the wrong process (an address reused by another node).
//!
//! Clusters made before this release have no id; their nodes send none and accept calls
//! without one (and so do nodes with an id: a peer not yet upgraded sends none).
//!
//! Every answer to a peer call also names the command set the answering node decodes
//! ([`corvo_core::COMMAND_SET`]): the leader proposes a command of a newer set only once every
//! member has said it can decode it, so a rolling upgrade never sends a node an entry it
//! cannot read ([`PeerCommandSets`]). It also names the newest snapshot archive layout the
//! node reads, and a leader sends each peer its archives in a layout that peer reads.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, RwLock};

use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::log_store::LogMeta;

/// The metadata entry naming the caller's cluster.
pub const CLUSTER_ID_HEADER: &str = "x-corvo-cluster-id";
/// The metadata entry naming the Raft node id the call is meant for.
pub const TARGET_NODE_HEADER: &str = "x-corvo-target-node";

/// The metadata entry on a peer's answers naming the command set it decodes.
pub const COMMAND_SET_HEADER: &str = "x-corvo-command-set";
/// The metadata entry on a peer's answers naming the newest snapshot archive layout it reads
/// (`AppStateMachine::archive_version`).
pub const ARCHIVE_VERSION_HEADER: &str = "x-corvo-archive-version";

/// The command set and the archive layout each peer reads, as its last answer said (a peer of
/// a release before an entry existed reads set 1, layout 1).
#[derive(Clone, Default)]
pub struct PeerCommandSets(Arc<Mutex<HashMap<u64, PeerReads>>>);

/// What one peer said it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PeerReads {
    command_set: u32,
    archive_version: u32,
}

impl PeerCommandSets {
    pub(crate) fn record(&self, node: u64, answer: &MetadataMap) {
        let named = |header| {
            answer
                .get(header)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)
        };
        let reads = PeerReads {
            command_set: named(COMMAND_SET_HEADER),
            archive_version: named(ARCHIVE_VERSION_HEADER),
        };
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(node, reads);
    }

    fn reads(&self, node: u64) -> Option<PeerReads> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&node)
            .copied()
    }

    /// What `node` last said it decodes; `None` before its first answer.
    pub fn get(&self, node: u64) -> Option<u32> {
        self.reads(node).map(|r| r.command_set)
    }

    /// The newest archive layout `node` last said it reads; `None` before its first answer.
    pub fn archive_version(&self, node: u64) -> Option<u32> {
        self.reads(node).map(|r| r.archive_version)
    }
}

/// Names this node's command set and newest archive layout on an answer to a peer.
pub(crate) fn stamp_answer(metadata: &mut MetadataMap, archive_version: u32) {
    metadata.insert(COMMAND_SET_HEADER, corvo_core::COMMAND_SET.into());
    metadata.insert(ARCHIVE_VERSION_HEADER, archive_version.into());
}

/// This node's cluster id, shared by the peer client and server; `None` until known.
#[derive(Clone, Default)]
pub struct ClusterId {
    id: Arc<RwLock<Option<String>>>,
    /// Where an id learnt later is recorded (`None` in unit tests: memory only).
    store: Option<LogMeta>,
}

impl ClusterId {
    pub fn new(id: Option<String>) -> ClusterId {
        ClusterId {
            id: Arc::new(RwLock::new(id)),
            store: None,
        }
    }

    /// The id recorded in the log's metadata, recording any id learnt later there too.
    pub(crate) fn stored(store: LogMeta) -> io::Result<ClusterId> {
        Ok(ClusterId {
            id: Arc::new(RwLock::new(store.cluster_id()?)),
            store: Some(store),
        })
    }

    pub fn get(&self) -> Option<String> {
        self.id.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes `id` as this node's cluster id, durably; refuses another id than the one it has.
    pub(crate) fn adopt(&self, id: &str) -> io::Result<()> {
        let mut ours = self.id.write().unwrap_or_else(|p| p.into_inner());
        match ours.as_deref() {
            Some(known) if known == id => Ok(()),
            Some(known) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("this node belongs to cluster {known}, not to cluster {id}"),
            )),
            None => {
                if let Some(store) = &self.store {
                    store.save_cluster_id(id)?;
                }
                *ours = Some(id.to_owned());
                tracing::info!(cluster_id = %id, "learnt the cluster id");
                Ok(())
            }
        }
    }

    /// A new cluster's id.
    pub(crate) fn generate() -> String {
        ulid::Ulid::new().to_string().to_lowercase()
    }
}

/// Refuses a peer call meant for another node (FAILED_PRECONDITION) or coming from another
/// cluster (PERMISSION_DENIED). A call without the entries is let through (a peer of an
/// older release). A node that does not know its cluster yet learns it from the call (the
/// caller has shown the secret). Call after the secret check.
pub(crate) fn check(
    node_id: u64,
    cluster: &ClusterId,
    metadata: &MetadataMap,
) -> Result<(), Status> {
    if let Some(target) = metadata.get(TARGET_NODE_HEADER) {
        let target = target.to_str().ok().and_then(|t| t.parse::<u64>().ok());
        match target {
            Some(t) if t == node_id => {}
            Some(t) => {
                return Err(Status::failed_precondition(format!(
                    "this peer port belongs to raft node {node_id}, not to node {t}: the \
                     address now serves another node"
                )));
            }
            None => {
                return Err(Status::invalid_argument(format!(
                    "{TARGET_NODE_HEADER} must be a raft node id"
                )));
            }
        }
    }
    let Some(theirs) = metadata.get(CLUSTER_ID_HEADER) else {
        return Ok(());
    };
    let Ok(theirs) = theirs.to_str() else {
        return Err(Status::invalid_argument(format!(
            "{CLUSTER_ID_HEADER} must be text"
        )));
    };
    match cluster.get() {
        Some(ours) if ours == theirs => Ok(()),
        Some(ours) => Err(Status::permission_denied(format!(
            "the call comes from cluster {theirs}, this node belongs to cluster {ours}: two \
             clusters share the secret"
        ))),
        None => cluster
            .adopt(theirs)
            .map_err(|e| Status::internal(format!("recording the cluster id {theirs}: {e}"))),
    }
}

/// Adds the entries to an outgoing peer call.
pub(crate) fn stamp(metadata: &mut MetadataMap, target: u64, cluster: &ClusterId) {
    if let Ok(v) = target.to_string().parse() {
        metadata.insert(TARGET_NODE_HEADER, v);
    }
    if let Some(id) = cluster.get()
        && let Ok(v) = id.parse()
    {
        metadata.insert(CLUSTER_ID_HEADER, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(target: Option<&str>, cluster: Option<&str>) -> MetadataMap {
        let mut m = MetadataMap::new();
        if let Some(t) = target {
            m.insert(TARGET_NODE_HEADER, t.parse().unwrap());
        }
        if let Some(c) = cluster {
            m.insert(CLUSTER_ID_HEADER, c.parse().unwrap());
        }
        m
    }

    #[test]
    fn calls_for_another_node_or_cluster_are_refused_and_older_peers_pass() {
        let ours = ClusterId::new(Some("c1".into()));
        assert!(check(7, &ours, &metadata(Some("7"), Some("c1"))).is_ok());
        // A peer of an older release sends neither entry.
        assert!(check(7, &ours, &metadata(None, None)).is_ok());
        let wrong_node = check(7, &ours, &metadata(Some("8"), Some("c1"))).unwrap_err();
        assert_eq!(wrong_node.code(), tonic::Code::FailedPrecondition);
        assert!(
            wrong_node.message().contains("node 7, not to node 8"),
            "{wrong_node:?}"
        );
        let wrong_cluster = check(7, &ours, &metadata(Some("7"), Some("c2"))).unwrap_err();
        assert_eq!(wrong_cluster.code(), tonic::Code::PermissionDenied);
        assert!(
            wrong_cluster.message().contains("cluster c2"),
            "{wrong_cluster:?}"
        );
        let garbage = check(7, &ours, &metadata(Some("seven"), None)).unwrap_err();
        assert_eq!(garbage.code(), tonic::Code::InvalidArgument);
        // A node that does not know its cluster yet learns it from the first call, then holds
        // to it.
        let unknown = ClusterId::default();
        assert!(check(7, &unknown, &metadata(Some("7"), None)).is_ok());
        assert_eq!(unknown.get(), None);
        assert!(check(7, &unknown, &metadata(Some("7"), Some("c2"))).is_ok());
        assert_eq!(unknown.get().as_deref(), Some("c2"));
        assert!(check(7, &unknown, &metadata(Some("7"), Some("c3"))).is_err());

        // What the client stamps is what the server accepts.
        let mut m = MetadataMap::new();
        stamp(&mut m, 7, &ours);
        assert!(check(7, &ours, &m).is_ok());
        assert!(check(8, &ours, &m).is_err());
        assert!(check(7, &ClusterId::new(Some("c2".into())), &m).is_err());
    }

    #[test]
    fn a_peer_answer_names_its_command_set_and_an_older_peer_counts_as_set_one() {
        let sets = PeerCommandSets::default();
        assert_eq!(sets.get(2), None, "unknown before the first answer");
        let mut answer = MetadataMap::new();
        stamp_answer(&mut answer, 7);
        sets.record(2, &answer);
        assert_eq!(sets.get(2), Some(corvo_core::COMMAND_SET));
        assert_eq!(sets.archive_version(2), Some(7));
        sets.record(3, &MetadataMap::new());
        assert_eq!(sets.get(3), Some(1));
        assert_eq!(sets.archive_version(3), Some(1));
        // A node downgraded (or replaced by an older release) says so on its next answer.
        sets.record(2, &MetadataMap::new());
        assert_eq!(sets.get(2), Some(1));
    }
}
