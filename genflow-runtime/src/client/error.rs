//! [`ClientError`], and reading the error bodies and frames of Genkit-compatible servers.

use serde_json::Value;

use crate::{FlowError, Status};

/// Why a flow call through [`FlowClient`](super::FlowClient) failed. Every variant maps to a
/// Genkit [`Status`] ([`ClientError::status`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with an error: a non-2xx response or an `error` frame.
    #[error("{status}: {message}")]
    Flow {
        /// The status the server named (or the one its HTTP code maps to).
        status: Status,
        /// The server's message.
        message: String,
        /// The server's structured details, such as input violations.
        details: Option<Value>,
        /// The HTTP code, unless the error came in a stream frame.
        http_code: Option<u16>,
    },
    /// The request could not be sent or the response not received.
    #[error("flow request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server's answer is not what the flow's types say.
    #[error("cannot decode the {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The event stream closed without a `result` or `error` frame.
    #[error("the stream ended without a result")]
    Incomplete,
    /// A header given to the client is not a valid HTTP header.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
}

impl ClientError {
    /// The Genkit status of this error: the server's, or the nearest one for local failures.
    pub fn status(&self) -> Status {
        match self {
            ClientError::Flow { status, .. } => *status,
            ClientError::Transport(e) if e.is_timeout() => Status::DeadlineExceeded,
            ClientError::Transport(e) if e.is_builder() => Status::InvalidArgument,
            ClientError::Transport(_) | ClientError::Incomplete => Status::Unavailable,
            ClientError::Decode { .. } => Status::Internal,
            ClientError::InvalidHeader(_) => Status::InvalidArgument,
        }
    }

    pub(crate) fn decode(what: &'static str) -> impl FnOnce(serde_json::Error) -> ClientError {
        move |source| ClientError::Decode { what, source }
    }

    /// The error a server sent: `{"status", "message", "details"}` (genflow, Genkit JS),
    /// `{"error": {...}}` (frames, Go) or `{"code": <gRPC int>, ...}` (reflection API); anything
    /// else is named by its HTTP code.
    pub(crate) fn from_server(body: &[u8], http_code: Option<u16>) -> ClientError {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let value = match value.get("error") {
            Some(inner) if inner.is_object() => inner,
            _ => &value,
        };
        let named = value
            .get("status")
            .and_then(Value::as_str)
            .and_then(Status::from_name);
        let coded = value
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|code| Status::ALL.get(usize::try_from(code).ok()?).copied());
        let status = named
            .or(coded)
            .unwrap_or_else(|| http_code.map_or(Status::Unknown, status_of_http));
        let message = match value.get("message").and_then(Value::as_str) {
            Some(message) => message.to_owned(),
            None => String::from_utf8_lossy(body).chars().take(512).collect(),
        };
        ClientError::Flow {
            status,
            message,
            details: value.get("details").filter(|d| !d.is_null()).cloned(),
            http_code,
        }
    }
}

/// The status a bare HTTP code stands for.
fn status_of_http(code: u16) -> Status {
    match code {
        400 | 405 | 415 | 422 => Status::InvalidArgument,
        401 => Status::Unauthenticated,
        403 => Status::PermissionDenied,
        404 => Status::NotFound,
        409 => Status::Aborted,
        413 | 429 => Status::ResourceExhausted,
        499 => Status::Cancelled,
        501 => Status::Unimplemented,
        502 | 503 => Status::Unavailable,
        504 => Status::DeadlineExceeded,
        500..=599 => Status::Internal,
        _ => Status::Unknown,
    }
}

impl ClientError {
    /// The error as a flow returns it (`.map_err(ClientError::into_flow_error)?`): a remote
    /// failure keeps its status, message and details.
    pub fn into_flow_error(self) -> FlowError {
        let status = self.status();
        match self {
            ClientError::Flow {
                message, details, ..
            } => {
                let flow = FlowError::new(status, message);
                match details {
                    Some(details) => flow.with_details(details),
                    None => flow,
                }
            }
            other => FlowError::from_error(status, other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_and_message(body: &str, code: Option<u16>) -> (Status, String) {
        let error = ClientError::from_server(body.as_bytes(), code);
        let status = error.status();
        match error {
            ClientError::Flow { message, .. } => (status, message),
            other => panic!("not a flow error: {other}"),
        }
    }

    #[test]
    fn every_server_shape_is_read() {
        assert_eq!(
            status_and_message(r#"{"status":"NOT_FOUND","message":"no"}"#, Some(404)),
            (Status::NotFound, "no".into())
        );
        assert_eq!(
            status_and_message(r#"{"error":{"status":"INTERNAL","message":"x"}}"#, None),
            (Status::Internal, "x".into())
        );
        assert_eq!(
            status_and_message(r#"{"error":{"code":3,"message":"bad"}}"#, Some(200)),
            (Status::InvalidArgument, "bad".into())
        );
        assert_eq!(
            status_and_message("upstream timed out", Some(504)),
            (Status::DeadlineExceeded, "upstream timed out".into())
        );
    }

    #[test]
    fn a_remote_failure_keeps_its_status_and_details_in_a_flow() {
        let body = r#"{"status":"INVALID_ARGUMENT","message":"bad","details":{"errors":[]}}"#;
        let flow = ClientError::from_server(body.as_bytes(), Some(400)).into_flow_error();
        assert_eq!(flow.status(), Status::InvalidArgument);
        assert_eq!(flow.message(), "bad");
        assert_eq!(flow.details(), Some(&serde_json::json!({"errors": []})));
        assert_eq!(
            ClientError::Incomplete.into_flow_error().status(),
            Status::Unavailable
        );
    }
}
