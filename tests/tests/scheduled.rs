//! Time: scheduled jobs are not fetchable before `scheduled_at` and are after; jobs that do
//! not start within `expire_after_ms` die "expired".

use corvo_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_job_is_not_fetchable_before_its_time_and_is_after() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let at = now_ms() + 2_000;
    let r = enqueue(
        &mut w,
        enqueue_req_with(
            "later",
            "{}",
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(at)),
                ..Default::default()
            },
        ),
    )
    .await;
    // (Unless the machine is so slow that the time had come when the enqueue was applied.)
    if r.status == "scheduled" {
        assert_eq!(r.state, pb::JobState::Scheduled as i32);
        let job = get_job(&mut jobs, &r.job_id).await;
        let scheduled_at = job.scheduled_at.as_ref().expect("scheduled_at");
        assert_eq!(timestamp_ms(scheduled_at), at);
    } else {
        assert!(now_ms() >= at, "{r:?}");
    }

    // Before its time nothing is delivered. (If this machine is so slow that the time has
    // already come, the only thing to check is that a delivery is not early.)
    let f = match fetch(&mut w, "later", 0).await {
        Some(early) => {
            assert!(now_ms() >= at, "delivered before scheduled_at: {early:?}");
            early
        }
        None => {
            let state = state_of(&get_job(&mut jobs, &r.job_id).await);
            assert!(
                state == pb::JobState::Scheduled || now_ms() >= at,
                "{state:?}"
            );
            // A long-poll is woken by the leader's timer when the time comes.
            fetch_some(&mut w, "later").await
        }
    };
    let received = now_ms();
    assert_eq!(f.job_id, r.job_id);
    assert!(
        received >= at,
        "delivered at {received}, scheduled for {at}"
    );
    assert_eq!(f.attempt, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_at_in_the_past_is_pending_at_once() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let r = enqueue(
        &mut w,
        enqueue_req_with(
            "now",
            "{}",
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(now_ms() - 60_000)),
                ..Default::default()
            },
        ),
    )
    .await;
    assert_eq!(r.status, "pending");
    let f = fetch(&mut w, "now", 0).await.expect("fetchable at once");
    assert_eq!(f.job_id, r.job_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_jobs_are_pushed_to_streams_when_their_time_comes() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let base = now_ms() + 1_500;
    // Enqueued in reverse time order.
    let mut ids = Vec::new();
    for offset in [1_000, 500, 0] {
        let r = enqueue(
            &mut w,
            enqueue_req_with(
                "timed",
                "{}",
                pb::EnqueueOptions {
                    scheduled_at: Some(timestamp_from_ms(base + offset)),
                    ..Default::default()
                },
            ),
        )
        .await;
        assert!(
            r.status == "scheduled" || now_ms() >= base + offset,
            "{r:?}"
        );
        ids.push((base + offset, r.job_id));
    }
    let scheduled: std::collections::HashMap<String, i64> =
        ids.into_iter().map(|(at, id)| (id, at)).collect();
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["timed"], 3)).await;
    let mut got = Vec::new();
    while got.len() < 3 {
        let r = s.next_unsolicited().await;
        let at = now_ms();
        for j in r.jobs {
            got.push((at, j.job_id));
        }
    }
    // Each one no earlier than its time. (The order is not asserted: on a slow machine two of
    // them can become ready in the same tick, and then enqueue order decides.)
    for (received, id) in &got {
        let at = scheduled[id];
        assert!(
            *received >= at,
            "{id} pushed at {received}, scheduled for {at}"
        );
    }
    let mut ids: Vec<&String> = got.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_that_does_not_start_within_expire_after_dies_expired() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let expiring = |ms| pb::EnqueueOptions {
        expire_after_ms: ms,
        ..Default::default()
    };
    let idle = enqueue(&mut w, enqueue_req_with("perishable", "{}", expiring(500)))
        .await
        .job_id;
    let started = enqueue(
        &mut w,
        enqueue_req_with("perishable-started", "{}", expiring(2_000)),
    )
    .await
    .job_id;
    let f = fetch(&mut w, "perishable-started", 0).await;

    let dead = wait_for_job(&mut jobs, &idle, "it expired", |j| {
        state_of(j) == pb::JobState::Dead
    })
    .await;
    assert_eq!(dead.last_error, "expired");
    assert!(fetch(&mut w, "perishable", 0).await.is_none());

    // A job that started in time does not expire, even after its expiry time. (Unless this
    // machine was too slow to start it within 2 s: then it expired like the other one.)
    let job = get_job(&mut jobs, &started).await;
    let expire_at = timestamp_ms(job.expire_at.as_ref().expect("expire_at"));
    match f {
        Some(f) => {
            assert_eq!(f.job_id, started);
            while now_ms() <= expire_at + 100 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(
                state_of(&get_job(&mut jobs, &started).await),
                pb::JobState::Active
            );
        }
        None => {
            let job = wait_for_job(&mut jobs, &started, "it expired", |j| {
                state_of(j) == pb::JobState::Dead
            })
            .await;
            assert_eq!(job.last_error, "expired");
        }
    }

    let mut events = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            job_ids: vec![idle.clone()],
            ..Default::default()
        },
    )
    .await;
    let seen = events_until(&mut events, |e| e.r#type == "expired").await;
    let types: Vec<&str> = seen.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["enqueued", "expired"]);
}
