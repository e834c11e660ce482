//! Limits and defaults of the API layer. Every limit is named, with its unit and a reason.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// Largest payload, result, progress or checkpoint document (1 MiB): big data belongs in
    /// object storage, referenced from the payload.
    pub payload_bytes_max: usize,
    /// Largest error message or backtrace kept on a failed attempt (64 KiB).
    pub error_bytes_max: usize,
    /// Lease when the worker asks for none (60 s, the original protocol's default).
    pub lease_ms_default: u64,
    /// Longest lease a worker may ask for (1 h); longer jobs heartbeat.
    pub lease_ms_max: u64,
    /// How long unary Fetch waits for work when the request does not say (30 s).
    pub fetch_wait_ms_default: u64,
    /// Longest wait a unary Fetch may ask for (60 s), below common proxy idle timeouts.
    pub fetch_wait_ms_max: u64,
    /// Most jobs one fetch or one push may carry.
    pub fetch_count_max: u32,
    /// Most items in one AckBatch, Heartbeat or stream frame (all sections together): one
    /// call's commands share one log entry, which holds at most 1024 commands.
    pub batch_items_max: usize,
    /// Most credits a stream may hold outstanding (bounds jobs pushed but not settled).
    pub stream_credits_max: u32,
    /// A legacy stream frame that asked for work and found none is answered after at most
    /// this long (100 ms, as the original server did), so old clients never starve their acks.
    pub legacy_idle_wait: Duration,
    /// Responses buffered per stream before the server stops reading more frames.
    pub stream_buffer_frames: usize,
    /// Events sent per read of the event log by Subscribe.
    pub subscribe_batch_max: usize,
    /// After SIGTERM, open worker streams may finish in-flight acks for this long.
    pub drain_grace: Duration,
    /// How often readiness is re-checked when nothing else triggers it (1 s): a probe that
    /// polls every few seconds sees a change within one of its periods.
    pub readiness_interval: Duration,
    /// The node is not ready while more committed entries than this wait to be applied
    /// (10 000: about a second of peak writes; beyond that its reads are visibly stale).
    pub ready_apply_backlog_max: u64,
    /// The largest gRPC message of WorkerService, both ways (16 MiB): a fetch or a push never
    /// leases more jobs than fit in one response.
    pub message_bytes_max: usize,
    /// TLS for this node's calls to other members' client ports (forwarded calls, cluster
    /// status, forwarded joins); `None` when the client port is plaintext.
    pub member_tls: Option<tonic::transport::ClientTlsConfig>,
    /// Every ack, fail and heartbeat must carry its lease token (`--require-lease-tokens`).
    /// Off by default: workers of the original contract send none.
    pub require_lease_tokens: bool,
    /// How long an idempotency key answers for its job (`--idempotency-window`, 24 h): longer
    /// than any client's retries, short enough that the keys held stay small.
    pub idempotency_window_ms: u64,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            idempotency_window_ms: 24 * 3_600_000,
            payload_bytes_max: 1 << 20,
            error_bytes_max: 64 << 10,
            lease_ms_default: 60_000,
            lease_ms_max: 3_600_000,
            fetch_wait_ms_default: 30_000,
            fetch_wait_ms_max: 60_000,
            fetch_count_max: 1_024,
            batch_items_max: 1_024,
            stream_credits_max: 4_096,
            legacy_idle_wait: Duration::from_millis(100),
            stream_buffer_frames: 64,
            subscribe_batch_max: 256,
            drain_grace: Duration::from_secs(10),
            readiness_interval: Duration::from_secs(1),
            ready_apply_backlog_max: 10_000,
            message_bytes_max: 16 << 20,
            member_tls: None,
            require_lease_tokens: false,
        }
    }
}
