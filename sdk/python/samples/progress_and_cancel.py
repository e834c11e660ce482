"""A long job: progress and a checkpoint go out with its heartbeats (visible through GetJob;
the checkpoint is handed to the next attempt), and it stops when the server says so."""

import asyncio
from typing import Any

from corvo_sdk import Client, JobContext, Worker

with Client() as client:
    job = client.enqueue("imports", {"rows": 10_000})
    # An operator may cancel it while it runs: client.cancel_job(job.job_id)


async def import_rows(ctx: JobContext) -> dict[str, Any]:
    total = ctx.payload["rows"]
    start = (ctx.checkpoint or {}).get("row", 0)  # resume where the last attempt stopped
    for row in range(start, total):
        if ctx.cancelled.is_set():  # cancelled, or the lease was lost
            ctx.fail("cancelled")
        await asyncio.sleep(0.001)  # the work
        if row % 500 == 0:
            ctx.progress({"done": row, "total": total})
            ctx.save_checkpoint({"row": row})
    return {"imported": total - start}


async def wait_for_approval(ctx: JobContext) -> str:
    # Or wait on the signal itself.
    try:
        await asyncio.wait_for(ctx.cancelled.wait(), timeout=60)
    except asyncio.TimeoutError:
        return "approved"
    ctx.fail("cancelled")


worker = Worker(lease=30)  # heartbeats every 10 s while a job runs
worker.handle("imports", import_rows)
worker.handle("approvals", wait_for_approval)
worker.run_sync()
