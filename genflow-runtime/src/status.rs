//! Genkit status names and their HTTP and gRPC codes.

use serde::{Deserialize, Serialize};

/// A Genkit status: the canonical error category every genflow error carries.
///
/// Serialized as the upper-case name (`"INVALID_ARGUMENT"`), as Genkit's wire protocol does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Not an error.
    Ok,
    /// The operation was cancelled, typically by the caller.
    Cancelled,
    /// An error of unknown origin.
    Unknown,
    /// The caller sent input that is invalid regardless of system state.
    InvalidArgument,
    /// The deadline expired before the operation completed.
    DeadlineExceeded,
    /// A requested entity (flow, tool, model, ...) was not found.
    NotFound,
    /// The entity the caller tried to create already exists.
    AlreadyExists,
    /// The caller is authenticated but may not do this.
    PermissionDenied,
    /// A quota or rate limit was exhausted.
    ResourceExhausted,
    /// The system is not in a state required for the operation.
    FailedPrecondition,
    /// The operation was aborted (for example: a tool loop ran out of turns).
    Aborted,
    /// The operation was attempted past the valid range.
    OutOfRange,
    /// The operation is not implemented or supported.
    Unimplemented,
    /// An internal invariant broke; the details are not for the caller.
    Internal,
    /// The service is unavailable right now; retrying may help.
    Unavailable,
    /// Unrecoverable data loss or corruption.
    DataLoss,
    /// The request lacks valid authentication credentials.
    Unauthenticated,
}

impl Status {
    /// Every status, in gRPC code order.
    pub const ALL: [Status; 17] = [
        Status::Ok,
        Status::Cancelled,
        Status::Unknown,
        Status::InvalidArgument,
        Status::DeadlineExceeded,
        Status::NotFound,
        Status::AlreadyExists,
        Status::PermissionDenied,
        Status::ResourceExhausted,
        Status::FailedPrecondition,
        Status::Aborted,
        Status::OutOfRange,
        Status::Unimplemented,
        Status::Internal,
        Status::Unavailable,
        Status::DataLoss,
        Status::Unauthenticated,
    ];

    /// The wire name, e.g. `"DEADLINE_EXCEEDED"`.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Cancelled => "CANCELLED",
            Status::Unknown => "UNKNOWN",
            Status::InvalidArgument => "INVALID_ARGUMENT",
            Status::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Status::NotFound => "NOT_FOUND",
            Status::AlreadyExists => "ALREADY_EXISTS",
            Status::PermissionDenied => "PERMISSION_DENIED",
            Status::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Status::FailedPrecondition => "FAILED_PRECONDITION",
            Status::Aborted => "ABORTED",
            Status::OutOfRange => "OUT_OF_RANGE",
            Status::Unimplemented => "UNIMPLEMENTED",
            Status::Internal => "INTERNAL",
            Status::Unavailable => "UNAVAILABLE",
            Status::DataLoss => "DATA_LOSS",
            Status::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// The HTTP status code Genkit servers answer with.
    pub const fn http_code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::Cancelled => 499,
            Status::Unknown | Status::Internal | Status::DataLoss => 500,
            Status::InvalidArgument | Status::FailedPrecondition | Status::OutOfRange => 400,
            Status::DeadlineExceeded => 504,
            Status::NotFound => 404,
            Status::AlreadyExists | Status::Aborted => 409,
            Status::PermissionDenied => 403,
            Status::ResourceExhausted => 429,
            Status::Unimplemented => 501,
            Status::Unavailable => 503,
            Status::Unauthenticated => 401,
        }
    }

    /// The gRPC code, as Genkit's reflection API reports it.
    pub const fn grpc_code(self) -> u8 {
        self as u8
    }

    /// Parses a wire name such as `"NOT_FOUND"`.
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_genkit_table() {
        let table: Vec<(&str, u16, u8)> = Status::ALL
            .iter()
            .map(|s| (s.name(), s.http_code(), s.grpc_code()))
            .collect();
        assert_eq!(
            table,
            [
                ("OK", 200, 0),
                ("CANCELLED", 499, 1),
                ("UNKNOWN", 500, 2),
                ("INVALID_ARGUMENT", 400, 3),
                ("DEADLINE_EXCEEDED", 504, 4),
                ("NOT_FOUND", 404, 5),
                ("ALREADY_EXISTS", 409, 6),
                ("PERMISSION_DENIED", 403, 7),
                ("RESOURCE_EXHAUSTED", 429, 8),
                ("FAILED_PRECONDITION", 400, 9),
                ("ABORTED", 409, 10),
                ("OUT_OF_RANGE", 400, 11),
                ("UNIMPLEMENTED", 501, 12),
                ("INTERNAL", 500, 13),
                ("UNAVAILABLE", 503, 14),
                ("DATA_LOSS", 500, 15),
                ("UNAUTHENTICATED", 401, 16),
            ]
        );
    }

    #[test]
    fn names_round_trip_through_serde_and_from_name() {
        for s in Status::ALL {
            let json = serde_json::to_value(s).expect("status serializes");
            assert_eq!(json, serde_json::Value::String(s.name().to_owned()));
            assert_eq!(Status::from_name(s.name()), Some(s));
        }
        assert_eq!(Status::from_name("NOPE"), None);
    }
}
