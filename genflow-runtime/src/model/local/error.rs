//! [`LocalModelError`]: what goes wrong finding, loading and running a local model.

use std::path::PathBuf;

use serde_json::json;

use crate::FlowError;

/// A local model's failure; converts to a [`FlowError`] with the status its cause deserves.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LocalModelError {
    /// No model files for the name, and none downloaded.
    #[error(
        "no local model '{name}': {wanted} was not found (looked in {searched}){downloads}; put \
         it in the models folder (GENFLOW_MODELS_DIR or [model] local_dir). Without network, \
         ./scripts/fetch-test-models fetches SmolLM2-135M-Instruct and all-MiniLM-L6-v2 into \
         target/models: then set GENFLOW_MODELS_DIR=target/models"
    )]
    NotFound {
        /// The name after `local/`.
        name: String,
        /// What was looked for: a GGUF file, a folder holding given files.
        wanted: String,
        /// The places looked at.
        searched: String,
        /// Why nothing was downloaded, after a `; `, or nothing.
        downloads: String,
    },
    /// A name that could leave the models folder or names nothing.
    #[error("'local/{0}' is not a valid local model name: use a file name or 'org/repo'")]
    InvalidName(String),
    /// A folder or repository with several GGUF files and no file named.
    #[error("local model '{name}' is ambiguous: {place} holds {files}; name one file")]
    Ambiguous {
        /// The name after `local/`.
        name: String,
        /// The folder or repository.
        place: String,
        /// Its GGUF files.
        files: String,
    },
    /// A Hugging Face repository without the GGUF file asked for.
    #[cfg(feature = "hf-hub")]
    #[error("the Hugging Face repository {repo} has no GGUF file{wanted}; its GGUF files: {files}")]
    NotInRepo {
        /// The repository.
        repo: String,
        /// ` named <file>` for the file asked for, or nothing.
        wanted: String,
        /// The repository's GGUF files.
        files: String,
    },
    /// The hub answered 404 (or 401: private and gated repositories need a token).
    #[cfg(feature = "hf-hub")]
    #[error(
        "{what} is not on the Hugging Face Hub at {endpoint} (a private or gated repository \
         needs HF_TOKEN)"
    )]
    NotOnHub {
        /// The repository, or a file of it.
        what: String,
        /// The hub.
        endpoint: String,
    },
    /// The hub could not be reached, or the download failed.
    #[cfg(feature = "hf-hub")]
    #[error(
        "cannot download {repo} from {endpoint}: {reason} (without network, set \
         GENFLOW_OFFLINE=1 and put the file in GENFLOW_MODELS_DIR)"
    )]
    Download {
        /// The repository.
        repo: String,
        /// The hub.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The file is not a model this provider runs.
    #[error("cannot load the local model {path}: {reason}")]
    Load {
        /// The GGUF file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The output schema cannot be compiled to a grammar.
    #[error("the output schema is not supported by constrained decoding: {0}")]
    UnsupportedSchema(String),
    /// Prompt and reply do not fit the context window.
    #[error(
        "the prompt has {prompt} tokens, which leaves no room for a reply in the model's \
         context of {context} tokens"
    )]
    ContextExceeded {
        /// Prompt tokens.
        prompt: usize,
        /// The model's context length.
        context: usize,
    },
    /// The chat template failed to render.
    #[error("the model's chat template failed: {0}")]
    Template(String),
    /// The forward pass, sampling or the grammar failed mid-generation.
    #[error("local generation failed: {0}")]
    Generation(String),
    /// Tokenizing or the forward pass failed while embedding.
    #[error("local embedding failed: {0}")]
    Embedding(String),
    /// A sampling setting of the request's extra fields is out of range.
    #[error("the setting `{name}` must be {wanted}, not {got}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// What it may be.
        wanted: &'static str,
        /// What the request gave.
        got: String,
    },
    /// The tool choice names a tool the request does not offer.
    #[error("the tool choice names '{0}', which is not among the tools offered")]
    UnknownTool(String),
    /// The worker thread is gone.
    #[error("the local model's worker stopped")]
    WorkerGone,
}

impl From<LocalModelError> for FlowError {
    fn from(e: LocalModelError) -> Self {
        let error = match &e {
            LocalModelError::NotFound { .. } | LocalModelError::Ambiguous { .. } => {
                FlowError::not_found(e.to_string())
            }
            #[cfg(feature = "hf-hub")]
            LocalModelError::NotInRepo { .. } | LocalModelError::NotOnHub { .. } => {
                FlowError::not_found(e.to_string())
            }
            #[cfg(feature = "hf-hub")]
            LocalModelError::Download { .. } => FlowError::unavailable(e.to_string()),
            LocalModelError::InvalidName(_)
            | LocalModelError::ContextExceeded { .. }
            | LocalModelError::InvalidSetting { .. }
            | LocalModelError::UnknownTool(_) => FlowError::invalid_argument(e.to_string()),
            LocalModelError::UnsupportedSchema(reason) => {
                FlowError::invalid_argument(e.to_string()).with_details(json!({ "reason": reason }))
            }
            LocalModelError::WorkerGone => FlowError::unavailable(e.to_string()),
            LocalModelError::Load { .. }
            | LocalModelError::Template(_)
            | LocalModelError::Generation(_)
            | LocalModelError::Embedding(_) => FlowError::internal(e.to_string()),
        };
        error.with_source(e)
    }
}

/// Wraps a library error as [`LocalModelError::Generation`].
pub(crate) fn generation(e: impl std::fmt::Display) -> LocalModelError {
    LocalModelError::Generation(e.to_string())
}

/// Wraps a library error as [`LocalModelError::Embedding`].
pub(crate) fn embedding(e: impl std::fmt::Display) -> LocalModelError {
    LocalModelError::Embedding(e.to_string())
}
