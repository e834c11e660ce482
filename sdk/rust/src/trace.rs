//! W3C trace context across a job: `enqueue` sends the caller's current context as the
//! `traceparent` header (the server stores it with the job), and the worker runs each job in a
//! span whose parent is that context. Both go through the global OpenTelemetry propagator and
//! the current `tracing` span: without an OpenTelemetry layer they do nothing.

use std::collections::HashMap;

use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Adds `traceparent` (and any other field the global propagator writes) for the current span.
pub(crate) fn inject(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    for (k, v) in carrier {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(k.as_bytes()),
            v.parse(),
        ) {
            metadata.insert(key, value);
        }
    }
}

/// Makes `span` a child of a W3C `traceparent` (no-op without an OpenTelemetry layer or when
/// the string is empty or does not parse).
pub(crate) fn set_parent(span: &tracing::Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let _ = span.set_parent(parent);
}
