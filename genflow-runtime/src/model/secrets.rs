//! Scrubbing credentials out of text a provider sent back (an upstream may echo the request's
//! `Authorization` header or key), before it reaches an error, a log line or a trace.

use std::sync::LazyLock;

use regex_lite::Regex;

/// What a scrubbed secret reads as.
const REDACTED: &str = "[redacted]";

/// Credentials as they appear in headers, URLs and provider keys.
static SECRETS: LazyLock<[(Regex, &'static str); 5]> = LazyLock::new(|| {
    let regex = |pattern: &str| match Regex::new(pattern) {
        Ok(regex) => regex,
        // The patterns are literals of this file; a typo fails every test at once.
        Err(e) => unreachable!("a secret pattern does not compile: {e}"),
    };
    [
        // `Authorization: Bearer <token>`, `Basic <credentials>`.
        (
            regex(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
            "$1 [redacted]",
        ),
        // `x-api-key: ...`, `x-goog-api-key: ...`, `api_key=...`.
        (
            regex(r#"(?i)\b((?:x-goog-|x-)?api[-_]?key)(\s*[:=]\s*"?)[A-Za-z0-9._~+/-]{6,}"#),
            "$1$2[redacted]",
        ),
        // `?key=...` in a URL (Gemini's key parameter).
        (regex(r#"(?i)([?&]key=)[^&\s"]+"#), "${1}[redacted]"),
        // Provider key shapes: `sk-...`, `sk-ant-...`, Google's `AIza...`.
        (
            regex(r"\b(sk-[A-Za-z0-9_-]{6,}|AIza[A-Za-z0-9_-]{20,})"),
            REDACTED,
        ),
        // Credentials in a URL: `scheme://user:password@host`.
        (regex(r"://[^/\s:@]+:[^/\s@]+@"), "://[redacted]@"),
    ]
});

/// `text` with every credential it holds replaced by `[redacted]`.
pub(crate) fn scrub(text: &str) -> String {
    SECRETS
        .iter()
        .fold(text.to_owned(), |text, (pattern, replacement)| {
            pattern.replace_all(&text, *replacement).into_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn credentials_are_scrubbed_and_the_rest_is_kept() {
        let echoed = "invalid request (you sent Authorization: Bearer sk-proj-abc123XYZ, \
                      x-api-key: sk-ant-api03-secret, url https://bob:hunter2@proxy.example/v1?key=AIzaSyA1234567890123456789012)";
        let scrubbed = scrub(echoed);
        for secret in [
            "sk-proj-abc123XYZ",
            "sk-ant-api03-secret",
            "hunter2",
            "AIzaSyA1234567890",
        ] {
            assert!(!scrubbed.contains(secret), "{secret} left in {scrubbed}");
        }
        assert!(
            scrubbed.starts_with("invalid request (you sent Authorization: Bearer [redacted]"),
            "{scrubbed}"
        );
        assert!(scrubbed.contains("proxy.example/v1"), "{scrubbed}");
        for kept in [
            "Rate limit reached for gpt-4o",
            "Unknown key: response_format",
        ] {
            assert_eq!(scrub(kept), kept);
        }
    }
}
