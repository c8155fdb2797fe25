//! A real server on 127.0.0.1 for the HTTP tests.

#![allow(
    dead_code,
    reason = "each test binary uses its own part of the helpers"
)]

pub mod log;
pub mod models;

use std::future::Future;
use std::time::Duration;

use genflow_runtime::http::{FlowServer, Serve, ServeError, Shutdown, serve};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How long any single wait in a test may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A server running in the background.
pub struct Running {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its shutdown handle.
    pub shutdown: Shutdown,
    /// The serving task.
    pub task: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Shuts down and waits for `serve` to return.
    pub async fn stop(self) {
        self.shutdown.shutdown();
        let served = within(self.task).await;
        served.expect("serve task").expect("serve ends cleanly");
    }
}

/// Serves `server` on an ephemeral port.
pub async fn start(server: FlowServer) -> Running {
    start_with(server, |serve| serve).await
}

/// Serves `server` on an ephemeral port, configured by `configure`.
pub async fn start_with(server: FlowServer, configure: impl FnOnce(Serve) -> Serve) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = server.shutdown_handle();
    let task = tokio::spawn(configure(serve(server).listener(listener)).run());
    Running {
        base: format!("http://{addr}"),
        shutdown,
        task,
    }
}

/// The value of the response header `name`, or an empty string.
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `fut`, or a panic after [`PATIENCE`].
pub async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, fut)
        .await
        .expect("the test waited too long")
}

/// Sets a flag when dropped: proof that a flow's future was dropped.
pub struct DropSignal(pub Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}
