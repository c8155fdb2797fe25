//! The `tracing` layer that turns spans into OpenTelemetry span data for the trace store and
//! the OTLP exporter.
//!
//! The layer is installed once per process (by [`Telemetry::init`](super::Telemetry::init), or
//! by an application adding [`SpanLayer`] to its own subscriber), yet every span reaches only
//! the telemetry of the run that opened it: a run's root span is opened with its
//! [`SpanSink`] (see [`open`]) and every span below it inherits that sink. Every span gets ids
//! at creation (the trace headers need them), but its fields are kept and its data built only
//! while its sink keeps finished spans (a recording trace store or an exporter): otherwise a
//! span costs an id and nothing else.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks, SpanProcessor};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::store::TraceStore;
use super::{SpanIds, TraceParent};

/// Where the finished spans of one telemetry go: its trace store and its exporters.
pub(crate) struct SpanSink {
    processors: Vec<Box<dyn SpanProcessor>>,
    store: Option<TraceStore>,
    exporting: bool,
    /// A Genkit telemetry server, which may learn its URL later and sees spans start.
    #[cfg(feature = "server")]
    trace_server: Option<super::TraceServerExporter>,
}

impl SpanSink {
    /// A sink feeding `store` (when it records) and `exporters` (always).
    pub(crate) fn new(store: Option<TraceStore>, exporters: Vec<Box<dyn SpanProcessor>>) -> Self {
        let exporting = !exporters.is_empty();
        let mut processors = exporters;
        if let Some(store) = &store {
            processors.push(Box::new(store.clone()));
        }
        SpanSink {
            processors,
            store,
            exporting,
            #[cfg(feature = "server")]
            trace_server: None,
        }
    }

    /// Also sends spans to a Genkit telemetry server.
    #[cfg(feature = "server")]
    pub(crate) fn with_trace_server(mut self, exporter: super::TraceServerExporter) -> Self {
        self.trace_server = Some(exporter);
        self
    }

    /// The Genkit telemetry server exporter, if any.
    #[cfg(feature = "server")]
    pub(crate) fn trace_server(&self) -> Option<&super::TraceServerExporter> {
        self.trace_server.as_ref()
    }

    /// Whether a Genkit telemetry server takes spans now.
    fn trace_server_connected(&self) -> bool {
        #[cfg(feature = "server")]
        return self
            .trace_server
            .as_ref()
            .is_some_and(super::TraceServerExporter::is_connected);
        #[cfg(not(feature = "server"))]
        false
    }

    /// Tells every processor which resource (service) the spans come from.
    pub(crate) fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        for processor in &mut self.processors {
            processor.set_resource(resource);
        }
    }

    /// Whether finished spans are kept now: an exporter, or a recording store.
    pub(crate) fn keeps(&self) -> bool {
        self.exporting
            || self.store.as_ref().is_some_and(TraceStore::is_recording)
            || self.trace_server_connected()
    }

    /// Flushes and stops the exporters.
    pub(crate) fn shutdown(&self) {
        for processor in &self.processors {
            // Shutdown errors at exit have nowhere useful to go.
            let _ = processor.shutdown();
        }
        #[cfg(feature = "server")]
        if let Some(exporter) = &self.trace_server {
            exporter.shutdown();
        }
    }

    /// A span has started (only realtime exporters care).
    fn start(&self, data: &SpanData) {
        #[cfg(feature = "server")]
        if let Some(exporter) = &self.trace_server {
            exporter.export_start(data);
        }
        #[cfg(not(feature = "server"))]
        let _ = data;
    }

    /// Whether anything wants spans as they start.
    fn wants_starts(&self) -> bool {
        #[cfg(feature = "server")]
        return self
            .trace_server
            .as_ref()
            .is_some_and(|e| e.is_realtime() && e.is_connected());
        #[cfg(not(feature = "server"))]
        false
    }

    fn end(&self, data: SpanData) {
        #[cfg(feature = "server")]
        if let Some(exporter) = &self.trace_server {
            exporter.export(&data);
        }
        if let Some((last, rest)) = self.processors.split_last() {
            for processor in rest {
                processor.on_end(data.clone());
            }
            last.on_end(data);
        }
    }
}

impl Drop for SpanSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

thread_local! {
    /// The sink of the root span being opened on this thread (see [`open`]).
    static OPENING: RefCell<Option<Arc<SpanSink>>> = const { RefCell::new(None) };
}

/// Opens a span with `make`; a span without a parent (a run's root) sends its data to `sink`.
pub(crate) fn open(
    sink: Option<&Arc<SpanSink>>,
    make: impl FnOnce() -> tracing::Span,
) -> tracing::Span {
    let previous = OPENING.with(|opening| opening.replace(sink.cloned()));
    let span = make();
    OPENING.with(|opening| *opening.borrow_mut() = previous);
    span
}

/// genflow's `tracing` layer: add it to an application's own subscriber to give genflow's
/// spans ids and send them to the telemetry of the registry that ran them.
/// [`Telemetry::init`](super::Telemetry::init) installs it with its own log subscriber.
pub struct SpanLayer {
    scope: InstrumentationScope,
}

impl Default for SpanLayer {
    fn default() -> Self {
        SpanLayer {
            scope: InstrumentationScope::builder("genflow").build(),
        }
    }
}

impl fmt::Debug for SpanLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanLayer").finish_non_exhaustive()
    }
}

/// What the layer keeps per span, in the span's extensions.
struct SpanState {
    ids: SpanIds,
    parent: Option<u64>,
    remote_parent: bool,
    sampled: bool,
    /// Where the span's data goes, inherited from the root.
    sink: Option<Arc<SpanSink>>,
    /// Present while the sink keeps finished spans.
    data: Option<Box<Kept>>,
}

/// The data of a span that will be kept.
#[derive(Clone)]
struct Kept {
    name: Cow<'static, str>,
    start: SystemTime,
    attributes: Vec<KeyValue>,
    status: Status,
    events: Vec<Event>,
}

impl Kept {
    fn set(&mut self, key: &'static str, value: Value) {
        match key {
            "otel.name" => self.name = Cow::Owned(value.to_string()),
            "otel.status_code" => {
                if value.as_str() == "ERROR" && self.status == Status::Unset {
                    self.status = Status::error("");
                } else if value.as_str() == "OK" {
                    self.status = Status::Ok;
                }
            }
            "otel.status_description" => {
                if let Status::Error { description } = &mut self.status {
                    *description = Cow::Owned(value.to_string());
                } else {
                    self.status = Status::error(value.to_string());
                }
            }
            "otel.kind" => {}
            key => match self.attributes.iter_mut().find(|kv| kv.key.as_str() == key) {
                Some(kv) => kv.value = value,
                None => self
                    .attributes
                    .push(KeyValue::new(Key::from_static_str(key), value)),
            },
        }
    }
}

/// Records fields into [`Kept`].
struct Fields<'a>(&'a mut Kept);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set(field.name(), Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set(field.name(), Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::I64);
        self.0.set(field.name(), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set(field.name(), Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.set(field.name(), Value::from(value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.set(field.name(), Value::from(format!("{value:?}")));
    }
}

/// An event's message and fields.
#[derive(Default)]
struct EventFields {
    message: Option<String>,
    attributes: Vec<KeyValue>,
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.attributes
                .push(KeyValue::new(field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.attributes.push(KeyValue::new(field.name(), text));
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let parent = span.parent().and_then(|p| {
            p.extensions()
                .get::<SpanState>()
                .map(|s| (s.ids, s.sampled, s.sink.clone()))
        });
        let (ids, parent, sampled, sink) = match parent {
            Some((parent, sampled, sink)) => (
                SpanIds::fresh(Some(parent.trace_id)),
                Some(parent.span_id),
                sampled,
                sink,
            ),
            None => (
                SpanIds::fresh(None),
                None,
                true,
                OPENING.with(|opening| opening.borrow().clone()),
            ),
        };
        let keeps = sink.as_deref().is_some_and(SpanSink::keeps);
        let data = (sampled && keeps).then(|| {
            let mut kept = Kept {
                name: Cow::Borrowed(attrs.metadata().name()),
                start: SystemTime::now(),
                attributes: Vec::with_capacity(attrs.fields().len()),
                status: Status::Unset,
                events: Vec::new(),
            };
            attrs.record(&mut Fields(&mut kept));
            Box::new(kept)
        });
        if let (Some(kept), Some(sink)) = (&data, &sink)
            && sink.wants_starts()
        {
            let started = kept.as_ref().clone();
            sink.start(&self.span_data(ids, parent, false, started, SystemTime::UNIX_EPOCH));
        }
        span.extensions_mut().insert(SpanState {
            ids,
            parent,
            remote_parent: false,
            sampled,
            sink,
            data,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(kept) = extensions
            .get_mut::<SpanState>()
            .and_then(|s| s.data.as_deref_mut())
        {
            values.record(&mut Fields(kept));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let Some(kept) = extensions
            .get_mut::<SpanState>()
            .and_then(|s| s.data.as_deref_mut())
        else {
            return;
        };
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        let message = fields.message.unwrap_or_default();
        if level == Level::ERROR && kept.status == Status::Unset {
            kept.status = Status::error(message.clone());
        }
        fields
            .attributes
            .push(KeyValue::new("level", level.as_str()));
        fields
            .attributes
            .push(KeyValue::new("target", event.metadata().target()));
        kept.events
            .push(Event::new(message, SystemTime::now(), fields.attributes, 0));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(state) = span.extensions_mut().remove::<SpanState>() else {
            return;
        };
        let (Some(kept), Some(sink)) = (state.data, state.sink) else {
            return;
        };
        let data = self.span_data(
            state.ids,
            state.parent,
            state.remote_parent,
            *kept,
            SystemTime::now(),
        );
        sink.end(data);
    }
}

impl SpanLayer {
    /// The OpenTelemetry data of a span; `end` is the epoch for a span that has only started.
    fn span_data(
        &self,
        ids: SpanIds,
        parent: Option<u64>,
        remote_parent: bool,
        kept: Kept,
        end: SystemTime,
    ) -> SpanData {
        let mut events = SpanEvents::default();
        events.events = kept.events;
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(ids.trace_id),
                SpanId::from(ids.span_id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: parent.map_or(SpanId::INVALID, SpanId::from),
            parent_span_is_remote: remote_parent,
            span_kind: SpanKind::Internal,
            name: kept.name,
            start_time: kept.start,
            end_time: end,
            attributes: kept.attributes,
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: kept.status,
            instrumentation_scope: self.scope.clone(),
        }
    }
}

/// Runs `f` on the layer's state of `span`; `None` when the layer does not see the span.
fn with_state<R>(span: &tracing::Span, f: impl FnOnce(&mut SpanState) -> R) -> Option<R> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(id)?;
        let mut extensions = span.extensions_mut();
        extensions.get_mut::<SpanState>().map(f)
    })
    .flatten()
}

/// The ids of `span`, when the layer sees it.
pub(crate) fn ids_of(span: &tracing::Span) -> Option<SpanIds> {
    with_state(span, |state| state.ids)
}

/// Makes `span` (just created, without children yet) a child of the caller's remote span;
/// says whether the layer saw the span. An unsampled caller's trace is not kept.
pub(crate) fn join_remote(span: &tracing::Span, parent: &TraceParent) -> bool {
    with_state(span, |state| {
        state.ids.trace_id = parent.ids.trace_id;
        state.parent = Some(parent.ids.span_id);
        state.remote_parent = true;
        state.sampled = parent.sampled;
        if !parent.sampled {
            state.data = None;
        }
    })
    .is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use opentelemetry_sdk::error::OTelSdkResult;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Keeps every finished span.
    #[derive(Debug, Clone, Default)]
    struct Collect(Arc<Mutex<Vec<SpanData>>>);

    impl SpanProcessor for Collect {
        fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}

        fn on_end(&self, span: SpanData) {
            self.0.lock().expect("lock").push(span);
        }

        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }

        fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    /// A subscriber with the layer, a sink, and what the sink's exporter collects.
    fn collecting() -> (Collect, Arc<SpanSink>, impl Subscriber + Send + Sync) {
        let collect = Collect::default();
        let sink = Arc::new(SpanSink::new(None, vec![Box::new(collect.clone())]));
        let subscriber = tracing_subscriber::registry().with(SpanLayer::default());
        (collect, sink, subscriber)
    }

    fn caller(trace_id: u128, span_id: u64, sampled: bool) -> TraceParent {
        TraceParent {
            ids: SpanIds { trace_id, span_id },
            sampled,
        }
    }

    #[test]
    fn spans_become_span_data_with_parents_status_and_events() {
        let (collect, sink, subscriber) = collecting();
        let remote = caller(0xabc, 0xdef, true);
        let (outer_ids, inner_ids) = tracing::subscriber::with_default(subscriber, || {
            let outer = open(Some(&sink), || {
                tracing::info_span!("outer", "otel.name" = "ragQuery", tokens = 7u64)
            });
            assert!(join_remote(&outer, &remote));
            let inner = outer.in_scope(|| {
                tracing::info_span!(
                    "inner",
                    "otel.status_code" = tracing::field::Empty,
                    "otel.status_description" = tracing::field::Empty,
                )
            });
            inner.in_scope(|| tracing::warn!(attempt = 2, "retrying"));
            inner.record("otel.status_code", "ERROR");
            inner.record("otel.status_description", "model down");
            let ids = (ids_of(&outer), ids_of(&inner));
            drop(inner);
            drop(outer);
            ids
        });
        let (outer_ids, inner_ids) = (outer_ids.expect("ids"), inner_ids.expect("ids"));
        let spans = collect.0.lock().expect("lock");
        let [inner, outer] = &spans[..] else {
            panic!("two spans, inner first: {spans:?}");
        };
        assert_eq!(outer.name, "ragQuery");
        assert_eq!(outer_ids.trace_id, 0xabc, "the remote trace is joined");
        assert_eq!(outer.parent_span_id, SpanId::from(0xdef_u64));
        assert!(outer.parent_span_is_remote);
        assert_eq!(attribute(outer, "tokens"), Some(&Value::I64(7)));
        assert_eq!(inner.span_context.trace_id(), TraceId::from(0xabc_u128));
        assert_eq!(inner.parent_span_id, SpanId::from(outer_ids.span_id));
        assert_eq!(
            inner.span_context.span_id(),
            SpanId::from(inner_ids.span_id)
        );
        assert_eq!(inner.status, Status::error("model down"));
        assert_eq!(inner.events.len(), 1);
        assert_eq!(inner.events[0].name, "retrying");
        assert!(
            inner.events[0]
                .attributes
                .contains(&KeyValue::new("level", "WARN"))
        );
    }

    #[test]
    fn an_unsampled_caller_keeps_ids_but_no_data() {
        let (collect, sink, subscriber) = collecting();
        let remote = caller(0x123, 0x456, false);
        let ids = tracing::subscriber::with_default(subscriber, || {
            let span = open(Some(&sink), || tracing::info_span!("unsampled"));
            join_remote(&span, &remote);
            let child = span.in_scope(|| tracing::info_span!("child"));
            let ids = ids_of(&child);
            drop(child);
            ids
        });
        assert_eq!(ids.map(|i| i.trace_id), Some(0x123));
        assert!(collect.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn each_run_tree_reaches_only_its_own_sink() {
        let (first, first_sink, subscriber) = collecting();
        let second = Collect::default();
        let second_sink = Arc::new(SpanSink::new(None, vec![Box::new(second.clone())]));
        let unrouted = tracing::subscriber::with_default(subscriber, || {
            let a = open(Some(&first_sink), || tracing::info_span!("a"));
            a.in_scope(|| drop(tracing::info_span!("a-child")));
            drop(a);
            drop(open(Some(&second_sink), || tracing::info_span!("b")));
            let unrouted = open(None, || tracing::info_span!("nobody's"));
            ids_of(&unrouted)
        });
        let names = |c: &Collect| -> Vec<String> {
            let spans = c.0.lock().expect("lock");
            spans.iter().map(|s| s.name.to_string()).collect()
        };
        assert_eq!(names(&first), ["a-child", "a"]);
        assert_eq!(names(&second), ["b"]);
        assert!(unrouted.is_some(), "a span without a sink still has ids");
    }
}
