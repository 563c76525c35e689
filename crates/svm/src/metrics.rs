//! Scores of a trained model: the AUC (accuracy is [`crate::model::Model::accuracy`]).

use crate::error::{Error, Result};

/// The area under the ROC curve of `scores` for labels `±1` (Mann–Whitney, ties counted ½):
/// the probability that a random positive outscores a random negative.
///
/// ```text
/// AUC = (Σ_{positives} rank − n₊(n₊ + 1)/2) / (n₊·n₋),  ranks averaged over ties
/// ```
///
/// # Errors
/// [`Error::Dimension`] if the lengths differ; [`Error::NonFiniteRow`] for a score that is not
/// finite; [`Error::Labels`] for a label other than ±1, or if there is no positive or no
/// negative example (the AUC is then undefined).
///
/// # Example
/// ```
/// assert_eq!(svm::metrics::auc(&[0.9, 0.1, 0.5, 0.5], &[1.0, -1.0, 1.0, -1.0])?, 0.875);
/// assert!(svm::metrics::auc(&[0.9, 0.1], &[1.0, 1.0]).is_err());
/// # Ok::<(), svm::Error>(())
/// ```
pub fn auc(scores: &[f64], labels: &[f64]) -> Result<f64> {
    if labels.len() != scores.len() {
        return Err(Error::Dimension {
            what: "labels (one per score)",
            expected: scores.len(),
            got: labels.len(),
        });
    }
    if let Some(row) = scores.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFiniteRow {
            what: "score",
            row,
            value: scores[row],
        });
    }
    if let Some(i) = labels.iter().position(|&l| l != 1.0 && l != -1.0) {
        return Err(Error::Labels(format!(
            "label {} of example {i} is not ±1",
            labels[i]
        )));
    }
    let np = labels.iter().filter(|&&l| l > 0.0).count() as f64;
    let nn = labels.len() as f64 - np;
    if np == 0.0 || nn == 0.0 {
        return Err(Error::Labels(
            "the AUC needs a positive and a negative example".into(),
        ));
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * (i..=j).filter(|&k| labels[idx[k]] > 0.0).count() as f64;
        i = j + 1;
    }
    Ok((rank_sum - np * (np + 1.0) / 2.0) / (np * nn))
}
