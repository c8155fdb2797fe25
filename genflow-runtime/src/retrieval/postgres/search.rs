//! Searching the Postgres store: the vector ranking by the HNSW index, the full-text ranking
//! by the GIN index, both with the metadata filter in the same SQL, and their fusion.

use std::collections::HashMap;

use deadpool_postgres::{Object, Transaction};
use serde_json::Value;
use tokio_postgres::types::ToSql;

use super::Inner;
use crate::retrieval::ranking::{
    fuse_hybrid, hybrid_candidates, in_order, missing_embedding, query_words, stored_document,
};
use crate::retrieval::{Filter, Retrieved, SearchMode, StoreError, StoreQuery};

/// pgvector's default `hnsw.ef_search`, the fewest candidates an index scan considers.
const MIN_EF_SEARCH: usize = 40;
/// pgvector's largest `hnsw.ef_search`.
const MAX_EF_SEARCH: usize = 1000;

/// A vector as pgvector reads it from text: `[0.6,0.8]` (each `f32` written exactly).
pub(super) fn vector_text(vector: &[f32]) -> String {
    let parts: Vec<String> = vector.iter().map(f32::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// Runs `query`, whose `embedding` (unit length) was checked against the store's, on a store
/// holding embeddings.
pub(super) async fn run(
    inner: &Inner,
    client: &mut Object,
    query: StoreQuery,
    embedding: Option<Vec<f32>>,
) -> Result<Vec<Retrieved>, StoreError> {
    let transaction = client.transaction().await.map_err(|e| inner.fail(e))?;
    let search = Search {
        inner,
        transaction: &transaction,
        filter: query.filter.as_ref(),
    };
    let embedding = embedding.as_deref().map(vector_text);
    let ranked = match (query.mode, embedding) {
        (SearchMode::Keyword, _) => {
            let mut ranked = search.keyword(&query.text, query.k, None).await?;
            if let Some(floor) = query.min_score {
                ranked.retain(|(_, score)| *score >= floor);
            }
            ranked
        }
        (SearchMode::Vector, Some(embedding)) => {
            search.vector(&embedding, query.min_score, query.k).await?
        }
        (SearchMode::Hybrid, Some(embedding)) => {
            let candidates = hybrid_candidates(query.k);
            let near = search
                .vector(&embedding, query.min_score, candidates)
                .await?;
            let near: Vec<String> = near.into_iter().map(|(id, _)| id).collect();
            // The floor is on the cosine similarity, for keyword matches too.
            let floor = query.min_score.map(|floor| (embedding.as_str(), floor));
            let words = search.keyword(&query.text, candidates, floor).await?;
            let words: Vec<String> = words.into_iter().map(|(id, _)| id).collect();
            fuse_hybrid(&near, &words, query.k)
        }
        (SearchMode::Vector | SearchMode::Hybrid, None) => return Err(missing_embedding()),
    };
    let found = search.documents(ranked).await?;
    transaction.commit().await.map_err(|e| inner.fail(e))?;
    Ok(found)
}

/// Parameters of one statement, numbered as they are bound.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Send + Sync>>);

impl Params {
    /// Binds `value`; returns its placeholder (`$n`).
    fn bind(&mut self, value: impl ToSql + Send + Sync + 'static) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// One search's transaction and filter.
struct Search<'a> {
    inner: &'a Inner,
    transaction: &'a Transaction<'a>,
    filter: Option<&'a Filter>,
}

impl Search<'_> {
    /// The best `limit` documents passing the filter by cosine similarity to `embedding` (as
    /// text), at least `floor`, best first, by the HNSW index.
    async fn vector(
        &self,
        embedding: &str,
        floor: Option<f32>,
        limit: usize,
    ) -> Result<Vec<(String, f32)>, StoreError> {
        // The index scan yields `ef_search` candidates before the filter and the floor.
        let ef_search = limit.clamp(MIN_EF_SEARCH, MAX_EF_SEARCH);
        self.transaction
            .batch_execute(&format!("SET LOCAL hnsw.ef_search = {ef_search}"))
            .await
            .map_err(|e| self.inner.fail(e))?;
        let mut params = Params::default();
        let vector = params.bind(embedding.to_owned());
        let mut condition = self.condition(&mut params);
        if let Some(floor) = floor {
            let most = params.bind(1.0 - f64::from(floor));
            condition.push_str(&format!(
                " AND c.embedding <=> {vector}::text::vector <= {most}"
            ));
        }
        let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT c.id, (1 - (c.embedding <=> {vector}::text::vector))::float4 FROM {table} c
             WHERE {condition} ORDER BY c.embedding <=> {vector}::text::vector LIMIT {limit}",
            table = self.inner.table
        );
        self.ranking(&sql, &params).await
    }

    /// The best `limit` full-text matches of `text` (any of its words) passing the filter, by
    /// `ts_rank`; with `near`, only those whose cosine similarity to its embedding is at least
    /// its floor.
    async fn keyword(
        &self,
        text: &str,
        limit: usize,
        near: Option<(&str, f32)>,
    ) -> Result<Vec<(String, f32)>, StoreError> {
        let words: Vec<String> = query_words(text).map(|w| format!("'{w}'")).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Params::default();
        let words = params.bind(words.join(" | "));
        let mut condition = self.condition(&mut params);
        if let Some((embedding, floor)) = near {
            let vector = params.bind(embedding.to_owned());
            let most = params.bind(1.0 - f64::from(floor));
            condition.push_str(&format!(
                " AND c.embedding <=> {vector}::text::vector <= {most}"
            ));
        }
        let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT c.id, ts_rank(c.fts, q) FROM {table} c, to_tsquery('{config}', {words}) q
             WHERE c.fts @@ q AND {condition} ORDER BY 2 DESC, c.id LIMIT {limit}",
            table = self.inner.table,
            config = self.inner.text_search
        );
        self.ranking(&sql, &params).await
    }

    /// Runs a ranking query: rows of an id and a `real` score.
    async fn ranking(&self, sql: &str, params: &Params) -> Result<Vec<(String, f32)>, StoreError> {
        let rows = self
            .transaction
            .query(sql, &params.refs())
            .await
            .map_err(|e| self.inner.fail(e))?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(|e| self.inner.fail(e))
    }

    /// The documents of `ranked`, in its order, with its scores.
    async fn documents(&self, ranked: Vec<(String, f32)>) -> Result<Vec<Retrieved>, StoreError> {
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ranked.iter().map(|(id, _)| id.as_str()).collect();
        let sql = format!(
            "SELECT id, content::text, metadata::text FROM {} WHERE id = ANY($1)",
            self.inner.table
        );
        let rows = self
            .transaction
            .query(&sql, &[&ids])
            .await
            .map_err(|e| self.inner.fail(e))?;
        let mut documents = HashMap::new();
        for row in rows {
            let read = |i| row.try_get::<_, String>(i).map_err(|e| self.inner.fail(e));
            let id = read(0)?;
            documents.insert(id.clone(), stored_document(id, &read(1)?, &read(2)?)?);
        }
        Ok(in_order(ranked, documents))
    }

    /// The filter as an SQL condition on `c.metadata`, its values bound in `params`.
    fn condition(&self, params: &mut Params) -> String {
        self.filter
            .map_or_else(|| "true".to_owned(), |filter| filter_sql(filter, params))
    }
}

/// `filter` as SQL over `jsonb` (checked beforehand by [`Filter::check`]). `null` matches a
/// JSON `null` and a missing entry; any other comparison with a missing entry is false, never
/// SQL's unknown, so `not` reads as in the documentation. Numbers compare as numbers (`2015`
/// equals `2015.0`), booleans as booleans.
fn filter_sql(filter: &Filter, params: &mut Params) -> String {
    let mut compare = |key: &str, value: &Value| {
        let key = params.bind(key.to_owned());
        if value.is_null() {
            format!("COALESCE(c.metadata -> {key}::text, 'null'::jsonb) = 'null'::jsonb")
        } else {
            let value = params.bind(value.to_string());
            format!("COALESCE(c.metadata -> {key}::text = {value}::text::jsonb, false)")
        }
    };
    filter.to_sql(&mut compare, "true", "false")
}
