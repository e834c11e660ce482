//! A small driver for state machine tests: one `MemState`, a manual clock, one batch per call.
//! Every batch the [`World`] applies is followed by [`invariants`], so each unit test checks the
//! state's invariants at every step, not only where it asks.

use std::collections::{BTreeMap, BTreeSet};

use crate::apply::apply_batch;
use crate::command::*;
use crate::keys::{self, Table, TimerKind, UniqueLock, meta};
use crate::model::{EnqueueOptions, Job, JobState};
use crate::state::{MemState, StateRead};

/// (job id, lease token, progress, checkpoint) of one heartbeat item.
pub type Beat<'a> = (&'a str, Option<u64>, Option<&'a str>, Option<&'a str>);

pub struct World {
    pub state: MemState,
    pub now: u64,
    pub index: u64,
    pub last: BatchOutcome,
    next_id: u64,
}

impl World {
    pub fn new() -> Self {
        World {
            state: MemState::new(),
            now: 1_700_000_000_000,
            index: 0,
            last: BatchOutcome::default(),
            next_id: 0,
        }
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    pub fn run(&mut self, cmd: Command) -> Result<Reply, JobError> {
        self.index += 1;
        let batch = Batch {
            now_ms: self.now,
            commands: vec![cmd],
        };
        self.apply(&batch);
        self.last.replies[0].clone()
    }

    /// Applies several commands as one log entry; returns their replies.
    pub fn run_batch(&mut self, commands: Vec<Command>) -> Vec<Result<Reply, JobError>> {
        self.index += 1;
        let batch = Batch {
            now_ms: self.now,
            commands,
        };
        self.apply(&batch);
        self.last.replies.clone()
    }

    /// The one place batches are applied: each is followed by the invariants.
    fn apply(&mut self, batch: &Batch) {
        self.last = apply_batch(&mut self.state, batch, self.index).expect("storage");
        if let Err(e) = invariants(&self.state) {
            panic!("after batch {} ({:?}): {e}", self.index, batch.commands);
        }
    }

    pub fn try_enqueue(
        &mut self,
        queue: &str,
        payload: &str,
        options: EnqueueOptions,
    ) -> Result<Reply, JobError> {
        self.next_id += 1;
        let id = format!("j{}", self.next_id);
        self.run(Command::Enqueue(Enqueue {
            id,
            queue: queue.into(),
            payload: payload.into(),
            options,
        }))
    }

    pub fn enqueue(&mut self, queue: &str, payload: &str, options: EnqueueOptions) -> Reply {
        self.try_enqueue(queue, payload, options).expect("enqueue")
    }

    pub fn enqueue_with_id(
        &mut self,
        id: &str,
        queue: &str,
        payload: &str,
        options: EnqueueOptions,
    ) -> Reply {
        self.run(Command::Enqueue(Enqueue {
            id: id.into(),
            queue: queue.into(),
            payload: payload.into(),
            options,
        }))
        .expect("enqueue")
    }

    pub fn lease(&mut self, queues: &[&str], count: u32, lease_ms: u64) -> Vec<Job> {
        let cmd = Lease {
            queues: queues.iter().map(|q| q.to_string()).collect(),
            count,
            worker_id: "w1".into(),
            hostname: "h1".into(),
            lease_ms,
        };
        match self.run(Command::Lease(cmd)).expect("lease") {
            Reply::Leased(jobs) => jobs,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn ack(
        &mut self,
        id: &str,
        token: Option<u64>,
        result: Option<&str>,
    ) -> Result<Reply, JobError> {
        self.run(Command::Ack(Ack {
            job_id: id.into(),
            lease_token: token,
            result: result.map(Into::into),
        }))
    }

    pub fn fail(&mut self, id: &str, token: Option<u64>, error: &str) -> Result<Reply, JobError> {
        self.run(Command::Fail(Fail {
            job_id: id.into(),
            lease_token: token,
            error: error.into(),
            backtrace: None,
        }))
    }

    pub fn heartbeat(&mut self, items: &[Beat<'_>]) -> Vec<HeartbeatReply> {
        let items = items
            .iter()
            .map(|(id, token, progress, checkpoint)| HeartbeatItem {
                job_id: id.to_string(),
                lease_token: *token,
                progress: progress.map(Into::into),
                checkpoint: checkpoint.map(Into::into),
            })
            .collect();
        match self
            .run(Command::Heartbeat(Heartbeat { items }))
            .expect("heartbeat")
        {
            Reply::Heartbeat(r) => r,
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn cancel(&mut self, id: &str) -> Result<Reply, JobError> {
        self.run(Command::Cancel { job_id: id.into() })
    }

    pub fn retry(&mut self, id: &str) -> Result<Reply, JobError> {
        self.run(Command::Retry { job_id: id.into() })
    }

    pub fn delete(&mut self, id: &str) -> Result<Reply, JobError> {
        self.run(Command::Delete { job_id: id.into() })
    }

    pub fn tick(&mut self) {
        self.run(Command::Tick).expect("tick");
    }

    /// The job, if it (still) exists.
    pub fn try_job(&self, id: &str) -> Option<Job> {
        crate::query::job(&self.state, id).expect("storage")
    }

    pub fn job(&self, id: &str) -> Job {
        crate::query::job(&self.state, id)
            .expect("storage")
            .expect("job exists")
    }

    pub fn ready_ids(&self, queue: &str) -> Vec<String> {
        let prefix = keys::queue_prefix(queue);
        self.state
            .range(
                Table::Ready,
                &prefix,
                &keys::prefix_end(&prefix),
                usize::MAX,
            )
            .expect("storage")
            .into_iter()
            .map(|(_, v)| String::from_utf8(v).expect("utf8"))
            .collect()
    }

    pub fn event_kinds(&self) -> Vec<String> {
        crate::query::events_after(&self.state, 0, usize::MAX)
            .expect("storage")
            .into_iter()
            .map(|e| e.kind.as_str().to_string())
            .collect()
    }

    /// The invariants (see [`invariants`]). Every batch the `World` applies checks them already;
    /// call this after changing `state` by other means.
    pub fn check_invariants(&self) {
        if let Err(e) = invariants(&self.state) {
            panic!("{e}");
        }
    }
}

/// Checks every invariant of the state that holds between batches, whatever commands led
/// there, and returns what it read (so callers check more without reading it again):
///
/// - [`crate::query::check_invariants`]: every ready entry and timer points at a job in the
///   matching state, every unique lock at an existing job, and `Counts` equals a recount;
/// - each job's record is stored under its id; its enqueue seq is unique and handed out;
///   `1 <= max_attempts`, `attempt <= max_attempts`;
/// - active ⇔ has a lease; lease tokens are unique, handed out, and each lease has its expiry
///   timer at its deadline;
/// - pending ⇔ its ready entry exists; scheduled and retrying jobs have their promote timer;
///   a waiting job has attempts left; an active, completed or retrying job has started;
/// - a waiting job that never started and has `expire_at` ⇔ an expiry timer at that time;
/// - finished (terminal) ⇔ `finished_at`, and a finished job has a purge timer; a dead job
///   used all its attempts or expired before it started;
/// - a unique lock is keyed by its holder's queue and key and has its release timer;
/// - a stored queue record is not all defaults, and its rate window counts at most its starts.
pub fn invariants(state: &MemState) -> Result<Snapshot, String> {
    crate::query::check_invariants(state)?;
    let s = Snapshot::read(state).map_err(|e| e.to_string())?;
    s.check()?;
    Ok(s)
}

/// The tables [`invariants`] looks at, decoded.
pub struct Snapshot {
    pub jobs: BTreeMap<String, Job>,
    /// (due, kind as u8, job id or queue).
    pub timers: BTreeSet<(u64, u8, String)>,
    ready: BTreeSet<Vec<u8>>,
    /// Unique table key → lock.
    pub locks: BTreeMap<Vec<u8>, UniqueLock>,
    pub queues: Vec<(String, crate::queues::QueueConfig)>,
    job_seq: u64,
    lease_seq: u64,
}

impl Snapshot {
    pub fn read(state: &MemState) -> Result<Snapshot, crate::state::StoreError> {
        let rows = |t| state.range(t, &[], &[0xff; 64], usize::MAX);
        let mut jobs = BTreeMap::new();
        for (k, _) in rows(Table::Jobs)? {
            let id = String::from_utf8_lossy(&k).into_owned();
            let job = crate::query::job(state, &id)?.ok_or_else(|| {
                crate::state::StoreError::Io(format!("job {id} listed but not read"))
            })?;
            jobs.insert(id, job);
        }
        let timers = rows(Table::Timers)?
            .into_iter()
            .filter_map(|(k, _)| keys::parse_timer_key(&k))
            .map(|(due, kind, id)| (due, kind as u8, id))
            .collect();
        let ready = rows(Table::Ready)?.into_iter().map(|(k, _)| k).collect();
        let mut locks = BTreeMap::new();
        for (k, v) in rows(Table::Unique)? {
            let lock = keys::decode(Table::Unique, &k, &v)?;
            locks.insert(k, lock);
        }
        let counter = |name: &[u8]| -> Result<u64, crate::state::StoreError> {
            match state.get(Table::Meta, name)? {
                Some(b) => keys::decode_u64(Table::Meta, name, &b),
                None => Ok(0),
            }
        };
        Ok(Snapshot {
            jobs,
            timers,
            ready,
            locks,
            queues: crate::query::queue_configs(state)?,
            job_seq: counter(meta::JOB_SEQ)?,
            lease_seq: counter(meta::LEASE_SEQ)?,
        })
    }

    fn has_timer(&self, due: u64, kind: TimerKind, id: &str) -> bool {
        self.timers.contains(&(due, kind as u8, id.to_owned()))
    }

    fn check(&self) -> Result<(), String> {
        let mut seqs = BTreeSet::new();
        let mut tokens = BTreeSet::new();
        for (id, job) in &self.jobs {
            let fail = |what: &str| {
                Err(format!(
                    "job {id} ({}, attempt {}/{}): {what}",
                    job.state.as_str(),
                    job.attempt,
                    job.max_attempts
                ))
            };
            if job.id != *id {
                return fail(&format!(
                    "stored under another id than its own ({})",
                    job.id
                ));
            }
            if !seqs.insert(job.seq) || job.seq == 0 || job.seq > self.job_seq {
                return fail(&format!("seq {} is not unique or not handed out", job.seq));
            }
            if job.max_attempts == 0 || job.attempt > job.max_attempts {
                return fail("more attempts than allowed");
            }
            self.check_lease(job, &mut tokens).or_else(|e| fail(&e))?;
            self.check_waiting(job).or_else(|e| fail(&e))?;
            self.check_finished(job).or_else(|e| fail(&e))?;
        }
        for (due, kind, id) in &self.timers {
            if *kind == TimerKind::Expire as u8 {
                let armed = self.jobs.get(id).is_some_and(|j| {
                    is_waiting(j.state) && j.attempt == 0 && j.expire_at_ms == Some(*due)
                });
                if !armed {
                    return Err(format!("expiry timer at {due} for {id}, which has started"));
                }
            }
        }
        self.check_locks()?;
        for (queue, config) in &self.queues {
            if config.is_default() {
                return Err(format!("queue {queue}: a record of defaults is kept"));
            }
            if let Some(rate) = config.rate
                && config.started > rate.starts
            {
                return Err(format!(
                    "queue {queue}: {} starts in a window",
                    config.started
                ));
            }
        }
        Ok(())
    }

    fn check_lease(&self, job: &Job, tokens: &mut BTreeSet<u64>) -> Result<(), String> {
        match (&job.lease, job.state) {
            (Some(lease), JobState::Active) => {
                if !tokens.insert(lease.token) || lease.token == 0 || lease.token > self.lease_seq {
                    return Err(format!(
                        "lease token {} reused or not handed out",
                        lease.token
                    ));
                }
                if !self.has_timer(lease.deadline_ms, TimerKind::LeaseExpiry, &job.id) {
                    return Err("no lease expiry timer at its deadline".into());
                }
                if job.attempt == 0 || job.started_at_ms.is_none() {
                    return Err("active without a started attempt".into());
                }
                Ok(())
            }
            (None, JobState::Active) => Err("active without a lease".into()),
            (Some(_), _) => Err("holds a lease".into()),
            (None, _) => Ok(()),
        }
    }

    fn check_waiting(&self, job: &Job) -> Result<(), String> {
        if !is_waiting(job.state) {
            return Ok(());
        }
        if job.attempt >= job.max_attempts {
            return Err("waits with no attempts left".into());
        }
        let due = match job.state {
            JobState::Pending => None,
            JobState::Scheduled => Some(job.scheduled_at_ms),
            _ => Some(job.next_attempt_at_ms),
        };
        match due {
            None => {
                let key = keys::ready_key(&job.queue, job.priority, job.seq);
                if !self.ready.contains(&key) || job.next_attempt_at_ms.is_some() {
                    return Err("pending but not in its queue's ready index".into());
                }
            }
            Some(Some(at)) if self.has_timer(at, TimerKind::Promote, &job.id) => {}
            Some(_) => return Err("waits without its promote timer".into()),
        }
        if job.state == JobState::Retrying && job.attempt == 0 {
            return Err("retrying without a failed attempt".into());
        }
        if let Some(at) = job.expire_at_ms.filter(|_| job.attempt == 0)
            && !self.has_timer(at, TimerKind::Expire, &job.id)
        {
            return Err(format!("not started and no expiry timer at {at}"));
        }
        Ok(())
    }

    fn check_finished(&self, job: &Job) -> Result<(), String> {
        let finished = job.state.is_terminal();
        if finished != job.finished_at_ms.is_some() {
            return Err(format!("finished_at is {:?}", job.finished_at_ms));
        }
        if !finished {
            return Ok(());
        }
        let purge = TimerKind::Purge as u8;
        if !self
            .timers
            .iter()
            .any(|(_, k, id)| *k == purge && *id == job.id)
        {
            return Err("finished without a purge timer".into());
        }
        let expired = job.attempt == 0 && job.last_error.as_deref() == Some("expired");
        match job.state {
            JobState::Dead if job.attempt != job.max_attempts && !expired => {
                Err("dead with attempts left".into())
            }
            JobState::Completed if job.attempt == 0 => Err("completed without an attempt".into()),
            _ => Ok(()),
        }
    }

    fn check_locks(&self) -> Result<(), String> {
        for (key, lock) in &self.locks {
            let Some(holder) = self.jobs.get(&lock.job_id) else {
                return Err(format!("unique lock held by missing job {}", lock.job_id));
            };
            let expected = holder
                .unique_key
                .as_deref()
                .map(|k| keys::unique_key(&holder.queue, k));
            if expected.as_ref() != Some(key) {
                return Err(format!("unique lock {key:?} is not {}'s key", lock.job_id));
            }
            if !self.has_timer(lock.expires_at_ms, TimerKind::UniqueRelease, &lock.job_id) {
                return Err(format!(
                    "unique lock of {} has no release timer",
                    lock.job_id
                ));
            }
        }
        Ok(())
    }
}

/// Pending, scheduled or retrying: waiting for a worker or for its time.
pub fn is_waiting(state: JobState) -> bool {
    matches!(
        state,
        JobState::Pending | JobState::Scheduled | JobState::Retrying
    )
}
