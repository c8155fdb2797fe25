//! Metadata filters: which documents a search may return, by their metadata.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;

/// A condition on a document's metadata. In JSON: `{"eq": {"key": "lang", "value": "en"}}`,
/// `{"in": {"key": "year", "values": [2024, 2025]}}`, `{"all": [...]}`, `{"any": [...]}`,
/// `{"not": ...}`.
///
/// Keys name top-level metadata entries; values are scalars (string, number, boolean, `null`).
/// `null` matches a missing entry too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    /// The entry `key` equals `value`.
    Eq {
        /// The metadata key.
        key: String,
        /// The value it must have.
        value: Value,
    },
    /// The entry `key` equals one of `values`.
    In {
        /// The metadata key.
        key: String,
        /// The values it may have.
        values: Vec<Value>,
    },
    /// Every condition holds.
    All(Vec<Filter>),
    /// At least one condition holds.
    Any(Vec<Filter>),
    /// The condition does not hold.
    Not(Box<Filter>),
}

impl Filter {
    /// The entry `key` equals `value`.
    pub fn eq(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Filter::Eq {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The entry `key` equals one of `values`.
    pub fn one_of<V: Into<Value>>(
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Filter::In {
            key: key.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// Checks what every store needs: non-empty keys without `"`, scalar values. Stores call
    /// it before translating the filter.
    pub fn check(&self) -> Result<(), StoreError> {
        let key_ok = |key: &str| {
            if key.is_empty() || key.contains('"') {
                Err(StoreError::InvalidQuery(format!(
                    "the metadata key '{key}' must be non-empty and contain no '\"'"
                )))
            } else {
                Ok(())
            }
        };
        let value_ok = |value: &Value| {
            if value.is_object() || value.is_array() {
                Err(StoreError::InvalidQuery(format!(
                    "filters compare scalars, not {value}"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            Filter::Eq { key, value } => {
                key_ok(key)?;
                value_ok(value)
            }
            Filter::In { key, values } => {
                key_ok(key)?;
                values.iter().try_for_each(value_ok)
            }
            Filter::All(filters) | Filter::Any(filters) => {
                filters.iter().try_for_each(Filter::check)
            }
            Filter::Not(filter) => filter.check(),
        }
    }

    /// The filter as an SQL condition (checked beforehand by [`Filter::check`]): each
    /// comparison of an entry with a value is `compare(key, value)`, a set of values `any`
    /// of those comparisons; `yes` and `no` are the database's true and false (the conditions
    /// of an empty `all` and `any`).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn to_sql(
        &self,
        compare: &mut dyn FnMut(&str, &Value) -> String,
        yes: &str,
        no: &str,
    ) -> String {
        let mut joined = |filters: &[Filter], operator: &str, empty: &str| {
            if filters.is_empty() {
                return empty.to_owned();
            }
            let parts: Vec<String> = filters.iter().map(|f| f.to_sql(compare, yes, no)).collect();
            format!("({})", parts.join(operator))
        };
        match self {
            Filter::Eq { key, value } => compare(key, value),
            Filter::In { key, values } => {
                let each = values
                    .iter()
                    .map(|value| Filter::eq(key.clone(), value.clone()));
                joined(&each.collect::<Vec<_>>(), " OR ", no)
            }
            Filter::All(filters) => joined(filters, " AND ", yes),
            Filter::Any(filters) => joined(filters, " OR ", no),
            Filter::Not(filter) => format!("NOT ({})", filter.to_sql(compare, yes, no)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_read_as_json() {
        let filter: Filter = serde_json::from_value(json!({"all": [
            {"eq": {"key": "lang", "value": "en"}},
            {"not": {"in": {"key": "year", "values": [2023]}}}
        ]}))
        .expect("parses");
        assert_eq!(
            filter,
            Filter::All(vec![
                Filter::eq("lang", "en"),
                Filter::Not(Box::new(Filter::one_of("year", [2023])))
            ])
        );
        assert!(filter.check().is_ok());
    }

    #[test]
    fn checks_refuse_bad_keys_and_non_scalars() {
        assert!(Filter::eq("", 1).check().is_err());
        assert!(Filter::eq("a\"b", 1).check().is_err());
        assert!(Filter::eq("tags", json!(["x"])).check().is_err());
        assert!(
            Filter::Any(vec![Filter::one_of("k", [json!({})])])
                .check()
                .is_err()
        );
    }
}
