//! The model catalog: resolves references such as `"openai/gpt-4o-mini"` to models, holds the
//! default model, retry, timeout, fallback and middleware. Provide it as application state
//! (`Registry::builder().state(Models::from_env())`); a registry without one makes
//! [`Models::from_env`] on its first `generate` and shares it among its runs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::Model;
use super::env_vars::EnvVars;
use super::middleware::Middleware;
use super::providers::{Anthropic, GoogleAi, OpenAi, Provider};
use super::retry::RetryPolicy;
use super::testing::LocalProvider;
use crate::FlowError;
use crate::config::{ModelConfig, ProviderConfig};

/// The model used when neither code nor `GENFLOW_MODEL` names one: offline, no key.
pub(crate) const OFFLINE_DEFAULT: &str = "local/test";

/// The catalog of models and the policies of calling them. Cheap to clone.
#[derive(Clone)]
pub struct Models {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    providers: HashMap<String, Arc<dyn Provider>>,
    models: HashMap<String, Arc<dyn Model>>,
    default_model: Option<String>,
    preferred_default: Option<String>,
    fallback: Option<String>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    middleware: Vec<Arc<dyn Middleware>>,
    resolved: Resolved,
}

/// Provider models already built (URL parsed, headers set), by reference. Bounded, as
/// references may come from requests.
#[derive(Default)]
struct Resolved(RwLock<HashMap<String, Arc<dyn Model>>>);

/// The most provider models [`Resolved`] keeps.
const MAX_RESOLVED: usize = 256;

impl Resolved {
    fn get(&self, reference: &str) -> Option<Arc<dyn Model>> {
        let models = self.0.read().unwrap_or_else(PoisonError::into_inner);
        models.get(reference).cloned()
    }

    fn keep(&self, reference: &str, model: &Arc<dyn Model>) {
        let mut models = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if models.len() < MAX_RESOLVED {
            models.insert(reference.to_owned(), Arc::clone(model));
        }
    }
}

/// A changed catalog starts with no resolved models.
impl Clone for Resolved {
    fn clone(&self) -> Self {
        Resolved::default()
    }
}

impl Default for Models {
    fn default() -> Self {
        Models::new()
    }
}

impl Models {
    /// Only the offline `local/...` models; the default model is `local/test`.
    pub fn new() -> Self {
        let inner = Inner {
            providers: HashMap::new(),
            models: HashMap::new(),
            default_model: None,
            preferred_default: None,
            fallback: None,
            retry: RetryPolicy::default(),
            timeout: None,
            middleware: Vec::new(),
            resolved: Resolved::default(),
        };
        Models {
            inner: Arc::new(inner),
        }
        .provider(LocalProvider::default())
    }

    /// The local models plus `openai/` (`OPENAI_API_KEY`, `OPENAI_BASE_URL`), `ollama/`,
    /// `anthropic/` (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`) and `googleai/`
    /// (`GEMINI_API_KEY` or `GOOGLE_API_KEY`, `GEMINI_BASE_URL`), with the default model from
    /// `GENFLOW_MODEL`. Keys are checked when a model is first used.
    pub fn from_env() -> Self {
        Models::from_vars(&EnvVars::process())
    }

    /// [`Models::from_env`] reading `vars`.
    pub fn from_vars(vars: &EnvVars) -> Self {
        let models = Models::new()
            .provider(LocalProvider {
                #[cfg(feature = "local-models")]
                files: super::local::ModelFiles::from_vars(vars),
            })
            .provider(OpenAi::from_env(vars))
            .provider(OpenAi::ollama())
            .provider(Anthropic::from_env(vars))
            .provider(GoogleAi::from_env(vars));
        match vars.get("GENFLOW_MODEL") {
            Some(name) => models.default_model(&name),
            None => models,
        }
    }

    /// [`Models::from_env`] with the `[model]` section of `genflow.toml` on top: default model,
    /// per-call timeout, retries and provider base URLs (keys still come from the environment).
    pub fn from_config(config: &ModelConfig) -> Self {
        Models::from_config_and_vars(config, &EnvVars::process())
    }

    /// [`Models::from_config`] reading `vars`.
    pub fn from_config_and_vars(config: &ModelConfig, vars: &EnvVars) -> Self {
        let url = |p: &Option<ProviderConfig>| p.as_ref().and_then(|p| p.base_url.clone());
        let mut models = Models::from_vars(vars);
        if let Some(url) = url(&config.openai) {
            models = models.provider(OpenAi::from_env(vars).base_url(url));
        }
        if let Some(url) = url(&config.ollama) {
            models = models.provider(OpenAi::ollama().base_url(url));
        }
        if let Some(url) = url(&config.anthropic) {
            models = models.provider(Anthropic::from_env(vars).base_url(url));
        }
        if let Some(url) = url(&config.gemini) {
            models = models.provider(GoogleAi::from_env(vars).base_url(url));
        }
        #[cfg(feature = "local-models")]
        if config.local_dir.is_some() || config.offline.is_some() {
            let mut files =
                super::local::ModelFiles::from_vars(vars).offline(config.offline.unwrap_or(false));
            if let Some(dir) = &config.local_dir {
                files = files.with_dir(dir.clone());
            }
            models = models.provider(LocalProvider { files });
        }
        if let Some(name) = &config.default {
            models = models.default_model(name);
        }
        if let Some(timeout) = config.timeout {
            models = models.timeout(timeout.0);
        }
        if let Some(max_retries) = config.max_retries {
            let policy = RetryPolicy {
                max_retries,
                ..models.retry_policy().clone()
            };
            models = models.retry(policy);
        }
        models
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// Adds (or replaces) a provider.
    #[must_use]
    pub fn provider(self, provider: impl Provider) -> Self {
        self.edit(|i| {
            i.providers
                .insert(provider.name().to_owned(), Arc::new(provider));
        })
    }

    /// Adds one model under its own name (`model.info().name`), ahead of any provider.
    #[must_use]
    pub fn model(self, model: impl Model) -> Self {
        self.edit(|i| {
            i.models.insert(model.info().name.clone(), Arc::new(model));
        })
    }

    /// Sets the model used when a call names none.
    #[must_use]
    pub fn default_model(self, name: &str) -> Self {
        self.edit(|i| i.default_model = Some(name.to_owned()))
    }

    /// Sets the model that answers by default when neither code, `GENFLOW_MODEL` nor
    /// `[model] default` names one and it can answer, in place of `local/test`:
    /// [`Models::prepare_default`] decides at start-up. For a local model whose weights may
    /// be missing, such as `local/<org>/<repo>/<file>`.
    #[must_use]
    pub fn prefer_default(self, reference: &str) -> Self {
        self.edit(|i| i.preferred_default = Some(reference.to_owned()))
    }

    /// Readies the default model at start-up ([`Model::prepare`]: a local model missing from
    /// disk is downloaded), logging why it cannot answer if so. A preferred default
    /// ([`Models::prefer_default`]) becomes the default when it is ready; when it is not,
    /// `local/test` stays the default and the log says why. Logs which model answers.
    pub async fn prepare_default(self) -> Self {
        let preferred = self.inner.preferred_default.clone();
        let models = match preferred {
            Some(preferred) if self.inner.default_model.is_none() => {
                let candidate = self.clone().default_model(&preferred);
                match candidate.prepare(None).await {
                    Ok(()) => candidate,
                    Err(unready) => {
                        tracing::warn!(
                            "the preferred model {preferred} cannot answer, so the offline \
                             placeholder model {OFFLINE_DEFAULT} does: {}",
                            unready.message()
                        );
                        self
                    }
                }
            }
            _ => {
                if let Err(unusable) = self.prepare(None).await {
                    tracing::warn!("the default model cannot answer: {}", unusable.message());
                }
                self
            }
        };
        tracing::info!("model {} answers by default", models.default_model_name());
        models
    }

    /// Resolves `reference` (or the default) and readies it.
    async fn prepare(&self, reference: Option<&str>) -> Result<(), FlowError> {
        self.resolve(reference)?.prepare().await
    }

    /// Sets the model tried when a call's model fails with `UNAVAILABLE`,
    /// `RESOURCE_EXHAUSTED`, `DEADLINE_EXCEEDED`, `INTERNAL`, `NOT_FOUND` or `UNIMPLEMENTED`
    /// (after its retries).
    #[must_use]
    pub fn fallback(self, name: &str) -> Self {
        self.edit(|i| i.fallback = Some(name.to_owned()))
    }

    /// Sets the retry policy of model calls.
    #[must_use]
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.edit(|i| i.retry = policy)
    }

    /// Sets the longest one model call may take, retries and streaming included.
    #[must_use]
    pub fn timeout(self, timeout: Duration) -> Self {
        self.edit(|i| i.timeout = Some(timeout))
    }

    /// Adds middleware around every generate, model call and tool call.
    #[must_use]
    pub fn middleware(self, middleware: impl Middleware) -> Self {
        self.edit(|i| i.middleware.push(Arc::new(middleware)))
    }

    /// The default model's reference: from code, else `GENFLOW_MODEL`, else `local/test`.
    pub fn default_model_name(&self) -> &str {
        self.inner
            .default_model
            .as_deref()
            .unwrap_or(OFFLINE_DEFAULT)
    }

    /// The model `reference` (`provider/id`), or the default one.
    pub fn resolve(&self, reference: Option<&str>) -> Result<Arc<dyn Model>, FlowError> {
        if reference.is_none() && self.inner.default_model.is_none() {
            static TOLD: std::sync::Once = std::sync::Once::new();
            TOLD.call_once(|| {
                tracing::info!(
                    "no model configured (set GENFLOW_MODEL or Models::default_model): using the offline local model '{OFFLINE_DEFAULT}'"
                );
            });
        }
        let reference = reference.unwrap_or_else(|| self.default_model_name());
        if let Some(model) = self.inner.models.get(reference) {
            return Ok(Arc::clone(model));
        }
        if let Some(model) = self.inner.resolved.get(reference) {
            return Ok(model);
        }
        let Some((provider, id)) = reference.split_once('/') else {
            return Err(FlowError::not_found(format!(
                "model reference '{reference}' has no provider: write it as 'provider/model', such as 'openai/gpt-4o-mini'"
            )));
        };
        let Some(found) = self.inner.providers.get(provider) else {
            let mut known: Vec<&str> = self.inner.providers.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(FlowError::not_found(format!(
                "unknown model provider '{provider}' in '{reference}'; known providers: {}",
                known.join(", ")
            )));
        };
        let model = found.model(id)?;
        if model.info().local {
            tracing::debug!(model = %model.info().name, "using a local (offline) model");
        }
        self.inner.resolved.keep(reference, &model);
        Ok(model)
    }

    /// The fallback model's reference, if any.
    pub(crate) fn fallback_name(&self) -> Option<&str> {
        self.inner.fallback.as_deref()
    }

    /// The retry policy.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The per-call timeout.
    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        self.inner.timeout
    }

    /// The catalog-wide middleware.
    pub(crate) fn middleware_list(&self) -> &[Arc<dyn Middleware>] {
        &self.inner.middleware
    }
}

impl fmt::Debug for Models {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut providers: Vec<&String> = self.inner.providers.keys().collect();
        providers.sort_unstable();
        let mut models: Vec<&String> = self.inner.models.keys().collect();
        models.sort_unstable();
        f.debug_struct("Models")
            .field("providers", &providers)
            .field("models", &models)
            .field("default", &self.default_model_name())
            .field("fallback", &self.inner.fallback)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn error_of(models: &Models, reference: &str) -> FlowError {
        match models.resolve(Some(reference)) {
            Ok(m) => panic!("resolved {}", m.info().name),
            Err(e) => e,
        }
    }

    #[test]
    fn nothing_configured_means_the_offline_test_model() {
        let models = Models::from_vars(&EnvVars::from_pairs([]));
        let model = models.resolve(None).expect("default");
        assert_eq!(model.info().name, "local/test");
        assert!(model.info().local);
    }

    #[test]
    fn provider_models_are_built_once_per_reference() {
        let vars = EnvVars::from_pairs([("OPENAI_API_KEY", "k")]);
        let models = Models::from_vars(&vars);
        let first = models
            .resolve(Some("openai/gpt-4o-mini"))
            .expect("resolves");
        let again = models
            .resolve(Some("openai/gpt-4o-mini"))
            .expect("resolves");
        assert!(Arc::ptr_eq(&first, &again));
        let other = models.resolve(Some("openai/gpt-4o")).expect("resolves");
        assert!(!Arc::ptr_eq(&first, &other));
        let changed = models.clone().default_model("openai/gpt-4o-mini");
        let rebuilt = changed.resolve(None).expect("resolves");
        assert!(
            !Arc::ptr_eq(&first, &rebuilt),
            "a changed catalog resolves afresh"
        );
    }

    #[test]
    fn genflow_model_sets_the_default() {
        let vars = EnvVars::from_pairs([("GENFLOW_MODEL", "local/echo")]);
        let models = Models::from_vars(&vars);
        assert_eq!(
            models.resolve(None).expect("echo").info().name,
            "local/echo"
        );
    }

    #[test]
    fn a_missing_key_names_the_variable() {
        let models = Models::from_vars(&EnvVars::from_pairs([]));
        for (reference, var) in [
            ("openai/gpt-4o-mini", "OPENAI_API_KEY"),
            ("anthropic/claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
            ("googleai/gemini-2.5-flash", "GEMINI_API_KEY"),
        ] {
            let err = error_of(&models, reference);
            assert_eq!(err.status(), Status::Internal, "the service's fault");
            assert!(err.message().contains(var), "{err}");
        }
        // Ollama needs no key.
        let ollama = models.resolve(Some("ollama/llama3.2")).expect("ollama");
        assert_eq!(ollama.info().name, "ollama/llama3.2");
        let vars = EnvVars::from_pairs([("GOOGLE_API_KEY", "k")]);
        assert!(
            Models::from_vars(&vars)
                .resolve(Some("googleai/gemini-2.5-flash"))
                .is_ok()
        );
    }

    #[test]
    fn the_model_section_of_the_config_applies() {
        let config = crate::config::Config::parse(
            "[model]\ndefault = \"ollama/llama3.2\"\ntimeout = \"20s\"\nmax_retries = 4\n\n[model.ollama]\nbase_url = \"http://127.0.0.1:9/v1\"\n",
        )
        .expect("parses");
        let models = Models::from_config_and_vars(&config.model, &EnvVars::from_pairs([]));
        assert_eq!(models.default_model_name(), "ollama/llama3.2");
        assert_eq!(models.call_timeout(), Some(Duration::from_secs(20)));
        assert_eq!(models.retry_policy().max_retries, 4);
        assert!(models.resolve(None).is_ok());
    }

    #[cfg(feature = "local-models")]
    #[test]
    fn the_config_names_the_local_models_folder() {
        let dir = std::env::temp_dir().join(format!("genflow-local-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("tiny.gguf"), b"loaded on first call").expect("write");
        let toml = format!("[model]\nlocal_dir = {:?}\n", dir.display().to_string());
        let config = crate::config::Config::parse(&toml).expect("parses");
        let vars = EnvVars::from_pairs([]);
        let without = error_of(&Models::from_vars(&vars), "local/tiny");
        assert_eq!(without.status(), Status::NotFound);
        let models = Models::from_config_and_vars(&config.model, &vars);
        let model = models.resolve(Some("local/tiny")).expect("found");
        assert_eq!(model.info().name, "local/tiny");
    }

    #[test]
    fn unknown_references_are_not_found() {
        let models = Models::new();
        assert_eq!(error_of(&models, "gpt-4o").status(), Status::NotFound);
        let err = error_of(&models, "nope/x");
        assert!(err.message().contains("local"), "{err}");
        assert_eq!(error_of(&models, "local/nope").status(), Status::NotFound);
    }
}
