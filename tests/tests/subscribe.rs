//! Subscribe: the event log after an event id, then live; resuming gives no gaps and no
//! repeats.

use corvo_tests::*;

type Key = (u64, String, String);

fn key(e: &pb::SubscribeResponse) -> Key {
    (e.seq, e.r#type.clone(), e.job_id.clone())
}

/// Enqueues `n` jobs on `queue`, leases them all and acks every second one: 3 events for an
/// acked job, 2 for the others.
async fn make_events(w: &mut WorkerClient, queue: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(enqueue_job(w, queue, &format!(r#"{{"i":{i}}}"#)).await);
    }
    for i in 0..n {
        let f = fetch_some(w, queue).await;
        if i % 2 == 0 {
            within(
                "Ack",
                w.ack(pb::AckRequest {
                    job_id: f.job_id,
                    lease_token: f.lease_token,
                    ..Default::default()
                }),
            )
            .await
            .expect("Ack");
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_from_zero_replays_the_log_then_follows_live_events() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let first = enqueue_job(&mut w, "news", r#"{"n":1}"#).await;
    let second = enqueue_job(&mut w, "news", r#"{"n":2}"#).await;

    let mut events = subscribe(&mut w, 0).await;
    let e1 = next_event(&mut events).await;
    let e2 = next_event(&mut events).await;
    assert_eq!(
        (e1.seq, e1.r#type.as_str(), e1.job_id.as_str()),
        (1, "enqueued", first.as_str())
    );
    assert_eq!(
        (e2.seq, e2.r#type.as_str(), e2.job_id.as_str()),
        (2, "enqueued", second.as_str())
    );
    assert_eq!(e1.queue, "news");
    assert!(e1.at_ns > 0 && e2.at_ns >= e1.at_ns);
    assert!(
        e1.data_json.is_empty() || serde_json::from_str::<serde_json::Value>(&e1.data_json).is_ok()
    );

    // Live: the stream follows what happens next.
    let f = fetch_some(&mut w, "news").await;
    let started = next_event(&mut events).await;
    assert_eq!(
        (
            started.seq,
            started.r#type.as_str(),
            started.job_id.as_str()
        ),
        (3, "started", first.as_str())
    );
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: f.job_id,
            lease_token: f.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
    let done = next_event(&mut events).await;
    assert_eq!((done.seq, done.r#type.as_str()), (4, "completed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_resumes_after_an_event_id_without_gaps_or_repeats() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    make_events(&mut w, "log", 10).await; // 25 events

    // Read part of the log, then drop the subscription.
    let mut events = subscribe(&mut w, 0).await;
    let mut seen: Vec<Key> = Vec::new();
    for _ in 0..12 {
        seen.push(key(&next_event(&mut events).await));
    }
    drop(events);

    // More events while nobody listens.
    make_events(&mut w, "log", 6).await; // 15 more: 40 in all
    let total = 40;

    // Resume after the last one seen; the rest arrives, then live events too.
    let resume_from = seen.last().expect("events").0;
    let mut events = subscribe(&mut w, resume_from).await;
    for _ in 0..(total - 12) {
        seen.push(key(&next_event(&mut events).await));
    }
    let live = enqueue_job(&mut w, "log", "{}").await;
    let e = next_event(&mut events).await;
    assert_eq!((e.seq, e.job_id.as_str()), (total + 1, live.as_str()));
    seen.push(key(&e));

    let seqs: Vec<u64> = seen.iter().map(|k| k.0).collect();
    let expected: Vec<u64> = (1..=total + 1).collect();
    assert_eq!(seqs, expected, "no gap, no repeat");

    // Exactly what one uninterrupted subscription from the start sees.
    let mut whole = subscribe(&mut w, 0).await;
    let mut again: Vec<Key> = Vec::new();
    for _ in 0..=total {
        again.push(key(&next_event(&mut whole).await));
    }
    assert_eq!(again, seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_resuming_while_events_are_written_miss_nothing() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let mut producer = server.worker().await;
    const JOBS: usize = 60;
    let writing = tokio::spawn(async move {
        for i in 0..JOBS {
            enqueue_job(&mut producer, "busy", &format!(r#"{{"i":{i}}}"#)).await;
        }
    });

    // Reconnect every 7 events while the producer is writing.
    let mut seqs = Vec::new();
    let mut last = 0;
    while seqs.len() < JOBS {
        let mut events = subscribe(&mut w, last).await;
        for _ in 0..7 {
            if seqs.len() == JOBS {
                break;
            }
            let e = next_event(&mut events).await;
            last = e.seq;
            seqs.push(e.seq);
        }
    }
    within("the producer", writing).await.expect("producer");
    assert_eq!(seqs, (1..=JOBS as u64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_filters_by_queue_job_and_type() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let a = make_events(&mut w, "alpha", 2).await;
    let b = make_events(&mut w, "beta", 2).await;
    let marker = enqueue_job(&mut w, "beta", "{}").await;

    let mut by_queue = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            queues: vec!["alpha".into()],
            ..Default::default()
        },
    )
    .await;
    let got = events_until(&mut by_queue, |e| e.r#type == "started" && e.job_id == a[1]).await;
    assert!(got.iter().all(|e| e.queue == "alpha"), "{got:?}");
    assert_eq!(got.len(), 5, "2 enqueued + 2 started + 1 completed");

    let mut by_job = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            job_ids: vec![b[0].clone()],
            ..Default::default()
        },
    )
    .await;
    let got = events_until(&mut by_job, |e| e.r#type == "completed").await;
    let types: Vec<&str> = got.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["enqueued", "started", "completed"]);
    assert!(got.iter().all(|e| e.job_id == b[0]));

    let mut by_type = subscribe_with(
        &mut w,
        pb::SubscribeRequest {
            types: vec!["enqueued".into()],
            ..Default::default()
        },
    )
    .await;
    let got = events_until(&mut by_type, |e| e.job_id == marker).await;
    let ids: Vec<&str> = got.iter().map(|e| e.job_id.as_str()).collect();
    let expected: Vec<&str> = a
        .iter()
        .chain(&b)
        .map(String::as_str)
        .chain([marker.as_str()])
        .collect();
    assert_eq!(ids, expected);
    assert!(got.iter().all(|e| e.r#type == "enqueued"));
}
