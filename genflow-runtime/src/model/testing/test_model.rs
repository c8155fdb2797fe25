//! `local/test`: a schema-aware stand-in for a real model (like pydantic-ai's `TestModel`).

use std::collections::HashSet;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::answer;
use super::sample::sample;
use crate::FlowError;
use crate::model::message::{Message, Part, Role, ToolRequest};
use crate::model::request::{GenerateRequest, ToolChoice};
use crate::model::response::{FinishReason, GenerateResponse};
use crate::model::stream::{ModelStream, replay};
use crate::model::{Model, ModelInfo};

/// First calls every offered tool it has not called yet, at once, with arguments made up from
/// each tool's input schema. Then answers: with the output schema, a value valid for it;
/// otherwise the tool results as JSON (`{"tool": output, ...}`), or
/// `"success (no tool calls)"`.
pub struct TestModel {
    info: ModelInfo,
}

impl Default for TestModel {
    fn default() -> Self {
        TestModel {
            info: ModelInfo::local("test"),
        }
    }
}

impl TestModel {
    fn reply(&self, request: &GenerateRequest) -> GenerateResponse {
        let called: HashSet<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::Model)
            .flat_map(Message::tool_requests)
            .map(|r| r.name.as_str())
            .collect();
        let to_call: Vec<Part> = request
            .tools
            .iter()
            .filter(|t| {
                request.tool_choice != ToolChoice::None && !called.contains(t.name.as_str())
            })
            .enumerate()
            .map(|(i, t)| {
                Part::ToolRequest(ToolRequest {
                    id: Some(format!("local_call_{}_{i}", called.len())),
                    name: t.name.clone(),
                    input: sample(t.input_schema.value()),
                    metadata: None,
                })
            })
            .collect();
        if !to_call.is_empty() {
            let mut response = answer(&self.info, request, String::new());
            response.message = Message::new(Role::Model, to_call);
            response.finish_reason = FinishReason::ToolCalls;
            return response;
        }
        let text = match &request.output {
            Some(output) => sample(output.schema.value()).to_string(),
            None => {
                let results: Map<String, Value> = request
                    .messages
                    .iter()
                    .flat_map(Message::tool_responses)
                    .map(|r| (r.name.clone(), r.output.clone()))
                    .collect();
                if results.is_empty() {
                    "success (no tool calls)".to_owned()
                } else {
                    Value::Object(results).to_string()
                }
            }
        };
        answer(&self.info, request, text)
    }
}

impl Model for TestModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn stream(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>> {
        let response = self.reply(&request);
        Box::pin(async move { Ok(replay(response)) })
    }
}
