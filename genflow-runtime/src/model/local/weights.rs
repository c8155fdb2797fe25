//! [`Weights`]: a GGUF file's quantized transformer, run by candle on the CPU.

use std::io::{Cursor, Read, Seek};
use std::path::Path;

use candle_core::quantized::gguf_file::{self, Content};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_llama, quantized_qwen2};

use super::error::{LocalModelError, generation};
use super::vocabulary::{metadata_str, metadata_u32};

/// The architectures candle runs from GGUF here.
pub(crate) enum Weights {
    /// Llama and its kin (SmolLM2, TinyLlama, Mistral).
    Llama(quantized_llama::ModelWeights),
    /// Qwen2 and Qwen2.5.
    Qwen2(quantized_qwen2::ModelWeights),
}

impl Weights {
    /// Reads the tensors of `content` from `file`, with the context length they support.
    /// Tensors in a quantization candle multiplies without SIMD are converted to Q8_0 first.
    pub(crate) fn load<R: Read + Seek>(
        path: &Path,
        content: Content,
        file: &mut R,
    ) -> Result<(Weights, usize), LocalModelError> {
        let load_error = |reason: String| LocalModelError::Load {
            path: path.to_owned(),
            reason,
        };
        let architecture = metadata_str(&content, "general.architecture")
            .unwrap_or_default()
            .to_owned();
        if !matches!(architecture.as_str(), "llama" | "qwen2") {
            return Err(load_error(format!(
                "architecture '{architecture}' is not supported (llama and qwen2 are)"
            )));
        }
        let context = metadata_u32(&content, &format!("{architecture}.context_length"))
            .map_or(quantized_llama::MAX_SEQ_LEN, |c| c as usize);
        let loaded = match requantized(&content, file) {
            Ok(Some(mut cursor)) => Content::read(&mut cursor)
                .and_then(|content| from_gguf(&architecture, content, &mut cursor)),
            Ok(None) => from_gguf(&architecture, content, file),
            Err(e) => Err(e),
        };
        loaded
            .map(|weights| {
                let context = match weights {
                    // candle's llama precomputes rotary embeddings for MAX_SEQ_LEN positions.
                    Weights::Llama(_) => context.min(quantized_llama::MAX_SEQ_LEN),
                    Weights::Qwen2(_) => context,
                };
                (weights, context)
            })
            .map_err(|e| load_error(e.to_string()))
    }

    /// The logits of the token after `tokens`, which sit at `position` onwards (0 starts a new
    /// reply and drops the cache).
    pub(crate) fn next_logits(
        &mut self,
        tokens: &[u32],
        position: usize,
    ) -> Result<Vec<f32>, LocalModelError> {
        let input = Tensor::new(tokens, &Device::Cpu)
            .and_then(|t| t.unsqueeze(0))
            .map_err(generation)?;
        let logits = match self {
            Weights::Llama(w) => w.forward(&input, position),
            Weights::Qwen2(w) => w.forward(&input, position),
        };
        logits
            .and_then(|l| l.squeeze(0))
            .and_then(|l| l.to_dtype(candle_core::DType::F32))
            .and_then(|l| l.to_vec1::<f32>())
            .map_err(generation)
    }
}

/// The model of `architecture` (`llama` or `qwen2`) from `content`.
fn from_gguf<R: Read + Seek>(
    architecture: &str,
    content: Content,
    reader: &mut R,
) -> candle_core::Result<Weights> {
    let device = Device::Cpu;
    if architecture == "qwen2" {
        quantized_qwen2::ModelWeights::from_gguf(content, reader, &device).map(Weights::Qwen2)
    } else {
        quantized_llama::ModelWeights::from_gguf(content, reader, &device).map(Weights::Llama)
    }
}

/// Whether candle's CPU matmul for `dtype` is scalar: Q4_1, Q5_0 and Q5_1 have no SIMD kernel
/// (measured: the Q4_1 dot product took most of SmolLM2's forward pass).
fn is_slow(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

/// `content` as an in-memory GGUF file whose slow tensors are Q8_0 (twice the memory of
/// Q4_1, and a SIMD dot product; 8 bits per weight keep the 4- and 5-bit values closely), or
/// `None` when no tensor is slow.
fn requantized<R: Read + Seek>(
    content: &Content,
    file: &mut R,
) -> candle_core::Result<Option<Cursor<Vec<u8>>>> {
    if !content.tensor_infos.values().any(|t| is_slow(t.ggml_dtype)) {
        return Ok(None);
    }
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content.tensor(file, name, &Device::Cpu)?;
        let tensor = if is_slow(tensor.dtype()) {
            QTensor::quantize(&tensor.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut out = Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &tensors)?;
    out.set_position(0);
    Ok(Some(out))
}
