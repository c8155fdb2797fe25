//! [`ChatTemplate`]: the GGUF's `tokenizer.chat_template` (Jinja) rendered with minijinja, or
//! ChatML when the file has none (the format of SmolLM2, Qwen2 and most small chat models).

use minijinja::{Environment, Error, ErrorKind, context};
use serde::Serialize;
use serde_json::json;

use super::error::LocalModelError;
use crate::model::message::{Message, Part, Role};
use crate::model::request::GenerateRequest;

/// ChatML, the fallback template.
const CHATML: &str = "{% for message in messages %}<|im_start|>{{ message.role }}\n\
{{ message.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// The template's name in its environment.
const NAME: &str = "chat";

/// A compiled chat template.
pub(crate) struct ChatTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

/// One message as chat templates read it.
#[derive(Debug, PartialEq, Serialize)]
pub(crate) struct ChatMessage {
    role: &'static str,
    content: String,
}

impl ChatTemplate {
    /// Compiles `source` (ChatML when `None`); `bos` and `eos` are the tokens templates may
    /// name as `bos_token` and `eos_token`.
    pub(crate) fn new(
        source: Option<&str>,
        bos: String,
        eos: String,
    ) -> Result<Self, LocalModelError> {
        let mut env = Environment::new();
        env.add_function(
            "raise_exception",
            |message: String| -> Result<String, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned(NAME, source.unwrap_or(CHATML).to_owned())
            .map_err(|e| LocalModelError::Template(e.to_string()))?;
        Ok(ChatTemplate { env, bos, eos })
    }

    /// The prompt for `messages`, ending where the assistant's reply begins.
    pub(crate) fn render(&self, messages: &[ChatMessage]) -> Result<String, LocalModelError> {
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| LocalModelError::Template(e.to_string()))?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => true,
                bos_token => self.bos,
                eos_token => self.eos,
            })
            .map_err(|e| LocalModelError::Template(e.to_string()))
    }
}

/// The request as chat messages: the system instructions first (with the output schema, when
/// one is wanted, as the JSON text the schema keeps rather than serialized per request), tool
/// requests and results as JSON text.
pub(crate) fn chat_messages(request: &GenerateRequest) -> Vec<ChatMessage> {
    let schema = request.output.as_ref().map(|output| {
        format!(
            "Answer with one JSON value, no other text, valid for this JSON Schema: {}",
            output.schema.embeddable_json()
        )
    });
    let system: Vec<&str> = request
        .system
        .iter()
        .map(String::as_str)
        .chain(schema.as_deref())
        .collect();
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !system.is_empty() {
        messages.push(ChatMessage {
            role: "system",
            content: system.join("\n\n"),
        });
    }
    messages.extend(request.messages.iter().map(chat_message));
    messages
}

/// One message's role name and text.
fn chat_message(message: &Message) -> ChatMessage {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Model => "assistant",
        Role::Tool => "tool",
    };
    let content: Vec<String> = message
        .content
        .iter()
        .filter_map(|part| match part {
            Part::Text(text) => Some(text.clone()),
            Part::ToolRequest(r) => {
                Some(json!({ "tool": r.name, "arguments": r.input }).to_string())
            }
            Part::ToolResponse(r) => {
                Some(json!({ "tool": r.name, "result": r.output }).to_string())
            }
            Part::Media(_) => None,
        })
        .collect();
    ChatMessage {
        role,
        content: content.join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::request::OutputFormat;
    use crate::model::schema_dialects::SchemaDialects;

    /// SmolLM2-135M-Instruct's template, as its GGUF metadata carries it.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn request(system: Option<&str>, user: &str) -> GenerateRequest {
        GenerateRequest {
            system: system.map(str::to_owned),
            messages: vec![Message::user(user)],
            ..GenerateRequest::default()
        }
    }

    #[test]
    fn the_gguf_template_and_chatml_agree_given_a_system_message() {
        let req = request(Some("Be brief."), "Hi");
        let gguf =
            ChatTemplate::new(Some(SMOLLM2), String::new(), String::new()).expect("compiles");
        let chatml = ChatTemplate::new(None, String::new(), String::new()).expect("compiles");
        let expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        assert_eq!(
            gguf.render(&chat_messages(&req)).expect("renders"),
            expected
        );
        assert_eq!(
            chatml.render(&chat_messages(&req)).expect("renders"),
            expected
        );
        let bare = gguf
            .render(&chat_messages(&request(None, "Hi")))
            .expect("renders");
        assert!(
            bare.starts_with("<|im_start|>system\nYou are a helpful AI assistant"),
            "{bare}"
        );
    }

    #[test]
    fn the_output_schema_joins_the_system_message_without_its_meta_schema() {
        let req = GenerateRequest {
            output: Some(OutputFormat {
                name: "answer".to_owned(),
                schema: SchemaDialects::new(json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "integer"
                })),
            }),
            ..request(Some("Be brief."), "Hi")
        };
        let messages = chat_messages(&req);
        assert_eq!(
            messages[0],
            ChatMessage {
                role: "system",
                content: "Be brief.\n\nAnswer with one JSON value, no other text, valid for \
                          this JSON Schema: {\"type\":\"integer\"}"
                    .to_owned(),
            }
        );
        assert_eq!(messages.len(), 2);
    }

    #[test]
    fn raise_exception_fails_the_render() {
        let t = ChatTemplate::new(
            Some("{{ raise_exception('no system role') }}"),
            String::new(),
            String::new(),
        )
        .expect("compiles");
        let err = t.render(&[]).expect_err("raises");
        assert!(err.to_string().contains("no system role"), "{err}");
    }
}
