//! The in-process trace store: the newest traces, in Genkit's trace format, for the developer
//! UI and the trace read API.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, Status as OtelStatus};
use opentelemetry::{Array, Context, Value as OtelValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use serde::Serialize;
use serde_json::{Map, Value};

/// Spans kept per trace; later spans of a runaway trace are dropped and counted.
const MAX_SPANS_PER_TRACE: usize = 2_000;

/// A bounded ring buffer of the newest traces. Cheap to clone; every clone is the same store.
///
/// It is an OpenTelemetry span processor: [`Telemetry`](super::Telemetry) installs it, and every
/// finished span lands here while the store is recording (see [`TraceStore::set_recording`]).
#[derive(Clone, Debug)]
pub struct TraceStore {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    traces: Mutex<Traces>,
    recording: AtomicBool,
}

#[derive(Debug)]
struct Traces {
    capacity: usize,
    order: VecDeque<u128>,
    by_id: HashMap<u128, StoredTrace>,
}

/// A trace's spans as they ended: converted to Genkit's shape only when read.
#[derive(Debug, Default)]
struct StoredTrace {
    spans: Vec<SpanData>,
    dropped: usize,
}

/// One finished span in Genkit's `SpanData` shape.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanRecord {
    /// 16 hex digits.
    pub span_id: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// The parent's span id, absent for a root span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub start_time: f64,
    /// Milliseconds since the Unix epoch.
    pub end_time: f64,
    /// The span's attributes (`genkit:*`, `gen_ai.*`, ...).
    pub attributes: Map<String, Value>,
    /// The span name.
    pub display_name: String,
    /// Who produced the span.
    pub instrumentation_library: Library,
    /// Always `INTERNAL` for genflow's own spans.
    pub span_kind: String,
    /// `{code: 0 unset | 1 ok | 2 error, message}`.
    pub status: SpanStatus,
}

/// The instrumentation library of a span.
#[derive(Clone, Debug, Serialize)]
pub struct Library {
    /// Its name.
    pub name: String,
}

/// A span's status.
#[derive(Clone, Debug, Serialize)]
pub struct SpanStatus {
    /// 0 unset, 1 ok, 2 error (OpenTelemetry's codes).
    pub code: u8,
    /// The error description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A line of the trace list, newest first.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    /// 32 hex digits.
    pub trace_id: String,
    /// The root span's name.
    pub display_name: String,
    /// Milliseconds since the Unix epoch.
    pub start_time: f64,
    /// Milliseconds since the Unix epoch.
    pub end_time: f64,
    /// How many spans the trace holds.
    pub span_count: usize,
    /// `success` or `error`: the root span's `genkit:state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// One trace: Genkit's `TraceData` (`spans` keyed by span id) plus the span tree.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceData {
    /// 32 hex digits.
    pub trace_id: String,
    /// The root span's name.
    pub display_name: String,
    /// Milliseconds since the Unix epoch.
    pub start_time: f64,
    /// Milliseconds since the Unix epoch.
    pub end_time: f64,
    /// Every span, keyed by span id.
    pub spans: Map<String, Value>,
    /// The spans nested under their parents, children in start order.
    pub tree: Vec<SpanNode>,
    /// Spans dropped because the trace exceeded the per-trace limit.
    pub dropped_spans: usize,
}

/// A span and its children.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanNode {
    /// The span id.
    pub span_id: String,
    /// The span name.
    pub display_name: String,
    /// The children.
    pub children: Vec<SpanNode>,
}

impl TraceStore {
    /// A recording store keeping the newest `capacity` traces.
    pub fn new(capacity: usize) -> Self {
        TraceStore {
            inner: Arc::new(Shared {
                traces: Mutex::new(Traces {
                    capacity: capacity.max(1),
                    order: VecDeque::new(),
                    by_id: HashMap::new(),
                }),
                recording: AtomicBool::new(true),
            }),
        }
    }

    /// Starts or stops keeping finished spans. A store nobody reads costs a conversion and a
    /// lock per span, so [`Telemetry`](super::Telemetry)'s default store only records once the
    /// server serves the trace API.
    pub fn set_recording(&self, on: bool) {
        self.inner.recording.store(on, Ordering::Relaxed);
    }

    /// Whether finished spans are kept.
    pub fn is_recording(&self) -> bool {
        self.inner.recording.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Traces> {
        self.inner
            .traces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a finished span, evicting the oldest trace when full.
    fn insert(&self, span: SpanData) {
        let trace_id = u128::from_be_bytes(span.span_context.trace_id().to_bytes());
        let mut traces = self.lock();
        let mut evicted = None;
        if !traces.by_id.contains_key(&trace_id) {
            if traces.order.len() == traces.capacity
                && let Some(oldest) = traces.order.pop_front()
            {
                evicted = traces.by_id.remove(&oldest);
            }
            traces.order.push_back(trace_id);
        }
        let trace = traces.by_id.entry(trace_id).or_default();
        if trace.spans.len() < MAX_SPANS_PER_TRACE {
            trace.spans.push(span);
        } else {
            trace.dropped += 1;
        }
        drop(traces);
        // The evicted trace is freed after the lock is released.
        drop(evicted);
    }

    /// The newest `limit` traces, newest first.
    pub fn list(&self, limit: usize) -> Vec<TraceSummary> {
        let traces = self.lock();
        traces
            .order
            .iter()
            .rev()
            .filter_map(|id| traces.by_id.get(id).map(|t| summary(*id, t)))
            .take(limit)
            .collect()
    }

    /// One trace by its 32-hex-digit id.
    pub fn get(&self, trace_id: &str) -> Option<TraceData> {
        let id = u128::from_str_radix(trace_id, 16).ok()?;
        let traces = self.lock();
        let trace = traces.by_id.get(&id)?;
        let head = summary(id, trace);
        let records: Vec<SpanRecord> = trace.spans.iter().map(record_of).collect();
        let spans = records
            .iter()
            .filter_map(|s| Some((s.span_id.clone(), serde_json::to_value(s).ok()?)))
            .collect();
        Some(TraceData {
            trace_id: head.trace_id,
            display_name: head.display_name,
            start_time: head.start_time,
            end_time: head.end_time,
            spans,
            tree: tree(&records),
            dropped_spans: trace.dropped,
        })
    }
}

fn summary(id: u128, trace: &StoredTrace) -> TraceSummary {
    let in_trace = |id: SpanId| trace.spans.iter().any(|s| s.span_context.span_id() == id);
    // The span without a parent in this trace: a root, or the first span joining a remote trace.
    let root = trace
        .spans
        .iter()
        .find(|s| s.parent_span_id == SpanId::INVALID || !in_trace(s.parent_span_id));
    TraceSummary {
        trace_id: format!("{id:032x}"),
        display_name: root.map(|r| r.name.to_string()).unwrap_or_default(),
        start_time: trace
            .spans
            .iter()
            .map(|s| millis(s.start_time))
            .fold(f64::INFINITY, f64::min),
        end_time: trace
            .spans
            .iter()
            .map(|s| millis(s.end_time))
            .fold(0.0, f64::max),
        span_count: trace.spans.len(),
        state: root.and_then(|r| {
            r.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "genkit:state")
                .map(|kv| kv.value.to_string())
        }),
    }
}

fn tree(spans: &[SpanRecord]) -> Vec<SpanNode> {
    let in_trace = |id: &String| spans.iter().any(|s| &s.span_id == id);
    let mut roots: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.parent_span_id.as_ref().is_none_or(|p| !in_trace(p)))
        .collect();
    roots.sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
    roots.into_iter().map(|s| node(s, spans)).collect()
}

fn node(span: &SpanRecord, spans: &[SpanRecord]) -> SpanNode {
    let mut children: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.parent_span_id.as_deref() == Some(span.span_id.as_str()))
        .collect();
    children.sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
    SpanNode {
        span_id: span.span_id.clone(),
        display_name: span.display_name.clone(),
        children: children.into_iter().map(|c| node(c, spans)).collect(),
    }
}

impl SpanProcessor for TraceStore {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !self.is_recording() {
            return;
        }
        self.insert(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// A finished span in Genkit's shape.
pub(super) fn record_of(span: &SpanData) -> SpanRecord {
    let parent = span.parent_span_id;
    let status = match &span.status {
        OtelStatus::Unset => SpanStatus {
            code: 0,
            message: None,
        },
        OtelStatus::Ok => SpanStatus {
            code: 1,
            message: None,
        },
        OtelStatus::Error { description } => SpanStatus {
            code: 2,
            message: Some(description.to_string()),
        },
    };
    SpanRecord {
        span_id: span.span_context.span_id().to_string(),
        trace_id: span.span_context.trace_id().to_string(),
        parent_span_id: (parent != SpanId::INVALID).then(|| parent.to_string()),
        start_time: millis(span.start_time),
        end_time: millis(span.end_time),
        attributes: span
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), json_of(&kv.value)))
            .collect(),
        display_name: span.name.to_string(),
        instrumentation_library: Library {
            name: span.instrumentation_scope.name().to_owned(),
        },
        span_kind: "INTERNAL".to_owned(),
        status,
    }
}

/// Milliseconds since the Unix epoch.
pub(super) fn millis(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// An attribute value as JSON.
pub(super) fn json_of(value: &OtelValue) -> Value {
    match value {
        OtelValue::Bool(b) => Value::from(*b),
        OtelValue::I64(i) => Value::from(*i),
        OtelValue::F64(f) => Value::from(*f),
        OtelValue::String(s) => Value::from(s.as_str()),
        OtelValue::Array(Array::Bool(v)) => Value::from(v.clone()),
        OtelValue::Array(Array::I64(v)) => Value::from(v.clone()),
        OtelValue::Array(Array::F64(v)) => Value::from(v.clone()),
        OtelValue::Array(Array::String(v)) => {
            Value::from(v.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>())
        }
        other => Value::from(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished span `id` of `trace` (display name `name`), starting `start` ms after the
    /// epoch.
    fn span(trace: u128, id: u64, parent: Option<u64>, name: &str, start: u64) -> SpanData {
        use opentelemetry::trace::{SpanContext, SpanKind, TraceFlags, TraceId, TraceState};
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: parent.map_or(SpanId::INVALID, SpanId::from),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.to_owned().into(),
            start_time: at(start),
            end_time: at(start + 1),
            attributes: vec![opentelemetry::KeyValue::new("genkit:state", "success")],
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status: OtelStatus::Unset,
            instrumentation_scope: opentelemetry::InstrumentationScope::builder("genflow").build(),
        }
    }

    #[test]
    fn keeps_the_newest_traces_only() {
        let store = TraceStore::new(2);
        for trace in 1..=3u128 {
            store.insert(span(trace, 1, None, "a", 10));
        }
        let ids: Vec<String> = store.list(10).into_iter().map(|t| t.trace_id).collect();
        assert_eq!(ids, [format!("{:032x}", 3), format!("{:032x}", 2)]);
        assert!(store.get(&format!("{:032x}", 1)).is_none());
    }

    #[test]
    fn builds_the_span_tree() {
        let store = TraceStore::new(4);
        store.insert(span(7, 3, Some(1), "child2", 30));
        store.insert(span(7, 4, Some(2), "grandchild", 25));
        store.insert(span(7, 2, Some(1), "child1", 20));
        store.insert(span(7, 1, Some(99), "root", 10));
        let trace = store.get(&format!("{:032x}", 7)).expect("stored");
        assert_eq!(trace.display_name, "root");
        assert_eq!((trace.start_time, trace.end_time), (10.0, 31.0));
        let summary = &store.list(1)[0];
        assert_eq!(summary.state.as_deref(), Some("success"));
        assert_eq!(summary.span_count, 4);
        assert_eq!(trace.tree.len(), 1);
        let root = &trace.tree[0];
        let names: Vec<&str> = root
            .children
            .iter()
            .map(|c| c.display_name.as_str())
            .collect();
        assert_eq!(names, ["child1", "child2"]);
        assert_eq!(root.children[0].children[0].display_name, "grandchild");
        assert_eq!(trace.spans.len(), 4);
    }
}
