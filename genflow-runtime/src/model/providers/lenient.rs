//! Tolerant field readers for provider replies: compatible servers differ on nulls and
//! shapes, and a field of an unexpected kind is read as absent rather than failing the reply.

use std::fmt;

use serde::Deserializer;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string, or `None` for anything else (null, a number, an array, an object).
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Kept(|v| match v {
        Scalar::Text(text) => Some(text),
        Scalar::Count(_) | Scalar::Flag(_) => None,
    }))
}

/// A non-negative integer (also written as a float with no fraction), or `None` for
/// anything else.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(Kept(|v| match v {
        Scalar::Count(n) => Some(n),
        Scalar::Text(_) | Scalar::Flag(_) => None,
    }))
}

/// `true` or `false`, or `None` for anything else.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(Kept(|v| match v {
        Scalar::Flag(b) => Some(b),
        Scalar::Text(_) | Scalar::Count(_) => None,
    }))
}

/// The values a lenient reader may keep.
enum Scalar {
    Text(String),
    Count(u64),
    Flag(bool),
}

/// Reads any JSON value, hands strings, counts and booleans to its function, and skips the
/// rest.
struct Kept<F>(F);

impl<'de, T, F: FnOnce(Scalar) -> Option<T>> Visitor<'de> for Kept<F> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<T>, E> {
        Ok((self.0)(Scalar::Text(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Option<T>, E> {
        Ok((self.0)(Scalar::Text(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Option<T>, E> {
        Ok((self.0)(Scalar::Count(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Option<T>, E> {
        Ok(u64::try_from(v)
            .ok()
            .and_then(|n| (self.0)(Scalar::Count(n))))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Option<T>, E> {
        let whole = v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(whole.then(|| (self.0)(Scalar::Count(v as u64))).flatten())
    }

    fn visit_bool<E>(self, v: bool) -> Result<Option<T>, E> {
        Ok((self.0)(Scalar::Flag(v)))
    }

    fn visit_unit<E>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Fields {
        #[serde(default, deserialize_with = "super::text")]
        text: Option<String>,
        #[serde(default, deserialize_with = "super::count")]
        count: Option<u64>,
        #[serde(default, deserialize_with = "super::flag")]
        flag: Option<bool>,
    }

    fn read(value: serde_json::Value) -> (Option<String>, Option<u64>, Option<bool>) {
        let fields = Fields::deserialize(value).expect("any value is accepted");
        (fields.text, fields.count, fields.flag)
    }

    #[test]
    fn keeps_strings_and_counts_and_reads_anything_else_as_absent() {
        assert_eq!(
            read(json!({"text": "hi", "count": 7, "flag": true})),
            (Some("hi".into()), Some(7), Some(true))
        );
        assert_eq!(
            read(json!({"count": 12.0, "flag": false})),
            (None, Some(12), Some(false))
        );
        assert_eq!(read(json!({})), (None, None, None));
        for odd in [
            json!(null),
            json!(-3),
            json!(1.5),
            json!([1, {"a": 2}]),
            json!({"a": [1]}),
        ] {
            assert_eq!(
                read(json!({"text": odd, "count": odd, "flag": odd})),
                (None, None, None),
                "{odd}"
            );
        }
        assert_eq!(
            read(json!({"text": 3, "count": "3", "flag": "true"})),
            (None, None, None)
        );
        assert_eq!(
            read(json!({"text": true, "count": false})),
            (None, None, None)
        );
    }
}
