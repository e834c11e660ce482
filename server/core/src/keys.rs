//! The table and key layout of the replicated state: the one place that describes it.
//!
//! | table    | key                                        | value                         |
//! |----------|--------------------------------------------|-------------------------------|
//! | `Jobs`   | job id                                     | [`Job`] (postcard), its payload empty when in `Payloads` |
//! | `Ready`  | queue `\0` priority rank (u8) seq (u64 BE) | job id                        |
//! | `Timers` | due ms (u64 BE) kind (u8) job id           | empty                         |
//! | `Unique` | queue `\0` unique key                      | [`UniqueLock`] (postcard)     |
//! | `Events` | seq (u64 BE)                               | [`Event`] (postcard)          |
//! | `Meta`   | name (ASCII)                               | u64 BE counters               |
//! | `Counts` | queue `\0` state (u8, [`state_code`])      | u64 BE: jobs of the queue in that state |
//! | `ApiKeys` | key id                                    | [`ApiKey`] (postcard)         |
//! | `KeyHashes` | SHA-256 of a key secret (32 bytes)      | key id                        |
//! | `Queues` | queue name                                 | [`QueueConfig`] (postcard)    |
//! | `Operations` | operation id (time-ordered)            | [`Operation`] (postcard)      |
//! | `EventMarks` | event seq (u64 BE), every 256th        | u64 BE: event bytes written up to it |
//! | `Idempotency` | queue `\0` idempotency key             | [`IdempotencyRecord`] (postcard) |
//! | `IdempotencyOrder` | expires ms (u64 BE) queue `\0` idempotency key | empty        |
//! | `Payloads` | job id                                   | the job's payload (UTF-8)     |
//!
//! Integers are big-endian so byte order is numeric order. Queue names never contain `\0`
//! (validated), so `queue \0` is an exact prefix.
//!
//! `Counts` is derived data kept in step with `Jobs` by the apply context (`Ctx::save_job` and
//! `Ctx::delete_job`, the only writers of job records): it lets metrics and status read queue
//! depth without scanning every job. A zero count is deleted, so the table only holds (queue,
//! state) pairs that have jobs. `query::check_invariants` compares it with a full scan.
//!
//! A payload is written once, to `Payloads`, when its job is first saved, and the `Jobs`
//! record keeps an empty one: a lease, ack or heartbeat rewrites a record of a hundred-odd
//! bytes instead of one carrying the payload (ADR 0037). Records written before, or installed
//! from an archive, still hold theirs and move it out when next saved. The layout is this
//! node's own: digests and archives fold each payload back into its record
//! ([`job_record_with_payload`]), so they read the same on every node and every release.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::access::ApiKey;
use crate::model::{Event, Job, JobState, Priority};
use crate::queues::{Operation, QueueConfig};
use crate::state::StoreError;

/// The state tables. The store maps each to one redb table named by [`Table::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Table {
    Jobs,
    Ready,
    Timers,
    Unique,
    Events,
    Meta,
    Counts,
    ApiKeys,
    KeyHashes,
    Queues,
    Operations,
    EventMarks,
    Idempotency,
    IdempotencyOrder,
    Payloads,
}

impl Table {
    /// Every table, in discriminant order (the store indexes its open tables by it).
    pub const ALL: [Table; 15] = [
        Table::Jobs,
        Table::Ready,
        Table::Timers,
        Table::Unique,
        Table::Events,
        Table::Meta,
        Table::Counts,
        Table::ApiKeys,
        Table::KeyHashes,
        Table::Queues,
        Table::Operations,
        Table::EventMarks,
        Table::Idempotency,
        Table::IdempotencyOrder,
        Table::Payloads,
    ];

    /// Tables added after the first release, which digests and snapshot archives leave out
    /// while they are empty: a node of the earlier release computes the same digest and reads
    /// the archive until something is written to them.
    pub fn omitted_when_empty(self) -> bool {
        matches!(self, Table::Idempotency | Table::IdempotencyOrder)
    }

    /// A table of this node's storage layout only: digests and archives leave it out and fold
    /// its rows into the `Jobs` records ([`job_record_with_payload`]).
    pub fn layout_only(self) -> bool {
        matches!(self, Table::Payloads)
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::Jobs => "jobs",
            Table::Ready => "ready",
            Table::Timers => "timers",
            Table::Unique => "unique",
            Table::Events => "events",
            Table::Meta => "meta",
            Table::Counts => "counts",
            Table::ApiKeys => "api_keys",
            Table::KeyHashes => "key_hashes",
            Table::Queues => "queues",
            Table::Operations => "operations",
            Table::EventMarks => "event_marks",
            Table::Idempotency => "idempotency",
            Table::IdempotencyOrder => "idempotency_order",
            Table::Payloads => "payloads",
        }
    }
}

/// Names of the counters in `Meta`.
pub mod meta {
    /// Last enqueue sequence number handed out (FIFO order).
    pub const JOB_SEQ: &[u8] = b"job_seq";
    /// Last lease token handed out.
    pub const LEASE_SEQ: &[u8] = b"lease_seq";
    /// Last event id written.
    pub const EVENT_SEQ: &[u8] = b"event_seq";
    /// Bytes of events written since the start (the event log's byte bound reads it).
    pub const EVENT_BYTES: &[u8] = b"event_bytes";
    /// `EVENT_BYTES` when the last event mark was written.
    pub const EVENT_MARK_BYTES: &[u8] = b"event_mark_bytes";
    /// The cluster's retention defaults, ms (absent: the built-in defaults).
    pub const RETENTION_MS: &[u8] = b"retention_ms";
    pub const DEAD_RETENTION_MS: &[u8] = b"dead_retention_ms";
    /// Idempotency keys held, and their bytes (key and value of both tables).
    pub const IDEMPOTENCY_KEYS: &[u8] = b"idempotency_keys";
    pub const IDEMPOTENCY_BYTES: &[u8] = b"idempotency_bytes";
    /// No held idempotency key expires before this (Unix ms; 0: not known, look): lets a
    /// keyed enqueue skip looking for expired keys while none can be.
    pub const IDEMPOTENCY_EXPIRES_FROM: &[u8] = b"idempotency_expires_from";
}

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TimerKind {
    /// A scheduled or retrying job becomes pending.
    Promote = 1,
    /// An active job's lease ran out.
    LeaseExpiry = 2,
    /// A job that has not started by its `expire_at` dies.
    Expire = 3,
    /// A unique key's period ended.
    UniqueRelease = 4,
    /// A finished job's retention ended: it is removed.
    Purge = 5,
    /// A rate-limited queue's next window starts (the id slot holds the queue's name).
    QueueWindow = 6,
}

impl TimerKind {
    pub fn from_u8(v: u8) -> Option<TimerKind> {
        match v {
            1 => Some(TimerKind::Promote),
            2 => Some(TimerKind::LeaseExpiry),
            3 => Some(TimerKind::Expire),
            4 => Some(TimerKind::UniqueRelease),
            5 => Some(TimerKind::Purge),
            6 => Some(TimerKind::QueueWindow),
            _ => None,
        }
    }
}

/// Holder of a unique key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueLock {
    pub job_id: String,
    pub expires_at_ms: u64,
}

pub fn queue_prefix(queue: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(queue.len() + 1);
    k.extend_from_slice(queue.as_bytes());
    k.push(0);
    k
}

/// The exclusive end of all keys starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xff; prefix.len() + 1]
}

pub fn ready_key(queue: &str, priority: Priority, seq: u64) -> Vec<u8> {
    let mut k = queue_prefix(queue);
    k.push(priority.rank());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn timer_key(due_ms: u64, kind: TimerKind, job_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + job_id.len());
    k.extend_from_slice(&due_ms.to_be_bytes());
    k.push(kind as u8);
    k.extend_from_slice(job_id.as_bytes());
    k
}

/// Splits a timer key into (due, kind, job id). `None` for a malformed key.
pub fn parse_timer_key(key: &[u8]) -> Option<(u64, TimerKind, String)> {
    if key.len() < 9 {
        return None;
    }
    let due = u64::from_be_bytes(key[..8].try_into().ok()?);
    let kind = TimerKind::from_u8(key[8])?;
    let id = String::from_utf8(key[9..].to_vec()).ok()?;
    Some((due, kind, id))
}

/// What an idempotency key answers for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub job_id: String,
    pub expires_at_ms: u64,
    /// CRC-32 of the first call's payload: a retry must send the same one.
    pub payload_crc: u32,
}

/// `Idempotency` key: queue `\0` key.
pub fn idempotency_key(queue: &str, key: &str) -> Vec<u8> {
    unique_key(queue, key)
}

/// `IdempotencyOrder` key: expiry (u64 BE), then the `Idempotency` key.
pub fn idempotency_order_key(expires_at_ms: u64, lookup: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + lookup.len());
    k.extend_from_slice(&expires_at_ms.to_be_bytes());
    k.extend_from_slice(lookup);
    k
}

/// Bytes one held idempotency key costs (its record and its place in the order), as the
/// `IDEMPOTENCY_BYTES` counter adds them up.
pub fn idempotency_held_bytes(lookup: &[u8], value_len: usize) -> u64 {
    (2 * lookup.len() + 8 + value_len) as u64
}

pub fn unique_key(queue: &str, key: &str) -> Vec<u8> {
    let mut k = queue_prefix(queue);
    k.extend_from_slice(key.as_bytes());
    k
}

/// The on-disk code of a job state in `Counts` keys. Stable: never renumber.
pub fn state_code(state: JobState) -> u8 {
    match state {
        JobState::Pending => 1,
        JobState::Scheduled => 2,
        JobState::Active => 3,
        JobState::Retrying => 4,
        JobState::Held => 5,
        JobState::Completed => 6,
        JobState::Dead => 7,
        JobState::Cancelled => 8,
    }
}

pub fn state_from_code(code: u8) -> Option<JobState> {
    Some(match code {
        1 => JobState::Pending,
        2 => JobState::Scheduled,
        3 => JobState::Active,
        4 => JobState::Retrying,
        5 => JobState::Held,
        6 => JobState::Completed,
        7 => JobState::Dead,
        8 => JobState::Cancelled,
        _ => return None,
    })
}

pub fn counts_key(queue: &str, state: JobState) -> Vec<u8> {
    let mut k = queue_prefix(queue);
    k.push(state_code(state));
    k
}

/// Splits a `Counts` key into (queue, state). `None` for a malformed key.
pub fn parse_counts_key(key: &[u8]) -> Option<(String, JobState)> {
    let (&code, rest) = key.split_last()?;
    let queue = rest.strip_suffix(&[0])?;
    let queue = String::from_utf8(queue.to_vec()).ok()?;
    Some((queue, state_from_code(code)?))
}

pub fn event_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // postcard cannot fail on these types (no maps with non-string keys, no unsized data).
    postcard::to_allocvec(value).unwrap_or_default()
}

/// A job record, in a buffer sized for it up front (a record is mostly its payload; growing
/// the buffer by doubling copied it several times).
pub fn encode_job(job: &Job) -> Vec<u8> {
    let size = job.payload.len() + job.id.len() + job.queue.len() + 256;
    postcard::to_extend(job, Vec::with_capacity(size)).unwrap_or_default()
}

/// A job's `Jobs` record: the job with an empty payload (the payload is in `Payloads`).
/// Encodes the fields in [`Job`]'s order without copying the payload; the exhaustive pattern
/// makes a new field a compile error here, and a test compares it with [`encode_job`].
pub fn encode_job_record(job: &Job) -> Vec<u8> {
    let Job {
        id,
        queue,
        state,
        payload: _,
        priority,
        attempt,
        max_attempts,
        backoff,
        tags,
        unique_key,
        seq,
        created_at_ms,
        scheduled_at_ms,
        started_at_ms,
        finished_at_ms,
        expire_at_ms,
        next_attempt_at_ms,
        lease,
        progress,
        checkpoint,
        result,
        last_error,
        ready_at_ms,
        trace_parent,
    } = job;
    // postcard writes a tuple as its fields one after another, as it writes a struct.
    let fields = (
        (
            id,
            queue,
            state,
            "",
            priority,
            attempt,
            max_attempts,
            backoff,
        ),
        (
            tags,
            unique_key,
            seq,
            created_at_ms,
            scheduled_at_ms,
            started_at_ms,
        ),
        (
            finished_at_ms,
            expire_at_ms,
            next_attempt_at_ms,
            lease,
            progress,
        ),
        (checkpoint, result, last_error, ready_at_ms, trace_parent),
    );
    let size = id.len() + queue.len() + 256;
    postcard::to_extend(&fields, Vec::with_capacity(size)).unwrap_or_default()
}

/// The record `Jobs` held for `key` before its payload moved to `Payloads`: what digests and
/// archives carry, the same on every node whatever its layout.
///
/// The payload is [`Job`]'s fourth field, after the id, the queue and the state: the record's
/// bytes before it and after it are kept as they are and the payload written between them,
/// without decoding the rest of the job (a snapshot does this for every job).
pub fn job_record_with_payload(
    key: &[u8],
    record: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        table: Table::Jobs,
        key: key.to_vec(),
        reason,
    };
    let (_, rest) = postcard::take_from_bytes::<(&str, &str, JobState)>(record)
        .map_err(|e| corrupt(e.to_string()))?;
    let head = record.len() - rest.len();
    let (held, tail) =
        postcard::take_from_bytes::<&str>(rest).map_err(|e| corrupt(e.to_string()))?;
    if !held.is_empty() {
        return Err(corrupt(
            "the record holds a payload and `payloads` has another".into(),
        ));
    }
    let payload = std::str::from_utf8(payload).map_err(|_| payload_not_utf8(key))?;
    let mut out = Vec::with_capacity(record.len() + payload.len() + 8);
    out.extend_from_slice(&record[..head]);
    let mut out = postcard::to_extend(payload, out).map_err(|e| corrupt(e.to_string()))?;
    out.extend_from_slice(tail);
    Ok(out)
}

/// A `Payloads` value: the job's payload, which must be UTF-8.
pub fn decode_payload(key: &[u8], bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|_| payload_not_utf8(key))
}

fn payload_not_utf8(key: &[u8]) -> StoreError {
    StoreError::Corrupt {
        table: Table::Payloads,
        key: key.to_vec(),
        reason: "the payload is not UTF-8".into(),
    }
}

pub fn decode<T: DeserializeOwned>(
    table: Table,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        table,
        key: key.to_vec(),
        reason: e.to_string(),
    })
}

pub fn decode_u64(table: Table, key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Corrupt {
        table,
        key: key.to_vec(),
        reason: format!("expected 8 bytes, got {}", bytes.len()),
    })?;
    Ok(u64::from_be_bytes(arr))
}

/// Convenience for the typed records.
pub fn decode_job(key: &[u8], bytes: &[u8]) -> Result<Job, StoreError> {
    decode(Table::Jobs, key, bytes)
}

pub fn decode_event(key: &[u8], bytes: &[u8]) -> Result<Event, StoreError> {
    decode(Table::Events, key, bytes)
}

pub fn decode_api_key(key: &[u8], bytes: &[u8]) -> Result<ApiKey, StoreError> {
    decode(Table::ApiKeys, key, bytes)
}

pub fn decode_queue(key: &[u8], bytes: &[u8]) -> Result<QueueConfig, StoreError> {
    decode(Table::Queues, key, bytes)
}

pub fn decode_operation(key: &[u8], bytes: &[u8]) -> Result<Operation, StoreError> {
    decode(Table::Operations, key, bytes)
}
