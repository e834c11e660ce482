//! Dispatch to worker streams that take pushed jobs (credit streams).
//!
//! ```text
//!  propose([Enqueue q ×n, ...]) ──▶ Dispatcher::piggyback: a PushTarget on q with free
//!                                   credits? reserve ≤ n credits, append Lease{its queues}
//!                                   ──▶ one log entry: enqueues, then the lease
//!  replies ──▶ Dispatcher::deliver: leased jobs → the target's inbox → its pusher sends them;
//!                                   unused credits return to the target
//!  pusher sees ready work ──▶ Dispatcher::claim: reserve credits for at most the ready jobs
//!                             no other stream's lease is already taking ──▶ Lease
//! ```
//!
//! Piggyback: without it a job needs two Raft rounds to reach a waiting worker (the enqueue,
//! then the stream's own `Lease` after the "ready" signal); with it, one.
//!
//! Claims: every stream wakes when work becomes ready, but a stream reserves credits only
//! for ready jobs that no lease in flight is already counted against. One ready job costs
//! one stream one credit, not every stream all of its credits; the others keep their credits
//! free, so the enqueues that arrive during that lease's Raft round are still piggybacked
//! instead of piling up as ready work that needs a second round.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use corvo_core::model::Job;
use corvo_core::{Command, JobError, Lease, Reply};
use tokio::sync::{Notify, mpsc};
use tracing::debug;

/// Ready jobs a pusher counts before it leases (a bounded index scan). When at least this
/// many are ready there is work for every stream and claims are not capped.
pub const READY_COUNTED_MAX: usize = 1_024;

/// A stream that takes pushed jobs: its lease template and its free credits. The inbox is
/// unbounded in messages but bounded in jobs by the credits the stream granted.
pub struct PushTarget {
    lease: Mutex<Option<Lease>>,
    credits: AtomicU32,
    /// The worker said it drains: no credit is granted (or given back) from then on.
    draining: AtomicBool,
    inbox: mpsc::UnboundedSender<Vec<Job>>,
    /// Wakes the stream's pusher when it has something new to look at: its first credits
    /// or a changed lease template.
    pub wake: Notify,
}

impl PushTarget {
    pub fn new() -> (Arc<PushTarget>, mpsc::UnboundedReceiver<Vec<Job>>) {
        let (inbox, rx) = mpsc::unbounded_channel();
        let target = PushTarget {
            lease: Mutex::new(None),
            credits: AtomicU32::new(0),
            draining: AtomicBool::new(false),
            inbox,
            wake: Notify::new(),
        };
        (Arc::new(target), rx)
    }

    /// What leases for this stream look like (`count` is set per lease).
    pub fn lease(&self) -> Option<Lease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets the lease template from `lease` (its `count` aside); a stream whose template
    /// changed (other queues, say) looks for ready work again. Copies `lease` only when it
    /// differs: most frames of a stream repeat the same template.
    pub fn set_lease(&self, lease: &Lease) {
        let Lease {
            queues,
            count: _,
            worker_id,
            hostname,
            lease_ms,
        } = lease;
        let mut current = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        let same = current.as_ref().is_some_and(|c| {
            c.queues == *queues
                && c.worker_id == *worker_id
                && c.hostname == *hostname
                && c.lease_ms == *lease_ms
        });
        if !same {
            *current = Some(Lease {
                count: 0,
                ..lease.clone()
            });
            self.wake.notify_one();
        }
    }

    /// Free credits (not reserved by a lease in flight).
    pub fn credits(&self) -> u32 {
        self.credits.load(Ordering::Acquire)
    }

    /// Adds credits (none once the stream drains). Only a stream that had none is woken: one
    /// that had some is parked because nothing was ready for it, and more credits do not
    /// change that.
    pub fn grant(&self, n: u32) {
        if n == 0 || self.draining.load(Ordering::Acquire) {
            return;
        }
        if self.credits.fetch_add(n, Ordering::AcqRel) == 0 {
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

    /// The worker drains: drops every free credit, and every credit granted or given back
    /// later (a lease in flight keeps what it reserved, then gives nothing back). Returns the
    /// credits dropped now.
    pub fn revoke(&self) -> u32 {
        self.draining.store(true, Ordering::Release);
        self.credits.swap(0, Ordering::AcqRel)
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

/// The registry of streams that take pushed work (weak: a closed stream drops out).
#[derive(Default)]
pub struct Dispatcher {
    targets: Mutex<Vec<Weak<PushTarget>>>,
    /// Where the next search starts, so streams take turns.
    next: AtomicUsize,
    /// Credits reserved by pushers' own leases in flight, per queue set.
    leasing: Mutex<Vec<(Vec<String>, u32)>>,
    /// A claim found every ready job taken by leases in flight: that stream parked until the
    /// next ready signal, which a lease that leaves work over must give.
    parked: AtomicBool,
}

/// Credits a pusher reserved for its own lease; counted against the ready jobs until dropped.
pub struct Claim<'a> {
    dispatcher: &'a Dispatcher,
    queues: Vec<String>,
    count: u32,
}

impl Claim<'_> {
    /// Credits reserved (the lease's count).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The queues the lease takes from.
    pub fn queues(&self) -> &[String] {
        &self.queues
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut leasing = self
            .dispatcher
            .leasing
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(i) = leasing.iter().position(|(q, _)| *q == self.queues) {
            leasing[i].1 = leasing[i].1.saturating_sub(self.count);
            if leasing[i].1 == 0 {
                leasing.swap_remove(i);
            }
        }
    }
}

impl Dispatcher {
    /// Reserves `target`'s credits for a lease on `queues`, where `ready` jobs are ready
    /// (counted up to [`READY_COUNTED_MAX`]): at most `max`, and at most the ready jobs that
    /// leases in flight for the same queues have not reserved. `None` when nothing is left
    /// to take or the stream has no credits.
    pub fn claim(
        &self,
        target: &PushTarget,
        queues: &[String],
        ready: usize,
        max: u32,
    ) -> Option<Claim<'_>> {
        self.claim_with(queues, ready, max, |wanted| target.reserve(wanted))
    }

    /// [`Dispatcher::claim`] for credits the caller holds itself and that never were free on
    /// the stream: the credits a worker's frame grants, leased in that frame's own entry
    /// (see `stream::handle_frames`).
    pub fn claim_granted(&self, queues: &[String], ready: usize, max: u32) -> Option<Claim<'_>> {
        self.claim_with(queues, ready, max, |wanted| wanted)
    }

    /// Counts a claim of at most `max` of the `ready` jobs that leases in flight have not
    /// claimed; `take` turns what is wanted into the credits actually taken.
    fn claim_with(
        &self,
        queues: &[String],
        ready: usize,
        max: u32,
        take: impl FnOnce(u32) -> u32,
    ) -> Option<Claim<'_>> {
        let mut leasing = self.leasing.lock().unwrap_or_else(|p| p.into_inner());
        let slot = leasing.iter().position(|(q, _)| q == queues);
        let in_flight = slot.map_or(0, |i| leasing[i].1);
        let wanted = if ready >= READY_COUNTED_MAX {
            max
        } else {
            u32::try_from(ready)
                .unwrap_or(u32::MAX)
                .saturating_sub(in_flight)
                .min(max)
        };
        if wanted == 0 && in_flight > 0 {
            self.parked.store(true, Ordering::Release);
        }
        let count = take(wanted);
        if count == 0 {
            return None;
        }
        match slot {
            Some(i) => leasing[i].1 += count,
            None => leasing.push((queues.to_vec(), count)),
        }
        Some(Claim {
            dispatcher: self,
            queues: queues.to_vec(),
            count,
        })
    }

    /// Credits that leases in flight on `queues` reserved.
    pub fn in_flight(&self, queues: &[String]) -> u32 {
        let leasing = self.leasing.lock().unwrap_or_else(|p| p.into_inner());
        leasing
            .iter()
            .find(|(q, _)| q == queues)
            .map_or(0, |(_, n)| *n)
    }

    /// Whether a claim was turned away by leases in flight since the last call.
    pub fn take_parked(&self) -> bool {
        self.parked.swap(false, Ordering::AcqRel)
    }

    pub fn register(&self, target: &Arc<PushTarget>) {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        targets.retain(|t| t.strong_count() > 0);
        targets.push(Arc::downgrade(target));
    }

    /// Appends a `Lease` for streams with free credits after the enqueues in `cmds` that will be ready at
    /// once, as long as the call stays within `commands_max`. Returns the reservations, in the
    /// order of the appended commands.
    pub fn piggyback(
        &self,
        cmds: &mut Vec<Command>,
        now_ms: u64,
        commands_max: usize,
        count_max: u32,
        bytes_max: u64,
    ) -> Vec<Reservation> {
        let mut ready: Vec<(&str, u32)> = Vec::new();
        for cmd in cmds.iter() {
            let Some(e) = cmd.enqueue() else { continue };
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
                wanted -= reserved;
                leases.push(Command::LeaseWithin {
                    lease: Lease {
                        count: reserved,
                        ..template
                    },
                    bytes_max,
                });
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
        t.set_lease(&Lease {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            count: 0,
            worker_id: "w".into(),
            hostname: "h".into(),
            lease_ms: 1_000,
        });
        t.grant(credits);
        (t, rx)
    }

    /// The template is stored with no count, and a stream is woken only when its template
    /// changes (not for every frame that repeats it with another count).
    #[test]
    fn a_lease_template_wakes_its_stream_only_when_it_changes() {
        use futures::FutureExt;
        let lease = |queues: &[&str], count: u32, hostname: &str| Lease {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            count,
            worker_id: "w".into(),
            hostname: hostname.into(),
            lease_ms: 1_000,
        };
        let (t, _rx) = PushTarget::new();
        let woken = |t: &PushTarget| t.wake.notified().now_or_never().is_some();
        assert!(!woken(&t));
        t.set_lease(&lease(&["a"], 5, "h"));
        assert_eq!(t.lease(), Some(lease(&["a"], 0, "h")));
        assert!(woken(&t), "a first template wakes the stream");
        t.set_lease(&lease(&["a"], 9, "h"));
        assert!(!woken(&t), "the same template with another count");
        t.set_lease(&lease(&["a", "b"], 1, "h"));
        assert!(woken(&t), "other queues");
        t.set_lease(&lease(&["a", "b"], 1, "h2"));
        assert!(woken(&t), "another hostname");
        assert_eq!(t.lease(), Some(lease(&["a", "b"], 0, "h2")));
    }

    #[test]
    fn a_draining_stream_gets_no_credit_back() {
        let (t, _rx) = target(&["q"], 5);
        assert_eq!(t.reserve(2), 2, "a lease in flight holds two");
        assert_eq!(t.revoke(), 3, "the free ones are dropped");
        t.release(2); // the lease used none of its two
        t.grant(4); // a later frame without the drain flag
        assert_eq!(t.credits(), 0);
        assert_eq!(t.reserve(10), 0);
    }

    #[test]
    fn enqueues_for_a_queue_with_credits_get_a_lease_within_them() {
        let d = Dispatcher::default();
        let (a, _rx) = target(&["q"], 2);
        let (b, _rx2) = target(&["other"], 5);
        d.register(&a);
        d.register(&b);
        let mut cmds = vec![enqueue("q"), enqueue("q"), enqueue("q"), enqueue("x")];
        let res = d.piggyback(&mut cmds, 0, 1024, 1024, u64::MAX);
        assert_eq!(res.len(), 1);
        assert_eq!(cmds.len(), 5);
        assert!(
            matches!(&cmds[4], Command::LeaseWithin { lease: l, .. } if l.count == 2 && l.queues == vec!["q".to_string()])
        );
        assert_eq!(a.credits(), 0);
        assert_eq!(b.credits(), 5);
        // The lease got no job: its credits come back.
        Dispatcher::deliver(res, vec![Ok(Reply::Leased(vec![]))], |_| {});
        assert_eq!(a.credits(), 2);
        // A stream whose credits are all reserved by its own lease is left alone.
        let own = d.claim(&a, &["q".to_string()], 5, 1024).expect("claim");
        let mut more = vec![enqueue("q")];
        assert!(d.piggyback(&mut more, 0, 1024, 1024, u64::MAX).is_empty());
        drop(own);
        a.release(2);
        assert_eq!(d.piggyback(&mut more, 0, 1024, 1024, u64::MAX).len(), 1);
    }

    #[test]
    fn claims_reserve_only_ready_jobs_that_no_other_lease_takes() {
        let d = Dispatcher::default();
        let q = vec!["q".to_string()];
        let (a, _rx) = target(&["q"], 100);
        let (b, _rx2) = target(&["q"], 100);
        let (c, _rx3) = target(&["other"], 100);
        // One ready job: the first stream reserves one credit, the second finds it taken.
        let first = d.claim(&a, &q, 1, 1024).expect("first claim");
        assert_eq!(first.count(), 1);
        assert_eq!(a.credits(), 99, "the rest stays free for piggyback");
        assert!(d.claim(&b, &q, 1, 1024).is_none());
        assert_eq!(b.credits(), 100, "a refused claim reserves nothing");
        // Another queue set is counted on its own.
        assert!(d.claim(&c, &["other".to_string()], 1, 1024).is_some());
        // More became ready: the second stream takes what the first does not.
        let second = d.claim(&b, &q, 4, 1024).expect("second claim");
        assert_eq!(second.count(), 3);
        // Once the first lease is done its job no longer counts.
        drop(first);
        assert_eq!(d.claim(&a, &q, 4, 1024).map(|c| c.count()), Some(1));
        // Plenty ready: every stream takes up to its credits and the limit.
        assert_eq!(
            d.claim(&a, &q, READY_COUNTED_MAX, 50).map(|c| c.count()),
            Some(50)
        );
        let (empty, _rx4) = target(&["q"], 0);
        assert!(
            d.claim(&empty, &q, READY_COUNTED_MAX, 50).is_none(),
            "no credits"
        );
    }

    #[test]
    fn a_claim_for_granted_credits_counts_against_other_claims_and_reports_who_it_parked() {
        let d = Dispatcher::default();
        let q = vec!["q".to_string()];
        let (a, _rx) = target(&["q"], 100);
        // Two ready jobs, a frame granting five credits: it takes both, no stream's credits.
        let granted = d.claim_granted(&q, 2, 5).expect("granted claim");
        assert_eq!(granted.count(), 2);
        assert_eq!(d.in_flight(&q), 2);
        assert_eq!(a.credits(), 100, "the frame's credits are its own");
        assert!(!d.take_parked(), "nobody was turned away yet");
        // A pusher looking now finds both taken: it parks, and that is reported once.
        assert!(d.claim(&a, &q, 2, 1024).is_none());
        assert!(d.take_parked());
        assert!(!d.take_parked());
        // Nothing ready at all is not parking behind a lease.
        drop(granted);
        assert_eq!(d.in_flight(&q), 0);
        assert!(d.claim_granted(&q, 0, 5).is_none());
        assert!(!d.take_parked());
    }

    #[test]
    fn nothing_is_added_without_streams_with_credits_room_or_ready_enqueues() {
        let d = Dispatcher::default();
        let mut cmds = vec![enqueue("q")];
        assert!(d.piggyback(&mut cmds, 0, 1024, 1024, u64::MAX).is_empty());
        let (a, _rx) = target(&["q"], 3);
        d.register(&a);
        assert!(
            d.piggyback(&mut cmds, 0, 1, 1024, u64::MAX).is_empty(),
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
            d.piggyback(&mut scheduled, 5, 1024, 1024, u64::MAX)
                .is_empty(),
            "not ready yet"
        );
        let res = d.piggyback(&mut cmds, 0, 1024, 1024, u64::MAX);
        assert_eq!(res.len(), 1);
        Dispatcher::cancel(res);
        assert_eq!(a.credits(), 3);
    }
}
