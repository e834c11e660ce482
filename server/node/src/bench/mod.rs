//! `corvo bench`: load against a running server, reporting ops/s, p50/p99/max latency, the
//! coefficient of variation of throughput across runs, errors, and the server's CPU time per
//! op. One op is one job in every scenario.
//!
//! Scenarios of the current contract (`modern`, `paced`):
//! - `enqueue`: unary Enqueue calls from `--concurrency` clients (latency = one call);
//! - `enqueue-stream`: enqueues batched `--batch` (256) per StreamLifecycle frame over
//!   `--concurrency` streams (latency = one frame);
//! - `lifecycle`: jobs pre-enqueued (not timed), then `--concurrency` worker streams with
//!   credits lease and ack them (latency = ack frame round trip);
//! - `combined`: enqueue-stream and lifecycle at the same time on fresh jobs;
//! - `dispatch`: unary enqueues at a fixed rate while `--concurrency` workers wait with
//!   credits; latency = from the enqueue's answer (the job is ready) to a worker receiving it;
//! - `e2e`: the same with `--workers` workers; latency = from the start of the enqueue call
//!   to a worker receiving the job.
//!
//! Both paced scenarios run at `--rate`, by default half of the peak that one unpaced run
//! measures first (the target is stated at half of peak).
//!
//! Scenarios of the original contract, as Go Corvo workers speak it (`compat`): ping-pong
//! frames with only the original fields, no credits and no lease tokens.
//! - `compat-enqueue`: `--producers` streams send frames of `--batch` (64) enqueues;
//! - `compat-lifecycle`: jobs pre-enqueued (not timed), then `--workers` streams each send
//!   frames that ack the previous frame's jobs and fetch `--batch` (64) more.
//!
//! These count what they could not do as errors instead of failing the run.
//!
//! `--prefill-pending N` and `--prefill-finished N` first load the server's state (untimed):
//! N jobs left pending in a queue no scenario reads, and N jobs enqueued, leased and acked.
//! Throughput against the same scenario on an empty state says whether it holds as data grows.
//! The pending load is timed per slice of 100 000 jobs (`pending_slices_jobs_per_s`): its
//! first slice goes into an empty state and its last into one about as large as the load,
//! within one run, so the comparison does not drift with the machine's hour.
//! Every entry also reports the largest resident memory of the server seen during the
//! scenario (sampled from `/metrics` every 250 ms).
//!
//! ```text
//!  run ─▶ for each scenario: [peak run] → read server CPU → --runs runs → read server CPU
//!       ─▶ one report line (text) or entry (JSON) per scenario
//! ```
//!
//! Numbers depend on the machine, durability and on the bench sharing the CPU with the server
//! when both run on one host; `docs/performance.md` records them with their environment.
//! Where the server's `/metrics` is reachable over plain HTTP on the same address, the report
//! also gives the server's CPU time per op (`process_cpu_seconds_total` before and after the
//! runs, untimed set-up included, which the lifecycle scenarios also report on its own):
//! steadier than ops/s on a machine whose speed drifts.

mod compat;
mod measure;
mod modern;
mod paced;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::client::Conn;
use crate::config::{ClientArgs, Output};
use measure::{RunResult, histogram, server_cpu_seconds};

/// Enqueues per frame of the stream scenarios of the current contract and of every
/// pre-enqueue, unless `--batch` says otherwise.
const STREAM_BATCH_DEFAULT: usize = 256;
/// Enqueues or fetched jobs per frame of the original-contract scenarios (the Go bench's
/// default batch).
const COMPAT_BATCH_DEFAULT: usize = 64;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Unary Enqueue calls from --concurrency clients.
    Enqueue,
    /// Enqueues batched per StreamLifecycle frame over --concurrency streams.
    EnqueueStream,
    /// Pre-enqueued jobs leased and acked by --concurrency worker streams with credits.
    Lifecycle,
    /// enqueue-stream and lifecycle at the same time.
    Combined,
    /// Paced unary enqueues; latency from the enqueue's answer to a waiting worker.
    Dispatch,
    /// Original contract: --producers streams of ping-pong enqueue frames.
    CompatEnqueue,
    /// Original contract: --workers streams that ack and fetch --batch per frame.
    CompatLifecycle,
    /// Paced unary enqueues; latency from the enqueue's start to a waiting worker.
    E2e,
    /// Every scenario above, one after the other (each ignores the flags it does not use).
    All,
}

impl Scenario {
    fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(|| format!("{self:?}"), |v| v.get_name().to_owned())
    }

    /// Runs at a rate, by default half of the peak one unpaced run measures first.
    fn paced(self) -> bool {
        matches!(self, Scenario::Dispatch | Scenario::E2e)
    }

    /// Counts jobs it could not move as errors instead of failing.
    fn counts_errors(self) -> bool {
        matches!(
            self,
            Scenario::CompatEnqueue | Scenario::CompatLifecycle | Scenario::E2e
        )
    }
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The load to run.
    #[arg(long, value_enum, default_value = "all")]
    pub scenario: Scenario,
    /// Jobs per run and scenario (paced runs: about 10 s of the rate, at least 100).
    #[arg(long, default_value_t = 20_000)]
    pub jobs: u64,
    /// Concurrent clients or worker streams (enqueue, enqueue-stream, lifecycle, combined,
    /// dispatch; the streams of every pre-enqueue).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Producer streams of compat-enqueue.
    #[arg(long, default_value_t = 4)]
    pub producers: usize,
    /// Worker streams of compat-lifecycle and e2e.
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// Payload size in bytes.
    #[arg(long, default_value_t = 1024)]
    pub payload_bytes: usize,
    /// Enqueues per stream frame (enqueue-stream, combined, lifecycle's pre-enqueue; default
    /// 256), or enqueues and fetched jobs per frame (compat-enqueue, compat-lifecycle;
    /// default 64).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Credits per worker stream (lifecycle, combined, dispatch, e2e).
    #[arg(long, default_value_t = 256)]
    pub credits: i32,
    /// Enqueue rate of dispatch and e2e, jobs/s (default: half of the peak that one
    /// unpaced run of the scenario measures first).
    #[arg(long)]
    pub rate: Option<u64>,
    /// Repetitions of each scenario (for the coefficient of variation).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Before the scenarios (untimed): enqueue this many jobs into a queue no scenario reads,
    /// so the state holds that many pending jobs.
    #[arg(long, default_value_t = 0)]
    pub prefill_pending: u64,
    /// Before the scenarios (untimed): enqueue this many jobs and lease and ack them all, so
    /// the state holds that many finished jobs (until retention removes them).
    #[arg(long, default_value_t = 0)]
    pub prefill_finished: u64,
    /// Every enqueue of enqueue and enqueue-stream carries its own idempotency key, as the
    /// SDKs send (what the keys cost).
    #[arg(long)]
    pub idempotency_keys: bool,
}

impl BenchArgs {
    fn check(&self) -> anyhow::Result<()> {
        for (flag, v) in [
            ("--concurrency", self.concurrency),
            ("--producers", self.producers),
            ("--workers", self.workers),
            ("--runs", self.runs),
            ("--batch", self.batch.unwrap_or(1)),
        ] {
            anyhow::ensure!(v > 0, "{flag} must be at least 1");
        }
        anyhow::ensure!(self.credits > 0, "--credits must be at least 1");
        anyhow::ensure!(self.rate != Some(0), "--rate must be at least 1");
        Ok(())
    }
}

fn unique_queue(tag: &str) -> String {
    format!(
        "bench-{tag}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    args.check()?;
    let channel = crate::client::channel(&args.client).await?;
    let prefill = prefill(&channel, &args).await?;
    if args.client.output == Output::Text && prefill.is_some() {
        println!(
            "prefill: {}",
            prefill.as_ref().map_or(json!(null), |p| p.clone())
        );
    }
    let scenarios: Vec<Scenario> = match args.scenario {
        Scenario::All => vec![
            Scenario::Enqueue,
            Scenario::EnqueueStream,
            Scenario::Lifecycle,
            Scenario::Combined,
            Scenario::Dispatch,
            Scenario::CompatEnqueue,
            Scenario::CompatLifecycle,
            Scenario::E2e,
        ],
        s => vec![s],
    };
    let mut report = Vec::new();
    for scenario in scenarios {
        let mut entry = measure_scenario(&channel, &args, scenario).await?;
        if let Some(p) = &prefill {
            entry["prefill"] = p.clone();
        }
        if args.client.output == Output::Text {
            print_text(&entry);
        }
        report.push(entry);
    }
    if args.client.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// Loads the state as `--prefill-pending` and `--prefill-finished` ask, untimed; returns what
/// it did (jobs, seconds, the server's resident memory after it and the largest seen during
/// it), or `None` if asked nothing.
async fn prefill(channel: &Conn, args: &BenchArgs) -> anyhow::Result<Option<Value>> {
    if args.prefill_pending == 0 && args.prefill_finished == 0 {
        return Ok(None);
    }
    let start = corvo_clock::monotonic();
    let rss = measure::RssSampler::start(&args.client.server);
    let batch = args.batch.unwrap_or(STREAM_BATCH_DEFAULT);
    // The pending load's rate per slice: the first slice is into an empty state, the last
    // into one almost as large as the whole load (the same run: no drift between hours).
    let mut pending_slices = Vec::new();
    if args.prefill_pending > 0 {
        let queue = unique_queue("prefill-pending");
        let mut left = args.prefill_pending;
        while left > 0 {
            let n = left.min(PREFILL_SLICE);
            let slice = corvo_clock::monotonic();
            modern::enqueue_stream(channel, args, &queue, n, batch).await?;
            pending_slices.push((n as f64 / slice.elapsed().as_secs_f64()).round());
            left -= n;
        }
    }
    if args.prefill_finished > 0 {
        // In slices, so the pending backlog stays small while the finished jobs pile up. Each
        // slice has a queue of its own: the previous slice's worker streams may still hold
        // credits on the server while they close, and jobs pushed to them would be handed
        // back as failed (ADR 0031) and wait out a retry backoff.
        let mut left = args.prefill_finished;
        while left > 0 {
            let n = left.min(PREFILL_SLICE);
            let queue = unique_queue("prefill-finished");
            modern::enqueue_stream(channel, args, &queue, n, batch).await?;
            modern::work(channel, args, &queue, n, args.concurrency, None).await?;
            left -= n;
        }
    }
    Ok(Some(json!({
        "pending": args.prefill_pending,
        "finished": args.prefill_finished,
        "seconds": (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "pending_slice_jobs": PREFILL_SLICE,
        "pending_slices_jobs_per_s": pending_slices,
        "server_rss_mb": measure::server_rss_bytes(&args.client.server).await.map(mb),
        "server_rss_max_mb": rss.stop().await.map(mb),
    })))
}

/// Jobs per slice of `--prefill-pending` (timed each) and of `--prefill-finished` (enqueued,
/// then worked).
const PREFILL_SLICE: u64 = 100_000;

/// Bytes to MiB, to 0.1.
fn mb(bytes: f64) -> f64 {
    (bytes / (1 << 20) as f64 * 10.0).round() / 10.0
}

async fn run_once(
    channel: &Conn,
    args: &BenchArgs,
    scenario: Scenario,
    rate: Option<u64>,
) -> anyhow::Result<RunResult> {
    match scenario {
        Scenario::Enqueue => modern::enqueue_unary(channel, args).await,
        Scenario::EnqueueStream => {
            let batch = args.batch.unwrap_or(STREAM_BATCH_DEFAULT);
            modern::enqueue_stream(channel, args, &unique_queue("es"), args.jobs, batch).await
        }
        Scenario::Lifecycle => modern::lifecycle(channel, args).await,
        Scenario::Combined => modern::combined(channel, args).await,
        Scenario::Dispatch | Scenario::E2e => paced::run(channel, args, scenario, rate).await,
        Scenario::CompatEnqueue => compat::compat_enqueue(channel, args).await,
        Scenario::CompatLifecycle => compat::compat_lifecycle(channel, args).await,
        Scenario::All => anyhow::bail!("`all` is expanded into its scenarios before running"),
    }
}

/// µs per op of `seconds` over `ops`, to 0.1 µs.
fn us_per_op(seconds: f64, ops: u64) -> Option<f64> {
    (ops > 0).then(|| (seconds.max(0.0) * 1e6 / ops as f64 * 10.0).round() / 10.0)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Runs `scenario` `--runs` times (after its peak run, when paced) and sums it up as one
/// report entry.
async fn measure_scenario(
    channel: &Conn,
    args: &BenchArgs,
    scenario: Scenario,
) -> anyhow::Result<Value> {
    // (peak measured unpaced, rate used) for the paced scenarios.
    let mut paced: Option<(Option<f64>, u64)> = None;
    if scenario.paced() {
        paced = Some(match args.rate {
            Some(rate) => (None, rate.max(1)),
            None => {
                let r = run_once(channel, args, scenario, None).await?;
                // Whole jobs/s, as reported: the rate is half of the peak the report shows.
                let peak = (r.ops as f64 / r.elapsed.as_secs_f64()).round();
                (Some(peak), ((peak / 2.0) as u64).max(1))
            }
        });
    }
    let rss = measure::RssSampler::start(&args.client.server);
    let cpu_before = server_cpu_seconds(&args.client.server).await;
    let mut runs = Vec::new();
    for _ in 0..args.runs {
        runs.push(run_once(channel, args, scenario, paced.map(|(_, rate)| rate)).await?);
    }
    let cpu_after = server_cpu_seconds(&args.client.server).await;
    let ops: u64 = runs.iter().map(|r| r.ops).sum();
    let cpu_us_per_op = cpu_after
        .zip(cpu_before)
        .and_then(|(a, b)| us_per_op(a - b, ops));
    let setup_cpu: Option<f64> = runs.iter().map(|r| r.setup_cpu_s).sum();
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
    let sum = |f: fn(&RunResult) -> u64| runs.iter().map(f).sum::<u64>();
    let mut entry = json!({
        "scenario": scenario.name(),
        "ops_per_sec": mean.round(),
        "cv": (cv * 1000.0).round() / 1000.0,
        "p50_ms": ms(all.value_at_quantile(0.50)),
        "p99_ms": ms(all.value_at_quantile(0.99)),
        "max_ms": ms(all.max()),
        "runs": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
        "jobs": args.jobs, "concurrency": args.concurrency, "payload_bytes": args.payload_bytes,
        "ops_done": ops,
        "errors": sum(|r| r.errors),
        "server_cpu_us_per_op": cpu_us_per_op,
        "server_rss_max_mb": rss.stop().await.map(mb),
    });
    match scenario {
        Scenario::CompatEnqueue => {
            entry["producers"] = json!(args.producers);
            entry["batch"] = json!(args.batch.unwrap_or(COMPAT_BATCH_DEFAULT));
        }
        Scenario::CompatLifecycle => {
            entry["workers"] = json!(args.workers);
            entry["batch"] = json!(args.batch.unwrap_or(COMPAT_BATCH_DEFAULT));
            entry["empty_fetches"] = json!(sum(|r| r.empty_fetches));
        }
        Scenario::E2e => entry["workers"] = json!(args.workers),
        _ => {}
    }
    if scenario.counts_errors() {
        entry["error_frames"] = json!(sum(|r| r.error_frames));
        entry["failed_streams"] = json!(sum(|r| r.failed_streams));
        entry["first_error"] = json!(runs.iter().find_map(|r| r.first_error.clone()));
    }
    if let Some(setup) = setup_cpu {
        entry["setup_cpu_us_per_op"] = json!(us_per_op(setup, ops));
    }
    if let Some((peak, rate)) = paced {
        entry["rate_per_sec"] = json!(rate);
        entry["peak_per_sec"] = json!(peak.map(f64::round));
    }
    Ok(entry)
}

/// One scenario's lines of the text report.
fn print_text(e: &Value) {
    let name = e["scenario"].as_str().unwrap_or("?");
    let f = |k: &str| e[k].as_f64().unwrap_or(0.0);
    if let Some(rate) = e["rate_per_sec"].as_u64() {
        let label = format!("{name} peak");
        match e["peak_per_sec"].as_f64() {
            Some(p) => println!("{label:<16} {p:>10.0} ops/s  (unpaced); paced at half: {rate}/s"),
            None => println!("{name} paced at {rate}/s"),
        }
    }
    let cpu = match (
        e["server_cpu_us_per_op"].as_f64(),
        e["setup_cpu_us_per_op"].as_f64(),
    ) {
        (Some(c), Some(s)) => format!("  server cpu {c:>6.1} µs/op ({s:.1} of it pre-enqueue)"),
        (Some(c), None) => format!("  server cpu {c:>6.1} µs/op"),
        _ => String::new(),
    };
    let rss = e["server_rss_max_mb"]
        .as_f64()
        .map_or_else(String::new, |m| format!("  rss max {m:.0} MiB"));
    println!(
        "{name:<16} {:>10.0} ops/s  cv {:>5.3}  p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  \
         errors {}{cpu}{rss}",
        f("ops_per_sec"),
        f("cv"),
        f("p50_ms"),
        f("p99_ms"),
        f("max_ms"),
        e["errors"].as_u64().unwrap_or(0),
    );
    let mut detail = Vec::new();
    if let Some(p) = e["producers"].as_u64() {
        detail.push(format!("{p} producers × {} enqueues per frame", e["batch"]));
    }
    if let Some(w) = e["workers"].as_u64() {
        match e["batch"].as_u64() {
            Some(b) => detail.push(format!("{w} workers × {b} fetched per frame")),
            None => detail.push(format!("{w} workers")),
        }
    }
    for (key, what) in [
        ("error_frames", "frames refused"),
        ("failed_streams", "streams failed"),
        ("empty_fetches", "empty fetches"),
    ] {
        if let Some(n) = e[key].as_u64() {
            detail.push(format!("{n} {what}"));
        }
    }
    if let Some(first) = e["first_error"].as_str() {
        detail.push(format!("first error: {first}"));
    }
    if !detail.is_empty() {
        println!("  {}", detail.join("; "));
    }
}
