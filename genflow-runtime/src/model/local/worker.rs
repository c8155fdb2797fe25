//! [`Worker`]: one dedicated thread per model that loads it on first use and takes its jobs
//! from a bounded queue, so candle never blocks the async runtime. Models of the same files
//! share it; the thread ends when the last of them is dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use tokio::sync::mpsc;

use super::error::LocalModelError;
use crate::FlowError;

/// Jobs that may wait for a worker; callers beyond them wait to enqueue.
const QUEUE: usize = 16;

/// The queue of one model's thread.
pub(crate) struct Worker<J> {
    jobs: mpsc::Sender<J>,
}

/// The running workers of one kind of job, by model path.
pub(crate) struct Workers<J>(Mutex<Option<HashMap<PathBuf, Weak<Worker<J>>>>>);

impl<J: Send + 'static> Workers<J> {
    /// None running.
    pub(crate) const fn new() -> Self {
        Workers(Mutex::new(None))
    }

    /// The worker of `path`, started as a thread running `run` if none runs.
    pub(crate) fn of(
        &self,
        path: &Path,
        run: fn(&Path, mpsc::Receiver<J>),
    ) -> Result<Arc<Worker<J>>, LocalModelError> {
        let mut workers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let workers = workers.get_or_insert_with(HashMap::new);
        if let Some(worker) = workers.get(path).and_then(Weak::upgrade) {
            return Ok(worker);
        }
        workers.retain(|_, w| w.strong_count() > 0);
        let (jobs, queue) = mpsc::channel(QUEUE);
        let model = path.to_owned();
        std::thread::Builder::new()
            .name("genflow-local-model".to_owned())
            .spawn(move || run(&model, queue))
            .map_err(|e| LocalModelError::Load {
                path: path.to_owned(),
                reason: format!("cannot start its thread: {e}"),
            })?;
        let worker = Arc::new(Worker { jobs });
        workers.insert(path.to_owned(), Arc::downgrade(&worker));
        Ok(worker)
    }
}

/// The model a worker thread holds: `slot`'s, else loaded by `load` (on the first job, and
/// again after a failed load).
pub(crate) fn loaded<M>(
    slot: &mut Option<M>,
    load: impl FnOnce() -> Result<M, LocalModelError>,
) -> Result<&mut M, LocalModelError> {
    match slot {
        Some(model) => Ok(model),
        None => Ok(slot.insert(load()?)),
    }
}

impl<J> Worker<J> {
    /// Queues `job`, waiting while the queue is full.
    pub(crate) async fn submit(&self, job: J) -> Result<(), FlowError> {
        self.jobs
            .send(job)
            .await
            .map_err(|_| LocalModelError::WorkerGone.into())
    }
}
