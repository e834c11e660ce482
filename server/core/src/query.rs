//! Read-side helpers over [`StateRead`]: what the API layer asks between commands.

use crate::keys::{self, Table, TimerKind, UniqueLock};
use crate::model::{Event, Job, JobState};
use crate::state::{StateRead, StoreError};

pub fn job<R: StateRead>(state: &R, id: &str) -> Result<Option<Job>, StoreError> {
    match state.get(Table::Jobs, id.as_bytes())? {
        Some(bytes) => keys::decode_job(id.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

/// Up to `limit` events with id greater than `after`.
pub fn events_after<R: StateRead>(
    state: &R,
    after: u64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let start = keys::event_key(after.saturating_add(1));
    state
        .range(Table::Events, &start, &[0xff; 9], limit)?
        .into_iter()
        .map(|(k, v)| keys::decode_event(&k, &v))
        .collect()
}

/// Whether any of `queues` has a job ready to lease (so a lease would not be empty).
pub fn has_ready<R: StateRead>(state: &R, queues: &[String]) -> Result<bool, StoreError> {
    for q in queues {
        let prefix = keys::queue_prefix(q);
        if state
            .first(Table::Ready, &prefix, &keys::prefix_end(&prefix))?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The earliest pending timer (when the leader must tick next).
pub fn next_due<R: StateRead>(state: &R) -> Result<Option<u64>, StoreError> {
    let Some((key, _)) = state.first(Table::Timers, &[], &[0xff; 9])? else {
        return Ok(None);
    };
    match keys::parse_timer_key(&key) {
        Some((due, _, _)) => Ok(Some(due)),
        None => Err(StoreError::Corrupt {
            table: Table::Timers,
            key,
            reason: "malformed timer key".into(),
        }),
    }
}

/// Every index entry points at a job in the matching state. Used by tests after each step
/// and by `corvo admin check` (full scan: not for the hot path).
pub fn check_invariants<R: StateRead>(state: &R) -> Result<(), String> {
    let all = |t| {
        state
            .range(t, &[], &[0xff; 64], usize::MAX)
            .map_err(|e| e.to_string())
    };
    for (k, v) in all(Table::Ready)? {
        let id = String::from_utf8(v).map_err(|e| e.to_string())?;
        let job = job(state, &id)
            .map_err(|e| e.to_string())?
            .ok_or(format!("ready entry for missing job {id}"))?;
        if job.state != JobState::Pending || keys::ready_key(&job.queue, job.priority, job.seq) != k
        {
            return Err(format!(
                "ready entry for job {id} in state {}",
                job.state.as_str()
            ));
        }
    }
    for (k, _) in all(Table::Timers)? {
        let (due, kind, id) = keys::parse_timer_key(&k).ok_or("malformed timer key")?;
        if kind == TimerKind::UniqueRelease {
            continue;
        }
        let Some(job) = job(state, &id).map_err(|e| e.to_string())? else {
            return Err(format!("{kind:?} timer for missing job {id}"));
        };
        let matches = match kind {
            TimerKind::Promote => {
                (job.state == JobState::Scheduled && job.scheduled_at_ms == Some(due))
                    || (job.state == JobState::Retrying && job.next_attempt_at_ms == Some(due))
            }
            TimerKind::LeaseExpiry => job.lease.as_ref().is_some_and(|l| l.deadline_ms == due),
            TimerKind::Expire => job.expire_at_ms == Some(due) && !job.state.is_terminal(),
            TimerKind::UniqueRelease => true,
        };
        if !matches {
            return Err(format!(
                "stale {kind:?} timer at {due} for job {id} in state {}",
                job.state.as_str()
            ));
        }
    }
    for (k, v) in all(Table::Unique)? {
        let lock: UniqueLock = keys::decode(Table::Unique, &k, &v).map_err(|e| e.to_string())?;
        if job(state, &lock.job_id)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err(format!("unique lock held by missing job {}", lock.job_id));
        }
    }
    Ok(())
}
