//! Inputs and outputs of the state machine.
//!
//! A [`Batch`] is what one Raft log entry carries: the leader's clock reading and many
//! commands (group commit). [`BatchOutcome`] is what applying it produced: one reply per
//! command, in order, and the effects the runtime must carry out.

use serde::{Deserialize, Serialize};

use crate::access::{ApiKey, Role};
use crate::model::{EnqueueOptions, Job, JobState, Priority};
use crate::queues::{Operation, QueueChange, QueueConfig};

/// One Raft log entry's worth of commands, stamped with the leader's clock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Unix milliseconds read by the leader when it proposed the batch. The only clock
    /// `apply` ever sees.
    pub now_ms: u64,
    pub commands: Vec<Command>,
}

/// A state change request. New ids are chosen by the leader before proposing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Enqueue(Enqueue),
    /// A lease without a bound in bytes (entries written before `LeaseWithin` existed).
    Lease(Lease),
    Ack(Ack),
    Fail(Fail),
    Heartbeat(Heartbeat),
    Cancel {
        job_id: String,
    },
    Retry {
        job_id: String,
    },
    Delete {
        job_id: String,
    },
    /// Fire every timer due at `now_ms`: promote scheduled and retrying jobs, reclaim
    /// expired leases, expire jobs, release unique keys.
    Tick,
    /// Add an API key (its secret's hash only).
    CreateKey(CreateKey),
    /// Refuse a key from now on (it stays listed, as revoked).
    RevokeKey {
        key_id: String,
    },
    /// Give a key a new secret; the old one stays valid for `grace_ms`.
    RotateKey {
        key_id: String,
        hash: [u8; 32],
        grace_ms: u64,
    },
    /// Record when keys were last used (aggregated by the leader, at most once a minute per
    /// key): (key id, Unix ms).
    TouchKeys {
        used: Vec<(String, u64)>,
    },
    /// A lease whose jobs fit in one response message: it stops before the job that would
    /// take the leased jobs past `bytes_max` (see [`crate::model::Job::wire_bytes`]), and
    /// always takes at least one.
    LeaseWithin {
        lease: Lease,
        bytes_max: u64,
    },
    /// Pause, resume, limit or set the retention of a queue.
    ConfigureQueue {
        queue: String,
        change: QueueChange,
    },
    /// The cluster's retention defaults (the leader's `--retention` and `--dead-retention`).
    SetRetentionDefaults {
        retention_ms: u64,
        dead_retention_ms: u64,
    },
    /// Move a job that is not active to another queue.
    Move {
        job_id: String,
        queue: String,
    },
    /// Change the priority of a job that is waiting (pending, scheduled or retrying).
    SetPriority {
        job_id: String,
        priority: Priority,
    },
    /// Remove a job whatever its state (an active job's worker is told to stop).
    Destroy {
        job_id: String,
    },
    /// Record a new bulk operation (state `Running`).
    StartOperation(Operation),
    /// Record a bulk operation's progress, and its end when `finished`.
    AdvanceOperation(OperationProgress),
    /// An enqueue that carries the client's idempotency key: a retry with the same key
    /// within the window answers the first call's job and creates nothing. A node of an
    /// earlier release cannot decode it, so the leader proposes it only once every member
    /// runs a release that can ([`Command::command_set`]).
    EnqueueKeyed(EnqueueKeyed),
}

/// The commands a release can decode, by generation: a node reports its own to its peers,
/// and the leader proposes a command only when every member knows its generation.
/// 1: everything up to `AdvanceOperation`; 2: `EnqueueKeyed`.
pub const COMMAND_SET: u32 = 2;

/// An enqueue with an idempotency key (see [`Command::EnqueueKeyed`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnqueueKeyed {
    pub enqueue: Enqueue,
    /// The client's key, scoped to the enqueue's queue.
    pub key: String,
    /// How long the key answers for its job (the leader's `--idempotency-window`).
    pub window_ms: u64,
}

/// One batch of a bulk operation done (or its end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationProgress {
    pub id: String,
    pub examined: u64,
    pub succeeded: u64,
    pub cursor: Option<u64>,
    pub finished: bool,
    pub error: Option<String>,
}

impl Command {
    /// The enqueue in this command, keyed or not.
    pub fn enqueue(&self) -> Option<&Enqueue> {
        match self {
            Command::Enqueue(e) | Command::EnqueueKeyed(EnqueueKeyed { enqueue: e, .. }) => Some(e),
            _ => None,
        }
    }

    /// The oldest command set ([`COMMAND_SET`]) that can decode this command.
    pub fn command_set(&self) -> u32 {
        match self {
            Command::EnqueueKeyed(_) => 2,
            _ => 1,
        }
    }

    /// About how many bytes the command takes in a log entry (its text fields and a margin):
    /// what the proposer's byte budgets count.
    pub fn approx_bytes(&self) -> usize {
        const FIXED: usize = 64;
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        FIXED
            + match self {
                Command::EnqueueKeyed(k) => k.key.len() + enqueue_bytes(&k.enqueue),
                Command::Enqueue(e) => enqueue_bytes(e),
                Command::Lease(l) | Command::LeaseWithin { lease: l, .. } => {
                    l.queues.iter().map(String::len).sum::<usize>()
                        + l.worker_id.len()
                        + l.hostname.len()
                }
                Command::Ack(a) => a.job_id.len() + opt(&a.result),
                Command::Fail(f) => f.job_id.len() + f.error.len() + opt(&f.backtrace),
                Command::Heartbeat(h) => h
                    .items
                    .iter()
                    .map(|i| FIXED + i.job_id.len() + opt(&i.progress) + opt(&i.checkpoint))
                    .sum(),
                Command::Cancel { job_id }
                | Command::Retry { job_id }
                | Command::Delete { job_id } => job_id.len(),
                Command::Tick => 0,
                Command::CreateKey(c) => {
                    c.id.len() + c.name.len() + c.queues.iter().map(String::len).sum::<usize>()
                }
                Command::RevokeKey { key_id } | Command::RotateKey { key_id, .. } => key_id.len(),
                Command::TouchKeys { used } => used.iter().map(|(id, _)| id.len() + 8).sum(),
                Command::ConfigureQueue { queue, .. } => queue.len() + 32,
                Command::SetRetentionDefaults { .. } => 16,
                Command::Move { job_id, queue } => job_id.len() + queue.len(),
                Command::SetPriority { job_id, .. } | Command::Destroy { job_id } => job_id.len(),
                Command::StartOperation(op) => {
                    op.id.len()
                        + op.filter.queue.as_ref().map_or(0, String::len)
                        + op.filter.payload_contains.as_ref().map_or(0, String::len)
                        + op.filter.error_contains.as_ref().map_or(0, String::len)
                        + op.filter
                            .tags
                            .iter()
                            .map(|(k, v)| k.len() + v.len())
                            .sum::<usize>()
                }
                Command::AdvanceOperation(p) => {
                    p.id.len() + p.error.as_ref().map_or(0, String::len) + 32
                }
            }
    }
}

/// The variable part of an enqueue's size (see [`Command::approx_bytes`]).
fn enqueue_bytes(e: &Enqueue) -> usize {
    let o = &e.options;
    e.id.len()
        + e.queue.len()
        + e.payload.len()
        + o.unique_key.as_ref().map_or(0, String::len)
        + o.trace_parent.as_ref().map_or(0, String::len)
        + o.tags.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
}

/// A new API key. The leader chooses the id; the API layer hashes the secret it drew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Queue-name globs; empty = every queue.
    pub queues: Vec<String>,
    pub expires_at_ms: Option<u64>,
    pub rate_limit_rps: Option<u32>,
    /// SHA-256 of the secret.
    pub hash: [u8; 32],
    /// Create it only if no key exists yet (the bootstrap admin key, which every node of a
    /// cluster may be configured with): otherwise the reply is [`Reply::KeySkipped`].
    pub only_if_first: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enqueue {
    /// Chosen by the leader (time-ordered).
    pub id: String,
    pub queue: String,
    /// A JSON document, already validated.
    pub payload: String,
    pub options: EnqueueOptions,
}

/// Lease up to `count` ready jobs from `queues` to one worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub queues: Vec<String>,
    pub count: u32,
    pub worker_id: String,
    pub hostname: String,
    pub lease_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub job_id: String,
    /// `None` skips the fencing check (clients of the original protocol send no token).
    pub lease_token: Option<u64>,
    pub result: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fail {
    pub job_id: String,
    pub lease_token: Option<u64>,
    pub error: String,
    pub backtrace: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub items: Vec<HeartbeatItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatItem {
    pub job_id: String,
    pub lease_token: Option<u64>,
    pub progress: Option<String>,
    pub checkpoint: Option<String>,
}

/// Why a worker must stop working on a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// An operator cancelled it.
    Cancelled,
    /// The lease passed to another worker (or the job went back to the queue).
    Reassigned,
    /// It already reached completed or dead.
    Finished,
    /// No such job (deleted, or never existed).
    NotFound,
    /// The request's lease token is not the job's current lease.
    StaleLease,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Cancelled => "cancelled",
            StopReason::Reassigned => "reassigned",
            StopReason::Finished => "finished",
            StopReason::NotFound => "not_found",
            StopReason::StaleLease => "stale_lease",
        }
    }
}

/// The answer to one heartbeat item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeartbeatReply {
    /// Lease extended to this deadline (Unix ms).
    Extended { deadline_ms: u64 },
    /// The worker must stop the job.
    Stop(StopReason),
}

/// The successful answer to one command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Enqueued {
        job_id: String,
        state: JobState,
        duplicate: bool,
    },
    /// An idempotency key matched an earlier enqueue: its job (`state` is `None` once the job
    /// is gone: deleted, or removed by retention). Nothing was created.
    Replayed {
        job_id: String,
        state: Option<JobState>,
    },
    Leased(Vec<Job>),
    Acked {
        state: JobState,
        /// The attempt this ack settled (for the start→finish latency).
        run: Option<AttemptRun>,
    },
    Failed {
        state: JobState,
        next_attempt_at_ms: Option<u64>,
        attempts_remaining: u32,
        /// The attempt this failure settled.
        run: Option<AttemptRun>,
    },
    Heartbeat(Vec<HeartbeatReply>),
    Cancelled {
        state: JobState,
    },
    Retried {
        state: JobState,
    },
    Deleted,
    Ticked {
        fired: u32,
    },
    /// The key after a create, revoke or rotate.
    Key(ApiKey),
    /// A `CreateKey` with `only_if_first` found keys already there: nothing changed.
    KeySkipped,
    /// `TouchKeys` updated this many keys.
    Touched {
        keys: u32,
    },
    /// A queue's settings after a change.
    Queue {
        queue: String,
        config: QueueConfig,
    },
    DefaultsSet,
    Moved {
        state: JobState,
    },
    Reprioritized {
        state: JobState,
    },
    Destroyed,
    Operation(Operation),
}

/// A settled attempt: its queue and how long it ran (batch time − start, leader clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRun {
    pub queue: String,
    pub ran_ms: u64,
}

/// Why a command was refused. A refused command changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum JobError {
    #[error("job {job_id} not found")]
    NotFound { job_id: String },
    #[error("lease token for job {job_id} is stale: the job was reassigned or settled")]
    StaleLease { job_id: String },
    #[error("job {job_id} is {state}, cannot {op}")]
    InvalidState {
        job_id: String,
        state: String,
        op: String,
    },
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    #[error("API key {key_id} not found")]
    KeyNotFound { key_id: String },
    #[error("API key {key_id} is revoked")]
    KeyRevoked { key_id: String },
    #[error("operation {id} not found")]
    OperationNotFound { id: String },
}

/// Something the runtime must do after the batch is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// A job became ready in this queue: wake workers waiting on it.
    Ready { queue: String },
    /// A leased job was taken away from its worker: tell the worker to stop it. The lease
    /// token says which lease: a stream that leased the job again since keeps it.
    Revoked {
        job_id: String,
        worker_id: String,
        lease_token: u64,
        reason: StopReason,
    },
    /// An API key was created, revoked or rotated: whoever checks keys reloads them.
    KeysChanged,
}

/// What applying one batch produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    /// One entry per command, in order.
    pub replies: Vec<Result<Reply, JobError>>,
    pub effects: Vec<Effect>,
    /// The earliest timer still pending after this batch: when the leader must tick next.
    pub next_due_ms: Option<u64>,
    /// The newest event id after this batch (0 = none yet).
    pub last_event_seq: u64,
    /// What happened per queue in this batch, for rates and metrics.
    pub activity: Vec<QueueActivity>,
    /// Finished jobs removed by retention in this batch.
    pub purged: u32,
}

/// One queue's counts in one batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueActivity {
    pub queue: String,
    pub enqueued: u32,
    pub completed: u32,
    pub failed: u32,
    /// Leases that skipped the queue's ready jobs because of its concurrency or rate limit.
    pub throttled: u32,
}
