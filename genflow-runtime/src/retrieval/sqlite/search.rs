//! Searching the SQLite store: the metadata filter as SQL, the exact vector scan, the FTS5
//! query, and the fusion of both.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::Value;

use super::database;
use crate::retrieval::ranking::{
    checked_embedding, fuse_hybrid, hybrid_candidates, in_order, missing_embedding, query_words,
    stored_document,
};
use crate::retrieval::{Filter, Retrieved, SearchMode, StoreError, StoreQuery};

/// An embedding as stored: little-endian `f32`s.
pub(super) fn to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The dot product of a stored embedding with `query` (both of unit length: the cosine).
fn dot(blob: &[u8], query: &[f32]) -> Result<f32, StoreError> {
    if blob.len() != query.len() * 4 {
        return Err(StoreError::Corrupt(format!(
            "an embedding of {} bytes where {} were expected",
            blob.len(),
            query.len() * 4
        )));
    }
    Ok(blob
        .chunks_exact(4)
        .zip(query)
        .map(|(bytes, q)| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) * q)
        .sum())
}

/// Runs `query` on a store whose embeddings have `expected` dimensions (`None`: empty).
pub(super) fn run(
    connection: &Connection,
    describe: &str,
    expected: Option<usize>,
    query: StoreQuery,
) -> Result<Vec<Retrieved>, StoreError> {
    let embedding = checked_embedding(&query, expected)?;
    if expected.is_none() || query.k == 0 {
        return Ok(Vec::new());
    }
    let search = Search {
        connection,
        describe,
        filter: query.filter.as_ref(),
    };
    let ranked: Vec<(i64, f32)> = match (query.mode, embedding) {
        (SearchMode::Keyword, _) => {
            let mut ranked = search.keyword(&query.text, query.k)?;
            if let Some(floor) = query.min_score {
                ranked.retain(|(_, score)| *score >= floor);
            }
            ranked
        }
        (SearchMode::Vector, Some(embedding)) => {
            let mut ranked = search.vector(&embedding, query.min_score)?;
            ranked.truncate(query.k);
            ranked
        }
        (SearchMode::Hybrid, Some(embedding)) => {
            let candidates = hybrid_candidates(query.k);
            let near = search.vector(&embedding, query.min_score)?;
            let passing: HashSet<i64> = near.iter().map(|(rowid, _)| *rowid).collect();
            let near: Vec<i64> = near.iter().take(candidates).map(|(r, _)| *r).collect();
            let mut words: Vec<i64> = search
                .keyword(&query.text, candidates)?
                .into_iter()
                .map(|(rowid, _)| rowid)
                .collect();
            // The floor is on the cosine similarity, for keyword matches too.
            words.retain(|rowid| passing.contains(rowid));
            fuse_hybrid(&near, &words, query.k)
        }
        (SearchMode::Vector | SearchMode::Hybrid, None) => return Err(missing_embedding()),
    };
    search.documents(ranked)
}

/// One search's connection and filter.
struct Search<'a> {
    connection: &'a Connection,
    describe: &'a str,
    filter: Option<&'a Filter>,
}

impl Search<'_> {
    /// Every document passing the filter with its cosine similarity to `embedding`, at least
    /// `floor`, best first (ties by insertion order).
    fn vector(&self, embedding: &[f32], floor: Option<f32>) -> Result<Vec<(i64, f32)>, StoreError> {
        let mut params = Vec::new();
        let condition = self.condition(&mut params);
        let sql = format!("SELECT c.rowid, c.embedding FROM genflow_chunks c WHERE {condition}");
        let mut scored = Vec::new();
        let scan = || -> Result<(), StoreError> {
            let mut statement = self.connection.prepare(&sql).map_err(|e| self.fail(e))?;
            let mut rows = statement
                .query(params_from_iter(params))
                .map_err(|e| self.fail(e))?;
            while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
                let rowid: i64 = row.get(0).map_err(|e| self.fail(e))?;
                let blob = row.get_ref(1).map_err(|e| self.fail(e))?;
                let blob = blob.as_blob().map_err(|e| self.fail(e.into()))?;
                let score = dot(blob, embedding)?;
                if floor.is_none_or(|floor| score >= floor) {
                    scored.push((rowid, score));
                }
            }
            Ok(())
        };
        scan()?;
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(scored)
    }

    /// The best `limit` full-text matches of `text` (any of its words) passing the filter, by
    /// BM25 relevance (FTS5's `bm25()` negated: higher is better).
    fn keyword(&self, text: &str, limit: usize) -> Result<Vec<(i64, f32)>, StoreError> {
        let Some(words) = match_expression(text) else {
            return Ok(Vec::new());
        };
        let mut params = vec![SqlValue::Text(words)];
        let condition = self.condition(&mut params);
        params.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT c.rowid, -bm25(genflow_chunks_fts) FROM genflow_chunks_fts
             JOIN genflow_chunks c ON c.rowid = genflow_chunks_fts.rowid
             WHERE genflow_chunks_fts MATCH ? AND {condition}
             ORDER BY bm25(genflow_chunks_fts), c.rowid LIMIT ?"
        );
        let run = || -> rusqlite::Result<Vec<(i64, f32)>> {
            let mut statement = self.connection.prepare(&sql)?;
            let rows = statement.query_map(params_from_iter(params), |row| {
                Ok((row.get(0)?, row.get::<_, f64>(1)? as f32))
            })?;
            rows.collect()
        };
        run().map_err(|e| self.fail(e))
    }

    /// The documents of `ranked`, in its order, with its scores.
    fn documents(&self, ranked: Vec<(i64, f32)>) -> Result<Vec<Retrieved>, StoreError> {
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ranked.len()].join(",");
        let sql = format!(
            "SELECT rowid, id, content, metadata FROM genflow_chunks WHERE rowid IN ({marks})"
        );
        let run = || -> rusqlite::Result<Vec<(i64, String, String, String)>> {
            let mut statement = self.connection.prepare(&sql)?;
            let rows = statement.query_map(
                params_from_iter(ranked.iter().map(|(rowid, _)| rowid)),
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )?;
            rows.collect()
        };
        let mut documents = HashMap::new();
        for (rowid, id, content, metadata) in run().map_err(|e| self.fail(e))? {
            documents.insert(rowid, stored_document(id, &content, &metadata)?);
        }
        Ok(in_order(ranked, documents))
    }

    /// The filter as an SQL condition on `c.metadata`, its values appended to `params`.
    fn condition(&self, params: &mut Vec<SqlValue>) -> String {
        self.filter
            .map_or_else(|| "1".to_owned(), |filter| filter_sql(filter, params))
    }

    fn fail(&self, e: rusqlite::Error) -> StoreError {
        database(self.describe, e)
    }
}

/// An FTS5 expression matching any word of `text`, each quoted (so nothing in a query is FTS5
/// syntax), or `None` when `text` has no words.
fn match_expression(text: &str) -> Option<String> {
    let words: Vec<String> = query_words(text).map(|w| format!("\"{w}\"")).collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// `filter` as SQL over `json_extract` (checked beforehand by [`Filter::check`]). A
/// comparison with a missing entry is false, never SQL's unknown, so `not` reads as in the
/// documentation.
fn filter_sql(filter: &Filter, params: &mut Vec<SqlValue>) -> String {
    let mut compare = |key: &str, value: &Value| {
        params.push(SqlValue::Text(format!("$.\"{key}\"")));
        match sql_value(value) {
            None => "json_extract(c.metadata, ?) IS NULL".to_owned(),
            Some(value) => {
                params.push(value);
                "COALESCE(json_extract(c.metadata, ?) = ?, 0)".to_owned()
            }
        }
    };
    filter.to_sql(&mut compare, "1", "0")
}

/// A scalar as `json_extract` returns it (booleans as 0 and 1); `None` for `null`.
fn sql_value(value: &Value) -> Option<SqlValue> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(SqlValue::Integer(i64::from(*b))),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::String(s) => Some(SqlValue::Text(s.clone())),
        // Refused by `Filter::check`.
        Value::Array(_) | Value::Object(_) => Some(SqlValue::Text(value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_quoted_words() {
        assert_eq!(
            match_expression("what's \"NEAR\"(x*)?").as_deref(),
            Some("\"what\" OR \"s\" OR \"NEAR\" OR \"x\"")
        );
        assert_eq!(match_expression("?!"), None);
    }

    #[test]
    fn blobs_round_trip() {
        let v = [0.5f32, -1.0, 0.25];
        assert_eq!(dot(&to_blob(&v), &[1.0, 1.0, 1.0]).expect("length"), -0.25);
        assert!(dot(&to_blob(&v), &[1.0]).is_err());
    }
}
