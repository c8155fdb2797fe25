//! [`run_service`]: the whole `main` of a genflow service in one call.

use std::net::{IpAddr, SocketAddr};

use crate::config::{Config, ConfigError};
use crate::devtools::{DevServer, DevToolsError};
use crate::telemetry::{TelemetryError, TraceServerExporter};
use crate::{RegistryBuilder, RegistryError};

use super::{FlowServer, ServeError, serve};

/// Why a service could not start, or stopped with an error. Its `Debug` is its message, so that
/// `main` returning it prints `Error: <what went wrong>`.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// `genflow.toml` or a `GENFLOW_*` variable is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Telemetry could not be installed.
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    /// The registry's checks failed (duplicate names, missing state, ...).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The server could not bind or failed while serving.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The developer tools (dev mode) could not start.
    #[error(transparent)]
    DevTools(#[from] DevToolsError),
    /// The MCP stdio session failed (`<bin> mcp`).
    #[cfg(feature = "mcp")]
    #[error(transparent)]
    Mcp(#[from] crate::mcp::StdioError),
}

impl std::fmt::Debug for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Runs a service until SIGTERM or Ctrl-C: loads the configuration (`genflow.toml`,
/// `GENFLOW_*`, `PORT`), installs telemetry from it and gives it to the registry, provides the model catalog of its
/// `[model]` section as state (unless `registry` already holds one), readies the default
/// model (downloading a local one if needed, see `Models::prepare_default`), builds `registry`, applies
/// the `[server]` and `[auth]` sections, lets `customize` have the last word, and serves.
///
/// With the `mcp` feature, a binary started as `<bin> mcp` serves the same flows and tools
/// over MCP on stdin and stdout instead of HTTP (logs go to stderr), for desktop clients that
/// start MCP servers as child processes.
///
/// ```no_run
/// use genflow_runtime::http::run_service;
/// use genflow_runtime::Registry;
///
/// #[tokio::main]
/// async fn main() -> Result<(), genflow_runtime::http::ServiceError> {
///     run_service(Registry::builder(), |server| server).await
/// }
/// ```
pub async fn run_service(
    registry: RegistryBuilder,
    customize: impl FnOnce(FlowServer) -> FlowServer,
) -> Result<(), ServiceError> {
    let config = Config::load()?;
    let stdio = stdio_mode();
    let mut telemetry = config.telemetry().logs_to_stderr(stdio);
    if config.dev_mode() {
        telemetry = telemetry.trace_server(TraceServerExporter::from_env());
    }
    let telemetry = telemetry.init()?;
    let registry = with_models(registry, &config)
        .await
        .telemetry(telemetry.clone())
        .build()?;
    let server = customize(FlowServer::new(registry.clone()).configure(&config)?);
    #[cfg(feature = "mcp")]
    if stdio {
        tracing::info!("genflow serving MCP on stdio");
        let served = server.into_mcp().serve_stdio().await;
        telemetry.shutdown();
        return Ok(served?);
    }
    let flow_server = flow_server_url(config.bind(), &server.settings().prefix);
    let mut service = serve(server).bind(config.bind());
    if let Some(grace) = config.server.shutdown_grace {
        service = service.grace(grace.0);
    }
    if let Some(delay) = config.server.drain_delay {
        service = service.drain_delay(delay.0);
    }
    if let Some(timeout) = config.server.header_read_timeout {
        service = service.header_read_timeout(timeout.0);
    }
    if let Some(timeout) = config.server.idle_timeout {
        service = service.idle_timeout(timeout.0);
    }
    if let Some(max) = config.server.max_connections {
        service = service.max_connections(max);
    }
    let devtools = if config.dev_mode() {
        let mut dev = DevServer::new(registry.clone()).flow_server(flow_server);
        if let Some(port) = config.server.reflection_port {
            dev = dev.port(port);
        }
        Some(dev.start().await?)
    } else {
        None
    };
    let served = service.run().await;
    if let Some(devtools) = devtools {
        devtools.stop().await;
    }
    telemetry.shutdown();
    Ok(served?)
}

/// Whether the binary was started as `<bin> mcp` (with the `mcp` feature).
fn stdio_mode() -> bool {
    cfg!(feature = "mcp") && std::env::args().nth(1).as_deref() == Some("mcp")
}

/// Where a caller on this machine reaches the flow server: loopback when it listens on every
/// address.
fn flow_server_url(bind: SocketAddr, prefix: &str) -> String {
    let host = if bind.ip().is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        bind.ip()
    };
    format!("http://{}{prefix}", SocketAddr::new(host, bind.port()))
}

/// The registry with its model catalog (the one provided, else that of `config`) and the
/// default model readied ([`Models::prepare_default`](crate::model::Models::prepare_default)).
#[cfg(feature = "models")]
async fn with_models(registry: RegistryBuilder, config: &Config) -> RegistryBuilder {
    use crate::model::Models;
    let models = match registry.state_of::<Models>() {
        Some(provided) => Models::clone(&provided),
        None => Models::from_config(&config.model),
    };
    registry.state(models.prepare_default().await)
}

#[cfg(not(feature = "models"))]
async fn with_models(registry: RegistryBuilder, _config: &Config) -> RegistryBuilder {
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_server_url_is_loopback_for_a_wildcard_bind_and_keeps_the_prefix() {
        let url = |bind: &str, prefix| flow_server_url(bind.parse().expect("addr"), prefix);
        assert_eq!(url("0.0.0.0:3400", ""), "http://127.0.0.1:3400");
        assert_eq!(url("[::]:8080", "/api"), "http://127.0.0.1:8080/api");
        assert_eq!(url("[::1]:3400", ""), "http://[::1]:3400");
        assert_eq!(url("10.1.2.3:80", "/v1"), "http://10.1.2.3:80/v1");
    }
}
