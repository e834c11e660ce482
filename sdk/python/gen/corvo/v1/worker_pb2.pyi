from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_CRITICAL: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]
    PRIORITY_NORMAL: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]

class BackoffKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKOFF_KIND_UNSPECIFIED: _ClassVar[BackoffKind]
    BACKOFF_KIND_NONE: _ClassVar[BackoffKind]
    BACKOFF_KIND_FIXED: _ClassVar[BackoffKind]
    BACKOFF_KIND_LINEAR: _ClassVar[BackoffKind]
    BACKOFF_KIND_EXPONENTIAL: _ClassVar[BackoffKind]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_PENDING: _ClassVar[JobState]
    JOB_STATE_SCHEDULED: _ClassVar[JobState]
    JOB_STATE_ACTIVE: _ClassVar[JobState]
    JOB_STATE_RETRYING: _ClassVar[JobState]
    JOB_STATE_HELD: _ClassVar[JobState]
    JOB_STATE_COMPLETED: _ClassVar[JobState]
    JOB_STATE_DEAD: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CODE_UNSPECIFIED: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_ARGUMENT: _ClassVar[ErrorCode]
    ERROR_CODE_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_CODE_STALE_LEASE: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_STATE: _ClassVar[ErrorCode]
    ERROR_CODE_OVERLOADED: _ClassVar[ErrorCode]
    ERROR_CODE_NOT_LEADER: _ClassVar[ErrorCode]
    ERROR_CODE_UNAVAILABLE: _ClassVar[ErrorCode]
    ERROR_CODE_INTERNAL: _ClassVar[ErrorCode]
    ERROR_CODE_UNAUTHENTICATED: _ClassVar[ErrorCode]
    ERROR_CODE_PERMISSION_DENIED: _ClassVar[ErrorCode]
    ERROR_CODE_OUTCOME_UNKNOWN: _ClassVar[ErrorCode]
PRIORITY_UNSPECIFIED: Priority
PRIORITY_CRITICAL: Priority
PRIORITY_HIGH: Priority
PRIORITY_NORMAL: Priority
PRIORITY_LOW: Priority
BACKOFF_KIND_UNSPECIFIED: BackoffKind
BACKOFF_KIND_NONE: BackoffKind
BACKOFF_KIND_FIXED: BackoffKind
BACKOFF_KIND_LINEAR: BackoffKind
BACKOFF_KIND_EXPONENTIAL: BackoffKind
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_PENDING: JobState
JOB_STATE_SCHEDULED: JobState
JOB_STATE_ACTIVE: JobState
JOB_STATE_RETRYING: JobState
JOB_STATE_HELD: JobState
JOB_STATE_COMPLETED: JobState
JOB_STATE_DEAD: JobState
JOB_STATE_CANCELLED: JobState
ERROR_CODE_UNSPECIFIED: ErrorCode
ERROR_CODE_INVALID_ARGUMENT: ErrorCode
ERROR_CODE_NOT_FOUND: ErrorCode
ERROR_CODE_STALE_LEASE: ErrorCode
ERROR_CODE_INVALID_STATE: ErrorCode
ERROR_CODE_OVERLOADED: ErrorCode
ERROR_CODE_NOT_LEADER: ErrorCode
ERROR_CODE_UNAVAILABLE: ErrorCode
ERROR_CODE_INTERNAL: ErrorCode
ERROR_CODE_UNAUTHENTICATED: ErrorCode
ERROR_CODE_PERMISSION_DENIED: ErrorCode
ERROR_CODE_OUTCOME_UNKNOWN: ErrorCode

class BackoffPolicy(_message.Message):
    __slots__ = ("kind", "base_ms", "cap_ms")
    KIND_FIELD_NUMBER: _ClassVar[int]
    BASE_MS_FIELD_NUMBER: _ClassVar[int]
    CAP_MS_FIELD_NUMBER: _ClassVar[int]
    kind: BackoffKind
    base_ms: int
    cap_ms: int
    def __init__(self, kind: _Optional[_Union[BackoffKind, str]] = ..., base_ms: _Optional[int] = ..., cap_ms: _Optional[int] = ...) -> None: ...

class EnqueueOptions(_message.Message):
    __slots__ = ("priority", "max_attempts", "backoff", "scheduled_at", "expire_after_ms", "unique_key", "unique_period_ms", "tags", "idempotency_key")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_KEY_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_PERIOD_MS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    priority: Priority
    max_attempts: int
    backoff: BackoffPolicy
    scheduled_at: _timestamp_pb2.Timestamp
    expire_after_ms: int
    unique_key: str
    unique_period_ms: int
    tags: _containers.ScalarMap[str, str]
    idempotency_key: str
    def __init__(self, priority: _Optional[_Union[Priority, str]] = ..., max_attempts: _Optional[int] = ..., backoff: _Optional[_Union[BackoffPolicy, _Mapping]] = ..., scheduled_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expire_after_ms: _Optional[int] = ..., unique_key: _Optional[str] = ..., unique_period_ms: _Optional[int] = ..., tags: _Optional[_Mapping[str, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class EnqueueRequest(_message.Message):
    __slots__ = ("queue", "payload_json", "agent", "options")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    queue: str
    payload_json: str
    agent: AgentConfig
    options: EnqueueOptions
    def __init__(self, queue: _Optional[str] = ..., payload_json: _Optional[str] = ..., agent: _Optional[_Union[AgentConfig, _Mapping]] = ..., options: _Optional[_Union[EnqueueOptions, _Mapping]] = ...) -> None: ...

class EnqueueResponse(_message.Message):
    __slots__ = ("job_id", "status", "unique_existing", "state", "replayed")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_EXISTING_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    unique_existing: bool
    state: JobState
    replayed: bool
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., unique_existing: bool = ..., state: _Optional[_Union[JobState, str]] = ..., replayed: bool = ...) -> None: ...

class FetchRequest(_message.Message):
    __slots__ = ("queues", "worker_id", "hostname", "lease_duration", "max_wait_ms")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedScalarFieldContainer[str]
    worker_id: str
    hostname: str
    lease_duration: int
    max_wait_ms: int
    def __init__(self, queues: _Optional[_Iterable[str]] = ..., worker_id: _Optional[str] = ..., hostname: _Optional[str] = ..., lease_duration: _Optional[int] = ..., max_wait_ms: _Optional[int] = ...) -> None: ...

class FetchResponse(_message.Message):
    __slots__ = ("found", "job_id", "queue", "payload_json", "attempt", "max_retries", "lease_duration", "checkpoint_json", "tags_json", "agent", "lease_token", "lease_deadline_ms", "priority", "trace_parent")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_JSON_FIELD_NUMBER: _ClassVar[int]
    TAGS_JSON_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TRACE_PARENT_FIELD_NUMBER: _ClassVar[int]
    found: bool
    job_id: str
    queue: str
    payload_json: str
    attempt: int
    max_retries: int
    lease_duration: int
    checkpoint_json: str
    tags_json: str
    agent: AgentState
    lease_token: int
    lease_deadline_ms: int
    priority: Priority
    trace_parent: str
    def __init__(self, found: bool = ..., job_id: _Optional[str] = ..., queue: _Optional[str] = ..., payload_json: _Optional[str] = ..., attempt: _Optional[int] = ..., max_retries: _Optional[int] = ..., lease_duration: _Optional[int] = ..., checkpoint_json: _Optional[str] = ..., tags_json: _Optional[str] = ..., agent: _Optional[_Union[AgentState, _Mapping]] = ..., lease_token: _Optional[int] = ..., lease_deadline_ms: _Optional[int] = ..., priority: _Optional[_Union[Priority, str]] = ..., trace_parent: _Optional[str] = ...) -> None: ...

class FetchBatchRequest(_message.Message):
    __slots__ = ("queues", "worker_id", "hostname", "lease_duration", "count", "max_wait_ms")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedScalarFieldContainer[str]
    worker_id: str
    hostname: str
    lease_duration: int
    count: int
    max_wait_ms: int
    def __init__(self, queues: _Optional[_Iterable[str]] = ..., worker_id: _Optional[str] = ..., hostname: _Optional[str] = ..., lease_duration: _Optional[int] = ..., count: _Optional[int] = ..., max_wait_ms: _Optional[int] = ...) -> None: ...

class FetchBatchJob(_message.Message):
    __slots__ = ("job_id", "queue", "payload_json", "attempt", "max_retries", "lease_duration", "checkpoint_json", "tags_json", "agent", "lease_token", "lease_deadline_ms", "priority", "trace_parent")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_JSON_FIELD_NUMBER: _ClassVar[int]
    TAGS_JSON_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TRACE_PARENT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    queue: str
    payload_json: str
    attempt: int
    max_retries: int
    lease_duration: int
    checkpoint_json: str
    tags_json: str
    agent: AgentState
    lease_token: int
    lease_deadline_ms: int
    priority: Priority
    trace_parent: str
    def __init__(self, job_id: _Optional[str] = ..., queue: _Optional[str] = ..., payload_json: _Optional[str] = ..., attempt: _Optional[int] = ..., max_retries: _Optional[int] = ..., lease_duration: _Optional[int] = ..., checkpoint_json: _Optional[str] = ..., tags_json: _Optional[str] = ..., agent: _Optional[_Union[AgentState, _Mapping]] = ..., lease_token: _Optional[int] = ..., lease_deadline_ms: _Optional[int] = ..., priority: _Optional[_Union[Priority, str]] = ..., trace_parent: _Optional[str] = ...) -> None: ...

class FetchBatchResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[FetchBatchJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[FetchBatchJob, _Mapping]]] = ...) -> None: ...

class UsageReport(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "model", "provider", "cost_usd")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cache_creation_tokens: int
    cache_read_tokens: int
    model: str
    provider: str
    cost_usd: float
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_creation_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., cost_usd: _Optional[float] = ...) -> None: ...

class AckRequest(_message.Message):
    __slots__ = ("job_id", "result_json", "usage", "checkpoint_json", "agent_status", "hold_reason", "trace_json", "lease_token")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_JSON_FIELD_NUMBER: _ClassVar[int]
    AGENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    HOLD_REASON_FIELD_NUMBER: _ClassVar[int]
    TRACE_JSON_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    result_json: str
    usage: UsageReport
    checkpoint_json: str
    agent_status: str
    hold_reason: str
    trace_json: str
    lease_token: int
    def __init__(self, job_id: _Optional[str] = ..., result_json: _Optional[str] = ..., usage: _Optional[_Union[UsageReport, _Mapping]] = ..., checkpoint_json: _Optional[str] = ..., agent_status: _Optional[str] = ..., hold_reason: _Optional[str] = ..., trace_json: _Optional[str] = ..., lease_token: _Optional[int] = ...) -> None: ...

class AckResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    def __init__(self, state: _Optional[_Union[JobState, str]] = ...) -> None: ...

class AckBatchItem(_message.Message):
    __slots__ = ("job_id", "result_json", "usage", "lease_token")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    result_json: str
    usage: UsageReport
    lease_token: int
    def __init__(self, job_id: _Optional[str] = ..., result_json: _Optional[str] = ..., usage: _Optional[_Union[UsageReport, _Mapping]] = ..., lease_token: _Optional[int] = ...) -> None: ...

class AckBatchRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AckBatchItem]
    def __init__(self, items: _Optional[_Iterable[_Union[AckBatchItem, _Mapping]]] = ...) -> None: ...

class ItemResult(_message.Message):
    __slots__ = ("job_id", "code", "message", "state")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    code: ErrorCode
    message: str
    state: JobState
    def __init__(self, job_id: _Optional[str] = ..., code: _Optional[_Union[ErrorCode, str]] = ..., message: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ...) -> None: ...

class AckBatchResponse(_message.Message):
    __slots__ = ("acked", "results")
    ACKED_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    acked: int
    results: _containers.RepeatedCompositeFieldContainer[ItemResult]
    def __init__(self, acked: _Optional[int] = ..., results: _Optional[_Iterable[_Union[ItemResult, _Mapping]]] = ...) -> None: ...

class LifecycleEnqueueItem(_message.Message):
    __slots__ = ("queue", "payload_json", "agent", "options")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    queue: str
    payload_json: str
    agent: AgentConfig
    options: EnqueueOptions
    def __init__(self, queue: _Optional[str] = ..., payload_json: _Optional[str] = ..., agent: _Optional[_Union[AgentConfig, _Mapping]] = ..., options: _Optional[_Union[EnqueueOptions, _Mapping]] = ...) -> None: ...

class LifecycleFailItem(_message.Message):
    __slots__ = ("job_id", "error", "backtrace", "lease_token")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    BACKTRACE_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    error: str
    backtrace: str
    lease_token: int
    def __init__(self, job_id: _Optional[str] = ..., error: _Optional[str] = ..., backtrace: _Optional[str] = ..., lease_token: _Optional[int] = ...) -> None: ...

class LifecycleHeartbeatItem(_message.Message):
    __slots__ = ("job_id", "progress_json", "checkpoint_json", "lease_token")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_JSON_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_JSON_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    progress_json: str
    checkpoint_json: str
    lease_token: int
    def __init__(self, job_id: _Optional[str] = ..., progress_json: _Optional[str] = ..., checkpoint_json: _Optional[str] = ..., lease_token: _Optional[int] = ...) -> None: ...

class StreamLifecycleRequest(_message.Message):
    __slots__ = ("request_id", "queues", "worker_id", "hostname", "lease_duration", "fetch_count", "acks", "enqueues", "credits", "fails", "heartbeats", "drain")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    FETCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACKS_FIELD_NUMBER: _ClassVar[int]
    ENQUEUES_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    FAILS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEATS_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    queues: _containers.RepeatedScalarFieldContainer[str]
    worker_id: str
    hostname: str
    lease_duration: int
    fetch_count: int
    acks: _containers.RepeatedCompositeFieldContainer[AckBatchItem]
    enqueues: _containers.RepeatedCompositeFieldContainer[LifecycleEnqueueItem]
    credits: int
    fails: _containers.RepeatedCompositeFieldContainer[LifecycleFailItem]
    heartbeats: _containers.RepeatedCompositeFieldContainer[LifecycleHeartbeatItem]
    drain: bool
    def __init__(self, request_id: _Optional[int] = ..., queues: _Optional[_Iterable[str]] = ..., worker_id: _Optional[str] = ..., hostname: _Optional[str] = ..., lease_duration: _Optional[int] = ..., fetch_count: _Optional[int] = ..., acks: _Optional[_Iterable[_Union[AckBatchItem, _Mapping]]] = ..., enqueues: _Optional[_Iterable[_Union[LifecycleEnqueueItem, _Mapping]]] = ..., credits: _Optional[int] = ..., fails: _Optional[_Iterable[_Union[LifecycleFailItem, _Mapping]]] = ..., heartbeats: _Optional[_Iterable[_Union[LifecycleHeartbeatItem, _Mapping]]] = ..., drain: bool = ...) -> None: ...

class StreamLifecycleResponse(_message.Message):
    __slots__ = ("request_id", "jobs", "acked", "error", "enqueued_job_ids", "leader_addr", "error_code", "retry_after_ms", "ack_results", "fail_results", "enqueue_results", "cancel_job_ids", "heartbeat_results", "credits")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    ACKED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LEADER_ADDR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    ACK_RESULTS_FIELD_NUMBER: _ClassVar[int]
    FAIL_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ENQUEUE_RESULTS_FIELD_NUMBER: _ClassVar[int]
    CANCEL_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_RESULTS_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    jobs: _containers.RepeatedCompositeFieldContainer[FetchBatchJob]
    acked: int
    error: str
    enqueued_job_ids: _containers.RepeatedScalarFieldContainer[str]
    leader_addr: str
    error_code: ErrorCode
    retry_after_ms: int
    ack_results: _containers.RepeatedCompositeFieldContainer[ItemResult]
    fail_results: _containers.RepeatedCompositeFieldContainer[ItemResult]
    enqueue_results: _containers.RepeatedCompositeFieldContainer[ItemResult]
    cancel_job_ids: _containers.RepeatedScalarFieldContainer[str]
    heartbeat_results: _containers.RepeatedCompositeFieldContainer[ItemResult]
    credits: int
    def __init__(self, request_id: _Optional[int] = ..., jobs: _Optional[_Iterable[_Union[FetchBatchJob, _Mapping]]] = ..., acked: _Optional[int] = ..., error: _Optional[str] = ..., enqueued_job_ids: _Optional[_Iterable[str]] = ..., leader_addr: _Optional[str] = ..., error_code: _Optional[_Union[ErrorCode, str]] = ..., retry_after_ms: _Optional[int] = ..., ack_results: _Optional[_Iterable[_Union[ItemResult, _Mapping]]] = ..., fail_results: _Optional[_Iterable[_Union[ItemResult, _Mapping]]] = ..., enqueue_results: _Optional[_Iterable[_Union[ItemResult, _Mapping]]] = ..., cancel_job_ids: _Optional[_Iterable[str]] = ..., heartbeat_results: _Optional[_Iterable[_Union[ItemResult, _Mapping]]] = ..., credits: _Optional[int] = ...) -> None: ...

class FailRequest(_message.Message):
    __slots__ = ("job_id", "error", "backtrace", "lease_token")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    BACKTRACE_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    error: str
    backtrace: str
    lease_token: int
    def __init__(self, job_id: _Optional[str] = ..., error: _Optional[str] = ..., backtrace: _Optional[str] = ..., lease_token: _Optional[int] = ...) -> None: ...

class FailResponse(_message.Message):
    __slots__ = ("status", "next_attempt_at", "attempts_remaining")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    status: str
    next_attempt_at: _timestamp_pb2.Timestamp
    attempts_remaining: int
    def __init__(self, status: _Optional[str] = ..., next_attempt_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., attempts_remaining: _Optional[int] = ...) -> None: ...

class HeartbeatJobUpdate(_message.Message):
    __slots__ = ("progress_json", "checkpoint_json", "usage", "stream_delta", "lease_token")
    PROGRESS_JSON_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_JSON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    STREAM_DELTA_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    progress_json: str
    checkpoint_json: str
    usage: UsageReport
    stream_delta: str
    lease_token: int
    def __init__(self, progress_json: _Optional[str] = ..., checkpoint_json: _Optional[str] = ..., usage: _Optional[_Union[UsageReport, _Mapping]] = ..., stream_delta: _Optional[str] = ..., lease_token: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("jobs",)
    class JobsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HeartbeatJobUpdate
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HeartbeatJobUpdate, _Mapping]] = ...) -> None: ...
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.MessageMap[str, HeartbeatJobUpdate]
    def __init__(self, jobs: _Optional[_Mapping[str, HeartbeatJobUpdate]] = ...) -> None: ...

class HeartbeatJobResponse(_message.Message):
    __slots__ = ("status", "reason", "lease_deadline_ms")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    status: str
    reason: str
    lease_deadline_ms: int
    def __init__(self, status: _Optional[str] = ..., reason: _Optional[str] = ..., lease_deadline_ms: _Optional[int] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("jobs",)
    class JobsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HeartbeatJobResponse
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HeartbeatJobResponse, _Mapping]] = ...) -> None: ...
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.MessageMap[str, HeartbeatJobResponse]
    def __init__(self, jobs: _Optional[_Mapping[str, HeartbeatJobResponse]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("queues", "job_ids", "types", "last_event_id", "from_now")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_NOW_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedScalarFieldContainer[str]
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    types: _containers.RepeatedScalarFieldContainer[str]
    last_event_id: int
    from_now: bool
    def __init__(self, queues: _Optional[_Iterable[str]] = ..., job_ids: _Optional[_Iterable[str]] = ..., types: _Optional[_Iterable[str]] = ..., last_event_id: _Optional[int] = ..., from_now: bool = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("seq", "type", "job_id", "queue", "at_ns", "data_json")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    AT_NS_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    seq: int
    type: str
    job_id: str
    queue: str
    at_ns: int
    data_json: str
    def __init__(self, seq: _Optional[int] = ..., type: _Optional[str] = ..., job_id: _Optional[str] = ..., queue: _Optional[str] = ..., at_ns: _Optional[int] = ..., data_json: _Optional[str] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("server_version", "api_version")
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    api_version: str
    def __init__(self, server_version: _Optional[str] = ..., api_version: _Optional[str] = ...) -> None: ...

class AgentConfig(_message.Message):
    __slots__ = ("max_iterations", "max_cost_usd", "iteration_timeout")
    MAX_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ITERATION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    max_iterations: int
    max_cost_usd: float
    iteration_timeout: str
    def __init__(self, max_iterations: _Optional[int] = ..., max_cost_usd: _Optional[float] = ..., iteration_timeout: _Optional[str] = ...) -> None: ...

class AgentState(_message.Message):
    __slots__ = ("max_iterations", "max_cost_usd", "iteration_timeout", "iteration", "total_cost_usd")
    MAX_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ITERATION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_USD_FIELD_NUMBER: _ClassVar[int]
    max_iterations: int
    max_cost_usd: float
    iteration_timeout: str
    iteration: int
    total_cost_usd: float
    def __init__(self, max_iterations: _Optional[int] = ..., max_cost_usd: _Optional[float] = ..., iteration_timeout: _Optional[str] = ..., iteration: _Optional[int] = ..., total_cost_usd: _Optional[float] = ...) -> None: ...
