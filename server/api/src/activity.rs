//! Per-queue activity over the last minute, as this node applied it: enqueued, completed,
//! failed and throttled counts in one-second buckets, fed from every applied entry's outcome.
//! `QueueService` reports the sums; metrics count the throttled dispatches and purges.
//!
//! Node-local (every node applies every entry, so every node sees the same counts, at its own
//! apply time). Bounded: a queue with no activity for a minute is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use corvo_core::QueueActivity;

/// Seconds of history kept.
const WINDOW_SECS: usize = 60;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub enqueued: u32,
    pub completed: u32,
    pub failed: u32,
    pub throttled: u32,
}

impl Counts {
    fn add(&mut self, a: &QueueActivity) {
        self.enqueued = self.enqueued.saturating_add(a.enqueued);
        self.completed = self.completed.saturating_add(a.completed);
        self.failed = self.failed.saturating_add(a.failed);
        self.throttled = self.throttled.saturating_add(a.throttled);
    }

    fn sum(&mut self, other: &Counts) {
        self.enqueued = self.enqueued.saturating_add(other.enqueued);
        self.completed = self.completed.saturating_add(other.completed);
        self.failed = self.failed.saturating_add(other.failed);
        self.throttled = self.throttled.saturating_add(other.throttled);
    }
}

/// One queue's ring of per-second buckets.
struct Ring {
    /// (second since the epoch, counts) per slot.
    slots: [(u64, Counts); WINDOW_SECS],
    last_second: u64,
}

/// See the module doc.
#[derive(Default)]
pub struct ActivityLog {
    queues: Mutex<HashMap<String, Ring>>,
    /// Throttled dispatches per queue since start (a metric counter).
    throttled_total: Mutex<HashMap<String, u64>>,
    purged_total: AtomicU64,
}

impl ActivityLog {
    /// Adds one applied entry's activity at `now_ms`.
    pub fn record(&self, now_ms: u64, activity: &[QueueActivity], purged: u32) {
        if purged > 0 {
            self.purged_total
                .fetch_add(u64::from(purged), Ordering::Relaxed);
        }
        if activity.is_empty() {
            return;
        }
        let second = now_ms / 1_000;
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        for a in activity {
            let ring = queues.entry(a.queue.clone()).or_insert_with(|| Ring {
                slots: [(0, Counts::default()); WINDOW_SECS],
                last_second: second,
            });
            let slot = &mut ring.slots[(second % WINDOW_SECS as u64) as usize];
            if slot.0 != second {
                *slot = (second, Counts::default());
            }
            slot.1.add(a);
            ring.last_second = ring.last_second.max(second);
        }
        // Forget queues quiet for a whole window (bounded memory whatever the queue count).
        if queues.len() > 64 {
            queues.retain(|_, r| second.saturating_sub(r.last_second) < WINDOW_SECS as u64);
        }
        drop(queues);
        let throttled: Vec<_> = activity.iter().filter(|a| a.throttled > 0).collect();
        if !throttled.is_empty() {
            let mut totals = self
                .throttled_total
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for a in throttled {
                *totals.entry(a.queue.clone()).or_default() += u64::from(a.throttled);
            }
        }
    }

    /// `queue`'s counts over the minute before `now_ms`.
    pub fn last_minute(&self, queue: &str, now_ms: u64) -> Counts {
        let second = now_ms / 1_000;
        let queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = Counts::default();
        if let Some(ring) = queues.get(queue) {
            for (at, counts) in &ring.slots {
                if *at + (WINDOW_SECS as u64) > second && *at <= second {
                    total.sum(counts);
                }
            }
        }
        total
    }

    /// Throttled dispatches per queue since the process started.
    pub fn throttled_totals(&self) -> Vec<(String, u64)> {
        let totals = self
            .throttled_total
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = totals.iter().map(|(q, n)| (q.clone(), *n)).collect();
        v.sort();
        v
    }

    /// Finished jobs removed by retention since the process started (on this node's applies).
    pub fn purged_total(&self) -> u64 {
        self.purged_total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(queue: &str, enqueued: u32, throttled: u32) -> QueueActivity {
        QueueActivity {
            queue: queue.into(),
            enqueued,
            completed: 1,
            failed: 0,
            throttled,
        }
    }

    #[test]
    fn counts_cover_the_last_minute_only() {
        let log = ActivityLog::default();
        log.record(1_000_000, &[act("q", 5, 1)], 0);
        log.record(1_030_000, &[act("q", 2, 0), act("r", 1, 0)], 3);
        let c = log.last_minute("q", 1_040_000);
        assert_eq!((c.enqueued, c.completed, c.throttled), (7, 2, 1));
        // A minute after the first record, only the second is left.
        let c = log.last_minute("q", 1_061_000);
        assert_eq!(c.enqueued, 2);
        assert_eq!(log.last_minute("q", 1_200_000), Counts::default());
        assert_eq!(log.throttled_totals(), vec![("q".to_owned(), 1)]);
        assert_eq!(log.purged_total(), 3);
    }
}
