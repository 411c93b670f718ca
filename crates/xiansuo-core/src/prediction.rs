//! The arithmetic of win prediction (赢单预测) that needs no model library: splitting outcomes
//! into stratified folds, judging a ranking (AUC, lift by decile) and calibrating scores into
//! probabilities (Platt scaling). The model itself is trained in `xiansuo_app`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Assigns each example to one of `k` folds so that every fold gets its share of positives and
/// of negatives (stratified), in a fixed order: examples are dealt round-robin per class, after
/// a deterministic shuffle by `seed`.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut folds = vec![0; labels.len()];
    for class in [true, false] {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.sort_by_key(|&i| mix(i as u64 ^ seed));
        for (n, i) in members.into_iter().enumerate() {
            folds[i] = n % k;
        }
    }
    folds
}

/// A 64-bit mixing function (splitmix64), for deterministic shuffles and hashing.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The area under the ROC curve: the chance that a random positive is ranked above a random
/// negative (ties count half). 0.5 when either class is missing.
pub fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return 0.5;
    }
    // Sum of the positives' ranks (1-based, ties given their average rank).
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += order[i..=j].iter().filter(|&&o| labels[o]).count() as f64 * average_rank;
        i = j + 1;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// One tenth of the examples ranked by score, best first, with how many of them were
/// positive and the lift over the overall rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(description = "A tenth of the outcomes ranked by probability, best first")]
pub struct Decile {
    /// 1 for the best-scored tenth.
    pub decile: usize,
    /// Leads in it
    pub examples: usize,
    /// Of them converted or won
    pub positives: usize,
    /// The decile's positive rate over the overall rate (1 = no better than chance).
    pub lift: f64,
}

/// The examples ranked by score and cut into ten equal parts, best first.
pub fn deciles(scores: &[f64], labels: &[bool]) -> Vec<Decile> {
    let n = scores.len();
    let total_positives = labels.iter().filter(|&&l| l).count();
    if n == 0 || total_positives == 0 {
        return Vec::new();
    }
    let base = total_positives as f64 / n as f64;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    (0..10)
        .filter_map(|d| {
            let (from, to) = (d * n / 10, (d + 1) * n / 10);
            (to > from).then(|| {
                let positives = order[from..to].iter().filter(|&&i| labels[i]).count();
                Decile {
                    decile: d + 1,
                    examples: to - from,
                    positives,
                    lift: positives as f64 / (to - from) as f64 / base,
                }
            })
        })
        .collect()
}

/// The lift of the best-scored tenth (0 when there is nothing to rank).
pub fn top_decile_lift(scores: &[f64], labels: &[bool]) -> f64 {
    deciles(scores, labels).first().map_or(0.0, |d| d.lift)
}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Platt scaling: maps a model's raw score `s` to the probability `sigmoid(a·s + b)`, fitted
/// on out-of-fold scores so that the probabilities match the outcomes' rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Platt {
    /// Fits `a` and `b` by Newton's method on the log-loss, with Platt's smoothed targets
    /// (which keep the fit finite when the classes separate).
    pub fn fit(scores: &[f64], labels: &[bool]) -> Platt {
        let positives = labels.iter().filter(|&&l| l).count() as f64;
        let negatives = labels.len() as f64 - positives;
        let hi = (positives + 1.0) / (positives + 2.0);
        let lo = 1.0 / (negatives + 2.0);
        let (mut a, mut b) = (1.0, 0.0);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
            for (&s, &l) in scores.iter().zip(labels) {
                let p = sigmoid(a * s + b);
                let t = if l { hi } else { lo };
                let w = p * (1.0 - p);
                ga += (p - t) * s;
                gb += p - t;
                haa += w * s * s;
                hab += w * s;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-12 {
                break;
            }
            let da = (hbb * ga - hab * gb) / det;
            let db = (haa * gb - hab * ga) / det;
            a -= da;
            b -= db;
            if da.abs() + db.abs() < 1e-9 {
                break;
            }
        }
        Platt { a, b }
    }

    pub fn probability(&self, score: f64) -> f64 {
        sigmoid(self.a * score + self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_is_one_for_a_perfect_ranking_half_for_ties_and_zero_reversed() {
        let labels = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0);
        assert_eq!(auc(&[0.5; 4], &labels), 0.5);
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0);
        assert_eq!(auc(&[0.1, 0.3, 0.2, 0.9], &labels), 0.75);
    }

    #[test]
    fn folds_share_out_each_class() {
        let labels: Vec<bool> = (0..100).map(|i| i % 10 == 0).collect();
        let folds = stratified_folds(&labels, 5, 7);
        for f in 0..5 {
            let in_fold: Vec<usize> = (0..100).filter(|&i| folds[i] == f).collect();
            assert_eq!(in_fold.len(), 20);
            assert_eq!(in_fold.iter().filter(|&&i| labels[i]).count(), 2);
        }
    }

    #[test]
    fn lift_of_the_top_decile_counts_its_positives_against_the_rate() {
        let labels: Vec<bool> = (0..100).map(|i| i < 10).collect();
        let scores: Vec<f64> = (0..100).map(|i| -(i as f64)).collect();
        assert_eq!(top_decile_lift(&scores, &labels), 10.0);
        let flat = deciles(&[0.0; 100], &labels);
        assert_eq!(flat.len(), 10);
        assert_eq!(flat.iter().map(|d| d.positives).sum::<usize>(), 10);
    }

    #[test]
    fn platt_scaling_matches_the_observed_rates() {
        // Score 1 is positive 3 times in 4, score 0 once in 4.
        let scores = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let labels = [true, true, true, false, true, false, false, false];
        let platt = Platt::fit(&scores, &labels);
        assert!((platt.probability(1.0) - 0.7).abs() < 0.1);
        assert!((platt.probability(0.0) - 0.3).abs() < 0.1);
    }
}
