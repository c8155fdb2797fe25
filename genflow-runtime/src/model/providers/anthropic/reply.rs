//! A Messages reply or one event of its stream, read into typed fields (nothing else of the
//! reply is kept), and the model deltas it carries.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::super::lenient;
use crate::model::request::GenerateRequest;
use crate::model::response::FinishReason;
use crate::model::stream::ModelDelta;

/// A whole reply, or the message a stream starts with.
#[derive(Deserialize)]
pub(super) struct Reply {
    #[serde(default)]
    content: Option<Vec<Block>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default, deserialize_with = "lenient::text")]
    stop_reason: Option<String>,
}

/// One event of a stream (`data:` of `message_start`, `content_block_delta`, ...).
#[derive(Deserialize)]
pub(super) struct StreamEvent {
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::count")]
    index: Option<u64>,
    #[serde(default)]
    message: Option<Reply>,
    #[serde(default)]
    content_block: Option<Block>,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    usage: Option<Usage>,
    /// What an `error` event reports.
    #[serde(default)]
    error: Option<Value>,
}

/// A content block: text, or a tool call with its input.
#[derive(Deserialize)]
struct Block {
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    text: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
    /// A tool call's input object, kept as the JSON text it arrived as.
    #[serde(default)]
    input: Option<Box<RawValue>>,
}

/// A `content_block_delta`'s or a `message_delta`'s delta.
#[derive(Deserialize)]
struct Delta {
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    text: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    partial_json: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default, deserialize_with = "lenient::count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    cache_read_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    output_tokens: Option<u64>,
}

impl Usage {
    /// Input tokens count the cached ones too, as the other providers count them.
    fn delta(self) -> ModelDelta {
        let cached = self.cache_read_input_tokens.unwrap_or(0)
            + self.cache_creation_input_tokens.unwrap_or(0);
        ModelDelta::Usage {
            input_tokens: self.input_tokens.map(|n| n + cached),
            output_tokens: self.output_tokens,
        }
    }
}

impl Reply {
    /// The deltas of a whole reply: its blocks in order, the usage, the finish reason.
    pub(super) fn deltas(self, request: &GenerateRequest) -> Vec<ModelDelta> {
        let mut blocks = Blocks::new(request);
        let mut out = Vec::new();
        for (index, block) in self.content.into_iter().flatten().enumerate() {
            out.extend(blocks.start(index, block));
        }
        out.extend(self.usage.map(Usage::delta));
        out.extend(blocks.finish(self.stop_reason));
        out
    }
}

impl StreamEvent {
    /// The deltas of one event, or the error an `error` event reports.
    pub(super) fn deltas(self, blocks: &mut Blocks) -> Result<Vec<ModelDelta>, Value> {
        let index = self.index.and_then(|i| usize::try_from(i).ok());
        let out = match self.kind.as_deref() {
            Some("error") => return Err(self.error.unwrap_or(Value::Null)),
            Some("message_start") => self
                .message
                .and_then(|m| m.usage)
                .map(Usage::delta)
                .into_iter()
                .collect(),
            Some("content_block_start") => match (index, self.content_block) {
                (Some(i), Some(block)) => blocks.start(i, block),
                _ => Vec::new(),
            },
            Some("content_block_delta") => match (index, self.delta) {
                (Some(i), Some(delta)) => blocks.delta(i, delta).into_iter().collect(),
                _ => Vec::new(),
            },
            Some("message_delta") => {
                let stop = self.delta.and_then(|d| d.stop_reason);
                self.usage
                    .map(Usage::delta)
                    .into_iter()
                    .chain(blocks.finish(stop))
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(out)
    }
}

/// What each content block is, so deltas land in the right place.
pub(super) struct Blocks {
    output_tool: Option<String>,
    kinds: HashMap<usize, BlockKind>,
    answered_with_output_tool: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum BlockKind {
    Text,
    Tool,
    /// The forced output tool: its input JSON is the reply text.
    Output,
    Other,
}

impl Blocks {
    pub(super) fn new(request: &GenerateRequest) -> Self {
        Blocks {
            output_tool: request.output.as_ref().map(|o| o.name.clone()),
            kinds: HashMap::new(),
            answered_with_output_tool: false,
        }
    }

    fn start(&mut self, index: usize, block: Block) -> Vec<ModelDelta> {
        // A streamed tool call starts with an empty input; its JSON follows in deltas.
        let input = block.input.filter(|i| carries_fields(i.get()));
        let input = input.map(|i| Box::<str>::from(i).into_string());
        let (kind, delta) = match block.kind.as_deref() {
            Some("text") => (BlockKind::Text, block.text.map(ModelDelta::Text)),
            Some("tool_use") if block.name.is_some() && block.name == self.output_tool => {
                self.answered_with_output_tool = true;
                (BlockKind::Output, input.map(ModelDelta::Text))
            }
            Some("tool_use") => (
                BlockKind::Tool,
                Some(ModelDelta::ToolRequest {
                    index,
                    id: block.id,
                    name: block.name,
                    arguments: input.unwrap_or_default(),
                    metadata: None,
                }),
            ),
            _ => (BlockKind::Other, None),
        };
        self.kinds.insert(index, kind);
        delta
            .into_iter()
            .filter(|d| d != &ModelDelta::Text(String::new()))
            .collect()
    }

    fn delta(&self, index: usize, delta: Delta) -> Option<ModelDelta> {
        match (self.kinds.get(&index).copied()?, delta.kind.as_deref()?) {
            (BlockKind::Text, "text_delta") => delta.text.map(ModelDelta::Text),
            (BlockKind::Output, "input_json_delta") => delta.partial_json.map(ModelDelta::Text),
            (BlockKind::Tool, "input_json_delta") => Some(ModelDelta::ToolRequest {
                index,
                id: None,
                name: None,
                arguments: delta.partial_json?,
                metadata: None,
            }),
            _ => None,
        }
    }

    fn finish(&self, stop_reason: Option<String>) -> Option<ModelDelta> {
        let reason = match stop_reason?.as_str() {
            "end_turn" | "stop_sequence" => FinishReason::Stop,
            "tool_use" if self.answered_with_output_tool => FinishReason::Stop,
            "tool_use" => FinishReason::ToolCalls,
            "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
            "refusal" => FinishReason::Blocked,
            other => FinishReason::Other(other.to_owned()),
        };
        Some(ModelDelta::Finish(reason))
    }
}

/// Whether a JSON text is an object with at least one field.
fn carries_fields(json: &str) -> bool {
    let mut text = json.bytes().filter(|b| !b.is_ascii_whitespace());
    text.next() == Some(b'{') && text.next() != Some(b'}')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::request::OutputFormat;

    fn parse<T: for<'de> Deserialize<'de>>(value: &Value) -> T {
        serde_json::from_str(&value.to_string()).expect("parses")
    }

    fn call(index: usize, id: Option<&str>, name: Option<&str>, arguments: &str) -> ModelDelta {
        ModelDelta::ToolRequest {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: arguments.to_owned(),
            metadata: None,
        }
    }

    #[test]
    fn a_whole_reply_gives_blocks_usage_and_reason() {
        let reply = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": 1}},
                {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 5, "cache_read_input_tokens": 3,
                "cache_creation_input_tokens": 1, "output_tokens": 4}});
        let request = GenerateRequest::default();
        assert_eq!(
            parse::<Reply>(&reply).deltas(&request),
            vec![
                ModelDelta::Text("Looking.".into()),
                call(2, Some("toolu_1"), Some("search"), "{\"q\":1}"),
                call(3, Some("toolu_2"), Some("now"), ""),
                ModelDelta::Usage {
                    input_tokens: Some(9),
                    output_tokens: Some(4)
                },
                ModelDelta::Finish(FinishReason::ToolCalls),
            ]
        );
    }

    #[test]
    fn a_stream_routes_deltas_to_their_blocks() {
        let request = GenerateRequest::default();
        let mut blocks = Blocks::new(&request);
        let events = [
            json!({"type": "message_start", "message": {"content": [],
                "usage": {"input_tokens": 7, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": "Hi"}}),
            json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "tool_use", "id": "t1", "name": "search", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": "{\"q\""}}),
            json!({"type": "content_block_delta", "index": 7,
                "delta": {"type": "text_delta", "text": "to no block"}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 9}}),
            json!({"type": "message_stop"}),
        ];
        let deltas: Vec<ModelDelta> = events
            .iter()
            .flat_map(|e| {
                parse::<StreamEvent>(e)
                    .deltas(&mut blocks)
                    .expect("no error")
            })
            .collect();
        assert_eq!(
            deltas,
            vec![
                ModelDelta::Usage {
                    input_tokens: Some(7),
                    output_tokens: Some(1)
                },
                ModelDelta::Text("Hi".into()),
                call(1, Some("t1"), Some("search"), ""),
                call(1, None, None, "{\"q\""),
                ModelDelta::Usage {
                    input_tokens: None,
                    output_tokens: Some(9)
                },
                ModelDelta::Finish(FinishReason::ToolCalls),
            ]
        );
        let error = json!({"type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(
            parse::<StreamEvent>(&error).deltas(&mut blocks),
            Err(json!({"type": "overloaded_error", "message": "Overloaded"}))
        );
    }

    #[test]
    fn the_output_tool_is_reply_text_and_ends_the_turn() {
        let request = GenerateRequest {
            output: Some(OutputFormat {
                name: "answer".into(),
                schema: json!({"type": "object"}).into(),
            }),
            ..GenerateRequest::default()
        };
        let reply = json!({"content": [{"type": "tool_use", "id": "t", "name": "answer",
            "input": {"a": 1}}], "stop_reason": "tool_use"});
        assert_eq!(
            parse::<Reply>(&reply).deltas(&request),
            vec![
                ModelDelta::Text("{\"a\":1}".into()),
                ModelDelta::Finish(FinishReason::Stop),
            ]
        );
        let nameless = json!({"content": [{"type": "tool_use", "id": "t", "input": {"a": 1}}]});
        assert_eq!(
            parse::<Reply>(&nameless).deltas(&GenerateRequest::default()),
            vec![call(0, Some("t"), None, "{\"a\":1}")]
        );
    }

    #[test]
    fn only_objects_with_fields_are_inputs() {
        assert!(carries_fields("{\"a\":1}"));
        assert!(!carries_fields("{ }"));
        assert!(!carries_fields("[1]"));
        assert!(!carries_fields("null"));
    }
}
