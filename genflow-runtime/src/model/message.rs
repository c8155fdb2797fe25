//! Conversation messages and their parts, in Genkit's shape (`{"role", "content": [parts]}`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who said a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model (most providers take these apart from the conversation).
    System,
    /// The human or the application.
    User,
    /// The model.
    Model,
    /// Tool results sent back to the model.
    Tool,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said, in order.
    pub content: Vec<Part>,
}

/// One piece of a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Part {
    /// Plain text.
    Text(String),
    /// An image or other media, by URL or inline (`data:` URL).
    Media(Media),
    /// A model asking for a tool to run.
    ToolRequest(ToolRequest),
    /// The result of a tool run, sent back to the model.
    ToolResponse(ToolResponse),
}

/// Media referenced by URL; inline data uses a `data:<mime>;base64,<data>` URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// An `https:` or `data:` URL.
    pub url: String,
    /// The MIME type, such as `image/png` (taken from a `data:` URL when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// Inline media split out of a `data:` URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlineData<'a> {
    /// The MIME type.
    pub mime: &'a str,
    /// The base64 payload.
    pub base64: &'a str,
}

impl Media {
    /// Media at a URL.
    pub fn url(url: impl Into<String>, content_type: Option<&str>) -> Self {
        Media {
            url: url.into(),
            content_type: content_type.map(str::to_owned),
        }
    }

    /// Inline base64 data of the given MIME type.
    pub fn base64(mime: &str, data: &str) -> Self {
        Media {
            url: format!("data:{mime};base64,{data}"),
            content_type: Some(mime.to_owned()),
        }
    }

    /// The MIME type and payload when this is a base64 `data:` URL.
    pub fn inline(&self) -> Option<InlineData<'_>> {
        let rest = self.url.strip_prefix("data:")?;
        let (header, base64) = rest.split_once(',')?;
        let mime = header.strip_suffix(";base64")?;
        Some(InlineData {
            mime: self.content_type.as_deref().unwrap_or(mime),
            base64,
        })
    }

    /// The MIME type, from `content_type` or the `data:` URL.
    pub fn mime(&self) -> Option<&str> {
        self.content_type
            .as_deref()
            .or_else(|| self.inline().map(|d| d.mime))
    }
}

/// A model's request to run a tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequest {
    /// The provider's id for this call, echoed in the response.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments (not yet validated).
    pub input: Value,
    /// Provider data that must travel back with the call (such as Gemini's `thoughtSignature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl ToolRequest {
    /// The id a provider pairs this call and its response by: the provider's own, or the
    /// tool's name when it gave none.
    pub(crate) fn call_id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

/// The result of a tool run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolResponse {
    /// The id of the request this answers.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The tool's output, or `{"error": ...}` when it failed.
    pub output: Value,
    /// Whether the tool failed (its input was invalid or it returned an error).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl Message {
    /// A message of `role` with the given parts.
    pub fn new(role: Role, content: Vec<Part>) -> Self {
        Message { role, content }
    }

    /// A user message holding one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Message::new(Role::User, vec![Part::Text(text.into())])
    }

    /// A model message holding one text part.
    pub fn model(text: impl Into<String>) -> Self {
        Message::new(Role::Model, vec![Part::Text(text.into())])
    }

    /// A system message holding one text part.
    pub fn system(text: impl Into<String>) -> Self {
        Message::new(Role::System, vec![Part::Text(text.into())])
    }

    /// A tool message carrying tool results.
    pub fn tool(responses: Vec<ToolResponse>) -> Self {
        Message::new(
            Role::Tool,
            responses.into_iter().map(Part::ToolResponse).collect(),
        )
    }

    /// The text parts joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|p| match p {
                Part::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The tool requests, in order.
    pub fn tool_requests(&self) -> impl Iterator<Item = &ToolRequest> {
        self.content.iter().filter_map(|p| match p {
            Part::ToolRequest(r) => Some(r),
            _ => None,
        })
    }

    /// The tool responses, in order.
    pub fn tool_responses(&self) -> impl Iterator<Item = &ToolResponse> {
        self.content.iter().filter_map(|p| match p {
            Part::ToolResponse(r) => Some(r),
            _ => None,
        })
    }
}

impl ToolResponse {
    /// The successful result of `request`.
    pub fn ok(request: &ToolRequest, output: Value) -> Self {
        ToolResponse {
            id: request.id.clone(),
            name: request.name.clone(),
            output,
            is_error: false,
        }
    }

    /// A failure of `request`, told to the model as `{"error": message, "details"?: ...}`.
    pub fn error(request: &ToolRequest, message: &str, details: Option<&Value>) -> Self {
        let mut output = serde_json::json!({ "error": message });
        if let (Some(details), Some(map)) = (details, output.as_object_mut()) {
            map.insert("details".to_owned(), details.clone());
        }
        ToolResponse {
            id: request.id.clone(),
            name: request.name.clone(),
            output,
            is_error: true,
        }
    }

    /// The id of the call this answers, as [`ToolRequest::call_id`] gives it.
    pub(crate) fn call_id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }

    /// The output as text for providers that take strings (JSON strings are sent unquoted).
    pub fn output_text(&self) -> String {
        match &self.output {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parts_serialize_like_genkit() {
        let msg = Message::new(
            Role::Model,
            vec![
                Part::Text("hi".into()),
                Part::ToolRequest(ToolRequest {
                    id: Some("c1".into()),
                    name: "search".into(),
                    input: json!({"q": 1}),
                    metadata: None,
                }),
            ],
        );
        assert_eq!(
            serde_json::to_value(&msg).expect("serializes"),
            json!({"role": "model", "content": [
                {"text": "hi"},
                {"toolRequest": {"ref": "c1", "name": "search", "input": {"q": 1}}}
            ]})
        );
    }

    #[test]
    fn data_urls_split_into_mime_and_payload() {
        let media = Media::base64("image/png", "AAAA");
        assert_eq!(
            media.inline(),
            Some(InlineData {
                mime: "image/png",
                base64: "AAAA"
            })
        );
        assert_eq!(Media::url("https://x/y.png", None).inline(), None);
    }
}
