//! What applied entries tell the rest of the node: work became ready, events were written,
//! a lease was revoked, the next timer moved. Fed by corvo-raft on every node, in log order.

use corvo_core::{BatchOutcome, Effect, StopReason};
use tokio::sync::{broadcast, watch};

/// Revocations buffered for slow stream sessions; a session that lags re-checks its jobs.
const REVOCATIONS_BUFFERED_MAX: usize = 4_096;

/// A lease taken away from a worker (cancelled, or reclaimed after it expired).
#[derive(Clone, Debug)]
pub struct Revocation {
    pub job_id: String,
    pub worker_id: String,
    /// The lease taken away: a stream holding a newer lease of the job keeps it.
    pub lease_token: u64,
    pub reason: StopReason,
}

/// Cheap to clone; every clone sees the same signals.
#[derive(Clone)]
pub struct Signals {
    ready: watch::Sender<u64>,
    events: watch::Sender<u64>,
    next_due: watch::Sender<Option<u64>>,
    applied: watch::Sender<u64>,
    revoked: broadcast::Sender<Revocation>,
    activity: std::sync::Arc<crate::activity::ActivityLog>,
}

impl Signals {
    /// `last_event_seq` and `next_due_ms` come from the state as it was opened.
    pub fn new(last_event_seq: u64, next_due_ms: Option<u64>) -> Self {
        Signals {
            ready: watch::channel(0).0,
            events: watch::channel(last_event_seq).0,
            next_due: watch::channel(next_due_ms).0,
            applied: watch::channel(0).0,
            revoked: broadcast::channel(REVOCATIONS_BUFFERED_MAX).0,
            activity: Default::default(),
        }
    }

    /// Per-queue activity over the last minute (fed by every applied entry).
    pub fn activity(&self) -> &crate::activity::ActivityLog {
        &self.activity
    }

    /// Changes whenever a job became ready in any queue.
    pub fn ready(&self) -> watch::Receiver<u64> {
        self.ready.subscribe()
    }

    /// How many times jobs became ready (or waiters were poked) so far: unchanged means
    /// nothing became ready since it was last read.
    pub fn ready_generation(&self) -> u64 {
        *self.ready.borrow()
    }

    /// Wakes ready-waiters without a state change (drain, credits granted elsewhere).
    pub fn poke_ready(&self) {
        self.ready.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// The newest event id.
    pub fn events(&self) -> watch::Receiver<u64> {
        self.events.subscribe()
    }

    /// The earliest pending timer.
    pub fn next_due(&self) -> watch::Receiver<Option<u64>> {
        self.next_due.subscribe()
    }

    /// The last applied log index.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    pub fn revoked(&self) -> broadcast::Receiver<Revocation> {
        self.revoked.subscribe()
    }

    /// The whole state was replaced by a snapshot ending at `index`: every watcher re-reads.
    pub fn reset(&self, index: u64, last_event_seq: u64, next_due_ms: Option<u64>) {
        self.events.send_replace(last_event_seq);
        self.next_due.send_replace(next_due_ms);
        self.applied.send_replace(index);
        self.poke_ready();
    }
}

impl corvo_raft::ApplyListener for Signals {
    fn on_applied(&self, index: u64, outcome: &BatchOutcome) {
        if !outcome.activity.is_empty() || outcome.purged > 0 {
            self.activity.record(
                crate::engine::wall_clock_ms(),
                &outcome.activity,
                outcome.purged,
            );
        }
        let mut any_ready = false;
        for effect in &outcome.effects {
            match effect {
                Effect::Ready { .. } => any_ready = true,
                Effect::Revoked {
                    job_id,
                    worker_id,
                    lease_token,
                    reason,
                } => {
                    // No receivers is fine: nobody holds the job on this node.
                    let _ = self.revoked.send(Revocation {
                        job_id: job_id.clone(),
                        worker_id: worker_id.clone(),
                        lease_token: *lease_token,
                        reason: *reason,
                    });
                }
                // The node's listener reloads the key ring (it reads the state).
                Effect::KeysChanged => {}
            }
        }
        if any_ready {
            self.poke_ready();
        }
        self.events.send_if_modified(|seq| {
            let changed = *seq != outcome.last_event_seq;
            *seq = outcome.last_event_seq;
            changed
        });
        self.next_due.send_if_modified(|due| {
            let changed = *due != outcome.next_due_ms;
            *due = outcome.next_due_ms;
            changed
        });
        self.applied.send_replace(index);
    }
}
