//! [`ChatTemplate`]: the GGUF's `tokenizer.chat_template` (Jinja) rendered with minijinja, or
//! ChatML when the file has none (the format of SmolLM2, Qwen2 and most small chat models).
//! A template that reads `tools` gets the offered tools, the calls as `tool_calls` and their
//! results as `tool` messages; with any other template, tools are described in the system
//! message, calls are the assistant's JSON and results come back as user messages.

use minijinja::{Environment, Error, ErrorKind, context};
use serde::Serialize;
use serde_json::{Value, json};

use super::choice::Choice;
use super::error::LocalModelError;
use crate::model::message::{Message, Part, Role, ToolRequest, ToolResponse};
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
    takes_tools: bool,
}

/// One message as chat templates read it.
#[derive(Debug, PartialEq, Serialize)]
pub(crate) struct ChatMessage {
    role: &'static str,
    content: String,
    /// The assistant's tool calls, in the OpenAI shape templates expect.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    /// The call a `tool` message answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
    /// The tool a `tool` message comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// What the prompt says about tools.
#[derive(Clone, Copy)]
pub(crate) struct ToolPrompt<'c, 'r> {
    /// The tools the reply may call, if any.
    pub(crate) choice: Option<&'c Choice<'r>>,
    /// Whether the template renders tools, calls and results itself.
    pub(crate) in_template: bool,
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
        let takes_tools = env
            .get_template(NAME)
            .map_err(|e| LocalModelError::Template(e.to_string()))?
            .undeclared_variables(false)
            .contains("tools");
        Ok(ChatTemplate {
            env,
            bos,
            eos,
            takes_tools,
        })
    }

    /// Whether the template reads `tools` (and so, by convention, tool calls and results).
    pub(crate) fn takes_tools(&self) -> bool {
        self.takes_tools
    }

    /// The prompt for `messages`, ending where the assistant's reply begins; `tools` are given
    /// to a template that reads them.
    pub(crate) fn render(
        &self,
        messages: &[ChatMessage],
        tools: Option<&Choice<'_>>,
    ) -> Result<String, LocalModelError> {
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| LocalModelError::Template(e.to_string()))?;
        let tools: Option<Vec<Value>> = tools.filter(|_| self.takes_tools).map(|choice| {
            choice
                .tools()
                .iter()
                .map(|tool| {
                    json!({ "type": "function", "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.input_schema.value(),
                    }})
                })
                .collect()
        });
        template
            .render(context! {
                messages => messages,
                tools => tools,
                add_generation_prompt => true,
                bos_token => self.bos,
                eos_token => self.eos,
            })
            .map_err(|e| LocalModelError::Template(e.to_string()))
    }
}

/// The request as chat messages: the system instructions first (with the tools and the
/// reply's format when tools are offered, or the output schema when one is wanted, as the JSON
/// text the schema keeps rather than serialized per request), then the conversation.
pub(crate) fn chat_messages(
    request: &GenerateRequest,
    tools: ToolPrompt<'_, '_>,
) -> Vec<ChatMessage> {
    let output = request
        .output
        .as_ref()
        .map(|output| output.schema.embeddable_json().get());
    let reply = match tools.choice {
        Some(choice) => Some(choice.instructions(output, !tools.in_template)),
        None => output.map(|schema| {
            format!(
                "Answer with one JSON value, no other text, valid for this JSON Schema: {schema}"
            )
        }),
    };
    let system: Vec<&str> = request
        .system
        .iter()
        .map(String::as_str)
        .chain(reply.as_deref())
        .collect();
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !system.is_empty() {
        messages.push(ChatMessage::text("system", system.join("\n\n")));
    }
    for message in &request.messages {
        chat_message(message, tools.in_template, &mut messages);
    }
    messages
}

impl ChatMessage {
    fn text(role: &'static str, content: String) -> Self {
        ChatMessage {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
        }
    }
}

/// Adds `message` to `out`: its text with its tool calls (as `tool_calls` for a template that
/// takes them, else as the JSON the model replies with), and its tool results (one `tool`
/// message each, or one user message of JSON lines).
fn chat_message(message: &Message, in_template: bool, out: &mut Vec<ChatMessage>) {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Model => "assistant",
        Role::Tool if in_template => "tool",
        Role::Tool => "user",
    };
    let mut lines = Vec::new();
    let mut calls = Vec::new();
    let mut results_apart = false;
    for part in &message.content {
        match part {
            Part::Text(text) => lines.push(text.clone()),
            Part::ToolRequest(r) if in_template => calls.push(template_call(r)),
            Part::ToolRequest(r) => {
                lines.push(json!({ "tool": r.name, "arguments": r.input }).to_string());
            }
            Part::ToolResponse(r) if in_template => {
                results_apart = true;
                out.push(template_result(r));
            }
            Part::ToolResponse(r) => {
                lines.push(json!({ "tool": r.name, "result": r.output }).to_string());
            }
            Part::Media(_) => {}
        }
    }
    if !(results_apart && lines.is_empty()) {
        out.push(ChatMessage {
            tool_calls: calls,
            ..ChatMessage::text(role, lines.join("\n"))
        });
    }
}

/// A call as templates read `tool_calls`.
fn template_call(request: &ToolRequest) -> Value {
    json!({
        "id": request.call_id(),
        "type": "function",
        "function": { "name": request.name, "arguments": request.input },
    })
}

/// A result as a template's `tool` message.
fn template_result(response: &ToolResponse) -> ChatMessage {
    ChatMessage {
        tool_call_id: Some(response.call_id().to_owned()),
        name: Some(response.name.clone()),
        ..ChatMessage::text("tool", response.output_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CanonicalSchema;
    use crate::model::request::{OutputFormat, ToolChoice, ToolDefinition};
    use crate::model::schema_dialects::SchemaDialects;

    /// SmolLM2-135M-Instruct's template, as its GGUF metadata carries it.
    const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    const NO_TOOLS: ToolPrompt<'static, 'static> = ToolPrompt {
        choice: None,
        in_template: false,
    };

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
            gguf.render(&chat_messages(&req, NO_TOOLS), None)
                .expect("renders"),
            expected
        );
        assert_eq!(
            chatml
                .render(&chat_messages(&req, NO_TOOLS), None)
                .expect("renders"),
            expected
        );
        let bare = gguf
            .render(&chat_messages(&request(None, "Hi"), NO_TOOLS), None)
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
        let messages = chat_messages(&req, NO_TOOLS);
        assert_eq!(
            messages[0],
            ChatMessage::text(
                "system",
                "Be brief.\n\nAnswer with one JSON value, no other text, valid for \
                 this JSON Schema: {\"type\":\"integer\"}"
                    .to_owned(),
            )
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
        let err = t.render(&[], None).expect_err("raises");
        assert!(err.to_string().contains("no system role"), "{err}");
    }

    /// A conversation with one call and its result, offering that tool.
    fn with_a_call() -> GenerateRequest {
        let call = ToolRequest {
            id: Some("call_0".to_owned()),
            name: "weather".to_owned(),
            input: json!({"city": "Oslo"}),
            metadata: None,
        };
        GenerateRequest {
            messages: vec![
                Message::user("Weather in Oslo?"),
                Message::new(Role::Model, vec![Part::ToolRequest(call.clone())]),
                Message::tool(vec![ToolResponse::ok(&call, json!("rain"))]),
            ],
            tools: vec![ToolDefinition {
                name: "weather".to_owned(),
                description: "The weather in a city.".to_owned(),
                input_schema: CanonicalSchema::new(json!({"type": "object"})),
            }],
            tool_choice: ToolChoice::Auto,
            ..GenerateRequest::default()
        }
    }

    #[test]
    fn without_template_support_tools_are_described_and_results_are_user_messages() {
        let req = with_a_call();
        let choice = Choice::of(&req).expect("valid").expect("tools");
        let tools = ToolPrompt {
            choice: Some(&choice),
            in_template: false,
        };
        let chatml = ChatTemplate::new(None, String::new(), String::new()).expect("compiles");
        assert!(!chatml.takes_tools());
        let prompt = chatml
            .render(&chat_messages(&req, tools), Some(&choice))
            .expect("renders");
        assert!(
            prompt.starts_with(
                "<|im_start|>system\nYou can call these tools:\n- weather: The weather in a city."
            ),
            "{prompt}"
        );
        assert!(
            prompt.contains(
                "<|im_start|>assistant\n{\"tool\":\"weather\",\"arguments\":{\"city\":\"Oslo\"}}<|im_end|>\n\
                 <|im_start|>user\n{\"tool\":\"weather\",\"result\":\"rain\"}<|im_end|>"
            ),
            "{prompt}"
        );
    }

    #[test]
    fn a_template_that_takes_tools_gets_them_with_calls_and_tool_messages() {
        let source = "{% for t in tools %}[{{ t.function.name }}]{% endfor %}\
            {% for m in messages %}<{{ m.role }}>{{ m.content }}\
            {% for c in m.tool_calls %}call {{ c.id }} {{ c.function.name }} {{ c.function.arguments.city }}{% endfor %}\
            {% if m.tool_call_id %} for {{ m.tool_call_id }}{% endif %}{% endfor %}";
        let template =
            ChatTemplate::new(Some(source), String::new(), String::new()).expect("compiles");
        assert!(template.takes_tools());
        let req = with_a_call();
        let choice = Choice::of(&req).expect("valid").expect("tools");
        let tools = ToolPrompt {
            choice: Some(&choice),
            in_template: true,
        };
        let prompt = template
            .render(&chat_messages(&req, tools), Some(&choice))
            .expect("renders");
        let system = choice.instructions(None, false);
        assert!(!system.contains("You can call these tools"), "{system}");
        assert_eq!(
            prompt,
            format!(
                "[weather]<system>{system}<user>Weather in Oslo?<assistant>call call_0 weather Oslo\
                 <tool>rain for call_0"
            )
        );
    }
}
