//! Logging and tracing set-up for every `corvo` subcommand (docs/monitoring.md "Tracing").
//!
//! Logs: `--log-format` text|json and `--log-level` (RUST_LOG wins when set), to stderr.
//! Traces: exported over OTLP/gRPC (our tonic) when `--otlp-endpoint` (`CORVO_OTLP_ENDPOINT`) or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise no exporter, no OpenTelemetry layer and no
//! request spans at all. Service name from `OTEL_SERVICE_NAME` (default `corvo`), sampler from
//! `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default parent-based always-on). Spans go
//! through a batch processor on its own thread, so export never blocks the request path; the
//! W3C TraceContext propagator is installed globally.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// What the process needs to flush at exit; holds the tracer provider when export is on.
#[must_use = "call shutdown() at exit so buffered spans are exported"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// The OTLP endpoint: the flag (or `CORVO_OTLP_ENDPOINT`) over `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub fn otlp_endpoint(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .filter(|e| !e.trim().is_empty())
}

/// Installs the global subscriber (and, with an endpoint, the OTLP exporter). Must run inside
/// the tokio runtime (the exporter's channel is built on it). Errors only when the endpoint is
/// unusable.
pub fn init(format: LogFormat, level: &str, endpoint: Option<String>) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(format!("{level},openraft=warn")))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Json => fmt.json().with_filter(filter).boxed(),
        LogFormat::Text => fmt.with_filter(filter).boxed(),
    };
    let Some(endpoint) = endpoint else {
        let _ = tracing_subscriber::registry().with(fmt).try_init();
        return Ok(Telemetry { provider: None });
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.clone())
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| anyhow::anyhow!("OTLP exporter for {endpoint}: {e}"))?;
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "corvo".to_owned());
    // The sampler comes from OTEL_TRACES_SAMPLER(_ARG) through the SDK's default config.
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    // Only our own spans: not the exporter's (tonic, h2), and not Raft internals.
    let otel_targets = Targets::new()
        .with_target("corvo", LevelFilter::INFO)
        .with_target("corvo_api", LevelFilter::INFO)
        .with_target("corvo_raft", LevelFilter::INFO);
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("corvo"))
        .with_filter(otel_targets);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    corvo_api::trace_context::set_enabled(true);
    tracing::info!(%endpoint, "OTLP trace export on");
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// For the client subcommands: tracing (with warn-level logs) only when an endpoint is
/// configured; otherwise nothing is installed and the command's output is unchanged.
pub fn init_client(flag: Option<&str>) -> anyhow::Result<Telemetry> {
    match otlp_endpoint(flag) {
        Some(endpoint) => init(LogFormat::Text, "warn", Some(endpoint)),
        None => Ok(Telemetry { provider: None }),
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl opentelemetry::propagation::Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Sends the current span's context as `traceparent` metadata (when tracing is on).
pub fn inject<T>(request: &mut tonic::Request<T>) {
    if !corvo_api::trace_context::enabled() {
        return;
    }
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MetadataInjector(request.metadata_mut()))
    });
}

impl Telemetry {
    /// Flushes and stops the exporter. The SDK's flush blocks until the export finished, and the
    /// export needs the runtime's workers, so it runs on a blocking thread (rust-stack §8).
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        let done = tokio::task::spawn_blocking(move || {
            let _ = provider.force_flush();
            provider.shutdown_with_timeout(Duration::from_secs(5))
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("corvo: OTLP exporter shutdown: {e}"),
            Err(e) => eprintln!("corvo: OTLP exporter shutdown: {e}"),
        }
    }
}
