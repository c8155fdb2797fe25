//! JSON Schemas of action inputs, outputs and chunks, generated once per action and cached.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use crate::FlowError;
use crate::canonical_schema::CanonicalSchema;
use crate::contract::{FlowInput, FlowOutput, StreamChunk, ToolParam};
use crate::error::Violation;
use crate::validate::{Validator, pointer_segment};

/// The canonical (draft 2020-12) schemas of one action, and the compiled input validator.
///
/// The macros keep one of these per action in a `OnceLock`, so schemas are generated on first
/// use (the registry forces that at start-up), never per call.
pub struct ActionSchemas {
    input: CanonicalSchema,
    output: Value,
    chunk: Option<Value>,
    validator: Result<Validator, String>,
}

impl ActionSchemas {
    /// Generates the schemas of `I`, `O` and, for streaming actions, `C`.
    pub fn generate<I: FlowInput, O: FlowOutput, C: StreamChunk>(streaming: bool) -> Self {
        let input = schema_of::<I>();
        let validator = Validator::new(&input).map_err(|e| e.to_string());
        ActionSchemas {
            input: CanonicalSchema::new(input),
            output: schema_of::<O>(),
            chunk: streaming.then(schema_of::<C>),
            validator,
        }
    }

    /// Schemas given as JSON at run time (such as an MCP server's tool's), kept as given.
    pub fn from_json(input: Value, output: Value) -> Self {
        let validator = Validator::new(&input).map_err(|e| e.to_string());
        ActionSchemas {
            input: CanonicalSchema::new(input),
            output,
            chunk: None,
            validator,
        }
    }

    /// The input schema.
    pub fn input(&self) -> &Value {
        self.input.value()
    }

    /// The input schema shared by reference (a clone copies a pointer), as a tool offers it to
    /// models: its embeddable JSON text is made once per action, not per request.
    pub fn shared_input(&self) -> &CanonicalSchema {
        &self.input
    }

    /// The output schema.
    pub fn output(&self) -> &Value {
        &self.output
    }

    /// The chunk schema of a streaming action.
    pub fn chunk(&self) -> Option<&Value> {
        self.chunk.as_ref()
    }

    /// Why the input schema could not be compiled, if it could not.
    pub fn validator_error(&self) -> Option<&str> {
        self.validator.as_ref().err().map(String::as_str)
    }

    /// Checks `input` against the input schema, listing every violation with its JSON pointer.
    /// An input schema that does not compile refuses every input (the registry refuses such an
    /// action when it is built; this covers actions run without one, such as a model's tools).
    pub fn validate_input(&self, input: &Value) -> Result<(), FlowError> {
        let validator = self.validator.as_ref().map_err(|reason| {
            FlowError::internal(format!("the input schema does not compile: {reason}"))
        })?;
        let violations = validator.violations(input);
        if violations.is_empty() {
            return Ok(());
        }
        Err(FlowError::invalid_input(violations))
    }
}

/// The draft 2020-12 schema of `T` as JSON, with the ranges of Rust's integer types spelled
/// out (so that what validates also decodes, and callers reading the schema know the bounds).
pub fn schema_of<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(integer_range))
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// Adds `minimum`/`maximum` to an integer schema whose `format` names a Rust integer type
/// that schemars leaves unbounded (`int32`, `uint32`, `int64`, `uint64`, `int`, `uint`);
/// a bound the schema already declares stays.
fn integer_range(schema: &mut Schema) {
    let (min, max): (Value, Value) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (i32::MIN.into(), i32::MAX.into()),
        Some("uint32") => (0.into(), u32::MAX.into()),
        Some("int64" | "int") => (i64::MIN.into(), i64::MAX.into()),
        Some("uint64" | "uint") => (0.into(), u64::MAX.into()),
        _ => return,
    };
    if schema.get("type").and_then(Value::as_str) != Some("integer") {
        return;
    }
    for (keyword, bound) in [("minimum", min), ("maximum", max)] {
        if schema.get(keyword).is_none() {
            schema.insert(keyword.to_owned(), bound);
        }
    }
}

/// One parameter of a tool with named parameters, as the generated argument struct describes it.
#[doc(hidden)]
pub struct ArgField {
    /// The JSON property name.
    pub name: &'static str,
    /// The parameter's doc comment.
    pub description: Option<&'static str>,
    /// Whether the property must be present (every parameter but an `Option`).
    pub required: bool,
    /// The parameter type's schema.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
}

/// The schema of one tool parameter's type.
#[doc(hidden)]
pub fn param_schema<T: ToolParam>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The object schema of a generated argument struct. Written by hand rather than derived so
/// that the generated code needs nothing from the caller's scope (not even the prelude).
#[doc(hidden)]
pub fn args_schema(generator: &mut SchemaGenerator, fields: &[ArgField]) -> Schema {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        let mut schema = (field.schema)(generator);
        if let Some(description) = field.description {
            schema.insert("description".to_owned(), Value::from(description));
        }
        properties.insert(field.name.to_owned(), schema.to_value());
        if field.required {
            required.push(Value::from(field.name));
        }
    }
    let mut object = Map::new();
    object.insert("type".to_owned(), Value::from("object"));
    object.insert("properties".to_owned(), Value::Object(properties));
    object.insert("required".to_owned(), Value::Array(required));
    Schema::from(object)
}

/// Deserializes `value` into `T`, reporting the JSON pointer of the first mismatch.
pub fn decode<T: serde::de::DeserializeOwned>(mut value: Value) -> Result<T, FlowError> {
    integral_floats_to_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(invalid_input)
}

/// [`decode`] from a borrowed value (no copy of the tree unless it holds integral floats and
/// the first attempt fails).
#[cfg(feature = "models")]
pub(crate) fn decode_ref<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, FlowError> {
    serde_path_to_error::deserialize(value).or_else(|error| {
        let mut value = value.clone();
        if integral_floats_to_integers(&mut value) {
            serde_path_to_error::deserialize(value).map_err(invalid_input)
        } else {
            Err(invalid_input(error))
        }
    })
}

/// JSON Schema counts `2.0` as an integer and serde's integer types refuse it: integral floats
/// in `i64`/`u64` range become integers, so that what validates also decodes (a float field
/// still reads `2` as `2.0`). Whether any number changed.
fn integral_floats_to_integers(value: &mut Value) -> bool {
    match value {
        Value::Number(number) => {
            let Some(float) = number.as_f64().filter(|_| number.is_f64()) else {
                return false;
            };
            // 2^63 and 2^64: the ranges of i64 and u64, exactly representable as f64.
            const I64_END: f64 = 9_223_372_036_854_775_808.0;
            const U64_END: f64 = 18_446_744_073_709_551_616.0;
            if float.fract() != 0.0 || !(-I64_END..U64_END).contains(&float) {
                return false;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "integral and in range, checked above"
            )]
            let integer = if float < 0.0 {
                Value::from(float as i64)
            } else {
                Value::from(float as u64)
            };
            *value = integer;
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| {
            integral_floats_to_integers(item) | changed
        }),
        Value::Object(fields) => fields.values_mut().fold(false, |changed, field| {
            integral_floats_to_integers(field) | changed
        }),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}

/// The `INVALID_ARGUMENT` error of a failed decode, naming where it failed.
fn invalid_input(error: serde_path_to_error::Error<serde_json::Error>) -> FlowError {
    let path = pointer_of(error.path());
    FlowError::invalid_input(vec![Violation {
        path,
        message: error.into_inner().to_string(),
    }])
}

/// Converts a serde path (`context[1].text`) into a JSON pointer (`/context/1/text`).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&pointer_segment(key));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Query {
        question: String,
        #[serde(default)]
        context: Vec<String>,
        inner: Option<Inner>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        limit: u32,
    }

    #[derive(Deserialize, JsonSchema)]
    struct Numbers {
        count: u32,
        offset: i64,
        ratio: f64,
        list: Vec<u64>,
    }

    #[test]
    fn integral_floats_validate_and_decode_as_integers() {
        let schemas = ActionSchemas::generate::<Numbers, (), ()>(false);
        let input = json!({"count": 2.0, "offset": -3.0, "ratio": 1.0, "list": [0.0, 1e15]});
        schemas
            .validate_input(&input)
            .expect("integers to JSON Schema");
        let numbers: Numbers = decode(input).expect("and to serde");
        assert_eq!(
            (numbers.count, numbers.offset, numbers.ratio, numbers.list),
            (2, -3, 1.0, vec![0, 1_000_000_000_000_000])
        );
        let too_big = json!({"count": 4_294_967_296_u64, "offset": 0, "ratio": 0, "list": []});
        let err = schemas.validate_input(&too_big).err();
        assert!(err.is_some_and(|e| e.to_string().contains("/count")));
        assert_eq!(schemas.input()["properties"]["count"]["maximum"], u32::MAX);
        assert_eq!(
            schemas.input()["properties"]["list"]["items"]["maximum"],
            u64::MAX
        );
        let fraction = json!({"count": 2.5, "offset": 0, "ratio": 0.5, "list": []});
        assert!(schemas.validate_input(&fraction).is_err());
        let err = decode::<Numbers>(fraction).err().expect("not an integer");
        assert_eq!(err.status(), Status::InvalidArgument);
    }

    #[cfg(feature = "models")]
    #[test]
    fn borrowed_decoding_reads_integral_floats_too() {
        let reply = json!({"count": 3.0, "offset": 1, "ratio": 2, "list": [4.0]});
        let numbers: Numbers = decode_ref(&reply).expect("decodes");
        assert_eq!((numbers.count, numbers.list), (3, vec![4]));
        let err = decode_ref::<Numbers>(&json!({"count": 3.5})).err();
        assert!(err.is_some_and(|e| e.to_string().contains("count")));
    }

    #[test]
    fn validation_reports_every_violation_by_pointer() {
        let schemas = ActionSchemas::generate::<Query, (), ()>(false);
        assert!(schemas.validator_error().is_none());
        assert!(schemas.chunk().is_none());
        let err = schemas
            .validate_input(&json!({"question": 3, "context": ["a", 7]}))
            .expect_err("two violations");
        assert_eq!(err.status(), Status::InvalidArgument);
        let paths: Vec<&str> = err.details().expect("details")["errors"]
            .as_array()
            .expect("errors array")
            .iter()
            .filter_map(|v| v["path"].as_str())
            .collect();
        assert!(paths.contains(&"/question"), "{paths:?}");
        assert!(paths.contains(&"/context/1"), "{paths:?}");
        schemas
            .validate_input(&json!({"question": "why?"}))
            .expect("valid input");
    }

    #[test]
    fn decode_names_the_json_path() {
        let err = decode::<Query>(json!({"question": "q", "inner": {"limit": "ten"}}))
            .err()
            .expect("limit is not a number");
        assert_eq!(
            err.details().and_then(|d| d.pointer("/errors/0/path")),
            Some(&json!("/inner/limit"))
        );
    }
}
