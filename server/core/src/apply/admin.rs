//! Operator commands on single jobs: cancel, retry, delete, move, change priority, destroy.

use super::{CmdResult, Ctx, details, invalid_state, not_found};
use crate::command::{Effect, Reply, StopReason};
use crate::keys::{self, Table, TimerKind, UniqueLock};
use crate::model::{EventKind, Job, JobState, Priority};
use crate::state::{StateTxn, StoreError};

pub(super) fn cancel<T: StateTxn>(ctx: &mut Ctx<'_, T>, job_id: &str) -> CmdResult {
    let Some(mut job) = ctx.load_job(job_id)? else {
        return Ok(Err(not_found(job_id)));
    };
    if job.state.is_terminal() {
        return Ok(Err(invalid_state(&job, "cancel")));
    }
    ctx.unindex(&job)?;
    ctx.clear_expiry(&job)?;
    if let Some(lease) = job.lease.take() {
        ctx.effects.push(Effect::Revoked {
            job_id: job.id.clone(),
            worker_id: lease.worker_id,
            lease_token: lease.token,
            reason: StopReason::Cancelled,
        });
    }
    job.state = JobState::Cancelled;
    job.finished_at_ms = Some(ctx.now);
    ctx.save_job(&job)?;
    ctx.event(EventKind::Cancelled, &job, String::new())?;
    Ok(Ok(Reply::Cancelled { state: job.state }))
}

pub(super) fn retry<T: StateTxn>(ctx: &mut Ctx<'_, T>, job_id: &str) -> CmdResult {
    let Some(mut job) = ctx.load_job(job_id)? else {
        return Ok(Err(not_found(job_id)));
    };
    if !job.state.is_terminal() {
        return Ok(Err(invalid_state(&job, "retry")));
    }
    job.attempt = 0;
    job.finished_at_ms = None;
    job.expire_at_ms = None;
    ctx.make_ready(&mut job)?;
    ctx.save_job(&job)?;
    ctx.event(EventKind::Requeued, &job, String::new())?;
    Ok(Ok(Reply::Retried { state: job.state }))
}

pub(super) fn delete<T: StateTxn>(ctx: &mut Ctx<'_, T>, job_id: &str) -> CmdResult {
    let Some(job) = ctx.load_job(job_id)? else {
        return Ok(Err(not_found(job_id)));
    };
    if job.state == JobState::Active {
        return Ok(Err(invalid_state(&job, "delete (cancel it first)")));
    }
    ctx.unindex(&job)?;
    ctx.clear_expiry(&job)?;
    release_unique_lock(ctx, &job)?;
    ctx.delete_job(&job)?;
    ctx.event(
        EventKind::Deleted,
        &job,
        details(&[("state", job.state.as_str().into())]),
    )?;
    Ok(Ok(Reply::Deleted))
}

/// Drops the unique lock `job` holds, if it holds one.
pub(super) fn release_unique_lock<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    job: &Job,
) -> Result<(), StoreError> {
    let Some(key) = &job.unique_key else {
        return Ok(());
    };
    let lock_key = keys::unique_key(&job.queue, key);
    if let Some(bytes) = ctx.txn.get(Table::Unique, &lock_key)? {
        let lock: UniqueLock = keys::decode(Table::Unique, &lock_key, &bytes)?;
        if lock.job_id == job.id {
            ctx.txn.delete(Table::Unique, &lock_key)?;
            ctx.clear_timer(lock.expires_at_ms, TimerKind::UniqueRelease, &job.id)?;
        }
    }
    Ok(())
}

/// Moves a job that is not active to `queue`: it keeps its place in enqueue order and its
/// timers; its unique key (if any) is released (keys are per queue).
pub(super) fn move_job<T: StateTxn>(ctx: &mut Ctx<'_, T>, job_id: &str, queue: &str) -> CmdResult {
    if let Err(e) = crate::validate::queue_name("queue", queue) {
        return Ok(Err(e));
    }
    let Some(mut job) = ctx.load_job(job_id)? else {
        return Ok(Err(not_found(job_id)));
    };
    if job.state == JobState::Active {
        return Ok(Err(invalid_state(&job, "move (cancel it first)")));
    }
    if job.queue == queue {
        return Ok(Ok(Reply::Moved { state: job.state }));
    }
    let pending = job.state == JobState::Pending;
    if pending {
        ctx.remove_ready(&job)?;
    }
    release_unique_lock(ctx, &job)?;
    job.unique_key = None;
    let from = std::mem::replace(&mut job.queue, queue.to_owned());
    if pending {
        ctx.make_ready(&mut job)?;
    }
    ctx.save_job(&job)?;
    ctx.event(
        EventKind::Moved,
        &job,
        details(&[("from", from.as_str().into())]),
    )?;
    Ok(Ok(Reply::Moved { state: job.state }))
}

/// Changes the priority of a job that waits (pending, scheduled or retrying).
pub(super) fn set_priority<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    job_id: &str,
    priority: Priority,
) -> CmdResult {
    let Some(mut job) = ctx.load_job(job_id)? else {
        return Ok(Err(not_found(job_id)));
    };
    let waiting = matches!(
        job.state,
        JobState::Pending | JobState::Scheduled | JobState::Retrying
    );
    if !waiting {
        return Ok(Err(invalid_state(&job, "change the priority of")));
    }
    if job.priority != priority {
        let pending = job.state == JobState::Pending;
        if pending {
            ctx.remove_ready(&job)?;
        }
        job.priority = priority;
        if pending {
            ctx.txn.put(
                Table::Ready,
                &keys::ready_key(&job.queue, job.priority, job.seq),
                job.id.as_bytes(),
            )?;
        }
        ctx.save_job(&job)?;
    }
    Ok(Ok(Reply::Reprioritized { state: job.state }))
}

/// Removes a job whatever its state; an active job's worker is told to stop.
pub(super) fn destroy<T: StateTxn>(ctx: &mut Ctx<'_, T>, job_id: &str) -> CmdResult {
    let Some(job) = ctx.load_job(job_id)? else {
        return Ok(Err(not_found(job_id)));
    };
    ctx.unindex(&job)?;
    ctx.clear_expiry(&job)?;
    if let Some(lease) = &job.lease {
        ctx.effects.push(Effect::Revoked {
            job_id: job.id.clone(),
            worker_id: lease.worker_id.clone(),
            lease_token: lease.token,
            reason: StopReason::Cancelled,
        });
    }
    release_unique_lock(ctx, &job)?;
    ctx.delete_job(&job)?;
    ctx.event(
        EventKind::Deleted,
        &job,
        details(&[("state", job.state.as_str().into())]),
    )?;
    Ok(Ok(Reply::Destroyed))
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::*;
    use crate::command::{Effect, HeartbeatReply, JobError, Reply, StopReason};
    use crate::keys::Table;
    use crate::model::{EnqueueOptions, JobState};

    #[test]
    fn cancel_pending_removes_it_from_the_queue() {
        let mut w = World::new();
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                expire_after_ms: Some(1_000),
                ..Default::default()
            },
        );
        assert_eq!(
            w.cancel("j1").unwrap(),
            Reply::Cancelled {
                state: JobState::Cancelled
            }
        );
        assert!(w.ready_ids("q").is_empty());
        // The expiry timer is gone; only the retention's purge timer is left.
        assert_eq!(w.state.len(Table::Timers), 1);
        assert_eq!(
            w.last.next_due_ms,
            Some(w.now + crate::queues::RETENTION_MS_DEFAULT)
        );
        assert!(matches!(w.cancel("j1"), Err(JobError::InvalidState { .. })));
    }

    #[test]
    fn cancel_active_revokes_the_lease_and_the_worker_learns_it() {
        let mut w = World::new();
        w.enqueue("q", "{}", EnqueueOptions::default());
        let token = w.lease(&["q"], 1, 10_000)[0].lease.as_ref().unwrap().token;
        w.cancel("j1").unwrap();
        assert!(w.last.effects.contains(&Effect::Revoked {
            job_id: "j1".into(),
            worker_id: "w1".into(),
            lease_token: token,
            reason: StopReason::Cancelled
        }));
        assert_eq!(
            w.heartbeat(&[("j1", Some(token), None, None)]),
            vec![HeartbeatReply::Stop(StopReason::Cancelled)]
        );
        assert!(matches!(
            w.ack("j1", Some(token), None),
            Err(JobError::StaleLease { .. })
        ));
    }

    #[test]
    fn retry_brings_a_dead_job_back_with_a_fresh_budget() {
        let mut w = World::new();
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                max_attempts: 1,
                ..Default::default()
            },
        );
        w.lease(&["q"], 1, 1_000);
        w.fail("j1", None, "x").unwrap();
        assert_eq!(w.job("j1").state, JobState::Dead);
        assert_eq!(
            w.retry("j1").unwrap(),
            Reply::Retried {
                state: JobState::Pending
            }
        );
        assert_eq!(w.job("j1").attempt, 0);
        assert_eq!(w.lease(&["q"], 1, 1_000).len(), 1);
        assert!(matches!(w.retry("j1"), Err(JobError::InvalidState { .. })));
    }

    #[test]
    fn delete_removes_job_indexes_and_unique_lock() {
        let mut w = World::new();
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                unique_key: Some("k".into()),
                ..Default::default()
            },
        );
        assert_eq!(w.delete("j1").unwrap(), Reply::Deleted);
        assert_eq!(w.state.len(Table::Jobs), 0);
        assert_eq!(w.state.len(Table::Ready), 0);
        assert_eq!(w.state.len(Table::Unique), 0);
        assert_eq!(w.state.len(Table::Timers), 0);
        assert!(matches!(w.delete("j1"), Err(JobError::NotFound { .. })));
        let again = w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                unique_key: Some("k".into()),
                ..Default::default()
            },
        );
        assert!(matches!(
            again,
            Reply::Enqueued {
                duplicate: false,
                ..
            }
        ));
    }

    #[test]
    fn delete_of_an_active_job_is_refused() {
        let mut w = World::new();
        w.enqueue("q", "{}", EnqueueOptions::default());
        w.lease(&["q"], 1, 1_000);
        let before = w.state.clone();
        assert!(matches!(w.delete("j1"), Err(JobError::InvalidState { .. })));
        assert_eq!(w.state, before);
    }
}
