//! The tracing spans of actions and steps, with Genkit's attribute names.
//!
//! Every action run and every `ctx.run` step is a `tracing` span. With [`Telemetry`]
//! installed, the spans become OpenTelemetry spans (`genkit:*` attributes, `otel.name` as the
//! span name) that reach the trace store and any OTLP collector.
//!
//! [`Telemetry`]: crate::telemetry::Telemetry

use serde::Serialize;
use tracing::Span;
use tracing::field::Empty;

use super::scope::{self, Scope};
use super::{SpanIds, TelemetryHandle, TraceParent, layer};
use crate::{ActionMeta, FlowError};

/// The span of one action run, and the path its children extend.
///
/// While telemetry is installed but nothing keeps spans, genflow opens no `tracing` spans at
/// all; an action then still has ids (the trace headers carry them), joined to the caller's
/// trace if there is one.
pub(crate) struct ActionSpan {
    pub(crate) span: Span,
    /// The run's telemetry and path, for everything nested in it.
    pub(crate) scope: Scope,
    /// The ids of a run without a `tracing` span.
    ids: Option<SpanIds>,
    /// The size cap of recorded inputs and outputs; `None` records none.
    io_limit: Option<usize>,
}

impl ActionSpan {
    /// Opens the span of a run of `meta` in `telemetry`, under the current action or step, if
    /// any, or under a caller's remote span.
    pub(crate) fn new(
        meta: &ActionMeta,
        remote: Option<&TraceParent>,
        telemetry: &TelemetryHandle,
    ) -> ActionSpan {
        let is_root = scope::current_path().is_none();
        let scope = Scope::child(telemetry, || scope::action_segment(meta.kind, meta.name));
        if !telemetry.keeps_spans() {
            let ids = SpanIds::fresh(remote.map(|r| r.ids.trace_id));
            return ActionSpan::unkept(scope, Some(ids));
        }
        let path = &*scope.path;
        let span = layer::open(telemetry.sink(), || {
            tracing::info_span!(
                "genflow.action",
                "otel.name" = meta.name,
                "genkit:type" = "action",
                "genkit:metadata:subtype" = meta.kind.as_str(),
                "genkit:name" = meta.name,
                "genkit:path" = path,
                "genkit:isRoot" = is_root,
                "genkit:input" = Empty,
                "genkit:output" = Empty,
                "genkit:state" = Empty,
                "gen_ai.operation.name" = Empty,
                "gen_ai.provider.name" = Empty,
                "gen_ai.request.model" = Empty,
                "otel.status_code" = Empty,
                "otel.status_description" = Empty,
            )
        });
        if let Some(call) = meta.gen_ai {
            span.record("gen_ai.operation.name", call.operation);
            span.record("gen_ai.provider.name", call.provider);
            span.record("gen_ai.request.model", call.model);
        }
        if let Some(parent) = remote {
            super::join_remote(&span, parent);
        }
        let io_limit = telemetry.io_limit().filter(|_| !meta.redact);
        ActionSpan {
            span,
            scope,
            ids: None,
            io_limit,
        }
    }

    /// A run without a `tracing` span, while nothing would keep it.
    fn unkept(scope: Scope, ids: Option<SpanIds>) -> ActionSpan {
        ActionSpan {
            span: Span::none(),
            scope,
            ids,
            io_limit: None,
        }
    }

    /// The run's trace and span ids, when telemetry (genflow's or the application's) gives
    /// them.
    pub(crate) fn ids(&self) -> Option<SpanIds> {
        self.ids.or_else(|| super::ids_of(&self.span))
    }

    #[cfg(feature = "models")]
    /// Opens the span of one call of the model `name` (`provider/model`), with Genkit's
    /// attributes and the OpenTelemetry GenAI conventions (`gen_ai.*`).
    pub(crate) fn model(name: &str, provider: &str, local: bool) -> ActionSpan {
        let telemetry = scope::current_telemetry();
        let scope = Scope::child(&telemetry, || {
            scope::action_segment(crate::ActionKind::Model, name)
        });
        if !telemetry.keeps_spans() {
            return ActionSpan::unkept(scope, None);
        }
        let model = name.split_once('/').map_or(name, |(_, model)| model);
        let path = &*scope.path;
        let span = layer::open(telemetry.sink(), || {
            tracing::info_span!(
                "genflow.model",
                "otel.name" = name,
                "genkit:type" = "action",
                "genkit:metadata:subtype" = "model",
                "genkit:name" = name,
                "genkit:path" = path,
                "genkit:input" = Empty,
                "genkit:output" = Empty,
                "genkit:state" = Empty,
                "gen_ai.operation.name" = "chat",
                "gen_ai.provider.name" = provider,
                "gen_ai.request.model" = model,
                "genflow.model.local" = local,
                "gen_ai.usage.input_tokens" = Empty,
                "gen_ai.usage.output_tokens" = Empty,
                "otel.status_code" = Empty,
                "otel.status_description" = Empty,
            )
        });
        let io_limit = telemetry.io_limit();
        ActionSpan {
            span,
            scope,
            ids: None,
            io_limit,
        }
    }

    #[cfg(feature = "models")]
    /// Records a model call's token counts as `i64`, which every OpenTelemetry layer exports as
    /// integers (`tracing-opentelemetry` turns `u64` fields into text).
    pub(crate) fn record_usage(&self, input_tokens: u64, output_tokens: u64) {
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.span
            .record("gen_ai.usage.input_tokens", int(input_tokens));
        self.span
            .record("gen_ai.usage.output_tokens", int(output_tokens));
    }

    /// Records the input, capped in size, unless the action or the configuration redacts it.
    pub(crate) fn record_input(&self, input: &impl Serialize) {
        if let Some(text) = self.io_text(input) {
            self.span.record("genkit:input", text.as_str());
        }
    }

    /// Records the outcome: state, status, and (unless redacted) the output.
    pub(crate) fn record_result<T: Serialize>(&self, result: &Result<T, FlowError>) {
        match result {
            Ok(output) => {
                if let Some(text) = self.io_text(output) {
                    self.span.record("genkit:output", text.as_str());
                }
                self.span.record("genkit:state", "success");
            }
            Err(error) => record_error(&self.span, error),
        }
    }

    fn io_text(&self, value: &impl Serialize) -> Option<String> {
        let limit = self.io_limit?;
        if self.span.is_disabled() {
            return None;
        }
        serde_json::to_string(value)
            .ok()
            .map(|text| cap(text, limit))
    }
}

/// The span of a `ctx.run` step in `telemetry`, and the scope of its children.
pub(crate) fn step_span(telemetry: &TelemetryHandle, name: &str) -> (Span, Scope) {
    let scope = Scope::child(telemetry, || scope::step_segment(name));
    if !telemetry.keeps_spans() {
        return (Span::none(), scope);
    }
    let path = &*scope.path;
    let span = layer::open(telemetry.sink(), || {
        tracing::info_span!(
            "genflow.step",
            "otel.name" = name,
            "genkit:type" = "flowStep",
            "genkit:metadata:subtype" = "flowStep",
            "genkit:name" = name,
            "genkit:path" = path,
            "genkit:state" = Empty,
            "otel.status_code" = Empty,
            "otel.status_description" = Empty,
        )
    });
    (span, scope)
}

#[cfg(feature = "models")]
/// The span of one tool call a model asked for.
pub(crate) fn tool_span(name: &str) -> Span {
    let telemetry = scope::current_telemetry();
    if telemetry.keeps_spans() {
        layer::open(telemetry.sink(), || {
            tracing::info_span!("genflow.tool", "genkit:name" = name)
        })
    } else {
        Span::none()
    }
}

/// Records success or failure on a step span.
pub(crate) fn record_step<T>(span: &Span, result: &Result<T, FlowError>) {
    match result {
        Ok(_) => {
            span.record("genkit:state", "success");
        }
        Err(error) => record_error(span, error),
    }
}

fn record_error(span: &Span, error: &FlowError) {
    span.record("genkit:state", "error");
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_description", error.to_string().as_str());
}

/// Truncates `text` to `limit` bytes on a character boundary.
fn cap(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("…[truncated]");
    }
    text
}
