"""Corvo SDK for Python: a client and a worker runtime for Corvo, a job server whose workers
talk gRPC streams. See sdk/SPEC.md for the behaviour every Corvo SDK shares.

The generated messages are importable as ``corvo.v1`` (``from corvo.v1 import job_pb2``).
"""

from ._convert import Backoff, EnqueueItem, job_filter
from .client import Client, EnqueueResult, JobPage, state_name
from .errors import CorvoError, JobFailed, WorkerError
from .worker import Handler, JobContext, Worker, default_worker_id

__version__ = "0.1.0"

__all__ = [
    "Backoff",
    "Client",
    "CorvoError",
    "EnqueueItem",
    "EnqueueResult",
    "Handler",
    "JobContext",
    "JobFailed",
    "JobPage",
    "Worker",
    "WorkerError",
    "__version__",
    "default_worker_id",
    "job_filter",
    "state_name",
]
