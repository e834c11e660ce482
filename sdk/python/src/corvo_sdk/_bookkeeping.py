"""The worker's stream protocol as plain state, without I/O (so it is unit-tested alone).

It holds the jobs this worker has leases on, the outcomes not yet confirmed and the frames in
flight, and decides what the next ``StreamLifecycleRequest`` carries:

- **credits**: ``concurrency`` minus the jobs held minus the credits the server still holds;
  none while draining. A job pushed beyond the free slots (after a refused frame whose credits
  the server had in fact granted) waits here for a slot, heartbeated, and takes the credit its
  predecessor would have granted;
- **outcomes**: every ack and fail stays until its result arrives; a frame refused whole
  (OVERLOADED / UNAVAILABLE without item results) is sent again after ``retry_after_ms``, and
  frames not answered when a stream ends are sent again on the next one. An item refused for
  good (stale lease, not found) is dropped and logged;
- **heartbeats**: every held job at a third of the lease, with the progress and checkpoint set
  since the last one; new values go out within a second. A job that finishes with values not
  yet stored sends them first, and its outcome once they are confirmed (so a failed attempt's
  last checkpoint reaches the next attempt);
- **pacing**: after an OVERLOADED refusal, frames are spaced by the server's retry hint for a
  while, so a rate-limited worker waits instead of hammering;
- **drain**: once draining, every frame carries ``drain`` (the server drops the stream's
  credits and pushes nothing more), and each stream gets one at once even with nothing else
  to say (again if it was refused whole).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import grpc

from corvo.v1 import worker_pb2

from .errors import CorvoError

log = logging.getLogger("corvo_sdk")

#: Items (acks, fails, heartbeats) in one frame; the server takes at most 1024.
FRAME_ITEMS_MAX = 1000
#: Bytes of results, errors and progress in one frame (the server's messages are at most 16 MiB).
FRAME_BYTES_MAX = 8 << 20
#: Longest error message or backtrace the server keeps (64 KiB).
ERROR_BYTES_MAX = 64 << 10
#: New progress or checkpoint values go out at most this long after they are set.
PROGRESS_DELAY = 1.0
#: How long frames stay spaced after an OVERLOADED refusal.
PACING_SECONDS = 30.0
#: The longest gap pacing imposes, whatever the hint.
PACING_GAP_MAX = 5.0
#: Wait after a refusal that came without a retry hint.
RETRY_DEFAULT = 1.0
#: Times an item refused with an unexpected error is sent again before it is dropped.
ITEM_TRIES_MAX = 5

SHUTTING_DOWN = "worker shutting down"

_E = worker_pb2
#: Sent again after the hint. Not OUTCOME_UNKNOWN (a write that may have been applied): the
#: server sends UNAVAILABLE instead when every write was safe to repeat (lease tokens).
_TRANSIENT = (_E.ERROR_CODE_OVERLOADED, _E.ERROR_CODE_UNAVAILABLE)
_FOR_GOOD = (_E.ERROR_CODE_STALE_LEASE, _E.ERROR_CODE_NOT_FOUND, _E.ERROR_CODE_INVALID_STATE)
_FATAL = (_E.ERROR_CODE_UNAUTHENTICATED, _E.ERROR_CODE_PERMISSION_DENIED)


def truncate(text: str, max_bytes: int = ERROR_BYTES_MAX, keep_end: bool = False) -> str:
    """``text`` cut to ``max_bytes`` of UTF-8 (the start, or the end with ``keep_end``)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    marker = "…"
    room = max_bytes - len(marker.encode("utf-8"))
    if keep_end:
        return marker + data[len(data) - room :].decode("utf-8", "ignore")
    return data[:room].decode("utf-8", "ignore") + marker


@dataclass
class Outcome:
    """An ack (``ok``) or a fail waiting for its result."""

    job_id: str
    lease_token: int
    ok: bool
    result_json: str = ""
    error: str = ""
    backtrace: str = ""
    #: The request id of the frame carrying it; 0 while it is to be sent.
    sent_in: int = 0
    #: Send it in a frame of its own (a frame with it was refused as invalid).
    alone: bool = False
    tries: int = 0
    #: The server had said to stop the job: a refusal is expected.
    stopped: bool = False

    @classmethod
    def ack(cls, job_id: str, lease_token: int, result_json: str) -> Outcome:
        return cls(job_id, lease_token, True, result_json=result_json)

    @classmethod
    def fail(cls, job_id: str, lease_token: int, error: str, backtrace: str = "") -> Outcome:
        return cls(
            job_id,
            lease_token,
            False,
            error=truncate(error or "failed"),
            backtrace=truncate(backtrace, keep_end=True),
        )

    def size(self) -> int:
        return len(self.result_json) + len(self.error) + len(self.backtrace) + 64


@dataclass(eq=False)
class Held:
    """A job this worker holds a lease on: running, waiting for a slot, or finished with
    progress not yet stored (``outcome`` set)."""

    job: worker_pb2.FetchBatchJob
    next_heartbeat: float
    running: bool = False
    outcome: Outcome | None = None
    #: The server said to stop it (cancel_job_ids, or a heartbeat refused).
    stopped: bool = False
    progress: str | None = None
    checkpoint: str | None = None
    #: Counts the progress/checkpoint updates; sent and confirmed versions follow it.
    version: int = 0
    sent_version: int = 0
    acked_version: int = 0
    last_values_sent: float = float("-inf")

    @property
    def job_id(self) -> str:
        return self.job.job_id

    def dirty(self) -> bool:
        return self.version > self.sent_version

    def unconfirmed(self) -> bool:
        return self.version > self.acked_version


@dataclass
class Frame:
    """A frame sent and not answered yet."""

    request_id: int
    stream: int
    credits: int
    sent_at: float = 0.0
    acks: list[str] = field(default_factory=list)
    fails: list[str] = field(default_factory=list)
    #: (job id, version of its values sent)
    heartbeats: list[tuple[str, int]] = field(default_factory=list)
    drain: bool = False

    def has_items(self) -> bool:
        return bool(self.acks or self.fails or self.heartbeats)


@dataclass
class Reaction:
    """What the I/O side must do after a response."""

    start: list[worker_pb2.FetchBatchJob] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)
    #: Reconnect (NOT_LEADER), to ``leader`` when the server named it.
    reconnect: bool = False
    leader: str = ""
    retry_after: float = 0.0
    #: End the run: a reconnect cannot fix this.
    fatal: CorvoError | None = None
    #: A frame was answered without a frame-level error: the stream works.
    healthy: bool = False


class Bookkeeper:
    def __init__(
        self,
        *,
        queues: list[str],
        worker_id: str,
        hostname: str,
        concurrency: int,
        lease_secs: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queues = list(queues)
        self.worker_id = worker_id
        self.hostname = hostname
        self.concurrency = concurrency
        self.lease_secs = lease_secs
        self.heartbeat_every = lease_secs / 3.0
        self.clock = clock
        self.held: dict[str, Held] = {}
        self.waiting: deque[str] = deque()
        self.outcomes: dict[str, Outcome] = {}
        self.frames: dict[int, Frame] = {}
        self.stream = 0
        self._streams = 0
        self._request_id = 0
        self.credits_out = 0
        self.draining = False
        #: The stream the server was last told the drain on (0: none).
        self.drain_told = 0
        self.not_before = 0.0
        self.pace_gap = 0.0
        self.pace_until = 0.0
        self.last_sent = float("-inf")
        self.dropped = 0

    # --- streams ---------------------------------------------------------------------------

    def open_stream(self) -> int:
        """A new stream becomes current: the server holds no credits on it yet."""
        self._streams += 1
        self.stream = self._streams
        self.credits_out = 0
        return self.stream

    def close_stream(self, sid: int) -> None:
        """Stream ``sid`` ended: what its frames carried and got no answer is sent again."""
        for rid in [rid for rid, f in self.frames.items() if f.stream == sid]:
            self._requeue(self.frames.pop(rid))
        if sid == self.stream:
            self.stream = 0
            self.credits_out = 0

    # --- jobs --------------------------------------------------------------------------------

    def running_count(self) -> int:
        return sum(1 for h in self.held.values() if h.running)

    def busy(self) -> int:
        """Slots taken: jobs running and jobs waiting for a slot."""
        return sum(1 for h in self.held.values() if h.outcome is None)

    def job_pushed(self, job: worker_pb2.FetchBatchJob, sid: int) -> bool:
        """A job arrived; True when it must start now."""
        now = self.clock()
        if sid == self.stream and self.credits_out > 0:
            self.credits_out -= 1
        existing = self.held.get(job.job_id)
        if existing is not None:
            # Leased to this worker again while its previous lease still runs here.
            existing.job = job
            if existing.outcome is not None:
                existing.outcome.lease_token = job.lease_token
            return False
        # While draining too: a job granted before the stop is this worker's to run (failing
        # it back would spend one of its attempts); the drain timeout bounds it like the rest.
        h = Held(job=job, next_heartbeat=now + self.heartbeat_every)
        self.held[job.job_id] = h
        if self.running_count() < self.concurrency:
            h.running = True
            return True
        self.waiting.append(job.job_id)
        return False

    def job_finished(self, job_id: str, outcome: Outcome) -> worker_pb2.FetchBatchJob | None:
        """A handler returned. Returns a waiting job to start in its slot, if any."""
        h = self.held.get(job_id)
        if h is None or not h.running:
            return None  # failed back already (drain timeout), or not ours any more
        h.running = False
        outcome.lease_token = h.job.lease_token
        outcome.stopped = h.stopped
        if h.unconfirmed():
            h.outcome = outcome  # its last progress goes first
        else:
            del self.held[job_id]
            self.add_outcome(outcome)
        return self._next_waiting()

    def _next_waiting(self) -> worker_pb2.FetchBatchJob | None:
        while self.waiting:
            h = self.held.get(self.waiting.popleft())
            if h is not None and not h.running and h.outcome is None:
                h.running = True
                return h.job
        return None

    def add_outcome(self, outcome: Outcome) -> None:
        self.outcomes[outcome.job_id] = outcome

    def set_values(self, job_id: str, progress: str | None, checkpoint: str | None) -> None:
        """The handler set progress and/or a checkpoint (JSON objects)."""
        h = self.held.get(job_id)
        if h is None or not h.running:
            return
        if progress is not None:
            h.progress = progress
        if checkpoint is not None:
            h.checkpoint = checkpoint
        h.version += 1

    def begin_drain(self) -> None:
        """Stop granting credits and tell the server (the next frame carries ``drain``). Jobs
        already here (running or waiting for a slot) go on."""
        self.draining = True

    def drain_untold(self) -> bool:
        """Draining, and the current stream has not carried a ``drain`` frame yet."""
        return self.draining and self.stream != 0 and self.drain_told != self.stream

    def fail_running(self, error: str = SHUTTING_DOWN) -> list[str]:
        """Fails back every job still held (the drain timeout): those waiting for a slot
        first, then the running ones, whose ids are returned (their handlers are stopped)."""
        while self.waiting:
            h = self.held.get(self.waiting.popleft())
            if h is not None and not h.running and h.outcome is None:
                del self.held[h.job_id]
                self.add_outcome(Outcome.fail(h.job_id, h.job.lease_token, error))
        ids = [h.job_id for h in self.held.values() if h.running]
        for job_id in ids:
            self.job_finished(job_id, Outcome.fail(job_id, 0, error))
        return ids

    def pending(self) -> bool:
        """Outcomes not confirmed yet (finished jobs whose progress goes first included)."""
        return bool(self.outcomes) or any(h.outcome is not None for h in self.held.values())

    def want_credits(self) -> int:
        if self.draining or self.stream == 0:
            return 0
        return max(0, self.concurrency - self.busy() - self.credits_out)

    # --- frames ------------------------------------------------------------------------------

    def _gate(self, now: float) -> float:
        """When the next frame may go (retry hint, pacing)."""
        gate = self.not_before
        if now < self.pace_until:
            gate = max(gate, self.last_sent + self.pace_gap)
        return gate

    def _heartbeat_due(self, h: Held, now: float) -> bool:
        if h.outcome is not None:
            return h.dirty()
        if h.next_heartbeat <= now:
            return True
        return h.dirty() and now >= h.last_values_sent + PROGRESS_DELAY

    def next_frame(self) -> worker_pb2.StreamLifecycleRequest | None:
        """The frame to send now, if any (None: nothing to send, or not yet)."""
        if self.stream == 0:
            return None
        now = self.clock()
        if now < self._gate(now):
            return None
        rid = self._request_id + 1
        rec = Frame(request_id=rid, stream=self.stream, credits=0, sent_at=now)
        frame = worker_pb2.StreamLifecycleRequest(
            request_id=rid,
            queues=self.queues,
            worker_id=self.worker_id,
            hostname=self.hostname,
            lease_duration=self.lease_secs,
        )
        items = 0
        size = 0
        alone = False
        for o in self.outcomes.values():
            if o.sent_in != 0:
                continue
            if items >= FRAME_ITEMS_MAX or alone or (size and size + o.size() > FRAME_BYTES_MAX):
                break
            if o.alone:
                if items:
                    continue
                alone = True
            if o.ok:
                frame.acks.append(
                    worker_pb2.AckBatchItem(
                        job_id=o.job_id, result_json=o.result_json, lease_token=o.lease_token
                    )
                )
                rec.acks.append(o.job_id)
            else:
                frame.fails.append(
                    worker_pb2.LifecycleFailItem(
                        job_id=o.job_id,
                        error=o.error,
                        backtrace=o.backtrace,
                        lease_token=o.lease_token,
                    )
                )
                rec.fails.append(o.job_id)
            o.sent_in = rid
            items += 1
            size += o.size()
        # Heartbeats: when one is due, every held job due within half a period goes along;
        # new progress goes along with anything sent.
        due = {h.job_id for h in self.held.values() if self._heartbeat_due(h, now)}
        if due or items:
            soon = now + self.heartbeat_every / 2
            for h in self.held.values():
                if items >= FRAME_ITEMS_MAX or alone:
                    break
                if not (h.job_id in due or h.dirty() or (h.outcome is None and h.next_heartbeat <= soon)):
                    continue
                item = worker_pb2.LifecycleHeartbeatItem(
                    job_id=h.job_id, lease_token=h.job.lease_token
                )
                if h.unconfirmed():
                    item.progress_json = h.progress or ""
                    item.checkpoint_json = h.checkpoint or ""
                    size += len(item.progress_json) + len(item.checkpoint_json)
                if h.dirty():
                    h.last_values_sent = now
                h.sent_version = h.version
                if h.outcome is None:
                    h.next_heartbeat = now + self.heartbeat_every
                frame.heartbeats.append(item)
                rec.heartbeats.append((h.job_id, h.version))
                items += 1
        credits = self.want_credits()
        if items == 0 and credits == 0 and not self.drain_untold():
            return None
        frame.credits = credits
        rec.credits = credits
        if self.draining:
            frame.drain = rec.drain = True
            self.drain_told = self.stream
        self.credits_out += credits
        self._request_id = rid
        self.frames[rid] = rec
        self.last_sent = now
        return frame

    def oldest_unanswered(self, sid: int) -> float | None:
        """When the oldest frame of stream ``sid`` still waiting for its answer was sent."""
        times = [f.sent_at for f in self.frames.values() if f.stream == sid]
        return min(times) if times else None

    def next_wakeup(self) -> float | None:
        """When :meth:`next_frame` may have something to send (a clock value), or None."""
        if self.stream == 0:
            return None
        now = self.clock()
        gate = self._gate(now)
        times: list[float] = []
        if (
            self.want_credits() > 0
            or self.drain_untold()
            or any(o.sent_in == 0 for o in self.outcomes.values())
        ):
            times.append(gate)
        for h in self.held.values():
            if h.outcome is not None:
                if h.dirty():
                    times.append(gate)
                continue
            times.append(h.next_heartbeat)
            if h.dirty():
                times.append(h.last_values_sent + PROGRESS_DELAY)
        if not times:
            return None
        return max(min(times), gate)

    # --- responses ---------------------------------------------------------------------------

    def _requeue(self, rec: Frame) -> None:
        for job_id in rec.acks + rec.fails:
            o = self.outcomes.get(job_id)
            if o is not None and o.sent_in == rec.request_id:
                o.sent_in = 0
        for job_id, _ in rec.heartbeats:
            h = self.held.get(job_id)
            if h is not None:
                h.sent_version = h.acked_version
                h.next_heartbeat = min(h.next_heartbeat, self.clock())
        if rec.stream == self.stream:
            self.credits_out = max(0, self.credits_out - rec.credits)
            if rec.drain:
                self.drain_told = 0  # not applied: tell it again

    def _hold_off(self, retry_after_ms: int, overloaded: bool) -> float:
        now = self.clock()
        wait = retry_after_ms / 1000.0 if retry_after_ms > 0 else RETRY_DEFAULT
        self.not_before = max(self.not_before, now + wait)
        if overloaded:
            if now >= self.pace_until:
                self.pace_gap = 0.0
            self.pace_gap = min(PACING_GAP_MAX, max(self.pace_gap, wait))
            self.pace_until = now + PACING_SECONDS
        return wait

    def _release_finished(self) -> None:
        for h in [h for h in self.held.values() if h.outcome is not None and not h.unconfirmed()]:
            del self.held[h.job_id]
            assert h.outcome is not None
            self.add_outcome(h.outcome)

    def on_response(self, resp: worker_pb2.StreamLifecycleResponse, sid: int) -> Reaction:
        r = Reaction()
        rec = self.frames.pop(resp.request_id, None) if resp.request_id else None
        if rec is not None:
            self._answer(rec, resp, r)
        elif resp.request_id == 0 and resp.error_code != _E.ERROR_CODE_UNSPECIFIED:
            # The server's job pusher hit an error; it waits out its own hint.
            if resp.error_code == _E.ERROR_CODE_NOT_LEADER:
                r.reconnect = True
                r.leader = resp.leader_addr
                r.retry_after = resp.retry_after_ms / 1000.0
            elif resp.error_code in _FATAL:
                r.fatal = _frame_error(resp)
            else:
                log.info("worker stream: the server could not push jobs: %s", resp.error)
        for job in resp.jobs:
            if self.job_pushed(job, sid):
                r.start.append(job)
        for job_id in resp.cancel_job_ids:
            self._cancel(job_id, r)
        self._release_finished()
        return r

    def _cancel(self, job_id: str, r: Reaction) -> None:
        h = self.held.get(job_id)
        if h is None:
            return
        if h.running:
            h.stopped = True
            if job_id not in r.cancel:
                r.cancel.append(job_id)
        elif h.outcome is None:
            # Waiting for a slot: never started, and the lease is gone.
            del self.held[job_id]

    def _answer(self, rec: Frame, resp: worker_pb2.StreamLifecycleResponse, r: Reaction) -> None:
        code = resp.error_code
        results = len(resp.ack_results) + len(resp.fail_results) + len(resp.heartbeat_results)
        if code != _E.ERROR_CODE_UNSPECIFIED and results == 0:
            self._refused(rec, resp, r)
            return
        r.healthy = True
        for res in resp.ack_results:
            self._settle(res, rec, r)
        for res in resp.fail_results:
            self._settle(res, rec, r)
        answered = {res.job_id for res in resp.heartbeat_results}
        versions = dict(rec.heartbeats)
        for res in resp.heartbeat_results:
            h = self.held.get(res.job_id)
            if h is None:
                continue
            sent = versions.get(res.job_id, 0)
            if res.code == _E.ERROR_CODE_UNSPECIFIED:
                h.acked_version = max(h.acked_version, sent)
            elif res.code in _TRANSIENT:
                h.sent_version = h.acked_version
                self._hold_off(resp.retry_after_ms, res.code == _E.ERROR_CODE_OVERLOADED)
            else:
                # The lease is gone (stale, not found): stop the job; its values are moot.
                h.acked_version = h.sent_version = h.version
                self._cancel(res.job_id, r)
        for job_id, _ in rec.heartbeats:
            h = self.held.get(job_id)
            if job_id not in answered and h is not None:
                h.sent_version = h.acked_version
        # Outcomes the response did not mention go again.
        settled = {res.job_id for res in resp.ack_results} | {res.job_id for res in resp.fail_results}
        for job_id in rec.acks + rec.fails:
            o = self.outcomes.get(job_id)
            if job_id not in settled and o is not None and o.sent_in == rec.request_id:
                o.sent_in = 0

    def _refused(self, rec: Frame, resp: worker_pb2.StreamLifecycleResponse, r: Reaction) -> None:
        """The whole frame was refused: nothing of it was applied."""
        code = resp.error_code
        self._requeue(rec)
        if code in _TRANSIENT:
            wait = self._hold_off(resp.retry_after_ms, code == _E.ERROR_CODE_OVERLOADED)
            log.info("worker stream: frame refused (%s); sending it again in %.0f ms", resp.error, wait * 1000)
        elif code == _E.ERROR_CODE_NOT_LEADER:
            r.reconnect = True
            r.leader = resp.leader_addr
            r.retry_after = resp.retry_after_ms / 1000.0
        elif code in _FATAL:
            r.fatal = _frame_error(resp)
        elif code == _E.ERROR_CODE_INVALID_ARGUMENT:
            self._invalid(rec, resp, r)
        else:
            log.warning("worker stream: frame refused (%s); sending it again", resp.error)
            self._hold_off(resp.retry_after_ms, False)

    def _invalid(self, rec: Frame, resp: worker_pb2.StreamLifecycleResponse, r: Reaction) -> None:
        outcomes = [self.outcomes[j] for j in rec.acks + rec.fails if j in self.outcomes]
        if not rec.has_items():
            # Only the stream's own fields (queues, worker id, lease): nothing to retry.
            r.fatal = _frame_error(resp)
            return
        for job_id, _ in rec.heartbeats:
            h = self.held.get(job_id)
            if h is not None and h.unconfirmed():
                log.warning("job %s: the server refused its progress/checkpoint: %s", job_id, resp.error)
                h.acked_version = h.sent_version = h.version
        if len(outcomes) > 1 or (outcomes and not outcomes[0].alone):
            for o in outcomes:
                o.alone = True  # find the culprit: one outcome per frame
            return
        for o in outcomes:
            if o.ok:
                log.warning("job %s: the server refused its result (%s); failing it instead", o.job_id, resp.error)
                self.outcomes[o.job_id] = Outcome.fail(
                    o.job_id, o.lease_token, f"the server refused the result: {resp.error}"
                )
                self.outcomes[o.job_id].alone = True
            else:
                log.error("job %s: the server refused its failure report (%s); dropped", o.job_id, resp.error)
                del self.outcomes[o.job_id]
                self.dropped += 1

    def _settle(self, res: worker_pb2.ItemResult, rec: Frame, r: Reaction) -> None:
        o = self.outcomes.get(res.job_id)
        if o is None or o.sent_in != rec.request_id:
            return
        code = res.code
        if code == _E.ERROR_CODE_UNSPECIFIED:
            del self.outcomes[res.job_id]
            return
        kind = "ack" if o.ok else "fail"
        if code in _TRANSIENT:
            o.sent_in = 0
            self._hold_off(0, code == _E.ERROR_CODE_OVERLOADED)
        elif code == _E.ERROR_CODE_NOT_LEADER:
            o.sent_in = 0
            r.reconnect = True
        elif code in _FOR_GOOD:
            del self.outcomes[res.job_id]
            if o.stopped:
                # Cancelled or reassigned meanwhile: the server told the handler to stop.
                log.info("job %s: %s not applied (%s)", res.job_id, kind, res.message)
            else:
                log.warning("job %s: %s refused for good (%s); dropped", res.job_id, kind, res.message)
                self.dropped += 1
        elif code == _E.ERROR_CODE_INVALID_ARGUMENT and o.ok:
            log.warning("job %s: the server refused its result (%s); failing it instead", res.job_id, res.message)
            self.outcomes[res.job_id] = Outcome.fail(
                res.job_id, o.lease_token, f"the server refused the result: {res.message}"
            )
        else:
            o.tries += 1
            if o.tries >= ITEM_TRIES_MAX or code == _E.ERROR_CODE_INVALID_ARGUMENT:
                log.error("job %s: %s refused (%s); dropped", res.job_id, kind, res.message)
                del self.outcomes[res.job_id]
                self.dropped += 1
            else:
                log.warning("job %s: %s refused (%s); sending it again", res.job_id, kind, res.message)
                o.sent_in = 0
                self._hold_off(0, False)


_STATUS_OF = {
    _E.ERROR_CODE_INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    _E.ERROR_CODE_UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    _E.ERROR_CODE_PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    _E.ERROR_CODE_OUTCOME_UNKNOWN: grpc.StatusCode.UNKNOWN,
}


def _frame_error(resp: worker_pb2.StreamLifecycleResponse) -> CorvoError:
    """The error of a frame refused for good (the stream's status itself was OK)."""
    return CorvoError(
        resp.error or "the server refused the worker stream",
        code=_STATUS_OF.get(resp.error_code, grpc.StatusCode.OK),
        error_code=resp.error_code,
        retry_after_ms=resp.retry_after_ms or None,
        leader=resp.leader_addr or None,
    )
