from corvo.v1 import worker_pb2 as _worker_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_ROLE_UNSPECIFIED: _ClassVar[NodeRole]
    NODE_ROLE_LEARNER: _ClassVar[NodeRole]
    NODE_ROLE_FOLLOWER: _ClassVar[NodeRole]
    NODE_ROLE_CANDIDATE: _ClassVar[NodeRole]
    NODE_ROLE_LEADER: _ClassVar[NodeRole]
    NODE_ROLE_SHUTDOWN: _ClassVar[NodeRole]
NODE_ROLE_UNSPECIFIED: NodeRole
NODE_ROLE_LEARNER: NodeRole
NODE_ROLE_FOLLOWER: NodeRole
NODE_ROLE_CANDIDATE: NodeRole
NODE_ROLE_LEADER: NodeRole
NODE_ROLE_SHUTDOWN: NodeRole

class DiskUsage(_message.Message):
    __slots__ = ("used_bytes", "free_bytes", "size_bytes")
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    used_bytes: int
    free_bytes: int
    size_bytes: int
    def __init__(self, used_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class QueueStateCount(_message.Message):
    __slots__ = ("queue", "state", "count")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    queue: str
    state: _worker_pb2.JobState
    count: int
    def __init__(self, queue: _Optional[str] = ..., state: _Optional[_Union[_worker_pb2.JobState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class StateCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: _worker_pb2.JobState
    count: int
    def __init__(self, state: _Optional[_Union[_worker_pb2.JobState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("node_id", "raft_id", "client_address", "role", "term", "leader_raft_id", "last_log_index", "committed_index", "applied_index", "apply_backlog", "disk", "worker_streams", "workers_connected", "job_counts", "queue_counts", "queue_counts_truncated", "ready", "not_ready_reasons", "draining", "version", "uptime_ms", "raft_error", "last_snapshot", "view_applied_index", "view_error", "cluster_id")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_INDEX_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    APPLY_BACKLOG_FIELD_NUMBER: _ClassVar[int]
    DISK_FIELD_NUMBER: _ClassVar[int]
    WORKER_STREAMS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    JOB_COUNTS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_COUNTS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    NOT_READY_REASONS_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    RAFT_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    VIEW_APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    VIEW_ERROR_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    raft_id: int
    client_address: str
    role: NodeRole
    term: int
    leader_raft_id: int
    last_log_index: int
    committed_index: int
    applied_index: int
    apply_backlog: int
    disk: DiskUsage
    worker_streams: int
    workers_connected: int
    job_counts: _containers.RepeatedCompositeFieldContainer[StateCount]
    queue_counts: _containers.RepeatedCompositeFieldContainer[QueueStateCount]
    queue_counts_truncated: bool
    ready: bool
    not_ready_reasons: _containers.RepeatedScalarFieldContainer[str]
    draining: bool
    version: str
    uptime_ms: int
    raft_error: str
    last_snapshot: SnapshotInfo
    view_applied_index: int
    view_error: str
    cluster_id: str
    def __init__(self, node_id: _Optional[str] = ..., raft_id: _Optional[int] = ..., client_address: _Optional[str] = ..., role: _Optional[_Union[NodeRole, str]] = ..., term: _Optional[int] = ..., leader_raft_id: _Optional[int] = ..., last_log_index: _Optional[int] = ..., committed_index: _Optional[int] = ..., applied_index: _Optional[int] = ..., apply_backlog: _Optional[int] = ..., disk: _Optional[_Union[DiskUsage, _Mapping]] = ..., worker_streams: _Optional[int] = ..., workers_connected: _Optional[int] = ..., job_counts: _Optional[_Iterable[_Union[StateCount, _Mapping]]] = ..., queue_counts: _Optional[_Iterable[_Union[QueueStateCount, _Mapping]]] = ..., queue_counts_truncated: bool = ..., ready: bool = ..., not_ready_reasons: _Optional[_Iterable[str]] = ..., draining: bool = ..., version: _Optional[str] = ..., uptime_ms: _Optional[int] = ..., raft_error: _Optional[str] = ..., last_snapshot: _Optional[_Union[SnapshotInfo, _Mapping]] = ..., view_applied_index: _Optional[int] = ..., view_error: _Optional[str] = ..., cluster_id: _Optional[str] = ...) -> None: ...

class SnapshotInfo(_message.Message):
    __slots__ = ("file_name", "path", "last_index", "last_term", "size_bytes", "created_unix_ms")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    LAST_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_TERM_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    path: str
    last_index: int
    last_term: int
    size_bytes: int
    created_unix_ms: int
    def __init__(self, file_name: _Optional[str] = ..., path: _Optional[str] = ..., last_index: _Optional[int] = ..., last_term: _Optional[int] = ..., size_bytes: _Optional[int] = ..., created_unix_ms: _Optional[int] = ...) -> None: ...

class GetNodeStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetNodeStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: NodeStatus
    def __init__(self, status: _Optional[_Union[NodeStatus, _Mapping]] = ...) -> None: ...

class GetClusterStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClusterNodeStatus(_message.Message):
    __slots__ = ("node_id", "reachable", "error", "status", "raft_id", "voter", "client_address", "raft_address")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    RAFT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    reachable: bool
    error: str
    status: NodeStatus
    raft_id: int
    voter: bool
    client_address: str
    raft_address: str
    def __init__(self, node_id: _Optional[str] = ..., reachable: bool = ..., error: _Optional[str] = ..., status: _Optional[_Union[NodeStatus, _Mapping]] = ..., raft_id: _Optional[int] = ..., voter: bool = ..., client_address: _Optional[str] = ..., raft_address: _Optional[str] = ...) -> None: ...

class GetClusterStatusResponse(_message.Message):
    __slots__ = ("nodes", "leader_raft_id")
    NODES_FIELD_NUMBER: _ClassVar[int]
    LEADER_RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[ClusterNodeStatus]
    leader_raft_id: int
    def __init__(self, nodes: _Optional[_Iterable[_Union[ClusterNodeStatus, _Mapping]]] = ..., leader_raft_id: _Optional[int] = ...) -> None: ...

class JoinRequest(_message.Message):
    __slots__ = ("raft_id", "raft_address", "client_address", "node_id", "new_data_dir", "check_only")
    RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    RAFT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_DATA_DIR_FIELD_NUMBER: _ClassVar[int]
    CHECK_ONLY_FIELD_NUMBER: _ClassVar[int]
    raft_id: int
    raft_address: str
    client_address: str
    node_id: str
    new_data_dir: bool
    check_only: bool
    def __init__(self, raft_id: _Optional[int] = ..., raft_address: _Optional[str] = ..., client_address: _Optional[str] = ..., node_id: _Optional[str] = ..., new_data_dir: bool = ..., check_only: bool = ...) -> None: ...

class JoinResponse(_message.Message):
    __slots__ = ("leader_raft_id", "already_member", "voters", "cluster_id")
    LEADER_RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_MEMBER_FIELD_NUMBER: _ClassVar[int]
    VOTERS_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ID_FIELD_NUMBER: _ClassVar[int]
    leader_raft_id: int
    already_member: bool
    voters: int
    cluster_id: str
    def __init__(self, leader_raft_id: _Optional[int] = ..., already_member: bool = ..., voters: _Optional[int] = ..., cluster_id: _Optional[str] = ...) -> None: ...

class RemoveNodeRequest(_message.Message):
    __slots__ = ("raft_id",)
    RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    raft_id: int
    def __init__(self, raft_id: _Optional[int] = ...) -> None: ...

class RemoveNodeResponse(_message.Message):
    __slots__ = ("voters",)
    VOTERS_FIELD_NUMBER: _ClassVar[int]
    voters: int
    def __init__(self, voters: _Optional[int] = ...) -> None: ...

class TransferLeaderRequest(_message.Message):
    __slots__ = ("raft_id",)
    RAFT_ID_FIELD_NUMBER: _ClassVar[int]
    raft_id: int
    def __init__(self, raft_id: _Optional[int] = ...) -> None: ...

class TransferLeaderResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStateDigestRequest(_message.Message):
    __slots__ = ("min_applied_index", "wait_ms")
    MIN_APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    min_applied_index: int
    wait_ms: int
    def __init__(self, min_applied_index: _Optional[int] = ..., wait_ms: _Optional[int] = ...) -> None: ...

class GetStateDigestResponse(_message.Message):
    __slots__ = ("digest", "applied_index")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    digest: str
    applied_index: int
    def __init__(self, digest: _Optional[str] = ..., applied_index: _Optional[int] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: SnapshotInfo
    def __init__(self, snapshot: _Optional[_Union[SnapshotInfo, _Mapping]] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[SnapshotInfo]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[SnapshotInfo, _Mapping]]] = ...) -> None: ...
