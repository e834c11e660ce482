//! The client: enqueue jobs (one or a batch), look at and act on jobs, administer queues.
//!
//! ```no_run
//! # async fn demo() -> Result<(), corvo_sdk::Error> {
//! use corvo_sdk::{Client, ConnectOptions, EnqueueOptions};
//! let client = Client::new(ConnectOptions::new(["http://127.0.0.1:8080"]))?;
//! let job = client
//!     .enqueue("emails", &serde_json::json!({"to": "ada@example.com"}), EnqueueOptions::new().max_attempts(5))
//!     .await?;
//! println!("{} {}", job.id, job.status);
//! # Ok(()) }
//! ```
//!
//! Calls go to the node in use; one that cannot be reached is left for the next URL, and a
//! node's leader hint is followed. Writes are not retried by the client (a write may have
//! been applied before its answer was lost); a refused connection is.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tonic::transport::Channel;

use crate::connect::{AuthedChannel, ConnectOptions, Servers};
use crate::error::Error;
use crate::proto as pb;
use crate::proto::job_service_client::JobServiceClient;
use crate::proto::queue_service_client::QueueServiceClient;
use crate::proto::worker_service_client::WorkerServiceClient;

/// Enqueues per stream frame in [`Client::enqueue_batch`] (the server's bound is 1 024).
pub const BATCH_FRAME_MAX: usize = 1_000;

/// How the delay before a job's next attempt grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub kind: pb::BackoffKind,
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// Retry at once.
    pub fn none() -> Backoff {
        Backoff {
            kind: pb::BackoffKind::None,
            base: Duration::ZERO,
            cap: Duration::ZERO,
        }
    }

    /// Always `delay`.
    pub fn fixed(delay: Duration) -> Backoff {
        Backoff {
            kind: pb::BackoffKind::Fixed,
            base: delay,
            cap: delay,
        }
    }

    /// `base` times the attempt number, at most `cap`.
    pub fn linear(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            kind: pb::BackoffKind::Linear,
            base,
            cap,
        }
    }

    /// `base` doubled per attempt, at most `cap`, with the server's jitter.
    pub fn exponential(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            kind: pb::BackoffKind::Exponential,
            base,
            cap,
        }
    }
}

/// Options of a new job; every one is optional (the server's defaults: normal priority, 3
/// attempts, exponential backoff from 5 s to 10 min).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnqueueOptions {
    pub priority: Option<pb::Priority>,
    pub max_attempts: Option<u32>,
    pub backoff: Option<Backoff>,
    /// Do not deliver before this long from now.
    pub delay: Option<Duration>,
    /// Do not deliver before this time (wins over `delay`).
    pub scheduled_at: Option<SystemTime>,
    /// Dead ("expired") if not started this long after enqueue.
    pub expire_after: Option<Duration>,
    /// At most one job per (queue, key) within `unique_period` (default 1 h): an enqueue with
    /// a key already held answers `duplicate` with the existing job's id.
    pub unique_key: Option<String>,
    /// Makes retries safe: a second enqueue to the same queue with the same key within the
    /// server's window (default 24 h) creates nothing and answers the first one's job
    /// ([`Enqueued::replayed`]). When unset, the client makes a fresh key per call, so its own
    /// retries never create a job twice; set one to make retries across calls (or processes)
    /// safe too.
    pub idempotency_key: Option<String>,
    pub unique_period: Option<Duration>,
    pub tags: BTreeMap<String, String>,
}

impl EnqueueOptions {
    pub fn new() -> EnqueueOptions {
        EnqueueOptions::default()
    }

    pub fn priority(mut self, p: pb::Priority) -> Self {
        self.priority = Some(p);
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    pub fn backoff(mut self, b: Backoff) -> Self {
        self.backoff = Some(b);
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }

    pub fn scheduled_at(mut self, at: SystemTime) -> Self {
        self.scheduled_at = Some(at);
        self
    }

    pub fn expire_after(mut self, d: Duration) -> Self {
        self.expire_after = Some(d);
        self
    }

    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn unique_period(mut self, d: Duration) -> Self {
        self.unique_period = Some(d);
        self
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    pub(crate) fn to_proto(&self) -> pb::EnqueueOptions {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let at = self
            .scheduled_at
            .or_else(|| self.delay.map(|d| SystemTime::now() + d));
        pb::EnqueueOptions {
            priority: self.priority.map_or(0, Into::into),
            max_attempts: self
                .max_attempts
                .map_or(0, |n| i32::try_from(n).unwrap_or(i32::MAX)),
            backoff: self.backoff.map(|b| pb::BackoffPolicy {
                kind: b.kind.into(),
                base_ms: ms(b.base),
                cap_ms: ms(b.cap),
            }),
            scheduled_at: at.map(timestamp),
            expire_after_ms: self.expire_after.map_or(0, ms),
            unique_key: self.unique_key.clone().unwrap_or_default(),
            unique_period_ms: self.unique_period.map_or(0, ms),
            tags: self.tags.clone().into_iter().collect(),
            idempotency_key: self
                .idempotency_key
                .clone()
                .unwrap_or_else(fresh_idempotency_key),
        }
    }
}

/// 128 random bits in hex: a key no other call will send.
fn fresh_idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: the clock, the process and a counter still tell calls apart.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
        bytes[12..].copy_from_slice(&(n as u32).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn timestamp(at: SystemTime) -> prost_types::Timestamp {
    let d = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    prost_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

fn payload_json(payload: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string(payload)
        .map_err(|e| Error::config(format!("the payload is not JSON: {e}")))
}

/// What an enqueue did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enqueued {
    pub id: String,
    /// `pending`, `scheduled`, or `duplicate` (an existing job holds the unique key, or the
    /// idempotency key matched an earlier enqueue: `id` is that job's).
    pub status: String,
    /// The idempotency key matched an earlier enqueue: nothing was created.
    pub replayed: bool,
}

/// One job of [`Client::enqueue_batch`].
#[derive(Clone, Debug)]
pub struct BatchItem {
    pub queue: String,
    pub payload: serde_json::Value,
    pub options: EnqueueOptions,
}

/// Queue limits for [`Client::set_queue_limits`] (`None`: no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueLimits {
    pub concurrency: Option<u32>,
    /// At most `.0` starts per `.1`.
    pub rate: Option<(u32, Duration)>,
}

/// A Corvo client: cheap to clone, safe to share.
#[derive(Clone)]
pub struct Client {
    servers: Arc<Servers>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client")
    }
}

impl Client {
    /// A client of these servers. Connects lazily: configuration errors are returned here,
    /// connection errors by the first call.
    pub fn new(options: ConnectOptions) -> Result<Client, Error> {
        Ok(Client {
            servers: Servers::new(options)?,
        })
    }

    /// A client on an existing channel (one node; `api_key` sent on every call when given).
    pub fn from_channel(channel: Channel, api_key: Option<&str>) -> Result<Client, Error> {
        Ok(Client {
            servers: Servers::from_channel(channel, api_key)?,
        })
    }

    /// Runs one unary call on the node in use, bounded by the call timeout. A refused
    /// connection moves on to the next node and is tried there (nothing was sent); a leader
    /// hint is remembered for the next call.
    async fn call<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        F: Fn(AuthedChannel) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut tries = 0;
        loop {
            let (url, _) = self.servers.current()?;
            let channel = self.servers.authed()?;
            let answer = tokio::time::timeout(self.servers.call_timeout(), f(channel)).await;
            let status = match answer {
                Ok(Ok(r)) => return Ok(r.into_inner()),
                Ok(Err(s)) => s,
                Err(_) => {
                    return Err(Error::from(tonic::Status::deadline_exceeded(format!(
                        "no answer from {url} within {:?}",
                        self.servers.call_timeout()
                    ))));
                }
            };
            let error = Error::from(status);
            if let Error::Status {
                code: tonic::Code::Unavailable,
                message,
                leader,
                ..
            } = &error
            {
                if let Some(leader) = leader {
                    self.servers.leader_hint(leader);
                } else if is_connect_error(message) {
                    self.servers.failed(&url);
                    tries += 1;
                    if tries < 3 {
                        continue;
                    }
                }
            }
            return Err(error);
        }
    }

    /// Enqueues one job; `payload` is anything that serializes to JSON.
    pub async fn enqueue(
        &self,
        queue: &str,
        payload: &impl serde::Serialize,
        options: EnqueueOptions,
    ) -> Result<Enqueued, Error> {
        let req = pb::EnqueueRequest {
            queue: queue.to_owned(),
            payload_json: payload_json(payload)?,
            agent: None,
            options: Some(options.to_proto()),
        };
        let r = self
            .call(|c| {
                let req = req.clone();
                async move { WorkerServiceClient::new(c).enqueue(req).await }
            })
            .await?;
        Ok(Enqueued {
            id: r.job_id,
            status: r.status,
            replayed: r.replayed,
        })
    }

    /// Enqueues many jobs over one stream, [`BATCH_FRAME_MAX`] per frame: one result per item,
    /// in order (an item the server refused does not stop the others).
    pub async fn enqueue_batch(
        &self,
        items: Vec<BatchItem>,
    ) -> Result<Vec<Result<Enqueued, Error>>, Error> {
        let mut frames = Vec::new();
        for chunk in items.chunks(BATCH_FRAME_MAX) {
            let enqueues = chunk
                .iter()
                .map(|i| {
                    Ok(pb::LifecycleEnqueueItem {
                        queue: i.queue.clone(),
                        payload_json: payload_json(&i.payload)?,
                        agent: None,
                        options: Some(i.options.to_proto()),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            frames.push(enqueues);
        }
        let (tx, rx) = mpsc::channel(2);
        let mut client = WorkerServiceClient::new(self.servers.authed()?);
        let mut frames = frames.into_iter().enumerate();
        let mut send_next = |tx: &mpsc::Sender<pb::StreamLifecycleRequest>| match frames.next() {
            Some((i, enqueues)) => tx
                .try_send(pb::StreamLifecycleRequest {
                    request_id: i as u64 + 1,
                    enqueues,
                    ..Default::default()
                })
                .is_ok(),
            None => false,
        };
        let mut results = Vec::with_capacity(items.len());
        if !send_next(&tx) {
            return Ok(results);
        }
        let mut responses = client
            .stream_lifecycle(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .map_err(Error::from)?
            .into_inner();
        loop {
            let r = tokio::time::timeout(self.servers.call_timeout(), responses.message())
                .await
                .map_err(|_| Error::from(tonic::Status::deadline_exceeded("enqueue batch")))?
                .map_err(Error::from)?
                .ok_or_else(|| Error::from(tonic::Status::unavailable("the stream ended")))?;
            if r.request_id == 0 {
                continue;
            }
            if r.enqueue_results.is_empty() && !r.error.is_empty() {
                return Err(Error::from_item(r.error_code, &r.error));
            }
            for item in r.enqueue_results {
                results.push(if item.code == 0 {
                    Ok(Enqueued {
                        status: if matches!(item.message.as_str(), "duplicate" | "replayed") {
                            "duplicate".to_owned()
                        } else {
                            state_status(item.state)
                        },
                        replayed: item.message == "replayed",
                        id: item.job_id,
                    })
                } else {
                    Err(Error::from_item(item.code, &item.message))
                });
            }
            if !send_next(&tx) {
                return Ok(results);
            }
        }
    }

    pub async fn get_job(&self, id: &str) -> Result<pb::Job, Error> {
        let r = self
            .call(|c| {
                let job_id = id.to_owned();
                async move {
                    JobServiceClient::new(c)
                        .get_job(pb::GetJobRequest { job_id })
                        .await
                }
            })
            .await?;
        r.job
            .ok_or_else(|| Error::from(tonic::Status::internal("the server returned no job")))
    }

    /// One page of jobs matching the request's filters.
    pub async fn list_jobs(&self, req: pb::ListJobsRequest) -> Result<pb::ListJobsResponse, Error> {
        self.call(|c| {
            let req = req.clone();
            async move { JobServiceClient::new(c).list_jobs(req).await }
        })
        .await
    }

    /// Cancels a job; its state after the call.
    pub async fn cancel_job(&self, id: &str) -> Result<pb::JobState, Error> {
        let r = self
            .call(|c| {
                let job_id = id.to_owned();
                async move {
                    JobServiceClient::new(c)
                        .cancel_job(pb::CancelJobRequest { job_id })
                        .await
                }
            })
            .await?;
        Ok(r.state())
    }

    /// Puts a finished job back to pending; its state after the call.
    pub async fn retry_job(&self, id: &str) -> Result<pb::JobState, Error> {
        let r = self
            .call(|c| {
                let job_id = id.to_owned();
                async move {
                    JobServiceClient::new(c)
                        .retry_job(pb::RetryJobRequest { job_id })
                        .await
                }
            })
            .await?;
        Ok(r.state())
    }

    pub async fn delete_job(&self, id: &str) -> Result<(), Error> {
        self.call(|c| {
            let job_id = id.to_owned();
            async move {
                JobServiceClient::new(c)
                    .delete_job(pb::DeleteJobRequest { job_id })
                    .await
            }
        })
        .await?;
        Ok(())
    }

    /// Acts on many jobs by id or by filter (see `JobService.BulkJobs`).
    pub async fn bulk_jobs(&self, req: pb::BulkJobsRequest) -> Result<pb::BulkJobsResponse, Error> {
        self.call(|c| {
            let req = req.clone();
            async move { JobServiceClient::new(c).bulk_jobs(req).await }
        })
        .await
    }

    pub async fn get_operation(&self, id: &str) -> Result<pb::Operation, Error> {
        let r = self
            .call(|c| {
                let operation_id = id.to_owned();
                async move {
                    JobServiceClient::new(c)
                        .get_operation(pb::GetOperationRequest { operation_id })
                        .await
                }
            })
            .await?;
        r.operation
            .ok_or_else(|| Error::from(tonic::Status::internal("the server returned no operation")))
    }

    pub async fn list_queues(&self) -> Result<Vec<pb::Queue>, Error> {
        let r = self
            .call(|c| async move {
                QueueServiceClient::new(c)
                    .list_queues(pb::ListQueuesRequest {})
                    .await
            })
            .await?;
        Ok(r.queues)
    }

    pub async fn get_queue(&self, queue: &str) -> Result<pb::Queue, Error> {
        let r = self
            .call(|c| {
                let queue = queue.to_owned();
                async move {
                    QueueServiceClient::new(c)
                        .get_queue(pb::GetQueueRequest { queue })
                        .await
                }
            })
            .await?;
        r.queue.ok_or_else(no_queue)
    }

    pub async fn pause_queue(&self, queue: &str) -> Result<pb::Queue, Error> {
        let r = self
            .call(|c| {
                let queue = queue.to_owned();
                async move {
                    QueueServiceClient::new(c)
                        .pause_queue(pb::PauseQueueRequest { queue })
                        .await
                }
            })
            .await?;
        r.queue.ok_or_else(no_queue)
    }

    pub async fn resume_queue(&self, queue: &str) -> Result<pb::Queue, Error> {
        let r = self
            .call(|c| {
                let queue = queue.to_owned();
                async move {
                    QueueServiceClient::new(c)
                        .resume_queue(pb::ResumeQueueRequest { queue })
                        .await
                }
            })
            .await?;
        r.queue.ok_or_else(no_queue)
    }

    /// Pauses the queue and waits up to `wait` (at most 10 min) until none of its jobs is
    /// active.
    pub async fn drain_queue(
        &self,
        queue: &str,
        wait: Duration,
    ) -> Result<pb::DrainQueueResponse, Error> {
        let wait_ms = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX);
        let servers = self.servers.clone();
        // The call waits: its timeout is the wait plus the usual one.
        let timeout = wait + servers.call_timeout();
        let channel = servers.authed()?;
        let answer = tokio::time::timeout(
            timeout,
            QueueServiceClient::new(channel).drain_queue(pb::DrainQueueRequest {
                queue: queue.to_owned(),
                wait_ms,
            }),
        )
        .await
        .map_err(|_| Error::from(tonic::Status::deadline_exceeded("drain queue")))?;
        Ok(answer.map_err(Error::from)?.into_inner())
    }

    pub async fn clear_queue(&self, queue: &str) -> Result<pb::ClearQueueResponse, Error> {
        self.call(|c| {
            let queue = queue.to_owned();
            async move {
                QueueServiceClient::new(c)
                    .clear_queue(pb::ClearQueueRequest { queue })
                    .await
            }
        })
        .await
    }

    /// Destroys the queue (`confirm` must repeat its name); the operation's id.
    pub async fn destroy_queue(&self, queue: &str, confirm: &str) -> Result<String, Error> {
        let r = self
            .call(|c| {
                let (queue, confirm) = (queue.to_owned(), confirm.to_owned());
                async move {
                    QueueServiceClient::new(c)
                        .destroy_queue(pb::DestroyQueueRequest { queue, confirm })
                        .await
                }
            })
            .await?;
        Ok(r.operation_id)
    }

    pub async fn set_queue_limits(
        &self,
        queue: &str,
        limits: QueueLimits,
    ) -> Result<pb::Queue, Error> {
        let req = pb::SetQueueLimitsRequest {
            queue: queue.to_owned(),
            concurrency: limits.concurrency.unwrap_or(0),
            rate_starts: limits.rate.map_or(0, |r| r.0),
            rate_window_ms: limits
                .rate
                .map_or(0, |r| u64::try_from(r.1.as_millis()).unwrap_or(u64::MAX)),
        };
        let r = self
            .call(|c| {
                let req = req.clone();
                async move { QueueServiceClient::new(c).set_queue_limits(req).await }
            })
            .await?;
        r.queue.ok_or_else(no_queue)
    }

    /// Sets the queue's retention overrides (`None`: the cluster's default).
    pub async fn set_queue_retention(
        &self,
        queue: &str,
        retention: Option<Duration>,
        dead_retention: Option<Duration>,
    ) -> Result<pb::Queue, Error> {
        let ms =
            |d: Option<Duration>| d.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let req = pb::SetQueueRetentionRequest {
            queue: queue.to_owned(),
            retention_ms: ms(retention),
            dead_retention_ms: ms(dead_retention),
        };
        let r = self
            .call(|c| {
                let req = req.clone();
                async move { QueueServiceClient::new(c).set_queue_retention(req).await }
            })
            .await?;
        r.queue.ok_or_else(no_queue)
    }

    /// The worker streams connected to the node in use (of one queue, when given).
    pub async fn list_workers(&self, queue: Option<&str>) -> Result<Vec<pb::WorkerStream>, Error> {
        let r = self
            .call(|c| {
                let queue = queue.unwrap_or_default().to_owned();
                async move {
                    QueueServiceClient::new(c)
                        .list_workers(pb::ListWorkersRequest { queue })
                        .await
                }
            })
            .await?;
        Ok(r.workers)
    }
}

fn no_queue() -> Error {
    Error::from(tonic::Status::internal("the server returned no queue"))
}

fn state_status(state: i32) -> String {
    match pb::JobState::try_from(state) {
        Ok(pb::JobState::Scheduled) => "scheduled".to_owned(),
        _ => "pending".to_owned(),
    }
}

/// A transport failure before the request reached a server (nothing was sent).
pub(crate) fn is_connect_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("connect error") || m.contains("connection refused") || m.contains("dns error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enqueue_carries_an_idempotency_key() {
        let given = EnqueueOptions::new().idempotency_key("order-7").to_proto();
        assert_eq!(given.idempotency_key, "order-7");
        let a = EnqueueOptions::new().to_proto().idempotency_key;
        let b = EnqueueOptions::new().to_proto().idempotency_key;
        assert_eq!(a.len(), 32, "{a}");
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b, "a fresh key per call");
    }

    #[test]
    fn options_map_to_the_contract() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let o = EnqueueOptions::new()
            .priority(pb::Priority::High)
            .max_attempts(5)
            .backoff(Backoff::exponential(
                Duration::from_secs(1),
                Duration::from_secs(60),
            ))
            .scheduled_at(at)
            .delay(Duration::from_secs(10))
            .expire_after(Duration::from_secs(3600))
            .unique_key("nightly")
            .unique_period(Duration::from_secs(60))
            .tag("tenant", "acme")
            .to_proto();
        assert_eq!(o.priority, pb::Priority::High as i32);
        assert_eq!(o.max_attempts, 5);
        let b = o.backoff.expect("backoff");
        assert_eq!(
            (b.kind, b.base_ms, b.cap_ms),
            (pb::BackoffKind::Exponential as i32, 1_000, 60_000)
        );
        assert_eq!(
            o.scheduled_at.map(|t| t.seconds),
            Some(1_800_000_000),
            "scheduled_at wins"
        );
        assert_eq!(o.expire_after_ms, 3_600_000);
        assert_eq!(
            (o.unique_key.as_str(), o.unique_period_ms),
            ("nightly", 60_000)
        );
        assert_eq!(o.tags.get("tenant").map(String::as_str), Some("acme"));
        let empty = EnqueueOptions::new().to_proto();
        assert_eq!(
            pb::EnqueueOptions {
                idempotency_key: String::new(),
                ..empty
            },
            pb::EnqueueOptions::default(),
            "unset options are the server's defaults (but for the fresh idempotency key)"
        );
    }

    #[test]
    fn only_refused_connections_count_as_connect_errors() {
        assert!(is_connect_error(
            "transport error: tcp connect error: Connection refused (os error 111)"
        ));
        assert!(!is_connect_error("server is draining"));
    }
}
