//! [`TelemetryHandle`]: a running telemetry, the value a registry and its servers send their
//! spans and metrics to.

use std::sync::{Arc, LazyLock};

use super::layer::SpanSink;
use super::metrics::Metrics;
use super::store::TraceStore;

/// A running telemetry: its trace store, exporters, metrics and recording policy. Cheap to
/// clone; every clone is the same telemetry.
///
/// Made by [`Telemetry::build`](super::Telemetry::build) or
/// [`Telemetry::init`](super::Telemetry::init) and given to
/// [`RegistryBuilder::telemetry`](crate::RegistryBuilder::telemetry); the registry's runs and
/// its servers record into it and into nothing else, so two registries with different
/// telemetry in one process do not interfere.
#[derive(Clone)]
pub struct TelemetryHandle {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where spans go; `None` leaves them to the application's own subscriber.
    sink: Option<Arc<SpanSink>>,
    store: Option<TraceStore>,
    metrics: Option<Metrics>,
    /// The size cap of recorded inputs and outputs; `None` records none.
    io_limit: Option<usize>,
}

impl TelemetryHandle {
    pub(crate) fn new(
        sink: SpanSink,
        store: Option<TraceStore>,
        metrics: Option<Metrics>,
        io_limit: Option<usize>,
    ) -> Self {
        TelemetryHandle {
            inner: Arc::new(Inner {
                sink: Some(Arc::new(sink)),
                store,
                metrics,
                io_limit,
            }),
        }
    }

    /// The telemetry of a registry given none: spans go to whatever `tracing` subscriber the
    /// application installed (with their inputs and outputs up to 16 KiB), no metrics are
    /// recorded and no traces kept.
    pub fn detached() -> Self {
        static DETACHED: LazyLock<TelemetryHandle> = LazyLock::new(|| TelemetryHandle {
            inner: Arc::new(Inner {
                sink: None,
                store: None,
                metrics: None,
                io_limit: Some(super::DEFAULT_IO_LIMIT),
            }),
        });
        DETACHED.clone()
    }

    /// The in-process trace store, unless it is disabled (`trace_store(0)`).
    pub fn trace_store(&self) -> Option<&TraceStore> {
        self.inner.store.as_ref()
    }

    /// The Genkit telemetry server exporter, when [`Telemetry::trace_server`] installed one.
    ///
    /// [`Telemetry::trace_server`]: super::Telemetry::trace_server
    #[cfg(feature = "server")]
    pub fn trace_server(&self) -> Option<&super::TraceServerExporter> {
        self.inner.sink.as_deref()?.trace_server()
    }

    /// Whether Prometheus metrics are recorded.
    pub fn metrics_enabled(&self) -> bool {
        self.inner.metrics.is_some()
    }

    /// Every metric in the Prometheus text format (what `GET /metrics` serves), when metrics
    /// are recorded.
    pub fn render_metrics(&self) -> Option<String> {
        self.inner.metrics.as_ref().map(Metrics::render)
    }

    /// The metrics, when they are recorded.
    pub(crate) fn metrics(&self) -> Option<&Metrics> {
        self.inner.metrics.as_ref()
    }

    /// Counts an HTTP request to `flow` in flight until it is finished or dropped.
    #[cfg(feature = "server")]
    pub(crate) fn http_request(&self, flow: &'static str) -> super::HttpRequest {
        match self.metrics() {
            Some(metrics) => metrics.http_request(flow),
            None => super::HttpRequest::uncounted(flow),
        }
    }

    /// Counts a request shed at the concurrency limit.
    #[cfg(feature = "server")]
    pub(crate) fn load_shed(&self) {
        if let Some(metrics) = self.metrics() {
            metrics.load_shed();
        }
    }

    /// Flushes and stops the exporters (also done once the last clone and the last span of
    /// this telemetry are gone).
    pub fn shutdown(&self) {
        if let Some(sink) = &self.inner.sink {
            sink.shutdown();
        }
    }

    /// Whether anything keeps finished spans now: a recording trace store or an exporter, or,
    /// for detached telemetry, whatever subscriber the application installed.
    pub(crate) fn keeps_spans(&self) -> bool {
        self.inner.sink.as_deref().is_none_or(SpanSink::keeps)
    }

    /// Where the spans of this telemetry's runs go.
    pub(crate) fn sink(&self) -> Option<&Arc<SpanSink>> {
        self.inner.sink.as_ref()
    }

    /// The size cap of recorded inputs and outputs; `None` records none.
    pub(crate) fn io_limit(&self) -> Option<usize> {
        self.inner.io_limit
    }
}

impl Default for TelemetryHandle {
    fn default() -> Self {
        TelemetryHandle::detached()
    }
}

impl std::fmt::Debug for TelemetryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryHandle")
            .field("detached", &self.inner.sink.is_none())
            .field("trace_store", &self.inner.store.is_some())
            .field("metrics", &self.inner.metrics.is_some())
            .field("io_limit", &self.inner.io_limit)
            .finish()
    }
}
