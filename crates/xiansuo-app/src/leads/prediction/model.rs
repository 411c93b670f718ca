//! The two learners the win prediction compares, gradient-boosted trees (`forust-ml`) and an
//! L2-regularised logistic regression (`smartcore`), and the choice between them: each is
//! cross-validated on the same stratified folds, the one with the better out-of-fold AUC is
//! kept, trained again on every outcome, and calibrated by Platt scaling on its out-of-fold
//! scores. Both give, per lead, each column's contribution to the log-odds, which the reasons
//! are made of.

use anyhow::{anyhow, Context};
use forust_ml::gradientbooster::{ContributionsMethod, ImportanceMethod};
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use utoipa::ToSchema;
use xiansuo_core::prediction::{self, Decile, Platt};

/// Folds of the cross-validation.
pub const FOLDS: usize = 5;
/// The L2 penalty of the logistic regression, on standardised columns.
const L2_PENALTY: f64 = 1.0;
/// Boosting rounds, learning rate and depth of the trees.
const TREES: usize = 100;
const LEARNING_RATE: f32 = 0.1;
const TREE_DEPTH: usize = 3;

/// Rows of numbers, one per lead, stored row by row.
#[derive(Debug, Clone, Default)]
pub struct Dense {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Dense {
    pub fn new(cols: usize) -> Dense {
        Dense {
            rows: 0,
            cols,
            data: Vec::new(),
        }
    }

    pub fn push(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.cols);
        self.data.extend_from_slice(row);
        self.rows += 1;
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    fn select(&self, rows: &[usize]) -> Dense {
        let mut out = Dense::new(self.cols);
        for &i in rows {
            out.push(self.row(i));
        }
        out
    }

    fn column_major(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.data.len());
        for j in 0..self.cols {
            out.extend((0..self.rows).map(|i| self.data[i * self.cols + j]));
        }
        out
    }
}

/// A kind of model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Learner {
    GradientBoostedTrees,
    LogisticRegression,
}

impl Learner {
    pub const ALL: &'static [Learner] =
        &[Learner::GradientBoostedTrees, Learner::LogisticRegression];

    pub fn code(self) -> &'static str {
        match self {
            Learner::GradientBoostedTrees => "gradient_boosted_trees",
            Learner::LogisticRegression => "logistic_regression",
        }
    }
}

/// A logistic regression over standardised columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Linear {
    pub weights: Vec<f64>,
    pub bias: f64,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Linear {
    fn standardised<'a>(&'a self, row: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
        row.iter()
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(x, (m, s))| (x - m) / s)
    }
}

/// A trained model of either kind; its raw score is in log-odds.
pub enum Fitted {
    Trees(Box<GradientBooster>),
    Linear(Linear),
}

impl std::fmt::Debug for Fitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.learner().code())
    }
}

/// Trains a model of kind `learner` on rows `x` with outcomes `y`.
pub fn fit(learner: Learner, x: &Dense, y: &[bool]) -> anyhow::Result<Fitted> {
    match learner {
        Learner::GradientBoostedTrees => {
            let data = x.column_major();
            let matrix = Matrix::new(&data, x.rows, x.cols);
            let targets: Vec<f64> = y.iter().map(|&l| f64::from(u8::from(l))).collect();
            let mut booster = GradientBooster::default()
                .set_iterations(TREES)
                .set_learning_rate(LEARNING_RATE)
                .set_max_depth(TREE_DEPTH)
                .set_parallel(false);
            booster
                .fit(&matrix, &targets, &vec![1.0; x.rows], None)
                .map_err(|e| anyhow!("training the trees: {e}"))?;
            Ok(Fitted::Trees(Box::new(booster)))
        }
        Learner::LogisticRegression => {
            let n = x.rows.max(1) as f64;
            let mut mean = vec![0.0; x.cols];
            let mut square = vec![0.0; x.cols];
            for i in 0..x.rows {
                for (j, v) in x.row(i).iter().enumerate() {
                    mean[j] += v / n;
                    square[j] += v * v / n;
                }
            }
            let scale: Vec<f64> = mean
                .iter()
                .zip(&square)
                .map(|(m, s)| (s - m * m).max(0.0).sqrt())
                .map(|sd| if sd > 1e-9 { sd } else { 1.0 })
                .collect();
            let mut linear = Linear {
                weights: Vec::new(),
                bias: 0.0,
                mean,
                scale,
            };
            let mut values = Vec::with_capacity(x.data.len());
            for i in 0..x.rows {
                values.extend(linear.standardised(x.row(i)));
            }
            let matrix = DenseMatrix::new(x.rows, x.cols, values, false)
                .map_err(|e| anyhow!("the rows: {e}"))?;
            let targets: Vec<i32> = y.iter().map(|&l| i32::from(l)).collect();
            let model = LogisticRegression::fit(
                &matrix,
                &targets,
                LogisticRegressionParameters::default().with_alpha(L2_PENALTY),
            )
            .map_err(|e| anyhow!("training the logistic regression: {e}"))?;
            linear.weights = (0..x.cols)
                .map(|j| *model.coefficients().get((0, j)))
                .collect();
            linear.bias = *model.intercept().get((0, 0));
            Ok(Fitted::Linear(linear))
        }
    }
}

impl Fitted {
    pub fn learner(&self) -> Learner {
        match self {
            Fitted::Trees(_) => Learner::GradientBoostedTrees,
            Fitted::Linear(_) => Learner::LogisticRegression,
        }
    }

    /// The raw scores (log-odds) of rows `x`.
    pub fn raw(&self, x: &Dense) -> Vec<f64> {
        match self {
            Fitted::Trees(booster) => {
                let data = x.column_major();
                booster.predict(&Matrix::new(&data, x.rows, x.cols), false)
            }
            Fitted::Linear(linear) => (0..x.rows)
                .map(|i| {
                    linear.bias
                        + linear
                            .standardised(x.row(i))
                            .zip(&linear.weights)
                            .map(|(v, w)| v * w)
                            .sum::<f64>()
                })
                .collect(),
        }
    }

    /// Each column's contribution to one row's log-odds, against the average lead: Shapley
    /// values for the trees, weight times standardised value for the regression.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        match self {
            Fitted::Trees(booster) => {
                let matrix = Matrix::new(row, 1, row.len());
                let mut out =
                    booster.predict_contributions(&matrix, ContributionsMethod::Shapley, false);
                out.truncate(row.len());
                out
            }
            Fitted::Linear(linear) => linear
                .standardised(row)
                .zip(&linear.weights)
                .map(|(v, w)| v * w)
                .collect(),
        }
    }

    /// Each column's share of the model's importance (summing to 1): total split gain for the
    /// trees, the size of the standardised weight for the regression.
    pub fn importance(&self, cols: usize) -> Vec<f64> {
        let mut out = vec![0.0; cols];
        match self {
            Fitted::Trees(booster) => {
                for (j, v) in
                    booster.calculate_feature_importance(ImportanceMethod::TotalGain, false)
                {
                    if j < cols {
                        out[j] = f64::from(v);
                    }
                }
            }
            Fitted::Linear(linear) => {
                for (o, w) in out.iter_mut().zip(&linear.weights) {
                    *o = w.abs();
                }
            }
        }
        let total: f64 = out.iter().sum();
        if total > 0.0 {
            out.iter_mut().for_each(|v| *v /= total);
        }
        out
    }

    /// The model as stored.
    pub fn to_stored(&self) -> anyhow::Result<StoredFit> {
        Ok(match self {
            Fitted::Trees(booster) => StoredFit::Trees(
                booster
                    .json_dump()
                    .map_err(|e| anyhow!("saving the trees: {e}"))?,
            ),
            Fitted::Linear(linear) => StoredFit::Linear(linear.clone()),
        })
    }

    pub fn from_stored(stored: StoredFit) -> anyhow::Result<Fitted> {
        Ok(match stored {
            StoredFit::Trees(json) => Fitted::Trees(Box::new(
                GradientBooster::from_json(&json).map_err(|e| anyhow!("reading the trees: {e}"))?,
            )),
            StoredFit::Linear(linear) => Fitted::Linear(linear),
        })
    }
}

/// A trained model as JSON keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredFit {
    /// forust's own JSON of the trees.
    Trees(String),
    Linear(Linear),
}

/// How one learner did in cross-validation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(description = "How one learner did on the same folds")]
pub struct Evaluation {
    pub model: Learner,
    /// Cross-validated AUC
    pub auc: f64,
    /// Top-decile lift
    pub top_decile_lift: f64,
}

/// The outcome of training: the chosen model, its calibration, how each learner did, and the
/// chosen one's lift by decile (out of fold).
#[derive(Debug)]
pub struct Trained {
    pub fitted: Fitted,
    pub platt: Platt,
    pub evaluations: Vec<Evaluation>,
    pub deciles: Vec<Decile>,
    pub auc: f64,
    pub top_decile_lift: f64,
}

/// Out-of-fold raw scores of `learner`: each row scored by a model that did not see it.
pub fn out_of_fold(
    learner: Learner,
    x: &Dense,
    y: &[bool],
    folds: &[usize],
) -> anyhow::Result<Vec<f64>> {
    let mut scores = vec![0.0; x.rows];
    for k in 0..FOLDS {
        let (test, train): (Vec<usize>, Vec<usize>) = (0..x.rows).partition(|&i| folds[i] == k);
        if test.is_empty() {
            continue;
        }
        let train_y: Vec<bool> = train.iter().map(|&i| y[i]).collect();
        let model =
            fit(learner, &x.select(&train), &train_y).with_context(|| format!("fold {}", k + 1))?;
        for (i, s) in test.iter().zip(model.raw(&x.select(&test))) {
            scores[*i] = s;
        }
    }
    Ok(scores)
}

/// Cross-validates every learner on the same stratified folds, keeps the better by AUC (the
/// simpler, logistic regression, on a tie), calibrates it on its out-of-fold scores and trains
/// it on all rows.
pub fn train(x: &Dense, y: &[bool]) -> anyhow::Result<Trained> {
    let folds = prediction::stratified_folds(y, FOLDS, 20_261_207);
    let mut best: Option<(Learner, Vec<f64>, f64)> = None;
    let mut evaluations = Vec::new();
    for &learner in Learner::ALL {
        let scores = out_of_fold(learner, x, y, &folds)?;
        let auc = prediction::auc(&scores, y);
        evaluations.push(Evaluation {
            model: learner,
            auc,
            top_decile_lift: prediction::top_decile_lift(&scores, y),
        });
        if best.as_ref().is_none_or(|b| auc >= b.2) {
            best = Some((learner, scores, auc));
        }
    }
    let (learner, scores, auc) = best.ok_or_else(|| anyhow!("no learner"))?;
    let platt = Platt::fit(&scores, y);
    let calibrated: Vec<f64> = scores.iter().map(|&s| platt.probability(s)).collect();
    let fitted = fit(learner, x, y)?;
    Ok(Trained {
        fitted,
        platt,
        deciles: prediction::deciles(&calibrated, y),
        top_decile_lift: prediction::top_decile_lift(&calibrated, y),
        auc,
        evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with a planted signal in column 0 and noise in column 1; positives are rare.
    fn planted(n: usize) -> (Dense, Vec<bool>) {
        let mut x = Dense::new(2);
        let mut y = Vec::new();
        for i in 0..n {
            let signal = (prediction::mix(i as u64) % 100) < 30;
            let noise = (prediction::mix(i as u64 + 7_777) % 100) as f64 / 100.0;
            let positive = if signal {
                prediction::mix(i as u64 + 1) % 100 < 40
            } else {
                prediction::mix(i as u64 + 1) % 100 < 3
            };
            x.push(&[f64::from(u8::from(signal)), noise]);
            y.push(positive);
        }
        (x, y)
    }

    #[test]
    fn both_learners_find_a_planted_signal_and_the_reasons_name_it() {
        let (x, y) = planted(600);
        let trained = train(&x, &y).unwrap();
        assert_eq!(trained.evaluations.len(), 2);
        for e in &trained.evaluations {
            assert!(e.auc > 0.75, "{e:?}");
        }
        assert!(trained.top_decile_lift > 2.0);
        let contributions = trained.fitted.contributions(&[1.0, 0.5]);
        assert!(contributions[0] > contributions[1].abs());
        let importance = trained.fitted.importance(2);
        assert!(importance[0] > importance[1]);
        let stored = trained.fitted.to_stored().unwrap();
        let again = Fitted::from_stored(stored).unwrap();
        assert_eq!(again.raw(&x), trained.fitted.raw(&x));
    }
}
