//! Embedders, retrievers and indexers as registered, traced actions over the embedded SQLite
//! store: indexing skips what did not change, a flow retrieves as a traced step, the store
//! persists on disk.

#![cfg(feature = "sqlite")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use genflow_runtime::prelude::*;
use genflow_runtime::retrieval::{
    Document, EmbedPurpose, Embedder, EmbedderInfo, EmbeddingModel, Filter, Indexer,
    RetrieveOptions, Retrieved, Retriever, SearchMode, SqliteStore, VectorStore,
};
use genflow_runtime::telemetry::{Telemetry, TraceData};
use genflow_runtime::{ActionKind, RegistryError, RunOptions};
use serde_json::{Value, json};

/// A deterministic test embedding: how often each letter a–z occurs. Enough to rank texts
/// sharing letters; not a model of meaning.
struct Letters {
    info: EmbedderInfo,
    texts: Arc<AtomicUsize>,
}

impl Letters {
    fn new() -> (Self, Arc<AtomicUsize>) {
        let texts = Arc::new(AtomicUsize::new(0));
        let info = EmbedderInfo {
            name: "test/letters".into(),
            provider: "test".into(),
        };
        (
            Letters {
                info,
                texts: Arc::clone(&texts),
            },
            texts,
        )
    }
}

impl EmbeddingModel for Letters {
    fn info(&self) -> &EmbedderInfo {
        &self.info
    }

    fn embed(
        &self,
        texts: Vec<String>,
        _purpose: EmbedPurpose,
    ) -> BoxFuture<'static, Result<Vec<Vec<f32>>, FlowError>> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        let vectors = texts
            .iter()
            .map(|text| {
                let mut counts = vec![0.0; 26];
                for c in text
                    .to_ascii_lowercase()
                    .bytes()
                    .filter(u8::is_ascii_lowercase)
                {
                    counts[usize::from(c - b'a')] += 1.0;
                }
                counts
            })
            .collect();
        Box::pin(async move { Ok(vectors) })
    }
}

fn documents() -> Vec<Document> {
    vec![
        Document::text("Rust makes systems programming safe")
            .with_id("rust")
            .with_meta("topic", "code"),
        Document::text("Sourdough bread needs flour, water and time")
            .with_id("bread")
            .with_meta("topic", "food"),
        Document::text("Zebras graze on the savanna")
            .with_id("zebra")
            .with_meta("topic", "animals"),
    ]
}

struct Setup {
    indexer: Indexer,
    retriever: Retriever,
    embedded: Arc<AtomicUsize>,
}

fn setup(store: SqliteStore) -> Setup {
    let (letters, embedded) = Letters::new();
    let embedder = Embedder::new(letters);
    let store: Arc<dyn VectorStore> = Arc::new(store);
    Setup {
        indexer: Indexer::new("docs", Arc::clone(&store), embedder.clone()),
        retriever: Retriever::new("docs", store, embedder),
        embedded,
    }
}

fn ids(found: &[Retrieved]) -> Vec<&str> {
    found.iter().map(|r| r.document.id.as_str()).collect()
}

#[tokio::test]
async fn indexing_embeds_only_what_changed_and_the_store_persists() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("docs.db");
    let ctx = FlowContext::new();
    let first = setup(SqliteStore::open(&path).expect("opens"));
    let report = first
        .indexer
        .index(&ctx, documents())
        .await
        .expect("indexes");
    assert_eq!((report.indexed, report.unchanged), (3, 0));
    assert_eq!(first.embedded.load(Ordering::SeqCst), 3);
    drop(first);

    // Reopened: the documents are there, and only the changed one is embedded again.
    let second = setup(SqliteStore::open(&path).expect("reopens"));
    let mut changed = documents();
    changed[2] = Document::text("Zebras and zebus graze").with_id("zebra");
    let report = second.indexer.index(&ctx, changed).await.expect("indexes");
    assert_eq!((report.indexed, report.unchanged), (1, 2));
    assert_eq!(
        second.embedded.load(Ordering::SeqCst),
        1,
        "one text embedded"
    );

    let keyword = RetrieveOptions::k(3).mode(SearchMode::Keyword);
    let found = second
        .retriever
        .retrieve(&ctx, "zebus", keyword)
        .await
        .expect("retrieves");
    assert_eq!(ids(&found), ["zebra"], "the new text is searched");
    let found = second
        .retriever
        .retrieve(&ctx, "flour", RetrieveOptions::k(1))
        .await
        .expect("retrieves");
    assert_eq!(ids(&found), ["bread"], "hybrid: the keyword match wins");
    assert_eq!(found[0].document.metadata["topic"], "food");

    let duplicate = vec![
        Document::text("a").with_id("x"),
        Document::text("b").with_id("x"),
    ];
    let error = second
        .indexer
        .index(&ctx, duplicate)
        .await
        .expect_err("one id twice");
    assert_eq!(error.status(), Status::InvalidArgument);
    // A document without an id is keyed by its content hash.
    let anonymous = Document::text("no id here");
    let hash = anonymous.content_hash();
    second
        .indexer
        .index(&ctx, vec![anonymous])
        .await
        .expect("indexes");
    let store = SqliteStore::open(&path).expect("reopens");
    assert!(
        store
            .hashes(vec![hash.clone()])
            .await
            .expect("hashes")
            .contains_key(&hash)
    );
}

/// Answers from the documents most like the question.
#[flow(name = "ask")]
async fn ask(
    ctx: &FlowContext,
    retriever: State<Retriever>,
    question: String,
) -> Result<Vec<String>, FlowError> {
    let options = RetrieveOptions::k(2).filter(Filter::eq("topic", "food"));
    let found = retriever.retrieve(ctx, question, options).await?;
    Ok(found.into_iter().map(|r| r.document.id).collect())
}

fn span_names(trace: &TraceData) -> Vec<String> {
    let mut names: Vec<String> = trace
        .spans
        .values()
        .map(|s| {
            format!(
                "{} {}",
                s["attributes"]["genkit:metadata:subtype"]
                    .as_str()
                    .unwrap_or("-"),
                s["displayName"].as_str().unwrap_or("-")
            )
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "current_thread")]
async fn retrieval_actions_are_registered_run_by_name_and_traced() {
    let telemetry = Telemetry::new().trace_store(100).init().expect("telemetry");
    let traces = telemetry.trace_store().expect("trace store");
    let Setup {
        indexer, retriever, ..
    } = setup(SqliteStore::in_memory().expect("opens"));
    let embedder = Embedder::new(Letters::new().0);
    let registry = Registry::builder()
        .telemetry(telemetry.clone())
        .register(embedder.action())
        .register(indexer.action())
        .register(retriever.action())
        // The same action twice is kept once.
        .register(retriever.action())
        .state(retriever.clone())
        .build()
        .expect("registry");
    let keys: Vec<String> = registry
        .actions()
        .iter()
        .filter(|a| a.meta().kind != ActionKind::Flow)
        .map(|a| a.meta().key())
        .collect();
    assert_eq!(
        keys,
        ["/embedder/test/letters", "/retriever/docs", "/indexer/docs"]
    );

    // The indexer and the retriever by name, on JSON, as a developer tool would run them.
    let input = json!({"documents": serde_json::to_value(documents()).expect("json")});
    let report = registry
        .start_action(ActionKind::Indexer, "docs", input, RunOptions::default())
        .expect("indexer exists")
        .future
        .await
        .expect("indexes");
    assert_eq!(report, json!({"indexed": 3, "unchanged": 0}));
    let query = json!({"query": {"content": [{"text": "graze"}]},
                       "options": {"k": 1, "mode": "keyword"}});
    let found = registry
        .start_action(ActionKind::Retriever, "docs", query, RunOptions::default())
        .expect("retriever exists")
        .future
        .await
        .expect("retrieves");
    assert_eq!(found["documents"][0]["document"]["id"], "zebra");
    assert!(
        found["documents"][0]["score"]
            .as_f64()
            .is_some_and(|s| s > 0.0)
    );
    let invalid = registry
        .start_action(
            ActionKind::Retriever,
            "docs",
            json!({"query": 3}),
            RunOptions::default(),
        )
        .expect("retriever exists")
        .future
        .await
        .expect_err("the input is validated");
    assert_eq!(invalid.status(), Status::InvalidArgument);
    let embedded = registry
        .start_action(
            ActionKind::Embedder,
            "test/letters",
            json!({"input": [{"content": [{"text": "abba"}]}]}),
            RunOptions::default(),
        )
        .expect("embedder exists")
        .future
        .await
        .expect("embeds");
    assert_eq!(embedded["embeddings"][0]["embedding"][0], json!(2.0));

    // A flow retrieving as a traced step: flow > retriever > embedder.
    let run = registry
        .start("ask", json!("bread"), RunOptions::default())
        .expect("flow exists");
    let ids = run.ids.expect("ids");
    assert_eq!(run.future.await.expect("runs"), json!(["bread"]));
    let trace = traces.get(&ids.trace_hex()).expect("trace stored");
    assert_eq!(
        span_names(&trace),
        ["embedder test/letters", "flow ask", "retriever docs"]
    );
    let path = trace
        .spans
        .values()
        .find(|s| s["displayName"] == "test/letters")
        .map(|s| s["attributes"]["genkit:path"].clone());
    assert_eq!(
        path,
        Some(json!(
            "/{ask,t:flow}/{docs,t:action,s:retriever}/{test/letters,t:action,s:embedder}"
        ))
    );
    // The embedder's span is a model call by OpenTelemetry's GenAI conventions; the others
    // are not.
    let gen_ai = |name: &str| {
        let span = trace.spans.values().find(|s| s["displayName"] == name);
        let attributes = &span.expect("span")["attributes"];
        [
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
        ]
        .map(|key| attributes[key].clone())
    };
    assert_eq!(
        gen_ai("test/letters"),
        [json!("embeddings"), json!("test"), json!("letters")]
    );
    assert_eq!(gen_ai("docs"), [Value::Null, Value::Null, Value::Null]);
}

#[test]
fn different_actions_may_not_share_a_name() {
    let first = setup(SqliteStore::in_memory().expect("opens"));
    let second = setup(SqliteStore::in_memory().expect("opens"));
    let error = Registry::manual()
        .register(first.retriever.action())
        .register(second.retriever.action())
        .build()
        .expect_err("two retrievers named docs");
    assert!(
        matches!(
            error,
            RegistryError::DuplicateName {
                kind: ActionKind::Retriever,
                ..
            }
        ),
        "{error}"
    );
}
