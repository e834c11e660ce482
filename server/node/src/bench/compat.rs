//! The scenarios of the original Corvo worker contract, as workers of the Go Corvo speak it:
//! frames with only the original fields (`request_id`, `queues`, `worker_id`, `hostname`,
//! `lease_duration`, `fetch_count`, `acks` without lease tokens, `enqueues`), sent ping-pong:
//! one frame, wait for its response (matched by `request_id`), then the next. No credits, no
//! lease tokens, no heartbeats, no drain.
//!
//! ```text
//!  compat-enqueue    --producers streams ── frame of --batch enqueues ──▶ server
//!                                        ◀── enqueued_job_ids ──────────
//!  compat-lifecycle  (jobs pre-enqueued on the fast path, not timed)
//!                    --workers streams ── acks of the last frame's jobs + fetch_count ──▶
//!                                      ◀── acked, the jobs leased now (or none, ≤ 100 ms) ─
//! ```
//!
//! Nothing here stops a run on a refused frame or a broken stream: the jobs that were not
//! enqueued or acked are counted as errors, and the report says so. A lifecycle run ends when
//! every job is acked, when no job was acked for [`STALL_MAX`], or after [`RUN_TIME_MAX`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::worker_service_client::WorkerServiceClient;
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

use super::measure::{ErrorTally, RunResult, histogram, record, server_cpu_seconds, share};
use super::modern::{STALL_MAX, enqueue_stream, payload};
use super::{BenchArgs, COMPAT_BATCH_DEFAULT, STREAM_BATCH_DEFAULT, unique_queue};
use crate::client::Conn;

/// The longest a frame's response may take before its stream is given up (the server answers
/// a fetch that finds nothing within 100 ms, so only a broken stream takes this long).
const FRAME_WAIT_MAX: Duration = Duration::from_secs(30);
/// The longest pause a retry hint (`retry_after_ms`) may impose before the next frame.
const RETRY_WAIT_MAX: Duration = Duration::from_secs(1);
/// A lifecycle run ends after this long whatever remains (reported as errors).
const RUN_TIME_MAX: Duration = Duration::from_secs(30 * 60);
/// The lease the workers ask for, in seconds (the original default).
const LEASE_SECS: i32 = 60;
/// What the workers send as their `hostname`.
const HOSTNAME: &str = "corvo-bench";

/// One stream of the original contract: one frame in flight, its response matched by
/// `request_id`.
struct LegacyStream {
    tx: mpsc::Sender<pb::StreamLifecycleRequest>,
    responses: Streaming<pb::StreamLifecycleResponse>,
    last_id: u64,
}

impl LegacyStream {
    async fn open(channel: &Conn) -> anyhow::Result<LegacyStream> {
        let (tx, rx) = mpsc::channel(1);
        let responses = WorkerServiceClient::new(channel.clone())
            .stream_lifecycle(ReceiverStream::new(rx))
            .await
            .map_err(|s| anyhow!("opening a stream: {}: {}", s.code(), s.message()))?
            .into_inner();
        Ok(LegacyStream {
            tx,
            responses,
            last_id: 0,
        })
    }

    /// Sends `frame` under the next request id and waits for its response. Responses to no
    /// frame (request_id 0) are skipped unless they carry an error, which ends the stream.
    async fn call(
        &mut self,
        mut frame: pb::StreamLifecycleRequest,
    ) -> anyhow::Result<pb::StreamLifecycleResponse> {
        self.last_id += 1;
        let id = self.last_id;
        frame.request_id = id;
        self.tx
            .send(frame)
            .await
            .map_err(|_| anyhow!("the stream closed before frame {id} was sent"))?;
        loop {
            let resp = tokio::time::timeout(FRAME_WAIT_MAX, self.responses.message())
                .await
                .map_err(|_| anyhow!("no response to frame {id} within {FRAME_WAIT_MAX:?}"))?
                .map_err(|s| anyhow!("the stream failed: {}: {}", s.code(), s.message()))?
                .ok_or_else(|| anyhow!("the server ended the stream"))?;
            match resp.request_id {
                r if r == id => return Ok(resp),
                0 if resp.error.is_empty() => continue,
                0 => anyhow::bail!("the server ended the stream: {}", resp.error),
                r => anyhow::bail!("a response to frame {r} came while frame {id} was in flight"),
            }
        }
    }
}

/// Waits as long as a refused frame's retry hint asks, bounded by [`RETRY_WAIT_MAX`].
async fn back_off(resp: &pb::StreamLifecycleResponse) {
    if resp.retry_after_ms > 0 {
        let ms = u64::try_from(resp.retry_after_ms).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms).min(RETRY_WAIT_MAX)).await;
    }
}

/// `--producers` streams send frames of `--batch` enqueues, ping-pong, until `--jobs` are
/// sent; ops are the jobs enqueued, latency is one frame's round trip.
pub(super) async fn compat_enqueue(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("ce");
    let body = payload(args.payload_bytes);
    let batch = args.batch.unwrap_or(COMPAT_BATCH_DEFAULT).max(1) as u64;
    let tally = Arc::new(ErrorTally::default());
    let start = corvo_clock::monotonic();
    let mut tasks = Vec::new();
    for p in 0..args.producers {
        let jobs = share(args.jobs, args.producers, p);
        let (channel, queue, body, tally) =
            (channel.clone(), queue.clone(), body.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            let mut enqueued = 0u64;
            let mut stream = match LegacyStream::open(&channel).await {
                Ok(s) => s,
                Err(e) => {
                    tally.stream_failed(&format!("producer {p}: {e:#}"));
                    tally.failed(jobs, "");
                    return (h, enqueued);
                }
            };
            let mut left = jobs;
            while left > 0 {
                let n = batch.min(left);
                left -= n;
                let frame = pb::StreamLifecycleRequest {
                    enqueues: (0..n)
                        .map(|_| pb::LifecycleEnqueueItem {
                            queue: queue.clone(),
                            payload_json: body.clone(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                let t = corvo_clock::monotonic();
                let resp = match stream.call(frame).await {
                    Ok(resp) => resp,
                    Err(e) => {
                        tally.stream_failed(&format!("producer {p}: {e:#}"));
                        tally.failed(n + left, "");
                        break;
                    }
                };
                record(&mut h, t.elapsed());
                let ok = resp
                    .enqueued_job_ids
                    .iter()
                    .filter(|id| !id.is_empty())
                    .count() as u64;
                enqueued += ok.min(n);
                if !resp.error.is_empty() {
                    tally.error_frame(&resp.error);
                    back_off(&resp).await;
                }
                if ok < n {
                    tally.failed(n - ok, "enqueues answered without a job id");
                }
            }
            (h, enqueued)
        }));
    }
    let mut latency = histogram();
    let mut enqueued = 0;
    for t in tasks {
        let (h, n) = t.await.context("a producer task failed")?;
        let _ = latency.add(&h);
        enqueued += n;
    }
    let mut r = RunResult::new(enqueued, start.elapsed(), latency);
    r.errors = tally.failed_jobs();
    tally.fill(&mut r);
    Ok(r)
}

/// What the workers of one lifecycle run share.
struct LifecycleRun {
    queue: String,
    total: u64,
    fetch_count: i32,
    start: Instant,
    /// Jobs handed out by fetches so far: once every job was, workers stop fetching.
    leased: AtomicU64,
    acked: AtomicU64,
    /// When `acked` last grew, in ms since `start`.
    progressed_ms: AtomicU64,
    tally: ErrorTally,
}

impl LifecycleRun {
    /// Whether workers should still fetch: jobs remain unleased and the run is not over.
    fn fetching(&self) -> bool {
        let now_ms = self.start.elapsed().as_millis() as u64;
        let quiet_ms = now_ms.saturating_sub(self.progressed_ms.load(Ordering::Relaxed));
        self.leased.load(Ordering::Relaxed) < self.total
            && quiet_ms <= STALL_MAX.as_millis() as u64
            && self.start.elapsed() < RUN_TIME_MAX
    }

    fn acked(&self, n: u64) {
        if n > 0 {
            self.acked.fetch_add(n, Ordering::Relaxed);
            let now_ms = self.start.elapsed().as_millis() as u64;
            self.progressed_ms.store(now_ms, Ordering::Relaxed);
        }
    }
}

/// `--jobs` pre-enqueued (not timed; the server CPU it took is kept apart), then `--workers`
/// streams each send frames that ack the previous frame's jobs (no lease tokens) and fetch
/// `--batch` more, ping-pong, until every job is acked. Errors are the jobs left unacked.
pub(super) async fn compat_lifecycle(
    channel: &Conn,
    args: &BenchArgs,
) -> anyhow::Result<RunResult> {
    let queue = unique_queue("cl");
    let cpu_before = server_cpu_seconds(&args.client.server).await;
    enqueue_stream(channel, args, &queue, args.jobs, STREAM_BATCH_DEFAULT)
        .await
        .context("pre-enqueueing the jobs")?;
    let cpu_after = server_cpu_seconds(&args.client.server).await;
    let fetch_count = args.batch.unwrap_or(COMPAT_BATCH_DEFAULT).max(1);
    let run = Arc::new(LifecycleRun {
        queue,
        total: args.jobs,
        fetch_count: i32::try_from(fetch_count).unwrap_or(i32::MAX),
        start: corvo_clock::monotonic(),
        leased: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        progressed_ms: AtomicU64::new(0),
        tally: ErrorTally::default(),
    });
    let mut tasks = Vec::new();
    for w in 0..args.workers {
        let (channel, run) = (channel.clone(), run.clone());
        tasks.push(tokio::spawn(async move {
            compat_worker(&channel, &run, w).await
        }));
    }
    let mut latency = histogram();
    for t in tasks {
        let _ = latency.add(&t.await.context("a worker task failed")?);
    }
    let acked = run.acked.load(Ordering::Relaxed);
    let mut r = RunResult::new(acked, run.start.elapsed(), latency);
    r.errors = run.total.saturating_sub(acked);
    run.tally.fill(&mut r);
    if r.errors > 0 && r.first_error.is_none() {
        let why = if run.start.elapsed() >= RUN_TIME_MAX {
            format!("the run ended after {RUN_TIME_MAX:?}")
        } else {
            format!("no job was acked for {STALL_MAX:?}")
        };
        r.first_error = Some(format!("{} jobs not acked: {why}", r.errors));
    }
    r.setup_cpu_s = cpu_after.zip(cpu_before).map(|(a, b)| (a - b).max(0.0));
    Ok(r)
}

/// One worker of the original contract; returns its frames' round trips.
async fn compat_worker(channel: &Conn, run: &LifecycleRun, w: usize) -> Histogram<u64> {
    let mut h = histogram();
    let mut stream = match LegacyStream::open(channel).await {
        Ok(s) => s,
        Err(e) => {
            run.tally.stream_failed(&format!("worker {w}: {e:#}"));
            return h;
        }
    };
    let mut held: Vec<String> = Vec::new();
    loop {
        let fetch = run.fetching();
        if !fetch && held.is_empty() {
            return h;
        }
        let frame = pb::StreamLifecycleRequest {
            queues: vec![run.queue.clone()],
            worker_id: format!("bench-compat-{w}"),
            hostname: HOSTNAME.to_owned(),
            lease_duration: LEASE_SECS,
            fetch_count: if fetch { run.fetch_count } else { 0 },
            acks: held
                .drain(..)
                .map(|job_id| pb::AckBatchItem {
                    job_id,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let t = corvo_clock::monotonic();
        let resp = match stream.call(frame).await {
            Ok(resp) => resp,
            Err(e) => {
                // The jobs it held stay unacked: the run's shortfall counts them.
                run.tally.stream_failed(&format!("worker {w}: {e:#}"));
                return h;
            }
        };
        record(&mut h, t.elapsed());
        run.acked(u64::try_from(resp.acked).unwrap_or(0));
        if !resp.error.is_empty() {
            run.tally.error_frame(&resp.error);
            back_off(&resp).await;
        } else if fetch && resp.jobs.is_empty() {
            run.tally.empty_fetch();
        }
        run.leased
            .fetch_add(resp.jobs.len() as u64, Ordering::Relaxed);
        held.extend(resp.jobs.into_iter().map(|j| j.job_id));
    }
}
