"""The Python SDK's conformance harness (sdk/conformance/README.md): one SDK worker whose
handler does what each job's payload says, reporting on stdout in JSON lines.

    harness --server URL [--server URL ...] --queue Q [--queue Q ...]
            [--concurrency N] [--lease-secs S] [--drain-timeout-ms MS] [--max-jobs N]
            [--api-key KEY] [--ca-cert PEM_FILE] [--worker-id ID]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Any, Callable, Optional, Sequence

from corvo_sdk import CorvoError, JobContext, Worker

Emit = Callable[[dict[str, Any]], None]


def emit(event: dict[str, Any]) -> None:
    """One JSON object per line on stdout, flushed."""
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def default_result(ctx: JobContext) -> dict[str, Any]:
    return {"attempt": ctx.attempt, "checkpoint": ctx.checkpoint}


async def run_steps(ctx: JobContext, out: Emit) -> Any:
    """Runs the payload's ``steps`` (those for this attempt), in order."""
    payload = ctx.payload
    steps = payload.get("steps") if isinstance(payload, dict) else None
    if not isinstance(steps, list):
        return default_result(ctx)
    for step in steps:
        if not isinstance(step, dict):
            raise ValueError(f"a step must be an object, got {step!r}")
        if "attempt" in step and step["attempt"] != ctx.attempt:
            continue
        op = step.get("op")
        if op == "sleep":
            await asyncio.sleep(float(step.get("ms", 0)) / 1000.0)
        elif op == "progress":
            if step.get("progress") is not None:
                ctx.progress(step["progress"])
            if step.get("checkpoint") is not None:
                ctx.save_checkpoint(step["checkpoint"])
        elif op == "wait_cancel":
            timeout = float(step.get("timeout_ms", 0)) / 1000.0
            try:
                await asyncio.wait_for(ctx.cancelled.wait(), timeout)
            except asyncio.TimeoutError:
                ctx.fail("not cancelled")
            out({"event": "cancelled", "job_id": ctx.id})
            ctx.fail("cancelled")
        elif op == "complete":
            return step.get("result")
        elif op == "fail":
            ctx.fail(str(step.get("error", "failed")))
        elif op == "throw":
            raise RuntimeError(str(step.get("error", "thrown")))
        else:
            raise ValueError(f"unknown step op {op!r}")
    return default_result(ctx)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--server", action="append", required=True, help="a node URL (repeatable)")
    p.add_argument("--queue", action="append", required=True, help="a queue to work (repeatable)")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--lease-secs", type=int, default=None)
    p.add_argument("--drain-timeout-ms", type=int, default=None)
    p.add_argument("--max-jobs", type=int, default=None)
    p.add_argument("--api-key", default=None)
    p.add_argument("--ca-cert", default=None)
    p.add_argument("--worker-id", default=None)
    return p.parse_args(argv)


def build_worker(args: argparse.Namespace, out: Emit) -> Worker:
    options: dict[str, Any] = {}
    if args.lease_secs is not None:
        options["lease"] = args.lease_secs
    if args.drain_timeout_ms is not None:
        options["drain_timeout"] = args.drain_timeout_ms / 1000.0
    worker = Worker(
        args.server,
        api_key=args.api_key,
        ca_cert=args.ca_cert,
        worker_id=args.worker_id,
        concurrency=args.concurrency,
        **options,
    )
    returned = 0

    async def handler(ctx: JobContext) -> Any:
        nonlocal returned
        out(
            {
                "event": "job",
                "job_id": ctx.id,
                "queue": ctx.queue,
                "attempt": ctx.attempt,
                "checkpoint": ctx.checkpoint,
            }
        )
        try:
            return await run_steps(ctx, out)
        finally:
            out({"event": "finished", "job_id": ctx.id})
            returned += 1
            if args.max_jobs is not None and returned == args.max_jobs:
                # Before this job's outcome is handled: it grants no further credit.
                worker.stop()

    for queue in dict.fromkeys(args.queue):
        worker.handle(queue, handler)
    return worker


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        worker = build_worker(args, emit)
    except (ValueError, TypeError) as e:
        print(f"harness: {e}", file=sys.stderr)
        return 2
    # Until run() installs its own handlers, a signal still means a graceful stop.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    emit({"event": "started"})
    try:
        worker.run_sync()
    except CorvoError as e:
        print(f"harness: the worker ended with an error: {e}", file=sys.stderr)
        return 1
    emit({"event": "stopped"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
