//! Unique keys: within `unique_period_ms`, enqueueing the same (queue, key) returns the job
//! that holds the key, with status "duplicate".

use std::time::Duration;

use corvo_tests::*;

fn unique(key: &str, period_ms: i64) -> pb::EnqueueOptions {
    pb::EnqueueOptions {
        unique_key: key.into(),
        unique_period_ms: period_ms,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_key_within_its_period_returns_the_existing_job_as_duplicate() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let first = enqueue(
        &mut w,
        enqueue_req_with("mail", r#"{"n":1}"#, unique("user-7", 0)),
    )
    .await;
    assert_eq!(first.status, "pending");
    assert!(!first.unique_existing);
    let mut probe = WriteProbe::new(&mut w).await;

    let dup = enqueue(
        &mut w,
        enqueue_req_with("mail", r#"{"n":2}"#, unique("user-7", 0)),
    )
    .await;
    assert_eq!(dup.status, "duplicate");
    assert!(dup.unique_existing);
    assert_eq!(dup.job_id, first.job_id);
    assert_eq!(dup.state, pb::JobState::Pending as i32);
    let job = get_job(&mut jobs, &first.job_id).await;
    assert_eq!(
        job.payload_json, r#"{"n":1}"#,
        "the duplicate changed nothing"
    );
    assert_eq!(job.unique_key, "user-7");
    probe
        .assert_nothing_written(&mut w, "a duplicate enqueue")
        .await;

    // The key is held whatever the holder's state: still a duplicate once it is active.
    fetch_some(&mut w, "mail").await;
    let dup = enqueue(&mut w, enqueue_req_with("mail", "{}", unique("user-7", 0))).await;
    assert_eq!(dup.status, "duplicate");
    assert_eq!(dup.job_id, first.job_id);
    assert_eq!(dup.state, pb::JobState::Active as i32);

    // Other keys, and the same key on another queue, are separate.
    let other = enqueue(&mut w, enqueue_req_with("mail", "{}", unique("user-8", 0))).await;
    assert_eq!(other.status, "pending");
    let elsewhere = enqueue(&mut w, enqueue_req_with("sms", "{}", unique("user-7", 0))).await;
    assert_eq!(elsewhere.status, "pending");
    assert_ne!(elsewhere.job_id, first.job_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_key_is_free_again_after_its_period() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let first = enqueue(&mut w, enqueue_req_with("mail", "{}", unique("k", 500))).await;
    let enqueued_at = now_ms();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(now_ms() >= enqueued_at + 500);
    let second = enqueue(&mut w, enqueue_req_with("mail", "{}", unique("k", 500))).await;
    assert_eq!(second.status, "pending", "{second:?}");
    assert!(!second.unique_existing);
    assert_ne!(second.job_id, first.job_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_key_on_stream_enqueues_reports_duplicate_per_item() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let first = enqueue(
        &mut w,
        enqueue_req_with("mail", "{}", unique("stream-key", 0)),
    )
    .await;
    let mut s = Lifecycle::open(&mut w).await;
    let item = |key: &str| pb::LifecycleEnqueueItem {
        queue: "mail".into(),
        options: Some(unique(key, 0)),
        ..Default::default()
    };
    let r = s
        .call(pb::StreamLifecycleRequest {
            enqueues: vec![item("stream-key"), item("fresh-key"), item("fresh-key")],
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.enqueued_job_ids[0], first.job_id);
    assert_eq!(r.enqueue_results[0].message, "duplicate");
    assert!(r.enqueue_results[1].message.is_empty());
    // Two enqueues of one new key in the same frame: the second one sees the first.
    assert_eq!(r.enqueued_job_ids[2], r.enqueued_job_ids[1]);
    assert_eq!(r.enqueue_results[2].message, "duplicate");
}
