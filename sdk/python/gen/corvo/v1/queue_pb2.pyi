from corvo.v1 import worker_pb2 as _worker_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Queue(_message.Message):
    __slots__ = ("name", "counts", "oldest_pending_age_ms", "enqueued_last_minute", "completed_last_minute", "failed_last_minute", "throttled_last_minute", "paused", "concurrency_limit", "rate_starts", "rate_window_ms", "retention_ms", "dead_retention_ms", "effective_retention_ms", "effective_dead_retention_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    OLDEST_PENDING_AGE_MS_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    FAILED_LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    THROTTLED_LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_STARTS_FIELD_NUMBER: _ClassVar[int]
    RATE_WINDOW_MS_FIELD_NUMBER: _ClassVar[int]
    RETENTION_MS_FIELD_NUMBER: _ClassVar[int]
    DEAD_RETENTION_MS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_RETENTION_MS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DEAD_RETENTION_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    counts: _containers.RepeatedCompositeFieldContainer[QueueJobCount]
    oldest_pending_age_ms: int
    enqueued_last_minute: int
    completed_last_minute: int
    failed_last_minute: int
    throttled_last_minute: int
    paused: bool
    concurrency_limit: int
    rate_starts: int
    rate_window_ms: int
    retention_ms: int
    dead_retention_ms: int
    effective_retention_ms: int
    effective_dead_retention_ms: int
    def __init__(self, name: _Optional[str] = ..., counts: _Optional[_Iterable[_Union[QueueJobCount, _Mapping]]] = ..., oldest_pending_age_ms: _Optional[int] = ..., enqueued_last_minute: _Optional[int] = ..., completed_last_minute: _Optional[int] = ..., failed_last_minute: _Optional[int] = ..., throttled_last_minute: _Optional[int] = ..., paused: bool = ..., concurrency_limit: _Optional[int] = ..., rate_starts: _Optional[int] = ..., rate_window_ms: _Optional[int] = ..., retention_ms: _Optional[int] = ..., dead_retention_ms: _Optional[int] = ..., effective_retention_ms: _Optional[int] = ..., effective_dead_retention_ms: _Optional[int] = ...) -> None: ...

class QueueJobCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: _worker_pb2.JobState
    count: int
    def __init__(self, state: _Optional[_Union[_worker_pb2.JobState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class ListQueuesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[Queue]
    def __init__(self, queues: _Optional[_Iterable[_Union[Queue, _Mapping]]] = ...) -> None: ...

class GetQueueRequest(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    def __init__(self, queue: _Optional[str] = ...) -> None: ...

class GetQueueResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class PauseQueueRequest(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    def __init__(self, queue: _Optional[str] = ...) -> None: ...

class PauseQueueResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class ResumeQueueRequest(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    def __init__(self, queue: _Optional[str] = ...) -> None: ...

class ResumeQueueResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class DrainQueueRequest(_message.Message):
    __slots__ = ("queue", "wait_ms")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    queue: str
    wait_ms: int
    def __init__(self, queue: _Optional[str] = ..., wait_ms: _Optional[int] = ...) -> None: ...

class DrainQueueResponse(_message.Message):
    __slots__ = ("queue", "drained", "active")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    DRAINED_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    drained: bool
    active: int
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ..., drained: bool = ..., active: _Optional[int] = ...) -> None: ...

class ClearQueueRequest(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    def __init__(self, queue: _Optional[str] = ...) -> None: ...

class ClearQueueResponse(_message.Message):
    __slots__ = ("removed", "operation_id")
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    removed: int
    operation_id: str
    def __init__(self, removed: _Optional[int] = ..., operation_id: _Optional[str] = ...) -> None: ...

class DestroyQueueRequest(_message.Message):
    __slots__ = ("queue", "confirm")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    queue: str
    confirm: str
    def __init__(self, queue: _Optional[str] = ..., confirm: _Optional[str] = ...) -> None: ...

class DestroyQueueResponse(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class SetQueueLimitsRequest(_message.Message):
    __slots__ = ("queue", "concurrency", "rate_starts", "rate_window_ms")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_STARTS_FIELD_NUMBER: _ClassVar[int]
    RATE_WINDOW_MS_FIELD_NUMBER: _ClassVar[int]
    queue: str
    concurrency: int
    rate_starts: int
    rate_window_ms: int
    def __init__(self, queue: _Optional[str] = ..., concurrency: _Optional[int] = ..., rate_starts: _Optional[int] = ..., rate_window_ms: _Optional[int] = ...) -> None: ...

class SetQueueLimitsResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class SetQueueRetentionRequest(_message.Message):
    __slots__ = ("queue", "retention_ms", "dead_retention_ms")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_MS_FIELD_NUMBER: _ClassVar[int]
    DEAD_RETENTION_MS_FIELD_NUMBER: _ClassVar[int]
    queue: str
    retention_ms: int
    dead_retention_ms: int
    def __init__(self, queue: _Optional[str] = ..., retention_ms: _Optional[int] = ..., dead_retention_ms: _Optional[int] = ...) -> None: ...

class SetQueueRetentionResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class WorkerStream(_message.Message):
    __slots__ = ("worker_id", "hostname", "queues", "credits", "jobs_held", "connected_at", "last_frame_at")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    JOBS_HELD_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_FRAME_AT_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    hostname: str
    queues: _containers.RepeatedScalarFieldContainer[str]
    credits: int
    jobs_held: int
    connected_at: _timestamp_pb2.Timestamp
    last_frame_at: _timestamp_pb2.Timestamp
    def __init__(self, worker_id: _Optional[str] = ..., hostname: _Optional[str] = ..., queues: _Optional[_Iterable[str]] = ..., credits: _Optional[int] = ..., jobs_held: _Optional[int] = ..., connected_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_frame_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListWorkersRequest(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    def __init__(self, queue: _Optional[str] = ...) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers",)
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[WorkerStream]
    def __init__(self, workers: _Optional[_Iterable[_Union[WorkerStream, _Mapping]]] = ...) -> None: ...
