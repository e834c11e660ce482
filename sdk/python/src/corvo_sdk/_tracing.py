"""OpenTelemetry, when ``opentelemetry-api`` is installed (the ``otel`` extra): the handler's
span and the producer's ``traceparent``. Without it, or without an OTel SDK configured, this
costs next to nothing."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

try:
    from opentelemetry import trace as _trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _W3C: Any = TraceContextTextMapPropagator()
    AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the environment
    AVAILABLE = False

SPAN_NAME = "corvo.worker.execute"


def traceparent() -> str | None:
    """The current context as a W3C ``traceparent`` value, or None when there is none."""
    if not AVAILABLE:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent") or None


class Span:
    """The handler's span (a no-op without OpenTelemetry)."""

    def __init__(self, span: Any) -> None:
        self._span = span

    def failed(self, message: str, exc: BaseException | None) -> None:
        if self._span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        if exc is not None:
            self._span.record_exception(exc)
        self._span.set_status(Status(StatusCode.ERROR, message))


@contextmanager
def execute_span(
    job_id: str, queue: str, attempt: int, trace_parent: str, worker_id: str
) -> Iterator[Span]:
    """Runs the body in a ``corvo.worker.execute`` span (kind consumer) whose parent is the
    job's ``trace_parent``, current for the handler (threads too: it runs in a copy of this
    context)."""
    if not AVAILABLE:
        yield Span(None)
        return
    parent = _W3C.extract({"traceparent": trace_parent}) if trace_parent else None
    tracer = _trace.get_tracer("corvo_sdk")
    with tracer.start_as_current_span(
        SPAN_NAME,
        context=parent,
        kind=_trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "corvo",
            "messaging.operation.type": "process",
            "messaging.destination.name": queue,
            "messaging.message.id": job_id,
            "corvo.job.attempt": attempt,
            "corvo.worker.id": worker_id,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield Span(span)
