//! Flags and `CORVO_*` environment variables: the only place configuration is read.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The most threads `--runtime-threads` accepts.
pub const RUNTIME_THREADS_MAX: u16 = 1024;

#[derive(Parser, Debug)]
#[command(
    name = "corvo",
    version,
    about = "Corvo: a durable, Raft-replicated job server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a Corvo node (a one-node cluster on first start).
    Server(Box<ServerArgs>),
    /// Enqueue a job.
    Enqueue(EnqueueArgs),
    /// Inspect and manage jobs.
    Jobs(JobsArgs),
    /// Run a demo worker that prints jobs and acknowledges them.
    Worker(WorkerArgs),
    /// Measure throughput and latency against a running server.
    Bench(crate::bench::BenchArgs),
    /// Show this node's status: role, leader, indexes, apply backlog, disk, workers, queues.
    Status(StatusArgs),
    /// Cluster-wide commands.
    Cluster(ClusterArgs),
    /// Snapshots (the backup unit): create one now, list them, or check an archive file.
    Snapshot(SnapshotArgs),
    /// API keys: create (the secret is shown once), list, get, revoke, rotate. Admin keys only.
    Keys(KeysArgs),
    /// Queues: list, inspect, pause, resume, drain, clear, destroy, limit, retention.
    Queues(QueuesArgs),
    /// The worker streams connected to the node (the leader holds them all).
    Workers(WorkersArgs),
    /// Events: follow the event log.
    Events(EventsArgs),
}

#[derive(Args, Debug)]
pub struct QueuesArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub action: QueuesAction,
}

#[derive(Subcommand, Debug)]
pub enum QueuesAction {
    /// Every queue: counts by state, oldest pending, rates over the last minute, settings.
    List,
    /// One queue.
    Get { queue: String },
    /// Hand out nothing of the queue (enqueues are still accepted).
    Pause { queue: String },
    /// Hand out the queue's jobs again.
    Resume { queue: String },
    /// Pause the queue and wait until none of its jobs is active.
    Drain {
        queue: String,
        /// How long to wait for the active jobs (at most 10m).
        #[arg(long, value_parser = parse_duration, default_value = "60s")]
        wait: std::time::Duration,
    },
    /// Remove the queue's pending, scheduled and retrying jobs.
    Clear {
        queue: String,
        /// Do not follow a long clear: print its operation id and return.
        #[arg(long)]
        no_wait: bool,
    },
    /// Remove every job of the queue and its settings.
    Destroy {
        queue: String,
        /// The queue's name again: a guard against destroying the wrong one.
        #[arg(long)]
        confirm: String,
        #[arg(long)]
        no_wait: bool,
    },
    /// Set the queue's concurrency and rate limits (an omitted one stays as it is).
    Limit {
        queue: String,
        /// At most this many active jobs (0: no limit).
        #[arg(long)]
        concurrency: Option<u32>,
        /// At most N starts per window, as N/WINDOW (`10/1s`, `600/1m`); `none` removes it.
        #[arg(long, value_parser = parse_rate)]
        rate: Option<RateArg>,
    },
    /// Set how long the queue's finished jobs are kept (an omitted one stays; `default` goes
    /// back to the cluster's).
    Retention {
        queue: String,
        /// Completed and cancelled jobs (`2d`, or `default`).
        #[arg(long, value_parser = parse_retention)]
        completed: Option<RetentionArg>,
        /// Dead jobs (`30d`, or `default`).
        #[arg(long, value_parser = parse_retention)]
        dead: Option<RetentionArg>,
    },
}

/// `--rate`: at most `starts` per `window`, or none.
#[derive(Clone, Debug)]
pub struct RateArg(pub Option<(u32, std::time::Duration)>);

/// `N/WINDOW` (`10/1s`), or `none`.
pub fn parse_rate(s: &str) -> Result<RateArg, String> {
    if s == "none" {
        return Ok(RateArg(None));
    }
    let (n, window) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: expected N/WINDOW, like 10/1s, or none"))?;
    let n = n
        .parse::<u32>()
        .map_err(|_| format!("{s:?}: {n:?} is not a count"))?;
    Ok(RateArg(Some((n, parse_duration(window)?))))
}

/// `--completed` / `--dead`: a retention, or None for the cluster's default.
#[derive(Clone, Debug)]
pub struct RetentionArg(pub Option<std::time::Duration>);

/// A duration, or `default`.
pub fn parse_retention(s: &str) -> Result<RetentionArg, String> {
    if s == "default" {
        return Ok(RetentionArg(None));
    }
    parse_duration(s).map(|d| RetentionArg(Some(d)))
}

#[derive(Args, Debug)]
pub struct WorkersArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Only streams taking jobs from this queue.
    #[arg(long)]
    pub queue: Option<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub action: EventsAction,
}

#[derive(Subcommand, Debug)]
pub enum EventsAction {
    /// Print events as they happen (and the retained ones after `--from`), until Ctrl-C.
    Tail {
        /// Only events of this queue (repeatable).
        #[arg(long = "queue")]
        queues: Vec<String>,
        /// Only events of this type: enqueued, started, completed, failed, retrying, dead,
        /// cancelled, reclaimed, expired, progress, deleted, requeued, moved (repeatable).
        #[arg(long = "type")]
        types: Vec<String>,
        /// Start after this event id (0: the oldest retained event). Default: only new events.
        #[arg(long)]
        from: Option<u64>,
        /// Stop after this many events.
        #[arg(long)]
        max: Option<u64>,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// fsync the Raft log before acknowledging a write (default; survives power loss).
    Fsync,
    /// Acknowledge before fsync. RISKY: a crash or power loss can lose writes acknowledged
    /// within the last second (the log is fsynced in the background every second).
    Relaxed,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Where the node keeps its state and Raft log.
    #[arg(long, env = "CORVO_DATA_DIR", default_value = "./corvo-data")]
    pub data_dir: PathBuf,
    /// Address for clients: gRPC and HTTP (/healthz) on one port. Also the address stored in
    /// the cluster membership (followers name it to clients and forward joins to it) unless
    /// --advertise-addr is given.
    #[arg(long, env = "CORVO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Address for Raft peer traffic; also the one stored in the cluster membership unless
    /// --raft-advertise-addr is given. Opened only with a cluster secret.
    #[arg(long, env = "CORVO_RAFT_BIND", default_value = "127.0.0.1:9000")]
    pub raft_bind: SocketAddr,
    /// The client address (host:port; a DNS name is fine) stored in the cluster membership
    /// and told to peers and clients, when it differs from --bind (e.g. --bind 0.0.0.0:8080).
    /// Default: --bind.
    #[arg(long, env = "CORVO_ADVERTISE_ADDR")]
    pub advertise_addr: Option<String>,
    /// The peer address (host:port; a DNS name is fine) stored in the cluster membership,
    /// when it differs from --raft-bind. Default: --raft-bind.
    #[arg(long, env = "CORVO_RAFT_ADVERTISE_ADDR")]
    pub raft_advertise_addr: Option<String>,
    /// This node's name; fixed for the life of its data directory.
    #[arg(long, env = "CORVO_NODE_ID", default_value = "n1")]
    pub node_id: String,
    /// When a write is acknowledged.
    #[arg(long, env = "CORVO_DURABILITY", value_enum, default_value = "fsync")]
    pub durability: DurabilityArg,
    /// Largest job payload in bytes.
    #[arg(long, env = "CORVO_PAYLOAD_MAX_BYTES", default_value_t = 1 << 20)]
    pub payload_max_bytes: usize,
    /// Threads of the async runtime (gRPC, Raft, dispatch). Default: one per CPU the process
    /// may use. Fewer leave the log writer, the read view and the state's writeback (threads
    /// of their own) a core: cheaper small calls, slower with hundreds of connections
    /// (docs/adr/0039-runtime-threads.md).
    #[arg(long, env = "CORVO_RUNTIME_THREADS",
          value_parser = clap::value_parser!(u16).range(1..=i64::from(RUNTIME_THREADS_MAX)))]
    pub runtime_threads: Option<u16>,
    /// Build a snapshot (and compact the log behind it) after this many log entries since the
    /// last one (each entry holds up to 1024 commands), or one per KiB of the last snapshot if
    /// that is more; 0 turns this trigger off.
    #[arg(long, env = "CORVO_SNAPSHOT_ENTRIES", default_value_t = 100_000)]
    pub snapshot_entries: u64,
    /// Build a snapshot when the log has grown by this many bytes since the last one, or by
    /// the last snapshot's size if larger; 0 turns this trigger off.
    #[arg(long, env = "CORVO_SNAPSHOT_LOG_BYTES", default_value_t = 256 << 20)]
    pub snapshot_log_bytes: u64,
    /// Build a snapshot when the newest is this many seconds old and anything changed since;
    /// 0 turns this trigger off. Snapshots are the backups: this bounds their age.
    #[arg(long, env = "CORVO_SNAPSHOT_INTERVAL_SECS", default_value_t = 900)]
    pub snapshot_interval_secs: u64,
    /// Log entries kept behind a snapshot: a follower at most this far behind catches up from
    /// the log instead of receiving a whole snapshot.
    #[arg(long, env = "CORVO_SNAPSHOT_LOGS_KEPT", default_value_t = 1000)]
    pub snapshot_logs_kept: u64,
    /// Seed an EMPTY data dir from this snapshot archive (a backup) before starting. Alone,
    /// the node becomes a new one-node cluster holding the backup's state; with --join it
    /// rejoins the cluster the backup came from and catches up from its leader.
    #[arg(long, env = "CORVO_RESTORE")]
    pub restore: Option<PathBuf>,
    /// How long completed and cancelled jobs are kept before they are removed (`2s`, `90m`,
    /// `7d`); queues may override it. The leader's value applies to the cluster.
    #[arg(long, env = "CORVO_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub retention: std::time::Duration,
    /// How long dead jobs are kept before they are removed; queues may override it.
    #[arg(long, env = "CORVO_DEAD_RETENTION", default_value = "30d", value_parser = parse_duration)]
    pub dead_retention: std::time::Duration,
    /// How long an enqueue's idempotency key answers for its job: a retry with the same key
    /// within it creates nothing (at most 10 years). The keys held are bounded (1 000 000 keys,
    /// 64 MiB): past that the oldest are forgotten first. The leader's value applies.
    #[arg(long, env = "CORVO_IDEMPOTENCY_WINDOW", default_value = "24h", value_parser = parse_duration)]
    pub idempotency_window: std::time::Duration,
    /// After SIGTERM, how long open worker streams may keep acknowledging in-flight jobs.
    #[arg(long, env = "CORVO_DRAIN_GRACE_MS", default_value_t = 10_000)]
    pub drain_grace_ms: u64,
    /// Refuse every ack, fail and heartbeat that carries no lease token, on unary calls and
    /// streams alike (INVALID_ARGUMENT). Off by default: workers of the original contract send
    /// none; on a stream theirs are accepted only from the stream that holds the lease.
    #[arg(long, env = "CORVO_REQUIRE_LEASE_TOKENS")]
    pub require_lease_tokens: bool,
    /// After a fatal Raft error (a failed log write or fsync), how long the node stays up
    /// (`/healthz` 503, metrics and status readable) before it exits non-zero to be restarted.
    #[arg(long, env = "CORVO_FATAL_EXIT_GRACE_MS", default_value_t = 15_000)]
    pub fatal_exit_grace_ms: u64,
    /// Raft election timeout (the lower bound; the upper bound is twice this). A follower
    /// that hears no leader for this long starts an election.
    #[arg(long, env = "CORVO_ELECTION_TIMEOUT_MS", default_value_t = 1_000)]
    pub election_timeout_ms: u64,
    /// How often the leader sends heartbeats; must be below the election timeout.
    #[arg(long, env = "CORVO_HEARTBEAT_MS", default_value_t = 250)]
    pub heartbeat_ms: u64,
    /// Join the cluster of this node (any member's client URL, e.g. http://10.0.0.1:8080)
    /// instead of starting a new one. Ignored once this node's log holds a membership: a
    /// restarted member rejoins by starting. Needs the cluster secret.
    #[arg(long, env = "CORVO_JOIN")]
    pub join: Option<String>,
    /// For the node that starts the cluster (Kubernetes pod 0): on a first start (empty data
    /// dir), look for a live cluster at these members' client URLs (comma-separated) before
    /// starting a new one. A member that answers is joined as with --join (and a refusal,
    /// such as a voter's id on a wiped data dir, stops start-up); when none answers within
    /// --seek-cluster-timeout-ms, this node starts the cluster. Needs the cluster secret.
    #[arg(
        long,
        env = "CORVO_SEEK_CLUSTER",
        value_delimiter = ',',
        conflicts_with = "join"
    )]
    pub seek_cluster: Vec<String>,
    /// How long --seek-cluster looks for a live member before starting a new cluster.
    #[arg(long, env = "CORVO_SEEK_CLUSTER_TIMEOUT_MS", default_value_t = 10_000)]
    pub seek_cluster_timeout_ms: u64,
    /// Start with an empty log and wait to be added by a member (`POST /api/v1/cluster/join`
    /// or `ClusterService.Join`) instead of starting a one-node cluster. Needs the cluster
    /// secret. Ignored once the log holds a membership.
    #[arg(long, env = "CORVO_NO_BOOTSTRAP")]
    pub no_bootstrap: bool,
    /// The secret every node of the cluster shares: peer traffic and membership changes
    /// carry it. Without one the node runs alone (no peer port, no joins).
    #[arg(
        long,
        env = "CORVO_CLUSTER_SECRET",
        hide_env_values = true,
        conflicts_with = "cluster_secret_file"
    )]
    pub cluster_secret: Option<String>,
    /// A file holding the cluster secret (surrounding whitespace is ignored).
    #[arg(long, env = "CORVO_CLUSTER_SECRET_FILE")]
    pub cluster_secret_file: Option<PathBuf>,
    /// Refuse every call without a valid API key from the very start. Without it the node
    /// runs open (for development) until the first key exists, then requires keys for good.
    /// Probes (/healthz, /readyz, grpc.health.v1) and reflection stay open.
    #[arg(long, env = "CORVO_REQUIRE_AUTH")]
    pub require_auth: bool,
    /// The first admin key, hashed into the state at start if no key exists yet (at least 32
    /// visible ASCII characters, e.g. `openssl rand -hex 32`). Prefer
    /// --bootstrap-admin-key-file (a Kubernetes Secret mounted as a file).
    #[arg(
        long,
        env = "CORVO_BOOTSTRAP_ADMIN_KEY",
        hide_env_values = true,
        conflicts_with = "bootstrap_admin_key_file"
    )]
    pub bootstrap_admin_key: Option<String>,
    /// A file holding the first admin key (surrounding whitespace is ignored).
    #[arg(long, env = "CORVO_BOOTSTRAP_ADMIN_KEY_FILE")]
    pub bootstrap_admin_key_file: Option<PathBuf>,
    /// Require a key (admin, operator or readonly) for GET /metrics, which is open by default.
    #[arg(long, env = "CORVO_METRICS_AUTH")]
    pub metrics_auth: bool,
    /// Serve TLS on the client port with this certificate chain (PEM); needs --tls-key.
    /// Re-read on SIGHUP and when the file changes.
    #[arg(long, env = "CORVO_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "CORVO_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Ask clients for certificates signed by this CA (PEM): mutual TLS. A connection without
    /// one may reach only the open probes.
    #[arg(long, env = "CORVO_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// The CA (PEM) that signed the other members' client-port certificates, for this node's
    /// calls to them (forwarded calls, cluster status, joins). Default: --peer-tls-ca.
    #[arg(long, env = "CORVO_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Serve TLS on the peer port with this certificate (PEM); needs --peer-tls-key and
    /// --peer-tls-ca. Nodes then verify each other both ways (mutual TLS), so the certificate
    /// must be valid for TLS servers and clients.
    #[arg(long, env = "CORVO_PEER_TLS_CERT", requires_all = ["peer_tls_key", "peer_tls_ca"])]
    pub peer_tls_cert: Option<PathBuf>,
    /// The private key of --peer-tls-cert (PEM).
    #[arg(long, env = "CORVO_PEER_TLS_KEY", requires = "peer_tls_cert")]
    pub peer_tls_key: Option<PathBuf>,
    /// The CA (PEM) the peers' certificates chain to.
    #[arg(long, env = "CORVO_PEER_TLS_CA", requires = "peer_tls_cert")]
    pub peer_tls_ca: Option<PathBuf>,
    /// Requests and stream frames per second per API key (a key's own limit and the role
    /// defaults come first; readonly keys: 2000); 0 turns rate limiting off.
    #[arg(long, env = "CORVO_RATE_LIMIT_RPS", default_value_t = 20_000)]
    pub rate_limit_rps: u32,
    /// Requests per second per client address while the server runs open (no key exists);
    /// loopback callers are not limited.
    #[arg(long, env = "CORVO_ANONYMOUS_RATE_LIMIT_RPS", default_value_t = 20_000)]
    pub anonymous_rate_limit_rps: u32,
    /// Open worker streams (StreamLifecycle) on this node; past it new ones are refused with
    /// RESOURCE_EXHAUSTED and a retry hint, open ones are unharmed.
    #[arg(long, env = "CORVO_MAX_WORKER_STREAMS", default_value_t = 1_024)]
    pub max_worker_streams: usize,
    /// Open Subscribe streams on this node.
    #[arg(long, env = "CORVO_MAX_SUBSCRIBE_STREAMS", default_value_t = 256)]
    pub max_subscribe_streams: usize,
    /// Unary calls in flight (long polls excepted); past it calls are shed with UNAVAILABLE
    /// and a retry hint.
    #[arg(long, env = "CORVO_MAX_INFLIGHT_CALLS", default_value_t = 1_024)]
    pub max_inflight_calls: usize,
    /// Fetch and FetchBatch calls in flight (mostly idle long polls).
    #[arg(long, env = "CORVO_MAX_INFLIGHT_FETCHES", default_value_t = 4_096)]
    pub max_inflight_fetches: usize,
    /// The server's bound on a unary call, ms (long polls get their wait on top);
    /// DEADLINE_EXCEEDED past it.
    #[arg(long, env = "CORVO_CALL_TIMEOUT_MS", default_value_t = 30_000)]
    pub call_timeout_ms: u64,
    /// The largest gRPC message of WorkerService (at least twice --payload-max-bytes plus
    /// 1 MiB): a fetch never leases more jobs than fit in one response.
    #[arg(long, env = "CORVO_MAX_MESSAGE_BYTES", default_value_t = 16 << 20)]
    pub max_message_bytes: usize,
    /// HTTP/2 streams (concurrent calls) per client connection.
    #[arg(long, env = "CORVO_HTTP2_MAX_STREAMS", default_value_t = 1_024)]
    pub http2_max_streams: u32,
    /// HTTP/2 pings and TCP keepalive probes on idle connections, ms: a peer that answers
    /// neither within another interval is gone, and its streams close (so a vanished worker's
    /// stream ends within twice this).
    #[arg(long, env = "CORVO_KEEPALIVE_MS", default_value_t = 20_000)]
    pub keepalive_ms: u64,
    /// Log format.
    #[arg(long, env = "CORVO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Log filter (RUST_LOG syntax); RUST_LOG wins when set.
    #[arg(long, env = "CORVO_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Export traces over OTLP/gRPC to this collector (e.g. http://otel-collector:4317);
    /// overrides OTEL_EXPORTER_OTLP_ENDPOINT. Unset: no tracing export.
    #[arg(long, env = "CORVO_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// The server to talk to.
    #[arg(
        long,
        env = "CORVO_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// The API key to call with (`authorization: Bearer <key>`). Never printed.
    #[arg(long, env = "CORVO_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub output: Output,
    /// Export this command's traces over OTLP/gRPC (`enqueue` and `worker` trace); overrides
    /// OTEL_EXPORTER_OTLP_ENDPOINT. Unset: no tracing.
    #[arg(long, env = "CORVO_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// With an https:// --server: the CA (PEM) that signed the server's certificate.
    #[arg(long = "ca-cert", env = "CORVO_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// With a server that asks for client certificates: this client's certificate (PEM).
    #[arg(
        long = "client-cert",
        env = "CORVO_CLIENT_CERT",
        global = true,
        requires = "client_key"
    )]
    pub client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM).
    #[arg(
        long = "client-key",
        env = "CORVO_CLIENT_KEY",
        global = true,
        requires = "client_cert"
    )]
    pub client_key: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PriorityArg {
    Critical,
    High,
    Normal,
    Low,
}

#[derive(Args, Debug)]
pub struct EnqueueArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Queue name.
    pub queue: String,
    /// Payload as JSON (default {}).
    #[arg(default_value = "{}")]
    pub payload: String,
    #[arg(long, value_enum)]
    pub priority: Option<PriorityArg>,
    /// Attempts in total (default 3).
    #[arg(long)]
    pub max_attempts: Option<i32>,
    /// Deliver no sooner than this many milliseconds from now.
    #[arg(long)]
    pub delay_ms: Option<u64>,
    /// At most one job with this key per queue within the unique period.
    #[arg(long)]
    pub unique_key: Option<String>,
    /// Makes the enqueue safe to repeat: the same key on the same queue within the server's
    /// idempotency window (24 h) answers the first call's job and creates nothing. Without
    /// it, a fresh key is sent, so the command's own retries never create the job twice.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Tags as key=value (repeatable).
    #[arg(long = "tag", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected key=value, got {s:?}"))
}

#[derive(Args, Debug)]
pub struct JobsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub action: JobsAction,
}

#[derive(Subcommand, Debug)]
pub enum JobsAction {
    /// Show one job.
    Get { job_id: String },
    /// Cancel jobs by id or by filter (an active job's worker is told to stop).
    Cancel(BulkArgs),
    /// Put finished jobs back to pending, by id or by filter.
    Retry(BulkArgs),
    /// Delete jobs that are not active, by id or by filter.
    Delete(BulkArgs),
    /// Move jobs that are not active to another queue, by id or by filter.
    Move {
        #[command(flatten)]
        bulk: BulkArgs,
        /// The queue to move them to.
        #[arg(long)]
        to: String,
    },
    /// Change the priority of waiting jobs, by id or by filter.
    Priority {
        #[command(flatten)]
        bulk: BulkArgs,
        /// The priority to give them.
        #[arg(long = "set", value_enum)]
        to: PriorityArg,
    },
    /// List jobs, newest first, filtered (from the read view); pages are fetched as needed.
    List(ListArgs),
    /// Show a bulk operation, or every one kept.
    Operations { operation_id: Option<String> },
}

/// Which jobs a bulk command acts on: ids, or filters.
#[derive(Args, Debug)]
pub struct BulkArgs {
    /// Job ids (at most 1000); or select with the filters instead.
    pub job_ids: Vec<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Without ids or filters: act on every job (you have to mean it).
    #[arg(long)]
    pub all: bool,
    /// Do not follow a long operation: print its id and return.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Args, Debug, Default)]
pub struct FilterArgs {
    #[arg(long)]
    pub queue: Option<String>,
    /// pending, scheduled, active, retrying, held, completed, dead or cancelled (repeatable:
    /// any of them).
    #[arg(long = "state")]
    pub states: Vec<String>,
    #[arg(long, value_enum)]
    pub priority: Option<PriorityArg>,
    /// Only jobs with this tag (`key=value`; repeatable, all must match).
    #[arg(long = "tag", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Only jobs whose payload contains this text.
    #[arg(long)]
    pub payload_contains: Option<String>,
    /// Only jobs whose last error contains this text.
    #[arg(long)]
    pub error_contains: Option<String>,
    /// Created at or after: an RFC 3339 time, or a duration ago (`2h`).
    #[arg(long, value_parser = parse_time)]
    pub created_after: Option<std::time::SystemTime>,
    /// Created before: an RFC 3339 time, or a duration ago (`30m`).
    #[arg(long, value_parser = parse_time)]
    pub created_before: Option<std::time::SystemTime>,
}

/// An RFC 3339 time (`2026-12-05T10:00:00Z`), or a duration meaning that long ago (`2h`).
pub fn parse_time(s: &str) -> Result<std::time::SystemTime, String> {
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Ok(t);
    }
    let ago = humantime::parse_duration(s)
        .map_err(|_| format!("{s:?} is neither an RFC 3339 time nor a duration like 2h"))?;
    corvo_clock::system_time()
        .checked_sub(ago)
        .ok_or_else(|| format!("{s:?} is too long ago"))
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long)]
    pub queue: Option<String>,
    /// pending, scheduled, active, retrying, held, completed, dead or cancelled.
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long, value_enum)]
    pub priority: Option<PriorityArg>,
    /// Only jobs with this tag (`key=value`; repeatable, all must match).
    #[arg(long = "tag", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Only jobs whose payload contains this text.
    #[arg(long)]
    pub payload_contains: Option<String>,
    /// Only jobs whose last error contains this text.
    #[arg(long)]
    pub error_contains: Option<String>,
    /// Created at or after: an RFC 3339 time, or a duration ago (`2h`).
    #[arg(long, value_parser = parse_time)]
    pub created_after: Option<std::time::SystemTime>,
    /// Created before: an RFC 3339 time, or a duration ago (`30m`).
    #[arg(long, value_parser = parse_time)]
    pub created_before: Option<std::time::SystemTime>,
    /// Jobs to show in all (pages of up to 1000 are fetched as needed).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Continue from a previous page's `next_page_token`.
    #[arg(long)]
    pub page_token: Option<String>,
    /// Wait until every write acknowledged before this call is visible (read-your-writes).
    #[arg(long)]
    pub consistent: bool,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Queues to work on (repeatable).
    #[arg(long = "queue", required = true)]
    pub queues: Vec<String>,
    /// Stop after this many jobs (default: run until interrupted).
    #[arg(long)]
    pub max_jobs: Option<u64>,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Args, Debug)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub action: ClusterAction,
}

#[derive(Subcommand, Debug)]
pub enum ClusterAction {
    /// Every node's status, with the failure checklist answered (reachable? disk full?
    /// leader elected? apply backlog growing? workers connected?).
    Status,
    /// Remove a member (by name, e.g. `n3`, or Raft id) from the cluster. Needs the cluster
    /// secret or an admin key.
    Remove {
        node: String,
        #[arg(long, env = "CORVO_CLUSTER_SECRET", hide_env_values = true)]
        cluster_secret: Option<String>,
    },
    /// Ask the leader to hand leadership to a voter (by name or Raft id). Needs the cluster
    /// secret or an admin key.
    TransferLeader {
        node: String,
        #[arg(long, env = "CORVO_CLUSTER_SECRET", hide_env_values = true)]
        cluster_secret: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub action: SnapshotAction,
}

#[derive(Subcommand, Debug)]
pub enum SnapshotAction {
    /// Build a snapshot on the node now and print where its archive is (copy it off-node).
    Create {
        /// The cluster secret (or use an admin key: --api-key).
        #[arg(long, env = "CORVO_CLUSTER_SECRET", hide_env_values = true)]
        cluster_secret: Option<String>,
    },
    /// List the snapshot archives on the node, newest first.
    List,
    /// Check an archive file offline (structure and checksum), e.g. a copied backup.
    Verify {
        /// The archive file.
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub action: KeysAction,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything, keys and membership changes included.
    Admin,
    /// Queues, jobs and cluster status; no keys.
    Operator,
    /// Enqueue, fetch, ack, fail, heartbeat, subscribe and get jobs, within its queues.
    Worker,
    /// Get and list jobs, subscribe, status.
    Readonly,
}

/// A duration in human form: `2s`, `90m`, `12h`, `7d`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration like 2s, 90m or 7d: {e}"))
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Create a key and print its secret (once: it cannot be shown again).
    Create {
        /// A name for people, e.g. "billing workers".
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Limit the key to queues matching this glob (repeatable; default every queue).
        #[arg(long = "queue")]
        queues: Vec<String>,
        /// The key expires after this long (e.g. 90d); default never.
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<std::time::Duration>,
        /// Requests and stream frames per second for this key (default: the role's).
        #[arg(long)]
        rate_limit_rps: Option<u32>,
    },
    /// List every key (revoked ones too), without secrets.
    List,
    /// Show one key.
    Get { key_id: String },
    /// Refuse a key from now on, on every node.
    Revoke { key_id: String },
    /// Give a key a new secret; the old one keeps working for the grace period.
    Rotate {
        key_id: String,
        /// How long the old secret keeps working (default 24h; 0s ends it now).
        #[arg(long, value_parser = parse_duration)]
        grace: Option<std::time::Duration>,
    },
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// clap checks the definitions (unique names, valid defaults) only when a subcommand is
    /// built: this builds all of them.
    #[test]
    fn every_subcommand_is_well_defined() {
        Cli::command().debug_assert();
    }

    #[test]
    fn rates_and_retentions_parse() {
        assert_eq!(
            parse_rate("10/1s").map(|r| r.0),
            Ok(Some((10, std::time::Duration::from_secs(1))))
        );
        assert_eq!(parse_rate("none").map(|r| r.0), Ok(None));
        assert!(parse_rate("10").is_err());
        assert!(parse_rate("x/1s").is_err());
        assert!(parse_rate("10/soon").is_err());
        assert_eq!(
            parse_retention("2d").map(|r| r.0),
            Ok(Some(std::time::Duration::from_secs(2 * 86_400)))
        );
        assert_eq!(parse_retention("default").map(|r| r.0), Ok(None));
        assert!(parse_retention("forever").is_err());
        assert!(parse_time("2h").is_ok());
        assert!(parse_time("2026-12-05T10:00:00Z").is_ok());
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn runtime_threads_are_bounded() {
        let threads = |extra: &[&str]| {
            let mut argv = vec!["corvo", "server"];
            argv.extend_from_slice(extra);
            match Cli::try_parse_from(argv).map(|c| c.command) {
                Ok(Command::Server(args)) => Ok(args.runtime_threads),
                Ok(other) => panic!("not a server: {other:?}"),
                Err(e) => Err(e.to_string()),
            }
        };
        assert_eq!(threads(&[]), Ok(None), "the runtime's default: one per CPU");
        assert_eq!(threads(&["--runtime-threads", "3"]), Ok(Some(3)));
        let zero = threads(&["--runtime-threads", "0"]).unwrap_err();
        assert!(zero.contains("--runtime-threads"), "{zero}");
        assert!(threads(&["--runtime-threads", "5000"]).is_err());
    }

    #[test]
    fn bulk_commands_take_ids_or_filters() {
        let cli = Cli::try_parse_from([
            "corvo",
            "jobs",
            "retry",
            "--queue",
            "mail",
            "--state",
            "dead",
            "--state",
            "cancelled",
        ])
        .expect("parses");
        let Command::Jobs(JobsArgs {
            action: JobsAction::Retry(bulk),
            ..
        }) = cli.command
        else {
            panic!("not jobs retry");
        };
        assert!(bulk.job_ids.is_empty());
        assert_eq!(bulk.filter.queue.as_deref(), Some("mail"));
        assert_eq!(bulk.filter.states, ["dead", "cancelled"]);
        let cli = Cli::try_parse_from(["corvo", "jobs", "priority", "a", "b", "--set", "high"])
            .expect("parses");
        let Command::Jobs(JobsArgs {
            action: JobsAction::Priority { bulk, to },
            ..
        }) = cli.command
        else {
            panic!("not jobs priority");
        };
        assert_eq!(bulk.job_ids, ["a", "b"]);
        assert_eq!(to, PriorityArg::High);
    }
}
