//! The HTTP and SSE plumbing every provider shares: posting JSON, reading an event stream,
//! and turning failed responses into typed errors.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use eventsource_stream::{Event, Eventsource};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use http::header::{HeaderMap, HeaderValue};
use http::{Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::proxy::matcher::Matcher;
use serde::Deserialize;
use serde_json::Value;

use super::client::HttpClient;
use crate::FlowError;
use crate::model::retry::{ProviderError, parse_proto_duration, parse_retry_after};
use crate::model::stream::{ModelDelta, ModelStream};

/// The longest provider error message we keep.
const MAX_MESSAGE: usize = 2000;

/// One provider's HTTP client.
#[derive(Clone)]
pub(crate) struct Transport {
    provider: &'static str,
    http: Arc<HttpClient>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// A stream of server-sent events.
pub(crate) type SseStream = BoxStream<'static, Result<Event, FlowError>>;

/// Turns provider events into model deltas.
pub(crate) trait Decoder: Send + 'static {
    /// The deltas of one event (an error for an error event).
    fn event(&mut self, event: &Event) -> Result<Vec<ModelDelta>, FlowError>;
}

impl Transport {
    /// A transport for `provider` over a process-wide client (one connection pool): with the
    /// CA roots for `https` endpoints, without them (nothing to read at start-up) for plain
    /// `http` ones such as a local Ollama or vLLM server.
    pub(crate) fn new(provider: &'static str, tls: bool) -> Result<Self, FlowError> {
        type Shared = OnceLock<Result<Arc<HttpClient>, String>>;
        static TLS: Shared = OnceLock::new();
        static PLAIN: Shared = OnceLock::new();
        let shared = if tls { &TLS } else { &PLAIN };
        let http = shared
            .get_or_init(|| {
                let config = crate::tls::provider_config(tls).map_err(|e| e.to_string())?;
                Ok(Arc::new(HttpClient::new(config, Matcher::from_env())))
            })
            .clone()
            .map_err(|e| FlowError::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport { provider, http })
    }

    /// Posts `body` and reads the whole reply.
    pub(crate) async fn post(
        &self,
        url: &Uri,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Bytes, FlowError> {
        let response = self.send(url, headers, body).await?;
        self.read(response).await
    }

    /// Parses a whole reply's JSON.
    pub(crate) fn parse_reply<'a, T: Deserialize<'a>>(
        &self,
        body: &'a [u8],
    ) -> Result<T, FlowError> {
        serde_json::from_slice(body).map_err(|e| {
            self.fail(format!(
                "malformed JSON in the reply ({e}): {}",
                truncate(&String::from_utf8_lossy(body))
            ))
        })
    }

    /// Posts `body` and reads the reply as server-sent events.
    pub(crate) async fn post_sse(
        &self,
        url: &Uri,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<SseStream, FlowError> {
        let response = self.send(url, headers, body).await?;
        let provider = self.provider;
        Ok(response
            .into_body()
            .into_data_stream()
            .eventsource()
            .map(move |item| {
                item.map_err(|e| {
                    FlowError::from(ProviderError {
                        provider,
                        http_status: None,
                        message: format!("the event stream broke: {e}"),
                        retry_after: None,
                        should_retry: None,
                    })
                })
            })
            .boxed())
    }

    /// Decodes an event stream into model deltas with `decoder`.
    pub(crate) fn decode(events: SseStream, mut decoder: impl Decoder) -> ModelStream {
        events
            .flat_map(move |event| {
                let deltas = match event.and_then(|e| decoder.event(&e)) {
                    Ok(deltas) => deltas.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                stream::iter(deltas)
            })
            .boxed()
    }

    async fn send(
        &self,
        url: &Uri,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Response<Incoming>, FlowError> {
        let response = self
            .http
            .post(url.clone(), headers, body)
            .await
            .map_err(|e| self.broken(&format!("the request to {} failed", shown(url)), &e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.http_error(response).await)
    }

    /// The whole body of `response`.
    async fn read(&self, response: Response<Incoming>) -> Result<Bytes, FlowError> {
        Ok(response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.broken("reading the reply failed", &e))?
            .to_bytes())
    }

    async fn http_error(&self, response: Response<Incoming>) -> FlowError {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = match self.read(response).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        };
        let body: Option<Value> = serde_json::from_str(&text).ok();
        // OpenAI, Anthropic and Gemini all say `{"error": {"message": ...}}` (Gemini streams
        // may wrap it in an array).
        let error = body.as_ref().map(|b| match b {
            Value::Array(items) => items.first().and_then(|i| i.get("error")),
            other => other.get("error"),
        });
        let message = error
            .flatten()
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map_or_else(|| truncate(&text), str::to_owned);
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let retry_after = header("retry-after-ms")
            .and_then(|ms| ms.trim().parse::<f64>().ok())
            .map(|ms| std::time::Duration::from_secs_f64(ms.max(0.0) / 1000.0))
            .or_else(|| header("retry-after").and_then(parse_retry_after))
            .or_else(|| error.flatten().and_then(gemini_retry_delay));
        let should_retry = match header("x-should-retry") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        ProviderError {
            provider: self.provider,
            http_status: Some(status),
            message,
            retry_after,
            should_retry,
        }
        .into()
    }

    /// A call the connection broke: `what` failed because of `e`.
    fn broken(&self, what: &str, e: &(dyn std::error::Error + 'static)) -> FlowError {
        ProviderError {
            provider: self.provider,
            http_status: None,
            message: format!("{what}: {}", crate::error::chain(e)),
            retry_after: None,
            should_retry: None,
        }
        .into()
    }

    /// A reply we cannot read (not retried: the same request would get the same reply).
    pub(crate) fn fail(&self, message: String) -> FlowError {
        ProviderError {
            provider: self.provider,
            http_status: None,
            message,
            retry_after: None,
            should_retry: Some(false),
        }
        .into()
    }

    /// Parses one event's JSON data.
    pub(crate) fn parse_event<'a, T: Deserialize<'a>>(
        &self,
        event: &'a Event,
    ) -> Result<T, FlowError> {
        serde_json::from_str(&event.data).map_err(|e| {
            self.fail(format!(
                "malformed JSON in the event stream ({e}): {}",
                truncate(&event.data)
            ))
        })
    }

    /// An error the provider reported inside a stream that had started fine.
    pub(crate) fn stream_error(&self, error: &Value) -> FlowError {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown error")
            .to_owned();
        let http_status = match error.get("code") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            _ => match error.get("type").and_then(Value::as_str) {
                Some("overloaded_error") => Some(529),
                Some("rate_limit_error") => Some(429),
                Some("api_error") => Some(500),
                Some("invalid_request_error") => Some(400),
                Some("authentication_error") => Some(401),
                _ => None,
            },
        };
        ProviderError {
            provider: self.provider,
            http_status,
            message: format!("error in the stream: {message}"),
            retry_after: None,
            should_retry: None,
        }
        .into()
    }
}

fn gemini_retry_delay(error: &Value) -> Option<std::time::Duration> {
    error
        .get("details")?
        .as_array()?
        .iter()
        .find_map(|d| d.get("retryDelay")?.as_str().and_then(parse_proto_duration))
}

/// `uri` without its user information or query, for messages.
fn shown(uri: &Uri) -> String {
    let port = uri.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        uri.scheme_str().unwrap_or("http"),
        uri.host().unwrap_or_default(),
        uri.path()
    )
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A header value from configuration; invalid characters are a configuration error.
pub(crate) fn header_value(name: &str, value: &str) -> Result<HeaderValue, FlowError> {
    HeaderValue::from_str(value).map_err(|_| {
        FlowError::internal(format!(
            "the configured {name} contains characters not allowed in an HTTP header"
        ))
    })
}
