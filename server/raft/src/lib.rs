//! Corvo's openraft glue: no business logic.
//!
//! This crate owns the Raft log (its own redb file), the adapter that feeds committed entries
//! to the replicated state machine (implemented elsewhere, behind [`AppStateMachine`]), the
//! group-commit [`Proposer`], and the [`RaftNode`] that starts and stops them in order.
//! openraft `=0.10.0-alpha.37` is pinned and does not leak past this crate except through
//! [`RaftNode::raft`] (for the peer service).
//!
//! ```text
//!  callers ──propose(cmds)──▶ Proposer ──Batch{now_ms, commands}──▶ openraft (leader)
//!                                ▲                                    │ append
//!                                │                                    ▼
//!                                │                     LogStore (redb, group fsync)
//!                                │                                    │ committed
//!        replies split per caller│                                    ▼
//!                                └──── BatchOutcome ◀── StateMachineStore::apply
//!                                                         │  AppStateMachine::apply (one txn,
//!                                                         │  raft_meta stored with the state)
//!                                                         └─▶ ApplyListener::on_applied
//! ```
//!
//! Crash safety: the state machine may commit non-durably; after a crash it rolls back to its
//! last durable commit and openraft re-applies the durable log from there up to the saved
//! `committed` index (and a new leader re-commits the rest). The log is never purged:
//! snapshots are future work (issue 3), and so is the peer network (only a one-voter cluster
//! works today).
//!
//! Layout: [`types`] (the openraft type config), [`log_store`] + `log_flush` (the log on redb),
//! [`state_machine`] (the adapter and the application traits), [`network`] (peer RPCs: not
//! yet), [`proposer`] (group commit), [`node`] (life cycle), [`options`], [`error`], [`clock`].

pub mod clock;
pub mod error;
mod log_flush;
pub mod log_store;
pub mod network;
pub mod node;
pub mod options;
pub mod proposer;
pub mod state_machine;
pub mod types;

pub use clock::{Clock, SystemClock};
pub use error::{ProposeError, RaftError};
pub use node::{RaftNode, RaftStatus, Role, RoleWatch};
pub use options::{Durability, RaftOptions};
pub use proposer::{Proposer, Replies};
pub use state_machine::{AppStateMachine, ApplyListener};
pub use types::{BatchData, EntryOutcome, RaftHandle, TypeConfig};
