//! Reciprocal rank fusion: one ranking from several (vector and full-text), by rank alone, so
//! scores on different scales need no calibration (Cormack, Clarke and Büttcher, 2009).

use std::collections::HashMap;
use std::hash::Hash;

/// The constant of reciprocal rank fusion: damps the weight of the very first ranks.
pub const RRF_K: f32 = 60.0;

/// Fuses rankings (best first) into one: each item scores the sum over the rankings it is in
/// of `1 / (RRF_K + rank)`, ranks from 1. Best first; ties keep the order of first appearance.
pub fn reciprocal_rank_fusion<T: Eq + Hash + Clone>(rankings: &[&[T]]) -> Vec<(T, f32)> {
    let mut scores: HashMap<&T, (f32, usize)> = HashMap::new();
    let mut order = 0;
    for ranking in rankings {
        for (rank, item) in ranking.iter().enumerate() {
            let entry = scores.entry(item).or_insert_with(|| {
                order += 1;
                (0.0, order)
            });
            entry.0 += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(&T, (f32, usize))> = scores.into_iter().collect();
    fused.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    fused
        .into_iter()
        .map(|(item, (score, _))| (item.clone(), score))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_high_in_both_rankings_win() {
        let vector = ["a", "b", "c"];
        let keyword = ["c", "b", "d"];
        let fused = reciprocal_rank_fusion(&[&vector, &keyword]);
        let order: Vec<&str> = fused.iter().map(|(id, _)| *id).collect();
        // b: 1/62 + 1/62; a: 1/61; c: 1/63 + 1/61; d: 1/63.
        assert_eq!(order, ["c", "b", "a", "d"]);
        let b = fused.iter().find(|(id, _)| *id == "b").map(|(_, s)| *s);
        assert_eq!(b, Some(2.0 / 62.0));
    }
}
