//! [`Vocabulary`]: the tokenizer of a GGUF model (from its metadata, or `tokenizer.json` next to
//! the file), each token's bytes, and the token trie llguidance masks with.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use llguidance::toktrie::{TokEnv, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use tokenizers::Tokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;

use super::error::LocalModelError;

/// Tokens that end a turn in the common chat templates, besides the GGUF's EOS token.
const END_OF_TURN: &[&str] = &["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>"];

/// A model's tokenizer and token bytes.
pub(crate) struct Vocabulary {
    tokenizer: Tokenizer,
    /// Each token's text bytes; special tokens have none.
    text_bytes: Vec<Vec<u8>>,
    /// Tokens that end the reply.
    end_tokens: Vec<TokenId>,
    env: TokEnv,
}

impl Vocabulary {
    /// The tokenizer of `content` (`tokenizer.json` next to `path` when there is one).
    pub(crate) fn load(path: &Path, content: &Content) -> Result<Self, LocalModelError> {
        let load_error = |reason: String| LocalModelError::Load {
            path: path.to_owned(),
            reason,
        };
        let json = path.with_file_name("tokenizer.json");
        let tokenizer = if json.is_file() {
            Tokenizer::from_file(&json)
                .map_err(|e| load_error(format!("{}: {e}", json.display())))?
        } else {
            let mut tokenizer =
                Tokenizer::from_gguf(content).map_err(|e| load_error(e.to_string()))?;
            if metadata_str(content, "tokenizer.ggml.pre") == Some("smollm") {
                // SmolLM's own tokenizer.json: digits one by one, no prefix space (candle's
                // GGUF default for unknown `pre` adds a prefix space).
                tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
                    Digits::new(true).into(),
                    ByteLevel::new(false, true, true).into(),
                ])));
            }
            tokenizer
        };
        let size = tokenizer.get_vocab_size(true);
        let specials: HashMap<u32, String> = tokenizer
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, t)| (id, t.content))
            .collect();
        let bytes_of = byte_decoder();
        let mut text_bytes = Vec::with_capacity(size);
        let mut trie_bytes = Vec::with_capacity(size);
        for id in 0..size as u32 {
            let token = tokenizer.id_to_token(id).unwrap_or_default();
            if let Some(special) = specials.get(&id) {
                text_bytes.push(Vec::new());
                let mut marked = vec![TokTrie::SPECIAL_TOKEN_MARKER];
                marked.extend_from_slice(special.as_bytes());
                trie_bytes.push(marked);
            } else {
                let bytes: Vec<u8> = token
                    .chars()
                    .map(|c| bytes_of.get(&c).copied())
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        load_error(format!("token {id} ({token:?}) is not byte-level BPE"))
                    })?;
                text_bytes.push(bytes.clone());
                trie_bytes.push(bytes);
            }
        }
        let eos = metadata_u32(content, "tokenizer.ggml.eos_token_id")
            .or_else(|| END_OF_TURN.iter().find_map(|t| tokenizer.token_to_id(t)))
            .ok_or_else(|| load_error("no end-of-sequence token".to_owned()))?;
        let mut end_tokens: Vec<TokenId> = END_OF_TURN
            .iter()
            .filter_map(|t| tokenizer.token_to_id(t))
            .collect();
        end_tokens.push(eos);
        let trie = TokTrie::from(&TokRxInfo::new(size as u32, eos), &trie_bytes);
        let env: TokEnv = Arc::new(TrieEnv {
            trie,
            tokenizer: tokenizer.clone(),
        });
        Ok(Vocabulary {
            tokenizer,
            text_bytes,
            end_tokens,
            env,
        })
    }

    /// The tokens of `text`, special tokens such as `<|im_start|>` recognized.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<TokenId>, LocalModelError> {
        self.tokenizer
            .encode_fast(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(super::error::generation)
    }

    /// The text bytes of `token` (none for special tokens).
    pub(crate) fn bytes(&self, token: TokenId) -> &[u8] {
        self.text_bytes
            .get(token as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// The token `id` as the vocabulary spells it (empty when unknown).
    pub(crate) fn token(&self, id: TokenId) -> String {
        self.tokenizer.id_to_token(id).unwrap_or_default()
    }

    /// Whether `token` ends the reply.
    pub(crate) fn is_end(&self, token: TokenId) -> bool {
        self.end_tokens.contains(&token)
    }

    /// The tokenizer environment llguidance compiles grammars against.
    pub(crate) fn env(&self) -> &TokEnv {
        &self.env
    }

    /// How many tokens the tokenizer knows (the model may have more logits).
    pub(crate) fn size(&self) -> usize {
        self.text_bytes.len()
    }
}

/// A metadata string of the GGUF file.
pub(crate) fn metadata_str<'a>(content: &'a Content, key: &str) -> Option<&'a str> {
    content
        .metadata
        .get(key)
        .and_then(|v| v.to_string().ok())
        .map(String::as_str)
}

/// A metadata integer of the GGUF file.
pub(crate) fn metadata_u32(content: &Content, key: &str) -> Option<u32> {
    content.metadata.get(key).and_then(|v| v.to_u32().ok())
}

/// GPT-2's byte-level alphabet read backwards: the byte each vocabulary character stands for.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut shifted = 0u32;
    (0..=255u8)
        .map(|b| {
            if printable(b) {
                (char::from(b), b)
            } else {
                shifted += 1;
                (char::from_u32(255 + shifted).unwrap_or('\u{FFFD}'), b)
            }
        })
        .collect()
}

/// llguidance's view of the tokenizer.
struct TrieEnv {
    trie: TokTrie,
    tokenizer: Tokenizer,
}

impl TokenizerEnv for TrieEnv {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        // Not UTF-8, or the tokenizer failed: the trie's greedy tokenization is still exact.
        std::str::from_utf8(s)
            .ok()
            .and_then(|text| self.tokenizer.encode_fast(text, false).ok())
            .map_or_else(|| self.trie.greedy_tokenize(s), |e| e.get_ids().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_decoder_covers_every_byte_once() {
        let decoder = byte_decoder();
        assert_eq!(decoder.len(), 256);
        assert_eq!(decoder[&'Ġ'], b' ');
        assert_eq!(decoder[&'Ċ'], b'\n');
        assert_eq!(decoder[&'a'], b'a');
        let mut bytes: Vec<u8> = decoder.values().copied().collect();
        bytes.sort_unstable();
        bytes.dedup();
        assert_eq!(bytes.len(), 256);
    }
}
