//! The scenarios that time single jobs on their way to a waiting worker: unary enqueues at a
//! fixed rate (by default half of the peak that one unpaced run measures first) while worker
//! streams with credits wait on the queue.
//!
//! - `dispatch`: from the enqueue's answer (the job is ready) to a worker receiving it;
//! - `e2e`: from the start of the enqueue call to a worker receiving it, matched by the
//!   sequence number the payload carries (the worker can receive a job before its enqueue
//!   has answered).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::worker_service_client::WorkerServiceClient;

use super::measure::{
    DeliveryClock, EnqueueClock, Probe, RunResult, payload_filler, sequenced_payload,
};
use super::modern::work;
use super::{BenchArgs, Scenario, unique_queue};
use crate::client::Conn;

/// Enqueues in flight at once (the unpaced peak run sends as fast as this allows).
const IN_FLIGHT_MAX: usize = 512;
/// Jobs in one run: the producer holds a task and the e2e clock a stamp per job.
const PACED_JOBS_MAX: u64 = 1_000_000;
/// A paced run lasts about this long (fewer jobs than `--jobs` at low rates).
const PACED_RUN: Duration = Duration::from_secs(10);
/// The fewest jobs of a paced run, however low the rate.
const PACED_JOBS_MIN: u64 = 100;

/// Jobs of one run: `--jobs` unpaced, about [`PACED_RUN`] of the rate when paced.
pub(super) fn run_jobs(args: &BenchArgs, rate: Option<u64>) -> u64 {
    let jobs = args.jobs.min(PACED_JOBS_MAX);
    rate.map_or(jobs, |r| {
        jobs.min(r.saturating_mul(PACED_RUN.as_secs()))
            .max(PACED_JOBS_MIN)
    })
}

/// One run of `scenario` (dispatch or e2e) at `rate` jobs/s, `None` for the unpaced peak run.
pub(super) async fn run(
    channel: &Conn,
    args: &BenchArgs,
    scenario: Scenario,
    rate: Option<u64>,
) -> anyhow::Result<RunResult> {
    let jobs = run_jobs(args, rate);
    let (tag, probe, streams): (_, Arc<dyn Probe>, _) = match scenario {
        Scenario::E2e => ("e2e", Arc::new(EnqueueClock::new(jobs)), args.workers),
        _ => ("dp", Arc::new(DeliveryClock::default()), args.concurrency),
    };
    let queue = unique_queue(tag);
    let start = corvo_clock::monotonic();
    let (p, w) = tokio::join!(
        produce(
            channel,
            &queue,
            jobs,
            rate,
            args.payload_bytes,
            probe.clone()
        ),
        work(channel, args, &queue, jobs, streams, Some(probe.clone()))
    );
    p?;
    w?;
    let mut r = RunResult::new(jobs, start.elapsed(), probe.histogram());
    r.errors = probe.unmatched();
    if r.errors > 0 {
        r.first_error = Some(format!(
            "{} receipts matched no enqueue (delivered twice or payload altered)",
            r.errors
        ));
    }
    Ok(r)
}

/// Sends `jobs` unary enqueues to `queue` at `rate` jobs/s (`None`: as fast as
/// [`IN_FLIGHT_MAX`] calls in flight allow), each payload carrying its sequence number.
async fn produce(
    channel: &Conn,
    queue: &str,
    jobs: u64,
    rate: Option<u64>,
    payload_bytes: usize,
    probe: Arc<dyn Probe>,
) -> anyhow::Result<()> {
    // Each enqueue runs on its own task so a slow answer never delays the next send; the
    // semaphore bounds how many are in flight.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT_MAX));
    let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r.max(1) as f64));
    let filler = payload_filler(payload_bytes);
    let t0 = corvo_clock::monotonic();
    let mut tasks = Vec::with_capacity(jobs as usize);
    for seq in 0..jobs {
        if let Some(interval) = interval {
            tokio::time::sleep_until((t0 + interval.mul_f64(seq as f64)).into()).await;
        }
        let permit = in_flight.clone().acquire_owned().await?;
        let mut client = WorkerServiceClient::new(channel.clone());
        let req = pb::EnqueueRequest {
            queue: queue.to_owned(),
            payload_json: sequenced_payload(seq, &filler),
            ..Default::default()
        };
        let probe = probe.clone();
        tasks.push(tokio::spawn(async move {
            probe.enqueue_started(seq, corvo_clock::monotonic());
            let resp = client.enqueue(req).await.context("enqueue")?.into_inner();
            probe.enqueue_answered(resp.job_id, corvo_clock::monotonic());
            drop(permit);
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
