//! The one error type of the SDK: a gRPC status with Corvo's structured code, or a
//! configuration problem found before any call.

use std::time::Duration;

use crate::proto as pb;

/// What went wrong with a call, or with the SDK's configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error (or the call failed in transport).
    #[error("{code:?}: {message}")]
    Status {
        code: tonic::Code,
        message: String,
        /// Corvo's code, when the server sent one (stream frames and batch items do).
        error_code: Option<pb::ErrorCode>,
        /// How long the server asked to wait before retrying (`grpc-retry-pushback-ms`).
        retry_after: Option<Duration>,
        /// The leader's address when a node could not forward to it (`x-corvo-leader`).
        leader: Option<String>,
    },
    /// The SDK was configured wrongly (a bad URL, an unreadable certificate, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    /// The gRPC code (`Code::InvalidArgument` for configuration errors).
    pub fn code(&self) -> tonic::Code {
        match self {
            Error::Status { code, .. } => *code,
            Error::Config(_) => tonic::Code::InvalidArgument,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config(message.into())
    }

    /// An error from a stream frame's or a batch item's structured code.
    pub(crate) fn from_item(error_code: i32, message: &str) -> Error {
        let error_code = pb::ErrorCode::try_from(error_code).ok();
        let code = match error_code {
            Some(pb::ErrorCode::InvalidArgument) => tonic::Code::InvalidArgument,
            Some(pb::ErrorCode::NotFound) => tonic::Code::NotFound,
            Some(pb::ErrorCode::StaleLease | pb::ErrorCode::InvalidState) => {
                tonic::Code::FailedPrecondition
            }
            Some(pb::ErrorCode::Overloaded) => tonic::Code::ResourceExhausted,
            Some(pb::ErrorCode::NotLeader | pb::ErrorCode::Unavailable) => tonic::Code::Unavailable,
            Some(pb::ErrorCode::Unauthenticated) => tonic::Code::Unauthenticated,
            Some(pb::ErrorCode::PermissionDenied) => tonic::Code::PermissionDenied,
            Some(pb::ErrorCode::OutcomeUnknown) => tonic::Code::Unknown,
            _ => tonic::Code::Internal,
        };
        Error::Status {
            code,
            message: message.to_owned(),
            error_code,
            retry_after: None,
            leader: None,
        }
    }
}

impl From<tonic::Status> for Error {
    fn from(s: tonic::Status) -> Error {
        let header = |name: &str| {
            s.metadata()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Error::Status {
            code: s.code(),
            message: s.message().to_owned(),
            error_code: None,
            retry_after: header("grpc-retry-pushback-ms")
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis),
            leader: header("x-corvo-leader"),
        }
    }
}
