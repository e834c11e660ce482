"""SIGTERM or SIGINT (or worker.stop()) drains the worker: no new jobs, running ones finish
within drain_timeout, those still running are failed back ("worker shutting down")."""

import asyncio
import logging
from typing import Any

from corvo_sdk import JobContext, Worker

logging.basicConfig(level=logging.INFO)  # connection changes and refusals: logger "corvo_sdk"

worker = Worker(
    ["http://corvo-1:8080", "http://corvo-2:8080", "http://corvo-3:8080"],
    concurrency=4,
    drain_timeout=60,  # seconds
)


async def transcode(ctx: JobContext) -> dict[str, Any]:
    await asyncio.sleep(20)
    return {"transcoded": ctx.payload["video"]}


worker.handle("videos", transcode)


async def main() -> None:
    # Signals are handled while run() runs; a second one stops at once.
    await worker.run()
    print("drained: every outcome delivered")


asyncio.run(main())
