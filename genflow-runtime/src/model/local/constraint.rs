//! [`Constraint`]: an output JSON Schema compiled by llguidance to a grammar that allows, at each
//! step, only the tokens that keep the reply a valid prefix of a value the schema accepts.

use std::sync::Arc;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{SimpleVob, TokEnv, TokenId};
use llguidance::{Matcher, ParserFactory};
use serde_json::{Map, Value, json};

use super::digits::{DigitRun, DigitTokens};
use super::error::{LocalModelError, generation};

/// Compiles schemas against one tokenizer.
pub(crate) struct Grammars {
    factory: ParserFactory,
    digits: Arc<DigitTokens>,
}

/// One reply's grammar state, and the digits its numbers may still take.
pub(crate) struct Constraint {
    matcher: Matcher,
    digits: Arc<DigitTokens>,
    run: DigitRun,
}

impl Grammars {
    /// For the tokenizer `env`.
    pub(crate) fn new(env: &TokEnv) -> Result<Self, LocalModelError> {
        let mut factory = ParserFactory::new_simple(env).map_err(generation)?;
        factory.quiet();
        Ok(Grammars {
            factory,
            digits: Arc::new(DigitTokens::new(env.tok_trie())),
        })
    }

    /// The grammar of `schema`; keywords llguidance cannot enforce fail here, before any token
    /// is generated. JSON is compact (no optional whitespace) and objects that do not say
    /// whether other properties are allowed get none (see [`close_objects`]), so a model
    /// cannot pad forever; numbers take at most [`MAX_DIGITS`](super::digits::MAX_DIGITS)
    /// digits per part, so a reply cannot write digits forever either; what the grammar
    /// allows still validates.
    pub(crate) fn constraint(&self, schema: &Value) -> Result<Constraint, LocalModelError> {
        let mut schema = schema.clone();
        close_objects(&mut schema);
        if let Some(object) = schema.as_object_mut() {
            object.insert(
                "x-guidance".to_owned(),
                json!({ "whitespace_flexible": false }),
            );
        }
        let parser = self
            .factory
            .create_parser(TopLevelGrammar::from_json_schema(schema))
            .map_err(|e| LocalModelError::UnsupportedSchema(e.to_string()))?;
        let matcher = Matcher::new(Ok(parser));
        match matcher.get_error() {
            Some(e) => Err(LocalModelError::UnsupportedSchema(e)),
            None => Ok(Constraint {
                matcher,
                digits: Arc::clone(&self.digits),
                run: DigitRun::default(),
            }),
        }
    }
}

/// Sets `additionalProperties: false` on the object schemas in `schema` that list
/// `properties` and leave other properties open (no `additionalProperties`,
/// `patternProperties` or `unevaluatedProperties`), except the members of an `allOf`, whose
/// properties combine.
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let open = [
                "additionalProperties",
                "patternProperties",
                "unevaluatedProperties",
            ]
            .iter()
            .all(|k| !map.contains_key(*k));
            if open && map.contains_key("properties") {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            close_within(map);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// [`close_objects`] on the subschemas of the schema `map`.
fn close_within(map: &mut Map<String, Value>) {
    for (key, value) in map.iter_mut() {
        match (key.as_str(), value) {
            ("allOf", Value::Array(members)) => members
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(close_within),
            (
                "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas",
                Value::Object(named),
            ) => named.values_mut().for_each(close_objects),
            ("enum" | "const" | "default" | "examples", _) => {}
            (_, value) => close_objects(value),
        }
    }
}

impl Constraint {
    /// The tokens allowed next (the end-of-sequence token once the value is complete).
    pub(crate) fn allowed(&mut self) -> Result<SimpleVob, LocalModelError> {
        let mut mask = self.matcher.compute_mask().map_err(generation)?;
        self.run.cap(&self.digits, &mut mask);
        Ok(mask)
    }

    /// Advances past `token`, whose text is `bytes`.
    pub(crate) fn consume(&mut self, token: TokenId, bytes: &[u8]) -> Result<(), LocalModelError> {
        self.run.push(bytes);
        self.matcher.consume_token(token).map_err(generation)
    }

    /// Whether the value is complete and nothing may follow.
    pub(crate) fn is_finished(&self) -> bool {
        self.matcher.is_stopped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_objects_close_except_in_all_of_and_values() {
        let mut schema = json!({
            "type": "object",
            "properties": { "a": { "properties": { "properties": {} } } },
            "allOf": [{ "properties": { "c": { "properties": {} } } }],
            "const": { "properties": {} },
            "$defs": { "D": { "properties": {}, "patternProperties": {} } }
        });
        close_objects(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": { "a": {
                    "properties": { "properties": {} }, "additionalProperties": false
                } },
                "allOf": [{ "properties": { "c": {
                    "properties": {}, "additionalProperties": false
                } } }],
                "const": { "properties": {} },
                "$defs": { "D": { "properties": {}, "patternProperties": {} } },
                "additionalProperties": false
            })
        );
    }
}
