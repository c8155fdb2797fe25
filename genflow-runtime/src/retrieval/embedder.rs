//! Embedders: an [`EmbeddingModel`] (a provider's or a local model) behind an action of kind
//! `embedder`, callable from a flow as a traced step.

use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Document;
use crate::run::{DynamicAction, run_in_process};
use crate::{ActionKind, DynAction, FlowContext, FlowError};

/// What a text is embedded as: some models embed queries and documents differently (Gemini's
/// task types, instruction-tuned local models).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmbedPurpose {
    /// A passage to index.
    #[default]
    Document,
    /// A search query.
    Query,
}

/// What an embedding model is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedderInfo {
    /// The reference, such as `"openai/text-embedding-3-small"`: the embedder action's name.
    pub name: String,
    /// The provider, such as `"openai"`.
    pub provider: String,
}

/// A model that turns texts into vectors. Object-safe; the future owns what it needs, so
/// dropping it cancels the call. Implementations batch, retry and map errors as they need.
pub trait EmbeddingModel: Send + Sync + 'static {
    /// Name and provider.
    fn info(&self) -> &EmbedderInfo;

    /// One vector per text, in order.
    fn embed(
        &self,
        texts: Vec<String>,
        purpose: EmbedPurpose,
    ) -> BoxFuture<'static, Result<Vec<Vec<f32>>, FlowError>>;
}

/// The input of an embedder action, in Genkit's shape: `{"input": [documents], "options"}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct EmbedRequest {
    /// The documents to embed (their text parts).
    pub input: Vec<Document>,
    /// Options.
    #[serde(default)]
    pub options: EmbedOptions,
}

/// Options of an embedder action.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct EmbedOptions {
    /// What the texts are embedded as.
    #[serde(default)]
    pub purpose: EmbedPurpose,
}

/// The output of an embedder action: `{"embeddings": [{"embedding": [...]}]}`, one per input.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct EmbedResponse {
    /// The embeddings, in input order.
    pub embeddings: Vec<Embedding>,
}

/// One embedding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Embedding {
    /// The vector.
    pub embedding: Vec<f32>,
}

/// An embedder: an [`EmbeddingModel`] as an action (`/embedder/<model name>`). Register
/// [`Embedder::action`] to list and run it by name; call [`Embedder::embed`] from a flow.
/// Cheap to clone.
#[derive(Clone)]
pub struct Embedder {
    action: DynamicAction,
    model: Arc<dyn EmbeddingModel>,
}

impl Embedder {
    /// The embedder of `model`, named after it.
    #[track_caller]
    pub fn new(model: impl EmbeddingModel) -> Self {
        let model: Arc<dyn EmbeddingModel> = Arc::new(model);
        let for_action = Arc::clone(&model);
        let action = DynamicAction::typed(
            ActionKind::Embedder,
            &model.info().name,
            move |_ctx, request: EmbedRequest| {
                let texts = request.input.iter().map(Document::text_content).collect();
                let call = embed_checked(&for_action, texts, request.options.purpose);
                async move {
                    let vectors = call.await?;
                    Ok(EmbedResponse {
                        embeddings: vectors
                            .into_iter()
                            .map(|embedding| Embedding { embedding })
                            .collect(),
                    })
                }
            },
        )
        .description(&format!("Embeds text with {}", model.info().name))
        .gen_ai("embeddings", &model.info().provider, model_id(model.info()));
        Embedder { action, model }
    }

    /// Name and provider.
    pub fn info(&self) -> &EmbedderInfo {
        self.model.info()
    }

    /// The action to register.
    pub fn action(&self) -> DynamicAction {
        self.action.clone()
    }

    /// Embeds `texts` as a traced step of the flow `ctx` belongs to (an `embedder` span under
    /// the current one, with the action's metrics): one vector per text, in order.
    pub async fn embed<C>(
        &self,
        ctx: &FlowContext<C>,
        texts: Vec<String>,
        purpose: EmbedPurpose,
    ) -> Result<Vec<Vec<f32>>, FlowError> {
        let call = embed_checked(&self.model, texts, purpose);
        run_in_process(self.action.meta(), ctx.without_stream(), |_| call).await
    }
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Embedder").field(&self.info().name).finish()
    }
}

/// The model's id without its provider prefix (`text-embedding-3-small` of
/// `openai/text-embedding-3-small`).
fn model_id(info: &EmbedderInfo) -> &str {
    info.name.split_once('/').map_or(&info.name, |(_, id)| id)
}

/// Calls `model`, checking that it answered one vector per text, all of one length.
fn embed_checked(
    model: &Arc<dyn EmbeddingModel>,
    texts: Vec<String>,
    purpose: EmbedPurpose,
) -> BoxFuture<'static, Result<Vec<Vec<f32>>, FlowError>> {
    let asked = texts.len();
    let name = model.info().name.clone();
    let call = model.embed(texts, purpose);
    Box::pin(async move {
        let vectors = call.await?;
        let lengths_differ = vectors.windows(2).any(|w| w[0].len() != w[1].len());
        if vectors.len() != asked || lengths_differ {
            return Err(FlowError::internal(format!(
                "embedder '{name}' answered {} vectors of differing or unexpected lengths for {asked} texts",
                vectors.len()
            )));
        }
        Ok(vectors)
    })
}
