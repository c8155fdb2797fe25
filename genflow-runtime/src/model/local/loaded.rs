//! [`LoadedModel`]: a GGUF model in memory, and one reply's generation loop.

use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use tokio::sync::mpsc;

use super::chat_template::{ChatTemplate, chat_messages};
use super::constraint::{Constraint, Grammars};
use super::error::{LocalModelError, generation};
use super::sampler::Sampler;
use super::text_out::{Step, TextOut};
use super::vocabulary::{Vocabulary, metadata_str, metadata_u32};
use super::weights::Weights;
use crate::FlowError;
use crate::model::request::GenerateRequest;
use crate::model::response::FinishReason;
use crate::model::stream::ModelDelta;

/// The longest reply when the request sets no limit.
const DEFAULT_MAX_TOKENS: usize = 1024;

/// Where a reply's deltas go; closed when the caller dropped the stream.
pub(crate) type Deltas = mpsc::Sender<Result<ModelDelta, FlowError>>;

/// Weights, tokenizer, chat template and grammar compiler of one GGUF file.
pub(crate) struct LoadedModel {
    weights: Weights,
    context: usize,
    vocabulary: Vocabulary,
    template: ChatTemplate,
    grammars: Grammars,
}

/// How a reply ended: `finish` is `None` when its caller dropped it first.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Tokens generated.
    pub(crate) tokens: usize,
    /// Why it stopped, if it was not cancelled.
    pub(crate) finish: Option<FinishReason>,
}

/// A reply ready to generate: prompt tokens, grammar and token budget.
pub(crate) struct Prepared {
    prompt: Vec<u32>,
    constraint: Option<Constraint>,
    max_tokens: usize,
}

impl LoadedModel {
    /// Reads `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, LocalModelError> {
        let load_error = |reason: String| LocalModelError::Load {
            path: path.to_owned(),
            reason,
        };
        let mut file = File::open(path).map_err(|e| load_error(e.to_string()))?;
        let content = Content::read(&mut file).map_err(|e| load_error(e.to_string()))?;
        let vocabulary = Vocabulary::load(path, &content)?;
        let token = |key: &str| {
            metadata_u32(&content, key)
                .map(|id| vocabulary.token(id))
                .unwrap_or_default()
        };
        let template = ChatTemplate::new(
            metadata_str(&content, "tokenizer.chat_template"),
            token("tokenizer.ggml.bos_token_id"),
            token("tokenizer.ggml.eos_token_id"),
        )?;
        let grammars = Grammars::new(vocabulary.env())?;
        let (weights, context) = Weights::load(path, content, &mut file)?;
        Ok(LoadedModel {
            weights,
            context,
            vocabulary,
            template,
            grammars,
        })
    }

    /// Renders and tokenizes the prompt and compiles the output schema: every error a request
    /// can cause before the first token.
    pub(crate) fn prepare(&self, request: &GenerateRequest) -> Result<Prepared, LocalModelError> {
        let constraint = request
            .output
            .as_ref()
            .map(|output| self.grammars.constraint(output.schema.value()))
            .transpose()?;
        let prompt = self
            .vocabulary
            .encode(&self.template.render(&chat_messages(request))?)?;
        let room = self.context.saturating_sub(prompt.len());
        if room == 0 {
            return Err(LocalModelError::ContextExceeded {
                prompt: prompt.len(),
                context: self.context,
            });
        }
        let wanted = request
            .config
            .max_output_tokens
            .map_or(DEFAULT_MAX_TOKENS, |m| m as usize);
        Ok(Prepared {
            prompt,
            constraint,
            max_tokens: wanted.min(room),
        })
    }

    /// Generates the reply into `deltas`, token by token, until an end token, a stop sequence,
    /// the end of the grammar or the token budget. Stops early once the caller dropped the
    /// stream (checked before each token).
    pub(crate) fn generate(
        &mut self,
        request: &GenerateRequest,
        prepared: Prepared,
        deltas: &Deltas,
    ) -> Result<Outcome, LocalModelError> {
        let Prepared {
            prompt,
            mut constraint,
            max_tokens,
        } = prepared;
        let send = |delta: ModelDelta| deltas.blocking_send(Ok(delta)).is_ok();
        let mut sampler = Sampler::new(&request.config);
        // A stop sequence would cut a constrained value short: the grammar decides the end.
        let stops: &[String] = match constraint {
            Some(_) => &[],
            None => &request.config.stop,
        };
        let mut text = TextOut::new(stops);
        let mut logits = self.weights.next_logits(&prompt, 0)?;
        let mut produced = 0;
        let cancelled = |tokens| {
            Ok(Outcome {
                tokens,
                finish: None,
            })
        };
        let finish = loop {
            if deltas.is_closed() {
                return cancelled(produced);
            }
            if produced == max_tokens {
                break FinishReason::Length;
            }
            let mask = constraint.as_mut().map(Constraint::allowed).transpose()?;
            let size = self.vocabulary.size();
            let token = sampler
                .sample(&logits, |i| {
                    i < size && mask.as_ref().is_none_or(|m| m.is_allowed(i as u32))
                })
                .ok_or_else(|| generation("no token is allowed next"))?;
            produced += 1;
            if self.vocabulary.is_end(token) {
                break FinishReason::Stop;
            }
            if let Some(constraint) = &mut constraint {
                constraint.consume(token)?;
            }
            match text.push(self.vocabulary.bytes(token)) {
                Step::Text(t) if t.is_empty() => {}
                Step::Text(t) => {
                    if !send(ModelDelta::Text(t)) {
                        return cancelled(produced);
                    }
                }
                Step::Stopped(t) => {
                    if !t.is_empty() && !send(ModelDelta::Text(t)) {
                        return cancelled(produced);
                    }
                    break FinishReason::Stop;
                }
            }
            if constraint.as_ref().is_some_and(Constraint::is_finished) {
                break FinishReason::Stop;
            }
            logits = self
                .weights
                .next_logits(&[token], prompt.len() + produced - 1)?;
        };
        let rest = text.finish();
        let delivered = (rest.is_empty() || send(ModelDelta::Text(rest)))
            && send(ModelDelta::Usage {
                input_tokens: Some(prompt.len() as u64),
                output_tokens: Some(produced as u64),
            })
            && send(ModelDelta::Finish(finish.clone()));
        Ok(Outcome {
            tokens: produced,
            finish: delivered.then_some(finish),
        })
    }
}
