"""The SDK's errors: one type, :class:`CorvoError`, for everything the server or the transport
refuses; :class:`JobFailed` for a handler that fails its job on purpose."""

from __future__ import annotations

from typing import Optional

import grpc

from corvo.v1 import worker_pb2

# The gRPC status each Corvo ErrorCode is sent with on unary calls (docs/errors): unary calls
# carry no ErrorCode of their own, so it is derived from the status.
_CODE_FROM_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: worker_pb2.ERROR_CODE_INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND: worker_pb2.ERROR_CODE_NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION: worker_pb2.ERROR_CODE_INVALID_STATE,
    grpc.StatusCode.UNAVAILABLE: worker_pb2.ERROR_CODE_UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED: worker_pb2.ERROR_CODE_OVERLOADED,
    grpc.StatusCode.UNAUTHENTICATED: worker_pb2.ERROR_CODE_UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: worker_pb2.ERROR_CODE_PERMISSION_DENIED,
    grpc.StatusCode.INTERNAL: worker_pb2.ERROR_CODE_INTERNAL,
    # A write whose outcome is unknown: never retried blindly (an idempotency key makes it safe).
    grpc.StatusCode.UNKNOWN: worker_pb2.ERROR_CODE_OUTCOME_UNKNOWN,
}


class CorvoError(Exception):
    """A call, stream frame or item the server (or the connection to it) refused.

    Attributes:
        code: the gRPC status code (``grpc.StatusCode.OK`` for an error reported inside a
            stream frame, which itself succeeded).
        message: the server's message (it names the field, job or queue concerned).
        error_code: the Corvo ``ErrorCode`` (``corvo.v1.worker_pb2.ERROR_CODE_*``): as sent on
            stream frames and items; for unary calls, derived from the gRPC status as
            documented in docs/errors (NOT_LEADER when the server named a leader;
            OUTCOME_UNKNOWN for UNKNOWN: a write that may or may not have been applied, which
            the SDK never retries).
        retry_after_ms: the server's retry hint, when it gave one.
        leader: the leader's address (``host:port``) when the server named one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        error_code: int = worker_pb2.ERROR_CODE_UNSPECIFIED,
        retry_after_ms: Optional[int] = None,
        leader: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.error_code = error_code
        self.retry_after_ms = retry_after_ms
        self.leader = leader

    @property
    def error_code_name(self) -> str:
        """The ErrorCode's name, e.g. ``ERROR_CODE_NOT_FOUND``."""
        try:
            return worker_pb2.ErrorCode.Name(self.error_code)
        except ValueError:
            return str(self.error_code)

    def __str__(self) -> str:
        parts = [self.code.name if self.code is not None else "UNKNOWN"]
        if self.error_code != worker_pb2.ERROR_CODE_UNSPECIFIED:
            parts.append(self.error_code_name)
        return f"{' / '.join(parts)}: {self.message}"

    def __repr__(self) -> str:
        return f"CorvoError({str(self)!r})"

    @classmethod
    def from_status(
        cls,
        code: grpc.StatusCode,
        details: Optional[str],
        metadata: dict[str, str],
    ) -> CorvoError:
        """Builds the error for a failed call from its status and trailing metadata."""
        leader = metadata.get("x-corvo-leader") or None
        retry = metadata.get("grpc-retry-pushback-ms")
        retry_after_ms: Optional[int] = None
        if retry is not None:
            try:
                retry_after_ms = max(0, int(retry))
            except ValueError:
                retry_after_ms = None
        error_code = _CODE_FROM_STATUS.get(code, worker_pb2.ERROR_CODE_UNSPECIFIED)
        if code == grpc.StatusCode.UNAVAILABLE and leader:
            error_code = worker_pb2.ERROR_CODE_NOT_LEADER
        elif code == grpc.StatusCode.FAILED_PRECONDITION and "lease token" in (details or ""):
            error_code = worker_pb2.ERROR_CODE_STALE_LEASE
        return cls(
            details or code.name,
            code=code,
            error_code=error_code,
            retry_after_ms=retry_after_ms,
            leader=leader,
        )


class WorkerError(CorvoError):
    """Why :meth:`corvo_sdk.Worker.run` ended with an error: the server refused the worker for
    good (a bad key, a queue outside the key's scopes, an invalid option)."""


class JobFailed(Exception):
    """Raise it (or call ``ctx.fail(message)``) in a handler to fail the job with ``message``:
    the job is retried after its backoff, or becomes dead after its last attempt."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
