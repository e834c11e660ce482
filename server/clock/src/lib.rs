//! The one place that reads the clocks. `server/clippy.toml` bans `SystemTime::now` and
//! `Instant::now` everywhere else in the server, so every reading of time goes through here,
//! and a test can move the wall clock of one node ([`SystemClock`]'s skew failpoint).
//!
//! - The wall clock ([`Clock`], [`wall_ms`]) stamps log entries on the leader (the state
//!   machine never reads it: its time is the stamp in each `Batch`), and answers "now" for
//!   reads, deadlines shown to clients and the CLI.
//! - The monotonic clock ([`monotonic`]) measures durations and bounds waits; it never jumps.
//!
//! Nothing in `apply` may call these: replicas must compute the same state from the log.

#![allow(clippy::disallowed_methods)]
// The only crate allowed to read the clocks.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A source of Unix time in milliseconds.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> u64;
}

/// The system wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 is a misconfigured host; 0 keeps the stamp monotonic (the
        // proposer never goes below the previous stamp) instead of panicking.
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        skew::apply(ms)
    }
}

/// The wall clock now, Unix ms.
pub fn wall_ms() -> u64 {
    SystemClock.now_ms()
}

/// The wall clock now, as a `SystemTime` (for formatting and parsing times).
pub fn system_time() -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(wall_ms())
}

/// The monotonic clock now.
pub fn monotonic() -> Instant {
    Instant::now()
}

/// Test-only fault injection, compiled into debug builds only: with
/// `CORVO_FAILPOINT_CLOCK_SKEW=<path>` in the environment at start-up, the wall clock is
/// moved by the signed number of milliseconds written in `<path>` (re-read at most every
/// 100 ms; a missing or unreadable file means no skew). The fault suite uses it for a clock
/// jump on one node; release builds ignore the variable.
mod skew {
    #[cfg(debug_assertions)]
    pub(super) fn apply(ms: u64) -> u64 {
        use std::sync::Mutex;
        use std::sync::OnceLock;
        use std::time::{Duration, Instant};

        const REREAD_EVERY: Duration = Duration::from_millis(100);
        static PATH: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
        static CACHED: Mutex<Option<(Instant, i64)>> = Mutex::new(None);
        let Some(path) =
            PATH.get_or_init(|| std::env::var_os("CORVO_FAILPOINT_CLOCK_SKEW").map(Into::into))
        else {
            return ms;
        };
        let mut cached = CACHED.lock().unwrap_or_else(|p| p.into_inner());
        let offset = match *cached {
            Some((read_at, offset)) if read_at.elapsed() < REREAD_EVERY => offset,
            _ => {
                let offset = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .unwrap_or(0);
                *cached = Some((Instant::now(), offset));
                offset
            }
        };
        ms.saturating_add_signed(offset)
    }

    #[cfg(not(debug_assertions))]
    pub(super) fn apply(ms: u64) -> u64 {
        ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wall_clock_reads_unix_milliseconds_and_the_monotonic_clock_moves_forward() {
        let a = wall_ms();
        assert!(a > 1_600_000_000_000, "{a}");
        let t = monotonic();
        assert!(monotonic() >= t);
        let s = system_time()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        assert!(s >= a);
    }
}
