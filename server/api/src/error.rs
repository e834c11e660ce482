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
    #[error("lease token for job {job_id} is stale: the job was reassigned or settled")]
    StaleLease { job_id: String },
    #[error("job {job_id} is {state}, cannot {op}")]
    InvalidState {
        job_id: String,
        state: String,
        op: String,
    },
    #[error("not the leader (leader: {})", leader_addr.as_deref().unwrap_or("unknown"))]
    NotLeader { leader_addr: Option<String> },
    #[error("server overloaded, retry in {retry_after_ms} ms")]
    Overloaded { retry_after_ms: u64 },
    #[error("unavailable: {reason}")]
    Unavailable { reason: String, retry_after_ms: u64 },
    /// A follower could not forward a call to the leader: none is known, or it cannot be
    /// reached from this node (see `forward.rs`).
    #[error("cannot reach the leader: {reason}")]
    LeaderUnreachable {
        leader_addr: Option<String>,
        reason: String,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Retry hint when no leader is known yet (an election takes about this long).
pub const NOT_LEADER_RETRY_MS: u64 = 500;

/// Every code a rejection can carry, in the order of [`REJECTIONS`].
pub const REJECTION_CODES: [ErrorCode; 8] = [
    ErrorCode::InvalidArgument,
    ErrorCode::NotFound,
    ErrorCode::StaleLease,
    ErrorCode::InvalidState,
    ErrorCode::Overloaded,
    ErrorCode::NotLeader,
    ErrorCode::Unavailable,
    ErrorCode::Internal,
];

/// Rejections since the process started, by code. Process-wide because the conversion into
/// `Status` (a `From` impl) has no handle to carry; read by the metrics module at scrape.
static REJECTIONS: [AtomicU64; REJECTION_CODES.len()] =
    [const { AtomicU64::new(0) }; REJECTION_CODES.len()];

/// (code, rejections so far) for every code.
pub fn rejections() -> [(ErrorCode, u64); REJECTION_CODES.len()] {
    std::array::from_fn(|i| (REJECTION_CODES[i], REJECTIONS[i].load(Ordering::Relaxed)))
}

/// The lower-case name of a code, as in metric labels and `docs/errors/` (`stale_lease`).
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

    /// The structured code used on stream frames and per-item results.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::StaleLease { .. } => ErrorCode::StaleLease,
            ApiError::InvalidState { .. } => ErrorCode::InvalidState,
            ApiError::NotLeader { .. } => ErrorCode::NotLeader,
            ApiError::Overloaded { .. } => ErrorCode::Overloaded,
            ApiError::Unavailable { .. } | ApiError::LeaderUnreachable { .. } => {
                ErrorCode::Unavailable
            }
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// [`ApiError::code`], counted as one rejection. The mappings below call it once per
    /// refused call, frame or item a client sees.
    pub fn reject(&self) -> ErrorCode {
        let code = self.code();
        if let Some(i) = REJECTION_CODES.iter().position(|c| *c == code) {
            REJECTIONS[i].fetch_add(1, Ordering::Relaxed);
        }
        code
    }

    /// How long the client should wait before retrying, for transient errors.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after_ms }
            | ApiError::Unavailable { retry_after_ms, .. } => Some(*retry_after_ms),
            ApiError::NotLeader { .. } | ApiError::LeaderUnreachable { .. } => {
                Some(NOT_LEADER_RETRY_MS)
            }
            _ => None,
        }
    }

    /// The legacy stream `error` text ("NOT_LEADER", "OVERLOADED: ...", "<section>: ...").
    pub fn legacy_text(&self, section: &str) -> String {
        match self {
            ApiError::NotLeader { .. } => "NOT_LEADER".to_owned(),
            ApiError::Overloaded { .. } => format!("OVERLOADED: {section}: {self}"),
            _ => format!("{section}: {self}"),
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
            ProposeError::OutcomeUnknown { .. } => ApiError::Unavailable {
                reason:
                    "leadership changed while the request was in flight; its outcome is unknown"
                        .into(),
                retry_after_ms: NOT_LEADER_RETRY_MS,
            },
            e @ ProposeError::CommitTimeout { .. } => ApiError::Unavailable {
                reason: e.to_string(),
                retry_after_ms: NOT_LEADER_RETRY_MS,
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
            e @ ViewError::Timeout { .. } => ApiError::Unavailable {
                reason: e.to_string(),
                retry_after_ms: VIEW_RETRY_MS,
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        e.reject();
        let code = match &e {
            ApiError::InvalidArgument { .. } => Code::InvalidArgument,
            ApiError::NotFound { .. } => Code::NotFound,
            ApiError::StaleLease { .. } | ApiError::InvalidState { .. } => Code::FailedPrecondition,
            ApiError::NotLeader { .. }
            | ApiError::Overloaded { .. }
            | ApiError::Unavailable { .. }
            | ApiError::LeaderUnreachable { .. } => Code::Unavailable,
            ApiError::Internal(_) => Code::Internal,
        };
        let mut status = Status::new(code, e.to_string());
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
/// errors with no stream code.
pub fn membership_status(e: MembershipError) -> Status {
    match e {
        MembershipError::NotLeader { leader_addr, .. } => {
            ApiError::NotLeader { leader_addr }.into()
        }
        MembershipError::Conflict(_) => Status::failed_precondition(e.to_string()),
        MembershipError::NotFound(_) => Status::not_found(e.to_string()),
        MembershipError::Timeout { .. } => Status::deadline_exceeded(e.to_string()),
        MembershipError::Fatal(_) => Status::internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn every_mapping_to_the_wire_counts_one_rejection_by_code() {
        let count = |code| {
            rejections()
                .into_iter()
                .find(|(c, _)| *c == code)
                .map(|(_, n)| n)
                .unwrap()
        };
        let before = count(ErrorCode::StaleLease);
        let e = ApiError::StaleLease { job_id: "j".into() };
        assert_eq!(e.reject(), ErrorCode::StaleLease);
        let _: Status = e.into();
        // Other tests run in parallel and may count too: at least ours are there.
        assert!(count(ErrorCode::StaleLease) >= before + 2);
        assert_eq!(code_name(ErrorCode::StaleLease), "stale_lease");
        assert_eq!(REJECTION_CODES.len(), ErrorCode::Internal as usize);
    }
}
