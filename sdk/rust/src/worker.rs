//! A worker runtime over `StreamLifecycle`: a handler per queue, run for every job.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use corvo_sdk::ConnectOptions;
//! use corvo_sdk::worker::{JobContext, Worker};
//! let stats = Worker::new(ConnectOptions::new(["http://127.0.0.1:8080"]))?
//!     .concurrency(8)
//!     .handle("emails", |job: JobContext| async move {
//!         let to: String = job.payload_value()["to"].as_str().unwrap_or_default().to_owned();
//!         Ok::<_, String>(serde_json::json!({ "sent_to": to }))
//!     })
//!     .run_until_signal()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! What it does for the handlers (the same in every Corvo SDK: `sdk/SPEC.md`):
//! - **Credits:** it grants the server `concurrency` credits and one more per finished job, so
//!   jobs are pushed as they become ready (no polling) and never more run than `concurrency`.
//! - **Leases:** every running job is heartbeated at a third of its lease, with the progress and
//!   checkpoint its handler set ([`JobContext::set_progress`], [`JobContext::set_checkpoint`];
//!   sent within a second, and handed to the next attempt). The server's answer can stop a job
//!   ([`JobContext::cancelled`]): it was cancelled, or its lease was lost. Acks and fails carry
//!   the lease token, so a stale worker cannot settle a job given to someone else.
//! - **Failures:** a handler that returns an error or panics fails its job with the message
//!   (retried by the job's backoff, or dead); the worker carries on and the job's credit comes
//!   back.
//! - **Outcomes are never lost:** an outcome stays pending until the server confirms it; a frame
//!   the server refused whole (over a rate limit, overloaded) is sent again after its
//!   `retry_after_ms`, and outcomes not confirmed when a stream breaks go on the next stream.
//! - **Reconnects forever** while running: jittered backoff from 100 ms to 10 s (at least what
//!   the server asked), the next server URL when one cannot be reached, and the leader when a
//!   node names it. A key the server refuses, or a queue outside its scopes, ends `run` with
//!   [`WorkerError::Refused`].
//! - **Tracing:** each job runs in a `corvo.worker.execute` span whose parent is the job's
//!   `trace_parent` (the producer's W3C context).
//! - **Shutdown:** when asked to stop it grants no more credits, lets running jobs finish for
//!   up to the drain timeout, fails back the ones still running (`worker shutting down`: retried
//!   at once), delivers every outcome, and returns.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use tonic::transport::Channel;
use tracing::Instrument;

use crate::connect::{ConnectOptions, Servers};
use crate::error::Error;
use crate::proto as pb;
use crate::proto::worker_service_client::WorkerServiceClient;

/// Default jobs run at once.
pub const CONCURRENCY_DEFAULT: u32 = 1;
/// The server's limit on outstanding credits per stream.
pub const CONCURRENCY_MAX: u32 = 4096;
/// Default lease, seconds (the server's default too).
pub const LEASE_SECS_DEFAULT: i32 = 60;
/// How long running jobs may finish after a stop, by default.
pub const DRAIN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// The error a job still running at the end of a drain is failed with.
pub const SHUTTING_DOWN: &str = "worker shutting down";
/// Reconnect backoff: the first wait and the longest (full jitter below them).
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// A frame refused without a hint is sent again after this long.
const RESEND_DEFAULT: Duration = Duration::from_millis(500);
/// Progress and checkpoints set by handlers go out at most this long after.
const PROGRESS_FLUSH: Duration = Duration::from_secs(1);
/// After the drain, how long the last outcomes may take to be confirmed.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);
/// Outgoing frames buffered towards the server.
const OUTBOX_FRAMES: usize = 64;

/// What a handler decided about its job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done: acknowledge with this result (JSON).
    Complete { result_json: String },
    /// Failed: the server retries it (with the job's backoff) or marks it dead.
    Fail { error: String, backtrace: String },
}

impl Outcome {
    /// Complete with a JSON text result.
    pub fn complete(result_json: impl Into<String>) -> Outcome {
        Outcome::Complete {
            result_json: result_json.into(),
        }
    }

    /// Complete with any serializable result.
    pub fn complete_value(result: &impl serde::Serialize) -> Outcome {
        match serde_json::to_string(result) {
            Ok(result_json) => Outcome::Complete { result_json },
            Err(e) => Outcome::fail(format!("the result is not JSON: {e}")),
        }
    }

    pub fn fail(error: impl Into<String>) -> Outcome {
        Outcome::Fail {
            error: error.into(),
            backtrace: String::new(),
        }
    }
}

/// `Ok(value)` completes with the value as the result; `Err(e)` fails with `e`'s message.
impl<T: serde::Serialize, E: std::fmt::Display> From<Result<T, E>> for Outcome {
    fn from(r: Result<T, E>) -> Outcome {
        match r {
            Ok(v) => Outcome::complete_value(&v),
            Err(e) => Outcome::fail(e.to_string()),
        }
    }
}

/// Progress and checkpoint a handler set, not yet sent.
#[derive(Default)]
struct Update {
    progress: Option<String>,
    checkpoint: Option<String>,
}

/// A job handed to a handler.
pub struct JobContext {
    /// The job as the server pushed it.
    pub job: pb::FetchBatchJob,
    cancel: watch::Receiver<bool>,
    update: Arc<Mutex<Update>>,
    dirty: Arc<Notify>,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("id", &self.job.job_id)
            .field("queue", &self.job.queue)
            .field("attempt", &self.job.attempt)
            .finish()
    }
}

impl JobContext {
    pub fn id(&self) -> &str {
        &self.job.job_id
    }

    pub fn queue(&self) -> &str {
        &self.job.queue
    }

    /// 1 for the first attempt.
    pub fn attempt(&self) -> u32 {
        u32::try_from(self.job.attempt).unwrap_or(0)
    }

    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.job.max_retries).unwrap_or(0)
    }

    /// The payload, deserialized.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.job.payload_json)
    }

    /// The payload as JSON (`Null` if it does not parse).
    pub fn payload_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.job.payload_json).unwrap_or(serde_json::Value::Null)
    }

    /// The checkpoint an earlier attempt left, if any.
    pub fn checkpoint(&self) -> Option<serde_json::Value> {
        if self.job.checkpoint_json.is_empty() {
            return None;
        }
        serde_json::from_str(&self.job.checkpoint_json).ok()
    }

    pub fn tags(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.job.tags_json).unwrap_or_default()
    }

    /// Reports progress (a JSON object): stored with the next heartbeat, within a second, and
    /// at the latest with the job's outcome.
    pub fn set_progress(&self, progress: &impl serde::Serialize) -> Result<(), Error> {
        let json = object_json(progress, "progress")?;
        self.lock().progress = Some(json);
        self.dirty.notify_one();
        Ok(())
    }

    /// Saves a checkpoint (a JSON object): stored with the next heartbeat, within a second,
    /// and at the latest with the job's outcome; handed to the next attempt if this one fails.
    pub fn set_checkpoint(&self, checkpoint: &impl serde::Serialize) -> Result<(), Error> {
        let json = object_json(checkpoint, "checkpoint")?;
        self.lock().checkpoint = Some(json);
        self.dirty.notify_one();
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Update> {
        self.update.lock().unwrap_or_else(PoisonError::into_inner)
    }

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
    /// The server refused the stream for good (bad key, permission, bad arguments).
    #[error("the server refused the worker stream: {0}")]
    Refused(Error),
}

impl From<Error> for WorkerError {
    fn from(e: Error) -> WorkerError {
        match e {
            Error::Config(m) => WorkerError::Config(m),
            other => WorkerError::Refused(other),
        }
    }
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

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> BoxFuture<Outcome> + Send + Sync>;

/// Configures and runs a worker; see the module docs.
#[derive(Clone)]
pub struct Worker {
    servers: Arc<Servers>,
    handlers: HashMap<String, Handler>,
    worker_id: String,
    hostname: String,
    concurrency: u32,
    lease_secs: i32,
    drain_timeout: Duration,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queues", &self.handlers.keys().collect::<Vec<_>>())
            .field("worker_id", &self.worker_id)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// This host's name (`/etc/hostname`, `HOSTNAME`, else `localhost`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `<hostname>-<8 random hex digits>`: unique per process start.
pub fn default_worker_id() -> String {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: the clock's nanoseconds still tell two starts apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        bytes = nanos.to_le_bytes();
    }
    format!("{}-{:08x}", hostname(), u32::from_le_bytes(bytes))
}

impl Worker {
    /// A worker of these servers. Add a handler per queue with [`Worker::handle`].
    pub fn new(options: ConnectOptions) -> Result<Worker, Error> {
        Ok(Worker::with_servers(Servers::new(options)?))
    }

    /// A worker on an existing channel (one node; `api_key` sent on the stream when given).
    pub fn from_channel(channel: Channel, api_key: Option<&str>) -> Result<Worker, Error> {
        Ok(Worker::with_servers(Servers::from_channel(
            channel, api_key,
        )?))
    }

    fn with_servers(servers: Arc<Servers>) -> Worker {
        Worker {
            servers,
            handlers: HashMap::new(),
            worker_id: default_worker_id(),
            hostname: hostname(),
            concurrency: CONCURRENCY_DEFAULT,
            lease_secs: LEASE_SECS_DEFAULT,
            drain_timeout: DRAIN_TIMEOUT_DEFAULT,
        }
    }

    /// Runs `handler` for every job of `queue`. The handler's future resolves to anything that
    /// converts into an [`Outcome`]: an `Outcome`, or a `Result` whose `Ok` value is the
    /// result and whose `Err` is the failure.
    pub fn handle<F, Fut, O>(mut self, queue: impl Into<String>, handler: F) -> Worker
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
        O: Into<Outcome> + 'static,
    {
        let handler: Handler = Arc::new(move |job| {
            let fut = handler(job);
            Box::pin(async move { fut.await.into() })
        });
        self.handlers.insert(queue.into(), handler);
        self
    }

    /// The worker's id (default `<hostname>-<random>`): shown in job state and `corvo workers`.
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

    /// Lease length in seconds (1..=3600); running jobs are heartbeated at a third of it.
    pub fn lease_secs(mut self, secs: i32) -> Worker {
        self.lease_secs = secs;
        self
    }

    /// How long running jobs may finish after a stop (default 30 s).
    pub fn drain_timeout(mut self, timeout: Duration) -> Worker {
        self.drain_timeout = timeout;
        self
    }

    /// Runs until SIGTERM or SIGINT (Ctrl-C), then drains; a second signal stops at once.
    pub async fn run_until_signal(self) -> Result<WorkerStats, WorkerError> {
        let signals = Arc::new(Notify::new());
        let listener = tokio::spawn({
            let signals = signals.clone();
            async move {
                loop {
                    wait_for_signal().await;
                    signals.notify_waiters();
                    signals.notify_one();
                }
            }
        });
        let first = {
            let s = signals.clone();
            async move { s.notified().await }
        };
        let second = async move {
            signals.notified().await;
            signals.notified().await;
        };
        let result = self.run_with(first, second).await;
        listener.abort();
        result
    }

    /// Runs until `shutdown` resolves, then drains (see the module docs).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<WorkerStats, WorkerError> {
        self.run_with(shutdown, std::future::pending()).await
    }

    /// Runs until `shutdown` resolves, then drains; when `force` resolves (a second signal,
    /// say) it returns at once, without waiting for running jobs.
    pub async fn run_with(
        self,
        shutdown: impl Future<Output = ()>,
        force: impl Future<Output = ()>,
    ) -> Result<WorkerStats, WorkerError> {
        if self.handlers.is_empty() {
            return Err(WorkerError::Config("at least one queue handler".into()));
        }
        if !(1..=CONCURRENCY_MAX).contains(&self.concurrency) {
            return Err(WorkerError::Config(format!(
                "concurrency must be 1..={CONCURRENCY_MAX}"
            )));
        }
        if !(1..=3600).contains(&self.lease_secs) {
            return Err(WorkerError::Config("lease_secs must be 1..=3600".into()));
        }
        tracing::info!(
            worker_id = %self.worker_id,
            queues = ?self.handlers.keys().collect::<Vec<_>>(),
            concurrency = self.concurrency,
            "corvo worker starting"
        );
        Session::new(self).run(shutdown, force).await
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A finished job whose outcome the server has not confirmed yet.
struct Pending {
    lease_token: u64,
    outcome: Outcome,
    /// Progress and checkpoint set after the last heartbeat: sent in the outcome's frame
    /// (the server applies a frame's heartbeats first), so the next attempt gets the
    /// checkpoint.
    last_update: Option<(Option<String>, Option<String>)>,
    /// Sent on the current stream and not refused (else it waits for the next send).
    sent: bool,
}

/// A job running in a handler.
struct Running {
    lease_token: u64,
    cancel: watch::Sender<bool>,
    update: Arc<Mutex<Update>>,
}

/// What one frame carried, to send it again if the server refuses it whole.
#[derive(Default)]
struct Sent {
    outcomes: Vec<String>,
    credits: u32,
    updates: Vec<(String, Option<String>, Option<String>)>,
}

/// What a stream does after a response.
#[derive(Debug)]
enum Next {
    Carry,
    /// Reconnect to the leader at this address.
    MoveTo(String),
    /// The server refused the worker for good.
    Refused(Error),
}

enum Event {
    Response(Result<Option<pb::StreamLifecycleResponse>, tonic::Status>),
    Finished(String, Outcome),
    Heartbeat,
    Flush,
    Resend,
    Shutdown,
    DrainTimeout,
    ConfirmTimeout,
    Force,
}

struct Session {
    cfg: Worker,
    running: HashMap<String, Running>,
    pending: HashMap<String, Pending>,
    /// Frames in flight on the current stream, by request id.
    in_flight: HashMap<u64, Sent>,
    /// Credits a refused frame did not grant: granted with the next send.
    owed_credits: u32,
    /// When refused work may be sent again.
    resend_at: Option<Instant>,
    stats: WorkerStats,
    next_request: u64,
    draining: bool,
    drain_deadline: Option<Instant>,
    /// After the drain timeout: when to stop waiting for the last confirmations.
    confirm_deadline: Option<Instant>,
    dirty: Arc<Notify>,
    /// At least this long before the next connection attempt (a server's hint).
    hold_off: Duration,
}

impl Session {
    fn new(cfg: Worker) -> Session {
        Session {
            cfg,
            running: HashMap::new(),
            pending: HashMap::new(),
            in_flight: HashMap::new(),
            owed_credits: 0,
            resend_at: None,
            stats: WorkerStats::default(),
            next_request: 0,
            draining: false,
            drain_deadline: None,
            confirm_deadline: None,
            dirty: Arc::new(Notify::new()),
            hold_off: Duration::ZERO,
        }
    }

    /// A new frame; every frame of a draining worker says so.
    fn frame(&mut self) -> pb::StreamLifecycleRequest {
        self.next_request += 1;
        pb::StreamLifecycleRequest {
            request_id: self.next_request,
            queues: self.cfg.handlers.keys().cloned().collect(),
            worker_id: self.cfg.worker_id.clone(),
            hostname: self.cfg.hostname.clone(),
            lease_duration: self.cfg.lease_secs,
            drain: self.draining,
            ..Default::default()
        }
    }

    /// A frame with every pending outcome not yet sent on this stream and the owed credits.
    fn resend_frame(&mut self) -> Option<pb::StreamLifecycleRequest> {
        let ids: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| !p.sent)
            .map(|(id, _)| id.clone())
            .collect();
        let credits = if self.draining { 0 } else { self.owed_credits };
        if ids.is_empty() && credits == 0 {
            return None;
        }
        let mut frame = self.frame();
        let mut sent = Sent {
            credits,
            ..Sent::default()
        };
        for id in ids {
            if let Some(p) = self.pending.get_mut(&id) {
                add_outcome(&mut frame, &id, p);
                p.sent = true;
                sent.outcomes.push(id);
            }
        }
        frame.credits = credits as i32;
        self.owed_credits = 0;
        self.in_flight.insert(frame.request_id, sent);
        Some(frame)
    }

    async fn run(
        mut self,
        shutdown: impl Future<Output = ()>,
        force: impl Future<Output = ()>,
    ) -> Result<WorkerStats, WorkerError> {
        // Each running job sends one outcome; credits cap the running jobs at `concurrency`.
        let (done_tx, mut done_rx) =
            mpsc::channel::<(String, Outcome)>(self.cfg.concurrency as usize + 1);
        let heartbeat_every =
            Duration::from_millis(u64::try_from(self.cfg.lease_secs).unwrap_or(60) * 1000 / 3);
        let mut heartbeat = tokio::time::interval(heartbeat_every);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut force = std::pin::pin!(force);
        let mut backoff = RECONNECT_FIRST;
        let mut connected_before = false;
        let mut flush_at: Option<Instant> = None;
        loop {
            if self.draining && self.running.is_empty() && self.pending.is_empty() {
                return Ok(self.stats);
            }
            // Connect. The first frame grants the credits of the free slots and re-sends every
            // outcome not confirmed on the previous stream.
            self.in_flight.clear();
            self.resend_at = None;
            for p in self.pending.values_mut() {
                p.sent = false;
            }
            let free = self.cfg.concurrency as usize
                - self.running.len().min(self.cfg.concurrency as usize);
            self.owed_credits = if self.draining { 0 } else { free as u32 };
            let first = self.resend_frame().unwrap_or_else(|| self.frame());
            let (tx, rx) = mpsc::channel(OUTBOX_FRAMES);
            let _ = tx.try_send(first);
            let (url, channel) = self.cfg.servers.current()?;
            let mut client =
                WorkerServiceClient::with_interceptor(channel, self.cfg.servers.auth());
            let opened = tokio::select! {
                biased;
                _ = &mut force => return Ok(self.stats),
                r = client.stream_lifecycle(tokio_stream::wrappers::ReceiverStream::new(rx)) => r,
            };
            let mut responses = match opened {
                Ok(r) => r.into_inner(),
                Err(status) => {
                    let error = Error::from(status);
                    if refused_for_good(error.code()) {
                        return Err(WorkerError::Refused(error));
                    }
                    self.note_unreachable(&url, &error);
                    tracing::warn!(server = %url, "corvo worker stream: {error}; reconnecting");
                    let wait = jitter(backoff).max(std::mem::take(&mut self.hold_off));
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                    if self
                        .wait_to_reconnect(wait, &mut shutdown, &mut force)
                        .await
                    {
                        return Ok(self.stats);
                    }
                    continue;
                }
            };
            if connected_before {
                self.stats.reconnects += 1;
                tracing::info!(server = %url, "corvo worker reconnected");
            }
            connected_before = true;
            backoff = RECONNECT_FIRST;

            // Serve this stream until it breaks or the work is done.
            loop {
                if self.draining && self.running.is_empty() && self.pending.is_empty() {
                    return Ok(self.stats);
                }
                let resend_at = self.resend_at;
                let drain_deadline = self.drain_deadline;
                let confirm_deadline = self.confirm_deadline;
                let event = tokio::select! {
                    // Shutdown first: a handler that asks to stop as it finishes gets no further
                    // credit granted by its own ack.
                    biased;
                    _ = &mut force => Event::Force,
                    _ = &mut shutdown, if !self.draining => Event::Shutdown,
                    _ = sleep_until(drain_deadline), if drain_deadline.is_some() => Event::DrainTimeout,
                    _ = sleep_until(confirm_deadline), if confirm_deadline.is_some() => Event::ConfirmTimeout,
                    r = responses.message() => Event::Response(r),
                    Some((id, outcome)) = done_rx.recv() => Event::Finished(id, outcome),
                    _ = heartbeat.tick() => Event::Heartbeat,
                    _ = self.dirty.notified(), if flush_at.is_none() => {
                        flush_at = Some(Instant::now() + PROGRESS_FLUSH);
                        continue;
                    }
                    _ = sleep_until(flush_at), if flush_at.is_some() => Event::Flush,
                    _ = sleep_until(resend_at), if resend_at.is_some() => Event::Resend,
                };
                let frame = match event {
                    Event::Force => {
                        tracing::warn!(
                            running = self.running.len(),
                            "corvo worker: stopping at once (second signal)"
                        );
                        return Ok(self.stats);
                    }
                    Event::Response(Ok(Some(resp))) => match self.on_response(resp, &done_tx) {
                        Next::Carry => None,
                        Next::MoveTo(hint) => {
                            self.cfg.servers.leader_hint(&hint);
                            tracing::info!(leader = %hint, "corvo worker: moving to the leader");
                            break;
                        }
                        Next::Refused(error) => return Err(WorkerError::Refused(error)),
                    },
                    Event::Response(Ok(None)) => {
                        tracing::warn!(server = %url, "corvo worker stream ended; reconnecting");
                        break;
                    }
                    Event::Response(Err(status)) => {
                        let error = Error::from(status);
                        if refused_for_good(error.code()) {
                            return Err(WorkerError::Refused(error));
                        }
                        self.note_unreachable(&url, &error);
                        tracing::warn!(server = %url, "corvo worker stream: {error}; reconnecting");
                        break;
                    }
                    Event::Finished(id, outcome) => self.on_finished(id, outcome),
                    Event::Heartbeat => self.heartbeat_frame(false),
                    Event::Flush => {
                        flush_at = None;
                        self.heartbeat_frame(true)
                    }
                    Event::Resend => {
                        self.resend_at = None;
                        self.resend_frame()
                    }
                    Event::Shutdown => {
                        tracing::info!(
                            running = self.running.len(),
                            "corvo worker shutting down: finishing running jobs"
                        );
                        self.draining = true;
                        self.drain_deadline = Some(Instant::now() + self.cfg.drain_timeout);
                        // The server drops this stream's credits and pushes nothing more.
                        Some(self.frame())
                    }
                    Event::DrainTimeout => {
                        self.drain_timed_out();
                        self.resend_frame()
                    }
                    Event::ConfirmTimeout => {
                        self.unconfirmed_at_exit();
                        return Ok(self.stats);
                    }
                };
                if let Some(frame) = frame
                    && tx.send(frame).await.is_err()
                {
                    break;
                }
            }
            let wait = jitter(backoff).max(std::mem::take(&mut self.hold_off));
            backoff = (backoff * 2).min(RECONNECT_MAX);
            if self
                .wait_to_reconnect(wait, &mut shutdown, &mut force)
                .await
            {
                return Ok(self.stats);
            }
        }
    }

    /// Waits `wait` before the next connection attempt, still minding a stop, the drain
    /// timeout and the confirmation timeout. True when the run must end now.
    async fn wait_to_reconnect(
        &mut self,
        wait: Duration,
        shutdown: &mut Pin<&mut impl Future<Output = ()>>,
        force: &mut Pin<&mut impl Future<Output = ()>>,
    ) -> bool {
        let until = Instant::now() + wait;
        loop {
            if self.draining && self.running.is_empty() && self.pending.is_empty() {
                return true;
            }
            let (drain, confirm) = (self.drain_deadline, self.confirm_deadline);
            tokio::select! {
                biased;
                _ = force.as_mut() => return true,
                _ = shutdown.as_mut(), if !self.draining => {
                    tracing::info!(running = self.running.len(), "corvo worker shutting down: finishing running jobs");
                    self.draining = true;
                    self.drain_deadline = Some(Instant::now() + self.cfg.drain_timeout);
                }
                _ = sleep_until(drain), if drain.is_some() => self.drain_timed_out(),
                _ = sleep_until(confirm), if confirm.is_some() => {
                    self.unconfirmed_at_exit();
                    return true;
                }
                _ = tokio::time::sleep_until(until) => return false,
            }
        }
    }

    fn drain_timed_out(&mut self) {
        self.drain_deadline = None;
        self.fail_running();
        // The last outcomes get a bounded time to be confirmed.
        self.confirm_deadline = Some(Instant::now() + CONFIRM_TIMEOUT);
    }

    fn unconfirmed_at_exit(&self) {
        if !self.pending.is_empty() {
            tracing::warn!(
                outcomes = self.pending.len(),
                "corvo worker: stopping with outcomes the server did not confirm (their jobs are retried when their leases end)"
            );
        }
    }

    /// A connection failed: remember the server's hints, or move on to the next server.
    fn note_unreachable(&mut self, url: &str, error: &Error) {
        if let Error::Status {
            retry_after,
            leader,
            message,
            ..
        } = error
        {
            if let Some(wait) = retry_after {
                self.hold_off = *wait;
            }
            match leader {
                Some(leader) => self.cfg.servers.leader_hint(leader),
                None if crate::client::is_connect_error(message)
                    || error.code() == tonic::Code::Unavailable =>
                {
                    self.cfg.servers.failed(url)
                }
                None => {}
            }
        }
    }

    fn on_finished(&mut self, id: String, outcome: Outcome) -> Option<pb::StreamLifecycleRequest> {
        let run = self.running.remove(&id)?;
        let last_update = {
            let mut u = run.update.lock().unwrap_or_else(PoisonError::into_inner);
            (u.progress.is_some() || u.checkpoint.is_some())
                .then(|| (u.progress.take(), u.checkpoint.take()))
        };
        let p = Pending {
            lease_token: run.lease_token,
            outcome,
            last_update,
            sent: false,
        };
        self.pending.insert(id, p);
        if !self.draining {
            self.owed_credits += 1;
        }
        if self.resend_at.is_some() {
            // Refused work waits for its hint; this outcome goes with it.
            return None;
        }
        self.resend_frame()
    }

    /// Heartbeats for every running job (`only_updated`: those with new progress or
    /// checkpoint), with the updates their handlers set.
    fn heartbeat_frame(&mut self, only_updated: bool) -> Option<pb::StreamLifecycleRequest> {
        let mut items = Vec::new();
        let mut updates = Vec::new();
        for (id, run) in &self.running {
            let mut u = run.update.lock().unwrap_or_else(PoisonError::into_inner);
            if only_updated && u.progress.is_none() && u.checkpoint.is_none() {
                continue;
            }
            let (progress, checkpoint) = (u.progress.take(), u.checkpoint.take());
            items.push(pb::LifecycleHeartbeatItem {
                job_id: id.clone(),
                progress_json: progress.clone().unwrap_or_default(),
                checkpoint_json: checkpoint.clone().unwrap_or_default(),
                lease_token: run.lease_token,
            });
            if progress.is_some() || checkpoint.is_some() {
                updates.push((id.clone(), progress, checkpoint));
            }
        }
        if items.is_empty() {
            return None;
        }
        let mut frame = self.frame();
        frame.heartbeats = items;
        self.in_flight.insert(
            frame.request_id,
            Sent {
                updates,
                ..Sent::default()
            },
        );
        Some(frame)
    }

    /// Fails every job still running at the end of the drain (retried at once elsewhere).
    fn fail_running(&mut self) {
        let ids: Vec<String> = self.running.keys().cloned().collect();
        if !ids.is_empty() {
            tracing::warn!(
                jobs = ids.len(),
                "corvo worker: drain timeout; failing the running jobs back"
            );
        }
        for id in ids {
            if let Some(run) = self.running.remove(&id) {
                let _ = run.cancel.send(true);
                self.pending.insert(
                    id,
                    Pending {
                        lease_token: run.lease_token,
                        outcome: Outcome::fail(SHUTTING_DOWN),
                        last_update: None,
                        sent: false,
                    },
                );
            }
        }
    }

    /// Handles one response: what the stream does next.
    fn on_response(
        &mut self,
        resp: pb::StreamLifecycleResponse,
        done_tx: &mpsc::Sender<(String, Outcome)>,
    ) -> Next {
        let sent = self.in_flight.remove(&resp.request_id);
        let code = pb::ErrorCode::try_from(resp.error_code).unwrap_or(pb::ErrorCode::Unspecified);
        if matches!(
            code,
            pb::ErrorCode::PermissionDenied | pb::ErrorCode::Unauthenticated
        ) {
            // The key may not take jobs from these queues (or is no key): no retry helps.
            return Next::Refused(Error::from_item(resp.error_code, &resp.error));
        }
        let items = resp.ack_results.len() + resp.fail_results.len() + resp.heartbeat_results.len();
        let mut leader = None;
        if code != pb::ErrorCode::Unspecified {
            tracing::warn!(code = ?code, "corvo worker stream: {}", resp.error);
        }
        if let Some(sent) = sent
            && items == 0
            && matches!(
                code,
                pb::ErrorCode::Overloaded | pb::ErrorCode::Unavailable | pb::ErrorCode::NotLeader
            )
        {
            // Refused whole: send it again after the hint (or on the leader's stream).
            for id in &sent.outcomes {
                if let Some(p) = self.pending.get_mut(id) {
                    p.sent = false;
                }
            }
            self.owed_credits += sent.credits;
            for (id, progress, checkpoint) in sent.updates {
                if let Some(run) = self.running.get(&id) {
                    let mut u = run.update.lock().unwrap_or_else(PoisonError::into_inner);
                    if u.progress.is_none() {
                        u.progress = progress;
                    }
                    if u.checkpoint.is_none() {
                        u.checkpoint = checkpoint;
                    }
                }
            }
            if code == pb::ErrorCode::NotLeader && !resp.leader_addr.is_empty() {
                leader = Some(resp.leader_addr.clone());
            } else {
                let wait = u64::try_from(resp.retry_after_ms)
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map_or(RESEND_DEFAULT, Duration::from_millis);
                let at = Instant::now() + wait;
                self.resend_at = Some(self.resend_at.map_or(at, |r| r.max(at)));
            }
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
                    tracing::warn!(job_id = %r.job_id, "corvo worker: outcome refused: {}", r.message);
                }
            }
        }
        // A heartbeat refused for the job itself (lease lost, job gone) stops the job.
        let mut stop: HashSet<&String> = resp.cancel_job_ids.iter().collect();
        for r in &resp.heartbeat_results {
            let lost = [
                pb::ErrorCode::StaleLease,
                pb::ErrorCode::NotFound,
                pb::ErrorCode::InvalidState,
            ]
            .iter()
            .any(|c| r.code == *c as i32);
            if lost {
                stop.insert(&r.job_id);
            }
        }
        for id in stop {
            if let Some(run) = self.running.get(id) {
                let _ = run.cancel.send(true);
            }
        }
        for job in resp.jobs {
            self.start(job, done_tx.clone());
        }
        match leader {
            Some(l) => Next::MoveTo(l),
            None => Next::Carry,
        }
    }

    fn start(&mut self, job: pb::FetchBatchJob, done: mpsc::Sender<(String, Outcome)>) {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let update = Arc::new(Mutex::new(Update::default()));
        let id = job.job_id.clone();
        self.running.insert(
            id.clone(),
            Running {
                lease_token: job.lease_token,
                cancel: cancel_tx,
                update: update.clone(),
            },
        );
        let span = tracing::info_span!(
            "corvo.worker.execute",
            otel.kind = "consumer",
            job_id = %job.job_id,
            queue = %job.queue,
            attempt = job.attempt,
        );
        crate::trace::set_parent(&span, &job.trace_parent);
        let handler = self.cfg.handlers.get(&job.queue).cloned();
        let ctx = JobContext {
            job,
            cancel: cancel_rx,
            update,
            dirty: self.dirty.clone(),
        };
        tokio::spawn(
            async move {
                let outcome = match handler {
                    // A panic in the handler (while building or running its future) fails the
                    // job with the panic's message; the worker carries on.
                    Some(h) => match std::panic::AssertUnwindSafe(async move { h(ctx).await })
                        .catch_unwind()
                        .await
                    {
                        Ok(o) => o,
                        Err(panic) => Outcome::Fail {
                            error: format!("handler panicked: {}", panic_message(&panic)),
                            backtrace: String::new(),
                        },
                    },
                    None => Outcome::fail(format!("no handler for queue {:?}", ctx.job.queue)),
                };
                let _ = done.send((id, outcome)).await;
            }
            .instrument(span),
        );
    }
}

fn add_outcome(frame: &mut pb::StreamLifecycleRequest, job_id: &str, p: &Pending) {
    if let Some((progress, checkpoint)) = &p.last_update {
        frame.heartbeats.push(pb::LifecycleHeartbeatItem {
            job_id: job_id.to_owned(),
            progress_json: progress.clone().unwrap_or_default(),
            checkpoint_json: checkpoint.clone().unwrap_or_default(),
            lease_token: p.lease_token,
        });
    }
    match &p.outcome {
        Outcome::Complete { result_json } => frame.acks.push(pb::AckBatchItem {
            job_id: job_id.to_owned(),
            result_json: result_json.clone(),
            usage: None,
            lease_token: p.lease_token,
        }),
        Outcome::Fail { error, backtrace } => frame.fails.push(pb::LifecycleFailItem {
            job_id: job_id.to_owned(),
            error: error.clone(),
            backtrace: backtrace.clone(),
            lease_token: p.lease_token,
        }),
    }
}

/// `value` as JSON text, if it is an object (what the server stores as progress and
/// checkpoints).
fn object_json(value: &impl serde::Serialize, what: &str) -> Result<String, Error> {
    match serde_json::to_value(value) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v.to_string()),
        Ok(_) => Err(Error::Config(format!("{what} must be a JSON object"))),
        Err(e) => Err(Error::Config(format!("{what} is not JSON: {e}"))),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Full jitter: a uniformly random wait up to `max`.
fn jitter(max: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    let r = if getrandom::fill(&mut bytes).is_ok() {
        u32::from_le_bytes(bytes)
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    };
    max.mul_f64(f64::from(r) / f64::from(u32::MAX))
}

/// Errors a reconnect cannot fix.
fn refused_for_good(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::InvalidArgument
            | tonic::Code::PermissionDenied
            | tonic::Code::Unauthenticated
            | tonic::Code::Unimplemented
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_are_host_and_random() {
        let (a, b) = (default_worker_id(), default_worker_id());
        assert_ne!(a, b);
        let (host, hex) = a.rsplit_once('-').expect("host-hex");
        assert!(!host.is_empty());
        assert_eq!(hex.len(), 8);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
    }

    #[test]
    fn jitter_stays_below_its_bound() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_millis(100)) <= Duration::from_millis(100));
        }
    }

    #[test]
    fn results_convert_to_outcomes() {
        let ok: Result<serde_json::Value, String> = Ok(serde_json::json!({"a": 1}));
        assert_eq!(Outcome::from(ok), Outcome::complete(r#"{"a":1}"#));
        let err: Result<(), String> = Err("boom".into());
        assert_eq!(Outcome::from(err), Outcome::fail("boom"));
    }

    fn session() -> Session {
        let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        let cfg = Worker::from_channel(channel, None)
            .expect("worker")
            .handle("q", |_job: JobContext| async { Outcome::complete("{}") })
            .concurrency(4);
        Session::new(cfg)
    }

    #[tokio::test]
    async fn a_frame_refused_whole_is_sent_again_with_its_credits() {
        let mut s = session();
        s.pending.insert(
            "j1".into(),
            Pending {
                lease_token: 7,
                outcome: Outcome::complete("{}"),
                last_update: None,
                sent: false,
            },
        );
        s.owed_credits = 1;
        let frame = s.resend_frame().expect("a frame");
        assert_eq!(frame.acks.len(), 1);
        assert_eq!(frame.acks[0].lease_token, 7);
        assert_eq!(frame.credits, 1);
        assert!(s.resend_frame().is_none(), "nothing left to send");
        let (tx, _rx) = mpsc::channel(1);
        let refused = pb::StreamLifecycleResponse {
            request_id: frame.request_id,
            error: "OVERLOADED: rate limit".into(),
            error_code: pb::ErrorCode::Overloaded as i32,
            retry_after_ms: 250,
            ..Default::default()
        };
        assert!(matches!(s.on_response(refused, &tx), Next::Carry));
        assert!(s.resend_at.is_some(), "a resend is scheduled");
        let again = s.resend_frame().expect("sent again");
        assert_eq!(again.acks.len(), 1);
        assert_eq!(again.credits, 1);
        // Confirmed: nothing pending.
        let ok = pb::StreamLifecycleResponse {
            request_id: again.request_id,
            acked: 1,
            ack_results: vec![pb::ItemResult {
                job_id: "j1".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        s.on_response(ok, &tx);
        assert!(s.pending.is_empty());
        assert_eq!(s.stats.completed, 1);
    }

    #[tokio::test]
    async fn not_leader_moves_the_stream() {
        let mut s = session();
        let frame = s.heartbeat_frame(false);
        assert!(frame.is_none(), "no running job, no heartbeat");
        s.owed_credits = 2;
        let frame = s.resend_frame().expect("credits");
        let (tx, _rx) = mpsc::channel(1);
        let r = pb::StreamLifecycleResponse {
            request_id: frame.request_id,
            error: "NOT_LEADER".into(),
            error_code: pb::ErrorCode::NotLeader as i32,
            leader_addr: "10.0.0.2:8080".into(),
            ..Default::default()
        };
        assert!(matches!(s.on_response(r, &tx), Next::MoveTo(a) if a == "10.0.0.2:8080"));
        assert_eq!(
            s.owed_credits, 2,
            "the credits are granted again on the new stream"
        );
    }
}
