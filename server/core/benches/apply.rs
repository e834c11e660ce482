//! What the state machine itself costs per command: `apply_batch` on an in-memory state
//! (`MemState`): no storage engine, no Raft, no gRPC. The CPU floor under every write.
//!
//! Each measurement applies one command per log entry (one `Batch`), as a unary call does when
//! nothing else is in flight; `enqueue/batch_64x1KiB` is one entry of 64 enqueues, as group
//! commit builds under load. What a command needs (jobs to lease, leases to ack or expire) is
//! built before the clock starts, in rounds of at most [`ROUND_ITERS_MAX`] iterations on a
//! fresh state, so the timed part is the commands alone; their outcomes are checked after it.
//!
//! The `apply_finished` group repeats Enqueue and Lease+Ack on a state that already holds
//! `CORVO_BENCH_FINISHED_JOBS` finished jobs (default 1 million, 1 KiB each): the cost per
//! command must not grow with the data. Each round removes (untimed) the jobs it added, so the
//! state keeps its size.
//!
//! Run: `cargo bench -p corvo-core --bench apply` (`-- --quick` for a shorter run,
//! `CORVO_BENCH_FINISHED_JOBS=100000` for a smaller filled state).
//! Results: docs/performance.md, "CPU floor: the state machine and the log (criterion)".

use std::hint::black_box;
use std::time::Duration;

use corvo_core::apply::LEASE_COUNT_MAX;
use corvo_core::model::EnqueueOptions;
use corvo_core::{
    Ack, Batch, BatchOutcome, Command, Enqueue, Fail, Heartbeat, HeartbeatItem, HeartbeatReply,
    JobState, Lease, MemState, Reply, apply_batch,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};

/// The server's allocator (server/node/src/main.rs): the state machine allocates for every
/// record it reads or writes, and the system allocator slows down as a large heap fragments.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Size of every job's payload (a JSON document), as in the server benchmarks.
const PAYLOAD_BYTES: usize = 1024;
/// Iterations prepared and timed together: bounds the state a round builds (and its memory).
const ROUND_ITERS_MAX: u64 = 1_024;
/// Commands per entry when building state outside the timed part.
const FILL_CHUNK: usize = 1_000;
/// Jobs leased by one command in `lease/64_jobs`, commands in `enqueue/batch_64x1KiB`.
const GROUP: usize = 64;
const QUEUE: &str = "bench";
const LEASE_MS: u64 = 30_000;

/// A state, its clock and log index: builds the untimed part of every measurement.
struct Driver {
    state: MemState,
    now: u64,
    index: u64,
    next_id: u64,
    payload: String,
    /// Finished jobs the state was filled with (0: a fresh state every round).
    filled: usize,
    /// Jobs enqueued since the round began (removed after it when `filled > 0`).
    created: Vec<String>,
}

impl Driver {
    fn new() -> Self {
        let filler = PAYLOAD_BYTES - r#"{"data":""}"#.len();
        Driver {
            state: MemState::new(),
            now: 1_700_000_000_000,
            index: 0,
            next_id: 0,
            payload: format!(r#"{{"data":"{}"}}"#, "x".repeat(filler)),
            filled: 0,
            created: Vec::new(),
        }
    }

    /// A state holding `jobs` completed jobs (enqueued, leased and acked in chunks).
    fn with_finished(jobs: usize) -> Self {
        let mut d = Driver::new();
        let started = corvo_clock::monotonic();
        let mut left = jobs;
        while left > 0 {
            let n = left.min(FILL_CHUNK);
            d.enqueue(n, false);
            let acks = d
                .lease_each(n)
                .into_iter()
                .map(|(job_id, token)| ack(job_id, token))
                .collect();
            d.apply(acks);
            left -= n;
        }
        d.created.clear();
        d.filled = jobs;
        eprintln!(
            "filled the state with {jobs} finished jobs in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        d
    }

    /// The next entry: the leader's clock moves 1 ms per entry.
    fn batch(&mut self, commands: Vec<Command>) -> Batch {
        self.now += 1;
        Batch {
            now_ms: self.now,
            commands,
        }
    }

    fn apply(&mut self, commands: Vec<Command>) -> BatchOutcome {
        let batch = self.batch(commands);
        self.index += 1;
        apply_batch(&mut self.state, &batch, self.index).expect("MemState never fails")
    }

    /// A new job's Enqueue (1 KiB payload), with a unique key or not.
    fn enqueue_command(&mut self, unique: bool) -> Command {
        self.next_id += 1;
        // Fixed width and increasing, like the leader's time-ordered ids.
        let id = format!("{:026}", self.next_id);
        self.created.push(id.clone());
        Command::Enqueue(Enqueue {
            options: EnqueueOptions {
                unique_key: unique.then(|| format!("key-{id}")),
                ..EnqueueOptions::default()
            },
            id,
            queue: QUEUE.into(),
            payload: self.payload.clone(),
        })
    }

    /// Enqueues `n` jobs, `FILL_CHUNK` per entry.
    fn enqueue(&mut self, n: usize, unique: bool) {
        let mut left = n;
        while left > 0 {
            let chunk = left.min(FILL_CHUNK);
            let commands = (0..chunk).map(|_| self.enqueue_command(unique)).collect();
            self.apply(commands);
            left -= chunk;
        }
    }

    /// Leases `n` ready jobs; returns each one's id and lease token.
    fn lease_each(&mut self, n: usize) -> Vec<(String, u64)> {
        let mut leased = Vec::with_capacity(n);
        while leased.len() < n {
            let count = (n - leased.len()).min(LEASE_COUNT_MAX as usize);
            let jobs = leased_jobs(&self.apply(vec![lease(count)]));
            assert_eq!(jobs.len(), count, "too few ready jobs");
            leased.extend(jobs);
        }
        leased
    }

    /// Applies `batches` in order: the timed part. With `follow`, each outcome yields the next
    /// command, applied as an entry of its own right after (as a worker acks what it leased).
    /// The outcomes are returned, so that checking and dropping them happen after the clock
    /// stops.
    fn time(
        &mut self,
        batches: &[Batch],
        follow: Option<fn(&BatchOutcome) -> Command>,
    ) -> (Duration, Vec<BatchOutcome>) {
        let mut outcomes = Vec::with_capacity(batches.len() * 2);
        let started = corvo_clock::monotonic();
        for batch in batches {
            self.index += 1;
            let outcome = apply_batch(&mut self.state, black_box(batch), self.index);
            let outcome = outcome.expect("MemState never fails");
            if let Some(follow) = follow {
                let next = Batch {
                    now_ms: batch.now_ms + 1,
                    commands: vec![follow(&outcome)],
                };
                self.index += 1;
                let then = apply_batch(&mut self.state, black_box(&next), self.index);
                outcomes.push(outcome);
                outcomes.push(then.expect("MemState never fails"));
            } else {
                outcomes.push(outcome);
            }
        }
        (started.elapsed(), outcomes)
    }

    /// Ends a round: a fresh state, or the filled one with the round's jobs removed.
    fn end_round(&mut self) {
        if self.filled == 0 {
            *self = Driver::new();
            return;
        }
        let created = std::mem::take(&mut self.created);
        for chunk in created.chunks(FILL_CHUNK) {
            let destroys = chunk
                .iter()
                .map(|id| Command::Destroy { job_id: id.clone() })
                .collect();
            let outcome = self.apply(destroys);
            assert!(outcome.replies.iter().all(|r| r == &Ok(Reply::Destroyed)));
        }
    }
}

fn lease(count: usize) -> Command {
    Command::Lease(Lease {
        queues: vec![QUEUE.into()],
        count: u32::try_from(count).expect("a lease count fits u32"),
        worker_id: "bench-worker".into(),
        hostname: "bench-host".into(),
        lease_ms: LEASE_MS,
    })
}

fn ack(job_id: String, token: u64) -> Command {
    Command::Ack(Ack {
        job_id,
        lease_token: Some(token),
        result: Some(r#"{"ok":true}"#.into()),
    })
}

/// (id, lease token) of the jobs a one-command entry leased.
fn leased_jobs(outcome: &BatchOutcome) -> Vec<(String, u64)> {
    let Some(Ok(Reply::Leased(jobs))) = outcome.replies.first() else {
        panic!("not a lease: {:?}", outcome.replies);
    };
    jobs.iter()
        .map(|j| (j.id.clone(), j.lease.as_ref().expect("leased").token))
        .collect()
}

/// One measurement: what to build before the clock starts, and what each outcome must show.
struct Scenario {
    name: &'static str,
    /// Commands (or jobs) per iteration, for the throughput line.
    elements: u64,
    /// Builds what `n` iterations need in the driver (untimed) and returns their entries.
    prepare: fn(&mut Driver, usize) -> Vec<Batch>,
    /// The command that follows each entry's outcome, timed with it (see [`Driver::time`]).
    follow: Option<fn(&BatchOutcome) -> Command>,
    /// Checks one entry's outcome (untimed).
    check: fn(&BatchOutcome),
}

/// Times `iters` iterations of `scenario` in rounds of at most `ROUND_ITERS_MAX`.
fn measure(driver: &mut Driver, scenario: &Scenario, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(ROUND_ITERS_MAX);
        let batches = (scenario.prepare)(driver, n as usize);
        let (took, outcomes) = driver.time(&batches, scenario.follow);
        outcomes.iter().for_each(scenario.check);
        total += took;
        drop((batches, outcomes));
        driver.end_round();
        left -= n;
    }
    total
}

/// Registers one scenario; the driver is built on first use (only if the scenario runs).
fn run(
    group: &mut BenchmarkGroup<'_, WallTime>,
    driver: &mut Option<Driver>,
    make: &dyn Fn() -> Driver,
    scenario: &Scenario,
) {
    group.throughput(Throughput::Elements(scenario.elements));
    group.bench_function(scenario.name, |b| {
        let driver = driver.get_or_insert_with(make);
        b.iter_custom(|iters| measure(driver, scenario, iters));
    });
}

fn first_reply(outcome: &BatchOutcome) -> &Reply {
    match outcome.replies.first() {
        Some(Ok(reply)) => reply,
        other => panic!("refused: {other:?}"),
    }
}

fn enqueued(outcome: &BatchOutcome) {
    for reply in &outcome.replies {
        assert!(
            matches!(
                reply,
                Ok(Reply::Enqueued {
                    duplicate: false,
                    ..
                })
            ),
            "{reply:?}"
        );
    }
}

/// Entries of one command each, built from every job the round prepared.
fn one_per_entry(d: &mut Driver, commands: Vec<Command>) -> Vec<Batch> {
    commands.into_iter().map(|c| d.batch(vec![c])).collect()
}

const ENQUEUE: Scenario = Scenario {
    name: "enqueue/1KiB",
    elements: 1,
    prepare: |d, n| {
        let commands = (0..n).map(|_| d.enqueue_command(false)).collect();
        one_per_entry(d, commands)
    },
    follow: None,
    check: enqueued,
};

const ENQUEUE_UNIQUE: Scenario = Scenario {
    name: "enqueue/1KiB_unique_key",
    elements: 1,
    prepare: |d, n| {
        let commands = (0..n).map(|_| d.enqueue_command(true)).collect();
        one_per_entry(d, commands)
    },
    follow: None,
    check: enqueued,
};

const ENQUEUE_BATCH: Scenario = Scenario {
    name: "enqueue/batch_64x1KiB",
    elements: GROUP as u64,
    prepare: |d, n| {
        (0..n)
            .map(|_| {
                let commands = (0..GROUP).map(|_| d.enqueue_command(false)).collect();
                d.batch(commands)
            })
            .collect()
    },
    follow: None,
    check: enqueued,
};

const LEASE_1: Scenario = Scenario {
    name: "lease/1_job",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        (0..n).map(|_| d.batch(vec![lease(1)])).collect()
    },
    follow: None,
    check: |o| assert_eq!(leased_jobs(o).len(), 1),
};

const LEASE_64: Scenario = Scenario {
    name: "lease/64_jobs",
    elements: GROUP as u64,
    prepare: |d, n| {
        d.enqueue(n * GROUP, false);
        (0..n).map(|_| d.batch(vec![lease(GROUP)])).collect()
    },
    follow: None,
    check: |o| assert_eq!(leased_jobs(o).len(), GROUP),
};

const ACK: Scenario = Scenario {
    name: "ack/with_token",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        let acks = d.lease_each(n).into_iter().map(|(id, t)| ack(id, t));
        one_per_entry(d, acks.collect())
    },
    follow: None,
    check: |o| {
        let Reply::Acked { state, .. } = first_reply(o) else {
            panic!("not acked: {o:?}");
        };
        assert_eq!(*state, JobState::Completed);
    },
};

const FAIL: Scenario = Scenario {
    name: "fail/with_token",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        let fails = d.lease_each(n).into_iter().map(|(job_id, token)| {
            Command::Fail(Fail {
                job_id,
                lease_token: Some(token),
                error: "connection refused by the upstream service".into(),
                backtrace: None,
            })
        });
        one_per_entry(d, fails.collect())
    },
    follow: None,
    check: |o| {
        let Reply::Failed { state, .. } = first_reply(o) else {
            panic!("not failed: {o:?}");
        };
        assert_eq!(*state, JobState::Retrying);
    },
};

const HEARTBEAT: Scenario = Scenario {
    name: "heartbeat/with_progress",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        let beats = d.lease_each(n).into_iter().map(|(job_id, token)| {
            Command::Heartbeat(Heartbeat {
                items: vec![HeartbeatItem {
                    job_id,
                    lease_token: Some(token),
                    progress: Some(r#"{"done":50,"total":100}"#.into()),
                    checkpoint: None,
                }],
            })
        });
        one_per_entry(d, beats.collect())
    },
    follow: None,
    check: |o| {
        let Reply::Heartbeat(replies) = first_reply(o) else {
            panic!("not a heartbeat: {o:?}");
        };
        assert!(matches!(replies[..], [HeartbeatReply::Extended { .. }]));
    },
};

const CANCEL: Scenario = Scenario {
    name: "cancel/pending",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        let ids = d.created.clone();
        let cancels = ids.into_iter().map(|job_id| Command::Cancel { job_id });
        one_per_entry(d, cancels.collect())
    },
    follow: None,
    check: |o| assert!(matches!(first_reply(o), Reply::Cancelled { .. })),
};

/// Each tick finds exactly one lease past its deadline: the jobs are leased 1 ms apart.
const TICK_EXPIRE: Scenario = Scenario {
    name: "tick/expires_1_lease",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        let mut deadlines = Vec::with_capacity(n);
        for _ in 0..n {
            d.apply(vec![lease(1)]);
            deadlines.push(d.now + LEASE_MS);
        }
        d.now = deadlines.last().copied().unwrap_or(d.now);
        deadlines
            .into_iter()
            .map(|now_ms| Batch {
                now_ms,
                commands: vec![Command::Tick],
            })
            .collect()
    },
    follow: None,
    check: |o| assert_eq!(first_reply(o), &Reply::Ticked { fired: 1 }),
};

/// The leader's idle tick: nothing due (1 000 pending jobs, no timers).
const TICK_IDLE: Scenario = Scenario {
    name: "tick/nothing_due",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(FILL_CHUNK, false);
        (0..n).map(|_| d.batch(vec![Command::Tick])).collect()
    },
    follow: None,
    check: |o| assert_eq!(first_reply(o), &Reply::Ticked { fired: 0 }),
};

/// A job's whole delivery: one entry leases it, the next acks it with the lease's token.
/// Both entries are timed: the time per iteration is per job delivered.
const LEASE_ACK: Scenario = Scenario {
    name: "lease_ack/1_job",
    elements: 1,
    prepare: |d, n| {
        d.enqueue(n, false);
        // Two milliseconds per iteration: the ack's entry takes the second.
        (0..n)
            .map(|_| {
                let batch = d.batch(vec![lease(1)]);
                d.now += 1;
                batch
            })
            .collect()
    },
    follow: Some(|o| {
        let [(job_id, token)] = &leased_jobs(o)[..] else {
            panic!("leased no job: {o:?}");
        };
        ack(job_id.clone(), *token)
    }),
    check: |o| match first_reply(o) {
        Reply::Leased(jobs) => assert_eq!(jobs.len(), 1),
        Reply::Acked { state, .. } => assert_eq!(*state, JobState::Completed),
        other => panic!("unexpected {other:?}"),
    },
};

fn apply_commands(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    let mut driver = None;
    for scenario in [
        &ENQUEUE,
        &ENQUEUE_UNIQUE,
        &ENQUEUE_BATCH,
        &LEASE_1,
        &LEASE_64,
        &ACK,
        &FAIL,
        &HEARTBEAT,
        &CANCEL,
        &TICK_EXPIRE,
        &TICK_IDLE,
        &LEASE_ACK,
    ] {
        run(&mut group, &mut driver, &Driver::new, scenario);
    }
    group.finish();
}

/// The same commands on a state that already holds many finished jobs.
fn apply_on_finished_jobs(c: &mut Criterion) {
    let jobs = std::env::var("CORVO_BENCH_FINISHED_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut group = c.benchmark_group("apply_finished");
    // Built once (tens of seconds) and shared: each round removes the jobs it added.
    let mut driver = None;
    for scenario in [&ENQUEUE, &LEASE_ACK] {
        run(
            &mut group,
            &mut driver,
            &|| Driver::with_finished(jobs),
            scenario,
        );
    }
    group.finish();
}

criterion_group!(benches, apply_commands, apply_on_finished_jobs);
criterion_main!(benches);
