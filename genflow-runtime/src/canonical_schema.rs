//! [`CanonicalSchema`]: one draft 2020-12 JSON Schema shared by reference, with the JSON text
//! that embeds it in a larger document made once.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A canonical (draft 2020-12) JSON Schema, shared by reference.
///
/// Cloning copies a pointer. The schema's embeddable JSON text ([`embeddable_json`]) is made on
/// first use and kept for the schema's lifetime, so a document that embeds it (such as a
/// model request offering a tool) copies the text instead of serializing the tree again.
/// Serializes as the schema itself.
///
/// [`embeddable_json`]: CanonicalSchema::embeddable_json
#[derive(Clone)]
pub struct CanonicalSchema(Arc<Shared>);

struct Shared {
    canonical: Value,
    embeddable_json: OnceLock<Box<RawValue>>,
}

impl CanonicalSchema {
    /// Wraps a canonical schema.
    pub fn new(canonical: Value) -> Self {
        CanonicalSchema(Arc::new(Shared {
            canonical,
            embeddable_json: OnceLock::new(),
        }))
    }

    /// The schema.
    pub fn value(&self) -> &Value {
        &self.0.canonical
    }

    /// The schema as JSON text without `$schema`, the keyword a schema embedded in another
    /// document must not carry.
    pub fn embeddable_json(&self) -> &RawValue {
        self.0
            .embeddable_json
            .get_or_init(|| json_text(&without_meta_schema(&self.0.canonical)))
    }
}

/// `schema` without its `$schema` keyword.
pub(crate) fn without_meta_schema(schema: &Value) -> Value {
    let mut out = schema.clone();
    if let Some(map) = out.as_object_mut() {
        map.remove("$schema");
    }
    out
}

/// The JSON text of `value`.
pub(crate) fn json_text(value: &Value) -> Box<RawValue> {
    // A `Value` always serializes; `null` stands in for the impossible failure.
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl From<Value> for CanonicalSchema {
    fn from(canonical: Value) -> Self {
        CanonicalSchema::new(canonical)
    }
}

impl PartialEq for CanonicalSchema {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.canonical == other.0.canonical
    }
}

impl fmt::Debug for CanonicalSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.canonical.fmt(f)
    }
}

impl Serialize for CanonicalSchema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.canonical.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CanonicalSchema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(CanonicalSchema::new)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_embeddable_text_is_made_once_and_serialization_is_transparent() {
        let schema = CanonicalSchema::new(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"a": {"type": "string"}},
        }));
        assert_eq!(
            schema.embeddable_json().get(),
            r#"{"properties":{"a":{"type":"string"}},"type":"object"}"#
        );
        assert!(std::ptr::eq(
            schema.embeddable_json(),
            schema.clone().embeddable_json()
        ));
        assert_eq!(schema.value()["type"], "object");
        let text = serde_json::to_string(&schema).expect("serializes");
        assert!(text.contains("$schema"), "{text}");
        assert_eq!(
            serde_json::from_str::<CanonicalSchema>(&text).expect("reads"),
            schema
        );
    }
}
