//! [`LocalEmbedder`]: `local/<name>`, a sentence-embedding model found in the models folder or
//! the Hugging Face cache, run by its folder's worker thread: loaded on the first call,
//! shared by every embedder of that folder.

use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::error::LocalModelError;
use super::find::ModelFiles;
use super::sentence_model::{FILES, SentenceModel};
use super::worker::{Worker, Workers, loaded};
use crate::FlowError;
use crate::retrieval::{EmbedPurpose, EmbedderInfo, EmbeddingModel};

/// The workers of the model folders.
static WORKERS: Workers<Job> = Workers::new();

/// Texts to embed, and where their vectors go.
struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, LocalModelError>>,
}

/// A local sentence-embedding model.
pub(crate) struct LocalEmbedder {
    info: EmbedderInfo,
    worker: Arc<Worker<Job>>,
}

impl LocalEmbedder {
    /// `local/<name>`, the folder found for `name` through `files`.
    pub(crate) fn open(files: &ModelFiles, name: &str) -> Result<Self, LocalModelError> {
        let folder = files.find_folder(name, &FILES)?;
        Ok(LocalEmbedder {
            info: EmbedderInfo {
                name: format!("local/{name}"),
                provider: "local".to_owned(),
            },
            worker: WORKERS.of(&folder, run)?,
        })
    }
}

impl EmbeddingModel for LocalEmbedder {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    /// Queries and documents embed alike (the model takes no instruction).
    fn embed(
        &self,
        texts: Vec<String>,
        _purpose: EmbedPurpose,
    ) -> BoxFuture<'static, Result<Vec<Vec<f32>>, FlowError>> {
        let worker = Arc::clone(&self.worker);
        Box::pin(async move {
            let (reply, vectors) = oneshot::channel();
            worker.submit(Job { texts, reply }).await?;
            Ok(vectors.await.map_err(|_| LocalModelError::WorkerGone)??)
        })
    }
}

/// The thread: loads the model of `folder` when the first job comes (again after a failure),
/// then embeds jobs in order, skipping those whose caller is gone.
fn run(folder: &Path, mut queue: mpsc::Receiver<Job>) {
    let mut model: Option<SentenceModel> = None;
    while let Some(job) = queue.blocking_recv() {
        if job.reply.is_closed() {
            continue;
        }
        let embedded = loaded(&mut model, || SentenceModel::load(folder))
            .and_then(|loaded| loaded.embed(&job.texts));
        let _ = job.reply.send(embedded);
    }
}
