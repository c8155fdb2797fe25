//! The typed error every flow, tool and runtime call returns.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Status;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error carrying a Genkit [`Status`], a message, optional structured details and an
/// optional source error.
///
/// Internal errors (`INTERNAL`, `UNKNOWN`, `DATA_LOSS`) are redacted to `"internal"` when they
/// cross the wire outside dev mode, unless built with [`FlowError::public`]; see
/// [`FlowError::to_body`].
#[derive(Debug, thiserror::Error)]
#[error("{status}: {message}")]
pub struct FlowError {
    status: Status,
    message: Cow<'static, str>,
    /// Boxed: rarely present, and `Value` grows when serde_json's `preserve_order` is on
    /// (llguidance, feature `local-models`, turns it on).
    details: Option<Box<Value>>,
    public: bool,
    /// What the caller is told besides the status, when set (boxed: rarely present).
    caller: Option<Box<CallerHints>>,
    #[source]
    source: Option<BoxError>,
}

/// What a caller is told besides an error's status and message.
#[derive(Debug, Default)]
struct CallerHints {
    /// How long to wait before retrying, when the cause (such as a rate-limited provider)
    /// said so.
    retry_after: Option<Duration>,
    /// What callers see instead of the message outside dev mode (the message may hold an
    /// upstream's words, fit for logs only).
    message: Option<Cow<'static, str>>,
}

/// The error type tools return. Tools and flows share one error type, so a flow can `?` a tool
/// call and a tool error keeps its status on its way back to a model or a client.
pub type ToolError = FlowError;

/// One input violation: where in the JSON document and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// JSON pointer (RFC 6901) to the offending value; `""` is the whole document.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

/// The JSON body of an error on the wire: `{"status", "message", "details"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The Genkit status name.
    pub status: Status,
    /// A message fit for the caller.
    pub message: String,
    /// Structured details, such as input violations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl FlowError {
    /// An error with a status and message.
    pub fn new(status: Status, message: impl Into<Cow<'static, str>>) -> Self {
        FlowError {
            status,
            message: message.into(),
            details: None,
            public: false,
            caller: None,
            source: None,
        }
    }

    /// An error whose message is shown to callers even when its status is internal.
    pub fn public(status: Status, message: impl Into<Cow<'static, str>>) -> Self {
        FlowError {
            public: true,
            ..FlowError::new(status, message)
        }
    }

    /// `INVALID_ARGUMENT`: the caller's input is wrong.
    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::InvalidArgument, message)
    }

    /// `INVALID_ARGUMENT` listing every input violation in `details.errors`.
    pub fn invalid_input(violations: Vec<Violation>) -> Self {
        let message = match violations.as_slice() {
            [] => "invalid input".to_owned(),
            [one] => format!("invalid input at '{}': {}", one.path, one.message),
            [first, rest @ ..] => format!(
                "invalid input at '{}': {} (and {} more)",
                first.path,
                first.message,
                rest.len()
            ),
        };
        FlowError::invalid_argument(message)
            .with_details(serde_json::json!({ "errors": violations }))
    }

    /// `INTERNAL`: something broke that the caller cannot fix.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::Internal, message)
    }

    /// `NOT_FOUND`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::NotFound, message)
    }

    /// `DEADLINE_EXCEEDED`.
    pub fn deadline_exceeded(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::DeadlineExceeded, message)
    }

    /// `CANCELLED`.
    pub fn cancelled(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::Cancelled, message)
    }

    /// `UNAVAILABLE`: retrying later may help.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::Unavailable, message)
    }

    /// `ABORTED`.
    pub fn aborted(message: impl Into<Cow<'static, str>>) -> Self {
        FlowError::new(Status::Aborted, message)
    }

    /// Wraps any error with a status; its `Display` becomes the message.
    pub fn from_error(
        status: Status,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        FlowError::new(status, error.to_string()).with_source(error)
    }

    /// Combines the failures of concurrent steps into one error: the first failure's status,
    /// every failure listed in `details.errors`.
    pub fn aggregate(mut errors: Vec<FlowError>) -> Self {
        if errors.len() == 1 {
            return errors.remove(0);
        }
        let status = errors.first().map_or(Status::Unknown, |e| e.status);
        let listed: Vec<Value> = errors
            .iter()
            .map(|e| serde_json::json!({ "status": e.status, "message": e.message }))
            .collect();
        FlowError::new(status, format!("{} concurrent steps failed", errors.len()))
            .with_details(serde_json::json!({ "errors": listed }))
    }

    /// Attaches structured details (shown on the wire).
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// Attaches the underlying error (kept for logs and traces, never sent on the wire).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Says how long the caller should wait before retrying (the HTTP server sends it as
    /// `Retry-After`).
    #[must_use]
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.caller.get_or_insert_default().retry_after = Some(after);
        self
    }

    /// Sets what callers see instead of the message outside dev mode; the message (and the
    /// details) then go to logs and traces only.
    #[must_use]
    pub fn with_caller_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.caller.get_or_insert_default().message = Some(message.into());
        self
    }

    /// How long the caller should wait before retrying, if the cause said so.
    pub fn retry_after(&self) -> Option<Duration> {
        self.caller.as_ref()?.retry_after
    }

    /// Prefixes the message with context, keeping status, details and source.
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message).into();
        self
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The full message (not redacted).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Structured details, if any.
    pub fn details(&self) -> Option<&Value> {
        self.details.as_deref()
    }

    /// Whether the message may be shown to callers whatever the status.
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// Whether this status hides its message from callers unless public or in dev mode.
    pub fn is_redacted_status(&self) -> bool {
        matches!(
            self.status,
            Status::Internal | Status::Unknown | Status::DataLoss
        )
    }

    /// The wire body. With `expose_internal` false (production), internal errors that are not
    /// public read `"internal"` and lose their details, and an error with a caller message
    /// shows that message without details.
    pub fn to_body(&self, expose_internal: bool) -> ErrorBody {
        if !expose_internal {
            let redacted = (self.is_redacted_status() && !self.public).then_some("internal");
            let caller_message = self.caller.as_ref().and_then(|c| c.message.as_deref());
            if let Some(message) = redacted.or(caller_message) {
                return ErrorBody {
                    status: self.status,
                    message: message.to_owned(),
                    details: None,
                };
            }
        }
        ErrorBody {
            status: self.status,
            message: self.message.to_string(),
            details: self.details.as_deref().cloned(),
        }
    }
}

impl From<ErrorBody> for FlowError {
    fn from(body: ErrorBody) -> Self {
        FlowError {
            status: body.status,
            message: body.message.into(),
            details: body.details.map(Box::new),
            public: true,
            caller: None,
            source: None,
        }
    }
}

impl From<serde_json::Error> for FlowError {
    fn from(e: serde_json::Error) -> Self {
        FlowError::from_error(Status::Internal, e)
    }
}

impl From<std::io::Error> for FlowError {
    fn from(e: std::io::Error) -> Self {
        FlowError::from_error(Status::Internal, e)
    }
}

impl From<tokio::time::error::Elapsed> for FlowError {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        FlowError::deadline_exceeded("deadline exceeded")
    }
}

impl From<std::convert::Infallible> for FlowError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

#[cfg(any(feature = "server", feature = "client", feature = "models"))]
/// An error with its whole source chain ("builder error: No CA certificates were loaded ..."),
/// as reqwest's own message names only the outermost cause.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_redacted_unless_public_or_exposed() {
        let hidden = FlowError::internal("db password wrong").with_details(serde_json::json!(1));
        assert_eq!(hidden.to_body(false).message, "internal");
        assert_eq!(hidden.to_body(false).details, None);
        assert_eq!(hidden.to_body(true).message, "db password wrong");

        let shown = FlowError::public(Status::Internal, "try again tomorrow");
        assert_eq!(shown.to_body(false).message, "try again tomorrow");

        let client = FlowError::invalid_argument("question is empty");
        assert_eq!(client.to_body(false).message, "question is empty");
    }

    #[test]
    fn invalid_input_lists_every_violation() {
        let err = FlowError::invalid_input(vec![
            Violation {
                path: "/question".into(),
                message: "expected a string".into(),
            },
            Violation {
                path: "/context/1".into(),
                message: "expected a string".into(),
            },
        ]);
        assert_eq!(err.status(), Status::InvalidArgument);
        assert_eq!(
            err.message(),
            "invalid input at '/question': expected a string (and 1 more)"
        );
        assert_eq!(
            err.details().and_then(|d| d.pointer("/errors/1/path")),
            Some(&Value::from("/context/1"))
        );
    }

    #[test]
    fn aggregate_keeps_first_status_and_lists_all() {
        let err = FlowError::aggregate(vec![
            FlowError::unavailable("a down"),
            FlowError::internal("b broke"),
        ]);
        assert_eq!(err.status(), Status::Unavailable);
        assert_eq!(
            err.details().and_then(|d| d.pointer("/errors/1/message")),
            Some(&Value::from("b broke"))
        );
    }

    #[cfg(any(feature = "server", feature = "client", feature = "models"))]
    #[derive(Debug, thiserror::Error)]
    #[error("builder error")]
    struct Outer(#[source] Inner);

    #[cfg(any(feature = "server", feature = "client", feature = "models"))]
    #[derive(Debug, thiserror::Error)]
    #[error("No CA certificates were loaded from the system")]
    struct Inner;

    #[cfg(any(feature = "server", feature = "client", feature = "models"))]
    #[test]
    fn chains_name_every_cause() {
        assert_eq!(
            chain(&Outer(Inner)),
            "builder error: No CA certificates were loaded from the system"
        );
    }
}
