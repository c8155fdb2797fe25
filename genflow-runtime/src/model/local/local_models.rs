//! [`LocalModels`]: the local embedding models, found where the local chat models are.

use std::path::PathBuf;

use super::embedder::LocalEmbedder;
use super::find::ModelFiles;
use crate::FlowError;
use crate::model::EnvVars;
use crate::retrieval::Embedder;

/// Models run in-process from files in the models folder (`GENFLOW_MODELS_DIR`, or
/// [`LocalModels::models_dir`] for `[model] local_dir`) or the Hugging Face cache
/// (`HF_HUB_CACHE`, `HF_HOME`, ...): their sentence-embedding models as embedders. (Local chat
/// models resolve through [`Models`](crate::model::Models) as `local/<name>`.)
#[derive(Clone, Debug)]
pub struct LocalModels {
    files: ModelFiles,
}

impl LocalModels {
    /// The models folder and Hugging Face cache of `vars`.
    pub fn from_env(vars: &EnvVars) -> Self {
        LocalModels {
            files: ModelFiles::from_vars(vars),
        }
    }

    /// The same with another models folder.
    #[must_use]
    pub fn models_dir(self, dir: impl Into<PathBuf>) -> Self {
        LocalModels {
            files: self.files.with_dir(dir.into()),
        }
    }

    /// The embedder `local/<name>` of the BERT sentence-embedding model (such as
    /// sentence-transformers' all-MiniLM-L6-v2) in the folder `<name>` of the models folder,
    /// or, for `org/repo`, in the Hugging Face cache's snapshot of that repository: its
    /// config.json, tokenizer.json and model.safetensors. The weights load on the first call,
    /// on a thread of their own shared by every embedder of the folder. A missing folder is
    /// `NOT_FOUND`.
    #[track_caller]
    pub fn embedder(&self, name: &str) -> Result<Embedder, FlowError> {
        Ok(Embedder::new(LocalEmbedder::open(&self.files, name)?))
    }
}
