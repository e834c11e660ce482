//! JobService: cancel (and how an active job's worker learns it), retry, delete.

use corvo_tests::*;
use tonic::Code;

async fn cancel(jobs: &mut JobClient, id: &str) -> Result<pb::CancelJobResponse, tonic::Status> {
    within(
        "CancelJob",
        jobs.cancel_job(pb::CancelJobRequest { job_id: id.into() }),
    )
    .await
    .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_an_active_job_reaches_the_worker_through_heartbeat() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue_job(&mut w, "cancellable", "{}").await;
    let f = fetch_some(&mut w, "cancellable").await;

    let r = cancel(&mut jobs, &id).await.expect("CancelJob");
    assert_eq!(r.state, pb::JobState::Cancelled as i32);
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(state_of(&job), pb::JobState::Cancelled);
    assert_eq!(job.lease_token, 0, "the lease was revoked");

    // The worker's next heartbeat tells it to stop.
    let hb = within("Heartbeat", w.heartbeat(heartbeat_req(&id, f.lease_token)))
        .await
        .expect("Heartbeat")
        .into_inner();
    let answer = &hb.jobs[&id];
    assert_eq!(
        (answer.status.as_str(), answer.reason.as_str()),
        ("cancel", "cancelled")
    );

    // A late ack with the revoked lease changes nothing.
    let late = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id.clone(),
            lease_token: f.lease_token,
            ..Default::default()
        }),
    )
    .await;
    assert_status(late, Code::FailedPrecondition, &id);
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Cancelled
    );

    // Cancelling a finished job is refused.
    let again = cancel(&mut jobs, &id).await;
    assert_status(again, Code::FailedPrecondition, &id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_an_active_job_reaches_the_stream_worker_unsolicited() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue_job(&mut w, "cancellable", "{}").await;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["cancellable"], 1)).await;
    let job = s.pushed_jobs(1).await.remove(0);
    assert_eq!(job.job_id, id);

    cancel(&mut jobs, &id).await.expect("CancelJob");
    let notice = s.next_unsolicited().await;
    assert_eq!(notice.request_id, 0);
    assert_eq!(notice.cancel_job_ids, vec![id.clone()], "{notice:?}");
    assert!(notice.jobs.is_empty());

    // A heartbeat on the stream says the same, per item.
    let r = s
        .call(pb::StreamLifecycleRequest {
            heartbeats: vec![pb::LifecycleHeartbeatItem {
                job_id: id.clone(),
                lease_token: job.lease_token,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(r.cancel_job_ids, vec![id.clone()]);
    assert_eq!(r.heartbeat_results[0].message, "cancelled", "{r:?}");

    // And an ack of it is stale.
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&job)],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 0);
    assert_eq!(r.ack_results[0].code, pb::ErrorCode::StaleLease as i32);
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_a_pending_or_scheduled_job_takes_it_out_of_the_queue() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let pending = enqueue_job(&mut w, "gone", "{}").await;
    let scheduled = enqueue(
        &mut w,
        enqueue_req_with(
            "gone",
            "{}",
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(now_ms() + 1_000)),
                ..Default::default()
            },
        ),
    )
    .await
    .job_id;
    for id in [&pending, &scheduled] {
        let r = cancel(&mut jobs, id).await.expect("CancelJob");
        assert_eq!(r.state, pb::JobState::Cancelled as i32);
    }
    // Not delivered now, nor when the schedule would have come.
    assert!(fetch(&mut w, "gone", 2_000).await.is_none());
    assert_eq!(
        state_of(&get_job(&mut jobs, &scheduled).await),
        pb::JobState::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_delete_of_finished_jobs() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;

    let id = enqueue(
        &mut w,
        enqueue_req_with("ops", "{}", fixed_backoff(1_000, 1)),
    )
    .await
    .job_id;
    let f = fetch_some(&mut w, "ops").await;
    let r = within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: id.clone(),
            error: "no retries".into(),
            lease_token: f.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Fail")
    .into_inner();
    assert_eq!(r.status, "dead");

    // RetryJob puts a dead job back to pending with a fresh attempt budget.
    let retried = within(
        "RetryJob",
        jobs.retry_job(pb::RetryJobRequest { job_id: id.clone() }),
    )
    .await
    .expect("RetryJob")
    .into_inner();
    assert_eq!(retried.state, pb::JobState::Pending as i32);
    let again = fetch_some(&mut w, "ops").await;
    assert_eq!(again.job_id, id);
    assert_eq!(again.attempt, 1, "a retried job starts over");

    // An active job can be neither deleted nor retried.
    let r = within(
        "DeleteJob",
        jobs.delete_job(pb::DeleteJobRequest { job_id: id.clone() }),
    )
    .await;
    assert_status(r, Code::FailedPrecondition, &id);
    let r = within(
        "RetryJob",
        jobs.retry_job(pb::RetryJobRequest { job_id: id.clone() }),
    )
    .await;
    assert_status(r, Code::FailedPrecondition, &id);
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Active
    );

    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id.clone(),
            lease_token: again.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
    within(
        "DeleteJob",
        jobs.delete_job(pb::DeleteJobRequest { job_id: id.clone() }),
    )
    .await
    .expect("DeleteJob");
    let gone = within(
        "GetJob",
        jobs.get_job(pb::GetJobRequest { job_id: id.clone() }),
    )
    .await;
    assert_status(gone, Code::NotFound, &id);

    let mut events = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            job_ids: vec![id.clone()],
            ..Default::default()
        },
    )
    .await;
    let seen = events_until(&mut events, |e| e.r#type == "deleted").await;
    let types: Vec<&str> = seen.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(
        types,
        [
            "enqueued",
            "started",
            "failed",
            "dead",
            "requeued",
            "started",
            "completed",
            "deleted"
        ]
    );
}
