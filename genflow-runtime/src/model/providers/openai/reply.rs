//! A chat completion or one streamed chunk of it, read into typed fields (nothing else of the
//! reply is kept), and the model deltas it carries.

use serde::Deserialize;
use serde_json::Value;

use super::super::lenient;
use crate::model::response::FinishReason;
use crate::model::stream::ModelDelta;

/// A whole reply (`choices[0].message`) or a stream chunk (`choices[0].delta`).
#[derive(Deserialize)]
pub(super) struct Chunk {
    /// An error some servers send inside a stream.
    #[serde(default)]
    pub(super) error: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default, alias = "delta")]
    message: Option<ReplyMessage>,
    #[serde(default, deserialize_with = "lenient::text")]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ReplyMessage {
    #[serde(default, deserialize_with = "lenient::text")]
    content: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
}

#[derive(Deserialize)]
struct ToolCall {
    #[serde(default, deserialize_with = "lenient::count")]
    index: Option<u64>,
    #[serde(default, deserialize_with = "lenient::text")]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionCall>,
}

#[derive(Deserialize)]
struct FunctionCall {
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct TokenUsage {
    #[serde(default, deserialize_with = "lenient::count")]
    prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    completion_tokens: Option<u64>,
}

impl Chunk {
    /// The deltas of the first choice, then the usage, then the finish reason.
    pub(super) fn deltas(self) -> Vec<ModelDelta> {
        let mut out = Vec::new();
        let (message, finish_reason) = self
            .choices
            .into_iter()
            .flatten()
            .next()
            .map_or((None, None), |choice| {
                (choice.message, choice.finish_reason)
            });
        let mut refused = false;
        if let Some(message) = message {
            refused = message.refusal.is_some();
            let texts = [message.content, message.refusal];
            out.extend(
                texts
                    .into_iter()
                    .flatten()
                    .filter(|text| !text.is_empty())
                    .map(ModelDelta::Text),
            );
            let calls = message.tool_calls.into_iter().flatten().enumerate();
            out.extend(calls.map(|(position, call)| {
                let (name, arguments) = call
                    .function
                    .map_or((None, None), |f| (f.name, f.arguments));
                ModelDelta::ToolRequest {
                    index: call
                        .index
                        .and_then(|i| usize::try_from(i).ok())
                        .unwrap_or(position),
                    id: call.id,
                    name,
                    arguments: arguments.unwrap_or_default(),
                    metadata: None,
                }
            }));
        }
        if let Some(usage) = self.usage {
            out.push(ModelDelta::Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            });
        }
        if let Some(reason) = finish_reason {
            out.push(ModelDelta::Finish(match reason.as_str() {
                _ if refused => FinishReason::Blocked,
                "stop" => FinishReason::Stop,
                "length" => FinishReason::Length,
                "tool_calls" | "function_call" => FinishReason::ToolCalls,
                "content_filter" => FinishReason::Blocked,
                _ => FinishReason::Other(reason),
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deltas(reply: Value) -> Vec<ModelDelta> {
        Chunk::deserialize(reply).expect("a chunk").deltas()
    }

    #[test]
    fn a_whole_reply_gives_text_calls_usage_and_reason() {
        let reply = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null,
                "message": {"role": "assistant", "content": "Looking.", "refusal": null,
                    "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "search", "arguments": "{\"q\":1}"}}]}}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13,
                "prompt_tokens_details": {"cached_tokens": 0}},
            "system_fingerprint": "fp"});
        assert_eq!(
            deltas(reply),
            vec![
                ModelDelta::Text("Looking.".into()),
                ModelDelta::ToolRequest {
                    index: 0,
                    id: Some("call_1".into()),
                    name: Some("search".into()),
                    arguments: "{\"q\":1}".into(),
                    metadata: None,
                },
                ModelDelta::Usage {
                    input_tokens: Some(9),
                    output_tokens: Some(4)
                },
                ModelDelta::Finish(FinishReason::ToolCalls),
            ]
        );
    }

    #[test]
    fn a_stream_chunk_reads_its_delta_and_tolerates_odd_shapes() {
        let chunk = json!({"choices": [{"index": 0, "finish_reason": null,
            "delta": {"content": ["not", "text"], "tool_calls": [
                {"index": 2, "function": {"arguments": "{\"q\""}}]}}],
            "usage": null});
        assert_eq!(
            deltas(chunk),
            vec![ModelDelta::ToolRequest {
                index: 2,
                id: None,
                name: None,
                arguments: "{\"q\"".into(),
                metadata: None,
            }]
        );
    }

    #[test]
    fn a_refusal_is_text_and_blocks() {
        let reply = json!({"choices": [{"finish_reason": "stop",
            "message": {"content": null, "refusal": "I can't help with that."}}]});
        assert_eq!(
            deltas(reply),
            vec![
                ModelDelta::Text("I can't help with that.".into()),
                ModelDelta::Finish(FinishReason::Blocked),
            ]
        );
        let other = json!({"choices": [{"finish_reason": "eos", "message": {"content": "x"}}]});
        assert_eq!(
            deltas(other).last(),
            Some(&ModelDelta::Finish(FinishReason::Other("eos".into())))
        );
    }
}
