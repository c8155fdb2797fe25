//! Where `local/<name>` finds its GGUF file: the models folder (`GENFLOW_MODELS_DIR` or
//! `[model] local_dir`), then the Hugging Face cache (`HF_HUB_CACHE`, `HF_HOME/hub`, ...),
//! and with the feature `hf-hub` a download from the Hugging Face Hub into that cache.

use std::path::{Path, PathBuf};

use super::error::LocalModelError;
use crate::model::EnvVars;

/// The places GGUF files are looked up in, and whether missing ones may be downloaded.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModelFiles {
    dir: Option<PathBuf>,
    hf_hub: Option<PathBuf>,
    /// Downloads turned off (`GENFLOW_OFFLINE`, `HF_HUB_OFFLINE`, `[model] offline`).
    offline: bool,
    /// Where missing `org/repo` models are downloaded from.
    #[cfg(feature = "hf-hub")]
    hub: Option<super::hub::Hub>,
}

impl ModelFiles {
    /// The models folder from `GENFLOW_MODELS_DIR`, the Hugging Face hub cache as
    /// `huggingface_hub` places it, downloads unless `GENFLOW_OFFLINE` or `HF_HUB_OFFLINE`
    /// is set (to anything but `0`, `false`, `no` or `off`).
    pub(crate) fn from_vars(vars: &EnvVars) -> Self {
        let under = |var: &str, rest: &str| vars.get(var).map(|v| PathBuf::from(v).join(rest));
        let hf_hub = vars
            .get("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| under("HF_HOME", "hub"))
            .or_else(|| under("XDG_CACHE_HOME", "huggingface/hub"))
            .or_else(|| under("HOME", ".cache/huggingface/hub"));
        let set = |var: &str| {
            vars.get(var).is_some_and(|v| {
                !["0", "false", "no", "off"].contains(&v.trim().to_ascii_lowercase().as_str())
            })
        };
        ModelFiles {
            dir: vars.get("GENFLOW_MODELS_DIR").map(PathBuf::from),
            #[cfg(feature = "hf-hub")]
            hub: hf_hub
                .clone()
                .map(|cache| super::hub::Hub::new(cache, vars)),
            hf_hub,
            offline: set("GENFLOW_OFFLINE") || set("HF_HUB_OFFLINE"),
        }
    }

    /// The same with another models folder.
    pub(crate) fn with_dir(mut self, dir: PathBuf) -> Self {
        self.dir = Some(dir);
        self
    }

    /// The same with downloads turned off (`offline`) or left as they are.
    pub(crate) fn offline(mut self, offline: bool) -> Self {
        self.offline |= offline;
        self
    }

    /// Whether `local/<name>`, when missing, is downloaded from the Hugging Face Hub: an
    /// `org/repo[/file]` name, downloads on, the feature `hf-hub`.
    pub(crate) fn downloads(&self, name: &str) -> bool {
        cfg!(feature = "hf-hub") && self.download_note(name).is_empty()
    }

    /// Why `local/<name>` is not downloaded when missing (after a `; `), or nothing.
    fn download_note(&self, name: &str) -> String {
        let note = if !cfg!(feature = "hf-hub") {
            "downloads from the Hugging Face Hub need genflow-runtime's feature `hf-hub`"
        } else if self.offline {
            "downloads are off (GENFLOW_OFFLINE, HF_HUB_OFFLINE or [model] offline)"
        } else if !name.contains('/') {
            "only Hugging Face names, local/<org>/<repo>[/<file>], are downloaded"
        } else if self.hf_hub.is_none() {
            "no Hugging Face cache folder to download into: set HF_HOME"
        } else {
            return String::new();
        };
        format!("; {note}")
    }

    /// The GGUF file of `local/<name>` as [`ModelFiles::find`] finds it, else downloaded
    /// into the Hugging Face cache when [`ModelFiles::downloads`] allows.
    pub(crate) async fn fetch(&self, name: &str) -> Result<PathBuf, LocalModelError> {
        let found = self.find(name);
        #[cfg(feature = "hf-hub")]
        if let (Err(LocalModelError::NotFound { .. }), Some(hub)) = (&found, &self.hub)
            && self.downloads(name)
        {
            return super::download::gguf(hub, name).await;
        }
        found
    }

    /// The GGUF file of `local/<name>`: in the models folder `<name>`, `<name>.gguf` or the
    /// one GGUF file of the folder `<name>` (and for `org/repo/<file>` also `<file>` alone);
    /// in the Hugging Face cache, `org/repo` (its one GGUF file) or `org/repo/<file>` of the
    /// snapshot `refs/main` names.
    pub(crate) fn find(&self, name: &str) -> Result<PathBuf, LocalModelError> {
        self.locate(name, "a GGUF file", |path| in_folder(name, path))
    }

    /// The folder of `local/<name>` holding all of `files` (a model as its Hugging Face
    /// repository has it): the models folder's `<name>`, else the snapshot of `org/repo` (or
    /// its subfolder `org/repo/<path>`) in the Hugging Face cache.
    pub(crate) fn find_folder(
        &self,
        name: &str,
        files: &[&str],
    ) -> Result<PathBuf, LocalModelError> {
        let wanted = format!("a folder holding {}", files.join(", "));
        self.locate(name, &wanted, |path| {
            Ok(files
                .iter()
                .all(|file| path.join(file).is_file())
                .then(|| path.to_owned()))
        })
    }

    /// The first of `<dir>/<name>` and the Hugging Face snapshot path of `name` that `found`
    /// accepts.
    fn locate(
        &self,
        name: &str,
        wanted: &str,
        found: impl Fn(&Path) -> Result<Option<PathBuf>, LocalModelError>,
    ) -> Result<PathBuf, LocalModelError> {
        let parts: Vec<&str> = name.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\\'))
        {
            return Err(LocalModelError::InvalidName(name.to_owned()));
        }
        let mut searched = Vec::new();
        if let Some(dir) = &self.dir {
            if let Some(path) = found(&dir.join(name))? {
                return Ok(path);
            }
            if let [_, _, .., file] = parts.as_slice()
                && let Some(path) = found(&dir.join(file))?
            {
                return Ok(path);
            }
            searched.push(dir.display().to_string());
        }
        if let (Some(hub), [org, repo, rest @ ..]) = (&self.hf_hub, parts.as_slice()) {
            let repo_dir = hub.join(format!("models--{org}--{repo}"));
            if let Some(snapshot) = snapshot(&repo_dir)
                && let Some(path) = found(&snapshot.join(rest.join("/")))?
            {
                return Ok(path);
            }
            searched.push(repo_dir.display().to_string());
        }
        Err(LocalModelError::NotFound {
            name: name.to_owned(),
            wanted: wanted.to_owned(),
            searched: if searched.is_empty() {
                "no models folder: set GENFLOW_MODELS_DIR".to_owned()
            } else {
                searched.join(", ")
            },
            downloads: self.download_note(name),
        })
    }
}

/// `path` itself, `path.gguf`, or the one GGUF file of the folder `path`.
fn in_folder(name: &str, path: &Path) -> Result<Option<PathBuf>, LocalModelError> {
    if path.is_file() {
        return Ok(Some(path.to_owned()));
    }
    let mut with_extension = path.as_os_str().to_owned();
    with_extension.push(".gguf");
    let with_extension = PathBuf::from(with_extension);
    if with_extension.is_file() {
        return Ok(Some(with_extension));
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return Ok(None);
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .collect();
    files.sort();
    match files.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        several => Err(LocalModelError::Ambiguous {
            name: name.to_owned(),
            place: path.display().to_string(),
            files: several
                .iter()
                .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The snapshot folder `refs/main` of a cached Hugging Face repository names.
fn snapshot(repo_dir: &Path) -> Option<PathBuf> {
    let revision = std::fs::read_to_string(repo_dir.join("refs/main")).ok()?;
    Some(repo_dir.join("snapshots").join(revision.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("genflow-find-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn names_resolve_in_the_models_folder_and_the_hf_cache() {
        let dir = temp_dir("models");
        std::fs::write(dir.join("tiny.Q4.gguf"), b"x").expect("write");
        std::fs::create_dir_all(dir.join("two")).expect("dir");
        std::fs::write(dir.join("two/a.gguf"), b"x").expect("write");
        std::fs::write(dir.join("two/b.gguf"), b"x").expect("write");
        let hub = temp_dir("hub");
        let repo = hub.join("models--org--repo");
        std::fs::create_dir_all(repo.join("refs")).expect("refs");
        std::fs::write(repo.join("refs/main"), "abc\n").expect("ref");
        std::fs::create_dir_all(repo.join("snapshots/abc")).expect("snapshot");
        std::fs::write(repo.join("snapshots/abc/m.gguf"), b"x").expect("write");
        let hub_str = hub.to_string_lossy().into_owned();
        let files = ModelFiles::from_vars(&EnvVars::from_pairs([("HF_HUB_CACHE", &*hub_str)]))
            .with_dir(dir.clone());

        assert_eq!(
            files.find("tiny.Q4").expect("found"),
            dir.join("tiny.Q4.gguf")
        );
        assert_eq!(
            files.find("tiny.Q4.gguf").expect("found"),
            dir.join("tiny.Q4.gguf")
        );
        assert_eq!(files.find("two/b").expect("found"), dir.join("two/b.gguf"));
        assert!(matches!(
            files.find("two"),
            Err(LocalModelError::Ambiguous { .. })
        ));
        assert_eq!(
            files.find("org/repo").expect("found"),
            repo.join("snapshots/abc/m.gguf")
        );
        assert!(matches!(
            files.find("nope"),
            Err(LocalModelError::NotFound { .. })
        ));
        for bad in ["../tiny.Q4", "a//b", "/etc/passwd"] {
            assert!(
                matches!(files.find(bad), Err(LocalModelError::InvalidName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn folders_holding_the_files_resolve_in_both_places() {
        let files = ["config.json", "model.safetensors"];
        let dir = temp_dir("folders");
        std::fs::create_dir_all(dir.join("mini")).expect("dir");
        std::fs::create_dir_all(dir.join("partial")).expect("dir");
        for file in files {
            std::fs::write(dir.join("mini").join(file), b"x").expect("write");
        }
        std::fs::write(dir.join("partial/config.json"), b"x").expect("write");
        let hub = temp_dir("folder-hub");
        let repo = hub.join("models--org--embed");
        std::fs::create_dir_all(repo.join("refs")).expect("refs");
        std::fs::write(repo.join("refs/main"), "abc").expect("ref");
        std::fs::create_dir_all(repo.join("snapshots/abc")).expect("snapshot");
        for file in files {
            std::fs::write(repo.join("snapshots/abc").join(file), b"x").expect("write");
        }
        let hub_str = hub.to_string_lossy().into_owned();
        let models = ModelFiles::from_vars(&EnvVars::from_pairs([("HF_HUB_CACHE", &*hub_str)]))
            .with_dir(dir.clone());

        assert_eq!(
            models.find_folder("mini", &files).expect("found"),
            dir.join("mini")
        );
        assert_eq!(
            models.find_folder("org/embed", &files).expect("found"),
            repo.join("snapshots/abc")
        );
        let missing = models.find_folder("partial", &files);
        assert!(
            matches!(&missing, Err(LocalModelError::NotFound { wanted, .. }) if wanted.contains("model.safetensors")),
            "{missing:?}"
        );
        assert!(matches!(
            models.find_folder("../mini", &files),
            Err(LocalModelError::InvalidName(_))
        ));
    }
}
