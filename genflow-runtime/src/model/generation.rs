//! What a `generate` returns: the last reply, the whole conversation and the totals.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::message::{Message, ToolRequest};
use super::response::{FinishReason, GenerateResponse, Usage};

/// The result of a `generate`: the last reply, the whole conversation and the totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generation {
    /// The last model reply (its `usage` is that call's alone).
    pub response: GenerateResponse,
    /// The conversation: the request's messages, every model reply and tool result.
    pub messages: Vec<Message>,
    /// Tokens used by every model call of this generate.
    pub usage: Usage,
    /// How many times the model was called.
    pub turns: u32,
    /// The validated structured output, when an output schema was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

/// A typed `generate` result.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated<T> {
    /// The validated, decoded output.
    pub output: T,
    /// Everything else.
    pub generation: Generation,
}

impl Generation {
    /// The last reply's text.
    pub fn text(&self) -> String {
        self.response.text()
    }

    /// Why the model stopped.
    pub fn finish_reason(&self) -> &FinishReason {
        &self.response.finish_reason
    }

    /// Tool requests of the last reply: set when tool requests are returned to the caller
    /// ([`Generate::return_tool_requests`](super::Generate::return_tool_requests)).
    pub fn tool_requests(&self) -> Vec<&ToolRequest> {
        self.response.tool_requests()
    }
}
