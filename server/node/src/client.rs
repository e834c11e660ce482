//! Client connections (TLS, the API key), and the `enqueue` and `worker` subcommands.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use corvo_sdk::proto as pb;
use corvo_sdk::proto::worker_service_client::WorkerServiceClient;
use serde_json::json;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tracing::Instrument;

use crate::config::{ClientArgs, EnqueueArgs, Output, PriorityArg, WorkerArgs};
use crate::telemetry;

/// A connection to the server that sends the API key (`--api-key`) on every call.
pub type Conn = InterceptedService<Channel, Credentials>;

/// Adds `authorization: Bearer <key>` to every call that does not carry its own (the calls
/// that send the cluster secret do).
#[derive(Clone)]
pub struct Credentials(Option<MetadataValue<Ascii>>);

impl Credentials {
    pub fn new(api_key: Option<&str>) -> anyhow::Result<Credentials> {
        let value = api_key
            .map(|k| {
                let mut v: MetadataValue<Ascii> = format!("Bearer {}", k.trim())
                    .parse()
                    .context("the API key is not valid in a header")?;
                v.set_sensitive(true);
                anyhow::Ok(v)
            })
            .transpose()?;
        Ok(Credentials(value))
    }
}

impl Interceptor for Credentials {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0
            && !req.metadata().contains_key("authorization")
        {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// A connection without credentials (for the worker runtime, which sends the key itself):
/// TLS for an `https://` server, verified against `--ca-cert` (else the system's roots), with
/// `--client-cert` when the server asks for one.
pub async fn plain_channel(args: &ClientArgs) -> anyhow::Result<Channel> {
    let mut endpoint = Channel::from_shared(args.server.clone())
        .with_context(|| format!("invalid --server {:?}", args.server))?;
    if args.server.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new();
        tls = match &args.ca_cert {
            Some(ca) => {
                let pem = std::fs::read(ca)
                    .with_context(|| format!("reading --ca-cert {}", ca.display()))?;
                tls.ca_certificate(tonic::transport::Certificate::from_pem(pem))
            }
            None => tls.with_native_roots(),
        };
        if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
            let cert = std::fs::read(cert)
                .with_context(|| format!("reading --client-cert {}", cert.display()))?;
            let key = std::fs::read(key)
                .with_context(|| format!("reading --client-key {}", key.display()))?;
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        endpoint = endpoint
            .tls_config(tls)
            .context("configuring TLS for --server")?;
    } else if args.ca_cert.is_some() || args.client_cert.is_some() {
        anyhow::bail!("--ca-cert and --client-cert need an https:// --server");
    }
    endpoint
        .connect()
        .await
        .with_context(|| format!("cannot connect to {}", args.server))
}

/// A connection that authenticates with `--api-key`, when given.
pub async fn channel(args: &ClientArgs) -> anyhow::Result<Conn> {
    let credentials = Credentials::new(args.api_key.as_deref())?;
    Ok(InterceptedService::new(
        plain_channel(args).await?,
        credentials,
    ))
}

/// A request carrying the cluster secret (`authorization: Bearer <secret>`) when one is given:
/// what membership changes and snapshots need.
pub fn with_secret<T>(message: T, secret: Option<&str>) -> anyhow::Result<tonic::Request<T>> {
    let mut req = tonic::Request::new(message);
    if let Some(secret) = secret {
        let value = format!("Bearer {secret}")
            .parse()
            .context("the cluster secret is not valid in a header")?;
        req.metadata_mut().insert("authorization", value);
    }
    Ok(req)
}

pub fn status_error(e: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.code(), e.message())
}

fn now_ms() -> u64 {
    corvo_clock::wall_ms()
}

pub async fn enqueue(args: EnqueueArgs) -> anyhow::Result<()> {
    let telemetry = telemetry::init_client(args.client.otlp_endpoint.as_deref())?;
    let span = tracing::info_span!("corvo.enqueue", otel.kind = "client", queue = %args.queue);
    let result = enqueue_traced(args).instrument(span).await;
    telemetry.shutdown().await;
    result
}

async fn enqueue_traced(args: EnqueueArgs) -> anyhow::Result<()> {
    let mut client = WorkerServiceClient::new(channel(&args.client).await?);
    let priority = args
        .priority
        .map_or(pb::Priority::Unspecified, priority_to_proto);
    let options = pb::EnqueueOptions {
        priority: priority.into(),
        max_attempts: args.max_attempts.unwrap_or(0),
        scheduled_at: args.delay_ms.map(|d| {
            let at = now_ms() + d;
            prost_types::Timestamp {
                seconds: (at / 1000) as i64,
                nanos: ((at % 1000) * 1_000_000) as i32,
            }
        }),
        unique_key: args.unique_key.unwrap_or_default(),
        tags: args.tags.into_iter().collect(),
        // A fresh key when none is given: the retries below never create the job twice.
        idempotency_key: args
            .idempotency_key
            .unwrap_or_else(|| ulid::Ulid::new().to_string().to_lowercase()),
        ..Default::default()
    };
    let body = pb::EnqueueRequest {
        queue: args.queue,
        payload_json: args.payload,
        agent: None,
        options: Some(options),
    };
    let mut attempt = 1;
    let resp = loop {
        let mut request = tonic::Request::new(body.clone());
        telemetry::inject(&mut request);
        match client.enqueue(request).await {
            Ok(r) => break r.into_inner(),
            Err(e) if attempt < ENQUEUE_ATTEMPTS && retryable(&e) => {
                let wait = retry_pushback(&e)
                    .unwrap_or(ENQUEUE_RETRY_WAIT_DEFAULT)
                    .min(ENQUEUE_RETRY_WAIT_MAX);
                eprintln!(
                    "enqueue attempt {attempt} of {ENQUEUE_ATTEMPTS}: {}: {}; retrying in {wait:?} with the same idempotency key",
                    e.code(),
                    e.message()
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(status_error(e)),
        }
    };
    match args.client.output {
        Output::Json => println!(
            "{}",
            json!({"job_id": resp.job_id, "status": resp.status, "replayed": resp.replayed})
        ),
        Output::Text => println!("{} {}", resp.job_id, resp.status),
    }
    Ok(())
}

/// Attempts of `corvo enqueue` (the same idempotency key every time).
const ENQUEUE_ATTEMPTS: u32 = 4;
/// Wait between attempts when the server gives no hint, and the longest wait taken.
const ENQUEUE_RETRY_WAIT_DEFAULT: Duration = Duration::from_millis(500);
const ENQUEUE_RETRY_WAIT_MAX: Duration = Duration::from_secs(5);

/// Errors worth another attempt: the server could not take the call now.
fn retryable(e: &tonic::Status) -> bool {
    matches!(
        e.code(),
        tonic::Code::Unavailable | tonic::Code::ResourceExhausted
    )
}

/// The server's `grpc-retry-pushback-ms` hint.
fn retry_pushback(e: &tonic::Status) -> Option<Duration> {
    let ms = e.metadata().get("grpc-retry-pushback-ms")?.to_str().ok()?;
    ms.parse().ok().map(Duration::from_millis)
}

pub fn priority_to_proto(p: PriorityArg) -> pb::Priority {
    match p {
        PriorityArg::Critical => pb::Priority::Critical,
        PriorityArg::High => pb::Priority::High,
        PriorityArg::Normal => pb::Priority::Normal,
        PriorityArg::Low => pb::Priority::Low,
    }
}

/// A demo worker over `StreamLifecycle` with credits: prints each job and acknowledges it.
pub async fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    let telemetry = telemetry::init_client(args.client.otlp_endpoint.as_deref())?;
    let result = worker_traced(args).await;
    telemetry.shutdown().await;
    result
}

async fn worker_traced(args: WorkerArgs) -> anyhow::Result<()> {
    use corvo_sdk::worker::{JobContext, Outcome, Worker};
    let max = args.max_jobs;
    let done = Arc::new(AtomicU64::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let handler = {
        let (done, enough) = (done.clone(), enough.clone());
        move |ctx: JobContext| {
            let job = ctx.job;
            println!(
                "{} {} attempt {} payload {}",
                job.job_id, job.queue, job.attempt, job.payload_json
            );
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            if max.is_some_and(|max| n >= max) {
                // Stop taking jobs before this one's ack grants another credit.
                enough.notify_one();
            }
            async { Outcome::complete(r#"{"done":true}"#) }
        }
    };
    let mut worker = Worker::new(connect_options(&args.client)?)?;
    for queue in &args.queues {
        worker = worker.handle(queue.clone(), handler.clone());
    }
    let worker_id = corvo_sdk::worker::default_worker_id();
    eprintln!(
        "worker {worker_id} waiting for jobs on {}",
        args.queues.join(", ")
    );
    let stop = async move {
        tokio::select! {
            _ = enough.notified() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    let stats = worker.worker_id(worker_id).run(stop).await?;
    eprintln!(
        "worker finished {} jobs ({} completed, {} failed, {} refused)",
        done.load(Ordering::SeqCst),
        stats.completed,
        stats.failed,
        stats.rejected
    );
    Ok(())
}

/// The SDK's connection options from the client flags (server, key, TLS files).
pub fn connect_options(args: &ClientArgs) -> anyhow::Result<corvo_sdk::ConnectOptions> {
    let mut opts = corvo_sdk::ConnectOptions::new([args.server.clone()]);
    if let Some(key) = &args.api_key {
        opts = opts.api_key(key.trim());
    }
    if let Some(ca) = &args.ca_cert {
        opts = opts.ca_cert_file(ca)?;
    }
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        opts = opts.client_identity_files(cert, key)?;
    }
    Ok(opts)
}
