//! The label sets of the metric families, and the interner that keeps runtime label values
//! (model names) bounded.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use prometheus_client::encoding::EncodeLabelSet;

/// `kind`, `name` and `status` of an action run.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ActionLabels {
    pub(super) kind: &'static str,
    pub(super) name: &'static str,
    pub(super) status: &'static str,
}

/// `model` and `status` of a model call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct GenerateLabels {
    pub(super) model: Arc<str>,
    pub(super) status: &'static str,
}

/// The `model` of a model call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ModelLabel {
    pub(super) model: Arc<str>,
}

/// Distinct runtime label values kept; later new values share the label `other`, so a
/// stream of unexpected names cannot grow memory without bound.
const MAX_VALUES: usize = 1024;

/// Shared copies of runtime label values, made once per distinct value, so recording a
/// known value allocates nothing.
pub(super) struct Interner {
    values: RwLock<HashSet<Arc<str>>>,
    other: Arc<str>,
}

impl Interner {
    /// An interner without values yet.
    pub(super) fn new() -> Self {
        Interner {
            values: RwLock::new(HashSet::new()),
            other: Arc::from("other"),
        }
    }

    /// The shared copy of `value`, or `other` once [`MAX_VALUES`] distinct values are kept.
    pub(super) fn get(&self, value: &str) -> Arc<str> {
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
