//! SHIM: the process-wide [`Metrics`] instance behind the free functions the call sites use
//! today. Telemetry is becoming a value handed to the registry and server; once it is threaded
//! through, the call sites hold a `Metrics` and this module goes.

use std::sync::OnceLock;
use std::time::Duration;

use super::Metrics;
use crate::{ActionKind, Status};

/// The process-wide metrics, once [`install`] has turned them on.
static GLOBAL: OnceLock<Metrics> = OnceLock::new();

/// Turns recording on, process-wide (later calls keep the same metrics).
pub(crate) fn install() {
    GLOBAL.get_or_init(Metrics::new);
}

/// The metrics in Prometheus text format, if metrics are on.
pub fn render() -> Option<String> {
    GLOBAL.get().map(Metrics::render)
}

/// Records one finished action run, if metrics are on.
pub(crate) fn record_action(
    kind: ActionKind,
    name: &'static str,
    status: Status,
    latency: Duration,
) {
    if let Some(metrics) = GLOBAL.get() {
        metrics.record_action(kind, name, status, latency);
    }
}

/// Records one model call (latency, outcome and token counts), if metrics are on.
pub fn record_generate(
    model: &str,
    status: Status,
    latency: Duration,
    input_tokens: u64,
    output_tokens: u64,
) {
    if let Some(metrics) = GLOBAL.get() {
        metrics.record_generate(model, status, latency, input_tokens, output_tokens);
    }
}

#[cfg(feature = "server")]
impl super::HttpRequest {
    /// Counts a request to `flow` as in flight, if metrics are on.
    pub(crate) fn start(flow: &'static str) -> Self {
        match GLOBAL.get() {
            Some(metrics) => metrics.http_request(flow),
            None => Self::uncounted(flow),
        }
    }
}

/// Counts one request shed because the server was at its concurrency limit, if metrics are on.
#[cfg(feature = "server")]
pub(crate) fn load_shed() {
    if let Some(metrics) = GLOBAL.get() {
        metrics.load_shed();
    }
}
