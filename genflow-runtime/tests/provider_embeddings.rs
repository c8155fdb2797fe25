//! Embedding providers against loopback fakes speaking the real wire formats: OpenAI-compatible
//! `/v1/embeddings` and the Gemini API's `embedContent` / `batchEmbedContents`. Batching,
//! retries and error statuses are those of generation.

#![cfg(feature = "models")]

mod support;

use std::time::Duration;

use genflow_runtime::model::RetryPolicy;
use genflow_runtime::model::providers::{EmbeddingConfig, GoogleAi, OpenAi};
use genflow_runtime::prelude::*;
use genflow_runtime::retrieval::EmbedPurpose;
use serde_json::{Value, json};
use support::{FakeServer, Reply};

fn fast_retries() -> Option<RetryPolicy> {
    Some(RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    })
}

fn openai_reply(vectors: &[(usize, Vec<f32>)]) -> Reply {
    let data: Vec<Value> = vectors
        .iter()
        .map(|(index, v)| json!({"object": "embedding", "index": index, "embedding": v}))
        .collect();
    Reply::Json(
        200,
        vec![],
        json!({"object": "list", "model": "text-embedding-3-small", "data": data,
               "usage": {"prompt_tokens": 8, "total_tokens": 8}}),
    )
}

fn texts(all: &[&str]) -> Vec<String> {
    all.iter().map(|t| (*t).to_owned()).collect()
}

#[tokio::test]
async fn openai_embeddings_are_batched_and_put_in_input_order() {
    let server = FakeServer::start(vec![
        // Indexes out of order: the client orders by `index`.
        openai_reply(&[(1, vec![0.0, 1.0]), (0, vec![1.0, 0.0])]),
        openai_reply(&[(0, vec![0.5, 0.5])]),
    ])
    .await;
    let config = EmbeddingConfig {
        dimensions: Some(2),
        batch_size: Some(2),
        retry: fast_retries(),
    };
    let embedder = OpenAi::new("sk-test")
        .base_url(format!("{}/v1", server.url))
        .embedder("text-embedding-3-small", config)
        .expect("embedder");
    assert_eq!(embedder.info().name, "openai/text-embedding-3-small");
    let vectors = embedder
        .embed(
            &FlowContext::new(),
            texts(&["a", "b", "c"]),
            EmbedPurpose::Document,
        )
        .await
        .expect("embeds");
    assert_eq!(vectors, [vec![1.0, 0.0], vec![0.0, 1.0], vec![0.5, 0.5]]);
    let requests = server.received();
    assert_eq!(requests.len(), 2, "three texts in batches of two");
    assert_eq!(requests[0].path, "/v1/embeddings");
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-test");
    assert_eq!(
        requests[0].body,
        json!({"model": "text-embedding-3-small", "input": ["a", "b"],
               "encoding_format": "float", "dimensions": 2})
    );
    assert_eq!(requests[1].body["input"], json!(["c"]));
}

#[tokio::test]
async fn openai_rate_limits_are_retried_and_bad_requests_are_not() {
    let rate_limited = Reply::Json(
        429,
        vec![("retry-after-ms", "5".to_owned())],
        json!({"error": {"message": "Rate limit reached", "type": "requests",
                         "param": null, "code": "rate_limit_exceeded"}}),
    );
    let server = FakeServer::start(vec![rate_limited, openai_reply(&[(0, vec![1.0])])]).await;
    let embedder = OpenAi::new("sk-test")
        .base_url(format!("{}/v1", server.url))
        .embedder(
            "m",
            EmbeddingConfig {
                retry: fast_retries(),
                ..EmbeddingConfig::default()
            },
        )
        .expect("embedder");
    let ctx = FlowContext::new();
    let vectors = embedder
        .embed(&ctx, texts(&["x"]), EmbedPurpose::Query)
        .await
        .expect("the retry succeeds");
    assert_eq!(vectors, [vec![1.0]]);
    assert_eq!(server.received().len(), 2);

    let refused = Reply::Json(
        400,
        vec![],
        json!({"error": {"message": "'$.input' is invalid", "type": "invalid_request_error",
                         "param": null, "code": null}}),
    );
    let server = FakeServer::start(vec![refused]).await;
    let embedder = OpenAi::compatible("ollama", format!("{}/v1", server.url))
        .embedder(
            "nomic-embed-text",
            EmbeddingConfig {
                retry: fast_retries(),
                ..EmbeddingConfig::default()
            },
        )
        .expect("embedder");
    let error = embedder
        .embed(&ctx, texts(&[""]), EmbedPurpose::Document)
        .await
        .expect_err("refused");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(
        error.message().contains("'$.input' is invalid"),
        "{}",
        error.message()
    );
    assert_eq!(server.received().len(), 1, "not retried");
    assert!(
        !server.only().headers.contains_key("authorization"),
        "no key for a compatible server without one"
    );
}

#[tokio::test]
async fn a_reply_with_too_few_embeddings_is_an_error() {
    let server = FakeServer::start(vec![openai_reply(&[(0, vec![1.0])])]).await;
    let embedder = OpenAi::new("sk-test")
        .base_url(format!("{}/v1", server.url))
        .embedder("m", EmbeddingConfig::default())
        .expect("embedder");
    let error = embedder
        .embed(
            &FlowContext::new(),
            texts(&["a", "b"]),
            EmbedPurpose::Document,
        )
        .await
        .expect_err("one vector for two texts");
    assert_eq!(error.status(), Status::Internal);
    assert!(
        error.message().contains("1 embeddings for 2 texts"),
        "{}",
        error.message()
    );
}

fn gemini(server: &FakeServer, config: EmbeddingConfig) -> genflow_runtime::retrieval::Embedder {
    GoogleAi::new("gm-key")
        .base_url(format!("{}/v1beta", server.url))
        .embedder("gemini-embedding-001", config)
        .expect("embedder")
}

#[tokio::test]
async fn gemini_embeds_one_text_with_embed_content_and_several_with_batches() {
    let server = FakeServer::start(vec![
        Reply::Json(200, vec![], json!({"embedding": {"values": [0.25, -0.5]}})),
        Reply::Json(
            200,
            vec![],
            json!({"embeddings": [{"values": [1.0, 0.0]}, {"values": [0.0, 1.0]}]}),
        ),
    ])
    .await;
    let config = EmbeddingConfig {
        dimensions: Some(2),
        ..EmbeddingConfig::default()
    };
    let embedder = gemini(&server, config);
    let ctx = FlowContext::new();
    let query = embedder
        .embed(
            &ctx,
            texts(&["What is the meaning of life?"]),
            EmbedPurpose::Query,
        )
        .await
        .expect("embeds");
    assert_eq!(query, [vec![0.25, -0.5]]);
    let documents = embedder
        .embed(&ctx, texts(&["one", "two"]), EmbedPurpose::Document)
        .await
        .expect("embeds");
    assert_eq!(documents, [vec![1.0, 0.0], vec![0.0, 1.0]]);

    let requests = server.received();
    assert_eq!(
        requests[0].path,
        "/v1beta/models/gemini-embedding-001:embedContent"
    );
    assert_eq!(requests[0].headers["x-goog-api-key"], "gm-key");
    assert_eq!(
        requests[0].body,
        json!({"model": "models/gemini-embedding-001",
               "content": {"parts": [{"text": "What is the meaning of life?"}]},
               "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 2})
    );
    assert_eq!(
        requests[1].path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    let batch = &requests[1].body["requests"];
    assert_eq!(batch.as_array().map(Vec::len), Some(2));
    assert_eq!(batch[1]["content"]["parts"][0]["text"], "two");
    assert_eq!(batch[1]["taskType"], "RETRIEVAL_DOCUMENT");
    assert_eq!(batch[1]["model"], "models/gemini-embedding-001");
}

#[tokio::test]
async fn gemini_quota_errors_wait_for_the_retry_delay_then_give_up() {
    let exhausted = || {
        Reply::Json(
            429,
            vec![],
            json!({"error": {"code": 429, "message": "Resource has been exhausted",
                "status": "RESOURCE_EXHAUSTED", "details": [
                  {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.01s"}]}}),
        )
    };
    let server = FakeServer::start(vec![exhausted(), exhausted(), exhausted()]).await;
    let embedder = gemini(
        &server,
        EmbeddingConfig {
            retry: fast_retries(),
            ..EmbeddingConfig::default()
        },
    );
    let error = embedder
        .embed(&FlowContext::new(), texts(&["x"]), EmbedPurpose::Query)
        .await
        .expect_err("exhausted");
    assert_eq!(error.status(), Status::ResourceExhausted);
    assert_eq!(server.received().len(), 3, "the first try and two retries");
    assert_eq!(error.retry_after(), Some(Duration::from_millis(10)));
}

#[tokio::test]
async fn a_missing_key_names_the_variable() {
    let error = GoogleAi::from_env(&genflow_runtime::model::EnvVars::from_pairs([]))
        .embedder("gemini-embedding-001", EmbeddingConfig::default())
        .expect_err("no key");
    assert!(
        error.message().contains("GEMINI_API_KEY"),
        "{}",
        error.message()
    );
}
