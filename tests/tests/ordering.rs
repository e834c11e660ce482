//! Delivery order: CRITICAL > HIGH > NORMAL > LOW, FIFO within one priority.

use corvo_tests::*;

fn with_priority(p: pb::Priority) -> pb::EnqueueOptions {
    pb::EnqueueOptions {
        priority: p.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priorities_deliver_critical_high_normal_low_and_fifo_within_each() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    use pb::Priority::*;
    // Interleaved, so enqueue order alone would give a different answer.
    let plan = [
        Low,
        Normal,
        Critical,
        High,
        Unspecified,
        Low,
        Critical,
        High,
        Normal,
        Critical,
        Low,
        High,
    ];
    let mut enqueued = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        let r = enqueue(
            &mut w,
            enqueue_req_with("ranked", &format!(r#"{{"i":{i}}}"#), with_priority(*p)),
        )
        .await;
        // PRIORITY_UNSPECIFIED is treated as NORMAL.
        let effective = if *p == Unspecified { Normal } else { *p };
        enqueued.push((effective, r.job_id));
    }
    let mut expected = enqueued.clone();
    // Stable sort: FIFO within a priority. The proto's numbering is the rank.
    expected.sort_by_key(|(p, _)| *p as i32);

    let mut delivered = Vec::new();
    for _ in 0..plan.len() {
        let f = fetch(&mut w, "ranked", 0).await.expect("a ready job");
        delivered.push((pb::Priority::try_from(f.priority).expect("known"), f.job_id));
    }
    assert_eq!(delivered, expected);
    assert!(fetch(&mut w, "ranked", 0).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_batch_and_stream_pushes_follow_the_same_order() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    use pb::Priority::*;
    let plan = [Normal, Low, High, Normal, Critical, High];
    let mut enqueued = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        for queue in ["batched", "pushed"] {
            let id = enqueue(
                &mut w,
                enqueue_req_with(queue, &format!(r#"{{"i":{i}}}"#), with_priority(*p)),
            )
            .await
            .job_id;
            enqueued.push((queue, *p, id));
        }
    }
    let expected = |queue: &str| {
        let mut v: Vec<_> = enqueued
            .iter()
            .filter(|(q, _, _)| *q == queue)
            .map(|(_, p, id)| (*p as i32, id.clone()))
            .collect();
        v.sort_by_key(|(p, _)| *p);
        v.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };

    let batch = within(
        "FetchBatch",
        w.fetch_batch(pb::FetchBatchRequest {
            queues: vec!["batched".into()],
            count: 100,
            max_wait_ms: Some(0),
            ..Default::default()
        }),
    )
    .await
    .expect("FetchBatch")
    .into_inner()
    .jobs;
    let got: Vec<String> = batch.into_iter().map(|j| j.job_id).collect();
    assert_eq!(got, expected("batched"));

    // One credit at a time, so each push is the best job left.
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["pushed"], 1)).await;
    let mut got = Vec::new();
    for _ in 0..plan.len() {
        let job = s.pushed_jobs(1).await.remove(0);
        let r = s
            .call(pb::StreamLifecycleRequest {
                acks: vec![ack_item(&job)],
                credits: 1,
                ..Default::default()
            })
            .await;
        assert_eq!(r.acked, 1, "{r:?}");
        got.push(job.job_id);
    }
    assert_eq!(got, expected("pushed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_from_several_queues_takes_the_best_priority_across_them() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let low = enqueue(
        &mut w,
        enqueue_req_with("a", "{}", with_priority(pb::Priority::Low)),
    )
    .await;
    let high = enqueue(
        &mut w,
        enqueue_req_with("b", "{}", with_priority(pb::Priority::High)),
    )
    .await;
    let normal = enqueue_job(&mut w, "a", "{}").await;
    let mut order = Vec::new();
    for _ in 0..3 {
        let f = within(
            "Fetch",
            w.fetch(pb::FetchRequest {
                queues: vec!["a".into(), "b".into()],
                max_wait_ms: Some(0),
                ..Default::default()
            }),
        )
        .await
        .expect("Fetch")
        .into_inner();
        assert!(f.found);
        order.push(f.job_id);
    }
    assert_eq!(order, [high.job_id, normal, low.job_id]);
}
