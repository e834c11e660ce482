//! Retention purge of a large backlog, measured where the pause happens: the apply.
//!
//! Fills a state store (redb, on disk, the server's durability policy) with `CORVO_PURGE_JOBS`
//! finished jobs (default 1 million: enqueued, leased and acknowledged in batches of 1000),
//! then moves the clock past their retention all at once and applies `Tick`s until every
//! job is purged, as the leader's ticker does (each tick removes at most
//! `PURGES_PER_TICK_MAX` jobs). Reports each tick's apply time (the transaction, commit
//! included): the longest is the longest pause any other write waits behind a purge.
//!
//! Run: `cargo bench -p corvo-store --bench purge` (release build; `CORVO_PURGE_JOBS=200000`
//! for a shorter run). Results: docs/performance.md, "Retention purge".

use std::time::Duration;

use corvo_core::model::EnqueueOptions;
use corvo_core::{Ack, Batch, Command, Enqueue, Lease, Reply};
use corvo_store::StateStore;

const CHUNK: usize = 1_000;
const RETENTION_MS: u64 = 60_000;

fn main() {
    let jobs: usize = std::env::var("CORVO_PURGE_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = StateStore::open(&dir.path().join("state.redb")).expect("open the store");
    let payload = format!("{{\"data\":\"{}\"}}", "x".repeat(240));
    let mut index = 0u64;
    let mut apply = |now_ms: u64, commands: Vec<Command>| {
        index += 1;
        let batch = Batch { now_ms, commands };
        let started = corvo_clock::monotonic();
        let outcome = store
            .apply(&[(index, Some(&batch))], b"meta")
            .expect("apply")
            .pop()
            .flatten()
            .expect("an outcome");
        (started.elapsed(), outcome)
    };

    let mut now = 1_700_000_000_000u64;
    apply(
        now,
        vec![Command::SetRetentionDefaults {
            retention_ms: RETENTION_MS,
            dead_retention_ms: RETENTION_MS,
        }],
    );
    let fill = corvo_clock::monotonic();
    for chunk in 0..jobs.div_ceil(CHUNK) {
        let n = CHUNK.min(jobs - chunk * CHUNK);
        now += 1;
        let enqueues = (0..n)
            .map(|i| {
                Command::Enqueue(Enqueue {
                    id: format!("{:020}", chunk * CHUNK + i),
                    queue: "purged".into(),
                    payload: payload.clone(),
                    options: EnqueueOptions::default(),
                })
            })
            .collect();
        apply(now, enqueues);
        let (_, leased) = apply(
            now,
            vec![Command::Lease(Lease {
                queues: vec!["purged".into()],
                count: n as u32,
                worker_id: "bench".into(),
                hostname: "bench".into(),
                lease_ms: 30_000,
            })],
        );
        let Some(Ok(Reply::Leased(leased))) = leased.replies.into_iter().next() else {
            panic!("the lease failed");
        };
        assert_eq!(leased.len(), n, "every job of the chunk leased");
        let acks = leased
            .into_iter()
            .map(|j| {
                Command::Ack(Ack {
                    job_id: j.id,
                    lease_token: None,
                    result: None,
                })
            })
            .collect();
        apply(now, acks);
    }
    let fill = fill.elapsed();
    eprintln!(
        "filled {jobs} finished jobs in {:.1} s ({:.0} jobs/s)",
        fill.as_secs_f64(),
        jobs as f64 / fill.as_secs_f64()
    );

    // Every job's retention ends at once: the backlog a leader meets after a long outage.
    now += RETENTION_MS + 1;
    let purge = corvo_clock::monotonic();
    let mut pauses: Vec<Duration> = Vec::new();
    let mut purged = 0usize;
    while purged < jobs {
        let (took, outcome) = apply(now, vec![Command::Tick]);
        assert!(
            outcome.purged > 0,
            "a tick purged nothing with {purged}/{jobs} done"
        );
        purged += outcome.purged as usize;
        pauses.push(took);
    }
    let purge = purge.elapsed();
    pauses.sort();
    let at = |q: f64| pauses[((pauses.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let over_50 = pauses
        .iter()
        .filter(|d| **d > Duration::from_millis(50))
        .count();
    println!(
        "purged {jobs} jobs in {} ticks, {:.1} s ({:.0} jobs/s); apply per tick: p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms; ticks over 50 ms: {over_50}",
        pauses.len(),
        purge.as_secs_f64(),
        jobs as f64 / purge.as_secs_f64(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0)),
    );
    assert!(
        corvo_core::query::queue_counts(&store.read().expect("read"))
            .expect("counts")
            .is_empty(),
        "nothing is left"
    );
}
