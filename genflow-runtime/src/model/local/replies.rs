//! The chat models' [`Worker`](super::worker::Worker) jobs: one reply each, generated in
//! order by the thread of the model's GGUF file.

use std::path::Path;

use tokio::sync::{mpsc, oneshot};

use super::error::LocalModelError;
use super::loaded::{Deltas, LoadedModel, Outcome};
use super::worker::{Workers, loaded};
use crate::model::request::GenerateRequest;

/// The workers of the GGUF files.
pub(crate) static WORKERS: Workers<Job> = Workers::new();

/// One reply to generate.
pub(crate) struct Job {
    /// The request.
    pub(crate) request: GenerateRequest,
    /// Told once the reply can start (or why it cannot); dropped by a caller that gave up.
    pub(crate) opened: oneshot::Sender<Result<(), LocalModelError>>,
    /// Where the reply's deltas go.
    pub(crate) deltas: Deltas,
}

/// The thread: loads `path` when the first job comes (again after a failure), then answers
/// jobs in order, skipping those whose caller is gone.
pub(crate) fn run(path: &Path, mut queue: mpsc::Receiver<Job>) {
    let mut model: Option<LoadedModel> = None;
    while let Some(job) = queue.blocking_recv() {
        if job.opened.is_closed() {
            continue;
        }
        let loaded = match loaded(&mut model, || LoadedModel::load(path)) {
            Ok(loaded) => loaded,
            Err(e) => {
                let _ = job.opened.send(Err(e));
                continue;
            }
        };
        let prepared = match loaded.prepare(&job.request) {
            Ok(prepared) => prepared,
            Err(e) => {
                let _ = job.opened.send(Err(e));
                continue;
            }
        };
        if job.opened.send(Ok(())).is_err() {
            continue;
        }
        match loaded.generate(&job.request, prepared, &job.deltas) {
            Ok(Outcome {
                tokens,
                finish: Some(finish),
            }) => tracing::debug!(model = %path.display(), tokens, ?finish, "local reply finished"),
            Ok(Outcome {
                tokens,
                finish: None,
            }) => tracing::debug!(
                model = %path.display(),
                tokens,
                "local reply cancelled: its caller dropped it"
            ),
            Err(e) => {
                let _ = job.deltas.blocking_send(Err(e.into()));
            }
        }
    }
}
