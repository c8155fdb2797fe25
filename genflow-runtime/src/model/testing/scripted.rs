//! A model that plays back scripted replies and records what it was asked: for tests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream;
use serde_json::Value;

use super::answer;
use crate::model::message::{Message, Part, Role, ToolRequest};
use crate::model::request::GenerateRequest;
use crate::model::response::{FinishReason, GenerateResponse};
use crate::model::stream::{ModelDelta, ModelStream, replay};
use crate::model::{Model, ModelInfo};
use crate::{FlowError, Status};

/// One scripted turn of a [`ScriptedModel`].
#[derive(Clone, Debug)]
pub enum ScriptedTurn {
    /// A whole reply.
    Reply(GenerateResponse),
    /// A raw stream (possibly cut off: without a finish delta).
    Deltas(Vec<ModelDelta>),
    /// A failure.
    Fail(Status, String),
}

/// Plays back [`ScriptedTurn`]s in order and records every request. Clones share the script
/// and the record. Running out of turns is a `FAILED_PRECONDITION` error.
///
/// ```
/// use genflow_runtime::model::testing::ScriptedModel;
/// use serde_json::json;
///
/// let model = ScriptedModel::new("scripted")
///     .tool_request("search_db", json!({"query": "red"}))
///     .text("Found red.");
/// assert_eq!(model.requests().len(), 0);
/// ```
#[derive(Clone)]
pub struct ScriptedModel {
    info: ModelInfo,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    script: VecDeque<ScriptedTurn>,
    requests: Vec<GenerateRequest>,
}

impl ScriptedModel {
    /// An empty script for the model `local/<id>`.
    pub fn new(id: &str) -> Self {
        ScriptedModel {
            info: ModelInfo::local(id),
            state: Arc::default(),
        }
    }

    /// Adds a turn.
    #[must_use]
    pub fn then(self, turn: ScriptedTurn) -> Self {
        self.lock().script.push_back(turn);
        self
    }

    /// Adds a text reply.
    #[must_use]
    pub fn text(self, text: &str) -> Self {
        let response = answer(&self.info, &GenerateRequest::default(), text.to_owned());
        self.then(ScriptedTurn::Reply(response))
    }

    /// Adds a turn requesting one tool run.
    #[must_use]
    pub fn tool_request(self, name: &str, input: Value) -> Self {
        self.tool_requests(vec![(name, input)])
    }

    /// Adds a turn requesting several tool runs at once.
    #[must_use]
    pub fn tool_requests(self, requests: Vec<(&str, Value)>) -> Self {
        let parts = requests
            .into_iter()
            .enumerate()
            .map(|(i, (name, input))| {
                Part::ToolRequest(ToolRequest {
                    id: Some(format!("scripted_call_{i}")),
                    name: name.to_owned(),
                    input,
                    metadata: None,
                })
            })
            .collect();
        let mut response = answer(&self.info, &GenerateRequest::default(), String::new());
        response.message = Message::new(Role::Model, parts);
        response.finish_reason = FinishReason::ToolCalls;
        self.then(ScriptedTurn::Reply(response))
    }

    /// Adds a failing turn.
    #[must_use]
    pub fn fail(self, status: Status, message: &str) -> Self {
        self.then(ScriptedTurn::Fail(status, message.to_owned()))
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<GenerateRequest> {
        self.lock().requests.clone()
    }

    /// How many scripted turns are left.
    pub fn remaining(&self) -> usize {
        self.lock().script.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Model for ScriptedModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn stream(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>> {
        let turn = {
            let mut state = self.lock();
            state.requests.push(request);
            state.script.pop_front()
        };
        let name = self.info.name.clone();
        Box::pin(async move {
            match turn {
                Some(ScriptedTurn::Reply(mut response)) => {
                    response.model = name;
                    Ok(replay(response))
                }
                Some(ScriptedTurn::Deltas(deltas)) => {
                    Ok(stream::iter(deltas.into_iter().map(Ok)).boxed())
                }
                Some(ScriptedTurn::Fail(status, message)) => Err(FlowError::new(status, message)),
                None => Err(FlowError::new(
                    Status::FailedPrecondition,
                    format!("the scripted model '{name}' has no more replies"),
                )),
            }
        })
    }
}
