//! [`FlowStream`]: the typed events of a streaming call.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ClientError;

/// One event of a streaming call.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent<C, O> {
    /// A chunk the flow sent.
    Chunk(C),
    /// The flow's output: the last event.
    Output(O),
}

type Frames = Pin<Box<dyn Stream<Item = Result<String, ClientError>> + Send>>;

/// The events of a streaming call: [`StreamEvent::Chunk`]s, then one [`StreamEvent::Output`] or
/// one error, then the end. A stream that closes without a result yields
/// [`ClientError::Incomplete`].
///
/// Dropping it closes the connection, which cancels the flow on a genflow server.
#[must_use = "a stream does nothing unless polled"]
pub struct FlowStream<C, O> {
    frames: Frames,
    done: bool,
    types: PhantomData<fn() -> (C, O)>,
}

impl<C: DeserializeOwned, O: DeserializeOwned> FlowStream<C, O> {
    pub(crate) fn new(frames: Frames) -> Self {
        FlowStream {
            frames,
            done: false,
            types: PhantomData,
        }
    }

    /// Skips the chunks and returns the output.
    pub async fn output(mut self) -> Result<O, ClientError> {
        while let Some(event) = self.next().await {
            if let StreamEvent::Output(output) = event? {
                return Ok(output);
            }
        }
        Err(ClientError::Incomplete)
    }

    /// The event of one frame; `None` for a frame that carries nothing known.
    fn event(frame: &str) -> Option<Result<StreamEvent<C, O>, ClientError>> {
        let frame = frame.trim();
        if frame.is_empty() {
            return None;
        }
        let mut object: Map<String, Value> = match serde_json::from_str(frame) {
            Ok(object) => object,
            Err(e) => return Some(Err(ClientError::decode("stream frame")(e))),
        };
        if let Some(chunk) = object.remove("message") {
            return Some(
                serde_json::from_value(chunk)
                    .map(StreamEvent::Chunk)
                    .map_err(ClientError::decode("stream chunk")),
            );
        }
        if let Some(result) = object.remove("result") {
            return Some(
                serde_json::from_value(result)
                    .map(StreamEvent::Output)
                    .map_err(ClientError::decode("flow output")),
            );
        }
        object
            .contains_key("error")
            .then(|| Err(ClientError::from_server(frame.as_bytes(), None)))
    }
}

impl<C: DeserializeOwned, O: DeserializeOwned> Stream for FlowStream<C, O> {
    type Item = Result<StreamEvent<C, O>, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        while !self.done {
            let event = match self.frames.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => match Self::event(&frame) {
                    Some(event) => event,
                    None => continue,
                },
                Poll::Ready(Some(Err(error))) => Err(error),
                Poll::Ready(None) => Err(ClientError::Incomplete),
            };
            self.done = !matches!(event, Ok(StreamEvent::Chunk(_)));
            return Poll::Ready(Some(event));
        }
        Poll::Ready(None)
    }
}

impl<C, O> std::fmt::Debug for FlowStream<C, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
