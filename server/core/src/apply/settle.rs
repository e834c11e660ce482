//! Ack and fail: settle an attempt, with lease fencing.

use super::{CmdResult, Ctx, details, invalid_state, not_found};
use crate::command::{Ack, AttemptRun, Fail, JobError, Reply};
use crate::keys::TimerKind;
use crate::model::{EventKind, Job, JobState};
use crate::schedule;
use crate::state::{StateTxn, StoreError};

/// Checks that `job` is active under the caller's lease. `None` token: not checked.
pub(super) fn check_lease(job: &Job, token: Option<u64>, op: &str) -> Result<(), JobError> {
    let current = job.lease.as_ref().map(|l| l.token);
    match (job.state, token) {
        (JobState::Active, None) => Ok(()),
        (JobState::Active, Some(t)) if Some(t) == current => Ok(()),
        (_, Some(_)) => Err(JobError::StaleLease {
            job_id: job.id.clone(),
        }),
        (_, None) => Err(invalid_state(job, op)),
    }
}

pub(super) fn ack<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &Ack) -> CmdResult {
    let Some(mut job) = ctx.load_job(&cmd.job_id)? else {
        return Ok(Err(not_found(&cmd.job_id)));
    };
    if let Err(e) = check_lease(&job, cmd.lease_token, "ack") {
        return Ok(Err(e));
    }
    ctx.unindex(&job)?;
    job.state = JobState::Completed;
    job.lease = None;
    job.result = cmd.result.clone();
    job.finished_at_ms = Some(ctx.now);
    ctx.save_job(&job)?;
    ctx.event(
        EventKind::Completed,
        &job,
        details(&[("attempt", job.attempt.into())]),
    )?;
    Ok(Ok(Reply::Acked {
        state: job.state,
        run: attempt_run(&job, ctx.now),
    }))
}

pub(super) fn fail<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &Fail) -> CmdResult {
    let Some(mut job) = ctx.load_job(&cmd.job_id)? else {
        return Ok(Err(not_found(&cmd.job_id)));
    };
    if let Err(e) = check_lease(&job, cmd.lease_token, "fail") {
        return Ok(Err(e));
    }
    ctx.unindex(&job)?;
    job.lease = None;
    let reply = settle_failure(ctx, &mut job, &cmd.error, EventKind::Failed)?;
    Ok(Ok(reply))
}

/// A failed attempt (reported, or a lease that ran out): retry with backoff, or dead.
/// `job` must already be out of its indexes.
pub(super) fn settle_failure<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    job: &mut Job,
    error: &str,
    kind: EventKind,
) -> Result<Reply, StoreError> {
    job.last_error = Some(error.to_owned());
    ctx.event(
        kind,
        job,
        details(&[("attempt", job.attempt.into()), ("error", error.into())]),
    )?;
    let attempts_remaining = job.max_attempts.saturating_sub(job.attempt);
    if attempts_remaining == 0 {
        job.state = JobState::Dead;
        job.finished_at_ms = Some(ctx.now);
        ctx.save_job(job)?;
        ctx.event(EventKind::Dead, job, details(&[("error", error.into())]))?;
        return Ok(Reply::Failed {
            state: JobState::Dead,
            next_attempt_at_ms: None,
            attempts_remaining: 0,
            run: attempt_run(job, ctx.now),
        });
    }
    let delay = schedule::backoff_delay_ms(&job.backoff, job.attempt, &job.id);
    let next_at = ctx.now.saturating_add(delay);
    if delay == 0 {
        ctx.make_ready(job)?;
    } else {
        job.state = JobState::Retrying;
        job.next_attempt_at_ms = Some(next_at);
        ctx.set_timer(next_at, TimerKind::Promote, &job.id)?;
    }
    ctx.save_job(job)?;
    ctx.event(
        EventKind::Retrying,
        job,
        details(&[("next_attempt_at_ms", next_at.into())]),
    )?;
    Ok(Reply::Failed {
        state: job.state,
        next_attempt_at_ms: Some(next_at),
        attempts_remaining,
        run: attempt_run(job, ctx.now),
    })
}

/// The attempt that just ended: its queue and how long it ran.
fn attempt_run(job: &Job, now: u64) -> Option<AttemptRun> {
    job.started_at_ms.map(|at| AttemptRun {
        queue: job.queue.clone(),
        ran_ms: now.saturating_sub(at),
    })
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::*;
    use crate::command::{AttemptRun, JobError, Reply};
    use crate::model::{Backoff, BackoffKind, EnqueueOptions, JobState};

    fn fixed(ms: u64, attempts: u32) -> EnqueueOptions {
        EnqueueOptions {
            max_attempts: attempts,
            backoff: Backoff {
                kind: BackoffKind::Fixed,
                base_ms: ms,
                cap_ms: ms,
            },
            ..Default::default()
        }
    }

    #[test]
    fn ack_with_the_current_token_completes_the_job() {
        let mut w = World::new();
        w.enqueue("q", "{}", EnqueueOptions::default());
        let token = w.lease(&["q"], 1, 1_000)[0].lease.as_ref().unwrap().token;
        let r = w.ack("j1", Some(token), Some("{\"ok\":true}")).unwrap();
        assert_eq!(
            r,
            Reply::Acked {
                state: JobState::Completed,
                run: Some(AttemptRun {
                    queue: "q".into(),
                    ran_ms: 0
                })
            }
        );
        let j = w.job("j1");
        assert_eq!(j.result.as_deref(), Some("{\"ok\":true}"));
        assert!(j.lease.is_none());
        assert_eq!(
            w.last.next_due_ms,
            Some(w.now + crate::queues::RETENTION_MS_DEFAULT),
            "the lease timer is gone: only the purge timer is left"
        );
        assert_eq!(w.event_kinds(), vec!["enqueued", "started", "completed"]);
    }

    #[test]
    fn stale_token_is_refused_and_changes_nothing() {
        let mut w = World::new();
        w.enqueue("q", "{}", fixed(0, 3));
        let first = w.lease(&["q"], 1, 1_000)[0].lease.clone().unwrap().token;
        w.fail("j1", Some(first), "boom").unwrap();
        let second = w.lease(&["q"], 1, 1_000)[0].lease.clone().unwrap().token;
        let before = w.state.clone();
        assert_eq!(
            w.ack("j1", Some(first), None).unwrap_err(),
            JobError::StaleLease {
                job_id: "j1".into()
            }
        );
        assert!(matches!(
            w.fail("j1", Some(first), "late"),
            Err(JobError::StaleLease { .. })
        ));
        assert_eq!(w.state, before);
        assert!(w.ack("j1", Some(second), None).is_ok());
    }

    #[test]
    fn ack_without_token_works_for_old_clients_but_not_twice() {
        let mut w = World::new();
        w.enqueue("q", "{}", EnqueueOptions::default());
        w.lease(&["q"], 1, 1_000);
        assert!(w.ack("j1", None, None).is_ok());
        assert!(matches!(
            w.ack("j1", None, None),
            Err(JobError::InvalidState { .. })
        ));
        assert!(matches!(
            w.ack("nope", None, None),
            Err(JobError::NotFound { .. })
        ));
    }

    #[test]
    fn failures_follow_backoff_and_end_dead() {
        let mut w = World::new();
        w.enqueue("q", "{}", fixed(2_000, 2));
        w.lease(&["q"], 1, 60_000);
        let r = w.fail("j1", None, "first").unwrap();
        assert_eq!(
            r,
            Reply::Failed {
                state: JobState::Retrying,
                next_attempt_at_ms: Some(w.now + 2_000),
                attempts_remaining: 1,
                run: Some(AttemptRun {
                    queue: "q".into(),
                    ran_ms: 0
                })
            }
        );
        assert!(
            w.lease(&["q"], 1, 60_000).is_empty(),
            "not before its backoff"
        );
        w.advance(2_000);
        w.tick();
        assert_eq!(w.job("j1").state, JobState::Pending);
        w.lease(&["q"], 1, 60_000);
        let r = w.fail("j1", None, "second").unwrap();
        assert_eq!(
            r,
            Reply::Failed {
                state: JobState::Dead,
                next_attempt_at_ms: None,
                attempts_remaining: 0,
                run: Some(AttemptRun {
                    queue: "q".into(),
                    ran_ms: 0
                })
            }
        );
        let j = w.job("j1");
        assert_eq!(j.attempt, 2);
        assert_eq!(j.last_error.as_deref(), Some("second"));
    }

    #[test]
    fn lease_expiry_is_a_failed_attempt() {
        let mut w = World::new();
        w.enqueue("q", "{}", fixed(1_000, 2));
        w.lease(&["q"], 1, 5_000);
        w.advance(5_000);
        w.tick();
        let j = w.job("j1");
        assert_eq!(j.state, JobState::Retrying);
        assert_eq!(j.last_error.as_deref(), Some("lease expired"));
        assert!(
            w.last
                .effects
                .iter()
                .any(|e| matches!(e, crate::Effect::Revoked { job_id, .. } if job_id == "j1"))
        );
        w.advance(1_000);
        w.tick();
        w.lease(&["q"], 1, 5_000);
        w.advance(5_000);
        w.tick();
        assert_eq!(
            w.job("j1").state,
            JobState::Dead,
            "a job that kills its worker cannot loop forever"
        );
    }
}
