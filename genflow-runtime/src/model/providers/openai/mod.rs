//! OpenAI-compatible chat completions (`POST {base}/chat/completions`): OpenAI, Ollama, vLLM,
//! llama.cpp, LM Studio, Groq, OpenRouter, DeepSeek.

mod embed;
mod reply;

use std::borrow::Cow;
use std::sync::Arc;

use eventsource_stream::Event;
use http::header::{AUTHORIZATION, HeaderMap};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use self::reply::Chunk;
use super::Provider;
use super::http_embedder::{EmbeddingConfig, HttpEmbedder};
use super::http_model::{ApiKey, HttpModel, Wire, WithExtra, encode};
use super::transport::{Decoder, Transport};
use crate::FlowError;
use crate::model::Model;
use crate::model::env_vars::EnvVars;
use crate::model::message::{Message, Part, Role};
use crate::model::request::{GenerateRequest, ToolChoice};
use crate::model::stream::ModelDelta;
use crate::retrieval::Embedder;

const OPENAI_URL: &str = "https://api.openai.com/v1";
const OLLAMA_URL: &str = "http://127.0.0.1:11434/v1";

/// An OpenAI-compatible provider.
#[derive(Clone, Debug)]
pub struct OpenAi {
    name: &'static str,
    base_url: String,
    key: Option<ApiKey>,
    strict_output: bool,
    /// `max_completion_tokens` (OpenAI) rather than `max_tokens` (other servers).
    completion_tokens: bool,
}

impl OpenAi {
    /// OpenAI itself (`openai/...`) with `api_key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        OpenAi {
            name: "openai",
            base_url: OPENAI_URL.to_owned(),
            key: Some(ApiKey::new(Some(api_key.into()), "OPENAI_API_KEY")),
            strict_output: true,
            completion_tokens: true,
        }
    }

    /// OpenAI configured as the official SDKs do: `OPENAI_API_KEY`, `OPENAI_BASE_URL`.
    pub fn from_env(vars: &EnvVars) -> Self {
        OpenAi {
            key: Some(ApiKey::new(vars.get("OPENAI_API_KEY"), "OPENAI_API_KEY")),
            base_url: vars
                .get("OPENAI_BASE_URL")
                .unwrap_or_else(|| OPENAI_URL.to_owned()),
            ..OpenAi::new("")
        }
    }

    /// A local Ollama server (`ollama/...`) at `http://127.0.0.1:11434/v1`, no key. Ollama
    /// takes the output schema but not strict mode, so the schema is sent as it is.
    pub fn ollama() -> Self {
        OpenAi::compatible("ollama", OLLAMA_URL)
    }

    /// Any other OpenAI-compatible server, named `name` in model references, without a key
    /// (add one with [`OpenAi::api_key`]).
    pub fn compatible(name: &'static str, base_url: impl Into<String>) -> Self {
        OpenAi {
            name,
            base_url: base_url.into(),
            key: None,
            strict_output: false,
            completion_tokens: false,
        }
    }

    /// Sets the base URL (ending in `/v1`).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the API key.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let env = self.key.as_ref().map_or("OPENAI_API_KEY", ApiKey::env);
        self.key = Some(ApiKey::new(Some(key.into()), env));
        self
    }

    /// Whether structured output uses strict mode (`json_schema.strict: true` with the strict
    /// dialect). On for OpenAI, off for other servers.
    #[must_use]
    pub fn strict_output(mut self, strict: bool) -> Self {
        self.strict_output = strict;
        self
    }
}

impl OpenAi {
    /// The embedder of the embedding model `id` (`POST {base}/embeddings`), such as
    /// `text-embedding-3-small`, as the action `/embedder/<provider>/<id>`.
    #[track_caller]
    pub fn embedder(&self, id: &str, config: EmbeddingConfig) -> Result<Embedder, FlowError> {
        let wire = embed::OpenAiEmbedWire {
            base_url: self.endpoint_base(),
            key: self.key_for(id)?,
        };
        Ok(Embedder::new(HttpEmbedder::new(
            wire, self.name, id, config,
        )?))
    }

    /// The base URL without a trailing `/`.
    fn endpoint_base(&self) -> String {
        self.base_url.trim_end_matches('/').to_owned()
    }

    /// The API key for the model `id`, if the provider takes one; missing, an error naming the
    /// variable to set.
    fn key_for(&self, id: &str) -> Result<Option<String>, FlowError> {
        match &self.key {
            Some(key) => Ok(Some(key.get(&format!("{}/{id}", self.name))?.to_owned())),
            None => Ok(None),
        }
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &str {
        self.name
    }

    fn model(&self, id: &str) -> Result<Arc<dyn Model>, FlowError> {
        let wire = Arc::new(OpenAiWire {
            base_url: self.endpoint_base(),
            key: self.key_for(id)?,
            strict_output: self.strict_output,
            completion_tokens: self.completion_tokens,
        });
        Ok(Arc::new(HttpModel::new(wire, self.name, id)?))
    }
}

struct OpenAiWire {
    base_url: String,
    key: Option<String>,
    strict_output: bool,
    /// `max_completion_tokens` (OpenAI) rather than `max_tokens` (other servers).
    completion_tokens: bool,
}

impl Wire for OpenAiWire {
    type Decoder = OpenAiDecoder;

    fn body(
        &self,
        model: &str,
        request: &GenerateRequest,
        stream: bool,
    ) -> Result<Vec<u8>, FlowError> {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if let Some(system) = &request.system {
            messages.push(ChatMessage::System {
                content: Cow::Borrowed(system),
            });
        }
        for message in &request.messages {
            encode_message(message, &mut messages);
        }
        let config = &request.config;
        let max_tokens = config.max_output_tokens;
        let response_format = match &request.output {
            Some(output) => Some(ResponseFormat {
                kind: "json_schema",
                json_schema: JsonSchemaFormat {
                    name: &output.name,
                    strict: self.strict_output,
                    schema: if self.strict_output {
                        output.schema.openai_strict_json()?
                    } else {
                        output.schema.embeddable_json()
                    },
                },
            }),
            None => None,
        };
        let has_tools = !request.tools.is_empty();
        let body = ChatBody {
            model,
            messages,
            temperature: config.temperature,
            max_completion_tokens: max_tokens.filter(|_| self.completion_tokens),
            max_tokens: max_tokens.filter(|_| !self.completion_tokens),
            top_p: config.top_p,
            seed: config.seed,
            stop: &config.stop,
            tools: request
                .tools
                .iter()
                .map(|t| FunctionTool {
                    kind: "function",
                    function: Function {
                        name: &t.name,
                        description: &t.description,
                        parameters: t.input_schema.embeddable_json(),
                    },
                })
                .collect(),
            tool_choice: has_tools.then(|| match &request.tool_choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::Required => json!("required"),
                ToolChoice::None => json!("none"),
                ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
            }),
            response_format,
            stream: stream.then_some(true),
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
        };
        encode(&WithExtra {
            fields: body,
            extra: &config.extra,
        })
    }

    fn url(&self, _model: &str, _stream: bool) -> String {
        format!("{}/chat/completions", self.base_url)
    }

    fn headers(&self) -> Result<HeaderMap, FlowError> {
        bearer(self.key.as_deref())
    }

    fn decoder(&self, _request: &GenerateRequest, transport: Transport) -> OpenAiDecoder {
        OpenAiDecoder { transport }
    }

    fn reply(
        &self,
        body: &[u8],
        _request: &GenerateRequest,
        transport: &Transport,
    ) -> Result<Vec<ModelDelta>, FlowError> {
        deltas(transport.parse_reply(body)?, transport)
    }
}

/// The `Authorization: Bearer` header of `key`, if there is one.
fn bearer(key: Option<&str>) -> Result<HeaderMap, FlowError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert(
            AUTHORIZATION,
            super::transport::header_value("API key", &format!("Bearer {key}"))?,
        );
    }
    Ok(headers)
}

/// A chat completions request, serialized from borrowed parts (the schemas are not copied).
#[derive(Serialize)]
struct ChatBody<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<FunctionTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct FunctionTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a RawValue,
}

#[derive(Serialize)]
struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    json_schema: JsonSchemaFormat<'a>,
}

#[derive(Serialize)]
struct JsonSchemaFormat<'a> {
    name: &'a str,
    strict: bool,
    schema: &'a RawValue,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// One chat message, borrowing the request's text.
#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum ChatMessage<'a> {
    System {
        content: Cow<'a, str>,
    },
    User {
        content: UserContent<'a>,
    },
    Assistant {
        /// `null` when the model only called tools.
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<CallOut<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: String,
    },
}

/// A user message's content: plain text, or parts when it carries media.
#[derive(Serialize)]
#[serde(untagged)]
enum UserContent<'a> {
    Text(String),
    Parts(Vec<UserPart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum UserPart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl<'a> },
}

#[derive(Serialize)]
struct ImageUrl<'a> {
    url: &'a str,
}

/// A tool call the model made, as the history sends it back.
#[derive(Serialize)]
struct CallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: CalledFunction<'a>,
}

#[derive(Serialize)]
struct CalledFunction<'a> {
    name: &'a str,
    /// The arguments object as JSON text.
    arguments: String,
}

fn encode_message<'a>(message: &'a Message, out: &mut Vec<ChatMessage<'a>>) {
    match message.role {
        Role::System => out.push(ChatMessage::System {
            content: Cow::Owned(message.text()),
        }),
        Role::User => out.push(ChatMessage::User {
            content: user_content(message),
        }),
        Role::Model => {
            let text = message.text();
            out.push(ChatMessage::Assistant {
                content: (!text.is_empty()).then_some(text),
                tool_calls: message
                    .tool_requests()
                    .map(|r| CallOut {
                        id: r.call_id(),
                        kind: "function",
                        function: CalledFunction {
                            name: &r.name,
                            arguments: r.input.to_string(),
                        },
                    })
                    .collect(),
            });
        }
        Role::Tool => out.extend(message.tool_responses().map(|r| ChatMessage::Tool {
            tool_call_id: r.call_id(),
            content: r.output_text(),
        })),
    }
}

fn user_content(message: &Message) -> UserContent<'_> {
    if message.content.iter().all(|p| matches!(p, Part::Text(_))) {
        return UserContent::Text(message.text());
    }
    let parts = message.content.iter().filter_map(|p| match p {
        Part::Text(text) => Some(UserPart::Text { text }),
        Part::Media(media) => Some(UserPart::ImageUrl {
            image_url: ImageUrl { url: &media.url },
        }),
        Part::ToolRequest(_) | Part::ToolResponse(_) => None,
    });
    UserContent::Parts(parts.collect())
}

/// The deltas of a whole reply or of a stream chunk, or the error it reports.
fn deltas(chunk: Chunk, transport: &Transport) -> Result<Vec<ModelDelta>, FlowError> {
    match &chunk.error {
        Some(error) => Err(transport.stream_error(error)),
        None => Ok(chunk.deltas()),
    }
}

/// Decodes `data: <chunk>` events up to `data: [DONE]`.
pub(crate) struct OpenAiDecoder {
    transport: Transport,
}

impl Decoder for OpenAiDecoder {
    fn event(&mut self, event: &Event) -> Result<Vec<ModelDelta>, FlowError> {
        if event.data.trim() == "[DONE]" {
            return Ok(Vec::new());
        }
        let chunk = self.transport.parse_event(event)?;
        deltas(chunk, &self.transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::{Media, ToolRequest, ToolResponse};
    use crate::model::request::OutputFormat;

    fn wire(strict_output: bool) -> OpenAiWire {
        OpenAiWire {
            base_url: "http://127.0.0.1:1/v1".into(),
            key: None,
            strict_output,
            completion_tokens: true,
        }
    }

    fn request() -> GenerateRequest {
        GenerateRequest {
            messages: vec![Message::user("hi")],
            output: Some(OutputFormat {
                name: "Answer".into(),
                schema: json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})
                    .into(),
            }),
            ..GenerateRequest::default()
        }
    }

    fn body(wire: &OpenAiWire, request: &GenerateRequest) -> Value {
        let bytes = wire.body("m", request, false).expect("encodes");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[test]
    fn the_schema_text_is_spliced_into_the_body() {
        let request = request();
        let strict = body(&wire(true), &request);
        let format = &strict["response_format"]["json_schema"];
        assert_eq!(format["strict"], json!(true));
        assert_eq!(
            &format["schema"],
            request
                .output
                .as_ref()
                .map(|o| o.schema.openai_strict().expect("strict"))
                .expect("output")
        );
        let plain = body(&wire(false), &request);
        assert_eq!(
            plain["response_format"]["json_schema"]["schema"],
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})
        );
    }

    #[test]
    fn every_role_is_encoded_as_chat_messages() {
        let call = ToolRequest {
            id: None,
            name: "search".into(),
            input: json!({"q": 1}),
            metadata: None,
        };
        let request = GenerateRequest {
            system: Some("Be brief.".into()),
            messages: vec![
                Message::system("Mind the user."),
                Message::new(
                    Role::User,
                    vec![
                        Part::Text("What is this?".into()),
                        Part::Media(Media::url("https://127.0.0.1/cat.png", Some("image/png"))),
                    ],
                ),
                Message::new(
                    Role::Model,
                    vec![Part::Text("Looking.".into()), Part::ToolRequest(call)],
                ),
                Message::tool(vec![ToolResponse {
                    id: Some("c1".into()),
                    name: "search".into(),
                    output: json!("a cat"),
                    is_error: false,
                }]),
                Message::model("A cat."),
            ],
            ..GenerateRequest::default()
        };
        assert_eq!(
            body(&wire(false), &request)["messages"],
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "system", "content": "Mind the user."},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://127.0.0.1/cat.png"}}]},
                {"role": "assistant", "content": "Looking.", "tool_calls": [{"id": "search",
                    "type": "function", "function": {"name": "search", "arguments": "{\"q\":1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
                {"role": "assistant", "content": "A cat."},
            ])
        );
    }

    #[test]
    fn extra_config_fields_override_and_keep_the_schema() {
        let mut request = request();
        request.config.extra.insert("seed".into(), json!(7));
        request.config.extra.insert("store".into(), json!(false));
        let merged = body(&wire(true), &request);
        assert_eq!(merged["seed"], json!(7));
        assert_eq!(merged["store"], json!(false));
        assert_eq!(
            merged["response_format"]["json_schema"]["schema"]["additionalProperties"],
            json!(false)
        );
    }
}
