//! Tick: fire every timer that is due at the batch's clock.

use super::{CmdResult, Ctx, TIMERS_PER_TICK_MAX, settle};

/// Finished jobs removed by one `Tick`: bounds the apply's pause when a backlog of retention
/// comes due at once (1 million jobs finished in one burst purge over a thousand ticks).
pub const PURGES_PER_TICK_MAX: usize = 1_024;
use crate::command::{Effect, Reply, StopReason};
use crate::keys::{self, Table, TimerKind, UniqueLock};
use crate::model::{EventKind, JobState};
use crate::state::{StateRead, StateTxn, StoreError};

pub(super) fn tick<T: StateTxn>(ctx: &mut Ctx<'_, T>) -> CmdResult {
    let end = keys::timer_key(ctx.now.saturating_add(1), TimerKind::Promote, "");
    let due = ctx
        .txn
        .range(Table::Timers, &[], &end, TIMERS_PER_TICK_MAX)?;
    let mut fired = 0u32;
    let mut purges = 0usize;
    for (key, _) in due {
        let Some((due_ms, kind, job_id)) = keys::parse_timer_key(&key) else {
            return Err(StoreError::Corrupt {
                table: Table::Timers,
                key,
                reason: "malformed timer key".into(),
            });
        };
        if kind == TimerKind::Purge {
            // Removing a job costs more than the other timers: a backlog of purges goes a
            // bounded number per tick (the rest stay due, and the next tick follows at once).
            if purges == PURGES_PER_TICK_MAX {
                continue;
            }
            purges += 1;
        }
        ctx.txn.delete(Table::Timers, &key)?;
        if fire(ctx, due_ms, kind, &job_id)? {
            fired += 1;
        }
    }
    Ok(Ok(Reply::Ticked { fired }))
}

/// The earliest pending timer.
pub(super) fn next_due<R: StateRead>(state: &R) -> Result<Option<u64>, StoreError> {
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

/// Fires one timer; a timer whose job moved on since it was set does nothing.
fn fire<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    due_ms: u64,
    kind: TimerKind,
    job_id: &str,
) -> Result<bool, StoreError> {
    match kind {
        TimerKind::UniqueRelease => return release_unique(ctx, due_ms, job_id),
        // The id slot holds a queue's name: its next rate window has started.
        TimerKind::QueueWindow => {
            ctx.wake(job_id);
            return Ok(true);
        }
        _ => {}
    }
    let Some(mut job) = ctx.load_job(job_id)? else {
        return Ok(false);
    };
    match kind {
        TimerKind::Promote => {
            let is_due = match job.state {
                JobState::Scheduled => job.scheduled_at_ms == Some(due_ms),
                JobState::Retrying => job.next_attempt_at_ms == Some(due_ms),
                _ => false,
            };
            if !is_due {
                return Ok(false);
            }
            ctx.make_ready(&mut job)?;
            ctx.save_job(&job)?;
            Ok(true)
        }
        TimerKind::LeaseExpiry => {
            let Some(lease) = job
                .lease
                .take()
                .filter(|l| job.state == JobState::Active && l.deadline_ms == due_ms)
            else {
                return Ok(false);
            };
            ctx.effects.push(Effect::Revoked {
                job_id: job.id.clone(),
                worker_id: lease.worker_id,
                lease_token: lease.token,
                reason: StopReason::Reassigned,
            });
            settle::settle_failure(ctx, &mut job, "lease expired", EventKind::Reclaimed)?;
            Ok(true)
        }
        TimerKind::Expire => {
            let waiting = matches!(
                job.state,
                JobState::Pending | JobState::Scheduled | JobState::Retrying
            );
            if !waiting || job.expire_at_ms != Some(due_ms) {
                return Ok(false);
            }
            ctx.unindex(&job)?;
            job.state = JobState::Dead;
            job.last_error = Some("expired".into());
            job.finished_at_ms = Some(ctx.now);
            ctx.save_job(&job)?;
            ctx.event(EventKind::Expired, &job, String::new())?;
            Ok(true)
        }
        TimerKind::Purge => purge(ctx, due_ms, job),
        TimerKind::UniqueRelease | TimerKind::QueueWindow => Ok(false),
    }
}

/// Removes a finished job whose retention is over. A job retried since (no longer finished)
/// is left alone; one whose retention was lengthened is looked at again when it ends (timers
/// with the same due time are one timer, so re-arming never doubles them).
fn purge<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    due_ms: u64,
    job: crate::model::Job,
) -> Result<bool, StoreError> {
    let Some(finished) = job.finished_at_ms.filter(|_| job.state.is_terminal()) else {
        return Ok(false);
    };
    let due = finished.saturating_add(ctx.retention_for(&job.queue, job.state)?);
    if due > ctx.now {
        if due != due_ms {
            ctx.set_timer(due, TimerKind::Purge, &job.id)?;
        }
        return Ok(false);
    }
    super::admin::release_unique_lock(ctx, &job)?;
    ctx.delete_job(&job)?;
    ctx.purged += 1;
    Ok(true)
}

fn release_unique<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    due_ms: u64,
    job_id: &str,
) -> Result<bool, StoreError> {
    let Some(job) = ctx.load_job(job_id)? else {
        return Ok(false);
    };
    let Some(key) = &job.unique_key else {
        return Ok(false);
    };
    let lock_key = keys::unique_key(&job.queue, key);
    let Some(bytes) = ctx.txn.get(Table::Unique, &lock_key)? else {
        return Ok(false);
    };
    let lock: UniqueLock = keys::decode(Table::Unique, &lock_key, &bytes)?;
    if lock.job_id != job.id || lock.expires_at_ms != due_ms {
        return Ok(false);
    }
    ctx.txn.delete(Table::Unique, &lock_key)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::*;
    use crate::keys::Table;
    use crate::model::{EnqueueOptions, JobState};

    #[test]
    fn expire_after_kills_jobs_that_did_not_start() {
        let mut w = World::new();
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                expire_after_ms: Some(1_000),
                ..Default::default()
            },
        );
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                expire_after_ms: Some(1_000),
                ..Default::default()
            },
        );
        w.lease(&["q"], 1, 60_000);
        w.advance(1_000);
        w.tick();
        assert_eq!(
            w.job("j1").state,
            JobState::Active,
            "started jobs do not expire"
        );
        let j2 = w.job("j2");
        assert_eq!(j2.state, JobState::Dead);
        assert_eq!(j2.last_error.as_deref(), Some("expired"));
        assert!(w.ready_ids("q").is_empty());
        assert!(w.event_kinds().contains(&"expired".to_string()));
    }

    #[test]
    fn tick_reports_the_next_due_time_and_leaves_no_stale_timers() {
        let mut w = World::new();
        let at = w.now + 300;
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                scheduled_at_ms: Some(at),
                ..Default::default()
            },
        );
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                scheduled_at_ms: Some(at + 200),
                ..Default::default()
            },
        );
        w.advance(300);
        w.tick();
        assert_eq!(w.last.next_due_ms, Some(at + 200));
        w.advance(200);
        w.tick();
        assert_eq!(w.last.next_due_ms, None);
        assert_eq!(w.state.len(Table::Timers), 0);
    }

    #[test]
    fn replicas_fed_the_same_batches_are_identical() {
        let run = || {
            let mut w = World::new();
            for i in 0..20 {
                w.enqueue(
                    "q",
                    "{}",
                    EnqueueOptions {
                        max_attempts: 2,
                        ..Default::default()
                    },
                );
                if i % 3 == 0 {
                    let jobs = w.lease(&["q"], 2, 1_000);
                    if let Some(j) = jobs.first() {
                        let _ = w.fail(&j.id, None, "x");
                    }
                }
                w.advance(700);
                w.tick();
            }
            w.state
        };
        assert_eq!(run(), run());
    }
}
