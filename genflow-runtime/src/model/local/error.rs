//! [`LocalModelError`]: what goes wrong finding, loading and running a local model.

use std::path::PathBuf;

use serde_json::json;

use crate::{FlowError, Status};

/// A local model's failure; converts to a [`FlowError`] with the status its cause deserves.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LocalModelError {
    /// No model files for the name.
    #[error(
        "no local model '{name}': {wanted} was not found (looked in {searched}); put it in \
         the models folder (GENFLOW_MODELS_DIR or [model] local_dir), or run \
         ./scripts/fetch-test-models for SmolLM2-135M-Instruct and all-MiniLM-L6-v2"
    )]
    NotFound {
        /// The name after `local/`.
        name: String,
        /// What was looked for: a GGUF file, a folder holding given files.
        wanted: String,
        /// The places looked at.
        searched: String,
    },
    /// A name that could leave the models folder or names nothing.
    #[error("'local/{0}' is not a valid local model name: use a file name or 'org/repo'")]
    InvalidName(String),
    /// A folder with several GGUF files and no file named.
    #[error("local model '{name}' is ambiguous: {dir} holds {files}; name one file")]
    Ambiguous {
        /// The name after `local/`.
        name: String,
        /// The folder.
        dir: PathBuf,
        /// Its GGUF files.
        files: String,
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
    /// Tools the model must call: not supported yet.
    #[error("local models do not call tools yet; offer none, or let the model choose (auto)")]
    ToolsRequired,
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
            LocalModelError::InvalidName(_) | LocalModelError::ContextExceeded { .. } => {
                FlowError::invalid_argument(e.to_string())
            }
            LocalModelError::UnsupportedSchema(reason) => {
                FlowError::invalid_argument(e.to_string()).with_details(json!({ "reason": reason }))
            }
            LocalModelError::ToolsRequired => FlowError::new(Status::Unimplemented, e.to_string()),
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
