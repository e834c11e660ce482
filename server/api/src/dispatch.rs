//! Piggyback dispatch: a job enqueued while a worker stream waits for work on its queue is
//! leased to that stream in the same log entry as the enqueue.
//!
//! ```text
//!  propose([Enqueue q ×n, ...]) ──▶ Dispatcher::piggyback: a waiting PushTarget on q with
//!                                   credits? reserve ≤ n credits, append Lease{its queues}
//!                                   ──▶ one log entry: enqueues, then the lease
//!  replies ──▶ Dispatcher::deliver: leased jobs → the target's inbox → its pusher sends them;
//!                                   unused credits return to the target
//! ```
//!
//! Without this a job needs two Raft rounds to reach a waiting worker (the enqueue, then the
//! stream's own `Lease` after the "ready" signal); with it, one. Streams that find no waiting
//! target keep the usual path: wake on "ready", check the state, lease.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use corvo_core::model::Job;
use corvo_core::{Command, JobError, Lease, Reply};
use tokio::sync::{Notify, mpsc};
use tracing::debug;

/// A stream that takes pushed jobs: its lease template and its free credits. The inbox is
/// unbounded in messages but bounded in jobs by the credits the stream granted.
pub struct PushTarget {
    lease: Mutex<Option<Lease>>,
    credits: AtomicU32,
    inbox: mpsc::UnboundedSender<Vec<Job>>,
    /// Wakes the stream's pusher when credits arrive.
    pub wake: Notify,
    /// The pusher is parked waiting for work. Only parked streams are piggybacked on: a busy
    /// stream leases in batches on its own, which keeps pushes (and the worker's acks) large
    /// under load, while an idle one gets each job one Raft round after it was enqueued.
    waiting: AtomicBool,
}

impl PushTarget {
    pub fn new() -> (Arc<PushTarget>, mpsc::UnboundedReceiver<Vec<Job>>) {
        let (inbox, rx) = mpsc::unbounded_channel();
        let target = PushTarget {
            lease: Mutex::new(None),
            credits: AtomicU32::new(0),
            inbox,
            wake: Notify::new(),
            waiting: AtomicBool::new(false),
        };
        (Arc::new(target), rx)
    }

    /// What leases for this stream look like (`count` is set per lease).
    pub fn lease(&self) -> Option<Lease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_lease(&self, lease: Lease) {
        *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
    }

    /// Free credits (not reserved by a lease in flight).
    pub fn credits(&self) -> u32 {
        self.credits.load(Ordering::Acquire)
    }

    pub fn grant(&self, n: u32) {
        if n > 0 {
            self.credits.fetch_add(n, Ordering::AcqRel);
            self.wake.notify_one();
        }
    }

    /// Takes up to `max` free credits for a lease; returns how many were taken.
    pub fn reserve(&self, max: u32) -> u32 {
        let mut taken = 0;
        let _ = self
            .credits
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                taken = c.min(max);
                Some(c - taken)
            });
        taken
    }

    /// The pusher parks (true) or wakes (false).
    pub fn set_waiting(&self, waiting: bool) {
        self.waiting.store(waiting, Ordering::Release);
    }

    /// Gives back credits a lease reserved but did not use.
    pub fn release(&self, n: u32) {
        self.grant(n);
    }
}

/// One piggybacked lease in flight.
pub struct Reservation {
    target: Arc<PushTarget>,
    reserved: u32,
}

/// The registry of streams waiting for pushed work (weak: a closed stream drops out).
#[derive(Default)]
pub struct Dispatcher {
    targets: Mutex<Vec<Weak<PushTarget>>>,
    /// Where the next search starts, so waiting streams take turns.
    next: AtomicUsize,
}

impl Dispatcher {
    pub fn register(&self, target: &Arc<PushTarget>) {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        targets.retain(|t| t.strong_count() > 0);
        targets.push(Arc::downgrade(target));
    }

    /// Appends a `Lease` for waiting streams after the enqueues in `cmds` that will be ready at
    /// once, as long as the call stays within `commands_max`. Returns the reservations, in the
    /// order of the appended commands.
    pub fn piggyback(
        &self,
        cmds: &mut Vec<Command>,
        now_ms: u64,
        commands_max: usize,
        count_max: u32,
    ) -> Vec<Reservation> {
        let mut ready: Vec<(&str, u32)> = Vec::new();
        for cmd in cmds.iter() {
            let Command::Enqueue(e) = cmd else { continue };
            if e.options.scheduled_at_ms.is_some_and(|at| at > now_ms) {
                continue;
            }
            match ready.iter_mut().find(|(q, _)| *q == e.queue) {
                Some((_, n)) => *n += 1,
                None => ready.push((&e.queue, 1)),
            }
        }
        if ready.is_empty() {
            return Vec::new();
        }
        let targets: Vec<Arc<PushTarget>> = {
            let t = self.targets.lock().unwrap_or_else(|p| p.into_inner());
            t.iter().filter_map(Weak::upgrade).collect()
        };
        if targets.is_empty() {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % targets.len();
        let mut leases = Vec::new();
        let mut reservations = Vec::new();
        for (queue, mut wanted) in ready {
            for i in 0..targets.len() {
                if wanted == 0 || cmds.len() + leases.len() >= commands_max {
                    break;
                }
                let target = &targets[(start + i) % targets.len()];
                if !target.waiting.load(Ordering::Acquire) {
                    continue;
                }
                let Some(template) = target
                    .lease()
                    .filter(|l| l.queues.iter().any(|q| q == queue))
                else {
                    continue;
                };
                let reserved = target.reserve(wanted.min(count_max));
                if reserved == 0 {
                    continue;
                }
                target.set_waiting(false);
                wanted -= reserved;
                leases.push(Command::Lease(Lease {
                    count: reserved,
                    ..template
                }));
                reservations.push(Reservation {
                    target: target.clone(),
                    reserved,
                });
            }
        }
        cmds.extend(leases);
        reservations
    }

    /// Hands the jobs each piggybacked lease got to its stream and returns unused credits.
    /// `replies` are the replies of the appended leases, in order. Calls `on_delivered` for
    /// every job handed over.
    pub fn deliver(
        reservations: Vec<Reservation>,
        replies: Vec<Result<Reply, JobError>>,
        mut on_delivered: impl FnMut(&Job),
    ) {
        let mut replies = replies.into_iter();
        for r in reservations {
            let jobs = match replies.next() {
                Some(Ok(Reply::Leased(jobs))) => jobs,
                _ => Vec::new(),
            };
            r.target
                .release(r.reserved.saturating_sub(jobs.len() as u32));
            if jobs.is_empty() {
                continue;
            }
            jobs.iter().for_each(&mut on_delivered);
            if r.target.inbox.send(jobs).is_err() {
                // The stream closed meanwhile: its leases run out and the jobs are retried.
                debug!(
                    "piggybacked jobs for a closed stream; they return when their lease expires"
                );
            }
        }
    }

    /// The proposal failed: nothing was leased, give every credit back.
    pub fn cancel(reservations: Vec<Reservation>) {
        for r in reservations {
            r.target.release(r.reserved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corvo_core::Enqueue;
    use corvo_core::model::EnqueueOptions;

    fn enqueue(queue: &str) -> Command {
        Command::Enqueue(Enqueue {
            id: "j".into(),
            queue: queue.into(),
            payload: "{}".into(),
            options: EnqueueOptions::default(),
        })
    }

    fn target(
        queues: &[&str],
        credits: u32,
    ) -> (Arc<PushTarget>, mpsc::UnboundedReceiver<Vec<Job>>) {
        let (t, rx) = PushTarget::new();
        t.set_lease(Lease {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            count: 0,
            worker_id: "w".into(),
            hostname: "h".into(),
            lease_ms: 1_000,
        });
        t.grant(credits);
        t.set_waiting(true);
        (t, rx)
    }

    #[test]
    fn enqueues_for_a_waiting_queue_get_a_lease_within_the_credits() {
        let d = Dispatcher::default();
        let (a, _rx) = target(&["q"], 2);
        let (b, _rx2) = target(&["other"], 5);
        d.register(&a);
        d.register(&b);
        let mut cmds = vec![enqueue("q"), enqueue("q"), enqueue("q"), enqueue("x")];
        let res = d.piggyback(&mut cmds, 0, 1024, 1024);
        assert_eq!(res.len(), 1);
        assert_eq!(cmds.len(), 5);
        assert!(
            matches!(&cmds[4], Command::Lease(l) if l.count == 2 && l.queues == vec!["q".to_string()])
        );
        assert_eq!(a.credits(), 0);
        assert_eq!(b.credits(), 5);
        // The lease got no job: its credits come back.
        Dispatcher::deliver(res, vec![Ok(Reply::Leased(vec![]))], |_| {});
        assert_eq!(a.credits(), 2);
        // A stream that is not parked (busy leasing on its own) is left alone.
        let mut more = vec![enqueue("q")];
        assert!(d.piggyback(&mut more, 0, 1024, 1024).is_empty());
        a.set_waiting(true);
        assert_eq!(d.piggyback(&mut more, 0, 1024, 1024).len(), 1);
    }

    #[test]
    fn nothing_is_added_without_waiting_streams_room_or_ready_enqueues() {
        let d = Dispatcher::default();
        let mut cmds = vec![enqueue("q")];
        assert!(d.piggyback(&mut cmds, 0, 1024, 1024).is_empty());
        let (a, _rx) = target(&["q"], 3);
        d.register(&a);
        assert!(
            d.piggyback(&mut cmds, 0, 1, 1024).is_empty(),
            "the call is already at the command limit"
        );
        let mut scheduled = vec![Command::Enqueue(Enqueue {
            id: "j".into(),
            queue: "q".into(),
            payload: "{}".into(),
            options: EnqueueOptions {
                scheduled_at_ms: Some(10),
                ..Default::default()
            },
        })];
        assert!(
            d.piggyback(&mut scheduled, 5, 1024, 1024).is_empty(),
            "not ready yet"
        );
        let res = d.piggyback(&mut cmds, 0, 1024, 1024);
        assert_eq!(res.len(), 1);
        Dispatcher::cancel(res);
        assert_eq!(a.credits(), 3);
    }
}
