//! Observability: spans with Genkit's attribute names, the in-process trace store, OTLP export
//! and Prometheus metrics.
//!
//! Call [`Telemetry::init`] once at start-up (the HTTP server's `serve` does it for you unless
//! you installed your own subscriber). Without it, spans still go to whatever `tracing`
//! subscriber the application set, and metrics are not recorded.

mod ids;
mod layer;
pub mod metrics;
mod path;
mod span;
mod store;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanProcessor;
use tracing::{Level, Metadata};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use ids::{SpanIds, TraceParent};
pub use store::{SpanNode, SpanRecord, TraceData, TraceStore, TraceSummary};

pub(crate) use path::scope as path_scope;
#[cfg(feature = "models")]
pub(crate) use span::tool_span;
pub(crate) use span::{ActionSpan, record_step, step_span};

static STORE: OnceLock<TraceStore> = OnceLock::new();
/// Whether [`Telemetry::init`] ran, so that genflow knows every consumer of its spans.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Whether spans are exported over OTLP.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The traces the default store keeps once it records.
const DEFAULT_TRACE_STORE: usize = 1_000;

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

/// Telemetry settings; [`Telemetry::init`] installs them process-wide.
#[derive(Clone, Debug)]
pub struct Telemetry {
    /// `None`: the default store, recording only while the trace API is served.
    trace_store: Option<usize>,
    metrics: bool,
    json_logs: bool,
    record_io: bool,
    io_limit: usize,
    otlp_endpoint: Option<String>,
    filter: String,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            trace_store: None,
            metrics: true,
            json_logs: false,
            record_io: true,
            io_limit: 16 * 1024,
            otlp_endpoint: None,
            filter: "info".to_owned(),
        }
    }
}

impl Telemetry {
    /// The defaults: a trace store of 1 000 traces that records while the server serves the
    /// trace API (dev mode or `FlowServer::trace_api`), metrics on, plain-text logs, inputs
    /// and outputs recorded up to 16 KiB where a trace store or exporter keeps them, no OTLP
    /// export (unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set and the `otlp` feature is on), log
    /// filter from `RUST_LOG` or `info`.
    pub fn new() -> Self {
        Telemetry::default()
    }

    /// How many traces the in-process store keeps, recording from the start whether or not
    /// the trace API is served (0 disables the store).
    #[must_use]
    pub fn trace_store(mut self, traces: usize) -> Self {
        self.trace_store = Some(traces);
        self
    }

    /// Whether Prometheus metrics are recorded.
    #[must_use]
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// Whether logs are JSON lines instead of text.
    #[must_use]
    pub fn json_logs(mut self, on: bool) -> Self {
        self.json_logs = on;
        self
    }

    /// Whether spans carry `genkit:input` / `genkit:output` (when a recording trace store or an
    /// OTLP exporter keeps them; serializing them for nobody is skipped).
    #[must_use]
    pub fn record_io(mut self, on: bool) -> Self {
        self.record_io = on;
        self
    }

    /// The size cap of recorded inputs and outputs, in bytes.
    #[must_use]
    pub fn io_limit(mut self, bytes: usize) -> Self {
        self.io_limit = bytes;
        self
    }

    /// Exports spans over OTLP/HTTP to `endpoint` (e.g. `http://127.0.0.1:4318`). Needs the
    /// `otlp` feature.
    #[must_use]
    pub fn otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(endpoint.into());
        self
    }

    /// The default log filter when `RUST_LOG` is unset.
    #[must_use]
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = filter.into();
        self
    }

    /// Installs the global `tracing` subscriber (logs, span layer, trace store, OTLP)
    /// and turns metrics on. Keep the guard alive: dropping it flushes and stops export.
    ///
    /// Logs show events (at the `RUST_LOG` level); spans go to genflow's span layer only
    /// (at `info` and above), so they cost no log formatting, and the debug events of
    /// dependencies never reach it.
    pub fn init(self) -> Result<TelemetryGuard, TelemetryError> {
        span::configure_io(self.record_io, self.io_limit);
        if self.metrics {
            metrics::install();
        }
        let mut processors: Vec<Box<dyn SpanProcessor>> = Vec::new();
        let (capacity, recording) = match self.trace_store {
            None => (DEFAULT_TRACE_STORE, false),
            Some(traces) => (traces, true),
        };
        if capacity > 0 {
            let store = STORE.get_or_init(|| TraceStore::new(capacity)).clone();
            store.set_recording(recording);
            processors.push(Box::new(store));
        }
        let exporting = match otlp::exporter(self.otlp_endpoint.as_deref())? {
            Some(exporter) => {
                processors.push(exporter);
                true
            }
            None => false,
        };
        let resource = Resource::builder().build();
        for processor in &mut processors {
            processor.set_resource(&resource);
        }
        let processors: layer::Processors = processors.into();
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&self.filter));
        let fmt = if self.json_logs {
            tracing_subscriber::fmt::layer().json().boxed()
        } else {
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            tracing_subscriber::fmt::layer().with_ansi(ansi).boxed()
        };
        tracing_subscriber::registry()
            .with(fmt.with_filter(filter.and(filter_fn(|meta| meta.is_event()))))
            .with(layer::SpanLayer::new(processors.clone()).with_filter(filter_fn(exported)))
            .try_init()
            .map_err(|e| TelemetryError::SubscriberInstalled(e.to_string()))?;
        EXPORTING.store(exporting, Ordering::Relaxed);
        INSTALLED.store(true, Ordering::Relaxed);
        Ok(TelemetryGuard { processors })
    }
}

/// What the span layer sees: spans at `info` and above, events at `warn` and above.
/// A metadata-only filter, so `tracing` caches the decision per callsite.
fn exported(meta: &Metadata<'_>) -> bool {
    let floor = if meta.is_span() {
        Level::INFO
    } else {
        Level::WARN
    };
    *meta.level() <= floor
}

/// Whether anything keeps finished spans: a recording trace store, an OTLP exporter, or (when
/// [`Telemetry::init`] did not run) whatever subscriber the application installed.
pub(crate) fn spans_kept() -> bool {
    !INSTALLED.load(Ordering::Relaxed)
        || EXPORTING.load(Ordering::Relaxed)
        || store().is_some_and(TraceStore::is_recording)
}

/// Keeps telemetry running; flushes exporters when dropped.
pub struct TelemetryGuard {
    processors: layer::Processors,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("processors", &self.processors.len())
            .finish()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        for processor in self.processors.iter() {
            // Shutdown errors at exit have nowhere useful to go.
            let _ = processor.shutdown();
        }
    }
}

/// The process's trace store, once [`Telemetry::init`] created it.
pub fn store() -> Option<&'static TraceStore> {
    STORE.get()
}

/// The ids of `span`: from genflow's span layer when [`Telemetry::init`] installed it, else
/// from an application's own `tracing-opentelemetry` layer.
pub fn ids_of(span: &tracing::Span) -> Option<SpanIds> {
    if let Some(ids) = layer::ids_of(span) {
        return Some(ids);
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| SpanIds {
        trace_id: u128::from_be_bytes(span_context.trace_id().to_bytes()),
        span_id: u64::from_be_bytes(span_context.span_id().to_bytes()),
    })
}

/// Makes `span` a child of the caller's remote span.
pub(crate) fn join_remote(span: &tracing::Span, parent: &TraceParent) {
    if layer::join_remote(span, parent) {
        return;
    }
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
    // Fails only when the span is already started or telemetry is absent: nothing to join then.
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
}

#[cfg(feature = "otlp")]
mod otlp {
    use opentelemetry_otlp::{SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::{BatchSpanProcessor, SpanProcessor};

    use super::TelemetryError;

    /// A batching OTLP/HTTP exporter, when an endpoint is configured in code or through the
    /// standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables.
    pub(super) fn exporter(
        endpoint: Option<&str>,
    ) -> Result<Option<Box<dyn SpanProcessor>>, TelemetryError> {
        let from_env = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
        if endpoint.is_none() && !from_env {
            return Ok(None);
        }
        crate::tls::install_crypto_provider();
        let mut exporter = SpanExporter::builder().with_http();
        if let Some(endpoint) = endpoint {
            exporter =
                exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
        }
        let exporter = exporter
            .build()
            .map_err(|e| TelemetryError::Otlp(e.to_string()))?;
        Ok(Some(Box::new(
            BatchSpanProcessor::builder(exporter).build(),
        )))
    }
}

#[cfg(not(feature = "otlp"))]
mod otlp {
    use opentelemetry_sdk::trace::SpanProcessor;

    use super::TelemetryError;

    /// Without the `otlp` feature an explicit endpoint is a configuration error.
    pub(super) fn exporter(
        endpoint: Option<&str>,
    ) -> Result<Option<Box<dyn SpanProcessor>>, TelemetryError> {
        match endpoint {
            Some(endpoint) => Err(TelemetryError::Otlp(format!(
                "an OTLP endpoint ({endpoint}) is configured, but genflow-runtime was built without the `otlp` feature"
            ))),
            None => Ok(None),
        }
    }
}
