//! Introspection on the client port: /healthz (also after a fatal storage error),
//! grpc.health.v1, server reflection (v1 and v1alpha) and GetServerInfo.

use std::time::Duration;

use corvo_tests::*;
use prost::Message;
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const WORKER_SERVICE: &str = "corvo.v1.WorkerService";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_200_over_plain_http() {
    let server = TestServer::start().await;
    let (code, body) = http_get(server.addr(), "/healthz")
        .await
        .expect("GET /healthz");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""status":"ok""#), "{body}");
    assert!(body.contains(r#""draining":false"#), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_reports_serving_for_the_server_and_the_worker_service() {
    let server = TestServer::start().await;
    let mut health = HealthClient::new(server.channel().await);
    for service in ["", WORKER_SERVICE] {
        let r = within(
            "Health.Check",
            health.check(HealthCheckRequest {
                service: service.into(),
            }),
        )
        .await
        .unwrap_or_else(|e| panic!("Health.Check({service:?}): {e}"))
        .into_inner();
        assert_eq!(
            r.status,
            ServingStatus::Serving as i32,
            "service {service:?}"
        );
    }
    let unknown = within(
        "Health.Check",
        health.check(HealthCheckRequest {
            service: "no.such.Service".into(),
        }),
    )
    .await;
    assert_eq!(
        unknown.expect_err("an unknown service").code(),
        tonic::Code::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_server_info_reports_the_version() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let info = within(
        "GetServerInfo",
        w.get_server_info(pb::GetServerInfoRequest {}),
    )
    .await
    .expect("GetServerInfo")
    .into_inner();
    assert!(!info.server_version.is_empty());
    assert_eq!(info.api_version, "v1");
}

/// The same checks for both reflection versions (their messages have the same shape).
macro_rules! reflection_test {
    ($name:ident, $module:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            use r::server_reflection_request::MessageRequest;
            use r::server_reflection_response::MessageResponse;
            use tonic_reflection::pb::$module as r;

            let server = TestServer::start().await;
            let mut client =
                r::server_reflection_client::ServerReflectionClient::new(server.channel().await);
            let requests = [
                MessageRequest::ListServices(String::new()),
                MessageRequest::FileContainingSymbol(WORKER_SERVICE.into()),
                MessageRequest::FileContainingSymbol("corvo.v1.JobService".into()),
            ]
            .map(|m| r::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(m),
            });
            let mut responses = within(
                "ServerReflectionInfo",
                client.server_reflection_info(tokio_stream::iter(requests)),
            )
            .await
            .expect("ServerReflectionInfo")
            .into_inner();

            async fn next(
                responses: &mut tonic::Streaming<r::ServerReflectionResponse>,
            ) -> MessageResponse {
                match within("a reflection response", responses.next()).await {
                    Some(Ok(resp)) => resp.message_response.expect("a message_response"),
                    other => panic!("no reflection response: {other:?}"),
                }
            }

            let MessageResponse::ListServicesResponse(list) = next(&mut responses).await else {
                panic!("expected the service list");
            };
            let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
            for expected in [
                WORKER_SERVICE,
                "corvo.v1.JobService",
                "grpc.health.v1.Health",
            ] {
                assert!(
                    names.contains(&expected),
                    "{expected} missing from {names:?}"
                );
            }

            for (service, file) in [
                (WORKER_SERVICE, "corvo/v1/worker.proto"),
                ("corvo.v1.JobService", "corvo/v1/job.proto"),
            ] {
                let MessageResponse::FileDescriptorResponse(files) = next(&mut responses).await
                else {
                    panic!("expected the file descriptor of {service}");
                };
                let decoded: Vec<prost_types::FileDescriptorProto> = files
                    .file_descriptor_proto
                    .iter()
                    .map(|b| {
                        prost_types::FileDescriptorProto::decode(b.as_slice())
                            .expect("a descriptor")
                    })
                    .collect();
                let defining = decoded
                    .iter()
                    .find(|f| f.name() == file)
                    .unwrap_or_else(|| {
                        panic!(
                            "{file} missing: {:?}",
                            decoded.iter().map(|f| f.name()).collect::<Vec<_>>()
                        )
                    });
                let short = service.rsplit('.').next().expect("a name");
                assert!(
                    defining.service.iter().any(|s| s.name() == short),
                    "{file} does not define {short}"
                );
            }
        }
    };
}

reflection_test!(reflection_v1_lists_services_and_resolves_symbols, v1);
reflection_test!(
    reflection_v1alpha_lists_services_and_resolves_symbols,
    v1alpha
);

/// Liveness tells the truth: a fatal storage error (the Raft log's fsync fails, injected with
/// the debug build's failpoint) stops Raft for good; `/healthz` then answers 503 naming it,
/// and after `--fatal-exit-grace-ms` the process exits non-zero so that it is restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_storage_error_fails_liveness_and_the_node_exits_non_zero() {
    let trigger = tempfile::tempdir().expect("tempdir");
    let fail = trigger.path().join("fail-fsync");
    let mut server = TestServer::builder()
        .env(
            "CORVO_FAILPOINT_LOG_FSYNC",
            fail.to_str().expect("utf-8 path"),
        )
        .args(&["--fatal-exit-grace-ms", "3000"])
        .start()
        .await;
    let mut w = server.worker().await;
    w.enqueue(enqueue_req("q", "{}"))
        .await
        .expect("a healthy node takes writes");
    let (code, _) = http_get(server.addr(), "/healthz").await.expect("/healthz");
    assert_eq!(code, 200);

    std::fs::write(&fail, b"").expect("arm the failpoint");
    let refused = w.enqueue(enqueue_req("q", "{}")).await;
    let refused = refused.expect_err("a write whose fsync failed is not acknowledged");
    // The caller learns why: Raft stopped on the storage error, not a leadership change.
    assert!(
        refused.message().contains("raft stopped") && refused.message().contains("fsync"),
        "{refused:?}"
    );
    let body = eventually("/healthz answers 503", || async {
        match http_get(server.addr(), "/healthz").await {
            Ok((503, body)) => Some(body),
            _ => None,
        }
    })
    .await;
    assert!(body.contains("raft stopped"), "{body}");
    assert!(body.contains("fsync"), "the error is named: {body}");

    let status = server.wait_exit(Duration::from_secs(30)).await;
    assert!(!status.success(), "exits non-zero: {status:?}");
    let log = server.log_since_start();
    assert!(log.contains("raft stopped on an error"), "{log}");
}
