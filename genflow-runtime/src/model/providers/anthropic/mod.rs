//! Anthropic Messages (`POST {base}/v1/messages`). Structured output uses a forced tool whose
//! input is the answer; its input is surfaced as reply text.

mod reply;

use std::sync::Arc;

use eventsource_stream::Event;
use http::header::{HeaderMap, HeaderName};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use self::reply::{Blocks, Reply, StreamEvent};
use super::Provider;
use super::http_model::{ApiKey, HttpModel, Wire, WithExtra, encode};
use super::transport::header_value;
use super::transport::{Decoder, Transport};
use crate::FlowError;
use crate::model::Model;
use crate::model::dialect;
use crate::model::env_vars::EnvVars;
use crate::model::message::{Message, Part, Role};
use crate::model::request::{GenerateRequest, ToolChoice};
use crate::model::stream::ModelDelta;

const ANTHROPIC_URL: &str = "https://api.anthropic.com";
const VERSION: &str = "2023-06-01";
/// `max_tokens` is required by the API; this is used when the request sets none.
const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The Anthropic provider (`anthropic/...`).
#[derive(Clone, Debug)]
pub struct Anthropic {
    base_url: String,
    key: ApiKey,
}

impl Anthropic {
    /// Anthropic with `api_key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        Anthropic {
            base_url: ANTHROPIC_URL.to_owned(),
            key: ApiKey::new(Some(api_key.into()), "ANTHROPIC_API_KEY"),
        }
    }

    /// Anthropic from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`.
    pub fn from_env(vars: &EnvVars) -> Self {
        Anthropic {
            base_url: vars
                .get("ANTHROPIC_BASE_URL")
                .unwrap_or_else(|| ANTHROPIC_URL.to_owned()),
            key: ApiKey::new(vars.get("ANTHROPIC_API_KEY"), "ANTHROPIC_API_KEY"),
        }
    }

    /// Sets the base URL (without `/v1`).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn model(&self, id: &str) -> Result<Arc<dyn Model>, FlowError> {
        let key = self.key.get(&format!("anthropic/{id}"))?.to_owned();
        let wire = Arc::new(AnthropicWire {
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            key,
        });
        Ok(Arc::new(HttpModel::new(wire, "anthropic", id)?))
    }
}

struct AnthropicWire {
    base_url: String,
    key: String,
}

impl Wire for AnthropicWire {
    type Decoder = AnthropicDecoder;

    fn body(
        &self,
        model: &str,
        request: &GenerateRequest,
        stream: bool,
    ) -> Result<Vec<u8>, FlowError> {
        let config = &request.config;
        let mut tools: Vec<ToolSpec<'_>> = request
            .tools
            .iter()
            .map(|t| ToolSpec {
                name: &t.name,
                description: &t.description,
                input_schema: t.input_schema.embeddable_json(),
            })
            .collect();
        let mut choice = match &request.tool_choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
        };
        if let Some(output) = &request.output {
            let root = output.schema.value().get("type").and_then(Value::as_str);
            if root != Some("object") {
                return Err(dialect::DialectError {
                    dialect: "an Anthropic tool input",
                    path: String::new(),
                    reason: "the root must be an object; wrap the value in a struct".to_owned(),
                }
                .into());
            }
            tools.push(ToolSpec {
                name: &output.name,
                description: "Reply with the final answer, as this tool's input.",
                input_schema: output.schema.embeddable_json(),
            });
            // With other tools the model may still call them first; it must end with a tool.
            choice = if request.tools.is_empty() {
                json!({"type": "tool", "name": output.name})
            } else {
                json!({"type": "any"})
            };
        }
        let body = MessagesBody {
            model,
            max_tokens: config.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            messages: request.messages.iter().map(encode_message).collect(),
            system: request.system.as_deref(),
            temperature: config.temperature,
            top_p: config.top_p,
            top_k: config.top_k,
            stop_sequences: &config.stop,
            tool_choice: (!tools.is_empty()).then_some(choice),
            tools,
            stream: stream.then_some(true),
        };
        encode(&WithExtra {
            fields: body,
            extra: &config.extra,
        })
    }

    fn url(&self, _model: &str, _stream: bool) -> String {
        format!("{}/v1/messages", self.base_url)
    }

    fn headers(&self) -> Result<HeaderMap, FlowError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-api-key"),
            header_value("ANTHROPIC_API_KEY", &self.key)?,
        );
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            header_value("anthropic-version", VERSION)?,
        );
        Ok(headers)
    }

    fn decoder(&self, request: &GenerateRequest, transport: Transport) -> AnthropicDecoder {
        AnthropicDecoder {
            transport,
            blocks: Blocks::new(request),
        }
    }

    fn reply(
        &self,
        body: &[u8],
        request: &GenerateRequest,
        transport: &Transport,
    ) -> Result<Vec<ModelDelta>, FlowError> {
        Ok(transport.parse_reply::<Reply>(body)?.deltas(request))
    }
}

/// A Messages request, serialized from borrowed parts (the schemas are not copied).
#[derive(Serialize)]
struct MessagesBody<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: Vec<MessageOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<ToolSpec<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

#[derive(Serialize)]
struct ToolSpec<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a RawValue,
}

/// One message of the conversation, borrowing the request's parts.
#[derive(Serialize)]
struct MessageOut<'a> {
    role: &'static str,
    content: Vec<BlockOut<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockOut<'a> {
    Text {
        text: &'a str,
    },
    Image {
        source: Source<'a>,
    },
    Document {
        source: Source<'a>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
}

/// Where an image's or a document's bytes are.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Source<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

fn encode_message(message: &Message) -> MessageOut<'_> {
    let role = match message.role {
        Role::Model => "assistant",
        Role::User | Role::System | Role::Tool => "user",
    };
    let content = message.content.iter().map(|part| match part {
        Part::Text(text) => BlockOut::Text { text },
        Part::Media(media) => {
            let source = match media.inline() {
                Some(data) => Source::Base64 {
                    media_type: data.mime,
                    data: data.base64,
                },
                None => Source::Url { url: &media.url },
            };
            if media.mime() == Some("application/pdf") {
                BlockOut::Document { source }
            } else {
                BlockOut::Image { source }
            }
        }
        Part::ToolRequest(r) => BlockOut::ToolUse {
            id: r.call_id(),
            name: &r.name,
            input: &r.input,
        },
        Part::ToolResponse(r) => BlockOut::ToolResult {
            tool_use_id: r.call_id(),
            content: r.output_text(),
            is_error: r.is_error,
        },
    });
    MessageOut {
        role,
        content: content.collect(),
    }
}

/// Decodes the Messages event stream.
pub(crate) struct AnthropicDecoder {
    transport: Transport,
    blocks: Blocks,
}

impl Decoder for AnthropicDecoder {
    fn event(&mut self, event: &Event) -> Result<Vec<ModelDelta>, FlowError> {
        if event.event == "ping" {
            return Ok(Vec::new());
        }
        let data: StreamEvent = self.transport.parse_event(event)?;
        data.deltas(&mut self.blocks)
            .map_err(|error| self.transport.stream_error(&error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::{Media, ToolRequest, ToolResponse};
    use crate::model::request::OutputFormat;

    fn wire() -> AnthropicWire {
        AnthropicWire {
            base_url: "http://127.0.0.1:1".into(),
            key: "k".into(),
        }
    }

    fn body(request: &GenerateRequest, stream: bool) -> Value {
        let bytes = wire().body("m", request, stream).expect("encodes");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    fn answer(schema: Value) -> GenerateRequest {
        GenerateRequest {
            messages: vec![Message::user("hi")],
            output: Some(OutputFormat {
                name: "Answer".into(),
                schema: schema.into(),
            }),
            ..GenerateRequest::default()
        }
    }

    #[test]
    fn a_plain_request_sets_only_what_it_has() {
        let request = GenerateRequest {
            messages: vec![Message::user("hi")],
            ..GenerateRequest::default()
        };
        assert_eq!(
            body(&request, true),
            json!({"model": "m", "max_tokens": DEFAULT_MAX_TOKENS, "stream": true,
                "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
        );
    }

    #[test]
    fn messages_carry_media_tool_calls_and_results() {
        let request = GenerateRequest {
            messages: vec![
                Message::new(
                    Role::User,
                    vec![
                        Part::Media(Media::base64("image/png", "iVBO")),
                        Part::Media(Media::url(
                            "https://127.0.0.1/a.pdf",
                            Some("application/pdf"),
                        )),
                    ],
                ),
                Message::new(
                    Role::Model,
                    vec![Part::ToolRequest(ToolRequest {
                        id: Some("toolu_1".into()),
                        name: "search".into(),
                        input: json!({"q": 1}),
                        metadata: None,
                    })],
                ),
                Message::tool(vec![ToolResponse {
                    id: Some("toolu_1".into()),
                    name: "search".into(),
                    output: json!({"error": "down"}),
                    is_error: true,
                }]),
            ],
            ..GenerateRequest::default()
        };
        assert_eq!(
            body(&request, false)["messages"],
            json!([
                {"role": "user", "content": [
                    {"type": "image", "source":
                        {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                    {"type": "document", "source":
                        {"type": "url", "url": "https://127.0.0.1/a.pdf"}}]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                    "content": "{\"error\":\"down\"}", "is_error": true}]},
            ])
        );
    }

    #[test]
    fn structured_output_is_a_forced_tool_and_extra_fields_override() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut request = answer(schema.clone());
        request.config.temperature = Some(0.5);
        request.config.stop = vec!["END".into()];
        request.config.extra.insert("max_tokens".into(), json!(99));
        request
            .config
            .extra
            .insert("metadata".into(), json!({"user_id": "u1"}));
        let sent = body(&request, false);
        assert_eq!(
            sent["tools"],
            json!([{"name": "Answer", "input_schema": schema,
                "description": "Reply with the final answer, as this tool's input."}])
        );
        assert_eq!(
            sent["tool_choice"],
            json!({"type": "tool", "name": "Answer"})
        );
        assert_eq!(sent["temperature"], json!(0.5));
        assert_eq!(sent["stop_sequences"], json!(["END"]));
        assert_eq!(sent["max_tokens"], json!(99));
        assert_eq!(sent["metadata"], json!({"user_id": "u1"}));
        assert_eq!(sent.get("stream"), None);
    }

    #[test]
    fn a_non_object_output_root_is_refused() {
        let error = wire()
            .body("m", &answer(json!({"type": "array"})), false)
            .expect_err("refused");
        assert!(
            error.to_string().contains("the root must be an object"),
            "{error}"
        );
    }
}
