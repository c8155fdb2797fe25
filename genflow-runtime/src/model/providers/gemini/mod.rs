//! The Gemini API (`models/{model}:generateContent`, `:streamGenerateContent?alt=sse`).

mod reply;

use std::sync::Arc;

use eventsource_stream::Event;
use http::header::{HeaderMap, HeaderName};
use serde_json::{Value, json};

use self::reply::Response;
use super::transport::header_value;
use super::{ApiKey, Decoder, HttpModel, Transport, Wire, encode, merge_extra, set_opt};
use crate::FlowError;
use crate::model::Model;
use crate::model::catalog::{EnvVars, Provider};
use crate::model::delta::ModelDelta;
use crate::model::message::{Message, Part, Role};
use crate::model::request::{GenerateRequest, ToolChoice};

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

impl Provider for GoogleAi {
    fn name(&self) -> &str {
        "googleai"
    }

    fn model(&self, id: &str) -> Result<Arc<dyn Model>, FlowError> {
        let key = self.key.get(&format!("googleai/{id}"))?.to_owned();
        let wire = Arc::new(GeminiWire {
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            key,
        });
        Ok(Arc::new(HttpModel::new(wire, "googleai", id)?))
    }
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
        let contents: Vec<Value> = request.messages.iter().map(encode_message).collect();
        let mut body = json!({ "contents": contents });
        if let Some(system) = &request.system {
            set_opt(
                &mut body,
                "systemInstruction",
                Some(json!({"parts": [{"text": system}]})),
            );
        }
        if !request.tools.is_empty() {
            let declarations: Vec<Value> = request
                .tools
                .iter()
                .map(|t| {
                    json!({"name": t.name, "description": t.description,
                        "parametersJsonSchema": t.input_schema.plain().clone()})
                })
                .collect();
            set_opt(
                &mut body,
                "tools",
                Some(json!([{ "functionDeclarations": declarations }])),
            );
            let calling = match &request.tool_choice {
                ToolChoice::Auto => json!({"mode": "AUTO"}),
                ToolChoice::Required => json!({"mode": "ANY"}),
                ToolChoice::None => json!({"mode": "NONE"}),
                ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
            };
            set_opt(
                &mut body,
                "toolConfig",
                Some(json!({ "functionCallingConfig": calling })),
            );
        }
        let config = &request.config;
        let mut generation = json!({});
        set_opt(&mut generation, "temperature", config.temperature);
        set_opt(&mut generation, "maxOutputTokens", config.max_output_tokens);
        set_opt(&mut generation, "topP", config.top_p);
        set_opt(&mut generation, "topK", config.top_k);
        set_opt(&mut generation, "seed", config.seed);
        set_opt(
            &mut generation,
            "stopSequences",
            (!config.stop.is_empty()).then_some(&config.stop),
        );
        if let Some(output) = &request.output {
            set_opt(
                &mut generation,
                "responseMimeType",
                Some("application/json"),
            );
            set_opt(
                &mut generation,
                "responseJsonSchema",
                Some(output.schema.plain().clone()),
            );
        }
        merge_extra(&mut generation, &config.extra);
        if generation.as_object().is_some_and(|g| !g.is_empty()) {
            set_opt(&mut body, "generationConfig", Some(generation));
        }
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
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-goog-api-key"),
            header_value("GEMINI_API_KEY", &self.key)?,
        );
        Ok(headers)
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

fn encode_message(message: &Message) -> Value {
    let role = match message.role {
        Role::Model => "model",
        Role::User | Role::System | Role::Tool => "user",
    };
    let parts: Vec<Value> = message
        .content
        .iter()
        .map(|part| match part {
            Part::Text(text) => json!({ "text": text }),
            Part::Media(media) => match media.inline() {
                Some(data) => json!({"inlineData": {"mimeType": data.mime, "data": data.base64}}),
                None => json!({"fileData": {"mimeType": media.mime(), "fileUri": media.url}}),
            },
            Part::ToolRequest(r) => {
                let mut call = json!({"name": r.name, "args": r.input});
                set_opt(&mut call, "id", r.id.as_ref());
                let mut part = json!({ "functionCall": call });
                let signature = r.metadata.as_ref().and_then(|m| m.get("thoughtSignature"));
                set_opt(&mut part, "thoughtSignature", signature);
                part
            }
            Part::ToolResponse(r) => {
                let response = if r.is_error {
                    r.output.clone()
                } else {
                    json!({ "output": r.output })
                };
                let mut reply = json!({"name": r.name, "response": response});
                set_opt(&mut reply, "id", r.id.as_ref());
                json!({ "functionResponse": reply })
            }
        })
        .collect();
    json!({"role": role, "parts": parts})
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
pub struct GeminiDecoder {
    transport: Transport,
    calls: usize,
}

impl Decoder for GeminiDecoder {
    fn event(&mut self, event: &Event) -> Result<Vec<ModelDelta>, FlowError> {
        let chunk = self.transport.parse_event(event)?;
        response_deltas(chunk, &mut self.calls, &self.transport)
    }
}
