//! A loopback fake of an OpenAI-compatible chat completions server, for benchmarks.
//!
//! `fake-openai [--latency-ms 20] [--port 0] [--dump-request PATH] [--usage full|short|none]
//! [--close]` listens on 127.0.0.1 only and prints `fake-openai listening on
//! http://127.0.0.1:<port>/v1` once it accepts connections.
//!
//! `POST /v1/chat/completions` answers in OpenAI's wire format after the fixed latency: a
//! `chat.completion` with `finish_reason: "stop"` and `usage`, or with `"stream": true` the same
//! content as `chat.completion.chunk` server-sent events ending in `data: [DONE]`. When
//! `response_format` asks for a `json_schema`, the content is JSON valid for that schema
//! (arrays of strings cite the `[id]`s found in the prompt); otherwise it is plain text.
//! `GET /v1/models` lists one model (a readiness probe). A request without `model` or
//! `messages` gets a 400 with OpenAI's error body.
//!
//! `--usage` shapes the `usage` object: `full` (the default) as OpenAI sends it today, with
//! `prompt_tokens_details` and `completion_tokens_details`; `short` with the three counts only;
//! `none` leaves it out. `--close` answers every request with `Connection: close`, so that each
//! model call opens a new connection (a server without keep-alive).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

/// Settings from the command line.
struct Args {
    latency: Duration,
    port: u16,
    dump_request: Option<String>,
    usage: UsageShape,
    close: bool,
}

/// How much of `usage` a reply carries.
#[derive(Clone, Copy, PartialEq)]
enum UsageShape {
    /// The counts and their details, as OpenAI sends them.
    Full,
    /// The three counts only.
    Short,
    /// No `usage` at all.
    None,
}

/// Shared by every request.
struct Fake {
    latency: Duration,
    next_id: AtomicU64,
    dump_request: Option<String>,
    dumped: AtomicBool,
    usage: UsageShape,
    close: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        latency: Duration::from_millis(20),
        port: 0,
        dump_request: None,
        usage: UsageShape::Full,
        close: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--latency-ms" => {
                let ms = value()?;
                let ms: u64 = ms.parse().map_err(|e| format!("--latency-ms {ms}: {e}"))?;
                args.latency = Duration::from_millis(ms);
            }
            "--port" => {
                let port = value()?;
                args.port = port.parse().map_err(|e| format!("--port {port}: {e}"))?;
            }
            "--dump-request" => args.dump_request = Some(value()?),
            "--usage" => {
                args.usage = match value()?.as_str() {
                    "full" => UsageShape::Full,
                    "short" => UsageShape::Short,
                    "none" => UsageShape::None,
                    other => return Err(format!("--usage {other}: full, short or none")),
                };
            }
            "--close" => args.close = true,
            "-h" | "--help" => {
                return Err(
                    "usage: fake-openai [--latency-ms 20] [--port 0] [--dump-request PATH] \
                     [--usage full|short|none] [--close]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    // One thread: the fake shares a core with the load generator.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let fake = Arc::new(Fake {
        latency: args.latency,
        next_id: AtomicU64::new(1),
        dump_request: args.dump_request,
        dumped: AtomicBool::new(false),
        usage: args.usage,
        close: args.close,
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .with_state(fake);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await?;
    let addr = listener.local_addr()?;
    println!(
        "fake-openai listening on http://{addr}/v1 (latency {} ms{})",
        args.latency.as_millis(),
        if args.close { ", no keep-alive" } else { "" }
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(genflow_bench::terminated())
        .await?;
    Ok(())
}

async fn models() -> Response {
    axum::Json(json!({
        "object": "list",
        "data": [{"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "fake-openai"}],
    }))
    .into_response()
}

/// OpenAI's error body.
fn error(status: StatusCode, message: &str, param: Option<&str>) -> Response {
    let body = json!({"error": {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": null,
    }});
    (status, axum::Json(body)).into_response()
}

async fn chat_completions(State(fake): State<Arc<Fake>>, body: Bytes) -> Response {
    if let Some(path) = &fake.dump_request
        && !fake.dumped.swap(true, Ordering::Relaxed)
    {
        let _ = std::fs::write(path, &body);
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("We could not parse the JSON body of your request: {e}"),
                None,
            );
        }
    };
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
            Some("model"),
        );
    };
    let Some(messages) = request
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "[] is too short - 'messages'",
            Some("messages"),
        );
    };
    let prompt = prompt_text(messages);
    let content = match request
        .pointer("/response_format/type")
        .and_then(Value::as_str)
    {
        Some("json_schema") => {
            let schema = request
                .pointer("/response_format/json_schema/schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            Sampler::new(&schema, &prompt).value(&schema, 0).to_string()
        }
        Some("json_object") => "{}".to_owned(),
        _ => "This is the fake model's answer.".to_owned(),
    };
    let usage = usage(
        fake.usage,
        prompt.len().div_ceil(4),
        content.len().div_ceil(4),
    );
    let id = format!(
        "chatcmpl-fake{}",
        fake.next_id.fetch_add(1, Ordering::Relaxed)
    );
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let model = model.to_owned();
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let include_usage = request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);

    if !fake.latency.is_zero() {
        tokio::time::sleep(fake.latency).await;
    }

    let mut response = if stream {
        sse(
            &id,
            created,
            &model,
            &content,
            usage.filter(|_| include_usage),
        )
    } else {
        completion(&id, created, &model, content, usage)
    };
    if fake.close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The `usage` object of a reply in `shape`, if any.
fn usage(shape: UsageShape, prompt_tokens: usize, completion_tokens: usize) -> Option<Value> {
    let counts = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    match shape {
        UsageShape::None => None,
        UsageShape::Short => Some(counts),
        UsageShape::Full => {
            let mut full = counts;
            full["prompt_tokens_details"] = json!({"cached_tokens": 0, "audio_tokens": 0});
            full["completion_tokens_details"] = json!({
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            });
            Some(full)
        }
    }
}

/// A whole `chat.completion`.
fn completion(
    id: &str,
    created: u64,
    model: &str,
    content: String,
    usage: Option<Value>,
) -> Response {
    let mut body = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop",
        }],
    });
    if let Some(usage) = usage {
        body["usage"] = usage;
    }
    axum::Json(body).into_response()
}

/// The whole answer as `chat.completion.chunk` events: a role chunk, the content in a few
/// pieces, the finish chunk, the usage chunk when asked for, then `[DONE]`.
fn sse(id: &str, created: u64, model: &str, content: &str, usage: Option<Value>) -> Response {
    let chunk = |choices: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": "fp_fake", "choices": choices})
    };
    let mut events = vec![chunk(json!([{"index": 0,
        "delta": {"role": "assistant", "content": "", "refusal": null},
        "logprobs": null, "finish_reason": null}]))];
    for piece in pieces(content, 4) {
        events.push(chunk(json!([{"index": 0, "delta": {"content": piece},
            "logprobs": null, "finish_reason": null}])));
    }
    events.push(chunk(
        json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]),
    ));
    if let Some(usage) = usage {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        events.push(last);
    }
    let mut body = String::new();
    for event in events {
        body.push_str("data: ");
        body.push_str(&event.to_string());
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `text` cut into at most `n` pieces on character boundaries.
fn pieces(text: &str, n: usize) -> Vec<&str> {
    let size = text.len().div_ceil(n).max(1);
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// The text of every message, joined (content strings and text parts).
fn prompt_text(messages: &[Value]) -> String {
    let mut out = String::new();
    for message in messages {
        match message.get("content") {
            Some(Value::String(text)) => out.push_str(text),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if let Some(text) = part.get("text").and_then(Value::as_str) {
                        out.push_str(text);
                    }
                }
            }
            _ => {}
        }
        out.push('\n');
    }
    out
}

/// Makes a value valid for a JSON Schema (the subset structured output uses).
struct Sampler<'a> {
    root: &'a Value,
    /// `[id]`s found in the prompt, cited by arrays of strings.
    ids: Vec<String>,
}

impl<'a> Sampler<'a> {
    fn new(root: &'a Value, prompt: &str) -> Self {
        let mut ids = Vec::new();
        for line in prompt.lines() {
            if let Some(rest) = line.strip_prefix('[')
                && let Some((id, _)) = rest.split_once(']')
                && !id.is_empty()
                && ids.len() < 3
            {
                ids.push(id.to_owned());
            }
        }
        Sampler { root, ids }
    }

    fn value(&self, schema: &Value, depth: usize) -> Value {
        if depth > 16 {
            return Value::Null;
        }
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = target.strip_prefix('#').unwrap_or("");
            return match self.root.pointer(pointer) {
                Some(resolved) => self.value(resolved, depth + 1),
                None => Value::Null,
            };
        }
        if let Some(first) = schema.get("const") {
            return first.clone();
        }
        if let Some(first) = schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = schema
                .get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return self.value(first, depth + 1);
            }
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            // ["string", "null"]: the first non-null type.
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if schema.get("properties").is_some() => "object",
            _ => "null",
        };
        match ty {
            "object" => {
                let mut out = Map::new();
                if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                    for (name, property) in properties {
                        out.insert(name.clone(), self.value(property, depth + 1));
                    }
                }
                Value::Object(out)
            }
            "array" => {
                let items = schema.get("items").cloned().unwrap_or(Value::Null);
                let strings = items.get("type").and_then(Value::as_str) == Some("string");
                if strings && !self.ids.is_empty() {
                    return json!(self.ids);
                }
                let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(1);
                (0..min.max(1))
                    .map(|_| self.value(&items, depth + 1))
                    .collect()
            }
            "string" => json!("According to the passages, this is how it works."),
            "number" => {
                let lo = schema.get("minimum").and_then(Value::as_f64);
                let hi = schema.get("maximum").and_then(Value::as_f64);
                match (lo, hi) {
                    (Some(lo), Some(hi)) => json!((lo + hi) / 2.0),
                    (Some(lo), None) => json!(lo),
                    (None, Some(hi)) => json!(hi),
                    (None, None) => json!(0.75),
                }
            }
            "integer" => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(1)),
            "boolean" => json!(true),
            _ => Value::Null,
        }
    }
}
