//! The benchmark's baseline: the quickstart's `ragQuery` written by hand with axum, serde and
//! reqwest, without genflow.
//!
//! It does the same work per request: parse `{"data": {...}}`, validate the input, search the
//! same documents with the same keyword search (the quickstart's `docs.rs`, included by path),
//! make one chat-completions call with the same structured-output request, parse and validate
//! the answer, keep only retrieved citations, and answer `{"result": ...}`.
//!
//! Environment: `PORT` (default 3500) and `HOST` (default 127.0.0.1), `OPENAI_BASE_URL`
//! (default `https://api.openai.com/v1`), `OPENAI_API_KEY`, `OPENAI_MODEL` (default
//! `gpt-4o-mini`), `BASELINE_HTTP` (`reqwest`, the default, or `hyper`: hyper's pooled client
//! without reqwest's layers, plain `http` endpoints only). `GET /healthz` answers 200. SIGTERM
//! or Ctrl-C stop it gracefully.

#[path = "../../../examples/quickstart/src/docs.rs"]
#[allow(dead_code)]
mod docs;

/// The types `docs::search` returns, as the quickstart's `rag` module declares them.
mod rag {
    /// A passage found by the search.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct Passage {
        /// The document id.
        pub id: String,
        /// The passage text.
        pub text: String,
        /// How many query words it contains.
        pub score: f64,
    }
}

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rag::Passage;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The request envelope.
#[derive(Deserialize)]
struct Envelope {
    data: QueryInput,
}

/// What `ragQuery` takes.
#[derive(Deserialize)]
struct QueryInput {
    question: String,
    #[serde(default)]
    context: Vec<String>,
}

/// What `ragQuery` returns.
#[derive(Deserialize, Serialize)]
struct QueryOutput {
    answer: String,
    citations: Vec<String>,
    confidence: f64,
}

const SYSTEM: &str = "You answer questions about genflow using only the numbered passages given. \
Cite the ids of the passages you used. If they do not answer the question, say so and give a low confidence.";

/// The structured-output request for `QueryOutput`, in OpenAI's strict dialect, written out
/// by hand as a hand-written service would; the same JSON the quickstart sends (strict mode
/// moves `format` into the description).
fn response_format() -> Value {
    json!({"type": "json_schema", "json_schema": {
        "name": "QueryOutput",
        "strict": true,
        "schema": {
            "type": "object",
            "description": "What `ragQuery` returns.",
            "properties": {
                "answer": {"type": "string", "description": "The answer."},
                "citations": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Ids of the documents the answer draws on.",
                },
                "confidence": {
                    "type": "number",
                    "description": "How sure the answer is, from 0 to 1. (format: \"double\")",
                },
            },
            "required": ["answer", "citations", "confidence"],
            "additionalProperties": false,
        },
    }})
}

/// The model server's HTTP client.
enum Http {
    /// reqwest, as a hand-written service usually calls an API.
    Reqwest(reqwest::Client),
    /// hyper's pooled client, without reqwest's per-request layers.
    Hyper(Box<Client<HttpConnector, Full<Bytes>>>),
}

impl Http {
    /// Posts the JSON `body` to `url`: the reply's status and body.
    async fn post(
        &self,
        url: &str,
        authorization: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), String> {
        match self {
            Http::Reqwest(client) => {
                let response = client
                    .post(url)
                    .header(header::AUTHORIZATION, authorization)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                Ok((status, response.bytes().await.map_err(|e| e.to_string())?))
            }
            Http::Hyper(client) => {
                let request = axum::http::Request::post(url)
                    .header(header::AUTHORIZATION, authorization)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|e| e.to_string())?;
                let response = client.request(request).await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response.into_body().collect().await;
                Ok((status, body.map_err(|e| e.to_string())?.to_bytes()))
            }
        }
    }
}

/// Shared by every request.
struct App {
    http: Http,
    url: String,
    authorization: String,
    model: String,
    response_format: Value,
}

/// An error answer: the status and a message.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": {"message": self.1}}))).into_response()
    }
}

async fn rag_query(
    State(app): State<Arc<App>>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Json<Value>, Failure> {
    let Json(Envelope { data: input }) =
        body.map_err(|e| Failure(StatusCode::BAD_REQUEST, e.body_text()))?;
    if input.question.trim().is_empty() {
        return Err(Failure(
            StatusCode::BAD_REQUEST,
            "question must not be empty".into(),
        ));
    }
    let mut passages = docs::search(&input.question, 3);
    passages.extend(input.context.iter().enumerate().map(|(i, text)| Passage {
        id: format!("context-{i}"),
        text: text.clone(),
        score: 0.0,
    }));
    let listed: Vec<String> = passages
        .iter()
        .map(|p| format!("[{}] {}", p.id, p.text))
        .collect();
    let prompt = format!(
        "Passages:\n{}\n\nQuestion: {}",
        listed.join("\n"),
        input.question
    );
    let request = json!({
        "model": app.model,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": prompt},
        ],
        "response_format": app.response_format,
    });
    let answer = complete(&app, &request).await?;
    Ok(Json(json!({"result": grounded(answer, &passages)})))
}

/// One chat completion, its content parsed as `QueryOutput`.
async fn complete(app: &App, request: &Value) -> Result<QueryOutput, Failure> {
    let bad_gateway = |message: String| Failure(StatusCode::BAD_GATEWAY, message);
    let body = serde_json::to_vec(request)
        .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let (status, bytes) = app
        .http
        .post(&app.url, &app.authorization, body)
        .await
        .map_err(|e| bad_gateway(format!("model call failed: {e}")))?;
    if !status.is_success() {
        return Err(bad_gateway(format!(
            "model answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        )));
    }
    let reply: Value = serde_json::from_slice(&bytes)
        .map_err(|e| bad_gateway(format!("malformed model reply: {e}")))?;
    let choice = &reply["choices"][0];
    if choice["finish_reason"] != "stop" {
        return Err(bad_gateway(format!(
            "model stopped with {}",
            choice["finish_reason"]
        )));
    }
    let content = choice["message"]["content"]
        .as_str()
        .ok_or_else(|| bad_gateway("model reply has no content".into()))?;
    serde_json::from_str(content)
        .map_err(|e| bad_gateway(format!("model output is not a QueryOutput: {e}")))
}

/// Keeps only citations of retrieved passages (falling back to all retrieved ids) and bounds
/// the confidence, as the quickstart does.
fn grounded(mut answer: QueryOutput, passages: &[Passage]) -> QueryOutput {
    answer
        .citations
        .retain(|c| passages.iter().any(|p| &p.id == c));
    if answer.citations.is_empty() {
        answer.citations = passages.iter().map(|p| p.id.clone()).collect();
    }
    answer.confidence = answer.confidence.clamp(0.0, 1.0);
    answer
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = env("OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into());
    let app = Arc::new(App {
        http: match env("BASELINE_HTTP").as_deref() {
            None | Some("reqwest") => Http::Reqwest(reqwest::Client::builder().build()?),
            Some("hyper") => {
                Http::Hyper(Box::new(Client::builder(TokioExecutor::new()).build_http()))
            }
            Some(other) => {
                return Err(format!("BASELINE_HTTP must be reqwest or hyper, not {other}").into());
            }
        },
        url: format!("{}/chat/completions", base.trim_end_matches('/')),
        authorization: format!("Bearer {}", env("OPENAI_API_KEY").unwrap_or_default()),
        model: env("OPENAI_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
        response_format: response_format(),
    });
    let router = Router::new()
        .route("/ragQuery", post(rag_query))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app);
    let host: IpAddr = match env("HOST") {
        Some(h) => h.parse()?,
        None => Ipv4Addr::LOCALHOST.into(),
    };
    let port: u16 = match env("PORT") {
        Some(p) => p.parse()?,
        None => 3500,
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(host, port)).await?;
    println!(
        "baseline-rag listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(genflow_bench::terminated())
        .await?;
    Ok(())
}
