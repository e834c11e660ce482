//! The workload: what producers, workers, operators and the leader's clock do, drawn from a
//! seeded generator. Realistic on purpose (valid queue names, sensible options, workers that
//! lease, heartbeat and settle the jobs they hold), with the faults a cluster sees: workers
//! that crash and come back with stale tokens, old clients that send no token, wrong tokens,
//! re-proposed enqueues, operators acting on jobs in any state, and a clock that jumps.

use std::collections::{BTreeMap, BTreeSet};

use super::Rng;
use super::model::Model;
use crate::command::{
    Ack, Batch, BatchOutcome, Command, Enqueue, EnqueueKeyed, Fail, Heartbeat, HeartbeatItem,
    HeartbeatReply, Lease, Reply,
};
use crate::keys::TimerKind;
use crate::model::{Backoff, BackoffKind, EnqueueOptions, JobState, Priority};
use crate::queues::{QueueChange, RateLimit};

/// Queue names of one length, so moving a job does not change its size on the wire.
const QUEUES: [&str; 3] = ["mail", "sync", "bulk"];
const UNIQUE_KEYS: [&str; 3] = ["k0", "k1", "k2"];
/// Idempotency keys: few, so retries (and expired keys used again) are common.
const IDEMPOTENCY_KEYS: [&str; 4] = ["i0", "i1", "i2", "i3"];
const PRIORITIES: [Priority; 4] = [
    Priority::Critical,
    Priority::High,
    Priority::Normal,
    Priority::Low,
];
/// Jobs leased by one worker's single lease: it works on at most this many at once.
const HELD_MAX: usize = 6;

struct Worker {
    id: String,
    queues: Vec<String>,
    lease_ms: u64,
    /// (job id, lease token) of the jobs it believes it holds.
    held: Vec<(String, u64)>,
}

pub struct Workload {
    rng: Rng,
    pub now: u64,
    next_id: u64,
    workers: Vec<Worker>,
    /// Every token a lease handed out, for workers that send a wrong one.
    tokens: Vec<u64>,
}

impl Workload {
    pub fn new(seed: u64) -> Workload {
        let mut rng = Rng::new(seed);
        let lease_ms = [1_000, 5_000, 30_000, 60_000, 300_000];
        let workers = (0..4)
            .map(|i| {
                let mut queues: Vec<String> = QUEUES
                    .iter()
                    .filter(|_| rng.chance(50))
                    .map(|q| q.to_string())
                    .collect();
                if queues.is_empty() {
                    queues.push(QUEUES[i % QUEUES.len()].to_string());
                }
                Worker {
                    id: format!("w{i}"),
                    queues,
                    lease_ms: *rng.pick(&lease_ms),
                    held: Vec::new(),
                }
            })
            .collect();
        Workload {
            rng,
            now: 1_700_000_000_000,
            next_id: 0,
            workers,
            tokens: Vec::new(),
        }
    }

    /// The first batch: most runs keep finished jobs for minutes rather than days, so
    /// retention purges happen within the run.
    pub fn setup(&mut self) -> Batch {
        let mut commands = Vec::new();
        if self.rng.chance(75) {
            let short = [5_000, 60_000, 600_000, 3_600_000];
            commands.push(Command::SetRetentionDefaults {
                retention_ms: *self.rng.pick(&short),
                dead_retention_ms: *self.rng.pick(&short),
            });
        }
        commands.push(Command::Tick);
        Batch {
            now_ms: self.now,
            commands,
        }
    }

    /// The next log entry: the clock moves, then one command or a group commit of a few.
    /// `timers` are the state's timers (due, kind, job id), for steps that land on one.
    pub fn next_batch(&mut self, model: &Model, timers: &BTreeSet<(u64, u8, String)>) -> Batch {
        let mut commands = Vec::new();
        let next_due = timers.first().map(|(due, _, _)| *due);
        match self.rng.weighted(&[30, 28, 18, 9, 4, 1, 10, 5]) {
            0 => {}
            1 => self.now += self.rng.range(1, 1_000),
            2 => self.now += self.rng.range(1_000, 30_000),
            3 => self.now += self.rng.range(30_000, 600_000),
            4 => self.now += self.rng.range(600_000, 3 * 3_600_000),
            5 => self.now += self.rng.range(1, 10) * 24 * 3_600_000,
            // The leader's timer: the clock at the next due time exactly, and a tick (mostly
            // first; or behind other commands, or late, which meet the due time untouched).
            6 => self.now = self.now.max(next_due.unwrap_or(0)),
            // A race at a boundary: the clock at some timer's time (or just before it), and a
            // command that meets it there (before or after the tick, or with no tick at all).
            _ => {
                let ahead: Vec<&(u64, u8, String)> =
                    timers.range((self.now, 0, String::new())..).collect();
                if !ahead.is_empty() {
                    let (due, kind, id) = ahead[self.rng.below(ahead.len() as u64) as usize];
                    let early = match self.rng.weighted(&[60, 25, 15]) {
                        0 => 0,
                        1 => 1,
                        _ => self.rng.range(1, 1_000),
                    };
                    self.now = self.now.max(due - early);
                    commands.extend(self.race(model, *kind, id));
                }
            }
        }
        // Only the steps that land on (or next to) a timer's time tick on their own.
        let tick = !commands.is_empty() || next_due == Some(self.now);
        let tick_at = match self.rng.weighted(&[60, 20, 20]) {
            0 if tick => Some(0),
            1 if tick => Some(usize::MAX),
            _ => None,
        };
        if self.rng.chance(2) {
            // A worker crashes: its leases run out, and it never settles those jobs.
            let w = self.rng.below(self.workers.len() as u64) as usize;
            self.workers[w].held.clear();
        }
        let n = if self.rng.chance(25) {
            self.rng.range(2, 5)
        } else {
            1
        };
        for _ in 0..n {
            commands.push(self.command(model));
        }
        if let Some(at) = tick_at {
            commands.insert(at.min(commands.len()), Command::Tick);
        }
        Batch {
            now_ms: self.now,
            commands,
        }
    }

    /// A command that meets a timer of `kind` for `id` at its very time: an enqueue with the
    /// unique key whose lock ends, the holder settling or extending a lease that ends, a lease
    /// on the queue of a job that expires or becomes ready.
    fn race(&mut self, model: &Model, kind: u8, id: &str) -> Option<Command> {
        let job = model
            .job_ids()
            .find(|(j, _)| *j == id)
            .map(|(_, job)| job)?;
        if kind == TimerKind::UniqueRelease as u8 {
            let Command::Enqueue(mut e) = self.enqueue() else {
                unreachable!("enqueue() makes an enqueue");
            };
            e.queue = job.queue.clone();
            e.options.unique_key = job.unique_key().map(str::to_owned);
            return Some(Command::Enqueue(e));
        }
        if kind == TimerKind::LeaseExpiry as u8 {
            let lease = job.lease.as_ref()?;
            let token = Some(lease.token);
            return Some(if self.rng.chance(50) {
                Command::Ack(Ack {
                    job_id: id.to_owned(),
                    lease_token: token,
                    result: None,
                })
            } else {
                Command::Heartbeat(Heartbeat {
                    items: vec![HeartbeatItem {
                        job_id: id.to_owned(),
                        lease_token: token,
                        progress: None,
                        checkpoint: None,
                    }],
                })
            });
        }
        let Command::Lease(mut lease) = self.lease() else {
            return None;
        };
        lease.queues = vec![job.queue.clone()];
        lease.count = lease.count.max(1);
        Some(Command::Lease(lease))
    }

    fn command(&mut self, model: &Model) -> Command {
        let weights = [24, 16, 12, 6, 7, 12, 3, 3, 1, 1, 2, 1, 3, 1, 2, 6];
        match self.rng.weighted(&weights) {
            0 => self.enqueue(),
            1 => self.lease(),
            2 => self.settle(model, true),
            3 => self.settle(model, false),
            4 => self.heartbeat(),
            5 => Command::Tick,
            6 => Command::Cancel {
                job_id: self.any_job(model, |s| !s.is_terminal()),
            },
            7 => Command::Retry {
                job_id: self.any_job(model, JobState::is_terminal),
            },
            8 => Command::Delete {
                job_id: self.any_job(model, |s| s != JobState::Active),
            },
            9 => Command::Move {
                job_id: self.any_job(model, |s| s != JobState::Active),
                queue: if self.rng.chance(5) {
                    "bad queue".into()
                } else {
                    self.rng.pick(&QUEUES).to_string()
                },
            },
            10 => Command::SetPriority {
                job_id: self.any_job(model, |s| !s.is_terminal()),
                priority: *self.rng.pick(&PRIORITIES),
            },
            11 => Command::Destroy {
                job_id: self.any_job(model, |_| true),
            },
            12 => self.configure(),
            13 => Command::SetRetentionDefaults {
                retention_ms: *self.rng.pick(&[1_000, 30_000, 600_000, 86_400_000]),
                dead_retention_ms: *self.rng.pick(&[1_000, 60_000, 3_600_000, 86_400_000]),
            },
            14 => self.odd_enqueue(model),
            _ => self.keyed_enqueue(),
        }
    }

    /// An enqueue with an idempotency key: mostly a payload that depends on the key only (a
    /// retry), sometimes another (refused while the key holds), rarely an empty key.
    fn keyed_enqueue(&mut self) -> Command {
        let Command::Enqueue(mut e) = self.enqueue() else {
            unreachable!("enqueue() makes an enqueue");
        };
        let key = if self.rng.chance(3) {
            String::new()
        } else {
            self.rng.pick(&IDEMPOTENCY_KEYS).to_string()
        };
        if !self.rng.chance(10) {
            e.payload = format!("{{\"key\":\"{key}\"}}");
        }
        Command::EnqueueKeyed(EnqueueKeyed {
            enqueue: e,
            key,
            window_ms: *self.rng.pick(&[500, 5_000, 60_000]),
        })
    }

    fn enqueue(&mut self) -> Command {
        self.next_id += 1;
        let r = &mut self.rng;
        let kinds = [
            BackoffKind::None,
            BackoffKind::Fixed,
            BackoffKind::Linear,
            BackoffKind::Exponential,
        ];
        let options = EnqueueOptions {
            priority: *r.pick(&PRIORITIES),
            max_attempts: [1, 2, 3, 5, 8][r.weighted(&[20, 25, 30, 20, 5])],
            backoff: Backoff {
                kind: *r.pick(&kinds),
                base_ms: *r.pick(&[0, 50, 500, 2_000, 5_000]),
                cap_ms: *r.pick(&[0, 1_000, 10_000, 60_000]),
            },
            scheduled_at_ms: match r.weighted(&[74, 20, 3, 3]) {
                0 => None,
                1 => Some(self.now + r.range(0, 60_000)),
                2 => Some(self.now),
                _ => Some(self.now.saturating_sub(5_000)),
            },
            expire_after_ms: r.chance(15).then(|| r.range(1, 90_000)),
            unique_key: r.chance(15).then(|| r.pick(&UNIQUE_KEYS).to_string()),
            unique_period_ms: *r.pick(&[1, 500, 5_000, 60_000, 3_600_000]),
            tags: if r.chance(20) {
                BTreeMap::from([("tenant".to_owned(), "acme".to_owned())])
            } else {
                BTreeMap::new()
            },
            trace_parent: None,
        };
        Command::Enqueue(Enqueue {
            id: format!("j{:05}", self.next_id),
            queue: r.pick(&QUEUES).to_string(),
            payload: format!("{{\"n\":{}}}", self.next_id),
            options,
        })
    }

    /// A re-proposed enqueue (same id), one the input rules refuse, or an outcome for a job
    /// nobody holds.
    fn odd_enqueue(&mut self, model: &Model) -> Command {
        let Command::Enqueue(mut e) = self.enqueue() else {
            unreachable!("enqueue() makes an enqueue");
        };
        match self.rng.below(4) {
            0 => e.id = self.any_job(model, |_| true),
            1 => e.queue = "bad queue".into(),
            2 => e.options.max_attempts = 0,
            _ => e.options.scheduled_at_ms = Some(u64::MAX),
        }
        if e.id == "missing" {
            // No job to re-propose: a fresh id instead (an id never reused after removal).
            self.next_id += 1;
            e.id = format!("j{:05}", self.next_id);
        }
        Command::Enqueue(e)
    }

    fn lease(&mut self) -> Command {
        let w = &self.workers[self.rng.below(self.workers.len() as u64) as usize];
        let room = HELD_MAX.saturating_sub(w.held.len()) as u64;
        let mut queues = w.queues.clone();
        if self.rng.chance(5) {
            queues.push(queues[0].clone());
        }
        let lease = Lease {
            queues,
            count: self.rng.range(0, room.clamp(1, 4) + 1) as u32,
            worker_id: w.id.clone(),
            hostname: "host".into(),
            lease_ms: w.lease_ms,
        };
        if self.rng.chance(15) {
            let bytes_max = *self.rng.pick(&[1, 300, 600, 2_000]);
            return Command::LeaseWithin { lease, bytes_max };
        }
        Command::Lease(lease)
    }

    /// A worker acks (or fails) a job it holds: mostly with its token, which may have gone
    /// stale meanwhile, sometimes with none (an old client) or a wrong one.
    fn settle(&mut self, model: &Model, ack: bool) -> Command {
        let holders: Vec<usize> = (0..self.workers.len())
            .filter(|i| !self.workers[*i].held.is_empty())
            .collect();
        let (job_id, held) = if holders.is_empty() {
            (self.any_job(model, |_| true), self.rng.range(1, 50))
        } else {
            let w = *self.rng.pick(&holders);
            let i = self.rng.below(self.workers[w].held.len() as u64) as usize;
            self.workers[w].held.remove(i)
        };
        let lease_token = match self.rng.weighted(&[80, 8, 7, 5]) {
            0 => Some(held),
            1 => None,
            2 if !self.tokens.is_empty() => Some(*self.rng.pick(&self.tokens)),
            _ => Some(held + 1_000),
        };
        if ack {
            let result = self.rng.chance(30).then(|| "{\"ok\":true}".to_owned());
            Command::Ack(Ack {
                job_id,
                lease_token,
                result,
            })
        } else {
            Command::Fail(Fail {
                job_id,
                lease_token,
                error: "boom".into(),
                backtrace: None,
            })
        }
    }

    fn heartbeat(&mut self) -> Command {
        let w = self.rng.below(self.workers.len() as u64) as usize;
        let mut items: Vec<HeartbeatItem> = self.workers[w]
            .held
            .iter()
            .map(|(job_id, token)| HeartbeatItem {
                job_id: job_id.clone(),
                lease_token: Some(*token),
                progress: None,
                checkpoint: None,
            })
            .collect();
        for item in &mut items {
            if self.rng.chance(30) {
                item.progress = Some("{\"pct\":50}".into());
            }
            if self.rng.chance(20) {
                item.checkpoint = Some(format!("{{\"page\":{}}}", self.rng.below(100)));
            }
            if self.rng.chance(5) {
                item.lease_token = None;
            }
        }
        if items.is_empty() || self.rng.chance(10) {
            items.push(HeartbeatItem {
                job_id: format!("j{:05}", self.rng.range(1, self.next_id + 2)),
                lease_token: Some(self.rng.range(1, 50)),
                progress: None,
                checkpoint: None,
            });
        }
        Command::Heartbeat(Heartbeat { items })
    }

    fn configure(&mut self) -> Command {
        let r = &mut self.rng;
        let queue = r.pick(&QUEUES).to_string();
        let change = match r.weighted(&[25, 35, 25, 12, 2, 1]) {
            0 => QueueChange::Pause,
            1 => QueueChange::Resume,
            2 => QueueChange::Limits {
                concurrency_max: r.chance(50).then(|| r.range(1, 5) as u32),
                rate: r.chance(40).then(|| RateLimit {
                    starts: r.range(1, 6) as u32,
                    window_ms: *r.pick(&[1_000, 5_000, 60_000]),
                }),
            },
            3 => QueueChange::Retention {
                retention_ms: r.chance(60).then(|| *r.pick(&[1_000, 30_000, 600_000])),
                dead_retention_ms: r.chance(60).then(|| *r.pick(&[1_000, 60_000, 3_600_000])),
            },
            4 => QueueChange::Forget,
            _ => QueueChange::Limits {
                concurrency_max: Some(0),
                rate: None,
            },
        };
        Command::ConfigureQueue { queue, change }
    }

    /// A job of the model whose state passes `filter` most of the time, any job otherwise, and
    /// now and then one that does not exist.
    fn any_job(&mut self, model: &Model, filter: impl Fn(JobState) -> bool) -> String {
        if self.rng.chance(3) {
            return "missing".into();
        }
        let preferred: Vec<&String> = model
            .job_ids()
            .filter(|(_, j)| filter(j.state))
            .map(|(id, _)| id)
            .collect();
        let all: Vec<&String> = model.job_ids().map(|(id, _)| id).collect();
        let from = if !preferred.is_empty() && self.rng.chance(85) {
            preferred
        } else {
            all
        };
        if from.is_empty() {
            return "missing".into();
        }
        from[self.rng.below(from.len() as u64) as usize].clone()
    }

    /// The workers learn what the batch answered: the jobs they leased, and the ones a
    /// heartbeat told them to stop.
    pub fn observe(&mut self, batch: &Batch, outcome: &BatchOutcome) {
        for (cmd, reply) in batch.commands.iter().zip(&outcome.replies) {
            match (cmd, reply) {
                (
                    Command::Lease(l) | Command::LeaseWithin { lease: l, .. },
                    Ok(Reply::Leased(jobs)),
                ) => {
                    let Some(w) = self.workers.iter_mut().find(|w| w.id == l.worker_id) else {
                        continue;
                    };
                    for job in jobs {
                        let token = job.lease.as_ref().map_or(0, |l| l.token);
                        w.held.push((job.id.clone(), token));
                        self.tokens.push(token);
                    }
                }
                (Command::Heartbeat(h), Ok(Reply::Heartbeat(replies))) => {
                    for (item, reply) in h.items.iter().zip(replies) {
                        if matches!(reply, HeartbeatReply::Stop(_)) {
                            for w in &mut self.workers {
                                w.held.retain(|(id, t)| {
                                    *id != item.job_id || Some(*t) != item.lease_token
                                });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
