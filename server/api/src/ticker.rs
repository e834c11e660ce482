//! The leader-side timer: proposes `Tick` exactly when the earliest timer in the state is
//! due (scheduled jobs, retries, lease expiry, job expiry). No polling: it sleeps until the
//! next due time and wakes early when an apply moves that time.

use std::time::Duration;

use corvo_core::Command;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::engine::Engine;

/// After a failed tick (not leader, overloaded), wait this long before trying again.
const TICK_RETRY: Duration = Duration::from_millis(200);
/// Leadership is re-checked this often while a timer is pending on a follower.
const FOLLOWER_RECHECK: Duration = Duration::from_millis(500);

pub(crate) fn now_ms() -> u64 {
    corvo_clock::wall_ms()
}

/// Runs until `shutdown` turns true.
pub async fn run(engine: Engine, mut shutdown: watch::Receiver<bool>) {
    let mut next_due = engine.signals().next_due();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let due = *next_due.borrow_and_update();
        let wait = due.map(|at| Duration::from_millis(at.saturating_sub(now_ms())));
        match wait {
            Some(w) if w.is_zero() => {
                if !engine.raft().is_leader() {
                    tokio::select! {
                        _ = tokio::time::sleep(FOLLOWER_RECHECK) => {}
                        _ = next_due.changed() => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
                match engine.propose_one(Command::Tick).await {
                    Ok(reply) => debug!(?reply, "tick"),
                    Err(e) => {
                        warn!(error = %e, "tick failed; retrying");
                        tokio::time::sleep(TICK_RETRY).await;
                    }
                }
            }
            Some(w) => {
                tokio::select! {
                    // +1 ms: the batch clock must be past the due time, not equal to a
                    // rounded-down reading of it.
                    _ = tokio::time::sleep(w + Duration::from_millis(1)) => {}
                    _ = next_due.changed() => {}
                    _ = shutdown.changed() => {}
                }
            }
            None => {
                tokio::select! {
                    _ = next_due.changed() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}
