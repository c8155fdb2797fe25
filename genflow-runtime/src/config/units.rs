//! Human-readable durations (`"30s"`, `"1m 30s"`) and byte sizes (`"1MiB"`, `"512KB"`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, de};

/// A duration written as text in the config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `"500ms"`, `"30s"`, `"1m 30s"`, `"1m30s"`, `"2h"` with `humantime`, the grammar
    /// `#[flow(timeout = "...")]` accepts too.
    pub fn parse(text: &str) -> Result<HumanDuration, String> {
        humantime::parse_duration(text)
            .map(HumanDuration)
            .map_err(|e| {
                format!(
                    "`{text}` is not a duration ({e}); write e.g. \"500ms\", \"30s\", \"1m 30s\" or \"2h\""
                )
            })
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HumanDuration::parse(&text).map_err(de::Error::custom)
    }
}

/// A size in bytes, written as a number or as text with a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl ByteSize {
    /// Parses `"1048576"`, `"1MiB"`, `"512 KiB"`, `"2MB"`, `"64kb"`.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let hint = || format!("`{text}` is not a size; write e.g. 1048576, \"512KiB\" or \"1MiB\"");
        let number: usize = number.parse().map_err(|_| hint())?;
        let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "kib" | "k" => 1 << 10,
            "mb" => 1_000_000,
            "mib" | "m" => 1 << 20,
            "gb" => 1_000_000_000,
            "gib" | "g" => 1 << 30,
            _ => return Err(hint()),
        };
        number.checked_mul(factor).map(ByteSize).ok_or_else(hint)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as 1048576 or \"1MiB\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                usize::try_from(v).map(ByteSize).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                usize::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(ByteSize::parse("1048576"), Ok(ByteSize(1 << 20)));
        assert_eq!(ByteSize::parse("1MiB"), Ok(ByteSize(1 << 20)));
        assert_eq!(ByteSize::parse("512 KiB"), Ok(ByteSize(512 << 10)));
        assert_eq!(ByteSize::parse("2MB"), Ok(ByteSize(2_000_000)));
        for bad in ["", "MiB", "1 parsec", "-1"] {
            assert!(ByteSize::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!(
            HumanDuration::parse("1m 30s"),
            Ok(HumanDuration(Duration::from_secs(90)))
        );
        assert_eq!(
            HumanDuration::parse("1m30s"),
            Ok(HumanDuration(Duration::from_secs(90)))
        );
        assert_eq!(
            HumanDuration::parse("500ms"),
            Ok(HumanDuration(Duration::from_millis(500)))
        );
        for bad in ["soon", "30", ""] {
            assert!(HumanDuration::parse(bad).is_err(), "{bad:?}");
        }
    }
}
