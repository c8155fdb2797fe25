//! The quickstart's flows and tool, as a library so that the `tools-agent` and `client`
//! examples can reuse them: `ragQuery`, `ragQueryStream` and the `searchDocs` tool.
//!
//! The repository's README follows; its example compiles as this crate's doc test.
#![doc = include_str!("../../../README.md")]

pub mod docs;
pub mod rag;
