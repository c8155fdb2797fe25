//! JSON Schema (draft 2020-12) validation of action inputs and model replies.
//!
//! A [`Validator`] checks the schema once when it is built (patterns compiled, references
//! resolvable, keyword values well-formed, no keyword it cannot honour) and then walks the
//! schema and the value together, reporting every violation with the JSON pointer of the
//! offending value. It covers the vocabulary schemars emits and the rest of the 2020-12
//! applicator and validation vocabularies; formats are annotations (serde's decoding checks
//! typed formats), and unknown keywords (such as `x-` extensions) are ignored, as the
//! specification says. References are JSON pointers into the same schema; `$id`/`$anchor`
//! references, remote ones, `$dynamicRef` and `unevaluatedItems` are refused. The official
//! JSON-Schema-Test-Suite runs against it in `tests/json_schema_suite.rs`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::Violation;

/// Keywords genflow cannot honour: a schema using them is refused rather than half-checked.
const UNSUPPORTED: &[&str] = &["$dynamicRef", "$recursiveRef", "unevaluatedItems"];

/// How many `$ref`s one check may follow in a row without descending into the value.
const MAX_REF_DEPTH: usize = 64;

/// The longest rendering of a value inside a message.
const MAX_SHOWN: usize = 80;

/// Why a schema cannot be used for validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at '{path}': {reason}")]
pub struct SchemaError {
    /// JSON pointer into the schema.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// A compiled schema.
#[derive(Debug)]
pub struct Validator {
    root: Value,
    patterns: HashMap<String, regex_lite::Regex>,
    /// Whether any subschema says `unevaluatedProperties`: only then are the properties each
    /// subschema evaluated collected.
    tracks_evaluated: bool,
}

impl Validator {
    /// Checks `schema` and compiles its patterns.
    pub fn new(schema: &Value) -> Result<Validator, SchemaError> {
        let mut check = Check {
            root: schema,
            patterns: HashMap::new(),
            followed: HashSet::new(),
            first_ref: None,
            embedded: None,
        };
        check.schema(schema, "")?;
        if let (Some(reference), Some(id)) = (&check.first_ref, &check.embedded) {
            return Err(fail(
                reference,
                &format!(
                    "'$ref' in a schema with an embedded resource ('$id' at '{id}') is not supported"
                ),
            ));
        }
        Ok(Validator {
            root: schema.clone(),
            patterns: check.patterns,
            tracks_evaluated: mentions(schema, "unevaluatedProperties"),
        })
    }

    /// Every violation in `value`, in document order.
    pub fn violations(&self, value: &Value) -> Vec<Violation> {
        let mut run = Run {
            validator: self,
            violations: Vec::new(),
            refs: 0,
        };
        run.node(&self.root, value, &mut String::new());
        run.violations
    }
}

/// Whether `keyword` appears as a key anywhere in `schema`.
fn mentions(schema: &Value, keyword: &str) -> bool {
    match schema {
        Value::Object(map) => {
            map.contains_key(keyword) || map.values().any(|v| mentions(v, keyword))
        }
        Value::Array(items) => items.iter().any(|v| mentions(v, keyword)),
        _ => false,
    }
}

/// `segment` escaped for a JSON pointer (RFC 6901: `~` as `~0`, `/` as `~1`).
pub(crate) fn pointer_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    push_segment(&mut out, segment);
    out
}

/// Appends `segment` to a JSON pointer, escaped (without allocating when it needs no escape).
fn push_segment(pointer: &mut String, segment: &str) {
    if !segment.contains(['~', '/']) {
        pointer.push_str(segment);
        return;
    }
    for c in segment.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// One step of a JSON pointer into a value: an object's key or an array's index.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The walk over a schema before use: patterns compile, references resolve, every keyword
/// genflow honours has a value of the shape the specification gives it, and no unsupported
/// keyword appears. A schema that fails is refused, never half-checked.
struct Check<'a> {
    root: &'a Value,
    patterns: HashMap<String, regex_lite::Regex>,
    /// The references already followed (a target only reachable through a `$ref`, such as one
    /// under an unknown keyword, is checked too).
    followed: HashSet<&'a str>,
    /// Where the first `$ref` is.
    first_ref: Option<String>,
    /// Where the first subschema with its own `$id` (an embedded resource) is: references
    /// resolve against the root only, so a schema with both is refused.
    embedded: Option<String>,
}

impl<'a> Check<'a> {
    fn schema(&mut self, schema: &'a Value, path: &str) -> Result<(), SchemaError> {
        let Value::Object(map) = schema else {
            return match schema {
                Value::Bool(_) => Ok(()),
                _ => Err(fail(path, "a schema must be an object or a boolean")),
            };
        };
        for keyword in UNSUPPORTED {
            if map.contains_key(*keyword) {
                return Err(fail(
                    path,
                    &format!("the keyword '{keyword}' is not supported"),
                ));
            }
        }
        if map.contains_key("$id") && !std::ptr::eq(schema, self.root) {
            self.embedded.get_or_insert_with(|| path.to_owned());
        }
        for (keyword, value) in map {
            if let Err(shape) = shape(keyword, value) {
                let at = format!("{path}/{}", pointer_segment(keyword));
                return Err(fail(&at, &format!("'{keyword}' must be {shape}")));
            }
        }
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            self.reference(reference, path)?;
        }
        if let Some(pattern) = map.get("pattern").and_then(Value::as_str) {
            self.compile(pattern, &format!("{path}/pattern"))?;
        }
        if let Some(Value::Object(by_pattern)) = map.get("patternProperties") {
            for pattern in by_pattern.keys() {
                self.compile(pattern, &format!("{path}/patternProperties"))?;
            }
        }
        for (keyword, sub) in map {
            let at = format!("{path}/{}", pointer_segment(keyword));
            match (keyword.as_str(), sub) {
                (
                    "properties" | "patternProperties" | "$defs" | "definitions"
                    | "dependentSchemas",
                    Value::Object(children),
                ) => {
                    for (name, child) in children {
                        self.schema(child, &format!("{at}/{}", pointer_segment(name)))?;
                    }
                }
                ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(children)) => {
                    for (i, child) in children.iter().enumerate() {
                        self.schema(child, &format!("{at}/{i}"))?;
                    }
                }
                (
                    "items"
                    | "additionalProperties"
                    | "unevaluatedProperties"
                    | "propertyNames"
                    | "contains"
                    | "not"
                    | "if"
                    | "then"
                    | "else",
                    child,
                ) => self.schema(child, &at)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Resolves a `$ref` and checks its target, once per reference.
    fn reference(&mut self, reference: &'a str, path: &str) -> Result<(), SchemaError> {
        self.first_ref.get_or_insert_with(|| path.to_owned());
        let Some(target) = resolve(self.root, reference) else {
            return Err(fail(
                path,
                &format!(
                    "'$ref' \"{reference}\" does not point into this schema (only '#...' references are supported)"
                ),
            ));
        };
        if self.followed.insert(reference) {
            self.schema(target, &format!("{path}/$ref"))?;
        }
        Ok(())
    }

    fn compile(&mut self, pattern: &str, at: &str) -> Result<(), SchemaError> {
        if !self.patterns.contains_key(pattern) {
            let regex = regex_lite::Regex::new(pattern).map_err(|e| {
                fail(
                    at,
                    &format!("the pattern {pattern:?} does not compile: {e}"),
                )
            })?;
            self.patterns.insert(pattern.to_owned(), regex);
        }
        Ok(())
    }
}

/// Whether a keyword's value has the shape the specification gives it; if not, the shape.
/// Unknown keywords have no shape.
fn shape(keyword: &str, value: &Value) -> Result<(), &'static str> {
    let (holds, shape) = match keyword {
        "$ref" | "pattern" => (value.is_string(), "a string"),
        "type" => (
            match value {
                Value::String(name) => TYPES.contains(&name.as_str()),
                Value::Array(names) => {
                    !names.is_empty()
                        && names
                            .iter()
                            .all(|n| n.as_str().is_some_and(|n| TYPES.contains(&n)))
                }
                _ => false,
            },
            "a type name or a non-empty list of them",
        ),
        "enum" => (value.is_array(), "an array"),
        "required" => (strings(value), "an array of strings"),
        "allOf" | "anyOf" | "oneOf" | "prefixItems" => (
            value.as_array().is_some_and(|a| !a.is_empty()),
            "a non-empty array of schemas",
        ),
        "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
            (value.is_object(), "an object of schemas")
        }
        "dependentRequired" => (
            value.as_object().is_some_and(|m| m.values().all(strings)),
            "an object of arrays of strings",
        ),
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties"
        | "minContains" | "maxContains" => (as_count(value).is_some(), "a non-negative integer"),
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
            (value.is_number(), "a number")
        }
        "multipleOf" => (
            value.as_f64().is_some_and(|m| m > 0.0),
            "a number greater than 0",
        ),
        "uniqueItems" => (value.is_boolean(), "a boolean"),
        _ => (true, ""),
    };
    if holds { Ok(()) } else { Err(shape) }
}

/// The type names of the `type` keyword.
const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];

/// Whether `value` is an array of strings.
fn strings(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|a| a.iter().all(Value::is_string))
}

/// A count bound (`minItems`, `maxLength`, ...): a non-negative integer, which JSON may write
/// as `2.0`.
fn as_count(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

fn fail(path: &str, reason: &str) -> SchemaError {
    SchemaError {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The schema a local reference (`#`, `#/$defs/Name`) points at.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let decoded: String = percent_decode(pointer)?;
    root.pointer(&decoded)
}

fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A numeric bound: its keyword, whether a number satisfies it, and the words of a violation.
type Bound = (&'static str, fn(f64, f64) -> bool, &'static str);

/// One validation pass.
struct Run<'v> {
    validator: &'v Validator,
    violations: Vec<Violation>,
    refs: usize,
}

/// The properties of an object that a schema evaluated (for `unevaluatedProperties`).
type Evaluated = HashSet<String>;

impl Run<'_> {
    fn report(&mut self, path: &str, message: String) {
        self.violations.push(Violation {
            path: path.to_owned(),
            message,
        });
    }

    /// What each of `schemas` that `value` passes evaluated (an `anyOf` / `oneOf` list).
    fn passing(&mut self, schemas: &[Value], value: &Value, path: &mut String) -> Vec<Evaluated> {
        schemas
            .iter()
            .filter_map(|schema| self.passes(schema, value, path))
            .collect()
    }

    /// Whether `value` is valid under `schema`, without reporting.
    fn passes(&mut self, schema: &Value, value: &Value, path: &mut String) -> Option<Evaluated> {
        let mut trial = Run {
            validator: self.validator,
            violations: Vec::new(),
            refs: self.refs,
        };
        let evaluated = trial.node(schema, value, path);
        trial.violations.is_empty().then_some(evaluated)
    }

    /// Validates `value` at `path` against `schema`; returns the properties it evaluated.
    fn node(&mut self, schema: &Value, value: &Value, path: &mut String) -> Evaluated {
        let mut evaluated = Evaluated::new();
        let map = match schema {
            Value::Bool(true) => return evaluated,
            Value::Bool(false) => {
                self.report(path, format!("{} is not allowed here", shown(value)));
                return evaluated;
            }
            Value::Object(map) => Keywords::of(map),
            _ => return evaluated,
        };
        if let Some(target) = map
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(&self.validator.root, r))
        {
            if self.refs >= MAX_REF_DEPTH {
                self.report(path, "the schema's references loop without end".to_owned());
                return evaluated;
            }
            self.refs += 1;
            evaluated.extend(self.node(target, value, path));
            self.refs -= 1;
        }
        self.generic(&map, value, path);
        self.applicators(&map, value, path, &mut evaluated);
        match value {
            Value::Object(object) => self.object(&map, object, path, &mut evaluated),
            Value::Array(items) => self.array(&map, items, path),
            Value::String(text) => self.string(&map, text, path),
            Value::Number(_) => self.number(&map, value, path),
            _ => {}
        }
        evaluated
    }

    fn generic(&mut self, map: &Keywords<'_>, value: &Value, path: &str) {
        if let Some(types) = map.get("type") {
            // A type name or a non-empty list of them (checked when the schema was built).
            let names = match types {
                Value::Array(names) => names.as_slice(),
                name => std::slice::from_ref(name),
            };
            let mut allowed = names.iter().filter_map(Value::as_str);
            if !allowed.any(|t| is_type(value, t)) {
                let names: Vec<String> = names.iter().map(Value::to_string).collect();
                self.report(
                    path,
                    format!("{} is not of type {}", shown(value), names.join(", ")),
                );
            }
        }
        if let Some(Value::Array(options)) = map.get("enum")
            && !options.iter().any(|o| same(o, value))
        {
            self.report(
                path,
                format!(
                    "{} is not one of {}",
                    shown(value),
                    shown(&Value::Array(options.clone()))
                ),
            );
        }
        if let Some(expected) = map.get("const")
            && !same(expected, value)
        {
            self.report(path, format!("{} was expected", shown(expected)));
        }
    }

    fn applicators(
        &mut self,
        map: &Keywords<'_>,
        value: &Value,
        path: &mut String,
        evaluated: &mut Evaluated,
    ) {
        if let Some(Value::Array(all)) = map.get("allOf") {
            for schema in all {
                evaluated.extend(self.node(schema, value, path));
            }
        }
        if let Some(Value::Array(any)) = map.get("anyOf") {
            let passing = self.passing(any, value, path);
            if passing.is_empty() {
                self.report(
                    path,
                    format!(
                        "{} is not valid under any of the schemas listed in 'anyOf'",
                        shown(value)
                    ),
                );
            }
            evaluated.extend(passing.into_iter().flatten());
        }
        if let Some(Value::Array(one)) = map.get("oneOf") {
            let passing = self.passing(one, value, path);
            match passing.len() {
                1 => evaluated.extend(passing.into_iter().flatten()),
                0 => self.report(
                    path,
                    format!(
                        "{} is not valid under any of the schemas listed in 'oneOf'",
                        shown(value)
                    ),
                ),
                _ => self.report(
                    path,
                    format!(
                        "{} is valid under more than one of the schemas listed in 'oneOf'",
                        shown(value)
                    ),
                ),
            }
        }
        if let Some(not) = map.get("not")
            && self.passes(not, value, path).is_some()
        {
            self.report(
                path,
                format!("{} must not be valid under {}", shown(value), shown(not)),
            );
        }
        if let Some(condition) = map.get("if") {
            let branch = match self.passes(condition, value, path) {
                Some(matched) => {
                    evaluated.extend(matched);
                    map.get("then")
                }
                None => map.get("else"),
            };
            if let Some(branch) = branch {
                evaluated.extend(self.node(branch, value, path));
            }
        }
    }

    fn object(
        &mut self,
        map: &Keywords<'_>,
        object: &Map<String, Value>,
        path: &mut String,
        evaluated: &mut Evaluated,
    ) {
        if let Some(Value::Array(required)) = map.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    self.report(path, format!("\"{name}\" is a required property"));
                }
            }
        }
        if let Some(Value::Object(dependent)) = map.get("dependentRequired") {
            for (name, needs) in dependent {
                if !object.contains_key(name) {
                    continue;
                }
                for need in needs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !object.contains_key(need) {
                        self.report(
                            path,
                            format!("\"{need}\" is required when \"{name}\" is present"),
                        );
                    }
                }
            }
        }
        self.count(
            map,
            ["minProperties", "maxProperties"],
            || object.len(),
            "properties",
            path,
        );
        let properties = map.get("properties").and_then(Value::as_object);
        let by_pattern = map.get("patternProperties").and_then(Value::as_object);
        let mut unexpected = Vec::new();
        // In key order whatever serde_json's map keeps (insertion order once a dependency
        // such as llguidance turns on `preserve_order`), so violations come out the same.
        let mut members: Vec<(&String, &Value)> = object.iter().collect();
        members.sort_unstable_by_key(|(name, _)| *name);
        for (name, child) in members {
            let mut matched = false;
            if let Some(schema) = properties.and_then(|p| p.get(name)) {
                matched = true;
                self.descend(schema, child, path, Segment::Key(name));
            }
            for (pattern, schema) in by_pattern.into_iter().flatten() {
                if self
                    .validator
                    .patterns
                    .get(pattern)
                    .is_some_and(|r| r.is_match(name))
                {
                    matched = true;
                    self.descend(schema, child, path, Segment::Key(name));
                }
            }
            if !matched && let Some(additional) = map.get("additionalProperties") {
                matched = true;
                if additional == &Value::Bool(false) {
                    unexpected.push(name.as_str());
                } else {
                    self.descend(additional, child, path, Segment::Key(name));
                }
            }
            if matched && self.validator.tracks_evaluated {
                evaluated.insert(name.clone());
            }
            if let Some(names) = map.get("propertyNames") {
                let key = Value::String(name.clone());
                if self.passes(names, &key, path).is_none() {
                    self.report(
                        path,
                        format!(
                            "property name \"{name}\" is not valid under {}",
                            shown(names)
                        ),
                    );
                }
            }
        }
        if !unexpected.is_empty() {
            let names: Vec<String> = unexpected.iter().map(|n| format!("'{n}'")).collect();
            self.report(
                path,
                format!(
                    "Additional properties are not allowed ({} unexpected)",
                    names.join(", ")
                ),
            );
        }
        if let Some(Value::Object(dependent)) = map.get("dependentSchemas") {
            let whole = Value::Object(object.clone());
            for (name, schema) in dependent {
                if object.contains_key(name) {
                    evaluated.extend(self.node(schema, &whole, path));
                }
            }
        }
        if let Some(unevaluated) = map.get("unevaluatedProperties") {
            let rest: Vec<&String> = object.keys().filter(|k| !evaluated.contains(*k)).collect();
            for name in rest {
                if unevaluated == &Value::Bool(false) {
                    self.report(
                        path,
                        format!("Unevaluated property '{name}' is not allowed"),
                    );
                } else if let Some(child) = object.get(name) {
                    self.descend(unevaluated, child, path, Segment::Key(name));
                }
                evaluated.insert(name.clone());
            }
        }
    }

    fn array(&mut self, map: &Keywords<'_>, items: &[Value], path: &mut String) {
        self.count(map, ["minItems", "maxItems"], || items.len(), "items", path);
        let prefix = map.get("prefixItems").and_then(Value::as_array);
        let covered = prefix.map_or(0, Vec::len);
        for (i, (schema, item)) in prefix.into_iter().flatten().zip(items).enumerate() {
            self.descend(schema, item, path, Segment::Index(i));
        }
        if let Some(schema) = map.get("items") {
            for (i, item) in items.iter().enumerate().skip(covered) {
                self.descend(schema, item, path, Segment::Index(i));
            }
        }
        if let Some(contains) = map.get("contains") {
            let found = items
                .iter()
                .filter(|item| self.passes(contains, item, path).is_some())
                .count();
            let min = map.get("minContains").and_then(as_count).unwrap_or(1);
            let max = map.get("maxContains").and_then(as_count);
            if (found as u64) < min || max.is_some_and(|m| found as u64 > m) {
                self.report(
                    path,
                    format!(
                        "{found} items match {} ('contains'), which is out of bounds",
                        shown(contains)
                    ),
                );
            }
        }
        if map.get("uniqueItems") == Some(&Value::Bool(true)) {
            let duplicate = items
                .iter()
                .enumerate()
                .any(|(i, a)| items[i + 1..].iter().any(|b| same(a, b)));
            if duplicate {
                self.report(
                    path,
                    format!(
                        "{} has non-unique elements",
                        shown(&Value::Array(items.to_vec()))
                    ),
                );
            }
        }
    }

    fn string(&mut self, map: &Keywords<'_>, text: &str, path: &str) {
        self.count(
            map,
            ["minLength", "maxLength"],
            || text.chars().count(),
            "characters",
            path,
        );
        if let Some(pattern) = map.get("pattern").and_then(Value::as_str)
            && self
                .validator
                .patterns
                .get(pattern)
                .is_some_and(|r| !r.is_match(text))
        {
            self.report(path, format!("\"{text}\" does not match \"{pattern}\""));
        }
    }

    fn number(&mut self, map: &Keywords<'_>, value: &Value, path: &str) {
        let Some(n) = value.as_f64() else {
            return;
        };
        let bound = |key: &str| map.get(key).and_then(Value::as_f64);
        let checks: [Bound; 4] = [
            ("minimum", |n, b| n >= b, "less than the minimum of"),
            ("maximum", |n, b| n <= b, "greater than the maximum of"),
            (
                "exclusiveMinimum",
                |n, b| n > b,
                "less than or equal to the exclusive minimum of",
            ),
            (
                "exclusiveMaximum",
                |n, b| n < b,
                "greater than or equal to the exclusive maximum of",
            ),
        ];
        for (key, holds, words) in checks {
            if let Some(b) = bound(key)
                && !holds(n, b)
            {
                self.report(path, format!("{value} is {words} {b}"));
            }
        }
        if let Some(m) = map.get("multipleOf")
            && !is_multiple(value, m)
        {
            self.report(path, format!("{value} is not a multiple of {m}"));
        }
    }

    /// `[min, max]` bounds on a length or count; `len` is computed only when one is present.
    /// Inlined, so the keywords' bits are constants.
    #[inline(always)]
    fn count(
        &mut self,
        map: &Keywords<'_>,
        [min, max]: [&str; 2],
        len: impl FnOnce() -> usize,
        unit: &str,
        path: &str,
    ) {
        let (min, max) = (
            map.get(min).and_then(as_count),
            map.get(max).and_then(as_count),
        );
        if min.is_none() && max.is_none() {
            return;
        }
        let len = len() as u64;
        if let Some(m) = min
            && len < m
        {
            self.report(
                path,
                format!("has {len} {unit}, fewer than the minimum of {m}"),
            );
        }
        if let Some(m) = max
            && len > m
        {
            self.report(
                path,
                format!("has {len} {unit}, more than the maximum of {m}"),
            );
        }
    }

    /// Validates a child value at `path/segment`.
    fn descend(&mut self, schema: &Value, child: &Value, path: &mut String, segment: Segment<'_>) {
        let len = path.len();
        path.push('/');
        match segment {
            Segment::Key(key) => push_segment(path, key),
            Segment::Index(i) => {
                use std::fmt::Write;
                let _ = write!(path, "{i}");
            }
        }
        let saved = std::mem::take(&mut self.refs);
        self.node(schema, child, path);
        self.refs = saved;
        path.truncate(len);
    }
}

/// A schema object with the set of validation keywords it holds, so the keywords it lacks
/// (most of them, at any one node) are ruled out without a lookup.
struct Keywords<'a> {
    map: &'a Map<String, Value>,
    present: u64,
}

impl<'a> Keywords<'a> {
    fn of(map: &'a Map<String, Value>) -> Self {
        Keywords {
            map,
            present: map.keys().fold(0, |bits, key| bits | bit(key)),
        }
    }

    /// The keyword's value. Inlined, so a literal name's bit is a constant.
    #[inline(always)]
    fn get(&self, keyword: &str) -> Option<&'a Value> {
        let bit = bit(keyword);
        if bit != 0 && self.present & bit == 0 {
            return None;
        }
        self.map.get(keyword)
    }
}

/// The presence bit of a validation keyword; 0 for any other key.
#[inline(always)]
fn bit(keyword: &str) -> u64 {
    match keyword {
        "$ref" => 1 << 0,
        "type" => 1 << 1,
        "enum" => 1 << 2,
        "const" => 1 << 3,
        "allOf" => 1 << 4,
        "anyOf" => 1 << 5,
        "oneOf" => 1 << 6,
        "not" => 1 << 7,
        "if" => 1 << 8,
        "then" => 1 << 9,
        "else" => 1 << 10,
        "properties" => 1 << 11,
        "patternProperties" => 1 << 12,
        "additionalProperties" => 1 << 13,
        "unevaluatedProperties" => 1 << 14,
        "required" => 1 << 15,
        "dependentRequired" => 1 << 16,
        "dependentSchemas" => 1 << 17,
        "propertyNames" => 1 << 18,
        "minProperties" => 1 << 19,
        "maxProperties" => 1 << 20,
        "prefixItems" => 1 << 21,
        "items" => 1 << 22,
        "contains" => 1 << 23,
        "minContains" => 1 << 24,
        "maxContains" => 1 << 25,
        "minItems" => 1 << 26,
        "maxItems" => 1 << 27,
        "uniqueItems" => 1 << 28,
        "minLength" => 1 << 29,
        "maxLength" => 1 << 30,
        "pattern" => 1 << 31,
        "minimum" => 1 << 32,
        "maximum" => 1 << 33,
        "exclusiveMinimum" => 1 << 34,
        "exclusiveMaximum" => 1 << 35,
        "multipleOf" => 1 << 36,
        "format" => 1 << 37,
        _ => 0,
    }
}

/// Whether `value` is a multiple of `divisor` (a number greater than 0): exactly for integers,
/// within rounding otherwise. A quotient too large for a float is not a multiple.
fn is_multiple(value: &Value, divisor: &Value) -> bool {
    if let (Some(n), Some(d)) = (value.as_i64(), divisor.as_i64())
        && d > 0
    {
        return n % d == 0;
    }
    let (Some(n), Some(d)) = (value.as_f64(), divisor.as_f64()) else {
        return true;
    };
    let quotient = n / d;
    quotient.is_finite() && (quotient - quotient.round()).abs() <= 1e-9 * quotient.abs().max(1.0)
}

fn is_type(value: &Value, name: &str) -> bool {
    match (name, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// JSON equality, where numbers compare by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64() && x.as_f64().is_some(),
        },
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}

/// A value as JSON, shortened for messages.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.len() <= MAX_SHOWN {
        return text;
    }
    let mut end = MAX_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(schema: Value, value: Value) -> Vec<(String, String)> {
        Validator::new(&schema)
            .expect("compiles")
            .violations(&value)
            .into_iter()
            .map(|v| (v.path, v.message))
            .collect()
    }

    #[test]
    fn objects_report_every_violation_with_its_pointer() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 2},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                "n": {"type": "integer", "minimum": 0, "multipleOf": 2}
            },
            "required": ["name", "n"],
            "additionalProperties": false
        });
        let found = paths(
            schema.clone(),
            json!({"name": "a", "tags": ["x", 1, "z"], "n": -3, "extra": 1}),
        );
        // Sorted: the order follows serde_json's maps, sorted by key unless a crate of the
        // build (llguidance, with `local-models`) turns on `preserve_order`.
        let mut at: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        at.sort_unstable();
        assert_eq!(
            at,
            ["", "/n", "/n", "/name", "/tags", "/tags/1"],
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(p, m)| p.is_empty() && m.contains("'extra'")),
            "{found:?}"
        );
        let missing = paths(schema.clone(), json!({}));
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].1, "\"name\" is a required property");
        assert!(paths(schema, json!({"name": "ab", "n": 4.0})).is_empty());
    }

    #[test]
    fn references_options_and_enums() {
        let schema = json!({
            "$defs": {
                "Mood": {"type": "string", "enum": ["Happy", "Sad"]},
                "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}, "mood": {"$ref": "#/$defs/Mood"}}}
            },
            "$ref": "#/$defs/Node",
            "unevaluatedProperties": false
        });
        let found = paths(
            schema.clone(),
            json!({"mood": "Happy", "children": [{"children": [{"mood": "Meh"}]}]}),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "/children/0/children/0/mood");
        let extra = paths(schema, json!({"mood": "Sad", "other": 1}));
        assert_eq!(extra.len(), 1, "{extra:?}");
        assert!(extra[0].1.contains("'other'"));

        let optional = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        assert!(paths(optional.clone(), json!(null)).is_empty());
        assert_eq!(paths(optional, json!(3)).len(), 1);
        let one = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
        assert!(paths(one.clone(), json!(1.5)).is_empty());
        assert!(paths(one, json!(1))[0].1.contains("more than one"));
        assert!(paths(json!({"const": 1}), json!(1.0)).is_empty());
    }

    #[test]
    fn patterns_and_conditions() {
        let schema = json!({
            "type": "object",
            "patternProperties": {"^x-": {"type": "integer"}},
            "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}},
            "if": {"required": ["code"]},
            "then": {"required": ["country"]},
            "additionalProperties": {"type": "string"}
        });
        let found = paths(schema, json!({"code": "abc", "x-n": "no", "other": 2}));
        // Sorted, as the order follows serde_json's maps (see above).
        let mut at: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        at.sort_unstable();
        assert_eq!(at, ["", "/code", "/other", "/x-n"], "{found:?}");
    }

    #[test]
    fn unusable_schemas_are_refused_with_their_location() {
        let bad_ref = Validator::new(&json!({"properties": {"a": {"$ref": "#/$defs/Missing"}}}));
        assert_eq!(bad_ref.expect_err("unresolvable").path, "/properties/a");
        let remote = Validator::new(&json!({"$ref": "https://example.com/s.json"}));
        assert!(remote.is_err());
        let pattern = Validator::new(&json!({"pattern": "("}));
        assert_eq!(pattern.expect_err("bad regex").path, "/pattern");
        assert!(Validator::new(&json!({"unevaluatedItems": false})).is_err());
        assert!(Validator::new(&json!({"x-extension": {"anything": 1}})).is_ok());
    }

    #[test]
    fn keyword_values_of_the_wrong_shape_are_refused() {
        for (schema, at) in [
            (json!({"type": "int"}), "/type"),
            (json!({"items": {"minLength": -1}}), "/items/minLength"),
            (json!({"maxItems": "2"}), "/maxItems"),
            (json!({"required": "name"}), "/required"),
            (json!({"multipleOf": 0}), "/multipleOf"),
            (json!({"anyOf": []}), "/anyOf"),
            (json!({"properties": {"a": 1}}), "/properties/a"),
        ] {
            let err = Validator::new(&schema).expect_err("malformed");
            assert_eq!(err.path, at, "{schema}: {err}");
        }
        // `2.0` is an integer in JSON Schema, and bounds the length as `2` does.
        assert_eq!(paths(json!({"maxLength": 2.0}), json!("abc")).len(), 1);
    }

    #[test]
    fn reference_targets_are_checked_wherever_they_are() {
        let hidden = json!({"x-hidden": {"pattern": "("}, "$ref": "#/x-hidden"});
        assert_eq!(
            Validator::new(&hidden).expect_err("bad pattern").path,
            "/$ref/pattern"
        );
        // Inside `inner.json`, `#/$defs/x` means its own `x` (an integer), not the root's.
        let embedded = json!({
            "$defs": {
                "x": {"type": "string"},
                "inner": {"$id": "inner.json", "$defs": {"x": {"type": "integer"}}, "$ref": "#/$defs/x"}
            },
            "$ref": "#/$defs/inner"
        });
        let err = Validator::new(&embedded).expect_err("embedded resource");
        assert!(err.reason.contains("embedded resource"), "{err}");
    }

    #[test]
    fn multiples_are_exact_for_integers_and_overflow_is_no_multiple() {
        // 2^53 + 1 is odd, but rounds to the even 2^53 as a float.
        assert_eq!(
            paths(json!({"multipleOf": 2}), json!(9_007_199_254_740_993_i64)).len(),
            1
        );
        assert!(paths(json!({"multipleOf": 0.1}), json!(0.3)).is_empty());
        assert_eq!(
            paths(json!({"multipleOf": 0.123_456_789}), json!(1e308)).len(),
            1
        );
    }

    #[test]
    fn pointer_segments_are_escaped() {
        let schema = json!({"properties": {"a/b~c": {"items": {"type": "string"}}}});
        let found = paths(schema, json!({"a/b~c": ["x", 1]}));
        assert_eq!(found[0].0, "/a~1b~0c/1", "{found:?}");
    }

    #[test]
    fn self_referencing_schemas_stop() {
        let looping = json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"});
        let found = paths(looping, json!(1));
        assert!(found[0].1.contains("loop"), "{found:?}");
    }
}
