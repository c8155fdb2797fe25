//! A test collection in BEIR's layout: `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl`
//! (`_id`, `text`) and `qrels/test.tsv` (`query-id`, `corpus-id`, `score`, after a header).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::BoxError;

/// One document of the corpus.
#[derive(Deserialize)]
pub struct CorpusDoc {
    /// Its id, as the judgements name it.
    #[serde(rename = "_id")]
    pub id: String,
    /// Its title (may be empty).
    #[serde(default)]
    pub title: String,
    /// Its text.
    pub text: String,
}

/// One query.
#[derive(Deserialize)]
pub struct Query {
    /// Its id, as the judgements name it.
    #[serde(rename = "_id")]
    pub id: String,
    /// Its text.
    pub text: String,
}

/// A collection: documents, the queries that have judgements, and the judgements.
pub struct Collection {
    /// The documents.
    pub corpus: Vec<CorpusDoc>,
    /// The queries with at least one relevant document, in file order.
    pub queries: Vec<Query>,
    /// Query id to (document id to graded relevance > 0).
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

/// Reads the collection in `dir`.
pub fn load(dir: &Path) -> Result<Collection, BoxError> {
    let corpus = read_jsonl(&dir.join("corpus.jsonl"))?;
    let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
    let tsv = std::fs::read_to_string(dir.join("qrels").join("test.tsv"))?;
    for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [query, doc, score] = fields[..] else {
            return Err(format!("qrels line not `query<TAB>doc<TAB>score`: {line:?}").into());
        };
        let score: i64 = score.trim().parse()?;
        if score > 0 {
            qrels
                .entry(query.to_owned())
                .or_default()
                .insert(doc.to_owned(), u32::try_from(score)?);
        }
    }
    let queries = read_jsonl::<Query>(&dir.join("queries.jsonl"))?
        .into_iter()
        .filter(|q| qrels.contains_key(&q.id))
        .collect();
    Ok(Collection {
        corpus,
        queries,
        qrels,
    })
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, BoxError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{}: {e}", path.display()).into()))
        .collect()
}
