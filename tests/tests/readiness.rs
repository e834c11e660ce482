//! Readiness vs liveness, as orchestrators probe them: `GET /readyz`, `grpc.health.v1` (with
//! the real `grpc-health-probe` binary and the Rust health client) and `GET /healthz`. While
//! the node drains after SIGTERM, readiness says NOT_SERVING and liveness stays 200 until the
//! process exits.

use corvo_tests::observe::{http_get_with, scrape, tools_bin};
use corvo_tests::*;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const SERVICES: [&str; 2] = ["", "corvo.v1.WorkerService"];
/// grpc-health-probe's exit code for a NOT_SERVING answer.
const PROBE_UNHEALTHY: i32 = 4;

/// Runs grpc-health-probe against `server` for `service`; its exit code.
async fn probe(server: &TestServer, service: &str) -> i32 {
    let bin = tools_bin().join("grpc-health-probe");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args([
        "-addr",
        &server.addr().to_string(),
        "-connect-timeout",
        "5s",
    ]);
    if !service.is_empty() {
        cmd.args(["-service", service]);
    }
    let out = within("grpc-health-probe", cmd.output())
        .await
        .expect("running grpc-health-probe");
    out.status.code().expect("an exit code")
}

async fn check(server: &TestServer, service: &str) -> i32 {
    let mut health = HealthClient::new(server.channel().await);
    within(
        "Health.Check",
        health.check(HealthCheckRequest {
            service: service.into(),
        }),
    )
    .await
    .expect("Health.Check")
    .into_inner()
    .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_a_started_node_is_ready_to_every_probe() {
    let server = TestServer::start().await;
    let (code, _, body) = http_get_with(server.addr(), "/readyz", &[])
        .await
        .expect("GET /readyz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""status":"ready""#), "{body}");
    for service in SERVICES {
        assert_eq!(probe(&server, service).await, 0, "probe {service:?}");
        assert_eq!(check(&server, service).await, ServingStatus::Serving as i32);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_draining_is_not_ready_but_alive_until_exit() {
    // A long grace: the open stream below keeps the node draining until the test closes it.
    let mut server = TestServer::builder().drain_grace_ms(30_000).start().await;
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "drain", "{}").await;
    let mut s = Lifecycle::open(&mut w).await;
    s.call(credit_frame(&["drain"], 1)).await;
    let leased = s.pushed_jobs(1).await;
    assert_eq!(leased[0].job_id, id);

    server.terminate();
    let body = eventually("/readyz to say 503", || {
        let addr = server.addr();
        async move {
            match http_get_with(addr, "/readyz", &[]).await {
                Ok((503, _, body)) => Some(body),
                _ => None,
            }
        }
    })
    .await;
    assert!(body.contains("draining"), "{body}");

    // New connections still get answers while the stream finishes its work.
    for service in SERVICES {
        assert_eq!(
            check(&server, service).await,
            ServingStatus::NotServing as i32,
            "Health.Check {service:?}"
        );
        assert_eq!(
            probe(&server, service).await,
            PROBE_UNHEALTHY,
            "grpc-health-probe {service:?}"
        );
    }
    let (code, _, body) = http_get_with(server.addr(), "/healthz", &[])
        .await
        .expect("GET /healthz");
    assert_eq!(code, 200, "liveness stays 200 while draining: {body}");
    assert!(body.contains(r#""draining":true"#), "{body}");
    let m = scrape(&server).await;
    assert_eq!(m.value("corvo_ready", &[]), Some(0.0));
    assert_eq!(m.value("corvo_draining", &[]), Some(1.0));
    assert_eq!(m.value("corvo_worker_streams", &[]), Some(1.0));

    // No new worker streams while draining...
    let mut late = server.worker().await;
    let refused = within(
        "StreamLifecycle",
        late.stream_lifecycle(tokio_stream::iter(Vec::<pb::StreamLifecycleRequest>::new())),
    )
    .await;
    assert_eq!(
        refused.expect_err("a new stream while draining").code(),
        tonic::Code::Unavailable
    );
    // ...but the open one settles its job.
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&leased[0])],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");

    // The worker leaves; the node finishes. Until it exits, liveness answers 200 (or the
    // listener is already gone); never anything else.
    s.half_close();
    loop {
        if !server.is_running() {
            break;
        }
        if let Ok((code, _, body)) = http_get_with(server.addr(), "/healthz", &[]).await {
            assert_eq!(code, 200, "liveness during shutdown: {body}");
        }
        tokio::time::sleep(POLL).await;
    }
    let status = server.wait_exit(WAIT).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
}
