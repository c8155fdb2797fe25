//! The environment variables that override the configuration file.

use super::{ByteSize, Config, ConfigError, HumanDuration, ProviderConfig};

type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// Every variable, with the key it sets (the table documented in `docs/genflow.toml`).
const VARS: &[(&str, Setter)] = &[
    ("GENFLOW_SERVER_BIND", |c, v| {
        parse(v).map(|a| c.server.bind = Some(a))
    }),
    ("GENFLOW_SERVER_PREFIX", |c, v| {
        text(v).map(|s| c.server.prefix = Some(s))
    }),
    ("GENFLOW_SERVER_FLOWS", |c, v| {
        text(v).map(|s| c.server.flows = Some(list(&s)))
    }),
    ("GENFLOW_SERVER_BODY_LIMIT", |c, v| {
        ByteSize::parse(v).map(|b| c.server.body_limit = Some(b))
    }),
    ("GENFLOW_SERVER_BODY_TIMEOUT", |c, v| {
        HumanDuration::parse(v).map(|s| c.server.body_timeout = Some(s))
    }),
    ("GENFLOW_SERVER_TIMEOUT", |c, v| {
        HumanDuration::parse(v).map(|s| c.server.timeout = Some(s))
    }),
    ("GENFLOW_SERVER_CONCURRENCY_LIMIT", |c, v| {
        parse(v).map(|n| c.server.concurrency_limit = Some(n))
    }),
    ("GENFLOW_SERVER_HEADER_READ_TIMEOUT", |c, v| {
        HumanDuration::parse(v).map(|s| c.server.header_read_timeout = Some(s))
    }),
    ("GENFLOW_SERVER_IDLE_TIMEOUT", |c, v| {
        HumanDuration::parse(v).map(|s| c.server.idle_timeout = Some(s))
    }),
    ("GENFLOW_SERVER_MAX_CONNECTIONS", |c, v| {
        parse(v).map(|n| c.server.max_connections = Some(n))
    }),
    ("GENFLOW_SERVER_SHUTDOWN_GRACE", |c, v| {
        HumanDuration::parse(v).map(|s| c.server.shutdown_grace = Some(s))
    }),
    ("GENFLOW_SERVER_DRAIN_DELAY", |c, v| {
        HumanDuration::parse(v).map(|s| c.server.drain_delay = Some(s))
    }),
    ("GENFLOW_SERVER_DEV", |c, v| {
        parse(v).map(|b| c.server.dev = Some(b))
    }),
    ("GENFLOW_SERVER_REFLECTION_PORT", |c, v| {
        parse(v).map(|p| c.server.reflection_port = Some(p))
    }),
    ("GENFLOW_SERVER_MCP", |c, v| {
        parse(v).map(|b| c.server.mcp = Some(b))
    }),
    ("GENFLOW_SERVER_MCP_FLOWS", |c, v| {
        parse(v).map(|b| c.server.mcp_flows = Some(b))
    }),
    ("GENFLOW_SERVER_MCP_ALLOWED_HOSTS", |c, v| {
        text(v).map(|s| c.server.mcp_allowed_hosts = Some(list(&s)))
    }),
    ("GENFLOW_AUTH_API_KEY_ENV", |c, v| {
        text(v).map(|s| c.auth.api_key_env = Some(s))
    }),
    ("GENFLOW_AUTH_HEADER", |c, v| {
        text(v).map(|s| c.auth.header = Some(s))
    }),
    ("GENFLOW_MODEL", |c, v| {
        text(v).map(|s| c.model.default = Some(s))
    }),
    ("GENFLOW_MODEL_TIMEOUT", |c, v| {
        HumanDuration::parse(v).map(|s| c.model.timeout = Some(s))
    }),
    ("GENFLOW_MODEL_MAX_RETRIES", |c, v| {
        parse(v).map(|n| c.model.max_retries = Some(n))
    }),
    ("GENFLOW_MODELS_DIR", |c, v| {
        text(v).map(|s| c.model.local_dir = Some(s.into()))
    }),
    ("GENFLOW_OFFLINE", |c, v| {
        flag(v).map(|b| c.model.offline = Some(b))
    }),
    ("GENFLOW_MODEL_OPENAI_BASE_URL", |c, v| {
        text(v).map(|s| base_url(&mut c.model.openai, s))
    }),
    ("GENFLOW_MODEL_ANTHROPIC_BASE_URL", |c, v| {
        text(v).map(|s| base_url(&mut c.model.anthropic, s))
    }),
    ("GENFLOW_MODEL_GEMINI_BASE_URL", |c, v| {
        text(v).map(|s| base_url(&mut c.model.gemini, s))
    }),
    ("GENFLOW_MODEL_OLLAMA_BASE_URL", |c, v| {
        text(v).map(|s| base_url(&mut c.model.ollama, s))
    }),
    ("GENFLOW_TELEMETRY_OTLP_ENDPOINT", |c, v| {
        text(v).map(|s| c.telemetry.otlp_endpoint = Some(s))
    }),
    ("GENFLOW_TELEMETRY_METRICS", |c, v| {
        parse(v).map(|b| c.telemetry.metrics = Some(b))
    }),
    ("GENFLOW_TELEMETRY_TRACE_STORE", |c, v| {
        parse(v).map(|n| c.telemetry.trace_store = Some(n))
    }),
    ("GENFLOW_TELEMETRY_JSON_LOGS", |c, v| {
        parse(v).map(|b| c.telemetry.json_logs = Some(b))
    }),
    ("GENFLOW_TELEMETRY_RECORD_IO", |c, v| {
        parse(v).map(|b| c.telemetry.record_io = Some(b))
    }),
    ("GENFLOW_TELEMETRY_IO_LIMIT", |c, v| {
        ByteSize::parse(v).map(|b| c.telemetry.io_limit = Some(b))
    }),
    ("GENFLOW_MCP_TIMEOUT", |c, v| {
        HumanDuration::parse(v).map(|s| c.mcp.timeout = Some(s))
    }),
];

/// `GENFLOW_` variables that are not configuration keys.
const OTHER_VARS: &[&str] = &["GENFLOW_CONFIG", "GENFLOW_MACROS_DEBUG"];

pub(super) fn apply(
    config: &mut Config,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let (mut port, mut host) = (None, None);
    let mut bind_set = false;
    // Genkit's own variables: `genkit start` sets GENKIT_ENV=dev; GENKIT_REFLECTION_PORT is
    // the port Genkit's Go and JS runtimes read. genflow's own variable wins over the latter.
    let (mut genkit_dev, mut genkit_port, mut reflection_port_set) = (false, None, false);
    for (var, value) in vars {
        if var == "GENKIT_ENV" {
            genkit_dev = value.trim() == "dev";
            continue;
        }
        if var == "GENKIT_REFLECTION_PORT" {
            genkit_port =
                Some(parse::<u16>(&value).map_err(|message| ConfigError::Env { var, message })?);
            continue;
        }
        if var == "PORT" {
            port = Some(parse::<u16>(&value).map_err(|message| ConfigError::Env { var, message })?);
            continue;
        }
        if var == "HOST" {
            host = Some(
                parse::<std::net::IpAddr>(&value)
                    .map_err(|message| ConfigError::Env { var, message })?,
            );
            continue;
        }
        if !var.starts_with("GENFLOW_") || OTHER_VARS.contains(&var.as_str()) {
            continue;
        }
        let Some((_, set)) = VARS.iter().find(|(name, _)| *name == var) else {
            let hint = closest(&var)
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            return Err(ConfigError::Env {
                message: format!("not a genflow setting{hint}"),
                var,
            });
        };
        bind_set |= var == "GENFLOW_SERVER_BIND";
        reflection_port_set |= var == "GENFLOW_SERVER_REFLECTION_PORT";
        set(config, &value).map_err(|message| ConfigError::Env { var, message })?;
    }
    if !bind_set && (port.is_some() || host.is_some()) {
        let mut bind = config.bind();
        if let Some(port) = port {
            bind.set_port(port);
        }
        if let Some(host) = host {
            bind.set_ip(host);
        }
        config.server.bind = Some(bind);
    }
    if genkit_dev {
        config.server.dev = Some(true);
    }
    if let Some(port) = genkit_port.filter(|_| !reflection_port_set) {
        config.server.reflection_port = Some(port);
    }
    Ok(())
}

fn parse<T: std::str::FromStr>(value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e| format!("`{value}` is not valid here: {e}"))
}

/// `true`/`false`, also as `1`/`0`, `yes`/`no` and `on`/`off` (as `HF_HUB_OFFLINE=1`).
fn flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("`{value}` is not valid here: use 1 or 0")),
    }
}

fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn base_url(provider: &mut Option<ProviderConfig>, value: String) {
    provider
        .get_or_insert_with(ProviderConfig::default)
        .base_url = Some(value);
}

/// The known variable nearest to `var` by edit distance, if it is close.
fn closest(var: &str) -> Option<&'static str> {
    VARS.iter()
        .map(|(name, _)| (distance(var, name), *name))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
