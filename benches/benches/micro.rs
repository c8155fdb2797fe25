//! Micro-benchmarks of genflow's per-call overhead, each next to the code it replaces.
//!
//! - `flow_call`: a trivial flow called as a plain function, through its typed handle
//!   (`Registry::call`: timeout and panic guard, span) and by name on JSON
//!   (`Registry::run`: validation, decoding, encoding too).
//! - `input`: `QueryInput` from JSON with serde alone, and with genflow's schema validation
//!   followed by its path-reporting decode.
//! - `http`: one request through the in-process router (no sockets): a hand-written axum
//!   handler, genflow's router answering JSON, and genflow's router answering server-sent
//!   events (so SSE frame encoding is included).
//! - `telemetry`: `Registry::run` and the JSON router again, once telemetry is installed with
//!   the quickstart's defaults (logs at `info`, trace store, metrics, recorded inputs and
//!   outputs). The groups above run without a subscriber, so their spans cost nothing; this
//!   one runs last because the subscriber is process-wide.
//!
//! `cargo bench -p genflow-bench --bench micro` (a few seconds per group). The docs report
//! ratios, not absolute times: compare within one run.

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{Request, header};
use axum::routing::post;
use criterion::{Criterion, criterion_main};
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::Telemetry;
use genflow_runtime::{ActionSchemas, decode, http};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The quickstart's input type.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct QueryInput {
    /// The question to answer.
    question: String,
    /// Extra passages to consider besides the bundled documents.
    #[serde(default)]
    context: Vec<String>,
}

/// The quickstart's output type.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct QueryOutput {
    /// The answer.
    answer: String,
    /// Ids of the documents the answer draws on.
    citations: Vec<String>,
    /// How sure the answer is, from 0 to 1.
    confidence: f64,
}

/// Answers with the question itself: the flow does (almost) nothing, so what is measured is
/// the cost of calling it.
#[flow(name = "echo", timeout = "30s")]
async fn echo(input: QueryInput) -> Result<QueryOutput, FlowError> {
    Ok(answer(input))
}

/// The same, streaming its answer as one chunk.
#[flow(name = "echoStream", stream = String, timeout = "30s")]
async fn echo_stream(
    ctx: &FlowContext<String>,
    input: QueryInput,
) -> Result<QueryOutput, FlowError> {
    ctx.send_chunk(input.question.clone()).await?;
    Ok(answer(input))
}

fn answer(input: QueryInput) -> QueryOutput {
    QueryOutput {
        answer: input.question,
        citations: input.context,
        confidence: 0.5,
    }
}

fn input_json() -> Value {
    json!({
        "question": "How do tools work in genflow?",
        "context": ["Tools are async functions.", "Their doc comment is their description."],
    })
}

fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

fn flow_call(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builder().build().expect("registry");
    let typed: QueryInput = serde_json::from_value(input_json()).expect("input");
    let mut group = c.benchmark_group("flow_call");
    group.bench_function("direct_fn", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(echo(black_box(typed.clone())).await) })
    });
    group.bench_function("registry_call_typed", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(registry.call::<EchoFlow>(black_box(typed.clone())).await) })
    });
    group.bench_function("registry_run_json", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(registry.run("echo", black_box(input_json())).await) })
    });
    group.finish();
}

fn input(c: &mut Criterion) {
    let schemas = ActionSchemas::generate::<QueryInput, QueryOutput, ()>(false);
    let mut group = c.benchmark_group("input");
    group.bench_function("serde_from_value", |b| {
        b.iter(|| {
            black_box(serde_json::from_value::<QueryInput>(
                black_box(input_json()),
            ))
        })
    });
    group.bench_function("genflow_validate_and_decode", |b| {
        b.iter(|| {
            let value = black_box(input_json());
            schemas.validate_input(&value).expect("valid");
            black_box(decode::<QueryInput>(value))
        })
    });
    group.finish();
}

fn http(c: &mut Criterion) {
    let rt = runtime();
    let registry = Registry::builder().build().expect("registry");
    let genflow = http::router(registry);
    let hand_written = axum::Router::new().route(
        "/echo",
        post(|axum::Json(body): axum::Json<Value>| async move {
            let input: QueryInput =
                serde_json::from_value(body["data"].clone()).expect("valid input");
            axum::Json(json!({"result": answer(input)}))
        }),
    );
    let body = json!({"data": input_json()}).to_string();
    let request = |path: &str, accept: &str| {
        Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, accept)
            .body(Body::from(body.clone()))
            .expect("request")
    };
    let send = |router: &axum::Router, request: Request<Body>| {
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.expect("infallible");
            assert!(response.status().is_success(), "{}", response.status());
            black_box(
                to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body"),
            )
        }
    };
    let mut group = c.benchmark_group("http");
    group.bench_function("axum_hand_written_json", |b| {
        b.to_async(&rt)
            .iter(|| send(&hand_written, request("/echo", "application/json")))
    });
    group.bench_function("genflow_router_json", |b| {
        b.to_async(&rt)
            .iter(|| send(&genflow, request("/echo", "application/json")))
    });
    group.bench_function("genflow_router_sse", |b| {
        b.to_async(&rt)
            .iter(|| send(&genflow, request("/echoStream", "text/event-stream")))
    });
    group.finish();
}

fn telemetry(c: &mut Criterion) {
    let telemetry = Telemetry::new().init().expect("telemetry");
    let rt = runtime();
    let registry = Registry::builder()
        .telemetry(telemetry)
        .build()
        .expect("registry");
    let genflow = http::router(registry.clone());
    let mut group = c.benchmark_group("telemetry");
    group.bench_function("registry_run_json", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(registry.run("echo", black_box(input_json())).await) })
    });
    group.bench_function("genflow_router_json", |b| {
        b.to_async(&rt)
            .iter(|| send(&genflow, request("/echo", "application/json")))
    });
    group.finish();
}

/// The `{"data": ...}` envelope of [`input_json`], serialized once.
static BODY: LazyLock<Bytes> =
    LazyLock::new(|| Bytes::from(json!({"data": input_json()}).to_string()));

/// `POST path` with [`BODY`].
fn request(path: &str, accept: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(Body::from(BODY.clone()))
        .expect("request")
}

/// Sends `request` through `router` and reads the whole answer.
async fn send(router: &axum::Router, request: Request<Body>) -> Bytes {
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert!(response.status().is_success(), "{}", response.status());
    black_box(
        to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body"),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs every group (what `criterion_group!` would generate, documented).
fn benches() {
    let mut c = criterion().configure_from_args();
    flow_call(&mut c);
    input(&mut c);
    http(&mut c);
    telemetry(&mut c);
}

criterion_main!(benches);
