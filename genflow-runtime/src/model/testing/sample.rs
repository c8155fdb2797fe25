//! A value valid for a JSON Schema, made up from the schema alone (what the local test model
//! answers with).

use serde_json::{Map, Value, json};

/// How deep `$ref` recursion may go before optional parts are left out.
const MAX_DEPTH: usize = 8;

/// A value valid for `schema` (best effort for `pattern`s and exotic keywords).
pub(crate) fn sample(schema: &Value) -> Value {
    Sampler { root: schema }.value(schema, 0)
}

struct Sampler<'a> {
    root: &'a Value,
}

impl Sampler<'_> {
    fn value(&self, schema: &Value, depth: usize) -> Value {
        let Some(map) = schema.as_object() else {
            // `true` or `{}`-like: anything goes.
            return Value::Null;
        };
        if let Some(target) = map
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
        {
            return self.value(target, depth + 1);
        }
        if let Some(c) = map.get("const") {
            return c.clone();
        }
        if let Some(first) = map
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = map.get(key).and_then(Value::as_array) {
                // Prefer a non-null branch, so optional values are shown filled in.
                let branch = branches
                    .iter()
                    .find(|b| b.get("type") != Some(&json!("null")))
                    .or(branches.first());
                if let Some(branch) = branch {
                    return self.value(branch, depth + 1);
                }
            }
        }
        if let Some(all) = map.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in all {
                if let Value::Object(obj) = self.value(part, depth + 1) {
                    merged.extend(obj);
                }
            }
            return Value::Object(merged);
        }
        match self.type_of(map) {
            "object" => self.object(map, depth),
            "array" => {
                let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
                let count = if depth >= MAX_DEPTH { min } else { min.max(1) };
                let items = map.get("items").cloned().unwrap_or(Value::Bool(true));
                Value::Array((0..count).map(|_| self.value(&items, depth + 1)).collect())
            }
            "string" => string(map),
            "integer" => json!(number(map).ceil() as i64),
            "number" => json!(number(map)),
            "boolean" => json!(true),
            _ => Value::Null,
        }
    }

    fn type_of<'m>(&self, map: &'m Map<String, Value>) -> &'m str {
        match map.get("type") {
            Some(Value::String(t)) => t,
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if map.contains_key("properties") => "object",
            _ => "null",
        }
    }

    fn object(&self, map: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                if depth < MAX_DEPTH || required.contains(&name.as_str()) {
                    out.insert(name.clone(), self.value(prop, depth + 1));
                }
            }
        }
        Value::Object(out)
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        if reference == "#" {
            return Some(self.root);
        }
        let pointer = reference.strip_prefix('#')?;
        self.root.pointer(pointer)
    }
}

fn string(map: &Map<String, Value>) -> Value {
    let base = match map.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "00:00:00Z",
        Some("duration") => "P1D",
        Some("email") => "test@example.com",
        Some("hostname") => "example.com",
        Some("ipv4") => "127.0.0.1",
        Some("ipv6") => "::1",
        Some("uuid") => "00000000-0000-0000-0000-000000000000",
        Some("uri") => "https://example.com/",
        _ => "a",
    };
    let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut text = base.to_owned();
    while text.chars().count() < min {
        text.push('a');
    }
    Value::String(text)
}

fn number(map: &Map<String, Value>) -> f64 {
    let get = |k: &str| map.get(k).and_then(Value::as_f64);
    let low = get("minimum")
        .or_else(|| get("exclusiveMinimum").map(|m| m.floor() + 1.0))
        .unwrap_or(0.0);
    let high = get("maximum").or_else(|| get("exclusiveMaximum").map(|m| m.ceil() - 1.0));
    match high {
        Some(high) if high < low => high,
        _ => low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_of;
    use schemars::JsonSchema;

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    enum Mood {
        Happy,
        Sad,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Tree {
        label: String,
        children: Vec<Tree>,
        mood: Mood,
        score: Option<u8>,
        #[schemars(range(min = 3, max = 9))]
        level: i32,
        at: Option<Inner>,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Inner {
        #[schemars(length(min = 4))]
        code: String,
    }

    #[test]
    fn samples_validate_against_their_schema() {
        let schema = schema_of::<Tree>();
        let value = sample(&schema);
        let validator = crate::validate::Validator::new(&schema).expect("compiles");
        let errors = validator.violations(&value);
        assert!(errors.is_empty(), "{value}: {errors:?}");
        assert_eq!(value["level"], 3);
        assert_eq!(value["mood"], "Happy");
    }
}
