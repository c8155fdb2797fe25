//! Retrieval benchmarks (issue 16): quality on a test collection, and store throughput and
//! latency at scale, the embedded SQLite store against Postgres with pgvector. A measurement,
//! not a test: `benches/retrieval.sh` fetches the collection and a Postgres and runs it.
//!
//! - `retrieval_bench quality DIR`: the collection in DIR (BEIR's layout), keyword-only; with
//!   the feature `local-models` and all-MiniLM-L6-v2 in the models folder
//!   (`GENFLOW_MODELS_DIR`, default `target/models`), vector-only and hybrid too.
//! - `retrieval_bench embed DIR`: the embedder's throughput (passages per second) over the
//!   markdown files of DIR, chunked as `quality` chunks (feature `local-models`).
//! - `retrieval_bench scale`: `SIZES` synthetic passages (default `10000,100000`), `QUERIES`
//!   searches per mode (default 200); SQLite in a file under `BENCH_DIR` (default the system's
//!   temporary folder), Postgres at `GENFLOW_BENCH_POSTGRES_URL` when set.

mod collection;
mod metrics;
mod quality;
mod scale;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use genflow_runtime::retrieval::{Embedder, PgConfig, PgVectorStore, SqliteStore, VectorStore};

/// Any error, reported by `main`.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["quality", dir] => {
            let collection = collection::load(&PathBuf::from(dir))?;
            quality::run(&collection, local_embedder()?.as_ref()).await
        }
        ["embed", dir] => {
            let embedder = local_embedder()?.ok_or("embed needs the feature local-models")?;
            quality::embedding_throughput(&embedder, &PathBuf::from(dir)).await
        }
        ["scale"] => scale().await,
        _ => Err("usage: retrieval_bench quality DIR | embed DIR | scale".into()),
    }
}

/// all-MiniLM-L6-v2 from the models folder, when the local models are compiled in.
#[cfg(feature = "local-models")]
fn local_embedder() -> Result<Option<Embedder>, BoxError> {
    use genflow_runtime::model::EnvVars;
    use genflow_runtime::model::providers::LocalModels;
    let models = LocalModels::from_env(&EnvVars::process())
        .models_dir(var("GENFLOW_MODELS_DIR", "target/models"));
    Ok(Some(models.embedder("all-MiniLM-L6-v2")?))
}

/// No embedder without the local models: keyword search only.
#[cfg(not(feature = "local-models"))]
fn local_embedder() -> Result<Option<Embedder>, BoxError> {
    Ok(None)
}

async fn scale() -> Result<(), BoxError> {
    let sizes: Vec<usize> = var("SIZES", "10000,100000")
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let queries: usize = var("QUERIES", "200").parse()?;
    let dir = tempfile::tempdir_in(var("BENCH_DIR", &std::env::temp_dir().to_string_lossy()))?;
    let postgres = std::env::var("GENFLOW_BENCH_POSTGRES_URL").ok();
    println!(
        "synthetic passages, random {}-d unit vectors (no embedding); {queries} sequential searches per mode, k = 10\n",
        scale::DIMENSIONS
    );
    println!(
        "| store | chunks | upsert chunks/s | vector p50 | vector p99 | hybrid p50 | hybrid p99 | keyword p50 | keyword p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &chunks in &sizes {
        let sqlite: Arc<dyn VectorStore> = Arc::new(SqliteStore::open(
            dir.path().join(format!("bench-{chunks}.db")),
        )?);
        let ready = async { Ok(()) };
        row(
            "SQLite",
            chunks,
            scale::measure(sqlite, chunks, queries, ready).await?,
        );
        if let Some(url) = &postgres {
            // The HNSW index grown row by row from the first upsert, then built once after
            // the load (PgConfig::defer_vector_index).
            for (store, defer) in [("Postgres", false), ("Postgres, index after load", true)] {
                let mut config = PgConfig::new(url.as_str())
                    .table(format!(
                        "bench_{chunks}{}",
                        if defer { "_deferred" } else { "" }
                    ))
                    .dimensions(scale::DIMENSIONS);
                if defer {
                    config = config.defer_vector_index();
                }
                let pg = PgVectorStore::connect(config).await?;
                let ready = {
                    let pg = pg.clone();
                    async move {
                        if defer {
                            pg.build_vector_index().await
                        } else {
                            Ok(())
                        }
                    }
                };
                let figures = scale::measure(Arc::new(pg), chunks, queries, ready).await?;
                row(store, chunks, figures);
            }
        }
    }
    Ok(())
}

fn row(store: &str, chunks: usize, figures: scale::Figures) {
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let latencies: Vec<String> = figures
        .latencies
        .iter()
        .flat_map(|(_, p50, p99)| [ms(*p50), ms(*p99)])
        .collect();
    println!(
        "| {store} | {chunks} | {:.0} | {} |",
        figures.upserts_per_second,
        latencies.join(" | ")
    );
}
