//! The quickstart's flows and tool, as a library so that the `tools-agent` and `client`
//! examples can reuse them: `ragQuery`, `ragQueryStream` and the `searchDocs` tool.

pub mod docs;
pub mod rag;
