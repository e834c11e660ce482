//! Graceful shutdown (SIGTERM): readiness goes NOT_SERVING, open worker streams keep getting
//! their acks applied for the drain grace (the listener stays open meanwhile, so probes keep
//! answering), then the listener closes and the process exits 0.

use corvo_tests::*;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

const WORKER_SERVICE: &str = "corvo.v1.WorkerService";

/// Opens Health.Watch for `service`; the first answer must be SERVING.
async fn watch(server: &TestServer, service: &str) -> tonic::Streaming<HealthCheckResponse> {
    let mut health = HealthClient::new(server.channel().await);
    let mut stream = within(
        "Health.Watch",
        health.watch(HealthCheckRequest {
            service: service.into(),
        }),
    )
    .await
    .expect("Health.Watch")
    .into_inner();
    let first = within("the first health status", stream.message())
        .await
        .expect("Health.Watch")
        .expect("a status");
    assert_eq!(first.status, ServingStatus::Serving as i32, "{service:?}");
    stream
}

/// Waits until the watched service reports NOT_SERVING.
async fn until_not_serving(stream: &mut tonic::Streaming<HealthCheckResponse>, service: &str) {
    loop {
        let r = within("NOT_SERVING", stream.message())
            .await
            .unwrap_or_else(|e| panic!("Health.Watch({service:?}) failed: {e}"))
            .unwrap_or_else(|| panic!("Health.Watch({service:?}) ended before NOT_SERVING"));
        if r.status == ServingStatus::NotServing as i32 {
            return;
        }
    }
}

/// Waits until new connections to `addr` are refused (the listener is closed).
async fn until_refused(addr: std::net::SocketAddr) {
    eventually("the listener to close", || async move {
        tokio::net::TcpStream::connect(addr)
            .await
            .is_err()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_busy_worker_stream_applies_in_flight_acks_and_exits_zero() {
    // A long grace, so that a slow machine still acks within it; the server exits as soon as
    // the worker closes its stream anyway.
    let mut server = TestServer::builder().drain_grace_ms(20_000).start().await;
    let mut w = server.worker().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(enqueue_job(&mut w, "busy", &format!(r#"{{"i":{i}}}"#)).await);
    }
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["busy"], 10)).await;
    let leased = s.pushed_jobs(10).await;
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: leased[..3].iter().map(ack_item).collect(),
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 3, "{r:?}");

    let mut ready = watch(&server, WORKER_SERVICE).await;
    let mut overall = watch(&server, "").await;
    server.terminate();
    until_not_serving(&mut ready, WORKER_SERVICE).await;
    until_not_serving(&mut overall, "").await;
    drop((ready, overall));

    // Draining: probes still answer (alive, not ready)...
    let (code, body) = http_get(server.addr(), "/healthz").await.expect("/healthz");
    assert_eq!(code, 200, "{body}");
    let (code, body) = http_get(server.addr(), "/readyz").await.expect("/readyz");
    assert_eq!(code, 503, "{body}");
    // ...and the open stream's acks are still applied, in two frames.
    for chunk in [&leased[3..7], &leased[7..]] {
        let r = s
            .call(pb::StreamLifecycleRequest {
                acks: chunk.iter().map(ack_item).collect(),
                ..Default::default()
            })
            .await;
        assert!(r.error.is_empty(), "{r:?}");
        assert_eq!(r.acked as usize, chunk.len(), "{r:?}");
        assert!(
            r.ack_results
                .iter()
                .all(|a| a.state == pb::JobState::Completed as i32),
            "{r:?}"
        );
    }
    // The worker is done and closes its side; the server closes its listener and exits 0.
    s.half_close();
    until_refused(server.addr()).await;
    let status = server.wait_exit(WAIT).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");

    // Everything acknowledged, before or during the drain, is completed after a restart.
    server.restart().await;
    let mut jobs = server.jobs().await;
    for id in &ids {
        assert_eq!(
            state_of(&get_job(&mut jobs, id).await),
            pb::JobState::Completed,
            "job {id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_handing_out_work_and_closes_open_streams_after_the_drain_grace() {
    // Long enough for the legacy fetch below to be answered within it on a slow machine.
    let mut server = TestServer::builder().drain_grace_ms(6_000).start().await;
    let mut w = server.worker().await;
    let ready_job = enqueue_job(&mut w, "ready", "{}").await;
    // A job that falls due while the server drains, on a queue the stream holds credits for.
    let due = now_ms() + 1_500;
    let scheduled = enqueue(
        &mut w,
        enqueue_req_with(
            "soon",
            "{}",
            pb::EnqueueOptions {
                scheduled_at: Some(timestamp_from_ms(due)),
                ..Default::default()
            },
        ),
    )
    .await
    .job_id;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["soon"], 5)).await;
    let mut ready = watch(&server, WORKER_SERVICE).await;

    server.terminate();
    until_not_serving(&mut ready, WORKER_SERVICE).await;
    let draining_before_due = now_ms() < due;
    drop(ready);

    // A legacy fetch during the drain is answered, with no work, though a job is ready.
    let r = s
        .call(pb::StreamLifecycleRequest {
            queues: vec!["ready".into()],
            fetch_count: 5,
            ..Default::default()
        })
        .await;
    assert!(r.jobs.is_empty(), "work handed out while draining: {r:?}");

    // The worker keeps its stream open: the server ends it after the grace (6 s) with
    // UNAVAILABLE, and exits 0. Nothing is pushed meanwhile, not even the job that fell due.
    // (On a machine so slow that the drain began after the job was due, it may have been
    // pushed before the drain: then there is nothing to check about it.)
    let end = loop {
        match s.recv().await {
            Ok(Some(r)) => assert!(
                r.jobs.is_empty() || !draining_before_due,
                "work pushed while draining: {r:?}"
            ),
            other => break other,
        }
    };
    match end {
        Err(status) => assert_eq!(status.code(), tonic::Code::Unavailable, "{status}"),
        Ok(other) => panic!("the stream ended without a status: {other:?}"),
    }
    let status = server.wait_exit(WAIT).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");

    server.restart().await;
    let mut jobs = server.jobs().await;
    assert_eq!(
        state_of(&get_job(&mut jobs, &ready_job).await),
        pb::JobState::Pending
    );
    if draining_before_due {
        let state = state_of(&get_job(&mut jobs, &scheduled).await);
        assert!(
            matches!(state, pb::JobState::Scheduled | pb::JobState::Pending),
            "the job that fell due during the drain is {state:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_waiting_fetches_and_subscriptions_exits_zero_and_keeps_data() {
    let mut server = TestServer::start().await;
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "kept", r#"{"x":1}"#).await;
    let mut events = subscribe(&mut w, 0).await;
    assert_eq!(next_event(&mut events).await.job_id, id);
    let mut fetcher = server.worker().await;
    let waiting = tokio::spawn(async move {
        within("Fetch", fetcher.fetch(fetch_req("nothing-here", 25_000))).await
    });
    // Give the fetch a moment to start waiting; the test holds either way.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    server.terminate();
    // The waiting fetch answers (empty) instead of holding the shutdown for 25 s.
    let fetched = within("the waiting fetch", waiting)
        .await
        .expect("fetch task");
    if let Ok(r) = fetched {
        assert!(!r.into_inner().found);
    }
    // The subscription ends with UNAVAILABLE, so the client knows to resume elsewhere.
    match within("the end of the subscription", events.message()).await {
        Err(status) => assert_eq!(status.code(), tonic::Code::Unavailable, "{status}"),
        Ok(other) => panic!("the subscription did not end with UNAVAILABLE: {other:?}"),
    }
    let status = server.wait_exit(WAIT).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(
        server.log_tail(5).contains("shutdown: done"),
        "{}",
        server.log_tail(20)
    );

    server.restart().await;
    let mut jobs = server.jobs().await;
    let job = get_job(&mut jobs, &id).await;
    assert_eq!(job.payload_json, r#"{"x":1}"#);
    assert_eq!(state_of(&job), pb::JobState::Pending);
}

/// What the state and the Raft log's metadata file log when they were not closed cleanly
/// (redb checks the whole file then).
const NOT_CLOSED_CLEANLY: &str = "the state file was not closed cleanly";
const LOG_NOT_CLOSED_CLEANLY: &str = "the raft log's metadata file was not closed cleanly";

/// A graceful shutdown closes the state file and the Raft log's metadata file, so the next
/// start opens them at once; after a SIGKILL the start says it checks them (seconds on a
/// large state), and nothing is lost either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_the_state_and_log_files_cleanly_and_a_kill_does_not() {
    let mut server = TestServer::start().await;
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "closed", r#"{"x":2}"#).await;

    let status = server.terminate_and_wait().await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    server.restart().await;
    for file in [NOT_CLOSED_CLEANLY, LOG_NOT_CLOSED_CLEANLY] {
        assert!(
            !server.log_since_start().contains(file),
            "a start after SIGTERM found a file not closed ({file}):\n{}",
            server.log_since_start()
        );
    }
    let mut jobs = server.jobs().await;
    assert_eq!(get_job(&mut jobs, &id).await.payload_json, r#"{"x":2}"#);

    server.kill();
    server.restart().await;
    for file in [NOT_CLOSED_CLEANLY, LOG_NOT_CLOSED_CLEANLY] {
        assert!(
            server.log_since_start().contains(file),
            "a start after SIGKILL checks the file ({file}):\n{}",
            server.log_since_start()
        );
    }
    let mut jobs = server.jobs().await;
    assert_eq!(get_job(&mut jobs, &id).await.payload_json, r#"{"x":2}"#);
}

/// A restart whose port is held for a moment (another process's brief socket) comes back on
/// the same port once it is free: a cluster member's addresses are in the membership, so the
/// harness tries a restart's own ports again before it moves to new ones. The start that
/// found its port taken exited before writing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_waits_out_a_port_held_for_a_moment() {
    let mut server = TestServer::start().await;
    let addr = server.addr();
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "held", r#"{"n":1}"#).await;
    assert!(server.terminate_and_wait().await.success());
    let holder = std::net::TcpListener::bind(addr).expect("holding the stopped server's port");
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        drop(holder);
    });
    server.restart().await;
    release.await.expect("the holder task");
    assert_eq!(server.addr(), addr, "the restart kept its port");
    let mut jobs = server.jobs().await;
    assert_eq!(get_job(&mut jobs, &id).await.queue, "held");
    let log = std::fs::read_to_string(server.log_path()).expect("the server log");
    assert!(
        log.contains("Address already in use"),
        "the first restart found the port taken: {log}"
    );
    assert!(!log.contains("not closed cleanly"), "{log}");
}
