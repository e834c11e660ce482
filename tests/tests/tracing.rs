//! OTLP tracing (docs/monitoring.md "Tracing"): an in-test OTLP/gRPC receiver (the
//! opentelemetry-proto collector service) gets the server's and the demo worker's spans, and
//! they form one trace under the producer's span: producer → Enqueue RPC → corvo.propose,
//! corvo.apply and corvo.worker.execute. Without an endpoint nothing is traced and the server works as before.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use corvo_tests::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio_stream::wrappers::TcpListenerStream;

/// The producer's span (a fixed W3C traceparent, as an instrumented producer would send).
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER_SPAN_ID: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{PRODUCER_SPAN_ID}-01")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Collects every exported span, with the service name of its resource.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(String, Span)>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for rs in request.into_inner().resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    spans.push((service.clone(), span));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Receiver {
    async fn start() -> (Receiver, SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Receiver::default();
        let service = TraceServiceServer::new(receiver.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        (receiver, addr)
    }

    fn spans(&self) -> Vec<(String, Span)> {
        self.0.lock().unwrap().clone()
    }

    fn named(&self, name: &str) -> Option<Span> {
        self.spans()
            .into_iter()
            .map(|(_, s)| s)
            .find(|s| s.name == name && hex(&s.trace_id) == TRACE_ID)
    }
}

fn traced_enqueue(queue: &str) -> tonic::Request<pb::EnqueueRequest> {
    let mut request = tonic::Request::new(enqueue_req(queue, r#"{"n":1}"#));
    request
        .metadata_mut()
        .insert("traceparent", traceparent().parse().unwrap());
    request
}

/// `corvo worker --queue <queue> --max-jobs 1` against `server`, with `env`.
async fn run_worker(server: &TestServer, queue: &str, env: &[(&str, &str)]) -> String {
    let mut cmd = tokio::process::Command::new(corvo_bin());
    cmd.args([
        "worker",
        "--server",
        &server.url(),
        "--queue",
        queue,
        "--max-jobs",
        "1",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .env_remove("CORVO_OTLP_ENDPOINT")
    .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
    .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = within("the worker to finish one job", cmd.output())
        .await
        .expect("running corvo worker");
    assert!(
        out.status.success(),
        "corvo worker failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_apply_and_execution_join_the_producers_trace() {
    let (receiver, addr) = Receiver::start().await;
    let endpoint = format!("http://{addr}");
    let server = TestServer::builder()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_SERVICE_NAME", "corvo-test")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .start()
        .await;
    let mut w = server.worker().await;
    let job_id = w
        .enqueue(traced_enqueue("traced"))
        .await
        .expect("enqueue")
        .into_inner()
        .job_id;

    // The context stored on the job is the Enqueue RPC span's, in the producer's trace.
    let mut jobs = server.jobs().await;
    let stored = get_job(&mut jobs, &job_id).await.trace_parent;
    let parts: Vec<&str> = stored.split('-').collect();
    assert_eq!(parts.len(), 4, "stored trace_parent {stored:?}");
    assert_eq!(parts[1], TRACE_ID, "stored trace_parent {stored:?}");
    assert_ne!(
        parts[2], PRODUCER_SPAN_ID,
        "a span of the server, not the producer"
    );

    let stdout = run_worker(
        &server,
        "traced",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "corvo-worker-test"),
        ],
    )
    .await;
    assert!(stdout.contains(&job_id), "worker output: {stdout}");

    let (rpc, apply, execute) = eventually("the enqueue, apply and execute spans", || {
        let r = receiver.clone();
        async move {
            Some((
                r.named("corvo.v1.WorkerService/Enqueue")?,
                r.named("corvo.apply")?,
                r.named("corvo.worker.execute")?,
            ))
        }
    })
    .await;
    // RPC span: a server span under the producer's span, with the gRPC attributes.
    assert_eq!(hex(&rpc.parent_span_id), PRODUCER_SPAN_ID);
    assert_eq!(
        hex(&rpc.span_id),
        parts[2],
        "the stored context is the RPC span"
    );
    let attr = |s: &Span, key: &str| {
        s.attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .map(|v| format!("{:?}", v.value))
    };
    assert!(
        attr(&rpc, "rpc.system").is_some_and(|v| v.contains("grpc")),
        "rpc attributes: {:?}",
        rpc.attributes
    );
    assert!(attr(&rpc, "rpc.method").is_some_and(|v| v.contains("Enqueue")));
    // The proposal runs inside the RPC span.
    let propose = receiver
        .spans()
        .into_iter()
        .map(|(_, s)| s)
        .find(|s| s.name == "corvo.propose" && s.parent_span_id == rpc.span_id);
    assert!(
        propose.is_some(),
        "no corvo.propose span under the Enqueue RPC span"
    );
    // Apply and the worker's execution descend from the stored context (the RPC span).
    assert_eq!(hex(&apply.parent_span_id), parts[2]);
    assert_eq!(hex(&execute.parent_span_id), parts[2]);
    assert!(attr(&apply, "job_id").is_some_and(|v| v.contains(&job_id)));
    assert!(attr(&execute, "job_id").is_some_and(|v| v.contains(&job_id)));
    // Each process exported under its own service name.
    let services: Vec<String> = receiver.spans().into_iter().map(|(s, _)| s).collect();
    assert!(
        services.iter().any(|s| s.contains("corvo-test")),
        "{services:?}"
    );
    assert!(
        services.iter().any(|s| s.contains("corvo-worker-test")),
        "{services:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_nothing_is_traced() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let job_id = w
        .enqueue(traced_enqueue("plain"))
        .await
        .expect("enqueue")
        .into_inner()
        .job_id;
    let mut jobs = server.jobs().await;
    assert_eq!(get_job(&mut jobs, &job_id).await.trace_parent, "");
    let stdout = run_worker(&server, "plain", &[]).await;
    assert!(stdout.contains(&job_id), "worker output: {stdout}");
    let job = wait_for_job(&mut jobs, &job_id, "completed", |j| {
        state_of(j) == pb::JobState::Completed
    })
    .await;
    assert_eq!(job.trace_parent, "");
}
