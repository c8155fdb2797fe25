//! In-process chat models from GGUF files (feature `local-models`): `local/<name>` runs the
//! file found for `<name>` with candle on the CPU, on a dedicated thread per file. Replies
//! stream token by token; an output schema constrains decoding through llguidance, so the
//! reply always parses and validates (unless the token budget cuts it short; a number's
//! digits are capped, so it cannot run on). Sentence-embedding
//! models (BERT, safetensors) run the same way as embedders: [`LocalModels`].
//! Offered tools join the grammar: the reply is then one tool call (arguments valid for the
//! tool's input schema) or the answer, as the tool choice allows; one call per turn.

mod chat_template;
mod choice;
mod choice_out;
mod constraint;
mod digits;
#[cfg(feature = "hf-hub")]
mod download;
mod embedder;
mod error;
mod find;
#[cfg(feature = "hf-hub")]
mod hub;
mod loaded;
mod local_models;
mod replies;
mod sampler;
mod sentence_model;
mod text_out;
mod vocabulary;
mod weights;
mod worker;

use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::sync::{OnceCell, mpsc, oneshot};

pub(crate) use find::ModelFiles;
pub use local_models::LocalModels;

use self::error::LocalModelError;
use self::replies::{Job, WORKERS};
use self::worker::Worker;
use super::request::GenerateRequest;
use super::stream::ModelStream;
use super::{Model, ModelInfo};
use crate::FlowError;

/// Deltas a reply may run ahead of its reader.
const DELTA_BUFFER: usize = 64;

/// A GGUF model served by its file's [`Worker`].
pub(crate) struct GgufModel {
    info: ModelInfo,
    source: Arc<Source>,
}

/// Where a model's worker comes from: its file, found at once or downloaded when first
/// needed.
struct Source {
    files: ModelFiles,
    name: String,
    worker: OnceCell<Arc<Worker<Job>>>,
}

impl Source {
    /// The worker, after finding (or downloading) the file on first use.
    async fn worker(&self) -> Result<Arc<Worker<Job>>, FlowError> {
        let worker = self
            .worker
            .get_or_try_init(|| async {
                let path = self.files.fetch(&self.name).await?;
                Ok::<_, FlowError>(WORKERS.of(&path, replies::run)?)
            })
            .await?;
        Ok(Arc::clone(worker))
    }
}

impl GgufModel {
    /// `local/<name>`, found through `files`, or to download on first use when `files`
    /// allows. The file is loaded on the first call.
    pub(crate) fn open(files: &ModelFiles, name: &str) -> Result<Self, FlowError> {
        let worker = match files.find(name) {
            Ok(path) => OnceCell::new_with(Some(WORKERS.of(&path, replies::run)?)),
            Err(LocalModelError::NotFound { .. }) if files.downloads(name) => OnceCell::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(GgufModel {
            info: ModelInfo::local(name),
            source: Arc::new(Source {
                files: files.clone(),
                name: name.to_owned(),
                worker,
            }),
        })
    }
}

impl Model for GgufModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn prepare(&self) -> BoxFuture<'static, Result<(), FlowError>> {
        let source = Arc::clone(&self.source);
        Box::pin(async move { source.worker().await.map(drop) })
    }

    fn stream(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>> {
        let source = Arc::clone(&self.source);
        Box::pin(async move {
            let worker = source.worker().await?;
            let (opened, started) = oneshot::channel();
            let (deltas, receiver) = mpsc::channel(DELTA_BUFFER);
            worker
                .submit(Job {
                    request,
                    opened,
                    deltas,
                })
                .await?;
            started.await.map_err(|_| LocalModelError::WorkerGone)??;
            let stream = futures::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|delta| (delta, receiver))
            });
            Ok(stream.boxed())
        })
    }
}
