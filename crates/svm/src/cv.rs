//! k-fold cross-validation over a grid of `C` or `λ`.

use crate::data::{kfold, kfold_ordered, Dataset};
use crate::error::{Error, Result};
use crate::metrics::auc;
use crate::model::{finite, train, TrainOptions};

/// What a cross-validation grid holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Penalty {
    /// liblinear's `C` (`½‖w‖² + C·Σ loss`).
    #[default]
    C,
    /// The λ-form's `λ` (`mean loss + λ‖w‖²`), trained on each training part of `m` rows as
    /// `C = 1/(2mλ)`: the same `λ` means the same objective whatever the part's size.
    Lambda,
}

/// How cross-validation scores a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// The fraction of validation rows predicted right.
    Accuracy,
    /// The area under the ROC curve of the validation scores (two classes only).
    Auc,
}

/// The options of [`cross_validate`].
#[derive(Debug, Clone, Copy)]
pub struct CvOptions<'a> {
    /// Number of folds, `2 ≤ k ≤ n`.
    pub folds: usize,
    /// The values of `C` (or `λ`, see `penalty`) to score.
    pub grid: &'a [f64],
    /// What `grid` holds.
    pub penalty: Penalty,
    /// Shuffle the rows (seeded by `seed`) before cutting the folds; `false`: contiguous
    /// folds in file order, the first `n mod k` one row longer (scikit-learn's
    /// `KFold(shuffle=False)`).
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub seed: u64,
    /// The score; `None`: the AUC for the all-pairs loss, the accuracy otherwise.
    pub score: Option<Score>,
}

impl Default for CvOptions<'_> {
    fn default() -> Self {
        CvOptions {
            folds: 5,
            grid: &[1.0],
            penalty: Penalty::C,
            shuffle: true,
            seed: 0,
            score: None,
        }
    }
}

impl CvOptions<'_> {
    /// The score used for training options `o`: [`CvOptions::score`], or its default.
    pub fn score_for(&self, o: &TrainOptions<'_>) -> Score {
        self.score.unwrap_or(if o.all_pairs.is_some() {
            Score::Auc
        } else {
            Score::Accuracy
        })
    }
}

/// k-fold cross-validation over a grid of `C` or `λ`: the mean validation score per grid
/// value, `(value, score)` in grid order.
///
/// Folds are not stratified: every fold must have two classes in its training part, only
/// classes its training part has in its validation part, and, for the AUC, both classes in
/// its validation part; otherwise the error names the fold (fewer folds help).
///
/// # Errors
/// [`Error::InvalidFolds`] unless `2 ≤ k ≤ n`; [`Error::EmptyGrid`];
/// [`Error::InvalidParameter`] for a `λ` that is not finite and `> 0`; [`Error::Labels`] for
/// the AUC on more than two classes; [`Error::Fold`] for a fold that cannot be trained or
/// scored; [`Error::NonFinite`] for a score that is not finite; as [`train`] (every `C` of
/// the grid is checked before any training).
///
/// # Example
/// ```
/// use svm::cv::{cross_validate, CvOptions, Penalty};
/// use svm::model::TrainOptions;
/// let iris = svm::data::builtin("iris")?;
/// let cv = CvOptions { folds: 3, grid: &[1e-3, 1e-1], penalty: Penalty::Lambda, ..CvOptions::default() };
/// let scores = cross_validate(&iris, &TrainOptions::default(), &cv)?;
/// assert_eq!(scores.len(), 2);
/// assert!(scores.iter().all(|&(_, a)| (0.0..=1.0).contains(&a)));
/// # Ok::<(), svm::Error>(())
/// ```
pub fn cross_validate(
    data: &Dataset,
    o: &TrainOptions<'_>,
    cv: &CvOptions<'_>,
) -> Result<Vec<(f64, f64)>> {
    let (k, grid) = (cv.folds, cv.grid);
    let score = cv.score_for(o);
    data.check()?;
    if data.n() == 0 {
        return Err(Error::Empty);
    }
    if k < 2 || k > data.n() {
        return Err(Error::InvalidFolds { k, n: data.n() });
    }
    if grid.is_empty() {
        return Err(Error::EmptyGrid);
    }
    if score == Score::Auc && data.classes().len() != 2 {
        return Err(Error::Labels(format!(
            "the AUC scores two classes; the data has {}",
            data.classes().len()
        )));
    }
    // The C each grid value gives a training part of `m` rows.
    let c_of = |value: f64, m: usize| match cv.penalty {
        Penalty::C => value,
        Penalty::Lambda => 1.0 / (2.0 * m as f64 * value),
    };
    for &v in grid {
        if cv.penalty == Penalty::Lambda && !(v.is_finite() && v > 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: v,
                range: "finite, > 0",
            });
        }
        TrainOptions {
            c: c_of(v, data.n() - data.n() / k),
            ..*o
        }
        .validate()?;
    }
    let folds = if cv.shuffle {
        kfold(data.n(), k, cv.seed)
    } else {
        kfold_ordered(data.n(), k)
    };
    let mut parts = Vec::with_capacity(folds.len());
    for (f, (train_idx, val_idx)) in folds.iter().enumerate() {
        let (train_part, val) = (data.subset(train_idx)?, data.subset(val_idx)?);
        let fold_err = |reason: String| Error::Fold {
            fold: f + 1,
            folds: k,
            reason,
        };
        let (train_classes, val_classes) = (train_part.classes(), val.classes());
        if train_classes.len() < 2 {
            return Err(fold_err(format!(
                "its training rows all have class {}",
                train_classes[0]
            )));
        }
        if let Some(c) = val_classes.iter().find(|c| !train_classes.contains(c)) {
            return Err(fold_err(format!(
                "its validation rows have class {c}, which its training rows lack"
            )));
        }
        if score == Score::Auc && val_classes.len() < 2 {
            return Err(fold_err(format!(
                "its validation rows all have class {}, so their AUC is undefined",
                val_classes[0]
            )));
        }
        parts.push((train_part, val));
    }
    grid.iter()
        .map(|&value| {
            let mut total = 0.0;
            for (train_part, val) in &parts {
                let c = c_of(value, train_part.n());
                let report = train(train_part, &TrainOptions { c, ..*o })?;
                total += if score == Score::Auc {
                    auc(
                        &report.model.scores(val)?,
                        &val.one_vs_rest(report.model.classes[1]),
                    )?
                } else {
                    report.model.accuracy(val)?
                };
            }
            Ok((
                value,
                finite("cross-validation score", total / parts.len() as f64)?,
            ))
        })
        .collect()
}
