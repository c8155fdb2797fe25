//! The suite every [`VectorStore`] must pass: run [`conformance`] on an empty store in a test.
//! The embedded SQLite store runs it, the Postgres store will, and so can a user's own.

use serde_json::{Value, json};

use super::{
    Document, Filter, Retrieved, SearchMode, StoreEntry, StoreError, StoreQuery, VectorStore,
};

/// Checks `store`, which must be empty, against what every store promises: upsert and
/// replace, content hashes, deletion, vector, keyword and hybrid ranking, metadata filters,
/// minimum scores, embedding lengths, and documents coming back as they went in. Panics,
/// naming the broken promise, on the first failure.
pub async fn conformance(store: &dyn VectorStore) {
    for mode in [SearchMode::Vector, SearchMode::Keyword, SearchMode::Hybrid] {
        let found = search(store, query("rust", [1.0, 0.0, 0.0], mode, 4)).await;
        assert!(found.is_empty(), "an empty store finds nothing ({mode:?})");
    }
    let entries = corpus();
    store.upsert(entries.clone()).await.expect("upsert");
    let hashes = store
        .hashes(vec!["rust".into(), "bread".into(), "missing".into()])
        .await
        .expect("hashes");
    assert_eq!(hashes.len(), 2, "hashes of held ids only: {hashes:?}");
    assert_eq!(hashes.get("rust"), Some(&entries[0].hash));
    assert_eq!(hashes.get("bread"), Some(&entries[2].hash));

    // Documents come back whole.
    let found = search(store, query("", [1.0, 0.0, 0.0], SearchMode::Vector, 1)).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].document, entries[0].document, "round trip");

    ranking(store).await;
    filters(store).await;
    minimum_scores(store).await;
    replacing(store, &entries).await;
    refusals(store).await;

    let removed = store
        .delete(vec!["python".into(), "missing".into()])
        .await
        .expect("delete");
    assert_eq!(removed, 1, "delete counts what it removed");
    let found = ids(&search(
        store,
        query("language", [0.8, 0.6, 0.0], SearchMode::Hybrid, 9),
    )
    .await);
    assert!(!found.contains(&"python".to_owned()), "deleted: {found:?}");
    assert!(
        store
            .hashes(vec!["python".into()])
            .await
            .expect("hashes")
            .is_empty()
    );
}

fn entry(id: &str, text: &str, metadata: Value, embedding: [f32; 3]) -> StoreEntry {
    let mut document = Document::text(text).with_id(id);
    if let Value::Object(map) = metadata {
        document.metadata = map;
    }
    StoreEntry {
        hash: document.content_hash(),
        document,
        embedding: embedding.to_vec(),
    }
}

fn corpus() -> Vec<StoreEntry> {
    let mut rust = entry(
        "rust",
        "Rust is a systems programming language focused on safety",
        json!({"lang": "en", "topic": "code", "year": 2015, "stable": true}),
        [1.0, 0.0, 0.0],
    );
    rust.document = rust
        .document
        .with_media("https://127.0.0.1/ferris.png", Some("image/png"));
    rust.hash = rust.document.content_hash();
    vec![
        rust,
        entry(
            "python",
            "Python is a dynamic language loved for data science",
            json!({"lang": "en", "topic": "code", "year": 1991, "stable": true}),
            // Not of unit length: stores compare directions.
            [1.6, 1.2, 0.0],
        ),
        entry(
            "bread",
            "Bread is baked from flour, water and yeast",
            json!({"lang": "en", "topic": "food", "year": 2020, "stable": false}),
            [0.0, 0.0, 1.0],
        ),
        entry(
            "pain",
            "Le pain est cuit au four",
            json!({"lang": "fr", "topic": "food"}),
            [0.0, 0.6, 0.8],
        ),
    ]
}

fn query(text: &str, embedding: [f32; 3], mode: SearchMode, k: usize) -> StoreQuery {
    StoreQuery {
        text: text.to_owned(),
        embedding: (mode != SearchMode::Keyword).then(|| embedding.to_vec()),
        k,
        filter: None,
        min_score: None,
        mode,
    }
}

fn filtered(mut query: StoreQuery, filter: Filter) -> StoreQuery {
    query.filter = Some(filter);
    query
}

async fn search(store: &dyn VectorStore, query: StoreQuery) -> Vec<Retrieved> {
    let shown = format!("{query:?}");
    let found = store
        .search(query)
        .await
        .unwrap_or_else(|e| panic!("search {shown}: {e}"));
    let descending = found.windows(2).all(|w| w[0].score >= w[1].score);
    assert!(descending, "results are best first: {shown}");
    found
}

fn ids(found: &[Retrieved]) -> Vec<String> {
    found.iter().map(|r| r.document.id.clone()).collect()
}

async fn ranking(store: &dyn VectorStore) {
    let found = search(store, query("", [1.0, 0.0, 0.0], SearchMode::Vector, 2)).await;
    assert_eq!(ids(&found), ["rust", "python"], "vector ranking and k");
    assert!(
        (found[0].score - 1.0).abs() < 1e-4,
        "cosine 1: {}",
        found[0].score
    );
    assert!(
        (found[1].score - 0.8).abs() < 1e-4,
        "cosine 0.8: {}",
        found[1].score
    );

    let found = search(
        store,
        query("yeast and flour", [1.0, 0.0, 0.0], SearchMode::Keyword, 4),
    )
    .await;
    assert_eq!(ids(&found), ["bread"], "keyword search matches words");
    assert!(found[0].score > 0.0, "BM25 relevance is positive");

    let found = search(
        store,
        query(
            "punctuation only: \"*( NEAR",
            [0.0; 3],
            SearchMode::Keyword,
            4,
        ),
    )
    .await;
    assert!(
        found.is_empty(),
        "query syntax is not interpreted: {:?}",
        ids(&found)
    );

    // Vector: pain, bread, python, rust. Keyword: bread. Fused: bread, then pain.
    let found = search(
        store,
        query("baked bread", [0.0, 0.6, 0.8], SearchMode::Hybrid, 2),
    )
    .await;
    assert_eq!(ids(&found), ["bread", "pain"], "hybrid fuses both rankings");
}

async fn filters(store: &dyn VectorStore) {
    let near_pain = |filter| filtered(query("", [0.0, 0.6, 0.8], SearchMode::Vector, 9), filter);
    let cases = [
        (Filter::eq("topic", "code"), vec!["python", "rust"]),
        (Filter::one_of("year", [2015, 2020]), vec!["bread", "rust"]),
        (
            Filter::Not(Box::new(Filter::eq("lang", "en"))),
            vec!["pain"],
        ),
        // A missing entry equals nothing, so `not` keeps it.
        (
            Filter::Not(Box::new(Filter::eq("year", 2015))),
            vec!["pain", "bread", "python"],
        ),
        (
            Filter::Any(vec![Filter::eq("lang", "fr"), Filter::eq("year", 1991)]),
            vec!["pain", "python"],
        ),
        (
            Filter::All(vec![Filter::eq("topic", "food"), Filter::eq("lang", "en")]),
            vec!["bread"],
        ),
        (Filter::eq("stable", true), vec!["python", "rust"]),
        (Filter::eq("year", Value::Null), vec!["pain"]),
    ];
    for (filter, expected) in cases {
        let shown = format!("{filter:?}");
        assert_eq!(
            ids(&search(store, near_pain(filter)).await),
            expected,
            "{shown}"
        );
    }
    let keyword = filtered(
        query("language", [0.0; 3], SearchMode::Keyword, 9),
        Filter::eq("year", 1991),
    );
    assert_eq!(
        ids(&search(store, keyword).await),
        ["python"],
        "keyword with a filter"
    );
    let hybrid = filtered(
        query("bread", [0.0, 0.6, 0.8], SearchMode::Hybrid, 9),
        Filter::eq("lang", "fr"),
    );
    assert_eq!(
        ids(&search(store, hybrid).await),
        ["pain"],
        "hybrid with a filter"
    );
}

async fn minimum_scores(store: &dyn VectorStore) {
    let mut vector = query("", [1.0, 0.0, 0.0], SearchMode::Vector, 9);
    vector.min_score = Some(0.5);
    assert_eq!(ids(&search(store, vector).await), ["rust", "python"]);
    // In hybrid mode the floor is on the cosine similarity: the keyword match "bread" is far.
    let mut hybrid = query("bread", [1.0, 0.0, 0.0], SearchMode::Hybrid, 9);
    hybrid.min_score = Some(0.5);
    assert_eq!(ids(&search(store, hybrid).await), ["rust", "python"]);
    let mut keyword = query("language", [0.0; 3], SearchMode::Keyword, 9);
    keyword.min_score = Some(1e9);
    assert!(
        search(store, keyword).await.is_empty(),
        "keyword floor on BM25"
    );
}

async fn replacing(store: &dyn VectorStore, entries: &[StoreEntry]) {
    let changed = entry(
        "rust",
        "Rust also names iron oxide",
        json!({"lang": "en", "topic": "chemistry"}),
        [1.0, 0.0, 0.0],
    );
    store.upsert(vec![changed.clone()]).await.expect("replace");
    let hashes = store.hashes(vec!["rust".into()]).await.expect("hashes");
    assert_eq!(hashes.get("rust"), Some(&changed.hash), "the new hash");
    let keyword = |text: &str| query(text, [0.0; 3], SearchMode::Keyword, 9);
    assert_eq!(
        ids(&search(store, keyword("oxide")).await),
        ["rust"],
        "new text indexed"
    );
    assert!(
        search(store, keyword("safety")).await.is_empty(),
        "old text gone"
    );
    let by_topic = filtered(
        query("", [1.0, 0.0, 0.0], SearchMode::Vector, 9),
        Filter::eq("topic", "code"),
    );
    assert_eq!(
        ids(&search(store, by_topic).await),
        ["python"],
        "new metadata"
    );
    store
        .upsert(vec![entries[0].clone()])
        .await
        .expect("restore");
}

async fn refusals(store: &dyn VectorStore) {
    let short = StoreEntry {
        embedding: vec![1.0, 0.0],
        ..entry("short", "two dimensions", json!({}), [0.0; 3])
    };
    let error = store
        .upsert(vec![short])
        .await
        .expect_err("a shorter embedding");
    assert!(
        matches!(
            error,
            StoreError::Dimensions {
                expected: 3,
                got: 2
            }
        ),
        "{error}"
    );
    let mut wrong = query("x", [0.0; 3], SearchMode::Vector, 1);
    wrong.embedding = Some(vec![1.0; 4]);
    let error = store
        .search(wrong)
        .await
        .expect_err("a longer query embedding");
    assert!(matches!(error, StoreError::Dimensions { .. }), "{error}");
    let bad = filtered(
        query("x", [1.0, 0.0, 0.0], SearchMode::Vector, 1),
        Filter::eq("tags", json!(["a"])),
    );
    let error = store.search(bad).await.expect_err("a non-scalar filter");
    assert!(matches!(error, StoreError::InvalidQuery(_)), "{error}");
}
