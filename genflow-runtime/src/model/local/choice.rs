//! [`Choice`]: what a reply may be when tools are offered: a call of one of the tools the tool
//! choice allows (`{"tool": <name>, "arguments": <its input>}`), or, unless a call is
//! required, the answer (`{"answer": <output value, or text>}`). One JSON Schema `anyOf` holds
//! every branch, so constrained decoding lets the model pick a branch but not break one.

use serde_json::{Map, Value, json};

use super::error::LocalModelError;
use crate::model::request::{GenerateRequest, ToolChoice, ToolDefinition};

/// The key that starts a tool call.
pub(crate) const CALL_KEY: &str = "tool";
/// The key that starts an answer.
pub(crate) const ANSWER_KEY: &str = "answer";

/// The tools a reply may call, and whether it may answer instead.
pub(crate) struct Choice<'a> {
    tools: Vec<&'a ToolDefinition>,
    answer: bool,
}

impl<'a> Choice<'a> {
    /// The choice `request` offers: `None` when it offers no tools or forbids calling them;
    /// a tool choice naming a tool not offered is an error.
    pub(crate) fn of(request: &'a GenerateRequest) -> Result<Option<Self>, LocalModelError> {
        if request.tools.is_empty() {
            return Ok(None);
        }
        let all = || request.tools.iter().collect();
        let choice = match &request.tool_choice {
            ToolChoice::None => return Ok(None),
            ToolChoice::Auto => Choice {
                tools: all(),
                answer: true,
            },
            ToolChoice::Required => Choice {
                tools: all(),
                answer: false,
            },
            ToolChoice::Tool(name) => Choice {
                tools: request
                    .tools
                    .iter()
                    .filter(|t| &t.name == name)
                    .take(1)
                    .collect(),
                answer: false,
            },
        };
        match (&request.tool_choice, choice.tools.is_empty()) {
            (ToolChoice::Tool(name), true) => Err(LocalModelError::UnknownTool(name.clone())),
            _ => Ok(Some(choice)),
        }
    }

    /// The tools the reply may call.
    pub(crate) fn tools(&self) -> &[&'a ToolDefinition] {
        &self.tools
    }

    /// The schema of the reply: one branch per tool, and the answer's (`output`, or a string)
    /// unless a call is required. Each branch's `$defs` move to the root, renamed apart.
    pub(crate) fn schema(&self, output: Option<&Value>) -> Value {
        let mut defs = Map::new();
        let mut branches: Vec<Value> = self
            .tools
            .iter()
            .enumerate()
            .map(|(i, tool)| {
                let arguments = embed(tool.input_schema.value(), &format!("tool{i}_"), &mut defs);
                object(json!({ CALL_KEY: { "const": tool.name }, "arguments": arguments }))
            })
            .collect();
        if self.answer {
            let answer = output.map_or_else(
                || json!({ "type": "string" }),
                |schema| embed(schema, "answer_", &mut defs),
            );
            branches.push(object(json!({ ANSWER_KEY: answer })));
        }
        let mut schema = json!({ "anyOf": branches });
        if !defs.is_empty() {
            schema["$defs"] = Value::Object(defs);
        }
        schema
    }

    /// The system prompt's part on replying: the tools (name, description, input schema)
    /// unless the chat template lists them itself, and the reply's format.
    pub(crate) fn instructions(&self, output: Option<&str>, list_tools: bool) -> String {
        let mut text = String::new();
        if list_tools {
            text.push_str("You can call these tools:\n");
            for tool in &self.tools {
                text.push_str(&format!(
                    "- {}: {}\n  Input JSON Schema: {}\n",
                    tool.name,
                    tool.description,
                    tool.input_schema.embeddable_json()
                ));
            }
            text.push('\n');
        }
        let call = "{\"tool\": \"<tool name>\", \"arguments\": <the tool's input>}";
        text.push_str(&format!(
            "Reply with one JSON object and no other text. To call a tool: {call}."
        ));
        if self.answer {
            let answer = match output {
                Some(schema) => {
                    format!("{{\"answer\": <a JSON value valid for this JSON Schema: {schema}>}}")
                }
                None => "{\"answer\": \"<your answer>\"}".to_owned(),
            };
            text.push_str(&format!(
                " To answer once you need no more tools: {answer}."
            ));
        } else {
            text.push_str(" You must call a tool now.");
        }
        text
    }
}

/// An object schema with exactly `properties`, all required, in their order.
fn object(properties: Value) -> Value {
    let required: Vec<&String> = properties
        .as_object()
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// `schema` made embeddable under another root: its `$defs` (or `definitions`) move into
/// `defs` with `prefix` before their names, and its references follow them. A reference to
/// its own root (`#`) becomes one to a copy of it in `defs` named `prefix`.
fn embed(schema: &Value, prefix: &str, defs: &mut Map<String, Value>) -> Value {
    let mut body = schema.clone();
    let mut own = Map::new();
    if let Some(object) = body.as_object_mut() {
        object.remove("$schema");
        object.remove("$id");
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(found)) = object.remove(key) {
                own.extend(found);
            }
        }
    }
    let mut recursive = rename_refs(&mut body, prefix);
    for (name, mut def) in own {
        recursive |= rename_refs(&mut def, prefix);
        defs.insert(format!("{prefix}{name}"), def);
    }
    if recursive {
        defs.insert(prefix.to_owned(), body);
        return json!({ "$ref": format!("#/$defs/{prefix}") });
    }
    body
}

/// Rewrites local references in `value` to the renamed definitions; whether one names the
/// root.
fn rename_refs(value: &mut Value, prefix: &str) -> bool {
    match value {
        Value::Object(object) => {
            let mut root = false;
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                let rest = reference
                    .strip_prefix("#/$defs/")
                    .or_else(|| reference.strip_prefix("#/definitions/"));
                if let Some(rest) = rest {
                    *reference = format!("#/$defs/{prefix}{rest}");
                } else if reference == "#" {
                    *reference = format!("#/$defs/{prefix}");
                    root = true;
                }
            }
            object
                .iter_mut()
                .filter(|(key, _)| key.as_str() != "$ref")
                .fold(root, |root, (_, v)| rename_refs(v, prefix) | root)
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |root, v| rename_refs(v, prefix) | root),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CanonicalSchema;
    use crate::validate::Validator;

    fn tool(name: &str, schema: Value) -> ToolDefinition {
        ToolDefinition {
            name: name.to_owned(),
            description: format!("Does {name}."),
            input_schema: CanonicalSchema::new(schema),
        }
    }

    fn request(choice: ToolChoice) -> GenerateRequest {
        GenerateRequest {
            tools: vec![
                tool(
                    "weather",
                    json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "type": "object",
                        "properties": { "city": { "$ref": "#/$defs/City" } },
                        "required": ["city"],
                        "$defs": { "City": { "type": "string", "minLength": 1 } }
                    }),
                ),
                tool(
                    "tree",
                    json!({
                        "type": "object",
                        "properties": { "kids": { "type": "array", "items": { "$ref": "#" } } }
                    }),
                ),
            ],
            tool_choice: choice,
            ..GenerateRequest::default()
        }
    }

    fn valid(schema: &Value, value: Value) -> bool {
        Validator::new(schema)
            .expect("compiles")
            .violations(&value)
            .is_empty()
    }

    #[test]
    fn auto_allows_each_tool_with_valid_arguments_or_an_answer() {
        let req = request(ToolChoice::Auto);
        let choice = Choice::of(&req).expect("valid").expect("tools");
        let schema = choice.schema(None);
        assert!(valid(
            &schema,
            json!({"tool": "weather", "arguments": {"city": "Oslo"}})
        ));
        assert!(valid(
            &schema,
            json!({"tool": "tree", "arguments": {"kids": [{"kids": []}]}})
        ));
        assert!(valid(&schema, json!({"answer": "It rains."})));
        assert!(!valid(
            &schema,
            json!({"tool": "weather", "arguments": {"city": ""}})
        ));
        assert!(!valid(&schema, json!({"tool": "other", "arguments": {}})));
        assert!(!valid(
            &schema,
            json!({"tool": "tree", "arguments": {"kids": [1]}})
        ));
    }

    #[test]
    fn the_answer_follows_the_output_schema_and_required_drops_it() {
        let req = request(ToolChoice::Auto);
        let output = json!({ "type": "integer" });
        let schema = Choice::of(&req)
            .expect("valid")
            .expect("tools")
            .schema(Some(&output));
        assert!(valid(&schema, json!({"answer": 3})));
        assert!(!valid(&schema, json!({"answer": "3"})));
        let req = request(ToolChoice::Required);
        let schema = Choice::of(&req)
            .expect("valid")
            .expect("tools")
            .schema(Some(&output));
        assert!(!valid(&schema, json!({"answer": 3})));
        assert!(valid(
            &schema,
            json!({"tool": "tree", "arguments": {"kids": []}})
        ));
    }

    #[test]
    fn a_named_tool_is_the_only_branch_and_none_offers_nothing() {
        let req = request(ToolChoice::Tool("tree".to_owned()));
        let choice = Choice::of(&req).expect("valid").expect("tools");
        assert_eq!(choice.tools().len(), 1);
        let schema = choice.schema(None);
        assert!(!valid(
            &schema,
            json!({"tool": "weather", "arguments": {"city": "Oslo"}})
        ));
        assert!(valid(&schema, json!({"tool": "tree", "arguments": {}})));
        let text = choice.instructions(None, true);
        assert!(text.contains("- tree: Does tree."), "{text}");
        assert!(!text.contains("weather"), "{text}");
        assert!(text.contains("must call a tool"), "{text}");
        assert!(
            Choice::of(&request(ToolChoice::None))
                .expect("valid")
                .is_none()
        );
        let err = Choice::of(&request(ToolChoice::Tool("nope".to_owned())))
            .err()
            .expect("unknown tool");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
