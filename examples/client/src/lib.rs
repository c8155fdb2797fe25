//! The typed client: the flow handles of the quickstart give compile-time checked calls over
//! HTTP — the input type, the output type and the chunk type come from the flow's definition.

use futures::StreamExt;
use genflow_runtime::client::{ClientError, FlowClient, StreamEvent};
use quickstart::rag::{QueryInput, QueryOutput, RagQueryFlow, RagQueryStreamFlow};

/// What the demo got back.
#[derive(Debug)]
pub struct Demo {
    /// The plain call's output.
    pub plain: QueryOutput,
    /// The chunks of the streaming call, in order.
    pub chunks: Vec<String>,
    /// The streaming call's output.
    pub streamed: QueryOutput,
}

/// Calls `ragQuery` and then `ragQueryStream` on the service at `base_url`.
pub async fn demo(base_url: &str, question: &str) -> Result<Demo, ClientError> {
    let client = FlowClient::new(base_url);
    let input = || QueryInput {
        question: question.to_owned(),
        context: Vec::new(),
    };
    let plain = client.run::<RagQueryFlow>(input()).await?;

    let mut stream = client.stream::<RagQueryStreamFlow>(input()).await?;
    let mut chunks = Vec::new();
    let mut streamed = None;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Chunk(text) => chunks.push(text),
            StreamEvent::Output(output) => streamed = Some(output),
        }
    }
    let streamed = streamed.ok_or(ClientError::Incomplete)?;
    Ok(Demo {
        plain,
        chunks,
        streamed,
    })
}
