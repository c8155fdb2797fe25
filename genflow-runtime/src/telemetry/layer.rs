//! The `tracing` layer that turns spans into OpenTelemetry span data for the trace store and
//! the OTLP exporter.
//!
//! Every span gets ids at creation (the trace headers need them), but its fields are kept and
//! its data built only while something keeps finished spans (a recording trace store or an
//! exporter): otherwise a span costs an id and nothing else.

use std::borrow::Cow;
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

use super::{SpanIds, TraceParent};

/// Where finished spans go: the trace store and the exporters.
pub(crate) type Processors = Arc<[Box<dyn SpanProcessor>]>;

/// The layer; [`Telemetry::init`](super::Telemetry::init) installs it.
pub(crate) struct SpanLayer {
    processors: Processors,
    scope: InstrumentationScope,
}

impl SpanLayer {
    pub(crate) fn new(processors: Processors) -> Self {
        SpanLayer {
            processors,
            scope: InstrumentationScope::builder("genflow").build(),
        }
    }
}

/// What the layer keeps per span, in the span's extensions.
struct SpanState {
    ids: SpanIds,
    parent: Option<u64>,
    remote_parent: bool,
    sampled: bool,
    /// Present while something keeps finished spans.
    data: Option<Box<Kept>>,
}

/// The data of a span that will be kept.
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
                .map(|s| (s.ids, s.sampled))
        });
        let (ids, parent, sampled) = match parent {
            Some((parent, sampled)) => (
                SpanIds::fresh(Some(parent.trace_id)),
                Some(parent.span_id),
                sampled,
            ),
            None => (SpanIds::fresh(None), None, true),
        };
        let data = (sampled && super::spans_kept()).then(|| {
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
        span.extensions_mut().insert(SpanState {
            ids,
            parent,
            remote_parent: false,
            sampled,
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
        let Some(kept) = state.data else { return };
        let mut events = SpanEvents::default();
        events.events = kept.events;
        let data = SpanData {
            span_context: SpanContext::new(
                TraceId::from(state.ids.trace_id),
                SpanId::from(state.ids.span_id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: state.parent.map_or(SpanId::INVALID, SpanId::from),
            parent_span_is_remote: state.remote_parent,
            span_kind: SpanKind::Internal,
            name: kept.name,
            start_time: kept.start,
            end_time: SystemTime::now(),
            attributes: kept.attributes,
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: kept.status,
            instrumentation_scope: self.scope.clone(),
        };
        if let Some((last, rest)) = self.processors.split_last() {
            for processor in rest {
                processor.on_end(data.clone());
            }
            last.on_end(data);
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

    /// A subscriber with the layer, and what its processor collects.
    fn collecting() -> (Collect, impl Subscriber + Send + Sync) {
        let collect = Collect::default();
        let processors: Processors =
            vec![Box::new(collect.clone()) as Box<dyn SpanProcessor>].into();
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(processors));
        (collect, subscriber)
    }

    fn caller(trace_id: u128, span_id: u64, sampled: bool) -> TraceParent {
        TraceParent {
            ids: SpanIds { trace_id, span_id },
            sampled,
        }
    }

    #[test]
    fn spans_become_span_data_with_parents_status_and_events() {
        let (collect, subscriber) = collecting();
        let remote = caller(0xabc, 0xdef, true);
        let (outer_ids, inner_ids) = tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("outer", "otel.name" = "ragQuery", tokens = 7u64);
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
        let (collect, subscriber) = collecting();
        let remote = caller(0x123, 0x456, false);
        let ids = tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("unsampled");
            join_remote(&span, &remote);
            let child = span.in_scope(|| tracing::info_span!("child"));
            let ids = ids_of(&child);
            drop(child);
            ids
        });
        assert_eq!(ids.map(|i| i.trace_id), Some(0x123));
        assert!(collect.0.lock().expect("lock").is_empty());
    }
}
