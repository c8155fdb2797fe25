//! Why a registry could not be built.

use crate::{ActionKind, SourceLocation};

/// Why a registry could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two different actions share a kind and name.
    #[error(
        "duplicate {kind} name '{name}': defined at {first} and at {second}; give one of them another `name = \"...\"`"
    )]
    DuplicateName {
        /// The kind.
        kind: ActionKind,
        /// The shared name.
        name: String,
        /// Where the first definition is.
        first: SourceLocation,
        /// Where the second definition is.
        second: SourceLocation,
    },
    /// An action takes `State<T>` but no `T` was provided.
    #[error(
        "{kind} '{name}' (at {location}) takes `State<{type_name}>`, but no `{type_name}` was provided; call `.state(...)` on the registry builder"
    )]
    MissingState {
        /// The kind.
        kind: ActionKind,
        /// The action's name.
        name: String,
        /// Where it is defined.
        location: SourceLocation,
        /// The missing state type.
        type_name: &'static str,
    },
    /// An input schema does not compile into a validator.
    #[error("{kind} '{name}' has an input schema that does not compile: {reason}")]
    InvalidSchema {
        /// The kind.
        kind: ActionKind,
        /// The action's name.
        name: String,
        /// The validator's complaint.
        reason: String,
    },
}
