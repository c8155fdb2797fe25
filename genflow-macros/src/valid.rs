//! Checks on names, timeouts and input types that need no type information.

use syn::Type;

use crate::ast::{last_segment, type_args};

/// Why `name` cannot be a flow name (a URL path segment), if it cannot.
pub fn flow_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a flow name cannot be empty".to_owned());
    }
    if name == "." || name == ".." {
        return Some(format!("`{name}` is not a usable URL path segment"));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
        .map(|c| {
            format!(
                "flow name `{name}` contains `{c}`, which is not allowed in a URL path segment; use letters, digits, `-`, `_`, `.` or `~` (e.g. `{}`)",
                suggest_name(name)
            )
        })
}

/// Why `name` cannot be a tool name (what model APIs accept: `[A-Za-z0-9_-]{1,64}`), if it
/// cannot.
pub fn tool_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 64 {
        return Some(format!(
            "tool name `{name}` must be 1 to 64 characters long (model APIs reject others)"
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        .map(|c| {
            format!(
                "tool name `{name}` contains `{c}`; model APIs accept only letters, digits, `-` and `_` (e.g. `{}`)",
                suggest_name(name)
            )
        })
}

fn suggest_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "myFlow".to_owned()
    } else {
        cleaned
    }
}

/// Parses a duration such as `"30s"`, `"500ms"`, `"2m"`, `"1h"` or `"1m30s"` into milliseconds.
pub fn parse_timeout(text: &str) -> Result<u64, String> {
    let hint = "write a duration such as \"500ms\", \"30s\", \"2m\", \"1h\" or \"1m30s\"";
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(format!("empty timeout: {hint}"));
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "invalid timeout `{text}`: expected a number; {hint}"
            ));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid timeout `{text}`: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis_per = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "" => return Err(format!("invalid timeout `{text}`: missing unit; {hint}")),
            unit => {
                return Err(format!(
                    "invalid timeout `{text}`: unknown unit `{unit}`; {hint}"
                ));
            }
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(millis_per)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("invalid timeout `{text}`: too large"))?;
    }
    if total == 0 {
        return Err(format!(
            "timeout `{text}` is zero: every run would fail; {hint}"
        ));
    }
    Ok(total)
}

/// Whether `ty` is an untyped JSON value (`serde_json::Value`, or a map or list of them).
pub fn is_untyped(ty: &Type) -> bool {
    let Some(segment) = last_segment(ty) else {
        return false;
    };
    let args = type_args(segment);
    match segment.ident.to_string().as_str() {
        "Value" => args.is_empty(),
        "Map" | "HashMap" | "BTreeMap" | "IndexMap" => args.last().is_some_and(|v| is_untyped(v)),
        "Vec" | "Option" | "Box" => args.first().is_some_and(|v| is_untyped(v)),
        _ => false,
    }
}

/// `rag_query` -> `RagQuery`.
pub fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_in_every_unit() {
        assert_eq!(parse_timeout("500ms"), Ok(500));
        assert_eq!(parse_timeout("30s"), Ok(30_000));
        assert_eq!(parse_timeout("2m"), Ok(120_000));
        assert_eq!(parse_timeout("1h"), Ok(3_600_000));
        assert_eq!(parse_timeout("1m30s"), Ok(90_000));
        for bad in [
            "",
            "30",
            "s",
            "3 s",
            "10x",
            "0s",
            "-1s",
            "99999999999999999999h",
        ] {
            assert!(parse_timeout(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn names_follow_url_and_model_rules() {
        assert_eq!(flow_name_problem("ragQuery"), None);
        assert_eq!(flow_name_problem("v1.rag-query~x"), None);
        assert!(flow_name_problem("rag query").is_some());
        assert!(flow_name_problem("a/b").is_some());
        assert!(flow_name_problem("..").is_some());
        assert_eq!(tool_name_problem("search_db"), None);
        assert!(tool_name_problem("search.db").is_some());
        assert!(tool_name_problem(&"x".repeat(65)).is_some());
    }

    #[test]
    fn untyped_values_are_recognised() {
        let untyped: [Type; 4] = [
            syn::parse_quote!(serde_json::Value),
            syn::parse_quote!(HashMap<String, Value>),
            syn::parse_quote!(Vec<serde_json::Value>),
            syn::parse_quote!(serde_json::Map<String, serde_json::Value>),
        ];
        assert!(untyped.iter().all(is_untyped));
        let typed: [Type; 2] = [
            syn::parse_quote!(QueryInput),
            syn::parse_quote!(HashMap<String, u32>),
        ];
        assert!(!typed.iter().any(is_untyped));
    }

    #[test]
    fn handles_are_camel_case() {
        assert_eq!(camel_case("rag_query"), "RagQuery");
        assert_eq!(camel_case("search__db_"), "SearchDb");
    }
}
