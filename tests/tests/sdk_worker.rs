//! The Rust SDK's worker runtime (`corvo_sdk::worker`) against a real server: outcomes and
//! credits, lease heartbeats, cancellation, and reconnecting across a server restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use corvo_sdk::worker::{JobContext, Outcome, Worker, WorkerStats};
use corvo_tests::*;
use tokio::sync::Notify;

/// Runs `worker` with `handler` on `queue` until `stop` is notified; the run is bounded by
/// [`WAIT`].
async fn run_until<H, F>(worker: Worker, queue: &str, handler: H, stop: Arc<Notify>) -> WorkerStats
where
    H: Fn(JobContext) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Outcome> + Send + 'static,
{
    within(
        "the worker run",
        worker
            .handle(queue, handler)
            .run(async move { stop.notified().await }),
    )
    .await
    .expect("the worker ran")
}

async fn worker_of(server: &TestServer) -> Worker {
    Worker::from_channel(server.channel().await, None).expect("a worker")
}

/// Jobs run concurrently; completes and fails reach the server with the right results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_outcomes_reach_the_server() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let req = enqueue_req_with("sdk", &format!(r#"{{"i":{i}}}"#), fixed_backoff(10, 1));
        ids.push(enqueue(&mut w, req).await.job_id);
    }
    let finished = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(Notify::new());
    let handler = {
        let (finished, stop) = (finished.clone(), stop.clone());
        move |ctx: JobContext| {
            let (finished, stop) = (finished.clone(), stop.clone());
            async move {
                let payload: serde_json::Value =
                    serde_json::from_str(&ctx.job.payload_json).expect("a JSON payload");
                let i = payload["i"].as_u64().expect("payload {\"i\":n}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                if finished.fetch_add(1, Ordering::SeqCst) + 1 == 12 {
                    stop.notify_one();
                }
                if i.is_multiple_of(3) {
                    Outcome::fail(format!("job {i} fails"))
                } else {
                    Outcome::complete(format!(r#"{{"twice":{}}}"#, i * 2))
                }
            }
        }
    };
    let stats = run_until(
        worker_of(&server).await.concurrency(4),
        "sdk",
        handler,
        stop,
    )
    .await;
    assert_eq!(
        (stats.completed, stats.failed, stats.rejected),
        (8, 4, 0),
        "{stats:?}"
    );
    let mut jobs = server.jobs().await;
    for (i, id) in ids.iter().enumerate() {
        let job = get_job(&mut jobs, id).await;
        let expected = if i.is_multiple_of(3) {
            pb::JobState::Dead
        } else {
            pb::JobState::Completed
        };
        assert_eq!(state_of(&job), expected, "job {i}");
    }
}

/// A job longer than its lease survives on heartbeats; a cancelled job is told to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_heartbeats_keep_long_jobs_and_cancel_reaches_the_handler() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let long = enqueue_job(&mut w, "sdk-long", r#"{"kind":"long"}"#).await;
    let doomed = enqueue_job(&mut w, "sdk-long", r#"{"kind":"doomed"}"#).await;
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(Notify::new());
    let handler = {
        let (saw_cancel, started, finished, stop) = (
            saw_cancel.clone(),
            started.clone(),
            finished.clone(),
            stop.clone(),
        );
        move |mut ctx: JobContext| {
            let (saw_cancel, finished, stop) = (saw_cancel.clone(), finished.clone(), stop.clone());
            started.fetch_add(1, Ordering::SeqCst);
            async move {
                let outcome = if ctx.job.payload_json.contains("long") {
                    // Three one-second leases long: only heartbeats keep it.
                    tokio::time::sleep(Duration::from_millis(3_000)).await;
                    Outcome::complete("{}")
                } else {
                    let told = tokio::time::timeout(WAIT, ctx.cancelled()).await.is_ok();
                    saw_cancel.store(told, Ordering::SeqCst);
                    Outcome::fail("cancelled")
                };
                if finished.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
                    stop.notify_one();
                }
                outcome
            }
        }
    };
    let worker = worker_of(&server).await.concurrency(2).lease_secs(1);
    let run = tokio::spawn(run_until(worker, "sdk-long", handler, stop));
    let mut jobs = server.jobs().await;
    wait_for_job(&mut jobs, &doomed, "active", |j| {
        state_of(j) == pb::JobState::Active
    })
    .await;
    within(
        "CancelJob",
        jobs.cancel_job(pb::CancelJobRequest {
            job_id: doomed.clone(),
        }),
    )
    .await
    .expect("cancel");
    let stats = run.await.expect("worker task");
    assert!(
        saw_cancel.load(Ordering::SeqCst),
        "the handler was told to stop"
    );
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "no job was handed out twice"
    );
    let job = get_job(&mut jobs, &long).await;
    assert_eq!(state_of(&job), pb::JobState::Completed);
    assert_eq!(job.attempt, 1, "the lease never expired");
    assert_eq!(stats.completed, 1, "{stats:?}");
    assert_eq!(
        state_of(&get_job(&mut jobs, &doomed).await),
        pb::JobState::Cancelled
    );
}

/// The server dies (SIGKILL) while a job runs; the worker reconnects to the restarted server
/// and delivers the outcome with the same lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_reconnects_and_delivers_outcomes_across_a_restart() {
    let mut server = TestServer::start().await;
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "sdk-restart", "{}").await;
    let release = Arc::new(Notify::new());
    let running = Arc::new(Notify::new());
    let stop = Arc::new(Notify::new());
    let handler = {
        let (release, running, stop) = (release.clone(), running.clone(), stop.clone());
        move |_ctx: JobContext| {
            let (release, running, stop) = (release.clone(), running.clone(), stop.clone());
            async move {
                running.notify_one();
                release.notified().await;
                stop.notify_one();
                Outcome::complete(r#"{"after":"restart"}"#)
            }
        }
    };
    let worker = worker_of(&server).await;
    let run = tokio::spawn(run_until(worker, "sdk-restart", handler, stop));
    within("the job to start", running.notified()).await;
    server.kill();
    server.restart().await;
    release.notify_one();
    let stats = run.await.expect("worker task");
    assert_eq!(stats.completed, 1, "{stats:?}");
    assert!(stats.reconnects >= 1, "{stats:?}");
    let mut jobs = server.jobs().await;
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&job), pb::JobState::Completed);
    assert_eq!(job.attempt, 1);
}
