//! A real GGUF model in-process (feature `local-models`): SmolLM2-135M-Instruct, fetched by
//! `scripts/fetch-test-models` into `GENFLOW_MODELS_DIR` or `target/models`. Without the file
//! the tests are skipped with a note, and fail when CI is set.

#![cfg(feature = "local-models")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use futures::future::BoxFuture;
use genflow_runtime::model::middleware::{Middleware, ModelHook, ModelRequest, Next};
use genflow_runtime::model::stream::ModelDelta;
use genflow_runtime::model::{
    EnvVars, FinishReason, GenerateRequest, GenerateResponse, GenerationConfig, Message, Models,
    Role, ToolChoice, ToolDefinition, ToolRequest,
};
use genflow_runtime::prelude::*;
use genflow_runtime::{ActionSchemas, CanonicalSchema, FlowError, Status};
use serde_json::json;

const MODEL: &str = "local/SmolLM2-135M-Instruct.Q4_1";
const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The catalog with the models folder, or `None` (after a note) when the weights are missing.
fn models() -> Option<Models> {
    let dir = common::models::models_dir_holding(FILE)?;
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
async fn a_bad_sampling_setting_fails_before_generation() {
    let Some(models) = models() else { return };
    let mut config = greedy(8);
    config.extra.insert("repeat_penalty".into(), json!(0));
    let err = models
        .generate()
        .model(MODEL)
        .prompt("Anything")
        .config(config)
        .run()
        .await
        .expect_err("a penalty of 0");
    assert_eq!(err.status(), Status::InvalidArgument, "{err:?}");
    assert!(err.message().contains("`repeat_penalty`"), "{err}");
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

/// Two tools with constrained inputs, as a model sees them.
fn tools() -> Vec<ToolDefinition> {
    let tool = |name: &str, description: &str, schema: serde_json::Value| ToolDefinition {
        name: name.to_owned(),
        description: description.to_owned(),
        input_schema: CanonicalSchema::new(schema),
    };
    vec![
        tool(
            "weather",
            "The weather forecast for a city.",
            json!({
                "type": "object",
                "properties": {
                    "city": { "type": "string", "minLength": 1, "maxLength": 30 },
                    "unit": { "enum": ["celsius", "fahrenheit"] }
                },
                "required": ["city", "unit"],
                "additionalProperties": false
            }),
        ),
        tool(
            "add",
            "Adds two whole numbers.",
            json!({
                "type": "object",
                "properties": {
                    "a": { "type": "integer", "minimum": -1000, "maximum": 1000 },
                    "b": { "type": "integer", "minimum": -1000, "maximum": 1000 }
                },
                "required": ["a", "b"],
                "additionalProperties": false
            }),
        ),
    ]
}

/// The one tool request of `reply`, checked against the offered tool's schema with the
/// runtime's validator.
fn valid_call(reply: &GenerateResponse, offered: &[ToolDefinition]) -> ToolRequest {
    assert_eq!(reply.finish_reason, FinishReason::ToolCalls, "{reply:?}");
    assert_eq!(reply.text(), "", "a call carries no text: {reply:?}");
    let [call] = reply.tool_requests()[..] else {
        panic!("one call per turn: {reply:?}");
    };
    let tool = offered
        .iter()
        .find(|t| t.name == call.name)
        .unwrap_or_else(|| panic!("an offered tool: {call:?}"));
    ActionSchemas::from_json(tool.input_schema.value().clone(), json!({}))
        .validate_input(&call.input)
        .unwrap_or_else(|e| panic!("{call:?}: {e:?}"));
    assert!(
        call.id.as_deref().is_some_and(|id| !id.is_empty()),
        "{call:?}"
    );
    call.clone()
}

fn with_tools(prompt: &str, choice: ToolChoice, seed: i64) -> GenerateRequest {
    GenerateRequest {
        tools: tools(),
        tool_choice: choice,
        ..ask(
            prompt,
            GenerationConfig {
                temperature: Some(0.8),
                seed: Some(seed),
                max_output_tokens: Some(120),
                ..GenerationConfig::default()
            },
        )
    }
}

#[tokio::test]
async fn a_required_call_names_an_offered_tool_with_valid_arguments() {
    let Some(models) = models() else { return };
    let model = models.resolve(Some(MODEL)).expect("resolves");
    let prompts = [
        "What is the weather in Paris?",
        "What is 12 plus 30?",
        "Hello!",
    ];
    for (seed, prompt) in prompts.into_iter().enumerate() {
        let reply = model
            .generate(with_tools(prompt, ToolChoice::Required, seed as i64))
            .await
            .expect("answers");
        valid_call(&reply, &tools());
    }
}

#[tokio::test]
async fn a_named_tool_is_the_one_called() {
    let Some(models) = models() else { return };
    let model = models.resolve(Some(MODEL)).expect("resolves");
    for name in ["add", "weather"] {
        let reply = model
            .generate(with_tools(
                "What is the weather in Paris?",
                ToolChoice::Tool(name.to_owned()),
                1,
            ))
            .await
            .expect("answers");
        assert_eq!(valid_call(&reply, &tools()).name, name);
    }
    let err = model
        .generate(with_tools("Hi", ToolChoice::Tool("nope".to_owned()), 1))
        .await
        .expect_err("not offered");
    assert_eq!(err.status(), Status::InvalidArgument, "{err:?}");
}

#[tokio::test]
async fn a_call_streams_as_a_tool_request_without_text() {
    let Some(models) = models() else { return };
    let model = models.resolve(Some(MODEL)).expect("resolves");
    let request = with_tools("What is 2 plus 2?", ToolChoice::Required, 3);
    let mut stream = model.stream(request.clone()).await.expect("opens");
    let mut deltas = Vec::new();
    while let Some(delta) = stream.next().await {
        deltas.push(delta.expect("delta"));
    }
    assert!(
        !deltas.iter().any(|d| matches!(d, ModelDelta::Text(_))),
        "no raw JSON as text: {deltas:?}"
    );
    let requests = deltas
        .iter()
        .filter(|d| matches!(d, ModelDelta::ToolRequest { .. }))
        .count();
    assert_eq!(requests, 1, "{deltas:?}");
    assert_eq!(
        deltas.last(),
        Some(&ModelDelta::Finish(FinishReason::ToolCalls))
    );
    let whole = model.generate(request).await.expect("answers");
    valid_call(&whole, &tools());
}

/// How many times [`weather`] ran.
static WEATHER_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Where to forecast. A bounded name lets the grammar close the call within the budget.
#[derive(Deserialize, JsonSchema)]
struct Place {
    /// The city.
    #[schemars(length(min = 1, max = 30))]
    city: String,
}

/// The weather forecast for a city.
#[tool]
async fn weather(place: Place) -> Result<String, ToolError> {
    WEATHER_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(format!("Sunny and 21 degrees in {}.", place.city))
}

/// Forces a call of the tool named, then the answer once a result came back (a 135M model
/// rarely chooses well on its own: the loop, not its judgement, is under test).
struct CallFirst(&'static str);

impl Middleware for CallFirst {
    fn model<'a>(
        &'a self,
        mut request: ModelRequest,
        next: Next<'a, ModelHook>,
    ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
        let answered = request
            .request
            .messages
            .iter()
            .any(|m| m.role == Role::Tool);
        request.request.tool_choice = match answered {
            false => ToolChoice::Tool(self.0.to_owned()),
            true => ToolChoice::None,
        };
        next.run(request)
    }
}

#[tokio::test]
async fn the_tool_loop_runs_a_real_tool_then_answers() {
    let Some(models) = models() else { return };
    let generation = models
        .generate()
        .model(MODEL)
        .prompt("What is the weather in Paris?")
        .tool::<WeatherTool>()
        .middleware(CallFirst("weather"))
        .config(greedy(120))
        .max_turns(3)
        .run()
        .await
        .expect("answers within the turns");
    assert!(
        WEATHER_RUNS.load(Ordering::SeqCst) >= 1,
        "the tool ran: {:?}",
        generation.messages
    );
    let results: Vec<_> = generation
        .messages
        .iter()
        .flat_map(|m| m.tool_responses())
        .collect();
    assert!(!results.is_empty(), "{:?}", generation.messages);
    assert!(results.iter().all(|r| !r.is_error), "{results:?}");
    let response = &generation.response;
    assert!(response.tool_requests().is_empty(), "{response:?}");
    assert_eq!(response.finish_reason, FinishReason::Stop, "{response:?}");
    assert!(!response.text().trim().is_empty(), "{response:?}");
    assert!(generation.turns >= 2, "a call, then the answer");
}
