//! Streaming `generate`: typed chunks as they come, then the final result.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::FlowError;
use crate::model::message::{ToolRequest, ToolResponse};

/// How many chunks may wait for a slow reader before generation waits.
pub(crate) const CHUNK_BUFFER: usize = 64;

/// One event of a streaming `generate`. A streaming flow can use it as its chunk type
/// (`#[flow(stream = GenerateChunk)]`) and forward chunks with `ctx.send_chunk(chunk)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum GenerateChunk {
    /// More reply text.
    Text {
        /// Which model call of the tool loop (from 1).
        turn: u32,
        /// The new text.
        text: String,
    },
    /// The model asked for a tool.
    ToolRequest {
        /// Which model call of the tool loop.
        turn: u32,
        /// The request.
        request: ToolRequest,
    },
    /// A tool finished (or failed; the failure goes back to the model).
    ToolResponse {
        /// Which model call of the tool loop.
        turn: u32,
        /// The result.
        response: ToolResponse,
    },
    /// The structured output read so far (not yet validated: fields may be missing).
    PartialOutput {
        /// Which model call of the tool loop.
        turn: u32,
        /// The partial value.
        output: Value,
    },
}

impl GenerateChunk {
    /// The text of a [`GenerateChunk::Text`].
    pub fn text(&self) -> Option<&str> {
        match self {
            GenerateChunk::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// A running `generate`: a [`Stream`] of [`GenerateChunk`]s, then [`GenerateStream::response`]
/// for the result (or the error that ended the stream early).
///
/// Generation runs as the stream is polled; dropping it cancels generation (model calls and
/// tools alike).
pub struct GenerateStream<R> {
    chunks: mpsc::Receiver<GenerateChunk>,
    run: Option<BoxFuture<'static, Result<R, FlowError>>>,
    result: Option<Result<R, FlowError>>,
}

impl<R: Send + 'static> GenerateStream<R> {
    pub(crate) fn new(
        chunks: mpsc::Receiver<GenerateChunk>,
        run: BoxFuture<'static, Result<R, FlowError>>,
    ) -> Self {
        GenerateStream {
            chunks,
            run: Some(run),
            result: None,
        }
    }

    /// Runs generation to the end (dropping chunks not read yet) and returns the result.
    pub async fn response(mut self) -> Result<R, FlowError> {
        while self.next().await.is_some() {}
        self.result.take().unwrap_or_else(|| {
            Err(FlowError::internal(
                "the generation result was already taken",
            ))
        })
    }
}

impl<R> Stream for GenerateStream<R> {
    type Item = GenerateChunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<GenerateChunk>> {
        let this = &mut *self;
        if let Some(run) = this.run.as_mut() {
            if let Poll::Ready(Some(chunk)) = this.chunks.poll_recv(cx) {
                return Poll::Ready(Some(chunk));
            }
            match run.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => {
                    this.run = None;
                    this.result = Some(result);
                }
            }
        }
        Poll::Ready(this.chunks.try_recv().ok())
    }
}

impl<R> Unpin for GenerateStream<R> {}
