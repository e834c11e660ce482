//! Bad input: each invalid request fails with INVALID_ARGUMENT naming the field (NOT_FOUND for
//! an unknown job), and writes nothing.

use corvo_tests::*;
use tonic::{Code, Status};

const UNKNOWN_ID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

/// One call of the table.
#[derive(Clone, Debug)]
enum Call {
    Enqueue(pb::EnqueueRequest),
    Fetch(pb::FetchRequest),
    FetchBatch(pb::FetchBatchRequest),
    Ack(pb::AckRequest),
    AckBatch(pb::AckBatchRequest),
    Fail(pb::FailRequest),
    Heartbeat(pb::HeartbeatRequest),
    Subscribe(pb::SubscribeRequest),
    GetJob(String),
    CancelJob(String),
    RetryJob(String),
    DeleteJob(String),
}

impl Call {
    async fn run(self, w: &mut WorkerClient, jobs: &mut JobClient) -> Result<String, Status> {
        let out = match self {
            Call::Enqueue(r) => format!("{:?}", within("Enqueue", w.enqueue(r)).await?),
            Call::Fetch(r) => format!("{:?}", within("Fetch", w.fetch(r)).await?),
            Call::FetchBatch(r) => format!("{:?}", within("FetchBatch", w.fetch_batch(r)).await?),
            Call::Ack(r) => format!("{:?}", within("Ack", w.ack(r)).await?),
            Call::AckBatch(r) => format!("{:?}", within("AckBatch", w.ack_batch(r)).await?),
            Call::Fail(r) => format!("{:?}", within("Fail", w.fail(r)).await?),
            Call::Heartbeat(r) => format!("{:?}", within("Heartbeat", w.heartbeat(r)).await?),
            Call::Subscribe(r) => {
                // The stream opened; that alone is the wrong answer.
                let _ = within("Subscribe", w.subscribe(r)).await?;
                "an open event stream".to_owned()
            }
            Call::GetJob(id) => format!(
                "{:?}",
                within("GetJob", jobs.get_job(pb::GetJobRequest { job_id: id })).await?
            ),
            Call::CancelJob(id) => format!(
                "{:?}",
                within(
                    "CancelJob",
                    jobs.cancel_job(pb::CancelJobRequest { job_id: id })
                )
                .await?
            ),
            Call::RetryJob(id) => format!(
                "{:?}",
                within(
                    "RetryJob",
                    jobs.retry_job(pb::RetryJobRequest { job_id: id })
                )
                .await?
            ),
            Call::DeleteJob(id) => format!(
                "{:?}",
                within(
                    "DeleteJob",
                    jobs.delete_job(pb::DeleteJobRequest { job_id: id })
                )
                .await?
            ),
        };
        Ok(out)
    }
}

fn enqueue_opts(options: pb::EnqueueOptions) -> Call {
    Call::Enqueue(enqueue_req_with("bad", "{}", options))
}

fn fetch_with(f: impl FnOnce(&mut pb::FetchRequest)) -> Call {
    let mut r = fetch_req("bad-empty", 0);
    f(&mut r);
    Call::Fetch(r)
}

fn fetch_batch_with(f: impl FnOnce(&mut pb::FetchBatchRequest)) -> Call {
    let mut r = pb::FetchBatchRequest {
        queues: vec!["bad-empty".into()],
        count: 2,
        max_wait_ms: Some(0),
        ..Default::default()
    };
    f(&mut r);
    Call::FetchBatch(r)
}

fn heartbeat(id: &str, update: pb::HeartbeatJobUpdate) -> Call {
    Call::Heartbeat(pb::HeartbeatRequest {
        jobs: [(id.to_owned(), update)].into(),
    })
}

/// The table: (what, call, expected code, text the message must contain).
fn cases(active_id: &str, token: u64) -> Vec<(&'static str, Call, Code, String)> {
    use Code::{InvalidArgument as Invalid, NotFound};
    let id = active_id.to_owned();
    let too_big = format!("\"{}\"", "a".repeat(1 << 20));
    let mut many_tags = std::collections::HashMap::new();
    for i in 0..65 {
        many_tags.insert(format!("k{i}"), "v".to_owned());
    }
    let f = |s: &str| s.to_owned();
    vec![
        (
            "malformed payload",
            Call::Enqueue(enqueue_req("bad", "{not json")),
            Invalid,
            f("payload_json"),
        ),
        (
            "payload over 1 MiB",
            Call::Enqueue(enqueue_req("bad", &too_big)),
            Invalid,
            f("payload_json"),
        ),
        (
            "empty queue",
            Call::Enqueue(enqueue_req("", "{}")),
            Invalid,
            f("queue"),
        ),
        (
            "256-byte queue",
            Call::Enqueue(enqueue_req(&"q".repeat(256), "{}")),
            Invalid,
            f("queue"),
        ),
        (
            "queue with a space",
            Call::Enqueue(enqueue_req("bad queue", "{}")),
            Invalid,
            f("queue"),
        ),
        (
            "queue with a slash",
            Call::Enqueue(enqueue_req("a/b", "{}")),
            Invalid,
            f("queue"),
        ),
        (
            "queue with non-ASCII",
            Call::Enqueue(enqueue_req("café", "{}")),
            Invalid,
            f("queue"),
        ),
        (
            "priority 99",
            enqueue_opts(pb::EnqueueOptions {
                priority: 99,
                ..Default::default()
            }),
            Invalid,
            f("options.priority"),
        ),
        (
            "backoff kind 42",
            enqueue_opts(pb::EnqueueOptions {
                backoff: Some(pb::BackoffPolicy {
                    kind: 42,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            Invalid,
            f("options.backoff.kind"),
        ),
        (
            "negative backoff base",
            enqueue_opts(pb::EnqueueOptions {
                backoff: Some(pb::BackoffPolicy {
                    base_ms: -1,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            Invalid,
            f("options.backoff.base_ms"),
        ),
        (
            "negative max_attempts",
            enqueue_opts(pb::EnqueueOptions {
                max_attempts: -1,
                ..Default::default()
            }),
            Invalid,
            f("options.max_attempts"),
        ),
        (
            "max_attempts over 1000",
            enqueue_opts(pb::EnqueueOptions {
                max_attempts: 1_001,
                ..Default::default()
            }),
            Invalid,
            f("options.max_attempts"),
        ),
        (
            "negative expire_after_ms",
            enqueue_opts(pb::EnqueueOptions {
                expire_after_ms: -1,
                ..Default::default()
            }),
            Invalid,
            f("options.expire_after_ms"),
        ),
        (
            "negative unique_period_ms",
            enqueue_opts(pb::EnqueueOptions {
                unique_key: f("k"),
                unique_period_ms: -5,
                ..Default::default()
            }),
            Invalid,
            f("options.unique_period_ms"),
        ),
        (
            "256-byte unique key",
            enqueue_opts(pb::EnqueueOptions {
                unique_key: "k".repeat(256),
                ..Default::default()
            }),
            Invalid,
            f("options.unique_key"),
        ),
        (
            "scheduled_at before 1970",
            enqueue_opts(pb::EnqueueOptions {
                scheduled_at: Some(prost_types::Timestamp {
                    seconds: -10,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            Invalid,
            f("options.scheduled_at"),
        ),
        (
            "65 tags",
            enqueue_opts(pb::EnqueueOptions {
                tags: many_tags,
                ..Default::default()
            }),
            Invalid,
            f("options.tags"),
        ),
        (
            "a tag with an empty key",
            enqueue_opts(pb::EnqueueOptions {
                tags: [(String::new(), f("v"))].into(),
                ..Default::default()
            }),
            Invalid,
            f("options.tags"),
        ),
        (
            "fetch without queues",
            fetch_with(|r| r.queues.clear()),
            Invalid,
            f("queues"),
        ),
        (
            "fetch a bad queue name",
            fetch_with(|r| r.queues = vec![f("no way")]),
            Invalid,
            f("queues"),
        ),
        (
            "fetch lease_duration -1",
            fetch_with(|r| r.lease_duration = -1),
            Invalid,
            f("lease_duration"),
        ),
        (
            "fetch lease_duration over 1 h",
            fetch_with(|r| r.lease_duration = 3_601),
            Invalid,
            f("lease_duration"),
        ),
        (
            "fetch max_wait_ms -1",
            fetch_with(|r| r.max_wait_ms = Some(-1)),
            Invalid,
            f("max_wait_ms"),
        ),
        (
            "fetch 256-byte worker_id",
            fetch_with(|r| r.worker_id = "w".repeat(256)),
            Invalid,
            f("worker_id"),
        ),
        (
            "fetch_batch count -1",
            fetch_batch_with(|r| r.count = -1),
            Invalid,
            f("count"),
        ),
        (
            "fetch_batch lease_duration -1",
            fetch_batch_with(|r| r.lease_duration = -1),
            Invalid,
            f("lease_duration"),
        ),
        (
            "fetch_batch max_wait_ms -1",
            fetch_batch_with(|r| r.max_wait_ms = Some(-1)),
            Invalid,
            f("max_wait_ms"),
        ),
        (
            "ack without job_id",
            Call::Ack(pb::AckRequest::default()),
            Invalid,
            f("job_id"),
        ),
        (
            "ack with a malformed result",
            Call::Ack(pb::AckRequest {
                job_id: id.clone(),
                result_json: f("{\"a\":"),
                lease_token: token,
                ..Default::default()
            }),
            Invalid,
            f("result_json"),
        ),
        (
            "ack_batch without items",
            Call::AckBatch(pb::AckBatchRequest::default()),
            Invalid,
            f("items"),
        ),
        (
            "fail with a 65 KiB error",
            Call::Fail(pb::FailRequest {
                job_id: id.clone(),
                error: "e".repeat(65 << 10),
                lease_token: token,
                ..Default::default()
            }),
            Invalid,
            f("error"),
        ),
        (
            "heartbeat progress that is not an object",
            heartbeat(
                &id,
                pb::HeartbeatJobUpdate {
                    progress_json: f("[1]"),
                    lease_token: token,
                    ..Default::default()
                },
            ),
            Invalid,
            f("progress_json"),
        ),
        (
            "heartbeat with a malformed checkpoint",
            heartbeat(
                &id,
                pb::HeartbeatJobUpdate {
                    checkpoint_json: f("{page:3}"),
                    lease_token: token,
                    ..Default::default()
                },
            ),
            Invalid,
            f("checkpoint_json"),
        ),
        (
            "subscribe to a bad queue name",
            Call::Subscribe(pb::SubscribeRequest {
                queues: vec![f("no way")],
                ..Default::default()
            }),
            Invalid,
            f("queues"),
        ),
        (
            "get_job without job_id",
            Call::GetJob(String::new()),
            Invalid,
            f("job_id"),
        ),
        (
            "get_job with a 256-byte id",
            Call::GetJob("j".repeat(256)),
            Invalid,
            f("job_id"),
        ),
        (
            "get_job of an unknown id",
            Call::GetJob(f(UNKNOWN_ID)),
            NotFound,
            f(UNKNOWN_ID),
        ),
        (
            "cancel_job of an unknown id",
            Call::CancelJob(f(UNKNOWN_ID)),
            NotFound,
            f(UNKNOWN_ID),
        ),
        (
            "retry_job of an unknown id",
            Call::RetryJob(f(UNKNOWN_ID)),
            NotFound,
            f(UNKNOWN_ID),
        ),
        (
            "delete_job of an unknown id",
            Call::DeleteJob(f(UNKNOWN_ID)),
            NotFound,
            f(UNKNOWN_ID),
        ),
        (
            "ack of an unknown id",
            Call::Ack(pb::AckRequest {
                job_id: f(UNKNOWN_ID),
                ..Default::default()
            }),
            NotFound,
            f(UNKNOWN_ID),
        ),
        (
            "fail of an unknown id",
            Call::Fail(pb::FailRequest {
                job_id: f(UNKNOWN_ID),
                lease_token: 3,
                ..Default::default()
            }),
            NotFound,
            f(UNKNOWN_ID),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_specific_code_naming_the_field_and_writes_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    // An active job the bad acks, fails and heartbeats aim at (with its valid token, so the
    // bad field is the only thing wrong with them), and a pending one.
    let active_id = enqueue_job(&mut w, "bad", "{}").await;
    let lease = fetch_some(&mut w, "bad").await;
    let pending_id = enqueue_job(&mut w, "bad", "{}").await;
    let mut probe = WriteProbe::new(&mut w).await;

    for (what, call, code, field) in cases(&active_id, lease.lease_token) {
        let active_before = get_job(&mut jobs, &active_id).await;
        let pending_before = get_job(&mut jobs, &pending_id).await;
        match call.clone().run(&mut w, &mut jobs).await {
            Ok(out) => panic!("{what}: expected {code:?} naming {field:?}, got {out}"),
            Err(s) => {
                assert_eq!(s.code(), code, "{what}: {}", s.message());
                assert!(
                    s.message().contains(&field),
                    "{what}: the message {:?} does not name {field:?}",
                    s.message()
                );
            }
        }
        assert_eq!(
            get_job(&mut jobs, &active_id).await,
            active_before,
            "{what}"
        );
        assert_eq!(
            get_job(&mut jobs, &pending_id).await,
            pending_before,
            "{what}"
        );
        probe.assert_nothing_written(&mut w, what).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_max_bytes_flag_bounds_payloads_and_results() {
    let server = TestServer::builder().payload_max_bytes(1_024).start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let fits = format!("\"{}\"", "a".repeat(1_000));
    let too_big = format!("\"{}\"", "a".repeat(1_100));

    let id = enqueue_job(&mut w, "sized", &fits).await;
    let mut probe = WriteProbe::new(&mut w).await;
    let r = within("Enqueue", w.enqueue(enqueue_req("sized", &too_big))).await;
    assert_status(r, Code::InvalidArgument, "payload_json");
    let s = within("Enqueue", w.enqueue(enqueue_req("sized", &too_big)))
        .await
        .expect_err("over the limit");
    assert!(
        s.message().contains("1024"),
        "the message names the limit: {}",
        s.message()
    );
    probe
        .assert_nothing_written(&mut w, "an oversized enqueue")
        .await;

    let f = fetch_some(&mut w, "sized").await;
    assert_eq!(f.job_id, id);
    let mut probe = WriteProbe::new(&mut w).await;
    let r = within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: id.clone(),
            result_json: too_big.clone(),
            lease_token: f.lease_token,
            ..Default::default()
        }),
    )
    .await;
    assert_status(r, Code::InvalidArgument, "result_json");
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Active
    );
    probe
        .assert_nothing_written(&mut w, "an oversized result")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_batch_refuses_an_invalid_item_on_its_own_and_acks_the_rest() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    let a = enqueue_job(&mut w, "batch", "{}").await;
    let b = enqueue_job(&mut w, "batch", "{}").await;
    let fa = fetch_some(&mut w, "batch").await;
    let fb = fetch_some(&mut w, "batch").await;
    let before_b = get_job(&mut jobs, &b).await;

    // "One bad item never fails the rest."
    let r = within(
        "AckBatch",
        w.ack_batch(pb::AckBatchRequest {
            items: vec![
                pb::AckBatchItem {
                    job_id: a.clone(),
                    lease_token: fa.lease_token,
                    ..Default::default()
                },
                pb::AckBatchItem {
                    job_id: b.clone(),
                    result_json: "nope".into(),
                    lease_token: fb.lease_token,
                    ..Default::default()
                },
            ],
        }),
    )
    .await
    .expect("AckBatch with one invalid item")
    .into_inner();
    assert_eq!(r.acked, 1, "{r:?}");
    assert_eq!(r.results[0].code, pb::ErrorCode::Unspecified as i32);
    assert_eq!(r.results[1].job_id, b);
    assert_eq!(r.results[1].code, pb::ErrorCode::InvalidArgument as i32);
    assert!(
        r.results[1].message.contains("items[1].result_json"),
        "{:?}",
        r.results[1].message
    );
    assert_eq!(
        state_of(&get_job(&mut jobs, &a).await),
        pb::JobState::Completed
    );
    assert_eq!(
        get_job(&mut jobs, &b).await,
        before_b,
        "the invalid item changed nothing"
    );
}
