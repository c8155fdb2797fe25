//! [`Hub`] (feature `hf-hub`): downloads files of Hugging Face model repositories into the
//! hub cache, in the layout [`ModelFiles`](super::ModelFiles) reads
//! (`models--org--repo/snapshots/<commit>/<file>`, `refs/main`). Generic over the files a
//! model needs: a GGUF file, or a tokenizer, config and weights.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_hub::api::tokio::{Api, ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use super::error::LocalModelError;
use crate::model::EnvVars;

/// How long the hub may take to list a repository's files: a machine without network fails
/// fast instead of hanging at start-up. Downloads themselves have no deadline.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// A Hugging Face Hub endpoint (`HF_ENDPOINT`, default `https://huggingface.co`), its token
/// (`HF_TOKEN`, else the cache's `token` file) and the hub cache files go to.
#[derive(Clone, Debug)]
pub(crate) struct Hub {
    cache: PathBuf,
    endpoint: Option<String>,
    token: Option<String>,
}

impl Hub {
    /// The hub of `HF_ENDPOINT` and `HF_TOKEN` in `vars`, caching into `cache` (the `hub`
    /// folder of the Hugging Face cache).
    pub(crate) fn new(cache: PathBuf, vars: &EnvVars) -> Self {
        Hub {
            cache,
            endpoint: vars.get("HF_ENDPOINT"),
            token: vars.get("HF_TOKEN"),
        }
    }

    /// Where files are downloaded from.
    fn endpoint(&self) -> &str {
        self.endpoint.as_deref().unwrap_or("https://huggingface.co")
    }

    /// The hf-hub client: hf-hub's progress bar on stderr when it is a terminal.
    fn api(&self, repo: &str) -> Result<Api, LocalModelError> {
        let cache = Cache::new(self.cache.clone());
        let token = self.token.clone().or_else(|| cache.token());
        ApiBuilder::from_cache(cache)
            .with_endpoint(self.endpoint().to_owned())
            .with_token(token)
            .with_progress(std::io::stderr().is_terminal())
            .with_user_agent("genflow", env!("CARGO_PKG_VERSION"))
            .build()
            .map_err(|e| self.failed(repo, None, &e))
    }

    /// The file names of `repo` at `main`.
    pub(crate) async fn file_names(&self, repo: &str) -> Result<Vec<String>, LocalModelError> {
        let api = self.api(repo)?.model(repo.to_owned());
        let info = tokio::time::timeout(LIST_TIMEOUT, api.info())
            .await
            .map_err(|_| LocalModelError::Download {
                repo: repo.to_owned(),
                endpoint: self.endpoint().to_owned(),
                reason: format!("no answer within {}s", LIST_TIMEOUT.as_secs()),
            })?
            .map_err(|e| self.failed(repo, None, &e))?;
        Ok(info.siblings.into_iter().map(|s| s.rfilename).collect())
    }

    /// Downloads the `files` of `repo` at `main` that the cache lacks, and returns the
    /// snapshot folder holding them all.
    pub(crate) async fn snapshot(
        &self,
        repo: &str,
        files: &[String],
    ) -> Result<PathBuf, LocalModelError> {
        let api = self.api(repo)?;
        let cached = Cache::new(self.cache.clone()).model(repo.to_owned());
        let mut folder = None;
        for file in files {
            let path = match cached.get(file) {
                Some(path) => path,
                None => {
                    tracing::info!(
                        "downloading {file} of {repo} from {} into {}",
                        self.endpoint(),
                        self.cache.display()
                    );
                    let path = api
                        .repo(Repo::new(repo.to_owned(), RepoType::Model))
                        .download(file)
                        .await
                        .map_err(|e| self.failed(repo, Some(file), &e))?;
                    tracing::info!("downloaded {}", path.display());
                    path
                }
            };
            folder = snapshot_of(&path, file);
        }
        folder.ok_or_else(|| LocalModelError::Download {
            repo: repo.to_owned(),
            endpoint: self.endpoint().to_owned(),
            reason: "no files were asked for".to_owned(),
        })
    }

    /// `error` as [`LocalModelError::NotOnHub`] for a 404, else
    /// [`LocalModelError::Download`].
    fn failed(&self, repo: &str, file: Option<&str>, error: &ApiError) -> LocalModelError {
        let status = match error {
            ApiError::RequestError(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        };
        match status {
            Some(401 | 404) => LocalModelError::NotOnHub {
                what: match file {
                    Some(file) => format!("{file} of {repo}"),
                    None => repo.to_owned(),
                },
                endpoint: self.endpoint().to_owned(),
            },
            _ => LocalModelError::Download {
                repo: repo.to_owned(),
                endpoint: self.endpoint().to_owned(),
                reason: error.to_string(),
            },
        }
    }
}

/// The snapshot folder of `path`, the cached copy of the repository file `file`.
fn snapshot_of(path: &Path, file: &str) -> Option<PathBuf> {
    path.ancestors()
        .nth(file.split('/').count())
        .map(Path::to_path_buf)
}
