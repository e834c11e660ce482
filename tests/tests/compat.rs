//! Clients of the original protocol: no lease tokens, no `max_wait_ms`, no credits. They send
//! only the original fields and must keep working.

use std::time::{Duration, Instant};

use corvo_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_client_without_lease_tokens_completes_jobs_over_unary_calls() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let a = enqueue_job(&mut w, "legacy", r#"{"n":1}"#).await;
    let b = enqueue(
        &mut w,
        enqueue_req_with("legacy", r#"{"n":2}"#, fixed_backoff(60_000, 3)),
    )
    .await
    .job_id;

    // The original FetchRequest: queues, worker_id, hostname, lease_duration; nothing else.
    let old_fetch = || pb::FetchRequest {
        queues: vec!["legacy".into()],
        worker_id: "old-worker".into(),
        hostname: "old-host".into(),
        lease_duration: 30,
        max_wait_ms: None,
    };
    let f = within("Fetch", w.fetch(old_fetch()))
        .await
        .expect("Fetch")
        .into_inner();
    assert!(f.found);
    assert_eq!(f.job_id, a);
    assert_eq!(f.lease_duration, 30);

    let hb = within(
        "Heartbeat",
        w.heartbeat(pb::HeartbeatRequest {
            jobs: [(
                a.clone(),
                pb::HeartbeatJobUpdate {
                    progress_json: r#"{"step":1}"#.into(),
                    ..Default::default()
                },
            )]
            .into(),
        }),
    )
    .await
    .expect("Heartbeat without a token")
    .into_inner();
    assert_eq!(hb.jobs[&a].status, "ok");

    let ack = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: a.clone(),
            result_json: r#"{"ok":1}"#.into(),
            ..Default::default()
        }),
    )
    .await
    .expect("Ack without a token")
    .into_inner();
    assert_eq!(ack.state, pb::JobState::Completed as i32);
    let done = get_job(&mut jobs, &a).await;
    assert_eq!(state_of(&done), pb::JobState::Completed);
    assert_eq!(done.result_json, r#"{"ok":1}"#);

    // A second ack of the same job is refused (the job is no longer active).
    let again = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: a.clone(),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(
        again.expect_err("a second ack").code(),
        tonic::Code::FailedPrecondition
    );

    // Fail without a token retries the job.
    let f = within("Fetch", w.fetch(old_fetch()))
        .await
        .expect("Fetch")
        .into_inner();
    assert_eq!(f.job_id, b);
    let failed = within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: b.clone(),
            error: "boom".into(),
            ..Default::default()
        }),
    )
    .await
    .expect("Fail without a token")
    .into_inner();
    assert_eq!(failed.status, "retrying");
    assert_eq!(failed.attempts_remaining, 2);
    assert_eq!(
        state_of(&get_job(&mut jobs, &b).await),
        pb::JobState::Retrying
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_client_legacy_stream_frames_get_one_prompt_response_each() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut s = Lifecycle::open(&mut w).await;
    let legacy_fetch = |fetch_count| legacy_fetch("legacy", fetch_count);

    // Nothing ready: the answer still comes at once (≈100 ms), empty. The bound here is loose
    // on purpose; it only has to be far below the 30 s a unary long-poll would wait.
    let started = Instant::now();
    let r = s.call(legacy_fetch(5)).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "an idle legacy fetch took {:?}",
        started.elapsed()
    );
    assert!(r.error.is_empty(), "{r:?}");
    assert!(r.jobs.is_empty());

    let mut ids = Vec::new();
    for i in 0..2 {
        ids.push(enqueue_job(&mut w, "legacy", &format!(r#"{{"i":{i}}}"#)).await);
    }
    let r = s.call(legacy_fetch(5)).await;
    let got: Vec<&str> = r.jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(
        got, ids,
        "up to fetch_count jobs, in the response to the frame"
    );

    // Acks without tokens, and the next fetch, in one frame.
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: ids
                .iter()
                .map(|id| pb::AckBatchItem {
                    job_id: id.clone(),
                    result_json: r#"{"done":true}"#.into(),
                    ..Default::default()
                })
                .collect(),
            ..legacy_fetch(5)
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.acked, 2);
    assert!(r.jobs.is_empty());
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed
        );
    }

    // Exactly one response per legacy frame: nothing unsolicited follows, even when a job
    // becomes ready afterwards (a legacy stream holds no credits).
    enqueue_job(&mut w, "legacy", "{}").await;
    if let Some(extra) = s.recv_within(Duration::from_millis(500)).await {
        panic!("a legacy stream got an unsolicited response: {extra:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_client_acks_and_next_fetch_share_one_log_entry_when_work_is_ready() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut s = Lifecycle::open(&mut w).await;
    let legacy_fetch = |fetch_count| legacy_fetch("one-round", fetch_count);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(enqueue_job(&mut w, "one-round", &format!(r#"{{"i":{i}}}"#)).await);
    }
    let r = s.call(legacy_fetch(1)).await;
    assert_eq!(r.jobs.len(), 1, "{r:?}");
    assert_eq!(r.jobs[0].job_id, ids[0]);

    let before = log_entries(&server).await;
    let r = s.call(legacy_ack(&ids[0], legacy_fetch(1))).await;
    let after = log_entries(&server).await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.acked, 1);
    let got: Vec<&str> = r.jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(
        got,
        vec![ids[1].as_str()],
        "the next job, in the same answer"
    );
    assert_eq!(
        after - before,
        1.0,
        "the ack and the fetch are applied in one log entry (one Raft round per frame)"
    );
    assert_eq!(
        state_of(&get_job(&mut jobs, &ids[0]).await),
        pb::JobState::Completed
    );
    assert_eq!(
        state_of(&get_job(&mut jobs, &ids[1]).await),
        pb::JobState::Active
    );
    assert_eq!(
        state_of(&get_job(&mut jobs, &ids[2]).await),
        pb::JobState::Pending
    );
}

/// After a fetch that came back full, the next one leases without looking first (there is
/// most likely more). When the queue has run dry that lease comes back empty inside the
/// frame's own entry, and the polls that follow look first again: an idle old worker writes
/// nothing to the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_client_polling_a_drained_queue_writes_nothing_to_the_log() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    let legacy_fetch = |fetch_count| legacy_fetch("drained", fetch_count);
    let id = enqueue_job(&mut w, "drained", r#"{"i":0}"#).await;
    let r = s.call(legacy_fetch(1)).await;
    assert_eq!(r.jobs.len(), 1, "a full fetch: {r:?}");

    let before = log_entries(&server).await;
    let r = s.call(legacy_ack(&id, legacy_fetch(1))).await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.acked, 1);
    assert!(r.jobs.is_empty(), "nothing left: {r:?}");
    let acked = log_entries(&server).await;
    assert_eq!(
        acked - before,
        1.0,
        "the ack and the empty lease share an entry"
    );
    // Work keeps becoming ready elsewhere (an entry each) while this queue stays empty.
    for i in 0..3 {
        enqueue_job(&mut w, "elsewhere", &format!(r#"{{"i":{i}}}"#)).await;
        let r = s.call(legacy_fetch(1)).await;
        assert!(r.error.is_empty() && r.jobs.is_empty(), "{r:?}");
    }
    assert_eq!(
        log_entries(&server).await - acked,
        3.0,
        "polls of an empty queue propose nothing (the entries are the other queue's enqueues)"
    );
    // Work that arrives later is still fetched.
    let late = enqueue_job(&mut w, "drained", r#"{"i":1}"#).await;
    let r = s.call(legacy_fetch(1)).await;
    assert_eq!(r.jobs.len(), 1, "{r:?}");
    assert_eq!(r.jobs[0].job_id, late);
}

/// A frame of the original contract that fetches up to `fetch_count` jobs of `queue`.
fn legacy_fetch(queue: &str, fetch_count: i32) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        queues: vec![queue.into()],
        worker_id: "old-worker".into(),
        hostname: "old-host".into(),
        lease_duration: 30,
        fetch_count,
        ..Default::default()
    }
}

/// `frame` with a token-less ack of `job_id` (the original contract's ack).
fn legacy_ack(job_id: &str, frame: pb::StreamLifecycleRequest) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        acks: vec![pb::AckBatchItem {
            job_id: job_id.to_owned(),
            result_json: "{}".into(),
            ..Default::default()
        }],
        ..frame
    }
}

/// Log entries this node has applied so far (`corvo_raft_batch_commands_count`).
async fn log_entries(server: &TestServer) -> f64 {
    corvo_tests::observe::scrape(server)
        .await
        .count("corvo_raft_batch_commands_count", &[])
}
