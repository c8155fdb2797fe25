//! The quickstart's flows and tool, as a library so that the `tools-agent` and `client`
//! examples can reuse them: `ragQuery`, `ragQueryStream` and the `searchDocs` tool, and the
//! documents it searches ([`library`]).
//!
//! The repository's README follows; its example compiles as this crate's doc test.
#![doc = include_str!("../../../README.md")]

pub mod docs;
pub mod folder;
#[cfg(feature = "local")]
pub mod index;
pub mod library;
pub mod rag;
