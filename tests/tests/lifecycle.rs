//! A job's life over the unary calls: enqueue, fetch (lease), heartbeat, ack.

use corvo_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_fetch_heartbeat_ack_completes_a_job_over_unary_calls() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;

    let enq = enqueue(&mut w, enqueue_req("emails", r#"{"to":"a@example.com"}"#)).await;
    assert!(is_ulid(&enq.job_id), "job ids are ULIDs: {:?}", enq.job_id);
    assert_eq!(enq.status, "pending");
    assert!(!enq.unique_existing);
    assert_eq!(enq.state, pb::JobState::Pending as i32);
    let id = enq.job_id;
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Pending
    );

    let before_fetch = now_ms();
    let f = fetch_some(&mut w, "emails").await;
    assert_eq!(f.job_id, id);
    assert_eq!(f.queue, "emails");
    assert_eq!(f.payload_json, r#"{"to":"a@example.com"}"#);
    assert_eq!(f.attempt, 1, "the first lease is attempt 1");
    assert_eq!(f.max_retries, 3, "default max_attempts");
    assert_eq!(f.lease_duration, 60, "lease_duration 0 means 60 s");
    assert_eq!(f.priority, pb::Priority::Normal as i32);
    assert_ne!(f.lease_token, 0, "a lease carries a fencing token");
    assert!(
        f.lease_deadline_ms >= before_fetch + 50_000,
        "the lease runs about 60 s: deadline {} fetched at {before_fetch}",
        f.lease_deadline_ms
    );

    let active = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&active), pb::JobState::Active);
    assert_eq!(active.attempt, 1);
    assert_eq!(active.worker_id, "test-worker");
    assert_eq!(active.lease_token, f.lease_token);
    assert!(active.started_at.is_some());

    let hb = within(
        "Heartbeat",
        w.heartbeat(pb::HeartbeatRequest {
            jobs: [(
                id.clone(),
                pb::HeartbeatJobUpdate {
                    progress_json: r#"{"pct":50}"#.into(),
                    checkpoint_json: r#"{"page":3}"#.into(),
                    lease_token: f.lease_token,
                    ..Default::default()
                },
            )]
            .into(),
        }),
    )
    .await
    .expect("Heartbeat")
    .into_inner();
    let answer = &hb.jobs[&id];
    assert_eq!(answer.status, "ok");
    assert!(answer.lease_deadline_ms >= f.lease_deadline_ms);
    let progressed = get_job(&mut jobs, &id).await;
    assert_eq!(progressed.progress_json, r#"{"pct":50}"#);
    assert_eq!(progressed.checkpoint_json, r#"{"page":3}"#);

    let ack = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id.clone(),
            result_json: r#"{"sent":true}"#.into(),
            lease_token: f.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack")
    .into_inner();
    assert_eq!(ack.state, pb::JobState::Completed as i32);

    let done = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&done), pb::JobState::Completed);
    assert_eq!(done.result_json, r#"{"sent":true}"#);
    assert!(done.finished_at.is_some());
    assert_eq!(done.lease_token, 0, "a completed job holds no lease");
    assert!(done.worker_id.is_empty());

    // The event log tells the same story, in order.
    let mut events = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            job_ids: vec![id.clone()],
            ..Default::default()
        },
    )
    .await;
    let seen = events_until(&mut events, |e| e.r#type == "completed").await;
    let types: Vec<&str> = seen.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["enqueued", "started", "progress", "completed"]);
    assert!(seen.iter().all(|e| e.queue == "emails" && e.job_id == id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_batch_leases_up_to_count_and_ack_batch_answers_per_item() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(enqueue_job(&mut w, "batch", &format!(r#"{{"i":{i}}}"#)).await);
    }

    let first = within(
        "FetchBatch",
        w.fetch_batch(pb::FetchBatchRequest {
            queues: vec!["batch".into()],
            worker_id: "w".into(),
            count: 3,
            max_wait_ms: Some(0),
            ..Default::default()
        }),
    )
    .await
    .expect("FetchBatch")
    .into_inner()
    .jobs;
    let got: Vec<&str> = first.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(got, ids[..3], "three jobs, oldest first");
    let mut tokens: Vec<u64> = first.iter().map(|j| j.lease_token).collect();
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 3, "every lease has its own token");
    assert!(first.iter().all(|j| j.lease_token != 0 && j.attempt == 1));

    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let mut items: Vec<pb::AckBatchItem> = first.iter().map(ack_item).collect();
    items.push(pb::AckBatchItem {
        job_id: unknown.into(),
        ..Default::default()
    });
    let acked = within("AckBatch", w.ack_batch(pb::AckBatchRequest { items }))
        .await
        .expect("AckBatch")
        .into_inner();
    assert_eq!(acked.acked, 3);
    assert_eq!(acked.results.len(), 4, "one result per item, in order");
    for (r, j) in acked.results.iter().zip(&first) {
        assert_eq!(r.job_id, j.job_id);
        assert_eq!(r.code, pb::ErrorCode::Unspecified as i32, "{r:?}");
        assert_eq!(r.state, pb::JobState::Completed as i32);
    }
    assert_eq!(acked.results[3].job_id, unknown);
    assert_eq!(acked.results[3].code, pb::ErrorCode::NotFound as i32);
    for id in &ids[..3] {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed
        );
    }

    // count above what is ready: the rest, without waiting.
    let rest = within(
        "FetchBatch",
        w.fetch_batch(pb::FetchBatchRequest {
            queues: vec!["batch".into()],
            count: 10,
            max_wait_ms: Some(0),
            ..Default::default()
        }),
    )
    .await
    .expect("FetchBatch")
    .into_inner()
    .jobs;
    let got: Vec<&str> = rest.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(got, ids[3..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_fetch_returns_not_found_and_writes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut probe = WriteProbe::new(&mut w).await;

    assert!(fetch(&mut w, "idle", 0).await.is_none(), "max_wait_ms 0");
    assert!(
        fetch(&mut w, "idle", 200).await.is_none(),
        "max_wait_ms 200"
    );
    let batch = within(
        "FetchBatch",
        w.fetch_batch(pb::FetchBatchRequest {
            queues: vec!["idle".into()],
            count: 5,
            max_wait_ms: Some(100),
            ..Default::default()
        }),
    )
    .await
    .expect("FetchBatch")
    .into_inner();
    assert!(batch.jobs.is_empty());
    probe.assert_nothing_written(&mut w, "empty fetches").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_fetch_wakes_up_when_a_job_is_enqueued() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut fetcher = server.worker().await;

    let waiting = tokio::spawn(async move { fetch(&mut fetcher, "later", 25_000).await });
    // Give the fetch a moment to start waiting; correctness does not depend on it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let id = enqueue_job(&mut w, "later", "{}").await;
    let got = within("the waiting fetch", waiting)
        .await
        .expect("the fetch task")
        .expect("the waiting fetch got the job");
    assert_eq!(got.job_id, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_without_max_wait_waits_for_work() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut fetcher = server.worker().await;
    // An original client sends no max_wait_ms: the fetch waits (up to 30 s) for work.
    let waiting = tokio::spawn(async move {
        within(
            "Fetch",
            fetcher.fetch(pb::FetchRequest {
                max_wait_ms: None,
                ..fetch_req("patient", 0)
            }),
        )
        .await
        .expect("Fetch")
        .into_inner()
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let id = enqueue_job(&mut w, "patient", "{}").await;
    let got = within("the waiting fetch", waiting)
        .await
        .expect("fetch task");
    assert!(
        got.found,
        "an unset max_wait_ms must wait, not answer empty at once"
    );
    assert_eq!(got.job_id, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_stored_and_handed_to_the_worker() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue(
        &mut w,
        enqueue_req_with(
            "tagged",
            "{}",
            pb::EnqueueOptions {
                tags: [
                    ("tenant".to_owned(), "acme".to_owned()),
                    ("tier".to_owned(), "gold".to_owned()),
                ]
                .into(),
                ..Default::default()
            },
        ),
    )
    .await
    .job_id;
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(job.tags.get("tenant").map(String::as_str), Some("acme"));
    let f = fetch_some(&mut w, "tagged").await;
    let tags: serde_json::Value = serde_json::from_str(&f.tags_json).expect("tags_json is JSON");
    assert_eq!(tags, serde_json::json!({"tenant": "acme", "tier": "gold"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_fetchers_never_get_the_same_job() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    const JOBS: usize = 120;
    for i in 0..JOBS {
        enqueue_job(&mut w, "shared", &format!(r#"{{"i":{i}}}"#)).await;
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut c = server.worker().await;
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = within(
                    "FetchBatch",
                    c.fetch_batch(pb::FetchBatchRequest {
                        queues: vec!["shared".into()],
                        count: 7,
                        max_wait_ms: Some(0),
                        ..Default::default()
                    }),
                )
                .await
                .expect("FetchBatch")
                .into_inner()
                .jobs;
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|j| j.job_id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(within("a fetcher", t).await.expect("fetcher task"));
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a job was leased twice");
    assert_eq!(total, JOBS, "every job was leased");
}
