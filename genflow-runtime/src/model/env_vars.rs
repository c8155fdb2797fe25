//! [`EnvVars`]: where the model catalog and the providers read their configuration.

use std::collections::HashMap;

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where configuration is read from: the process environment, or a fixed map in tests.
pub struct EnvVars {
    lookup: Box<Lookup>,
}

impl EnvVars {
    /// The process environment.
    pub fn process() -> Self {
        EnvVars {
            lookup: Box::new(|name| std::env::var(name).ok()),
        }
    }

    /// A fixed set of variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        EnvVars {
            lookup: Box::new(move |name| map.get(name).cloned()),
        }
    }

    /// The variable `name`, if set and not empty.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }
}
