//! Flows and tools defined with the macros, called directly and through the registry.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use genflow_runtime::prelude::*;
use genflow_runtime::run::{Cancellation, CancellationToken};
use genflow_runtime::{ActionKind, FlowEvent, RegistryError, RunOptions};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
struct QueryInput {
    question: String,
    #[serde(default)]
    context: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct QueryOutput {
    answer: String,
    citations: Vec<String>,
    confidence: f64,
}

/// Answer a question from the given context.
#[flow(name = "ragQuery", timeout = "2s")]
async fn rag_query(ctx: &FlowContext, input: QueryInput) -> Result<QueryOutput, FlowError> {
    let docs = ctx
        .run("retrieve", async {
            Ok::<_, FlowError>(input.context.clone())
        })
        .await?;
    Ok(QueryOutput {
        answer: format!("{} ({} docs)", input.question, docs.len()),
        citations: docs,
        confidence: 0.5,
    })
}

/// Search the product database by keyword.
#[tool]
async fn search_db(
    /// Words to look for
    query: String,
    /// At most this many rows
    limit: Option<u32>,
) -> Result<Vec<String>, ToolError> {
    let limit = limit.unwrap_or(2) as usize;
    Ok(query
        .split_whitespace()
        .take(limit)
        .map(str::to_owned)
        .collect())
}

struct Counter {
    calls: AtomicUsize,
}

/// Counts calls in shared state.
#[flow]
async fn count_calls(counter: State<Counter>, _input: ()) -> Result<usize, FlowError> {
    Ok(counter.calls.fetch_add(1, Ordering::SeqCst) + 1)
}

/// Sleeps longer than its timeout.
#[flow(timeout = "50ms")]
async fn too_slow(_input: ()) -> Result<(), FlowError> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

/// Panics on purpose.
#[flow]
async fn panics(input: String) -> Result<String, FlowError> {
    if input == "boom" {
        panic!("the flow exploded");
    }
    Ok(input)
}

/// Streams the words of its input.
#[flow(stream = String)]
async fn words(ctx: &FlowContext<String>, input: String) -> Result<usize, FlowError> {
    let mut n = 0;
    for word in input.split_whitespace() {
        ctx.send_chunk(word.to_owned()).await?;
        n += 1;
    }
    Ok(n)
}

/// Searches several queries concurrently through the tool.
#[flow]
async fn fan_out(ctx: &FlowContext, queries: Vec<String>) -> Result<Vec<Vec<String>>, FlowError> {
    ctx.all(
        queries
            .into_iter()
            .map(|query| ctx.call::<SearchDbTool>(SearchDbArgs { query, limit: None })),
    )
    .await
}

fn registry() -> Registry {
    Registry::builder()
        .state(Counter {
            calls: AtomicUsize::new(0),
        })
        .build()
        .expect("registry builds")
}

#[tokio::test]
async fn direct_call_and_registry_agree() {
    let input = QueryInput {
        question: "why?".into(),
        context: vec!["a".into(), "b".into()],
    };
    let direct = rag_query(&FlowContext::new(), input.clone())
        .await
        .expect("direct call");
    let through = registry()
        .run(
            "ragQuery",
            serde_json::to_value(&input).expect("input json"),
        )
        .await
        .expect("registry call");
    assert_eq!(serde_json::to_value(&direct).expect("output json"), through);
    assert_eq!(through["answer"], "why? (2 docs)");
    let typed = registry()
        .call::<RagQueryFlow>(input)
        .await
        .expect("typed call");
    assert_eq!(typed, direct);
}

#[tokio::test]
async fn bad_json_names_the_path() {
    let err = registry()
        .run(
            "ragQuery",
            json!({"question": 42, "context": ["ok", false]}),
        )
        .await
        .expect_err("invalid input");
    assert_eq!(err.status(), Status::InvalidArgument);
    let paths: Vec<String> = err.details().expect("details")["errors"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths.contains(&"/question".to_owned()));
    assert!(paths.contains(&"/context/1".to_owned()));
}

#[tokio::test]
async fn unknown_flow_is_not_found() {
    let err = registry()
        .run("nope", Value::Null)
        .await
        .expect_err("no such flow");
    assert_eq!(err.status(), Status::NotFound);
}

#[tokio::test]
async fn tool_params_become_an_argument_struct_with_descriptions() {
    let registry = registry();
    let tool = registry
        .get(ActionKind::Tool, "search_db")
        .expect("tool registered");
    assert_eq!(
        tool.meta().description,
        "Search the product database by keyword."
    );
    let schema = tool.schemas().input();
    assert_eq!(
        schema["properties"]["query"]["description"],
        "Words to look for"
    );
    assert_eq!(schema["required"], json!(["query"]));
    let tool_out = tool
        .invoke(registry.context(), json!({"query": "red blue green"}), None)
        .await
        .expect("tool runs");
    assert_eq!(tool_out, json!(["red", "blue"]));
    assert_eq!(
        search_db("x y z".into(), Some(3)).await.expect("direct"),
        ["x", "y", "z"]
    );
}

#[tokio::test]
async fn state_is_shared_and_checked_at_build() {
    let registry = registry();
    assert_eq!(
        registry.run("count_calls", Value::Null).await.expect("1"),
        json!(1)
    );
    assert_eq!(
        registry.run("count_calls", Value::Null).await.expect("2"),
        json!(2)
    );

    let missing = Registry::builder()
        .build()
        .expect_err("Counter was not provided");
    match &missing {
        RegistryError::MissingState {
            name, type_name, ..
        } => {
            assert_eq!(name, "count_calls");
            assert!(type_name.ends_with("Counter"), "{type_name}");
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(missing.to_string().contains("flows.rs"), "{missing}");

    let direct = count_calls(
        State(Arc::new(Counter {
            calls: AtomicUsize::new(41),
        })),
        (),
    )
    .await;
    assert_eq!(direct.expect("direct"), 42);
}

#[tokio::test]
async fn timeout_becomes_deadline_exceeded() {
    let err = registry()
        .run("too_slow", Value::Null)
        .await
        .expect_err("times out");
    assert_eq!(err.status(), Status::DeadlineExceeded);
}

/// Waits far longer than any test.
#[flow]
async fn sleeps(_input: ()) -> Result<(), FlowError> {
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok(())
}

#[tokio::test]
async fn a_default_timeout_bounds_only_actions_without_their_own() {
    let options = || RunOptions {
        default_timeout: Some(Duration::from_millis(20)),
        ..RunOptions::default()
    };
    let registry = registry();
    let err = registry
        .run_with("sleeps", Value::Null, options())
        .await
        .expect_err("times out");
    assert_eq!(err.status(), Status::DeadlineExceeded);
    assert_eq!(err.message(), "flow 'sleeps' did not finish within 20ms");
    // `too_slow` has its own 50 ms timeout, which wins over the default.
    let err = registry
        .run_with("too_slow", Value::Null, options())
        .await
        .expect_err("times out");
    assert_eq!(err.message(), "flow 'too_slow' did not finish within 50ms");
}

#[tokio::test]
async fn a_cancelled_run_ends_with_the_cancellation_error() {
    let token = CancellationToken::new();
    let registry = registry();
    let plain = registry
        .start(
            "sleeps",
            Value::Null,
            RunOptions {
                cancel: Some(Cancellation::new(token.clone())),
                ..RunOptions::default()
            },
        )
        .expect("starts");
    let custom = registry
        .start(
            "sleeps",
            Value::Null,
            RunOptions {
                cancel: Some(
                    Cancellation::new(token.clone()).with_error(|| FlowError::unavailable("bye")),
                ),
                ..RunOptions::default()
            },
        )
        .expect("starts");
    let plain = tokio::spawn(plain.future);
    let custom = tokio::spawn(custom.future);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!plain.is_finished(), "runs until cancelled");
    token.cancel();
    let plain = plain.await.expect("joins").expect_err("cancelled");
    assert_eq!(plain.status(), Status::Cancelled);
    let custom = custom.await.expect("joins").expect_err("cancelled");
    assert_eq!(
        (custom.status(), custom.message()),
        (Status::Unavailable, "bye")
    );
}

#[tokio::test]
async fn panic_becomes_internal_error() {
    let registry = registry();
    let err = registry
        .run("panics", json!("boom"))
        .await
        .expect_err("panics");
    assert_eq!(err.status(), Status::Internal);
    assert!(
        err.message().contains("the flow exploded"),
        "{}",
        err.message()
    );
    assert_eq!(
        registry
            .run("panics", json!("fine"))
            .await
            .expect("still serving"),
        json!("fine")
    );
}

#[tokio::test]
async fn streaming_yields_chunks_then_one_result() {
    use futures::StreamExt;
    let events: Vec<FlowEvent> = registry()
        .stream("words", json!("a b c"), RunOptions::default())
        .expect("flow exists")
        .collect()
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
        ["chunk \"a\"", "chunk \"b\"", "chunk \"c\"", "result 3"]
    );

    let (ctx, mut rx) = FlowContext::<String>::streaming(8);
    assert_eq!(words(&ctx, "x y".into()).await.expect("direct"), 2);
    assert_eq!(rx.recv().await.as_deref(), Some("x"));
    assert_eq!(rx.recv().await.as_deref(), Some("y"));
}

#[tokio::test]
async fn fan_out_runs_tools_through_the_context() {
    let out = registry()
        .run("fan_out", json!(["a b c", "d"]))
        .await
        .expect("fan out");
    assert_eq!(out, json!([["a", "b"], ["d"]]));
}

#[tokio::test]
async fn all_aggregates_every_failure() {
    let ctx = FlowContext::new();
    let err = ctx
        .all([
            Box::pin(async { Err::<u8, _>(FlowError::unavailable("first")) })
                as std::pin::Pin<
                    Box<dyn std::future::Future<Output = Result<u8, FlowError>> + Send>,
                >,
            Box::pin(async { Ok(1) }),
            Box::pin(async { Err(FlowError::internal("third")) }),
        ])
        .await
        .expect_err("two failed");
    assert_eq!(err.status(), Status::Unavailable);
    assert_eq!(
        err.details().expect("details")["errors"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn dropping_a_flow_cancels_its_steps() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let ctx = FlowContext::new();
    let flag = Flag(Arc::clone(&dropped));
    let step = ctx.run("sleepy", async move {
        let _flag = flag;
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok::<_, FlowError>(())
    });
    let outcome = tokio::time::timeout(Duration::from_millis(20), step).await;
    assert!(outcome.is_err(), "the step should still be running");
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "dropping the future dropped the step"
    );
}
