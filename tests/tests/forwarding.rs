//! Leader forwarding (ADR 0010): a client may send any WorkerService or JobService call to a
//! follower; the follower forwards it to the leader over HTTP/2 (unary calls, the
//! bidirectional StreamLifecycle and the server-streaming Subscribe), marks it so it is
//! never forwarded twice, and answers UNAVAILABLE with a retry hint, promptly, when no leader
//! can be reached. The caller's trace context reaches the leader.
//!
//! Every wait is bounded (`WAIT`, 30 s): the machine running these may be small and busy.

use std::time::{Duration, Instant};

use corvo_tests::cluster::*;
use corvo_tests::*;
use tonic::Code;

/// How long a follower may take to refuse a call it cannot forward: the forward's connect
/// bound (1 s) with a wide margin for a loaded machine. The point is "no hang".
const REFUSAL_BOUND: Duration = Duration::from_secs(10);

/// The index of a node other than `leader`.
fn follower_of(leader: usize, nodes: &[TestServer]) -> usize {
    (leader + 1) % nodes.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_unary_writes_and_job_service_calls_through_a_follower() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let follower = follower_of(leader, &nodes);
    let via = &nodes[follower];
    let mut w = via.worker().await;
    let mut jobs = via.jobs().await;

    // Enqueue through the follower: accepted, and the job is on the leader at once.
    let id = enqueue_job(&mut w, "fq", r#"{"via":"follower"}"#).await;
    assert!(is_ulid(&id), "{id}");
    let on_leader = get_job(&mut nodes[leader].jobs().await, &id).await;
    assert_eq!(state_of(&on_leader), pb::JobState::Pending);
    assert_eq!(on_leader.queue, "fq");

    // JobService through the follower: GetJob reads the leader's state, CancelJob writes.
    let seen = get_job(&mut jobs, &id).await;
    assert_eq!(seen.id, on_leader.id);
    within(
        "CancelJob via a follower",
        jobs.cancel_job(pb::CancelJobRequest { job_id: id.clone() }),
    )
    .await
    .unwrap_or_else(|e| via.fail(&format!("CancelJob via a follower: {e}")));
    let cancelled = get_job(&mut nodes[leader].jobs().await, &id).await;
    assert_eq!(state_of(&cancelled), pb::JobState::Cancelled);
    // The read through the follower goes to the leader: it sees the cancel at once.
    assert_eq!(
        state_of(&get_job(&mut jobs, &id).await),
        pb::JobState::Cancelled
    );

    // A job-level error comes back from the leader unchanged.
    let missing = within(
        "GetJob of a missing job via a follower",
        jobs.get_job(pb::GetJobRequest {
            job_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
        }),
    )
    .await;
    assert_status(missing, Code::NotFound, "01ARZ3NDEKTSV4RRFFQ69G5FAV");

    // Unary fetch + ack through the other follower.
    let other = (follower + 1) % nodes.len();
    let other = if other == leader {
        (other + 1) % nodes.len()
    } else {
        other
    };
    let mut w2 = nodes[other].worker().await;
    let id2 = enqueue_job(&mut w2, "fq2", "{}").await;
    let leased = fetch_some(&mut w2, "fq2").await;
    assert_eq!(leased.job_id, id2);
    within(
        "Ack via a follower",
        w2.ack(pb::AckRequest {
            job_id: id2.clone(),
            lease_token: leased.lease_token,
            result_json: r#"{"ok":true}"#.into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap_or_else(|e| nodes[other].fail(&format!("Ack via a follower: {e}")));
    let done = get_job(&mut nodes[leader].jobs().await, &id2).await;
    assert_eq!(state_of(&done), pb::JobState::Completed);
    assert_digests_converge(&mut nodes, leader).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_a_stream_worker_session_and_subscribe_through_a_follower() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let follower = follower_of(leader, &nodes);
    let via = &nodes[follower];
    let mut w = via.worker().await;

    // The event stream (server streaming) through the follower.
    let mut events = subscribe(&mut w, 0).await;

    // A bidirectional worker session through the follower: credit, pushes, acks in frames.
    let mut s = Lifecycle::open(&mut w).await;
    let granted = s.call(credit_frame(&["sq"], 2)).await;
    assert!(granted.error.is_empty(), "{granted:?}");
    let mut ids = Vec::new();
    for i in 0..2 {
        ids.push(enqueue_job(&mut w, "sq", &format!(r#"{{"i":{i}}}"#)).await);
    }
    let pushed = s.pushed_jobs(2).await;
    let got: Vec<&str> = pushed.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(got, ids, "the two jobs, in order");
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: pushed.iter().map(ack_item).collect(),
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    assert_eq!(r.acked, 2, "{r:?}");
    let mut on_leader = nodes[leader].jobs().await;
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut on_leader, id).await),
            pb::JobState::Completed
        );
    }

    // The follower relayed the leader's events as they happened.
    let last = ids[1].clone();
    let seen = events_until(&mut events, |e| e.job_id == last && e.r#type == "completed").await;
    for id in &ids {
        assert!(
            seen.iter()
                .any(|e| &e.job_id == id && e.r#type == "enqueued"),
            "no enqueued event for {id}: {seen:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_forwarded_call_is_never_forwarded_again() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let follower = follower_of(leader, &nodes);
    let mut w = nodes[follower].worker().await;

    // A call marked as already forwarded is served where it lands: a follower refuses the
    // write as before, naming the leader (what the leader side of a race answers too).
    let mut req = tonic::Request::new(enqueue_req("lq", "{}"));
    req.metadata_mut().insert(
        "x-corvo-forwarded-from",
        "elsewhere".parse().expect("ascii"),
    );
    let err = within("a marked Enqueue on a follower", w.enqueue(req))
        .await
        .expect_err("a follower must not forward a forwarded call again");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let named = err
        .metadata()
        .get("x-corvo-leader")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(named, Some(nodes[leader].addr().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_without_a_reachable_leader_a_follower_answers_unavailable_promptly() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let survivor = follower_of(leader, &nodes);
    for (i, node) in nodes.iter_mut().enumerate() {
        if i != survivor {
            node.kill();
        }
    }

    // Alone, the survivor first still names the dead leader (unreachable), then knows none
    // once its election timeout passes: either way a prompt UNAVAILABLE with a retry hint.
    let mut w = nodes[survivor].worker().await;
    let mut jobs = nodes[survivor].jobs().await;
    let until = Instant::now() + Duration::from_secs(5);
    let mut answers = 0;
    while Instant::now() < until || answers < 3 {
        let started = Instant::now();
        let write = tokio::time::timeout(REFUSAL_BOUND, w.enqueue(enqueue_req("uq", "{}")))
            .await
            .unwrap_or_else(|_| panic!("Enqueue hung for {REFUSAL_BOUND:?} without a leader"));
        let err = write.expect_err("no leader: the write cannot succeed");
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert!(
            err.metadata().contains_key("grpc-retry-pushback-ms"),
            "no retry hint: {err:?}"
        );
        assert!(
            err.message().contains("leader"),
            "the message does not name the problem: {err:?}"
        );
        let read = tokio::time::timeout(
            REFUSAL_BOUND,
            jobs.get_job(pb::GetJobRequest {
                job_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
            }),
        )
        .await
        .unwrap_or_else(|_| panic!("GetJob hung for {REFUSAL_BOUND:?} without a leader"));
        assert_eq!(
            read.expect_err("no leader").code(),
            Code::Unavailable,
            "a read without a leader"
        );
        eprintln!("refused in {:?}", started.elapsed());
        answers += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A worker stream is served locally and its legacy frames say NOT_LEADER (old clients
    // reconnect on that), with the leader's address when one is known.
    let mut s = Lifecycle::open(&mut w).await;
    let answer = s
        .call(pb::StreamLifecycleRequest {
            request_id: 7,
            queues: vec!["uq".into()],
            worker_id: "old-worker".into(),
            enqueues: vec![pb::LifecycleEnqueueItem {
                queue: "uq".into(),
                payload_json: "{}".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert_eq!(answer.error, "NOT_LEADER", "{answer:?}");
    assert_eq!(answer.error_code, pb::ErrorCode::NotLeader as i32);

    // What describes the node itself still answers locally.
    within(
        "GetServerInfo on a node without a leader",
        w.get_server_info(pb::GetServerInfoRequest {}),
    )
    .await
    .expect("GetServerInfo is served locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t50_the_callers_trace_context_reaches_the_leader() {
    // Tracing on (an OTLP endpoint that takes connections and drops them: export fails
    // quietly, off the request path); the job stores the trace context its enqueue ran in.
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding the OTLP sink");
    let endpoint = format!("http://{}", sink.local_addr().expect("sink address"));
    tokio::spawn(async move { while sink.accept().await.is_ok() {} });
    let mut nodes = three_nodes_with(|b| b.env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)).await;
    let leader = leader_index(&mut nodes).await;
    let follower = follower_of(leader, &nodes);

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut req = tonic::Request::new(enqueue_req("tq", "{}"));
    req.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-00f067aa0ba902b7-01")
            .parse()
            .expect("ascii"),
    );
    let mut w = nodes[follower].worker().await;
    let id = within("a traced Enqueue via a follower", w.enqueue(req))
        .await
        .unwrap_or_else(|e| nodes[follower].fail(&format!("Enqueue: {e}")))
        .into_inner()
        .job_id;
    let leased = fetch_some(&mut nodes[leader].worker().await, "tq").await;
    assert_eq!(leased.job_id, id);
    assert!(
        leased.trace_parent.contains(TRACE_ID),
        "the job's trace context {:?} is not in the caller's trace {TRACE_ID}",
        leased.trace_parent
    );
}

/// When the leader behind a forwarded worker stream dies, the stream ends with UNAVAILABLE
/// (a status every client retries and reconnects on), not a reset stream (INTERNAL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_a_forwarded_stream_ends_unavailable_when_the_leader_dies() {
    let mut nodes = three_nodes().await;
    let leader = leader_index(&mut nodes).await;
    let follower = follower_of(leader, &nodes);
    let mut w = nodes[follower].worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    let granted = s.call(credit_frame(&["doomed-leader"], 1)).await;
    assert!(granted.error.is_empty(), "{granted:?}");
    nodes[leader].kill();
    let ended = loop {
        match within("the stream to end", s.recv()).await {
            Ok(Some(r)) if r.request_id == 0 => continue,
            other => break other,
        }
    };
    match ended {
        Err(status) => {
            assert_eq!(status.code(), Code::Unavailable, "{status:?}");
            assert!(status.message().contains("leader"), "{status:?}");
        }
        Ok(other) => panic!("the stream ended without a status: {other:?}"),
    }
}

/// A worker stream belongs with the leader: a stream served by a node that stops leading
/// (leadership moved, or the node was cut off while the majority elected another) ends with
/// UNAVAILABLE naming the new leader, after a NOT_LEADER frame with its address (what the
/// original contract's workers reconnect on). Left open, the stream would wait for pushes
/// that only the leader makes. Reconnected through the same node, the worker is served by
/// the new leader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_a_stream_on_a_node_that_stops_leading_ends_and_the_worker_reconnects() {
    let mut nodes = three_nodes().await;
    let old = leader_index(&mut nodes).await;
    let mut w = nodes[old].worker().await;
    let mut s = Lifecycle::open(&mut w).await;
    let granted = s.call(credit_frame(&["moved"], 1)).await;
    assert!(granted.error.is_empty(), "{granted:?}");

    let new = follower_of(old, &nodes);
    transfer_leader(&mut nodes, old, new).await;
    let mut notices = Vec::new();
    let ended = loop {
        match s.recv().await {
            Ok(Some(r)) => notices.push(r),
            other => break other,
        }
    };
    let notice = notices
        .iter()
        .find(|r| r.error == "NOT_LEADER")
        .unwrap_or_else(|| panic!("no NOT_LEADER frame before the end: {notices:?}"));
    assert_eq!(notice.request_id, 0, "{notice:?}");
    assert_eq!(notice.error_code, pb::ErrorCode::NotLeader as i32);
    let new_port = nodes[new].addr().port().to_string();
    assert!(
        notice.leader_addr.ends_with(&new_port),
        "the notice names {:?}, the leader listens on {new_port}",
        notice.leader_addr
    );
    match ended {
        Err(status) => {
            assert_eq!(status.code(), Code::Unavailable, "{status:?}");
            assert!(status.message().contains("leader"), "{status:?}");
            assert!(
                status.metadata().contains_key("grpc-retry-pushback-ms"),
                "no retry hint: {status:?}"
            );
        }
        Ok(None) => panic!("the stream ended without a status"),
        Ok(Some(_)) => unreachable!("the loop takes every frame"),
    }

    // Reconnected through the same node, which forwards now: the new leader pushes.
    let mut s = Lifecycle::open(&mut w).await;
    let granted = s.call(credit_frame(&["moved"], 1)).await;
    assert!(granted.error.is_empty(), "{granted:?}");
    let mut producer = nodes[new].worker().await;
    let id = enqueue_job(&mut producer, "moved", r#"{"n":1}"#).await;
    let pushed = s.pushed_jobs(1).await;
    assert_eq!(pushed[0].job_id, id);
}
