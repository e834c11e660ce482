//! Queue settings: pause, resume, limits and retention, and what the rest of the apply asks
//! of them (a queue's settings, its retention, its activity in this batch).

use super::{CmdResult, Ctx};
use crate::command::{Effect, QueueActivity, Reply};
use crate::keys::{self, Table, meta};
use crate::model::{EventKind, JobState};
use crate::queues::{
    self, DEAD_RETENTION_MS_DEFAULT, QueueChange, QueueConfig, RETENTION_MS_DEFAULT,
};
use crate::state::{StateTxn, StoreError};

pub(super) fn configure<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    queue: &str,
    change: &QueueChange,
) -> CmdResult {
    if let Err(e) = queues::check_change(queue, change) {
        return Ok(Err(e));
    }
    let mut config = ctx.queue_config(queue)?;
    // Whether waiting workers should look again: the queue may hand out more now.
    let mut wake = false;
    match change {
        QueueChange::Pause => config.paused = true,
        QueueChange::Resume => {
            wake = config.paused;
            config.paused = false;
        }
        QueueChange::Limits {
            concurrency_max,
            rate,
        } => {
            wake = true;
            config.concurrency_max = *concurrency_max;
            if config.rate != *rate {
                config.rate = *rate;
                config.window = 0;
                config.started = 0;
            }
        }
        QueueChange::Retention {
            retention_ms,
            dead_retention_ms,
        } => {
            config.retention_ms = *retention_ms;
            config.dead_retention_ms = *dead_retention_ms;
        }
        QueueChange::Forget => config = QueueConfig::default(),
    }
    ctx.put_queue_config(queue, config.clone());
    if wake {
        ctx.wake(queue);
    }
    Ok(Ok(Reply::Queue {
        queue: queue.to_owned(),
        config,
    }))
}

pub(super) fn set_retention_defaults<T: StateTxn>(
    ctx: &mut Ctx<'_, T>,
    retention_ms: u64,
    dead_retention_ms: u64,
) -> CmdResult {
    for (field, ms) in [
        ("retention_ms", retention_ms),
        ("dead_retention_ms", dead_retention_ms),
    ] {
        if let Err(e) = queues::check_retention(field, ms) {
            return Ok(Err(e));
        }
    }
    ctx.set_counter(meta::RETENTION_MS, retention_ms)?;
    ctx.set_counter(meta::DEAD_RETENTION_MS, dead_retention_ms)?;
    ctx.retention = Some((retention_ms, dead_retention_ms));
    Ok(Ok(Reply::DefaultsSet))
}

impl<T: StateTxn> Ctx<'_, T> {
    /// A queue's settings (the defaults when it has none), as this batch left them.
    pub fn queue_config(&mut self, queue: &str) -> Result<QueueConfig, StoreError> {
        if let Some((config, _)) = self.queue_configs.get(queue) {
            return Ok(config.clone());
        }
        let config = match self.txn.get(Table::Queues, queue.as_bytes())? {
            Some(bytes) => keys::decode_queue(queue.as_bytes(), &bytes)?,
            None => QueueConfig::default(),
        };
        self.queue_configs
            .insert(queue.to_owned(), (config.clone(), false));
        Ok(config)
    }

    /// Changes a queue's settings (written once, at the end of the batch).
    pub fn put_queue_config(&mut self, queue: &str, config: QueueConfig) {
        self.queue_configs.insert(queue.to_owned(), (config, true));
    }

    /// Writes the settings this batch changed; a queue back at the defaults loses its record.
    pub(super) fn flush_queue_configs(&mut self) -> Result<(), StoreError> {
        for (queue, (config, dirty)) in std::mem::take(&mut self.queue_configs) {
            if !dirty {
                continue;
            }
            if config.is_default() {
                self.txn.delete(Table::Queues, queue.as_bytes())?;
            } else {
                self.txn
                    .put(Table::Queues, queue.as_bytes(), &keys::encode(&config))?;
            }
        }
        Ok(())
    }

    /// How long a job of `queue` that finished in `state` is kept.
    pub fn retention_for(&mut self, queue: &str, state: JobState) -> Result<u64, StoreError> {
        let (retention, dead) = match self.retention {
            Some(r) => r,
            None => {
                let or_default = |v: u64, d: u64| if v == 0 { d } else { v };
                let r = (
                    or_default(self.counter(meta::RETENTION_MS)?, RETENTION_MS_DEFAULT),
                    or_default(
                        self.counter(meta::DEAD_RETENTION_MS)?,
                        DEAD_RETENTION_MS_DEFAULT,
                    ),
                );
                self.retention = Some(r);
                r
            }
        };
        let config = self.queue_config(queue)?;
        Ok(if state == JobState::Dead {
            config.dead_retention_ms.unwrap_or(dead)
        } else {
            config.retention_ms.unwrap_or(retention)
        })
    }

    /// Tells waiting workers to look at `queue` again (kept only if it has work to hand out).
    pub fn wake(&mut self, queue: &str) {
        let present = self
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Ready { queue: q } if q == queue));
        if !present {
            self.effects.push(Effect::Ready {
                queue: queue.to_owned(),
            });
        }
    }

    /// A queue with a concurrency limit that has fewer active jobs than before may hand out
    /// more: its waiting workers look again.
    pub(super) fn wake_freed_queues(&mut self, freed: Vec<String>) -> Result<(), StoreError> {
        for queue in freed {
            if self.queue_config(&queue)?.concurrency_max.is_some() {
                self.wake(&queue);
            }
        }
        Ok(())
    }

    fn activity_of(&mut self, queue: &str) -> &mut QueueActivity {
        if !self.activity.contains_key(queue) {
            self.activity.insert(
                queue.to_owned(),
                QueueActivity {
                    queue: queue.to_owned(),
                    ..QueueActivity::default()
                },
            );
        }
        self.activity.get_mut(queue).expect("inserted just above")
    }

    /// Counts an event in its queue's activity of this batch.
    pub(super) fn note_event(&mut self, kind: EventKind, queue: &str) {
        match kind {
            EventKind::Enqueued => self.activity_of(queue).enqueued += 1,
            EventKind::Completed => self.activity_of(queue).completed += 1,
            EventKind::Failed | EventKind::Reclaimed => self.activity_of(queue).failed += 1,
            _ => {}
        }
    }

    /// A lease skipped `queue`'s ready jobs because of its limits.
    pub fn note_throttled(&mut self, queue: &str) {
        self.activity_of(queue).throttled += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::apply::testkit::World;
    use crate::command::{Command, Effect, JobError, Reply};
    use crate::model::{EnqueueOptions, JobState};
    use crate::queues::{QueueChange, RateLimit};

    fn configure(w: &mut World, queue: &str, change: QueueChange) -> Result<Reply, JobError> {
        w.run(Command::ConfigureQueue {
            queue: queue.into(),
            change,
        })
    }

    fn limits(concurrency_max: Option<u32>, rate: Option<(u32, u64)>) -> QueueChange {
        QueueChange::Limits {
            concurrency_max,
            rate: rate.map(|(starts, window_ms)| RateLimit { starts, window_ms }),
        }
    }

    #[test]
    fn a_paused_queue_takes_enqueues_and_hands_out_nothing_until_resumed() {
        let mut w = World::new();
        configure(&mut w, "q", QueueChange::Pause).unwrap();
        w.enqueue("q", "{}", EnqueueOptions::default());
        assert!(w.last.effects.is_empty(), "a paused queue wakes nobody");
        assert!(w.lease(&["q"], 5, 1_000).is_empty());
        assert_eq!(w.ready_ids("q"), vec!["j1"]);
        configure(&mut w, "q", QueueChange::Resume).unwrap();
        assert_eq!(w.last.effects, vec![Effect::Ready { queue: "q".into() }]);
        assert_eq!(w.lease(&["q"], 5, 1_000).len(), 1);
    }

    #[test]
    fn a_concurrency_limit_caps_active_jobs_and_a_settled_job_frees_a_place() {
        let mut w = World::new();
        configure(&mut w, "q", limits(Some(2), None)).unwrap();
        for _ in 0..5 {
            w.enqueue("q", "{}", EnqueueOptions::default());
        }
        assert_eq!(w.lease(&["q"], 5, 60_000).len(), 2);
        assert!(w.lease(&["q"], 5, 60_000).is_empty());
        assert!(
            w.last
                .activity
                .iter()
                .any(|a| a.queue == "q" && a.throttled == 1)
        );
        // An ack frees a place: waiting workers are woken, and one more job goes out.
        let active = w.job("j1");
        w.ack(&active.id, active.lease.as_ref().map(|l| l.token), None)
            .unwrap();
        assert_eq!(w.last.effects, vec![Effect::Ready { queue: "q".into() }]);
        assert_eq!(w.lease(&["q"], 5, 60_000).len(), 1);
        assert!(w.lease(&["q"], 5, 60_000).is_empty());
        // Several queues in one lease: the limited one gives what it may, the other the rest.
        w.enqueue("other", "{}", EnqueueOptions::default());
        let jobs = w.lease(&["q", "other"], 5, 60_000);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].queue, "other");
    }

    #[test]
    fn a_rate_limit_allows_so_many_starts_per_window_and_wakes_workers_at_the_next() {
        let mut w = World::new();
        w.now = 10_000_000; // on a window boundary
        configure(&mut w, "q", limits(None, Some((3, 1_000)))).unwrap();
        for _ in 0..10 {
            w.enqueue("q", "{}", EnqueueOptions::default());
        }
        assert_eq!(w.lease(&["q"], 10, 60_000).len(), 3);
        assert!(w.lease(&["q"], 10, 60_000).is_empty());
        // The next window is a timer: its tick wakes the queue's workers.
        assert_eq!(w.last.next_due_ms, Some(10_001_000));
        w.advance(1_000);
        w.tick();
        assert!(
            w.last
                .effects
                .contains(&Effect::Ready { queue: "q".into() })
        );
        assert_eq!(w.lease(&["q"], 10, 60_000).len(), 3);
    }

    #[test]
    fn bad_settings_are_refused_and_defaults_forget_the_record() {
        let mut w = World::new();
        for (change, field) in [
            (limits(Some(0), None), "concurrency"),
            (limits(None, Some((0, 1_000))), "rate_starts"),
            (limits(None, Some((1, 10))), "rate_window_ms"),
            (
                QueueChange::Retention {
                    retention_ms: Some(1),
                    dead_retention_ms: None,
                },
                "retention_ms",
            ),
        ] {
            match configure(&mut w, "q", change) {
                Err(JobError::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(configure(&mut w, "", QueueChange::Pause).is_err());
        configure(&mut w, "q", QueueChange::Pause).unwrap();
        assert_eq!(w.state.len(crate::keys::Table::Queues), 1);
        configure(&mut w, "q", QueueChange::Resume).unwrap();
        assert_eq!(w.state.len(crate::keys::Table::Queues), 0);
    }

    #[test]
    fn finished_jobs_are_purged_after_their_queues_retention() {
        let mut w = World::new();
        w.run(Command::SetRetentionDefaults {
            retention_ms: 10_000,
            dead_retention_ms: 60_000,
        })
        .unwrap();
        configure(
            &mut w,
            "short",
            QueueChange::Retention {
                retention_ms: Some(2_000),
                dead_retention_ms: None,
            },
        )
        .unwrap();
        w.enqueue("short", "{}", EnqueueOptions::default());
        w.enqueue("long", "{}", EnqueueOptions::default());
        for q in ["short", "long"] {
            let job = w.lease(&[q], 1, 60_000).remove(0);
            w.ack(&job.id, job.lease.map(|l| l.token), None).unwrap();
        }
        w.advance(2_000);
        w.tick();
        assert_eq!(w.last.purged, 1);
        assert!(w.try_job("j1").is_none(), "short retention: gone");
        assert_eq!(w.job("j2").state, JobState::Completed);
        w.advance(8_000);
        w.tick();
        assert!(w.try_job("j2").is_none());
    }
}
