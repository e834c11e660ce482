//! The one place where errors become gRPC statuses (and stream error codes), and so the one
//! place that counts rejections by reason (`corvo_rejections_total`).

use std::sync::atomic::{AtomicU64, Ordering};

use corvo_core::{JobError, StoreError};
use corvo_raft::{MembershipError, ProposeError};
use corvo_sdk::proto::ErrorCode;
use tonic::{Code, Status};

/// Every error a client can see. Each variant has a stable code (see `docs/errors/`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    #[error("job {job_id} not found")]
    NotFound { job_id: String },
    /// Something other than a job does not exist (an API key, a cluster member).
    #[error("{what} not found")]
    Missing { what: String },
    #[error("lease token for job {job_id} is stale: the job was reassigned or settled")]
    StaleLease { job_id: String },
    #[error("job {job_id} is {state}, cannot {op}")]
    InvalidState {
        job_id: String,
        state: String,
        op: String,
    },
    /// The operation does not fit the current state of something other than a job (a revoked
    /// key, a membership change that conflicts, a node without a cluster secret).
    #[error("{reason}")]
    FailedPrecondition { reason: String },
    #[error("not the leader (leader: {})", leader_addr.as_deref().unwrap_or("unknown"))]
    NotLeader { leader_addr: Option<String> },
    /// The proposer's bounded queue is full (apply backlog).
    #[error("server overloaded, retry in {retry_after_ms} ms")]
    Overloaded { retry_after_ms: u64 },
    /// Too many calls in flight on this node: the call was shed before any work.
    #[error("server busy: {what}; retry in {retry_after_ms} ms")]
    Shed { what: String, retry_after_ms: u64 },
    /// The caller's key (or address) is over its request rate.
    #[error(
        "rate limit of {rps} requests per second exceeded for {who}; retry in {retry_after_ms} ms"
    )]
    RateLimited {
        who: String,
        rps: u32,
        retry_after_ms: u64,
    },
    /// A stream limit of this node is reached; streams already open are unharmed.
    #[error(
        "too many open {kind} streams on this node (at most {max}); retry in {retry_after_ms} ms"
    )]
    TooManyStreams {
        kind: &'static str,
        max: usize,
        retry_after_ms: u64,
    },
    #[error("unavailable: {reason}")]
    Unavailable { reason: String, retry_after_ms: u64 },
    /// A write that may or may not have been applied (leadership changed, or no majority
    /// answered in time). UNKNOWN, which retry policies leave alone: a blind retry could apply
    /// it twice. A call whose writes are all safe to repeat (enqueues with idempotency keys,
    /// settles with lease tokens) gets UNAVAILABLE instead ([`ApiError::retry_safe`]).
    #[error("outcome unknown: {reason}; retry only with an idempotency key, or check first")]
    OutcomeUnknown { reason: String },
    /// A follower could not forward a call to the leader: none is known, or it cannot be
    /// reached from this node (see `forward.rs`).
    #[error("cannot reach the leader: {reason}")]
    LeaderUnreachable {
        leader_addr: Option<String>,
        reason: String,
    },
    #[error("deadline exceeded: {reason}")]
    DeadlineExceeded { reason: String },
    /// No valid credential: missing, malformed, unknown, expired or revoked.
    #[error("unauthenticated: {reason}")]
    Unauthenticated { reason: String },
    /// The credential is valid, but its role or queue scopes do not allow the call.
    #[error("permission denied: {reason}")]
    PermissionDenied { reason: String },
    #[error("internal error: {0}")]
    Internal(String),
    /// Another member's answer to a call this node passed on (a forwarded join), unchanged:
    /// it went through that member's error mapping and was counted there.
    #[error("{}", .0.message())]
    Relayed(Box<Status>),
}

/// Retry hint when no leader is known yet (an election takes about this long).
pub const NOT_LEADER_RETRY_MS: u64 = 500;

/// Why a call, frame or item was refused: the `reason` label of `corvo_rejections_total`.
/// Finer than [`ErrorCode`]: every limit has its own reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    InvalidArgument,
    NotFound,
    StaleLease,
    InvalidState,
    Overloaded,
    NotLeader,
    Unavailable,
    Internal,
    Unauthenticated,
    PermissionDenied,
    RateLimited,
    StreamLimit,
    Shed,
    DeadlineExceeded,
    OutcomeUnknown,
}

impl Reason {
    pub const ALL: [Reason; 15] = [
        Reason::InvalidArgument,
        Reason::NotFound,
        Reason::StaleLease,
        Reason::InvalidState,
        Reason::Overloaded,
        Reason::NotLeader,
        Reason::Unavailable,
        Reason::Internal,
        Reason::Unauthenticated,
        Reason::PermissionDenied,
        Reason::RateLimited,
        Reason::StreamLimit,
        Reason::Shed,
        Reason::DeadlineExceeded,
        Reason::OutcomeUnknown,
    ];

    /// The metric label value (see `docs/monitoring.md` and `docs/errors/`).
    pub fn name(self) -> &'static str {
        match self {
            Reason::InvalidArgument => "invalid_argument",
            Reason::NotFound => "not_found",
            Reason::StaleLease => "stale_lease",
            Reason::InvalidState => "invalid_state",
            Reason::Overloaded => "overloaded",
            Reason::NotLeader => "not_leader",
            Reason::Unavailable => "unavailable",
            Reason::Internal => "internal",
            Reason::Unauthenticated => "unauthenticated",
            Reason::PermissionDenied => "permission_denied",
            Reason::RateLimited => "rate_limited",
            Reason::StreamLimit => "stream_limit",
            Reason::Shed => "shed",
            Reason::DeadlineExceeded => "deadline_exceeded",
            Reason::OutcomeUnknown => "outcome_unknown",
        }
    }
}

/// Rejections since the process started, by reason. Process-wide because the conversion into
/// `Status` (a `From` impl) has no handle to carry; read by the metrics module at scrape.
static REJECTIONS: [AtomicU64; Reason::ALL.len()] =
    [const { AtomicU64::new(0) }; Reason::ALL.len()];

/// (reason, rejections so far) for every reason.
pub fn rejections() -> [(Reason, u64); Reason::ALL.len()] {
    std::array::from_fn(|i| (Reason::ALL[i], REJECTIONS[i].load(Ordering::Relaxed)))
}

/// The lower-case name of a code, as in `docs/errors/` (`stale_lease`).
pub fn code_name(code: ErrorCode) -> String {
    code.as_str_name()
        .trim_start_matches("ERROR_CODE_")
        .to_ascii_lowercase()
}

impl ApiError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ApiError::InvalidArgument {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// A reply of the wrong kind for `op`: a broken contract between this crate and the
    /// state machine, reported as INTERNAL rather than a panic.
    pub fn unexpected(op: &str, reply: &corvo_core::Reply) -> Self {
        ApiError::Internal(format!("unexpected reply to {op}: {reply:?}"))
    }

    /// The same error for a call whose writes are all safe to retry (enqueues with
    /// idempotency keys, settles with lease tokens): an unknown outcome becomes UNAVAILABLE
    /// with a retry hint.
    pub fn retry_safe(self) -> Self {
        match self {
            ApiError::OutcomeUnknown { reason } => ApiError::Unavailable {
                reason: format!(
                    "{reason}; its outcome is unknown, and retrying it as it was (same \
                     idempotency keys, same lease tokens) is safe"
                ),
                retry_after_ms: NOT_LEADER_RETRY_MS,
            },
            other => other,
        }
    }

    /// The structured code used on stream frames and per-item results.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            ApiError::NotFound { .. } | ApiError::Missing { .. } => ErrorCode::NotFound,
            ApiError::StaleLease { .. } => ErrorCode::StaleLease,
            ApiError::InvalidState { .. } | ApiError::FailedPrecondition { .. } => {
                ErrorCode::InvalidState
            }
            ApiError::NotLeader { .. } => ErrorCode::NotLeader,
            ApiError::Overloaded { .. }
            | ApiError::Shed { .. }
            | ApiError::RateLimited { .. }
            | ApiError::TooManyStreams { .. } => ErrorCode::Overloaded,
            ApiError::Unavailable { .. }
            | ApiError::LeaderUnreachable { .. }
            | ApiError::DeadlineExceeded { .. } => ErrorCode::Unavailable,
            ApiError::Unauthenticated { .. } => ErrorCode::Unauthenticated,
            ApiError::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            ApiError::Internal(_) => ErrorCode::Internal,
            ApiError::OutcomeUnknown { .. } => ErrorCode::OutcomeUnknown,
            ApiError::Relayed(status) => match status.code() {
                Code::InvalidArgument => ErrorCode::InvalidArgument,
                Code::NotFound => ErrorCode::NotFound,
                Code::FailedPrecondition => ErrorCode::InvalidState,
                Code::Unavailable | Code::DeadlineExceeded => ErrorCode::Unavailable,
                Code::ResourceExhausted => ErrorCode::Overloaded,
                Code::Unauthenticated => ErrorCode::Unauthenticated,
                Code::PermissionDenied => ErrorCode::PermissionDenied,
                Code::Unknown => ErrorCode::OutcomeUnknown,
                _ => ErrorCode::Internal,
            },
        }
    }

    /// Why it was refused, for `corvo_rejections_total{reason}`.
    pub fn reason(&self) -> Reason {
        match self {
            ApiError::InvalidArgument { .. } => Reason::InvalidArgument,
            ApiError::NotFound { .. } | ApiError::Missing { .. } => Reason::NotFound,
            ApiError::StaleLease { .. } => Reason::StaleLease,
            ApiError::InvalidState { .. } | ApiError::FailedPrecondition { .. } => {
                Reason::InvalidState
            }
            ApiError::NotLeader { .. } => Reason::NotLeader,
            ApiError::Overloaded { .. } => Reason::Overloaded,
            ApiError::Shed { .. } => Reason::Shed,
            ApiError::RateLimited { .. } => Reason::RateLimited,
            ApiError::TooManyStreams { .. } => Reason::StreamLimit,
            ApiError::Unavailable { .. } | ApiError::LeaderUnreachable { .. } => {
                Reason::Unavailable
            }
            ApiError::DeadlineExceeded { .. } => Reason::DeadlineExceeded,
            ApiError::OutcomeUnknown { .. } => Reason::OutcomeUnknown,
            ApiError::Unauthenticated { .. } => Reason::Unauthenticated,
            ApiError::PermissionDenied { .. } => Reason::PermissionDenied,
            ApiError::Internal(_) | ApiError::Relayed(_) => Reason::Internal,
        }
    }

    /// [`ApiError::code`], counted as one rejection. The mappings below call it once per
    /// refused call, frame or item a client sees.
    pub fn reject(&self) -> ErrorCode {
        if let ApiError::Relayed(_) = self {
            return self.code();
        }
        let reason = self.reason();
        if let Some(i) = Reason::ALL.iter().position(|r| *r == reason) {
            REJECTIONS[i].fetch_add(1, Ordering::Relaxed);
        }
        self.code()
    }

    /// How long the client should wait before retrying, for transient errors.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after_ms }
            | ApiError::Shed { retry_after_ms, .. }
            | ApiError::RateLimited { retry_after_ms, .. }
            | ApiError::TooManyStreams { retry_after_ms, .. }
            | ApiError::Unavailable { retry_after_ms, .. } => Some(*retry_after_ms),
            ApiError::NotLeader { .. } | ApiError::LeaderUnreachable { .. } => {
                Some(NOT_LEADER_RETRY_MS)
            }
            _ => None,
        }
    }

    /// The gRPC status code of this error.
    pub fn grpc_code(&self) -> Code {
        match self {
            ApiError::InvalidArgument { .. } => Code::InvalidArgument,
            ApiError::NotFound { .. } | ApiError::Missing { .. } => Code::NotFound,
            ApiError::StaleLease { .. }
            | ApiError::InvalidState { .. }
            | ApiError::FailedPrecondition { .. } => Code::FailedPrecondition,
            ApiError::NotLeader { .. }
            | ApiError::Overloaded { .. }
            | ApiError::Shed { .. }
            | ApiError::Unavailable { .. }
            | ApiError::LeaderUnreachable { .. } => Code::Unavailable,
            // A per-client quota, or a per-node stream limit: the client should slow down or
            // go elsewhere, not retry at once (gRFC A6 semantics of RESOURCE_EXHAUSTED).
            ApiError::RateLimited { .. } | ApiError::TooManyStreams { .. } => {
                Code::ResourceExhausted
            }
            ApiError::DeadlineExceeded { .. } => Code::DeadlineExceeded,
            ApiError::Unauthenticated { .. } => Code::Unauthenticated,
            ApiError::PermissionDenied { .. } => Code::PermissionDenied,
            ApiError::Internal(_) => Code::Internal,
            ApiError::OutcomeUnknown { .. } => Code::Unknown,
            ApiError::Relayed(status) => status.code(),
        }
    }

    /// The legacy stream `error` text ("NOT_LEADER", "OVERLOADED: ...", "<section>: ...").
    pub fn legacy_text(&self, section: &str) -> String {
        match self {
            ApiError::NotLeader { .. } => "NOT_LEADER".to_owned(),
            ApiError::Overloaded { .. }
            | ApiError::Shed { .. }
            | ApiError::RateLimited { .. }
            | ApiError::TooManyStreams { .. } => format!("OVERLOADED: {section}: {self}"),
            _ => format!("{section}: {self}"),
        }
    }

    /// The HTTP status for the same error on the HTTP routes (`/metrics`, the join route).
    pub fn http_status(&self) -> http::StatusCode {
        use http::StatusCode as H;
        match self.grpc_code() {
            Code::InvalidArgument => H::BAD_REQUEST,
            Code::NotFound => H::NOT_FOUND,
            Code::FailedPrecondition => H::CONFLICT,
            Code::Unauthenticated => H::UNAUTHORIZED,
            Code::PermissionDenied => H::FORBIDDEN,
            Code::ResourceExhausted => H::TOO_MANY_REQUESTS,
            Code::Unavailable => H::SERVICE_UNAVAILABLE,
            Code::DeadlineExceeded => H::GATEWAY_TIMEOUT,
            _ => H::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::NotFound { job_id } => ApiError::NotFound { job_id },
            JobError::StaleLease { job_id } => ApiError::StaleLease { job_id },
            JobError::InvalidState { job_id, state, op } => {
                ApiError::InvalidState { job_id, state, op }
            }
            JobError::InvalidArgument { field, reason } => {
                ApiError::InvalidArgument { field, reason }
            }
            JobError::KeyNotFound { key_id } => ApiError::Missing {
                what: format!("API key {key_id}"),
            },
            JobError::KeyRevoked { key_id } => ApiError::FailedPrecondition {
                reason: format!("API key {key_id} is revoked"),
            },
            JobError::OperationNotFound { id } => ApiError::Missing {
                what: format!("operation {id}"),
            },
        }
    }
}

impl From<ProposeError> for ApiError {
    fn from(e: ProposeError) -> Self {
        match e {
            ProposeError::NotLeader { leader_addr, .. } => ApiError::NotLeader { leader_addr },
            ProposeError::Overloaded { retry_after_ms } => ApiError::Overloaded { retry_after_ms },
            ProposeError::ShuttingDown => ApiError::Unavailable {
                reason: "server is shutting down".into(),
                retry_after_ms: 1_000,
            },
            ProposeError::TooLarge { commands, max } => ApiError::invalid(
                "request",
                format!("{commands} items in one call, at most {max}"),
            ),
            ProposeError::TooManyBytes { bytes, max } => ApiError::invalid(
                "request",
                format!("{bytes} bytes of items in one call, at most {max}"),
            ),
            ProposeError::OutcomeUnknown { .. } => ApiError::OutcomeUnknown {
                reason: "leadership changed while the request was in flight".into(),
            },
            ProposeError::CommitTimeout { waited } => ApiError::OutcomeUnknown {
                reason: format!(
                    "the write was not committed within {waited:?} (this node may have lost \
                     its majority)"
                ),
            },
            ProposeError::Fatal(m) => ApiError::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// How long a caller should wait before asking the read view again after it timed out.
const VIEW_RETRY_MS: u64 = 1_000;

impl From<corvo_view::ViewError> for ApiError {
    fn from(e: corvo_view::ViewError) -> Self {
        use corvo_view::ViewError;
        match e {
            ViewError::InvalidQuery(reason) => ApiError::InvalidArgument {
                field: "ListJobsRequest".to_owned(),
                reason,
            },
            e @ (ViewError::Timeout { .. } | ViewError::Failing(_)) => ApiError::Unavailable {
                reason: e.to_string(),
                retry_after_ms: VIEW_RETRY_MS,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        if let ApiError::Relayed(status) = e {
            return *status;
        }
        e.reject();
        let mut status = Status::new(e.grpc_code(), e.to_string());
        if let Some(ms) = e.retry_after_ms()
            && let Ok(v) = ms.to_string().parse()
        {
            // gRFC A6 retry pushback: clients wait this long before retrying.
            status.metadata_mut().insert("grpc-retry-pushback-ms", v);
        }
        if let ApiError::NotLeader {
            leader_addr: Some(addr),
        }
        | ApiError::LeaderUnreachable {
            leader_addr: Some(addr),
            ..
        } = &e
            && let Ok(v) = addr.parse()
        {
            status.metadata_mut().insert("x-corvo-leader", v);
        }
        status
    }
}

/// A refused or failed membership change (ClusterService Join, RemoveNode, TransferLeader).
/// Not-leader answers like a write (UNAVAILABLE + `x-corvo-leader`); the rest are operator
/// errors.
impl From<MembershipError> for ApiError {
    fn from(e: MembershipError) -> Self {
        match e {
            MembershipError::NotLeader { leader_addr, .. } => ApiError::NotLeader { leader_addr },
            MembershipError::Conflict(_) => ApiError::FailedPrecondition {
                reason: e.to_string(),
            },
            MembershipError::NotFound(id) => ApiError::Missing {
                what: format!("cluster member with raft id {id}"),
            },
            MembershipError::Timeout { .. } => ApiError::DeadlineExceeded {
                reason: e.to_string(),
            },
            MembershipError::Fatal(_) => ApiError::Internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_outcome_is_unknown_unless_every_write_carried_an_idempotency_key() {
        for e in [
            ProposeError::OutcomeUnknown {
                leader_id: None,
                leader_addr: None,
            },
            ProposeError::CommitTimeout {
                waited: std::time::Duration::from_secs(10),
            },
        ] {
            let plain = ApiError::from(e.clone());
            assert_eq!(plain.code(), ErrorCode::OutcomeUnknown);
            let s: Status = plain.into();
            assert_eq!(s.code(), Code::Unknown, "{s:?}");
            assert!(
                !s.metadata().contains_key("grpc-retry-pushback-ms"),
                "no retry hint: a blind retry could apply the write twice"
            );
            assert!(s.message().contains("idempotency key"), "{s:?}");
            let keyed: Status = ApiError::from(e).retry_safe().into();
            assert_eq!(keyed.code(), Code::Unavailable, "{keyed:?}");
            assert!(keyed.metadata().contains_key("grpc-retry-pushback-ms"));
            assert!(keyed.message().contains("outcome is unknown"), "{keyed:?}");
        }
        // Other errors are what they were.
        assert!(matches!(
            ApiError::invalid("f", "r").retry_safe(),
            ApiError::InvalidArgument { .. }
        ));
    }

    #[test]
    fn statuses_carry_codes_and_hints() {
        let s: Status = ApiError::invalid("queue", "must not be empty").into();
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "invalid queue: must not be empty");
        let s: Status = ApiError::StaleLease { job_id: "j".into() }.into();
        assert_eq!(s.code(), Code::FailedPrecondition);
        let s: Status = ApiError::Overloaded { retry_after_ms: 7 }.into();
        assert_eq!(s.code(), Code::Unavailable);
        assert_eq!(s.metadata().get("grpc-retry-pushback-ms").unwrap(), "7");
        assert_eq!(
            ApiError::NotLeader { leader_addr: None }.legacy_text("fetch"),
            "NOT_LEADER"
        );
        let s: Status = ApiError::LeaderUnreachable {
            leader_addr: Some("10.0.0.1:8080".into()),
            reason: "connection refused".into(),
        }
        .into();
        assert_eq!(s.code(), Code::Unavailable);
        assert_eq!(s.metadata().get("x-corvo-leader").unwrap(), "10.0.0.1:8080");
        assert!(s.metadata().contains_key("grpc-retry-pushback-ms"));
        assert!(
            ApiError::Overloaded { retry_after_ms: 1 }
                .legacy_text("ack")
                .starts_with("OVERLOADED: ack:")
        );
    }

    #[test]
    fn every_mapping_to_the_wire_counts_one_rejection_by_reason() {
        let count = |reason| {
            rejections()
                .into_iter()
                .find(|(r, _)| *r == reason)
                .map(|(_, n)| n)
                .unwrap()
        };
        let before = count(Reason::StaleLease);
        let e = ApiError::StaleLease { job_id: "j".into() };
        assert_eq!(e.reject(), ErrorCode::StaleLease);
        let _: Status = e.into();
        // Other tests run in parallel and may count too: at least ours are there.
        assert!(count(Reason::StaleLease) >= before + 2);
        assert_eq!(code_name(ErrorCode::StaleLease), "stale_lease");
        // Every reason is named once.
        let names: std::collections::HashSet<_> = Reason::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), Reason::ALL.len());
    }

    #[test]
    fn limits_answer_with_their_own_codes_and_hints() {
        let s: Status = ApiError::RateLimited {
            who: "API key k".into(),
            rps: 5,
            retry_after_ms: 180,
        }
        .into();
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(s.metadata().get("grpc-retry-pushback-ms").unwrap(), "180");
        let e = ApiError::TooManyStreams {
            kind: "worker",
            max: 2,
            retry_after_ms: 1_000,
        };
        assert_eq!(e.code(), ErrorCode::Overloaded);
        assert_eq!(e.reason(), Reason::StreamLimit);
        let s: Status = e.into();
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert!(s.metadata().contains_key("grpc-retry-pushback-ms"));
        let s: Status = ApiError::Shed {
            what: "unary calls".into(),
            retry_after_ms: 50,
        }
        .into();
        assert_eq!(s.code(), Code::Unavailable);
        let s: Status = ApiError::Unauthenticated {
            reason: "missing API key".into(),
        }
        .into();
        assert_eq!(s.code(), Code::Unauthenticated);
        assert!(!s.metadata().contains_key("grpc-retry-pushback-ms"));
        let e = ApiError::PermissionDenied {
            reason: "queue b".into(),
        };
        assert_eq!(e.code(), ErrorCode::PermissionDenied);
        assert_eq!(e.http_status(), http::StatusCode::FORBIDDEN);
    }
}
