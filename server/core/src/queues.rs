//! Queues as operators run them: paused or not, how many jobs may run at once, how many may
//! start per window, how long finished jobs are kept, and the bulk operations over jobs.
//!
//! A queue exists while it has jobs or settings; its settings live in the `Queues` table
//! (absent: the defaults, no limits). Limits are enforced by the state machine itself when it
//! leases (see `apply::lease`), so they hold on every path and across leader changes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::command::JobError;
use crate::model::{JobState, Priority};
use crate::validate::{self, invalid};

/// At most `starts` jobs of a queue start per `window_ms` (fixed windows from the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub starts: u32,
    pub window_ms: u64,
}

/// A queue's settings and the state its rate limit keeps, as stored in `Queues`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConfig {
    /// Hands out nothing while set (enqueues are still accepted).
    pub paused: bool,
    /// At most this many active jobs at once.
    pub concurrency_max: Option<u32>,
    pub rate: Option<RateLimit>,
    /// How long completed and cancelled jobs are kept (else the cluster default).
    pub retention_ms: Option<u64>,
    /// How long dead jobs are kept (else the cluster default).
    pub dead_retention_ms: Option<u64>,
    /// The rate window (now / window_ms) that `started` counts.
    pub window: u64,
    /// Jobs started in `window`.
    pub started: u32,
}

impl QueueConfig {
    /// True when the record holds nothing worth keeping (all defaults): it is deleted.
    pub fn is_default(&self) -> bool {
        !self.paused
            && self.concurrency_max.is_none()
            && self.rate.is_none()
            && self.retention_ms.is_none()
            && self.dead_retention_ms.is_none()
    }

    /// Starts left in the current window at `now` (`u32::MAX` without a rate limit).
    pub fn starts_left(&self, now: u64) -> u32 {
        match self.rate {
            None => u32::MAX,
            Some(r) => {
                let window = now / r.window_ms.max(1);
                if window == self.window {
                    r.starts.saturating_sub(self.started)
                } else {
                    r.starts
                }
            }
        }
    }

    /// When the next rate window starts, after `now`.
    pub fn next_window_ms(&self, now: u64) -> Option<u64> {
        self.rate.map(|r| {
            let w = r.window_ms.max(1);
            (now / w).saturating_add(1).saturating_mul(w)
        })
    }
}

/// What an operator changes about a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueChange {
    Pause,
    Resume,
    /// Replaces both limits (`None` removes one).
    Limits {
        concurrency_max: Option<u32>,
        rate: Option<RateLimit>,
    },
    /// Replaces both retention overrides (`None`: the cluster default).
    Retention {
        retention_ms: Option<u64>,
        dead_retention_ms: Option<u64>,
    },
    /// Forgets every setting (destroy's last step).
    Forget,
}

/// The defaults when none were set: 7 days for completed and cancelled jobs, 30 for dead ones.
pub const RETENTION_MS_DEFAULT: u64 = 7 * 24 * 3_600_000;
pub const DEAD_RETENTION_MS_DEFAULT: u64 = 30 * 24 * 3_600_000;
/// A retention shorter than a second is a mistake (a finished job must be readable).
pub const RETENTION_MS_MIN: u64 = 1_000;
/// The largest concurrency limit and rate (a bound a replica can count to).
pub const CONCURRENCY_MAX: u32 = 1_000_000;
pub const RATE_STARTS_MAX: u32 = 1_000_000;
/// Rate windows from 1 s to 1 day.
pub const RATE_WINDOW_MS_MIN: u64 = 1_000;
pub const RATE_WINDOW_MS_MAX: u64 = 24 * 3_600_000;

pub fn check_change(queue: &str, change: &QueueChange) -> Result<(), JobError> {
    validate::queue_name("queue", queue)?;
    match change {
        QueueChange::Limits {
            concurrency_max,
            rate,
        } => {
            if let Some(n) = concurrency_max
                && !(1..=CONCURRENCY_MAX).contains(n)
            {
                return Err(invalid(
                    "concurrency",
                    format!("must be 1..={CONCURRENCY_MAX}, got {n}"),
                ));
            }
            if let Some(r) = rate {
                if !(1..=RATE_STARTS_MAX).contains(&r.starts) {
                    return Err(invalid(
                        "rate_starts",
                        format!("must be 1..={RATE_STARTS_MAX}, got {}", r.starts),
                    ));
                }
                if !(RATE_WINDOW_MS_MIN..=RATE_WINDOW_MS_MAX).contains(&r.window_ms) {
                    return Err(invalid(
                        "rate_window_ms",
                        format!("must be 1 s to 1 day, got {} ms", r.window_ms),
                    ));
                }
            }
        }
        QueueChange::Retention {
            retention_ms,
            dead_retention_ms,
        } => {
            for (field, ms) in [
                ("retention_ms", retention_ms),
                ("dead_retention_ms", dead_retention_ms),
            ] {
                if let Some(ms) = ms {
                    check_retention(field, *ms)?;
                }
            }
        }
        QueueChange::Pause | QueueChange::Resume | QueueChange::Forget => {}
    }
    Ok(())
}

pub fn check_retention(field: &str, ms: u64) -> Result<(), JobError> {
    if !(RETENTION_MS_MIN..=validate::DURATION_MS_MAX).contains(&ms) {
        return Err(invalid(field, "must be 1 s to ten years"));
    }
    Ok(())
}

/// Which jobs a bulk operation acts on: the filters ListJobs takes, states as a set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    pub queue: Option<String>,
    /// Any of these states (empty: any state).
    pub states: Vec<JobState>,
    pub priority: Option<Priority>,
    pub tags: BTreeMap<String, String>,
    pub payload_contains: Option<String>,
    pub error_contains: Option<String>,
    pub created_from_ms: Option<u64>,
    pub created_before_ms: Option<u64>,
}

impl JobFilter {
    /// True when nothing restricts it: a bulk action over every job must say so explicitly.
    pub fn is_empty(&self) -> bool {
        *self == JobFilter::default()
    }
}

/// What a bulk operation does to each job it selects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAction {
    Retry,
    Cancel,
    Delete,
    Move {
        queue: String,
    },
    SetPriority(Priority),
    /// Remove the job whatever its state (destroying a queue).
    Destroy,
}

impl BulkAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            BulkAction::Retry => "retry",
            BulkAction::Cancel => "cancel",
            BulkAction::Delete => "delete",
            BulkAction::Move { .. } => "move",
            BulkAction::SetPriority(_) => "set_priority",
            BulkAction::Destroy => "destroy",
        }
    }
}

/// Where a bulk operation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationState {
    Running,
    Done,
    Failed,
}

/// A bulk operation that runs in bounded batches, tracked in the state so that any node can
/// report it and a new leader resumes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Chosen by the leader (`op_` + a ULID).
    pub id: String,
    pub action: BulkAction,
    pub filter: JobFilter,
    /// When destroying a queue: forget its settings when the jobs are gone.
    pub forget_queue: Option<String>,
    pub state: OperationState,
    /// Jobs looked at and jobs the action succeeded on so far.
    pub examined: u64,
    pub succeeded: u64,
    /// Where the next batch starts (an opaque position in the read view's order).
    pub cursor: Option<u64>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    pub error: Option<String>,
}

/// Operations kept (finished ones are dropped oldest first beyond this).
pub const OPERATIONS_KEPT_MAX: usize = 256;
