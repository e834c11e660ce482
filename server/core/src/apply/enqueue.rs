//! Enqueue: create a job, honouring unique keys, schedules and expiry.

use super::{CmdResult, Ctx, details};
use crate::command::{Enqueue, Reply};
use crate::keys::{self, Table, TimerKind, UniqueLock, meta};
use crate::model::{EventKind, Job, JobState};
use crate::state::StateTxn;
use crate::validate;

pub(super) fn enqueue<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &Enqueue) -> CmdResult {
    if let Err(e) = validate::enqueue_structure(cmd) {
        return Ok(Err(e));
    }
    if cmd
        .options
        .scheduled_at_ms
        .is_some_and(|at| at > ctx.now.saturating_add(validate::DURATION_MS_MAX))
    {
        return Ok(Err(validate::invalid(
            "options.scheduled_at",
            "must be at most ten years ahead",
        )));
    }
    // Idempotent on the id: a re-proposed enqueue returns the job it created.
    if let Some(existing) = ctx.load_job(&cmd.id)? {
        return Ok(Ok(Reply::Enqueued {
            job_id: existing.id,
            state: existing.state,
            duplicate: true,
        }));
    }
    let opts = &cmd.options;
    if let Some(key) = &opts.unique_key {
        let lock_key = keys::unique_key(&cmd.queue, key);
        if let Some(bytes) = ctx.txn.get(Table::Unique, &lock_key)? {
            let lock: UniqueLock = keys::decode(Table::Unique, &lock_key, &bytes)?;
            if lock.expires_at_ms > ctx.now
                && let Some(holder) = ctx.load_job(&lock.job_id)?
            {
                return Ok(Ok(Reply::Enqueued {
                    job_id: holder.id,
                    state: holder.state,
                    duplicate: true,
                }));
            }
            // The old lock is over; its release timer may still be pending.
            ctx.clear_timer(lock.expires_at_ms, TimerKind::UniqueRelease, &lock.job_id)?;
        }
    }

    let seq = ctx.next_counter(meta::JOB_SEQ)?;
    let now = ctx.now;
    let mut job = Job {
        id: cmd.id.clone(),
        queue: cmd.queue.clone(),
        state: JobState::Pending,
        payload: cmd.payload.clone(),
        priority: opts.priority,
        attempt: 0,
        max_attempts: opts.max_attempts,
        backoff: opts.backoff,
        tags: opts.tags.clone(),
        unique_key: opts.unique_key.clone(),
        seq,
        created_at_ms: now,
        scheduled_at_ms: opts.scheduled_at_ms.filter(|at| *at > now),
        started_at_ms: None,
        finished_at_ms: None,
        expire_at_ms: opts.expire_after_ms.map(|after| now.saturating_add(after)),
        next_attempt_at_ms: None,
        lease: None,
        progress: None,
        checkpoint: None,
        result: None,
        last_error: None,
        ready_at_ms: None,
        trace_parent: opts.trace_parent.clone(),
    };

    if let Some(at) = job.scheduled_at_ms {
        job.state = JobState::Scheduled;
        ctx.set_timer(at, TimerKind::Promote, &job.id)?;
    } else {
        ctx.make_ready(&mut job)?;
    }
    if let Some(at) = job.expire_at_ms {
        ctx.set_timer(at, TimerKind::Expire, &job.id)?;
    }
    if let Some(key) = &opts.unique_key {
        let expires_at_ms = now.saturating_add(opts.unique_period_ms);
        let lock = UniqueLock {
            job_id: job.id.clone(),
            expires_at_ms,
        };
        ctx.txn.put(
            Table::Unique,
            &keys::unique_key(&job.queue, key),
            &keys::encode(&lock),
        )?;
        ctx.set_timer(expires_at_ms, TimerKind::UniqueRelease, &job.id)?;
    }
    ctx.save_job(&job)?;
    ctx.event(
        EventKind::Enqueued,
        &job,
        details(&[("state", job.state.as_str().into())]),
    )?;
    Ok(Ok(Reply::Enqueued {
        job_id: job.id,
        state: job.state,
        duplicate: false,
    }))
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::*;
    use crate::command::Reply;
    use crate::model::{EnqueueOptions, JobState, Priority};

    #[test]
    fn the_trace_context_is_kept_on_the_job_and_leased_with_it() {
        let mut w = World::new();
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                trace_parent: Some(tp.into()),
                ..Default::default()
            },
        );
        assert_eq!(w.job("j1").trace_parent.as_deref(), Some(tp));
        let leased = w.lease(&["q"], 1, 30_000);
        assert_eq!(leased[0].trace_parent.as_deref(), Some(tp));
    }

    #[test]
    fn enqueue_creates_a_pending_job_with_an_event() {
        let mut w = World::new();
        let r = w.enqueue("emails", "{\"to\":1}", EnqueueOptions::default());
        assert_eq!(
            r,
            Reply::Enqueued {
                job_id: "j1".into(),
                state: JobState::Pending,
                duplicate: false
            }
        );
        let job = w.job("j1");
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(job.payload, "{\"to\":1}");
        assert_eq!(job.trace_parent, None);
        assert_eq!(w.ready_ids("emails"), vec!["j1"]);
        assert_eq!(w.event_kinds(), vec!["enqueued"]);
        assert!(
            w.last
                .effects
                .iter()
                .any(|e| matches!(e, crate::Effect::Ready { queue } if queue == "emails"))
        );
    }

    #[test]
    fn scheduled_job_waits_for_its_time_then_becomes_pending() {
        let mut w = World::new();
        let opts = EnqueueOptions {
            scheduled_at_ms: Some(w.now + 5_000),
            ..Default::default()
        };
        w.enqueue("q", "{}", opts);
        assert_eq!(w.job("j1").state, JobState::Scheduled);
        assert!(w.ready_ids("q").is_empty());
        assert_eq!(w.last.next_due_ms, Some(w.now + 5_000));
        w.advance(4_999);
        w.tick();
        assert_eq!(w.job("j1").state, JobState::Scheduled);
        w.advance(1);
        w.tick();
        assert_eq!(w.job("j1").state, JobState::Pending);
        assert_eq!(w.ready_ids("q"), vec!["j1"]);
    }

    #[test]
    fn a_schedule_in_the_past_is_pending_at_once() {
        let mut w = World::new();
        let opts = EnqueueOptions {
            scheduled_at_ms: Some(w.now - 1),
            ..Default::default()
        };
        w.enqueue("q", "{}", opts);
        assert_eq!(w.job("j1").state, JobState::Pending);
    }

    #[test]
    fn unique_key_returns_the_holder_until_the_period_ends() {
        let mut w = World::new();
        let opts = EnqueueOptions {
            unique_key: Some("k".into()),
            unique_period_ms: 1_000,
            ..Default::default()
        };
        w.enqueue("q", "{}", opts.clone());
        let dup = w.enqueue("q", "{}", opts.clone());
        assert_eq!(
            dup,
            Reply::Enqueued {
                job_id: "j1".into(),
                state: JobState::Pending,
                duplicate: true
            }
        );
        // Another queue has its own key space.
        let other = w.enqueue("q2", "{}", opts.clone());
        assert!(matches!(
            other,
            Reply::Enqueued {
                duplicate: false,
                ..
            }
        ));
        w.advance(1_000);
        w.tick();
        let fresh = w.enqueue("q", "{}", opts);
        assert!(
            matches!(
                fresh,
                Reply::Enqueued {
                    duplicate: false,
                    ..
                }
            ),
            "{fresh:?}"
        );
    }

    #[test]
    fn re_proposed_enqueue_with_the_same_id_is_idempotent() {
        let mut w = World::new();
        w.enqueue_with_id("same", "q", "{}", EnqueueOptions::default());
        let again = w.enqueue_with_id("same", "q", "{}", EnqueueOptions::default());
        assert_eq!(
            again,
            Reply::Enqueued {
                job_id: "same".into(),
                state: JobState::Pending,
                duplicate: true
            }
        );
        assert_eq!(w.ready_ids("q").len(), 1);
    }

    #[test]
    fn invalid_structure_is_refused_and_writes_nothing() {
        let mut w = World::new();
        let before = w.state.clone();
        let err = w
            .try_enqueue("", "{}", EnqueueOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("queue"), "{err}");
        let err = w
            .try_enqueue(
                "q",
                "{}",
                EnqueueOptions {
                    max_attempts: 0,
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");
        assert_eq!(w.state, before);
    }

    #[test]
    fn priorities_order_the_ready_index_and_fifo_within_one() {
        let mut w = World::new();
        for p in [
            Priority::Low,
            Priority::Normal,
            Priority::Critical,
            Priority::High,
            Priority::Normal,
        ] {
            w.enqueue(
                "q",
                "{}",
                EnqueueOptions {
                    priority: p,
                    ..Default::default()
                },
            );
        }
        assert_eq!(w.ready_ids("q"), vec!["j3", "j4", "j2", "j5", "j1"]);
    }

    #[test]
    fn a_job_scheduled_more_than_ten_years_ahead_is_refused() {
        let mut w = World::new();
        let far = EnqueueOptions {
            scheduled_at_ms: Some(u64::MAX),
            ..Default::default()
        };
        let e = w.try_enqueue("q", "{}", far).unwrap_err();
        assert!(e.to_string().contains("options.scheduled_at"), "{e}");
        let ok = EnqueueOptions {
            scheduled_at_ms: Some(w.now + crate::validate::DURATION_MS_MAX),
            ..Default::default()
        };
        assert!(w.try_enqueue("q", "{}", ok).is_ok());
    }
}
