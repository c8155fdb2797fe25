//! [`Worker`]: one dedicated thread per GGUF file that loads the model on first use and
//! generates one reply at a time, so generation never blocks the async runtime. Models of the
//! same file share it; the thread ends when the last of them is dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::{mpsc, oneshot};

use super::error::LocalModelError;
use super::loaded::{Deltas, LoadedModel, Outcome};
use crate::FlowError;
use crate::model::request::GenerateRequest;

/// Replies that may wait for the worker; callers beyond them wait to enqueue.
const QUEUE: usize = 16;

/// One reply to generate.
pub(crate) struct Job {
    /// The request.
    pub(crate) request: GenerateRequest,
    /// Told once the reply can start (or why it cannot); dropped by a caller that gave up.
    pub(crate) opened: oneshot::Sender<Result<(), LocalModelError>>,
    /// Where the reply's deltas go.
    pub(crate) deltas: Deltas,
}

/// The queue of one GGUF file's thread.
pub(crate) struct Worker {
    jobs: mpsc::Sender<Job>,
}

/// The running workers, by file.
static WORKERS: Mutex<Option<HashMap<PathBuf, Weak<Worker>>>> = Mutex::new(None);

impl Worker {
    /// The worker of `path`, started if none runs.
    pub(crate) fn of(path: &Path) -> Result<Arc<Worker>, LocalModelError> {
        let mut workers = WORKERS.lock().unwrap_or_else(PoisonError::into_inner);
        let workers = workers.get_or_insert_with(HashMap::new);
        if let Some(worker) = workers.get(path).and_then(Weak::upgrade) {
            return Ok(worker);
        }
        workers.retain(|_, w| w.strong_count() > 0);
        let (jobs, queue) = mpsc::channel(QUEUE);
        let file = path.to_owned();
        std::thread::Builder::new()
            .name("genflow-local-model".to_owned())
            .spawn(move || run(&file, queue))
            .map_err(|e| LocalModelError::Load {
                path: path.to_owned(),
                reason: format!("cannot start its thread: {e}"),
            })?;
        let worker = Arc::new(Worker { jobs });
        workers.insert(path.to_owned(), Arc::downgrade(&worker));
        Ok(worker)
    }

    /// Queues `job`, waiting while the queue is full.
    pub(crate) async fn submit(&self, job: Job) -> Result<(), FlowError> {
        self.jobs
            .send(job)
            .await
            .map_err(|_| LocalModelError::WorkerGone.into())
    }
}

/// The thread: loads `path` when the first job comes (again after a failure), then answers
/// jobs in order, skipping those whose caller is gone.
fn run(path: &Path, mut queue: mpsc::Receiver<Job>) {
    let mut model: Option<LoadedModel> = None;
    while let Some(job) = queue.blocking_recv() {
        if job.opened.is_closed() {
            continue;
        }
        let loaded = match &mut model {
            Some(loaded) => loaded,
            None => match LoadedModel::load(path) {
                Ok(loaded) => model.insert(loaded),
                Err(e) => {
                    let _ = job.opened.send(Err(e));
                    continue;
                }
            },
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
