//! The GGUF file of `local/<org>/<repo>[/<file>]` downloaded from the Hugging Face Hub
//! (feature `hf-hub`): the file named, else the repository's one GGUF file.

use std::path::PathBuf;

use super::error::LocalModelError;
use super::hub::Hub;

/// Downloads the GGUF file `name` (`org/repo` or `org/repo/<file>`) names into the hub
/// cache, unless cached already, and returns its path.
pub(super) async fn gguf(hub: &Hub, name: &str) -> Result<PathBuf, LocalModelError> {
    let mut parts = name.splitn(3, '/');
    let (Some(org), Some(repo)) = (parts.next(), parts.next()) else {
        return Err(LocalModelError::InvalidName(name.to_owned()));
    };
    let repo = format!("{org}/{repo}");
    let files = hub.file_names(&repo).await?;
    let file = choose(name, &repo, parts.next(), &files)?;
    let folder = hub.snapshot(&repo, std::slice::from_ref(&file)).await?;
    Ok(folder.join(file))
}

/// The GGUF file among the repository's `files`: `wanted` (with or without `.gguf`), else
/// the only one; several without a name are ambiguous.
fn choose(
    name: &str,
    repo: &str,
    wanted: Option<&str>,
    files: &[String],
) -> Result<String, LocalModelError> {
    let ggufs: Vec<&String> = files.iter().filter(|f| f.ends_with(".gguf")).collect();
    let listed = || {
        if ggufs.is_empty() {
            "none".to_owned()
        } else {
            ggufs
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let chosen = match wanted {
        Some(wanted) => ggufs
            .iter()
            .find(|f| f.as_str() == wanted || f.strip_suffix(".gguf") == Some(wanted)),
        None if ggufs.len() > 1 => {
            return Err(LocalModelError::Ambiguous {
                name: name.to_owned(),
                place: format!("the Hugging Face repository {repo}"),
                files: listed(),
            });
        }
        None => ggufs.first(),
    };
    chosen
        .map(|f| (*f).clone())
        .ok_or_else(|| LocalModelError::NotInRepo {
            repo: repo.to_owned(),
            wanted: wanted.map(|w| format!(" named {w}")).unwrap_or_default(),
            files: listed(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(files: &[&str]) -> Vec<String> {
        files.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn the_named_file_or_the_only_gguf_file_is_chosen() {
        let one = names(&["README.md", "m.Q4.gguf"]);
        assert_eq!(choose("o/r", "o/r", None, &one).expect("one"), "m.Q4.gguf");
        let two = names(&["a.Q4.gguf", "a.Q8.gguf", "config.json"]);
        for wanted in ["a.Q8.gguf", "a.Q8"] {
            assert_eq!(
                choose("o/r/x", "o/r", Some(wanted), &two).expect("named"),
                "a.Q8.gguf"
            );
        }
        let ambiguous = choose("o/r", "o/r", None, &two).expect_err("two files");
        assert!(
            matches!(&ambiguous, LocalModelError::Ambiguous { files, .. } if files == "a.Q4.gguf, a.Q8.gguf"),
            "{ambiguous}"
        );
        let missing = choose("o/r/b", "o/r", Some("b"), &two).expect_err("no b");
        assert_eq!(
            missing.to_string(),
            "the Hugging Face repository o/r has no GGUF file named b; its GGUF files: \
             a.Q4.gguf, a.Q8.gguf"
        );
        let none = choose("o/r", "o/r", None, &names(&["config.json"])).expect_err("none");
        assert!(none.to_string().ends_with("its GGUF files: none"), "{none}");
        assert!(choose("o/r/config.json", "o/r", Some("config.json"), &two).is_err());
    }
}
