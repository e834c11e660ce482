//! StreamLifecycle: credit-based pushes, frames that carry acks, fails, heartbeats and
//! enqueues, and invalid frames.

use std::time::Duration;

use corvo_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_stream_pushes_jobs_as_they_become_ready_and_acks_complete_them() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut s = Lifecycle::open(&mut w).await;

    let granted = s.call(credit_frame(&["work"], 2)).await;
    assert!(granted.error.is_empty(), "{granted:?}");
    assert!(granted.jobs.is_empty(), "nothing is ready yet");

    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(enqueue_job(&mut w, "work", &format!(r#"{{"i":{i}}}"#)).await);
    }
    let pushed = s.pushed_jobs(2).await;
    let got: Vec<&str> = pushed.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(got, ids[..2], "two credits: the two oldest jobs, in order");
    for j in &pushed {
        assert_ne!(j.lease_token, 0);
        assert_eq!(j.attempt, 1);
        assert_eq!(j.queue, "work");
    }

    // No credit left: the third job stays pending (the state is the proof; the quiet period
    // only makes an early push visible here rather than later).
    if let Some(extra) = s.recv_within(Duration::from_millis(500)).await {
        panic!("pushed beyond the credits granted: {extra:?}");
    }
    assert_eq!(
        state_of(&get_job(&mut jobs, &ids[2]).await),
        pb::JobState::Pending
    );

    // Ack both in one frame and grant one more credit.
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: pushed.iter().map(ack_item).collect(),
            ..credit_frame(&["work"], 1)
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.acked, 2);
    assert_eq!(r.ack_results.len(), 2);
    for (res, j) in r.ack_results.iter().zip(&pushed) {
        assert_eq!(res.job_id, j.job_id);
        assert_eq!(res.code, pb::ErrorCode::Unspecified as i32);
        assert_eq!(res.state, pb::JobState::Completed as i32);
    }
    let third = s.pushed_jobs(1).await;
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].job_id, ids[2]);

    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&third[0])],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");
    assert_eq!(r.credits, 0, "every credit was used");
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credits_add_up_across_frames_without_repeating_the_queues() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    let first = s.call(credit_frame(&["adds"], 1)).await;
    assert!(first.error.is_empty(), "{first:?}");
    // A frame that only grants credits keeps working on the queues named before.
    let more = s
        .call(pb::StreamLifecycleRequest {
            credits: 2,
            ..Default::default()
        })
        .await;
    assert!(
        more.error.is_empty(),
        "a credit-only frame was refused: {more:?}"
    );
    assert_eq!(more.credits, 3);
    for _ in 0..4 {
        enqueue_job(&mut w, "adds", "{}").await;
    }
    let pushed = s.pushed_jobs(3).await;
    assert_eq!(pushed.len(), 3, "three credits, three jobs");
    if let Some(extra) = s.recv_within(Duration::from_millis(500)).await {
        panic!("pushed beyond the credits granted: {extra:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_frame_carries_enqueues_heartbeats_fails_and_acks() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut s = Lifecycle::open(&mut w).await;

    let enqueue_item = |payload: &str| pb::LifecycleEnqueueItem {
        queue: "mixed".into(),
        payload_json: payload.into(),
        options: Some(fixed_backoff(60_000, 3)),
        ..Default::default()
    };
    let r = s
        .call(pb::StreamLifecycleRequest {
            enqueues: vec![enqueue_item(r#"{"n":1}"#), enqueue_item(r#"{"n":2}"#)],
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.enqueued_job_ids.len(), 2);
    assert_eq!(r.enqueue_results.len(), 2);
    for (id, res) in r.enqueued_job_ids.iter().zip(&r.enqueue_results) {
        assert!(is_ulid(id), "{id:?}");
        assert_eq!(&res.job_id, id);
        assert_eq!(res.code, pb::ErrorCode::Unspecified as i32);
        assert_eq!(res.state, pb::JobState::Pending as i32);
    }
    let ids = r.enqueued_job_ids.clone();

    s.call(credit_frame(&["mixed"], 2)).await;
    let leased = s.pushed_jobs(2).await;
    let (a, b) = (&leased[0], &leased[1]);
    assert_eq!(a.job_id, ids[0]);
    assert_eq!(b.job_id, ids[1]);

    let r = s
        .call(pb::StreamLifecycleRequest {
            heartbeats: vec![pb::LifecycleHeartbeatItem {
                job_id: a.job_id.clone(),
                progress_json: r#"{"pct":10}"#.into(),
                lease_token: a.lease_token,
                ..Default::default()
            }],
            fails: vec![pb::LifecycleFailItem {
                job_id: b.job_id.clone(),
                error: "upstream 503".into(),
                lease_token: b.lease_token,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.heartbeat_results.len(), 1);
    assert_eq!(
        r.heartbeat_results[0].code,
        pb::ErrorCode::Unspecified as i32
    );
    assert_eq!(r.fail_results.len(), 1);
    assert_eq!(r.fail_results[0].state, pb::JobState::Retrying as i32);
    assert!(r.cancel_job_ids.is_empty());

    let failed = get_job(&mut jobs, &b.job_id).await;
    assert_eq!(state_of(&failed), pb::JobState::Retrying);
    assert_eq!(failed.last_error, "upstream 503");
    assert_eq!(
        get_job(&mut jobs, &a.job_id).await.progress_json,
        r#"{"pct":10}"#
    );

    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(a)],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");
    assert_eq!(
        state_of(&get_job(&mut jobs, &a.job_id).await),
        pb::JobState::Completed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_of_an_unknown_job_on_the_stream_is_reported_per_item_and_the_rest_applies() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let mut s = Lifecycle::open(&mut w).await;
    let id = enqueue_job(&mut w, "partial", "{}").await;
    s.call(credit_frame(&["partial"], 1)).await;
    let job = s.pushed_jobs(1).await.remove(0);
    let unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![
                pb::AckBatchItem {
                    job_id: unknown.into(),
                    lease_token: 7,
                    ..Default::default()
                },
                ack_item(&job),
            ],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");
    assert_eq!(r.ack_results[0].code, pb::ErrorCode::NotFound as i32);
    assert_eq!(r.ack_results[1].code, pb::ErrorCode::Unspecified as i32);
    assert_eq!(
        r.error_code,
        pb::ErrorCode::NotFound as i32,
        "the first error of the frame"
    );
    assert!(r.error.starts_with("ack:"), "{:?}", r.error);
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Completed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_frame_gets_invalid_argument_naming_the_field_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue_job(&mut w, "strict", "{}").await;
    let f = fetch_some(&mut w, "strict").await;
    let mut probe = WriteProbe::new(&mut w).await;
    let before = get_job(&mut jobs, &id).await;

    let mut s = Lifecycle::open(&mut w).await;
    let cases: Vec<(&str, pb::StreamLifecycleRequest)> = vec![
        (
            // A valid ack next to an invalid enqueue: the whole frame is refused.
            "enqueues[0].payload_json",
            pb::StreamLifecycleRequest {
                acks: vec![pb::AckBatchItem {
                    job_id: id.clone(),
                    lease_token: f.lease_token,
                    ..Default::default()
                }],
                enqueues: vec![pb::LifecycleEnqueueItem {
                    queue: "strict".into(),
                    payload_json: "{not json".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ),
        (
            "acks[0].result_json",
            pb::StreamLifecycleRequest {
                acks: vec![pb::AckBatchItem {
                    job_id: id.clone(),
                    result_json: "{oops".into(),
                    lease_token: f.lease_token,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ),
        (
            "enqueues[1].options.priority",
            pb::StreamLifecycleRequest {
                enqueues: vec![
                    pb::LifecycleEnqueueItem {
                        queue: "strict".into(),
                        ..Default::default()
                    },
                    pb::LifecycleEnqueueItem {
                        queue: "strict".into(),
                        options: Some(pb::EnqueueOptions {
                            priority: 99,
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
        ),
        ("credits", credit_frame(&["strict"], -1)),
        ("credits", credit_frame(&["strict"], 5_000)),
        (
            "fetch_count",
            pb::StreamLifecycleRequest {
                fetch_count: -1,
                ..credit_frame(&["strict"], 0)
            },
        ),
        ("queues", credit_frame(&["bad queue"], 1)),
        (
            "lease_duration",
            pb::StreamLifecycleRequest {
                lease_duration: -1,
                ..credit_frame(&["strict"], 1)
            },
        ),
        (
            "heartbeats[0].progress_json",
            pb::StreamLifecycleRequest {
                heartbeats: vec![pb::LifecycleHeartbeatItem {
                    job_id: id.clone(),
                    progress_json: "[1,2]".into(),
                    lease_token: f.lease_token,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ),
        (
            "fails[0].job_id",
            pb::StreamLifecycleRequest {
                fails: vec![pb::LifecycleFailItem::default()],
                ..Default::default()
            },
        ),
    ];
    for (field, frame) in cases {
        let r = s.call(frame).await;
        assert_eq!(
            r.error_code,
            pb::ErrorCode::InvalidArgument as i32,
            "{field}: {r:?}"
        );
        assert!(
            r.error.contains(field),
            "{field}: the error {:?} does not name it",
            r.error
        );
        assert_eq!(r.acked, 0, "{field}");
        assert!(
            r.jobs.is_empty() && r.enqueued_job_ids.is_empty(),
            "{field}: {r:?}"
        );
        // An empty frame is valid (and keeps the count of invalid frames in a row low).
        let ok = s.call(pb::StreamLifecycleRequest::default()).await;
        assert!(ok.error.is_empty(), "{ok:?}");
    }
    // Still usable after the invalid frames.
    let r = s
        .call(pb::StreamLifecycleRequest {
            heartbeats: vec![pb::LifecycleHeartbeatItem {
                job_id: id.clone(),
                lease_token: f.lease_token,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    // That heartbeat moved the lease deadline but wrote no event; compare everything else.
    let after = get_job(&mut jobs, &id).await;
    assert_eq!(
        pb::Job {
            lease_deadline: None,
            ..after
        },
        pb::Job {
            lease_deadline: None,
            ..before
        }
    );
    probe.assert_nothing_written(&mut w, "invalid frames").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_invalid_frames_in_a_row_close_the_stream() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    for i in 1..=9 {
        let r = s.call(credit_frame(&["q"], -1)).await;
        assert_eq!(
            r.error_code,
            pb::ErrorCode::InvalidArgument as i32,
            "frame {i}"
        );
    }
    // A valid frame resets the count.
    let ok = s.call(credit_frame(&["q"], 0)).await;
    assert!(ok.error.is_empty(), "{ok:?}");
    for i in 1..=9 {
        let r = s.call(credit_frame(&["q"], -1)).await;
        assert_eq!(
            r.error_code,
            pb::ErrorCode::InvalidArgument as i32,
            "frame {i}"
        );
    }
    s.send(pb::StreamLifecycleRequest {
        request_id: 99,
        credits: -1,
        ..Default::default()
    })
    .await;
    let tenth = s
        .recv()
        .await
        .expect("the response to the tenth invalid frame");
    let tenth = tenth.expect("a response before the end");
    assert_eq!(tenth.request_id, 99);
    assert_eq!(tenth.error_code, pb::ErrorCode::InvalidArgument as i32);
    match s.recv().await {
        Err(status) => assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status}"),
        Ok(other) => panic!("the stream stayed open after ten invalid frames: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_of_a_streamed_job_is_revoked_with_cancel_job_ids() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let id = enqueue(
        &mut w,
        enqueue_req_with("short", "{}", fixed_backoff(60_000, 2)),
    )
    .await
    .job_id;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(pb::StreamLifecycleRequest {
        lease_duration: 1,
        ..credit_frame(&["short"], 1)
    })
    .await;
    let job = s.pushed_jobs(1).await.remove(0);
    assert_eq!(job.job_id, id);
    assert_eq!(job.lease_duration, 1);
    // No heartbeat: after about a second the lease runs out and the worker is told to stop.
    let notice = s.next_unsolicited().await;
    assert_eq!(notice.cancel_job_ids, vec![id.clone()], "{notice:?}");
    assert!(notice.jobs.is_empty());
}

/// A frame's heartbeats are applied before its outcomes: a job's last checkpoint, sent with
/// its fail in one frame, is handed to the next attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_checkpoint_sent_with_the_fail_reaches_the_next_attempt() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let id = enqueue(
        &mut w,
        enqueue_req_with("last-words", "{}", fixed_backoff(10, 2)),
    )
    .await
    .job_id;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["last-words"], 1)).await;
    let job = s.pushed_jobs(1).await.remove(0);
    let r = s
        .call(pb::StreamLifecycleRequest {
            heartbeats: vec![pb::LifecycleHeartbeatItem {
                job_id: id.clone(),
                progress_json: r#"{"rows":90}"#.into(),
                checkpoint_json: r#"{"row":90}"#.into(),
                lease_token: job.lease_token,
            }],
            fails: vec![pb::LifecycleFailItem {
                job_id: id.clone(),
                error: "disk full".into(),
                lease_token: job.lease_token,
                ..Default::default()
            }],
            credits: 1,
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.heartbeat_results[0].code, 0, "{r:?}");
    assert_eq!(r.fail_results[0].code, 0, "{r:?}");
    let again = s.pushed_jobs(1).await.remove(0);
    assert_eq!(again.attempt, 2);
    assert_eq!(again.checkpoint_json, r#"{"row":90}"#);
    assert_eq!(
        get_job(&mut jobs, &id).await.progress_json,
        r#"{"rows":90}"#
    );
}

/// `drain`: the stream's outstanding credits are dropped and nothing more is pushed; its
/// outcomes still go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_worker_gets_nothing_more_pushed() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let first = enqueue_job(&mut w, "draining-stream", "{}").await;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["draining-stream"], 4)).await;
    let job = s.pushed_jobs(1).await.remove(0);
    assert_eq!(job.job_id, first);
    let r = s
        .call(pb::StreamLifecycleRequest {
            drain: true,
            credits: 5,
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(
        r.credits, 0,
        "the three left and the five asked for are dropped"
    );
    let later = enqueue_job(&mut w, "draining-stream", "{}").await;
    assert!(
        s.recv_within(Duration::from_millis(700)).await.is_none(),
        "nothing is pushed to a draining stream"
    );
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&job)],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");
    let mut jobs = server.jobs().await;
    assert_eq!(
        state_of(&get_job(&mut jobs, &later).await),
        pb::JobState::Pending
    );
}

/// A frame refused for the key's rate changes nothing: its credits are not granted, and the
/// answer reports the credits the stream does hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_refused_for_the_rate_grants_nothing_and_reports_the_credits_held() {
    const BOOT: &str = "stream-test-admin-key-0123456789abcdef0123";
    let server = TestServer::builder()
        .args(&["--require-auth"])
        .env("CORVO_BOOTSTRAP_ADMIN_KEY", BOOT)
        .api_key(BOOT)
        .start()
        .await;
    let mut keys = pb::key_service_client::KeyServiceClient::new(server.channel().await);
    let key = within(
        "CreateKey",
        keys.create_key(authed(
            pb::CreateKeyRequest {
                name: "slow worker".into(),
                role: pb::KeyRole::Worker.into(),
                rate_limit_rps: 1,
                ..Default::default()
            },
            BOOT,
        )),
    )
    .await
    .expect("CreateKey")
    .into_inner()
    .secret;
    let mut w = server.worker().await;
    let mut s = Lifecycle::open_with_key(&mut w, &key)
        .await
        .expect("a stream");
    // Frames of 2 credits each until one is refused for the rate.
    let mut held = 0;
    let refused = loop {
        let r = s.call(credit_frame(&["rated"], 2)).await;
        if r.error_code == pb::ErrorCode::Overloaded as i32 {
            break r;
        }
        assert!(r.error.is_empty(), "{r:?}");
        held += 2;
        assert_eq!(r.credits, held, "{r:?}");
    };
    assert!(refused.retry_after_ms > 0, "{refused:?}");
    assert_eq!(
        refused.credits, held,
        "the refused frame granted nothing: {refused:?}"
    );
    tokio::time::sleep(Duration::from_millis(refused.retry_after_ms as u64 + 50)).await;
    let r = s.call(credit_frame(&["rated"], 2)).await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.credits, held + 2);
}

/// Credits bound what a stream holds: with 4 credits granted and nothing settled, a stream
/// gets 4 jobs, however the enqueues arrive (many producers at once, each enqueue may carry a
/// lease for the stream in its own log entry), and no more until it settles one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_with_four_credits_never_holds_more_than_four_unsettled_jobs() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    let first = s.call(credit_frame(&["held"], 4)).await;
    assert!(first.error.is_empty(), "{first:?}");
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let mut w = w.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    enqueue_job(&mut w, "held", "{}").await;
                }
            })
        })
        .collect();
    for p in producers {
        p.await.expect("a producer");
    }
    let held = s.pushed_jobs(4).await;
    assert_eq!(held.len(), 4, "four credits, four jobs: {held:?}");
    if let Some(extra) = s.recv_within(Duration::from_secs(1)).await {
        panic!("a stream holding 4 unsettled jobs got more: {extra:?}");
    }
    // Settling one (and granting its credit back) lets exactly one more in.
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&held[0])],
            credits: 1,
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    let next = s.pushed_jobs(1).await;
    assert_eq!(next.len(), 1);
    if let Some(extra) = s.recv_within(Duration::from_millis(500)).await {
        panic!("pushed beyond the credits granted: {extra:?}");
    }
}

/// A stream that closes hands the jobs it still holds back at once, each charged as an
/// attempt (as an expiry would be), instead of leaving them leased for the lease's 60 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stream_hands_its_jobs_back_at_once() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let no_backoff = pb::EnqueueOptions {
        max_attempts: 10,
        backoff: Some(pb::BackoffPolicy {
            kind: pb::BackoffKind::None as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for i in 0..2 {
            let req = enqueue_req_with("handback", &format!(r#"{{"i":{i}}}"#), no_backoff.clone());
            ids.push(enqueue(&mut w, req).await.job_id);
        }
        ids
    };
    for dropped in [false, true] {
        let mut s = Lifecycle::open(&mut w).await;
        let r = s
            .call(pb::StreamLifecycleRequest {
                lease_duration: 60,
                ..credit_frame(&["handback"], 2)
            })
            .await;
        assert!(r.error.is_empty(), "{r:?}");
        let held = s.pushed_jobs(2).await;
        let attempt = get_job(&mut jobs, &held[0].job_id).await.attempt;
        // The worker closes its side cleanly, or goes away altogether.
        if dropped {
            drop(s);
        } else {
            s.half_close();
        }
        for id in &ids {
            let job = wait_for_job(&mut jobs, id, "handed back", |j| {
                state_of(j) == pb::JobState::Pending && j.attempt == attempt
            })
            .await;
            assert_eq!(
                job.last_error, "worker stream closed before the job was settled",
                "{job:?}"
            );
        }
        // The handed-back jobs are ready for the next worker at once.
        let mut next = Lifecycle::open(&mut w).await;
        next.call(credit_frame(&["handback"], 2)).await;
        let again = next.pushed_jobs(2).await;
        let mut got: Vec<&str> = again.iter().map(|j| j.job_id.as_str()).collect();
        got.sort_unstable();
        let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(got, want);
        // Settle nothing: this stream closes too, handing them back for the next round.
        drop(next);
        for id in &ids {
            wait_for_job(&mut jobs, id, "handed back again", |j| {
                state_of(j) == pb::JobState::Pending
            })
            .await;
        }
    }
}
