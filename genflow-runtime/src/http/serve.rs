//! [`serve`]: bind, serve, and shut down gracefully on SIGTERM, Ctrl-C or [`Shutdown`].

use std::convert::Infallible;
use std::future::{IntoFuture, pending};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpListener;

use super::connections::{ConnectionLimits, serve_connections};
use super::server::FlowServer;
use super::settings::Settings;
use super::shutdown::Shutdown;

/// Where [`serve`] listens when neither code nor `PORT` says otherwise.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3400));

/// How long in-flight requests may run once a shutdown starts, unless set.
const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// How long the last frames and responses get to flush after the grace period.
const FLUSH: Duration = Duration::from_secs(5);

/// Why [`serve`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// `PORT` or `HOST` does not hold a port number or an IP address.
    #[error("{name}={value:?} is not valid: {reason}")]
    BadEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

enum Bind {
    Env,
    Addr(SocketAddr),
    Listener(TcpListener),
}

/// A server about to run: configure it, then `.await` it. See [`serve`].
#[must_use = "a server does nothing until awaited"]
pub struct Serve {
    server: FlowServer,
    bind: Bind,
    grace: Duration,
    drain_delay: Duration,
    limits: ConnectionLimits,
}

/// Serves `server` until SIGTERM, Ctrl-C or its [`Shutdown`] handle asks it to stop.
///
/// It listens on `PORT` (on `HOST`, default `127.0.0.1`) or [`DEFAULT_ADDR`], unless
/// [`Serve::bind`] or [`Serve::listener`] says otherwise. On shutdown it turns `/readyz` to 503,
/// waits the drain delay, stops accepting connections, lets in-flight requests run for the
/// grace period, then ends every open stream with a terminal `UNAVAILABLE` frame and every
/// unfinished request with 503.
pub fn serve(server: FlowServer) -> Serve {
    Serve {
        server,
        bind: Bind::Env,
        grace: DEFAULT_GRACE,
        drain_delay: Duration::ZERO,
        limits: ConnectionLimits::default(),
    }
}

impl Serve {
    /// Listens on `addr`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = Bind::Addr(addr);
        self
    }

    /// Serves on an already bound listener (such as `127.0.0.1:0` in tests).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.bind = Bind::Listener(listener);
        self
    }

    /// How long in-flight requests may still run once a shutdown starts (default 10 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How long to keep accepting requests, while `/readyz` answers 503, before stopping
    /// (default 0): time for a load balancer to notice.
    pub fn drain_delay(mut self, delay: Duration) -> Self {
        self.drain_delay = delay;
        self
    }

    /// How long a client may take to send a request's head (default 30 s). In HTTP/1.1 this
    /// also bounds how long a kept-alive connection waits for its next request.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long a connection may stay open with no request in progress (default 60 s), in
    /// HTTP/1.1 and HTTP/2.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle_timeout = timeout;
        self
    }

    /// How many connections may be open at once (default 4096); further ones wait in the
    /// kernel's accept queue until one closes.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max;
        self
    }

    /// Runs the server until it has shut down.
    pub async fn run(self) -> Result<(), ServeError> {
        let listener = match self.bind {
            Bind::Listener(listener) => listener,
            Bind::Addr(addr) => listen(addr).await?,
            Bind::Env => listen(env_addr()?).await?,
        };
        if let Ok(addr) = listener.local_addr() {
            banner(self.server.settings(), addr);
        }
        let shutdown = self.server.shutdown_handle();
        let app = self.server.into_router();
        let drain_delay = self.drain_delay;

        let stop_accepting = {
            let shutdown = shutdown.clone();
            async move {
                shutdown.draining().await;
                tokio::time::sleep(drain_delay).await;
            }
        };
        let served = serve_connections(listener, app, self.limits, stop_accepting);
        let grace_over = {
            let shutdown = shutdown.clone();
            let grace = drain_delay.saturating_add(self.grace);
            async move {
                shutdown.draining().await;
                tokio::time::sleep(grace).await;
                shutdown.stop();
                tokio::time::sleep(FLUSH).await;
            }
        };
        tokio::select! {
            () = served => Ok(()),
            () = grace_over => {
                tracing::warn!("connections still open after the grace period; closing them");
                Ok(())
            }
            never = on_os_signal(shutdown) => match never {},
        }
    }
}

impl IntoFuture for Serve {
    type Output = Result<(), ServeError>;
    type IntoFuture = BoxFuture<'static, Result<(), ServeError>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// `HOST`:`PORT` from the environment, defaulting to [`DEFAULT_ADDR`].
fn env_addr() -> Result<SocketAddr, ServeError> {
    let var = |name: &'static str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let bad = |name, value: String, reason: String| ServeError::BadEnv {
        name,
        value,
        reason,
    };
    let ip = match var("HOST") {
        Some(host) => host
            .trim()
            .parse::<IpAddr>()
            .map_err(|e| bad("HOST", host.clone(), e.to_string()))?,
        None => DEFAULT_ADDR.ip(),
    };
    let port = match var("PORT") {
        Some(port) => port
            .trim()
            .parse::<u16>()
            .map_err(|e| bad("PORT", port.clone(), e.to_string()))?,
        None => DEFAULT_ADDR.port(),
    };
    Ok(SocketAddr::new(ip, port))
}

/// Starts a shutdown on SIGTERM or Ctrl-C; never resolves.
async fn on_os_signal(shutdown: Shutdown) -> Infallible {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut signals) => {
                signals.recv().await;
            }
            Err(_) => pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received");
    shutdown.shutdown();
    pending().await
}

/// Logs where everything is served: each flow, the OpenAPI document, health and metrics.
fn banner(server: &Settings, addr: SocketAddr) {
    let base = format!("http://{addr}");
    tracing::info!("genflow serving on {base}");
    let flows = server.flows();
    if flows.is_empty() {
        tracing::warn!(
            "no flows are served: the registry holds none. Flows defined in a library crate are \
             linked only when the binary names that crate: add `use your_flows_crate as _;` to \
             main.rs (or register them by hand with RegistryBuilder::register)"
        );
    }
    for flow in flows {
        let meta = flow.meta();
        let streaming = if meta.streaming { " (streaming)" } else { "" };
        tracing::info!("  flow    POST {base}{}{streaming}", server.path(meta.name));
    }
    #[cfg(feature = "mcp")]
    if server.serves_mcp() {
        tracing::info!(
            "  mcp     POST {base}{} (streamable HTTP)",
            server.path("mcp")
        );
    }
    for (what, path) in [
        ("openapi", "openapi.json"),
        ("health ", "healthz"),
        ("metrics", "metrics"),
    ] {
        tracing::info!("  {what} GET  {base}{}", server.path(path));
    }
}
