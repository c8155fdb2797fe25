//! Ranking quality of one query against its judgements, and their means.

use std::collections::HashMap;

/// How deep the ranking is judged for MRR and nDCG.
pub const DEPTH: usize = 10;

/// The cut-off of the recall figure.
pub const RECALL_AT: usize = 3;

/// Sums of per-query figures, averaged by [`Totals::means`].
#[derive(Default)]
pub struct Totals {
    queries: usize,
    recall: f64,
    reciprocal_rank: f64,
    ndcg: f64,
}

impl Totals {
    /// Adds one query: `ranked` is its documents best first (no repeats), `relevant` its
    /// judged relevant documents with their grades.
    pub fn add(&mut self, ranked: &[String], relevant: &HashMap<String, u32>) {
        self.queries += 1;
        let found = ranked
            .iter()
            .take(RECALL_AT)
            .filter(|d| relevant.contains_key(*d))
            .count();
        self.recall += found as f64 / relevant.len().min(RECALL_AT) as f64;
        if let Some(rank) = ranked
            .iter()
            .take(DEPTH)
            .position(|d| relevant.contains_key(d))
        {
            self.reciprocal_rank += 1.0 / (rank + 1) as f64;
        }
        let gain = |grade: u32, rank: usize| f64::from(grade) / (rank as f64 + 2.0).log2();
        let dcg: f64 = ranked
            .iter()
            .take(DEPTH)
            .enumerate()
            .map(|(rank, d)| gain(relevant.get(d).copied().unwrap_or(0), rank))
            .sum();
        let mut grades: Vec<u32> = relevant.values().copied().collect();
        grades.sort_unstable_by(|a, b| b.cmp(a));
        let ideal: f64 = grades
            .into_iter()
            .take(DEPTH)
            .enumerate()
            .map(|(rank, g)| gain(g, rank))
            .sum();
        self.ndcg += dcg / ideal;
    }

    /// Mean recall@3 (relevant documents in the top 3 over min(3, relevant)), MRR@10 and
    /// nDCG@10.
    pub fn means(&self) -> (f64, f64, f64) {
        let n = self.queries.max(1) as f64;
        (self.recall / n, self.reciprocal_rank / n, self.ndcg / n)
    }
}
