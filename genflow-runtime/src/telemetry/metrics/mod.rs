//! Prometheus metrics: requests and latency per action and status, model calls and tokens,
//! HTTP requests in flight and by code, and load shedding.
//!
//! Names follow Genkit's (`genkit/action/requests` becomes `genkit_action_requests_total`).
//! A `Metrics` value owns a `prometheus-client` registry and its families: recording costs a
//! map lookup and an add on atomics (a short lock for a histogram), and nothing accumulates
//! between scrapes. Each [`TelemetryHandle`](super::TelemetryHandle) with metrics on holds one.

#[cfg(feature = "models")]
mod generate;
#[cfg(feature = "server")]
mod http;
mod labels;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[cfg(feature = "server")]
pub(crate) use http::HttpRequest;
use labels::ActionLabels;

use crate::{ActionKind, Status};

/// The media type of [`Metrics::render`]'s output: the Prometheus text format 0.0.4.
#[cfg(feature = "server")]
pub(crate) const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Latency bucket bounds in seconds, from 1 ms to 2 min.
const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// A family of latency histograms over [`LATENCY_BUCKETS`].
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// An empty family of latency histograms.
fn latency_histograms<L: Clone + std::hash::Hash + Eq>() -> Histograms<L> {
    Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS))
}

/// One set of metrics with its own registry; clones share it. Two values never see each
/// other's records.
#[derive(Clone)]
pub(crate) struct Metrics(Arc<Families>);

/// The registry and the families registered in it.
struct Families {
    registry: Registry,
    action_requests: Family<ActionLabels, Counter>,
    action_latency: Histograms<ActionLabels>,
    #[cfg(feature = "models")]
    generate: generate::GenerateFamilies,
    #[cfg(feature = "server")]
    http: http::HttpFamilies,
}

impl Metrics {
    /// Metrics with nothing recorded yet.
    pub(crate) fn new() -> Self {
        // Counters are registered without `_total`: the encoder appends it. Help texts are
        // registered without their final period: the registry appends it.
        let mut registry = Registry::default();
        let action_requests: Family<ActionLabels, Counter> = Family::default();
        let action_latency: Histograms<ActionLabels> = latency_histograms();
        registry.register(
            "genkit_action_requests",
            "Action runs by kind, name and status",
            action_requests.clone(),
        );
        registry.register(
            "genkit_action_latency_seconds",
            "Action run latency in seconds",
            action_latency.clone(),
        );
        #[cfg(feature = "models")]
        let generate = generate::GenerateFamilies::register(&mut registry);
        #[cfg(feature = "server")]
        let http = http::HttpFamilies::register(&mut registry);
        Metrics(Arc::new(Families {
            registry,
            action_requests,
            action_latency,
            #[cfg(feature = "models")]
            generate,
            #[cfg(feature = "server")]
            http,
        }))
    }

    /// Every metric in the Prometheus text format 0.0.4; a family without series is left out.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a `String` cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.0.registry);
        out
    }

    /// Records one finished action run.
    pub(crate) fn record_action(
        &self,
        kind: ActionKind,
        name: &'static str,
        status: Status,
        latency: Duration,
    ) {
        let labels = ActionLabels {
            kind: kind.as_str(),
            name,
            status: status.name(),
        };
        self.0.action_requests.get_or_create(&labels).inc();
        self.0
            .action_latency
            .get_or_create(&labels)
            .observe(latency.as_secs_f64());
    }
}

#[cfg(all(test, feature = "models"))]
mod tests {
    use super::*;

    #[test]
    fn families_render_the_text_format() {
        let metrics = Metrics::new();
        let latency = Duration::from_millis(3);
        metrics.record_action(ActionKind::Flow, "a\"b", Status::Ok, latency);
        metrics.record_action(
            ActionKind::Flow,
            "a\"b",
            Status::Ok,
            Duration::from_secs(500),
        );
        metrics.record_generate("m", Status::Ok, latency, 5, 7);
        let text = metrics.render();
        for line in [
            "# HELP genkit_action_requests_total Action runs by kind, name and status.",
            "# TYPE genkit_action_requests_total counter",
            r#"genkit_action_requests_total{kind="flow",name="a\"b",status="OK"} 2"#,
            "# HELP genkit_action_latency_seconds Action run latency in seconds.",
            "# TYPE genkit_action_latency_seconds histogram",
            r#"genkit_action_latency_seconds_bucket{kind="flow",name="a\"b",status="OK",le="0.0025"} 0"#,
            r#"genkit_action_latency_seconds_bucket{kind="flow",name="a\"b",status="OK",le="0.005"} 1"#,
            r#"genkit_action_latency_seconds_bucket{kind="flow",name="a\"b",status="OK",le="120"} 1"#,
            r#"genkit_action_latency_seconds_bucket{kind="flow",name="a\"b",status="OK",le="+Inf"} 2"#,
            r#"genkit_action_latency_seconds_sum{kind="flow",name="a\"b",status="OK"} 500.003"#,
            r#"genkit_action_latency_seconds_count{kind="flow",name="a\"b",status="OK"} 2"#,
            "# HELP genkit_ai_generate_requests_total Model calls by model and status.",
            r#"genkit_ai_generate_requests_total{model="m",status="OK"} 1"#,
            "# HELP genkit_ai_generate_latency_seconds Model call latency in seconds.",
            r#"genkit_ai_generate_latency_seconds_count{model="m"} 1"#,
            "# HELP genkit_ai_generate_input_tokens_total Input tokens models reported.",
            r#"genkit_ai_generate_input_tokens_total{model="m"} 5"#,
            "# HELP genkit_ai_generate_output_tokens_total Output tokens models reported.",
            r#"genkit_ai_generate_output_tokens_total{model="m"} 7"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        let buckets = text
            .lines()
            .filter(|l| l.starts_with("genkit_action_latency_seconds_bucket"))
            .count();
        assert_eq!(buckets, LATENCY_BUCKETS.len() + 1, "{text}");
    }

    #[test]
    fn a_family_without_series_renders_nothing() {
        let text = Metrics::new().render();
        assert!(!text.contains("genkit_"), "{text}");
    }

    #[test]
    fn two_values_record_independently() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.record_action(ActionKind::Flow, "only_a", Status::Ok, Duration::ZERO);
        b.record_generate("only_b", Status::Ok, Duration::ZERO, 1, 1);
        let (a, b) = (a.render(), b.render());
        assert!(a.contains(r#"name="only_a""#), "{a}");
        assert!(!a.contains("only_b"), "{a}");
        assert!(b.contains(r#"model="only_b""#), "{b}");
        assert!(!b.contains("only_a"), "{b}");
    }
}
