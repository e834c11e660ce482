//! Piggyback dispatch: a job enqueued while a worker stream waits on its queue is leased to
//! that stream in the same log entry as the enqueue: one Raft round from enqueue to delivery.

use std::time::Duration;

use corvo_tests::*;
use pb::cluster_service_client::ClusterServiceClient;

async fn last_log_index(c: &mut ClusterServiceClient<tonic::transport::Channel>) -> u64 {
    within(
        "GetNodeStatus",
        c.get_node_status(pb::GetNodeStatusRequest {}),
    )
    .await
    .expect("GetNodeStatus")
    .into_inner()
    .status
    .and_then(|s| s.last_log_index)
    .unwrap_or(0)
}

/// The log index once nothing has been written for 300 ms (bounded: 100 tries).
async fn quiet_log_index(c: &mut ClusterServiceClient<tonic::transport::Channel>) -> u64 {
    let mut last = last_log_index(c).await;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = last_log_index(c).await;
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the log never went quiet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_enqueued_for_a_waiting_stream_is_delivered_from_the_same_log_entry() {
    let server = TestServer::start().await;
    let mut worker = server.worker().await;
    let mut producer = server.worker().await;
    let mut cluster = ClusterServiceClient::new(server.channel().await);
    let mut s = Lifecycle::open(&mut worker).await;
    let granted = s.call(credit_frame(&["piggy"], 1)).await;
    assert!(granted.error.is_empty(), "{granted:?}");

    let before = quiet_log_index(&mut cluster).await;
    let id = enqueue_job(&mut producer, "piggy", r#"{"n":1}"#).await;
    let pushed = s.pushed_jobs(1).await;
    assert_eq!(pushed[0].job_id, id);
    assert_ne!(pushed[0].lease_token, 0);
    let after = quiet_log_index(&mut cluster).await;
    assert_eq!(
        after,
        before + 1,
        "the enqueue and its lease share one log entry"
    );

    // With no credit left, the next job waits in the queue and the log holds only its enqueue.
    let second = enqueue_job(&mut producer, "piggy", r#"{"n":2}"#).await;
    let mut jobs = server.jobs().await;
    assert_eq!(
        state_of(&get_job(&mut jobs, &second).await),
        pb::JobState::Pending
    );
    assert_eq!(quiet_log_index(&mut cluster).await, after + 1);
}

/// Credits ride with their acks (ADR 0040): a frame that acks a job and grants its credit back
/// leases the next ready job in the ack's own log entry, so a worker that takes one job at a
/// time pays one Raft round per job instead of two (the ack, then a lease).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_that_grants_its_credit_back_leases_the_next_job_in_its_own_log_entry() {
    let server = TestServer::start().await;
    let mut worker = server.worker().await;
    let mut producer = server.worker().await;
    let mut cluster = ClusterServiceClient::new(server.channel().await);
    let ids = [
        enqueue_job(&mut producer, "ride", r#"{"n":1}"#).await,
        enqueue_job(&mut producer, "ride", r#"{"n":2}"#).await,
        enqueue_job(&mut producer, "ride", r#"{"n":3}"#).await,
    ];
    let mut s = Lifecycle::open(&mut worker).await;
    let granted = s.call(credit_frame(&["ride"], 1)).await;
    assert!(granted.error.is_empty(), "{granted:?}");
    let mut held = s.pushed_jobs(1).await.remove(0);
    assert_eq!(held.job_id, ids[0]);

    for next in &ids[1..] {
        let before = quiet_log_index(&mut cluster).await;
        let answer = s.call(ack_and_credit(&held)).await;
        assert!(answer.error.is_empty(), "{answer:?}");
        assert_eq!(answer.acked, 1, "{answer:?}");
        let pushed = s.pushed_jobs(1).await;
        assert_eq!(pushed.len(), 1, "one credit, one job: {pushed:?}");
        assert_eq!(&pushed[0].job_id, next, "the queue's order holds");
        assert_ne!(pushed[0].lease_token, 0);
        assert_eq!(
            quiet_log_index(&mut cluster).await,
            before + 1,
            "the ack and the lease of the next job share one log entry"
        );
        held = pushed[0].clone();
    }

    // Nothing left to lease: the ack alone is written, and the credit waits for work.
    let before = quiet_log_index(&mut cluster).await;
    let answer = s.call(ack_and_credit(&held)).await;
    assert_eq!(answer.acked, 1, "{answer:?}");
    assert_eq!(answer.credits, 1, "the credit is free again: {answer:?}");
    assert_eq!(quiet_log_index(&mut cluster).await, before + 1);
    let late = enqueue_job(&mut producer, "ride", r#"{"n":4}"#).await;
    assert_eq!(s.pushed_jobs(1).await[0].job_id, late);
    let mut jobs = server.jobs().await;
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed
        );
    }
}

/// A worker that acks jobs one frame each, without waiting for answers: the server answers
/// every frame, in order and on its own, but proposes the frames that queued up meanwhile
/// together instead of paying one Raft round per frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_sent_back_to_back_are_answered_in_order_and_share_log_entries() {
    const JOBS: usize = 40;
    let server = TestServer::start().await;
    let mut worker = server.worker().await;
    let mut producer = server.worker().await;
    let mut cluster = ClusterServiceClient::new(server.channel().await);
    let mut s = Lifecycle::open(&mut worker).await;
    for i in 0..JOBS {
        enqueue_job(&mut producer, "burst", &format!(r#"{{"i":{i}}}"#)).await;
    }
    let granted = s.call(credit_frame(&["burst"], JOBS as i32)).await;
    assert!(granted.error.is_empty(), "{granted:?}");
    let pushed = s.pushed_jobs(JOBS).await;
    assert_eq!(pushed.len(), JOBS);

    let before = quiet_log_index(&mut cluster).await;
    // One ack per frame, all sent at once; frame 1000 + JOBS/2 is invalid.
    let invalid = 1000 + (JOBS / 2) as u64;
    for (i, job) in pushed.iter().enumerate() {
        if i == JOBS / 2 {
            s.send(pb::StreamLifecycleRequest {
                request_id: invalid,
                credits: -1,
                ..Default::default()
            })
            .await;
        }
        s.send(pb::StreamLifecycleRequest {
            request_id: 1000 + i as u64 + u64::from(i >= JOBS / 2),
            acks: vec![ack_item(job)],
            ..Default::default()
        })
        .await;
    }
    let mut answered = Vec::new();
    while answered.len() < JOBS + 1 {
        let r = s.recv().await.expect("stream").expect("stream open");
        if r.request_id == 0 {
            continue;
        }
        answered.push(r);
    }
    let ids: Vec<u64> = answered.iter().map(|r| r.request_id).collect();
    let expected: Vec<u64> = (1000..1000 + JOBS as u64 + 1).collect();
    assert_eq!(ids, expected, "one answer per frame, in the order sent");
    for r in &answered {
        if r.request_id == invalid {
            assert_eq!(r.error_code, pb::ErrorCode::InvalidArgument as i32, "{r:?}");
            assert!(r.error.contains("credits"), "{r:?}");
        } else {
            assert!(r.error.is_empty(), "{r:?}");
            assert_eq!(r.acked, 1, "{r:?}");
        }
    }
    let mut jobs = server.jobs().await;
    for job in &pushed {
        assert_eq!(
            state_of(&get_job(&mut jobs, &job.job_id).await),
            pb::JobState::Completed
        );
    }
    let entries = quiet_log_index(&mut cluster).await - before;
    assert!(
        entries < JOBS as u64,
        "{JOBS} ack frames took {entries} log entries: frames that queued up were not proposed together"
    );
}

/// Jobs that become ready on a timer (no enqueue to piggyback on) reach the waiting streams:
/// the streams claim them between them, every job is delivered once, and each stream keeps
/// the credits it did not use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_become_ready_later_are_shared_by_waiting_streams_once_each() {
    const STREAMS: usize = 3;
    const JOBS: usize = 12;
    let server = TestServer::start().await;
    let mut producer = server.worker().await;
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        let mut w = server.worker().await;
        let mut s = Lifecycle::open(&mut w).await;
        let r = s.call(credit_frame(&["timed"], 100)).await;
        assert!(r.error.is_empty(), "{r:?}");
        streams.push((w, s));
    }
    let at = now_ms() + 1_500;
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..JOBS {
        let r = enqueue(
            &mut producer,
            enqueue_req_with(
                "timed",
                &format!(r#"{{"i":{i}}}"#),
                pb::EnqueueOptions {
                    scheduled_at: Some(timestamp_from_ms(at)),
                    ..Default::default()
                },
            ),
        )
        .await;
        ids.insert(r.job_id);
    }
    let mut delivered = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while delivered.len() < JOBS && tokio::time::Instant::now() < deadline {
        for (_, s) in streams.iter_mut() {
            if let Some(Ok(Some(r))) = s.recv_within(Duration::from_millis(100)).await {
                assert_eq!(r.request_id, 0, "{r:?}");
                delivered.extend(r.jobs.into_iter().map(|j| j.job_id));
            }
        }
    }
    let got: std::collections::BTreeSet<String> = delivered.iter().cloned().collect();
    assert_eq!(
        got.len(),
        delivered.len(),
        "a job was delivered twice: {delivered:?}"
    );
    assert_eq!(got, ids, "every scheduled job reached a waiting stream");
    for (_, s) in streams.iter_mut() {
        if let Some(Ok(Some(extra))) = s.recv_within(Duration::from_millis(300)).await {
            panic!("pushed more than was ready: {extra:?}");
        }
    }
    // Credits not used by the leases stay with their stream.
    let mut left = 0;
    for (_, s) in streams.iter_mut() {
        let r = s
            .call(pb::StreamLifecycleRequest {
                credits: 1,
                ..Default::default()
            })
            .await;
        assert!(r.error.is_empty(), "{r:?}");
        left += r.credits as usize - 1;
    }
    assert_eq!(left, STREAMS * 100 - JOBS);
}

/// A frame that acks `job` and grants its credit back, as a worker taking one job at a time.
fn ack_and_credit(job: &pb::FetchBatchJob) -> pb::StreamLifecycleRequest {
    pb::StreamLifecycleRequest {
        acks: vec![ack_item(job)],
        credits: 1,
        ..Default::default()
    }
}
