//! `local/echo`: answers with the last user message's text. No network, no key.

use futures::future::BoxFuture;

use super::answer;
use crate::FlowError;
use crate::model::request::GenerateRequest;
use crate::model::stream::{ModelStream, replay};
use crate::model::{Model, ModelInfo};

/// Echoes the last user text (prefixed with the system instructions, if any). With an output
/// schema it echoes the text as it is, so pass JSON to test structured output.
pub struct EchoModel {
    info: ModelInfo,
}

impl Default for EchoModel {
    fn default() -> Self {
        EchoModel {
            info: ModelInfo::local("echo"),
        }
    }
}

impl Model for EchoModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn stream(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>> {
        let text = request.last_user_text().unwrap_or_default();
        let reply = match (&request.system, &request.output) {
            (Some(system), None) => format!("{system}\n{text}"),
            _ => text,
        };
        let response = answer(&self.info, &request, reply);
        Box::pin(async move { Ok(replay(response)) })
    }
}
