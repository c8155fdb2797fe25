//! Observability: spans with Genkit's attribute names, the in-process trace store, OTLP export
//! and Prometheus metrics.
//!
//! Telemetry is a value: [`Telemetry`] holds the settings, [`Telemetry::init`] (or
//! [`Telemetry::build`], which touches nothing global) makes them a [`TelemetryHandle`], and
//! [`RegistryBuilder::telemetry`](crate::RegistryBuilder::telemetry) gives it to a registry,
//! whose runs and servers record into it alone. A registry given none records no metrics,
//! keeps no traces, and leaves its spans to whatever `tracing` subscriber the application set.

mod handle;
mod ids;
mod layer;
mod metrics;
mod otlp;
mod scope;
mod settings;
mod span;
mod store;
#[cfg(feature = "server")]
mod trace_server;

pub use handle::TelemetryHandle;
pub use ids::{SpanIds, TraceParent};
pub use layer::SpanLayer;
pub use settings::Telemetry;
pub use store::{SpanNode, SpanRecord, TraceData, TraceStore, TraceSummary};
#[cfg(feature = "server")]
pub use trace_server::TraceServerExporter;

pub(crate) use metrics::Metrics;
#[cfg(feature = "models")]
pub(crate) use span::tool_span;
pub(crate) use span::{ActionSpan, record_step, step_span};

#[cfg(feature = "server")]
pub(crate) use metrics::{CONTENT_TYPE as METRICS_CONTENT_TYPE, HttpRequest};

/// Records one model call (latency, outcome and token counts) into the metrics of the run
/// being polled, if it has any.
#[cfg(feature = "models")]
pub(crate) fn record_generate(
    model: &str,
    status: crate::Status,
    latency: std::time::Duration,
    input_tokens: u64,
    output_tokens: u64,
) {
    if let Some(metrics) = scope::current_telemetry().metrics() {
        metrics.record_generate(model, status, latency, input_tokens, output_tokens);
    }
}

/// The default size cap of recorded inputs and outputs: 16 KiB.
const DEFAULT_IO_LIMIT: usize = 16 * 1024;

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// A global `tracing` subscriber was already installed.
    #[error("a global tracing subscriber is already installed: {0}")]
    SubscriberInstalled(String),
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Otlp(String),
}

/// The ids of `span`: from genflow's span layer when it is installed, else (feature
/// `tracing-opentelemetry`) from an application's own `tracing-opentelemetry` layer.
pub fn ids_of(span: &tracing::Span) -> Option<SpanIds> {
    layer::ids_of(span).or_else(|| bridge::ids_of(span))
}

/// Makes `span` a child of the caller's remote span.
pub(crate) fn join_remote(span: &tracing::Span, parent: &TraceParent) {
    if !layer::join_remote(span, parent) {
        bridge::join_remote(span, parent);
    }
}

/// Spans seen by an application's own `tracing-opentelemetry` layer instead of genflow's.
#[cfg(feature = "tracing-opentelemetry")]
mod bridge {
    use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use super::{SpanIds, TraceParent};

    pub(super) fn ids_of(span: &tracing::Span) -> Option<SpanIds> {
        let context = span.context();
        let span_context = context.span().span_context().clone();
        span_context.is_valid().then(|| SpanIds {
            trace_id: u128::from_be_bytes(span_context.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(span_context.span_id().to_bytes()),
        })
    }

    pub(super) fn join_remote(span: &tracing::Span, parent: &TraceParent) {
        let flags = if parent.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let remote = SpanContext::new(
            opentelemetry::trace::TraceId::from(parent.ids.trace_id),
            opentelemetry::trace::SpanId::from(parent.ids.span_id),
            flags,
            true,
            TraceState::default(),
        );
        // Fails only when the span is already started or the layer is absent: nothing to join.
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }
}

/// Without the feature, spans no genflow layer sees have no ids to read or parent to join.
#[cfg(not(feature = "tracing-opentelemetry"))]
mod bridge {
    use super::{SpanIds, TraceParent};

    pub(super) fn ids_of(_: &tracing::Span) -> Option<SpanIds> {
        None
    }

    pub(super) fn join_remote(_: &tracing::Span, _: &TraceParent) {}
}
