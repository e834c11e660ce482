"""Python values to and from the generated messages: payloads, priorities, enqueue options."""

from __future__ import annotations

import datetime as _dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from google.protobuf import timestamp_pb2

from corvo.v1 import job_pb2, worker_pb2

#: A duration: seconds (int or float) or a ``datetime.timedelta``.
Duration = Union[int, float, _dt.timedelta]

PRIORITIES = {
    "critical": worker_pb2.PRIORITY_CRITICAL,
    "high": worker_pb2.PRIORITY_HIGH,
    "normal": worker_pb2.PRIORITY_NORMAL,
    "low": worker_pb2.PRIORITY_LOW,
}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}

BACKOFF_KINDS = {
    "none": worker_pb2.BACKOFF_KIND_NONE,
    "fixed": worker_pb2.BACKOFF_KIND_FIXED,
    "linear": worker_pb2.BACKOFF_KIND_LINEAR,
    "exponential": worker_pb2.BACKOFF_KIND_EXPONENTIAL,
}

STATES = {
    "pending": worker_pb2.JOB_STATE_PENDING,
    "scheduled": worker_pb2.JOB_STATE_SCHEDULED,
    "active": worker_pb2.JOB_STATE_ACTIVE,
    "retrying": worker_pb2.JOB_STATE_RETRYING,
    "held": worker_pb2.JOB_STATE_HELD,
    "completed": worker_pb2.JOB_STATE_COMPLETED,
    "dead": worker_pb2.JOB_STATE_DEAD,
    "cancelled": worker_pb2.JOB_STATE_CANCELLED,
}

BULK_ACTIONS = {
    "retry": job_pb2.BULK_ACTION_RETRY,
    "cancel": job_pb2.BULK_ACTION_CANCEL,
    "delete": job_pb2.BULK_ACTION_DELETE,
    "move": job_pb2.BULK_ACTION_MOVE,
    "set_priority": job_pb2.BULK_ACTION_SET_PRIORITY,
}


@dataclass(frozen=True)
class Backoff:
    """A job's retry policy: ``kind`` is ``none``, ``fixed``, ``linear`` or ``exponential``
    (the server adds the exponential kind's jitter); 0 ms means the server's default (base
    5 s, cap 10 min)."""

    kind: str = "exponential"
    base_ms: int = 0
    cap_ms: int = 0


@dataclass(frozen=True)
class EnqueueItem:
    """One job of :meth:`corvo_sdk.Client.enqueue_batch`; the options are those of
    :meth:`corvo_sdk.Client.enqueue`."""

    queue: str
    payload: Any = None
    priority: str | int | None = None
    max_attempts: int | None = None
    backoff: Backoff | None = None
    scheduled_at: _dt.datetime | None = None
    delay: Duration | None = None
    expire_after: Duration | None = None
    unique_key: str | None = None
    unique_period: Duration | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None


def encode_json(value: Any, what: str) -> str:
    """A JSON document for ``value``; a ``str`` is taken as JSON text already."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} is not JSON-serializable: {e}") from None


def decode_json(text: str, default: Any = None) -> Any:
    """The parsed document, ``default`` for an empty one, the text itself if it is not JSON."""
    if not text.strip():
        return default
    try:
        return json.loads(text)
    except ValueError:
        return text


def seconds(value: Duration, what: str) -> float:
    if isinstance(value, _dt.timedelta):
        s = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        s = float(value)
    else:
        raise TypeError(f"{what} must be seconds (int or float) or a timedelta, got {value!r}")
    if s < 0:
        raise ValueError(f"{what} must not be negative")
    return s


def millis(value: Duration, what: str) -> int:
    return int(round(seconds(value, what) * 1000))


def priority_value(p: str | int | None) -> int:
    if p is None:
        return worker_pb2.PRIORITY_UNSPECIFIED
    if isinstance(p, str):
        try:
            return PRIORITIES[p.lower()]
        except KeyError:
            raise ValueError(
                f"unknown priority {p!r} (critical, high, normal or low)"
            ) from None
    return int(p)


def state_value(s: str | int) -> int:
    if isinstance(s, str):
        try:
            return STATES[s.lower()]
        except KeyError:
            raise ValueError(f"unknown job state {s!r} ({', '.join(STATES)})") from None
    return int(s)


def timestamp(t: _dt.datetime) -> timestamp_pb2.Timestamp:
    if t.tzinfo is None:
        raise ValueError("use an aware datetime (with tzinfo), e.g. datetime.now(timezone.utc)")
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(_dt.timezone.utc))
    return ts


def idempotency_key(given: str | None) -> str:
    """The key given (1 to 255 bytes), else a fresh one: 128 random bits in hex. Made once per
    call, so the SDK's own retries of the call send the same key."""
    if given is None:
        return secrets.token_hex(16)
    if not 1 <= len(given.encode("utf-8")) <= 255:
        raise ValueError("idempotency_key must be 1 to 255 bytes")
    return given


def enqueue_options(item: EnqueueItem) -> worker_pb2.EnqueueOptions:
    o = worker_pb2.EnqueueOptions(priority=priority_value(item.priority))  # type: ignore[arg-type]
    if item.max_attempts is not None:
        if item.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        o.max_attempts = item.max_attempts
    if item.backoff is not None:
        try:
            kind = BACKOFF_KINDS[item.backoff.kind.lower()]
        except KeyError:
            raise ValueError(
                f"unknown backoff kind {item.backoff.kind!r} (none, fixed, linear or exponential)"
            ) from None
        o.backoff.CopyFrom(
            worker_pb2.BackoffPolicy(kind=kind, base_ms=item.backoff.base_ms, cap_ms=item.backoff.cap_ms)
        )
    if item.scheduled_at is not None and item.delay is not None:
        raise ValueError("give scheduled_at or delay, not both")
    if item.scheduled_at is not None:
        o.scheduled_at.CopyFrom(timestamp(item.scheduled_at))
    elif item.delay is not None:
        delay = seconds(item.delay, "delay")
        if delay > 0:
            when = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=delay)
            o.scheduled_at.CopyFrom(timestamp(when))
    if item.expire_after is not None:
        o.expire_after_ms = millis(item.expire_after, "expire_after")
    if item.unique_key is not None:
        o.unique_key = item.unique_key
    if item.unique_period is not None:
        if item.unique_key is None:
            raise ValueError("unique_period needs a unique_key")
        o.unique_period_ms = millis(item.unique_period, "unique_period")
    o.idempotency_key = idempotency_key(item.idempotency_key)
    for k, v in item.tags.items():
        o.tags[str(k)] = str(v)
    return o


def enqueue_request(item: EnqueueItem) -> worker_pb2.EnqueueRequest:
    if not item.queue:
        raise ValueError("queue must not be empty")
    return worker_pb2.EnqueueRequest(
        queue=item.queue,
        payload_json=encode_json({} if item.payload is None else item.payload, "payload"),
        options=enqueue_options(item),
    )


def job_filter(
    *,
    queue: str | None = None,
    states: Any = None,
    priority: str | int | None = None,
    tags: Mapping[str, str] | None = None,
    payload_contains: str | None = None,
    error_contains: str | None = None,
    created_after: _dt.datetime | None = None,
    created_before: _dt.datetime | None = None,
) -> job_pb2.JobFilter:
    f = job_pb2.JobFilter(
        queue=queue or "",
        priority=priority_value(priority),  # type: ignore[arg-type]
        payload_contains=payload_contains or "",
        error_contains=error_contains or "",
    )
    if states is not None:
        if isinstance(states, (str, int)):
            states = [states]
        f.states.extend(state_value(s) for s in states)  # type: ignore[misc]
    for k, v in (tags or {}).items():
        f.tags[k] = v
    if created_after is not None:
        f.created_after.CopyFrom(timestamp(created_after))
    if created_before is not None:
        f.created_before.CopyFrom(timestamp(created_before))
    return f
