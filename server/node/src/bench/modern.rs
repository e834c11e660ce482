//! The scenarios of the current contract: unary enqueues, enqueues batched on streams, and
//! worker streams that take pushed jobs against credits and ack them with their lease tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::worker_service_client::WorkerServiceClient;
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::measure::{Probe, RunResult, histogram, record, server_cpu_seconds, share};
use super::{BenchArgs, STREAM_BATCH_DEFAULT, unique_queue};
use crate::client::Conn;

/// A worker run stops with an error when no job was acked for this long: far longer than
/// any frame takes under load, so it only fires when jobs went missing.
pub(super) const STALL_MAX: Duration = Duration::from_secs(15);
/// How often a waiting worker stream looks up from its responses to check the run's state.
const WORKER_POLL: Duration = Duration::from_millis(200);

/// A JSON payload of about `bytes` bytes.
pub(super) fn payload(bytes: usize) -> String {
    let filler = "x".repeat(bytes.saturating_sub(12));
    format!("{{\"data\":\"{filler}\"}}")
}

/// Enqueue options carrying a key no other enqueue of the run sends.
fn idempotency(queue: &str, client: usize, n: u64) -> pb::EnqueueOptions {
    pb::EnqueueOptions {
        idempotency_key: format!("{queue}-{client}-{n}"),
        ..Default::default()
    }
}

pub(super) async fn enqueue_unary(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("eu");
    let body = payload(args.payload_bytes);
    let start = corvo_clock::monotonic();
    let mut tasks = Vec::new();
    for c in 0..args.concurrency {
        let mut client = WorkerServiceClient::new(channel.clone());
        let (queue, body) = (queue.clone(), body.clone());
        let calls = share(args.jobs, args.concurrency, c);
        let keyed = args.idempotency_keys;
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            for i in 0..calls {
                let t = corvo_clock::monotonic();
                let req = pb::EnqueueRequest {
                    queue: queue.clone(),
                    payload_json: body.clone(),
                    options: keyed.then(|| idempotency(&queue, c, i)),
                    ..Default::default()
                };
                client.enqueue(req).await.context("enqueue")?;
                record(&mut h, t.elapsed());
            }
            anyhow::Ok(h)
        }));
    }
    let mut latency = histogram();
    for t in tasks {
        let _ = latency.add(&t.await??);
    }
    Ok(RunResult::new(args.jobs, start.elapsed(), latency))
}

/// Enqueues `jobs` into `queue` over `--concurrency` streams, `batch` per frame, each stream
/// waiting for a frame's answer before it sends the next.
pub(super) async fn enqueue_stream(
    channel: &Conn,
    args: &BenchArgs,
    queue: &str,
    jobs: u64,
    batch: usize,
) -> anyhow::Result<RunResult> {
    let body = payload(args.payload_bytes);
    let batch = batch.max(1) as u64;
    let start = corvo_clock::monotonic();
    let mut tasks = Vec::new();
    for s in 0..args.concurrency {
        let mut client = WorkerServiceClient::new(channel.clone());
        let (queue, body) = (queue.to_owned(), body.clone());
        let per_stream = share(jobs, args.concurrency, s);
        if per_stream == 0 {
            continue;
        }
        let keyed = args.idempotency_keys;
        tasks.push(tokio::spawn(async move {
            let (tx, rx) = mpsc::channel(4);
            let mut h = histogram();
            let mut sent = 0u64;
            let frame = |id: u64, n: u64| pb::StreamLifecycleRequest {
                request_id: id,
                enqueues: (0..n)
                    .map(|k| pb::LifecycleEnqueueItem {
                        queue: queue.clone(),
                        payload_json: body.clone(),
                        options: keyed.then(|| idempotency(&queue, s, id * batch + k)),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            };
            let n = batch.min(per_stream - sent);
            tx.send(frame(1, n)).await?;
            let mut t = corvo_clock::monotonic();
            let mut responses = client
                .stream_lifecycle(ReceiverStream::new(rx))
                .await?
                .into_inner();
            let mut id = 1;
            while sent < per_stream {
                let resp = responses.message().await?.context("stream ended")?;
                if !resp.error.is_empty() {
                    anyhow::bail!("enqueue frame failed: {}", resp.error);
                }
                record(&mut h, t.elapsed());
                sent += resp.enqueued_job_ids.len() as u64;
                if sent < per_stream {
                    id += 1;
                    t = corvo_clock::monotonic();
                    tx.send(frame(id, batch.min(per_stream - sent))).await?;
                }
            }
            anyhow::Ok(h)
        }));
    }
    let mut latency = histogram();
    for t in tasks {
        let _ = latency.add(&t.await??);
    }
    Ok(RunResult::new(jobs, start.elapsed(), latency))
}

/// `streams` worker streams with `--credits` each that ack every job they receive (with its
/// lease token, granting a credit back per ack) until `total` jobs are acked; `probe` sees
/// every receipt. Returns the ack frames' round trips.
pub(super) async fn work(
    channel: &Conn,
    args: &BenchArgs,
    queue: &str,
    total: u64,
    streams: usize,
    probe: Option<Arc<dyn Probe>>,
) -> anyhow::Result<Histogram<u64>> {
    let done = Arc::new(AtomicU64::new(0));
    // Acks the server refused, and the first refusal: a stall names them.
    let refused = Arc::new(std::sync::Mutex::new((0u64, None::<String>)));
    let start = corvo_clock::monotonic();
    // When `done` last grew, in ms since `start` (for the stall check).
    let progressed_ms = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..streams {
        let mut client = WorkerServiceClient::new(channel.clone());
        let (queue, done, probe) = (queue.to_owned(), done.clone(), probe.clone());
        let refused = refused.clone();
        let progressed_ms = progressed_ms.clone();
        let credits = args.credits;
        tasks.push(tokio::spawn(async move {
            let (tx, rx) = mpsc::channel(64);
            let mut ack_rtt = histogram();
            let base = pb::StreamLifecycleRequest {
                queues: vec![queue.clone()],
                worker_id: format!("bench-{w}"),
                ..Default::default()
            };
            tx.send(pb::StreamLifecycleRequest {
                request_id: 1,
                credits,
                ..base.clone()
            })
            .await?;
            let mut responses = client
                .stream_lifecycle(ReceiverStream::new(rx))
                .await?
                .into_inner();
            let mut id = 1u64;
            let mut pending: std::collections::HashMap<u64, Instant> = Default::default();
            loop {
                let acked = done.load(Ordering::Relaxed);
                if acked >= total {
                    break;
                }
                let now_ms = start.elapsed().as_millis() as u64;
                let quiet_ms = now_ms.saturating_sub(progressed_ms.load(Ordering::Relaxed));
                if quiet_ms > STALL_MAX.as_millis() as u64 {
                    let (n, first) = refused.lock().map(|r| r.clone()).unwrap_or_default();
                    anyhow::bail!(
                        "workers stalled: {acked} of {total} jobs acked, none for {STALL_MAX:?}; \
                         {n} acks refused{}",
                        first.map_or(String::new(), |e| format!(", the first: {e}"))
                    );
                }
                let resp = tokio::select! {
                    r = responses.message() => r?.context("worker stream ended")?,
                    _ = tokio::time::sleep(WORKER_POLL) => continue,
                };
                if !resp.error.is_empty() {
                    anyhow::bail!("worker frame failed: {}", resp.error);
                }
                let errors: Vec<&pb::ItemResult> = resp
                    .ack_results
                    .iter()
                    .filter(|r| !r.message.is_empty())
                    .collect();
                if let (Some(e), Ok(mut r)) = (errors.first(), refused.lock()) {
                    r.0 += errors.len() as u64;
                    r.1.get_or_insert_with(|| format!("{}: {}", e.job_id, e.message));
                }
                if let Some(t) = pending.remove(&resp.request_id) {
                    record(&mut ack_rtt, t.elapsed());
                    if resp.acked > 0 {
                        done.fetch_add(resp.acked as u64, Ordering::Relaxed);
                        progressed_ms.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
                    }
                }
                if resp.jobs.is_empty() {
                    continue;
                }
                if let Some(probe) = &probe {
                    let now = corvo_clock::monotonic();
                    for j in &resp.jobs {
                        probe.received(j, now);
                    }
                }
                id += 1;
                let acks: Vec<_> = resp
                    .jobs
                    .iter()
                    .map(|j| pb::AckBatchItem {
                        job_id: j.job_id.clone(),
                        lease_token: j.lease_token,
                        ..Default::default()
                    })
                    .collect();
                let n = i32::try_from(acks.len()).unwrap_or(i32::MAX);
                pending.insert(id, corvo_clock::monotonic());
                tx.send(pb::StreamLifecycleRequest {
                    request_id: id,
                    acks,
                    credits: n,
                    ..base.clone()
                })
                .await?;
            }
            drop(tx);
            anyhow::Ok(ack_rtt)
        }));
    }
    let mut ack_rtt = histogram();
    for t in tasks {
        let _ = ack_rtt.add(&t.await??);
    }
    Ok(ack_rtt)
}

/// Jobs pre-enqueued (not timed; the server CPU it took is kept apart), then `--concurrency`
/// worker streams with credits lease and ack them.
pub(super) async fn lifecycle(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("lc");
    let batch = args.batch.unwrap_or(STREAM_BATCH_DEFAULT);
    let cpu_before = server_cpu_seconds(&args.client.server).await;
    enqueue_stream(channel, args, &queue, args.jobs, batch).await?;
    let cpu_after = server_cpu_seconds(&args.client.server).await;
    let start = corvo_clock::monotonic();
    let latency = work(channel, args, &queue, args.jobs, args.concurrency, None).await?;
    let mut r = RunResult::new(args.jobs, start.elapsed(), latency);
    r.setup_cpu_s = cpu_after.zip(cpu_before).map(|(a, b)| (a - b).max(0.0));
    Ok(r)
}

pub(super) async fn combined(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("cb");
    let batch = args.batch.unwrap_or(STREAM_BATCH_DEFAULT);
    let start = corvo_clock::monotonic();
    let (produced, worked) = tokio::join!(
        enqueue_stream(channel, args, &queue, args.jobs, batch),
        work(channel, args, &queue, args.jobs, args.concurrency, None)
    );
    let produced = produced?;
    let mut latency = worked?;
    let _ = latency.add(&produced.latency);
    // Each job is one enqueue and one lease+ack: count jobs completed end to end.
    Ok(RunResult::new(args.jobs, start.elapsed(), latency))
}
