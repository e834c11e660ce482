//! Schedule math: retry delays. Pure functions of the job, so every replica agrees.

use crate::model::{Backoff, BackoffKind};

/// Exponential jitter adds up to this share of the delay (25 %), spreading retries of jobs
/// that failed together.
const JITTER_PERCENT_MAX: u64 = 25;

/// Delay before the attempt after `attempt` (1-based: the attempt that just failed).
pub fn backoff_delay_ms(backoff: &Backoff, attempt: u32, job_id: &str) -> u64 {
    let attempt = u64::from(attempt.max(1));
    let raw = match backoff.kind {
        BackoffKind::None => 0,
        BackoffKind::Fixed => backoff.base_ms,
        BackoffKind::Linear => backoff.base_ms.saturating_mul(attempt),
        BackoffKind::Exponential => {
            let shift = (attempt - 1).min(62) as u32;
            let base = backoff.base_ms.saturating_mul(1u64 << shift);
            let jitter = base.min(backoff.cap_ms) / 100
                * (fnv1a(job_id, attempt) % (JITTER_PERCENT_MAX + 1));
            base.saturating_add(jitter)
        }
    };
    if backoff.kind == BackoffKind::Fixed {
        raw
    } else {
        raw.min(backoff.cap_ms.max(backoff.base_ms))
    }
}

/// FNV-1a over the id and attempt: a stable hash (unlike std's, which may change between
/// Rust releases), so the jitter is part of the replicated contract.
fn fnv1a(id: &str, attempt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes().iter().chain(attempt.to_le_bytes().iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(kind: BackoffKind) -> Backoff {
        Backoff {
            kind,
            base_ms: 1_000,
            cap_ms: 10_000,
        }
    }

    #[test]
    fn each_kind_grows_as_documented() {
        assert_eq!(backoff_delay_ms(&b(BackoffKind::None), 3, "j"), 0);
        assert_eq!(backoff_delay_ms(&b(BackoffKind::Fixed), 3, "j"), 1_000);
        assert_eq!(backoff_delay_ms(&b(BackoffKind::Linear), 3, "j"), 3_000);
        assert_eq!(backoff_delay_ms(&b(BackoffKind::Linear), 30, "j"), 10_000);
        for attempt in 1..=3u32 {
            let d = backoff_delay_ms(&b(BackoffKind::Exponential), attempt, "j");
            let base = 1_000u64 << (attempt - 1);
            assert!(d >= base && d <= base + base / 4, "attempt {attempt}: {d}");
        }
        assert_eq!(
            backoff_delay_ms(&b(BackoffKind::Exponential), 40, "j"),
            10_000
        );
    }

    #[test]
    fn jitter_is_deterministic_per_job_and_differs_between_jobs() {
        let e = b(BackoffKind::Exponential);
        assert_eq!(
            backoff_delay_ms(&e, 2, "job-a"),
            backoff_delay_ms(&e, 2, "job-a")
        );
        let spread: std::collections::BTreeSet<u64> = (0..50)
            .map(|i| backoff_delay_ms(&e, 2, &format!("job-{i}")))
            .collect();
        assert!(spread.len() > 5, "jitter spreads retries: {spread:?}");
    }
}
