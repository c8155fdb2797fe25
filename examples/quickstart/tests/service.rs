//! The quickstart as a newcomer runs it: a real process on a free loopback port, offline,
//! called plain and streaming over HTTP, then stopped with SIGTERM.

mod support;

use serde_json::{Value, json};
use support::Service;

#[tokio::test]
async fn quickstart_answers_plain_and_streaming_then_stops_cleanly() {
    let service = Service::start();
    assert!(
        service.base.starts_with("http://127.0.0.1:"),
        "{}",
        service.base
    );
    let http = reqwest::Client::new();

    let plain = http
        .post(format!("{}/ragQuery", service.base))
        .json(&json!({"data": {"question": "How do tools work?"}}))
        .send()
        .await
        .expect("POST /ragQuery");
    assert_eq!(plain.status(), 200);
    assert_eq!(
        plain.headers().get("x-genkit-trace-id").map(|v| v.len()),
        Some(32)
    );
    let body: Value = plain.json().await.expect("json");
    let result = &body["result"];
    assert!(result["answer"].is_string(), "{body}");
    assert!(result["confidence"].is_number(), "{body}");
    let citations = result["citations"].as_array().expect("citations");
    assert!(citations.contains(&json!("tools")), "{body}");

    let streamed = http
        .post(format!("{}/ragQueryStream", service.base))
        .header("accept", "text/event-stream")
        .json(&json!({"data": {"question": "How does streaming work?"}}))
        .send()
        .await
        .expect("POST /ragQueryStream");
    assert_eq!(streamed.status(), 200);
    let text = streamed.text().await.expect("body");
    let frames: Vec<Value> = text
        .split("\n\n")
        .filter_map(|f| f.strip_prefix("data: "))
        .map(|f| serde_json::from_str(f).expect("frame is JSON"))
        .collect();
    let (last, chunks) = frames.split_last().expect("frames");
    assert!(!chunks.is_empty(), "the model's text is streamed: {text}");
    assert!(chunks.iter().all(|c| c["message"].is_string()), "{text}");
    assert!(
        last["result"]["citations"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("streaming"))),
        "{text}"
    );

    let invalid = http
        .post(format!("{}/ragQuery", service.base))
        .json(&json!({"data": {"question": 7}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(invalid.status(), 400);
    let body: Value = invalid.json().await.expect("json");
    assert_eq!(body["details"]["errors"][0]["path"], "/question");

    // The contract says what the flow accepts: a blank question is refused by the schema, and
    // the OpenAPI document requires `data` for it.
    let blank = http
        .post(format!("{}/ragQueryStream", service.base))
        .header("accept", "text/event-stream")
        .json(&json!({"data": {"question": "  "}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(blank.status(), 400);
    let body: Value = blank.json().await.expect("json");
    assert_eq!(body["details"]["errors"][0]["path"], "/question");
    let openapi: Value = http
        .get(format!("{}/openapi.json", service.base))
        .send()
        .await
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("json");
    let request = &openapi["paths"]["/ragQueryStream"]["post"]["requestBody"];
    assert_eq!(request["required"], true, "{request}");
    assert_eq!(
        request["content"]["application/json"]["schema"]["required"],
        json!(["data"]),
        "{request}"
    );

    let metrics = http
        .get(format!("{}/metrics", service.base))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .contains(r#"genkit_action_requests_total{kind="flow",name="ragQuery",status="OK"} 1"#),
        "{metrics}"
    );

    assert!(service.stop().success(), "exits 0 on SIGTERM");
}

#[test]
fn a_bad_config_stops_start_up_naming_the_file_line_and_fix() {
    let dir = std::env::temp_dir().join(format!("genflow-bad-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("genflow.toml");
    std::fs::write(&file, "[server]\nbodylimit = 3\n").expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env("GENFLOW_CONFIG", &file)
        .env("PORT", "0")
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("genflow.toml"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("unknown field `bodylimit`"), "{stderr}");
    assert!(stderr.contains("body_limit"), "{stderr}");
}
