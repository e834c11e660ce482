//! Read-side helpers over [`StateRead`]: what the API layer asks between commands.

use std::collections::BTreeMap;

use crate::access::ApiKey;
use crate::keys::{self, Table, TimerKind, UniqueLock, meta};
use crate::model::{Event, Job, JobState};
use crate::queues::{Operation, QueueConfig};
use crate::state::{StateRead, StoreError};

/// Job `id` with its payload.
pub fn job<R: StateRead>(state: &R, id: &str) -> Result<Option<Job>, StoreError> {
    let Some(mut job) = job_record(state, id)? else {
        return Ok(None);
    };
    if job.payload.is_empty()
        && let Some(bytes) = state.get(Table::Payloads, id.as_bytes())?
    {
        job.payload = keys::decode_payload(id.as_bytes(), bytes)?;
    }
    Ok(Some(job))
}

/// Job `id` as its `Jobs` record holds it: the payload is empty when it is in `Payloads`.
pub fn job_record<R: StateRead>(state: &R, id: &str) -> Result<Option<Job>, StoreError> {
    match state.get(Table::Jobs, id.as_bytes())? {
        Some(bytes) => keys::decode_job(id.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

/// The queue of job `id` (scoped callers only).
pub fn job_queue<R: StateRead>(state: &R, id: &str) -> Result<Option<String>, StoreError> {
    Ok(job_record(state, id)?.map(|j| j.queue))
}

pub fn api_key<R: StateRead>(state: &R, id: &str) -> Result<Option<ApiKey>, StoreError> {
    match state.get(Table::ApiKeys, id.as_bytes())? {
        Some(bytes) => keys::decode_api_key(id.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

/// Every API key, revoked ones included, in id order (few: keys are made by hand).
pub fn api_keys<R: StateRead>(state: &R) -> Result<Vec<ApiKey>, StoreError> {
    state
        .range(Table::ApiKeys, &[], &[0xff; 1], usize::MAX)?
        .into_iter()
        .map(|(k, v)| keys::decode_api_key(&k, &v))
        .collect()
}

/// Up to `limit` events with id greater than `after`.
pub fn events_after<R: StateRead>(
    state: &R,
    after: u64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let start = keys::event_key(after.saturating_add(1));
    state
        .range(Table::Events, &start, &[0xff; 9], limit)?
        .into_iter()
        .map(|(k, v)| keys::decode_event(&k, &v))
        .collect()
}

/// Jobs per (queue, state), from the `Counts` table: one row per pair that has jobs, in queue
/// order. Costs one read per row (queues × states), never a scan of the jobs.
pub fn queue_counts<R: StateRead>(state: &R) -> Result<Vec<(String, JobState, u64)>, StoreError> {
    state
        .range(Table::Counts, &[], &[0xff; 1], usize::MAX)?
        .into_iter()
        .map(|(k, v)| {
            let count = keys::decode_u64(Table::Counts, &k, &v)?;
            match keys::parse_counts_key(&k) {
                Some((queue, job_state)) => Ok((queue, job_state, count)),
                None => Err(StoreError::Corrupt {
                    table: Table::Counts,
                    key: k,
                    reason: "malformed counts key".into(),
                }),
            }
        })
        .collect()
}

/// Whether any of `queues` has a job in its ready index (paused or limited queues included:
/// see [`leasable_count`] for what a lease would take).
pub fn has_ready<R: StateRead>(state: &R, queues: &[String]) -> Result<bool, StoreError> {
    Ok(ready_count(state, queues, 1)? > 0)
}

/// A queue's settings, if it has any.
pub fn queue_config<R: StateRead>(
    state: &R,
    queue: &str,
) -> Result<Option<QueueConfig>, StoreError> {
    match state.get(Table::Queues, queue.as_bytes())? {
        Some(bytes) => keys::decode_queue(queue.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

/// Every queue with settings, in name order.
pub fn queue_configs<R: StateRead>(state: &R) -> Result<Vec<(String, QueueConfig)>, StoreError> {
    state
        .range(Table::Queues, &[], &[0xff; 1], usize::MAX)?
        .into_iter()
        .map(|(k, v)| {
            let config = keys::decode_queue(&k, &v)?;
            let name = String::from_utf8(k.clone()).map_err(|e| StoreError::Corrupt {
                table: Table::Queues,
                key: k,
                reason: e.to_string(),
            })?;
            Ok((name, config))
        })
        .collect()
}

/// How many jobs a lease on `queues` would take at `now`, counting at most `limit`: ready
/// jobs, within each queue's pause, concurrency limit and rate limit (what `apply` enforces).
/// Waiting workers use it, so a paused or throttled queue never makes them spin.
pub fn leasable_count<R: StateRead>(
    state: &R,
    queues: &[String],
    now: u64,
    limit: usize,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for q in queues {
        if n >= limit {
            break;
        }
        let mut allowance = limit - n;
        if let Some(config) = queue_config(state, q)? {
            if config.paused {
                continue;
            }
            allowance = allowance.min(config.starts_left(now) as usize);
            if let Some(max) = config.concurrency_max {
                let key = keys::counts_key(q, JobState::Active);
                let active = match state.get(Table::Counts, &key)? {
                    Some(b) => keys::decode_u64(Table::Counts, &key, &b)?,
                    None => 0,
                };
                let left = u64::from(max).saturating_sub(active);
                allowance = allowance.min(usize::try_from(left).unwrap_or(usize::MAX));
            }
        }
        if allowance == 0 {
            continue;
        }
        let prefix = keys::queue_prefix(q);
        n += state.count(Table::Ready, &prefix, &keys::prefix_end(&prefix), allowance)?;
    }
    Ok(n)
}

/// When the longest-waiting pending job of `queue` became ready (Unix ms).
pub fn oldest_pending_ms<R: StateRead>(state: &R, queue: &str) -> Result<Option<u64>, StoreError> {
    let mut oldest: Option<u64> = None;
    for rank in 0..4u8 {
        let mut prefix = keys::queue_prefix(queue);
        prefix.push(rank);
        if let Some((_, id)) = state.first(Table::Ready, &prefix, &keys::prefix_end(&prefix))? {
            let id = String::from_utf8_lossy(&id).into_owned();
            if let Some(j) = job(state, &id)? {
                let at = j.ready_at_ms.unwrap_or(j.created_at_ms);
                oldest = Some(oldest.map_or(at, |o| o.min(at)));
            }
        }
    }
    Ok(oldest)
}

/// Every bulk operation kept, oldest first.
pub fn operations<R: StateRead>(state: &R) -> Result<Vec<Operation>, StoreError> {
    state
        .range(Table::Operations, &[], &[0xff; 1], usize::MAX)?
        .into_iter()
        .map(|(k, v)| keys::decode_operation(&k, &v))
        .collect()
}

pub fn operation<R: StateRead>(state: &R, id: &str) -> Result<Option<Operation>, StoreError> {
    match state.get(Table::Operations, id.as_bytes())? {
        Some(bytes) => keys::decode_operation(id.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

/// How many jobs are ready to lease in `queues`, counting at most `limit`.
pub fn ready_count<R: StateRead>(
    state: &R,
    queues: &[String],
    limit: usize,
) -> Result<usize, StoreError> {
    let mut n = 0;
    for q in queues {
        if n >= limit {
            break;
        }
        let prefix = keys::queue_prefix(q);
        n += state.count(Table::Ready, &prefix, &keys::prefix_end(&prefix), limit - n)?;
    }
    Ok(n)
}

/// The earliest pending timer (when the leader must tick next).
pub fn next_due<R: StateRead>(state: &R) -> Result<Option<u64>, StoreError> {
    let Some((key, _)) = state.first(Table::Timers, &[], &[0xff; 9])? else {
        return Ok(None);
    };
    match keys::parse_timer_key(&key) {
        Some((due, _, _)) => Ok(Some(due)),
        None => Err(StoreError::Corrupt {
            table: Table::Timers,
            key,
            reason: "malformed timer key".into(),
        }),
    }
}

/// Overdue timers looked at by [`retention_lag_ms`].
const LAG_SCAN_MAX: usize = 1_024;

/// How far behind the purge of finished jobs is at `now`: how long ago the oldest purge
/// still waiting fell due (0 when none is overdue). Looks at the first [`LAG_SCAN_MAX`]
/// overdue timers; when none of them is a purge, the last one's age (a lower bound).
/// Idempotency keys held (see `apply::idempotency`): the `Meta` count.
pub fn idempotency_keys<R: StateRead>(state: &R) -> Result<u64, StoreError> {
    match state.get(Table::Meta, meta::IDEMPOTENCY_KEYS)? {
        Some(b) => keys::decode_u64(Table::Meta, meta::IDEMPOTENCY_KEYS, &b),
        None => Ok(0),
    }
}

pub fn retention_lag_ms<R: StateRead>(state: &R, now: u64) -> Result<u64, StoreError> {
    let end = now.saturating_add(1).to_be_bytes();
    let rows = state.range(Table::Timers, &[], &end, LAG_SCAN_MAX)?;
    let full = rows.len() == LAG_SCAN_MAX;
    let mut last_due = None;
    for (key, _) in rows {
        let Some((due, kind, _)) = keys::parse_timer_key(&key) else {
            return Err(StoreError::Corrupt {
                table: Table::Timers,
                key,
                reason: "malformed timer key".into(),
            });
        };
        if kind == keys::TimerKind::Purge {
            return Ok(now.saturating_sub(due));
        }
        last_due = Some(due);
    }
    Ok(match last_due {
        Some(due) if full => now.saturating_sub(due),
        _ => 0,
    })
}

/// Every index entry points at a job in the matching state, and `Counts` matches a count of
/// the jobs. Used by tests after each step and by `corvo admin check` (full scan: not for the
/// hot path).
pub fn check_invariants<R: StateRead>(state: &R) -> Result<(), String> {
    let all = |t| {
        state
            .range(t, &[], &[0xff; 64], usize::MAX)
            .map_err(|e| e.to_string())
    };
    for (k, v) in all(Table::Ready)? {
        let id = String::from_utf8(v).map_err(|e| e.to_string())?;
        let job = job(state, &id)
            .map_err(|e| e.to_string())?
            .ok_or(format!("ready entry for missing job {id}"))?;
        if job.state != JobState::Pending || keys::ready_key(&job.queue, job.priority, job.seq) != k
        {
            return Err(format!(
                "ready entry for job {id} in state {}",
                job.state.as_str()
            ));
        }
    }
    for (k, _) in all(Table::Timers)? {
        let (due, kind, id) = keys::parse_timer_key(&k).ok_or("malformed timer key")?;
        // Unique releases and purges may outlive their job (they check when they fire); a
        // queue window timer names a queue, not a job.
        if matches!(
            kind,
            TimerKind::UniqueRelease | TimerKind::Purge | TimerKind::QueueWindow
        ) {
            continue;
        }
        let Some(job) = job(state, &id).map_err(|e| e.to_string())? else {
            return Err(format!("{kind:?} timer for missing job {id}"));
        };
        let matches = match kind {
            TimerKind::Promote => {
                (job.state == JobState::Scheduled && job.scheduled_at_ms == Some(due))
                    || (job.state == JobState::Retrying && job.next_attempt_at_ms == Some(due))
            }
            TimerKind::LeaseExpiry => job.lease.as_ref().is_some_and(|l| l.deadline_ms == due),
            TimerKind::Expire => job.expire_at_ms == Some(due) && !job.state.is_terminal(),
            TimerKind::UniqueRelease | TimerKind::Purge | TimerKind::QueueWindow => true,
        };
        if !matches {
            return Err(format!(
                "stale {kind:?} timer at {due} for job {id} in state {}",
                job.state.as_str()
            ));
        }
    }
    for (k, v) in all(Table::Unique)? {
        let lock: UniqueLock = keys::decode(Table::Unique, &k, &v).map_err(|e| e.to_string())?;
        if job(state, &lock.job_id)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err(format!("unique lock held by missing job {}", lock.job_id));
        }
    }
    for (k, _) in all(Table::Payloads)? {
        let id = String::from_utf8(k).map_err(|e| e.to_string())?;
        match job_record(state, &id).map_err(|e| e.to_string())? {
            None => return Err(format!("payload of missing job {id}")),
            Some(job) if !job.payload.is_empty() => {
                return Err(format!(
                    "job {id} holds its payload and has one in Payloads"
                ));
            }
            Some(_) => {}
        }
    }
    check_idempotency(state)?;
    check_counts(state)
}

/// Every held idempotency key has its place in the expiry order and the order names only
/// held keys; the `Meta` count and bytes match.
fn check_idempotency<R: StateRead>(state: &R) -> Result<(), String> {
    let all = |t| {
        state
            .range(t, &[], &[0xff; 64], usize::MAX)
            .map_err(|e| e.to_string())
    };
    let held = all(Table::Idempotency)?;
    let order = all(Table::IdempotencyOrder)?;
    let mut bytes = 0u64;
    let mut expected = std::collections::BTreeSet::new();
    for (k, v) in &held {
        let record: keys::IdempotencyRecord =
            keys::decode(Table::Idempotency, k, v).map_err(|e| e.to_string())?;
        expected.insert(keys::idempotency_order_key(record.expires_at_ms, k));
        bytes += keys::idempotency_held_bytes(k, v.len());
    }
    let earliest = order
        .first()
        .and_then(|(k, _)| k.get(..8))
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes);
    let found: std::collections::BTreeSet<Vec<u8>> = order.into_iter().map(|(k, _)| k).collect();
    if found != expected {
        return Err(format!(
            "idempotency order ({} entries) does not match the keys held ({})",
            found.len(),
            expected.len()
        ));
    }
    let counter = |name: &[u8]| -> Result<u64, String> {
        match state.get(Table::Meta, name).map_err(|e| e.to_string())? {
            Some(b) => keys::decode_u64(Table::Meta, name, &b).map_err(|e| e.to_string()),
            None => Ok(0),
        }
    };
    let (count, counted_bytes) = (
        counter(meta::IDEMPOTENCY_KEYS)?,
        counter(meta::IDEMPOTENCY_BYTES)?,
    );
    let from = counter(meta::IDEMPOTENCY_EXPIRES_FROM)?;
    if let Some(earliest) = earliest
        && from > earliest
    {
        return Err(format!(
            "idempotency keys expire from {earliest}, the bound says none before {from}"
        ));
    }
    if count != held.len() as u64 || counted_bytes != bytes {
        return Err(format!(
            "idempotency counters say {count} keys and {counted_bytes} bytes, the tables hold {} and {bytes}",
            held.len()
        ));
    }
    Ok(())
}

/// `Counts` holds exactly the number of jobs of each (queue, state), and no zero rows.
fn check_counts<R: StateRead>(state: &R) -> Result<(), String> {
    let mut scanned: BTreeMap<(String, JobState), u64> = BTreeMap::new();
    let jobs = state
        .range(Table::Jobs, &[], &[0xff; 64], usize::MAX)
        .map_err(|e| e.to_string())?;
    for (k, v) in jobs {
        let job = keys::decode_job(&k, &v).map_err(|e| e.to_string())?;
        *scanned.entry((job.queue, job.state)).or_default() += 1;
    }
    let stored: BTreeMap<(String, JobState), u64> = queue_counts(state)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(q, s, n)| ((q, s), n))
        .collect();
    if stored != scanned {
        return Err(format!(
            "queue counts disagree with the jobs: stored {stored:?}, scanned {scanned:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::queue_counts;
    use crate::apply::testkit::World;
    use crate::model::{Backoff, BackoffKind, EnqueueOptions, JobState};

    fn counts(w: &World) -> Vec<(String, JobState, u64)> {
        queue_counts(&w.state).expect("storage")
    }

    fn row(queue: &str, state: JobState, n: u64) -> (String, JobState, u64) {
        (queue.to_owned(), state, n)
    }

    #[test]
    fn counts_follow_every_transition_and_deletion() {
        let mut w = World::new();
        assert!(counts(&w).is_empty());
        w.enqueue("a", "{}", EnqueueOptions::default());
        w.enqueue("a", "{}", EnqueueOptions::default());
        w.enqueue(
            "b",
            "{}",
            EnqueueOptions {
                scheduled_at_ms: Some(w.now + 1_000),
                ..Default::default()
            },
        );
        assert_eq!(
            counts(&w),
            vec![
                row("a", JobState::Pending, 2),
                row("b", JobState::Scheduled, 1)
            ]
        );
        let token = w.lease(&["a"], 1, 10_000)[0].lease.as_ref().unwrap().token;
        assert_eq!(
            counts(&w),
            vec![
                row("a", JobState::Pending, 1),
                row("a", JobState::Active, 1),
                row("b", JobState::Scheduled, 1)
            ]
        );
        w.ack("j1", Some(token), None).unwrap();
        w.advance(1_000);
        w.tick();
        assert_eq!(
            counts(&w),
            vec![
                row("a", JobState::Pending, 1),
                row("a", JobState::Completed, 1),
                row("b", JobState::Pending, 1)
            ],
            "zero rows are removed, promoted jobs move"
        );
        w.cancel("j2").unwrap();
        w.delete("j1").unwrap();
        assert_eq!(
            counts(&w),
            vec![
                row("a", JobState::Cancelled, 1),
                row("b", JobState::Pending, 1)
            ]
        );
        w.retry("j2").unwrap();
        w.delete("j2").unwrap();
        assert_eq!(counts(&w), vec![row("b", JobState::Pending, 1)]);
    }

    #[test]
    fn counts_follow_failures_expiry_and_lease_loss() {
        let mut w = World::new();
        let retry_later = EnqueueOptions {
            max_attempts: 2,
            backoff: Backoff {
                kind: BackoffKind::Fixed,
                base_ms: 1_000,
                cap_ms: 1_000,
            },
            ..Default::default()
        };
        w.enqueue("q", "{}", retry_later.clone());
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                expire_after_ms: Some(500),
                ..Default::default()
            },
        );
        w.lease(&["q"], 1, 60_000);
        w.fail("j1", None, "boom").unwrap();
        w.advance(500);
        w.tick();
        assert_eq!(
            counts(&w),
            vec![row("q", JobState::Retrying, 1), row("q", JobState::Dead, 1)]
        );
        w.advance(500);
        w.tick();
        w.lease(&["q"], 1, 1_000);
        w.advance(1_000);
        w.tick();
        assert_eq!(counts(&w), vec![row("q", JobState::Dead, 2)]);
    }

    #[test]
    fn a_job_enqueued_and_leased_in_one_batch_counts_once() {
        use crate::command::{Batch, Command, Enqueue, Lease};
        let mut w = World::new();
        let batch = Batch {
            now_ms: w.now,
            commands: vec![
                Command::Enqueue(Enqueue {
                    id: "x".into(),
                    queue: "q".into(),
                    payload: "{}".into(),
                    options: EnqueueOptions::default(),
                }),
                Command::Lease(Lease {
                    queues: vec!["q".into()],
                    count: 1,
                    worker_id: "w".into(),
                    hostname: "h".into(),
                    lease_ms: 1_000,
                }),
                // A re-proposed enqueue of the same id changes nothing.
                Command::Enqueue(Enqueue {
                    id: "x".into(),
                    queue: "q".into(),
                    payload: "{}".into(),
                    options: EnqueueOptions::default(),
                }),
            ],
        };
        crate::apply_batch(&mut w.state, &batch, 1).expect("storage");
        assert_eq!(counts(&w), vec![row("q", JobState::Active, 1)]);
        w.check_invariants();
    }

    #[test]
    fn check_invariants_catches_counts_that_drifted() {
        use crate::keys::{self, Table};
        use crate::state::StateTxn;
        let mut w = World::new();
        w.enqueue("q", "{}", EnqueueOptions::default());
        assert!(super::check_invariants(&w.state).is_ok());
        let key = keys::counts_key("q", JobState::Pending);
        w.state
            .put(Table::Counts, &key, &2u64.to_be_bytes())
            .unwrap();
        let err = super::check_invariants(&w.state).unwrap_err();
        assert!(err.contains("queue counts disagree"), "{err}");
        w.state.delete(Table::Counts, &key).unwrap();
        assert!(super::check_invariants(&w.state).is_err(), "a missing row");
    }

    #[test]
    fn counts_keys_round_trip_and_do_not_mix_prefixes() {
        use crate::keys;
        for state in JobState::ALL {
            let key = keys::counts_key("a.b", state);
            assert_eq!(keys::parse_counts_key(&key), Some(("a.b".into(), state)));
        }
        assert!(
            keys::counts_key("a", JobState::Pending) < keys::counts_key("ab", JobState::Pending)
        );
        assert_eq!(keys::parse_counts_key(b"q\x00\x09"), None);
        assert_eq!(keys::parse_counts_key(b"q\x01"), None);
    }

    #[test]
    fn make_ready_stamps_the_ready_time() {
        let mut w = World::new();
        let at = w.now + 2_000;
        w.enqueue(
            "q",
            "{}",
            EnqueueOptions {
                scheduled_at_ms: Some(at),
                ..Default::default()
            },
        );
        assert_eq!(w.job("j1").ready_at_ms, None);
        w.advance(2_000);
        w.tick();
        assert_eq!(w.job("j1").ready_at_ms, Some(at));
    }
}
