"""The client: enqueue jobs, look them up and act on them, administer queues.

```python
from corvo_sdk import Client

with Client("http://127.0.0.1:8080") as client:
    job = client.enqueue("emails", {"to": "ada@example.com"}, max_attempts=5)
    print(client.get_job(job.job_id).state)
```

Every call goes to the current server URL; on a connection failure the next one is tried, and
a leader hint (``x-corvo-leader``) or retry hint (``grpc-retry-pushback-ms``) from the server
is followed. A call, its retries included, takes at most ``call_timeout``. Every enqueue carries
an idempotency key (a fresh one per call unless given), so a retry never creates a job twice;
an ``ERROR_CODE_OUTCOME_UNKNOWN`` error (gRPC UNKNOWN: the write may or may not have been
applied) is never retried.
"""

from __future__ import annotations

import datetime as _dt
import logging
import queue as _queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence, TypeVar

import grpc
from google.protobuf.message import Message

from corvo.v1 import job_pb2, queue_pb2, worker_pb2

from . import _tracing
from ._connection import (
    ApiKey,
    Backoff,
    Endpoint,
    Endpoints,
    PemSource,
    Tls,
    metadata_dict,
    sync_channel,
)
from ._convert import (
    BULK_ACTIONS,
    Backoff as BackoffPolicy,
    Duration,
    EnqueueItem,
    enqueue_request,
    job_filter,
    millis,
    priority_value,
    seconds,
    state_value,
    timestamp,
)
from .errors import CorvoError

R = TypeVar("R", bound=Message)

log = logging.getLogger("corvo_sdk")

CALL_TIMEOUT_DEFAULT = 30.0
#: Enqueues in one frame of :meth:`Client.enqueue_batch` (the SPEC's bound).
BATCH_FRAME_ITEMS = 1000
#: Payload bytes in one frame (the server's messages are at most 16 MiB).
BATCH_FRAME_BYTES = 8 << 20

_TRANSIENT = (worker_pb2.ERROR_CODE_OVERLOADED, worker_pb2.ERROR_CODE_UNAVAILABLE)


def state_name(state: int) -> str:
    """``JOB_STATE_COMPLETED`` → ``completed``."""
    try:
        name = worker_pb2.JobState.Name(state)
    except ValueError:
        return str(state)
    return name.removeprefix("JOB_STATE_").lower()


@dataclass(frozen=True)
class EnqueueResult:
    """A new job's id and status: ``pending``, ``scheduled``, or ``duplicate`` (an existing job
    holds the unique key, or the idempotency key matched an earlier enqueue; ``job_id`` is that
    job's). ``replayed``: the idempotency key matched an earlier enqueue, nothing was created."""

    job_id: str
    status: str
    replayed: bool = False

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


@dataclass(frozen=True)
class JobPage:
    """One page of :meth:`Client.list_jobs`; ``next_page_token`` is empty on the last page."""

    jobs: list[job_pb2.Job]
    next_page_token: str


class Client:
    """A synchronous Corvo client (thread-safe: one per process is enough).

    Args:
        servers: one node URL or several (``http://`` or ``https://``); default
            ``http://127.0.0.1:8080``.
        api_key: sent as ``authorization: Bearer <key>``; default ``$CORVO_API_KEY``.
        ca_cert: a CA certificate (PEM path or bytes) to trust instead of the system roots.
        client_cert, client_key: a client certificate and key (PEM) for mTLS.
        call_timeout: the longest a call takes, its retries included (seconds).
    """

    def __init__(
        self,
        servers: str | Sequence[str] | None = None,
        *,
        api_key: str | None = None,
        ca_cert: PemSource | None = None,
        client_cert: PemSource | None = None,
        client_key: PemSource | None = None,
        call_timeout: Duration = CALL_TIMEOUT_DEFAULT,
    ) -> None:
        self._endpoints = Endpoints(servers)
        self._tls = Tls.load(ca_cert, client_cert, client_key)
        self._api_key = ApiKey.resolve(api_key)
        self.call_timeout = seconds(call_timeout, "call_timeout")
        if self.call_timeout <= 0:
            raise ValueError("call_timeout must be positive")
        self._channels: dict[Endpoint, grpc.Channel] = {}
        self._lock = threading.Lock()

    # --- plumbing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connections."""
        with self._lock:
            channels = list(self._channels.values())
            self._channels.clear()
        for ch in channels:
            ch.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _channel(self, endpoint: Endpoint) -> grpc.Channel:
        with self._lock:
            ch = self._channels.get(endpoint)
            if ch is None:
                ch = sync_channel(endpoint, self._tls)
                self._channels[endpoint] = ch
            return ch

    def _metadata(self, trace: bool = False) -> tuple[tuple[str, str], ...]:
        md: list[tuple[str, str]] = []
        if self._api_key is not None:
            md.append(self._api_key.header())
        if trace:
            tp = _tracing.traceparent()
            if tp:
                md.append(("traceparent", tp))
        return tuple(md)

    def _retry_wait(self, err: CorvoError, backoff: Backoff, deadline: float) -> bool:
        """After a retryable error: follow its hints and wait. False when out of time."""
        failed = self._endpoints.current.url
        if not (err.leader and self._endpoints.follow_leader(err.leader)):
            if err.code == grpc.StatusCode.UNAVAILABLE:
                self._endpoints.failed()
        hint = (err.retry_after_ms or 0) / 1000.0
        wait = backoff.next(at_least=hint)
        if time.monotonic() + wait >= deadline:
            return False
        log.debug("%s: %s; retrying on %s in %.2f s", failed, err, self._endpoints.current.url, wait)
        time.sleep(wait)
        return True

    def _unary(
        self,
        service: str,
        method: str,
        request: Message,
        response_type: type[R],
        *,
        trace: bool = False,
        extra_time: float = 0.0,
    ) -> R:
        deadline = time.monotonic() + self.call_timeout + extra_time
        backoff = Backoff()
        metadata = self._metadata(trace)
        while True:
            endpoint = self._endpoints.current
            call: grpc.UnaryUnaryMultiCallable[Message, R] = self._channel(endpoint).unary_unary(
                f"/corvo.v1.{service}/{method}",
                request_serializer=type(request).SerializeToString,
                response_deserializer=response_type.FromString,
            )
            remaining = max(0.001, deadline - time.monotonic())
            try:
                response: R = call(request, timeout=remaining, metadata=metadata)
                return response
            except grpc.RpcError as e:
                err = _status_error(e)
            retryable = _retryable(err)
            if not retryable or not self._retry_wait(err, backoff, deadline):
                raise err from None

    # --- enqueue -----------------------------------------------------------------------------

    def enqueue(
        self,
        queue: str,
        payload: Any = None,
        *,
        priority: str | int | None = None,
        max_attempts: int | None = None,
        backoff: BackoffPolicy | None = None,
        scheduled_at: _dt.datetime | None = None,
        delay: Duration | None = None,
        expire_after: Duration | None = None,
        unique_key: str | None = None,
        unique_period: Duration | None = None,
        idempotency_key: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> EnqueueResult:
        """Enqueues one job.

        Args:
            queue: the queue's name.
            payload: any JSON-serializable value, or a ``str`` holding JSON text; default ``{}``.
            priority: ``critical``, ``high``, ``normal`` (default) or ``low``.
            max_attempts: attempts in total, the first included (default 3).
            backoff: the retry policy, e.g. ``Backoff("fixed", base_ms=1000)``.
            scheduled_at: do not deliver before this (aware) time; or ``delay`` (seconds or a
                timedelta) from now.
            expire_after: the job dies ("expired") if it has not started this long after
                enqueue.
            unique_key, unique_period: at most one job per (queue, key) within the period
                (default 1 h); an enqueue with a key already held answers ``duplicate`` with
                the existing job's id.
            idempotency_key: the call's identity (1 to 255 bytes): another enqueue to the queue
                with the same key within the server's window (24 h) creates nothing and answers
                the first one's job (``replayed``). Default: a fresh random key per call, the
                same on the SDK's own retries of it; give one to make retries across calls or
                processes safe too.
            tags: free-form labels (strings), returned to the worker and searchable.
        """
        item = EnqueueItem(
            queue=queue,
            payload=payload,
            priority=priority,
            max_attempts=max_attempts,
            backoff=backoff,
            scheduled_at=scheduled_at,
            delay=delay,
            expire_after=expire_after,
            unique_key=unique_key,
            unique_period=unique_period,
            tags=tags or {},
            idempotency_key=idempotency_key,
        )
        # Built once: every retry below sends the same idempotency key.
        resp = self._unary(
            "WorkerService", "Enqueue", enqueue_request(item), worker_pb2.EnqueueResponse, trace=True
        )
        duplicate = resp.unique_existing or resp.replayed
        status = resp.status or ("duplicate" if duplicate else state_name(resp.state))
        return EnqueueResult(resp.job_id, status, resp.replayed)

    def enqueue_batch(self, items: Iterable[EnqueueItem]) -> list[str]:
        """Enqueues many jobs over one ``StreamLifecycle`` stream (at most 1000 per frame) and
        returns their ids in order (an existing job's id for a held unique key or a matched
        idempotency key; each item without one gets a fresh key). Raises :class:`CorvoError`
        for an item the server refuses (the message names its index; the items before it are
        enqueued)."""
        return [r.job_id for r in self.enqueue_batch_results(items)]

    def enqueue_batch_results(self, items: Iterable[EnqueueItem]) -> list[EnqueueResult]:
        """:meth:`enqueue_batch` returning each job's :class:`EnqueueResult` (status,
        ``replayed``) instead of its id."""
        # Built once: a frame sent again carries the same idempotency keys.
        reqs = [enqueue_request(i) for i in items]
        results: list[EnqueueResult | None] = [None] * len(reqs)
        frames: list[list[int]] = []
        size = 0
        for i, r in enumerate(reqs):
            n = len(r.payload_json) + 256
            if not frames or len(frames[-1]) >= BATCH_FRAME_ITEMS or size + n > BATCH_FRAME_BYTES:
                frames.append([])
                size = 0
            frames[-1].append(i)
            size += n
        if frames:
            with _BatchStream(self) as stream:
                for indexes in frames:
                    stream.enqueue(reqs, indexes, results)
        return [r if r is not None else EnqueueResult("", "") for r in results]

    # --- jobs --------------------------------------------------------------------------------

    def get_job(self, job_id: str) -> job_pb2.Job:
        """The job with its state, attempts, lease, progress, checkpoint, result, last error."""
        return self._unary(
            "JobService", "GetJob", job_pb2.GetJobRequest(job_id=job_id), job_pb2.GetJobResponse
        ).job

    def list_jobs(
        self,
        *,
        queue: str | None = None,
        state: str | int | None = None,
        priority: str | int | None = None,
        tags: Mapping[str, str] | None = None,
        payload_contains: str | None = None,
        error_contains: str | None = None,
        created_after: _dt.datetime | None = None,
        created_before: _dt.datetime | None = None,
        page_size: int = 100,
        page_token: str = "",
        consistent: bool = False,
    ) -> JobPage:
        """One page of the jobs matching every filter given, newest first. ``consistent``
        waits until every write acknowledged before the call is visible."""
        req = job_pb2.ListJobsRequest(
            queue=queue or "",
            state=state_value(state) if state is not None else 0,  # type: ignore[arg-type]
            priority=priority_value(priority),  # type: ignore[arg-type]
            payload_contains=payload_contains or "",
            error_contains=error_contains or "",
            page_size=page_size,
            page_token=page_token,
            consistent=consistent,
        )
        for k, v in (tags or {}).items():
            req.tags[k] = v
        if created_after is not None:
            req.created_after.CopyFrom(timestamp(created_after))
        if created_before is not None:
            req.created_before.CopyFrom(timestamp(created_before))
        resp = self._unary("JobService", "ListJobs", req, job_pb2.ListJobsResponse)
        return JobPage(list(resp.jobs), resp.next_page_token)

    def iter_jobs(self, **filters: Any) -> Iterator[job_pb2.Job]:
        """Every job :meth:`list_jobs` selects, page after page."""
        token = ""
        while True:
            page = self.list_jobs(page_token=token, **filters)
            yield from page.jobs
            if not page.next_page_token:
                return
            token = page.next_page_token

    def cancel_job(self, job_id: str) -> str:
        """Cancels a job that is not finished; returns its state (``cancelled``). A running
        job's worker is told to stop."""
        resp = self._unary(
            "JobService", "CancelJob", job_pb2.CancelJobRequest(job_id=job_id), job_pb2.CancelJobResponse
        )
        return state_name(resp.state)

    def retry_job(self, job_id: str) -> str:
        """Puts a dead, cancelled or completed job back to pending with a fresh attempt
        budget; returns its state."""
        resp = self._unary(
            "JobService", "RetryJob", job_pb2.RetryJobRequest(job_id=job_id), job_pb2.RetryJobResponse
        )
        return state_name(resp.state)

    def delete_job(self, job_id: str) -> None:
        """Removes a job that is not active."""
        self._unary(
            "JobService", "DeleteJob", job_pb2.DeleteJobRequest(job_id=job_id), job_pb2.DeleteJobResponse
        )

    def bulk_jobs(
        self,
        action: str | int,
        ids: Sequence[str] | None = None,
        *,
        filter: Mapping[str, Any] | job_pb2.JobFilter | None = None,
        all_jobs: bool = False,
        target_queue: str | None = None,
        priority: str | int | None = None,
    ) -> job_pb2.BulkJobsResponse:
        """Acts on many jobs: ``action`` is ``retry``, ``cancel``, ``delete``, ``move`` (to
        ``target_queue``) or ``set_priority`` (to ``priority``); the jobs are ``ids`` (at most
        1000, each with its own result) or those ``filter`` selects (a ``JobFilter`` or a dict
        of :func:`corvo_sdk.job_filter` arguments: queue, states, priority, tags,
        payload_contains, error_contains, created_after, created_before). An empty filter needs
        ``all_jobs=True``. Beyond 1000 jobs the response has an ``operation_id`` to follow with
        :meth:`get_operation`."""
        if isinstance(action, str):
            try:
                action_value = BULK_ACTIONS[action.lower()]
            except KeyError:
                raise ValueError(f"unknown bulk action {action!r} ({', '.join(BULK_ACTIONS)})") from None
        else:
            action_value = action  # type: ignore[assignment]
        req = job_pb2.BulkJobsRequest(
            action=action_value,
            job_ids=list(ids or []),
            all_jobs=all_jobs,
            target_queue=target_queue or "",
            priority=priority_value(priority),  # type: ignore[arg-type]
        )
        if filter is not None:
            f = filter if isinstance(filter, job_pb2.JobFilter) else job_filter(**filter)
            req.filter.CopyFrom(f)
        return self._unary("JobService", "BulkJobs", req, job_pb2.BulkJobsResponse)

    def get_operation(self, operation_id: str) -> job_pb2.Operation:
        """A bulk operation's progress (from bulk_jobs, clear_queue, destroy_queue)."""
        return self._unary(
            "JobService",
            "GetOperation",
            job_pb2.GetOperationRequest(operation_id=operation_id),
            job_pb2.GetOperationResponse,
        ).operation

    def list_operations(self) -> list[job_pb2.Operation]:
        """The operations kept (the newest 256), newest first."""
        resp = self._unary(
            "JobService", "ListOperations", job_pb2.ListOperationsRequest(), job_pb2.ListOperationsResponse
        )
        return list(resp.operations)

    # --- queues ------------------------------------------------------------------------------

    def list_queues(self) -> list[queue_pb2.Queue]:
        """Every queue with jobs or settings, in name order."""
        resp = self._unary(
            "QueueService", "ListQueues", queue_pb2.ListQueuesRequest(), queue_pb2.ListQueuesResponse
        )
        return list(resp.queues)

    def get_queue(self, name: str) -> queue_pb2.Queue:
        return self._unary(
            "QueueService", "GetQueue", queue_pb2.GetQueueRequest(queue=name), queue_pb2.GetQueueResponse
        ).queue

    def pause_queue(self, name: str) -> queue_pb2.Queue:
        """Stops handing out the queue's jobs (enqueues are still accepted)."""
        return self._unary(
            "QueueService", "PauseQueue", queue_pb2.PauseQueueRequest(queue=name), queue_pb2.PauseQueueResponse
        ).queue

    def resume_queue(self, name: str) -> queue_pb2.Queue:
        return self._unary(
            "QueueService",
            "ResumeQueue",
            queue_pb2.ResumeQueueRequest(queue=name),
            queue_pb2.ResumeQueueResponse,
        ).queue

    def drain_queue(self, name: str, wait: Duration = 0) -> queue_pb2.DrainQueueResponse:
        """Pauses the queue, then waits (at most ``wait``, up to 10 min) until none of its jobs
        is active; ``drained`` says whether they all finished."""
        wait_ms = millis(wait, "wait")
        req = queue_pb2.DrainQueueRequest(queue=name, wait_ms=wait_ms)
        # The call itself waits: it gets that long on top of the call timeout.
        return self._unary(
            "QueueService", "DrainQueue", req, queue_pb2.DrainQueueResponse, extra_time=wait_ms / 1000.0
        )

    def clear_queue(self, name: str) -> queue_pb2.ClearQueueResponse:
        """Removes the queue's pending, scheduled and retrying jobs (``removed``, or an
        ``operation_id`` to follow for a large queue)."""
        return self._unary(
            "QueueService", "ClearQueue", queue_pb2.ClearQueueRequest(queue=name), queue_pb2.ClearQueueResponse
        )

    def destroy_queue(self, name: str, confirm: str) -> str:
        """Removes every job of the queue and its settings; ``confirm`` must repeat the name.
        Returns the operation id."""
        return self._unary(
            "QueueService",
            "DestroyQueue",
            queue_pb2.DestroyQueueRequest(queue=name, confirm=confirm),
            queue_pb2.DestroyQueueResponse,
        ).operation_id

    def set_queue_limits(
        self,
        name: str,
        concurrency: int = 0,
        rate_starts: int = 0,
        rate_window: Duration = 0,
    ) -> queue_pb2.Queue:
        """At most ``concurrency`` active jobs, and ``rate_starts`` starts per ``rate_window``
        (1 s to 1 day; default 1 s); 0 removes a limit."""
        req = queue_pb2.SetQueueLimitsRequest(
            queue=name,
            concurrency=concurrency,
            rate_starts=rate_starts,
            rate_window_ms=millis(rate_window, "rate_window"),
        )
        return self._unary("QueueService", "SetQueueLimits", req, queue_pb2.SetQueueLimitsResponse).queue

    def set_queue_retention(
        self, name: str, retention: Duration = 0, dead_retention: Duration = 0
    ) -> queue_pb2.Queue:
        """How long the queue's completed and cancelled (``retention``) and dead
        (``dead_retention``) jobs are kept; 0 means the cluster's default."""
        req = queue_pb2.SetQueueRetentionRequest(
            queue=name,
            retention_ms=millis(retention, "retention"),
            dead_retention_ms=millis(dead_retention, "dead_retention"),
        )
        return self._unary(
            "QueueService", "SetQueueRetention", req, queue_pb2.SetQueueRetentionResponse
        ).queue

    def list_workers(self, queue: str | None = None) -> list[queue_pb2.WorkerStream]:
        """The worker streams connected (only those taking jobs from ``queue`` when given)."""
        resp = self._unary(
            "QueueService",
            "ListWorkers",
            queue_pb2.ListWorkersRequest(queue=queue or ""),
            queue_pb2.ListWorkersResponse,
        )
        return list(resp.workers)

    def server_version(self) -> str:
        """The answering node's build version."""
        return self._unary(
            "WorkerService",
            "GetServerInfo",
            worker_pb2.GetServerInfoRequest(),
            worker_pb2.GetServerInfoResponse,
        ).server_version


def _retryable(err: CorvoError) -> bool:
    """UNAVAILABLE (a node down, no leader, shed) and rate limits with a hint; not a TLS
    handshake that failed (a certificate problem does not go away), nor UNKNOWN
    (``ERROR_CODE_OUTCOME_UNKNOWN``: the write may have been applied)."""
    if err.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return err.retry_after_ms is not None
    return err.code == grpc.StatusCode.UNAVAILABLE and "handshake failed" not in err.message.lower()


def _transport_failure(details: str, md: dict[str, str]) -> bool:
    """An UNKNOWN status that is really the connection failing: the connection broke mid-call
    ("Stream removed", but not an answer that arrived malformed), or an answer carrying the
    server's retry hints whose status grpc could not read (a follower's forward to a leader
    that just died)."""
    if "x-corvo-leader" in md or "grpc-retry-pushback-ms" in md:
        return True
    return details.startswith("Stream removed") and "END_STREAM" not in details


def _status_error(e: grpc.RpcError) -> CorvoError:
    code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
    details = (e.details() if hasattr(e, "details") else None) or str(e)
    md: dict[str, str] = {}
    if hasattr(e, "initial_metadata"):
        md.update(metadata_dict(e.initial_metadata()))
    if hasattr(e, "trailing_metadata"):
        md.update(metadata_dict(e.trailing_metadata()))
    if code == grpc.StatusCode.UNKNOWN and _transport_failure(details, md):
        code = grpc.StatusCode.UNAVAILABLE
    return CorvoError.from_status(code, details, md)


class _BatchStream:
    """The stream :meth:`Client.enqueue_batch` sends its frames on, one at a time, reopened
    (following hints) when it breaks; a frame refused whole is sent again after its hint."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.request_id = 0
        self.out: _queue.Queue[worker_pb2.StreamLifecycleRequest | None] | None = None
        self.responses: Any = None
        self.call: Any = None

    def __enter__(self) -> _BatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        out: _queue.Queue[worker_pb2.StreamLifecycleRequest | None] = _queue.Queue()

        def requests() -> Iterator[worker_pb2.StreamLifecycleRequest]:
            while True:
                frame = out.get()
                if frame is None:
                    return
                yield frame

        c = self.client
        method: grpc.StreamStreamMultiCallable[
            worker_pb2.StreamLifecycleRequest, worker_pb2.StreamLifecycleResponse
        ] = c._channel(c._endpoints.current).stream_stream(
            "/corvo.v1.WorkerService/StreamLifecycle",
            request_serializer=worker_pb2.StreamLifecycleRequest.SerializeToString,
            response_deserializer=worker_pb2.StreamLifecycleResponse.FromString,
        )
        self.out = out
        self.call = method(requests(), metadata=c._metadata(trace=True))
        self.responses = iter(self.call)

    def close(self) -> None:
        if self.out is not None:
            self.out.put(None)
        if self.call is not None:
            self.call.cancel()
        self.out = self.responses = self.call = None

    def exchange(self, frame: worker_pb2.StreamLifecycleRequest, deadline: float) -> worker_pb2.StreamLifecycleResponse:
        if self.out is None:
            self.open()
        assert self.out is not None
        self.out.put(frame)
        # A silent server must not hold the caller forever.
        timer = threading.Timer(max(0.001, deadline - time.monotonic()), self._expire)
        timer.daemon = True
        timer.start()
        try:
            while True:
                resp: worker_pb2.StreamLifecycleResponse = next(self.responses)
                if resp.request_id == frame.request_id:
                    return resp
        except StopIteration:
            raise CorvoError("the server ended the stream", code=grpc.StatusCode.UNAVAILABLE) from None
        except grpc.RpcError as e:
            raise _status_error(e) from None
        finally:
            timer.cancel()

    def _expire(self) -> None:
        call = self.call
        if call is not None:
            call.cancel()

    def enqueue(
        self,
        reqs: list[worker_pb2.EnqueueRequest],
        indexes: list[int],
        out: list[EnqueueResult | None],
    ) -> None:
        c = self.client
        deadline = time.monotonic() + c.call_timeout
        backoff = Backoff()
        todo = list(indexes)
        while todo:
            self.request_id += 1
            frame = worker_pb2.StreamLifecycleRequest(request_id=self.request_id)
            for i in todo:
                r = reqs[i]
                frame.enqueues.append(
                    worker_pb2.LifecycleEnqueueItem(queue=r.queue, payload_json=r.payload_json, options=r.options)
                )
            try:
                resp = self.exchange(frame, deadline)
            except CorvoError as broken:
                self.close()
                if broken.code == grpc.StatusCode.CANCELLED and time.monotonic() >= deadline:
                    raise CorvoError(
                        "enqueue_batch: no answer within the call timeout",
                        code=grpc.StatusCode.DEADLINE_EXCEEDED,
                    ) from None
                if not _retryable(broken) or not c._retry_wait(broken, backoff, deadline):
                    raise
                continue
            results = list(resp.enqueue_results)
            if resp.error_code and not results:
                err = CorvoError(
                    f"enqueue_batch: {resp.error}",
                    code=grpc.StatusCode.OK,
                    error_code=resp.error_code,
                    retry_after_ms=resp.retry_after_ms or None,
                    leader=resp.leader_addr or None,
                )
                if resp.error_code == worker_pb2.ERROR_CODE_NOT_LEADER:
                    self.close()
                    err.code = grpc.StatusCode.UNAVAILABLE
                elif resp.error_code not in _TRANSIENT:
                    raise err
                if not c._retry_wait(err, backoff, deadline):
                    raise err
                continue
            again: list[int] = []
            for i, res in zip(todo, results):
                if res.code == worker_pb2.ERROR_CODE_UNSPECIFIED:
                    out[i] = _item_result(res)
                elif res.code in _TRANSIENT:
                    again.append(i)
                else:
                    raise CorvoError(
                        f"enqueue_batch item {i}: {res.message}",
                        code=grpc.StatusCode.OK,
                        error_code=res.code,
                    )
            if len(results) < len(todo):
                again.extend(todo[len(results) :])
            if again:
                time.sleep(backoff.next(at_least=resp.retry_after_ms / 1000.0))
            todo = again


def _item_result(res: worker_pb2.ItemResult) -> EnqueueResult:
    """An accepted enqueue item: its message is ``duplicate`` (a held unique key) or
    ``replayed`` (a matched idempotency key) when no job was created."""
    replayed = res.message == "replayed"
    if replayed or res.message == "duplicate":
        return EnqueueResult(res.job_id, "duplicate", replayed)
    return EnqueueResult(res.job_id, state_name(res.state))
