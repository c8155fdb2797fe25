//! The flow server over real HTTP: every status of the contract, auth, limits, OpenAPI, health.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{DropSignal, Running, start, start_with, within};
use genflow_runtime::client::{ClientError, FlowClient};
use genflow_runtime::http::{ApiKey, ApiKeyAuth, FlowServer, Parts, auth_fn};
use genflow_runtime::prelude::*;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Notify, oneshot};

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct QueryInput {
    question: String,
    #[serde(default)]
    context: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct QueryOutput {
    answer: String,
    sources: usize,
}

/// Answers a question.
#[flow(name = "ragQuery")]
async fn rag_query(input: QueryInput) -> Result<QueryOutput, FlowError> {
    Ok(QueryOutput {
        answer: format!("you asked: {}", input.question),
        sources: input.context.len(),
    })
}

/// Says what it got, null included.
#[flow]
async fn maybe(input: Option<String>) -> Result<String, FlowError> {
    Ok(input.unwrap_or_else(|| "nothing".to_owned()))
}

/// Fails the way its input says.
#[flow]
async fn fail(kind: String) -> Result<(), FlowError> {
    match kind.as_str() {
        "internal" => Err(FlowError::internal("secret connection string")),
        "public" => Err(FlowError::public(Status::Internal, "try again tomorrow")),
        "panic" => panic!("secret panic message"),
        _ => Err(FlowError::new(
            Status::AlreadyExists,
            format!("{kind} exists"),
        )),
    }
}

/// Never finishes within its timeout.
#[flow(timeout = "50ms")]
async fn slow(_input: ()) -> Result<(), FlowError> {
    std::future::pending::<()>().await;
    Ok(())
}

/// Has no timeout of its own and never finishes.
#[flow]
async fn forever(_input: ()) -> Result<(), FlowError> {
    std::future::pending::<()>().await;
    Ok(())
}

/// Rendezvous between a test and the `hold` flow.
#[derive(Clone, Default)]
struct Rendezvous {
    entered: Arc<Notify>,
    release: Arc<Notify>,
    dropped: Arc<Mutex<Option<oneshot::Sender<()>>>>,
}

/// Signals that it started, then waits for the test to release it.
#[flow]
async fn hold(hold: State<Rendezvous>, _input: ()) -> Result<String, FlowError> {
    let _guard = DropSignal(hold.dropped.lock().await.take());
    hold.entered.notify_one();
    hold.release.notified().await;
    Ok("released".to_owned())
}

/// Who called, as the router-wide auth provider saw it.
#[flow]
async fn whoami(ctx: &FlowContext, _input: ()) -> Result<String, FlowError> {
    if ctx.auth::<ApiKeyAuth>().is_some() {
        return Ok("a key holder".to_owned());
    }
    ctx.auth::<User>()
        .map(|user| user.0.clone())
        .ok_or_else(|| FlowError::internal("no auth context"))
}

struct User(String);

async fn user_header(parts: &Parts) -> Result<User, FlowError> {
    match parts.headers.get("x-user").and_then(|v| v.to_str().ok()) {
        None => Err(FlowError::new(Status::Unauthenticated, "who are you?")),
        Some("mallory") => Err(FlowError::new(Status::PermissionDenied, "not you")),
        Some(name) => Ok(User(name.to_owned())),
    }
}

fn server() -> (FlowServer, Rendezvous) {
    let hold = Rendezvous::default();
    let registry = Registry::builder()
        .state(hold.clone())
        .build()
        .expect("registry builds");
    (FlowServer::new(registry), hold)
}

async fn post(running: &Running, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(running.url(path))
        .json(&body)
        .send()
        .await
        .expect("request");
    let code = response.status().as_u16();
    (code, response.json().await.expect("JSON body"))
}

fn is_hex(value: Option<&reqwest::header::HeaderValue>, len: usize) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test]
async fn success_returns_result_and_trace_headers() {
    let running = start(server().0).await;
    let response = reqwest::Client::new()
        .post(running.url("/ragQuery"))
        .json(&json!({"data": {"question": "why?", "context": ["a", "b"]}, "init": 1}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(is_hex(response.headers().get("x-genkit-trace-id"), 32));
    assert!(is_hex(response.headers().get("x-genkit-span-id"), 16));
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"result": {"answer": "you asked: why?", "sources": 2}})
    );

    let client = FlowClient::new(&running.base);
    let typed = client
        .run::<RagQueryFlow>(QueryInput {
            question: "typed".into(),
            context: vec![],
        })
        .await
        .expect("typed call");
    assert_eq!(typed.answer, "you asked: typed");
    running.stop().await;
}

#[tokio::test]
async fn missing_body_or_data_is_null_input() {
    let running = start(server().0).await;
    let http = reqwest::Client::new();
    for request in [
        http.post(running.url("/maybe")),
        http.post(running.url("/maybe"))
            .header(CONTENT_TYPE, "application/json")
            .body("{}"),
        http.post(running.url("/maybe"))
            .json(&json!({"data": null})),
    ] {
        let body: Value = request
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert_eq!(body, json!({"result": "nothing"}));
    }
    // A flow whose input is not nullable refuses null.
    let (code, body) = post(&running, "/ragQuery", json!({})).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    running.stop().await;
}

#[tokio::test]
async fn invalid_input_is_400_with_every_path() {
    let running = start(server().0).await;
    let (code, body) = post(
        &running,
        "/ragQuery",
        json!({"data": {"question": 7, "context": ["ok", false]}}),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(body["status"], "INVALID_ARGUMENT");
    let mut paths: Vec<&str> = body["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/context/1", "/question"]);

    let err = FlowClient::new(&running.base)
        .run_json("ragQuery", &json!({"context": []}))
        .await
        .expect_err("question missing");
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(
        matches!(&err, ClientError::Flow { details: Some(d), http_code: Some(400), .. } if d["errors"].is_array()),
        "{err:?}"
    );
    running.stop().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_json() {
    let running = start(server().0).await;
    let http = reqwest::Client::new();
    let cases = [
        ("application/json", "{\"data\": "),
        ("application/json", "[1, 2]"),
        ("text/plain", "{\"data\": \"hi\"}"),
        ("application/x-www-form-urlencoded", "data=hi"),
    ];
    for (content_type, body) in cases {
        let response = http
            .post(running.url("/maybe"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 400, "{content_type} {body}");
        let body: Value = response.json().await.expect("json error body");
        assert_eq!(body["status"], "INVALID_ARGUMENT");
    }
    running.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let (server, _) = server();
    let running = start(server.only(["ragQuery", "maybe", "nope"])).await;
    let (code, body) = post(&running, "/nope", json!({})).await;
    assert_eq!((code, body["status"].as_str()), (404, Some("NOT_FOUND")));
    let (code, _) = post(&running, "/fail", json!({"data": "x"})).await;
    assert_eq!(code, 404, "a flow outside the served subset");
    let err = FlowClient::new(&running.base)
        .run_json("nope", &())
        .await
        .expect_err("not found");
    assert_eq!(err.status(), Status::NotFound);

    let response = reqwest::get(running.url("/ragQuery")).await.expect("get");
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.headers().get("allow").map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );
    let body: Value = response.json().await.expect("json");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("POST")));
    running.stop().await;
}

#[tokio::test]
async fn prefix_moves_every_route() {
    let running = start(server().0.prefix("api/")).await;
    let (code, body) = post(&running, "/api/maybe", json!({"data": "x"})).await;
    assert_eq!((code, body), (200, json!({"result": "x"})));
    assert_eq!(post(&running, "/maybe", json!({})).await.0, 404);
    let health = reqwest::get(running.url("/api/healthz"))
        .await
        .expect("get");
    assert_eq!(health.status(), 200);
    running.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_413_json() {
    let running = start(server().0.body_limit(64)).await;
    let big = json!({"data": "x".repeat(200)});
    let (code, body) = post(&running, "/maybe", big.clone()).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (413, Some("RESOURCE_EXHAUSTED"))
    );
    // A chunked body of unknown length is cut off as well.
    let chunks =
        futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(bytes_of(&"y".repeat(16)))));
    let response = reqwest::Client::new()
        .post(running.url("/maybe"))
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 413);
    assert_eq!(post(&running, "/maybe", json!({"data": "ok"})).await.0, 200);
    // A chunked body within the limit is read whole.
    let pieces =
        ["{\"da", "ta\": \"chu", "nked\"}"].map(|piece| Ok::<_, std::io::Error>(bytes_of(piece)));
    let response = reqwest::Client::new()
        .post(running.url("/maybe"))
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(pieces)))
        .send()
        .await
        .expect("send");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({"result": "chunked"}));
    running.stop().await;
}

fn bytes_of(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[tokio::test]
async fn overload_is_shed_with_503_and_retry_after() {
    let (server, hold) = server();
    let running = start(server.concurrency_limit(1)).await;
    let held = tokio::spawn(post_owned(running.url("/hold")));
    within(hold.entered.notified()).await;

    let response = reqwest::Client::new()
        .post(running.url("/maybe"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get(RETRY_AFTER).map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "UNAVAILABLE");
    let shed = FlowClient::new(&running.base).run_json("maybe", &()).await;
    assert_eq!(
        shed.map_err(|e| e.status()).err(),
        Some(Status::Unavailable)
    );
    // Health checks are not flow requests: never shed.
    assert_eq!(
        reqwest::get(running.url("/healthz"))
            .await
            .expect("get")
            .status(),
        200
    );

    hold.release.notify_one();
    let (code, body) = within(held).await.expect("join");
    assert_eq!((code, body), (200, json!({"result": "released"})));
    assert_eq!(
        post(&running, "/maybe", json!({})).await.0,
        200,
        "the slot is free again"
    );
    running.stop().await;
}

async fn post_owned(url: String) -> (u16, Value) {
    let response = reqwest::Client::new().post(url).send().await.expect("send");
    let code = response.status().as_u16();
    (code, response.json().await.expect("json"))
}

#[tokio::test]
async fn api_key_and_custom_providers() {
    let (server, _) = server();
    let server = server
        .auth(auth_fn(user_header))
        .flow_auth("whoami", ApiKey::bearer("s3cret"))
        .flow_auth(
            "ragQuery",
            ApiKey::header("x-api-key".try_into().expect("name"), "k"),
        );
    let running = start(server).await;
    let http = reqwest::Client::new();
    let call = |path: &'static str, header: Option<(&'static str, &'static str)>| {
        let mut request = http.post(running.url(path)).json(&json!({"data": null}));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.expect("send");
            let code = response.status().as_u16();
            let body: Value = response.json().await.expect("json");
            (code, body)
        }
    };

    let (code, body) = call("/whoami", None).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    // Auth runs before any stream header: a refused stream is a plain JSON 401.
    let refused = http
        .post(running.url("/whoami?stream=true"))
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.headers().get(CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let (code, body) = call("/whoami", Some(("authorization", "Bearer nope"))).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (403, Some("PERMISSION_DENIED"))
    );
    let (code, body) = call("/whoami", Some(("authorization", "bearer s3cret"))).await;
    assert_eq!((code, body), (200, json!({"result": "a key holder"})));
    let (code, _) = call("/ragQuery", Some(("x-api-key", "wrong"))).await;
    assert_eq!(code, 403);

    // The router-wide provider guards every other flow and hands its typed context over.
    let (code, body) = call("/maybe", None).await;
    assert_eq!(
        (code, body["message"].as_str()),
        (401, Some("who are you?"))
    );
    assert_eq!(call("/maybe", Some(("x-user", "mallory"))).await.0, 403);
    assert_eq!(call("/maybe", Some(("x-user", "ana"))).await.0, 200);

    let client = FlowClient::new(&running.base);
    let refused = client.run_json("whoami", &()).await.expect_err("no key");
    assert_eq!(refused.status(), Status::Unauthenticated);
    let allowed = client
        .bearer("s3cret")
        .expect("header")
        .run::<WhoamiFlow>(())
        .await;
    assert_eq!(allowed.expect("authorized"), "a key holder");
    running.stop().await;
}

#[tokio::test]
async fn internal_errors_are_redacted_outside_dev_mode() {
    let running = start(server().0).await;
    let (code, body) = post(&running, "/fail", json!({"data": "internal"})).await;
    assert_eq!(code, 500);
    assert_eq!(body, json!({"status": "INTERNAL", "message": "internal"}));
    let (code, body) = post(&running, "/fail", json!({"data": "panic"})).await;
    assert_eq!((code, body["message"].as_str()), (500, Some("internal")));
    let (_, body) = post(&running, "/fail", json!({"data": "public"})).await;
    assert_eq!(body["message"], "try again tomorrow");
    let (code, body) = post(&running, "/fail", json!({"data": "row"})).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (409, Some("ALREADY_EXISTS"))
    );
    running.stop().await;

    let dev = start(server().0.dev_mode(true)).await;
    let (_, body) = post(&dev, "/fail", json!({"data": "internal"})).await;
    assert_eq!(body["message"], "secret connection string");
    let (_, body) = post(&dev, "/fail", json!({"data": "panic"})).await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("secret panic message"))
    );
    dev.stop().await;
}

#[tokio::test]
async fn timeouts_are_504() {
    let running = start(server().0.default_timeout(Duration::from_millis(100))).await;
    for flow in ["/slow", "/forever"] {
        let (code, body) = post(&running, flow, json!({})).await;
        assert_eq!(
            (code, body["status"].as_str()),
            (504, Some("DEADLINE_EXCEEDED")),
            "{flow}"
        );
    }
    running.stop().await;
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_the_flow() {
    let (server, hold) = server();
    let (dropped_tx, dropped) = oneshot::channel();
    *hold.dropped.lock().await = Some(dropped_tx);
    let running = start(server).await;
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    socket
        .write_all(b"POST /hold HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n")
        .await
        .expect("write");
    within(hold.entered.notified()).await;
    drop(socket);
    within(dropped)
        .await
        .expect("the flow's future was dropped");
    running.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let (server, hold) = server();
    let running = start_with(server, |s| s.drain_delay(Duration::from_secs(60))).await;
    let ready = reqwest::get(running.url("/readyz")).await.expect("get");
    assert_eq!(ready.status(), 200);
    assert_eq!(
        reqwest::get(running.url("/healthz"))
            .await
            .expect("get")
            .status(),
        200
    );

    running.shutdown.shutdown();
    let ready = reqwest::get(running.url("/readyz")).await.expect("get");
    assert_eq!(ready.status(), 503, "not ready while draining");
    assert_eq!(
        reqwest::get(running.url("/healthz"))
            .await
            .expect("get")
            .status(),
        200
    );
    // Requests are still served during the drain delay.
    assert_eq!(post(&running, "/maybe", json!({})).await.0, 200);
    drop(hold);
    running.task.abort();
}

#[tokio::test]
async fn in_flight_requests_finish_during_graceful_shutdown() {
    let (server, hold) = server();
    let running = start_with(server, |s| s.grace(Duration::from_secs(60))).await;
    let held = tokio::spawn(post_owned(running.url("/hold")));
    within(hold.entered.notified()).await;
    running.shutdown.shutdown();
    hold.release.notify_one();
    let (code, body) = within(held).await.expect("join");
    assert_eq!((code, body), (200, json!({"result": "released"})));
    within(running.task).await.expect("join").expect("served");
}

#[tokio::test]
async fn requests_still_running_after_the_grace_period_get_503() {
    let (server, hold) = server();
    let running = start_with(server, |s| s.grace(Duration::ZERO)).await;
    let held = tokio::spawn(post_owned(running.url("/hold")));
    within(hold.entered.notified()).await;
    running.shutdown.shutdown();
    let (code, body) = within(held).await.expect("join");
    assert_eq!(
        (code, body["message"].as_str()),
        (503, Some("server shutting down"))
    );
    within(running.task).await.expect("join").expect("served");
}

#[tokio::test]
async fn openapi_describes_every_flow_and_validates() {
    let (server, _) = server();
    let server = server.flow_auth("whoami", ApiKey::bearer("k"));
    let expected = server.openapi();
    let running = start(server).await;
    let response = reqwest::get(running.url("/openapi.json"))
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("json");
    assert_eq!(doc, expected);
    assert_eq!(doc["openapi"], "3.2.0");
    let paths = doc["paths"].as_object().expect("paths");
    for flow in ["/ragQuery", "/maybe", "/fail", "/hold", "/whoami"] {
        assert!(paths.contains_key(flow), "{flow}");
    }
    assert_eq!(
        doc["paths"]["/ragQuery"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
            ["data"]["$ref"],
        "#/components/schemas/ragQueryInput"
    );
    assert_eq!(
        doc["components"]["schemas"]["ragQueryInput"]["required"],
        json!(["question"])
    );
    assert_eq!(
        doc["paths"]["/whoami"]["post"]["security"],
        json!([{"whoamiAuth": []}])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["whoamiAuth"],
        json!({"type": "http", "scheme": "bearer"})
    );
    assert!(
        !doc.to_string().contains("#/$defs/"),
        "every ref points into components"
    );
    running.stop().await;
    validate_openapi(&doc);
}

/// Validates `doc` with the Python `openapi-spec-validator`. Skipped only where the module is
/// missing and CI is not set.
fn validate_openapi(doc: &Value) {
    let dir = std::env::temp_dir().join(format!("genflow-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("openapi.json");
    std::fs::write(&path, doc.to_string()).expect("write");
    let script = "import sys\n\
        try:\n    from openapi_spec_validator import validate\n\
        except ImportError:\n    sys.exit(3)\n\
        import json\n\
        validate(json.load(open(sys.argv[1])))\n";
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let ci = std::env::var_os("CI").is_some();
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) if out.status.code() == Some(3) && !ci => {
            eprintln!("skipped: pip install openapi-spec-validator to validate the document");
        }
        Ok(out) => panic!(
            "the OpenAPI document does not validate:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if !ci => eprintln!("skipped: python3 is not available ({e})"),
        Err(e) => panic!("python3 is required in CI: {e}"),
    }
}
