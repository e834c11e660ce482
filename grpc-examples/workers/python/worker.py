"""Works N jobs of a queue, acknowledging each with a small result, then stops (a drain)."""

import sys
from typing import Any

from corvo_sdk import JobContext, Worker


def main() -> None:
    server, queue, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if n <= 0:
        return
    worker = Worker(server)  # the API key, if any, comes from CORVO_API_KEY
    handled = 0

    async def handle(ctx: JobContext) -> dict[str, Any]:
        nonlocal handled
        handled += 1
        print(f"job {ctx.id} (attempt {ctx.attempt}): {ctx.payload}", flush=True)
        if handled == n:
            worker.stop()  # after this job: its ack is sent, no new job is taken
        return {"worked_by": worker.worker_id}

    worker.handle(queue, handle)
    worker.run_sync()
    print(f"worked {handled} jobs of {queue}", flush=True)


if __name__ == "__main__":
    main()
