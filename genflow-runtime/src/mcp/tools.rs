//! Actions as MCP tools: name, description, `inputSchema` and `outputSchema` from the action's
//! schemas, and the JSON a call passes in and gets back.
//!
//! MCP tool arguments and structured results are JSON objects. An action whose input (or
//! output) schema is an object is offered as it is; any other is wrapped in an object with one
//! property, `input` (or `result`), as the Python SDK's `FastMCP` wraps its tools' plain
//! results.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use serde_json::{Map, Value, json};

use crate::http::AuthProvider;
use crate::{ActionKind, DynAction, Registry};

/// The property holding a non-object input.
const INPUT_KEY: &str = "input";
/// The property holding a non-object output.
const RESULT_KEY: &str = "result";

/// How a value crosses MCP: as the object it is, or wrapped under one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Object,
    Wrapped(&'static str),
}

impl Shape {
    /// The shape of values of `schema`, wrapped under `key` unless the schema is an object's.
    fn of(schema: &Value, key: &'static str) -> Self {
        if schema.get("type").and_then(Value::as_str) == Some("object") {
            Shape::Object
        } else {
            Shape::Wrapped(key)
        }
    }

    /// The MCP schema of values of `schema`.
    fn schema(self, schema: &Value) -> JsonObject {
        let mut inner = match schema {
            Value::Object(map) => map.clone(),
            other => Map::from_iter([("allOf".to_owned(), json!([other]))]),
        };
        let Shape::Wrapped(key) = self else {
            return inner;
        };
        // Definitions and the dialect stay at the root, where `$ref`s point.
        let defs = inner.remove("$defs");
        let dialect = inner.remove("$schema");
        let required = inner.get("type").and_then(Value::as_str) != Some("null");
        let mut outer = Map::new();
        if let Some(dialect) = dialect {
            outer.insert("$schema".to_owned(), dialect);
        }
        outer.insert("type".to_owned(), json!("object"));
        outer.insert("properties".to_owned(), json!({ key: inner }));
        if required {
            outer.insert("required".to_owned(), json!([key]));
        }
        if let Some(defs) = defs {
            outer.insert("$defs".to_owned(), defs);
        }
        outer
    }
}

/// One action offered as an MCP tool.
pub(crate) struct McpTool {
    /// The action a call runs.
    pub(crate) action: Arc<dyn DynAction>,
    /// What `tools/list` says of it.
    pub(crate) tool: Tool,
    /// The flow's own auth provider, checking each call's HTTP request (the server-wide one
    /// guards `/mcp`).
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    input: Shape,
    output: Shape,
}

impl McpTool {
    /// The tool of `action`, its calls checked by `auth`.
    pub(crate) fn new(action: Arc<dyn DynAction>, auth: Option<Arc<dyn AuthProvider>>) -> Self {
        let meta = action.meta();
        let schemas = action.schemas();
        let input = Shape::of(schemas.input(), INPUT_KEY);
        let output = Shape::of(schemas.output(), RESULT_KEY);
        let tool = Tool::new(meta.name, meta.description, input.schema(schemas.input()))
            .with_raw_output_schema(Arc::new(output.schema(schemas.output())));
        McpTool {
            action,
            tool,
            auth,
            input,
            output,
        }
    }

    /// The action's kind and name.
    pub(crate) fn key(&self) -> (ActionKind, &'static str) {
        let meta = self.action.meta();
        (meta.kind, meta.name)
    }

    /// The action's input in a call's arguments.
    pub(crate) fn input_of(&self, arguments: Option<JsonObject>) -> Value {
        let arguments = arguments.unwrap_or_default();
        match self.input {
            Shape::Object => Value::Object(arguments),
            Shape::Wrapped(key) => arguments.get(key).cloned().unwrap_or(Value::Null),
        }
    }

    /// Where the action's input sits in a call's arguments, as a JSON pointer prefix.
    pub(crate) fn input_path(&self) -> String {
        match self.input {
            Shape::Object => String::new(),
            Shape::Wrapped(key) => format!("/{key}"),
        }
    }

    /// The result of a run that returned `output`: the structured content its `outputSchema`
    /// describes, and the same JSON as text for clients that read text only.
    pub(crate) fn result_of(&self, output: Value) -> CallToolResult {
        let text = output.to_string();
        let structured = match self.output {
            Shape::Object => output,
            Shape::Wrapped(key) => json!({ key: output }),
        };
        let mut result = CallToolResult::structured(structured);
        result.content = vec![ContentBlock::text(text)];
        result
    }
}

/// The tools of a server by name: `flows` (those not marked `mcp = false`), then every tool of
/// `registry` likewise. A tool named as a flow already offered is skipped with a warning. A
/// flow with a provider in `flow_auth` has its calls checked by it.
pub(crate) fn catalog(
    registry: &Registry,
    flows: Vec<Arc<dyn DynAction>>,
    flow_auth: &HashMap<String, Arc<dyn AuthProvider>>,
) -> BTreeMap<String, McpTool> {
    let tools = registry
        .actions_of(ActionKind::Tool)
        .into_iter()
        .map(Arc::clone);
    let mut catalog = BTreeMap::new();
    for action in flows.into_iter().chain(tools) {
        let meta = action.meta();
        if !meta.mcp {
            continue;
        }
        if catalog.contains_key(meta.name) {
            tracing::warn!(
                tool = meta.name,
                "not offered over MCP: a flow of the same name is"
            );
            continue;
        }
        let auth = match meta.kind {
            ActionKind::Flow => flow_auth.get(meta.name).cloned(),
            _ => None,
        };
        catalog.insert(meta.name.to_owned(), McpTool::new(action, auth));
    }
    catalog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_pass_and_other_values_are_wrapped_with_their_definitions_at_the_root() {
        let object = json!({"type": "object", "properties": {"q": {"type": "string"}}});
        assert_eq!(Shape::of(&object, INPUT_KEY), Shape::Object);
        assert_eq!(Value::Object(Shape::Object.schema(&object)), object);

        let list = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "array",
            "items": {"$ref": "#/$defs/Passage"},
            "$defs": {"Passage": {"type": "object"}}
        });
        let shape = Shape::of(&list, RESULT_KEY);
        assert_eq!(shape, Shape::Wrapped(RESULT_KEY));
        assert_eq!(
            Value::Object(shape.schema(&list)),
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"result": {"type": "array", "items": {"$ref": "#/$defs/Passage"}}},
                "required": ["result"],
                "$defs": {"Passage": {"type": "object"}}
            })
        );
        let unit = Shape::Wrapped(INPUT_KEY).schema(&json!({"type": "null"}));
        assert!(
            !unit.contains_key("required"),
            "a unit input may be left out"
        );
    }
}
