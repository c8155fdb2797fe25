//! [`SchemaDialects`]: a canonical schema with the provider dialects derived from it, each once.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::dialect::{self, DialectError};
use crate::CanonicalSchema;
use crate::canonical_schema::json_text;

/// A structured-output schema as offered to models: the canonical schema and the provider
/// dialects derived from it.
///
/// Cloning copies a pointer, so requests carrying it are cheap to clone, and each dialect
/// ([`openai_strict`](SchemaDialects::openai_strict)) is derived on first use and kept for the
/// schema's lifetime, with its JSON text, so request bodies copy the text instead of
/// serializing the tree again. Serializes as the canonical schema.
#[derive(Clone)]
pub struct SchemaDialects(Arc<Dialects>);

struct Dialects {
    canonical: CanonicalSchema,
    openai_strict: OnceLock<Result<Dialect, DialectError>>,
}

/// One dialect of the schema and its JSON text.
struct Dialect {
    value: Value,
    text: Box<RawValue>,
}

impl SchemaDialects {
    /// Wraps a canonical (draft 2020-12) schema.
    pub fn new(canonical: Value) -> Self {
        SchemaDialects(Arc::new(Dialects {
            canonical: CanonicalSchema::new(canonical),
            openai_strict: OnceLock::new(),
        }))
    }

    /// The canonical schema.
    pub fn value(&self) -> &Value {
        self.0.canonical.value()
    }

    /// The canonical schema as JSON text to embed in a request (see
    /// [`CanonicalSchema::embeddable_json`]).
    pub fn embeddable_json(&self) -> &RawValue {
        self.0.canonical.embeddable_json()
    }

    /// OpenAI's strict dialect of the schema (the rules are in the model layer's
    /// "Structured output" docs).
    pub fn openai_strict(&self) -> Result<&Value, DialectError> {
        self.openai_strict_dialect().map(|d| &d.value)
    }

    /// [`openai_strict`](SchemaDialects::openai_strict) as JSON text.
    pub fn openai_strict_json(&self) -> Result<&RawValue, DialectError> {
        self.openai_strict_dialect().map(|d| &*d.text)
    }

    fn openai_strict_dialect(&self) -> Result<&Dialect, DialectError> {
        self.0
            .openai_strict
            .get_or_init(|| {
                dialect::openai_strict(self.value()).map(|value| Dialect {
                    text: json_text(&value),
                    value,
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl From<Value> for SchemaDialects {
    fn from(canonical: Value) -> Self {
        SchemaDialects::new(canonical)
    }
}

impl PartialEq for SchemaDialects {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.canonical == other.0.canonical
    }
}

impl fmt::Debug for SchemaDialects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.canonical.fmt(f)
    }
}

impl Serialize for SchemaDialects {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.canonical.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SchemaDialects {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(SchemaDialects::new)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dialects_are_derived_once_and_serialization_is_transparent() {
        let schema = SchemaDialects::new(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"a": {"type": "string"}},
        }));
        assert!(std::ptr::eq(
            schema.embeddable_json(),
            schema.clone().embeddable_json()
        ));
        let strict = schema.openai_strict().expect("expressible");
        assert_eq!(strict.get("$schema"), None);
        assert_eq!(strict["additionalProperties"], json!(false));
        assert!(std::ptr::eq(
            strict,
            schema.clone().openai_strict().expect("cached")
        ));
        assert_eq!(
            serde_json::from_str::<Value>(schema.openai_strict_json().expect("text").get())
                .expect("json"),
            *strict
        );
        let text = serde_json::to_string(&schema).expect("serializes");
        assert_eq!(
            serde_json::from_str::<SchemaDialects>(&text).expect("reads"),
            schema
        );

        let map = SchemaDialects::new(
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
