//! Prometheus metrics: requests and latency per action and status, model calls and tokens,
//! HTTP requests in flight and by code, and load shedding.
//!
//! Names follow Genkit's (`genkit/action/requests` becomes `genkit_action_requests_total`).
//! Recording is a no-op until [`Telemetry`](super::Telemetry) turns metrics on. Every series is
//! a set of atomics: recording costs a map lookup and an add, and nothing accumulates between
//! scrapes.

mod family;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use family::{Counter, Family, Histogram, intern};

use crate::{ActionKind, Status};

/// Whether metrics are recorded and served.
static ENABLED: AtomicBool = AtomicBool::new(false);

static ACTION_REQUESTS: Family<Counter, 3> = Family::new(
    "genkit_action_requests_total",
    "Action runs by kind, name and status.",
    ["kind", "name", "status"],
);
static ACTION_LATENCY: Family<Histogram, 3> = Family::new(
    "genkit_action_latency_seconds",
    "Action run latency in seconds.",
    ["kind", "name", "status"],
);
static GENERATE_REQUESTS: Family<Counter, 2> = Family::new(
    "genkit_ai_generate_requests_total",
    "Model calls by model and status.",
    ["model", "status"],
);
static GENERATE_LATENCY: Family<Histogram, 1> = Family::new(
    "genkit_ai_generate_latency_seconds",
    "Model call latency in seconds.",
    ["model"],
);
static INPUT_TOKENS: Family<Counter, 1> = Family::new(
    "genkit_ai_generate_input_tokens_total",
    "Input tokens models reported.",
    ["model"],
);
static OUTPUT_TOKENS: Family<Counter, 1> = Family::new(
    "genkit_ai_generate_output_tokens_total",
    "Output tokens models reported.",
    ["model"],
);
#[cfg(feature = "server")]
static HTTP_IN_FLIGHT: Family<family::Gauge, 0> = Family::new(
    "genflow_http_in_flight_requests",
    "Flow requests being answered.",
    [],
);
#[cfg(feature = "server")]
static HTTP_REQUESTS: Family<Counter, 2> = Family::new(
    "genflow_http_requests_total",
    "Flow requests answered, by flow and HTTP status code.",
    ["flow", "code"],
);
#[cfg(feature = "server")]
static HTTP_DURATION: Family<Histogram, 2> = Family::new(
    "genflow_http_request_duration_seconds",
    "Flow request duration in seconds, by flow and HTTP status code.",
    ["flow", "code"],
);
#[cfg(feature = "server")]
static LOAD_SHED: Family<Counter, 0> = Family::new(
    "genflow_http_load_shed_total",
    "Requests shed at the concurrency limit.",
    [],
);

/// Turns recording on, process-wide.
pub(crate) fn install() {
    ENABLED.store(true, Ordering::Relaxed);
}

fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The metrics in Prometheus text format, if metrics are on.
pub fn render() -> Option<String> {
    if !enabled() {
        return None;
    }
    let mut out = String::new();
    ACTION_REQUESTS.render(&mut out);
    ACTION_LATENCY.render(&mut out);
    GENERATE_REQUESTS.render(&mut out);
    GENERATE_LATENCY.render(&mut out);
    INPUT_TOKENS.render(&mut out);
    OUTPUT_TOKENS.render(&mut out);
    #[cfg(feature = "server")]
    {
        HTTP_IN_FLIGHT.render(&mut out);
        HTTP_REQUESTS.render(&mut out);
        HTTP_DURATION.render(&mut out);
        LOAD_SHED.render(&mut out);
    }
    Some(out)
}

/// Records one finished action run.
pub(crate) fn record_action(
    kind: ActionKind,
    name: &'static str,
    status: Status,
    latency: Duration,
) {
    if !enabled() {
        return;
    }
    let labels = [kind.as_str(), name, status.name()];
    ACTION_REQUESTS.with(labels).add(1);
    ACTION_LATENCY.with(labels).record(latency);
}

/// Records one model call: latency, outcome and token counts.
pub fn record_generate(
    model: &str,
    status: Status,
    latency: Duration,
    input_tokens: u64,
    output_tokens: u64,
) {
    if !enabled() {
        return;
    }
    let model = intern(model);
    GENERATE_REQUESTS.with([model, status.name()]).add(1);
    GENERATE_LATENCY.with([model]).record(latency);
    INPUT_TOKENS.with([model]).add(input_tokens);
    OUTPUT_TOKENS.with([model]).add(output_tokens);
}

#[cfg(feature = "server")]
/// One HTTP flow request being answered: counted in flight until it is finished (or dropped,
/// when the client goes away), then counted by status code with its latency.
pub(crate) struct HttpRequest {
    flow: &'static str,
    started: std::time::Instant,
    counted: bool,
}

#[cfg(feature = "server")]
impl HttpRequest {
    /// Counts a request to `flow` as in flight.
    pub(crate) fn start(flow: &'static str) -> Self {
        let counted = enabled();
        if counted {
            HTTP_IN_FLIGHT.with([]).add(1);
        }
        HttpRequest {
            flow,
            started: std::time::Instant::now(),
            counted,
        }
    }

    /// Records the response's status code.
    pub(crate) fn finish(self, code: axum::http::StatusCode) {
        if !self.counted {
            return;
        }
        let labels = [self.flow, intern(code.as_str())];
        HTTP_REQUESTS.with(labels).add(1);
        HTTP_DURATION.with(labels).record(self.started.elapsed());
    }
}

#[cfg(feature = "server")]
impl Drop for HttpRequest {
    fn drop(&mut self) {
        if self.counted {
            HTTP_IN_FLIGHT.with([]).add(-1);
        }
    }
}

#[cfg(feature = "server")]
/// Counts one request shed because the server was at its concurrency limit.
pub(crate) fn load_shed() {
    if enabled() {
        LOAD_SHED.with([]).add(1);
    }
}
