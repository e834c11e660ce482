"""The worker runtime against an in-process stand-in for a node's worker stream: handlers and
their outcomes, refused frames, cancellation, reconnects, refusals for good, the drain."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import unittest
from typing import Any

import grpc

from corvo.v1 import worker_pb2 as pb

from corvo_sdk import JobContext, Worker, WorkerError

sys.path.insert(0, os.path.dirname(__file__))
from fake_server import EndStream, FakeCorvo, answer  # noqa: E402


def job(job_id: str, payload: Any = None, queue: str = "q", attempt: int = 1, trace_parent: str = "") -> pb.FetchBatchJob:
    return pb.FetchBatchJob(
        job_id=job_id,
        queue=queue,
        attempt=attempt,
        max_retries=3,
        lease_token=42,
        payload_json=json.dumps(payload if payload is not None else {}),
        tags_json='{"team":"a"}',
        priority=pb.PRIORITY_HIGH,
        trace_parent=trace_parent,
    )


def acks(server: FakeCorvo) -> dict[str, pb.AckBatchItem]:
    return {a.job_id: a for _, f in server.frames for a in f.acks}


def fails(server: FakeCorvo) -> dict[str, pb.LifecycleFailItem]:
    return {x.job_id: x for _, f in server.frames for x in f.fails}


class WorkerTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.server = FakeCorvo()
        self.url = await self.server.start()

    async def asyncTearDown(self) -> None:
        await self.server.stop()

    def worker(self, **options: Any) -> Worker:
        options.setdefault("handle_signals", False)
        options.setdefault("drain_timeout", 5)
        return Worker(self.url, **options)

    async def test_outcomes_of_async_and_threaded_handlers(self) -> None:
        w = self.worker(concurrency=3, api_key="secret-key-0123456789", worker_id="w-test")
        seen: dict[str, Any] = {}

        async def ok(ctx: JobContext) -> Any:
            seen["ctx"] = (ctx.id, ctx.queue, ctx.attempt, ctx.max_attempts, ctx.payload, ctx.tags, ctx.priority)
            return {"done": ctx.payload["n"]}

        def threaded(ctx: JobContext) -> Any:
            seen["thread"] = threading.current_thread() is not threading.main_thread()
            if ctx.payload.get("explicit"):
                ctx.fail("explicitly")
            raise ValueError("bad input")

        w.handle("q", ok)
        w.handle("t", threaded)
        run = asyncio.ensure_future(w.run())
        await self.server.wait_for(lambda: len(self.server.frames) >= 1)
        first = self.server.frames[0][1]
        self.assertEqual((list(first.queues), first.worker_id, first.credits), (["q", "t"], "w-test", 3))
        self.assertEqual(self.server.metadata[0]["authorization"], "Bearer secret-key-0123456789")
        self.server.push(
            pb.StreamLifecycleResponse(jobs=[job("a", {"n": 1}), job("b", queue="t"), job("c", {"explicit": True}, queue="t")])
        )
        await self.server.wait_for(lambda: len(acks(self.server)) + len(fails(self.server)) == 3)
        self.assertEqual(acks(self.server)["a"].result_json, '{"done":1}')
        self.assertEqual(acks(self.server)["a"].lease_token, 42)
        self.assertEqual(seen["ctx"], ("a", "q", 1, 3, {"n": 1}, {"team": "a"}, "high"))
        self.assertTrue(seen["thread"])
        b = fails(self.server)["b"]
        self.assertEqual(b.error, "bad input")
        self.assertIn("ValueError", b.backtrace)
        self.assertEqual(fails(self.server)["c"].error, "explicitly")
        granted = sum(f.credits for _, f in self.server.frames)
        self.assertEqual(granted, 6, "3 at first, then one per finished job")
        w.stop()
        await asyncio.wait_for(run, 5)

    async def test_a_refused_frame_is_sent_again_after_its_hint(self) -> None:
        refusals: list[float] = []

        def script(server: FakeCorvo, frame: pb.StreamLifecycleRequest) -> list[pb.StreamLifecycleResponse]:
            if frame.acks and not refusals:
                refusals.append(time.monotonic())
                return [
                    pb.StreamLifecycleResponse(
                        request_id=frame.request_id,
                        error="OVERLOADED: frame: rate limit",
                        error_code=pb.ERROR_CODE_OVERLOADED,
                        retry_after_ms=300,
                    )
                ]
            return [answer(frame)]

        self.server.script = script
        w = self.worker()
        w.handle("q", lambda ctx: "ok")
        run = asyncio.ensure_future(w.run())
        await self.server.wait_for(lambda: len(self.server.frames) >= 1)
        self.server.push(pb.StreamLifecycleResponse(jobs=[job("a")]))
        await self.server.wait_for(lambda: sum(len(f.acks) for _, f in self.server.frames) == 2)
        resent = [f for _, f in self.server.frames if f.acks][1]
        self.assertEqual(resent.acks[0].result_json, '"ok"')
        self.assertEqual(resent.credits, 1, "the refused frame's credit too")
        w.stop()
        await asyncio.wait_for(run, 5)
        self.assertGreaterEqual(time.monotonic() - refusals[0], 0.3)

    async def test_cancellation_reaches_the_handler(self) -> None:
        w = self.worker()

        async def wait(ctx: JobContext) -> str:
            await asyncio.wait_for(ctx.cancelled.wait(), 5)
            ctx.fail("cancelled")

        w.handle("q", wait)
        run = asyncio.ensure_future(w.run())
        await self.server.wait_for(lambda: len(self.server.frames) >= 1)
        self.server.push(pb.StreamLifecycleResponse(jobs=[job("a")]))
        await asyncio.sleep(0.1)
        self.server.push(pb.StreamLifecycleResponse(cancel_job_ids=["a"]))
        await self.server.wait_for(lambda: "a" in fails(self.server))
        self.assertEqual(fails(self.server)["a"].error, "cancelled")
        w.stop()
        await asyncio.wait_for(run, 5)

    async def test_an_outcome_survives_a_broken_stream(self) -> None:
        def script(server: FakeCorvo, frame: pb.StreamLifecycleRequest) -> list[pb.StreamLifecycleResponse]:
            if frame.acks and server.streams == 1:
                raise EndStream(grpc.StatusCode.UNAVAILABLE, "node going away")
            return [answer(frame)]

        self.server.script = script
        w = self.worker(concurrency=2)
        w.handle("q", lambda ctx: 1)
        run = asyncio.ensure_future(w.run())
        await self.server.wait_for(lambda: len(self.server.frames) >= 1)
        self.server.push(pb.StreamLifecycleResponse(jobs=[job("a")]))
        await self.server.wait_for(lambda: self.server.streams == 2 and "a" in acks(self.server) and any(s == 2 and f.acks for s, f in self.server.frames))
        again = next(f for s, f in self.server.frames if s == 2 and f.acks)
        self.assertEqual([a.job_id for a in again.acks], ["a"])
        self.assertEqual(again.credits, 2, "a new stream holds no credit")
        w.stop()
        await asyncio.wait_for(run, 5)

    async def test_a_stream_that_stops_answering_is_reopened(self) -> None:
        from corvo_sdk import worker as worker_module

        self.server.script = lambda server, frame: [answer(frame)] if server.streams > 1 else []
        saved = worker_module.STALL_TIMEOUT
        worker_module.STALL_TIMEOUT = 0.3
        try:
            w = self.worker(concurrency=2)
            w.handle("q", lambda ctx: None)
            run = asyncio.ensure_future(w.run())
            with self.assertLogs("corvo_sdk", "WARNING") as logs:
                await self.server.wait_for(lambda: self.server.streams == 2 and len(self.server.frames) >= 2)
            self.assertIn("no answer", "\n".join(logs.output))
            self.assertEqual(self.server.frames[-1][1].credits, 2, "the new stream gets the credits")
            w.stop()
            await asyncio.wait_for(run, 5)
        finally:
            worker_module.STALL_TIMEOUT = saved

    async def test_a_forbidden_queue_ends_the_run(self) -> None:
        self.server.script = lambda server, frame: [
            pb.StreamLifecycleResponse(
                request_id=frame.request_id,
                error="frame: permission denied: queue q is outside the scopes of API key k",
                error_code=pb.ERROR_CODE_PERMISSION_DENIED,
            )
        ]
        w = self.worker()
        w.handle("q", lambda ctx: None)
        with self.assertRaises(WorkerError) as e:
            await asyncio.wait_for(w.run(), 5)
        self.assertEqual(e.exception.code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("outside the scopes", str(e.exception))

    async def test_drain_finishes_running_jobs_then_fails_back_the_rest(self) -> None:
        w = self.worker(concurrency=2, drain_timeout=0.3)

        async def handler(ctx: JobContext) -> str:
            await asyncio.sleep(ctx.payload["secs"])
            return "done"

        w.handle("q", handler)
        run = asyncio.ensure_future(w.run())
        await self.server.wait_for(lambda: len(self.server.frames) >= 1)
        self.server.push(pb.StreamLifecycleResponse(jobs=[job("quick", {"secs": 0.1}), job("slow", {"secs": 30})]))
        await asyncio.sleep(0.05)
        w.stop()
        with self.assertLogs("corvo_sdk", "WARNING") as logs:
            await asyncio.wait_for(run, 5)
        self.assertIn("failing them back", "\n".join(logs.output))
        self.assertEqual(acks(self.server)["quick"].result_json, '"done"')
        self.assertEqual(fails(self.server)["slow"].error, "worker shutting down")
        after_stop = [f for _, f in self.server.frames[1:]]
        self.assertTrue(all(f.credits == 0 for f in after_stop), "no credit while draining")
        self.assertTrue(all(f.drain for f in after_stop), "every frame says the worker drains")
        self.assertEqual(self.server.streams, 1, "one stream throughout")

    async def test_progress_reaches_the_server_promptly(self) -> None:
        w = self.worker(lease=60)

        async def handler(ctx: JobContext) -> None:
            ctx.progress({"pct": 10})
            ctx.save_checkpoint({"row": 1})
            await asyncio.sleep(0.3)

        w.handle("q", handler)
        run = asyncio.ensure_future(w.run())
        await self.server.wait_for(lambda: len(self.server.frames) >= 1)
        self.server.push(pb.StreamLifecycleResponse(jobs=[job("a")]))
        await self.server.wait_for(lambda: any(f.heartbeats for _, f in self.server.frames), timeout=1.5)
        hb = next(f for _, f in self.server.frames if f.heartbeats).heartbeats[0]
        self.assertEqual((hb.job_id, hb.lease_token, hb.progress_json, hb.checkpoint_json), ("a", 42, '{"pct":10}', '{"row":1}'))
        with self.assertRaises(TypeError):
            JobContext(job("x"), lambda *a: None).progress(50)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            JobContext(job("x"), lambda *a: None).save_checkpoint({"x": {1, 2}})
        w.stop()
        await asyncio.wait_for(run, 5)


class TracingTest(unittest.IsolatedAsyncioTestCase):
    async def test_the_handler_runs_in_a_consumer_span_under_the_producer(self) -> None:
        try:
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        except ImportError:
            self.skipTest("opentelemetry-sdk is not installed")
        from corvo_sdk import _tracing

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

        from corvo_sdk import Client

        client = Client("http://127.0.0.1:1", api_key="k" * 20)
        self.assertEqual([k for k, _ in client._metadata(trace=True)], ["authorization"], "no span, no header")
        with provider.get_tracer("test").start_as_current_span("producer") as producer:
            traceparent = _tracing.traceparent()
            sent = dict(client._metadata(trace=True))
        client.close()
        assert traceparent is not None
        self.assertEqual(sent.get("traceparent"), traceparent, "enqueue sends the current context")
        ctx = producer.get_span_context()
        self.assertTrue(traceparent.startswith(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-"), traceparent)

        server = FakeCorvo()
        url = await server.start()
        try:
            w = Worker(url, handle_signals=False)
            inner: list[Any] = []

            def handler(c: JobContext) -> None:  # a thread: the span is current there too
                inner.append(trace.get_current_span().get_span_context())

            w.handle("q", handler)
            run = asyncio.ensure_future(w.run())
            await server.wait_for(lambda: len(server.frames) >= 1)
            server.push(pb.StreamLifecycleResponse(jobs=[job("a", trace_parent=traceparent)]))
            await server.wait_for(lambda: "a" in acks(server))
            w.stop()
            await asyncio.wait_for(run, 5)
        finally:
            await server.stop()
        spans = [s for s in exporter.get_finished_spans() if s.name == "corvo.worker.execute"]
        self.assertEqual(len(spans), 1)
        span = spans[0]
        self.assertEqual(span.kind, trace.SpanKind.CONSUMER)
        assert span.parent is not None
        self.assertEqual((span.parent.trace_id, span.parent.span_id), (ctx.trace_id, ctx.span_id))
        self.assertEqual(span.attributes["messaging.message.id"] if span.attributes else None, "a")
        self.assertEqual(inner[0].span_id, span.context.span_id)


if __name__ == "__main__":
    unittest.main()
