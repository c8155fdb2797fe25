//! What a streaming model yields, and how the pieces add up to one [`GenerateResponse`].

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use serde_json::Value;

use crate::FlowError;
use crate::model::message::{Message, Part, Role, ToolRequest};
use crate::model::response::{FinishReason, GenerateResponse, Usage};

/// The stream a model returns: deltas, ending with a [`ModelDelta::Finish`].
pub type ModelStream = BoxStream<'static, Result<ModelDelta, FlowError>>;

/// One piece of a streamed reply.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelDelta {
    /// More reply text.
    Text(String),
    /// A tool request or a fragment of one. Fragments with the same `index` join: `id`, `name`
    /// and `metadata` are kept from whichever fragment has them, `arguments` are appended.
    ToolRequest {
        /// Which tool request of the turn this belongs to.
        index: usize,
        /// The provider's id of the request.
        id: Option<String>,
        /// The tool's name.
        name: Option<String>,
        /// A fragment of the JSON arguments.
        arguments: String,
        /// Provider data to send back with the request.
        metadata: Option<Value>,
    },
    /// Token counts so far; providers report cumulative counts, so the last one wins.
    Usage {
        /// Input tokens, when this event reports them.
        input_tokens: Option<u64>,
        /// Output tokens, when this event reports them.
        output_tokens: Option<u64>,
    },
    /// Why the model stopped. A stream that ends without one was cut off.
    Finish(FinishReason),
}

/// A tool request whose fragments are still coming.
#[derive(Default)]
struct PendingToolRequest {
    id: Option<String>,
    name: Option<String>,
    arguments: String,
    metadata: Option<Value>,
}

/// Adds deltas up into a response.
#[derive(Default)]
pub(crate) struct Accumulator {
    text: String,
    tool_requests: BTreeMap<usize, PendingToolRequest>,
    usage: Usage,
    finish: Option<FinishReason>,
}

impl Accumulator {
    /// Adds one delta.
    pub(crate) fn push(&mut self, delta: ModelDelta) {
        match delta {
            // A whole reply's text is kept as it came; stream pieces are appended.
            ModelDelta::Text(text) if self.text.is_empty() => self.text = text,
            ModelDelta::Text(text) => self.text.push_str(&text),
            ModelDelta::ToolRequest {
                index,
                id,
                name,
                arguments,
                metadata,
            } => {
                let pending = self.tool_requests.entry(index).or_default();
                pending.id = id.or(pending.id.take());
                pending.name = name.or(pending.name.take());
                pending.metadata = metadata.or(pending.metadata.take());
                pending.arguments.push_str(&arguments);
            }
            ModelDelta::Usage {
                input_tokens,
                output_tokens,
            } => {
                self.usage.input_tokens = input_tokens.unwrap_or(self.usage.input_tokens);
                self.usage.output_tokens = output_tokens.unwrap_or(self.usage.output_tokens);
            }
            ModelDelta::Finish(reason) => self.finish = Some(reason),
        }
    }

    /// Whether the model said why it stopped (a reply without a finish reason is incomplete).
    pub(crate) fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    /// The response, or `UNAVAILABLE` when the stream ended before the model finished.
    /// Tool arguments that are not valid JSON are kept as a JSON string, so the tool loop
    /// reports them to the model as invalid input.
    pub(crate) fn finish(self, model: &str) -> Result<GenerateResponse, FlowError> {
        let Some(finish_reason) = self.finish else {
            return Err(FlowError::unavailable(format!(
                "the stream from model '{model}' ended before the reply was complete"
            )));
        };
        let mut content = Vec::new();
        if !self.text.is_empty() {
            content.push(Part::Text(self.text));
        }
        for (index, pending) in self.tool_requests {
            let input = parse_arguments(&pending.arguments);
            content.push(Part::ToolRequest(ToolRequest {
                id: pending.id,
                name: pending
                    .name
                    .unwrap_or_else(|| format!("unnamed_tool_{index}")),
                input,
                metadata: pending.metadata,
            }));
        }
        Ok(GenerateResponse {
            message: Message::new(Role::Model, content),
            usage: self.usage,
            finish_reason,
            model: model.to_owned(),
        })
    }
}

/// Parses streamed or string tool arguments: empty means `{}`, invalid JSON stays a string.
fn parse_arguments(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_owned()))
}

/// Reads a whole stream into one response.
pub(crate) async fn collect(
    mut stream: ModelStream,
    model: &str,
) -> Result<GenerateResponse, FlowError> {
    let mut acc = Accumulator::default();
    while let Some(delta) = stream.next().await {
        acc.push(delta?);
    }
    acc.finish(model)
}

/// A finished response replayed as a stream: text word by word, then tool requests, usage and
/// finish reason. Used by models that compute their whole reply at once.
pub(crate) fn replay(response: GenerateResponse) -> ModelStream {
    let mut deltas = Vec::new();
    let mut index = 0;
    for part in response.message.content {
        match part {
            Part::Text(text) => deltas.extend(
                text.split_inclusive(' ')
                    .map(|word| ModelDelta::Text(word.to_owned())),
            ),
            Part::ToolRequest(request) => {
                deltas.push(ModelDelta::ToolRequest {
                    index,
                    id: request.id,
                    name: Some(request.name),
                    arguments: request.input.to_string(),
                    metadata: request.metadata,
                });
                index += 1;
            }
            Part::Media(_) | Part::ToolResponse(_) => {}
        }
    }
    deltas.push(ModelDelta::Usage {
        input_tokens: Some(response.usage.input_tokens),
        output_tokens: Some(response.usage.output_tokens),
    });
    deltas.push(ModelDelta::Finish(response.finish_reason));
    stream::iter(deltas.into_iter().map(Ok)).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fragment(index: usize, id: Option<&str>, name: Option<&str>, args: &str) -> ModelDelta {
        ModelDelta::ToolRequest {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: args.to_owned(),
            metadata: None,
        }
    }

    #[test]
    fn interleaved_fragments_join_by_index() {
        let mut acc = Accumulator::default();
        for d in [
            fragment(0, Some("a"), Some("weather"), ""),
            fragment(0, None, None, "{\"ci"),
            fragment(1, Some("b"), Some("stock"), ""),
            fragment(0, None, None, "ty\": \"Paris\"}"),
            fragment(1, None, None, "{\"ticker\":\"X\"}"),
            ModelDelta::Usage {
                input_tokens: Some(3),
                output_tokens: None,
            },
            ModelDelta::Usage {
                input_tokens: None,
                output_tokens: Some(9),
            },
            ModelDelta::Finish(FinishReason::ToolCalls),
        ] {
            acc.push(d);
        }
        let resp = acc.finish("m").expect("finished");
        let requests = resp.tool_requests();
        assert_eq!(requests[0].input, json!({"city": "Paris"}));
        assert_eq!(requests[1].name, "stock");
        assert_eq!(resp.usage.total(), 12);
    }

    #[test]
    fn a_stream_without_finish_is_cut_off() {
        let mut acc = Accumulator::default();
        acc.push(ModelDelta::Text("half".into()));
        let err = acc.finish("m").expect_err("cut off");
        assert_eq!(err.status(), crate::Status::Unavailable);
    }
}
