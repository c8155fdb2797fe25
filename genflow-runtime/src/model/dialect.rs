//! Per-provider JSON Schema dialects, derived at request time from one canonical schema.
//!
//! - [`openai_strict`]: OpenAI's strict structured-output subset. Every object gets
//!   `additionalProperties: false` and lists every property in `required` (optional properties
//!   become nullable), `oneOf` becomes `anyOf`, `$ref`s with siblings and one-element `allOf`s
//!   are inlined, and constraints strict mode does not know move into `description` (the reply
//!   is still validated against the canonical schema). Shapes it cannot express (maps, any-JSON
//!   values, tuples, a non-object root, ...) are a typed [`DialectError`].
//!
//! The other providers take the canonical schema as it is, without `$schema`
//! ([`CanonicalSchema::embeddable_json`](crate::CanonicalSchema::embeddable_json)): tool
//! parameters, Gemini's `responseJsonSchema` / `parametersJsonSchema` and Anthropic's
//! `input_schema`.

use serde_json::{Map, Value, json};

use crate::FlowError;
use crate::canonical_schema::without_meta_schema;

/// A schema that a provider's dialect cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the output schema cannot be expressed in {dialect} at '{path}': {reason}")]
pub struct DialectError {
    /// The dialect, such as `"OpenAI strict mode"`.
    pub dialect: &'static str,
    /// JSON pointer into the canonical schema.
    pub path: String,
    /// What is not expressible, and what to do instead.
    pub reason: String,
}

impl From<DialectError> for FlowError {
    fn from(e: DialectError) -> Self {
        FlowError::invalid_argument(e.to_string())
            .with_details(json!({ "path": e.path, "reason": e.reason }))
            .with_source(e)
    }
}

const STRICT: &str = "OpenAI strict mode";

/// Keywords strict mode supports and that we keep.
const KEPT: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "description",
    "title",
    "pattern",
    "multipleOf",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
];

/// Keywords that change which values are allowed in ways strict mode cannot state.
const REJECTED: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "prefixItems",
    "contains",
];

/// String formats strict mode accepts.
const FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The schema in OpenAI's strict structured-output dialect.
pub(crate) fn openai_strict(schema: &Value) -> Result<Value, DialectError> {
    let mut root = without_meta_schema(schema);
    let Some(map) = root.as_object_mut() else {
        return Err(error("", "the root must be an object schema"));
    };
    map.remove("title");
    if map.get("type").and_then(Value::as_str) != Some("object") {
        return Err(error(
            "",
            "the root must be an object (`type: object`); wrap the value in a struct",
        ));
    }
    // References resolve against the definitions as they were; the rewritten ones go back in.
    let original = map.remove("$defs").unwrap_or_else(|| json!({}));
    let mut defs = original.clone();
    if let Some(defs) = defs.as_object_mut() {
        for (name, def) in defs.iter_mut() {
            strict(def, &format!("/$defs/{name}"), &original)?;
        }
    }
    strict(&mut root, "", &original)?;
    if let (Some(map), false) = (
        root.as_object_mut(),
        defs.as_object().is_none_or(Map::is_empty),
    ) {
        map.insert("$defs".to_owned(), defs);
    }
    Ok(root)
}

fn error(path: &str, reason: &str) -> DialectError {
    DialectError {
        dialect: STRICT,
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

fn strict(node: &mut Value, path: &str, defs: &Value) -> Result<(), DialectError> {
    let Some(map) = node.as_object_mut() else {
        return Err(error(
            path,
            "a boolean schema (any value) is not expressible; use a concrete type",
        ));
    };
    inline_ref_with_siblings(map, path, defs)?;
    unwrap_all_of(map, path)?;
    if let Some(one_of) = map.remove("oneOf") {
        map.insert("anyOf".to_owned(), one_of);
    }
    if let Some(bad) = REJECTED.iter().find(|k| map.contains_key(**k)) {
        return Err(error(
            path,
            &format!("the keyword `{bad}` is not supported"),
        ));
    }
    if !["type", "anyOf", "$ref", "enum", "const"]
        .iter()
        .any(|k| map.contains_key(*k))
    {
        return Err(error(
            path,
            "a schema without a type (any JSON value) is not expressible; use a concrete type",
        ));
    }
    move_unsupported_into_description(map);
    if let Some(items) = map.get_mut("items") {
        if !items.is_object() {
            return Err(error(path, "tuple `items` are not supported; use a struct"));
        }
        strict(items, &format!("{path}/items"), defs)?;
    }
    if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
        for (i, branch) in branches.iter_mut().enumerate() {
            strict(branch, &format!("{path}/anyOf/{i}"), defs)?;
        }
    }
    let is_object =
        map.get("type").and_then(Value::as_str) == Some("object") || map.contains_key("properties");
    if is_object {
        close_object(map, path, defs)?;
    }
    Ok(())
}

/// Inlines `{"$ref": ..., "description": ...}`: strict mode wants `$ref` alone.
fn inline_ref_with_siblings(
    map: &mut Map<String, Value>,
    path: &str,
    defs: &Value,
) -> Result<(), DialectError> {
    let Some(Value::String(reference)) = map.get("$ref") else {
        return Ok(());
    };
    if map.len() == 1 {
        return Ok(());
    }
    let target = reference
        .strip_prefix("#/$defs/")
        .and_then(|name| defs.get(name))
        .and_then(Value::as_object)
        .ok_or_else(|| error(path, &format!("cannot resolve `$ref` {reference}")))?
        .clone();
    map.remove("$ref");
    for (key, value) in target {
        map.entry(key).or_insert(value);
    }
    Ok(())
}

fn unwrap_all_of(map: &mut Map<String, Value>, path: &str) -> Result<(), DialectError> {
    let Some(all_of) = map.remove("allOf") else {
        return Ok(());
    };
    match all_of {
        Value::Array(mut items) if items.len() == 1 => {
            if let Some(Value::Object(only)) = items.pop() {
                for (key, value) in only {
                    map.entry(key).or_insert(value);
                }
            }
            Ok(())
        }
        _ => Err(error(path, "`allOf` with several schemas is not supported")),
    }
}

/// Moves constraints strict mode rejects into the description, so the model still sees them.
fn move_unsupported_into_description(map: &mut Map<String, Value>) {
    map.remove("default");
    let mut notes = Vec::new();
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let keep = KEPT.contains(&key.as_str())
            || (key == "format"
                && map
                    .get("format")
                    .and_then(Value::as_str)
                    .is_some_and(|f| FORMATS.contains(&f)));
        if !keep && let Some(value) = map.remove(&key) {
            notes.push(format!("{key}: {value}"));
        }
    }
    if notes.is_empty() {
        return;
    }
    let note = format!("({})", notes.join(", "));
    let description = match map.get("description").and_then(Value::as_str) {
        Some(d) => format!("{d} {note}"),
        None => note,
    };
    map.insert("description".to_owned(), Value::String(description));
}

fn close_object(
    map: &mut Map<String, Value>,
    path: &str,
    defs: &Value,
) -> Result<(), DialectError> {
    match map.get("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(_) => {
            return Err(error(
                path,
                "maps (objects with arbitrary keys) are not supported; use a struct or a list of key/value pairs",
            ));
        }
    }
    map.insert("additionalProperties".to_owned(), Value::Bool(false));
    let required: Vec<String> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut all = Vec::new();
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            strict(prop, &format!("{path}/properties/{name}"), defs)?;
            if !required.contains(name) {
                make_nullable(prop);
            }
            all.push(Value::String(name.clone()));
        }
    }
    map.insert("required".to_owned(), Value::Array(all));
    Ok(())
}

/// Optional properties become "required but nullable".
fn make_nullable(schema: &mut Value) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    let null = Value::String("null".to_owned());
    if let Some(Value::Array(variants)) = map.get_mut("enum")
        && !variants.contains(&Value::Null)
    {
        variants.push(Value::Null);
    }
    match map.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = Value::String(std::mem::take(t));
            map.insert("type".to_owned(), Value::Array(vec![t, null]));
        }
        Some(Value::Array(types)) => {
            if !types.contains(&null) {
                types.push(null);
            }
        }
        Some(_) => {}
        None => {
            if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
                if !branches.iter().any(|b| b.get("type") == Some(&null)) {
                    branches.push(json!({"type": "null"}));
                }
            } else {
                let inner = std::mem::take(map);
                map.insert(
                    "anyOf".to_owned(),
                    json!([Value::Object(inner), {"type": "null"}]),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_of;
    use schemars::JsonSchema;
    use std::collections::HashMap;

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Inner {
        /// How sure.
        score: u32,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    enum Shape {
        Circle { r: f64 },
        Square { side: f64 },
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Report {
        title: String,
        note: Option<String>,
        /// The inner part.
        inner: Inner,
        maybe: Option<Inner>,
        shape: Shape,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn strict_closes_objects_requires_all_and_nullifies_optionals() {
        let strict = openai_strict(&schema_of::<Report>()).expect("expressible");
        assert_eq!(strict.get("$schema"), None);
        assert_eq!(strict["additionalProperties"], false);
        let mut required: Vec<&str> = strict["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        assert_eq!(
            required,
            ["inner", "maybe", "note", "shape", "tags", "title"]
        );
        assert_eq!(
            strict["properties"]["note"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            strict["properties"]["tags"]["type"],
            json!(["array", "null"])
        );
        // `$ref` with a description sibling is inlined.
        let inner = &strict["properties"]["inner"];
        assert_eq!(inner.get("$ref"), None);
        assert_eq!(inner["additionalProperties"], false);
        assert_eq!(inner["description"], "The inner part.");
        // u32's `format: uint32` and `minimum` are not both strict: format moves to description.
        assert_eq!(inner["properties"]["score"]["minimum"], 0);
        assert!(
            inner["properties"]["score"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("uint32")),
            "{inner}"
        );
        // `oneOf` became `anyOf`, and every variant object is closed.
        let shape = &strict["$defs"]["Shape"];
        assert!(shape.get("oneOf").is_none(), "{shape}");
        for variant in shape["anyOf"].as_array().expect("anyOf") {
            assert_eq!(variant["additionalProperties"], false);
        }
        assert_eq!(
            strict["properties"]["maybe"]["anyOf"][1],
            json!({"type": "null"})
        );
    }

    #[test]
    fn inexpressible_shapes_are_typed_errors() {
        #[allow(dead_code)]
        #[derive(JsonSchema)]
        struct WithMap {
            scores: HashMap<String, u32>,
        }
        let err = openai_strict(&schema_of::<WithMap>()).expect_err("maps");
        assert_eq!(err.path, "/properties/scores");
        assert!(err.reason.contains("maps"), "{err}");

        let err = openai_strict(&schema_of::<Vec<String>>()).expect_err("root array");
        assert_eq!(err.path, "");

        #[allow(dead_code)]
        #[derive(JsonSchema)]
        struct Anything {
            value: serde_json::Value,
        }
        let err = openai_strict(&schema_of::<Anything>()).expect_err("any");
        assert_eq!(err.path, "/properties/value");
        let flow: FlowError = err.into();
        assert_eq!(flow.status(), crate::Status::InvalidArgument);
    }
}
