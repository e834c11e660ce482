//! Corvo's job state machine: deterministic, synchronous, no I/O.
//!
//! Everything that changes replicated state is a [`Command`]. The leader stamps the time into
//! a [`Batch`] of commands, Raft orders the batches, and every replica calls [`apply_batch`]
//! on its own storage transaction. `apply` never reads the clock, randomness or the
//! environment, so replicas that applied the same log hold byte-identical state.
//!
//! ```text
//!  Batch { now_ms, commands } ──▶ apply_batch(txn, batch, log_index)
//!                                      │  reads/writes tables through StateTxn
//!                                      ▼
//!                          BatchOutcome { replies, effects, next_due_ms }
//!                           replies → the proposer's callers
//!                           effects → dispatcher (wake workers), streams (cancel)
//! ```
//!
//! Layout: [`model`] (jobs and their vocabulary), [`access`] (API keys and roles), [`queues`]
//! (queue settings, limits, retention, bulk operations),
//! [`command`] (inputs and outputs), [`keys`] (the one description of the table and key
//! layout), [`state`] (the storage trait and an in-memory implementation for tests),
//! [`apply`] (the state machine, one module per command family), [`schedule`] (backoff
//! math), [`validate`] (input rules shared with the API layer), [`query`] (read-side
//! helpers).

pub mod access;
pub mod apply;
pub mod command;
pub mod keys;
pub mod model;
pub mod query;
pub mod queues;
pub mod schedule;
pub mod state;
pub mod validate;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod randomized;

pub use apply::apply_batch;
pub use command::{
    Ack, AttemptRun, Batch, BatchOutcome, COMMAND_SET, Command, CreateKey, Effect, Enqueue,
    EnqueueKeyed, Fail, Heartbeat, HeartbeatItem, HeartbeatReply, JobError, Lease,
    OperationProgress, QueueActivity, Reply, StopReason,
};
pub use model::{
    Backoff, BackoffKind, EnqueueOptions, Event, EventKind, Job, JobState, LeaseInfo, Priority,
};
pub use state::{JobChange, JobWrite, MemState, StateRead, StateTxn, StoreError};
