//! Corvo's openraft glue: no business logic.
//!
//! This crate owns the Raft log (segment files and a small redb file of metadata), the adapter that feeds committed entries
//! to the replicated state machine (implemented elsewhere, behind [`AppStateMachine`]), the
//! group-commit [`Proposer`], the peer network (client and server of
//! `corvo.v1.RaftPeerService`), membership changes, and the [`RaftNode`] that starts and stops
//! them in order. openraft `=0.10.0-alpha.37` is pinned and does not leak past this crate
//! except through [`RaftNode::raft`] (for tests).
//!
//! ```text
//!  callers ──propose(cmds)──▶ Proposer ──Batch{now_ms, commands}──▶ openraft (leader)
//!                                ▲                                    │ append
//!                                │                                    ▼
//!                                │                 LogStore (segments, group fsync)
//!                                │                                    │ committed
//!        replies split per caller│                                    ▼
//!                                └──── BatchOutcome ◀── StateMachineStore::apply
//!                                                         │  AppStateMachine::apply (one txn,
//!                                                         │  raft_meta stored with the state)
//!                                                         └─▶ ApplyListener::on_applied
//!
//!  openraft ──Network/PeerClient (one tonic channel per peer, secret in metadata)──▶
//!      peer port of another node ──peer.rs (secret checked)──▶ its openraft
//!      (appends on one pipelined StreamAppend call per follower, ADR 0049)
//!  join/remove/transfer ──▶ RaftNode (membership.rs: leader only, one at a time)
//! ```
//!
//! Membership: a node started with `bootstrap` and an empty log initializes a one-voter
//! cluster; any other node waits until a leader adds it ([`RaftNode::join`]: learner, caught
//! up, then voter). A member that restarts finds its membership in the log and needs no join.
//! Members are [`CorvoNode`]s carrying both the peer and the client address, so a follower
//! can name the leader's client address in `NotLeader`.
//!
//! Crash safety: the state machine may commit non-durably; after a crash it rolls back to its
//! last durable commit and openraft re-applies the durable log from there up to the saved
//! `committed` index (and a new leader re-commits the rest).
//!
//! Snapshots ([`snapshot`], docs/adr/0011-snapshots.md): built automatically after
//! `snapshot_entries` entries (more behind a large snapshot, ADR 0046), a log growth or
//! `snapshot_interval`, or on request; each is an archive
//! file the application writes and checks (checksummed), the newest two kept. openraft purges
//! the log behind a snapshot (keeping `snapshot_logs_kept` entries for followers that are
//! only a little behind) and streams the archive (`SendSnapshot`) to a node too far behind,
//! rewritten by the application in an older layout for a node that reads only that (each
//! peer answer names the newest layout its node reads, ADR 0050). [`restore`] seeds an empty
//! data dir from an archive.
//!
//! Layout: [`types`] (the openraft type config, [`CorvoNode`]); [`log_store`], `log_writer`
//! and [`segments`] (the log: entries in segment files, metadata in redb);
//! [`state_machine`] (the adapter and the application traits); [`network`] (peer RPC
//! client) and `peer` (peer RPC server); [`secret`] (the cluster secret); [`identity`] (the
//! cluster id and target node on peer RPCs); [`membership`] (join, remove, transfer
//! leader); [`proposer`] (group commit); [`node`] (life cycle); [`runtime`] (the thread Raft's
//! tasks run on); [`restore`], [`options`],
//! [`error`], [`clock`].

pub mod clock;
pub mod error;
pub mod identity;
pub mod log_store;
mod log_writer;
pub mod membership;
pub mod network;
pub mod node;
pub mod options;
mod peer;
pub mod peer_pb;
pub mod proposer;
pub mod restore;
pub mod runtime;
pub mod secret;
pub mod segments;
pub mod snapshot;
pub mod state_machine;
pub mod types;

pub use clock::{Clock, SystemClock};
pub use error::{MembershipError, ProposeError, RaftError, ReadError};
pub use identity::ClusterId;
pub use membership::{JoinOutcome, Member};
pub use node::{RaftNode, RaftStatus, Role, RoleWatch, SnapshotInfo, StartupReport};
pub use options::{Durability, PeerTls, RaftOptions};
pub use proposer::{Proposer, Replies};
pub use restore::{RestoreMode, restore};
pub use secret::{ClusterSecret, SECRET_HEADER};
pub use snapshot::{SnapshotDir, SnapshotEntry, SnapshotFile};
pub use state_machine::{AppStateMachine, ApplyListener, SnapshotWriter, applied_index};
pub use types::{BatchData, CorvoNode, EntryOutcome, RaftHandle, TypeConfig};
