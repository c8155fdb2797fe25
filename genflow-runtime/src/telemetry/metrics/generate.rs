//! The model-call families: calls by model and status, their latency and token counts.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::{Histograms, Metrics, latency_histograms};
use crate::Status;

/// The families of model calls, and the model names seen.
pub(super) struct GenerateFamilies {
    requests: Family<GenerateLabels, Counter>,
    latency: Histograms<ModelLabel>,
    input_tokens: Family<ModelLabel, Counter>,
    output_tokens: Family<ModelLabel, Counter>,
    /// The model names seen, as shared label values.
    models: Interner,
}

impl GenerateFamilies {
    /// The families, registered in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let requests: Family<GenerateLabels, Counter> = Family::default();
        let latency: Histograms<ModelLabel> = latency_histograms();
        let input_tokens: Family<ModelLabel, Counter> = Family::default();
        let output_tokens: Family<ModelLabel, Counter> = Family::default();
        registry.register(
            "genkit_ai_generate_requests",
            "Model calls by model and status",
            requests.clone(),
        );
        registry.register(
            "genkit_ai_generate_latency_seconds",
            "Model call latency in seconds",
            latency.clone(),
        );
        registry.register(
            "genkit_ai_generate_input_tokens",
            "Input tokens models reported",
            input_tokens.clone(),
        );
        registry.register(
            "genkit_ai_generate_output_tokens",
            "Output tokens models reported",
            output_tokens.clone(),
        );
        GenerateFamilies {
            requests,
            latency,
            input_tokens,
            output_tokens,
            models: Interner::new(),
        }
    }
}

impl Metrics {
    /// Records one model call: latency, outcome and token counts.
    pub(crate) fn record_generate(
        &self,
        model: &str,
        status: Status,
        latency: Duration,
        input_tokens: u64,
        output_tokens: u64,
    ) {
        let model = ModelLabel {
            model: self.0.generate.models.get(model),
        };
        let requests = GenerateLabels {
            model: model.model.clone(),
            status: status.name(),
        };
        let families = &self.0.generate;
        families.requests.get_or_create(&requests).inc();
        families
            .latency
            .get_or_create(&model)
            .observe(latency.as_secs_f64());
        families
            .input_tokens
            .get_or_create(&model)
            .inc_by(input_tokens);
        families
            .output_tokens
            .get_or_create(&model)
            .inc_by(output_tokens);
    }
}

/// `model` and `status` of a model call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GenerateLabels {
    model: Arc<str>,
    status: &'static str,
}

/// The `model` of a model call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabel {
    model: Arc<str>,
}

/// Distinct runtime label values kept; later new values share the label `other`, so a
/// stream of unexpected names cannot grow memory without bound.
const MAX_VALUES: usize = 1024;

/// Shared copies of runtime label values, made once per distinct value, so recording a
/// known value allocates nothing.
struct Interner {
    values: RwLock<HashSet<Arc<str>>>,
    other: Arc<str>,
}

impl Interner {
    /// An interner without values yet.
    fn new() -> Self {
        Interner {
            values: RwLock::new(HashSet::new()),
            other: Arc::from("other"),
        }
    }

    /// The shared copy of `value`, or `other` once [`MAX_VALUES`] distinct values are kept.
    fn get(&self, value: &str) -> Arc<str> {
        if let Some(found) = self
            .values
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(value)
        {
            return found.clone();
        }
        let mut values = self.values.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = values.get(value) {
            return found.clone();
        }
        if values.len() >= MAX_VALUES {
            return self.other.clone();
        }
        let value: Arc<str> = Arc::from(value);
        values.insert(value.clone());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_values_are_shared() {
        let interner = Interner::new();
        let a = interner.get("model-x");
        let b = interner.get(&String::from("model-x"));
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn values_past_the_cap_are_other() {
        let interner = Interner::new();
        for i in 0..MAX_VALUES {
            assert_eq!(&*interner.get(&format!("model-{i}")), format!("model-{i}"));
        }
        assert_eq!(&*interner.get("one-too-many"), "other");
        assert_eq!(&*interner.get("model-7"), "model-7");
    }
}
