//! The quickstart as a newcomer runs it: a real process on a free loopback port, offline,
//! called plain and streaming over HTTP, then stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// The running service and the base URL it printed.
struct Service {
    child: Child,
    base: String,
}

impl Service {
    fn start() -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_quickstart"))
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env_remove("GENFLOW_MODEL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("GENFLOW_CONFIG")
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the quickstart starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("genflow serving on ") {
                    let _ = tx.send(line[at + "genflow serving on ".len()..].trim().to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the quickstart prints where it listens");
        Service { child, base }
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the quickstart did not stop within 10 s of SIGTERM");
    }
}

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
