//! The Gemini API (`models/{model}:generateContent`, `:streamGenerateContent?alt=sse`).

mod embed;
mod reply;

use std::sync::Arc;

use eventsource_stream::Event;
use http::header::{HeaderMap, HeaderName};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use self::reply::Response;
use super::Provider;
use super::http_embedder::{EmbeddingConfig, HttpEmbedder};
use super::http_model::{ApiKey, HttpModel, Wire, WithExtra, encode};
use super::transport::header_value;
use super::transport::{Decoder, Transport};
use crate::FlowError;
use crate::model::Model;
use crate::model::env_vars::EnvVars;
use crate::model::message::{Message, Part, Role};
use crate::model::request::{GenerateRequest, ToolChoice};
use crate::model::stream::ModelDelta;
use crate::retrieval::Embedder;

const GEMINI_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// The Google AI (Gemini API) provider (`googleai/...`).
#[derive(Clone, Debug)]
pub struct GoogleAi {
    base_url: String,
    key: ApiKey,
}

impl GoogleAi {
    /// The Gemini API with `api_key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        GoogleAi {
            base_url: GEMINI_URL.to_owned(),
            key: ApiKey::new(Some(api_key.into()), "GEMINI_API_KEY"),
        }
    }

    /// The Gemini API from `GEMINI_API_KEY` (or `GOOGLE_API_KEY`) and `GEMINI_BASE_URL`.
    pub fn from_env(vars: &EnvVars) -> Self {
        GoogleAi {
            base_url: vars
                .get("GEMINI_BASE_URL")
                .unwrap_or_else(|| GEMINI_URL.to_owned()),
            key: ApiKey::new(
                vars.get("GEMINI_API_KEY")
                    .or_else(|| vars.get("GOOGLE_API_KEY")),
                "GEMINI_API_KEY",
            ),
        }
    }

    /// Sets the base URL (ending in the API version, such as `/v1beta`).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }
}

impl GoogleAi {
    /// The embedder of the embedding model `id` (`models/{id}:embedContent`, and
    /// `:batchEmbedContents` for several texts), such as `gemini-embedding-001`, as the action
    /// `/embedder/googleai/<id>`. Queries are embedded with the task type `RETRIEVAL_QUERY`,
    /// documents with `RETRIEVAL_DOCUMENT`.
    #[track_caller]
    pub fn embedder(&self, id: &str, config: EmbeddingConfig) -> Result<Embedder, FlowError> {
        let (base_url, key) = self.endpoint(id)?;
        let wire = embed::GeminiEmbedWire { base_url, key };
        Ok(Embedder::new(HttpEmbedder::new(
            wire, "googleai", id, config,
        )?))
    }

    /// The base URL without a trailing `/`, and the API key for the model `id`.
    fn endpoint(&self, id: &str) -> Result<(String, String), FlowError> {
        let key = self.key.get(&format!("googleai/{id}"))?.to_owned();
        Ok((self.base_url.trim_end_matches('/').to_owned(), key))
    }
}

impl Provider for GoogleAi {
    fn name(&self) -> &str {
        "googleai"
    }

    fn model(&self, id: &str) -> Result<Arc<dyn Model>, FlowError> {
        let (base_url, key) = self.endpoint(id)?;
        let wire = Arc::new(GeminiWire { base_url, key });
        Ok(Arc::new(HttpModel::new(wire, "googleai", id)?))
    }
}

/// The `x-goog-api-key` header of `key`.
fn api_key_header(key: &str) -> Result<HeaderMap, FlowError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("x-goog-api-key"),
        header_value("GEMINI_API_KEY", key)?,
    );
    Ok(headers)
}

struct GeminiWire {
    base_url: String,
    key: String,
}

impl Wire for GeminiWire {
    type Decoder = GeminiDecoder;

    fn body(
        &self,
        _model: &str,
        request: &GenerateRequest,
        _stream: bool,
    ) -> Result<Vec<u8>, FlowError> {
        let config = &request.config;
        let has_tools = !request.tools.is_empty();
        let generation = Generation {
            temperature: config.temperature,
            max_output_tokens: config.max_output_tokens,
            top_p: config.top_p,
            top_k: config.top_k,
            seed: config.seed,
            stop_sequences: &config.stop,
            response_mime_type: request.output.as_ref().map(|_| "application/json"),
            response_json_schema: request.output.as_ref().map(|o| o.schema.embeddable_json()),
        };
        let body = GenerateContentBody {
            contents: request.messages.iter().map(encode_message).collect(),
            system_instruction: request
                .system
                .as_ref()
                .map(|system| json!({"parts": [{"text": system}]})),
            tools: has_tools.then(|| {
                [FunctionDeclarations {
                    function_declarations: request
                        .tools
                        .iter()
                        .map(|t| FunctionDeclaration {
                            name: &t.name,
                            description: &t.description,
                            parameters_json_schema: t.input_schema.embeddable_json(),
                        })
                        .collect(),
                }]
            }),
            tool_config: has_tools.then(|| {
                let calling = match &request.tool_choice {
                    ToolChoice::Auto => json!({"mode": "AUTO"}),
                    ToolChoice::Required => json!({"mode": "ANY"}),
                    ToolChoice::None => json!({"mode": "NONE"}),
                    ToolChoice::Tool(name) => {
                        json!({"mode": "ANY", "allowedFunctionNames": [name]})
                    }
                };
                json!({ "functionCallingConfig": calling })
            }),
            generation_config: (!generation.is_empty() || !config.extra.is_empty()).then_some(
                WithExtra {
                    fields: generation,
                    extra: &config.extra,
                },
            ),
        };
        encode(&body)
    }

    fn url(&self, model: &str, stream: bool) -> String {
        if stream {
            format!(
                "{}/models/{model}:streamGenerateContent?alt=sse",
                self.base_url
            )
        } else {
            format!("{}/models/{model}:generateContent", self.base_url)
        }
    }

    fn headers(&self) -> Result<HeaderMap, FlowError> {
        api_key_header(&self.key)
    }

    fn decoder(&self, _request: &GenerateRequest, transport: Transport) -> GeminiDecoder {
        GeminiDecoder {
            transport,
            calls: 0,
        }
    }

    fn reply(
        &self,
        body: &[u8],
        _request: &GenerateRequest,
        transport: &Transport,
    ) -> Result<Vec<ModelDelta>, FlowError> {
        let mut calls = 0;
        response_deltas(transport.parse_reply(body)?, &mut calls, transport)
    }
}

/// A `generateContent` request, serialized from borrowed parts (the schemas are not copied).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentBody<'a> {
    contents: Vec<ContentOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<[FunctionDeclarations<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_config: Option<WithExtra<'a, Generation<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionDeclarations<'a> {
    function_declarations: Vec<FunctionDeclaration<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FunctionDeclaration<'a> {
    name: &'a str,
    description: &'a str,
    parameters_json_schema: &'a RawValue,
}

/// `generationConfig`; the request's extra config fields are merged into it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Generation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_json_schema: Option<&'a RawValue>,
}

impl Generation<'_> {
    /// Whether no field is set (then `generationConfig` is left out).
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.max_output_tokens.is_none()
            && self.top_p.is_none()
            && self.top_k.is_none()
            && self.seed.is_none()
            && self.stop_sequences.is_empty()
            && self.response_json_schema.is_none()
    }
}

/// One turn of the conversation, borrowing the request's parts.
#[derive(Serialize)]
struct ContentOut<'a> {
    role: &'static str,
    parts: Vec<PartOut<'a>>,
}

/// A part: an object with one of these keys (a function call may carry its signature).
#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum PartOut<'a> {
    Text {
        text: &'a str,
    },
    InlineData {
        inline_data: InlineOut<'a>,
    },
    FileData {
        file_data: FileOut<'a>,
    },
    FunctionCall {
        function_call: CallOut<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        thought_signature: Option<&'a Value>,
    },
    FunctionResponse {
        function_response: ResponseOut<'a>,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InlineOut<'a> {
    mime_type: &'a str,
    data: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    mime_type: Option<&'a str>,
    file_uri: &'a str,
}

#[derive(Serialize)]
struct CallOut<'a> {
    name: &'a str,
    args: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Serialize)]
struct ResponseOut<'a> {
    name: &'a str,
    response: ToolOutput<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

/// A failed tool's `{"error": ...}` as it is; a result wrapped as `{"output": ...}`.
#[derive(Serialize)]
#[serde(untagged)]
enum ToolOutput<'a> {
    Error(&'a Value),
    Output { output: &'a Value },
}

fn encode_message(message: &Message) -> ContentOut<'_> {
    let role = match message.role {
        Role::Model => "model",
        Role::User | Role::System | Role::Tool => "user",
    };
    let parts = message.content.iter().map(|part| match part {
        Part::Text(text) => PartOut::Text { text },
        Part::Media(media) => match media.inline() {
            Some(data) => PartOut::InlineData {
                inline_data: InlineOut {
                    mime_type: data.mime,
                    data: data.base64,
                },
            },
            None => PartOut::FileData {
                file_data: FileOut {
                    mime_type: media.mime(),
                    file_uri: &media.url,
                },
            },
        },
        Part::ToolRequest(r) => PartOut::FunctionCall {
            function_call: CallOut {
                name: &r.name,
                args: &r.input,
                id: r.id.as_deref(),
            },
            thought_signature: r.metadata.as_ref().and_then(|m| m.get("thoughtSignature")),
        },
        Part::ToolResponse(r) => PartOut::FunctionResponse {
            function_response: ResponseOut {
                name: &r.name,
                response: if r.is_error {
                    ToolOutput::Error(&r.output)
                } else {
                    ToolOutput::Output { output: &r.output }
                },
                id: r.id.as_deref(),
            },
        },
    });
    ContentOut {
        role,
        parts: parts.collect(),
    }
}

/// The deltas of one `GenerateContentResponse`, or the error it carries.
fn response_deltas(
    response: Response,
    calls: &mut usize,
    transport: &Transport,
) -> Result<Vec<ModelDelta>, FlowError> {
    match &response.error {
        Some(error) => Err(transport.stream_error(error)),
        None => Ok(response.deltas(calls)),
    }
}

/// Decodes `data: <GenerateContentResponse>` events; the stream ends at EOF.
pub(crate) struct GeminiDecoder {
    transport: Transport,
    calls: usize,
}

impl Decoder for GeminiDecoder {
    fn event(&mut self, event: &Event) -> Result<Vec<ModelDelta>, FlowError> {
        let chunk = self.transport.parse_event(event)?;
        response_deltas(chunk, &mut self.calls, &self.transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::message::{Media, ToolRequest, ToolResponse};
    use crate::model::request::OutputFormat;

    fn body(request: &GenerateRequest) -> Value {
        let wire = GeminiWire {
            base_url: "http://127.0.0.1:1/v1beta".into(),
            key: "k".into(),
        };
        let bytes = wire.body("m", request, false).expect("encodes");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[test]
    fn parts_carry_media_calls_with_signatures_and_responses() {
        let call = |id: Option<&str>| ToolRequest {
            id: id.map(str::to_owned),
            name: "now".into(),
            input: json!({}),
            metadata: Some(json!({"thoughtSignature": "c2ln"})),
        };
        let response = |output: Value, is_error: bool| ToolResponse {
            id: None,
            name: "now".into(),
            output,
            is_error,
        };
        let request = GenerateRequest {
            messages: vec![
                Message::new(
                    Role::User,
                    vec![
                        Part::Text("Look".into()),
                        Part::Media(Media::base64("image/png", "iVBO")),
                        Part::Media(Media::url("https://127.0.0.1/v.mp4", None)),
                    ],
                ),
                Message::new(
                    Role::Model,
                    vec![
                        Part::ToolRequest(call(Some("c1"))),
                        Part::ToolRequest(call(None)),
                    ],
                ),
                Message::tool(vec![
                    response(json!("10:00"), false),
                    response(json!({"error": "down"}), true),
                ]),
            ],
            ..GenerateRequest::default()
        };
        assert_eq!(
            body(&request)["contents"],
            json!([
                {"role": "user", "parts": [
                    {"text": "Look"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
                    {"fileData": {"fileUri": "https://127.0.0.1/v.mp4"}}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "now", "args": {}, "id": "c1"},
                        "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "now", "args": {}}, "thoughtSignature": "c2ln"}]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "now", "response": {"output": "10:00"}}},
                    {"functionResponse": {"name": "now", "response": {"error": "down"}}}]},
            ])
        );
    }

    #[test]
    fn without_settings_there_is_no_generation_config() {
        let request = GenerateRequest {
            messages: vec![Message::user("hi")],
            ..GenerateRequest::default()
        };
        assert_eq!(
            body(&request),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
        );
    }

    #[test]
    fn extra_fields_override_the_generation_config_and_keep_the_schema() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut request = GenerateRequest {
            messages: vec![Message::user("hi")],
            output: Some(OutputFormat {
                name: "Answer".into(),
                schema: schema.clone().into(),
            }),
            ..GenerateRequest::default()
        };
        request.config.top_k = Some(3);
        request.config.extra.insert("topK".into(), json!(5));
        request
            .config
            .extra
            .insert("thinkingConfig".into(), json!({"thinkingBudget": 0}));
        assert_eq!(
            body(&request)["generationConfig"],
            json!({"topK": 5, "thinkingConfig": {"thinkingBudget": 0},
                "responseMimeType": "application/json", "responseJsonSchema": schema})
        );
        request.output = None;
        request.config.top_k = None;
        assert_eq!(
            body(&request)["generationConfig"],
            json!({"topK": 5, "thinkingConfig": {"thinkingBudget": 0}})
        );
    }
}
