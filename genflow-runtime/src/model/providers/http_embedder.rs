//! [`HttpEmbedder`]: an embedding model served over HTTP. Each provider's [`EmbedWire`] says
//! what differs (URL, headers, request and reply bodies); batching, retries and errors are the
//! same for all, through the model layer's transport and retry policy.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::Uri;
use http::header::HeaderMap;

use super::http_model::endpoints;
use super::transport::Transport;
use crate::FlowError;
use crate::model::RetryPolicy;
use crate::retrieval::{EmbedPurpose, EmbedderInfo, EmbeddingModel};

/// How an HTTP embedding model is called: output size, batch size, retries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbeddingConfig {
    /// The length of the vectors, for models that can shorten them (OpenAI's `dimensions`,
    /// Gemini's `outputDimensionality`); the model's own length when `None`.
    pub dimensions: Option<u32>,
    /// Texts per request, at most the provider's limit (2048 for OpenAI, 100 for Gemini);
    /// that limit when `None`.
    pub batch_size: Option<usize>,
    /// Retries of each request, as for generation (`None`: 2 retries, `Retry-After` honoured).
    pub retry: Option<RetryPolicy>,
}

/// How one provider speaks embeddings over HTTP.
pub(crate) trait EmbedWire: Send + Sync + 'static {
    /// The most texts one request may carry.
    const MAX_BATCH: usize;

    /// The endpoint for one text (`batch: false`) or several.
    fn url(&self, model: &str, batch: bool) -> String;

    /// Auth headers.
    fn headers(&self) -> Result<HeaderMap, FlowError>;

    /// The request body embedding `texts`.
    fn body(
        &self,
        model: &str,
        texts: &[String],
        purpose: EmbedPurpose,
        dimensions: Option<u32>,
    ) -> Result<Vec<u8>, FlowError>;

    /// The vectors of a reply to a request of `batch` (several texts or one), in order.
    fn reply(
        &self,
        body: &[u8],
        batch: bool,
        transport: &Transport,
    ) -> Result<Vec<Vec<f32>>, FlowError>;
}

/// An embedding model served over HTTP by an [`EmbedWire`].
pub(crate) struct HttpEmbedder<W: EmbedWire> {
    call: Arc<Call<W>>,
    info: EmbedderInfo,
}

/// What every request of one model shares.
struct Call<W> {
    wire: W,
    transport: Transport,
    id: String,
    single: Uri,
    batch: Uri,
    headers: HeaderMap,
    config: EmbeddingConfig,
    retry: RetryPolicy,
}

impl<W: EmbedWire> HttpEmbedder<W> {
    /// The embedding model `id` of `provider` (named `provider/id`).
    pub(crate) fn new(
        wire: W,
        provider: &'static str,
        id: &str,
        config: EmbeddingConfig,
    ) -> Result<Self, FlowError> {
        let name = format!("{provider}/{id}");
        let ([single, batch], tls) = endpoints("embedder", &name, |batch| wire.url(id, batch))?;
        let call = Call {
            transport: Transport::new(provider, tls)?,
            headers: wire.headers()?,
            id: id.to_owned(),
            single,
            batch,
            retry: config.retry.clone().unwrap_or_default(),
            config,
            wire,
        };
        Ok(HttpEmbedder {
            call: Arc::new(call),
            info: EmbedderInfo {
                name,
                provider: provider.to_owned(),
            },
        })
    }
}

impl<W: EmbedWire> EmbeddingModel for HttpEmbedder<W> {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(
        &self,
        texts: Vec<String>,
        purpose: EmbedPurpose,
    ) -> BoxFuture<'static, Result<Vec<Vec<f32>>, FlowError>> {
        let call = Arc::clone(&self.call);
        Box::pin(async move {
            let size = call.config.batch_size.unwrap_or(W::MAX_BATCH);
            let size = size.clamp(1, W::MAX_BATCH);
            let mut vectors = Vec::with_capacity(texts.len());
            for batch in texts.chunks(size) {
                vectors.extend(call.request(batch, purpose).await?);
            }
            Ok(vectors)
        })
    }
}

impl<W: EmbedWire> Call<W> {
    /// One request embedding `texts`, retried as the policy says.
    async fn request(
        &self,
        texts: &[String],
        purpose: EmbedPurpose,
    ) -> Result<Vec<Vec<f32>>, FlowError> {
        let batch = texts.len() > 1;
        let url = if batch { &self.batch } else { &self.single };
        let body = self
            .wire
            .body(&self.id, texts, purpose, self.config.dimensions)?;
        let reply = self
            .retry
            .run(|| self.transport.post(url, self.headers.clone(), body.clone()))
            .await?;
        let vectors = self.wire.reply(&reply, batch, &self.transport)?;
        if vectors.len() != texts.len() {
            return Err(self.transport.fail(format!(
                "the reply has {} embeddings for {} texts",
                vectors.len(),
                texts.len()
            )));
        }
        Ok(vectors)
    }
}
