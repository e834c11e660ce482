//! Lease fencing: a nonzero lease token that is not the job's current lease is refused with
//! FAILED_PRECONDITION (unary) or STALE_LEASE (per item), and changes nothing.

use corvo_tests::*;
use tonic::Code;

/// A job that was leased twice: the first lease (token `stale`) failed and the job is active
/// again under `current`.
struct Reassigned {
    id: String,
    stale: u64,
    current: u64,
}

async fn reassigned_job(w: &mut WorkerClient, queue: &str) -> Reassigned {
    let id = enqueue(
        w,
        enqueue_req_with(
            queue,
            "{}",
            pb::EnqueueOptions {
                max_attempts: 5,
                backoff: Some(pb::BackoffPolicy {
                    kind: pb::BackoffKind::None.into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    )
    .await
    .job_id;
    let first = fetch_some(w, queue).await;
    within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: id.clone(),
            error: "first attempt".into(),
            lease_token: first.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Fail");
    let second = fetch_some(w, queue).await;
    assert_eq!(second.job_id, id);
    assert_eq!(second.attempt, 2);
    assert_ne!(second.lease_token, first.lease_token);
    Reassigned {
        id,
        stale: first.lease_token,
        current: second.lease_token,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_lease_token_on_ack_is_rejected_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let job = reassigned_job(&mut w, "fenced").await;
    let mut probe = WriteProbe::new(&mut w).await;
    let before = get_job(&mut jobs, &job.id).await;

    for token in [job.stale, u64::MAX] {
        let r = within(
            "Ack",
            w.ack(pb::AckRequest {
                job_id: job.id.clone(),
                result_json: r#"{"late":true}"#.into(),
                lease_token: token,
                ..Default::default()
            }),
        )
        .await;
        assert_status(r, Code::FailedPrecondition, &job.id);
    }
    assert_eq!(get_job(&mut jobs, &job.id).await, before);
    probe.assert_nothing_written(&mut w, "stale acks").await;

    // The current lease still completes the job.
    let ok = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: job.id.clone(),
            lease_token: job.current,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack with the current token")
    .into_inner();
    assert_eq!(ok.state, pb::JobState::Completed as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_lease_token_on_fail_is_rejected_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let job = reassigned_job(&mut w, "fenced").await;
    let mut probe = WriteProbe::new(&mut w).await;
    let before = get_job(&mut jobs, &job.id).await;

    let r = within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: job.id.clone(),
            error: "late failure".into(),
            lease_token: job.stale,
            ..Default::default()
        }),
    )
    .await;
    assert_status(r, Code::FailedPrecondition, &job.id);
    let after = get_job(&mut jobs, &job.id).await;
    assert_eq!(after, before);
    assert_eq!(after.last_error, "first attempt");
    probe.assert_nothing_written(&mut w, "a stale fail").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_lease_token_on_heartbeat_fails_the_call_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let job = reassigned_job(&mut w, "fenced").await;
    let mut probe = WriteProbe::new(&mut w).await;
    let before = get_job(&mut jobs, &job.id).await;

    let r = within(
        "Heartbeat",
        w.heartbeat(pb::HeartbeatRequest {
            jobs: [(
                job.id.clone(),
                pb::HeartbeatJobUpdate {
                    progress_json: r#"{"pct":99}"#.into(),
                    checkpoint_json: r#"{"page":9}"#.into(),
                    lease_token: job.stale,
                    ..Default::default()
                },
            )]
            .into(),
        }),
    )
    .await;
    assert_status(r, Code::FailedPrecondition, &job.id);
    let after = get_job(&mut jobs, &job.id).await;
    assert_eq!(
        after, before,
        "no progress, no checkpoint, no lease extension"
    );
    probe
        .assert_nothing_written(&mut w, "a stale heartbeat")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_with_current_and_stale_tokens_answers_each_job() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let stale = reassigned_job(&mut w, "fenced").await;
    let live_id = enqueue_job(&mut w, "other", "{}").await;
    let live = fetch_some(&mut w, "other").await;
    let stale_before = get_job(&mut jobs, &stale.id).await;

    let hb = within(
        "Heartbeat",
        w.heartbeat(pb::HeartbeatRequest {
            jobs: [
                (
                    stale.id.clone(),
                    pb::HeartbeatJobUpdate {
                        progress_json: r#"{"pct":1}"#.into(),
                        lease_token: stale.stale,
                        ..Default::default()
                    },
                ),
                (
                    live_id.clone(),
                    pb::HeartbeatJobUpdate {
                        progress_json: r#"{"pct":2}"#.into(),
                        lease_token: live.lease_token,
                        ..Default::default()
                    },
                ),
            ]
            .into(),
        }),
    )
    .await
    .expect("a heartbeat with one current token succeeds")
    .into_inner();
    let s = &hb.jobs[&stale.id];
    assert_eq!(
        (s.status.as_str(), s.reason.as_str()),
        ("cancel", "stale_lease")
    );
    let l = &hb.jobs[&live_id];
    assert_eq!(l.status, "ok");
    assert!(l.lease_deadline_ms >= live.lease_deadline_ms);

    assert_eq!(get_job(&mut jobs, &stale.id).await, stale_before);
    assert_eq!(
        get_job(&mut jobs, &live_id).await.progress_json,
        r#"{"pct":2}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_lease_tokens_on_the_stream_are_reported_per_item_and_change_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let job = reassigned_job(&mut w, "fenced").await;
    let mut probe = WriteProbe::new(&mut w).await;
    let before = get_job(&mut jobs, &job.id).await;

    let mut s = Lifecycle::open(&mut w).await;
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![pb::AckBatchItem {
                job_id: job.id.clone(),
                lease_token: job.stale,
                ..Default::default()
            }],
            fails: vec![pb::LifecycleFailItem {
                job_id: job.id.clone(),
                error: "late".into(),
                lease_token: job.stale,
                ..Default::default()
            }],
            heartbeats: vec![pb::LifecycleHeartbeatItem {
                job_id: job.id.clone(),
                progress_json: r#"{"pct":5}"#.into(),
                lease_token: job.stale,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 0, "{r:?}");
    assert_eq!(r.ack_results[0].code, pb::ErrorCode::StaleLease as i32);
    assert_eq!(r.fail_results[0].code, pb::ErrorCode::StaleLease as i32);
    assert_eq!(
        r.heartbeat_results[0].code,
        pb::ErrorCode::StaleLease as i32
    );
    assert_eq!(r.error_code, pb::ErrorCode::StaleLease as i32);
    assert_eq!(
        r.cancel_job_ids,
        vec![job.id.clone()],
        "the worker must stop it"
    );

    assert_eq!(get_job(&mut jobs, &job.id).await, before);
    probe
        .assert_nothing_written(&mut w, "stale items on the stream")
        .await;

    // The current holder still acks it over its own stream.
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![pb::AckBatchItem {
                job_id: job.id.clone(),
                lease_token: job.current,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");
}
