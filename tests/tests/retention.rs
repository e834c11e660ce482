//! Retention (finished jobs purged after `--retention` / `--dead-retention`, per-queue
//! overrides) and bulk job actions: by id with a result per id, by filter with a count, and
//! past 1000 jobs as an operation with progress while the server keeps serving.

use std::time::{Duration, Instant};

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

async fn complete_one(w: &mut WorkerClient, queue: &str) -> String {
    let id = enqueue_job(w, queue, "{}").await;
    let job = fetch_some(w, queue).await;
    assert_eq!(job.job_id, id);
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id.clone(),
            lease_token: job.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
    id
}

/// Enqueues a job with one attempt, leases it and fails it: it is dead.
async fn dead_one(w: &mut WorkerClient, queue: &str, error: &str) -> String {
    let id = enqueue(w, enqueue_req_with(queue, "{}", fixed_backoff(10, 1)))
        .await
        .job_id;
    let job = fetch_some(w, queue).await;
    assert_eq!(job.job_id, id);
    let r = within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: id.clone(),
            error: error.into(),
            lease_token: job.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Fail")
    .into_inner();
    assert_eq!(r.status, "dead");
    id
}

async fn is_gone(jobs: &mut JobClient, id: &str) -> bool {
    matches!(
        jobs.get_job(pb::GetJobRequest { job_id: id.into() }).await,
        Err(s) if s.code() == Code::NotFound
    )
}

async fn listed(jobs: &mut JobClient, queue: &str) -> Vec<String> {
    within(
        "ListJobs",
        jobs.list_jobs(pb::ListJobsRequest {
            queue: queue.into(),
            consistent: true,
            page_size: 1000,
            ..Default::default()
        }),
    )
    .await
    .expect("ListJobs")
    .into_inner()
    .jobs
    .into_iter()
    .map(|j| j.id)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_finished_jobs_are_purged_from_state_view_and_counts_after_their_retention() {
    let server = TestServer::builder()
        .args(&["--retention", "2s", "--dead-retention", "3s"])
        .start()
        .await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut queues = server.queues().await;
    let q = "short-lived";
    // A queue that keeps its finished jobs for an hour (its dead ones: the default).
    let kept_q = "long-lived";
    let set = within(
        "SetQueueRetention",
        queues.set_queue_retention(pb::SetQueueRetentionRequest {
            queue: kept_q.into(),
            retention_ms: 3_600_000,
            dead_retention_ms: 0,
        }),
    )
    .await
    .expect("SetQueueRetention")
    .into_inner()
    .queue
    .expect("a queue");
    assert_eq!(set.effective_retention_ms, 3_600_000);
    // The leader puts its flags into the state: jobs finishing from then on get them.
    eventually("the retention flags are in effect", || {
        let mut queues = queues.clone();
        async move {
            let queue = queues
                .get_queue(pb::GetQueueRequest {
                    queue: kept_q.into(),
                })
                .await
                .ok()?
                .into_inner()
                .queue?;
            (queue.effective_dead_retention_ms == 3_000).then_some(())
        }
    })
    .await;

    let mut finished = Vec::new();
    for _ in 0..3 {
        finished.push(complete_one(&mut w, q).await);
    }
    finished.push(dead_one(&mut w, q, "boom").await);
    let cancelled = enqueue_job(&mut w, q, r#"{"cancel":true}"#).await;
    within(
        "CancelJob",
        jobs.cancel_job(pb::CancelJobRequest {
            job_id: cancelled.clone(),
        }),
    )
    .await
    .expect("CancelJob");
    finished.push(cancelled);
    let waiting = enqueue_job(&mut w, q, r#"{"stays":true}"#).await;
    let kept = complete_one(&mut w, kept_q).await;
    let kept_dead = dead_one(&mut w, kept_q, "gone in 3 s").await;
    let before = get_queue(&mut queues, q).await;
    assert_eq!(count(&before, pb::JobState::Completed), 3);
    assert_eq!(listed(&mut jobs, q).await.len(), 6);

    let started = Instant::now();
    for id in &finished {
        eventually(&format!("finished job {id} is purged"), || {
            let mut jobs = jobs.clone();
            async move { is_gone(&mut jobs, id).await.then_some(()) }
        })
        .await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1_000),
        "jobs were kept for their retention first"
    );
    eventually(&format!("dead job {kept_dead} is purged"), || {
        let mut jobs = jobs.clone();
        let id = &kept_dead;
        async move { is_gone(&mut jobs, id).await.then_some(()) }
    })
    .await;
    assert_eq!(
        listed(&mut jobs, q).await,
        std::slice::from_ref(&waiting),
        "the view forgot them"
    );
    let after = get_queue(&mut queues, q).await;
    for state in [
        pb::JobState::Completed,
        pb::JobState::Dead,
        pb::JobState::Cancelled,
    ] {
        assert_eq!(count(&after, state), 0, "{state:?}");
    }
    assert_eq!(count(&after, pb::JobState::Pending), 1);
    assert_eq!(
        state_of(&get_job(&mut jobs, &kept).await),
        pb::JobState::Completed,
        "the queue's override keeps it"
    );
    assert_eq!(
        state_of(&get_job(&mut jobs, &waiting).await),
        pb::JobState::Pending
    );
    let m = scrape(&server).await;
    assert_eq!(m.value("corvo_jobs_purged_total", &[]), Some(6.0));
    assert_eq!(m.value("corvo_retention_lag_seconds", &[]), Some(0.0));

    // The purge is replicated state: after a restart (log replay) the jobs stay gone.
    let mut server = server;
    server.kill();
    server.restart().await;
    let mut jobs = server.jobs().await;
    for id in &finished {
        assert!(is_gone(&mut jobs, id).await, "{id} came back");
    }
    assert_eq!(
        state_of(&get_job(&mut jobs, &kept).await),
        pb::JobState::Completed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_every_dead_job_of_a_queue_is_retried_by_filter_with_the_count() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let q = "mailer";
    let mut dead = Vec::new();
    for i in 0..5 {
        dead.push(dead_one(&mut w, q, &format!("SMTP 4{i}1")).await);
    }
    let other_dead = dead_one(&mut w, "mailer-eu", "SMTP 451").await;
    let done = complete_one(&mut w, q).await;

    let r = within(
        "BulkJobs",
        jobs.bulk_jobs(pb::BulkJobsRequest {
            action: pb::BulkAction::Retry.into(),
            filter: Some(pb::JobFilter {
                queue: q.into(),
                states: vec![pb::JobState::Dead.into()],
                ..Default::default()
            }),
            ..Default::default()
        }),
    )
    .await
    .expect("BulkJobs")
    .into_inner();
    assert_eq!((r.examined, r.succeeded), (5, 5), "{r:?}");
    assert!(
        r.operation_id.is_empty(),
        "five jobs are done within the call"
    );
    for id in &dead {
        let job = get_job(&mut jobs, id).await;
        assert_eq!(state_of(&job), pb::JobState::Pending, "{id}");
    }
    assert_eq!(
        state_of(&get_job(&mut jobs, &other_dead).await),
        pb::JobState::Dead
    );
    assert_eq!(
        state_of(&get_job(&mut jobs, &done).await),
        pb::JobState::Completed
    );

    // By id: one result per id, in order; a bad id fails alone.
    let unknown = "01M8EWM45FR0K7J6WS5YE92DFG".to_owned();
    let r = within(
        "BulkJobs",
        jobs.bulk_jobs(pb::BulkJobsRequest {
            action: pb::BulkAction::Retry.into(),
            job_ids: vec![other_dead.clone(), unknown.clone(), String::new()],
            ..Default::default()
        }),
    )
    .await
    .expect("BulkJobs")
    .into_inner();
    assert_eq!((r.examined, r.succeeded), (3, 1));
    let codes: Vec<i32> = r.results.iter().map(|i| i.code).collect();
    assert_eq!(
        codes,
        [
            pb::ErrorCode::Unspecified as i32,
            pb::ErrorCode::NotFound as i32,
            pb::ErrorCode::InvalidArgument as i32
        ],
        "{r:?}"
    );
    assert_eq!(r.results[0].state, i32::from(pb::JobState::Pending));
    assert!(r.results[2].message.contains("job_ids[2]"), "{r:?}");

    // The CLI: by filter with the count, move, priority, delete by id.
    let mut more = Vec::new();
    for _ in 0..3 {
        more.push(dead_one(&mut w, "cli-mailer", "550").await);
    }
    let run = |args: Vec<&str>| {
        let server = &server;
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            corvo_cli(server, &args).await
        }
    };
    let out = run(vec![
        "jobs",
        "retry",
        "--queue",
        "cli-mailer",
        "--state",
        "dead",
        "--output",
        "json",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["examined"], 3);
    assert_eq!(v["succeeded"], 3);
    let out = run(vec![
        "jobs",
        "move",
        "--queue",
        "cli-mailer",
        "--to",
        "cli-mailer-2",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "moved 3 of 3 selected jobs"
    );
    let out = run(vec![
        "jobs", "priority", &more[0], "--set", "critical", "--output", "json",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job = get_job(&mut jobs, &more[0]).await;
    assert_eq!(job.queue, "cli-mailer-2");
    assert_eq!(job.priority, i32::from(pb::Priority::Critical));
    // A failing item fails the command, after printing every result.
    let out = run(vec!["jobs", "delete", &more[1], &unknown]).await;
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{} done", more[1])), "{stdout}");
    assert!(
        stdout.contains(&format!("{unknown} error not_found")),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 jobs failed"));
    assert!(is_gone(&mut jobs, &more[1]).await);
    // `jobs list` pages on its own up to --limit, newest first, with time filters.
    let out = run(vec![
        "jobs",
        "list",
        "--queue",
        "cli-mailer-2",
        "--limit",
        "2",
        "--created-after",
        "1h",
        "--output",
        "json",
        "--consistent",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = v["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["id"].as_str())
        .collect();
    assert_eq!(ids, [more[2].as_str(), more[0].as_str()]);
    let out = run(vec![
        "jobs",
        "list",
        "--queue",
        "cli-mailer-2",
        "--created-before",
        "1h",
        "--output",
        "json",
    ])
    .await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["jobs"].as_array().map(Vec::len), Some(0), "{v}");
}

/// Enqueues `n` jobs to `queue` over a worker stream, 1000 per frame.
async fn enqueue_many(server: &TestServer, queue: &str, n: usize) {
    let mut w = server.worker().await;
    let mut stream = Lifecycle::open(&mut w).await;
    let mut left = n;
    while left > 0 {
        let frame = left.min(1_000);
        let r = stream
            .call(pb::StreamLifecycleRequest {
                enqueues: (0..frame)
                    .map(|i| pb::LifecycleEnqueueItem {
                        queue: queue.into(),
                        payload_json: format!(r#"{{"i":{}}}"#, left - i),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .await;
        assert!(r.error.is_empty(), "{r:?}");
        assert_eq!(r.enqueued_job_ids.len(), frame);
        left -= frame;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_bulk_action_over_100k_jobs_runs_as_an_operation_while_the_server_serves() {
    const N: u64 = 100_000;
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut queues = server.queues().await;
    let q = "huge";
    enqueue_many(&server, q, N as usize).await;
    assert_eq!(
        count(&get_queue(&mut queues, q).await, pb::JobState::Pending),
        N
    );

    let started = within(
        "BulkJobs",
        jobs.bulk_jobs(pb::BulkJobsRequest {
            action: pb::BulkAction::Move.into(),
            filter: Some(pb::JobFilter {
                queue: q.into(),
                ..Default::default()
            }),
            target_queue: "huge-moved".into(),
            ..Default::default()
        }),
    )
    .await
    .expect("BulkJobs")
    .into_inner();
    assert_eq!(started.examined, 1_000, "the first 1000 within the call");
    assert_eq!(started.succeeded, 1_000);
    let op_id = started.operation_id.clone();
    assert!(op_id.starts_with("op_"), "{started:?}");

    // While it runs: progress moves forward, and other work is served in between.
    let mut seen = Vec::new();
    let mut served_while_running = 0;
    let op = loop {
        let op = within(
            "GetOperation",
            jobs.get_operation(pb::GetOperationRequest {
                operation_id: op_id.clone(),
            }),
        )
        .await
        .expect("GetOperation")
        .into_inner()
        .operation
        .expect("an operation");
        if let Some(last) = seen.last() {
            assert!(
                op.examined >= *last,
                "progress went back: {seen:?} then {op:?}"
            );
        }
        seen.push(op.examined);
        if op.state != i32::from(pb::OperationState::Running) {
            break op;
        }
        if served_while_running < 3 {
            let t = Instant::now();
            let id = enqueue_job(&mut w, "meanwhile", "{}").await;
            let got = fetch_some(&mut w, "meanwhile").await;
            assert_eq!(got.job_id, id);
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "an enqueue and a fetch took {:?} during the operation",
                t.elapsed()
            );
            served_while_running += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(op.state, i32::from(pb::OperationState::Done), "{op:?}");
    assert_eq!((op.examined, op.succeeded), (N, N), "{op:?}");
    assert_eq!(op.action, "move");
    assert!(
        served_while_running >= 1,
        "the operation ran long enough to be observed"
    );
    assert!(
        seen.iter().any(|&e| e > 1_000 && e < N),
        "progress was visible between batches: {seen:?}"
    );
    let moved = get_queue(&mut queues, "huge-moved").await;
    assert_eq!(count(&moved, pb::JobState::Pending), N);
    let gone = queues
        .get_queue(pb::GetQueueRequest { queue: q.into() })
        .await;
    assert_status(gone, Code::NotFound, q);
    let ops = within(
        "ListOperations",
        jobs.list_operations(pb::ListOperationsRequest {}),
    )
    .await
    .expect("ListOperations")
    .into_inner()
    .operations;
    assert_eq!(ops.first().map(|o| o.id.as_str()), Some(op_id.as_str()));
    // The CLI shows it.
    let out = corvo_cli(&server, &["jobs", "operations", &op_id, "--output", "json"]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["state"], "done");
    assert_eq!(v["succeeded"], N);
}
