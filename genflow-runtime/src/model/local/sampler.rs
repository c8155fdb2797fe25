//! [`Sampler`]: picks the next token from the logits: greedy at temperature 0, else softmax at
//! the temperature over the top-k and top-p candidates, with a seedable generator. Tokens a
//! grammar forbids are never candidates.

use crate::model::request::GenerationConfig;

/// Temperature when the request sets none (SmolLM2's model card suggests 0.2).
const DEFAULT_TEMPERATURE: f64 = 0.2;
/// Top-p when the request sets none.
const DEFAULT_TOP_P: f64 = 0.9;

/// Sampling settings and the random generator of one reply.
pub(crate) struct Sampler {
    rng: fastrand::Rng,
    temperature: f64,
    top_p: f64,
    top_k: usize,
}

impl Sampler {
    /// From the request's temperature, top-p, top-k and seed (random without one).
    pub(crate) fn new(config: &GenerationConfig) -> Self {
        Sampler {
            rng: config.seed.map_or_else(fastrand::Rng::new, |seed| {
                fastrand::Rng::with_seed(seed as u64)
            }),
            temperature: config.temperature.unwrap_or(DEFAULT_TEMPERATURE),
            top_p: config.top_p.unwrap_or(DEFAULT_TOP_P),
            top_k: config.top_k.map_or(usize::MAX, |k| k.max(1) as usize),
        }
    }

    /// The next token among those `allowed`, or `None` when none is. Tokens whose weight is
    /// below e^-30 of the best one's (together under 10^-8 for any vocabulary) are dropped
    /// before sorting.
    pub(crate) fn sample(
        &mut self,
        logits: &[f32],
        allowed: impl Fn(usize) -> bool,
    ) -> Option<u32> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(temperature: f64, seed: i64) -> GenerationConfig {
        GenerationConfig {
            temperature: Some(temperature),
            top_p: Some(1.0),
            seed: Some(seed),
            ..GenerationConfig::default()
        }
    }

    #[test]
    fn temperature_zero_is_greedy_among_the_allowed() {
        let mut s = Sampler::new(&config(0.0, 1));
        let logits = [1.0, 5.0, 3.0, f32::NEG_INFINITY];
        assert_eq!(s.sample(&logits, |_| true), Some(1));
        assert_eq!(s.sample(&logits, |i| i != 1), Some(2));
        assert_eq!(s.sample(&logits, |i| i == 3), None);
    }

    #[test]
    fn a_seed_repeats_and_top_p_drops_the_tail() {
        let logits: Vec<f32> = (0..50).map(|i| i as f32 / 10.0).collect();
        let draw = |seed| {
            let mut s = Sampler::new(&config(1.0, seed));
            (0..20)
                .map(|_| s.sample(&logits, |_| true))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut narrow = Sampler::new(&GenerationConfig {
            top_p: Some(0.01),
            ..config(1.0, 3)
        });
        assert!((0..20).all(|_| narrow.sample(&logits, |_| true) == Some(49)));
    }
}
