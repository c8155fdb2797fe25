//! A `GenerateContentResponse` (a whole reply or one streamed chunk), read into typed fields
//! (nothing else of the reply is kept), and the model deltas it carries.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::super::lenient;
use crate::model::response::FinishReason;
use crate::model::stream::ModelDelta;

/// A whole reply, or one chunk of a stream.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Response {
    /// An error the API sends inside a stream.
    #[serde(default)]
    pub(super) error: Option<Value>,
    #[serde(default)]
    candidates: Option<Vec<Candidate>>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default, deserialize_with = "lenient::text")]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Option<Vec<ContentPart>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentPart {
    #[serde(default, deserialize_with = "lenient::text")]
    text: Option<String>,
    /// A thought summary, which is not part of the answer.
    #[serde(default, deserialize_with = "lenient::flag")]
    thought: Option<bool>,
    #[serde(default)]
    function_call: Option<FunctionCall>,
    /// Returned with a function call; it must be sent back with that call in the history.
    #[serde(default, deserialize_with = "lenient::text")]
    thought_signature: Option<String>,
}

#[derive(Deserialize)]
struct FunctionCall {
    #[serde(default, deserialize_with = "lenient::text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
    /// The arguments object, kept as the JSON text it arrived as.
    #[serde(default)]
    args: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default, deserialize_with = "lenient::count")]
    prompt_token_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    candidates_token_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    thoughts_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default, deserialize_with = "lenient::text")]
    block_reason: Option<String>,
}

impl Response {
    /// The deltas of the first candidate, then the usage, then the finish reason. `calls`
    /// counts the function calls of the whole reply, so that each gets its own index.
    pub(super) fn deltas(self, calls: &mut usize) -> Vec<ModelDelta> {
        let mut out = Vec::new();
        let (content, reason) = self
            .candidates
            .into_iter()
            .flatten()
            .next()
            .map_or((None, None), |c| (c.content, c.finish_reason));
        let parts = content.and_then(|c| c.parts).into_iter().flatten();
        for part in parts.filter(|p| p.thought != Some(true)) {
            out.extend(part.text.map(ModelDelta::Text));
            if let Some(call) = part.function_call {
                out.push(ModelDelta::ToolRequest {
                    index: *calls,
                    id: call.id,
                    name: call.name,
                    arguments: call.args.map(|a| a.get().to_owned()).unwrap_or_default(),
                    metadata: part
                        .thought_signature
                        .map(|s| json!({ "thoughtSignature": s })),
                });
                *calls += 1;
            }
        }
        if let Some(usage) = self.usage_metadata {
            let thoughts = usage.thoughts_token_count.unwrap_or(0);
            out.push(ModelDelta::Usage {
                input_tokens: usage.prompt_token_count,
                output_tokens: usage.candidates_token_count.map(|n| n + thoughts),
            });
        }
        let blocked = self
            .prompt_feedback
            .is_some_and(|f| f.block_reason.is_some());
        if blocked || reason.is_some() {
            out.push(ModelDelta::Finish(match reason.as_deref() {
                _ if blocked => FinishReason::Blocked,
                Some("STOP") if *calls > 0 => FinishReason::ToolCalls,
                Some("STOP") => FinishReason::Stop,
                Some("MAX_TOKENS") => FinishReason::Length,
                Some(
                    "SAFETY" | "RECITATION" | "LANGUAGE" | "BLOCKLIST" | "PROHIBITED_CONTENT"
                    | "SPII" | "IMAGE_SAFETY",
                ) => FinishReason::Blocked,
                _ => FinishReason::Other(reason.unwrap_or_default()),
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deltas(reply: &Value, calls: &mut usize) -> Vec<ModelDelta> {
        let response: Response = serde_json::from_str(&reply.to_string()).expect("a response");
        response.deltas(calls)
    }

    #[test]
    fn a_whole_reply_gives_text_calls_usage_and_reason() {
        let reply = json!({"candidates": [{"index": 0, "finishReason": "STOP",
            "content": {"role": "model", "parts": [
                {"text": "planning", "thought": true},
                {"text": "Looking."},
                {"functionCall": {"name": "search", "args": {"q": 1}}, "thoughtSignature": "c2ln"},
                {"functionCall": {"id": "c2", "name": "now"}}]}}],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 4,
                "thoughtsTokenCount": 2, "totalTokenCount": 15},
            "modelVersion": "gemini-2.5-flash"});
        let mut calls = 0;
        assert_eq!(
            deltas(&reply, &mut calls),
            vec![
                ModelDelta::Text("Looking.".into()),
                ModelDelta::ToolRequest {
                    index: 0,
                    id: None,
                    name: Some("search".into()),
                    arguments: "{\"q\":1}".into(),
                    metadata: Some(json!({"thoughtSignature": "c2ln"})),
                },
                ModelDelta::ToolRequest {
                    index: 1,
                    id: Some("c2".into()),
                    name: Some("now".into()),
                    arguments: String::new(),
                    metadata: None,
                },
                ModelDelta::Usage {
                    input_tokens: Some(9),
                    output_tokens: Some(6)
                },
                ModelDelta::Finish(FinishReason::ToolCalls),
            ]
        );
        assert_eq!(calls, 2);
    }

    #[test]
    fn chunks_number_calls_across_the_stream_and_tolerate_odd_shapes() {
        let mut calls = 1;
        let chunk = json!({"candidates": [{"content": {"parts": [
            {"text": ["not", "text"], "thought": "yes"},
            {"functionCall": {"name": "later", "args": {}}}]}}]});
        assert_eq!(
            deltas(&chunk, &mut calls),
            vec![ModelDelta::ToolRequest {
                index: 1,
                id: None,
                name: Some("later".into()),
                arguments: "{}".into(),
                metadata: None,
            }]
        );
        assert_eq!(calls, 2);
    }

    #[test]
    fn blocked_prompts_and_safety_stops_block() {
        let mut calls = 0;
        let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
        assert_eq!(
            deltas(&blocked, &mut calls),
            vec![ModelDelta::Finish(FinishReason::Blocked)]
        );
        let unblocked = json!({"promptFeedback": {"blockReason": null}});
        assert_eq!(deltas(&unblocked, &mut calls), vec![]);
        let safety = json!({"candidates": [{"finishReason": "SAFETY"}]});
        assert_eq!(
            deltas(&safety, &mut calls),
            vec![ModelDelta::Finish(FinishReason::Blocked)]
        );
        let other = json!({"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL"}]});
        assert_eq!(
            deltas(&other, &mut calls),
            vec![ModelDelta::Finish(FinishReason::Other(
                "MALFORMED_FUNCTION_CALL".into()
            ))]
        );
    }
}
