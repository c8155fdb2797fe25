//! Gemini API embeddings: `models/{model}:embedContent` for one text,
//! `models/{model}:batchEmbedContents` for several.

use http::header::HeaderMap;
use serde::{Deserialize, Serialize};

use super::super::http_embedder::EmbedWire;
use super::super::http_model::encode;
use super::super::transport::Transport;
use crate::FlowError;
use crate::retrieval::EmbedPurpose;

/// The embedding endpoints of the Gemini API.
pub(super) struct GeminiEmbedWire {
    pub(super) base_url: String,
    pub(super) key: String,
}

/// One `EmbedContentRequest`: the body of `embedContent`, an item of `batchEmbedContents`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbedContent<'a> {
    model: String,
    content: Content<'a>,
    task_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimensionality: Option<u32>,
}

#[derive(Serialize)]
struct Content<'a> {
    parts: [Text<'a>; 1],
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Batch<'a> {
    requests: Vec<EmbedContent<'a>>,
}

#[derive(Deserialize)]
struct Single {
    embedding: Values,
}

#[derive(Deserialize)]
struct Several {
    embeddings: Vec<Values>,
}

#[derive(Deserialize)]
struct Values {
    values: Vec<f32>,
}

impl EmbedWire for GeminiEmbedWire {
    const MAX_BATCH: usize = 100;

    fn url(&self, model: &str, batch: bool) -> String {
        let method = if batch {
            "batchEmbedContents"
        } else {
            "embedContent"
        };
        format!("{}/models/{model}:{method}", self.base_url)
    }

    fn headers(&self) -> Result<HeaderMap, FlowError> {
        super::api_key_header(&self.key)
    }

    fn body(
        &self,
        model: &str,
        texts: &[String],
        purpose: EmbedPurpose,
        dimensions: Option<u32>,
    ) -> Result<Vec<u8>, FlowError> {
        let task_type = match purpose {
            EmbedPurpose::Document => "RETRIEVAL_DOCUMENT",
            EmbedPurpose::Query => "RETRIEVAL_QUERY",
        };
        let mut requests: Vec<EmbedContent<'_>> = texts
            .iter()
            .map(|text| EmbedContent {
                model: format!("models/{model}"),
                content: Content {
                    parts: [Text { text }],
                },
                task_type,
                output_dimensionality: dimensions,
            })
            .collect();
        match requests.len() {
            1 => encode(&requests.remove(0)),
            _ => encode(&Batch { requests }),
        }
    }

    fn reply(
        &self,
        body: &[u8],
        batch: bool,
        transport: &Transport,
    ) -> Result<Vec<Vec<f32>>, FlowError> {
        if batch {
            let reply: Several = transport.parse_reply(body)?;
            Ok(reply.embeddings.into_iter().map(|e| e.values).collect())
        } else {
            let reply: Single = transport.parse_reply(body)?;
            Ok(vec![reply.embedding.values])
        }
    }
}
