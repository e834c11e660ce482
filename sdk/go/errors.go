package corvo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	corvov1 "example.invalid/corvo/sdk/go/gen/corvo/v1"
)

// ErrorCode is Corvo's machine-readable error code, carried on stream frames and per-item
// results (see docs/errors).
type ErrorCode = corvov1.ErrorCode

// The Corvo error codes. CodeOutcomeUnknown (gRPC codes.Unknown): a write may or may not
// have been applied (leadership changed, or it was not committed in time) and carried no
// idempotency key or lease token; the SDK never retries it, so check (GetJob, ListJobs)
// before sending it again.
const (
	CodeUnspecified      = corvov1.ErrorCode_ERROR_CODE_UNSPECIFIED
	CodeInvalidArgument  = corvov1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT
	CodeNotFound         = corvov1.ErrorCode_ERROR_CODE_NOT_FOUND
	CodeStaleLease       = corvov1.ErrorCode_ERROR_CODE_STALE_LEASE
	CodeInvalidState     = corvov1.ErrorCode_ERROR_CODE_INVALID_STATE
	CodeOverloaded       = corvov1.ErrorCode_ERROR_CODE_OVERLOADED
	CodeNotLeader        = corvov1.ErrorCode_ERROR_CODE_NOT_LEADER
	CodeUnavailable      = corvov1.ErrorCode_ERROR_CODE_UNAVAILABLE
	CodeOutcomeUnknown   = corvov1.ErrorCode_ERROR_CODE_OUTCOME_UNKNOWN
	CodeInternal         = corvov1.ErrorCode_ERROR_CODE_INTERNAL
	CodeUnauthenticated  = corvov1.ErrorCode_ERROR_CODE_UNAUTHENTICATED
	CodePermissionDenied = corvov1.ErrorCode_ERROR_CODE_PERMISSION_DENIED
)

// Error is the one error type of the SDK's calls: the gRPC status code, the server's
// message, and the Corvo ErrorCode when the server sent one (stream frames and batch items
// carry it; unary calls carry only the gRPC code). Use errors.As to get it:
//
//	var e *corvo.Error
//	if errors.As(err, &e) && e.Code == codes.NotFound { ... }
type Error struct {
	// Code is the gRPC status code (codes.Unavailable for a server that cannot be reached).
	Code codes.Code
	// Message is the server's message (or the transport's, for connection failures).
	Message string
	// ErrorCode is Corvo's code when the server sent one, else CodeUnspecified.
	ErrorCode ErrorCode
	// RetryAfter is the server's retry hint (grpc-retry-pushback-ms or retry_after_ms).
	RetryAfter time.Duration
	// Leader is the leader's address (host:port) when the server named it.
	Leader string

	cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("corvo: ")
	b.WriteString(e.Code.String())
	if e.ErrorCode != CodeUnspecified {
		b.WriteString(" (")
		b.WriteString(e.ErrorCode.String())
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns context.Canceled or context.DeadlineExceeded when the call ended because
// its context did.
func (e *Error) Unwrap() error { return e.cause }

// GRPCStatus lets status.FromError and status.Code read the error.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// Temporary reports whether retrying later may succeed (the server was unreachable,
// overloaded, or had no leader). It is false for codes.Unknown (CodeOutcomeUnknown): the
// write may have been applied, so sending it again may apply it twice.
func (e *Error) Temporary() bool {
	return retryableCode(e.Code) || e.ErrorCode == CodeOverloaded || e.ErrorCode == CodeUnavailable ||
		e.ErrorCode == CodeNotLeader
}

var (
	// ErrJobCancelled is the cause (context.Cause) of a handler's context when the server
	// said to stop the job: it was cancelled, reassigned after a lost lease, or settled.
	ErrJobCancelled = errors.New("corvo: the server stopped the job (cancelled, reassigned or finished)")
	// ErrShuttingDown is the cause of a handler's context when the worker's drain timeout
	// ran out; the job has been failed back with "worker shutting down".
	ErrShuttingDown = errors.New("corvo: worker shutting down")
	// ErrForcedStop is returned by Worker.Run when a second signal ended the drain at once.
	ErrForcedStop = errors.New("corvo: worker stopped at once by a second signal")
)

// retryableCode: statuses a later attempt (elsewhere, or after the hint) can fix. Never
// codes.Unknown: the server answers it for a write of unknown outcome that is not safe to
// repeat (no idempotency key or lease token).
func retryableCode(c codes.Code) bool {
	return c == codes.Unavailable || c == codes.ResourceExhausted
}

// refusedForGood: statuses a reconnect cannot fix.
func refusedForGood(c codes.Code) bool {
	switch c {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
		return true
	}
	return false
}

// statusError converts an error of a gRPC call into *Error, reading the retry and leader
// hints from the response's header and trailer metadata.
func statusError(ctx context.Context, err error, md ...metadata.MD) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	st := status.Convert(err)
	e = &Error{Code: st.Code(), Message: st.Message()}
	for _, m := range md {
		if v := m.Get("grpc-retry-pushback-ms"); len(v) > 0 {
			if ms, perr := strconv.ParseInt(v[0], 10, 64); perr == nil && ms > 0 {
				e.RetryAfter = time.Duration(ms) * time.Millisecond
			}
		}
		if v := m.Get("x-corvo-leader"); len(v) > 0 && v[0] != "" {
			e.Leader = v[0]
		}
	}
	if ctx != nil && ctx.Err() != nil && (e.Code == codes.Canceled || e.Code == codes.DeadlineExceeded) {
		e.cause = ctx.Err()
	}
	return e
}

// frameError is the error of a stream frame or item refused with a Corvo ErrorCode.
func frameError(code ErrorCode, msg string, retryAfterMs int64, leader string) *Error {
	e := &Error{Code: grpcCodeOf(code), Message: msg, ErrorCode: code, Leader: leader}
	if retryAfterMs > 0 {
		e.RetryAfter = time.Duration(retryAfterMs) * time.Millisecond
	}
	return e
}

// grpcCodeOf maps an ErrorCode to its gRPC status code (docs/errors).
func grpcCodeOf(code ErrorCode) codes.Code {
	switch code {
	case CodeUnspecified:
		return codes.OK
	case CodeInvalidArgument:
		return codes.InvalidArgument
	case CodeNotFound:
		return codes.NotFound
	case CodeStaleLease, CodeInvalidState:
		return codes.FailedPrecondition
	case CodeOverloaded, CodeNotLeader, CodeUnavailable:
		return codes.Unavailable
	case CodeUnauthenticated:
		return codes.Unauthenticated
	case CodePermissionDenied:
		return codes.PermissionDenied
	case CodeOutcomeUnknown:
		return codes.Unknown
	default:
		return codes.Internal
	}
}

// configError is an invalid option or argument, detected before anything was sent.
func configError(format string, args ...any) *Error {
	return &Error{Code: codes.InvalidArgument, Message: fmt.Sprintf(format, args...)}
}
