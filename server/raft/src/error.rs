//! Errors of this crate: [`RaftError`] for the node's life cycle, [`ProposeError`] for writes.

use std::time::Duration;

/// Starting, waiting on or stopping a [`crate::RaftNode`] failed.
#[derive(thiserror::Error, Debug)]
pub enum RaftError {
    #[error("invalid raft options: {0}")]
    InvalidOptions(String),
    /// The Raft log could not be opened or read (names the file or table).
    #[error("raft log storage: {0}")]
    Storage(#[source] std::io::Error),
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        waited: Duration,
        what: &'static str,
    },
    #[error("raft is shutting down")]
    ShuttingDown,
    /// openraft stopped: a storage error, a panic, or an unexpected internal error.
    #[error("raft stopped: {0}")]
    Fatal(String),
}

impl RaftError {
    /// What a failed wait on openraft's metrics (`Raft::wait`, bounded by `waited`, for
    /// `what`) becomes.
    pub(crate) fn from_wait(
        waited: Duration,
        what: &'static str,
    ) -> impl Fn(openraft::metrics::WaitError) -> RaftError {
        move |e| match e {
            openraft::metrics::WaitError::Timeout(..) => RaftError::Timeout { waited, what },
            openraft::metrics::WaitError::ShuttingDown => RaftError::ShuttingDown,
        }
    }
}

/// Why a linearizable read could not be confirmed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    #[error("not the leader (leader: {leader_id:?})")]
    NotLeader { leader_id: Option<u64> },
    #[error("leadership not confirmed by a majority: {0}")]
    NoQuorum(String),
    #[error("raft stopped: {0}")]
    Stopped(String),
}

/// Why a proposal did not produce replies. Every variant says whether retrying is safe.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ProposeError {
    /// This node is not the leader; nothing was written. Retry on the leader (if known), or
    /// later: `leader_id` is `None` during an election or when the leader's lease expired.
    #[error("not the leader (leader: {leader_id:?} at {leader_addr:?})")]
    NotLeader {
        leader_id: Option<u64>,
        leader_addr: Option<String>,
    },
    /// The proposal queue is full; nothing was written. Retry after the hint.
    #[error("overloaded: proposal queue is full, retry after {retry_after_ms} ms")]
    Overloaded { retry_after_ms: u64 },
    /// The node is stopping; the commands were never proposed.
    #[error("raft is shutting down")]
    ShuttingDown,
    /// More commands in one call than fit in one log entry; nothing was written. Split the
    /// call: it would never fit.
    #[error("{commands} commands in one proposal, at most {max} fit in a log entry")]
    TooLarge { commands: usize, max: usize },
    /// More bytes in one call than the propose queue holds; nothing was written.
    #[error("{bytes} bytes of commands in one proposal, at most {max} fit in the queue")]
    TooManyBytes { bytes: usize, max: usize },
    /// The entry was proposed but its fate is unknown: the leader changed and discarded it
    /// locally, or the node stopped before applying it. It may still commit through another
    /// leader, so a retry must be idempotent (or deduplicated by the caller).
    #[error(
        "outcome unknown: the proposed entry was discarded or the node stopped before applying it (leader: {leader_id:?} at {leader_addr:?})"
    )]
    OutcomeUnknown {
        leader_id: Option<u64>,
        leader_addr: Option<String>,
    },
    /// The entry was proposed but not applied within `waited`: this node may have lost its
    /// majority (a leader cut off from the others cannot commit). It may still commit later,
    /// so a retry must be idempotent.
    #[error(
        "the proposed entry was not committed within {waited:?} (this node may have lost its majority); its outcome is unknown"
    )]
    CommitTimeout { waited: Duration },
    /// Raft stopped on an unrecoverable error (storage, or a broken contract).
    #[error("raft fatal error: {0}")]
    Fatal(String),
}

/// A membership change (join, remove, transfer) was refused or failed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum MembershipError {
    /// Only the leader changes the membership; forward to `leader_addr` (a client address).
    #[error("not the leader (leader: {leader_id:?} at {leader_addr:?})")]
    NotLeader {
        leader_id: Option<u64>,
        leader_addr: Option<String>,
    },
    /// The change contradicts the current membership (e.g. a member with other addresses, or
    /// a change still in progress).
    #[error("membership change refused: {0}")]
    Conflict(String),
    #[error("node {0} is not a member")]
    NotFound(u64),
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        waited: Duration,
        what: &'static str,
    },
    #[error("raft fatal error: {0}")]
    Fatal(String),
}
