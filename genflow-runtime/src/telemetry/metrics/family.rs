//! Labeled metric families with atomic series, and their Prometheus text rendering.
//!
//! A series is looked up once per record (a read lock on a small sorted map) and updated with
//! atomics; nothing is buffered, so memory stays flat however long nobody scrapes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// A metric family: one name, fixed label names, one series per label-value combination.
pub(crate) struct Family<M, const N: usize> {
    name: &'static str,
    help: &'static str,
    labels: [&'static str; N],
    series: RwLock<BTreeMap<[&'static str; N], Arc<M>>>,
}

impl<M: Series, const N: usize> Family<M, N> {
    /// A family without series yet.
    pub(crate) const fn new(
        name: &'static str,
        help: &'static str,
        labels: [&'static str; N],
    ) -> Self {
        Family {
            name,
            help,
            labels,
            series: RwLock::new(BTreeMap::new()),
        }
    }

    /// The series of `values` (in label-name order), created on first use.
    pub(crate) fn with(&self, values: [&'static str; N]) -> Arc<M> {
        let found = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&values)
            .cloned();
        found.unwrap_or_else(|| {
            self.series
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(values)
                .or_default()
                .clone()
        })
    }

    /// Appends the family in the Prometheus text format (nothing while it has no series).
    pub(crate) fn render(&self, out: &mut String) {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        if series.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, M::TYPE);
        for (values, metric) in series.iter() {
            let mut labels = String::new();
            for (name, value) in self.labels.iter().zip(values) {
                let _ = write!(
                    labels,
                    "{}{name}=\"",
                    if labels.is_empty() { "" } else { "," }
                );
                escape_into(&mut labels, value);
                labels.push('"');
            }
            metric.render(out, self.name, &labels);
        }
    }
}

/// One series' value and how it renders.
pub(crate) trait Series: Default {
    /// The Prometheus `# TYPE`.
    const TYPE: &'static str;

    /// Appends the sample lines; `labels` is the rendered label list without braces.
    fn render(&self, out: &mut String, name: &str, labels: &str);
}

/// `{labels}`, or nothing for an unlabeled series.
fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

/// Appends one `name{labels} value` line.
fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{name}{} {value}", braces(labels));
}

/// A monotonic count.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

impl Series for Counter {
    const TYPE: &'static str = "counter";

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        sample(out, name, labels, self.0.load(Ordering::Relaxed));
    }
}

/// A value that goes up and down.
#[cfg(feature = "server")]
#[derive(Default)]
pub(crate) struct Gauge(std::sync::atomic::AtomicI64);

#[cfg(feature = "server")]
impl Gauge {
    pub(crate) fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(feature = "server")]
impl Series for Gauge {
    const TYPE: &'static str = "gauge";

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        sample(out, name, labels, self.0.load(Ordering::Relaxed));
    }
}

/// Latency bucket bounds in seconds, from 1 ms to 2 min.
pub(crate) const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// A latency histogram over [`LATENCY_BUCKETS`]: per-bucket counts (the last is `+Inf`) and the
/// sum in nanoseconds.
#[derive(Default)]
pub(crate) struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub(crate) fn record(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS.partition_point(|&bound| bound < seconds);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Series for Histogram {
    const TYPE: &'static str = "histogram";

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, count) in self.buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
    }
}

/// Escapes a label value as the text format asks: backslash, double quote and newline.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Distinct runtime label values kept; later new values share the label `other`, so a
/// stream of unexpected names cannot grow memory without bound.
const MAX_INTERNED: usize = 1024;

/// A `'static` copy of a runtime label value (a model name, an HTTP code), made once per
/// distinct value.
pub(crate) fn intern(value: &str) -> &'static str {
    static VALUES: RwLock<BTreeSet<&'static str>> = RwLock::new(BTreeSet::new());
    if let Some(found) = VALUES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(value)
    {
        return found;
    }
    let mut values = VALUES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = values.get(value) {
        return found;
    }
    if values.len() >= MAX_INTERNED {
        return "other";
    }
    let leaked: &'static str = Box::leak(value.to_owned().into_boxed_str());
    values.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_the_text_format() {
        let requests: Family<Counter, 2> =
            Family::new("demo_requests_total", "Requests.", ["name", "status"]);
        requests.with(["a\"b", "OK"]).add(2);
        requests.with(["a\"b", "OK"]).add(1);
        let latency: Family<Histogram, 0> = Family::new("demo_seconds", "Latency.", []);
        latency.with([]).record(Duration::from_millis(3));
        latency.with([]).record(Duration::from_secs(500));
        let mut out = String::new();
        requests.render(&mut out);
        latency.render(&mut out);
        assert!(
            out.contains("# TYPE demo_requests_total counter\n"),
            "{out}"
        );
        assert!(
            out.contains("demo_requests_total{name=\"a\\\"b\",status=\"OK\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("demo_seconds_bucket{le=\"0.0025\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("demo_seconds_bucket{le=\"0.005\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("demo_seconds_bucket{le=\"120\"} 1\n"), "{out}");
        assert!(
            out.contains("demo_seconds_bucket{le=\"+Inf\"} 2\n"),
            "{out}"
        );
        assert!(out.contains("demo_seconds_sum 500.003\n"), "{out}");
        assert!(out.contains("demo_seconds_count 2\n"), "{out}");
    }

    #[test]
    fn an_empty_family_renders_nothing() {
        let idle: Family<Counter, 0> = Family::new("idle", "Nothing yet.", []);
        let mut out = String::new();
        idle.render(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn interned_values_are_shared() {
        let a = intern("model-x");
        let b = intern(&String::from("model-x"));
        assert!(std::ptr::eq(a, b));
    }
}
