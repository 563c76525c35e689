//! The all-pairs squared hinge, an AUC surrogate (Rust & Hocking, arXiv 2302.11062):
//!
//! ```text
//! L = (1/(n₊·n₋)) · Σ_{j positive} Σ_{k negative} max(0, m − ŷⱼ + ŷₖ)²
//! ∂L/∂ŷⱼ = −(2/(n₊n₋))·Σ_k max(0, m − ŷⱼ + ŷₖ)      (j positive)
//! ∂L/∂ŷₖ = +(2/(n₊n₋))·Σ_j max(0, m − ŷⱼ + ŷₖ)      (k negative)
//! ```
//! Differentiable everywhere (squared), so no kink choice is needed; pairs exactly at
//! `m − ŷⱼ + ŷₖ = 0` contribute 0 to both.
//!
//! [`all_pairs_value_grad`] is the O(n log n) closed form: with `aⱼ = ŷⱼ − m` and `bₖ = ŷₖ`, a pair
//! is active iff `bₖ > aⱼ`; sorting the `b` (and the `a`) and keeping suffix (prefix) sums of
//! counts, values and squares gives each example's sums by one binary search.
//! [`all_pairs_on_tape`] is the naive O(n₊·n₋) form from primitives, used to check it.

use autodiff::{Real, Shape, Tape, Var};

use crate::error::{check_binary_labels, check_finite, check_len, Error, Result};

fn split(pred: &[f64], y: &[f64]) -> Result<(Vec<usize>, Vec<usize>)> {
    check_len("labels", pred.len(), y.len())?;
    check_binary_labels(y)?;
    check_finite("predictions", pred)?;
    let pos: Vec<usize> = (0..y.len()).filter(|&i| y[i] > 0.0).collect();
    let neg: Vec<usize> = (0..y.len()).filter(|&i| y[i] < 0.0).collect();
    if pos.is_empty() {
        return Err(Error::Empty {
            what: "the positive examples",
        });
    }
    if neg.is_empty() {
        return Err(Error::Empty {
            what: "the negative examples",
        });
    }
    Ok((pos, neg))
}

/// The loss and its gradient with respect to the predictions `ŷ`, in O(n log n).
///
/// # Errors
/// [`Error::InvalidLabel`], [`Error::LengthMismatch`], [`Error::NonFinite`], [`Error::Empty`]
/// (no positive or no negative example), [`Error::InvalidParameter`] for a non-finite margin.
///
/// # Example
/// ```
/// use losses::all_pairs_value_grad;
/// # fn main() -> losses::Result<()> {
/// // One positive scored 0.5, one negative scored 0: (1 − 0.5 + 0)² = 0.25.
/// let (l, g) = all_pairs_value_grad(&[0.5, 0.0], &[1.0, -1.0], 1.0)?;
/// assert_eq!(l, 0.25);
/// assert_eq!(g, vec![-1.0, 1.0]); // ∓2·0.5
/// # Ok(()) }
/// ```
pub fn all_pairs_value_grad(pred: &[f64], y: &[f64], margin: f64) -> Result<(f64, Vec<f64>)> {
    if !margin.is_finite() {
        return Err(Error::InvalidParameter {
            name: "margin",
            value: margin,
            range: "finite",
        });
    }
    let (pos, neg) = split(pred, y)?;
    let scale = 1.0 / (pos.len() as f64 * neg.len() as f64);
    let mut b: Vec<f64> = neg.iter().map(|&k| pred[k]).collect();
    b.sort_by(f64::total_cmp);
    let mut a: Vec<f64> = pos.iter().map(|&j| pred[j] - margin).collect();
    a.sort_by(f64::total_cmp);
    // Suffix sums over the sorted b: count, Σb, Σb² of b[i..].
    let nb = b.len();
    let (mut s1, mut s2) = (vec![0.0; nb + 1], vec![0.0; nb + 1]);
    for i in (0..nb).rev() {
        s1[i] = s1[i + 1] + b[i];
        s2[i] = s2[i + 1] + b[i] * b[i];
    }
    // Prefix sums over the sorted a: Σa of a[..i].
    let na = a.len();
    let mut p1 = vec![0.0; na + 1];
    for i in 0..na {
        p1[i + 1] = p1[i] + a[i];
    }
    let mut value = 0.0;
    let mut grad = vec![0.0; pred.len()];
    for &j in &pos {
        let aj = pred[j] - margin;
        let idx = b.partition_point(|&v| v <= aj);
        let c = (nb - idx) as f64;
        // Σ_{b > a} (b − a)² = Σb² − 2a·Σb + c·a²
        value += s2[idx] - 2.0 * aj * s1[idx] + c * aj * aj;
        grad[j] = -2.0 * (s1[idx] - c * aj) * scale;
    }
    for &k in &neg {
        let bk = pred[k];
        let idx = a.partition_point(|&v| v < bk);
        grad[k] = 2.0 * (idx as f64 * bk - p1[idx]) * scale;
    }
    Ok((value.max(0.0) * scale, grad))
}

/// The naive primitive form on a tape: `pos` holds the positives' predictions `[n₊]`, `neg` the
/// negatives' `[n₋]`; builds the `n₊ × n₋` matrix of `m − ŷⱼ + ŷₖ` with `reshape` and `matmul` by
/// ones, then `relu`, `square`, `sum` and the scale.
///
/// # Errors
/// Engine errors (e.g. `pos` or `neg` not a vector).
///
/// # Example
/// ```
/// use autodiff::Tape;
/// use losses::all_pairs_on_tape;
/// # fn main() -> losses::Result<()> {
/// let tape = Tape::<f64>::new();
/// let (p, n) = (tape.param_vec(&[0.5])?, tape.param_vec(&[0.0])?);
/// let l = all_pairs_on_tape(p, n, 1.0)?;
/// assert_eq!(l.item(), 0.25);
/// # Ok(()) }
/// ```
pub fn all_pairs_on_tape<'t, T: Real>(
    pos: Var<'t, T>,
    neg: Var<'t, T>,
    margin: f64,
) -> Result<Var<'t, T>> {
    let tape: &Tape<T> = pos.tape();
    let (np, nn) = (pos.shape().len(), neg.shape().len());
    let one = T::cst(1.0);
    let ones_row = tape.constant(&vec![one; nn], Shape::matrix(1, nn))?;
    let ones_col = tape.constant(&vec![one; np], Shape::matrix(np, 1))?;
    let pj = pos
        .try_reshape(Shape::matrix(np, 1))?
        .try_matmul(ones_row)?; // ŷⱼ in every column
    let nk = ones_col.try_matmul(neg.try_reshape(Shape::matrix(1, nn))?)?; // ŷₖ in every row
    let d = (nk.try_sub(pj)? + T::cst(margin)).relu().square();
    Ok(d.sum().scale(T::cst(1.0 / (np as f64 * nn as f64))))
}

/// The naive form's value and gradient with respect to all predictions, by the engine.
///
/// # Errors
/// As [`all_pairs_value_grad`].
///
/// # Example
/// ```
/// use losses::{all_pairs_autodiff, all_pairs_value_grad};
/// # fn main() -> losses::Result<()> {
/// let (pred, y) = ([0.3, -0.2, 0.9, 0.1], [1.0, -1.0, 1.0, -1.0]);
/// let (l1, g1) = all_pairs_autodiff(&pred, &y, 1.0)?;
/// let (l2, g2) = all_pairs_value_grad(&pred, &y, 1.0)?;
/// assert!((l1 - l2).abs() < 1e-12 && (g1[2] - g2[2]).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub fn all_pairs_autodiff(pred: &[f64], y: &[f64], margin: f64) -> Result<(f64, Vec<f64>)> {
    let (pos, neg) = split(pred, y)?;
    let tape = Tape::<f64>::new();
    let p = tape.param_vec(&pos.iter().map(|&i| pred[i]).collect::<Vec<_>>())?;
    let n = tape.param_vec(&neg.iter().map(|&i| pred[i]).collect::<Vec<_>>())?;
    let l = all_pairs_on_tape(p, n, margin)?;
    let g = l.backward()?;
    let mut grad = vec![0.0; pred.len()];
    for (&i, &v) in pos.iter().zip(g.wrt(p)) {
        grad[i] = v;
    }
    for (&i, &v) in neg.iter().zip(g.wrt(n)) {
        grad[i] = v;
    }
    Ok((l.item(), grad))
}
