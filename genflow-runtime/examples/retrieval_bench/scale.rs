//! Store throughput and latency at scale: synthetic passages (deterministic texts over a
//! made-up vocabulary, random unit vectors of [`DIMENSIONS`]), so the store is measured apart
//! from any embedding model.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use genflow_runtime::retrieval::{
    Document, SearchMode, StoreEntry, StoreError, StoreQuery, VectorStore, normalized,
};

use crate::BoxError;

/// The embedding length of all-MiniLM-L6-v2.
pub const DIMENSIONS: usize = 384;
/// Entries per upsert call.
const BATCH: usize = 1000;
/// Results per query.
const K: usize = 10;

/// A deterministic corpus and query set.
struct Synthetic {
    rng: fastrand::Rng,
    vocabulary: Vec<String>,
}

impl Synthetic {
    fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        const SYLLABLES: [&str; 16] = [
            "ka", "lo", "mi", "ren", "sto", "va", "dul", "pe", "tri", "no", "gas", "bel", "cor",
            "fin", "ux", "zo",
        ];
        let vocabulary = (0..5000)
            .map(|_| {
                (0..rng.usize(2..=4))
                    .map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())])
                    .collect()
            })
            .collect();
        Synthetic { rng, vocabulary }
    }

    /// A word, the frequent ones more often (a rough Zipf law).
    fn word(&mut self) -> &str {
        let r = self.rng.f64();
        let index = (r * r * r * self.vocabulary.len() as f64) as usize;
        &self.vocabulary[index.min(self.vocabulary.len() - 1)]
    }

    fn text(&mut self, words: usize) -> String {
        (0..words)
            .map(|_| self.word().to_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn vector(&mut self) -> Vec<f32> {
        normalized(
            (0..DIMENSIONS)
                .map(|_| self.rng.f32() * 2.0 - 1.0)
                .collect(),
        )
    }

    fn entry(&mut self, n: usize) -> StoreEntry {
        let words = self.rng.usize(40..=120);
        let document = Document::text(self.text(words))
            .with_id(format!("synthetic#{n}"))
            .with_meta("source", "synthetic");
        StoreEntry {
            hash: document.content_hash(),
            document,
            embedding: self.vector(),
        }
    }
}

/// One store's figures at one size.
pub struct Figures {
    /// Entries upserted per second.
    pub upserts_per_second: f64,
    /// Latency percentiles (p50, p99) per mode: vector, hybrid, keyword.
    pub latencies: Vec<(SearchMode, Duration, Duration)>,
}

/// Upserts `chunks` synthetic entries into `store` (empty) and runs `ready` (an index built
/// after the load; counted in the upsert rate), then runs `queries` searches in each mode,
/// one at a time.
pub async fn measure(
    store: Arc<dyn VectorStore>,
    chunks: usize,
    queries: usize,
    ready: impl Future<Output = Result<(), StoreError>>,
) -> Result<Figures, BoxError> {
    let mut synthetic = Synthetic::new(7);
    let started = Instant::now();
    let mut n = 0;
    while n < chunks {
        let batch = (n..chunks.min(n + BATCH))
            .map(|i| synthetic.entry(i))
            .collect::<Vec<_>>();
        n += batch.len();
        store.upsert(batch).await?;
    }
    ready.await?;
    let upserts_per_second = chunks as f64 / started.elapsed().as_secs_f64();

    let mut queries_of = Synthetic::new(11);
    let mut latencies = Vec::new();
    for mode in [SearchMode::Vector, SearchMode::Hybrid, SearchMode::Keyword] {
        let mut times = Vec::with_capacity(queries);
        for _ in 0..queries {
            let words = queries_of.rng.usize(2..=5);
            let query = StoreQuery {
                text: queries_of.text(words),
                embedding: (mode != SearchMode::Keyword).then(|| queries_of.vector()),
                k: K,
                filter: None,
                min_score: None,
                mode,
            };
            let started = Instant::now();
            store.search(query).await?;
            times.push(started.elapsed());
        }
        times.sort();
        latencies.push((mode, percentile(&times, 50), percentile(&times, 99)));
    }
    Ok(Figures {
        upserts_per_second,
        latencies,
    })
}

/// The `p`th percentile of sorted `times` (nearest rank).
fn percentile(times: &[Duration], p: usize) -> Duration {
    let rank = (times.len() * p).div_ceil(100).max(1);
    times[rank - 1]
}
