//! The reference model: what every job, lock and queue setting should be after each command,
//! written from the documented rules (`docs/jobs.md`, `docs/queues.md`) and the rules the unit
//! tests pin down, without looking at the tables. After every batch the runner compares it
//! with the state field by field.
//!
//! Where the documents leave a choice to the implementation, the model follows the
//! implementation's documented mechanism rather than guessing: timers fire by (due time, kind)
//! as `keys.rs` lays them out (promote, lease expiry, expiry, unique release, purge), a purge
//! timer is set at finish + retention and looks the retention up again when it fires
//! (`docs/queues.md`), and a heartbeat never moves a deadline back. The lease tokens are not
//! predicted (only that each is new): the model takes them from the `Lease` replies.

use std::collections::{BTreeMap, BTreeSet};

use crate::apply::LEASE_COUNT_MAX;
use crate::apply::idempotency::IDEMPOTENCY_KEY_BYTES_MAX;
use crate::apply::testkit::is_waiting;
use crate::command::{
    Ack, AttemptRun, BatchOutcome, Command, Effect, Enqueue, EnqueueKeyed, Fail, Heartbeat,
    HeartbeatReply, JobError, Lease, Reply, StopReason,
};
use crate::keys::TimerKind;
use crate::model::{Backoff, Job, JobState, Priority};
use crate::queues::{DEAD_RETENTION_MS_DEFAULT, QueueChange, QueueConfig, RETENTION_MS_DEFAULT};
use crate::schedule;

mod compare;

use compare::{diff_job, same_answer};

/// One job as the model expects it.
#[derive(Clone, Debug)]
pub struct MJob {
    pub queue: String,
    pub state: JobState,
    pub attempt: u32,
    pub max_attempts: u32,
    backoff: Backoff,
    priority: Priority,
    seq: u64,
    scheduled_at: Option<u64>,
    expire_at: Option<u64>,
    next_attempt_at: Option<u64>,
    pub lease: Option<MLease>,
    started_at: Option<u64>,
    finished_at: Option<u64>,
    unique_key: Option<String>,
    last_error: Option<String>,
    /// Due times of the purge timers set for this job (one per finish, re-armed when a longer
    /// retention is found at firing).
    purge_timers: BTreeSet<u64>,
    /// `Job::wire_bytes` as last read from the state (`None`: changed since).
    wire_bytes: Option<u64>,
}

impl MJob {
    pub fn unique_key(&self) -> Option<&str> {
        self.unique_key.as_deref()
    }

    /// The expiry still applies: the job has not started since it was enqueued (a retry
    /// drops the expiry with the attempt budget).
    fn expiry_armed(&self) -> bool {
        self.attempt == 0 && self.expire_at.is_some() && is_waiting(self.state)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MLease {
    pub token: u64,
    pub worker: String,
    pub deadline: u64,
    pub duration: u64,
}

#[derive(Clone, Default)]
pub struct Model {
    pub now: u64,
    pub jobs: BTreeMap<String, MJob>,
    seq: u64,
    queues: BTreeMap<String, QueueConfig>,
    /// The cluster's retention defaults as set (0: the built-in ones).
    retention: (u64, u64),
    /// (queue, unique key) → (holder, expires at).
    locks: BTreeMap<(String, String), (String, u64)>,
    /// (queue, idempotency key) → (job id, expires at, payload).
    idempotency: BTreeMap<(String, String), (String, u64, String)>,
    /// Every lease token handed out so far.
    tokens: BTreeSet<u64>,
    /// Purge timers of removed jobs: they stay in the timer index until they fire (harmless
    /// then), and a job enqueued again under the same id finds them (timers name job ids).
    orphans: BTreeMap<String, BTreeSet<u64>>,
    /// `Revoked` effects the current batch must produce.
    revoked: Vec<Effect>,
}

type Answer = Result<Reply, JobError>;

impl Model {
    /// Applies one batch's commands to the model, checking each reply, then the effects.
    pub fn apply(
        &mut self,
        now: u64,
        commands: &[Command],
        outcome: &BatchOutcome,
    ) -> Result<(), String> {
        self.now = now;
        self.revoked.clear();
        for (i, (cmd, reply)) in commands.iter().zip(&outcome.replies).enumerate() {
            let fail = |e: String| format!("command {i} {cmd:?}: {e}");
            if let Command::Lease(l) | Command::LeaseWithin { lease: l, .. } = cmd {
                let bytes_max = match cmd {
                    Command::LeaseWithin { bytes_max, .. } => *bytes_max,
                    _ => u64::MAX,
                };
                self.lease(l, bytes_max, reply).map_err(fail)?;
                continue;
            }
            let expected = self.command(cmd).map_err(fail)?;
            same_answer(&expected, reply).map_err(fail)?;
        }
        let mut got: Vec<&Effect> = outcome
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::Revoked { .. }))
            .collect();
        let mut want: Vec<&Effect> = self.revoked.iter().collect();
        got.sort_by_key(|e| format!("{e:?}"));
        want.sort_by_key(|e| format!("{e:?}"));
        if got != want {
            return Err(format!("revoked effects {got:?}, expected {want:?}"));
        }
        Ok(())
    }

    fn command(&mut self, cmd: &Command) -> Result<Answer, String> {
        Ok(match cmd {
            Command::Enqueue(e) => self.enqueue(e),
            Command::EnqueueKeyed(k) => self.enqueue_keyed(k),
            Command::Ack(a) => self.ack(a),
            Command::Fail(f) => self.fail(f),
            Command::Heartbeat(h) => self.heartbeat(h),
            Command::Cancel { job_id } => self.cancel(job_id),
            Command::Retry { job_id } => self.retry(job_id),
            Command::Delete { job_id } => self.remove(job_id, false),
            Command::Destroy { job_id } => self.remove(job_id, true),
            Command::Move { job_id, queue } => self.move_job(job_id, queue),
            Command::SetPriority { job_id, priority } => self.set_priority(job_id, *priority),
            Command::Tick => {
                self.tick();
                Ok(Reply::Ticked { fired: 0 })
            }
            Command::ConfigureQueue { queue, change } => self.configure(queue, change),
            Command::SetRetentionDefaults {
                retention_ms,
                dead_retention_ms,
            } => {
                self.retention = (*retention_ms, *dead_retention_ms);
                Ok(Reply::DefaultsSet)
            }
            other => return Err(format!("the model does not cover {other:?}")),
        })
    }

    /// A key holds for its window and answers its first job; a different payload is refused.
    fn enqueue_keyed(&mut self, k: &EnqueueKeyed) -> Answer {
        let field = "options.idempotency_key";
        if k.key.is_empty() || k.key.len() > IDEMPOTENCY_KEY_BYTES_MAX {
            return Err(invalid(field));
        }
        let slot = (k.enqueue.queue.clone(), k.key.clone());
        if let Some((job_id, expires_at, payload)) = self.idempotency.get(&slot)
            && *expires_at > self.now
        {
            if *payload != k.enqueue.payload {
                return Err(invalid(field));
            }
            return Ok(Reply::Replayed {
                job_id: job_id.clone(),
                state: self.jobs.get(job_id).map(|j| j.state),
            });
        }
        let answer = self.enqueue(&k.enqueue);
        if let Ok(Reply::Enqueued { job_id, .. }) = &answer {
            let expires_at = self.now.saturating_add(k.window_ms);
            let held = (job_id.clone(), expires_at, k.enqueue.payload.clone());
            self.idempotency.insert(slot, held);
        }
        answer
    }

    fn enqueue(&mut self, e: &Enqueue) -> Answer {
        if let Some(field) = refused_enqueue(e, self.now) {
            return Err(invalid(field));
        }
        if let Some(job) = self.jobs.get(&e.id) {
            return Ok(enqueued(&e.id, job.state, true));
        }
        let o = &e.options;
        if let Some(key) = &o.unique_key
            && let Some((holder, expires)) = self.locks.get(&(e.queue.clone(), key.clone()))
            && *expires > self.now
        {
            return Ok(enqueued(holder, self.jobs[holder].state, true));
        }
        self.seq += 1;
        let scheduled_at = o.scheduled_at_ms.filter(|at| *at > self.now);
        let job = MJob {
            queue: e.queue.clone(),
            state: match scheduled_at {
                Some(_) => JobState::Scheduled,
                None => JobState::Pending,
            },
            attempt: 0,
            max_attempts: o.max_attempts,
            backoff: o.backoff,
            priority: o.priority,
            seq: self.seq,
            scheduled_at,
            expire_at: o.expire_after_ms.map(|after| self.now + after),
            next_attempt_at: None,
            lease: None,
            started_at: None,
            finished_at: None,
            unique_key: o.unique_key.clone(),
            last_error: None,
            purge_timers: self.orphans.remove(&e.id).unwrap_or_default(),
            wire_bytes: None,
        };
        if let Some(key) = &o.unique_key {
            let lock = (e.id.clone(), self.now + o.unique_period_ms);
            self.locks.insert((e.queue.clone(), key.clone()), lock);
        }
        let state = job.state;
        self.jobs.insert(e.id.clone(), job);
        Ok(enqueued(&e.id, state, false))
    }

    /// A lease takes the best ready jobs (priority, then enqueue order) of its queues, within
    /// each queue's pause, concurrency and rate limits; a `LeaseWithin` may stop early for
    /// size, never before its first job.
    fn lease(&mut self, l: &Lease, bytes_max: u64, reply: &Answer) -> Result<(), String> {
        let Ok(Reply::Leased(got)) = reply else {
            return Err(format!("answered {reply:?}"));
        };
        let predicted = self.lease_order(l);
        let ids: Vec<&str> = got.iter().map(|j| j.id.as_str()).collect();
        let sized = bytes_max != u64::MAX;
        let prefix = ids.len() <= predicted.len() && ids == predicted[..ids.len()];
        if (!sized && ids != predicted) || !prefix || (ids.is_empty() && !predicted.is_empty()) {
            return Err(format!("leased {ids:?}, the model expected {predicted:?}"));
        }
        let bytes: u64 = got.iter().map(Job::wire_bytes).sum();
        if got.len() > 1 && bytes > bytes_max {
            return Err(format!("leased {bytes} bytes, more than {bytes_max}"));
        }
        if let Some(next) = predicted.get(ids.len())
            && let Some(next_bytes) = self.jobs[next].wire_bytes
            && sized
            && bytes + next_bytes <= bytes_max
        {
            return Err(format!(
                "stopped before {next}, which fits in {bytes_max} bytes"
            ));
        }
        for job in got {
            let lease = job.lease.as_ref().ok_or("a leased job without a lease")?;
            if !self.tokens.insert(lease.token) {
                return Err(format!("lease token {} handed out twice", lease.token));
            }
            let m = self.jobs.get_mut(&job.id).ok_or("leased an unknown job")?;
            m.state = JobState::Active;
            m.attempt += 1;
            m.started_at = Some(self.now);
            m.lease = Some(MLease {
                token: lease.token,
                worker: l.worker_id.clone(),
                deadline: self.now.saturating_add(l.lease_ms),
                duration: l.lease_ms,
            });
            let queue = m.queue.clone();
            diff_job(&job.id, m, job)?;
            self.count_start(&queue);
        }
        self.check_limits(got)
    }

    /// The jobs a lease should take, in order, when size is no bound.
    fn lease_order(&self, l: &Lease) -> Vec<String> {
        let mut allowance: Vec<(String, u32)> = Vec::new();
        for q in &l.queues {
            if !allowance.iter().any(|(name, _)| name == q) {
                allowance.push((q.clone(), self.allowance(q)));
            }
        }
        let mut order: Vec<(&String, &MJob)> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.state == JobState::Pending)
            .collect();
        order.sort_by_key(|(_, j)| (j.priority.rank(), j.seq));
        let mut taken = Vec::new();
        for (id, job) in order {
            if taken.len() as u32 >= l.count.min(LEASE_COUNT_MAX) {
                break;
            }
            if let Some((_, a)) = allowance
                .iter_mut()
                .find(|(q, a)| *q == job.queue && *a > 0)
            {
                *a -= 1;
                taken.push(id.clone());
            }
        }
        taken
    }

    fn allowance(&self, queue: &str) -> u32 {
        let config = self.queues.get(queue).cloned().unwrap_or_default();
        if config.paused {
            return 0;
        }
        let mut allowance = match config.rate {
            None => u32::MAX,
            Some(r) if self.now / r.window_ms == config.window => {
                r.starts.saturating_sub(config.started)
            }
            Some(r) => r.starts,
        };
        if let Some(max) = config.concurrency_max {
            allowance = allowance.min(max.saturating_sub(self.active(queue)));
        }
        allowance
    }

    fn active(&self, queue: &str) -> u32 {
        let active = |j: &&MJob| j.queue == queue && j.state == JobState::Active;
        self.jobs.values().filter(active).count() as u32
    }

    fn count_start(&mut self, queue: &str) {
        let Some(config) = self.queues.get_mut(queue) else {
            return;
        };
        if let Some(rate) = config.rate {
            let window = self.now / rate.window_ms;
            if window != config.window {
                config.window = window;
                config.started = 0;
            }
            config.started += 1;
        }
    }

    /// Guarantee: a lease never takes a queue past its concurrency limit or its rate.
    fn check_limits(&self, got: &[Job]) -> Result<(), String> {
        for job in got {
            let Some(config) = self.queues.get(&job.queue) else {
                continue;
            };
            if let Some(max) = config.concurrency_max
                && self.active(&job.queue) > max
            {
                return Err(format!("{} has more than {max} active jobs", job.queue));
            }
            if let Some(rate) = config.rate
                && config.started > rate.starts
            {
                return Err(format!(
                    "{} started more than {} jobs",
                    job.queue, rate.starts
                ));
            }
        }
        Ok(())
    }

    /// Fencing: a token that is not the job's current lease is refused; no token skips it.
    fn check_lease(&self, job_id: &str, token: Option<u64>) -> Result<&MJob, JobError> {
        let job = self.jobs.get(job_id).ok_or_else(|| not_found(job_id))?;
        let current = job.lease.as_ref().map(|l| l.token);
        match (job.state, token) {
            (JobState::Active, None) => Ok(job),
            (JobState::Active, Some(t)) if Some(t) == current => Ok(job),
            (_, Some(_)) => Err(JobError::StaleLease {
                job_id: job_id.to_owned(),
            }),
            (state, None) => Err(invalid_state(job_id, state)),
        }
    }

    fn ack(&mut self, a: &Ack) -> Answer {
        self.check_lease(&a.job_id, a.lease_token)?;
        let run = self.run(&a.job_id);
        self.finish(&a.job_id, JobState::Completed);
        Ok(Reply::Acked {
            state: JobState::Completed,
            run,
        })
    }

    fn fail(&mut self, f: &Fail) -> Answer {
        self.check_lease(&f.job_id, f.lease_token)?;
        Ok(self.settle_failure(&f.job_id, &f.error))
    }

    fn run(&self, job_id: &str) -> Option<AttemptRun> {
        let job = &self.jobs[job_id];
        job.started_at.map(|at| AttemptRun {
            queue: job.queue.clone(),
            ran_ms: self.now - at,
        })
    }

    /// A failed attempt: retried after its backoff while attempts are left, else dead.
    fn settle_failure(&mut self, job_id: &str, error: &str) -> Reply {
        let run = self.run(job_id);
        let now = self.now;
        let job = self.jobs.get_mut(job_id).expect("known job");
        job.lease = None;
        job.last_error = Some(error.to_owned());
        let attempts_remaining = job.max_attempts - job.attempt;
        if attempts_remaining == 0 {
            self.finish(job_id, JobState::Dead);
            return Reply::Failed {
                state: JobState::Dead,
                next_attempt_at_ms: None,
                attempts_remaining,
                run,
            };
        }
        let delay = schedule::backoff_delay_ms(&job.backoff, job.attempt, job_id);
        if delay == 0 {
            job.state = JobState::Pending;
            job.next_attempt_at = None;
        } else {
            job.state = JobState::Retrying;
            job.next_attempt_at = Some(now + delay);
        }
        Reply::Failed {
            state: job.state,
            next_attempt_at_ms: Some(now + delay),
            attempts_remaining,
            run,
        }
    }

    /// A job reaches a terminal state: its retention starts (a purge timer).
    fn finish(&mut self, job_id: &str, state: JobState) {
        let now = self.now;
        let queue = self.jobs[job_id].queue.clone();
        let retention = self.retention_for(&queue, state);
        let job = self.jobs.get_mut(job_id).expect("known job");
        job.state = state;
        job.lease = None;
        job.finished_at = Some(now);
        job.purge_timers.insert(now + retention);
    }

    fn retention_for(&self, queue: &str, state: JobState) -> u64 {
        let or = |v: u64, d: u64| if v == 0 { d } else { v };
        let config = self.queues.get(queue).cloned().unwrap_or_default();
        if state == JobState::Dead {
            let default = or(self.retention.1, DEAD_RETENTION_MS_DEFAULT);
            config.dead_retention_ms.unwrap_or(default)
        } else {
            let default = or(self.retention.0, RETENTION_MS_DEFAULT);
            config.retention_ms.unwrap_or(default)
        }
    }

    fn heartbeat(&mut self, h: &Heartbeat) -> Answer {
        let mut replies = Vec::new();
        for item in &h.items {
            let reply = match self.jobs.get_mut(&item.job_id) {
                None => HeartbeatReply::Stop(StopReason::NotFound),
                Some(job) => match (job.state, item.lease_token, job.lease.as_mut()) {
                    (JobState::Active, token, Some(lease))
                        if token.is_none() || token == Some(lease.token) =>
                    {
                        lease.deadline = lease.deadline.max(self.now + lease.duration);
                        if item.checkpoint.is_some() {
                            job.wire_bytes = None;
                        }
                        HeartbeatReply::Extended {
                            deadline_ms: lease.deadline,
                        }
                    }
                    (JobState::Active, _, _) => HeartbeatReply::Stop(StopReason::StaleLease),
                    (JobState::Cancelled, _, _) => HeartbeatReply::Stop(StopReason::Cancelled),
                    (JobState::Completed | JobState::Dead, _, _) => {
                        HeartbeatReply::Stop(StopReason::Finished)
                    }
                    _ => HeartbeatReply::Stop(StopReason::Reassigned),
                },
            };
            replies.push(reply);
        }
        Ok(Reply::Heartbeat(replies))
    }

    fn cancel(&mut self, job_id: &str) -> Answer {
        let job = self.jobs.get(job_id).ok_or_else(|| not_found(job_id))?;
        if job.state.is_terminal() {
            return Err(invalid_state(job_id, job.state));
        }
        self.revoke(job_id, StopReason::Cancelled);
        self.finish(job_id, JobState::Cancelled);
        Ok(Reply::Cancelled {
            state: JobState::Cancelled,
        })
    }

    /// An active job taken from its worker: the worker must be told.
    fn revoke(&mut self, job_id: &str, reason: StopReason) {
        if let Some(lease) = &self.jobs[job_id].lease {
            self.revoked.push(Effect::Revoked {
                job_id: job_id.to_owned(),
                worker_id: lease.worker.clone(),
                lease_token: lease.token,
                reason,
            });
        }
    }

    /// Only a finished job is retried: pending again, with a fresh attempt budget and no expiry.
    fn retry(&mut self, job_id: &str) -> Answer {
        let job = self.jobs.get_mut(job_id).ok_or_else(|| not_found(job_id))?;
        if !job.state.is_terminal() {
            return Err(invalid_state(job_id, job.state));
        }
        job.state = JobState::Pending;
        job.attempt = 0;
        job.finished_at = None;
        job.expire_at = None;
        job.next_attempt_at = None;
        Ok(Reply::Retried {
            state: JobState::Pending,
        })
    }

    /// Delete (refused for an active job) or destroy (any state).
    fn remove(&mut self, job_id: &str, destroy: bool) -> Answer {
        let job = self.jobs.get(job_id).ok_or_else(|| not_found(job_id))?;
        if job.state == JobState::Active && !destroy {
            return Err(invalid_state(job_id, job.state));
        }
        self.revoke(job_id, StopReason::Cancelled);
        self.forget(job_id);
        Ok(if destroy {
            Reply::Destroyed
        } else {
            Reply::Deleted
        })
    }

    /// A job leaves the state: its lock goes, its purge timers stay behind.
    fn forget(&mut self, job_id: &str) {
        self.release_lock(job_id);
        if let Some(job) = self.jobs.remove(job_id)
            && !job.purge_timers.is_empty()
        {
            self.orphans.insert(job_id.to_owned(), job.purge_timers);
        }
    }

    fn release_lock(&mut self, job_id: &str) {
        self.locks.retain(|_, (holder, _)| holder != job_id);
    }

    /// A job that is not active moves with its place in enqueue order; it loses its unique key.
    fn move_job(&mut self, job_id: &str, queue: &str) -> Answer {
        if !valid_queue(queue) {
            return Err(invalid("queue"));
        }
        let job = self.jobs.get(job_id).ok_or_else(|| not_found(job_id))?;
        if job.state == JobState::Active {
            return Err(invalid_state(job_id, job.state));
        }
        let state = job.state;
        if job.queue != queue {
            self.release_lock(job_id);
            let job = self.jobs.get_mut(job_id).expect("known job");
            job.queue = queue.to_owned();
            job.unique_key = None;
            job.wire_bytes = None;
        }
        Ok(Reply::Moved { state })
    }

    fn set_priority(&mut self, job_id: &str, priority: Priority) -> Answer {
        let job = self.jobs.get_mut(job_id).ok_or_else(|| not_found(job_id))?;
        if !is_waiting(job.state) {
            return Err(invalid_state(job_id, job.state));
        }
        job.priority = priority;
        Ok(Reply::Reprioritized { state: job.state })
    }

    fn configure(&mut self, queue: &str, change: &QueueChange) -> Answer {
        if let QueueChange::Limits {
            concurrency_max: Some(0),
            ..
        } = change
        {
            return Err(invalid("concurrency"));
        }
        let config = self.queues.entry(queue.to_owned()).or_default();
        match change {
            QueueChange::Pause => config.paused = true,
            QueueChange::Resume => config.paused = false,
            QueueChange::Limits {
                concurrency_max,
                rate,
            } => {
                config.concurrency_max = *concurrency_max;
                if config.rate != *rate {
                    config.rate = *rate;
                    config.window = 0;
                    config.started = 0;
                }
            }
            QueueChange::Retention {
                retention_ms,
                dead_retention_ms,
            } => {
                config.retention_ms = *retention_ms;
                config.dead_retention_ms = *dead_retention_ms;
            }
            QueueChange::Forget => *config = QueueConfig::default(),
        }
        Ok(Reply::Queue {
            queue: queue.to_owned(),
            config: config.clone(),
        })
    }

    /// Fires every timer due at `now`. Jobs do not affect each other here, so each job's
    /// timers fire in (due, kind) order on their own.
    fn tick(&mut self) {
        let ids: Vec<String> = self.jobs.keys().cloned().collect();
        for id in ids {
            let job = &self.jobs[&id];
            let mut due: Vec<(u64, TimerKind)> = Vec::new();
            match (job.state, &job.lease) {
                (JobState::Scheduled, _) => due.extend(job.scheduled_at.map(promote)),
                (JobState::Retrying, _) => due.extend(job.next_attempt_at.map(promote)),
                (JobState::Active, Some(l)) => due.push((l.deadline, TimerKind::LeaseExpiry)),
                _ => {}
            }
            if job.expiry_armed() {
                due.extend(job.expire_at.map(|at| (at, TimerKind::Expire)));
            }
            due.extend(job.purge_timers.iter().map(|at| (*at, TimerKind::Purge)));
            due.retain(|(at, _)| *at <= self.now);
            due.sort_by_key(|(at, kind)| (*at, *kind as u8));
            for (at, kind) in due {
                if self.jobs.contains_key(&id) {
                    self.fire(&id, at, kind);
                }
            }
        }
        let now = self.now;
        self.locks.retain(|_, (_, expires)| *expires > now);
        for timers in self.orphans.values_mut() {
            timers.retain(|at| *at > now);
        }
        self.orphans.retain(|_, timers| !timers.is_empty());
    }

    fn fire(&mut self, id: &str, at: u64, kind: TimerKind) {
        let job = self.jobs.get_mut(id).expect("known job");
        match kind {
            TimerKind::Promote => {
                let due = match job.state {
                    JobState::Scheduled => job.scheduled_at == Some(at),
                    JobState::Retrying => job.next_attempt_at == Some(at),
                    _ => false,
                };
                if due {
                    job.state = JobState::Pending;
                    job.next_attempt_at = None;
                }
            }
            TimerKind::LeaseExpiry => {
                if job.lease.as_ref().is_some_and(|l| l.deadline == at) {
                    self.revoke(id, StopReason::Reassigned);
                    self.settle_failure(id, "lease expired");
                }
            }
            TimerKind::Expire => {
                if is_waiting(job.state) && job.expire_at == Some(at) {
                    job.last_error = Some("expired".into());
                    self.finish(id, JobState::Dead);
                }
            }
            TimerKind::Purge => {
                job.purge_timers.remove(&at);
                let Some(finished) = job.finished_at.filter(|_| job.state.is_terminal()) else {
                    return;
                };
                let (queue, state) = (job.queue.clone(), job.state);
                let due = finished + self.retention_for(&queue, state);
                if due > self.now {
                    let job = self.jobs.get_mut(id).expect("known job");
                    job.purge_timers.insert(due);
                } else {
                    self.forget(id);
                }
            }
            TimerKind::UniqueRelease | TimerKind::QueueWindow => {}
        }
    }

    /// Jobs of the model, for the workload to pick from.
    pub fn job_ids(&self) -> impl Iterator<Item = (&String, &MJob)> {
        self.jobs.iter()
    }
}

fn promote(at: u64) -> (u64, TimerKind) {
    (at, TimerKind::Promote)
}

/// The refusals the workload provokes on purpose (the model knows no other input rule).
fn refused_enqueue(e: &Enqueue, now: u64) -> Option<&'static str> {
    if !valid_queue(&e.queue) {
        return Some("queue");
    }
    if e.options.max_attempts == 0 {
        return Some("options.max_attempts");
    }
    if e.options
        .scheduled_at_ms
        .is_some_and(|at| at > now + crate::validate::DURATION_MS_MAX)
    {
        return Some("options.scheduled_at");
    }
    None
}

fn valid_queue(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

fn enqueued(id: &str, state: JobState, duplicate: bool) -> Reply {
    Reply::Enqueued {
        job_id: id.to_owned(),
        state,
        duplicate,
    }
}

fn not_found(job_id: &str) -> JobError {
    JobError::NotFound {
        job_id: job_id.to_owned(),
    }
}

fn invalid_state(job_id: &str, state: JobState) -> JobError {
    JobError::InvalidState {
        job_id: job_id.to_owned(),
        state: state.as_str().to_owned(),
        op: String::new(),
    }
}

fn invalid(field: &str) -> JobError {
    JobError::InvalidArgument {
        field: field.to_owned(),
        reason: String::new(),
    }
}
