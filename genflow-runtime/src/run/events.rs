//! A running streaming flow seen as a stream of chunks followed by one result.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{DynAction, Invocation};
use crate::FlowError;
use crate::telemetry::SpanIds;

/// How many chunks may wait between a flow and a slow reader before the flow waits.
const CHUNK_BUFFER: usize = 32;

/// One event of a streaming run.
#[derive(Debug)]
pub enum FlowEvent {
    /// A chunk the flow sent.
    Chunk(Value),
    /// The terminal event: the output or the error. Always the last item.
    Done(Result<Value, FlowError>),
}

/// The events of one streaming run: every chunk, then exactly one [`FlowEvent::Done`].
///
/// The flow runs as this stream is polled; dropping the stream cancels it.
pub struct FlowEvents {
    ids: Option<SpanIds>,
    chunks: mpsc::Receiver<Value>,
    run: Option<BoxFuture<'static, Result<Value, FlowError>>>,
    result: Option<Result<Value, FlowError>>,
}

impl FlowEvents {
    /// Starts `invocation` of `action` with its chunks sent to the stream.
    pub(crate) fn start(action: &dyn DynAction, invocation: Invocation) -> Self {
        let (tx, rx) = mpsc::channel(CHUNK_BUFFER);
        let run = action.start(Invocation {
            chunks: Some(tx),
            ..invocation
        });
        FlowEvents {
            ids: run.ids,
            chunks: rx,
            run: Some(run.future),
            result: None,
        }
    }

    /// The run's trace and span ids, when telemetry is installed.
    pub fn ids(&self) -> Option<SpanIds> {
        self.ids
    }
}

impl Stream for FlowEvents {
    type Item = FlowEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<FlowEvent>> {
        let this = &mut *self;
        if let Some(run) = this.run.as_mut() {
            if let Poll::Ready(Some(chunk)) = this.chunks.poll_recv(cx) {
                return Poll::Ready(Some(FlowEvent::Chunk(chunk)));
            }
            match run.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => {
                    this.run = None;
                    this.result = Some(result);
                }
            }
        }
        // The run is over: hand out what it sent before finishing, then the result.
        if let Ok(chunk) = this.chunks.try_recv() {
            return Poll::Ready(Some(FlowEvent::Chunk(chunk)));
        }
        Poll::Ready(this.result.take().map(FlowEvent::Done))
    }
}
