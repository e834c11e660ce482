"""A failing handler: the job is retried after its backoff, then dead after max_attempts."""

from typing import Any

from corvo_sdk import Backoff, Client, JobContext, Worker

with Client() as client:  # servers default to http://127.0.0.1:8080
    client.enqueue(
        "reports",
        {"report": 7},
        max_attempts=5,
        backoff=Backoff("exponential", base_ms=1_000, cap_ms=60_000),
    )


def build_report(ctx: JobContext) -> dict[str, Any]:  # a plain function runs in a thread
    if ctx.payload["report"] < 0:
        ctx.fail("no such report")  # an explicit fail, with this message
    if ctx.attempt < 3:
        # Any exception fails the attempt with its message and traceback.
        raise ConnectionError("storage is unavailable")
    return {"url": f"https://reports.example/{ctx.payload['report']}"}


worker = Worker()
worker.handle("reports", build_report)
worker.run_sync()
