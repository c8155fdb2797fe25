//! [`HttpModel`]: a model served over HTTP. Each provider's [`Wire`] says only what differs
//! (request body, URL, headers, decoding); [`HttpModel`] does the rest the same way for all of
//! them.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::Uri;
use http::header::HeaderMap;
use serde_json::Value;

use super::transport::{Decoder, Transport};
use crate::FlowError;
use crate::model::request::GenerateRequest;
use crate::model::response::GenerateResponse;
use crate::model::stream::{Accumulator, ModelDelta, ModelStream};
use crate::model::{Model, ModelInfo};

/// How one provider speaks HTTP.
pub(crate) trait Wire: Send + Sync + 'static {
    /// The stream decoder.
    type Decoder: Decoder;

    /// The request body for `model`, as JSON bytes.
    fn body(
        &self,
        model: &str,
        request: &GenerateRequest,
        stream: bool,
    ) -> Result<Vec<u8>, FlowError>;

    /// The endpoint URL.
    fn url(&self, model: &str, stream: bool) -> String;

    /// Auth and version headers.
    fn headers(&self) -> Result<HeaderMap, FlowError>;

    /// A decoder for the stream answering `request`.
    fn decoder(&self, request: &GenerateRequest, transport: Transport) -> Self::Decoder;

    /// The deltas of a whole (non-streamed) reply, from its JSON bytes.
    fn reply(
        &self,
        body: &[u8],
        request: &GenerateRequest,
        transport: &Transport,
    ) -> Result<Vec<ModelDelta>, FlowError>;
}

/// A model served over HTTP by a [`Wire`].
pub(crate) struct HttpModel<W: Wire> {
    wire: Arc<W>,
    transport: Transport,
    id: String,
    info: ModelInfo,
    endpoint: Arc<Endpoint>,
}

/// What every call of one model sends the same: parsed once, when the model is resolved.
struct Endpoint {
    url: Uri,
    stream_url: Uri,
    headers: HeaderMap,
}

impl<W: Wire> HttpModel<W> {
    /// The model `id` of `provider` (the catalog name is `provider/id`). Fails when the
    /// provider's URL or headers are not valid.
    pub(crate) fn new(wire: Arc<W>, provider: &'static str, id: &str) -> Result<Self, FlowError> {
        let name = format!("{provider}/{id}");
        let ([url, stream_url], tls) = endpoints("model", &name, |stream| wire.url(id, stream))?;
        let endpoint = Endpoint {
            url,
            stream_url,
            headers: wire.headers()?,
        };
        Ok(HttpModel {
            transport: Transport::new(provider, tls)?,
            id: id.to_owned(),
            info: ModelInfo {
                name,
                provider: provider.to_owned(),
                local: false,
            },
            endpoint: Arc::new(endpoint),
            wire,
        })
    }
}

impl<W: Wire> Model for HttpModel<W> {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn generate(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<GenerateResponse, FlowError>> {
        let (wire, transport, endpoint) = (
            Arc::clone(&self.wire),
            self.transport.clone(),
            Arc::clone(&self.endpoint),
        );
        let (id, name) = (self.id.clone(), self.info.name.clone());
        Box::pin(async move {
            let body = wire.body(&id, &request, false)?;
            let reply = transport
                .post(&endpoint.url, endpoint.headers.clone(), body)
                .await?;
            let mut acc = Accumulator::default();
            for delta in wire.reply(&reply, &request, &transport)? {
                acc.push(delta);
            }
            if !acc.is_finished() {
                return Err(transport.fail(format!(
                    "the reply from model '{name}' has no finish reason"
                )));
            }
            acc.finish(&name)
        })
    }

    fn stream(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>> {
        let (wire, transport, endpoint) = (
            Arc::clone(&self.wire),
            self.transport.clone(),
            Arc::clone(&self.endpoint),
        );
        let id = self.id.clone();
        Box::pin(async move {
            let body = wire.body(&id, &request, true)?;
            let events = transport
                .post_sse(&endpoint.stream_url, endpoint.headers.clone(), body)
                .await?;
            let decoder = wire.decoder(&request, transport);
            Ok(Transport::decode(events, decoder))
        })
    }
}

/// The two endpoint URLs of the model or embedder (`what`) `name`, `url(false)` and
/// `url(true)`, parsed once at start-up, and whether either needs TLS.
pub(crate) fn endpoints(
    what: &str,
    name: &str,
    url: impl Fn(bool) -> String,
) -> Result<([Uri; 2], bool), FlowError> {
    let parse = |flag| {
        let url = url(flag);
        endpoint_uri(&url).map_err(|e| {
            FlowError::internal(format!(
                "{what} '{name}' has an invalid endpoint URL '{url}': {e}"
            ))
        })
    };
    let uris = [parse(false)?, parse(true)?];
    let tls = uris.iter().any(|uri| uri.scheme_str() != Some("http"));
    Ok((uris, tls))
}

/// `url` as an absolute `http` or `https` URI.
fn endpoint_uri(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(uri),
        (Some("http" | "https"), _) => Err("no host".into()),
        _ => Err("the scheme must be http or https".into()),
    }
}

/// An API key from configuration or the environment.
#[derive(Clone)]
pub(crate) struct ApiKey {
    value: Option<String>,
    env: &'static str,
}

impl ApiKey {
    /// The key `value`, or the variable `env` named in errors when it is missing.
    pub(crate) fn new(value: Option<String>, env: &'static str) -> Self {
        ApiKey {
            value: value.filter(|v| !v.trim().is_empty()),
            env,
        }
    }

    /// The environment variable named when the key is missing.
    pub(crate) fn env(&self) -> &'static str {
        self.env
    }

    /// The key, or `INTERNAL` (the service's misconfiguration, not the caller's) naming the
    /// variable to set.
    pub(crate) fn get(&self, model: &str) -> Result<&str, FlowError> {
        self.value.as_deref().ok_or_else(|| {
            FlowError::internal(format!(
                "model '{model}' needs an API key: set the environment variable {} or configure the provider with a key in code",
                self.env
            ))
        })
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = if self.value.is_some() {
            "<set>"
        } else {
            "<missing>"
        };
        write!(f, "{} {shown}", self.env)
    }
}

/// A request body as JSON bytes.
pub(crate) fn encode(body: &impl serde::Serialize) -> Result<Vec<u8>, FlowError> {
    serde_json::to_vec(body)
        .map_err(|e| FlowError::internal(format!("the request body does not serialize: {e}")))
}

/// A body (or part of one) whose fields the request's `extra` config fields override.
pub(crate) struct WithExtra<'a, T> {
    /// The fields genflow sets.
    pub(crate) fields: T,
    /// `GenerationConfig::extra`.
    pub(crate) extra: &'a serde_json::Map<String, Value>,
}

impl<T: serde::Serialize> serde::Serialize for WithExtra<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.extra.is_empty() {
            return self.fields.serialize(serializer);
        }
        // Extra fields override ours: merge them into a JSON tree (rare; slower).
        let mut tree = serde_json::to_value(&self.fields).map_err(serde::ser::Error::custom)?;
        if let Some(map) = tree.as_object_mut() {
            map.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        tree.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint_uri;

    #[test]
    fn endpoints_are_absolute_http_or_https_urls() {
        let uri = endpoint_uri("http://127.0.0.1:11434/v1/chat/completions").expect("valid");
        assert_eq!(uri.path(), "/v1/chat/completions");
        assert!(endpoint_uri("https://api.openai.com/v1/chat/completions").is_ok());
        assert_eq!(
            endpoint_uri("ftp://host/v1").expect_err("scheme"),
            "the scheme must be http or https"
        );
        assert_eq!(
            endpoint_uri("/v1/chat/completions").expect_err("relative"),
            "the scheme must be http or https"
        );
        assert!(
            endpoint_uri("http://exa mple.com/v1").is_err(),
            "a space is invalid"
        );
    }
}
