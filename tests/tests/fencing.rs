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

/// A legacy fetch frame (the original contract: no credits, no tokens) for one job of `queue`.
fn legacy_fetch(queue: &str, worker: &str, lease_secs: i32) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        queues: vec![queue.into()],
        worker_id: worker.into(),
        fetch_count: 1,
        lease_duration: lease_secs,
        ..Default::default()
    }
}

/// A token-less ack, fail and heartbeat, as the original contract sends them.
fn tokenless(job_id: &str) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        acks: vec![pb::AckBatchItem {
            job_id: job_id.into(),
            ..Default::default()
        }],
        fails: vec![pb::LifecycleFailItem {
            job_id: job_id.into(),
            error: "not mine".into(),
            ..Default::default()
        }],
        heartbeats: vec![pb::LifecycleHeartbeatItem {
            job_id: job_id.into(),
            progress_json: r#"{"pct":1}"#.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Fencing without tokens: on a worker stream, a token-less ack, fail or heartbeat is accepted
/// only from the stream that holds the job's lease; from any other it is refused like a stale
/// token and changes nothing. The holder's own token-less ack still works (old workers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokenless_items_from_a_stream_that_does_not_hold_the_lease_are_refused() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue(&mut w, enqueue_req("legacy", "{}")).await.job_id;

    let mut holder = Lifecycle::open(&mut w).await;
    let r = holder.call(legacy_fetch("legacy", "holder", 60)).await;
    assert_eq!(r.jobs.len(), 1, "{r:?}");
    assert_eq!(r.jobs[0].job_id, id);

    let mut other = Lifecycle::open(&mut w).await;
    let before = get_job(&mut jobs, &id).await;
    let mut probe = WriteProbe::new(&mut w).await;
    let r = other.call(tokenless(&id)).await;
    assert_eq!(r.acked, 0, "{r:?}");
    assert_eq!(
        r.ack_results[0].code,
        pb::ErrorCode::StaleLease as i32,
        "{r:?}"
    );
    assert_eq!(r.fail_results[0].code, pb::ErrorCode::StaleLease as i32);
    assert_eq!(
        r.heartbeat_results[0].code,
        pb::ErrorCode::StaleLease as i32
    );
    assert_eq!(get_job(&mut jobs, &id).await, before, "nothing changed");
    probe
        .assert_nothing_written(&mut w, "token-less items from a non-holder")
        .await;

    // The holder settles it without a token, as workers of the original contract do.
    let r = holder
        .call(pb::StreamLifecycleRequest {
            acks: vec![pb::AckBatchItem {
                job_id: id.clone(),
                result_json: r#"{"ok":true}"#.into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(job.state, pb::JobState::Completed as i32);
}

/// The fencing that matters: a worker whose lease ran out (the job was leased again by another
/// stream) can no longer settle the job without a token; before, its late ack would have
/// completed the job under the new holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokenless_ack_after_the_lease_moved_to_another_stream_is_refused() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue(
        &mut w,
        enqueue_req_with(
            "moved",
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
    let mut slow = Lifecycle::open(&mut w).await;
    let r = slow.call(legacy_fetch("moved", "slow", 1)).await;
    assert_eq!(r.jobs.len(), 1, "{r:?}");

    // The 1 s lease expires; the job is ready again and another stream leases it.
    let mut next = Lifecycle::open(&mut w).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let second = loop {
        let r = next.call(legacy_fetch("moved", "next", 60)).await;
        if let Some(job) = r.jobs.into_iter().next() {
            break job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job was not leased again"
        );
    };
    assert_eq!(second.job_id, id);
    assert_eq!(second.attempt, 2);

    let r = slow
        .call(pb::StreamLifecycleRequest {
            acks: vec![pb::AckBatchItem {
                job_id: id.clone(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 0, "{r:?}");
    assert_eq!(r.ack_results[0].code, pb::ErrorCode::StaleLease as i32);
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(
        job.state,
        pb::JobState::Active as i32,
        "still the new holder's"
    );

    let r = next
        .call(pb::StreamLifecycleRequest {
            acks: vec![pb::AckBatchItem {
                job_id: id.clone(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "the new holder settles it: {r:?}");
}

/// Unary token-less settles stay accepted by default (compatibility); with
/// `--require-lease-tokens` every token-less ack, fail and heartbeat is refused, unary and on
/// streams, naming the field, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_lease_tokens_refuses_every_tokenless_item() {
    let open = TestServer::start().await;
    let mut w = open.worker().await;
    let id = enqueue(&mut w, enqueue_req("u", "{}")).await.job_id;
    fetch_some(&mut w, "u").await;
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id,
            ..Default::default()
        }),
    )
    .await
    .expect("a token-less unary ack is accepted by default");

    let strict = TestServer::builder()
        .args(&["--require-lease-tokens"])
        .start()
        .await;
    let mut w = strict.worker().await;
    let mut jobs = strict.jobs().await;
    let id = enqueue(&mut w, enqueue_req("u", "{}")).await.job_id;
    let leased = fetch_some(&mut w, "u").await;
    let before = get_job(&mut jobs, &id).await;
    let e = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id.clone(),
            ..Default::default()
        }),
    )
    .await
    .expect_err("token-less");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("lease_token"), "{e:?}");
    assert!(e.message().contains("--require-lease-tokens"), "{e:?}");
    let e = within(
        "Fail",
        w.fail(pb::FailRequest {
            job_id: id.clone(),
            error: "x".into(),
            ..Default::default()
        }),
    )
    .await
    .expect_err("token-less");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");

    let mut s = Lifecycle::open(&mut w).await;
    let r = s.call(tokenless(&id)).await;
    assert_eq!(r.acked, 0, "{r:?}");
    assert_eq!(r.error_code, pb::ErrorCode::InvalidArgument as i32, "{r:?}");
    assert!(r.error.contains("lease_token"), "{r:?}");
    assert_eq!(get_job(&mut jobs, &id).await, before, "nothing changed");

    // With its token it works as ever.
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id,
            lease_token: leased.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("an ack with its token");
}
