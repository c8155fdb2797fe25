//! `DOCS_DIR`: every `.md`, `.txt` and `.html` file of a folder (and its subfolders) as
//! passages whose ids are the file's path relative to the folder plus the chunk number
//! (`guide/setup.md#2`).

use std::path::{Path, PathBuf};

use genflow_runtime::retrieval::{
    ChunkSize, Document, chunk_by_size, chunk_documents, chunk_markdown, html_to_text,
};

/// The longest passage, in characters: about what all-MiniLM-L6-v2 reads (256 tokens).
const MAX_CHARS: usize = 1000;
/// Characters a passage repeats from the one before, so a sentence cut in two is found.
const OVERLAP: usize = 100;

/// Why a folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The passage size was refused.
    #[error("cannot cut passages: {0}")]
    Chunking(#[from] genflow_runtime::FlowError),
}

/// The passages of every `.md`, `.txt`, `.html` and `.htm` file under `dir`, in path order.
/// Names starting with `.` (such as `.git` or the index file) are skipped. Markdown is cut at
/// headings and paragraphs (each passage starts with its headings), HTML reduced to its text,
/// and every passage is at most [`MAX_CHARS`] long.
pub fn documents(dir: &Path) -> Result<Vec<Document>, FolderError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let size = ChunkSize::new(MAX_CHARS, OVERLAP)?;
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| FolderError::Read {
            path: file.clone(),
            source,
        })?;
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        let id: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let passages = passages(&file, &text, size);
        documents.extend(chunk_documents(&id.join("/"), passages));
    }
    Ok(documents)
}

/// The passages of one file's text, by its extension.
fn passages(file: &Path, text: &str, size: ChunkSize) -> Vec<String> {
    match extension(file).as_deref() {
        Some("md") => chunk_markdown(text, size)
            .into_iter()
            .map(|chunk| {
                if chunk.headings.is_empty() {
                    chunk.text
                } else {
                    format!("{}\n\n{}", chunk.headings.join(" > "), chunk.text)
                }
            })
            .collect(),
        Some("html" | "htm") => owned(chunk_by_size(&html_to_text(text), size)),
        _ => owned(chunk_by_size(text, size)),
    }
}

fn owned(passages: Vec<&str>) -> Vec<String> {
    passages.into_iter().map(str::to_owned).collect()
}

fn extension(file: &Path) -> Option<String> {
    file.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Adds the indexable files under `dir` to `files`.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), FolderError> {
    let read_error = |source| FolderError::Read {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(read_error)?;
        if kind.is_dir() {
            collect(&path, files)?;
        } else if matches!(
            extension(&path).as_deref(),
            Some("md" | "txt" | "html" | "htm")
        ) {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_relative_paths_with_chunk_numbers() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("guide/.hidden")).expect("dirs");
        std::fs::write(
            dir.path().join("guide/setup.md"),
            "# Setup\n\nInstall it.\n\n## Run\n\nStart it.",
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "Plain notes.").expect("write");
        std::fs::write(
            dir.path().join("page.HTML"),
            "<html><script>x()</script><p>Hello <b>web</b></p></html>",
        )
        .expect("write");
        std::fs::write(dir.path().join("guide/.hidden/secret.md"), "no").expect("write");
        std::fs::write(dir.path().join("image.png"), "no").expect("write");
        let found = documents(dir.path()).expect("reads");
        let ids: Vec<&str> = found.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "guide/setup.md#0",
                "guide/setup.md#1",
                "notes.txt#0",
                "page.HTML#0"
            ]
        );
        assert_eq!(found[1].text_content(), "Setup > Run\n\nStart it.");
        assert_eq!(found[3].text_content().trim(), "Hello web");
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_it() {
        let err = documents(Path::new("/nonexistent/genflow-docs")).expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/genflow-docs"),
            "{err}"
        );
    }
}
