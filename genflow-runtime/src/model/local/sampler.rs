//! [`Sampler`]: picks the next token from the logits: greedy at temperature 0, else softmax at
//! the temperature over the top-k and top-p candidates, with a seedable generator. Tokens a
//! grammar forbids are never candidates; tokens of the reply's recent past weigh less, so a
//! small model does not loop on one sentence.

use std::collections::VecDeque;

use serde_json::Value;

use super::error::LocalModelError;
use crate::model::request::GenerationConfig;

/// Temperature when the request sets none (SmolLM2's model card suggests 0.2).
const DEFAULT_TEMPERATURE: f64 = 0.2;
/// Top-p when the request sets none.
const DEFAULT_TOP_P: f64 = 0.9;
/// Repetition penalty when the request sets none (`repeat_penalty`; 1 turns it off).
const DEFAULT_REPEAT_PENALTY: f64 = 1.1;
/// How many of the reply's last tokens are penalized when the request does not say
/// (`repeat_last_n`).
const DEFAULT_REPEAT_LAST_N: usize = 64;

/// Sampling settings and the random generator of one reply.
pub(crate) struct Sampler {
    rng: fastrand::Rng,
    temperature: f64,
    top_p: f64,
    top_k: usize,
    repeat_penalty: f32,
    /// The reply's last tokens, at most `repeat_last_n`.
    recent: VecDeque<u32>,
    repeat_last_n: usize,
}

impl Sampler {
    /// From the request's temperature, top-p, top-k and seed (random without one), and the
    /// `repeat_penalty` (above 0) and `repeat_last_n` (0 or more) of its extra fields
    /// (llama.cpp's and Ollama's names and meaning).
    pub(crate) fn new(config: &GenerationConfig) -> Result<Self, LocalModelError> {
        let repeat_penalty = setting(config, "repeat_penalty", "a number above 0", |v| {
            v.as_f64().filter(|p| p.is_finite() && *p > 0.0)
        })?
        .unwrap_or(DEFAULT_REPEAT_PENALTY);
        let repeat_last_n = setting(
            config,
            "repeat_last_n",
            "a whole number of tokens, 0 or more",
            |v| v.as_u64().and_then(|n| usize::try_from(n).ok()),
        )?
        .unwrap_or(DEFAULT_REPEAT_LAST_N);
        Ok(Sampler {
            rng: config.seed.map_or_else(fastrand::Rng::new, |seed| {
                fastrand::Rng::with_seed(seed as u64)
            }),
            temperature: config.temperature.unwrap_or(DEFAULT_TEMPERATURE),
            top_p: config.top_p.unwrap_or(DEFAULT_TOP_P),
            top_k: config.top_k.map_or(usize::MAX, |k| k.max(1) as usize),
            repeat_penalty: repeat_penalty as f32,
            recent: VecDeque::new(),
            repeat_last_n,
        })
    }

    /// The next token among those `allowed`, or `None` when none is. Logits of recent tokens
    /// are first divided by the penalty (multiplied when negative). Tokens whose weight is
    /// below e^-30 of the best one's (together under 10^-8 for any vocabulary) are dropped
    /// before sorting.
    pub(crate) fn sample(
        &mut self,
        logits: &mut [f32],
        allowed: impl Fn(usize) -> bool,
    ) -> Option<u32> {
        self.penalize(logits);
        let token = self.pick(logits, allowed)?;
        if self.repeat_last_n > 0 {
            if self.recent.len() == self.repeat_last_n {
                self.recent.pop_front();
            }
            self.recent.push_back(token);
        }
        Some(token)
    }

    /// Lowers the logits of the recent tokens, once each.
    fn penalize(&self, logits: &mut [f32]) {
        let mut seen: Vec<u32> = self.recent.iter().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        for token in seen {
            if let Some(l) = logits.get_mut(token as usize) {
                *l = if *l > 0.0 {
                    *l / self.repeat_penalty
                } else {
                    *l * self.repeat_penalty
                };
            }
        }
    }

    fn pick(&mut self, logits: &[f32], allowed: impl Fn(usize) -> bool) -> Option<u32> {
        let allowed_logits = || {
            logits
                .iter()
                .copied()
                .enumerate()
                .filter(|&(i, l)| l.is_finite() && allowed(i))
        };
        let (best, best_logit) = allowed_logits().max_by(|a, b| a.1.total_cmp(&b.1))?;
        if self.temperature <= 1e-6 {
            return Some(best as u32);
        }
        let floor = f64::from(best_logit) - 30.0 * self.temperature;
        let mut candidates: Vec<(usize, f32)> = allowed_logits()
            .filter(|&(_, l)| f64::from(l) >= floor)
            .collect();
        candidates.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        candidates.truncate(self.top_k);
        let weights: Vec<f64> = candidates
            .iter()
            .map(|&(_, l)| ((f64::from(l) - f64::from(best_logit)) / self.temperature).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        let mut kept = 0.0;
        let mut cut = weights.len();
        for (n, w) in weights.iter().enumerate() {
            kept += w;
            if kept >= self.top_p * total {
                cut = n + 1;
                break;
            }
        }
        let mut draw = self.rng.f64() * weights[..cut].iter().sum::<f64>();
        for (&(token, _), w) in candidates.iter().zip(&weights[..cut]) {
            draw -= w;
            if draw <= 0.0 {
                return Some(token as u32);
            }
        }
        Some(candidates[cut - 1].0 as u32)
    }
}

/// The extra field `name` read by `read`, `None` when the request leaves it out.
fn setting<T>(
    config: &GenerationConfig,
    name: &'static str,
    wanted: &'static str,
    read: impl Fn(&Value) -> Option<T>,
) -> Result<Option<T>, LocalModelError> {
    config
        .extra
        .get(name)
        .map(|value| {
            read(value).ok_or_else(|| LocalModelError::InvalidSetting {
                name,
                wanted,
                got: value.to_string(),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sampling alone: no repetition penalty.
    fn config(temperature: f64, seed: i64) -> GenerationConfig {
        let mut config = GenerationConfig {
            temperature: Some(temperature),
            top_p: Some(1.0),
            seed: Some(seed),
            ..GenerationConfig::default()
        };
        config.extra.insert("repeat_penalty".into(), 1.0.into());
        config
    }

    #[test]
    fn temperature_zero_is_greedy_among_the_allowed() {
        let mut s = Sampler::new(&config(0.0, 1)).expect("valid");
        let logits = [1.0, 5.0, 3.0, f32::NEG_INFINITY];
        assert_eq!(s.sample(&mut logits.clone(), |_| true), Some(1));
        assert_eq!(s.sample(&mut logits.clone(), |i| i != 1), Some(2));
        assert_eq!(s.sample(&mut logits.clone(), |i| i == 3), None);
    }

    #[test]
    fn a_seed_repeats_and_top_p_drops_the_tail() {
        let logits: Vec<f32> = (0..50).map(|i| i as f32 / 10.0).collect();
        let draw = |seed| {
            let mut s = Sampler::new(&config(1.0, seed)).expect("valid");
            (0..20)
                .map(|_| s.sample(&mut logits.clone(), |_| true))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut narrow = Sampler::new(&GenerationConfig {
            top_p: Some(0.01),
            ..config(1.0, 3)
        })
        .expect("valid");
        assert!((0..20).all(|_| narrow.sample(&mut logits.clone(), |_| true) == Some(49)));
    }

    #[test]
    fn recent_tokens_weigh_less_until_they_leave_the_window() {
        let extra = |penalty: f64| {
            let mut config = config(0.0, 1);
            config.extra.insert("repeat_penalty".into(), penalty.into());
            config.extra.insert("repeat_last_n".into(), 2.into());
            config
        };
        // Token 1 leads by 10%: a penalty of 1.2 lets 0 then 2 win while 1 is in the window,
        // and a negative logit is pushed further down.
        let logits = [1.0, 1.1, 0.99, -0.5];
        let mut s = Sampler::new(&extra(1.2)).expect("valid");
        let picks: Vec<_> = (0..4)
            .map(|_| s.sample(&mut logits.clone(), |_| true))
            .collect();
        assert_eq!(picks, [Some(1), Some(0), Some(2), Some(1)]);
        let mut negative = [-1.0, -1.1];
        let mut s = Sampler::new(&extra(1.2)).expect("valid");
        assert_eq!(s.sample(&mut negative.clone(), |_| true), Some(0));
        s.sample(&mut negative, |_| true);
        assert!((negative[0] + 1.2).abs() < 1e-6, "{negative:?}");
        // A penalty of 1 changes nothing.
        let mut s = Sampler::new(&extra(1.0)).expect("valid");
        assert!((0..4).all(|_| s.sample(&mut logits.clone(), |_| true) == Some(1)));
    }

    #[test]
    fn a_setting_out_of_range_is_refused_by_name() {
        for (name, value) in [
            ("repeat_penalty", serde_json::json!(0)),
            ("repeat_penalty", serde_json::json!("high")),
            ("repeat_last_n", serde_json::json!(-1)),
        ] {
            let mut config = GenerationConfig::default();
            config.extra.insert(name.into(), value.clone());
            let Err(error) = Sampler::new(&config) else {
                panic!("{name} = {value} is accepted");
            };
            assert!(matches!(error, LocalModelError::InvalidSetting { name: n, .. } if n == name));
            assert!(error.to_string().contains(&value.to_string()), "{error}");
        }
    }
}
