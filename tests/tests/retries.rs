//! Failed attempts: backoff, dead after max_attempts, and lease expiry as a failed attempt.

use corvo_tests::*;

async fn fail(w: &mut WorkerClient, id: &str, lease_token: u64, error: &str) -> pb::FailResponse {
    within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: id.into(),
            error: error.into(),
            lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Fail")
    .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_job_retries_after_its_fixed_backoff_and_ends_dead() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    const BACKOFF_MS: i64 = 1_000;
    let id = enqueue(
        &mut w,
        enqueue_req_with("flaky", "{}", fixed_backoff(BACKOFF_MS, 3)),
    )
    .await
    .job_id;

    // Attempts 1 and 2 fail and are retried after the backoff; attempt 3 fails for good.
    let mut lease = fetch_some(&mut w, "flaky").await;
    assert_eq!(lease.job_id, id);
    assert_eq!(lease.attempt, 1);
    assert!(lease.checkpoint_json.is_empty());
    // A checkpoint stored by a heartbeat is handed to the next attempt.
    within(
        "Heartbeat",
        w.heartbeat(pb::HeartbeatRequest {
            jobs: [(
                id.clone(),
                pb::HeartbeatJobUpdate {
                    checkpoint_json: r#"{"page":4}"#.into(),
                    lease_token: lease.lease_token,
                    ..Default::default()
                },
            )]
            .into(),
        }),
    )
    .await
    .expect("Heartbeat");
    for attempt in 1..=2 {
        let failed_at = now_ms();
        let r = fail(&mut w, &id, lease.lease_token, &format!("error {attempt}")).await;
        assert_eq!(r.status, "retrying");
        assert_eq!(r.attempts_remaining, 3 - attempt);
        let next = timestamp_ms(r.next_attempt_at.as_ref().expect("next_attempt_at"));
        assert!(
            next >= failed_at + BACKOFF_MS - 50 && next <= now_ms() + BACKOFF_MS + 50,
            "next attempt {next} is not {BACKOFF_MS} ms after the fail at {failed_at}"
        );
        let job = get_job(&mut jobs, &id).await;
        assert_eq!(job.last_error, format!("error {attempt}"));
        assert!(
            state_of(&job) == pb::JobState::Retrying || now_ms() >= next,
            "waiting for its backoff the job is retrying: {job:?}"
        );

        // The long-poll wakes up when the leader's timer makes the job pending again, and
        // never before its backoff has passed.
        lease = fetch_some(&mut w, "flaky").await;
        let received = now_ms();
        assert_eq!(lease.job_id, id);
        assert_eq!(lease.attempt, attempt + 1);
        assert_eq!(lease.checkpoint_json, r#"{"page":4}"#);
        assert!(
            received >= next,
            "leased at {received}, before the backoff ended at {next}"
        );
    }
    let r = fail(&mut w, &id, lease.lease_token, "error 3").await;
    assert_eq!(r.status, "dead");
    assert_eq!(r.attempts_remaining, 0);
    assert!(r.next_attempt_at.is_none());

    let dead = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&dead), pb::JobState::Dead);
    assert_eq!(dead.attempt, 3);
    assert_eq!(dead.last_error, "error 3");
    assert!(dead.finished_at.is_some());
    assert!(
        fetch(&mut w, "flaky", 0).await.is_none(),
        "a dead job is not delivered"
    );

    let mut events = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            job_ids: vec![id.clone()],
            ..Default::default()
        },
    )
    .await;
    let seen = events_until(&mut events, |e| e.r#type == "dead").await;
    let types: Vec<&str> = seen.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(
        types,
        [
            "enqueued", "started", "failed", "retrying", "started", "failed", "retrying",
            "started", "failed", "dead"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_expiry_retries_the_job_and_charges_an_attempt() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue(
        &mut w,
        enqueue_req_with("crashy", "{}", fixed_backoff(200, 2)),
    )
    .await
    .job_id;

    let lease = |max_wait_ms| pb::FetchRequest {
        lease_duration: 1,
        ..fetch_req("crashy", max_wait_ms)
    };
    let first = within("Fetch", w.fetch(lease(20_000)))
        .await
        .expect("Fetch")
        .into_inner();
    assert!(first.found);
    assert_eq!(first.attempt, 1);
    assert_eq!(first.lease_duration, 1);

    // The worker "crashes": no heartbeat, no ack. After about a second the lease expires.
    let reclaimed = wait_for_job(&mut jobs, &id, "its lease expired", |j| {
        state_of(j) != pb::JobState::Active
    })
    .await;
    assert!(
        matches!(
            state_of(&reclaimed),
            pb::JobState::Retrying | pb::JobState::Pending
        ),
        "{reclaimed:?}"
    );
    assert_eq!(reclaimed.last_error, "lease expired");
    assert_eq!(reclaimed.attempt, 1, "the expired lease used attempt 1");
    assert!(now_ms() >= first.lease_deadline_ms);

    let second = within("Fetch", w.fetch(lease(20_000)))
        .await
        .expect("Fetch")
        .into_inner();
    assert!(second.found);
    assert_eq!(second.job_id, id);
    assert_eq!(second.attempt, 2);
    assert_ne!(second.lease_token, first.lease_token);

    // The second lease expires too: no attempts left, so the job is dead.
    let dead = wait_for_job(&mut jobs, &id, "the last lease expired", |j| {
        state_of(j) != pb::JobState::Active
    })
    .await;
    assert_eq!(state_of(&dead), pb::JobState::Dead);
    assert_eq!(dead.attempt, 2);
    assert_eq!(dead.last_error, "lease expired");

    let mut events = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            job_ids: vec![id.clone()],
            ..Default::default()
        },
    )
    .await;
    let seen = events_until(&mut events, |e| e.r#type == "dead").await;
    let types: Vec<&str> = seen.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(
        types,
        [
            "enqueued",
            "started",
            "reclaimed",
            "retrying",
            "started",
            "reclaimed",
            "dead"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_lease_alive_past_its_duration() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue_job(&mut w, "long", "{}").await;
    let f = within(
        "Fetch",
        w.fetch(pb::FetchRequest {
            lease_duration: 5,
            ..fetch_req("long", 20_000)
        }),
    )
    .await
    .expect("Fetch")
    .into_inner();
    assert_eq!(f.job_id, id);

    // Heartbeat every 250 ms for well past the lease duration (5 s; generous, so a stalled
    // machine does not let it expire between two heartbeats).
    let until = now_ms() + 7_000;
    let mut deadline = f.lease_deadline_ms;
    while now_ms() < until {
        let hb = within("Heartbeat", w.heartbeat(heartbeat_req(&id, f.lease_token)))
            .await
            .expect("Heartbeat")
            .into_inner();
        let answer = &hb.jobs[&id];
        assert_eq!(answer.status, "ok", "{answer:?}");
        assert!(
            answer.lease_deadline_ms >= deadline,
            "a deadline never moves back"
        );
        deadline = answer.lease_deadline_ms;
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&job), pb::JobState::Active);
    assert_eq!(job.attempt, 1);
    assert_eq!(job.lease_token, f.lease_token);
}
