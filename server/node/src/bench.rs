//! `corvo bench`: load against a running server, reporting ops/s, p50/p99 latency and the
//! coefficient of variation of throughput across runs.
//!
//! Scenarios:
//! - `enqueue`: unary Enqueue calls from `--concurrency` clients;
//! - `enqueue-stream`: enqueues batched `--batch` per StreamLifecycle frame;
//! - `lifecycle`: jobs pre-enqueued (not timed), then `--concurrency` worker streams with
//!   credits lease and ack them (latency = ack frame round trip);
//! - `combined`: enqueue-stream and lifecycle at the same time on fresh jobs;
//! - `dispatch`: enqueues at a fixed rate while workers wait; latency = from the enqueue's
//!   answer (the job is ready) to a waiting worker receiving it. The rate defaults to half
//!   of the peak measured by one unpaced run first (the target is stated at half of peak).
//!
//! Numbers depend on the machine, durability and on the bench sharing the CPU with the server
//! when both run on one host; `docs/performance.md` records them with their environment.
//! Where the server's `/metrics` is reachable over plain HTTP on the same address, the report
//! also gives the server's CPU time per operation (`process_cpu_seconds_total` before and
//! after the runs): steadier than ops/s on a machine whose speed drifts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::Conn;
use anyhow::Context;
use clap::{Args, ValueEnum};
use corvo_sdk::proto as pb;
use corvo_sdk::proto::worker_service_client::WorkerServiceClient;
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::config::{ClientArgs, Output};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Enqueue,
    EnqueueStream,
    Lifecycle,
    Combined,
    Dispatch,
    All,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[arg(long, value_enum, default_value = "all")]
    pub scenario: Scenario,
    /// Jobs per run and scenario.
    #[arg(long, default_value_t = 20_000)]
    pub jobs: u64,
    /// Concurrent clients or worker streams.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Payload size in bytes.
    #[arg(long, default_value_t = 1024)]
    pub payload_bytes: usize,
    /// Enqueues per stream frame (enqueue-stream, combined, pre-enqueue).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Credits per worker stream.
    #[arg(long, default_value_t = 256)]
    pub credits: i32,
    /// Enqueue rate for `dispatch`, jobs/s (default: half of the peak that one unpaced
    /// dispatch run measures first).
    #[arg(long)]
    pub rate: Option<u64>,
    /// Repetitions of each scenario (for the coefficient of variation).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// Ready → delivered, per job: the producer stamps when the enqueue answered (the job is
/// ready), the worker when it received the job; whichever comes second records the latency
/// (0 when the job arrived before the enqueue's answer, as piggybacked jobs can).
#[derive(Default)]
struct DeliveryClock {
    stamps: Mutex<(HashMap<String, Instant>, HashMap<String, Instant>)>,
    latency: Mutex<Option<Histogram<u64>>>,
}

impl DeliveryClock {
    fn ready(&self, id: String, at: Instant) {
        let mut s = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
        match s.1.remove(&id) {
            Some(_received) => self.record(Duration::ZERO),
            None => {
                s.0.insert(id, at);
            }
        }
    }

    fn received(&self, id: &str, at: Instant) {
        let mut s = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
        match s.0.remove(id) {
            Some(ready) => self.record(at.saturating_duration_since(ready)),
            None => {
                s.1.insert(id.to_owned(), at);
            }
        }
    }

    fn record(&self, d: Duration) {
        let mut h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        record(h.get_or_insert_with(histogram), d);
    }

    fn histogram(&self) -> Histogram<u64> {
        self.latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(histogram)
    }
}

struct RunResult {
    ops: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

/// How long reading the server's `/metrics` may take before the CPU figure is left out.
const METRICS_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The server's `process_cpu_seconds_total`, from `/metrics` on its address; `None` when it
/// cannot be read (TLS, another host's firewall, a server without the process metrics).
async fn server_cpu_seconds(server: &str) -> Option<f64> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let uri: http::Uri = format!("{}/metrics", server.trim_end_matches('/'))
        .parse()
        .ok()?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let read = async {
        let response = client.get(uri).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response
            .into_body()
            .collect()
            .await
            .ok()
            .map(|b| b.to_bytes())
    };
    let body = tokio::time::timeout(METRICS_READ_TIMEOUT, read)
        .await
        .ok()??;
    std::str::from_utf8(&body).ok()?.lines().find_map(|line| {
        line.strip_prefix("process_cpu_seconds_total ")
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Enqueues in flight at once in the `dispatch` scenario.
const DISPATCH_IN_FLIGHT_MAX: usize = 512;

fn histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 3 significant digits: bounded memory whatever the run length.
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).expect("histogram"))
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    let _ = h.record((d.as_micros() as u64).clamp(1, 60_000_000));
}

fn payload(bytes: usize) -> String {
    let filler = "x".repeat(bytes.saturating_sub(12));
    format!("{{\"data\":\"{filler}\"}}")
}

fn unique_queue(tag: &str) -> String {
    format!(
        "bench-{tag}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let channel = crate::client::channel(&args.client).await?;
    let scenarios: Vec<Scenario> = match args.scenario {
        Scenario::All => vec![
            Scenario::Enqueue,
            Scenario::EnqueueStream,
            Scenario::Lifecycle,
            Scenario::Combined,
            Scenario::Dispatch,
        ],
        s => vec![s],
    };
    let mut report = Vec::new();
    for scenario in scenarios {
        // (peak measured unpaced, rate used) for dispatch.
        let mut paced: Option<(Option<f64>, u64)> = None;
        if scenario == Scenario::Dispatch {
            paced = Some(match args.rate {
                Some(rate) => (None, rate.max(1)),
                None => {
                    let r = dispatch(&channel, &args, None).await?;
                    // Whole jobs/s, as reported: the rate is half of the peak the report shows.
                    let peak = (r.ops as f64 / r.elapsed.as_secs_f64()).round();
                    (Some(peak), ((peak / 2.0) as u64).max(1))
                }
            });
        }
        let cpu_before = server_cpu_seconds(&args.client.server).await;
        let mut runs = Vec::new();
        for _ in 0..args.runs.max(1) {
            let r = match scenario {
                Scenario::Enqueue => enqueue_unary(&channel, &args).await?,
                Scenario::EnqueueStream => {
                    enqueue_stream(&channel, &args, &unique_queue("es"), args.jobs).await?
                }
                Scenario::Lifecycle => lifecycle(&channel, &args).await?,
                Scenario::Combined => combined(&channel, &args).await?,
                Scenario::Dispatch => {
                    dispatch(&channel, &args, paced.map(|(_, rate)| rate)).await?
                }
                Scenario::All => unreachable!("expanded above"),
            };
            runs.push(r);
        }
        let cpu_after = server_cpu_seconds(&args.client.server).await;
        let ops: u64 = runs.iter().map(|r| r.ops).sum();
        let cpu_us_per_op = match (cpu_before, cpu_after) {
            (Some(before), Some(after)) if ops > 0 => {
                Some(((after - before).max(0.0) * 1e6 / ops as f64 * 10.0).round() / 10.0)
            }
            _ => None,
        };
        let rates: Vec<f64> = runs
            .iter()
            .map(|r| r.ops as f64 / r.elapsed.as_secs_f64())
            .collect();
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / rates.len() as f64;
        let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
        let mut all = histogram();
        for r in &runs {
            let _ = all.add(&r.latency);
        }
        let name = format!("{scenario:?}").to_lowercase();
        let mut entry = json!({
            "scenario": name,
            "ops_per_sec": mean.round(),
            "cv": (cv * 1000.0).round() / 1000.0,
            "p50_ms": all.value_at_quantile(0.50) as f64 / 1000.0,
            "p99_ms": all.value_at_quantile(0.99) as f64 / 1000.0,
            "runs": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
            "jobs": args.jobs, "concurrency": args.concurrency, "payload_bytes": args.payload_bytes,
            "server_cpu_us_per_op": cpu_us_per_op,
        });
        if let Some((peak, rate)) = paced {
            entry["rate_per_sec"] = json!(rate);
            entry["peak_per_sec"] = json!(peak.map(f64::round));
            if args.client.output == Output::Text {
                match peak {
                    Some(p) => println!(
                        "dispatch peak   {p:>10.0} ops/s  (unpaced); paced at half: {rate}/s"
                    ),
                    None => println!("dispatch paced at {rate}/s"),
                }
            }
        }
        report.push(entry);
        if args.client.output == Output::Text {
            let cpu = cpu_us_per_op
                .map(|c| format!("  server cpu {c:>6.1} µs/op"))
                .unwrap_or_default();
            println!(
                "{name:<15} {:>10.0} ops/s  cv {:>5.3}  p50 {:>8.3} ms  p99 {:>8.3} ms{cpu}",
                mean,
                cv,
                all.value_at_quantile(0.50) as f64 / 1000.0,
                all.value_at_quantile(0.99) as f64 / 1000.0
            );
        }
    }
    if args.client.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

async fn enqueue_unary(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("eu");
    let body = payload(args.payload_bytes);
    let per_client = args.jobs / args.concurrency as u64;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let mut client = WorkerServiceClient::new(channel.clone());
        let (queue, body) = (queue.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            for _ in 0..per_client {
                let t = Instant::now();
                let req = pb::EnqueueRequest {
                    queue: queue.clone(),
                    payload_json: body.clone(),
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
    Ok(RunResult {
        ops: per_client * args.concurrency as u64,
        elapsed: start.elapsed(),
        latency,
    })
}

/// Enqueues `jobs` into `queue` over `--concurrency` streams, `--batch` per frame.
async fn enqueue_stream(
    channel: &Conn,
    args: &BenchArgs,
    queue: &str,
    jobs: u64,
) -> anyhow::Result<RunResult> {
    let body = payload(args.payload_bytes);
    let per_stream = jobs / args.concurrency as u64;
    let batch = args.batch.max(1) as u64;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let mut client = WorkerServiceClient::new(channel.clone());
        let (queue, body) = (queue.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let (tx, rx) = mpsc::channel(4);
            let mut h = histogram();
            let mut sent = 0u64;
            let frame = |id: u64, n: u64| pb::StreamLifecycleRequest {
                request_id: id,
                enqueues: (0..n)
                    .map(|_| pb::LifecycleEnqueueItem {
                        queue: queue.clone(),
                        payload_json: body.clone(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            };
            let n = batch.min(per_stream - sent);
            tx.send(frame(1, n)).await?;
            let mut t = Instant::now();
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
                    t = Instant::now();
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
    Ok(RunResult {
        ops: per_stream * args.concurrency as u64,
        elapsed: start.elapsed(),
        latency,
    })
}

/// Worker streams that ack every job they receive until `total` jobs are done.
async fn work(
    channel: &Conn,
    args: &BenchArgs,
    queue: &str,
    total: u64,
    clock: Option<Arc<DeliveryClock>>,
) -> anyhow::Result<Histogram<u64>> {
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let mut client = WorkerServiceClient::new(channel.clone());
        let (queue, done, clock) = (queue.to_owned(), done.clone(), clock.clone());
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
            let mut pending: HashMap<u64, Instant> = HashMap::new();
            while done.load(std::sync::atomic::Ordering::Relaxed) < total {
                let resp = tokio::select! {
                    r = responses.message() => r?.context("worker stream ended")?,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                };
                if let Some(t) = pending.remove(&resp.request_id) {
                    record(&mut ack_rtt, t.elapsed());
                    done.fetch_add(resp.acked as u64, std::sync::atomic::Ordering::Relaxed);
                }
                if resp.jobs.is_empty() {
                    continue;
                }
                if let Some(clock) = &clock {
                    let now = Instant::now();
                    for j in &resp.jobs {
                        clock.received(&j.job_id, now);
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
                let n = acks.len() as i32;
                pending.insert(id, Instant::now());
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

async fn lifecycle(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("lc");
    let jobs = args.jobs / args.concurrency as u64 * args.concurrency as u64;
    enqueue_stream(channel, args, &queue, jobs).await?;
    let start = Instant::now();
    let latency = work(channel, args, &queue, jobs, None).await?;
    Ok(RunResult {
        ops: jobs,
        elapsed: start.elapsed(),
        latency,
    })
}

async fn combined(channel: &Conn, args: &BenchArgs) -> anyhow::Result<RunResult> {
    let queue = unique_queue("cb");
    let jobs = args.jobs / args.concurrency as u64 * args.concurrency as u64;
    let start = Instant::now();
    let (produced, worked) = tokio::join!(
        enqueue_stream(channel, args, &queue, jobs),
        work(channel, args, &queue, jobs, None)
    );
    let produced = produced?;
    let mut latency = worked?;
    let _ = latency.add(&produced.latency);
    // Each job is one enqueue and one lease+ack: count jobs completed end to end.
    Ok(RunResult {
        ops: jobs,
        elapsed: start.elapsed(),
        latency,
    })
}

/// Enqueues at `rate` jobs/s (`None`: as fast as [`DISPATCH_IN_FLIGHT_MAX`] calls in flight
/// allow) while workers wait; latency is ready → delivered.
async fn dispatch(
    channel: &Conn,
    args: &BenchArgs,
    rate: Option<u64>,
) -> anyhow::Result<RunResult> {
    let queue = unique_queue("dp");
    // Paced runs last at most about ten seconds.
    let jobs = rate.map_or(args.jobs, |r| args.jobs.min(r.saturating_mul(10)).max(100));
    let clock = Arc::new(DeliveryClock::default());
    let body = payload(args.payload_bytes);
    let start = Instant::now();
    let producer = {
        let (clock, queue, channel) = (clock.clone(), queue.clone(), channel.clone());
        async move {
            // Each enqueue runs on its own task so a slow answer never delays the next send;
            // the semaphore bounds how many are in flight.
            let in_flight = Arc::new(tokio::sync::Semaphore::new(DISPATCH_IN_FLIGHT_MAX));
            let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r as f64));
            let t0 = Instant::now();
            let mut tasks = Vec::with_capacity(jobs as usize);
            for i in 0..jobs {
                if let Some(interval) = interval {
                    tokio::time::sleep_until((t0 + interval.mul_f64(i as f64)).into()).await;
                }
                let permit = in_flight.clone().acquire_owned().await?;
                let mut client = WorkerServiceClient::new(channel.clone());
                let (clock, queue, body) = (clock.clone(), queue.clone(), body.clone());
                tasks.push(tokio::spawn(async move {
                    let req = pb::EnqueueRequest {
                        queue,
                        payload_json: body,
                        ..Default::default()
                    };
                    let resp = client.enqueue(req).await?.into_inner();
                    clock.ready(resp.job_id, Instant::now());
                    drop(permit);
                    anyhow::Ok(())
                }));
            }
            for t in tasks {
                t.await??;
            }
            anyhow::Ok(())
        }
    };
    let (p, w) = tokio::join!(
        producer,
        work(channel, args, &queue, jobs, Some(clock.clone()))
    );
    p?;
    w?;
    Ok(RunResult {
        ops: jobs,
        elapsed: start.elapsed(),
        latency: clock.histogram(),
    })
}
