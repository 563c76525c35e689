//! k-fold cross-validation over a grid of `C`.

use crate::data::{kfold, Dataset};
use crate::error::{Error, Result};
use crate::metrics::auc;
use crate::model::{finite, train, TrainOptions};

/// k-fold cross-validation over a grid of `C`: the mean validation score per `C`, accuracy, or
/// AUC when training with the all-pairs loss.
///
/// Folds are not stratified: every fold must have two classes in its training part, only
/// classes its training part has in its validation part, and, for the AUC, both classes in
/// its validation part; otherwise the error names the fold (fewer folds help).
///
/// # Errors
/// [`Error::InvalidFolds`] unless `2 ≤ k ≤ n`; [`Error::EmptyGrid`]; [`Error::Fold`] for a
/// fold that cannot be trained or scored; [`Error::NonFinite`] for a score that is not
/// finite; as [`train`] (every `C` of the grid is checked before any training).
pub fn cross_validate(
    data: &Dataset,
    o: &TrainOptions,
    k: usize,
    grid: &[f64],
    seed: u64,
) -> Result<Vec<(f64, f64)>> {
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
    for &c in grid {
        TrainOptions { c, ..*o }.validate()?;
    }
    let folds = kfold(data.n(), k, seed);
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
        if o.all_pairs.is_some() && val_classes.len() < 2 {
            return Err(fold_err(format!(
                "its validation rows all have class {}, so their AUC is undefined",
                val_classes[0]
            )));
        }
        parts.push((train_part, val));
    }
    grid.iter()
        .map(|&c| {
            let mut total = 0.0;
            for (train_part, val) in &parts {
                let report = train(train_part, &TrainOptions { c, ..*o })?;
                total += if o.all_pairs.is_some() {
                    auc(
                        &report.model.scores(val)?,
                        &val.one_vs_rest(report.model.classes[1]),
                    )?
                } else {
                    report.model.accuracy(val)?
                };
            }
            Ok((
                c,
                finite("cross-validation score", total / parts.len() as f64)?,
            ))
        })
        .collect()
}
