//! Tokens per second and time to first token of a local GGUF model, with and without an output
//! schema constraining decoding. A measurement, not a test: run it on a quiet machine.
//!
//! `cargo run --release -p genflow-runtime --features local-models --example local_model_bench`
//! (`GENFLOW_MODELS_DIR`, default `target/models`; `MODEL`, default
//! `local/SmolLM2-135M-Instruct.Q4_1`; `RUNS`, default 5; `TOKENS`, default 128).

use std::time::{Duration, Instant};

use futures::StreamExt;
use genflow_runtime::model::stream::ModelDelta;
use genflow_runtime::model::{
    EnvVars, GenerateRequest, GenerationConfig, Message, Model, Models, OutputFormat,
    SchemaDialects,
};
use serde_json::json;

/// One reply's timings.
struct Sample {
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
    while let Some(delta) = stream.next().await {
        match delta? {
            ModelDelta::Text(_) if first.is_none() => first = Some(start.elapsed()),
            ModelDelta::Usage {
                output_tokens: Some(n),
                ..
            } => tokens = n,
            _ => {}
        }
    }
    let first_token = first.ok_or("no text")?;
    Ok(Sample {
        first_token,
        tokens,
        decode: start.elapsed() - first_token,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let dir = var("GENFLOW_MODELS_DIR", "target/models");
    let reference = var("MODEL", "local/SmolLM2-135M-Instruct.Q4_1");
    let runs: usize = var("RUNS", "5").parse()?;
    let budget: u32 = var("TOKENS", "128").parse()?;
    let models = Models::from_vars(&EnvVars::from_pairs([("GENFLOW_MODELS_DIR", dir.as_str())]));
    let model = models.resolve(Some(&reference))?;
    let schema = json!({
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
    let request = |constrained: bool, seed: i64| GenerateRequest {
        messages: vec![Message::user("Review a novel about the sea, in detail.")],
        config: GenerationConfig {
            temperature: Some(0.7),
            seed: Some(seed),
            max_output_tokens: Some(budget),
            ..GenerationConfig::default()
        },
        output: constrained.then(|| OutputFormat {
            name: "review".to_owned(),
            schema: SchemaDialects::new(schema.clone()),
        }),
        ..GenerateRequest::default()
    };
    let load = Instant::now();
    measure(model.as_ref(), request(false, 0)).await?;
    println!(
        "{reference}: load and first reply {:.2} s",
        load.elapsed().as_secs_f64()
    );
    for constrained in [false, true] {
        let mut first = Vec::new();
        let mut rates = Vec::new();
        let mut counts = Vec::new();
        for seed in 0..runs {
            let s = measure(model.as_ref(), request(constrained, seed as i64)).await?;
            first.push(s.first_token.as_secs_f64() * 1000.0);
            rates.push(s.tokens.saturating_sub(1) as f64 / s.decode.as_secs_f64());
            counts.push(s.tokens as f64);
        }
        println!(
            "{}: median of {runs}: time to first token {:.0} ms, {:.1} tokens/s after it, {:.0} tokens per reply",
            if constrained {
                "constrained (JSON Schema)"
            } else {
                "unconstrained"
            },
            median(first),
            median(rates),
            median(counts),
        );
    }
    Ok(())
}
