//! What a [`Model`](super::Model) answers: one message, token usage and why it stopped.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

use super::message::{Message, ToolRequest};

/// One model turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResponse {
    /// The model's message (text, tool requests, ...).
    pub message: Message,
    /// Tokens used.
    pub usage: Usage,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// The model that answered, as a catalog reference (`"openai/gpt-4o-mini"`).
    #[serde(default)]
    pub model: String,
}

/// Token counts.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Tokens read (prompt, history, tool results).
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
}

/// Why a model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The output token limit.
    Length,
    /// The model asked for tools.
    ToolCalls,
    /// A safety filter, a refusal or a block.
    Blocked,
    /// Any other provider reason, as the provider spelled it.
    Other(String),
}

impl GenerateResponse {
    /// The reply's text.
    pub fn text(&self) -> String {
        self.message.text()
    }

    /// The tool requests of the reply.
    pub fn tool_requests(&self) -> Vec<&ToolRequest> {
        self.message.tool_requests().collect()
    }
}

impl Usage {
    /// Input plus output tokens.
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, other: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens + other.input_tokens,
            output_tokens: self.output_tokens + other.output_tokens,
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        *self = *self + other;
    }
}
