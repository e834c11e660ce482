//! The job vocabulary: states, priorities, retry policy, the stored job and its events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Lifecycle state of a job. See `docs/jobs.md` for the transitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum JobState {
    Pending,
    Scheduled,
    Active,
    Retrying,
    Held,
    Completed,
    Dead,
    Cancelled,
}

impl JobState {
    /// Every state, in lifecycle order (for reports that list all of them).
    pub const ALL: [JobState; 8] = [
        JobState::Pending,
        JobState::Scheduled,
        JobState::Active,
        JobState::Retrying,
        JobState::Held,
        JobState::Completed,
        JobState::Dead,
        JobState::Cancelled,
    ];

    /// A terminal job never changes state again unless an operator retries it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Dead | JobState::Cancelled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Scheduled => "scheduled",
            JobState::Active => "active",
            JobState::Retrying => "retrying",
            JobState::Held => "held",
            JobState::Completed => "completed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// Delivery priority; lower rank is delivered first.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Priority {
    Critical,
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    /// Rank used in the ready index key (0 = first).
    pub fn rank(self) -> u8 {
        match self {
            Priority::Critical => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackoffKind {
    None,
    Fixed,
    Linear,
    #[default]
    Exponential,
}

/// Retry delay policy of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backoff {
    pub kind: BackoffKind,
    pub base_ms: u64,
    pub cap_ms: u64,
}

impl Backoff {
    /// 5 s base: long enough for a flapping dependency to recover, short enough to notice.
    pub const BASE_MS_DEFAULT: u64 = 5_000;
    /// 10 min cap: a job is retried at least a few times an hour.
    pub const CAP_MS_DEFAULT: u64 = 600_000;
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            kind: BackoffKind::Exponential,
            base_ms: Self::BASE_MS_DEFAULT,
            cap_ms: Self::CAP_MS_DEFAULT,
        }
    }
}

/// Options given at enqueue. Defaults are applied by [`EnqueueOptions::default`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnqueueOptions {
    pub priority: Priority,
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// Unix ms; the job is `scheduled` until then.
    pub scheduled_at_ms: Option<u64>,
    /// The job dies ("expired") if it has not started this long after enqueue.
    pub expire_after_ms: Option<u64>,
    pub unique_key: Option<String>,
    pub unique_period_ms: u64,
    pub tags: BTreeMap<String, String>,
    /// The producer's W3C `traceparent` (set by the API when tracing is on), kept on the job so
    /// the apply and the worker's execution join the producer's trace.
    pub trace_parent: Option<String>,
}

impl EnqueueOptions {
    /// Three attempts: one retry for a transient fault, one more for luck, then a human looks.
    pub const MAX_ATTEMPTS_DEFAULT: u32 = 3;
    /// One hour of de-duplication for a unique key.
    pub const UNIQUE_PERIOD_MS_DEFAULT: u64 = 3_600_000;
}

impl Default for EnqueueOptions {
    fn default() -> Self {
        EnqueueOptions {
            priority: Priority::Normal,
            max_attempts: Self::MAX_ATTEMPTS_DEFAULT,
            backoff: Backoff::default(),
            scheduled_at_ms: None,
            expire_after_ms: None,
            unique_key: None,
            unique_period_ms: Self::UNIQUE_PERIOD_MS_DEFAULT,
            tags: BTreeMap::new(),
            trace_parent: None,
        }
    }
}

/// The lease a worker holds on an active job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// Fencing token: unique per lease, never reused.
    pub token: u64,
    pub worker_id: String,
    pub hostname: String,
    pub deadline_ms: u64,
    /// Each heartbeat extends the deadline by this much.
    pub duration_ms: u64,
}

/// A job as stored in the `jobs` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub queue: String,
    pub state: JobState,
    pub payload: String,
    pub priority: Priority,
    /// Attempts started so far.
    pub attempt: u32,
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub tags: BTreeMap<String, String>,
    pub unique_key: Option<String>,
    /// Position in enqueue order: the FIFO key within a priority.
    pub seq: u64,
    pub created_at_ms: u64,
    pub scheduled_at_ms: Option<u64>,
    pub started_at_ms: Option<u64>,
    pub finished_at_ms: Option<u64>,
    pub expire_at_ms: Option<u64>,
    /// When a `retrying` job becomes pending again.
    pub next_attempt_at_ms: Option<u64>,
    pub lease: Option<LeaseInfo>,
    pub progress: Option<String>,
    pub checkpoint: Option<String>,
    pub result: Option<String>,
    pub last_error: Option<String>,
    /// When the job last became ready (pending), by the leader's clock: the start of its wait
    /// for a worker (the ready→delivered latency). Added after the first records were written;
    /// postcard is positional, so records from before it do not decode (no data dir of that
    /// age was ever deployed).
    pub ready_at_ms: Option<u64>,
    /// The producer's W3C `traceparent`, from [`EnqueueOptions::trace_parent`]; handed to the
    /// worker with the job. Same positional caveat as `ready_at_ms`.
    pub trace_parent: Option<String>,
}

impl Job {
    /// About how many bytes the job takes in a response that hands it to a worker: payload,
    /// checkpoint, tags, ids and a margin for the framing. An estimate on the high side, so a
    /// lease bounded by it fits its message.
    pub fn wire_bytes(&self) -> u64 {
        let tags: usize = self.tags.iter().map(|(k, v)| k.len() + v.len() + 8).sum();
        let text = self.payload.len()
            + self.checkpoint.as_ref().map_or(0, String::len)
            + self.trace_parent.as_ref().map_or(0, String::len)
            + self.id.len()
            + self.queue.len()
            + tags;
        text as u64 + Self::WIRE_OVERHEAD_BYTES
    }

    /// The fixed fields of a leased job on the wire (numbers, tags, field keys), rounded up.
    pub const WIRE_OVERHEAD_BYTES: u64 = 256;
}

/// What happened, for `Subscribe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    Enqueued,
    Started,
    Completed,
    Failed,
    Retrying,
    Dead,
    Cancelled,
    Reclaimed,
    Expired,
    Progress,
    Deleted,
    Requeued,
    Moved,
}

impl EventKind {
    pub const ALL: [EventKind; 13] = [
        EventKind::Enqueued,
        EventKind::Started,
        EventKind::Completed,
        EventKind::Failed,
        EventKind::Retrying,
        EventKind::Dead,
        EventKind::Cancelled,
        EventKind::Reclaimed,
        EventKind::Expired,
        EventKind::Progress,
        EventKind::Deleted,
        EventKind::Requeued,
        EventKind::Moved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Enqueued => "enqueued",
            EventKind::Started => "started",
            EventKind::Completed => "completed",
            EventKind::Failed => "failed",
            EventKind::Retrying => "retrying",
            EventKind::Dead => "dead",
            EventKind::Cancelled => "cancelled",
            EventKind::Reclaimed => "reclaimed",
            EventKind::Expired => "expired",
            EventKind::Progress => "progress",
            EventKind::Deleted => "deleted",
            EventKind::Requeued => "requeued",
            EventKind::Moved => "moved",
        }
    }
}

/// One entry of the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub kind: EventKind,
    pub job_id: String,
    pub queue: String,
    pub at_ms: u64,
    /// A small JSON object with details (attempt, error, ...), or empty.
    pub data: String,
}
