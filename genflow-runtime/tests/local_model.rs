//! A real GGUF model in-process (feature `local-models`): SmolLM2-135M-Instruct, fetched by
//! `scripts/fetch-test-models` into `GENFLOW_MODELS_DIR` or `target/models`. Without the file
//! the tests are skipped with a note, and fail when CI is set.

#![cfg(feature = "local-models")]

mod common;

use std::path::PathBuf;

use futures::StreamExt;
use genflow_runtime::Status;
use genflow_runtime::model::stream::ModelDelta;
use genflow_runtime::model::{
    EnvVars, FinishReason, GenerateRequest, GenerationConfig, Message, Models,
};
use genflow_runtime::prelude::*;

const MODEL: &str = "local/SmolLM2-135M-Instruct.Q4_1";
const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The catalog with the models folder, or `None` (after a note) when the weights are missing.
fn models() -> Option<Models> {
    let dir = std::env::var_os("GENFLOW_MODELS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/models"),
        PathBuf::from,
    );
    if !dir.join(FILE).is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{FILE} is missing from {}: run ./scripts/fetch-test-models",
            dir.display()
        );
        eprintln!(
            "skipped: {FILE} is not in {}; run ./scripts/fetch-test-models",
            dir.display()
        );
        return None;
    }
    let dir = dir.to_string_lossy().into_owned();
    Some(Models::from_vars(&EnvVars::from_pairs([(
        "GENFLOW_MODELS_DIR",
        dir.as_str(),
    )])))
}

/// Greedy decoding, so replies repeat.
fn greedy(max_tokens: u32) -> GenerationConfig {
    GenerationConfig {
        temperature: Some(0.0),
        max_output_tokens: Some(max_tokens),
        ..GenerationConfig::default()
    }
}

fn ask(prompt: &str, config: GenerationConfig) -> GenerateRequest {
    GenerateRequest {
        messages: vec![Message::user(prompt)],
        config,
        ..GenerateRequest::default()
    }
}

#[tokio::test]
async fn answers_a_question_with_usage() {
    let Some(models) = models() else { return };
    let generation = models
        .generate()
        .model(MODEL)
        .prompt("Hi! How are you?")
        .config(greedy(40))
        .run()
        .await
        .expect("answers");
    let text = generation.response.text();
    // A broken tokenizer, chat template or forward pass does not greet back.
    assert!(text.contains("Hello"), "{text}");
    let usage = generation.usage;
    assert!(
        usage.input_tokens > 10,
        "the chat template adds a system turn: {usage:?}"
    );
    assert!((1..=40).contains(&usage.output_tokens), "{usage:?}");
}

#[tokio::test]
async fn streams_token_by_token_what_it_answers_whole() {
    let Some(models) = models() else { return };
    let model = models.resolve(Some(MODEL)).expect("resolves");
    let request = ask("Name three colors.", greedy(24));
    let mut stream = model.stream(request.clone()).await.expect("opens");
    let mut texts = Vec::new();
    let mut finish = None;
    while let Some(delta) = stream.next().await {
        match delta.expect("delta") {
            ModelDelta::Text(text) => texts.push(text),
            ModelDelta::Finish(reason) => finish = Some(reason),
            _ => {}
        }
    }
    assert!(texts.len() > 3, "one delta per token or so: {texts:?}");
    assert!(finish.is_some());
    let whole = model.generate(request).await.expect("answers");
    assert_eq!(texts.concat(), whole.text(), "greedy decoding repeats");
}

#[tokio::test]
async fn a_stop_sequence_ends_the_reply_before_it() {
    let Some(models) = models() else { return };
    let model = models.resolve(Some(MODEL)).expect("resolves");
    let prompt = "Write a short paragraph about the sea.";
    let free = model
        .generate(ask(prompt, greedy(40)))
        .await
        .expect("answers");
    let text = free.text();
    // A word from the middle of the free reply becomes the stop sequence.
    let word = text
        .split_whitespace()
        .nth(4)
        .unwrap_or_else(|| panic!("a longer reply: {text}"));
    let at = text.find(word).expect("present");
    let config = GenerationConfig {
        stop: vec![word.to_owned()],
        ..greedy(40)
    };
    let stopped = model.generate(ask(prompt, config)).await.expect("answers");
    assert_eq!(stopped.text(), text[..at], "stopped at {word:?}");
    assert_eq!(stopped.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn max_tokens_cuts_the_reply() {
    let Some(models) = models() else { return };
    let model = models.resolve(Some(MODEL)).expect("resolves");
    let reply = model
        .generate(ask("Tell me a long story about a dragon.", greedy(5)))
        .await
        .expect("answers");
    assert_eq!(reply.finish_reason, FinishReason::Length);
    assert_eq!(reply.usage.output_tokens, 5);
    assert!(!reply.text().is_empty());
}

/// The process's log, captured.
fn log() -> &'static common::log::Lines {
    common::log::captured("genflow_runtime=debug")
}

#[tokio::test]
async fn dropping_the_stream_stops_generation() {
    let Some(models) = models() else { return };
    let lines = log();
    let model = models.resolve(Some(MODEL)).expect("resolves");
    let budget = 400;
    let request = ask("Count from 1 to 1000, one number per line.", greedy(budget));
    let mut stream = model.stream(request).await.expect("opens");
    for _ in 0..2 {
        assert!(matches!(stream.next().await, Some(Ok(ModelDelta::Text(_)))));
    }
    drop(stream);
    // The worker answers in order: once this reply is done, the dropped one has ended.
    model.generate(ask("Hi", greedy(1))).await.expect("answers");
    let log = lines.text();
    let cancelled = log
        .lines()
        .find(|l| l.contains("local reply cancelled"))
        .unwrap_or_else(|| panic!("no cancellation in the log:\n{log}"));
    let tokens: usize = cancelled
        .split("tokens=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a token count: {cancelled}"));
    assert!(tokens < budget as usize, "stopped early: {cancelled}");
}

/// A typed answer. Bounded strings and arrays let the grammar close the value within the
/// token budget.
#[derive(Debug, Deserialize, JsonSchema)]
#[expect(dead_code, reason = "deserializing checks the fields")]
struct City {
    /// The city's name.
    #[schemars(length(min = 1, max = 40))]
    name: String,
    /// The country it is in.
    #[schemars(length(min = 1, max = 40))]
    country: String,
    /// Inhabitants, roughly.
    population: u32,
    /// Whether it is a capital.
    capital: bool,
    /// Landmarks.
    #[schemars(length(min = 1, max = 3), inner(length(min = 1, max = 40)))]
    landmarks: Vec<String>,
    /// The kind of climate.
    climate: Climate,
}

/// A closed set of values.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Climate {
    Oceanic,
    Mediterranean,
    Continental,
}

#[tokio::test]
async fn constrained_output_always_validates() {
    let Some(models) = models() else { return };
    for seed in 0..3 {
        let city: City = models
            .generate()
            .model(MODEL)
            .prompt("Describe Paris as JSON.")
            .config(GenerationConfig {
                temperature: Some(0.8),
                seed: Some(seed),
                max_output_tokens: Some(300),
                ..GenerationConfig::default()
            })
            // No second chance: the first reply must validate.
            .repair_attempts(0)
            .generate_data()
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        // Deserializing checked the types and the enum; the bounds are the schema's.
        assert!((1..=3).contains(&city.landmarks.len()), "{city:?}");
        let strings = [&city.name, &city.country]
            .into_iter()
            .chain(&city.landmarks);
        assert!(
            strings
                .into_iter()
                .all(|s| (1..=40).contains(&s.chars().count())),
            "{city:?}"
        );
    }
}

#[tokio::test]
async fn an_unsupported_schema_fails_before_generation() {
    let Some(models) = models() else { return };
    let err = models
        .generate()
        .model(MODEL)
        .prompt("Anything")
        .output_schema(
            "odd",
            serde_json::json!({
                "type": "object",
                "properties": { "a": { "type": "string" } },
                "dependentSchemas": { "a": { "required": ["b"] } }
            }),
        )
        .run()
        .await
        .expect_err("unsupported");
    assert_eq!(err.status(), Status::InvalidArgument, "{err:?}");
    assert!(
        err.message()
            .contains("not supported by constrained decoding"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_model_says_how_to_get_one() {
    let models = Models::from_vars(&EnvVars::from_pairs([(
        "GENFLOW_MODELS_DIR",
        "/nonexistent",
    )]));
    let err = match models.resolve(Some("local/no-such-model")) {
        Ok(_) => panic!("resolved"),
        Err(e) => e,
    };
    assert_eq!(err.status(), Status::NotFound);
    assert!(err.message().contains("fetch-test-models"), "{err}");
}
