"""The conformance harness's step language (sdk/conformance/README.md)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import unittest
from typing import Any

from corvo.v1 import worker_pb2 as pb

from corvo_sdk import JobContext, JobFailed

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
import harness  # noqa: E402


def context(payload: Any, attempt: int = 1, checkpoint: Any = None) -> tuple[JobContext, list[tuple[str, Any, Any]]]:
    values: list[tuple[str, Any, Any]] = []
    job = pb.FetchBatchJob(
        job_id="j1",
        queue="q",
        attempt=attempt,
        max_retries=3,
        payload_json=json.dumps(payload),
        checkpoint_json=json.dumps(checkpoint) if checkpoint is not None else "",
    )
    return JobContext(job, lambda i, p, c: values.append((i, p, c))), values


async def run(ctx: JobContext) -> tuple[Any, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    result = await harness.run_steps(ctx, events.append)
    return result, events


class StepsTest(unittest.IsolatedAsyncioTestCase):
    """Async tests: a JobContext is made on the running loop (Python 3.9 binds its Event)."""

    async def run_steps(self, ctx: JobContext) -> tuple[Any, list[dict[str, Any]]]:
        return await run(ctx)

    async def test_without_steps_returns_attempt_and_checkpoint(self) -> None:
        ctx, _ = context({"hello": 1}, attempt=2, checkpoint={"row": 3})
        self.assertEqual((await self.run_steps(ctx))[0], {"attempt": 2, "checkpoint": {"row": 3}})

    async def test_complete(self) -> None:
        ctx, _ = context({"steps": [{"op": "sleep", "ms": 1}, {"op": "complete", "result": [1, 2]}]})
        self.assertEqual((await self.run_steps(ctx))[0], [1, 2])

    async def test_steps_of_other_attempts_are_skipped(self) -> None:
        steps = [{"op": "fail", "error": "first", "attempt": 1}, {"op": "complete", "result": "ok", "attempt": 2}]
        ctx, _ = context({"steps": steps}, attempt=1)
        with self.assertRaises(JobFailed) as e:
            await self.run_steps(ctx)
        self.assertEqual(e.exception.message, "first")
        ctx, _ = context({"steps": steps}, attempt=2)
        self.assertEqual((await self.run_steps(ctx))[0], "ok")
        ctx, _ = context({"steps": steps}, attempt=3)
        self.assertEqual((await self.run_steps(ctx))[0], {"attempt": 3, "checkpoint": None})

    async def test_throw_is_an_exception(self) -> None:
        ctx, _ = context({"steps": [{"op": "throw", "error": "kaboom"}]})
        with self.assertRaises(RuntimeError) as e:
            await self.run_steps(ctx)
        self.assertNotIsInstance(e.exception, JobFailed)
        self.assertEqual(str(e.exception), "kaboom")

    async def test_progress_and_checkpoint(self) -> None:
        ctx, values = context(
            {"steps": [{"op": "progress", "progress": {"pct": 50}, "checkpoint": {"row": 5}}, {"op": "progress", "progress": {"pct": 60}}]}
        )
        await self.run_steps(ctx)
        self.assertEqual(
            values,
            [("j1", '{"pct":50}', None), ("j1", None, '{"row":5}'), ("j1", '{"pct":60}', None)],
        )

    async def test_wait_cancel(self) -> None:
        ctx, _ = context({"steps": [{"op": "wait_cancel", "timeout_ms": 20}]})
        with self.assertRaises(JobFailed) as e:
            await self.run_steps(ctx)
        self.assertEqual(e.exception.message, "not cancelled")

        async def cancelled_later() -> tuple[str, list[dict[str, Any]]]:
            ctx, _ = context({"steps": [{"op": "wait_cancel", "timeout_ms": 5000}]})
            asyncio.get_running_loop().call_later(0.02, ctx._cancel)
            events: list[dict[str, Any]] = []
            try:
                await harness.run_steps(ctx, events.append)
            except JobFailed as f:
                return f.message, events
            return "returned", events

        message, events = await cancelled_later()
        self.assertEqual(message, "cancelled")
        self.assertEqual(events, [{"event": "cancelled", "job_id": "j1"}])

    def test_arguments(self) -> None:
        args = harness.parse_args(
            ["--server", "http://a:1", "--server", "http://b:2", "--queue", "q", "--queue", "r",
             "--concurrency", "4", "--lease-secs", "9", "--drain-timeout-ms", "1500", "--max-jobs", "3",
             "--api-key", "k", "--ca-cert", "ca.pem", "--worker-id", "w"]
        )
        self.assertEqual(args.server, ["http://a:1", "http://b:2"])
        self.assertEqual((args.concurrency, args.lease_secs, args.drain_timeout_ms, args.max_jobs), (4, 9, 1500, 3))


if __name__ == "__main__":
    unittest.main()
