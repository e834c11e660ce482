//! A worker runtime over `StreamLifecycle`: run a handler for every job of some queues.
//!
//! ```no_run
//! # async fn demo(channel: tonic::transport::Channel) -> Result<(), corvo_sdk::worker::WorkerError> {
//! use corvo_sdk::worker::{Outcome, Worker};
//! let stats = Worker::new(channel, ["emails"])
//!     .concurrency(8)
//!     .run(
//!         |job| async move {
//!             println!("sending {}", job.job.payload_json);
//!             Outcome::complete(r#"{"sent":true}"#)
//!         },
//!         async { tokio::signal::ctrl_c().await.ok(); },
//!     )
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! What it does for the handler:
//! - **Flow control by credits:** it grants the server `concurrency` credits and one more per
//!   finished job, so the server pushes jobs as they become ready (no polling) and never more
//!   than the handler can run at once.
//! - **Leases:** every in-flight job is heartbeated at a third of its lease, and the server's
//!   answer to a heartbeat can cancel a job ([`JobContext::cancelled`]): it was cancelled, or
//!   the lease was lost. Acks and fails carry the lease token, so a stale worker cannot settle
//!   a job that was given to someone else.
//! - **Tracing:** each job runs in a `corvo.worker.execute` span whose parent is the job's
//!   `trace_parent` (the producer's W3C context): with an OpenTelemetry layer installed in the
//!   application's `tracing` subscriber, the execution joins the producer's trace.
//! - **Reconnects:** when the stream breaks (a node restarting, a leader change) it reconnects
//!   with backoff and re-sends the outcomes not yet answered; jobs keep running meanwhile.
//! - **Shutdown:** when `shutdown` resolves it stops taking jobs, lets the running ones finish,
//!   sends their outcomes, and returns.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tonic::transport::Channel;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::proto as pb;
use crate::proto::worker_service_client::WorkerServiceClient;

/// Default jobs run at once.
pub const CONCURRENCY_DEFAULT: u32 = 1;
/// The server's limit on outstanding credits per stream.
pub const CONCURRENCY_MAX: u32 = 4096;
/// Default lease, seconds (the server's default too).
pub const LEASE_SECS_DEFAULT: i32 = 60;
/// Reconnect backoff: first wait, and the longest.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);
/// Gives up after this many failed connection attempts in a row.
const RECONNECT_ATTEMPTS_MAX: u32 = 30;
/// Outgoing frames buffered towards the server.
const OUTBOX_FRAMES: usize = 64;

/// What a handler decided about its job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done: acknowledge with this result (JSON).
    Complete { result_json: String },
    /// Failed: the server retries it (with the job's backoff) or marks it dead.
    Fail { error: String },
}

impl Outcome {
    pub fn complete(result_json: impl Into<String>) -> Outcome {
        Outcome::Complete {
            result_json: result_json.into(),
        }
    }

    pub fn fail(error: impl Into<String>) -> Outcome {
        Outcome::Fail {
            error: error.into(),
        }
    }
}

/// A job handed to the handler.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub job: pb::FetchBatchJob,
    cancel: watch::Receiver<bool>,
}

impl JobContext {
    /// Resolves when the server says to stop this job (cancelled, or its lease was lost).
    pub async fn cancelled(&mut self) {
        let _ = self.cancel.wait_for(|c| *c).await;
    }

    /// Whether the server said to stop this job.
    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }
}

/// Why [`Worker::run`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid worker configuration: {0}")]
    Config(String),
    /// The server refused the stream for good (bad arguments, permission).
    #[error("the server refused the worker stream: {0}")]
    Refused(tonic::Status),
    #[error("no connection to the server after {attempts} attempts: {last}")]
    Unreachable { attempts: u32, last: tonic::Status },
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub completed: u64,
    pub failed: u64,
    /// Outcomes the server refused (e.g. the lease had been lost).
    pub rejected: u64,
    pub reconnects: u64,
}

/// An API key; its `Debug` never shows the value.
#[derive(Clone)]
struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Configures and runs a worker; see the module docs.
#[derive(Clone, Debug)]
pub struct Worker {
    channel: Channel,
    api_key: Option<ApiKey>,
    queues: Vec<String>,
    worker_id: String,
    hostname: String,
    concurrency: u32,
    lease_secs: i32,
}

impl Worker {
    pub fn new<Q: Into<String>>(channel: Channel, queues: impl IntoIterator<Item = Q>) -> Worker {
        Worker {
            channel,
            api_key: None,
            queues: queues.into_iter().map(Into::into).collect(),
            worker_id: format!("worker-{}", std::process::id()),
            hostname: std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned()),
            concurrency: CONCURRENCY_DEFAULT,
            lease_secs: LEASE_SECS_DEFAULT,
        }
    }

    /// The API key the stream authenticates with (`authorization: Bearer <key>`).
    pub fn api_key(mut self, key: impl Into<String>) -> Worker {
        self.api_key = Some(ApiKey(key.into()));
        self
    }

    /// The worker's id (default `worker-<pid>`): shown in job state and events.
    pub fn worker_id(mut self, id: impl Into<String>) -> Worker {
        self.worker_id = id.into();
        self
    }

    pub fn hostname(mut self, hostname: impl Into<String>) -> Worker {
        self.hostname = hostname.into();
        self
    }

    /// Jobs run at once (1..=4096).
    pub fn concurrency(mut self, n: u32) -> Worker {
        self.concurrency = n;
        self
    }

    /// Lease length in seconds (1..=3600); in-flight jobs are heartbeated at a third of it.
    pub fn lease_secs(mut self, secs: i32) -> Worker {
        self.lease_secs = secs;
        self
    }

    /// Runs `handler` for every job until `shutdown` resolves, then drains (see the module
    /// docs).
    pub async fn run<H, F>(
        self,
        handler: H,
        shutdown: impl Future<Output = ()>,
    ) -> Result<WorkerStats, WorkerError>
    where
        H: Fn(JobContext) -> F + Send + Sync + 'static,
        F: Future<Output = Outcome> + Send + 'static,
    {
        if self.queues.is_empty() {
            return Err(WorkerError::Config("at least one queue".into()));
        }
        if !(1..=CONCURRENCY_MAX).contains(&self.concurrency) {
            return Err(WorkerError::Config(format!(
                "concurrency must be 1..={CONCURRENCY_MAX}"
            )));
        }
        if !(1..=3600).contains(&self.lease_secs) {
            return Err(WorkerError::Config("lease_secs must be 1..=3600".into()));
        }
        Session::new(self, Arc::new(handler)).run(shutdown).await
    }
}

/// A finished job whose outcome the server has not confirmed yet.
struct Pending {
    lease_token: u64,
    outcome: Outcome,
}

/// A job running in the handler.
struct Running {
    lease_token: u64,
    cancel: watch::Sender<bool>,
}

struct Session<H> {
    cfg: Worker,
    handler: Arc<H>,
    running: HashMap<String, Running>,
    /// Outcomes sent on the current stream (or to be re-sent on the next one), by job id.
    pending: HashMap<String, Pending>,
    stats: WorkerStats,
    next_request: u64,
    draining: bool,
}

enum Event {
    Response(Result<Option<pb::StreamLifecycleResponse>, tonic::Status>),
    Finished(String, Outcome),
    Heartbeat,
    Shutdown,
}

impl<H, F> Session<H>
where
    H: Fn(JobContext) -> F + Send + Sync + 'static,
    F: Future<Output = Outcome> + Send + 'static,
{
    fn new(cfg: Worker, handler: Arc<H>) -> Self {
        Session {
            cfg,
            handler,
            running: HashMap::new(),
            pending: HashMap::new(),
            stats: WorkerStats::default(),
            next_request: 0,
            draining: false,
        }
    }

    fn frame(&mut self) -> pb::StreamLifecycleRequest {
        self.next_request += 1;
        pb::StreamLifecycleRequest {
            request_id: self.next_request,
            queues: self.cfg.queues.clone(),
            worker_id: self.cfg.worker_id.clone(),
            hostname: self.cfg.hostname.clone(),
            lease_duration: self.cfg.lease_secs,
            ..Default::default()
        }
    }

    /// Puts an outcome into a frame.
    fn add_outcome(frame: &mut pb::StreamLifecycleRequest, job_id: &str, p: &Pending) {
        match &p.outcome {
            Outcome::Complete { result_json } => frame.acks.push(pb::AckBatchItem {
                job_id: job_id.to_owned(),
                result_json: result_json.clone(),
                usage: None,
                lease_token: p.lease_token,
            }),
            Outcome::Fail { error } => frame.fails.push(pb::LifecycleFailItem {
                job_id: job_id.to_owned(),
                error: error.clone(),
                backtrace: String::new(),
                lease_token: p.lease_token,
            }),
        }
    }

    async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<WorkerStats, WorkerError> {
        // Each running job sends one outcome, and credits cap the running jobs at
        // `concurrency` (the server never pushes more than granted).
        let (done_tx, mut done_rx) =
            mpsc::channel::<(String, Outcome)>(self.cfg.concurrency as usize);
        let heartbeat_every =
            Duration::from_millis(u64::try_from(self.cfg.lease_secs).unwrap_or(60) * 1000 / 3);
        let mut heartbeat = tokio::time::interval(heartbeat_every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut attempts = 0u32;
        let mut backoff = RECONNECT_FIRST;
        let mut connected_before = false;
        loop {
            // Connect; the first frame grants the credits for the free slots and re-sends
            // every outcome the previous stream did not confirm.
            let (tx, rx) = mpsc::channel(OUTBOX_FRAMES);
            let mut first = self.frame();
            let free = self.cfg.concurrency as usize - self.running.len();
            first.credits = if self.draining { 0 } else { free as i32 };
            for (id, p) in &self.pending {
                Self::add_outcome(&mut first, id, p);
            }
            let _ = tx.try_send(first);
            let mut client = WorkerServiceClient::new(self.cfg.channel.clone());
            let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
            if let Some(ApiKey(key)) = &self.cfg.api_key {
                let value = format!("Bearer {key}").parse().map_err(|_| {
                    WorkerError::Config("the API key is not valid in a header".into())
                })?;
                request.metadata_mut().insert("authorization", value);
            }
            let opened = client.stream_lifecycle(request).await;
            let mut responses = match opened {
                Ok(r) => r.into_inner(),
                Err(status) => {
                    if refused_for_good(&status) {
                        return Err(WorkerError::Refused(status));
                    }
                    attempts += 1;
                    if attempts >= RECONNECT_ATTEMPTS_MAX {
                        return Err(WorkerError::Unreachable {
                            attempts,
                            last: status,
                        });
                    }
                    tracing::warn!(attempt = attempts, "worker stream: {status}; reconnecting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                    continue;
                }
            };
            if connected_before {
                self.stats.reconnects += 1;
            }
            connected_before = true;
            attempts = 0;
            backoff = RECONNECT_FIRST;

            // Serve this stream until it breaks or the work is done.
            loop {
                if self.draining && self.running.is_empty() && self.pending.is_empty() {
                    drop(tx);
                    return Ok(self.stats);
                }
                let event = tokio::select! {
                    // Shutdown first: a handler that asks to stop as it finishes gets no
                    // further credit granted by its own ack.
                    biased;
                    _ = &mut shutdown, if !self.draining => Event::Shutdown,
                    r = responses.message() => Event::Response(r),
                    Some((id, outcome)) = done_rx.recv() => Event::Finished(id, outcome),
                    _ = heartbeat.tick() => Event::Heartbeat,
                };
                match event {
                    Event::Response(Ok(Some(resp))) => self.on_response(resp, &done_tx),
                    Event::Response(Ok(None)) | Event::Response(Err(_)) => {
                        if let Event::Response(Err(status)) = &event
                            && refused_for_good(status)
                        {
                            return Err(WorkerError::Refused(status.clone()));
                        }
                        tracing::warn!("worker stream ended; reconnecting");
                        break;
                    }
                    Event::Finished(id, outcome) => {
                        let Some(run) = self.running.remove(&id) else {
                            continue;
                        };
                        let p = Pending {
                            lease_token: run.lease_token,
                            outcome,
                        };
                        let mut frame = self.frame();
                        Self::add_outcome(&mut frame, &id, &p);
                        frame.credits = i32::from(!self.draining);
                        self.pending.insert(id, p);
                        if tx.send(frame).await.is_err() {
                            break;
                        }
                    }
                    Event::Heartbeat => {
                        if self.running.is_empty() {
                            continue;
                        }
                        let mut frame = self.frame();
                        for (id, run) in &self.running {
                            frame.heartbeats.push(pb::LifecycleHeartbeatItem {
                                job_id: id.clone(),
                                lease_token: run.lease_token,
                                ..Default::default()
                            });
                        }
                        if tx.send(frame).await.is_err() {
                            break;
                        }
                    }
                    Event::Shutdown => {
                        tracing::info!(
                            running = self.running.len(),
                            "worker shutting down: finishing running jobs"
                        );
                        self.draining = true;
                    }
                }
            }
            tokio::time::sleep(backoff).await;
        }
    }

    fn on_response(
        &mut self,
        resp: pb::StreamLifecycleResponse,
        done_tx: &mpsc::Sender<(String, Outcome)>,
    ) {
        if !resp.error.is_empty() {
            tracing::warn!(code = resp.error_code, "worker stream: {}", resp.error);
        }
        for (results, completed) in [(&resp.ack_results, true), (&resp.fail_results, false)] {
            for r in results {
                if self.pending.remove(&r.job_id).is_none() {
                    continue;
                }
                if r.code == pb::ErrorCode::Unspecified as i32 {
                    if completed {
                        self.stats.completed += 1;
                    } else {
                        self.stats.failed += 1;
                    }
                } else {
                    self.stats.rejected += 1;
                    tracing::warn!(job_id = %r.job_id, "outcome refused: {}", r.message);
                }
            }
        }
        let cancelled: HashSet<&String> = resp.cancel_job_ids.iter().collect();
        for id in cancelled {
            if let Some(run) = self.running.get(id) {
                let _ = run.cancel.send(true);
            }
        }
        for job in resp.jobs {
            self.start(job, done_tx.clone());
        }
    }

    fn start(&mut self, job: pb::FetchBatchJob, done: mpsc::Sender<(String, Outcome)>) {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let id = job.job_id.clone();
        self.running.insert(
            id.clone(),
            Running {
                lease_token: job.lease_token,
                cancel: cancel_tx,
            },
        );
        let span = tracing::info_span!(
            "corvo.worker.execute",
            otel.kind = "consumer",
            job_id = %job.job_id,
            queue = %job.queue,
            attempt = job.attempt,
        );
        set_parent(&span, &job.trace_parent);
        let fut = (self.handler)(JobContext {
            job,
            cancel: cancel_rx,
        });
        tokio::spawn(
            async move {
                let outcome = fut.await;
                let _ = done.send((id, outcome)).await;
            }
            .instrument(span),
        );
    }
}

/// Errors a reconnect cannot fix.
fn refused_for_good(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::InvalidArgument
            | tonic::Code::PermissionDenied
            | tonic::Code::Unauthenticated
            | tonic::Code::Unimplemented
    )
}

/// Makes `span` a child of a W3C `traceparent` (no-op without an OpenTelemetry layer or when
/// the string is empty or does not parse).
fn set_parent(span: &tracing::Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let _ = span.set_parent(parent);
}
