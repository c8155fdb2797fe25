//! [`Constraint`]: an output JSON Schema compiled by llguidance to a grammar that allows, at each
//! step, only the tokens that keep the reply a valid prefix of a value the schema accepts.

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{SimpleVob, TokEnv, TokenId};
use llguidance::{Matcher, ParserFactory};
use serde_json::{Value, json};

use super::error::{LocalModelError, generation};

/// Compiles schemas against one tokenizer.
pub(crate) struct Grammars(ParserFactory);

/// One reply's grammar state.
pub(crate) struct Constraint(Matcher);

impl Grammars {
    /// For the tokenizer `env`.
    pub(crate) fn new(env: &TokEnv) -> Result<Self, LocalModelError> {
        let mut factory = ParserFactory::new_simple(env).map_err(generation)?;
        factory.quiet();
        Ok(Grammars(factory))
    }

    /// The grammar of `schema`; keywords llguidance cannot enforce fail here, before any token
    /// is generated. JSON is compact (no optional whitespace), so a model cannot pad forever.
    pub(crate) fn constraint(&self, schema: &Value) -> Result<Constraint, LocalModelError> {
        let mut schema = schema.clone();
        if let Some(object) = schema.as_object_mut() {
            object.insert(
                "x-guidance".to_owned(),
                json!({ "whitespace_flexible": false }),
            );
        }
        let parser = self
            .0
            .create_parser(TopLevelGrammar::from_json_schema(schema))
            .map_err(|e| LocalModelError::UnsupportedSchema(e.to_string()))?;
        let matcher = Matcher::new(Ok(parser));
        match matcher.get_error() {
            Some(e) => Err(LocalModelError::UnsupportedSchema(e)),
            None => Ok(Constraint(matcher)),
        }
    }
}

impl Constraint {
    /// The tokens allowed next (the end-of-sequence token once the value is complete).
    pub(crate) fn allowed(&mut self) -> Result<SimpleVob, LocalModelError> {
        self.0.compute_mask().map_err(generation)
    }

    /// Advances past `token`.
    pub(crate) fn consume(&mut self, token: TokenId) -> Result<(), LocalModelError> {
        self.0.consume_token(token).map_err(generation)
    }

    /// Whether the value is complete and nothing may follow.
    pub(crate) fn is_finished(&self) -> bool {
        self.0.is_stopped()
    }
}
