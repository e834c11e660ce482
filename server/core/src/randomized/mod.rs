//! The randomized tier: seeded workloads over the in-memory state, every invariant checked
//! after every batch, and a reference model that says what each job should be.
//!
//! ```text
//!  seed ──▶ Rng ──▶ Workload::next_batch ──▶ apply_batch(MemState) ──▶ outcome
//!                        ▲                                               │
//!                        └──── workers learn their leases ◀──────────────┤
//!                                                                        ▼
//!   after every batch:  testkit::invariants(state)      (indexes, timers, counts, leases)
//!                       guarantees(prev, next, replies) (sticky terminal states, attempts,
//!                                                        fencing, nothing overdue after a
//!                                                        tick, no job lost, tokens unique)
//!                       Model::apply + Model::compare   (every reply, every job field,
//!                                                        locks, purge timers, counts,
//!                                                        queue settings, revoked effects)
//! ```
//!
//! Running it:
//!
//! - `cargo test -p corvo-core randomized` runs seeds `0..64`, [`STEPS`] batches each.
//! - `CORVO_SEEDS=2000 cargo test -p corvo-core randomized` runs seeds `0..2000` (a long run).
//! - `CORVO_SEED=17 cargo test -p corvo-core randomized` replays seed 17 alone, exactly: the
//!   workload depends on nothing but the seed. With `-- --nocapture` it prints every batch
//!   and its replies on the way.
//!
//! A failure names its seed and step, the batch that broke the check, and the command to
//! replay it. A run of many seeds also checks its coverage (every path in [`COVERED`] was
//! taken), so a workload that stops reaching a path fails instead of passing quietly; the
//! counts are printed with `-- --nocapture`.
//!
//! The model ([`model`]) follows the documented rules; where a rule is the implementation's
//! choice it says so, and where it cannot know (the exact lease tokens, the size estimate of
//! a job) it checks less rather than guess. The workload ([`workload`]) is what producers,
//! workers, operators and the leader's clock do, faults included.

mod model;
mod workload;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::apply::testkit::{Snapshot, invariants, is_waiting};
use crate::apply::{TIMERS_PER_TICK_MAX, apply_batch};
use crate::command::{Batch, BatchOutcome, Command, HeartbeatReply, JobError, Reply};
use crate::model::{Job, JobState};
use crate::state::MemState;
use model::Model;
use workload::Workload;

/// Seeds run by default (`CORVO_SEEDS` overrides).
const SEEDS_DEFAULT: u64 = 64;
/// Paths every run of at least [`COVERAGE_SEEDS_MIN`] seeds must take.
const COVERED: [&str; 20] = [
    "enqueued",
    "duplicate enqueue",
    "refused enqueue",
    "leased",
    "leased within a size",
    "acked",
    "failed, retrying",
    "failed, dead",
    "stale token refused",
    "lease extended",
    "lease expired",
    "expired",
    "promoted",
    "cancelled",
    "retried",
    "deleted",
    "destroyed",
    "moved",
    "throttled",
    "purged",
];
const COVERAGE_SEEDS_MIN: usize = 16;
/// Batches per seed.
const STEPS: usize = 250;
/// Due timers one tick may meet for the model to hold (it fires every due timer at once):
/// below `TIMERS_PER_TICK_MAX` and the 1 024 purges per tick of `apply::timers`.
const DUE_PER_TICK_MAX: usize = 1_024;
const _: () = assert!(DUE_PER_TICK_MAX <= TIMERS_PER_TICK_MAX);

#[test]
fn seeded_workloads_keep_every_invariant_and_agree_with_the_model() {
    let replay = env_u64("CORVO_SEED");
    let seeds: Vec<u64> = match (replay, env_u64("CORVO_SEEDS")) {
        (Some(seed), _) => vec![seed],
        (None, count) => (0..count.unwrap_or(SEEDS_DEFAULT)).collect(),
    };
    let next = AtomicU64::new(0);
    let failures = Mutex::new(BTreeMap::new());
    let coverage = Mutex::new(Coverage::default());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads.min(seeds.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(&seed) = seeds.get(i) else { break };
                    match run_seed(seed, replay.is_some()) {
                        Ok(c) => coverage.lock().expect("not poisoned").add(&c),
                        Err(e) => {
                            failures.lock().expect("not poisoned").insert(seed, e);
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("not poisoned");
    if let Some((seed, first)) = failures.iter().next() {
        let failed: Vec<&u64> = failures.keys().collect();
        panic!(
            "{} of {} seeds failed ({failed:?}); the first:\n{first}\n\
             replay: CORVO_SEED={seed} cargo test -p corvo-core randomized",
            failed.len(),
            seeds.len(),
        );
    }
    let coverage = coverage.into_inner().expect("not poisoned");
    for (path, n) in &coverage.0 {
        println!("{n:>9}  {path}");
    }
    if seeds.len() >= COVERAGE_SEEDS_MIN {
        let missed: Vec<&str> = COVERED
            .into_iter()
            .filter(|p| !coverage.0.contains_key(p))
            .collect();
        assert!(missed.is_empty(), "the workload never took {missed:?}");
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value}: not a number")),
    )
}

/// Runs one seed; a failed check or a panic in the state machine is an error naming the step.
/// `trace` prints every batch and its replies.
fn run_seed(seed: u64, trace: bool) -> Result<Coverage, String> {
    let step = std::cell::Cell::new(0usize);
    let batch = std::cell::RefCell::new(Batch::default());
    let run = catch_unwind(AssertUnwindSafe(|| {
        let mut run = Run::new(seed);
        for n in 0..=STEPS {
            step.set(n);
            let next = run.next_batch(n == 0);
            *batch.borrow_mut() = next.clone();
            let replies = run.step(&next)?;
            if trace {
                println!("step {n} at {} ms:", next.now_ms);
                for (cmd, reply) in next.commands.iter().zip(replies) {
                    println!("  {cmd:?}\n    → {reply:?}");
                }
            }
        }
        Ok(run.coverage)
    }));
    let result = run.unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panicked: {msg}"))
    });
    result.map_err(|e| {
        let batch = batch.borrow();
        format!(
            "seed {seed}, step {}, batch at {} ms {:#?}:\n{e}",
            step.get(),
            batch.now_ms,
            batch.commands
        )
    })
}

/// One seed's run: the state, the model, the workload and what the last batch left.
struct Run {
    state: MemState,
    model: Model,
    workload: Workload,
    /// The state as the last batch left it.
    prev: Snapshot,
    index: u64,
    coverage: Coverage,
}

impl Run {
    fn new(seed: u64) -> Run {
        let state = MemState::new();
        let prev = Snapshot::read(&state).expect("empty state reads");
        Run {
            state,
            model: Model::default(),
            workload: Workload::new(seed),
            prev,
            index: 0,
            coverage: Coverage::default(),
        }
    }

    fn next_batch(&mut self, first: bool) -> Batch {
        if first {
            self.workload.setup()
        } else {
            self.workload.next_batch(&self.model, &self.prev.timers)
        }
    }

    /// Applies one batch and checks everything; returns the replies.
    fn step(&mut self, batch: &Batch) -> Result<Vec<Result<Reply, JobError>>, String> {
        self.check_tick_bounds(batch)?;
        // Fencing: a worker outcome the state must refuse leaves the state untouched.
        let fenced = match batch.commands.as_slice() {
            [cmd] if fenced(&self.prev.jobs, cmd) => Some(self.state.clone()),
            _ => None,
        };
        self.index += 1;
        let outcome = apply_batch(&mut self.state, batch, self.index).map_err(|e| e.to_string())?;
        if outcome.replies.len() != batch.commands.len() {
            return Err(format!("{} replies", outcome.replies.len()));
        }
        let next = invariants(&self.state)?;
        let first_due = next.timers.first().map(|(due, _, _)| *due);
        if outcome.next_due_ms != first_due {
            return Err(format!(
                "next due {:?}, the first timer {first_due:?}",
                outcome.next_due_ms
            ));
        }
        if let Some(before) = fenced {
            check_refused(&batch.commands[0], &outcome.replies[0])?;
            if before != self.state {
                return Err("a refused outcome changed the state".into());
            }
        }
        self.model.apply(batch.now_ms, &batch.commands, &outcome)?;
        guarantees(&self.prev, &next, batch, &outcome)?;
        self.model.compare(&next, &self.state)?;
        self.coverage.count(&self.prev, &next, batch, &outcome);
        self.workload.observe(batch, &outcome);
        self.prev = next;
        Ok(outcome.replies)
    }

    /// The model fires every due timer in one tick: the workload must stay below the bounds
    /// on timers and purges per tick (which a long backlog reaches on purpose elsewhere).
    fn check_tick_bounds(&self, batch: &Batch) -> Result<(), String> {
        if !batch.commands.contains(&Command::Tick) {
            return Ok(());
        }
        let due = self
            .prev
            .timers
            .iter()
            .filter(|(at, _, _)| *at <= batch.now_ms);
        if due.count() >= DUE_PER_TICK_MAX {
            return Err("the workload outgrew the per-tick bounds the model assumes".into());
        }
        Ok(())
    }
}

/// Whether the state must refuse this worker outcome, judged from the state before it: an
/// ack or fail of a job that is missing or not active under that token, a heartbeat whose
/// every item is for such a job.
fn fenced(jobs: &BTreeMap<String, Job>, cmd: &Command) -> bool {
    let current = |id: &str, token: Option<u64>| {
        jobs.get(id).is_some_and(|j| {
            j.state == JobState::Active
                && (token.is_none() || token == j.lease.as_ref().map(|l| l.token))
        })
    };
    match cmd {
        Command::Ack(a) => !current(&a.job_id, a.lease_token),
        Command::Fail(f) => !current(&f.job_id, f.lease_token),
        Command::Heartbeat(h) => h.items.iter().all(|i| !current(&i.job_id, i.lease_token)),
        _ => false,
    }
}

/// A fenced outcome is answered as refused: stale lease, not found, or not active.
fn check_refused(cmd: &Command, reply: &Result<Reply, JobError>) -> Result<(), String> {
    let refused = match reply {
        Err(JobError::StaleLease { .. } | JobError::NotFound { .. }) => true,
        Err(JobError::InvalidState { .. }) => {
            matches!(cmd, Command::Ack(a) if a.lease_token.is_none())
                || matches!(cmd, Command::Fail(f) if f.lease_token.is_none())
        }
        Ok(Reply::Heartbeat(replies)) => {
            replies.iter().all(|r| matches!(r, HeartbeatReply::Stop(_)))
        }
        _ => false,
    };
    if refused {
        Ok(())
    } else {
        Err(format!(
            "an outcome without the current lease was answered {reply:?}"
        ))
    }
}

/// The guarantees, judged from two consecutive states and the replies alone (not the model):
///
/// - a finished job stays finished unless retried in this batch;
/// - attempts never exceed the budget, never go back except by a retry, and grow only by
///   leases (one per lease);
/// - every active job holds a lease some `Lease` reply handed to its worker;
/// - after a tick nothing is overdue: no active job past its deadline, no scheduled or
///   retrying job past its time, no unstarted job past its expiry;
/// - a job disappears only by delete, destroy, or a purge at a tick once it finished.
fn guarantees(
    prev: &Snapshot,
    next: &Snapshot,
    batch: &Batch,
    outcome: &BatchOutcome,
) -> Result<(), String> {
    let now = batch.now_ms;
    let ticked = batch.commands.contains(&Command::Tick);
    let handed_out = leased_tokens(batch, outcome);
    let retried = succeeded(batch, outcome, |c| match c {
        Command::Retry { job_id } => Some(job_id),
        _ => None,
    });
    let removed = succeeded(batch, outcome, |c| match c {
        Command::Delete { job_id } | Command::Destroy { job_id } => Some(job_id),
        _ => None,
    });
    // A job created in this batch is new, even under the id of one removed before it.
    let created: BTreeSet<&String> = batch
        .commands
        .iter()
        .zip(&outcome.replies)
        .filter_map(|(cmd, reply)| match (cmd, reply) {
            (
                Command::Enqueue(e),
                Ok(Reply::Enqueued {
                    duplicate: false, ..
                }),
            ) => Some(&e.id),
            _ => None,
        })
        .collect();
    for (id, job) in &next.jobs {
        let before = prev.jobs.get(id).filter(|_| !created.contains(id));
        let retried = retried.contains(id);
        let leases = handed_out.values().filter(|(j, _)| j == id).count() as u32;
        if let Some(b) = before
            && b.state.is_terminal()
            && !job.state.is_terminal()
            && !retried
        {
            return Err(format!("{id} left {} without a retry", b.state.as_str()));
        }
        let base = match before {
            Some(b) if !retried => b.attempt,
            _ => 0,
        };
        if job.attempt < base || job.attempt > base + leases {
            return Err(format!(
                "{id}: attempt {} after {base} and {leases} leases",
                job.attempt
            ));
        }
        if let Some(lease) = &job.lease {
            let same = before.and_then(|b| b.lease.as_ref()).map(|l| l.token) == Some(lease.token);
            let issued = handed_out
                .get(&lease.token)
                .is_some_and(|(j, w)| j == id && *w == lease.worker_id);
            if !same && !issued {
                return Err(format!(
                    "{id} holds lease {} nobody was handed",
                    lease.token
                ));
            }
        }
        if ticked {
            overdue(job, now).map_err(|e| format!("{id} after a tick at {now}: {e}"))?;
        }
    }
    for (id, job) in &prev.jobs {
        if !next.jobs.contains_key(id) {
            let purged = ticked && job.state.is_terminal();
            if !purged && !removed.contains(id) {
                return Err(format!("{id} ({}) vanished", job.state.as_str()));
            }
        }
    }
    Ok(())
}

/// The jobs named by the batch's commands that `pick` selects and that succeeded.
fn succeeded<'a>(
    batch: &'a Batch,
    outcome: &BatchOutcome,
    pick: impl Fn(&'a Command) -> Option<&'a String>,
) -> BTreeSet<&'a String> {
    batch
        .commands
        .iter()
        .zip(&outcome.replies)
        .filter(|(_, reply)| reply.is_ok())
        .filter_map(|(cmd, _)| pick(cmd))
        .collect()
}

/// Lease tokens the batch's `Lease` replies handed out: token → (job, worker).
fn leased_tokens(batch: &Batch, outcome: &BatchOutcome) -> BTreeMap<u64, (String, String)> {
    let mut tokens = BTreeMap::new();
    for (cmd, reply) in batch.commands.iter().zip(&outcome.replies) {
        if let (
            Command::Lease(l) | Command::LeaseWithin { lease: l, .. },
            Ok(Reply::Leased(jobs)),
        ) = (cmd, reply)
        {
            for job in jobs {
                if let Some(lease) = &job.lease {
                    tokens.insert(lease.token, (job.id.clone(), l.worker_id.clone()));
                }
            }
        }
    }
    tokens
}

/// Nothing a tick at `now` should have fired is still waiting for it.
fn overdue(job: &Job, now: u64) -> Result<(), String> {
    let deadline = job.lease.as_ref().map(|l| l.deadline_ms);
    let due = match job.state {
        JobState::Active => deadline,
        JobState::Scheduled => job.scheduled_at_ms,
        JobState::Retrying => job.next_attempt_at_ms,
        _ => None,
    };
    if due.is_some_and(|at| at <= now) {
        return Err(format!("still {} (due at {due:?})", job.state.as_str()));
    }
    let unstarted = is_waiting(job.state) && job.attempt == 0;
    if unstarted && job.expire_at_ms.is_some_and(|at| at <= now) {
        return Err(format!("not expired (at {:?})", job.expire_at_ms));
    }
    Ok(())
}

/// How often each path of the state machine was taken (see [`COVERED`]).
#[derive(Default)]
struct Coverage(BTreeMap<&'static str, u64>);

impl Coverage {
    fn add(&mut self, other: &Coverage) {
        for (path, n) in &other.0 {
            *self.0.entry(path).or_default() += n;
        }
    }

    fn hit(&mut self, path: &'static str, n: u64) {
        if n > 0 {
            *self.0.entry(path).or_default() += n;
        }
    }

    fn count(&mut self, prev: &Snapshot, next: &Snapshot, batch: &Batch, outcome: &BatchOutcome) {
        for (cmd, reply) in batch.commands.iter().zip(&outcome.replies) {
            let path = match (cmd, reply) {
                (_, Err(JobError::StaleLease { .. })) => "stale token refused",
                (Command::Enqueue(_), Err(JobError::InvalidArgument { .. })) => "refused enqueue",
                (Command::Enqueue(_), Ok(Reply::Enqueued { duplicate, .. })) => match duplicate {
                    true => "duplicate enqueue",
                    false => "enqueued",
                },
                (Command::Lease(_), Ok(Reply::Leased(jobs))) if !jobs.is_empty() => "leased",
                (Command::LeaseWithin { .. }, Ok(Reply::Leased(jobs))) if !jobs.is_empty() => {
                    "leased within a size"
                }
                (_, Ok(Reply::Acked { .. })) => "acked",
                (_, Ok(Reply::Failed { state, .. })) => match state {
                    JobState::Dead => "failed, dead",
                    _ => "failed, retrying",
                },
                (_, Ok(Reply::Heartbeat(items))) => {
                    let extended =
                        |r: &&HeartbeatReply| matches!(r, HeartbeatReply::Extended { .. });
                    self.hit(
                        "lease extended",
                        items.iter().filter(extended).count() as u64,
                    );
                    continue;
                }
                (_, Ok(Reply::Cancelled { .. })) => "cancelled",
                (_, Ok(Reply::Retried { .. })) => "retried",
                (_, Ok(Reply::Deleted)) => "deleted",
                (_, Ok(Reply::Destroyed)) => "destroyed",
                (_, Ok(Reply::Moved { .. })) => "moved",
                (_, Ok(Reply::Reprioritized { .. })) => "reprioritized",
                (_, Ok(Reply::Queue { .. })) => "queue configured",
                _ => continue,
            };
            self.hit(path, 1);
        }
        let reclaimed = outcome.effects.iter().filter(|e| {
            matches!(e, crate::command::Effect::Revoked { reason, .. }
                if *reason == crate::command::StopReason::Reassigned)
        });
        self.hit("lease expired", reclaimed.count() as u64);
        let throttled = outcome
            .activity
            .iter()
            .map(|a| u64::from(a.throttled))
            .sum();
        self.hit("throttled", throttled);
        self.hit("purged", u64::from(outcome.purged));
        for (id, job) in &next.jobs {
            let was = prev.jobs.get(id).map(|j| j.state);
            let expired =
                job.state == JobState::Dead && job.last_error.as_deref() == Some("expired");
            self.hit("expired", u64::from(expired && was.is_some_and(is_waiting)));
            let promoted = job.state == JobState::Pending && was == Some(JobState::Scheduled);
            self.hit("promoted", u64::from(promoted));
        }
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same workload everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_c0de_2bad_f00d)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..hi` (lo < hi).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < u64::from(*w) {
                return i;
            }
            x -= u64::from(*w);
        }
        weights.len() - 1
    }
}
