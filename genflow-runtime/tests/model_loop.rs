//! The generate loop end to end with real `#[tool]` functions and the local models.

#![cfg(feature = "models")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use genflow_runtime::model::middleware::{Middleware, ModelHook, ModelRequest, Next, ToolHook};
use genflow_runtime::model::stream::{GenerateChunk, ModelStream};
use genflow_runtime::model::testing::{ScriptedModel, ScriptedTurn};
use genflow_runtime::model::{
    GenerateResponse, Model, ModelInfo, Models, OutputError, OutputProblem, Role, ToolRequest,
};
use genflow_runtime::prelude::*;
use genflow_runtime::{FlowEvent, RunOptions};
use serde_json::{Value, json};
use tokio::sync::Barrier;

/// Search the product database by keyword.
#[tool]
async fn search_db(
    /// Words to look for
    query: String,
    /// At most this many rows
    limit: Option<u32>,
) -> Result<Vec<String>, ToolError> {
    let limit = limit.map_or(2, |l| l.max(1)) as usize;
    Ok(query
        .split_whitespace()
        .take(limit)
        .map(str::to_owned)
        .collect())
}

/// Both tools below wait for each other: they only finish if they run at the same time.
struct Rendezvous(Barrier);

/// Checks stock (waits for the price check).
#[tool]
async fn check_stock(ctx: &FlowContext, sku: String) -> Result<u32, ToolError> {
    let meet = ctx
        .state::<Rendezvous>()
        .ok_or_else(|| ToolError::internal("no barrier"))?;
    meet.0.wait().await;
    Ok(sku.len() as u32)
}

/// Checks the price (waits for the stock check).
#[tool]
async fn check_price(ctx: &FlowContext, sku: String) -> Result<f64, ToolError> {
    let meet = ctx
        .state::<Rendezvous>()
        .ok_or_else(|| ToolError::internal("no barrier"))?;
    meet.0.wait().await;
    Ok(sku.len() as f64 * 1.5)
}

/// Always fails.
#[tool]
async fn broken(why: String) -> Result<(), ToolError> {
    Err(ToolError::unavailable(format!(
        "the warehouse is closed ({why})"
    )))
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Product {
    name: String,
    tags: Vec<String>,
    price: Option<f64>,
}

/// Generous bound so a broken loop fails instead of hanging; nothing asserts on time.
async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("finished")
}

fn scripted(model: &ScriptedModel) -> Models {
    Models::new()
        .model(model.clone())
        .default_model("local/scripted")
}

#[tokio::test]
async fn the_test_model_calls_every_tool_then_answers_with_valid_data() {
    let ctx = FlowContext::new().with_state(Models::new());
    let generated = bounded(
        ctx.generate()
            .prompt("find red shoes")
            .tool::<SearchDbTool>()
            .output::<Product>()
            .run(),
    )
    .await
    .expect("valid output");
    assert_eq!(generated.generation.turns, 2);
    assert_eq!(generated.generation.response.model, "local/test");
    let messages = &generated.generation.messages;
    let called: Vec<&ToolRequest> = messages[1].tool_requests().collect();
    assert_eq!(called.len(), 1);
    assert_eq!(called[0].name, "search_db");
    assert_eq!(messages[2].role, Role::Tool);
    let result = messages[2].tool_responses().next().expect("a result");
    assert!(!result.is_error, "{result:?}");
    assert_eq!(generated.output.name, "a");
}

#[tokio::test]
async fn tool_calls_of_one_turn_run_concurrently() {
    let model = ScriptedModel::new("scripted")
        .tool_requests(vec![
            ("check_stock", json!({"sku": "abc"})),
            ("check_price", json!({"sku": "abcd"})),
        ])
        .text("in stock, 6.0");
    let ctx = FlowContext::new()
        .with_state(scripted(&model))
        .with_state(Rendezvous(Barrier::new(2)));
    let generation = bounded(
        ctx.generate()
            .prompt("stock and price?")
            .tool::<CheckStockTool>()
            .tool::<CheckPriceTool>()
            .run(),
    )
    .await
    .expect("both tools met");
    assert_eq!(generation.text(), "in stock, 6.0");
    let second = &model.requests()[1];
    let results: Vec<Value> = second
        .messages
        .last()
        .expect("tool message")
        .tool_responses()
        .map(|r| r.output.clone())
        .collect();
    assert_eq!(results, [json!(3), json!(6.0)]);
}

#[tokio::test]
async fn invalid_tool_input_and_tool_errors_go_back_to_the_model() {
    let model = ScriptedModel::new("scripted")
        .tool_requests(vec![
            ("search_db", json!({"query": 5})),
            ("broken", json!({"why": "test"})),
            ("no_such_tool", json!({})),
        ])
        .text("sorry");
    let models = scripted(&model);
    let generation = bounded(
        models
            .generate()
            .prompt("search")
            .tool::<SearchDbTool>()
            .tool::<BrokenTool>()
            .run(),
    )
    .await
    .expect("the loop survives");
    assert_eq!(generation.text(), "sorry");
    let requests = model.requests();
    let tool_message = requests[1].messages.last().expect("tool results");
    let results: Vec<_> = tool_message.tool_responses().collect();
    assert!(results.iter().all(|r| r.is_error), "{results:?}");
    assert_eq!(results[0].output["details"]["errors"][0]["path"], "/query");
    assert!(
        results[1].output["error"]
            .as_str()
            .is_some_and(|e| e.contains("UNAVAILABLE: the warehouse is closed")),
        "{results:?}"
    );
    assert!(
        results[2].output["error"]
            .as_str()
            .is_some_and(|e| e.contains("no tool named 'no_such_tool'")),
        "{results:?}"
    );
    // The model is told about the tools it may call.
    let offered: Vec<&str> = requests[0].tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(offered, ["broken", "search_db"]);
}

#[tokio::test]
async fn too_many_tool_rounds_abort() {
    let mut model = ScriptedModel::new("scripted");
    for _ in 0..4 {
        model = model.tool_request("search_db", json!({"query": "again"}));
    }
    let err = bounded(
        scripted(&model)
            .generate()
            .prompt("loop")
            .tool::<SearchDbTool>()
            .max_turns(2)
            .run(),
    )
    .await
    .expect_err("aborted");
    assert_eq!(err.status(), Status::Aborted);
    assert_eq!(
        model.requests().len(),
        3,
        "two rounds of tools, then the third ask aborts"
    );
}

#[tokio::test]
async fn tool_requests_can_be_returned_to_the_caller() {
    let model = ScriptedModel::new("scripted").tool_request("search_db", json!({"query": "x"}));
    let generation = bounded(
        scripted(&model)
            .generate()
            .prompt("search")
            .tool::<SearchDbTool>()
            .return_tool_requests(true)
            .run(),
    )
    .await
    .expect("returns");
    let requests = generation.tool_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].input, json!({"query": "x"}));
    assert_eq!(model.remaining(), 0);
}

#[tokio::test]
async fn a_tool_schema_is_made_once_per_action_not_per_generate() {
    let model = ScriptedModel::new("scripted").text("one").text("two");
    for prompt in ["first", "second"] {
        bounded(
            scripted(&model)
                .generate()
                .prompt(prompt)
                .tool::<SearchDbTool>()
                .run(),
        )
        .await
        .expect("answers");
    }
    let requests = model.requests();
    let offered: Vec<&serde_json::value::RawValue> = requests
        .iter()
        .map(|r| r.tools[0].input_schema.embeddable_json())
        .collect();
    let action = <SearchDbTool as Action>::schemas().shared_input();
    assert!(
        std::ptr::eq(offered[0], offered[1]),
        "one schema per action"
    );
    assert!(std::ptr::eq(offered[0], action.embeddable_json()));
    assert!(!offered[0].get().contains("$schema"), "{}", offered[0]);
}

#[tokio::test]
async fn an_invalid_structured_reply_is_repaired_once() {
    let model = ScriptedModel::new("scripted")
        .text("{\"name\": \"shoe\"}")
        .text("{\"name\": \"shoe\", \"tags\": [\"red\"], \"price\": null}");
    let product: Product = bounded(
        scripted(&model)
            .generate()
            .prompt("a product")
            .generate_data(),
    )
    .await
    .expect("repaired");
    assert_eq!(
        product,
        Product {
            name: "shoe".into(),
            tags: vec!["red".into()],
            price: None
        }
    );
    let repair = model.requests()[1].messages.last().expect("repair").text();
    assert!(repair.contains("tags"), "{repair}");
}

#[tokio::test]
async fn a_reply_still_invalid_after_repair_keeps_the_raw_text() {
    let model = ScriptedModel::new("scripted")
        .text("not json")
        .text("{\"name\": 1}");
    let err = bounded(
        scripted(&model)
            .generate()
            .prompt("a product")
            .generate_data::<Product>(),
    )
    .await
    .expect_err("still invalid");
    let typed = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<OutputError>())
        .expect("typed");
    assert_eq!(typed.raw, "{\"name\": 1}");
    assert!(matches!(typed.problem, OutputProblem::Invalid(_)));
    assert_eq!(err.details().expect("details")["raw"], "{\"name\": 1}");

    let none = ScriptedModel::new("scripted").text("nope");
    let err = bounded(
        scripted(&none)
            .generate()
            .prompt("x")
            .repair_attempts(0)
            .generate_data::<Product>(),
    )
    .await
    .expect_err("no repair");
    assert!(err.message().contains("not JSON"), "{err}");
    assert_eq!(none.requests().len(), 1);

    // A reply cut off by the token limit is not sent back for repair.
    let cut = genflow_runtime::model::Message::model("{\"name\": \"sh");
    let truncated = ScriptedModel::new("scripted").then(ScriptedTurn::Reply(GenerateResponse {
        message: cut,
        usage: Default::default(),
        finish_reason: genflow_runtime::model::FinishReason::Length,
        model: String::new(),
    }));
    let err = bounded(
        scripted(&truncated)
            .generate()
            .prompt("x")
            .generate_data::<Product>(),
    )
    .await
    .expect_err("truncated");
    assert!(err.message().contains("stopped early (Length)"), "{err}");
    assert_eq!(truncated.requests().len(), 1);
}

#[tokio::test]
async fn the_fallback_model_answers_when_the_first_is_unavailable() {
    let down = ScriptedModel::new("scripted").fail(Status::Unavailable, "down");
    let models = scripted(&down)
        .retry(genflow_runtime::model::RetryPolicy::none())
        .fallback("local/echo");
    let generation = bounded(models.generate().prompt("hello there").run())
        .await
        .expect("fell back");
    assert_eq!(generation.text(), "hello there");
    assert_eq!(generation.response.model, "local/echo");
}

/// A model that never answers.
struct Silent(ModelInfo);

impl Model for Silent {
    fn info(&self) -> &ModelInfo {
        &self.0
    }
    fn stream(
        &self,
        _request: genflow_runtime::model::GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>> {
        Box::pin(futures::future::pending())
    }
}

#[tokio::test]
async fn the_per_call_timeout_is_deadline_exceeded() {
    let models = Models::new()
        .model(Silent(ModelInfo {
            name: "test/silent".into(),
            provider: "test".into(),
            local: true,
        }))
        .timeout(Duration::from_millis(50));
    let err = bounded(models.generate().model("test/silent").prompt("hi").run())
        .await
        .expect_err("times out");
    assert_eq!(err.status(), Status::DeadlineExceeded);
}

/// Counts model and tool calls, and rewrites tool output.
#[derive(Clone, Default)]
struct Counting {
    models: Arc<AtomicUsize>,
    tools: Arc<AtomicUsize>,
}

impl Middleware for Counting {
    fn model<'a>(
        &'a self,
        request: ModelRequest,
        next: Next<'a, ModelHook>,
    ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
        self.models.fetch_add(1, Ordering::SeqCst);
        next.run(request)
    }

    fn tool<'a>(
        &'a self,
        request: ToolRequest,
        next: Next<'a, ToolHook>,
    ) -> BoxFuture<'a, Result<Value, FlowError>> {
        self.tools.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Ok(json!({"wrapped": next.run(request).await?})) })
    }
}

#[tokio::test]
async fn middleware_wraps_model_and_tool_calls() {
    let counting = Counting::default();
    let models = Models::new().middleware(counting.clone());
    let generation = bounded(
        models
            .generate()
            .prompt("find")
            .tool::<SearchDbTool>()
            .run(),
    )
    .await
    .expect("runs");
    assert_eq!(counting.models.load(Ordering::SeqCst), 2);
    assert_eq!(counting.tools.load(Ordering::SeqCst), 1);
    assert_eq!(generation.text(), r#"{"search_db":{"wrapped":["a"]}}"#);
}

#[tokio::test]
async fn dropping_a_generate_cancels_its_tools() {
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    /// Holds a guard forever.
    #[tool]
    async fn forever(ctx: &FlowContext, _x: String) -> Result<(), ToolError> {
        let dropped = ctx
            .state::<Arc<AtomicUsize>>()
            .ok_or_else(|| ToolError::internal("state"))?;
        let started = ctx
            .state::<Arc<tokio::sync::Notify>>()
            .ok_or_else(|| ToolError::internal("state"))?;
        let _guard = Guard(Arc::clone(&dropped));
        started.notify_one();
        futures::future::pending::<()>().await;
        Ok(())
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(tokio::sync::Notify::new());
    let ctx = FlowContext::new()
        .with_state(Models::new())
        .with_state(Arc::clone(&dropped))
        .with_state(Arc::clone(&started));
    let run = ctx.generate().prompt("go").tool::<ForeverTool>().run();
    tokio::select! {
        _ = run => panic!("the tool never finishes"),
        () = started.notified() => {}
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the tool was dropped with the generate"
    );
}

/// Streams the answer to a question as text chunks.
#[flow(stream = String)]
async fn ask(ctx: &FlowContext<String>, question: String) -> Result<String, FlowError> {
    let mut stream = ctx.generate().model("local/echo").prompt(question).stream();
    while let Some(chunk) = stream.next().await {
        if let GenerateChunk::Text { text, .. } = chunk {
            ctx.send_chunk(text).await?;
        }
    }
    Ok(stream.response().await?.text())
}

#[tokio::test]
async fn a_streaming_flow_forwards_model_chunks() {
    let registry = Registry::builder()
        .state(Models::new())
        .build()
        .expect("registry");
    let events: Vec<FlowEvent> = bounded(
        registry
            .stream("ask", json!("one two three"), RunOptions::default())
            .expect("flow")
            .collect(),
    )
    .await;
    let rendered: Vec<String> = events
        .iter()
        .map(|e| match e {
            FlowEvent::Chunk(c) => format!("chunk {c}"),
            FlowEvent::Done(Ok(v)) => format!("result {v}"),
            FlowEvent::Done(Err(e)) => format!("error {e}"),
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "chunk \"one \"",
            "chunk \"two \"",
            "chunk \"three\"",
            "result \"one two three\""
        ]
    );
}
