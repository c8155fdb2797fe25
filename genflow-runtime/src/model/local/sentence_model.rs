//! [`SentenceModel`]: a BERT sentence-embedding model as sentence-transformers lays it out
//! (config.json, tokenizer.json, model.safetensors) in memory. Texts become mean-pooled,
//! unit-length vectors, several per forward pass.

use std::path::Path;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use serde::Deserialize;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::error::{LocalModelError, embedding};

/// The files a sentence-embedding model's folder must hold.
pub(crate) const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Texts per forward pass.
const BATCH: usize = 32;

/// sentence-transformers' settings file, optional: it names the longest input.
#[derive(Deserialize)]
struct SentenceConfig {
    max_seq_length: usize,
}

/// Weights and tokenizer of one model folder.
pub(crate) struct SentenceModel {
    bert: BertModel,
    tokenizer: Tokenizer,
    pad_id: u32,
}

impl SentenceModel {
    /// Reads the model of `folder`. Inputs are cut to sentence-transformers' `max_seq_length`
    /// (`sentence_bert_config.json`), at most the model's `max_position_embeddings`.
    pub(crate) fn load(folder: &Path) -> Result<Self, LocalModelError> {
        let load_error = |file: &str, reason: String| LocalModelError::Load {
            path: folder.join(file),
            reason,
        };
        let read = |file: &str| {
            std::fs::read(folder.join(file)).map_err(|e| load_error(file, e.to_string()))
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| load_error("config.json", e.to_string()))?;
        let mut max_tokens = config.max_position_embeddings;
        let sentence_config = folder.join("sentence_bert_config.json");
        if sentence_config.is_file() {
            let settings: SentenceConfig =
                serde_json::from_slice(&read("sentence_bert_config.json")?)
                    .map_err(|e| load_error("sentence_bert_config.json", e.to_string()))?;
            max_tokens = max_tokens.min(settings.max_seq_length);
        }
        let mut tokenizer = Tokenizer::from_file(folder.join("tokenizer.json"))
            .map_err(|e| load_error("tokenizer.json", e.to_string()))?;
        tokenizer
            .with_padding(None)
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|e| load_error("tokenizer.json", e.to_string()))?;
        let weights =
            VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DTYPE, &Device::Cpu)
                .map_err(|e| load_error("model.safetensors", e.to_string()))?;
        let bert = BertModel::load(weights, &config)
            .map_err(|e| load_error("model.safetensors", e.to_string()))?;
        let pad_id = u32::try_from(config.pad_token_id)
            .map_err(|e| load_error("config.json", e.to_string()))?;
        Ok(SentenceModel {
            bert,
            tokenizer,
            pad_id,
        })
    }

    /// One unit vector per text, in order. Texts of similar length share a forward pass, so
    /// little of it is padding.
    pub(crate) fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LocalModelError> {
        let encodings = texts
            .iter()
            .map(|text| self.tokenizer.encode(text.as_str(), true))
            .collect::<Result<Vec<Encoding>, _>>()
            .map_err(embedding)?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut vectors = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let encoded: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            let pooled = self.forward(&encoded).map_err(embedding)?;
            for (&i, vector) in batch.iter().zip(pooled) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    /// The mean of each text's token vectors over its attention mask, at unit length.
    fn forward(&self, batch: &[&Encoding]) -> candle_core::Result<Vec<Vec<f32>>> {
        let len = batch.iter().map(|e| e.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * len);
        let mut mask = Vec::with_capacity(batch.len() * len);
        for encoding in batch {
            ids.extend_from_slice(encoding.get_ids());
            ids.resize(ids.len() + len - encoding.len(), self.pad_id);
            mask.extend_from_slice(encoding.get_attention_mask());
            mask.resize(mask.len() + len - encoding.len(), 0);
        }
        let ids = Tensor::from_vec(ids, (batch.len(), len), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (batch.len(), len), &Device::Cpu)?;
        let hidden = self.bert.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
        let mask = mask.to_dtype(DTYPE)?.unsqueeze(2)?;
        let mean = hidden
            .broadcast_mul(&mask)?
            .sum(1)?
            .broadcast_div(&mask.sum(1)?)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        mean.broadcast_div(&norms)?.to_vec2()
    }
}
