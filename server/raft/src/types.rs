//! The openraft type configuration: what a log entry carries and what applying it answers.
//!
//! openraft asks `D: Display` of the application data, and `corvo_core::Batch` has no `Display`
//! (the orphan rule keeps us from adding one here), so the log carries a thin newtype.

use std::fmt;
use std::sync::Arc;

use corvo_core::{Batch, BatchOutcome};
use serde::{Deserialize, Serialize};

openraft::declare_raft_types!(
    /// Corvo's Raft types: u64 node ids, [`CorvoNode`] as the membership node, a
    /// [`BatchData`] per application entry and an [`EntryOutcome`] per applied entry.
    pub TypeConfig:
        D = BatchData,
        R = EntryOutcome,
        NodeId = u64,
        Node = CorvoNode,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A member as the membership records it: where peers reach it, where clients reach it, and
/// its name. Stored in membership log entries (postcard), so adding a field changes the log
/// format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorvoNode {
    /// The peer address (`--raft-bind`), `host:port`.
    pub raft_addr: String,
    /// The client address (`--bind`), `host:port`: where a follower sends clients and joins.
    pub api_addr: String,
    /// The node's name (`--node-id`).
    pub name: String,
}

impl fmt::Display for CorvoNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}(raft={}, api={})",
            self.name, self.raft_addr, self.api_addr
        )
    }
}

/// The application payload of one log entry: one group-committed batch of commands.
///
/// Shared, not copied: the entry the leader proposes is the one the log store keeps in its
/// recent-entries cache and the one the state machine applies (encoded exactly as a bare
/// `Batch`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BatchData(pub Arc<Batch>);

impl fmt::Display for BatchData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Entries show up in openraft's logs: the size and stamp say enough, the payloads do not.
        write!(
            f,
            "Batch(now_ms={}, commands={})",
            self.0.now_ms,
            self.0.commands.len()
        )
    }
}

/// What applying one entry produced: `Some` for an application entry, `None` for a blank or
/// membership entry (which only advance the applied index).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryOutcome(pub Option<BatchOutcome>);

/// The openraft handle as this crate instantiates it.
pub type RaftHandle = openraft::Raft<TypeConfig, crate::state_machine::StateMachineStore>;

pub(crate) type Entry = openraft::alias::EntryOf<TypeConfig>;
pub(crate) type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub(crate) type Vote = openraft::alias::VoteOf<TypeConfig>;
pub(crate) type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
