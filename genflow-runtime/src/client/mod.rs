//! The typed flow client (feature `client`).
//!
//! Calls flows on genflow servers and on Genkit's own flow servers (Go, JS, Python): same
//! `{"data": ...}` request, same `{"result": ...}` answers and `data: {...}` event frames.
//!
//! ```no_run
//! use futures::StreamExt;
//! use genflow_runtime::client::{FlowClient, StreamEvent};
//! use genflow_runtime::prelude::*;
//!
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! struct Question { text: String }
//!
//! /// Repeats the question, streaming it first.
//! #[flow(stream = String)]
//! async fn parrot(ctx: &FlowContext<String>, q: Question) -> Result<String, FlowError> {
//!     ctx.send_chunk(q.text.clone()).await?;
//!     Ok(q.text)
//! }
//!
//! # async fn demo() -> Result<(), genflow_runtime::client::ClientError> {
//! let client = FlowClient::new("http://127.0.0.1:3400").bearer("s3cret")?;
//! let text: String = client.run::<ParrotFlow>(Question { text: "hi".into() }).await?;
//!
//! let mut events = client.stream::<ParrotFlow>(Question { text: "hi".into() }).await?;
//! while let Some(event) = events.next().await {
//!     match event? {
//!         StreamEvent::Chunk(word) => print!("{word} "),
//!         StreamEvent::Output(text) => println!("\n{text}"),
//!     }
//! }
//! # let _ = text; Ok(()) }
//! ```

mod error;
mod sse;
mod stream;

pub use error::ClientError;
pub use stream::{FlowStream, StreamEvent};

use futures::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Flow;

/// A client of one flow server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FlowClient {
    http: reqwest::Client,
    base_url: String,
    headers: HeaderMap,
}

/// The request envelope.
#[derive(Serialize)]
struct Envelope<T> {
    data: T,
}

impl FlowClient {
    /// A client of the server at `base_url` (flows are at `<base_url>/<name>`), trusting the
    /// system's CA roots, or the bundled Mozilla roots where the system has none.
    ///
    /// # Panics
    ///
    /// When no TLS client can be built at all: neither the system's roots nor the bundled
    /// ones load (see [`FlowClient::with_http_client`] to bring your own).
    pub fn new(base_url: impl Into<String>) -> Self {
        #[allow(
            clippy::expect_used,
            reason = "the bundled roots always load; a test proves it"
        )]
        let http = crate::tls::http_client()
            .map_err(|e| crate::error::chain(&e))
            .expect("an HTTP client over the bundled CA roots");
        FlowClient {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            headers: HeaderMap::new(),
        }
    }

    /// Uses `http` (its timeouts, proxies, TLS) for the requests.
    #[must_use]
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Sends `name: value` with every request.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ClientError> {
        let name = HeaderName::try_from(name)
            .map_err(|e| ClientError::InvalidHeader(format!("{name:?}: {e}")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|e| ClientError::InvalidHeader(format!("value of {name}: {e}")))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer(self, token: &str) -> Result<Self, ClientError> {
        self.header(AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    /// Runs the flow `F` and returns its output.
    pub async fn run<F>(&self, input: F::Input) -> Result<F::Output, ClientError>
    where
        F: Flow,
        F::Input: Serialize,
        F::Output: DeserializeOwned,
    {
        let output = self.run_json(F::META.name, &input).await?;
        serde_json::from_value(output).map_err(ClientError::decode("flow output"))
    }

    /// Runs the flow `F` as a stream of its chunks, then its output.
    pub async fn stream<F>(
        &self,
        input: F::Input,
    ) -> Result<FlowStream<F::Chunk, F::Output>, ClientError>
    where
        F: Flow,
        F::Input: Serialize,
        F::Chunk: DeserializeOwned,
        F::Output: DeserializeOwned,
    {
        self.stream_json(F::META.name, &input).await
    }

    /// Runs the flow `name` on any serializable input and returns its output as JSON.
    pub async fn run_json(&self, name: &str, input: &impl Serialize) -> Result<Value, ClientError> {
        let response = self.post(name, input, false).await?;
        let body = response.bytes().await?;
        let mut reply: Map<String, Value> =
            serde_json::from_slice(&body).map_err(ClientError::decode("response body"))?;
        match reply.remove("result") {
            Some(result) => Ok(result),
            None => Err(ClientError::from_server(&body, None)),
        }
    }

    /// Streams the flow `name` on any serializable input, with chunks and output of any
    /// deserializable types (`Value` for untyped).
    pub async fn stream_json<C, O>(
        &self,
        name: &str,
        input: &impl Serialize,
    ) -> Result<FlowStream<C, O>, ClientError>
    where
        C: DeserializeOwned,
        O: DeserializeOwned,
    {
        let response = self.post(name, input, true).await?;
        let frames = sse::event_data(response.bytes_stream())
            .map(|frame| frame.map_err(ClientError::Transport));
        Ok(FlowStream::new(Box::pin(frames)))
    }

    /// Posts `{"data": input}` to the flow; a non-2xx answer becomes its [`ClientError`].
    async fn post(
        &self,
        name: &str,
        input: &impl Serialize,
        stream: bool,
    ) -> Result<reqwest::Response, ClientError> {
        let mut request = self
            .http
            .post(format!("{}/{name}", self.base_url))
            .headers(self.headers.clone())
            .json(&Envelope { data: input });
        if stream {
            request = request.header(ACCEPT, "text/event-stream");
        }
        let response = request.send().await?;
        let code = response.status();
        if code.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await?;
        Err(ClientError::from_server(&body, Some(code.as_u16())))
    }
}
