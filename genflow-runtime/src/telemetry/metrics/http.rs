//! The flow server's metrics: requests in flight, answered requests by code with their
//! duration, and load shedding.

use std::time::Instant;

use axum::http::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{Histograms, Metrics, latency_histograms};

/// `flow` and HTTP status `code` of an answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    flow: &'static str,
    code: u16,
}

/// The server's metric families.
pub(super) struct HttpFamilies {
    in_flight: Gauge,
    requests: Family<HttpLabels, Counter>,
    duration: Histograms<HttpLabels>,
    load_shed: Counter,
}

impl HttpFamilies {
    /// The families, registered in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let families = HttpFamilies {
            in_flight: Gauge::default(),
            requests: Family::default(),
            duration: latency_histograms(),
            load_shed: Counter::default(),
        };
        registry.register(
            "genflow_http_in_flight_requests",
            "Flow requests being answered",
            families.in_flight.clone(),
        );
        registry.register(
            "genflow_http_requests",
            "Flow requests answered, by flow and HTTP status code",
            families.requests.clone(),
        );
        registry.register(
            "genflow_http_request_duration_seconds",
            "Flow request duration in seconds, by flow and HTTP status code",
            families.duration.clone(),
        );
        registry.register(
            "genflow_http_load_shed",
            "Requests shed at the concurrency limit",
            families.load_shed.clone(),
        );
        families
    }
}

impl Metrics {
    /// Counts a request to `flow` as in flight until the returned guard is finished or dropped.
    pub(crate) fn http_request(&self, flow: &'static str) -> HttpRequest {
        self.0.http.in_flight.inc();
        HttpRequest {
            metrics: Some(self.clone()),
            flow,
            started: Instant::now(),
        }
    }

    /// Counts one request shed because the server was at its concurrency limit.
    pub(crate) fn load_shed(&self) {
        self.0.http.load_shed.inc();
    }
}

/// One HTTP flow request being answered: counted in flight until it is finished (or dropped,
/// when the client goes away), then counted by status code with its latency.
pub(crate) struct HttpRequest {
    /// `None` when metrics are off.
    metrics: Option<Metrics>,
    flow: &'static str,
    started: Instant,
}

impl HttpRequest {
    /// A request nobody counts (metrics are off).
    pub(crate) fn uncounted(flow: &'static str) -> Self {
        HttpRequest {
            metrics: None,
            flow,
            started: Instant::now(),
        }
    }

    /// Records the response's status code.
    pub(crate) fn finish(self, code: StatusCode) {
        if let Some(metrics) = &self.metrics {
            let labels = HttpLabels {
                flow: self.flow,
                code: code.as_u16(),
            };
            let http = &metrics.0.http;
            http.requests.get_or_create(&labels).inc();
            http.duration
                .get_or_create(&labels)
                .observe(self.started.elapsed().as_secs_f64());
        }
    }
}

impl Drop for HttpRequest {
    fn drop(&mut self) {
        if let Some(metrics) = &self.metrics {
            metrics.0.http.in_flight.dec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_in_flight_until_finished_or_dropped() {
        let metrics = Metrics::new();
        let answered = metrics.http_request("greet");
        let abandoned = metrics.http_request("greet");
        assert!(
            metrics
                .render()
                .contains("\ngenflow_http_in_flight_requests 2\n")
        );
        answered.finish(StatusCode::OK);
        drop(abandoned);
        metrics.load_shed();
        let text = metrics.render();
        assert!(
            text.contains("\ngenflow_http_in_flight_requests 0\n"),
            "{text}"
        );
        assert!(
            text.contains("\ngenflow_http_requests_total{flow=\"greet\",code=\"200\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\ngenflow_http_request_duration_seconds_count{flow=\"greet\",code=\"200\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\ngenflow_http_load_shed_total 1\n"),
            "{text}"
        );
    }
}
