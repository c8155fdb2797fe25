//! [`Telemetry`]: the settings of a registry's telemetry, and turning them into a
//! [`TelemetryHandle`].

use opentelemetry_sdk::Resource;
use tracing::{Level, Metadata};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt, Targets, filter_fn};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::layer::{SpanLayer, SpanSink};
use super::metrics::Metrics;
use super::store::TraceStore;
use super::{TelemetryError, TelemetryHandle, otlp};

/// The traces the default store keeps once it records.
const DEFAULT_TRACE_STORE: usize = 1_000;

/// Telemetry settings: [`Telemetry::build`] makes them a [`TelemetryHandle`] to give a registry,
/// [`Telemetry::init`] also installs the process's log subscriber and genflow's span layer.
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
    #[cfg(feature = "server")]
    trace_server: Option<super::TraceServerExporter>,
    /// Log lines go to stderr instead of stdout.
    stderr: bool,
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
            #[cfg(feature = "server")]
            trace_server: None,
            stderr: false,
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

    /// Posts spans to a Genkit telemetry server in Genkit's trace format (what the developer
    /// tools do in dev mode). Feature `server`.
    #[cfg(feature = "server")]
    #[must_use]
    pub fn trace_server(mut self, exporter: super::TraceServerExporter) -> Self {
        self.trace_server = Some(exporter);
        self
    }

    /// The default log filter when `RUST_LOG` is unset.
    #[must_use]
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = filter.into();
        self
    }

    /// Writes log lines to stderr instead of stdout (a stdio MCP server keeps stdout for the
    /// protocol).
    #[must_use]
    pub fn logs_to_stderr(mut self, on: bool) -> Self {
        self.stderr = on;
        self
    }

    /// The running telemetry these settings describe, without touching anything global: give
    /// it to [`RegistryBuilder::telemetry`](crate::RegistryBuilder::telemetry). Its spans reach
    /// it wherever genflow's [`SpanLayer`] is installed (by [`Telemetry::init`], or in the
    /// application's own subscriber).
    pub fn build(self) -> Result<TelemetryHandle, TelemetryError> {
        let store = match self.trace_store {
            None => {
                let store = TraceStore::new(DEFAULT_TRACE_STORE);
                store.set_recording(false);
                Some(store)
            }
            Some(0) => None,
            Some(traces) => Some(TraceStore::new(traces)),
        };
        let exporters = otlp::exporter(self.otlp_endpoint.as_deref())?
            .into_iter()
            .collect::<Vec<_>>();
        let resource = Resource::builder().build();
        let mut sink = SpanSink::new(store.clone(), exporters);
        sink.set_resource(&resource);
        #[cfg(feature = "server")]
        if let Some(exporter) = self.trace_server {
            sink = sink.with_trace_server(exporter);
        }
        Ok(TelemetryHandle::new(
            sink,
            store,
            self.metrics.then(Metrics::new),
            self.record_io.then_some(self.io_limit),
        ))
    }

    /// [`Telemetry::build`], then installs the process's `tracing` subscriber: logs (events at
    /// the `RUST_LOG` level, as text or JSON lines) and genflow's [`SpanLayer`] (spans at `info`
    /// and above, so they cost no log formatting, and dependencies' debug events never reach
    /// it). Call [`TelemetryHandle::shutdown`] before exit to flush exporters.
    pub fn init(self) -> Result<TelemetryHandle, TelemetryError> {
        let (json_logs, stderr) = (self.json_logs, self.stderr);
        let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref(), &self.filter);
        let handle = self.build()?;
        let writer = if stderr {
            BoxMakeWriter::new(std::io::stderr)
        } else {
            BoxMakeWriter::new(std::io::stdout)
        };
        let fmt = if json_logs {
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(writer)
                .boxed()
        } else {
            let ansi = if stderr {
                std::io::IsTerminal::is_terminal(&std::io::stderr())
            } else {
                std::io::IsTerminal::is_terminal(&std::io::stdout())
            };
            tracing_subscriber::fmt::layer()
                .with_ansi(ansi)
                .with_writer(writer)
                .boxed()
        };
        tracing_subscriber::registry()
            .with(fmt.with_filter(filter.and(filter_fn(|meta| meta.is_event()))))
            .with(SpanLayer::default().with_filter(filter_fn(exported)))
            .try_init()
            .map_err(|e| TelemetryError::SubscriberInstalled(e.to_string()))?;
        Ok(handle)
    }
}

/// What the span layer sees: spans at `info` and above, events at `warn` and above.
/// The log filter: `RUST_LOG` when it parses, else `default` (else `info`). Both are lists of
/// `target=level` directives and a bare default level, as `RUST_LOG` is commonly written;
/// `tracing_subscriber`'s span and field selectors are not supported (they would link two
/// regex engines into every binary).
fn log_filter(rust_log: Option<&str>, default: &str) -> Targets {
    rust_log
        .and_then(|v| v.parse().ok())
        .or_else(|| default.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
}

/// A metadata-only filter, so `tracing` caches the decision per callsite.
fn exported(meta: &Metadata<'_>) -> bool {
    let floor = if meta.is_span() {
        Level::INFO
    } else {
        Level::WARN
    };
    *meta.level() <= floor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_directives_select_levels_per_target() {
        let filter = log_filter(Some("warn,genflow_runtime=debug"), "info");
        assert!(filter.would_enable("genflow_runtime::http", &Level::DEBUG));
        assert!(!filter.would_enable("genflow_runtime::http", &Level::TRACE));
        assert!(filter.would_enable("hyper", &Level::WARN));
        assert!(!filter.would_enable("hyper", &Level::INFO));
    }

    #[test]
    fn an_unparsable_rust_log_falls_back_to_the_default() {
        let filter = log_filter(Some("=!nonsense"), "error");
        assert!(filter.would_enable("app", &Level::ERROR));
        assert!(!filter.would_enable("app", &Level::WARN));
        let filter = log_filter(Some("=!nonsense"), "=!also nonsense");
        assert!(filter.would_enable("app", &Level::INFO));
        assert!(!filter.would_enable("app", &Level::DEBUG));
        assert!(log_filter(None, "debug").would_enable("app", &Level::DEBUG));
    }
}
