//! OpenAI-compatible embeddings: `POST {base}/embeddings`.

use http::header::HeaderMap;
use serde::{Deserialize, Serialize};

use super::super::http_embedder::EmbedWire;
use super::super::http_model::encode;
use super::super::transport::Transport;
use crate::FlowError;
use crate::retrieval::EmbedPurpose;

/// The embeddings endpoint of an OpenAI-compatible server.
pub(super) struct OpenAiEmbedWire {
    pub(super) base_url: String,
    pub(super) key: Option<String>,
}

/// The request: texts as an array, vectors asked for as floats (the official SDK asks for
/// base64 unless told otherwise; floats are what every compatible server speaks).
#[derive(Serialize)]
struct EmbeddingsBody<'a> {
    model: &'a str,
    input: &'a [String],
    encoding_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
}

#[derive(Deserialize)]
struct EmbeddingsReply {
    data: Vec<Datum>,
}

#[derive(Deserialize)]
struct Datum {
    index: usize,
    embedding: Vec<f32>,
}

impl EmbedWire for OpenAiEmbedWire {
    const MAX_BATCH: usize = 2048;

    fn url(&self, _model: &str, _batch: bool) -> String {
        format!("{}/embeddings", self.base_url)
    }

    fn headers(&self) -> Result<HeaderMap, FlowError> {
        super::bearer(self.key.as_deref())
    }

    fn body(
        &self,
        model: &str,
        texts: &[String],
        _purpose: EmbedPurpose,
        dimensions: Option<u32>,
    ) -> Result<Vec<u8>, FlowError> {
        encode(&EmbeddingsBody {
            model,
            input: texts,
            encoding_format: "float",
            dimensions,
        })
    }

    fn reply(
        &self,
        body: &[u8],
        _batch: bool,
        transport: &Transport,
    ) -> Result<Vec<Vec<f32>>, FlowError> {
        let mut reply: EmbeddingsReply = transport.parse_reply(body)?;
        // `data` is in input order by `index`, which servers are not bound to sort by.
        reply.data.sort_by_key(|d| d.index);
        let in_order = reply.data.iter().enumerate().all(|(i, d)| d.index == i);
        if !in_order {
            return Err(transport.fail("the reply's embedding indexes are not 0..n".to_owned()));
        }
        Ok(reply.data.into_iter().map(|d| d.embedding).collect())
    }
}
