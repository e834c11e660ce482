"""Enqueue a job, then work its queue: the handler's return value is the job's result."""

from typing import Any

from corvo_sdk import Client, JobContext, Worker

with Client("http://127.0.0.1:8080") as client:
    job = client.enqueue("emails", {"to": "ada@example.com"}, tags={"campaign": "welcome"})
    print("enqueued", job.job_id, job.status)  # status: pending


async def send_email(ctx: JobContext) -> dict[str, Any]:
    print(f"job {ctx.id}: sending to {ctx.payload['to']} (attempt {ctx.attempt})")
    return {"sent": True}  # acknowledged with this result


worker = Worker("http://127.0.0.1:8080", concurrency=8)
worker.handle("emails", send_email)
worker.run_sync()  # until SIGTERM or SIGINT
