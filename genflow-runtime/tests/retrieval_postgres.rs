//! The Postgres store against a real Postgres with pgvector (`interop/postgres/run.sh` starts
//! one on 127.0.0.1 and sets `GENFLOW_TEST_POSTGRES_URL`): the store suite every store passes,
//! several stores sharing one table, and an index built after a bulk load. Without the URL the tests are skipped with a note,
//! except in CI, where they fail.

#![cfg(feature = "postgres")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use genflow_runtime::retrieval::{
    Document, PgConfig, PgVectorStore, SearchMode, StoreEntry, StoreError, StoreQuery, VectorStore,
    testing,
};

/// The database's URL, or `None` (with a note) when it is not set outside CI.
fn url() -> Option<String> {
    match std::env::var("GENFLOW_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("GENFLOW_TEST_POSTGRES_URL must be set in CI (interop/postgres/run.sh sets it)")
        }
        Err(_) => {
            eprintln!(
                "skipped: GENFLOW_TEST_POSTGRES_URL is not set; interop/postgres/run.sh starts a \
                 Postgres with pgvector and runs these tests"
            );
            None
        }
    }
}

/// A table of its own for each test of each run.
fn table(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t{}_{n}_{name}", std::process::id())
}

/// An entry whose embedding points along `axis` of 8 dimensions, tilted by `tilt`.
fn entry(id: &str, text: &str, axis: usize, tilt: f32) -> StoreEntry {
    let document = Document::text(text).with_id(id);
    let mut embedding = vec![tilt; 8];
    embedding[axis % 8] = 1.0;
    StoreEntry {
        hash: document.content_hash(),
        document,
        embedding,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_store_passes_the_store_suite() {
    let Some(url) = url() else { return };
    let store = PgVectorStore::connect(PgConfig::new(url).table(table("suite")))
        .await
        .expect("connects");
    testing::conformance(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_index() {
    let Some(url) = url() else { return };
    let table = table("shared");
    let config = PgConfig::new(url).table(table.clone()).pool_size(4);
    // Two replicas starting together both create the schema.
    let (a, b) = tokio::join!(
        PgVectorStore::connect(config.clone()),
        PgVectorStore::connect(config.clone())
    );
    let (a, b) = (a.expect("replica a"), b.expect("replica b"));

    // Both upsert overlapping batches at once, several times: the first upserts also race to
    // fix the embedding length.
    let batch = |replica: &str, round: usize| -> Vec<StoreEntry> {
        (0..60)
            .map(|i| {
                let id = format!("doc{}", (i + round * 20) % 100);
                entry(
                    &id,
                    &format!("{replica} wrote {id} in round {round}"),
                    i,
                    0.1,
                )
            })
            .collect()
    };
    for round in 0..4 {
        let (ra, rb) = tokio::join!(
            a.upsert(batch("alpha", round)),
            b.upsert(batch("beta", round))
        );
        ra.expect("a upserts");
        rb.expect("b upserts");
    }

    // Each sees every document, whoever wrote it last, and the same hashes.
    let ids: Vec<String> = (0..100).map(|i| format!("doc{i}")).collect();
    let seen_a: HashMap<String, String> = a.hashes(ids.clone()).await.expect("hashes a");
    let seen_b = b.hashes(ids).await.expect("hashes b");
    assert_eq!(seen_a.len(), 100, "every id written by either replica");
    assert_eq!(seen_a, seen_b, "one index");

    // A write by one is found by the other, in every mode.
    a.upsert(vec![entry("fresh", "a zebra crossing the savanna", 3, 0.0)])
        .await
        .expect("a upserts");
    for mode in [SearchMode::Vector, SearchMode::Keyword, SearchMode::Hybrid] {
        let mut embedding = vec![0.0; 8];
        embedding[3] = 1.0;
        let found = b
            .search(StoreQuery {
                text: "zebra".into(),
                embedding: (mode != SearchMode::Keyword).then_some(embedding),
                k: 1,
                filter: None,
                min_score: None,
                mode,
            })
            .await
            .expect("b searches");
        let ids: Vec<&str> = found.iter().map(|r| r.document.id.as_str()).collect();
        assert_eq!(ids, ["fresh"], "{mode:?}");
    }

    // The length the first upserts fixed holds for every replica.
    let error = b
        .upsert(vec![StoreEntry {
            embedding: vec![1.0; 3],
            ..entry("short", "three dimensions", 0, 0.0)
        }])
        .await
        .expect_err("another length");
    assert!(
        matches!(
            error,
            StoreError::Dimensions {
                expected: 8,
                got: 3
            }
        ),
        "{error}"
    );
    assert_eq!(b.delete(vec!["fresh".into()]).await.expect("deletes"), 1);
    assert!(
        a.hashes(vec!["fresh".into()])
            .await
            .expect("hashes")
            .is_empty()
    );
}

/// Whether `table` has its HNSW index, by Postgres's catalog.
async fn has_vector_index(url: &str, table: &str) -> bool {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%hnsw%'",
            &[&table],
        )
        .await
        .expect("reads the catalog");
    row.get::<_, i64>(0) == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_vector_index_is_built_after_the_load() {
    let Some(url) = url() else { return };
    let table = table("deferred");
    let store = PgVectorStore::connect(
        PgConfig::new(url.as_str())
            .table(table.clone())
            .defer_vector_index(),
    )
    .await
    .expect("connects");
    let early = store
        .build_vector_index()
        .await
        .expect_err("no embedding length yet");
    assert!(matches!(early, StoreError::Config(_)), "{early}");

    let entries = (0..20)
        .map(|i| {
            entry(
                &format!("doc{i}"),
                &format!("passage {i}"),
                i,
                0.05 * i as f32,
            )
        })
        .collect();
    store.upsert(entries).await.expect("loads");
    assert!(!has_vector_index(&url, &table).await, "deferred");
    let nearest = || async {
        let mut embedding = vec![0.0; 8];
        embedding[3] = 1.0;
        let found = store
            .search(StoreQuery {
                text: String::new(),
                embedding: Some(embedding),
                k: 3,
                filter: None,
                min_score: None,
                mode: SearchMode::Vector,
            })
            .await
            .expect("searches");
        found.into_iter().map(|r| r.document.id).collect::<Vec<_>>()
    };
    let exact = nearest().await;
    assert_eq!(exact[0], "doc3", "{exact:?}");

    store.build_vector_index().await.expect("builds");
    assert!(has_vector_index(&url, &table).await, "built");
    store
        .build_vector_index()
        .await
        .expect("building again changes nothing");
    assert_eq!(
        nearest().await,
        exact,
        "the index finds what the scan found"
    );
}

#[tokio::test]
async fn bad_configurations_are_refused_before_connecting() {
    let refused = |config| async move {
        match PgVectorStore::connect(config).await {
            Err(StoreError::Config(message)) => message,
            other => panic!("refused, not {other:?}"),
        }
    };
    let message = refused(PgConfig::new("postgres://127.0.0.1:1/x").table("docs; DROP")).await;
    assert!(message.contains("'docs; DROP'"), "{message}");
    let message = refused(PgConfig::new("postgres://127.0.0.1:1/x").text_search("English")).await;
    assert!(message.contains("text search"), "{message}");
    let message = refused(PgConfig::new("postgres://a:b:c@@/x?port=z")).await;
    assert!(message.contains("URL"), "{message}");
}
