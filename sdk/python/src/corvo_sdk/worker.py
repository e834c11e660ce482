"""The worker runtime: one ``StreamLifecycle`` stream, a handler per queue.

```python
from corvo_sdk import Worker

worker = Worker("http://127.0.0.1:8080", concurrency=8)

async def send_email(ctx):
    await mailer.send(ctx.payload["to"])
    return {"sent": True}

worker.handle("emails", send_email)
worker.run_sync()          # until SIGTERM/SIGINT or worker.stop()
```

See sdk/SPEC.md for what it does: credits, heartbeats, cancellation, outcomes never lost,
reconnects, leader hints, graceful drain.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import secrets
import signal
import socket
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Deque, Mapping, NoReturn, Sequence, Tuple

import grpc

from corvo.v1 import worker_pb2

from . import _tracing
from ._bookkeeping import SHUTTING_DOWN, Bookkeeper, Outcome
from ._connection import (
    ApiKey,
    Backoff,
    Endpoint,
    Endpoints,
    PemSource,
    Tls,
    aio_channel,
    metadata_dict,
)
from ._convert import PRIORITY_NAMES, Duration, decode_json, seconds
from .errors import CorvoError, JobFailed, WorkerError

log = logging.getLogger("corvo_sdk")

CONCURRENCY_MAX = 4096
LEASE_DEFAULT = 60
DRAIN_TIMEOUT_DEFAULT = 30.0
#: After the drain, how long outcomes may take to reach the server.
FLUSH_GRACE = 10.0
#: The same after a second stop signal.
FLUSH_GRACE_FORCED = 1.0
#: A stream whose oldest frame has had no answer for this long is given up and reopened.
STALL_TIMEOUT = 60.0
STREAM_METHOD = "/corvo.v1.WorkerService/StreamLifecycle"

#: Stream statuses a reconnect cannot fix. The first two end the run whenever they come; the
#: others only when the stream never worked (a stream closed later for invalid frames is
#: opened again).
_REFUSED_ALWAYS = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
_REFUSED_AT_OPEN = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNIMPLEMENTED)

Handler = Callable[["JobContext"], Any]
"""A handler: ``async def handler(ctx)`` or a plain ``def handler(ctx)`` (run in a thread).
Its return value (JSON-serializable) is the job's result; raising fails the job."""


class JobContext:
    """A job handed to a handler.

    Attributes:
        id, queue, attempt (1-based), max_attempts, priority (``critical|high|normal|low``),
        payload (parsed JSON), checkpoint (the previous attempt's checkpoint, parsed, or None),
        tags (dict), trace_parent (the producer's W3C traceparent, or ""), lease_token, and
        ``job``: the ``FetchBatchJob`` message as received.
        cancelled: an ``asyncio.Event`` set when the server says stop (the job was cancelled,
            reassigned after a lost lease, or finished elsewhere) or the worker gives it up.
    """

    def __init__(
        self,
        job: worker_pb2.FetchBatchJob,
        notify: Callable[[str, str | None, str | None], None],
    ) -> None:
        self.job = job
        self.id = job.job_id
        self.queue = job.queue
        self.attempt = job.attempt
        self.max_attempts = job.max_retries
        self.priority = PRIORITY_NAMES.get(job.priority, "normal")
        self.payload: Any = decode_json(job.payload_json, {})
        self.checkpoint: Any = decode_json(job.checkpoint_json, None)
        tags = decode_json(job.tags_json, {})
        self.tags: dict[str, str] = (
            {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}
        )
        self.trace_parent = job.trace_parent
        self.lease_token = job.lease_token
        self.cancelled = asyncio.Event()
        self._cancelled = threading.Event()
        self._notify = notify

    def progress(self, value: Mapping[str, Any]) -> None:
        """Reports progress (a JSON object): stored with the next heartbeat, within a second,
        and visible through GetJob. Thread-safe."""
        self._notify(self.id, _object_json(value, "progress"), None)

    def save_checkpoint(self, value: Mapping[str, Any]) -> None:
        """Saves a checkpoint (a JSON object), stored like progress and handed to the next
        attempt (``ctx.checkpoint``) if this one fails. Thread-safe."""
        self._notify(self.id, None, _object_json(value, "checkpoint"))

    def is_cancelled(self) -> bool:
        """Whether the server said to stop this job. Thread-safe."""
        return self._cancelled.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Blocks until the job is cancelled or ``timeout`` seconds pass; for plain (threaded)
        handlers. Returns :meth:`is_cancelled`."""
        return self._cancelled.wait(timeout)

    def fail(self, message: str) -> NoReturn:
        """Fails the job with ``message`` (raises :class:`JobFailed`)."""
        raise JobFailed(message)

    def _cancel(self) -> None:
        self._cancelled.set()
        self.cancelled.set()

    def __repr__(self) -> str:
        return f"JobContext(id={self.id!r}, queue={self.queue!r}, attempt={self.attempt})"


def _object_json(value: Mapping[str, Any], what: str) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a JSON object (a dict), got {type(value).__name__}")
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} is not JSON-serializable: {e}") from None


def default_worker_id(hostname: str) -> str:
    """``<hostname>-<8 random hex>``: unique per process start."""
    return f"{hostname}-{secrets.token_hex(4)}"


class Worker:
    """Runs a handler for every job of some queues over one ``StreamLifecycle`` stream.

    Args:
        servers: one node URL or several (``http://`` or ``https://``); default
            ``http://127.0.0.1:8080``.
        api_key: sent as ``authorization: Bearer <key>``; default ``$CORVO_API_KEY``.
        ca_cert: a CA certificate (PEM path or bytes) to trust instead of the system roots.
        client_cert, client_key: a client certificate and key (PEM) for mTLS.
        worker_id: shown in ``corvo workers`` and job state; default ``<hostname>-<8 hex>``.
        concurrency: jobs run at once (1..4096).
        lease: the lease asked for, seconds (1..3600); heartbeats go out every third of it.
        drain_timeout: after a stop, how long running jobs may finish (seconds).
        handle_signals: stop gracefully on SIGTERM and SIGINT while :meth:`run` runs (main
            thread only).
    """

    def __init__(
        self,
        servers: str | Sequence[str] | None = None,
        *,
        api_key: str | None = None,
        ca_cert: PemSource | None = None,
        client_cert: PemSource | None = None,
        client_key: PemSource | None = None,
        worker_id: str | None = None,
        hostname: str | None = None,
        concurrency: int = 1,
        lease: Duration = LEASE_DEFAULT,
        drain_timeout: Duration = DRAIN_TIMEOUT_DEFAULT,
        handle_signals: bool = True,
    ) -> None:
        if not 1 <= concurrency <= CONCURRENCY_MAX:
            raise ValueError(f"concurrency must be 1..{CONCURRENCY_MAX}, got {concurrency}")
        lease_secs = seconds(lease, "lease")
        if not 1 <= lease_secs <= 3600:
            raise ValueError(f"lease must be 1..3600 seconds, got {lease_secs:g}")
        self._endpoints = Endpoints(servers)
        self._tls = Tls.load(ca_cert, client_cert, client_key)
        self._api_key = ApiKey.resolve(api_key)
        self.hostname = hostname or socket.gethostname() or "localhost"
        self.worker_id = worker_id or default_worker_id(self.hostname)
        self.concurrency = concurrency
        self.lease_secs = int(round(lease_secs))
        self.drain_timeout = seconds(drain_timeout, "drain_timeout")
        self.handle_signals = handle_signals
        self._handlers: dict[str, Handler] = {}
        self._runner: _Runner | None = None
        self._stop_before_run = 0

    def handle(self, queue: str, handler: Handler) -> Handler:
        """Runs ``handler`` for the jobs of ``queue`` (one handler per queue; a handler may
        serve several queues). Returns the handler."""
        if not queue:
            raise ValueError("queue must not be empty")
        if not callable(handler):
            raise TypeError("handler must be callable")
        if queue in self._handlers:
            raise ValueError(f"queue {queue!r} already has a handler")
        self._handlers[queue] = handler
        return handler

    @property
    def queues(self) -> list[str]:
        return list(self._handlers)

    def stop(self) -> None:
        """Starts the graceful drain (as SIGTERM does); a second call stops at once. Safe to
        call from any thread, and from a handler."""
        runner = self._runner
        if runner is None:
            self._stop_before_run += 1
            return
        runner.post_threadsafe(("stop",))

    def run_sync(self) -> None:
        """:meth:`run` in a new event loop (``asyncio.run``)."""
        asyncio.run(self.run())

    async def run(self) -> None:
        """Works jobs until stopped (SIGTERM/SIGINT, or :meth:`stop`), then drains and
        returns. Raises :class:`WorkerError` when the server refuses the worker for good (an
        invalid or revoked key, a queue outside the key's scopes)."""
        if not self._handlers:
            raise ValueError("no handler: call worker.handle(queue, handler) first")
        if self._runner is not None:
            raise RuntimeError("this worker is already running")
        loop = asyncio.get_running_loop()
        runner = _Runner(self, loop)
        self._runner = runner
        for _ in range(self._stop_before_run):
            runner.post(("stop",))
        self._stop_before_run = 0
        installed = self._install_signals(loop, runner) if self.handle_signals else []
        try:
            await runner.main()
        finally:
            for sig, previous in installed:
                _remove_signal(loop, sig, previous)
            self._runner = None

    def _install_signals(
        self, loop: asyncio.AbstractEventLoop, runner: _Runner
    ) -> list[tuple[int, Any]]:
        """SIGTERM and SIGINT start the drain while run() runs; the previous handlers come
        back afterwards."""
        if threading.current_thread() is not threading.main_thread():
            return []
        installed: list[tuple[int, Any]] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, runner.post, ("stop", signal.Signals(sig).name))
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            installed.append((sig, previous))
        return installed


def _remove_signal(loop: asyncio.AbstractEventLoop, sig: int, previous: Any) -> None:
    try:
        loop.remove_signal_handler(sig)
        if previous is not None:
            signal.signal(sig, previous)
    except (NotImplementedError, RuntimeError, ValueError, TypeError):
        pass


@dataclass(eq=False)
class _Stream:
    sid: int
    endpoint: Endpoint
    call: Any  # grpc.aio.StreamStreamCall
    outbox: asyncio.Queue[worker_pb2.StreamLifecycleRequest] = field(
        default_factory=asyncio.Queue
    )
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    healthy: bool = False


#: ("resp", sid, response) | ("end", sid, code, details, metadata) | ("done", job id, Outcome)
#: | ("values", job id, progress, checkpoint) | ("stop", why)
Event = Tuple[Any, ...]


class _Runner:
    """One run of a worker: owns the bookkeeping, the stream and the job tasks; everything
    happens on the event loop's thread, driven by events."""

    def __init__(self, cfg: Worker, loop: asyncio.AbstractEventLoop) -> None:
        self.cfg = cfg
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.bk = Bookkeeper(
            queues=cfg.queues,
            worker_id=cfg.worker_id,
            hostname=cfg.hostname,
            concurrency=cfg.concurrency,
            lease_secs=cfg.lease_secs,
        )
        self.inbox: Deque[Event] = deque()
        self.wake = asyncio.Event()
        self.metadata: tuple[tuple[str, str], ...] = (
            (cfg._api_key.header(),) if cfg._api_key is not None else ()
        )
        self.channels: dict[Endpoint, grpc.aio.Channel] = {}
        self.stream: _Stream | None = None
        self.streams: dict[int, _Stream] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.contexts: dict[str, JobContext] = {}
        self.backoff = Backoff()
        self.reconnect_at = 0.0
        self.stops = 0
        self.drain_deadline: float | None = None
        self.flush_deadline: float | None = None
        self.flush_grace = FLUSH_GRACE
        self.fatal: CorvoError | None = None
        self.connected_once = False

    # --- events ------------------------------------------------------------------------------

    def post(self, ev: Event) -> None:
        self.inbox.append(ev)
        self.wake.set()

    def post_threadsafe(self, ev: Event) -> None:
        if threading.get_ident() == self.loop_thread:
            self.post(ev)
            return
        try:
            self.loop.call_soon_threadsafe(self.post, ev)
        except RuntimeError:
            pass  # the loop is closed: the run is over

    def notify_values(self, job_id: str, progress: str | None, checkpoint: str | None) -> None:
        self.post_threadsafe(("values", job_id, progress, checkpoint))

    async def main(self) -> None:
        log.info(
            "worker %s: working %s at concurrency %d on %s",
            self.cfg.worker_id,
            ", ".join(self.cfg.queues),
            self.cfg.concurrency,
            ", ".join(e.url for e in self.cfg._endpoints.configured),
        )
        try:
            while True:
                self.handle_events()
                if self.fatal is not None:
                    raise self.fatal
                now = time.monotonic()
                if self.finished(now):
                    break
                self.check_stalled(now)
                self.maybe_connect(now)
                self.flush()
                if self.inbox:
                    continue
                timeout = self.timeout(time.monotonic())
                self.wake.clear()
                if self.inbox:
                    continue
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
        finally:
            await self.shutdown()
        if self.bk.dropped:
            log.warning("worker %s: %d outcomes were refused by the server", self.cfg.worker_id, self.bk.dropped)
        log.info("worker %s: stopped", self.cfg.worker_id)

    def handle_events(self) -> None:
        while self.inbox:
            ev = self.inbox.popleft()
            kind = ev[0]
            if kind == "resp":
                self.on_response(ev[1], ev[2])
            elif kind == "end":
                self.on_stream_end(ev[1], ev[2], ev[3], ev[4])
            elif kind == "done":
                self.on_done(ev[1], ev[2])
            elif kind == "values":
                self.bk.set_values(ev[1], ev[2], ev[3])
            elif kind == "stop":
                self.on_stop(ev[1] if len(ev) > 1 else "stop()")

    def timeout(self, now: float) -> float | None:
        times: list[float] = []
        wake = self.bk.next_wakeup()
        if wake is not None:
            times.append(wake)
        if self.stream is None and self.wants_stream():
            times.append(self.reconnect_at)
        if self.drain_deadline is not None and self.bk.busy():
            times.append(self.drain_deadline)
        if self.flush_deadline is not None:
            times.append(self.flush_deadline)
        if self.stream is not None:
            oldest = self.bk.oldest_unanswered(self.stream.sid)
            if oldest is not None:
                times.append(oldest + STALL_TIMEOUT)
        if not times:
            return None
        return max(0.005, min(times) - now)

    # --- streams -----------------------------------------------------------------------------

    def wants_stream(self) -> bool:
        return self.stops == 0 or bool(self.bk.held) or self.bk.pending()

    def channel(self, endpoint: Endpoint) -> grpc.aio.Channel:
        ch = self.channels.get(endpoint)
        if ch is None:
            ch = aio_channel(endpoint, self.cfg._tls)
            self.channels[endpoint] = ch
        return ch

    def check_stalled(self, now: float) -> None:
        """A stream that stopped answering (a node hung, a half-open connection that
        keepalive has not caught yet) is reopened; its frames go again on the next one."""
        st = self.stream
        if st is None:
            return
        oldest = self.bk.oldest_unanswered(st.sid)
        if oldest is None or now - oldest < STALL_TIMEOUT:
            return
        log.warning(
            "worker stream to %s: no answer for %.0f s; reconnecting", st.endpoint.url, now - oldest
        )
        self.close(st)
        self.cfg._endpoints.failed()
        self.reconnect_at = now + self.backoff.next()

    def maybe_connect(self, now: float) -> None:
        if self.stream is not None or now < self.reconnect_at or not self.wants_stream():
            return
        endpoint = self.cfg._endpoints.current
        method: grpc.aio.StreamStreamMultiCallable[
            worker_pb2.StreamLifecycleRequest, worker_pb2.StreamLifecycleResponse
        ] = self.channel(endpoint).stream_stream(
            STREAM_METHOD,
            request_serializer=worker_pb2.StreamLifecycleRequest.SerializeToString,
            response_deserializer=worker_pb2.StreamLifecycleResponse.FromString,
        )
        call = method(metadata=self.metadata)
        st = _Stream(self.bk.open_stream(), endpoint, call)
        st.tasks.append(self.loop.create_task(self.read(st)))
        st.tasks.append(self.loop.create_task(self.write(st)))
        self.stream = st
        self.streams[st.sid] = st
        log.debug("worker stream %d: opening to %s", st.sid, endpoint.url)

    async def read(self, st: _Stream) -> None:
        try:
            while True:
                resp = await st.call.read()
                if resp is grpc.aio.EOF:
                    self.post(("end", st.sid, None, "the server ended the stream", {}))
                    return
                self.post(("resp", st.sid, resp))
        except asyncio.CancelledError:
            raise
        except grpc.aio.AioRpcError as e:
            md = metadata_dict(e.initial_metadata())
            md.update(metadata_dict(e.trailing_metadata()))
            self.post(("end", st.sid, e.code(), e.details() or "", md))
        except Exception as e:  # noqa: BLE001 - a broken stream, whatever broke it
            self.post(("end", st.sid, grpc.StatusCode.UNKNOWN, f"{type(e).__name__}: {e}", {}))

    async def write(self, st: _Stream) -> None:
        try:
            while True:
                await st.call.write(await st.outbox.get())
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the reader reports how the stream ended
            log.debug("worker stream %d: write failed: %s", st.sid, e)

    def flush(self) -> None:
        st = self.stream
        if st is None:
            return
        while True:
            frame = self.bk.next_frame()
            if frame is None:
                return
            st.outbox.put_nowait(frame)

    def close(self, st: _Stream) -> None:
        """Ends ``st`` from this side; what its frames carried goes again on the next one."""
        self.streams.pop(st.sid, None)
        self.bk.close_stream(st.sid)
        if self.stream is st:
            self.stream = None
        st.call.cancel()
        for t in st.tasks:
            t.cancel()

    def on_response(self, sid: int, resp: worker_pb2.StreamLifecycleResponse) -> None:
        st = self.streams.get(sid)
        if st is None:
            return
        r = self.bk.on_response(resp, sid)
        if r.healthy and not st.healthy:
            st.healthy = True
            self.backoff.reset()
            if st is self.stream:
                log.info(
                    "worker %s: %s %s",
                    self.cfg.worker_id,
                    "reconnected to" if self.connected_once else "connected to",
                    st.endpoint.url,
                )
                self.connected_once = True
        for job in r.start:
            self.start(job)
        for job_id in r.cancel:
            ctx = self.contexts.get(job_id)
            if ctx is not None:
                log.info("job %s: the server says stop", job_id)
                ctx._cancel()
        if r.fatal is not None:
            self.fatal = WorkerError(
                f"the server refused the worker: {r.fatal.message}",
                code=r.fatal.code,
                error_code=r.fatal.error_code,
            )
            return
        if r.reconnect:
            moved = self.cfg._endpoints.follow_leader(r.leader)
            log.info(
                "worker stream to %s: not the leader; reconnecting to %s",
                st.endpoint.url,
                self.cfg._endpoints.current.url if moved else "a node that leads",
            )
            self.close(st)
            # A hint is followed at once (the first backoff step is at most 100 ms); without
            # one the server's hint is waited out. Hints that go round in circles back off.
            wait = self.backoff.next(at_least=0.0 if moved else r.retry_after)
            self.reconnect_at = time.monotonic() + wait

    def on_stream_end(
        self, sid: int, code: grpc.StatusCode | None, details: str, md: dict[str, str]
    ) -> None:
        st = self.streams.pop(sid, None)
        if st is None:
            return
        self.bk.close_stream(sid)
        for t in st.tasks:
            t.cancel()
        if st is not self.stream:
            return  # a retired stream, done
        self.stream = None
        if code in _REFUSED_ALWAYS or (code in _REFUSED_AT_OPEN and not st.healthy):
            assert code is not None
            self.fatal = WorkerError(
                f"the server refused the worker stream: {details}",
                code=code,
                error_code=CorvoError.from_status(code, details, md).error_code,
            )
            return
        leader = md.get("x-corvo-leader", "")
        pushback = 0.0
        try:
            pushback = int(md.get("grpc-retry-pushback-ms", "0")) / 1000.0
        except ValueError:
            pass
        if not (leader and self.cfg._endpoints.follow_leader(leader)):
            self.cfg._endpoints.failed()
        wait = self.backoff.next(at_least=pushback)
        self.reconnect_at = time.monotonic() + wait
        what = code.name if code is not None else "ended"
        # A working stream that broke is a warning; so is every tenth failed attempt after it.
        quiet = not st.healthy and self.backoff.attempt % 10 != 1
        log.log(
            logging.INFO if quiet else logging.WARNING,
            "worker stream to %s: %s: %s; reconnecting to %s in %.1f s",
            st.endpoint.url,
            what,
            details,
            self.cfg._endpoints.current.url,
            wait,
        )

    # --- jobs --------------------------------------------------------------------------------

    def start(self, job: worker_pb2.FetchBatchJob) -> None:
        ctx = JobContext(job, self.notify_values)
        self.contexts[job.job_id] = ctx
        handler = self.cfg._handlers.get(job.queue)
        self.tasks[job.job_id] = self.loop.create_task(self.execute(ctx, handler))

    def on_done(self, job_id: str, outcome: Outcome) -> None:
        self.tasks.pop(job_id, None)
        ctx = self.contexts.pop(job_id, None)
        if ctx is not None and ctx.is_cancelled() and outcome.ok:
            log.info("job %s: finished after the server said stop; its result may be refused", job_id)
        nxt = self.bk.job_finished(job_id, outcome)
        if nxt is not None:
            self.start(nxt)

    async def execute(self, ctx: JobContext, handler: Handler | None) -> None:
        outcome: Outcome | None = None
        try:
            with _tracing.execute_span(
                ctx.id, ctx.queue, ctx.attempt, ctx.trace_parent, self.cfg.worker_id
            ) as span:
                try:
                    if handler is None:
                        raise JobFailed(f"this worker has no handler for queue {ctx.queue!r}")
                    result = await self.call(handler, ctx)
                    try:
                        result_json = "" if result is None else json.dumps(
                            result, separators=(",", ":"), ensure_ascii=False
                        )
                    except (TypeError, ValueError) as e:
                        raise JobFailed(f"the handler's result is not JSON-serializable: {e}") from None
                    outcome = Outcome.ack(ctx.id, 0, result_json)
                except JobFailed as e:
                    outcome = Outcome.fail(ctx.id, 0, e.message, traceback.format_exc())
                    span.failed(e.message, None)
                except asyncio.CancelledError:
                    outcome = Outcome.fail(ctx.id, 0, SHUTTING_DOWN if self.stops else "cancelled")
                    span.failed(outcome.error, None)
                    raise
                except Exception as e:  # noqa: BLE001 - any handler error fails the job
                    message = str(e) or type(e).__name__
                    outcome = Outcome.fail(ctx.id, 0, message, traceback.format_exc())
                    span.failed(message, e)
        finally:
            if outcome is None:
                outcome = Outcome.fail(ctx.id, 0, "the handler ended without an outcome")
            self.post(("done", ctx.id, outcome))

    async def call(self, handler: Handler, ctx: JobContext) -> Any:
        if _is_async(handler):
            return await handler(ctx)
        result = await self.in_thread(handler, ctx)
        if inspect.isawaitable(result):
            result = await result
        return result

    def in_thread(self, fn: Callable[[JobContext], Any], ctx: JobContext) -> Awaitable[Any]:
        """Runs ``fn(ctx)`` in a daemon thread (a handler that never returns cannot keep the
        process alive) in a copy of the current context (the handler's span)."""
        fut: asyncio.Future[Any] = self.loop.create_future()
        context = contextvars.copy_context()
        loop = self.loop

        def settle(ok: bool, value: Any) -> None:
            if fut.done():
                return
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

        def target() -> None:
            try:
                value = context.run(fn, ctx)
                ok = True
            except Exception as e:  # noqa: BLE001
                value, ok = e, False
            except BaseException as e:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: a fail
                value, ok = RuntimeError(f"{type(e).__name__}: {e}"), False
            try:
                loop.call_soon_threadsafe(settle, ok, value)
            except RuntimeError:
                pass  # the loop is closed: the run is over

        threading.Thread(target=target, name=f"corvo-job-{ctx.id}", daemon=True).start()
        return fut

    # --- stopping ----------------------------------------------------------------------------

    def on_stop(self, why: str) -> None:
        self.stops += 1
        now = time.monotonic()
        if self.stops == 1:
            # The next frame (sent at once) tells the server, which pushes nothing more.
            self.bk.begin_drain()
            self.drain_deadline = now + self.cfg.drain_timeout
            log.info(
                "worker %s: stopping (%s): taking no new jobs; %d running may finish within %g s",
                self.cfg.worker_id,
                why,
                self.bk.busy(),
                self.cfg.drain_timeout,
            )
        else:
            log.warning("worker %s: stopping at once (%s)", self.cfg.worker_id, why)
            self.drain_deadline = now
            self.flush_grace = FLUSH_GRACE_FORCED
            if self.flush_deadline is not None:
                self.flush_deadline = min(self.flush_deadline, now + FLUSH_GRACE_FORCED)

    def finished(self, now: float) -> bool:
        if self.stops == 0:
            return False
        if self.bk.busy():
            if self.drain_deadline is not None and now >= self.drain_deadline:
                held = self.bk.busy()
                ids = self.bk.fail_running(SHUTTING_DOWN)
                log.warning(
                    "worker %s: %d jobs still running after the drain: failing them back (%s)",
                    self.cfg.worker_id,
                    held,
                    SHUTTING_DOWN,
                )
                for job_id in ids:
                    ctx = self.contexts.get(job_id)
                    if ctx is not None:
                        ctx._cancel()
                    task = self.tasks.get(job_id)
                    if task is not None:
                        task.cancel()
            else:
                return False
        if not self.bk.pending():
            return True
        if self.flush_deadline is None:
            self.flush_deadline = now + self.flush_grace
        if now < self.flush_deadline:
            return False
        lost = sorted(set(self.bk.outcomes) | {h.job_id for h in self.bk.held.values()})
        log.error(
            "worker %s: could not deliver the outcomes of %d jobs (%s); the server retries them when their leases end",
            self.cfg.worker_id,
            len(lost),
            ", ".join(lost[:20]),
        )
        return True

    async def shutdown(self) -> None:
        for st in list(self.streams.values()):
            st.call.cancel()
            for t in st.tasks:
                t.cancel()
        self.streams.clear()
        self.stream = None
        pending = [t for t in self.tasks.values() if not t.done()]
        for ctx in self.contexts.values():
            ctx._cancel()
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for ch in self.channels.values():
            await ch.close()
        self.channels.clear()


def _is_async(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)


__all__ = ["Handler", "JobContext", "Worker", "default_worker_id"]
