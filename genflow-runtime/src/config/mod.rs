//! `genflow.toml`: the service's configuration, every key also settable from the environment.
//!
//! Precedence, highest first: values set in code (builder methods called after applying the
//! configuration) > environment variables (`GENFLOW_...`, and `PORT`) > the file > defaults.
//! The file is `./genflow.toml`, or the path in `GENFLOW_CONFIG` (which must then exist).
//! Unknown keys, unknown `GENFLOW_` variables and bad values are errors naming the file and line
//! (or the variable) with a hint. A template with every key is in `docs/genflow.toml`.
//!
//! API keys never live here: providers read them from their usual environment variables, and
//! auth settings name the variable that holds a key (`api_key_env`), not the key.

mod env;
mod units;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use units::{ByteSize, HumanDuration};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file has an unknown key or a bad value (the message carries line, column and a hint).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What and where.
        message: String,
    },
    /// An environment variable has a bad value or is unknown.
    #[error("environment variable {var}: {message}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// Authentication of flow requests.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Model defaults and provider endpoints (never keys).
    #[serde(default)]
    pub model: ModelConfig,
    /// Traces, metrics and logs.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// MCP servers whose tools flows use (feature `mcp`).
    #[serde(default)]
    pub mcp: McpConfig,
}

/// `[server]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:3400`; `PORT` sets the port).
    pub bind: Option<SocketAddr>,
    /// Path prefix of every flow route, e.g. `/api`.
    pub prefix: Option<String>,
    /// Flows to expose (default: all).
    pub flows: Option<Vec<String>>,
    /// Largest request body (default 1 MiB).
    pub body_limit: Option<ByteSize>,
    /// How long a request body may take to arrive (default 30 s).
    pub body_timeout: Option<HumanDuration>,
    /// Deadline of flows that declare none.
    pub timeout: Option<HumanDuration>,
    /// Requests served at once before load shedding.
    pub concurrency_limit: Option<usize>,
    /// How long a client may take to send a request's head (default 30 s); in HTTP/1.1 also
    /// how long a kept-alive connection waits for its next request.
    pub header_read_timeout: Option<HumanDuration>,
    /// How long a connection may stay open with no request in progress (default 60 s).
    pub idle_timeout: Option<HumanDuration>,
    /// Connections open at once (default 4096); more wait in the accept queue.
    pub max_connections: Option<usize>,
    /// How long in-flight requests may finish at shutdown.
    pub shutdown_grace: Option<HumanDuration>,
    /// How long `/readyz` answers 503 while new requests are still served, once a shutdown
    /// starts (default 0).
    pub drain_delay: Option<HumanDuration>,
    /// Dev mode: internal error messages are shown to callers, and the developer tools
    /// (Genkit's reflection API) are served on 127.0.0.1. `GENKIT_ENV=dev` turns it on when
    /// this key is unset.
    pub dev: Option<bool>,
    /// The first port the developer tools try in dev mode (default 3100; the next free one
    /// when taken). `GENKIT_REFLECTION_PORT` also sets it.
    pub reflection_port: Option<u16>,
    /// Serve the Model Context Protocol at `/mcp` (feature `mcp`; default on).
    pub mcp: Option<bool>,
    /// Offer the served flows as MCP tools (default on; tools are always offered).
    pub mcp_flows: Option<bool>,
    /// `Host` names `/mcp` accepts (default: loopback names only).
    pub mcp_allowed_hosts: Option<Vec<String>>,
}

/// `[auth]`: an API key for every flow, and per-flow keys.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The environment variable holding the key every flow requires.
    pub api_key_env: Option<String>,
    /// The header carrying the key (default: `Authorization: Bearer <key>`).
    pub header: Option<String>,
    /// Per-flow keys, by flow name; they replace the service-wide key for that flow.
    #[serde(default)]
    pub flows: BTreeMap<String, FlowAuthConfig>,
}

/// `[auth.flows.<name>]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlowAuthConfig {
    /// The environment variable holding this flow's key.
    pub api_key_env: String,
    /// The header carrying the key (default: `Authorization: Bearer <key>`).
    pub header: Option<String>,
}

/// `[model]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The default model, e.g. `openai/gpt-4o-mini` (default: the offline local model).
    pub default: Option<String>,
    /// Deadline of one model call.
    pub timeout: Option<HumanDuration>,
    /// Retries of a failed model call (429, 5xx, connection errors).
    pub max_retries: Option<u32>,
    /// OpenAI-compatible endpoint settings.
    pub openai: Option<ProviderConfig>,
    /// Anthropic endpoint settings.
    pub anthropic: Option<ProviderConfig>,
    /// Gemini endpoint settings.
    pub gemini: Option<ProviderConfig>,
    /// Ollama endpoint settings.
    pub ollama: Option<ProviderConfig>,
    /// The folder of the GGUF files `local/<name>` runs (feature `local-models`; default:
    /// `GENFLOW_MODELS_DIR`). Relative paths are relative to the working directory.
    pub local_dir: Option<std::path::PathBuf>,
    /// No downloads of local models from the Hugging Face Hub (feature `hf-hub`; default:
    /// downloads on unless `GENFLOW_OFFLINE` or `HF_HUB_OFFLINE` is set).
    pub offline: Option<bool>,
}

/// `[model.<provider>]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Base URL of the provider's API.
    pub base_url: Option<String>,
}

/// `[telemetry]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/HTTP collector, e.g. `http://127.0.0.1:4318` (the `OTEL_EXPORTER_OTLP_*` variables
    /// also work).
    pub otlp_endpoint: Option<String>,
    /// Prometheus metrics at `GET /metrics` (default on).
    pub metrics: Option<bool>,
    /// Traces kept in memory for the trace API and developer UI. Unset: 1000, recorded only
    /// while the trace API is served (dev mode or `trace_api`); set: recorded from the start;
    /// 0 turns the store off.
    pub trace_store: Option<usize>,
    /// JSON log lines instead of text.
    pub json_logs: Option<bool>,
    /// Record flow inputs and outputs in spans (default on).
    pub record_io: Option<bool>,
    /// Size cap of recorded inputs and outputs (default 16 KiB).
    pub io_limit: Option<ByteSize>,
}

/// `[mcp]`: the MCP servers whose tools flows use (feature `mcp`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// How long a server may take to connect or to answer one call, unless it sets its own
    /// (default 30 s).
    pub timeout: Option<HumanDuration>,
    /// The servers by name; their tools are named `<name>_<tool>`.
    #[serde(default)]
    pub servers: BTreeMap<String, McpServerConfig>,
}

/// `[mcp.servers.<name>]`: a command to start (stdio) or a URL (streamable HTTP).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct McpServerConfig {
    /// The program to start, speaking MCP on its stdin and stdout.
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables set for it (added to the service's own).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The streamable HTTP endpoint, e.g. `http://127.0.0.1:8000/mcp` (instead of `command`).
    pub url: Option<String>,
    /// How long this server may take to connect or to answer one call.
    pub timeout: Option<HumanDuration>,
}

impl Config {
    /// Loads `GENFLOW_CONFIG` or `./genflow.toml` (if present), then applies the environment.
    pub fn load() -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = std::env::vars().collect();
        let explicit = vars
            .iter()
            .find(|(k, _)| k == "GENFLOW_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        let mut config = match explicit {
            Some(path) => Config::from_file(&path)?,
            None if Path::new("genflow.toml").exists() => {
                Config::from_file(Path::new("genflow.toml"))?
            }
            None => Config::default(),
        };
        config.apply_env(vars)?;
        Ok(config)
    }

    /// Reads one file, without the environment.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses TOML text; errors carry the line, column and a hint.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies `GENFLOW_...` (and `PORT`) variables from `vars` over the file's values.
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        env::apply(self, vars)
    }

    /// The address to listen on: `[server] bind`, else `127.0.0.1:3400`.
    pub fn bind(&self) -> SocketAddr {
        self.server
            .bind
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3400)))
    }

    /// Whether the service runs in dev mode: `[server] dev` / `GENFLOW_SERVER_DEV`, or
    /// `GENKIT_ENV=dev` (what `genkit start` sets).
    pub fn dev_mode(&self) -> bool {
        self.server.dev.unwrap_or(false)
    }

    /// The telemetry settings this configuration asks for: [`Telemetry::new`]'s defaults with
    /// every key the file or environment set applied on top.
    ///
    /// [`Telemetry::new`]: crate::telemetry::Telemetry::new
    pub fn telemetry(&self) -> crate::telemetry::Telemetry {
        let t = &self.telemetry;
        let mut telemetry = crate::telemetry::Telemetry::new();
        if let Some(on) = t.metrics {
            telemetry = telemetry.metrics(on);
        }
        if let Some(on) = t.json_logs {
            telemetry = telemetry.json_logs(on);
        }
        if let Some(on) = t.record_io {
            telemetry = telemetry.record_io(on);
        }
        if let Some(limit) = t.io_limit {
            telemetry = telemetry.io_limit(limit.0);
        }
        if let Some(traces) = t.trace_store {
            telemetry = telemetry.trace_store(traces);
        }
        if let Some(endpoint) = &t.otlp_endpoint {
            telemetry = telemetry.otlp_endpoint(endpoint.clone());
        }
        telemetry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_template_parses_with_every_key() {
        let template = include_str!("../../../docs/genflow.toml");
        let uncommented: String = template
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|rest| !rest.starts_with(' '))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = Config::parse(&uncommented).expect("template parses");
        assert_eq!(
            config.server.bind,
            Some(SocketAddr::from(([127, 0, 0, 1], 3400)))
        );
        assert_eq!(config.server.body_limit, Some(ByteSize(1 << 20)));
        assert!(config.auth.flows.contains_key("ragQuery"));
        assert_eq!(config.model.default.as_deref(), Some("local/test"));
        assert_eq!(config.telemetry.trace_store, Some(1000));
        assert_eq!(config.mcp.servers["weather"].args, ["weather_server.py"]);
        assert!(config.mcp.servers["docs"].url.is_some());
    }

    #[test]
    fn unknown_keys_name_the_line_and_suggest() {
        let err =
            Config::parse("[server]\nbind = \"127.0.0.1:1\"\nbody_limt = 10\n").expect_err("typo");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("unknown field `body_limt`"), "{err}");
        assert!(err.contains("body_limit"), "{err}");
    }

    #[test]
    fn bad_values_name_the_line() {
        let err = Config::parse("[server]\n\ntimeout = \"soon\"\n").expect_err("bad duration");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("30s"), "{err}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut config = Config::parse("[server]\nbind = \"127.0.0.1:1\"\nprefix = \"/file\"\n")
            .expect("parses");
        config
            .apply_env([
                ("GENFLOW_SERVER_PREFIX".to_owned(), "/env".to_owned()),
                ("PORT".to_owned(), "8080".to_owned()),
                ("HOST".to_owned(), "0.0.0.0".to_owned()),
                ("GENFLOW_SERVER_DRAIN_DELAY".to_owned(), "5s".to_owned()),
                ("GENFLOW_SERVER_FLOWS".to_owned(), "a, b".to_owned()),
                ("GENFLOW_MODEL".to_owned(), "openai/gpt-4o-mini".to_owned()),
                ("GENFLOW_TELEMETRY_METRICS".to_owned(), "false".to_owned()),
                ("UNRELATED".to_owned(), "x".to_owned()),
            ])
            .expect("valid env");
        assert_eq!(config.server.prefix.as_deref(), Some("/env"));
        assert_eq!(config.bind(), SocketAddr::from(([0, 0, 0, 0], 8080)));
        assert_eq!(
            config.server.drain_delay.map(|d| d.0),
            Some(std::time::Duration::from_secs(5))
        );
        assert_eq!(
            config.server.flows,
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(config.model.default.as_deref(), Some("openai/gpt-4o-mini"));
        assert_eq!(config.telemetry.metrics, Some(false));
    }

    #[test]
    fn genkit_variables_turn_dev_mode_on_and_choose_the_reflection_port() {
        let mut config = Config::parse("[server]\nreflection_port = 4000\n").expect("parses");
        assert!(!config.dev_mode());
        config
            .apply_env([
                ("GENKIT_ENV".to_owned(), "dev".to_owned()),
                ("GENKIT_REFLECTION_PORT".to_owned(), "4100".to_owned()),
            ])
            .expect("valid env");
        assert!(config.dev_mode());
        assert_eq!(config.server.reflection_port, Some(4100));
        config
            .apply_env([
                ("GENKIT_REFLECTION_PORT".to_owned(), "4100".to_owned()),
                (
                    "GENFLOW_SERVER_REFLECTION_PORT".to_owned(),
                    "4200".to_owned(),
                ),
            ])
            .expect("valid env");
        assert_eq!(
            config.server.reflection_port,
            Some(4200),
            "genflow's own wins"
        );
        let mut prod = Config::default();
        prod.apply_env([("GENKIT_ENV".to_owned(), "prod".to_owned())])
            .expect("valid env");
        assert!(!prod.dev_mode());
    }

    #[test]
    fn bad_and_unknown_variables_are_errors_with_hints() {
        let mut config = Config::default();
        let err = config
            .apply_env([(
                "GENFLOW_SERVER_CONCURRENCY_LIMIT".to_owned(),
                "many".to_owned(),
            )])
            .expect_err("not a number");
        assert!(
            err.to_string().contains("GENFLOW_SERVER_CONCURRENCY_LIMIT"),
            "{err}"
        );
        let err = config
            .apply_env([("GENFLOW_SERVER_PREFX".to_owned(), "/x".to_owned())])
            .expect_err("unknown");
        assert!(
            err.to_string()
                .contains("did you mean GENFLOW_SERVER_PREFIX"),
            "{err}"
        );
    }
}
