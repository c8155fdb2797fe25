//! Local models (feature `local-models`): speed of a GGUF model in-process, and how often its
//! JSON is valid with and without schema-constrained decoding. A measurement, not a test: run
//! it in release on a quiet machine; it prints tables for docs/performance.md.
//!
//! `CANDLE_NUM_THREADS=1 cargo run --release -p genflow-bench --features local-models --example
//! local_models` (`GENFLOW_MODELS_DIR`, default `target/models`; `MODEL`, default
//! `local/SmolLM2-135M-Instruct.Q4_1`; `RUNS`, default 5; `TOKENS`, default 128; `SCHEMAS`,
//! default 56).

use std::time::{Duration, Instant};

use futures::StreamExt;
use genflow_runtime::ActionSchemas;
use genflow_runtime::model::stream::ModelDelta;
use genflow_runtime::model::{
    EnvVars, GenerateRequest, GenerationConfig, Message, Model, Models, OutputFormat,
    SchemaDialects,
};
use serde_json::{Map, Value, json};

/// One reply: its text, and its timings.
struct Sample {
    text: String,
    first_token: Duration,
    tokens: u64,
    decode: Duration,
}

async fn measure(
    model: &dyn Model,
    request: GenerateRequest,
) -> Result<Sample, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut stream = model.stream(request).await?;
    let mut first = None;
    let mut tokens = 0;
    let mut text = String::new();
    while let Some(delta) = stream.next().await {
        match delta? {
            ModelDelta::Text(t) => {
                first.get_or_insert_with(|| start.elapsed());
                text.push_str(&t);
            }
            ModelDelta::Usage {
                output_tokens: Some(n),
                ..
            } => tokens = n,
            _ => {}
        }
    }
    let first_token = first.unwrap_or_else(|| start.elapsed());
    Ok(Sample {
        text,
        first_token,
        tokens,
        decode: start.elapsed() - first_token,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The system instruction local models add for an output schema, for the unconstrained runs
/// (so both see the same prompt).
fn schema_prompt(schema: &Value) -> String {
    format!("Answer with one JSON value, no other text, valid for this JSON Schema: {schema}")
}

fn request(
    prompt: &str,
    schema: &Value,
    constrained: bool,
    seed: u64,
    budget: u32,
) -> GenerateRequest {
    GenerateRequest {
        system: (!constrained).then(|| schema_prompt(schema)),
        messages: vec![Message::user(prompt)],
        config: GenerationConfig {
            temperature: Some(0.7),
            seed: Some(seed as i64),
            max_output_tokens: Some(budget),
            ..GenerationConfig::default()
        },
        output: constrained.then(|| OutputFormat {
            name: "reply".to_owned(),
            schema: SchemaDialects::new(schema.clone()),
        }),
        ..GenerateRequest::default()
    }
}

/// The properties the varied schemas are made of: bounded strings, enums, integers and
/// numbers with bounds, arrays with min/max items, patterns, nullable values, nested objects.
fn property(kind: usize) -> (&'static str, Value) {
    let text = |max: u32| json!({ "type": "string", "minLength": 1, "maxLength": max });
    match kind % 14 {
        0 => ("name", text(30)),
        1 => ("color", json!({ "enum": ["red", "green", "blue"] })),
        2 => (
            "count",
            json!({ "type": "integer", "minimum": 0, "maximum": 100 }),
        ),
        3 => (
            "price",
            json!({ "type": "number", "minimum": 0, "maximum": 1000 }),
        ),
        4 => ("active", json!({ "type": "boolean" })),
        5 => (
            "tags",
            json!({ "type": "array", "items": text(15), "minItems": 1, "maxItems": 3 }),
        ),
        6 => (
            "scores",
            json!({ "type": "array", "items": { "type": "integer", "minimum": 1, "maximum": 10 },
                    "minItems": 2, "maxItems": 4 }),
        ),
        7 => (
            "address",
            json!({ "type": "object",
                    "properties": { "street": text(30),
                                    "zip": { "type": "string", "pattern": "^[0-9]{5}$" } },
                    "required": ["street", "zip"], "additionalProperties": false }),
        ),
        8 => (
            "code",
            json!({ "type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$" }),
        ),
        9 => (
            "rating",
            json!({ "type": "integer", "minimum": 1, "exclusiveMaximum": 6 }),
        ),
        10 => (
            "ratio",
            json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 1 }),
        ),
        11 => (
            "note",
            json!({ "type": ["string", "null"], "maxLength": 20 }),
        ),
        12 => (
            "items",
            json!({ "type": "array", "maxItems": 3, "items": {
                "type": "object",
                "properties": { "sku": text(10),
                                "qty": { "type": "integer", "minimum": 1, "maximum": 9 } },
                "required": ["sku", "qty"], "additionalProperties": false } }),
        ),
        _ => ("level", json!({ "enum": [1, 2, 3] })),
    }
}

/// Schema `i`: an object of 2 to 5 of the properties, some optional, every fifth nested one
/// level down, and a few non-object roots.
fn schema(i: usize) -> Value {
    match i % 13 {
        12 if i >= 13 => {
            return [
                json!({ "type": "array", "items": property(i).1, "minItems": 1, "maxItems": 4 }),
                json!({ "enum": ["yes", "no", "maybe"] }),
                json!({ "type": "integer", "minimum": -50, "maximum": 50 }),
                property(i / 13 + 7).1,
            ][i / 13 % 4]
                .clone();
        }
        _ => {}
    }
    let size = 2 + i % 4;
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut kind = i * 5;
    while properties.len() < size {
        let (name, schema) = property(kind);
        if properties.insert(name.to_owned(), schema).is_none() && !(i + kind).is_multiple_of(3) {
            required.push(name);
        }
        kind += 1 + i % 3;
    }
    let object = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    if i % 5 == 4 {
        return json!({
            "type": "object",
            "properties": { "data": object, "id": { "type": "integer", "minimum": 1 } },
            "required": ["data", "id"],
            "additionalProperties": false,
        });
    }
    object
}

/// Whether `text` is a JSON value `schema` accepts (a Markdown code fence around it allowed).
fn validates(schema: &Value, text: &str) -> bool {
    let text = text.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.trim_end().strip_suffix("```"))
        .unwrap_or(text);
    serde_json::from_str::<Value>(text).is_ok_and(|value| {
        ActionSchemas::from_json(schema.clone(), json!({}))
            .validate_input(&value)
            .is_ok()
    })
}

/// Totals of one mode over the schemas.
#[derive(Default)]
struct Validity {
    valid: usize,
    parsed: usize,
    tokens: u64,
    decode: Duration,
    first_token: Vec<f64>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let dir = var("GENFLOW_MODELS_DIR", "target/models");
    let reference = var("MODEL", "local/SmolLM2-135M-Instruct.Q4_1");
    let runs: u64 = var("RUNS", "5").parse()?;
    let budget: u32 = var("TOKENS", "128").parse()?;
    let count: usize = var("SCHEMAS", "56").parse()?;
    let models = Models::from_vars(&EnvVars::from_pairs([("GENFLOW_MODELS_DIR", dir.as_str())]));
    let model = models.resolve(Some(&reference))?;

    // Speed: one prompt, a review schema, medians over seeds.
    let review = json!({
        "type": "object",
        "properties": {
            "title": { "type": "string", "maxLength": 200 },
            "tags": { "type": "array", "items": { "type": "string", "maxLength": 40 }, "maxItems": 8 },
            "rating": { "type": "integer", "minimum": 1, "maximum": 5 },
            "summary": { "type": "string", "maxLength": 600 }
        },
        "required": ["title", "tags", "rating", "summary"],
        "additionalProperties": false
    });
    let prompt = "Review a novel about the sea, in detail.";
    let load = Instant::now();
    measure(model.as_ref(), request(prompt, &review, false, 0, budget)).await?;
    println!(
        "{reference}: load and first reply {:.2} s\n",
        load.elapsed().as_secs_f64()
    );
    println!(
        "| {runs} runs, {budget}-token budget | time to first token (median) | tokens/s after it (median) | ms/token (median) |"
    );
    println!("|---|---|---|---|");
    for constrained in [false, true] {
        let mut first = Vec::new();
        let mut rates = Vec::new();
        for seed in 0..runs {
            let s = measure(
                model.as_ref(),
                request(prompt, &review, constrained, seed, budget),
            )
            .await?;
            first.push(s.first_token.as_secs_f64() * 1000.0);
            rates.push(s.tokens.saturating_sub(1) as f64 / s.decode.as_secs_f64());
        }
        let rate = median(rates);
        println!(
            "| {} | {:.0} ms | {rate:.1} | {:.1} |",
            if constrained {
                "constrained (llguidance)"
            } else {
                "unconstrained (schema in the prompt)"
            },
            median(first),
            1000.0 / rate,
        );
    }

    // Validity: the same schemas, constrained and not.
    let topics = [
        "a product",
        "a person",
        "a city",
        "a book",
        "a recipe",
        "a trip",
    ];
    let mut modes = [Validity::default(), Validity::default()];
    let mut failures = Vec::new();
    for i in 0..count {
        let schema = schema(i);
        let prompt = format!("Give JSON about {}.", topics[i % topics.len()]);
        for (constrained, totals) in [false, true].into_iter().zip(&mut modes) {
            let s = measure(
                model.as_ref(),
                request(&prompt, &schema, constrained, i as u64, 2 * budget),
            )
            .await?;
            totals.parsed += usize::from(serde_json::from_str::<Value>(s.text.trim()).is_ok());
            if validates(&schema, &s.text) {
                totals.valid += 1;
            } else if constrained {
                failures.push(format!("schema {i}: {schema}\n  reply: {}", s.text));
            }
            totals.tokens += s.tokens.saturating_sub(1);
            totals.decode += s.decode;
            totals
                .first_token
                .push(s.first_token.as_secs_f64() * 1000.0);
        }
    }
    println!(
        "\n| {count} schemas, {}-token budget | valid | parses as JSON | ms/token after the first | time to first token (median) |",
        2 * budget
    );
    println!("|---|---|---|---|---|");
    for (name, totals) in [
        "unconstrained (schema in the prompt)",
        "constrained (llguidance)",
    ]
    .into_iter()
    .zip(modes)
    {
        println!(
            "| {name} | {}/{count} | {}/{count} | {:.1} | {:.0} ms |",
            totals.valid,
            totals.parsed,
            totals.decode.as_secs_f64() * 1000.0 / totals.tokens.max(1) as f64,
            median(totals.first_token),
        );
    }
    for failure in &failures {
        println!("constrained reply invalid: {failure}");
    }
    Ok(())
}
