//! Prometheus metrics: requests and latency per action and status, model calls and tokens,
//! tool calls, HTTP in-flight requests and load shedding.
//!
//! Names follow Genkit's (`genkit/action/requests` becomes `genkit_action_requests_total`).
//! Recording is a no-op until [`Telemetry`](super::Telemetry) installs the recorder.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::{ActionKind, Status};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds, from 1 ms to 2 min.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Installs the global Prometheus recorder (once per process; later calls reuse it).
pub(crate) fn install() -> Result<(), String> {
    if HANDLE.get().is_some() {
        return Ok(());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(LATENCY_BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())?;
    // A concurrent install loses the race harmlessly: both handles read the same recorder.
    let _ = HANDLE.set(handle);
    Ok(())
}

/// The metrics in Prometheus text format, if the recorder is installed.
pub fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
}

/// Records one finished action run.
pub(crate) fn record_action(
    kind: ActionKind,
    name: &'static str,
    status: Status,
    latency: Duration,
) {
    let kind = kind.as_str();
    let status = status.name();
    metrics::counter!("genkit_action_requests_total", "kind" => kind, "name" => name, "status" => status)
        .increment(1);
    metrics::histogram!("genkit_action_latency_seconds", "kind" => kind, "name" => name, "status" => status)
        .record(latency.as_secs_f64());
}

/// Records one model call: latency, outcome and token counts.
pub fn record_generate(
    model: &str,
    status: Status,
    latency: Duration,
    input_tokens: u64,
    output_tokens: u64,
) {
    let model = model.to_owned();
    let status = status.name();
    metrics::counter!("genkit_ai_generate_requests_total", "model" => model.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("genkit_ai_generate_latency_seconds", "model" => model.clone())
        .record(latency.as_secs_f64());
    metrics::counter!("genkit_ai_generate_input_tokens_total", "model" => model.clone())
        .increment(input_tokens);
    metrics::counter!("genkit_ai_generate_output_tokens_total", "model" => model)
        .increment(output_tokens);
}

#[cfg(feature = "server")]
/// One HTTP flow request being answered: counted in flight until it is finished (or dropped,
/// when the client goes away), then counted by status code with its latency.
pub(crate) struct HttpRequest {
    flow: &'static str,
    started: std::time::Instant,
}

#[cfg(feature = "server")]
impl HttpRequest {
    /// Counts a request to `flow` as in flight.
    pub(crate) fn start(flow: &'static str) -> Self {
        metrics::gauge!("genflow_http_in_flight_requests").increment(1.0);
        HttpRequest {
            flow,
            started: std::time::Instant::now(),
        }
    }

    /// Records the response's status code.
    pub(crate) fn finish(self, code: u16) {
        let code = code.to_string();
        metrics::counter!("genflow_http_requests_total", "flow" => self.flow, "code" => code.clone())
            .increment(1);
        metrics::histogram!("genflow_http_request_duration_seconds", "flow" => self.flow, "code" => code)
            .record(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(feature = "server")]
impl Drop for HttpRequest {
    fn drop(&mut self) {
        metrics::gauge!("genflow_http_in_flight_requests").decrement(1.0);
    }
}

#[cfg(feature = "server")]
/// Counts one request shed because the server was at its concurrency limit.
pub(crate) fn load_shed() {
    metrics::counter!("genflow_http_load_shed_total").increment(1);
}
