//! Structured output: the cached schema of an output type, reply validation and repair.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use schemars::JsonSchema;
use serde_json::{Value, json};

use super::request::OutputFormat;
use crate::error::Violation;
use crate::validate::Validator;
use crate::{FlowError, schema_of};

/// The canonical schema of an output type with its compiled validator.
pub(crate) struct OutputSchema {
    format: OutputFormat,
    validator: Validator,
}

/// Why a reply is not valid structured output. Kept as the source of the [`FlowError`] that
/// `generate` fails with, so callers can get at the raw text:
/// `err.source().and_then(|s| s.downcast_ref::<OutputError>())`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the model's reply does not match the output schema: {problem}")]
pub struct OutputError {
    /// The reply text as the model sent it.
    pub raw: String,
    /// What is wrong with it.
    pub problem: OutputProblem,
}

/// What is wrong with a structured reply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OutputProblem {
    /// The reply is not JSON.
    #[error("it is not JSON ({0})")]
    NotJson(String),
    /// The reply is JSON that breaks the schema.
    #[error("{}", describe(.0))]
    Invalid(Vec<Violation>),
}

fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("at '{}': {}", v.path, v.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<OutputError> for FlowError {
    fn from(e: OutputError) -> Self {
        let errors = match &e.problem {
            OutputProblem::Invalid(v) => json!(v),
            OutputProblem::NotJson(reason) => json!([{ "path": "", "message": reason }]),
        };
        FlowError::internal(e.to_string())
            .with_details(json!({ "raw": e.raw, "errors": errors }))
            .with_source(e)
    }
}

type Cache = RwLock<HashMap<TypeId, Arc<OutputSchema>>>;

impl OutputSchema {
    /// The schema of `T`, generated and compiled once per type.
    pub(crate) fn of<T: JsonSchema + 'static>() -> Result<Arc<OutputSchema>, FlowError> {
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Cache::default);
        let id = TypeId::of::<T>();
        if let Some(found) = cache.read().ok().and_then(|c| c.get(&id).cloned()) {
            return Ok(found);
        }
        let schema = schema_of::<T>();
        let name = schema
            .get("title")
            .and_then(Value::as_str)
            .map_or_else(|| "output".to_owned(), schema_name);
        let built = Arc::new(OutputSchema::new(name, schema)?);
        if let Ok(mut c) = cache.write() {
            c.insert(id, Arc::clone(&built));
        }
        Ok(built)
    }

    /// A schema given as JSON (for outputs without a Rust type).
    pub(crate) fn new(name: impl Into<String>, schema: Value) -> Result<OutputSchema, FlowError> {
        let validator = Validator::new(&schema).map_err(|e| {
            FlowError::invalid_argument(format!("the output schema does not compile: {e}"))
        })?;
        Ok(OutputSchema {
            format: OutputFormat {
                name: schema_name(&name.into()),
                schema: schema.into(),
            },
            validator,
        })
    }

    /// The name and canonical schema, as sent in a request.
    pub(crate) fn format(&self) -> &OutputFormat {
        &self.format
    }

    /// Reads a reply: parses the JSON (inside a Markdown code fence too), drops `null`s of
    /// optional properties (strict dialects send those) and validates against the schema.
    pub(crate) fn parse(&self, raw: &str) -> Result<Value, OutputError> {
        let fail = |problem| OutputError {
            raw: raw.to_owned(),
            problem,
        };
        let mut value: Value = serde_json::from_str(strip_fence(raw))
            .map_err(|e| fail(OutputProblem::NotJson(e.to_string())))?;
        let schema = self.format.schema.value();
        drop_optional_nulls(&mut value, schema, schema);
        let violations = self.validator.violations(&value);
        if violations.is_empty() {
            Ok(value)
        } else {
            Err(fail(OutputProblem::Invalid(violations)))
        }
    }
}

/// What the model is told when its reply failed validation.
pub(crate) fn repair_prompt(error: &OutputError) -> String {
    format!(
        "Your reply is not valid: {}. Reply again with only the corrected JSON value that matches the requested schema.",
        error.problem
    )
}

/// `[a-zA-Z0-9_-]{1,64}`, as OpenAI wants schema names.
fn schema_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "output".to_owned()
    } else {
        cleaned
    }
}

fn strip_fence(raw: &str) -> &str {
    let trimmed = raw.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// Removes `"key": null` where `key` is not required (a missing optional, as serde sees it).
fn drop_optional_nulls(value: &mut Value, schema: &Value, root: &Value) {
    let schema = resolve(schema, root);
    match value {
        Value::Object(map) => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let props = schema.get("properties");
            map.retain(|k, v| !(v.is_null() && props.is_some() && !required.contains(&k.as_str())));
            for (key, child) in map.iter_mut() {
                if let Some(sub) = props.and_then(|p| p.get(key)) {
                    drop_optional_nulls(child, sub, root);
                }
            }
            // Of a union, the first object branch whose required keys are all present.
            let present = |branch: &Value| {
                branch.get("properties").is_some()
                    && branch
                        .get("required")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .all(|k| map.contains_key(k))
            };
            let branch = ["anyOf", "oneOf"]
                .iter()
                .filter_map(|k| schema.get(*k).and_then(Value::as_array))
                .flatten()
                .map(|b| resolve(b, root))
                .find(|b| present(b));
            if let Some(branch) = branch {
                drop_optional_nulls(value, branch, root);
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    drop_optional_nulls(item, item_schema, root);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

/// The best reading of an unfinished JSON document (as it streams in): open strings, arrays
/// and objects are closed, and a dangling key or separator is dropped. `None` when nothing
/// readable came yet.
pub(crate) fn parse_partial(text: &str) -> Option<Value> {
    let text = text.trim_start();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .unwrap_or(text);
    let mut closers: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    // Prefix lengths after which the document can be closed, with the closers then open.
    let mut cuts: Vec<(usize, Vec<char>)> = Vec::new();
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_string = false;
                    cuts.push((i + 1, closers.clone()));
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => {
                closers.push('}');
                cuts.push((i + 1, closers.clone()));
            }
            '[' => {
                closers.push(']');
                cuts.push((i + 1, closers.clone()));
            }
            '}' | ']' => {
                closers.pop();
                cuts.push((i + 1, closers.clone()));
            }
            ',' => cuts.push((i, closers.clone())),
            c if c.is_ascii_alphanumeric() => cuts.push((i + 1, closers.clone())),
            _ => {}
        }
    }
    if in_string {
        let mut candidate = format!("{text}\"");
        candidate.extend(closers.iter().rev());
        if let Ok(v) = serde_json::from_str(&candidate) {
            return Some(v);
        }
    }
    cuts.iter().rev().take(8).find_map(|(cut, open)| {
        let mut candidate = text.get(..*cut)?.to_owned();
        candidate.extend(open.iter().rev());
        serde_json::from_str(&candidate).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct City {
        name: String,
        population: Option<u64>,
    }

    #[test]
    fn replies_are_unfenced_denulled_and_validated() {
        let schema = OutputSchema::of::<City>().expect("schema");
        assert_eq!(schema.format().name, "City");
        let ok = schema
            .parse("```json\n{\"name\": \"Oslo\", \"population\": null}\n```")
            .expect("valid");
        assert_eq!(ok, json!({"name": "Oslo"}));
        let err = schema.parse("{\"name\": 3}").expect_err("invalid");
        match &err.problem {
            OutputProblem::Invalid(v) => assert_eq!(v[0].path, "/name"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.raw, "{\"name\": 3}");
        assert!(matches!(
            schema.parse("Oslo!").map_err(|e| e.problem),
            Err(OutputProblem::NotJson(_))
        ));
        let flow: FlowError = err.into();
        assert_eq!(flow.details().expect("details")["raw"], "{\"name\": 3}");
        let typed = std::error::Error::source(&flow)
            .and_then(|s| s.downcast_ref::<OutputError>())
            .expect("typed source");
        assert_eq!(typed.raw, "{\"name\": 3}");
    }

    #[test]
    fn partial_json_reads_what_came_so_far() {
        assert_eq!(parse_partial(""), None);
        assert_eq!(parse_partial("{\""), Some(json!({})));
        assert_eq!(parse_partial("{\"ci"), Some(json!({})));
        assert_eq!(
            parse_partial("{\"city\": \"San"),
            Some(json!({"city": "San"}))
        );
        assert_eq!(
            parse_partial("{\"city\": \"Oslo\", \"tags\": [1, 2"),
            Some(json!({"city": "Oslo", "tags": [1, 2]}))
        );
        assert_eq!(
            parse_partial("{\"a\": {\"b\": true}, "),
            Some(json!({"a": {"b": true}}))
        );
    }
}
