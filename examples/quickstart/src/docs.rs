//! The bundled document set the quickstart answers from (unless `DOCS_DIR` names a folder),
//! and the keyword search used when no embedding model is found. Free of genflow: the
//! benchmark's hand-written baseline includes this file.

use crate::rag::Passage;

/// One document: an id to cite and its text.
pub struct Doc {
    /// Cited in answers.
    pub id: &'static str,
    /// The passage.
    pub text: &'static str,
}

/// The documents, small enough to read in one sitting.
pub const DOCS: &[Doc] = &[
    Doc {
        id: "flows",
        text: "A flow is an async Rust function annotated with #[flow]. Its input and output types derive JsonSchema, so genflow knows the contract at compile time.",
    },
    Doc {
        id: "tools",
        text: "A tool is an async function annotated with #[tool]. Its doc comment becomes the description models read when they decide to call it.",
    },
    Doc {
        id: "streaming",
        text: "Streaming flows declare stream = ChunkType and send chunks through their context; clients receive them as server-sent events.",
    },
    Doc {
        id: "registry",
        text: "The registry collects every flow and tool linked into the binary at start-up and rejects duplicate names, naming both definitions.",
    },
    Doc {
        id: "errors",
        text: "Errors carry a Genkit status such as INVALID_ARGUMENT or DEADLINE_EXCEEDED; invalid input is reported with the JSON path of every violation.",
    },
];

/// The bundled documents sharing the most query words with `query`: [`keyword_search`] over
/// [`DOCS`].
pub fn search(query: &str, limit: usize) -> Vec<Passage> {
    keyword_search(DOCS.iter().map(|doc| (doc.id, doc.text)), query, limit)
}

/// The keyword search: the `(id, text)` documents sharing the most words of four letters or
/// more with `query` (a document whose id starts with one counts two more), best first, at most
/// `limit`.
pub fn keyword_search<'a>(
    documents: impl IntoIterator<Item = (&'a str, &'a str)>,
    query: &str,
    limit: usize,
) -> Vec<Passage> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(|w| {
            let w = w.to_lowercase();
            // A crude stem, so "tools" finds "tool".
            w.strip_suffix('s').map_or(w.clone(), str::to_owned)
        })
        .collect();
    let mut hits: Vec<Passage> = documents
        .into_iter()
        .map(|(id, text)| {
            let lowered = text.to_lowercase();
            let mut score = words
                .iter()
                .filter(|w| lowered.contains(w.as_str()))
                .count();
            if words.iter().any(|w| id.starts_with(w.as_str())) {
                score += 2;
            }
            Passage {
                id: id.to_owned(),
                text: text.to_owned(),
                score: score as f64,
            }
        })
        .filter(|p| p.score > 0.0)
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hits.truncate(limit);
    hits
}
