//! [`SharedSchema`]: a schema offered to models, shared by reference, with each provider
//! dialect derived once.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::dialect::{self, DialectError};

/// A JSON Schema as offered to models (an output format or a tool's input).
///
/// Cloning copies a pointer, so requests carrying it are cheap to clone, and each provider
/// dialect ([`plain`](SharedSchema::plain), [`openai_strict`](SharedSchema::openai_strict)) is
/// derived on first use and kept for the schema's lifetime, with its JSON text, so request
/// bodies copy the text instead of serializing the tree again. Serializes as the schema itself.
#[derive(Clone)]
pub struct SharedSchema(Arc<Forms>);

struct Forms {
    canonical: Value,
    plain: OnceLock<Form>,
    openai_strict: OnceLock<Result<Form, DialectError>>,
}

/// A dialect of the schema and its JSON text.
struct Form {
    value: Value,
    text: Box<RawValue>,
}

impl Form {
    fn new(value: Value) -> Self {
        // A `Value` always serializes; `null` stands in for the impossible failure.
        let text =
            serde_json::value::to_raw_value(&value).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Form { value, text }
    }
}

impl SharedSchema {
    /// Wraps a canonical (draft 2020-12) schema.
    pub fn new(canonical: Value) -> Self {
        SharedSchema(Arc::new(Forms {
            canonical,
            plain: OnceLock::new(),
            openai_strict: OnceLock::new(),
        }))
    }

    /// The canonical schema.
    pub fn value(&self) -> &Value {
        &self.0.canonical
    }

    /// The canonical schema without `$schema` (see [`dialect::plain`]).
    pub fn plain(&self) -> &Value {
        &self.plain_form().value
    }

    /// [`plain`](SharedSchema::plain) as JSON text.
    pub fn plain_json(&self) -> &RawValue {
        &self.plain_form().text
    }

    /// OpenAI's strict dialect of the schema (see [`dialect::openai_strict`]).
    pub fn openai_strict(&self) -> Result<&Value, DialectError> {
        self.openai_strict_form().map(|form| &form.value)
    }

    /// [`openai_strict`](SharedSchema::openai_strict) as JSON text.
    pub fn openai_strict_json(&self) -> Result<&RawValue, DialectError> {
        self.openai_strict_form().map(|form| &*form.text)
    }

    fn plain_form(&self) -> &Form {
        self.0
            .plain
            .get_or_init(|| Form::new(dialect::plain(&self.0.canonical)))
    }

    fn openai_strict_form(&self) -> Result<&Form, DialectError> {
        self.0
            .openai_strict
            .get_or_init(|| dialect::openai_strict(&self.0.canonical).map(Form::new))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl From<Value> for SharedSchema {
    fn from(canonical: Value) -> Self {
        SharedSchema::new(canonical)
    }
}

impl PartialEq for SharedSchema {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.canonical == other.0.canonical
    }
}

impl fmt::Debug for SharedSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.canonical.fmt(f)
    }
}

impl Serialize for SharedSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.canonical.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SharedSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(SharedSchema::new)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dialects_are_derived_once_and_serialization_is_transparent() {
        let schema = SharedSchema::new(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"a": {"type": "string"}},
        }));
        assert!(std::ptr::eq(schema.plain(), schema.clone().plain()));
        assert_eq!(schema.plain().get("$schema"), None);
        let strict = schema.openai_strict().expect("expressible");
        assert_eq!(strict["additionalProperties"], json!(false));
        assert!(std::ptr::eq(
            strict,
            schema.openai_strict().expect("cached")
        ));
        assert_eq!(
            serde_json::from_str::<Value>(schema.openai_strict_json().expect("text").get())
                .expect("json"),
            *strict
        );
        assert_eq!(
            schema.plain_json().get(),
            r#"{"properties":{"a":{"type":"string"}},"type":"object"}"#
        );
        let text = serde_json::to_string(&schema).expect("serializes");
        assert_eq!(
            serde_json::from_str::<SharedSchema>(&text).expect("reads"),
            schema
        );

        let map = SharedSchema::new(
            json!({"type": "object", "additionalProperties": {"type": "integer"}}),
        );
        assert!(map.openai_strict().is_err());
        assert_eq!(
            map.openai_strict(),
            map.openai_strict(),
            "the error is kept too"
        );
    }
}
