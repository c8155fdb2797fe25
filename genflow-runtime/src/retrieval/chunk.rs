//! Splitting text into passages to index: by size with overlap, and by markdown headings and
//! paragraphs. Sizes count characters (`char`s), never cutting one in two.

use serde_json::Value;

use super::Document;
use crate::FlowError;

/// How long passages are, and how much consecutive ones share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSize {
    max_chars: usize,
    overlap: usize,
}

impl ChunkSize {
    /// Passages of at most `max_chars` characters, each starting `overlap` characters before
    /// the end of the one before it. `overlap` must be less than half of `max_chars`, so that
    /// every passage moves on by at least half its size.
    pub fn new(max_chars: usize, overlap: usize) -> Result<Self, FlowError> {
        if max_chars == 0 || overlap.saturating_mul(2) >= max_chars {
            return Err(FlowError::invalid_argument(format!(
                "a chunk size needs max_chars > 0 and overlap < max_chars / 2 (got {max_chars} and {overlap})"
            )));
        }
        Ok(ChunkSize { max_chars, overlap })
    }

    /// The longest passage, in characters.
    pub fn max_chars(&self) -> usize {
        self.max_chars
    }
}

/// Splits `text` into passages of at most `size.max_chars()` characters overlapping by
/// `overlap`. A passage ends at the last whitespace of its window when there is one in the
/// window's second half (so words are not cut), else exactly at the window's end. Passages are
/// trimmed; empty ones are dropped.
pub fn chunk_by_size(text: &str, size: ChunkSize) -> Vec<&str> {
    // Byte offsets of every character, and of the end.
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let chars = bounds.len() - 1;
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < chars {
        let mut end = (start + size.max_chars).min(chars);
        if end < chars {
            let half = start + size.max_chars / 2;
            if let Some(space) = (half..end).rev().find(|&c| is_space_at(text, bounds[c])) {
                end = space;
            }
        }
        let piece = text[bounds[start]..bounds[end]].trim();
        if !piece.is_empty() {
            chunks.push(piece);
        }
        if end == chars {
            break;
        }
        start = end - size.overlap;
    }
    chunks
}

fn is_space_at(text: &str, byte: usize) -> bool {
    text[byte..].chars().next().is_some_and(char::is_whitespace)
}

/// One passage of a markdown text: the headings it sits under and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkdownChunk {
    /// The headings above it, outermost first (without their `#`s).
    pub headings: Vec<String>,
    /// Its paragraphs, separated by blank lines.
    pub text: String,
}

/// Splits markdown into passages: a new one at every ATX heading (`#` to `######`, not inside
/// a fenced code block), and within a section, whole paragraphs (blank-line separated; a
/// fenced block is one paragraph) gathered up to `size.max_chars()`. A paragraph longer than
/// that is split by [`chunk_by_size`].
pub fn chunk_markdown(text: &str, size: ChunkSize) -> Vec<MarkdownChunk> {
    let mut chunks = Vec::new();
    let mut headings: Vec<(usize, String)> = Vec::new();
    for section in sections(text) {
        if let Some((level, title)) = section.heading {
            headings.retain(|(l, _)| *l < level);
            headings.push((level, title));
        }
        let path: Vec<String> = headings.iter().map(|(_, t)| t.clone()).collect();
        let mut current = String::new();
        let mut flush = |current: &mut String| {
            if !current.is_empty() {
                chunks.push(MarkdownChunk {
                    headings: path.clone(),
                    text: std::mem::take(current),
                });
            }
        };
        for paragraph in section.paragraphs {
            let length = paragraph.chars().count();
            if length > size.max_chars {
                flush(&mut current);
                for piece in chunk_by_size(&paragraph, size) {
                    current.push_str(piece);
                    flush(&mut current);
                }
                continue;
            }
            let joined = current.chars().count() + 2 + length;
            if !current.is_empty() && joined > size.max_chars {
                flush(&mut current);
            }
            if !current.is_empty() {
                current.push_str("\n\n");
            }
            current.push_str(&paragraph);
        }
        flush(&mut current);
    }
    chunks
}

/// A heading (if the section has one) and the paragraphs below it.
struct Section {
    heading: Option<(usize, String)>,
    paragraphs: Vec<String>,
}

fn sections(text: &str) -> Vec<Section> {
    let mut sections = vec![Section {
        heading: None,
        paragraphs: Vec::new(),
    }];
    let mut paragraph = String::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let section = sections.last_mut().map(|s| &mut s.paragraphs);
        let Some(paragraphs) = section else { break };
        if let Some(marker) = fence {
            push_line(&mut paragraph, line);
            if trimmed.starts_with(marker) {
                fence = None;
            }
            continue;
        }
        if let Some(marker) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
            fence = Some(marker);
            push_line(&mut paragraph, line);
            continue;
        }
        if let Some(heading) = heading(trimmed) {
            end_paragraph(&mut paragraph, paragraphs);
            sections.push(Section {
                heading: Some(heading),
                paragraphs: Vec::new(),
            });
            continue;
        }
        if trimmed.is_empty() {
            end_paragraph(&mut paragraph, paragraphs);
        } else {
            push_line(&mut paragraph, line);
        }
    }
    if let Some(last) = sections.last_mut() {
        end_paragraph(&mut paragraph, &mut last.paragraphs);
    }
    sections.retain(|s| s.heading.is_some() || !s.paragraphs.is_empty());
    sections
}

/// An ATX heading's level and title.
fn heading(line: &str) -> Option<(usize, String)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let rest = &line[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim_end();
    Some((level, title.to_owned()))
}

fn push_line(paragraph: &mut String, line: &str) {
    if !paragraph.is_empty() {
        paragraph.push('\n');
    }
    paragraph.push_str(line.trim_end());
}

fn end_paragraph(paragraph: &mut String, paragraphs: &mut Vec<String>) {
    if !paragraph.trim().is_empty() {
        paragraphs.push(std::mem::take(paragraph));
    }
    paragraph.clear();
}

/// The passages of the source `source` as documents: ids `"{source}#{n}"` (n from 0) and
/// metadata `source` and `chunk`, so that re-indexing the source replaces them one by one.
pub fn chunk_documents<S: Into<String>>(
    source: &str,
    passages: impl IntoIterator<Item = S>,
) -> Vec<Document> {
    passages
        .into_iter()
        .enumerate()
        .map(|(n, text)| {
            Document::text(text)
                .with_id(format!("{source}#{n}"))
                .with_meta("source", source)
                .with_meta("chunk", Value::from(n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(max: usize, overlap: usize) -> ChunkSize {
        ChunkSize::new(max, overlap).expect("valid size")
    }

    #[test]
    fn sizes_refuse_an_overlap_that_would_not_move_on() {
        assert!(ChunkSize::new(0, 0).is_err());
        assert!(ChunkSize::new(10, 5).is_err());
        assert!(ChunkSize::new(10, 4).is_ok());
    }

    #[test]
    fn passages_break_at_whitespace_and_overlap() {
        let text = "one two three four five six seven eight nine ten";
        let chunks = chunk_by_size(text, size(16, 4));
        assert!(chunks.iter().all(|c| c.chars().count() <= 16), "{chunks:?}");
        assert_eq!(chunks.first().copied(), Some("one two three"));
        // Every word survives, and consecutive passages share text.
        for word in text.split(' ') {
            assert!(chunks.iter().any(|c| c.contains(word)), "{word} lost");
        }
        // Each passage starts with the last characters of the one before.
        for pair in chunks.windows(2) {
            let head = pair[1].split(' ').next().unwrap_or_default();
            assert!(!head.is_empty() && pair[0].ends_with(head), "{pair:?}");
        }
    }

    #[test]
    fn passages_never_cut_a_character() {
        let text = "ééééééééééééééééééééé日本語のテキストです🙂🙂🙂🙂🙂";
        let chunks = chunk_by_size(text, size(7, 2));
        assert!(chunks.len() > 3);
        assert!(chunks.iter().all(|c| c.chars().count() <= 7));
        let joined: String = chunks.concat();
        assert!(joined.contains("日本語") && joined.ends_with('🙂'));
    }

    #[test]
    fn markdown_splits_at_headings_and_keeps_paragraphs_whole() {
        let text = "Intro line.\n\n# Install\n\nRun cargo add.\n\nThen build.\n\n## Features\n\n```toml\n# not a heading\n[features]\n```\n\n# Usage\n\nCall it.";
        let chunks = chunk_markdown(text, size(200, 0));
        let seen: Vec<(Vec<&str>, &str)> = chunks
            .iter()
            .map(|c| {
                (
                    c.headings.iter().map(String::as_str).collect(),
                    c.text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (vec![], "Intro line."),
                (vec!["Install"], "Run cargo add.\n\nThen build."),
                (
                    vec!["Install", "Features"],
                    "```toml\n# not a heading\n[features]\n```"
                ),
                (vec!["Usage"], "Call it."),
            ]
        );
    }

    #[test]
    fn markdown_paragraphs_gather_up_to_the_size_and_long_ones_are_split() {
        let long = "word ".repeat(30);
        let text = format!("# A\n\nfirst para\n\nsecond para\n\n{long}");
        let chunks = chunk_markdown(&text, size(24, 0));
        assert_eq!(chunks[0].text, "first para\n\nsecond para");
        assert!(chunks.len() > 3);
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 24));
        assert!(chunks.iter().all(|c| c.headings == ["A"]));
    }

    #[test]
    fn chunk_documents_are_named_after_their_source() {
        let docs = chunk_documents("guide/intro.md", ["a", "b"]);
        assert_eq!(docs[1].id, "guide/intro.md#1");
        assert_eq!(docs[1].metadata["source"], "guide/intro.md");
        assert_eq!(docs[1].metadata["chunk"], 1);
    }
}
