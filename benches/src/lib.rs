//! Shared pieces of the benchmark binaries (the fake model server and the hand-written
//! baseline). Nothing here links genflow: the baseline must stay genflow-free.

/// Resolves on SIGTERM or Ctrl-C: the graceful-shutdown signal of both binaries.
pub async fn terminated() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
