//! Corvo's Prometheus metrics: the one registry, every family Corvo exports, and the hooks
//! that feed them. `docs/monitoring.md` explains each metric to operators.
//!
//! ```text
//!  events (as they happen)                      scrape (GET /metrics)
//!  Engine: lease delivered ─▶ enqueue→start,     NodeStatus (status.rs): queue counts, raft,
//!          ready→delivered histograms            disk, streams, readiness ─▶ gauges
//!  Engine: ack/fail reply ─▶ start→finish         process collector ─▶ /proc/self
//!  Engine: propose ─▶ corvo_raft_propose_seconds  rejection collector ─▶ error::rejections()
//!  node: apply run ─▶ apply seconds, batch size   encode: Prometheus text 0.0.4 or OpenMetrics
//!  rpc_metrics layer ─▶ requests, duration
//! ```
//!
//! Names follow Prometheus conventions: a `corvo_` prefix, base units in the name (`_seconds`,
//! `_bytes`), counters end in `_total`. The process metrics use the standard unprefixed names
//! (`process_cpu_seconds_total`, ...) that every client library exports, so stock dashboards
//! work. Label values are bounded: queues by [`QUEUE_LABELS_MAX`], RPC methods by the set of
//! methods the port serves (see `rpc_metrics`).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use corvo_core::model::{Job, JobState};
use corvo_core::{AttemptRun, BatchOutcome};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::error;
use crate::host;
use crate::status::NodeStatus;

/// Distinct `queue` label values. Queues beyond the first 100 this process sees are reported
/// together as `queue="_other"`: every labelled histogram costs ~20 series per queue, and a
/// deployment that creates queues per tenant or per day must not grow the scrape without
/// bound. 100 covers the named queues of any real deployment we know of.
pub const QUEUE_LABELS_MAX: usize = 100;
/// The `queue` label of every queue past [`QUEUE_LABELS_MAX`].
pub const OTHER_QUEUE: &str = "_other";

/// Buckets of the job lifecycle histograms, in seconds: 1 ms to 1 day (jobs may be scheduled
/// far ahead or wait out long backoffs).
const LIFECYCLE_BUCKETS: [f64; 20] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 1800.0, 3600.0, 21600.0, 86400.0,
];
/// Buckets of request, propose and apply latencies, in seconds: 0.1 ms to 60 s.
const LATENCY_BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 60.0,
];
/// Buckets of the group-commit batch size, in commands per log entry (the proposer puts at
/// most 1024 commands in one entry).
const BATCH_BUCKETS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// The content type of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of OpenMetrics text (sent when the scraper asks for it).
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueStateLabels {
    queue: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    queue: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RpcLabels {
    pub method: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
    version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckpointLabel {
    trigger: &'static str,
}

/// What made a state checkpoint (`corvo_state_checkpoint_seconds`'s label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointTrigger {
    /// An apply committed durably (its interval or apply count was up): applies waited.
    Apply,
    /// Applies had paused (`StateStore::checkpoint_if_idle`): nothing waited.
    Idle,
}

impl CheckpointTrigger {
    const ALL: [CheckpointTrigger; 2] = [CheckpointTrigger::Apply, CheckpointTrigger::Idle];

    fn label(self) -> CheckpointLabel {
        let trigger = match self {
            CheckpointTrigger::Apply => "apply",
            CheckpointTrigger::Idle => "idle",
        };
        CheckpointLabel { trigger }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn lifecycle_histogram() -> Histogram {
    Histogram::new(LIFECYCLE_BUCKETS)
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Every metric Corvo exports. Shared (`Arc`) by the engine, the RPC layer and the scraper.
pub struct Metrics {
    registry: Registry,
    queues: Mutex<HashSet<String>>,
    /// One scrape at a time: counters set from totals must not be raised twice.
    scrape: Mutex<()>,

    queue_jobs: Family<QueueStateLabels, Gauge>,
    queue_paused: Family<QueueLabel, Gauge>,
    queue_concurrency_limit: Family<QueueLabel, Gauge>,
    queue_rate_starts: Family<QueueLabel, Gauge>,
    queue_rate_window: Family<QueueLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    queue_throttled: Family<QueueLabel, Counter>,
    jobs_purged: Counter,
    retention_lag: Gauge<f64, std::sync::atomic::AtomicU64>,
    idempotency_keys: Gauge,
    enqueue_to_start: HistogramFamily<QueueLabel>,
    start_to_finish: HistogramFamily<RunLabels>,
    ready_to_delivered: HistogramFamily<QueueLabel>,

    propose_seconds: Histogram,
    commit_seconds: Histogram,
    apply_seconds: Histogram,
    checkpoint_seconds: HistogramFamily<CheckpointLabel>,
    batch_commands: Histogram,
    raft_term: Gauge,
    raft_is_leader: Gauge,
    raft_has_leader: Gauge,
    raft_leader_id: Gauge<f64, std::sync::atomic::AtomicU64>,
    raft_last_log_index: Gauge,
    raft_commit_index: Gauge,
    raft_applied_index: Gauge,
    apply_backlog: Gauge,
    raft_fatal: Gauge,
    raft_purged_index: Gauge,
    snapshot_index: Gauge,
    snapshot_bytes: Gauge,
    snapshot_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    startup_replay_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    startup_replayed_entries: Gauge,
    view_index: Gauge,
    view_lag: Gauge,
    view_failed: Gauge,

    data_dir_bytes: Gauge,
    fs_free_bytes: Gauge,
    fs_size_bytes: Gauge,

    worker_streams: Gauge,
    workers_connected: Gauge,
    ready: Gauge,
    draining: Gauge,
    node_info: Family<NodeLabels, Gauge>,

    rpc_requests: Family<RpcLabels, Counter>,
    rpc_seconds: HistogramFamily<RpcLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            queues: Mutex::new(HashSet::new()),
            scrape: Mutex::new(()),
            queue_jobs: Family::default(),
            queue_paused: Family::default(),
            queue_concurrency_limit: Family::default(),
            queue_rate_starts: Family::default(),
            queue_rate_window: Family::default(),
            queue_throttled: Family::default(),
            jobs_purged: Counter::default(),
            retention_lag: Gauge::default(),
            idempotency_keys: Gauge::default(),
            enqueue_to_start: Family::new_with_constructor(lifecycle_histogram),
            start_to_finish: Family::new_with_constructor(lifecycle_histogram),
            ready_to_delivered: Family::new_with_constructor(lifecycle_histogram),
            propose_seconds: latency_histogram(),
            commit_seconds: latency_histogram(),
            apply_seconds: latency_histogram(),
            checkpoint_seconds: Family::new_with_constructor(latency_histogram),
            batch_commands: Histogram::new(BATCH_BUCKETS),
            raft_term: Gauge::default(),
            raft_is_leader: Gauge::default(),
            raft_has_leader: Gauge::default(),
            raft_leader_id: Gauge::default(),
            raft_last_log_index: Gauge::default(),
            raft_commit_index: Gauge::default(),
            raft_applied_index: Gauge::default(),
            apply_backlog: Gauge::default(),
            raft_fatal: Gauge::default(),
            raft_purged_index: Gauge::default(),
            snapshot_index: Gauge::default(),
            snapshot_bytes: Gauge::default(),
            snapshot_age: Gauge::default(),
            startup_replay_seconds: Gauge::default(),
            startup_replayed_entries: Gauge::default(),
            view_index: Gauge::default(),
            view_lag: Gauge::default(),
            view_failed: Gauge::default(),
            data_dir_bytes: Gauge::default(),
            fs_free_bytes: Gauge::default(),
            fs_size_bytes: Gauge::default(),
            worker_streams: Gauge::default(),
            workers_connected: Gauge::default(),
            ready: Gauge::default(),
            draining: Gauge::default(),
            node_info: Family::default(),
            rpc_requests: Family::default(),
            rpc_seconds: Family::new_with_constructor(latency_histogram),
        };
        m.register();
        // Both series from the start (zero until the first checkpoint): alerts and dashboards
        // see a quiet node as zero, not as absent.
        for trigger in CheckpointTrigger::ALL {
            drop(m.checkpoint_seconds.get_or_create(&trigger.label()));
        }
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "corvo_queue_jobs",
            "Jobs per queue and state (queue depth: state=\"pending\"), from replicated counts",
            self.queue_jobs.clone(),
        );
        r.register(
            "corvo_queue_paused",
            "1 while the queue is paused (hands out nothing; enqueues are accepted)",
            self.queue_paused.clone(),
        );
        r.register(
            "corvo_queue_concurrency_limit",
            "The queue's concurrency limit: at most this many active jobs (0: none)",
            self.queue_concurrency_limit.clone(),
        );
        r.register(
            "corvo_queue_rate_limit_starts",
            "The queue's rate limit: at most this many starts per window (0: none)",
            self.queue_rate_starts.clone(),
        );
        r.register(
            "corvo_queue_rate_limit_window_seconds",
            "The window of the queue's rate limit (0: none)",
            self.queue_rate_window.clone(),
        );
        r.register(
            "corvo_queue_throttled",
            "Leases that found ready jobs of the queue held back by its concurrency or rate limit, as this node applied them",
            self.queue_throttled.clone(),
        );
        r.register(
            "corvo_jobs_purged",
            "Finished jobs removed by retention, as this node applied them",
            self.jobs_purged.clone(),
        );
        r.register(
            "corvo_retention_lag_seconds",
            "How long ago the oldest finished job still waiting to be purged fell due (0: purging keeps up)",
            self.retention_lag.clone(),
        );
        r.register(
            "corvo_idempotency_keys",
            "Idempotency keys the state holds (at most 1 000 000 and 64 MiB: past either, the keys nearest their end are forgotten first)",
            self.idempotency_keys.clone(),
        );
        r.register(
            "corvo_job_enqueue_to_start_seconds",
            "From enqueue to the start of a job's first attempt (includes any schedule delay)",
            self.enqueue_to_start.clone(),
        );
        r.register(
            "corvo_job_start_to_finish_seconds",
            "How long an attempt ran, from lease to ack (outcome=completed) or fail (outcome=failed)",
            self.start_to_finish.clone(),
        );
        r.register(
            "corvo_job_ready_to_delivered_seconds",
            "From a job becoming ready (pending) to its delivery to a worker",
            self.ready_to_delivered.clone(),
        );
        r.register(
            "corvo_raft_commit_seconds",
            "From the leader stamping a log entry to this node starting to apply it: replication, fsync and commit (plus any apply queue); on followers it includes the clock difference to the leader",
            self.commit_seconds.clone(),
        );
        r.register(
            "corvo_raft_propose_seconds",
            "From handing commands to the proposer until their log entry is committed and applied (the write latency clients wait for)",
            self.propose_seconds.clone(),
        );
        r.register(
            "corvo_raft_apply_seconds",
            "Time to apply one run of committed log entries to the state (one storage transaction)",
            self.apply_seconds.clone(),
        );
        r.register(
            "corvo_state_checkpoint_seconds",
            "Durable commits of the state (an fsync), by trigger: \"apply\" (applies wait for it; the stall behind write latency tails) or \"idle\" (nothing waits)",
            self.checkpoint_seconds.clone(),
        );
        r.register(
            "corvo_raft_batch_commands",
            "Commands per applied log entry (group-commit batch size)",
            self.batch_commands.clone(),
        );
        r.register(
            "corvo_raft_term",
            "Current Raft term",
            self.raft_term.clone(),
        );
        r.register(
            "corvo_raft_is_leader",
            "1 if this node is the Raft leader",
            self.raft_is_leader.clone(),
        );
        r.register(
            "corvo_raft_has_leader",
            "1 if this node knows a Raft leader (itself or another node)",
            self.raft_has_leader.clone(),
        );
        r.register(
            "corvo_raft_leader_id",
            "Raft id of the leader this node knows (-1: none); ids of named nodes are 64-bit hashes, exact only below 2^53",
            self.raft_leader_id.clone(),
        );
        r.register(
            "corvo_raft_last_log_index",
            "Index of the last entry in this node's Raft log",
            self.raft_last_log_index.clone(),
        );
        r.register(
            "corvo_raft_commit_index",
            "Last log index this node knows as committed",
            self.raft_commit_index.clone(),
        );
        r.register(
            "corvo_raft_applied_index",
            "Last log index applied to this node's state",
            self.raft_applied_index.clone(),
        );
        r.register(
            "corvo_raft_apply_backlog_entries",
            "Committed log entries not applied yet (commit index - applied index)",
            self.apply_backlog.clone(),
        );
        r.register(
            "corvo_raft_fatal",
            "1 if Raft stopped on an error (storage errors are fatal: replace the node)",
            self.raft_fatal.clone(),
        );
        r.register(
            "corvo_raft_purged_index",
            "The log is purged (compacted behind a snapshot) up to this index",
            self.raft_purged_index.clone(),
        );
        r.register(
            "corvo_snapshot_last_index",
            "Last log index covered by this node's newest snapshot (0 before the first)",
            self.snapshot_index.clone(),
        );
        r.register(
            "corvo_snapshot_size_bytes",
            "Size of this node's newest snapshot archive",
            self.snapshot_bytes.clone(),
        );
        r.register(
            "corvo_snapshot_age_seconds",
            "Age of this node's newest snapshot archive (-1 before the first): the age of the freshest backup",
            self.snapshot_age.clone(),
        );
        r.register(
            "corvo_startup_replay_seconds",
            "Time the last start-up took to bring the state up to date (snapshot restore and log replay)",
            self.startup_replay_seconds.clone(),
        );
        r.register(
            "corvo_startup_replayed_entries",
            "Log entries re-applied at the last start-up",
            self.startup_replayed_entries.clone(),
        );
        r.register(
            "corvo_view_applied_index",
            "Log index the SQLite read view (ListJobs) has reached",
            self.view_index.clone(),
        );
        r.register(
            "corvo_view_lag_entries",
            "Applied log entries the read view does not reflect yet (applied index - view index)",
            self.view_lag.clone(),
        );
        r.register(
            "corvo_view_failed",
            "1 if the read view's projector stopped on an error (ListJobs answers go stale)",
            self.view_failed.clone(),
        );
        r.register(
            "corvo_data_dir_bytes",
            "Bytes allocated to the files of the data directory",
            self.data_dir_bytes.clone(),
        );
        r.register(
            "corvo_data_dir_filesystem_free_bytes",
            "Bytes still available to Corvo on the data directory's filesystem",
            self.fs_free_bytes.clone(),
        );
        r.register(
            "corvo_data_dir_filesystem_size_bytes",
            "Size of the data directory's filesystem",
            self.fs_size_bytes.clone(),
        );
        r.register(
            "corvo_worker_streams",
            "Open worker streams (StreamLifecycle sessions)",
            self.worker_streams.clone(),
        );
        r.register(
            "corvo_workers_connected",
            "Distinct worker ids with at least one open stream",
            self.workers_connected.clone(),
        );
        r.register(
            "corvo_ready",
            "1 if the node is ready to serve (what /readyz and grpc.health.v1 report)",
            self.ready.clone(),
        );
        r.register(
            "corvo_draining",
            "1 while the node drains after SIGTERM",
            self.draining.clone(),
        );
        r.register(
            "corvo_node_info",
            "Always 1; labels name this node and its version",
            self.node_info.clone(),
        );
        r.register(
            "corvo_rpc_requests",
            "Requests on the client port by method (gRPC path without the leading slash, or HTTP path) and code (gRPC status name, or HTTP status)",
            self.rpc_requests.clone(),
        );
        r.register(
            "corvo_rpc_duration_seconds",
            "Time from request to the end of the response (for streams: the stream's life), by method and code",
            self.rpc_seconds.clone(),
        );
        r.register_collector(Box::new(Rejections));
        r.register_collector(Box::new(ProcessCollector));
    }

    /// The `queue` label for `queue`: itself for the first [`QUEUE_LABELS_MAX`] queues this
    /// process sees, [`OTHER_QUEUE`] after that.
    pub fn queue_label(&self, queue: &str) -> String {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if queues.contains(queue) {
            return queue.to_owned();
        }
        if queues.len() < QUEUE_LABELS_MAX {
            queues.insert(queue.to_owned());
            return queue.to_owned();
        }
        OTHER_QUEUE.to_owned()
    }

    /// A job leased by this node reached its worker at `now_ms` (wall clock).
    pub fn observe_delivered(&self, job: &Job, now_ms: u64) {
        let label = QueueLabel {
            queue: self.queue_label(&job.queue),
        };
        if job.attempt == 1
            && let Some(started) = job.started_at_ms
        {
            self.enqueue_to_start
                .get_or_create(&label)
                .observe(ms_to_seconds(started.saturating_sub(job.created_at_ms)));
        }
        if let Some(ready) = job.ready_at_ms {
            self.ready_to_delivered
                .get_or_create(&label)
                .observe(ms_to_seconds(now_ms.saturating_sub(ready)));
        }
    }

    /// An attempt was settled by an ack (`completed`) or a fail (`failed`).
    pub fn observe_settled(&self, run: &AttemptRun, completed: bool) {
        let labels = RunLabels {
            queue: self.queue_label(&run.queue),
            outcome: if completed { "completed" } else { "failed" },
        };
        self.start_to_finish
            .get_or_create(&labels)
            .observe(ms_to_seconds(run.ran_ms));
    }

    /// One `propose` call, from queueing to its replies.
    pub fn observe_propose(&self, elapsed: Duration) {
        self.propose_seconds.observe(elapsed.as_secs_f64());
    }

    /// An application entry stamped `age` ago by the leader starts to apply here.
    pub fn observe_commit(&self, age: Duration) {
        self.commit_seconds.observe(age.as_secs_f64());
    }

    /// One run of committed entries applied in one transaction.
    pub fn observe_apply(&self, elapsed: Duration, outcomes: &[Option<BatchOutcome>]) {
        self.apply_seconds.observe(elapsed.as_secs_f64());
        for outcome in outcomes.iter().flatten() {
            self.batch_commands.observe(outcome.replies.len() as f64);
        }
    }

    /// One durable commit of the state.
    pub fn observe_checkpoint(&self, trigger: CheckpointTrigger, elapsed: Duration) {
        self.checkpoint_seconds
            .get_or_create(&trigger.label())
            .observe(elapsed.as_secs_f64());
    }

    /// One finished request on the client port (called by the `rpc_metrics` layer).
    pub(crate) fn observe_rpc(&self, labels: &RpcLabels, elapsed: Duration) {
        self.rpc_requests.get_or_create(labels).inc();
        self.rpc_seconds
            .get_or_create(labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Encodes every metric, after setting the gauges from `status`. OpenMetrics when
    /// `openmetrics`, else the Prometheus text format. Returns (content type, body).
    pub fn encode(&self, status: &NodeStatus, openmetrics: bool) -> (&'static str, String) {
        let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.set_gauges(status);
        let mut out = String::new();
        let encoded = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        };
        // Writing into a String cannot fail; an encoder error would be a bug in a label.
        if let Err(e) = encoded {
            tracing::error!(error = %e, "encoding metrics");
        }
        let content_type = if openmetrics {
            OPENMETRICS_TEXT
        } else {
            PROMETHEUS_TEXT
        };
        (content_type, out)
    }

    fn set_gauges(&self, s: &NodeStatus) {
        // Every state of every labelled queue is set (zeros included), so a series never
        // vanishes when its last job leaves; queues past the cap add up under `_other`.
        let mut depth: std::collections::BTreeMap<(String, JobState), u64> = Default::default();
        for (queue, state, n) in &s.queue_counts {
            *depth.entry((self.queue_label(queue), *state)).or_default() += n;
        }
        let labels: HashSet<String> = depth.keys().map(|(q, _)| q.clone()).collect();
        for queue in labels {
            for state in JobState::ALL {
                let n = depth.get(&(queue.clone(), state)).copied().unwrap_or(0);
                self.queue_jobs
                    .get_or_create(&QueueStateLabels {
                        queue: queue.clone(),
                        state: state.as_str(),
                    })
                    .set(clamp(n));
            }
        }
        // Queues that had jobs before and have none now read 0.
        for queue in self.labelled_queues() {
            for state in JobState::ALL {
                if !depth.contains_key(&(queue.clone(), state)) {
                    self.queue_jobs
                        .get_or_create(&QueueStateLabels {
                            queue: queue.clone(),
                            state: state.as_str(),
                        })
                        .set(0);
                }
            }
        }

        self.set_queue_settings(s);

        let raft = &s.raft;
        self.raft_term.set(clamp(raft.term));
        self.raft_is_leader
            .set(i64::from(raft.leader_id == Some(raft.node_id)));
        self.raft_has_leader
            .set(i64::from(raft.leader_id.is_some()));
        self.raft_leader_id
            .set(raft.leader_id.map_or(-1.0, |id| id as f64));
        self.raft_last_log_index
            .set(clamp(raft.last_log_index.unwrap_or(0)));
        self.raft_commit_index
            .set(clamp(raft.committed.unwrap_or(0)));
        self.raft_applied_index
            .set(clamp(raft.last_applied.unwrap_or(0)));
        self.apply_backlog.set(clamp(s.apply_backlog()));
        self.raft_fatal.set(i64::from(raft.fatal.is_some()));
        self.raft_purged_index
            .set(clamp(raft.purged_index.unwrap_or(0)));
        let snap = s.last_snapshot.as_ref();
        self.snapshot_index
            .set(clamp(snap.map_or(0, |i| i.last_index)));
        self.snapshot_bytes
            .set(clamp(snap.map_or(0, |i| i.size_bytes)));
        self.snapshot_age.set(snap.map_or(-1.0, |i| {
            let now = crate::ticker::now_ms();
            now.saturating_sub(i.created_unix_ms) as f64 / 1000.0
        }));
        self.startup_replay_seconds
            .set(s.startup.elapsed.as_secs_f64());
        self.startup_replayed_entries
            .set(clamp(s.startup.replayed_entries));
        self.view_index.set(clamp(s.view_index));
        self.view_lag.set(clamp(s.view_lag()));
        self.view_failed.set(i64::from(s.view_error.is_some()));

        self.data_dir_bytes.set(clamp(s.disk.used_bytes));
        self.fs_free_bytes
            .set(clamp(s.disk.free_bytes.unwrap_or(0)));
        self.fs_size_bytes
            .set(clamp(s.disk.size_bytes.unwrap_or(0)));

        self.worker_streams.set(clamp(s.streams as u64));
        self.workers_connected.set(clamp(s.workers as u64));
        self.ready.set(i64::from(s.readiness.ready));
        self.draining.set(i64::from(s.draining));
        self.node_info
            .get_or_create(&NodeLabels {
                node: s.node.clone(),
                version: crate::services::SERVER_VERSION,
            })
            .set(1);
    }

    /// Pause and limits per labelled queue (a queue without settings reads 0; queues past the
    /// label cap are not reported), and the retention counters.
    fn set_queue_settings(&self, s: &NodeStatus) {
        let settings: std::collections::HashMap<&str, &corvo_core::queues::QueueConfig> = s
            .queue_settings
            .iter()
            .map(|(q, c)| (q.as_str(), c))
            .collect();
        for (queue, _) in &s.queue_settings {
            self.queue_label(queue);
        }
        for queue in self.labelled_queues() {
            if queue == OTHER_QUEUE {
                continue;
            }
            let config = settings.get(queue.as_str());
            let label = QueueLabel { queue };
            self.queue_paused
                .get_or_create(&label)
                .set(i64::from(config.is_some_and(|c| c.paused)));
            self.queue_concurrency_limit
                .get_or_create(&label)
                .set(config.and_then(|c| c.concurrency_max).map_or(0, i64::from));
            let rate = config.and_then(|c| c.rate);
            self.queue_rate_starts
                .get_or_create(&label)
                .set(rate.map_or(0, |r| i64::from(r.starts)));
            self.queue_rate_window
                .get_or_create(&label)
                .set(rate.map_or(0.0, |r| ms_to_seconds(r.window_ms)));
        }
        // The activity log counts since start; the counters follow it (summed per label).
        let mut throttled: std::collections::HashMap<String, u64> = Default::default();
        for (queue, n) in &s.throttled_totals {
            *throttled.entry(self.queue_label(queue)).or_default() += n;
        }
        for (queue, total) in throttled {
            let counter = self.queue_throttled.get_or_create(&QueueLabel { queue });
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        self.jobs_purged
            .inc_by(s.purged_total.saturating_sub(self.jobs_purged.get()));
        self.retention_lag.set(ms_to_seconds(s.retention_lag_ms));
        self.idempotency_keys.set(clamp(s.idempotency_keys));
    }

    fn labelled_queues(&self) -> Vec<String> {
        let queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<String> = queues.iter().cloned().collect();
        if queues.len() >= QUEUE_LABELS_MAX {
            out.push(OTHER_QUEUE.to_owned());
        }
        out
    }
}

fn ms_to_seconds(ms: u64) -> f64 {
    ms as f64 / 1_000.0
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `corvo_rejections_total{reason}`: read from the counters of `error.rs` at scrape.
#[derive(Debug)]
struct Rejections;

impl Collector for Rejections {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "corvo_rejections",
            "Requests, stream frames and batch items refused, by reason (a limit, or the ErrorCode a client sees; see docs/errors/).",
            None,
            counter.metric_type(),
        )?;
        for (reason, n) in error::rejections() {
            let labels = ReasonLabel {
                reason: reason.name().to_owned(),
            };
            ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// The standard process metrics, read from `/proc/self` at scrape (absent elsewhere).
#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let p = host::process_stats();
        if let Some(cpu) = p.cpu_seconds {
            let c = ConstCounter::new(cpu);
            c.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                c.metric_type(),
            )?)?;
        }
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                p.resident_bytes.map(|v| v as f64),
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                p.open_fds.map(|v| v as f64),
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors.",
                p.max_fds.map(|v| v as f64),
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds.",
                p.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            if let Some(v) = value {
                let g = ConstGauge::new(v);
                g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_labels_are_capped_and_stable() {
        let m = Metrics::new();
        for i in 0..QUEUE_LABELS_MAX {
            assert_eq!(m.queue_label(&format!("q{i}")), format!("q{i}"));
        }
        assert_eq!(m.queue_label("one-too-many"), OTHER_QUEUE);
        assert_eq!(
            m.queue_label("q7"),
            "q7",
            "a labelled queue keeps its label"
        );
    }
}
