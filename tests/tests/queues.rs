//! QueueService: pause and resume on every path (unary fetches, batch fetches, worker streams)
//! and across a leader failover, drain, clear, destroy, concurrency and rate limits enforced
//! by the dispatcher (sampled from the state), the worker roster, the queue CLI, and bad input
//! that changes nothing.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use corvo_tests::cluster::{kill_leader_and_fail_over, leader_index, three_nodes};
use corvo_tests::observe::{corvo_cli, scrape};
use corvo_tests::*;
use tonic::Code;

async fn get_queue(queues: &mut QueueClient, name: &str) -> pb::Queue {
    within(
        "GetQueue",
        queues.get_queue(pb::GetQueueRequest { queue: name.into() }),
    )
    .await
    .unwrap_or_else(|e| panic!("GetQueue {name}: {e}"))
    .into_inner()
    .queue
    .expect("a queue")
}

fn count(q: &pb::Queue, state: pb::JobState) -> u64 {
    q.counts
        .iter()
        .find(|c| c.state == i32::from(state))
        .map_or(0, |c| c.count)
}

async fn pause(queues: &mut QueueClient, name: &str) -> pb::Queue {
    within(
        "PauseQueue",
        queues.pause_queue(pb::PauseQueueRequest { queue: name.into() }),
    )
    .await
    .expect("PauseQueue")
    .into_inner()
    .queue
    .expect("a queue")
}

async fn resume(queues: &mut QueueClient, name: &str) -> pb::Queue {
    within(
        "ResumeQueue",
        queues.resume_queue(pb::ResumeQueueRequest { queue: name.into() }),
    )
    .await
    .expect("ResumeQueue")
    .into_inner()
    .queue
    .expect("a queue")
}

async fn fetch_batch(w: &mut WorkerClient, queue: &str, count: i32, wait_ms: i32) -> usize {
    within(
        "FetchBatch",
        w.fetch_batch(pb::FetchBatchRequest {
            queues: vec![queue.into()],
            worker_id: "batch-worker".into(),
            hostname: "localhost".into(),
            lease_duration: 0,
            count,
            max_wait_ms: Some(wait_ms),
        }),
    )
    .await
    .expect("FetchBatch")
    .into_inner()
    .jobs
    .len()
}

async fn ack(w: &mut WorkerClient, job_id: &str, lease_token: u64) {
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: job_id.into(),
            lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
}

/// Polls GetOperation until the operation is no longer running.
async fn finished_operation(jobs: &mut JobClient, id: &str) -> pb::Operation {
    eventually(&format!("operation {id} finishes"), || {
        let mut jobs = jobs.clone();
        async move {
            let op = jobs
                .get_operation(pb::GetOperationRequest {
                    operation_id: id.into(),
                })
                .await
                .ok()?
                .into_inner()
                .operation?;
            (op.state != i32::from(pb::OperationState::Running)).then_some(op)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_a_paused_queue_hands_out_nothing_on_any_path_and_resume_hands_out_again() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut queues = server.queues().await;
    let q = "paused-mail";
    let first = enqueue_job(&mut w, q, r#"{"n":0}"#).await;

    let paused = pause(&mut queues, q).await;
    assert!(paused.paused);
    assert!(pause(&mut queues, q).await.paused, "pausing twice is fine");
    // Enqueues are still accepted.
    let second = enqueue_job(&mut w, q, r#"{"n":1}"#).await;
    let mut stream = Lifecycle::open(&mut w).await;
    // Two credits: the two jobs below; later jobs are for unary fetches.
    let granted = stream.call(credit_frame(&[q], 2)).await;
    assert!(granted.error.is_empty(), "{granted:?}");

    assert!(fetch(&mut w, q, 300).await.is_none(), "unary Fetch");
    assert_eq!(fetch_batch(&mut w, q, 10, 300).await, 0, "FetchBatch");
    let legacy = stream
        .call(pb::StreamLifecycleRequest {
            queues: vec![q.into()],
            fetch_count: 5,
            ..Default::default()
        })
        .await;
    assert!(legacy.jobs.is_empty(), "a stream's fetch_count: {legacy:?}");
    assert!(
        stream
            .recv_within(Duration::from_millis(700))
            .await
            .is_none(),
        "nothing is pushed to a stream with credits"
    );
    let now = get_queue(&mut queues, q).await;
    assert_eq!(count(&now, pb::JobState::Pending), 2);
    assert_eq!(count(&now, pb::JobState::Active), 0);
    assert!(now.paused);

    // Resume: the waiting stream gets both jobs, in order, without asking again.
    assert!(!resume(&mut queues, q).await.paused);
    let pushed = stream.pushed_jobs(2).await;
    let ids: Vec<&str> = pushed.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    // And a unary fetch works again.
    let third = enqueue_job(&mut w, q, r#"{"n":2}"#).await;
    assert_eq!(fetch_some(&mut w, q).await.job_id, third);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t15_a_pause_and_a_concurrency_limit_hold_across_a_leader_failover() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let q = "failover-paused";
    let mut w = nodes[leader].worker().await;
    let ids = [
        enqueue_job(&mut w, q, "{}").await,
        enqueue_job(&mut w, q, "{}").await,
    ];
    pause(&mut nodes[leader].queues().await, q).await;
    // And a concurrency limit of 2, reached by two running jobs.
    let capped = "failover-capped";
    within(
        "SetQueueLimits",
        nodes[leader]
            .queues()
            .await
            .set_queue_limits(pb::SetQueueLimitsRequest {
                queue: capped.into(),
                concurrency: 2,
                ..Default::default()
            }),
    )
    .await
    .expect("SetQueueLimits");
    for i in 0..3 {
        enqueue_job(&mut w, capped, &format!(r#"{{"n":{i}}}"#)).await;
    }
    let running = [
        fetch_some(&mut w, capped).await,
        fetch_some(&mut w, capped).await,
    ];
    assert!(
        fetch(&mut w, capped, 200).await.is_none(),
        "the limit holds"
    );

    let new_leader = kill_leader_and_fail_over(&mut nodes, leader, "pause survives").await;
    let mut w = nodes[new_leader].worker().await;
    let mut queues = nodes[new_leader].queues().await;
    assert!(get_queue(&mut queues, q).await.paused, "the pause is state");
    assert!(
        fetch(&mut w, q, 500).await.is_none(),
        "the new leader hands out nothing"
    );
    // A follower forwards to the new leader: the same answer.
    let follower = (0..3)
        .find(|&i| i != leader && i != new_leader)
        .expect("a third node");
    let mut fw = nodes[follower].worker().await;
    assert!(fetch(&mut fw, q, 300).await.is_none(), "nor via a follower");

    resume(&mut queues, q).await;
    let got = fetch_some(&mut w, q).await;
    assert_eq!(got.job_id, ids[0]);

    // The new leader counts the two jobs still running: nothing more starts until one ends.
    assert_eq!(
        count(&get_queue(&mut queues, capped).await, pb::JobState::Active),
        2
    );
    assert!(
        fetch(&mut w, capped, 300).await.is_none(),
        "the limit holds after failover"
    );
    ack(&mut w, &running[0].job_id, running[0].lease_token).await;
    let third = fetch_some(&mut w, capped).await;
    assert!(running.iter().all(|r| r.job_id != third.job_id));
    assert!(
        fetch(&mut w, capped, 200).await.is_none(),
        "two active again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_drain_pauses_waits_for_the_active_jobs_and_stays_paused() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut queues = server.queues().await;
    let q = "draining";
    for i in 0..3 {
        enqueue_job(&mut w, q, &format!(r#"{{"n":{i}}}"#)).await;
    }
    let running = fetch_some(&mut w, q).await;

    // A short wait: the active job is still running.
    let r = within(
        "DrainQueue",
        queues.drain_queue(pb::DrainQueueRequest {
            queue: q.into(),
            wait_ms: 200,
        }),
    )
    .await
    .expect("DrainQueue")
    .into_inner();
    assert!(!r.drained);
    assert_eq!(r.active, 1);
    assert!(r.queue.expect("a queue").paused);
    assert!(
        fetch(&mut w, q, 200).await.is_none(),
        "draining hands out nothing"
    );

    // The job finishes while a longer drain waits: it returns drained.
    let mut acker = server.worker().await;
    let (id, token) = (running.job_id.clone(), running.lease_token);
    let finisher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ack(&mut acker, &id, token).await;
    });
    let started = Instant::now();
    let r = within(
        "DrainQueue",
        queues.drain_queue(pb::DrainQueueRequest {
            queue: q.into(),
            wait_ms: 20_000,
        }),
    )
    .await
    .expect("DrainQueue")
    .into_inner();
    finisher.await.expect("the ack");
    assert!(r.drained, "{r:?}");
    assert_eq!(r.active, 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it returned when drained"
    );
    let after = get_queue(&mut queues, q).await;
    assert!(after.paused, "a drained queue stays paused");
    assert_eq!(count(&after, pb::JobState::Active), 0);
    assert_eq!(count(&after, pb::JobState::Pending), 2);
    assert!(fetch(&mut w, q, 300).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_clear_removes_waiting_jobs_from_state_view_and_fetches() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut queues = server.queues().await;
    let q = "clearing";
    // active, completed, then pending, scheduled and retrying jobs.
    let active_id = enqueue_job(&mut w, q, r#"{"k":"active"}"#).await;
    let active = fetch_some(&mut w, q).await;
    assert_eq!(active.job_id, active_id);
    let done_id = enqueue_job(&mut w, q, r#"{"k":"done"}"#).await;
    let done = fetch_some(&mut w, q).await;
    ack(&mut w, &done.job_id, done.lease_token).await;
    let retrying_id = enqueue(
        &mut w,
        enqueue_req_with(q, r#"{"k":"retrying"}"#, fixed_backoff(3_600_000, 5)),
    )
    .await
    .job_id;
    let leased = fetch_some(&mut w, q).await;
    assert_eq!(leased.job_id, retrying_id);
    within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: retrying_id.clone(),
            error: "later".into(),
            lease_token: leased.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Fail");
    let scheduled_id = enqueue(
        &mut w,
        enqueue_req_with(
            q,
            r#"{"k":"scheduled"}"#,
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(now_ms() + 3_600_000)),
                ..Default::default()
            },
        ),
    )
    .await
    .job_id;
    let pending: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(enqueue_job(&mut w, q, &format!(r#"{{"p":{i}}}"#)).await);
        }
        v
    };
    let before = get_queue(&mut queues, q).await;
    assert_eq!(count(&before, pb::JobState::Pending), 3);
    assert_eq!(count(&before, pb::JobState::Scheduled), 1);
    assert_eq!(count(&before, pb::JobState::Retrying), 1);

    let cleared = within(
        "ClearQueue",
        queues.clear_queue(pb::ClearQueueRequest { queue: q.into() }),
    )
    .await
    .expect("ClearQueue")
    .into_inner();
    assert_eq!(cleared.removed, 5, "{cleared:?}");
    assert!(cleared.operation_id.is_empty());

    let removed: Vec<&String> = pending
        .iter()
        .chain([&scheduled_id, &retrying_id])
        .collect();
    for id in &removed {
        let r = jobs
            .get_job(pb::GetJobRequest {
                job_id: (*id).clone(),
            })
            .await;
        assert_eq!(r.map(|_| ()).unwrap_err().code(), Code::NotFound, "{id}");
    }
    let listed = within(
        "ListJobs",
        jobs.list_jobs(pb::ListJobsRequest {
            queue: q.into(),
            consistent: true,
            ..Default::default()
        }),
    )
    .await
    .expect("ListJobs")
    .into_inner();
    let listed: HashSet<&str> = listed.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        listed,
        HashSet::from([active_id.as_str(), done_id.as_str()]),
        "the view keeps only the active and the finished job"
    );
    assert!(
        fetch(&mut w, q, 300).await.is_none(),
        "nothing left to fetch"
    );
    let after = get_queue(&mut queues, q).await;
    for state in [
        pb::JobState::Pending,
        pb::JobState::Scheduled,
        pb::JobState::Retrying,
    ] {
        assert_eq!(count(&after, state), 0, "{state:?}");
    }
    assert_eq!(count(&after, pb::JobState::Active), 1);
    assert_eq!(count(&after, pb::JobState::Completed), 1);
    // The active job runs on and settles.
    ack(&mut w, &active.job_id, active.lease_token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_destroy_needs_the_confirmation_then_removes_every_job_and_the_settings() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut queues = server.queues().await;
    let q = "doomed";
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(enqueue_job(&mut w, q, &format!(r#"{{"n":{i}}}"#)).await);
    }
    let active = fetch_some(&mut w, q).await;
    within(
        "SetQueueLimits",
        queues.set_queue_limits(pb::SetQueueLimitsRequest {
            queue: q.into(),
            concurrency: 2,
            ..Default::default()
        }),
    )
    .await
    .expect("SetQueueLimits");
    let mut probe = WriteProbe::new(&mut w).await;

    for confirm in ["", "doomed-not", "DOOMED"] {
        let refused = queues
            .destroy_queue(pb::DestroyQueueRequest {
                queue: q.into(),
                confirm: confirm.into(),
            })
            .await;
        assert_status(refused, Code::InvalidArgument, "confirm");
    }
    probe
        .assert_nothing_written(&mut w, "a refused destroy")
        .await;
    assert_eq!(
        count(&get_queue(&mut queues, q).await, pb::JobState::Pending),
        3
    );

    let started = within(
        "DestroyQueue",
        queues.destroy_queue(pb::DestroyQueueRequest {
            queue: q.into(),
            confirm: q.into(),
        }),
    )
    .await
    .expect("DestroyQueue")
    .into_inner();
    let op = finished_operation(&mut jobs, &started.operation_id).await;
    assert_eq!(op.state, i32::from(pb::OperationState::Done), "{op:?}");
    assert_eq!(op.succeeded, 4, "{op:?}");
    assert_eq!(op.queue, q);
    for id in &ids {
        let r = jobs.get_job(pb::GetJobRequest { job_id: id.clone() }).await;
        assert_eq!(r.map(|_| ()).unwrap_err().code(), Code::NotFound, "{id}");
    }
    let gone = queues
        .get_queue(pb::GetQueueRequest { queue: q.into() })
        .await;
    assert_status(gone, Code::NotFound, q);
    // The active job's worker learns its job is gone.
    let late = w
        .ack(pb::AckRequest {
            job_id: active.job_id.clone(),
            lease_token: active.lease_token,
            ..Default::default()
        })
        .await;
    assert_eq!(late.map(|_| ()).unwrap_err().code(), Code::NotFound);
    // The settings went too: a new job of the same name runs without the old limit.
    let fresh = enqueue_job(&mut w, q, "{}").await;
    let now = get_queue(&mut queues, q).await;
    assert_eq!(now.concurrency_limit, 0);
    assert!(!now.paused);
    assert_eq!(fetch_some(&mut w, q).await.job_id, fresh);
    let listed = within(
        "ListJobs",
        jobs.list_jobs(pb::ListJobsRequest {
            queue: q.into(),
            consistent: true,
            ..Default::default()
        }),
    )
    .await
    .expect("ListJobs")
    .into_inner();
    assert_eq!(
        listed
            .jobs
            .iter()
            .map(|j| j.id.as_str())
            .collect::<Vec<_>>(),
        [fresh.as_str()],
        "the view forgot the destroyed jobs"
    );
}

/// Samples the queue's active count from the replicated state (GetQueue reads the state's
/// counts) until `stop`; returns the highest value seen and how many samples were taken.
fn sample_active(
    mut queues: QueueClient,
    q: &'static str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(u64, u64)> {
    tokio::spawn(async move {
        let (mut max, mut samples) = (0, 0);
        while !stop.load(Ordering::SeqCst) {
            if let Ok(r) = queues
                .get_queue(pb::GetQueueRequest { queue: q.into() })
                .await
                && let Some(queue) = r.into_inner().queue
            {
                max = max.max(count(&queue, pb::JobState::Active));
                samples += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (max, samples)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t50_a_concurrency_limit_holds_with_eight_workers_of_random_speed() {
    const LIMIT: u32 = 3;
    const JOBS: usize = 48;
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut queues = server.queues().await;
    let q = "capped";
    let set = within(
        "SetQueueLimits",
        queues.set_queue_limits(pb::SetQueueLimitsRequest {
            queue: q.into(),
            concurrency: LIMIT,
            ..Default::default()
        }),
    )
    .await
    .expect("SetQueueLimits")
    .into_inner()
    .queue
    .expect("a queue");
    assert_eq!(set.concurrency_limit, LIMIT);
    for i in 0..JOBS {
        enqueue_job(&mut w, q, &format!(r#"{{"n":{i}}}"#)).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_active(server.queues().await, q, stop.clone());
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for i in 0..8u64 {
        let mut w = server.worker().await;
        let mut stream = Lifecycle::open(&mut w).await;
        let done = done.clone();
        // Four stream workers with credits, four unary fetchers.
        workers.push(tokio::spawn(async move {
            let mut seed = i * 7919 + 17;
            let mut pause_ms = move || {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) % 120
            };
            if i % 2 == 0 {
                stream.call(credit_frame(&[q], 2)).await;
                while done.load(Ordering::SeqCst) < JOBS as u64 {
                    let Some(Ok(Some(r))) = stream.recv_within(Duration::from_millis(200)).await
                    else {
                        continue;
                    };
                    for job in r.jobs {
                        tokio::time::sleep(Duration::from_millis(pause_ms())).await;
                        let answer = stream
                            .call(pb::StreamLifecycleRequest {
                                acks: vec![ack_item(&job)],
                                credits: 1,
                                ..Default::default()
                            })
                            .await;
                        assert!(answer.error.is_empty(), "{answer:?}");
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                }
            } else {
                while done.load(Ordering::SeqCst) < JOBS as u64 {
                    let Some(job) = fetch(&mut w, q, 200).await else {
                        continue;
                    };
                    tokio::time::sleep(Duration::from_millis(pause_ms())).await;
                    ack(&mut w, &job.job_id, job.lease_token).await;
                    done.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    within("every job done", async {
        for worker in workers {
            worker.await.expect("a worker");
        }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let (max, samples) = sampler.await.expect("the sampler");
    assert!(samples >= 10, "only {samples} samples");
    assert!(
        max <= u64::from(LIMIT),
        "{max} jobs were active at once, limit {LIMIT}"
    );
    assert!(max >= 1, "the sampler saw the queue work");
    let after = get_queue(&mut queues, q).await;
    assert_eq!(count(&after, pb::JobState::Completed), JOBS as u64);
    // Eight workers against a limit of three: leases were held back, and counted.
    let m = scrape(&server).await;
    assert!(m.count("corvo_queue_throttled_total", &[("queue", q)]) > 0.0);
    assert_eq!(
        m.value("corvo_queue_concurrency_limit", &[("queue", q)]),
        Some(f64::from(LIMIT))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_a_rate_limit_is_observed_over_ten_seconds() {
    const PER_SECOND: u32 = 4;
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut queues = server.queues().await;
    let q = "metered-api";
    within(
        "SetQueueLimits",
        queues.set_queue_limits(pb::SetQueueLimitsRequest {
            queue: q.into(),
            rate_starts: PER_SECOND,
            rate_window_ms: 1_000,
            ..Default::default()
        }),
    )
    .await
    .expect("SetQueueLimits");
    for i in 0..80 {
        enqueue_job(&mut w, q, &format!(r#"{{"n":{i}}}"#)).await;
    }
    let mut events = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            queues: vec![q.into()],
            types: vec!["started".into()],
            from_now: true,
            ..Default::default()
        },
    )
    .await;
    // Four eager workers: without the limit they would take everything in a moment.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let mut w = server.worker().await;
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                if let Some(job) = fetch(&mut w, q, 300).await {
                    ack(&mut w, &job.job_id, job.lease_token).await;
                }
            }
        }));
    }
    // Starts by the leader's clock (the event stamps are the apply's `now`, the same clock
    // the rate window uses), over ten seconds from the first.
    let first = next_event(&mut events).await;
    let t0 = first.at_ns / 1_000_000;
    let mut per_window: BTreeMap<u64, u32> = BTreeMap::new();
    *per_window.entry(t0 / 1_000).or_default() += 1;
    let mut in_ten_seconds = 1;
    loop {
        let e = next_event(&mut events).await;
        let at = e.at_ns / 1_000_000;
        if at >= t0 + 10_000 {
            break;
        }
        in_ten_seconds += 1;
        *per_window.entry(at / 1_000).or_default() += 1;
    }
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("a worker");
    }
    for (second, n) in &per_window {
        assert!(
            *n <= PER_SECOND,
            "{n} starts in second {second}: {per_window:?}"
        );
    }
    // 10 s span at most 11 windows; allow a slow machine to miss a few starts.
    let most = PER_SECOND * 11;
    let least = PER_SECOND * 8;
    assert!(
        (least..=most).contains(&in_ten_seconds),
        "{in_ten_seconds} starts in 10 s at {PER_SECOND}/s: {per_window:?}"
    );
    let m = scrape(&server).await;
    assert_eq!(
        m.value("corvo_queue_rate_limit_starts", &[("queue", q)]),
        Some(f64::from(PER_SECOND))
    );
    assert_eq!(
        m.value("corvo_queue_rate_limit_window_seconds", &[("queue", q)]),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_list_queues_and_workers_show_what_runs() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut queues = server.queues().await;
    for i in 0..3 {
        enqueue_job(&mut w, "listed-a", &format!(r#"{{"n":{i}}}"#)).await;
    }
    enqueue_job(&mut w, "listed-b", "{}").await;
    let job = fetch_some(&mut w, "listed-a").await;
    // Limits may be set before a queue's first job.
    within(
        "SetQueueLimits",
        queues.set_queue_limits(pb::SetQueueLimitsRequest {
            queue: "listed-c".into(),
            concurrency: 7,
            ..Default::default()
        }),
    )
    .await
    .expect("SetQueueLimits");

    let listed = within("ListQueues", queues.list_queues(pb::ListQueuesRequest {}))
        .await
        .expect("ListQueues")
        .into_inner()
        .queues;
    let names: Vec<&str> = listed.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(
        names,
        ["listed-a", "listed-b", "listed-c"],
        "name order, settings-only too"
    );
    let a = &listed[0];
    assert_eq!(count(a, pb::JobState::Pending), 2);
    assert_eq!(count(a, pb::JobState::Active), 1);
    assert_eq!(a.counts.len(), 8, "every state is listed");
    assert_eq!(a.enqueued_last_minute, 3);
    assert_eq!(a.effective_retention_ms, 7 * 86_400_000, "the default");
    assert_eq!(a.effective_dead_retention_ms, 30 * 86_400_000);
    assert_eq!(listed[2].concurrency_limit, 7);
    assert_eq!(listed[2].counts.iter().map(|c| c.count).sum::<u64>(), 0);
    ack(&mut w, &job.job_id, job.lease_token).await;
    let a = get_queue(&mut queues, "listed-a").await;
    assert_eq!(a.completed_last_minute, 1);
    let oldest = a.oldest_pending_age_ms;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        get_queue(&mut queues, "listed-a")
            .await
            .oldest_pending_age_ms
            >= oldest + 200
    );

    // Worker streams: id, queues, credits, jobs held, last frame.
    let mut stream = Lifecycle::open(&mut w).await;
    let mut frame = credit_frame(&["listed-a", "listed-b"], 3);
    frame.worker_id = "roster-worker".into();
    stream.call(frame).await;
    let pushed = stream.pushed_jobs(1).await;
    let listed = eventually("the stream holds its jobs", || {
        let mut queues = queues.clone();
        async move {
            let workers = queues
                .list_workers(pb::ListWorkersRequest::default())
                .await
                .ok()?
                .into_inner()
                .workers;
            let mine = workers
                .into_iter()
                .find(|s| s.worker_id == "roster-worker")?;
            (mine.jobs_held == 3).then_some(mine)
        }
    })
    .await;
    assert!(!pushed.is_empty());
    assert_eq!(listed.queues, ["listed-a", "listed-b"]);
    assert_eq!(listed.credits, 0, "3 granted, 3 jobs pushed");
    assert_eq!(listed.hostname, "localhost");
    assert!(listed.last_frame_at.is_some() && listed.connected_at.is_some());
    let only_c = within(
        "ListWorkers",
        queues.list_workers(pb::ListWorkersRequest {
            queue: "listed-c".into(),
        }),
    )
    .await
    .expect("ListWorkers")
    .into_inner();
    assert!(only_c.workers.is_empty(), "{only_c:?}");

    // The CLI shows the same, as JSON and as a table.
    let out = corvo_cli(&server, &["queues", "list", "--output", "json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v[0]["name"], "listed-a");
    assert_eq!(v[0]["counts"]["active"], 2);
    assert_eq!(v[1]["counts"]["active"], 1);
    assert_eq!(v[2]["concurrency_limit"], 7);
    let out = corvo_cli(&server, &["workers"]).await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("WORKER"), "{table}");
    assert!(
        table.contains("roster-worker") && table.contains("listed-a,listed-b"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t80_the_queue_cli_pauses_limits_and_tails_events() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let q = "cli-queue";
    let id = enqueue_job(&mut w, q, r#"{"via":"cli"}"#).await;
    let run = |args: Vec<&'static str>| {
        let server = &server;
        async move {
            let out = corvo_cli(server, &args).await;
            assert!(
                out.status.success(),
                "corvo {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).expect("utf-8")
        }
    };
    let paused: serde_json::Value =
        serde_json::from_str(&run(vec!["queues", "pause", q, "--output", "json"]).await)
            .expect("json");
    assert_eq!(paused["paused"], true);
    let limited: serde_json::Value = serde_json::from_str(
        &run(vec![
            "queues",
            "limit",
            q,
            "--concurrency",
            "4",
            "--output",
            "json",
        ])
        .await,
    )
    .expect("json");
    assert_eq!(limited["concurrency_limit"], 4);
    // An omitted limit stays as it was.
    let limited: serde_json::Value = serde_json::from_str(
        &run(vec![
            "queues", "limit", q, "--rate", "10/1m", "--output", "json",
        ])
        .await,
    )
    .expect("json");
    assert_eq!(limited["concurrency_limit"], 4);
    assert_eq!(limited["rate_limit"]["starts"], 10);
    assert_eq!(limited["rate_limit"]["window_ms"], 60_000);
    let kept: serde_json::Value = serde_json::from_str(
        &run(vec![
            "queues",
            "retention",
            q,
            "--completed",
            "2d",
            "--output",
            "json",
        ])
        .await,
    )
    .expect("json");
    assert_eq!(kept["retention_ms"], 2 * 86_400_000);
    assert_eq!(kept["retention_overridden"], true);
    assert_eq!(kept["dead_retention_overridden"], false);
    let table = run(vec!["queues", "get", q]).await;
    assert!(table.contains("paused ≤4 active 10/1m"), "{table}");
    assert!(fetch(&mut w, q, 200).await.is_none());
    let resumed = run(vec!["queues", "resume", q]).await;
    assert!(resumed.contains(q), "{resumed}");
    assert_eq!(fetch_some(&mut w, q).await.job_id, id);

    // events tail: the retained events from the start, filtered, as JSON lines.
    let tail = run(vec![
        "events", "tail", "--queue", q, "--from", "0", "--max", "2", "--output", "json",
    ])
    .await;
    let events: Vec<serde_json::Value> = tail
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events.len(), 2, "{tail}");
    assert_eq!(events[0]["type"], "enqueued");
    assert_eq!(events[0]["job_id"], id.as_str());
    assert_eq!(events[1]["type"], "started");
    let only_started = run(vec![
        "events", "tail", "--queue", q, "--type", "started", "--from", "0", "--max", "1",
    ])
    .await;
    assert!(
        only_started.contains("started") && only_started.contains(&id),
        "{only_started}"
    );
    // Without --from only new events come: the next one is a new enqueue.
    let server_url = server.url();
    let tailer = tokio::spawn(async move {
        let out = tokio::process::Command::new(corvo_bin())
            .args([
                "events", "tail", "--queue", q, "--max", "1", "--output", "json",
            ])
            .args(["--server", &server_url])
            .output();
        within("events tail", out).await.expect("corvo events tail")
    });
    let newer = eventually("the tail sees a new enqueue", || {
        let mut w = w.clone();
        let tailer = &tailer;
        async move {
            let id = enqueue_job(&mut w, q, "{}").await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            tailer.is_finished().then_some(id)
        }
    })
    .await;
    let out = tailer.await.expect("the tail");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(line["type"], "enqueued");
    assert_ne!(line["job_id"], id.as_str(), "an old event was replayed");
    let _ = newer;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t90_bad_input_gets_a_clear_error_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut queues = server.queues().await;
    let mut jobs = server.jobs().await;
    let q = "untouched";
    let id = enqueue_job(&mut w, q, "{}").await;
    let mut probe = WriteProbe::new(&mut w).await;

    assert_status(
        queues
            .get_queue(pb::GetQueueRequest {
                queue: "no-such-queue".into(),
            })
            .await,
        Code::NotFound,
        "no-such-queue",
    );
    assert_status(
        queues
            .pause_queue(pb::PauseQueueRequest { queue: "".into() })
            .await,
        Code::InvalidArgument,
        "queue",
    );
    assert_status(
        queues
            .pause_queue(pb::PauseQueueRequest {
                queue: "bad queue!".into(),
            })
            .await,
        Code::InvalidArgument,
        "queue",
    );
    assert_status(
        queues
            .clear_queue(pb::ClearQueueRequest {
                queue: "no-such-queue".into(),
            })
            .await,
        Code::NotFound,
        "no-such-queue",
    );
    assert_status(
        queues
            .pause_queue(pb::PauseQueueRequest {
                queue: "no-such-queue".into(),
            })
            .await,
        Code::NotFound,
        "no-such-queue",
    );
    assert_status(
        queues
            .drain_queue(pb::DrainQueueRequest {
                queue: "no-such-queue".into(),
                wait_ms: 10,
            })
            .await,
        Code::NotFound,
        "no-such-queue",
    );
    assert_status(
        queues
            .set_queue_limits(pb::SetQueueLimitsRequest {
                queue: q.into(),
                concurrency: 2_000_000,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "concurrency",
    );
    assert_status(
        queues
            .set_queue_limits(pb::SetQueueLimitsRequest {
                queue: q.into(),
                rate_starts: 5,
                rate_window_ms: 10,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "rate_window_ms",
    );
    assert_status(
        queues
            .set_queue_retention(pb::SetQueueRetentionRequest {
                queue: q.into(),
                retention_ms: 5,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "retention_ms",
    );
    assert_status(
        queues
            .drain_queue(pb::DrainQueueRequest {
                queue: q.into(),
                wait_ms: 3_600_000,
            })
            .await,
        Code::InvalidArgument,
        "wait_ms",
    );
    // Bulk: no selection, both selections, an unknown action, a move without a target.
    let bulk_client = jobs.clone();
    let bulk = |r: pb::BulkJobsRequest| {
        let mut jobs = bulk_client.clone();
        async move { jobs.bulk_jobs(r).await }
    };
    assert_status(
        bulk(pb::BulkJobsRequest {
            action: pb::BulkAction::Delete.into(),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "filter",
    );
    assert_status(
        bulk(pb::BulkJobsRequest {
            action: pb::BulkAction::Delete.into(),
            job_ids: vec![id.clone()],
            filter: Some(pb::JobFilter {
                queue: q.into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "job_ids",
    );
    assert_status(
        bulk(pb::BulkJobsRequest {
            action: 0,
            job_ids: vec![id.clone()],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "action",
    );
    assert_status(
        bulk(pb::BulkJobsRequest {
            action: pb::BulkAction::Move.into(),
            job_ids: vec![id.clone()],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "target_queue",
    );
    assert_status(
        bulk(pb::BulkJobsRequest {
            action: pb::BulkAction::Retry.into(),
            filter: Some(pb::JobFilter {
                states: vec![99],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "filter.states[0]",
    );
    assert_status(
        jobs.get_operation(pb::GetOperationRequest {
            operation_id: "op_01M8EWM45FR0K7J6WS5YE92DFG".into(),
        })
        .await,
        Code::NotFound,
        "op_01M8EWM45FR0K7J6WS5YE92DFG",
    );
    assert_status(
        w.subscribe(pb::SubscribeRequest {
            types: vec!["exploded".into()],
            ..Default::default()
        })
        .await,
        Code::InvalidArgument,
        "types",
    );
    probe
        .assert_nothing_written(&mut w, "refused queue and bulk calls")
        .await;

    // A filter that matches nothing is no error: zero jobs.
    let none = within(
        "BulkJobs",
        bulk(pb::BulkJobsRequest {
            action: pb::BulkAction::Delete.into(),
            filter: Some(pb::JobFilter {
                queue: q.into(),
                payload_contains: "no job has this".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    )
    .await
    .expect("BulkJobs")
    .into_inner();
    assert_eq!((none.examined, none.succeeded), (0, 0));
    assert!(none.operation_id.is_empty());
    probe
        .assert_nothing_written(&mut w, "a bulk action that matched nothing")
        .await;

    // The CLI refuses bad values before calling, naming the flag.
    for (args, says) in [
        (vec!["queues", "limit", q, "--rate", "10/soon"], "--rate"),
        (vec!["queues", "limit", q, "--rate", "ten/1s"], "--rate"),
        (vec!["queues", "limit", q], "--concurrency"),
        (
            vec!["queues", "retention", q, "--completed", "forever"],
            "--completed",
        ),
        (vec!["jobs", "retry"], "which jobs"),
        (vec!["jobs", "delete", "--state", "zombie"], "zombie"),
        (vec!["queues", "destroy", q], "--confirm"),
        (
            vec!["jobs", "list", "--created-after", "last tuesday"],
            "--created-after",
        ),
    ] {
        let out = corvo_cli(&server, &args).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "corvo {args:?} succeeded");
        assert!(err.contains(says), "corvo {args:?}: {err}");
    }
    probe
        .assert_nothing_written(&mut w, "refused CLI commands")
        .await;
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Pending
    );

    // The server refuses a malformed retention at start-up, naming the flag.
    let out = tokio::process::Command::new(corvo_bin())
        .args(["server", "--retention", "7 fortnights", "--data-dir"])
        .arg(std::env::temp_dir().join(format!("corvo-bad-retention-{}", std::process::id())))
        .output();
    let out = within("corvo server --retention", out).await.expect("runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--retention"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t95_a_scoped_operator_manages_only_its_queues() {
    const BOOT: &str = "cvk_queues_test_bootstrap_admin_key_0123456789abcdef";
    let server = TestServer::builder()
        .args(&["--require-auth"])
        .env("CORVO_BOOTSTRAP_ADMIN_KEY", BOOT)
        .api_key(BOOT)
        .start()
        .await;
    let channel = server.channel().await;
    let mut keys = pb::key_service_client::KeyServiceClient::new(channel.clone());
    let created = within(
        "CreateKey",
        keys.create_key(authed(
            pb::CreateKeyRequest {
                name: "mail ops".into(),
                role: pb::KeyRole::Operator.into(),
                queues: vec!["mail*".into()],
                ..Default::default()
            },
            BOOT,
        )),
    )
    .await
    .expect("CreateKey")
    .into_inner();
    let ops = created.secret;
    let mut w = server.worker().await;
    for q in ["mail-out", "billing"] {
        within("Enqueue", w.enqueue(authed(enqueue_req(q, "{}"), BOOT)))
            .await
            .expect("Enqueue");
    }
    let mut queues = server.queues().await;
    let listed = within(
        "ListQueues",
        queues.list_queues(authed(pb::ListQueuesRequest {}, &ops)),
    )
    .await
    .expect("ListQueues")
    .into_inner()
    .queues;
    assert_eq!(
        listed.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(),
        ["mail-out"],
        "only its queues are listed"
    );
    within(
        "PauseQueue",
        queues.pause_queue(authed(
            pb::PauseQueueRequest {
                queue: "mail-out".into(),
            },
            &ops,
        )),
    )
    .await
    .expect("its own queue");
    assert_status(
        queues
            .pause_queue(authed(
                pb::PauseQueueRequest {
                    queue: "billing".into(),
                },
                &ops,
            ))
            .await,
        Code::PermissionDenied,
        "billing",
    );
    let mut jobs = server.jobs().await;
    assert_status(
        jobs.bulk_jobs(authed(
            pb::BulkJobsRequest {
                action: pb::BulkAction::Cancel.into(),
                all_jobs: true,
                ..Default::default()
            },
            &ops,
        ))
        .await,
        Code::PermissionDenied,
        "filter.queue",
    );
    assert_status(
        jobs.bulk_jobs(authed(
            pb::BulkJobsRequest {
                action: pb::BulkAction::Move.into(),
                filter: Some(pb::JobFilter {
                    queue: "mail-out".into(),
                    ..Default::default()
                }),
                target_queue: "billing".into(),
                ..Default::default()
            },
            &ops,
        ))
        .await,
        Code::PermissionDenied,
        "billing",
    );
    let billing = within(
        "GetQueue",
        queues.get_queue(authed(
            pb::GetQueueRequest {
                queue: "billing".into(),
            },
            BOOT,
        )),
    )
    .await
    .expect("GetQueue")
    .into_inner()
    .queue
    .expect("a queue");
    assert!(!billing.paused);
    assert_eq!(count(&billing, pb::JobState::Pending), 1);
}
