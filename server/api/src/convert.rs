//! proto ⇄ core. Every request field is validated here, before anything is proposed, and
//! errors name the field as the client spelled it.

use std::collections::BTreeMap;

use corvo_core::apply::idempotency::IDEMPOTENCY_KEY_BYTES_MAX;
use corvo_core::model::{Backoff, BackoffKind, EnqueueOptions, Job, JobState, Priority};
use corvo_core::{Ack, Command, Enqueue, EnqueueKeyed, Fail, HeartbeatItem, validate};
use corvo_sdk::proto as pb;
use prost_types::Timestamp;

use crate::error::ApiError;
use crate::options::ApiOptions;

/// Validates an enqueue and builds the command for job `id`: an enqueue request as a command: [`Command::EnqueueKeyed`] when it carries an idempotency
/// key, [`Command::Enqueue`] otherwise.
pub fn enqueue(
    opts: &ApiOptions,
    id: String,
    field_prefix: impl std::fmt::Display,
    queue: &str,
    payload_json: &str,
    options: Option<&pb::EnqueueOptions>,
) -> Result<Command, ApiError> {
    enqueue_command(opts, id, queue, payload_json, options)
        .map_err(|e| prefix_field(e, field_prefix))
}

/// [`enqueue`] with its fields named as in one message (the caller prefixes them on an error:
/// building every field's full name for every job cost allocations on the hot path).
fn enqueue_command(
    opts: &ApiOptions,
    id: String,
    queue: &str,
    payload_json: &str,
    options: Option<&pb::EnqueueOptions>,
) -> Result<Command, ApiError> {
    validate::queue_name("queue", queue)?;
    let payload = if payload_json.trim().is_empty() {
        "{}".to_owned()
    } else {
        payload_json.to_owned()
    };
    validate::json_document("payload_json", &payload, opts.payload_bytes_max)?;
    let mut parsed = match options {
        Some(o) => enqueue_options(o).map_err(|e| prefix_field(e, "options."))?,
        None => EnqueueOptions::default(),
    };
    parsed.trace_parent = crate::trace_context::current_traceparent();
    let cmd = Enqueue {
        id,
        queue: queue.to_owned(),
        payload,
        options: parsed,
    };
    validate::enqueue_structure(&cmd)?;
    let key = options.map_or("", |o| o.idempotency_key.as_str());
    if key.is_empty() {
        return Ok(Command::Enqueue(cmd));
    }
    validate::bounded_text("options.idempotency_key", key, IDEMPOTENCY_KEY_BYTES_MAX)?;
    Ok(Command::EnqueueKeyed(EnqueueKeyed {
        enqueue: cmd,
        key: key.to_owned(),
        window_ms: opts.idempotency_window_ms,
    }))
}

/// Names an invalid field by its place in the request (`enqueues[2].` + `options.priority`):
/// converters name fields within their own message, and only an error pays for the full name.
fn prefix_field(e: ApiError, prefix: impl std::fmt::Display) -> ApiError {
    match e {
        ApiError::InvalidArgument { field, reason } => ApiError::InvalidArgument {
            field: format!("{prefix}{field}"),
            reason,
        },
        other => other,
    }
}

/// Fields named as in `EnqueueOptions` (the caller prefixes them on an error).
fn enqueue_options(o: &pb::EnqueueOptions) -> Result<EnqueueOptions, ApiError> {
    let mut out = EnqueueOptions {
        priority: priority(o.priority, "priority")?,
        ..Default::default()
    };
    out.max_attempts = match o.max_attempts {
        0 => EnqueueOptions::MAX_ATTEMPTS_DEFAULT,
        n if n < 0 => {
            return Err(ApiError::invalid(
                "max_attempts",
                format!("must not be negative, got {n}"),
            ));
        }
        n => n as u32,
    };
    if let Some(b) = &o.backoff {
        out.backoff = backoff(b).map_err(|e| prefix_field(e, "backoff."))?;
    }
    if let Some(ts) = &o.scheduled_at {
        out.scheduled_at_ms = Some(timestamp_ms(ts, "scheduled_at")?);
    }
    out.expire_after_ms = non_negative_ms(o.expire_after_ms, "expire_after_ms")?;
    if !o.unique_key.is_empty() {
        out.unique_key = Some(o.unique_key.clone());
    }
    if let Some(ms) = non_negative_ms(o.unique_period_ms, "unique_period_ms")? {
        out.unique_period_ms = ms;
    }
    out.tags = o
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<BTreeMap<_, _>>();
    Ok(out)
}

/// Fields named as in `BackoffPolicy` (the caller prefixes them on an error).
fn backoff(b: &pb::BackoffPolicy) -> Result<Backoff, ApiError> {
    let kind = match pb::BackoffKind::try_from(b.kind) {
        Ok(pb::BackoffKind::Unspecified | pb::BackoffKind::Exponential) => BackoffKind::Exponential,
        Ok(pb::BackoffKind::None) => BackoffKind::None,
        Ok(pb::BackoffKind::Fixed) => BackoffKind::Fixed,
        Ok(pb::BackoffKind::Linear) => BackoffKind::Linear,
        Err(_) => {
            return Err(ApiError::invalid(
                "kind",
                format!("unknown BackoffKind value {}", b.kind),
            ));
        }
    };
    let base_ms = non_negative_ms(b.base_ms, "base_ms")?.unwrap_or(Backoff::BASE_MS_DEFAULT);
    let cap_ms =
        non_negative_ms(b.cap_ms, "cap_ms")?.unwrap_or(Backoff::CAP_MS_DEFAULT.max(base_ms));
    Ok(Backoff {
        kind,
        base_ms,
        cap_ms,
    })
}

/// 0 → `None` (not set); negative → error.
fn non_negative_ms(v: i64, field: &str) -> Result<Option<u64>, ApiError> {
    match v {
        0 => Ok(None),
        n if n < 0 => Err(ApiError::invalid(
            field,
            format!("must not be negative, got {n}"),
        )),
        n => Ok(Some(n as u64)),
    }
}

pub fn priority(v: i32, field: &str) -> Result<Priority, ApiError> {
    match pb::Priority::try_from(v) {
        Ok(pb::Priority::Unspecified | pb::Priority::Normal) => Ok(Priority::Normal),
        Ok(pb::Priority::Critical) => Ok(Priority::Critical),
        Ok(pb::Priority::High) => Ok(Priority::High),
        Ok(pb::Priority::Low) => Ok(Priority::Low),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("unknown Priority value {v}"),
        )),
    }
}

pub fn priority_to_proto(p: Priority) -> pb::Priority {
    match p {
        Priority::Critical => pb::Priority::Critical,
        Priority::High => pb::Priority::High,
        Priority::Normal => pb::Priority::Normal,
        Priority::Low => pb::Priority::Low,
    }
}

/// The latest time a request may name: 9999-12-31T23:59:59Z (RFC 3339's last year).
pub const TIMESTAMP_SECONDS_MAX: i64 = 253_402_300_799;

/// A time from the wire as Unix ms: from 1970 to the end of year 9999.
pub fn timestamp_ms(ts: &Timestamp, field: &str) -> Result<u64, ApiError> {
    if ts.seconds < 0
        || ts.seconds > TIMESTAMP_SECONDS_MAX
        || !(0..1_000_000_000).contains(&ts.nanos)
    {
        return Err(ApiError::invalid(
            field,
            "must be a valid time from 1970 to the year 9999",
        ));
    }
    Ok(ts.seconds.unsigned_abs() * 1_000 + u64::from(ts.nanos.unsigned_abs()) / 1_000_000)
}

pub fn ms_to_timestamp(ms: u64) -> Timestamp {
    Timestamp {
        seconds: (ms / 1_000) as i64,
        nanos: ((ms % 1_000) * 1_000_000) as i32,
    }
}

/// Lease length from the wire's seconds (0 → default).
pub fn lease_ms(opts: &ApiOptions, lease_duration_s: i32, field: &str) -> Result<u64, ApiError> {
    match lease_duration_s {
        0 => Ok(opts.lease_ms_default),
        n if n < 0 => Err(ApiError::invalid(
            field,
            format!("must not be negative, got {n}"),
        )),
        n => {
            let ms = u64::from(n.unsigned_abs()) * 1_000;
            if ms > opts.lease_ms_max {
                return Err(ApiError::invalid(
                    field,
                    format!(
                        "{n} s is longer than the {} s maximum",
                        opts.lease_ms_max / 1_000
                    ),
                ));
            }
            Ok(ms)
        }
    }
}

/// Jobs per fetch (0 → 1; above the maximum → the maximum, as old clients had no cap).
pub fn fetch_count(opts: &ApiOptions, count: i32, field: &str) -> Result<u32, ApiError> {
    match count {
        n if n < 0 => Err(ApiError::invalid(
            field,
            format!("must not be negative, got {n}"),
        )),
        0 => Ok(1),
        n => Ok(n.unsigned_abs().min(opts.fetch_count_max)),
    }
}

/// How long a unary fetch waits (unset → default; above the maximum → the maximum).
pub fn wait_ms(opts: &ApiOptions, max_wait_ms: Option<i32>, field: &str) -> Result<u64, ApiError> {
    match max_wait_ms {
        None => Ok(opts.fetch_wait_ms_default),
        Some(n) if n < 0 => Err(ApiError::invalid(
            field,
            format!("must not be negative, got {n}"),
        )),
        Some(n) => Ok(u64::from(n.unsigned_abs()).min(opts.fetch_wait_ms_max)),
    }
}

/// Most queues one fetch (or stream) may name, after duplicates are dropped: each is looked
/// up in the ready index on every lease.
pub const FETCH_QUEUES_MAX: usize = 256;

/// The queues of a fetch: valid names, duplicates dropped (first occurrence kept), at most
/// [`FETCH_QUEUES_MAX`].
pub fn queues(list: &[String], field: &str) -> Result<Vec<String>, ApiError> {
    if list.is_empty() {
        return Err(ApiError::invalid(field, "name at least one queue"));
    }
    let mut unique: Vec<String> = Vec::with_capacity(list.len().min(FETCH_QUEUES_MAX));
    for q in list {
        if unique.contains(q) {
            continue;
        }
        if unique.len() == FETCH_QUEUES_MAX {
            return Err(ApiError::invalid(
                field,
                format!("names more than {FETCH_QUEUES_MAX} distinct queues"),
            ));
        }
        validate::queue_name(field, q)?;
        unique.push(q.clone());
    }
    Ok(unique)
}

pub fn worker_text(text: &str, field: &str) -> Result<String, ApiError> {
    validate::bounded_text(field, text, validate::WORKER_ID_BYTES_MAX)?;
    Ok(text.to_owned())
}

pub fn job_id(id: &str, field: &str) -> Result<String, ApiError> {
    if id.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    validate::bounded_text(field, id, validate::KEY_BYTES_MAX)?;
    Ok(id.to_owned())
}

/// 0 means "no token" (clients of the original protocol).
pub fn token(t: u64) -> Option<u64> {
    (t != 0).then_some(t)
}

/// The lease token of an ack, fail or heartbeat (0: none, as the original contract sends),
/// refused when the server requires tokens.
fn lease_token(opts: &ApiOptions, t: u64, field: &str) -> Result<Option<u64>, ApiError> {
    match token(t) {
        None if opts.require_lease_tokens => Err(ApiError::invalid(
            field,
            "required: this server runs with --require-lease-tokens (send the token the job was leased with)",
        )),
        t => Ok(t),
    }
}

fn optional_json(
    opts: &ApiOptions,
    text: &str,
    field: &str,
    object: bool,
) -> Result<Option<String>, ApiError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    if object {
        validate::json_object(field, text, opts.payload_bytes_max)?;
    } else {
        validate::json_document(field, text, opts.payload_bytes_max)?;
    }
    Ok(Some(text.to_owned()))
}

pub fn ack(
    opts: &ApiOptions,
    job_id_: &str,
    result_json: &str,
    lease_token: u64,
    p: impl std::fmt::Display,
) -> Result<Ack, ApiError> {
    let ack = || {
        Ok(Ack {
            job_id: job_id(job_id_, "job_id")?,
            lease_token: self::lease_token(opts, lease_token, "lease_token")?,
            result: optional_json(opts, result_json, "result_json", false)?,
        })
    };
    ack().map_err(|e| prefix_field(e, p))
}

pub fn fail(
    opts: &ApiOptions,
    job_id_: &str,
    error: &str,
    backtrace: &str,
    lease_token: u64,
    p: impl std::fmt::Display,
) -> Result<Fail, ApiError> {
    let fail = || {
        validate::bounded_text("error", error, opts.error_bytes_max)?;
        validate::bounded_text("backtrace", backtrace, opts.error_bytes_max)?;
        Ok(Fail {
            job_id: job_id(job_id_, "job_id")?,
            lease_token: self::lease_token(opts, lease_token, "lease_token")?,
            error: if error.is_empty() {
                "failed".to_owned()
            } else {
                error.to_owned()
            },
            backtrace: (!backtrace.is_empty()).then(|| backtrace.to_owned()),
        })
    };
    fail().map_err(|e| prefix_field(e, p))
}

pub fn heartbeat_item(
    opts: &ApiOptions,
    job_id_: &str,
    progress_json: &str,
    checkpoint_json: &str,
    lease_token: u64,
    p: impl std::fmt::Display,
) -> Result<HeartbeatItem, ApiError> {
    let item = || {
        Ok(HeartbeatItem {
            job_id: job_id(job_id_, "job_id")?,
            lease_token: self::lease_token(opts, lease_token, "lease_token")?,
            progress: optional_json(opts, progress_json, "progress_json", true)?,
            checkpoint: optional_json(opts, checkpoint_json, "checkpoint_json", true)?,
        })
    };
    item().map_err(|e| prefix_field(e, p))
}

/// The longest text a ListJobs substring filter may have.
pub const SEARCH_TEXT_BYTES_MAX: usize = 1024;
/// At most this many tag filters in one ListJobs call.
pub const SEARCH_TAGS_MAX: usize = 16;

/// A ListJobs request as a read-view query; every field checked.
pub fn list_query(req: &pb::ListJobsRequest) -> Result<corvo_view::JobQuery, ApiError> {
    let states = match pb::JobState::try_from(req.state) {
        Ok(pb::JobState::Unspecified) => Vec::new(),
        Ok(s) => vec![state_from_proto(s)],
        Err(_) => {
            return Err(ApiError::invalid(
                "state",
                format!("unknown JobState value {}", req.state),
            ));
        }
    };
    let priority = match req.priority {
        0 => None,
        p => Some(priority(p, "priority")?),
    };
    let text = |value: &str, field: &str| -> Result<Option<String>, ApiError> {
        if value.len() > SEARCH_TEXT_BYTES_MAX {
            return Err(ApiError::invalid(
                field,
                format!("at most {SEARCH_TEXT_BYTES_MAX} bytes"),
            ));
        }
        Ok((!value.is_empty()).then(|| value.to_owned()))
    };
    if req.tags.len() > SEARCH_TAGS_MAX {
        return Err(ApiError::invalid(
            "tags",
            format!("at most {SEARCH_TAGS_MAX} tag filters"),
        ));
    }
    for (k, v) in &req.tags {
        validate::bounded_text("tags", k, validate::KEY_BYTES_MAX)?;
        validate::bounded_text("tags", v, validate::TAG_VALUE_BYTES_MAX)?;
    }
    let limit = usize::try_from(req.page_size)
        .map_err(|_| ApiError::invalid("page_size", "must not be negative"))?;
    if limit > corvo_view::PAGE_SIZE_MAX {
        return Err(ApiError::invalid(
            "page_size",
            format!("at most {}", corvo_view::PAGE_SIZE_MAX),
        ));
    }
    let after = match req.page_token.as_str() {
        "" => None,
        token => Some(
            corvo_view::Cursor::parse(token)
                .map_err(|_| ApiError::invalid("page_token", "not a token this server issued"))?,
        ),
    };
    Ok(corvo_view::JobQuery {
        queue: text(&req.queue, "queue")?,
        states,
        priority,
        tags: req
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        payload_contains: text(&req.payload_contains, "payload_contains")?,
        error_contains: text(&req.error_contains, "error_contains")?,
        created_from_ms: req
            .created_after
            .as_ref()
            .map(|t| timestamp_ms(t, "created_after"))
            .transpose()?,
        created_before_ms: req
            .created_before
            .as_ref()
            .map(|t| timestamp_ms(t, "created_before"))
            .transpose()?,
        limit,
        after,
    })
}

/// A bulk action's filter, every field checked like ListJobs'.
pub fn job_filter(f: &pb::JobFilter) -> Result<corvo_core::queues::JobFilter, ApiError> {
    let text = |value: &str, field: &str| -> Result<Option<String>, ApiError> {
        validate::bounded_text(field, value, SEARCH_TEXT_BYTES_MAX)?;
        Ok((!value.is_empty()).then(|| value.to_owned()))
    };
    if !f.queue.is_empty() {
        validate::queue_name("filter.queue", &f.queue)?;
    }
    let states = f
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| match pb::JobState::try_from(*s) {
            Ok(pb::JobState::Unspecified) | Err(_) => Err(ApiError::invalid(
                &format!("filter.states[{i}]"),
                format!("unknown JobState value {s}"),
            )),
            Ok(s) => Ok(state_from_proto(s)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if f.tags.len() > SEARCH_TAGS_MAX {
        return Err(ApiError::invalid(
            "filter.tags",
            format!("at most {SEARCH_TAGS_MAX} tag filters"),
        ));
    }
    for (k, v) in &f.tags {
        validate::bounded_text("filter.tags", k, validate::KEY_BYTES_MAX)?;
        validate::bounded_text("filter.tags", v, validate::TAG_VALUE_BYTES_MAX)?;
    }
    Ok(corvo_core::queues::JobFilter {
        queue: (!f.queue.is_empty()).then(|| f.queue.clone()),
        states,
        priority: match f.priority {
            0 => None,
            p => Some(priority(p, "filter.priority")?),
        },
        tags: f.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        payload_contains: text(&f.payload_contains, "filter.payload_contains")?,
        error_contains: text(&f.error_contains, "filter.error_contains")?,
        created_from_ms: f
            .created_after
            .as_ref()
            .map(|t| timestamp_ms(t, "filter.created_after"))
            .transpose()?,
        created_before_ms: f
            .created_before
            .as_ref()
            .map(|t| timestamp_ms(t, "filter.created_before"))
            .transpose()?,
    })
}

/// The action of a BulkJobs call, with its argument.
pub fn bulk_action(req: &pb::BulkJobsRequest) -> Result<corvo_core::queues::BulkAction, ApiError> {
    use corvo_core::queues::BulkAction;
    Ok(match pb::BulkAction::try_from(req.action) {
        Ok(pb::BulkAction::Retry) => BulkAction::Retry,
        Ok(pb::BulkAction::Cancel) => BulkAction::Cancel,
        Ok(pb::BulkAction::Delete) => BulkAction::Delete,
        Ok(pb::BulkAction::Move) => {
            validate::queue_name("target_queue", &req.target_queue)?;
            BulkAction::Move {
                queue: req.target_queue.clone(),
            }
        }
        Ok(pb::BulkAction::SetPriority) => {
            if req.priority == 0 {
                return Err(ApiError::invalid(
                    "priority",
                    "required for BULK_ACTION_SET_PRIORITY",
                ));
            }
            BulkAction::SetPriority(priority(req.priority, "priority")?)
        }
        Ok(pb::BulkAction::Unspecified) => {
            return Err(ApiError::invalid(
                "action",
                "required: retry, cancel, delete, move or set_priority",
            ));
        }
        Err(_) => {
            return Err(ApiError::invalid(
                "action",
                format!("unknown BulkAction value {}", req.action),
            ));
        }
    })
}

pub fn operation_to_proto(op: &corvo_core::queues::Operation) -> pb::Operation {
    use corvo_core::queues::OperationState;
    pb::Operation {
        id: op.id.clone(),
        action: op.action.as_str().to_owned(),
        state: match op.state {
            OperationState::Running => pb::OperationState::Running,
            OperationState::Done => pb::OperationState::Done,
            OperationState::Failed => pb::OperationState::Failed,
        }
        .into(),
        examined: op.examined,
        succeeded: op.succeeded,
        created_at: Some(ms_to_timestamp(op.created_at_ms)),
        updated_at: Some(ms_to_timestamp(op.updated_at_ms)),
        error: op.error.clone().unwrap_or_default(),
        queue: op.filter.queue.clone().unwrap_or_default(),
    }
}

fn state_from_proto(s: pb::JobState) -> JobState {
    match s {
        pb::JobState::Unspecified | pb::JobState::Pending => JobState::Pending,
        pb::JobState::Scheduled => JobState::Scheduled,
        pb::JobState::Active => JobState::Active,
        pb::JobState::Retrying => JobState::Retrying,
        pb::JobState::Held => JobState::Held,
        pb::JobState::Completed => JobState::Completed,
        pb::JobState::Dead => JobState::Dead,
        pb::JobState::Cancelled => JobState::Cancelled,
    }
}

pub fn state_to_proto(s: JobState) -> pb::JobState {
    match s {
        JobState::Pending => pb::JobState::Pending,
        JobState::Scheduled => pb::JobState::Scheduled,
        JobState::Active => pb::JobState::Active,
        JobState::Retrying => pb::JobState::Retrying,
        JobState::Held => pb::JobState::Held,
        JobState::Completed => pb::JobState::Completed,
        JobState::Dead => pb::JobState::Dead,
        JobState::Cancelled => pb::JobState::Cancelled,
    }
}

fn tags_json(job: &Job) -> String {
    if job.tags.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&job.tags).unwrap_or_default()
    }
}

fn clamp_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub fn leased_job(job: &Job) -> pb::FetchBatchJob {
    let lease = job.lease.as_ref();
    pb::FetchBatchJob {
        job_id: job.id.clone(),
        queue: job.queue.clone(),
        payload_json: job.payload.clone(),
        attempt: clamp_i32(job.attempt.into()),
        max_retries: clamp_i32(job.max_attempts.into()),
        lease_duration: clamp_i32(lease.map_or(0, |l| l.duration_ms / 1_000)),
        checkpoint_json: job.checkpoint.clone().unwrap_or_default(),
        tags_json: tags_json(job),
        agent: None,
        lease_token: lease.map_or(0, |l| l.token),
        lease_deadline_ms: lease.map_or(0, |l| l.deadline_ms as i64),
        priority: priority_to_proto(job.priority).into(),
        trace_parent: job.trace_parent.clone().unwrap_or_default(),
    }
}

pub fn fetch_response(job: Option<&Job>) -> pb::FetchResponse {
    let Some(job) = job else {
        return pb::FetchResponse::default();
    };
    let j = leased_job(job);
    pb::FetchResponse {
        found: true,
        job_id: j.job_id,
        queue: j.queue,
        payload_json: j.payload_json,
        attempt: j.attempt,
        max_retries: j.max_retries,
        lease_duration: j.lease_duration,
        checkpoint_json: j.checkpoint_json,
        tags_json: j.tags_json,
        agent: None,
        lease_token: j.lease_token,
        lease_deadline_ms: j.lease_deadline_ms,
        priority: j.priority,
        trace_parent: j.trace_parent,
    }
}

pub fn job_to_proto(job: &Job) -> pb::Job {
    let lease = job.lease.as_ref();
    pb::Job {
        id: job.id.clone(),
        queue: job.queue.clone(),
        state: state_to_proto(job.state).into(),
        payload_json: job.payload.clone(),
        priority: priority_to_proto(job.priority).into(),
        attempt: clamp_i32(job.attempt.into()),
        max_attempts: clamp_i32(job.max_attempts.into()),
        backoff: Some(pb::BackoffPolicy {
            kind: match job.backoff.kind {
                BackoffKind::None => pb::BackoffKind::None,
                BackoffKind::Fixed => pb::BackoffKind::Fixed,
                BackoffKind::Linear => pb::BackoffKind::Linear,
                BackoffKind::Exponential => pb::BackoffKind::Exponential,
            }
            .into(),
            base_ms: job.backoff.base_ms as i64,
            cap_ms: job.backoff.cap_ms as i64,
        }),
        tags: job
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        unique_key: job.unique_key.clone().unwrap_or_default(),
        created_at: Some(ms_to_timestamp(job.created_at_ms)),
        scheduled_at: job
            .scheduled_at_ms
            .or(job.next_attempt_at_ms)
            .map(ms_to_timestamp),
        started_at: job.started_at_ms.map(ms_to_timestamp),
        finished_at: job.finished_at_ms.map(ms_to_timestamp),
        expire_at: job.expire_at_ms.map(ms_to_timestamp),
        worker_id: lease.map(|l| l.worker_id.clone()).unwrap_or_default(),
        lease_token: lease.map_or(0, |l| l.token),
        lease_deadline: lease.map(|l| ms_to_timestamp(l.deadline_ms)),
        progress_json: job.progress.clone().unwrap_or_default(),
        checkpoint_json: job.checkpoint.clone().unwrap_or_default(),
        result_json: job.result.clone().unwrap_or_default(),
        last_error: job.last_error.clone().unwrap_or_default(),
        trace_parent: job.trace_parent.clone().unwrap_or_default(),
    }
}

/// A per-item result for batch answers.
pub fn item_ok(job_id: &str, state: Option<JobState>) -> pb::ItemResult {
    pb::ItemResult {
        job_id: job_id.to_owned(),
        code: pb::ErrorCode::Unspecified.into(),
        message: String::new(),
        state: state
            .map_or(pb::JobState::Unspecified, state_to_proto)
            .into(),
    }
}

/// A refused item (counted as a rejection).
pub fn item_err(job_id: &str, e: &ApiError) -> pb::ItemResult {
    pb::ItemResult {
        job_id: job_id.to_owned(),
        code: e.reject().into(),
        message: e.to_string(),
        state: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ApiOptions {
        ApiOptions::default()
    }

    #[test]
    fn enqueue_fields_are_validated_by_name() {
        let o = opts();
        let e = enqueue(&o, "id".into(), "", "", "{}", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("queue"), "{e}");
        let e = enqueue(&o, "id".into(), "", "q", "{x", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("payload_json"), "{e}");
        let big = format!("\"{}\"", "a".repeat(o.payload_bytes_max));
        let e = enqueue(&o, "id".into(), "", "q", &big, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("payload_json") && e.contains("at most"), "{e}");
        let bad = pb::EnqueueOptions {
            priority: 42,
            ..Default::default()
        };
        let e = enqueue(&o, "id".into(), "", "q", "{}", Some(&bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains("options.priority"), "{e}");
        let bad = pb::EnqueueOptions {
            max_attempts: -1,
            ..Default::default()
        };
        let e = enqueue(&o, "id".into(), "enqueues[2].", "q", "{}", Some(&bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains("enqueues[2].options.max_attempts"), "{e}");
        let ok = enqueue(&o, "id".into(), "", "q", "", None).unwrap();
        assert_eq!(ok.enqueue().unwrap().payload, "{}");
        assert!(matches!(ok, Command::Enqueue(_)), "no key: a plain enqueue");
        let with_key = pb::EnqueueOptions {
            idempotency_key: "k".into(),
            ..Default::default()
        };
        let keyed = enqueue(&o, "id".into(), "", "q", "", Some(&with_key)).unwrap();
        assert!(
            matches!(&keyed, Command::EnqueueKeyed(k) if k.key == "k" && k.window_ms == o.idempotency_window_ms),
            "{keyed:?}"
        );
        let long = pb::EnqueueOptions {
            idempotency_key: "k".repeat(256),
            ..Default::default()
        };
        let e = enqueue(&o, "id".into(), "enqueues[1].", "q", "", Some(&long))
            .unwrap_err()
            .to_string();
        assert!(e.contains("enqueues[1].options.idempotency_key"), "{e}");
    }

    /// Converters name fields within their own message; an error names the field by its place
    /// in the request, and a call without a prefix names it alone.
    #[test]
    fn an_invalid_field_is_named_by_its_place_in_the_request() {
        let o = opts();
        let field = |e: ApiError| match e {
            ApiError::InvalidArgument { field, .. } => field,
            other => panic!("not an invalid argument: {other:?}"),
        };
        let backoff = pb::EnqueueOptions {
            backoff: Some(pb::BackoffPolicy {
                base_ms: -5,
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = enqueue(&o, "id".into(), "enqueues[4].", "q", "{}", Some(&backoff)).unwrap_err();
        assert_eq!(field(e), "enqueues[4].options.backoff.base_ms");
        let e = enqueue(&o, "id".into(), "", "q", "{}", Some(&backoff)).unwrap_err();
        assert_eq!(field(e), "options.backoff.base_ms");
        let e = enqueue(&o, "id".into(), "enqueues[0].", "", "{}", None).unwrap_err();
        assert_eq!(field(e), "enqueues[0].queue");
        assert_eq!(
            field(ack(&o, "", "", 1, "acks[3].").unwrap_err()),
            "acks[3].job_id"
        );
        assert_eq!(field(ack(&o, "j", "{", 1, "").unwrap_err()), "result_json");
        let long = "e".repeat(o.error_bytes_max + 1);
        let e = fail(&o, "j", &long, "", 1, "fails[1].").unwrap_err();
        assert_eq!(field(e), "fails[1].error");
        let e = heartbeat_item(&o, "j", "[1]", "", 1, "heartbeats[2].").unwrap_err();
        assert_eq!(field(e), "heartbeats[2].progress_json");
        assert!(ack(&o, "j", "", 1, "acks[0].").is_ok());
    }

    #[test]
    fn counts_and_durations() {
        let o = opts();
        assert_eq!(fetch_count(&o, 0, "count").unwrap(), 1);
        assert_eq!(
            fetch_count(&o, 1_000_000, "count").unwrap(),
            o.fetch_count_max
        );
        assert!(
            fetch_count(&o, -1, "count")
                .unwrap_err()
                .to_string()
                .contains("count")
        );
        assert_eq!(lease_ms(&o, 0, "lease_duration").unwrap(), 60_000);
        assert!(lease_ms(&o, -5, "lease_duration").is_err());
        assert!(lease_ms(&o, 99_999, "lease_duration").is_err());
        assert_eq!(wait_ms(&o, None, "max_wait_ms").unwrap(), 30_000);
        assert!(wait_ms(&o, Some(-1), "max_wait_ms").is_err());
    }

    #[test]
    fn fetch_queues_are_deduplicated_and_bounded() {
        let named = |n: usize| (0..n).map(|i| format!("q{i}")).collect::<Vec<_>>();
        let mut list = named(256);
        list.extend(named(256));
        assert_eq!(queues(&list, "queues").unwrap(), named(256));
        let e = queues(&named(257), "queues").unwrap_err().to_string();
        assert!(e.contains("more than 256"), "{e}");
        assert!(queues(&[], "queues").is_err());
    }

    #[test]
    fn times_are_bounded_to_the_year_9999() {
        let at = |seconds, nanos| Timestamp { seconds, nanos };
        assert_eq!(timestamp_ms(&at(1, 5_000_000), "t").unwrap(), 1_005);
        assert!(timestamp_ms(&at(i64::MAX, 0), "t").is_err());
        assert!(timestamp_ms(&at(-1, 0), "t").is_err());
        assert!(timestamp_ms(&at(0, 1_000_000_000), "t").is_err());
        assert!(timestamp_ms(&at(TIMESTAMP_SECONDS_MAX, 999_999_999), "t").is_ok());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                "[a-z.]{1,8}",
                "\\PC{0,40}",
                "[{}\\[\\]\",:0-9a-z ]{0,40}",
                Just("q".repeat(300)),
            ]
        }

        fn timestamp() -> impl Strategy<Value = Option<Timestamp>> {
            proptest::option::of(
                (any::<i64>(), any::<i32>())
                    .prop_map(|(seconds, nanos)| Timestamp { seconds, nanos }),
            )
        }

        fn options() -> impl Strategy<Value = Option<pb::EnqueueOptions>> {
            proptest::option::of(
                (
                    any::<i32>(),
                    any::<i32>(),
                    proptest::option::of((any::<i32>(), any::<i64>(), any::<i64>())),
                    timestamp(),
                    any::<i64>(),
                    text(),
                    any::<i64>(),
                    proptest::collection::hash_map(text(), text(), 0..4),
                )
                    .prop_map(
                        |(
                            priority,
                            max_attempts,
                            backoff,
                            scheduled_at,
                            expire,
                            unique,
                            period,
                            tags,
                        )| {
                            pb::EnqueueOptions {
                                priority,
                                max_attempts,
                                backoff: backoff.map(|(kind, base_ms, cap_ms)| pb::BackoffPolicy {
                                    kind,
                                    base_ms,
                                    cap_ms,
                                }),
                                scheduled_at,
                                expire_after_ms: expire,
                                idempotency_key: unique.clone(),
                                unique_key: unique,
                                unique_period_ms: period,
                                tags,
                            }
                        },
                    ),
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any enqueue is refused with a field named, or becomes a command every replica
            /// accepts: structurally valid, with a JSON payload within the limit.
            #[test]
            fn an_enqueue_is_refused_by_field_or_valid(
                queue in text(),
                payload in text(),
                options in options(),
            ) {
                let opts = ApiOptions { payload_bytes_max: 64, ..ApiOptions::default() };
                match enqueue(&opts, "id".into(), "p.", &queue, &payload, options.as_ref()) {
                    Ok(cmd) => {
                        let e = cmd.enqueue().expect("an enqueue");
                        prop_assert!(validate::enqueue_structure(e).is_ok());
                        prop_assert!(validate::json_document("p", &e.payload, 64).is_ok());
                        if let Command::EnqueueKeyed(k) = &cmd {
                            prop_assert!(!k.key.is_empty() && k.key.len() <= IDEMPOTENCY_KEY_BYTES_MAX);
                        }
                    }
                    Err(ApiError::InvalidArgument { field, .. }) => {
                        prop_assert!(field.starts_with("p."), "{}", field);
                    }
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
            }

            #[test]
            fn fetch_and_settle_fields_are_refused_or_bounded(
                list in proptest::collection::vec(text(), 0..300),
                count in any::<i32>(),
                lease in any::<i32>(),
                wait in proptest::option::of(any::<i32>()),
                id in text(),
                body in text(),
                token in any::<u64>(),
            ) {
                let o = ApiOptions::default();
                if let Ok(qs) = queues(&list, "queues") {
                    prop_assert!(!qs.is_empty() && qs.len() <= FETCH_QUEUES_MAX);
                    let unique: std::collections::HashSet<_> = qs.iter().collect();
                    prop_assert_eq!(unique.len(), qs.len());
                }
                if let Ok(n) = fetch_count(&o, count, "count") {
                    prop_assert!((1..=o.fetch_count_max).contains(&n));
                }
                if let Ok(ms) = lease_ms(&o, lease, "lease_duration") {
                    prop_assert!(ms <= o.lease_ms_max);
                }
                if let Ok(ms) = wait_ms(&o, wait, "max_wait_ms") {
                    prop_assert!(ms <= o.fetch_wait_ms_max);
                }
                let _ = ack(&o, &id, &body, token, "a.");
                let _ = fail(&o, &id, &body, &body, token, "f.");
                let _ = heartbeat_item(&o, &id, &body, &body, token, "h.");
            }

            #[test]
            fn a_list_query_is_refused_by_field_or_bounded(
                queue in text(),
                state in any::<i32>(),
                priority in any::<i32>(),
                tags in proptest::collection::hash_map(text(), text(), 0..20),
                contains in text(),
                after in timestamp(),
                page_size in any::<i32>(),
                token in text(),
            ) {
                let req = pb::ListJobsRequest {
                    queue,
                    state,
                    priority,
                    tags,
                    payload_contains: contains.clone(),
                    error_contains: contains,
                    created_after: after,
                    created_before: None,
                    page_size,
                    page_token: token,
                    consistent: false,
                };
                if let Ok(q) = list_query(&req) {
                    prop_assert!(q.limit <= corvo_view::PAGE_SIZE_MAX);
                    prop_assert!(q.tags.len() <= SEARCH_TAGS_MAX);
                }
            }
        }
    }
}
