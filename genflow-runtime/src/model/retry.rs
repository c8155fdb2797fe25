//! Retries with exponential backoff and jitter, honouring the provider's `Retry-After`.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::secrets;
use crate::{FlowError, Status};

/// A failed call to a provider: the typed source of the [`FlowError`] a provider returns, read
/// by the retry loop.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider}: {}{message}", http_status.map(|s| format!("HTTP {s}: ")).unwrap_or_default())]
pub struct ProviderError {
    /// The provider, such as `"openai"`.
    pub provider: &'static str,
    /// The HTTP status, or `None` for connection and stream errors.
    pub http_status: Option<u16>,
    /// The provider's message.
    pub message: String,
    /// How long the provider asked us to wait (`retry-after-ms`, `retry-after`, Gemini's
    /// `RetryInfo.retryDelay`).
    pub retry_after: Option<Duration>,
    /// The provider's explicit verdict (`x-should-retry`), when it gave one.
    pub should_retry: Option<bool>,
}

impl ProviderError {
    /// The Genkit status of a provider's HTTP status code, as the flow's caller sees it.
    ///
    /// A provider refusing genflow's key (401, 403) or not knowing the model (404) is the
    /// service's misconfiguration, not the caller's: those become `INTERNAL` (redacted on the
    /// wire outside dev mode) rather than a 401/403/404 that would blame the caller.
    pub fn status_of(http_status: u16) -> Status {
        match http_status {
            400 | 413 | 422 => Status::InvalidArgument,
            401 | 403 | 404 => Status::Internal,
            408 => Status::DeadlineExceeded,
            409 => Status::Aborted,
            429 => Status::ResourceExhausted,
            499 => Status::Cancelled,
            501 => Status::Unimplemented,
            500..=599 => Status::Unavailable,
            _ => Status::Unknown,
        }
    }

    /// The Genkit status of this failure: the HTTP status's, else `INTERNAL` for a reply that
    /// cannot be read (retrying would get the same reply, so callers are not invited to) and
    /// `UNAVAILABLE` for a broken connection or stream.
    pub fn status(&self) -> Status {
        match (self.http_status, self.should_retry) {
            (Some(http_status), _) => ProviderError::status_of(http_status),
            (None, Some(false)) => Status::Internal,
            (None, _) => Status::Unavailable,
        }
    }

    /// Whether retrying may help: 408, 409, 429, 5xx and connection errors, unless the provider
    /// said otherwise.
    pub fn is_retryable(&self) -> bool {
        self.should_retry.unwrap_or(match self.http_status {
            None => true,
            Some(s) => matches!(s, 408 | 409 | 429) || s >= 500,
        })
    }
}

/// Provider errors keep the provider's words for logs and traces, with credentials scrubbed
/// (an upstream may echo the request's key); callers outside dev mode see a safe message.
impl From<ProviderError> for FlowError {
    fn from(mut e: ProviderError) -> Self {
        let status = e.status();
        e.message = secrets::scrub(&e.message);
        let retry_after = e.retry_after;
        let error = FlowError::new(status, e.to_string())
            .with_caller_message(caller_message(status))
            .with_source(e);
        match retry_after {
            Some(after) => error.with_retry_after(after),
            None => error,
        }
    }
}

/// What the caller of a flow whose model call failed with `status` is told outside dev mode.
fn caller_message(status: Status) -> &'static str {
    match status {
        Status::ResourceExhausted => "the model provider is rate-limiting requests; retry later",
        Status::InvalidArgument => "the model provider refused the request",
        Status::DeadlineExceeded => "the model provider did not answer in time",
        Status::Unavailable => "the model provider is unavailable; retry later",
        _ => "the model call failed",
    }
}

/// When and how often to retry a model call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The first backoff; it doubles per retry.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a provider asking for more fails the call at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 2 retries, 0.5 s doubling up to 8 s, `Retry-After` up to 60 s (as the official SDKs do).
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait before retry number `retry` (0-based) after `error`, or `None` to give
    /// up.
    pub(crate) fn delay(&self, retry: u32, error: &FlowError) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let provider =
            std::error::Error::source(error).and_then(|s| s.downcast_ref::<ProviderError>());
        let retryable = match provider {
            Some(p) => p.is_retryable(),
            None => matches!(
                error.status(),
                Status::Unavailable | Status::ResourceExhausted
            ),
        };
        if !retryable {
            return None;
        }
        if let Some(wait) = provider.and_then(|p| p.retry_after) {
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let backoff = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        // Up to 25% less, so clients that failed together do not retry together.
        Some(backoff.mul_f64(1.0 - 0.25 * random_fraction()))
    }

    /// Runs `attempt` until it succeeds, fails for good, or retries run out.
    pub(crate) async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, FlowError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, FlowError>>,
    {
        let mut retry = 0;
        loop {
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => match self.delay(retry, &e) {
                    Some(wait) => {
                        tracing::warn!(error = %e, retry, ?wait, "model call failed; retrying");
                        tokio::time::sleep(wait).await;
                        retry += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }
}

fn random_fraction() -> f64 {
    let bits = RandomState::new().build_hasher().finish() >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// Parses a `Retry-After` value: seconds (possibly fractional) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Parses a protobuf duration such as Gemini's `"37s"` or `"1.5s"`.
pub(crate) fn parse_proto_duration(value: &str) -> Option<Duration> {
    let seconds: f64 = value.strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(status: u16, retry_after: Option<Duration>) -> FlowError {
        ProviderError {
            provider: "openai",
            http_status: Some(status),
            message: "x".into(),
            retry_after,
            should_retry: None,
        }
        .into()
    }

    #[test]
    fn statuses_map_to_what_the_caller_can_act_on() {
        assert_eq!(provider(401, None).status(), Status::Internal);
        assert_eq!(provider(404, None).status(), Status::Internal);
        assert_eq!(provider(429, None).status(), Status::ResourceExhausted);
        assert_eq!(provider(503, None).status(), Status::Unavailable);
        assert_eq!(provider(529, None).status(), Status::Unavailable);
    }

    #[test]
    fn retry_after_wins_and_has_a_cap() {
        let policy = RetryPolicy::default();
        let asked = provider(429, Some(Duration::from_secs(3)));
        assert_eq!(policy.delay(0, &asked), Some(Duration::from_secs(3)));
        let too_long = provider(429, Some(Duration::from_secs(600)));
        assert_eq!(policy.delay(0, &too_long), None);
        assert_eq!(policy.delay(2, &asked), None, "retries ran out");
        assert_eq!(policy.delay(0, &provider(400, None)), None);
    }

    #[test]
    fn backoff_doubles_with_at_most_a_quarter_of_jitter() {
        let policy = RetryPolicy::default();
        let err = provider(500, None);
        let first = policy.delay(0, &err).expect("retry");
        let second = policy.delay(1, &err).expect("retry");
        assert!(first <= Duration::from_millis(500) && first >= Duration::from_millis(375));
        assert!(second <= Duration::from_secs(1) && second >= Duration::from_millis(750));
    }

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_proto_duration("37s"), Some(Duration::from_secs(37)));
    }
}
