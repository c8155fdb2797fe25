//! [`LoadedModel`]: a GGUF model in memory, and one reply's generation loop.

use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use tokio::sync::mpsc;

use super::chat_template::{ChatTemplate, ToolPrompt, chat_messages};
use super::choice::Choice;
use super::choice_out::ChoiceOut;
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

/// A reply ready to generate: prompt tokens, grammar, sampler, token budget, and the decoder of
/// a reply that may call tools.
pub(crate) struct Prepared {
    prompt: Vec<u32>,
    constraint: Option<Constraint>,
    sampler: Sampler,
    max_tokens: usize,
    choice: Option<ChoiceOut>,
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

    /// Renders and tokenizes the prompt, compiles the reply's schema (the tools' and the
    /// answer's when tools are offered, else the output schema) and reads the sampling
    /// settings: every error a request can cause before the first token.
    pub(crate) fn prepare(&self, request: &GenerateRequest) -> Result<Prepared, LocalModelError> {
        let choice = Choice::of(request)?;
        let output = request.output.as_ref().map(|o| o.schema.value());
        let constraint = match &choice {
            Some(choice) => Some(self.grammars.constraint(&choice.schema(output))?),
            None => output.map(|s| self.grammars.constraint(s)).transpose()?,
        };
        let tools = ToolPrompt {
            choice: choice.as_ref(),
            in_template: self.template.takes_tools(),
        };
        let prompt = self.vocabulary.encode(
            &self
                .template
                .render(&chat_messages(request, tools), choice.as_ref())?,
        )?;
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
        // Call ids are unique within the conversation: the calls so far are counted.
        let calls = request
            .messages
            .iter()
            .flat_map(|m| m.tool_requests())
            .count();
        Ok(Prepared {
            prompt,
            constraint,
            sampler: Sampler::new(&request.config)?,
            max_tokens: wanted.min(room),
            choice: choice.map(|_| ChoiceOut::new(output.is_some(), format!("call_{calls}"))),
        })
    }

    /// Generates the reply into `deltas`, token by token, until an end token, a stop sequence,
    /// the end of the grammar or the token budget. Stops early once the caller dropped the
    /// stream (checked before each token). A reply that may call tools sends its answer's text
    /// as it comes, and a call as one tool request at the end.
    pub(crate) fn generate(
        &mut self,
        request: &GenerateRequest,
        prepared: Prepared,
        deltas: &Deltas,
    ) -> Result<Outcome, LocalModelError> {
        let Prepared {
            prompt,
            mut constraint,
            mut sampler,
            max_tokens,
            mut choice,
        } = prepared;
        let send = |delta: ModelDelta| deltas.blocking_send(Ok(delta)).is_ok();
        // Reply text, through the choice's decoder when there is one: whether it went out.
        let mut send_text = |text: String| {
            let text = match &mut choice {
                Some(choice) => choice.push(&text),
                None => text,
            };
            text.is_empty() || send(ModelDelta::Text(text))
        };
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
                .sample(&mut logits, |i| {
                    i < size && mask.as_ref().is_none_or(|m| m.is_allowed(i as u32))
                })
                .ok_or_else(|| generation("no token is allowed next"))?;
            produced += 1;
            if self.vocabulary.is_end(token) {
                break FinishReason::Stop;
            }
            if let Some(constraint) = &mut constraint {
                constraint.consume(token, self.vocabulary.bytes(token))?;
            }
            match text.push(self.vocabulary.bytes(token)) {
                Step::Text(t) => {
                    if !send_text(t) {
                        return cancelled(produced);
                    }
                }
                Step::Stopped(t) => {
                    if !send_text(t) {
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
        let mut delivered = send_text(rest);
        let (last, finish) = match choice {
            Some(choice) => choice.finish(finish),
            None => (Vec::new(), finish),
        };
        delivered = delivered && last.into_iter().all(send);
        let delivered = delivered
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
