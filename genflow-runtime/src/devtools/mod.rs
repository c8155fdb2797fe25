//! The developer tools (feature `server`, dev mode only): a second HTTP server on 127.0.0.1
//! that speaks Genkit's reflection API, so that Genkit's CLI (`genkit flow:run`,
//! `genkit start`) and Developer UI work against a genflow binary, serves the trace read
//! API (`GET /api/traces`, `/api/traces/{id}`), and at its root genflow's own developer UI,
//! compiled into the binary.
//!
//! [`run_service`](crate::http::run_service) starts it next to the flow server in dev mode
//! (`GENKIT_ENV=dev`, `[server] dev` or `GENFLOW_SERVER_DEV`) and stops it with it. On start
//! it writes the runtime file the Genkit CLI discovers runtimes by (see [`project_root`]) and
//! deletes it when it stops. See `docs/devtools.md`.
//!
//! ```no_run
//! use genflow_runtime::Registry;
//! use genflow_runtime::devtools::DevServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::builder().build()?;
//! let dev = DevServer::new(registry).start().await?; // 127.0.0.1:3100, or the next free port
//! println!("reflection API on {}", dev.url());
//! dev.stop().await;
//! # Ok(()) }
//! ```

mod cancel;
mod reflection;
mod run_action;
mod runtime_file;
mod ui;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::get;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::http::observe;
use crate::{DynAction, Registry};

use cancel::ActiveRuns;
pub use runtime_file::{PROJECT_MARKERS, REFLECTION_API_SPEC_VERSION, RuntimeFile, project_root};

/// The first port the developer tools try: Genkit's reflection port.
pub const DEFAULT_PORT: u16 = 3100;

/// How many ports after the first one are tried when it is taken (as Genkit's runtimes do).
const PORT_SEARCH: u16 = 100;

/// What genflow reports as its Genkit version (`x-genkit-version`, the runtime file).
pub const GENKIT_VERSION: &str = concat!("rust/", env!("CARGO_PKG_VERSION"));

/// Why the developer tools could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevToolsError {
    /// No port from the first one on was free.
    #[error("no free port for the developer tools on 127.0.0.1 from {first} on: {source}")]
    NoPort {
        /// The first port tried.
        first: u16,
        /// The last bind error.
        source: io::Error,
    },
    /// The runtime file could not be written.
    #[error("cannot write the Genkit runtime file under {root}: {source}")]
    RuntimeFile {
        /// The project root it goes under.
        root: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// The developer tools of a registry, before they start: choose the port and where the runtime
/// file goes, then [`DevServer::start`].
#[derive(Debug)]
pub struct DevServer {
    registry: Registry,
    port: u16,
    root: Option<PathBuf>,
    runtime_id: Option<String>,
    flow_server: Option<String>,
}

impl DevServer {
    /// The developer tools of `registry` on [`DEFAULT_PORT`], writing the runtime file under
    /// the root the Genkit CLI searches from the current directory.
    pub fn new(registry: Registry) -> Self {
        DevServer {
            registry,
            port: DEFAULT_PORT,
            root: None,
            runtime_id: None,
            flow_server: None,
        }
    }

    /// The first port to try (the next free one is taken when it is busy; 0: any free port).
    #[must_use]
    pub fn port(mut self, first: u16) -> Self {
        self.port = first;
        self
    }

    /// Writes the runtime file under `root` instead of [`project_root`] of the current
    /// directory.
    #[must_use]
    pub fn project_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// The runtime id in the runtime file and the health check (default: `GENKIT_RUNTIME_ID`,
    /// else `<pid>-<port>`).
    #[must_use]
    pub fn runtime_id(mut self, id: impl Into<String>) -> Self {
        self.runtime_id = Some(id.into());
        self
    }

    /// The flow server's base URL (its flows at `<url>/<flow>`), where the developer UI's
    /// "copy as curl" sends flows (without it, to the reflection API's `runAction`).
    #[must_use]
    pub fn flow_server(mut self, url: impl Into<String>) -> Self {
        self.flow_server = Some(url.into());
        self
    }

    /// Binds 127.0.0.1 (the first free port from the chosen one), writes the runtime file,
    /// starts serving and turns the trace store's recording on.
    pub async fn start(self) -> Result<DevTools, DevToolsError> {
        let listener = bind(self.port).await?;
        let port = listener.local_addr().map_or(self.port, |a| a.port());
        let url = format!("http://127.0.0.1:{port}");
        let runtime_id = self
            .runtime_id
            .or_else(|| {
                std::env::var("GENKIT_RUNTIME_ID")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| format!("{}-{port}", std::process::id()));
        let root = match self.root {
            Some(root) => root,
            None => std::env::current_dir()
                .map(|cwd| project_root(&cwd))
                .map_err(|source| DevToolsError::RuntimeFile {
                    root: PathBuf::from("."),
                    source,
                })?,
        };
        let runtime_file = RuntimeFile::write(&root, runtime_id.clone(), url.clone(), port)
            .map_err(|source| DevToolsError::RuntimeFile {
                root: root.clone(),
                source,
            })?;
        if let Some(store) = self.registry.telemetry().trace_store() {
            store.set_recording(true);
        }
        let stopped = CancellationToken::new();
        let state = Arc::new(DevState {
            registry: self.registry,
            runs: ActiveRuns::default(),
            stopped: stopped.clone(),
            runtime_id,
        });
        let app = router(state).merge(ui::router(self.flow_server));
        let shutdown = stopped.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the developer tools stopped");
            }
        });
        tracing::info!(
            "genflow developer UI and Genkit reflection API on {url}; runtime file {}",
            runtime_file.path().display()
        );
        Ok(DevTools {
            url,
            stopped,
            task,
            runtime_file,
        })
    }
}

/// Running developer tools. [`DevTools::stop`] (or dropping them) cancels their runs, stops
/// the server and deletes the runtime file.
#[derive(Debug)]
pub struct DevTools {
    url: String,
    stopped: CancellationToken,
    task: JoinHandle<()>,
    runtime_file: RuntimeFile,
}

impl DevTools {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The runtime file the Genkit CLI discovers this runtime by.
    pub fn runtime_file(&self) -> &Path {
        self.runtime_file.path()
    }

    /// Cancels the runs still going, stops serving and deletes the runtime file.
    pub async fn stop(mut self) {
        self.stopped.cancel();
        // A server that panicked has nothing left to stop.
        let _ = (&mut self.task).await;
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        self.stopped.cancel();
    }
}

/// What every route of one dev server shares.
pub(crate) struct DevState {
    registry: Registry,
    runs: ActiveRuns,
    /// Cancelled when the dev server stops: every run it started ends.
    stopped: CancellationToken,
    runtime_id: String,
}

impl DevState {
    /// The action of a registry key, `/<kind>/<name>`.
    fn action(&self, key: &str) -> Option<Arc<dyn DynAction>> {
        self.registry
            .actions()
            .into_iter()
            .find(|a| a.meta().key() == key)
            .cloned()
    }

    /// Starts exporting traces to the telemetry server at `url` (what `POST /api/notify`
    /// asks), unless `GENKIT_TELEMETRY_SERVER` chose one.
    fn connect_telemetry_server(&self, url: &str) {
        match self.registry.telemetry().trace_server() {
            Some(exporter) if exporter.connect(url) => {
                tracing::debug!(url, "exporting traces to the Genkit telemetry server");
            }
            Some(_) => tracing::debug!(url, "GENKIT_TELEMETRY_SERVER chose the telemetry server"),
            None => tracing::debug!(url, "no trace exporter to connect: telemetry has none"),
        }
    }

    /// Waits until the spans of a finished run reached the telemetry server, so that a
    /// caller that opens the trace at once finds it (as Genkit's own runtimes do).
    async fn flush_traces(&self) {
        if let Some(exporter) = self.registry.telemetry().trace_server() {
            exporter.flush().await;
        }
    }

    /// `{"defaultModel": "<provider/model>"}` when the registry holds a model catalog.
    fn default_model(&self) -> Map<String, Value> {
        #[cfg(feature = "models")]
        if let Some(models) = self.registry.context().state::<crate::model::Models>() {
            return Map::from_iter([(
                "defaultModel".to_owned(),
                Value::from(models.default_model_name()),
            )]);
        }
        Map::new()
    }
}

/// The first free port on 127.0.0.1 from `first` on.
async fn bind(first: u16) -> Result<TcpListener, DevToolsError> {
    let last = if first == 0 {
        0
    } else {
        first.saturating_add(PORT_SEARCH)
    };
    let mut error = None;
    for port in first..=last {
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                if port != first {
                    tracing::warn!("port {first} is taken; the developer tools use {port}");
                }
                return Ok(listener);
            }
            Err(e) => error = Some(e),
        }
    }
    Err(DevToolsError::NoPort {
        first,
        source: error.unwrap_or_else(|| io::Error::other("no port to try")),
    })
}

/// The API routes of the dev server: the reflection API and the trace read API, each answer
/// carrying `x-genkit-version`.
fn router(state: Arc<DevState>) -> Router {
    let store = state.registry.telemetry().trace_store().cloned();
    let list = store.clone();
    reflection::router(state)
        .route(
            "/api/traces",
            get(move |query| observe::list_traces(list.clone(), query)),
        )
        .route(
            "/api/traces/{id}",
            get(move |id| observe::get_trace(store.clone(), id)),
        )
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response
                    .headers_mut()
                    .insert("x-genkit-version", HeaderValue::from_static(GENKIT_VERSION));
                response
            },
        ))
}
