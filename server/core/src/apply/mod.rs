//! The state machine: [`apply_batch`] applies one log entry's commands in order.
//!
//! Rule for every command handler: check everything first, write after. A refused command
//! returns a [`JobError`] and must not have written anything, because one transaction holds
//! the whole batch and other commands in it still commit.

mod access;
mod admin;
mod enqueue;
mod events;
mod heartbeat;
pub mod idempotency;
mod lease;
mod operations;
mod queues;
mod settle;
mod timers;

use std::collections::BTreeMap;

use crate::command::{Batch, BatchOutcome, Command, Effect, JobError, QueueActivity, Reply};
use crate::keys::{self, Table, TimerKind, meta};
use crate::model::{Job, JobState};
use crate::queues::QueueConfig;
use crate::state::{StateTxn, StoreError};

pub use events::{EVENTS_BYTES_MAX, EVENTS_RETAINED_MAX};
/// Timers fired by one `Tick`; the rest fire on the next tick (the outcome says it is due).
pub const TIMERS_PER_TICK_MAX: usize = 4_096;
/// Jobs leased by one `Lease` command.
pub const LEASE_COUNT_MAX: u32 = 1_024;

/// Applies one batch at `log_index`. A `StoreError` is fatal (the caller must stop).
pub fn apply_batch<T: StateTxn>(
    txn: &mut T,
    batch: &Batch,
    log_index: u64,
) -> Result<BatchOutcome, StoreError> {
    let mut ctx = Ctx {
        txn,
        now: batch.now_ms,
        log_index,
        effects: Vec::new(),
        last_event_seq: None,
        events_dropped: None,
        counters: Vec::new(),
        stored: BTreeMap::new(),
        count_deltas: BTreeMap::new(),
        queue_configs: BTreeMap::new(),
        retention: None,
        activity: BTreeMap::new(),
        purged: 0,
    };
    let mut replies = Vec::with_capacity(batch.commands.len());
    for cmd in &batch.commands {
        replies.push(ctx.apply(cmd)?);
    }
    ctx.flush_counters()?;
    let freed = ctx.flush_counts()?;
    ctx.wake_freed_queues(freed)?;
    ctx.flush_queue_configs()?;
    ctx.drop_old_events()?;
    // A job made ready and leased in the same batch (piggyback dispatch) leaves nothing ready,
    // and a paused or throttled queue has nothing to hand out: waking every waiting worker
    // would only make them look and find nothing.
    let mut effects = Vec::with_capacity(ctx.effects.len());
    for effect in std::mem::take(&mut ctx.effects) {
        let stale = match &effect {
            Effect::Ready { queue } => {
                crate::query::leasable_count(ctx.txn, std::slice::from_ref(queue), ctx.now, 1)? == 0
            }
            Effect::Revoked { .. } | Effect::KeysChanged => false,
        };
        if !stale {
            effects.push(effect);
        }
    }
    let next_due_ms = timers::next_due(ctx.txn)?;
    let last_event_seq = match ctx.last_event_seq {
        Some(seq) => seq,
        None => ctx.counter(meta::EVENT_SEQ)?,
    };
    Ok(BatchOutcome {
        replies,
        effects,
        next_due_ms,
        last_event_seq,
        activity: std::mem::take(&mut ctx.activity).into_values().collect(),
        purged: ctx.purged,
    })
}

/// Per-batch apply context: the transaction, the batch's clock and the effects collected.
pub(crate) struct Ctx<'a, T: StateTxn> {
    pub txn: &'a mut T,
    pub now: u64,
    #[allow(dead_code)] // reserved for ids created inside apply (chains, callbacks)
    pub log_index: u64,
    pub effects: Vec<Effect>,
    last_event_seq: Option<u64>,
    /// Events past the retention bound that this batch's events push out (first..=last seq),
    /// deleted together at the end of the batch.
    events_dropped: Option<(u64, u64)>,
    /// `Meta` counters read or bumped in this batch (name, value, changed), written back once
    /// at the end of the batch instead of once per command.
    counters: Vec<(&'static [u8], u64, bool)>,
    /// What the `Jobs` table holds for each job read or written in this batch, or `None` for
    /// no record. Lets `save_job` and `delete_job` keep `Counts` and `Payloads` in step without
    /// reading the record again.
    stored: BTreeMap<String, Option<Stored>>,
    /// Changes to `Counts` in this batch, written once at the end of the batch.
    count_deltas: BTreeMap<(String, JobState), i64>,
    /// Queue settings read in this batch, and whether this batch changed them (written once at
    /// the end of the batch; see `queues.rs`).
    queue_configs: BTreeMap<String, (QueueConfig, bool)>,
    /// The cluster's retention defaults (completed and cancelled, dead), read once per batch.
    retention: Option<(u64, u64)>,
    /// Per-queue counts of this batch (the outcome's `activity`).
    activity: BTreeMap<String, QueueActivity>,
    /// Jobs removed by retention in this batch.
    purged: u32,
}

type CmdResult = Result<Result<Reply, JobError>, StoreError>;

/// What a job's `Jobs` record holds, as far as `save_job` and `delete_job` need to know.
#[derive(Clone, Debug)]
struct Stored {
    queue: String,
    state: JobState,
    /// The record's payload is empty: the payload is in `Payloads` (or is empty).
    payload_apart: bool,
}

impl Stored {
    fn of(job: &Job, payload_apart: bool) -> Self {
        Stored {
            queue: job.queue.clone(),
            state: job.state,
            payload_apart,
        }
    }

    fn counted(&self) -> (String, JobState) {
        (self.queue.clone(), self.state)
    }
}

impl<T: StateTxn> Ctx<'_, T> {
    fn apply(&mut self, cmd: &Command) -> CmdResult {
        match cmd {
            Command::Enqueue(e) => enqueue::enqueue(self, e),
            Command::Lease(l) => lease::lease(self, l, u64::MAX),
            Command::LeaseWithin { lease, bytes_max } => lease::lease(self, lease, *bytes_max),
            Command::Ack(a) => settle::ack(self, a),
            Command::Fail(f) => settle::fail(self, f),
            Command::Heartbeat(h) => heartbeat::heartbeat(self, h),
            Command::Cancel { job_id } => admin::cancel(self, job_id),
            Command::Retry { job_id } => admin::retry(self, job_id),
            Command::Delete { job_id } => admin::delete(self, job_id),
            Command::Tick => timers::tick(self),
            Command::CreateKey(c) => access::create(self, c),
            Command::RevokeKey { key_id } => access::revoke(self, key_id),
            Command::RotateKey {
                key_id,
                hash,
                grace_ms,
            } => access::rotate(self, key_id, hash, *grace_ms),
            Command::TouchKeys { used } => access::touch(self, used),
            Command::ConfigureQueue { queue, change } => queues::configure(self, queue, change),
            Command::SetRetentionDefaults {
                retention_ms,
                dead_retention_ms,
            } => queues::set_retention_defaults(self, *retention_ms, *dead_retention_ms),
            Command::Move { job_id, queue } => admin::move_job(self, job_id, queue),
            Command::SetPriority { job_id, priority } => {
                admin::set_priority(self, job_id, *priority)
            }
            Command::Destroy { job_id } => admin::destroy(self, job_id),
            Command::StartOperation(op) => operations::start(self, op),
            Command::AdvanceOperation(p) => operations::advance(self, p),
            Command::EnqueueKeyed(k) => idempotency::enqueue_keyed(self, k),
        }
    }

    /// The job's record. Its payload is empty when it is in `Payloads`: only a lease hands the
    /// payload out, and reads it with [`Ctx::attach_payload`].
    pub fn load_job(&mut self, id: &str) -> Result<Option<Job>, StoreError> {
        let job = match self.txn.get(Table::Jobs, id.as_bytes())? {
            Some(bytes) => Some(keys::decode_job(id.as_bytes(), &bytes)?),
            None => None,
        };
        let record = job.as_ref().map(|j| Stored::of(j, j.payload.is_empty()));
        self.stored.insert(id.to_owned(), record);
        Ok(job)
    }

    /// Reads the payload of a job loaded by [`Ctx::load_job`] from `Payloads`, if it is there.
    pub fn attach_payload(&mut self, job: &mut Job) -> Result<(), StoreError> {
        if job.payload.is_empty()
            && let Some(bytes) = self.txn.get(Table::Payloads, job.id.as_bytes())?
        {
            job.payload = keys::decode_payload(job.id.as_bytes(), bytes)?;
        }
        Ok(())
    }

    /// Writes a job record. The only writer of `Jobs` besides [`Ctx::delete_job`]: it moves the
    /// job's count in `Counts` from its stored (queue, state) to its new one. The payload goes
    /// to `Payloads` the first time (a new job, or a record that still held it), never again.
    pub fn save_job(&mut self, job: &Job) -> Result<(), StoreError> {
        let before = self.stored_record(&job.id)?;
        let finishing =
            job.state.is_terminal() && before.as_ref().is_none_or(|b| !b.state.is_terminal());
        if finishing && let Some(finished) = job.finished_at_ms {
            // Retention starts: the job is removed when its queue's retention has passed.
            let due = finished.saturating_add(self.retention_for(&job.queue, job.state)?);
            self.set_timer(due, TimerKind::Purge, &job.id)?;
        }
        let apart = before.as_ref().is_some_and(|b| b.payload_apart);
        if !apart && !job.payload.is_empty() {
            self.txn
                .put(Table::Payloads, job.id.as_bytes(), job.payload.as_bytes())?;
        }
        self.txn.put(
            Table::Jobs,
            job.id.as_bytes(),
            &keys::encode_job_record(job),
        )?;
        let after = Stored::of(job, true);
        self.move_count(before.map(|b| b.counted()), Some(after.counted()));
        self.stored.insert(job.id.clone(), Some(after));
        Ok(())
    }

    /// Deletes a job record, its payload and its count.
    pub fn delete_job(&mut self, job: &Job) -> Result<(), StoreError> {
        let before = self.stored_record(&job.id)?;
        self.txn.delete(Table::Jobs, job.id.as_bytes())?;
        if before.as_ref().is_some_and(|b| b.payload_apart) {
            self.txn.delete(Table::Payloads, job.id.as_bytes())?;
        }
        self.move_count(before.map(|b| b.counted()), None);
        self.stored.insert(job.id.clone(), None);
        Ok(())
    }

    /// What the `Jobs` table holds for `id`: remembered from this batch's `load_job`, else
    /// read (a record saved without being loaded first).
    fn stored_record(&mut self, id: &str) -> Result<Option<Stored>, StoreError> {
        if let Some(record) = self.stored.get(id) {
            return Ok(record.clone());
        }
        self.load_job(id)?;
        Ok(self.stored.get(id).cloned().flatten())
    }

    fn move_count(
        &mut self,
        before: Option<(String, JobState)>,
        after: Option<(String, JobState)>,
    ) {
        if before == after {
            return;
        }
        if let Some(key) = before {
            *self.count_deltas.entry(key).or_default() -= 1;
        }
        if let Some(key) = after {
            *self.count_deltas.entry(key).or_default() += 1;
        }
    }

    /// Applies this batch's count changes to `Counts`; a count that reaches zero is deleted.
    /// Returns the queues with fewer active jobs than before the batch.
    fn flush_counts(&mut self) -> Result<Vec<String>, StoreError> {
        let mut freed = Vec::new();
        for ((queue, state), delta) in std::mem::take(&mut self.count_deltas) {
            if delta == 0 {
                continue;
            }
            if state == JobState::Active && delta < 0 {
                freed.push(queue.clone());
            }
            let key = keys::counts_key(&queue, state);
            let current = match self.txn.get(Table::Counts, &key)? {
                Some(b) => keys::decode_u64(Table::Counts, &key, &b)?,
                None => 0,
            };
            let Some(next) = current.checked_add_signed(delta) else {
                return Err(StoreError::Corrupt {
                    table: Table::Counts,
                    key,
                    reason: format!("count {current} would go below zero by {delta}"),
                });
            };
            if next == 0 {
                self.txn.delete(Table::Counts, &key)?;
            } else {
                self.txn.put(Table::Counts, &key, &next.to_be_bytes())?;
            }
        }
        self.stored.clear();
        Ok(freed)
    }

    /// Jobs of `queue` in `state` now: the stored count plus this batch's changes.
    pub fn count_now(&mut self, queue: &str, state: JobState) -> Result<u64, StoreError> {
        let key = keys::counts_key(queue, state);
        let stored = match self.txn.get(Table::Counts, &key)? {
            Some(b) => keys::decode_u64(Table::Counts, &key, &b)?,
            None => 0,
        };
        let delta = self
            .count_deltas
            .get(&(queue.to_owned(), state))
            .copied()
            .unwrap_or(0);
        Ok(stored.saturating_add_signed(delta))
    }

    pub fn counter(&mut self, name: &'static [u8]) -> Result<u64, StoreError> {
        if let Some((_, value, _)) = self.counters.iter().find(|(n, _, _)| *n == name) {
            return Ok(*value);
        }
        let value = match self.txn.get(Table::Meta, name)? {
            Some(b) => keys::decode_u64(Table::Meta, name, &b)?,
            None => 0,
        };
        self.counters.push((name, value, false));
        Ok(value)
    }

    /// Increments a `Meta` counter and returns the new value (first value: 1).
    pub fn next_counter(&mut self, name: &'static [u8]) -> Result<u64, StoreError> {
        self.add_counter(name, 1)
    }

    /// Adds to a `Meta` counter and returns the new value.
    pub fn add_counter(&mut self, name: &'static [u8], n: u64) -> Result<u64, StoreError> {
        let next = self.counter(name)?.saturating_add(n);
        if let Some(entry) = self.counters.iter_mut().find(|(n, _, _)| *n == name) {
            *entry = (name, next, true);
        }
        Ok(next)
    }

    /// Sets a `Meta` counter (written with the others at the end of the batch).
    pub fn set_counter(&mut self, name: &'static [u8], value: u64) -> Result<(), StoreError> {
        self.counter(name)?;
        if let Some(entry) = self.counters.iter_mut().find(|(n, _, _)| *n == name) {
            *entry = (name, value, true);
        }
        Ok(())
    }

    fn flush_counters(&mut self) -> Result<(), StoreError> {
        for (name, value, changed) in std::mem::take(&mut self.counters) {
            if changed {
                self.txn.put(Table::Meta, name, &value.to_be_bytes())?;
            }
        }
        Ok(())
    }

    /// Puts a job into its queue's ready index and wakes workers.
    pub fn make_ready(&mut self, job: &mut Job) -> Result<(), StoreError> {
        job.state = JobState::Pending;
        job.next_attempt_at_ms = None;
        job.ready_at_ms = Some(self.now);
        self.txn.put(
            Table::Ready,
            &keys::ready_key(&job.queue, job.priority, job.seq),
            job.id.as_bytes(),
        )?;
        if !self
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Ready { queue } if *queue == job.queue))
        {
            self.effects.push(Effect::Ready {
                queue: job.queue.clone(),
            });
        }
        Ok(())
    }

    pub fn remove_ready(&mut self, job: &Job) -> Result<(), StoreError> {
        self.txn.delete(
            Table::Ready,
            &keys::ready_key(&job.queue, job.priority, job.seq),
        )
    }

    pub fn set_timer(
        &mut self,
        due_ms: u64,
        kind: TimerKind,
        job_id: &str,
    ) -> Result<(), StoreError> {
        self.txn
            .put(Table::Timers, &keys::timer_key(due_ms, kind, job_id), &[])
    }

    pub fn clear_timer(
        &mut self,
        due_ms: u64,
        kind: TimerKind,
        job_id: &str,
    ) -> Result<(), StoreError> {
        self.txn
            .delete(Table::Timers, &keys::timer_key(due_ms, kind, job_id))
    }

    /// Removes a job from every index its current state puts it in (ready index, promote
    /// and lease timers). The job record itself is left to the caller.
    pub fn unindex(&mut self, job: &Job) -> Result<(), StoreError> {
        match job.state {
            JobState::Pending => self.remove_ready(job)?,
            JobState::Scheduled => {
                if let Some(at) = job.scheduled_at_ms {
                    self.clear_timer(at, TimerKind::Promote, &job.id)?;
                }
            }
            JobState::Retrying => {
                if let Some(at) = job.next_attempt_at_ms {
                    self.clear_timer(at, TimerKind::Promote, &job.id)?;
                }
            }
            JobState::Active => {
                if let Some(lease) = &job.lease {
                    self.clear_timer(lease.deadline_ms, TimerKind::LeaseExpiry, &job.id)?;
                }
            }
            JobState::Held | JobState::Completed | JobState::Dead | JobState::Cancelled => {}
        }
        Ok(())
    }

    /// The expiry timer only guards jobs that have not started yet.
    pub fn clear_expiry(&mut self, job: &Job) -> Result<(), StoreError> {
        if let Some(at) = job.expire_at_ms {
            self.clear_timer(at, TimerKind::Expire, &job.id)?;
        }
        Ok(())
    }
}

/// One value in an event's details (see [`details`]): borrowed, so building the details of
/// an event copies no value and builds no `serde_json::Value` per pair.
pub(crate) enum Detail<'a> {
    Uint(u64),
    Text(&'a str),
    Json(&'a serde_json::Value),
}

impl From<u32> for Detail<'_> {
    fn from(n: u32) -> Self {
        Detail::Uint(n.into())
    }
}

impl From<u64> for Detail<'_> {
    fn from(n: u64) -> Self {
        Detail::Uint(n)
    }
}

impl<'a> From<&'a str> for Detail<'a> {
    fn from(s: &'a str) -> Self {
        Detail::Text(s)
    }
}

impl<'a> From<&'a serde_json::Value> for Detail<'a> {
    fn from(v: &'a serde_json::Value) -> Self {
        Detail::Json(v)
    }
}

/// `{"key": value, ...}` for event details, keys in sorted order (as a JSON object built with
/// `serde_json` prints them), written straight into one buffer without building a map or a
/// value per pair: every command writes an event, so this is on the apply's hot path.
pub(crate) fn details(pairs: &[(&str, Detail<'_>)]) -> String {
    let mut sorted: Vec<&(&str, Detail<'_>)> = pairs.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let mut out = Vec::with_capacity(24 * pairs.len() + 2);
    out.push(b'{');
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_into(&mut out, k);
        out.push(b':');
        match v {
            Detail::Uint(n) => json_into(&mut out, n),
            Detail::Text(s) => json_into(&mut out, s),
            Detail::Json(v) => json_into(&mut out, v),
        }
    }
    out.push(b'}');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `value` as JSON. Writing to a `Vec` cannot fail, nor can serializing a string or a
/// `serde_json::Value`; `null` stands in should that ever change.
fn json_into<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let len = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(len);
        out.extend_from_slice(b"null");
    }
}

pub(crate) fn not_found(job_id: &str) -> JobError {
    JobError::NotFound {
        job_id: job_id.to_owned(),
    }
}

pub(crate) fn invalid_state(job: &Job, op: &str) -> JobError {
    JobError::InvalidState {
        job_id: job.id.clone(),
        state: job.state.as_str().to_owned(),
        op: op.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod testkit;

#[cfg(test)]
mod tests {
    use super::details;

    #[test]
    fn details_match_a_json_object_with_sorted_keys_and_escapes() {
        let progress = serde_json::json!({"done": 1, "of": [2, 3]});
        let pairs = [
            ("state", "pending".into()),
            ("error", "a \"quoted\"\nline ✓".into()),
            ("attempt", 3u32.into()),
            ("next_attempt_at_ms", u64::MAX.into()),
            ("progress", (&progress).into()),
        ];
        let expected = serde_json::json!({
            "state": "pending",
            "error": "a \"quoted\"\nline ✓",
            "attempt": 3,
            "next_attempt_at_ms": u64::MAX,
            "progress": progress,
        });
        assert_eq!(details(&pairs), expected.to_string());
        assert_eq!(details(&[]), "{}");
    }

    /// The payload is written once, to `Payloads`; records carry an empty one from then on.
    #[test]
    fn a_payload_is_written_once_and_every_reader_gets_it_back() {
        use crate::keys::{self, Table};
        use crate::state::StateRead;
        let mut w = crate::apply::testkit::World::new();
        let payload = format!("{{\"blob\":\"{}\"}}", "x".repeat(2000));
        w.enqueue_with_id("j1", "q", &payload, Default::default());
        let record = |w: &crate::apply::testkit::World| {
            let bytes = w.state.get(Table::Jobs, b"j1").unwrap().unwrap();
            keys::decode_job(b"j1", &bytes).unwrap()
        };
        let apart = |w: &crate::apply::testkit::World| w.state.get(Table::Payloads, b"j1").unwrap();
        assert_eq!(record(&w).payload, "", "the record holds no payload");
        assert_eq!(apart(&w), Some(payload.clone().into_bytes()));
        assert!(w.state.get(Table::Jobs, b"j1").unwrap().unwrap().len() < 200);
        // Readers see the whole job.
        assert_eq!(w.job("j1").payload, payload);

        // The lease hands the payload out; the record stays without it.
        let leased = w.lease(&["q"], 1, 30_000);
        assert_eq!(leased[0].payload, payload);
        assert_eq!(record(&w).payload, "");
        assert_eq!(record(&w).state, crate::model::JobState::Active);
        let token = leased[0].lease.as_ref().unwrap().token;
        w.ack("j1", Some(token), Some("{}")).unwrap();
        assert_eq!(record(&w).payload, "");
        assert_eq!(apart(&w), Some(payload.clone().into_bytes()));
        assert_eq!(w.job("j1").payload, payload);

        // Deleting the job deletes its payload.
        w.delete("j1").unwrap();
        assert_eq!(apart(&w), None);
        assert_eq!(w.state.len(Table::Payloads), 0);
    }

    /// A record written before payloads moved out (or installed from an archive) still holds
    /// its payload: it reads as it is and moves the payload out when next saved.
    #[test]
    fn a_record_holding_its_payload_reads_as_it_is_and_moves_it_out_when_saved() {
        use crate::keys::{self, Table};
        use crate::state::{StateRead, StateTxn};
        let mut w = crate::apply::testkit::World::new();
        w.enqueue_with_id("j1", "q", "{\"a\":1}", Default::default());
        let mut job = w.job("j1");
        assert_eq!(job.payload, "{\"a\":1}");
        // As an older release wrote it: the payload in the record, no `Payloads` row.
        job.payload = "{\"old\":true}".into();
        w.state.delete(Table::Payloads, b"j1").unwrap();
        w.state
            .put(Table::Jobs, b"j1", &keys::encode_job(&job))
            .unwrap();
        assert_eq!(w.job("j1").payload, "{\"old\":true}");

        let leased = w.lease(&["q"], 1, 30_000);
        assert_eq!(leased[0].payload, "{\"old\":true}");
        let bytes = w.state.get(Table::Jobs, b"j1").unwrap().unwrap();
        assert_eq!(keys::decode_job(b"j1", &bytes).unwrap().payload, "");
        assert_eq!(
            w.state.get(Table::Payloads, b"j1").unwrap(),
            Some(b"{\"old\":true}".to_vec())
        );
        assert_eq!(w.job("j1").payload, "{\"old\":true}");
        // What digests and archives carry is the record as the older release wrote it.
        let mut before = job.clone();
        before.state = crate::model::JobState::Active;
        let carried = keys::job_record_with_payload(b"j1", &bytes, b"{\"old\":true}").unwrap();
        assert_eq!(
            keys::decode_job(b"j1", &carried).unwrap(),
            crate::query::job(&w.state, "j1").unwrap().unwrap()
        );
        assert_eq!(carried, keys::encode_job(&w.job("j1")));
    }

    #[test]
    fn a_job_record_encodes_the_same_with_its_buffer_sized_up_front() {
        let mut w = crate::apply::testkit::World::new();
        w.enqueue(
            "q",
            "{\"to\":1}",
            crate::model::EnqueueOptions {
                tags: [("team".to_owned(), "a".to_owned())].into(),
                ..Default::default()
            },
        );
        let job = w.job("j1");
        let bytes = crate::keys::encode_job(&job);
        assert_eq!(bytes, crate::keys::encode(&job));
        assert_eq!(crate::keys::decode_job(b"j1", &bytes).unwrap(), job);
    }
}
