//! Lease: hand ready jobs to a worker, best priority first, FIFO within a priority, never more
//! than fit in one response message, and never past a queue's pause, concurrency limit or rate
//! limit (enforced here, in the replicated apply, so they hold on every path and across leader
//! changes).

use super::{CmdResult, Ctx, LEASE_COUNT_MAX, details};
use crate::command::{Lease, Reply};
use crate::keys::{self, Table, TimerKind, meta};
use crate::model::{EventKind, JobState, LeaseInfo};
use crate::state::{StateTxn, StoreError};

/// Leases up to `cmd.count` jobs whose [`crate::model::Job::wire_bytes`] add up to at most
/// `bytes_max` (the first job is leased whatever its size).
pub(super) fn lease<T: StateTxn>(ctx: &mut Ctx<'_, T>, cmd: &Lease, bytes_max: u64) -> CmdResult {
    let count = cmd.count.min(LEASE_COUNT_MAX);
    // Each queue once: how many jobs it may still hand out in this lease, and where its
    // ready entries are.
    let mut queues: Vec<Leasing> = Vec::with_capacity(cmd.queues.len());
    for queue in &cmd.queues {
        if !queues.iter().any(|q| q.name == *queue) {
            let prefix = keys::queue_prefix(queue);
            queues.push(Leasing {
                name: queue.clone(),
                allowance: ctx.allowance(queue)?,
                end: keys::prefix_end(&prefix),
                prefix,
            });
        }
    }
    let mut leased = Vec::new();
    let mut bytes = 0u64;
    while (leased.len() as u32) < count {
        let Some((ready_key, job_id)) = best_ready(ctx, &queues)? else {
            break;
        };
        let Some(mut job) = ctx.load_job(&job_id)? else {
            // An index entry without its job cannot happen; drop it rather than loop on it.
            ctx.txn.delete(Table::Ready, &ready_key)?;
            continue;
        };
        ctx.attach_payload(&mut job)?;
        bytes = bytes.saturating_add(job.wire_bytes());
        if !leased.is_empty() && bytes > bytes_max {
            // It stays ready: the next lease (or another worker) takes it.
            break;
        }
        ctx.txn.delete(Table::Ready, &ready_key)?;
        ctx.clear_expiry(&job)?;
        let token = ctx.next_counter(meta::LEASE_SEQ)?;
        let deadline_ms = ctx.now.saturating_add(cmd.lease_ms);
        job.state = JobState::Active;
        job.attempt += 1;
        job.started_at_ms = Some(ctx.now);
        job.lease = Some(LeaseInfo {
            token,
            worker_id: cmd.worker_id.clone(),
            hostname: cmd.hostname.clone(),
            deadline_ms,
            duration_ms: cmd.lease_ms,
        });
        ctx.set_timer(deadline_ms, TimerKind::LeaseExpiry, &job.id)?;
        ctx.save_job(&job)?;
        ctx.count_start(&job.queue)?;
        if let Some(q) = queues.iter_mut().find(|q| q.name == job.queue) {
            q.allowance = q.allowance.saturating_sub(1);
        }
        ctx.event(
            EventKind::Started,
            &job,
            details(&[
                ("attempt", job.attempt.into()),
                ("worker_id", cmd.worker_id.as_str().into()),
            ]),
        )?;
        leased.push(job);
    }
    // A queue held back by its limits while it has ready jobs: counted as throttled, and a
    // rate-limited one gets a timer at its next window, whose tick wakes its workers.
    for q in queues {
        if q.allowance == 0 {
            ctx.note_limited(&q.name)?;
        }
    }
    Ok(Ok(Reply::Leased(leased)))
}

impl<T: StateTxn> Ctx<'_, T> {
    /// How many jobs `queue` may hand out now: none while paused, else what its concurrency and
    /// rate limits leave (`u32::MAX` without limits).
    fn allowance(&mut self, queue: &str) -> Result<u32, StoreError> {
        let config = self.queue_config(queue)?;
        if config.paused {
            return Ok(0);
        }
        let mut allowance = config.starts_left(self.now);
        if let Some(max) = config.concurrency_max {
            let active = self.count_now(queue, JobState::Active)?;
            let left = u64::from(max).saturating_sub(active);
            allowance = allowance.min(u32::try_from(left).unwrap_or(u32::MAX));
        }
        Ok(allowance)
    }

    /// Counts a start in `queue`'s rate window.
    fn count_start(&mut self, queue: &str) -> Result<(), StoreError> {
        let mut config = self.queue_config(queue)?;
        let Some(rate) = config.rate else {
            return Ok(());
        };
        let window = self.now / rate.window_ms.max(1);
        if window != config.window {
            config.window = window;
            config.started = 0;
        }
        config.started = config.started.saturating_add(1);
        self.put_queue_config(queue, config);
        Ok(())
    }

    /// `queue` handed out all it may: if it still has ready jobs (and is not paused), that is
    /// a throttled dispatch, and a rate-limited queue needs a wake-up at its next window.
    fn note_limited(&mut self, queue: &str) -> Result<(), StoreError> {
        let config = self.queue_config(queue)?;
        if config.paused || !crate::query::has_ready(self.txn, &[queue.to_owned()])? {
            return Ok(());
        }
        self.note_throttled(queue);
        if config.starts_left(self.now) == 0
            && let Some(at) = config.next_window_ms(self.now)
        {
            self.set_timer(at, TimerKind::QueueWindow, queue)?;
        }
        Ok(())
    }
}

/// A queue a lease takes jobs from.
struct Leasing {
    name: String,
    /// Jobs it may still hand out in this lease (its pause and limits).
    allowance: u32,
    /// Its ready entries' keys: `prefix <= key < end`.
    prefix: Vec<u8>,
    end: Vec<u8>,
}

/// The first ready entry over the `queues` that may still hand out a job: lowest (priority
/// rank, seq).
fn best_ready<T: StateTxn>(
    ctx: &Ctx<'_, T>,
    queues: &[Leasing],
) -> Result<Option<(Vec<u8>, String)>, StoreError> {
    let mut best: Option<(Vec<u8>, usize, String)> = None;
    for Leasing {
        allowance,
        prefix,
        end,
        ..
    } in queues
    {
        if *allowance == 0 {
            continue;
        }
        let Some((key, value)) = ctx.txn.first(Table::Ready, prefix, end)? else {
            continue;
        };
        let order = &key[prefix.len()..];
        let better = match &best {
            Some((bk, plen, _)) => order < &bk[*plen..],
            None => true,
        };
        if better {
            let id = String::from_utf8(value).map_err(|e| StoreError::Corrupt {
                table: Table::Ready,
                key: key.clone(),
                reason: e.to_string(),
            })?;
            best = Some((key, prefix.len(), id));
        }
    }
    Ok(best.map(|(k, _, id)| (k, id)))
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::*;
    use crate::model::{EnqueueOptions, JobState, Priority};

    #[test]
    fn a_job_leased_in_its_enqueue_entry_wakes_nobody() {
        use crate::command::{Command, Effect, Enqueue, Lease};
        let enqueue = |id: &str| {
            Command::Enqueue(Enqueue {
                id: id.into(),
                queue: "q".into(),
                payload: "{}".into(),
                options: EnqueueOptions::default(),
            })
        };
        let lease = |count| {
            Command::Lease(Lease {
                queues: vec!["q".into()],
                count,
                worker_id: "w1".into(),
                hostname: "h1".into(),
                lease_ms: 30_000,
            })
        };
        let ready = |w: &World| {
            w.last
                .effects
                .iter()
                .any(|e| matches!(e, Effect::Ready { queue } if queue == "q"))
        };
        // Piggyback dispatch: the enqueue and a lease that takes it in one entry.
        let mut w = World::new();
        w.run_batch(vec![enqueue("a"), lease(1)]);
        assert_eq!(w.job("a").state, JobState::Active);
        assert!(!ready(&w), "nothing is left ready: no wake-up");
        // The lease took one of two: the other is ready, and waiting workers hear of it.
        w.run_batch(vec![enqueue("b"), enqueue("c"), lease(1)]);
        assert_eq!(w.ready_ids("q"), vec!["c"]);
        assert!(ready(&w));
    }

    #[test]
    fn lease_takes_best_priority_across_queues_and_sets_a_fenced_lease() {
        let mut w = World::new();
        w.enqueue("a", "{}", EnqueueOptions::default());
        w.enqueue(
            "b",
            "{}",
            EnqueueOptions {
                priority: Priority::High,
                ..Default::default()
            },
        );
        w.enqueue("a", "{}", EnqueueOptions::default());
        let jobs = w.lease(&["a", "b"], 2, 30_000);
        let ids: Vec<_> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, vec!["j2", "j1"]);
        let j = w.job("j2");
        assert_eq!(j.state, JobState::Active);
        assert_eq!(j.attempt, 1);
        let lease = j.lease.expect("lease");
        assert_eq!(lease.deadline_ms, w.now + 30_000);
        assert_ne!(lease.token, w.job("j1").lease.expect("lease").token);
        assert_eq!(w.ready_ids("a"), vec!["j3"]);
        assert_eq!(w.last.next_due_ms, Some(w.now + 30_000));
    }

    #[test]
    fn a_lease_stops_before_the_job_that_would_overflow_its_message() {
        use crate::command::{Command, Lease, Reply};
        let mut w = World::new();
        let payload = format!("\"{}\"", "x".repeat(10_000));
        for _ in 0..10 {
            w.enqueue("q", &payload, EnqueueOptions::default());
        }
        let one = w.job("j1").wire_bytes();
        let lease = |bytes_max| Command::LeaseWithin {
            lease: Lease {
                queues: vec!["q".into()],
                count: 10,
                worker_id: "w".into(),
                hostname: "h".into(),
                lease_ms: 1_000,
            },
            bytes_max,
        };
        // Room for three and a half jobs: three are leased, the rest stay ready.
        let Ok(Reply::Leased(jobs)) = w.run(lease(one * 7 / 2)) else {
            panic!("leased");
        };
        assert_eq!(jobs.len(), 3);
        assert_eq!(w.ready_ids("q").len(), 7);
        // A budget below one job still leases one.
        let Ok(Reply::Leased(jobs)) = w.run(lease(1)) else {
            panic!("leased");
        };
        assert_eq!(jobs.len(), 1);
        assert_eq!(w.ready_ids("q").len(), 6);
    }

    #[test]
    fn lease_on_empty_queues_returns_nothing() {
        let mut w = World::new();
        assert!(w.lease(&["nothing"], 5, 1_000).is_empty());
    }

    #[test]
    fn queue_names_that_prefix_each_other_do_not_mix() {
        let mut w = World::new();
        w.enqueue("ab", "{}", EnqueueOptions::default());
        assert!(w.lease(&["a"], 1, 1_000).is_empty());
        assert_eq!(w.lease(&["ab"], 1, 1_000).len(), 1);
    }
}
