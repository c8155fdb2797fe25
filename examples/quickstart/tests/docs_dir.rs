//! `DOCS_DIR` as a newcomer uses it: the quickstart indexes a folder at start-up with the local
//! embedding model, answers a paraphrased question from the right file's passage, and on later
//! starts embeds only what changed. Needs all-MiniLM-L6-v2 (`scripts/fetch-test-models`):
//! skipped with a note without it, and failing when CI is set.

#![cfg(feature = "local")]

mod support;

use std::time::Duration;

use support::Service;

/// The file that tells the embedding model is there.
const MINILM: &str = "all-MiniLM-L6-v2/model.safetensors";

/// How long indexing at start-up may take (loading the model included).
const INDEXING: Duration = Duration::from_secs(120);

/// Starts the quickstart on `docs` and returns it with its `retrieval:` log line.
fn start(docs: &str, models: &str) -> (Service, String) {
    // The placeholder model answers (the folder also holds SmolLM2, which would answer by
    // default): it cites nothing it was given, so the citations are the retrieved passages.
    let service = Service::start_with(&[
        ("DOCS_DIR", docs),
        ("GENFLOW_MODELS_DIR", models),
        ("GENFLOW_MODEL", "local/test"),
    ]);
    let line = service.line_with("retrieval: ", INDEXING);
    (service, line)
}

#[tokio::test]
async fn a_folder_is_indexed_once_and_answers_paraphrases_with_its_paths() {
    let Some(models) = support::models::models_dir_holding(MINILM) else {
        return;
    };
    let models = models.to_string_lossy().into_owned();
    let folder = tempfile::tempdir().expect("temp dir");
    let write = |path: &str, text: &str| {
        let path = folder.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    };
    write(
        "guide/billing.md",
        "# Billing\n\nInvoices are sent by email on the first day of each month.",
    );
    write(
        "guide/outage.md",
        "# Incidents\n\nThe service was unavailable for two hours after a power failure.",
    );
    write(
        "pets.txt",
        "Cats sleep for most of the day and hunt at dusk.",
    );
    write(
        "garden.html",
        "<html><body><p>Tomatoes need full sun and regular watering.</p></body></html>",
    );
    let docs = folder.path().to_string_lossy().into_owned();

    let (service, line) = start(&docs, &models);
    assert!(
        line.contains("over 4 passages") && line.contains("4 embedded, 0 unchanged, 0 removed"),
        "{line}"
    );
    assert!(folder.path().join(".genflow-index.sqlite").is_file());
    // No content word in common with the billing passage. The offline model cites nothing
    // it was given, so the citations are the retrieved passages, best first.
    let reply = service.rag_query("When do I get my bill?").await;
    assert_eq!(
        reply["result"]["citations"][0], "guide/billing.md#0",
        "{reply}"
    );
    assert!(service.stop().success());

    let (service, line) = start(&docs, &models);
    assert!(
        line.contains("0 embedded, 4 unchanged, 0 removed"),
        "{line}"
    );
    assert!(service.stop().success());

    std::fs::remove_file(folder.path().join("pets.txt")).expect("remove");
    write("pets.txt", "Dogs bark at the postman.");
    std::fs::remove_file(folder.path().join("garden.html")).expect("remove");
    let (service, line) = start(&docs, &models);
    assert!(
        line.contains("over 3 passages") && line.contains("1 embedded, 2 unchanged, 1 removed"),
        "{line}"
    );
    assert!(service.stop().success());
}
