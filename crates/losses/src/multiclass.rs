//! Multiclass margin losses of a score matrix `S` (`n × K`, row-major) with class labels.
//!
//! ```text
//! Weston–Watkins (CS231n)   Lᵢ = c·Σ_{j≠yᵢ} h(s_ij − s_iyᵢ + Δ)
//! Crammer–Singer            Lᵢ = h(max_r (s_ir + Δ_r) − s_iyᵢ),   Δ_r = 1 − [r = yᵢ]
//!                              = h(max(0, 1 + max_{r≠yᵢ} s_ir − s_iyᵢ))
//! h(t) = max(0, t) (hinge) or max(0, t)² (squared);  c = 1, or 1/K as PyTorch's multi_margin_loss
//! ```
//! Gradients, as a matrix `G = ∂L/∂S` (for a linear model `S = X·W`, `∂L/∂W = Xᵀ·G`):
//! ```text
//! WW:  for j ≠ yᵢ with tᵢⱼ = s_ij − s_iyᵢ + Δ:   G_ij += c·h'(tᵢⱼ),  G_iyᵢ −= c·h'(tᵢⱼ)
//!      h'(t) = [t > 0] (hinge: at t = 0 the kink, 0 chosen, relu'(0) = 0) or 2·max(0, t)
//! CS:  T = the k classes attaining max_r (s_ir + Δ_r):  Gᵢ = h'(Lᵢ)·(Σ_{r∈T} e_r / k − e_yᵢ)
//!      the subgradient splits evenly across tied classes (the row_max rule); at the kink the
//!      true class is among the tied (weight 1/k on it), h' = 1 (hinge) or 2·(value) (squared)
//! ```
//! The losses are summed over the examples, or averaged ([`Reduction::Mean`]); a linear model's
//! whole objective, the loss with a regulariser, is [`MulticlassLoss::linear_objective`]:
//! CS231n's `svm_loss_vectorized` is Weston–Watkins (Δ = 1) in the λ-form
//! `(1/n)·Σᵢ Lᵢ + reg·Σ W²` ([`Objective::Lambda`] with `λ = reg`).

use autodiff::{Real, Shape, Var};

use crate::error::{check_classes, check_finite, check_len, Error, Result};
use crate::regularize::{l2_on_tape, Objective};

/// How the per-example losses `Lᵢ` are combined.
///
/// ```text
/// Sum    Σᵢ Lᵢ           gradient G
/// Mean   (1/n)·Σᵢ Lᵢ     gradient G/n     (CS231n's svm_loss_vectorized; PyTorch's default)
/// ```
/// The kink convention is the loss's own, unchanged by the scaling.
///
/// # Example
/// ```
/// use losses::multiclass::Reduction;
/// use losses::MulticlassLoss;
/// # fn main() -> losses::Result<()> {
/// // CS231n's three images: losses 2.9, 0 and 12.9, mean 15.8/3.
/// let scores = [3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1];
/// let ww = MulticlassLoss::weston_watkins();
/// let (l, _) = ww.value_grad_reduced(&scores, 3, &[0, 1, 2], Reduction::Mean)?;
/// assert!((l - 15.8 / 3.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// `Σᵢ Lᵢ`, what [`MulticlassLoss::value_grad`] and [`MulticlassLoss::on_tape`] return.
    #[default]
    Sum,
    /// `(1/n)·Σᵢ Lᵢ`, the mean over the `n` examples.
    Mean,
}

impl Reduction {
    /// The factor on `Σᵢ Lᵢ` for `n` examples: 1, or `1/n`.
    ///
    /// # Errors
    /// [`Error::Empty`] for the mean of no example.
    fn factor(self, n: usize) -> Result<f64> {
        match self {
            Reduction::Sum => Ok(1.0),
            Reduction::Mean if n == 0 => Err(Error::Empty {
                what: "the examples (a mean needs one)",
            }),
            Reduction::Mean => Ok(1.0 / n as f64),
        }
    }
}

/// Which multiclass loss.
///
/// # Example
/// ```
/// use losses::MulticlassLoss;
/// // CS231n's example: scores (cat, car, frog) = (3.2, 5.1, −1.7) for a cat: 2.9.
/// let (losses, _) = MulticlassLoss::weston_watkins().per_example(&[3.2, 5.1, -1.7], 3, &[0])?;
/// assert!((losses[0] - 2.9).abs() < 1e-12);
/// # Ok::<(), losses::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MulticlassLoss {
    /// Weston–Watkins: a hinge per wrong class.
    WestonWatkins {
        /// The margin Δ.
        delta: f64,
        /// Square each hinge.
        squared: bool,
        /// Divide by the number of classes `K` (PyTorch's `multi_margin_loss`).
        scale_by_classes: bool,
    },
    /// Crammer–Singer: one hinge against the best wrong class.
    CrammerSinger {
        /// Square the hinge (the L2 form).
        squared: bool,
    },
}

impl MulticlassLoss {
    /// Weston–Watkins with Δ = 1, unsquared, unscaled (the CS231n form).
    pub fn weston_watkins() -> Self {
        MulticlassLoss::WestonWatkins {
            delta: 1.0,
            squared: false,
            scale_by_classes: false,
        }
    }

    /// Crammer–Singer, unsquared.
    pub fn crammer_singer() -> Self {
        MulticlassLoss::CrammerSinger { squared: false }
    }

    fn validate(&self, scores: &[f64], k: usize, labels: &[usize]) -> Result<usize> {
        if let MulticlassLoss::WestonWatkins { delta, .. } = *self {
            if !delta.is_finite() {
                return Err(Error::InvalidParameter {
                    name: "delta",
                    value: delta,
                    range: "finite",
                });
            }
        }
        if k == 0 {
            return Err(Error::Empty {
                what: "the class list",
            });
        }
        let n = labels.len();
        check_len("scores (n·K)", n * k, scores.len())?;
        check_classes(labels, k)?;
        check_finite("scores", scores)?;
        Ok(n)
    }

    /// Per-example losses `Lᵢ` and the gradient `G = ∂(Σ Lᵢ)/∂S`, closed form.
    ///
    /// # Errors
    /// [`Error::ClassOutOfRange`], [`Error::LengthMismatch`], [`Error::NonFinite`],
    /// [`Error::InvalidParameter`], [`Error::Empty`] (no class).
    pub fn per_example(
        &self,
        scores: &[f64],
        k: usize,
        labels: &[usize],
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.validate(scores, k, labels)?;
        let mut losses = vec![0.0; n];
        let mut g = vec![0.0; n * k];
        for (i, &y) in labels.iter().enumerate() {
            let s = &scores[i * k..(i + 1) * k];
            let gi = &mut g[i * k..(i + 1) * k];
            match *self {
                MulticlassLoss::WestonWatkins {
                    delta,
                    squared,
                    scale_by_classes,
                } => {
                    let c = class_scale(scale_by_classes, k);
                    for j in (0..k).filter(|&j| j != y) {
                        let t = s[j] - s[y] + delta;
                        let (value, slope) = if squared {
                            (t.max(0.0).powi(2), 2.0 * t.max(0.0))
                        } else {
                            (t.max(0.0), if t > 0.0 { 1.0 } else { 0.0 })
                        };
                        losses[i] += c * value;
                        gi[j] += c * slope;
                        gi[y] -= c * slope;
                    }
                }
                MulticlassLoss::CrammerSinger { squared } => {
                    let shifted = |r: usize| s[r] + if r == y { 0.0 } else { 1.0 };
                    let best = (0..k).map(shifted).fold(f64::NEG_INFINITY, f64::max);
                    let tied = (0..k).filter(|&r| shifted(r) == best).count();
                    let l = best - s[y];
                    let (value, slope) = if squared { (l * l, 2.0 * l) } else { (l, 1.0) };
                    losses[i] = value;
                    if slope != 0.0 {
                        // row_max's rule: 1/k to each of the k tied maxima.
                        let share = slope / tied as f64;
                        for r in (0..k).filter(|&r| shifted(r) == best) {
                            gi[r] += share;
                        }
                        gi[y] -= slope;
                    }
                }
            }
        }
        Ok((losses, g))
    }

    /// `Σᵢ Lᵢ` and `G`, closed form.
    ///
    /// # Errors
    /// As [`MulticlassLoss::per_example`].
    pub fn value_grad(
        &self,
        scores: &[f64],
        k: usize,
        labels: &[usize],
    ) -> Result<(f64, Vec<f64>)> {
        let (l, g) = self.per_example(scores, k, labels)?;
        Ok((l.iter().sum(), g))
    }

    /// `Σᵢ Lᵢ` or `(1/n)·Σᵢ Lᵢ` and its gradient (`G` or `G/n`), closed form.
    ///
    /// Kink: as [`MulticlassLoss::per_example`]; for Weston–Watkins a tie
    /// `s_ij − s_iyᵢ + Δ = 0` contributes 0, CS231n's `margins > 0` mask.
    ///
    /// # Errors
    /// As [`MulticlassLoss::per_example`]; [`Error::Empty`] for the mean of no example.
    ///
    /// # Example
    /// ```
    /// use losses::multiclass::Reduction;
    /// use losses::MulticlassLoss;
    /// # fn main() -> losses::Result<()> {
    /// // Scores (1, 0), label 0: t = 0 − 1 + 1 = 0 is the kink, counted as 0.
    /// let ww = MulticlassLoss::weston_watkins();
    /// assert_eq!(ww.value_grad_reduced(&[1.0, 0.0], 2, &[0], Reduction::Mean)?, (0.0, vec![0.0, 0.0]));
    /// # Ok(()) }
    /// ```
    pub fn value_grad_reduced(
        &self,
        scores: &[f64],
        k: usize,
        labels: &[usize],
        reduction: Reduction,
    ) -> Result<(f64, Vec<f64>)> {
        let (l, mut g) = self.value_grad(scores, k, labels)?;
        let factor = reduction.factor(labels.len())?;
        if reduction == Reduction::Sum {
            return Ok((l, g));
        }
        for v in &mut g {
            *v *= factor;
        }
        Ok((l * factor, g))
    }

    /// The primitive form reduced: [`MulticlassLoss::on_tape`], scaled by `1/n` for
    /// [`Reduction::Mean`].
    ///
    /// # Errors
    /// As [`MulticlassLoss::on_tape`]; [`Error::Empty`] for the mean of no example.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// use losses::multiclass::Reduction;
    /// use losses::MulticlassLoss;
    /// # fn main() -> losses::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let s = tape.param(&[3.2, 5.1, -1.7, 1.3, 4.9, 2.0], Shape::matrix(2, 3))?;
    /// let l = MulticlassLoss::weston_watkins().on_tape_reduced(s, &[0, 1], Reduction::Mean)?;
    /// assert!((l.item() - 2.9 / 2.0).abs() < 1e-12);
    /// assert_eq!(l.backward()?.wrt(s), &[-0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn on_tape_reduced<'t, T: Real>(
        &self,
        scores: Var<'t, T>,
        labels: &[usize],
        reduction: Reduction,
    ) -> Result<Var<'t, T>> {
        let total = self.on_tape(scores, labels)?;
        Ok(match reduction {
            Reduction::Sum => total,
            Reduction::Mean => total.scale(T::cst(Reduction::Mean.factor(labels.len())?)),
        })
    }

    /// A linear model's objective `F(W)` for scores `S = X·W` (`X` is `n × d`, `W` is `d × K`,
    /// row-major) and its gradient `∂F/∂W`, closed form:
    ///
    /// ```text
    /// Liblinear { c }:      F = ½·Σ W² + C·Σᵢ Lᵢ          ∂F/∂W = W + C·Xᵀ·G
    /// Lambda { lambda }:    F = (1/n)·Σᵢ Lᵢ + λ·Σ W²      ∂F/∂W = Xᵀ·G/n + 2λ·W
    /// ```
    /// CS231n's `svm_loss_vectorized(W, X, y, reg)` is Weston–Watkins with Δ = 1 and
    /// `Lambda { lambda: reg }`: the mean over examples plus `reg·Σ W²`, no ½. Kink: as
    /// [`MulticlassLoss::per_example`] (Weston–Watkins: a tie counts 0, CS231n's
    /// `margins > 0` mask).
    ///
    /// # Errors
    /// As [`MulticlassLoss::linear_value_grad`]; [`Error::InvalidParameter`] for `C ≤ 0` or
    /// `λ < 0`; [`Error::Empty`] for the λ-form of no example.
    ///
    /// # Example
    /// ```
    /// use losses::{MulticlassLoss, Objective};
    /// # fn main() -> losses::Result<()> {
    /// // x = (1), W = (0, 0), label 0: loss 1, G = (−1, 1); reg = 0.5 adds 0.5·Σ W² = 0.
    /// let cs231n = Objective::Lambda { lambda: 0.5 };
    /// let ww = MulticlassLoss::weston_watkins();
    /// assert_eq!(ww.linear_objective(cs231n, &[1.0], 1, &[0], &[0.0, 0.0], 2)?, (1.0, vec![-1.0, 1.0]));
    /// # Ok(()) }
    /// ```
    pub fn linear_objective(
        &self,
        objective: Objective,
        x: &[f64],
        d: usize,
        labels: &[usize],
        w: &[f64],
        k: usize,
    ) -> Result<(f64, Vec<f64>)> {
        objective.validate()?;
        let (sum, dw) = self.linear_value_grad(x, d, labels, w, k)?;
        let norm2: f64 = w.iter().map(|v| v * v).sum();
        Ok(match objective {
            Objective::Liblinear { c } => (
                0.5 * norm2 + c * sum,
                dw.iter().zip(w).map(|(g, wj)| wj + c * g).collect(),
            ),
            Objective::Lambda { lambda } => {
                let mean = Reduction::Mean.factor(labels.len())?;
                (
                    sum * mean + lambda * norm2,
                    dw.iter()
                        .zip(w)
                        .map(|(g, wj)| g * mean + 2.0 * lambda * wj)
                        .collect(),
                )
            }
        })
    }

    /// The primitive form of [`MulticlassLoss::linear_objective`]: `x` (`[n, d]`) times the
    /// parameter `w` (`[d, K]`) on the tape, the loss of those scores, and the regulariser
    /// (`½·sum(W²)` or `λ·sum(W²)`), for the engine to differentiate.
    ///
    /// # Errors
    /// As [`MulticlassLoss::on_tape`]; engine errors on shapes; [`Error::InvalidParameter`]
    /// for `C ≤ 0` or `λ < 0`; [`Error::Empty`] for the λ-form of no example.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// use losses::{MulticlassLoss, Objective};
    /// # fn main() -> losses::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&[1.0], Shape::matrix(1, 1))?;
    /// let w = tape.param(&[0.0, 0.0], Shape::matrix(1, 2))?;
    /// let ww = MulticlassLoss::weston_watkins();
    /// let f = ww.linear_objective_on_tape(Objective::Lambda { lambda: 0.5 }, x, w, &[0])?;
    /// assert_eq!((f.item(), f.backward()?.wrt(w).to_vec()), (1.0, vec![-1.0, 1.0]));
    /// # Ok(()) }
    /// ```
    pub fn linear_objective_on_tape<'t, T: Real>(
        &self,
        objective: Objective,
        x: Var<'t, T>,
        w: Var<'t, T>,
        labels: &[usize],
    ) -> Result<Var<'t, T>> {
        objective.validate()?;
        let scores = x.try_matmul(w)?;
        Ok(match objective {
            Objective::Liblinear { c } => {
                l2_on_tape(w).try_add(self.on_tape(scores, labels)?.scale(T::cst(c)))?
            }
            Objective::Lambda { lambda } => self
                .on_tape_reduced(scores, labels, Reduction::Mean)?
                .try_add(w.square().sum().scale(T::cst(lambda)))?,
        })
    }

    /// Whether `g` (an `n × K` matrix, like `G = ∂L/∂S`) lies in the closed form's
    /// subdifferential of `Σᵢ Lᵢ` at `scores`, up to `tol` per entry.
    ///
    /// ```text
    /// WW:  row i = c·Σ_{j≠yᵢ} ξᵢⱼ·(e_j − e_yᵢ),  ξᵢⱼ ∈ ∂h(tᵢⱼ)
    ///      ∂h(t) = {0} (t < 0), [0, 1] (t = 0), {1} (t > 0) for the hinge; {2·max(0, t)} squared
    /// CS:  row i = h'(Lᵢ)·(Σ_{r∈T} λ_r·e_r − e_yᵢ),  λ ≥ 0, Σ λ_r = 1,  T = the tied maxima
    ///      h' = 1 (hinge) or 2·Lᵢ (squared, so {0} when Lᵢ = 0)
    /// ```
    /// The rows are independent, so membership is checked row by row, exactly (no search).
    ///
    /// # Errors
    /// As [`MulticlassLoss::per_example`], and [`Error::LengthMismatch`] if `g` is not `n × K`.
    ///
    /// # Example
    /// ```
    /// use losses::MulticlassLoss;
    /// # fn main() -> losses::Result<()> {
    /// // Scores (1, 0, 0), label 0: Crammer–Singer has s + Δ = (1, 1, 1), three tied maxima.
    /// let cs = MulticlassLoss::crammer_singer();
    /// let third = 1.0 / 3.0;
    /// assert!(cs.in_subdifferential(&[1.0, 0.0, 0.0], 3, &[0], &[third - 1.0, third, third], 1e-12)?);
    /// assert!(cs.in_subdifferential(&[1.0, 0.0, 0.0], 3, &[0], &[-1.0, 1.0, 0.0], 1e-12)?);
    /// assert!(!cs.in_subdifferential(&[1.0, 0.0, 0.0], 3, &[0], &[-1.0, 0.5, 0.0], 1e-12)?);
    /// # Ok(()) }
    /// ```
    pub fn in_subdifferential(
        &self,
        scores: &[f64],
        k: usize,
        labels: &[usize],
        g: &[f64],
        tol: f64,
    ) -> Result<bool> {
        let n = self.validate(scores, k, labels)?;
        check_len("g (n·K)", n * k, g.len())?;
        let near = |a: f64, b: f64| (a - b).abs() <= tol;
        for (i, &y) in labels.iter().enumerate() {
            let s = &scores[i * k..(i + 1) * k];
            let gi = &g[i * k..(i + 1) * k];
            let ok = match *self {
                MulticlassLoss::WestonWatkins {
                    delta,
                    squared,
                    scale_by_classes,
                } => {
                    let c = class_scale(scale_by_classes, k);
                    let others_ok = (0..k).filter(|&j| j != y).all(|j| {
                        let t = s[j] - s[y] + delta;
                        let xi = gi[j] / c;
                        if squared {
                            near(gi[j], c * 2.0 * t.max(0.0))
                        } else if t > 0.0 {
                            near(gi[j], c)
                        } else if t < 0.0 {
                            near(gi[j], 0.0)
                        } else {
                            (-tol..=1.0 + tol).contains(&xi)
                        }
                    });
                    let rest: f64 = (0..k).filter(|&j| j != y).map(|j| gi[j]).sum();
                    others_ok && near(gi[y], -rest)
                }
                MulticlassLoss::CrammerSinger { squared } => {
                    let shifted = |r: usize| s[r] + if r == y { 0.0 } else { 1.0 };
                    let best = (0..k).map(shifted).fold(f64::NEG_INFINITY, f64::max);
                    let l = best - s[y];
                    let slope = if squared { 2.0 * l } else { 1.0 };
                    if slope == 0.0 {
                        gi.iter().all(|&v| near(v, 0.0))
                    } else {
                        // λ_r = g_r/slope + [r = y] must be a distribution on the tied set.
                        let lambda = |r: usize| gi[r] / slope + if r == y { 1.0 } else { 0.0 };
                        let support_ok = (0..k).all(|r| {
                            if shifted(r) == best {
                                lambda(r) >= -tol
                            } else {
                                near(gi[r], if r == y { -slope } else { 0.0 })
                            }
                        });
                        let total: f64 = (0..k).map(lambda).sum();
                        support_ok && (total - 1.0).abs() <= tol
                    }
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The linear model `S = X·W` (`X` is `n × d`, `W` is `d × K`, row-major): `Σ Lᵢ` and
    /// `∂/∂W = Xᵀ·G`, closed form.
    ///
    /// # Errors
    /// As [`MulticlassLoss::per_example`], and length mismatches of `x` and `w`.
    ///
    /// # Example
    /// ```
    /// use losses::MulticlassLoss;
    /// # fn main() -> losses::Result<()> {
    /// // One example x = (1), K = 2, W = (0, 0): scores (0, 0), label 0: WW loss max(0, 0 − 0 + 1) = 1,
    /// // G = (−1, 1), ∂/∂W = xᵀ·G = (−1, 1).
    /// let (l, dw) = MulticlassLoss::weston_watkins().linear_value_grad(&[1.0], 1, &[0], &[0.0, 0.0], 2)?;
    /// assert_eq!((l, dw), (1.0, vec![-1.0, 1.0]));
    /// # Ok(()) }
    /// ```
    pub fn linear_value_grad(
        &self,
        x: &[f64],
        d: usize,
        labels: &[usize],
        w: &[f64],
        k: usize,
    ) -> Result<(f64, Vec<f64>)> {
        let n = labels.len();
        check_len("x (n·d)", n * d, x.len())?;
        check_len("w (d·K)", d * k, w.len())?;
        check_finite("x", x)?;
        check_finite("w", w)?;
        let mut scores = vec![0.0; n * k];
        for i in 0..n {
            for (j, &xij) in x[i * d..(i + 1) * d].iter().enumerate() {
                if xij != 0.0 {
                    for (s, &wv) in scores[i * k..(i + 1) * k]
                        .iter_mut()
                        .zip(&w[j * k..(j + 1) * k])
                    {
                        *s += xij * wv;
                    }
                }
            }
        }
        let (l, g) = self.value_grad(&scores, k, labels)?;
        let mut dw = vec![0.0; d * k];
        for i in 0..n {
            let gi = &g[i * k..(i + 1) * k];
            if gi.iter().all(|&v| v == 0.0) {
                continue;
            }
            for (j, &xij) in x[i * d..(i + 1) * d].iter().enumerate() {
                for (o, &gv) in dw[j * k..(j + 1) * k].iter_mut().zip(gi) {
                    *o += xij * gv;
                }
            }
        }
        Ok((l, dw))
    }

    /// The primitive form on a tape: `Σᵢ Lᵢ` of the `[n, K]` score node `scores`.
    ///
    /// ```text
    /// WW:  c·Σ h(S − gather(S, y) + Δ·(1 − onehot) − onehot)
    ///      (gather(S, y) as an [n, 1] column, broadcast along each row of S; the true-class
    ///       entries are s_y − s_y − 1 = −1 exactly, so relu is strictly off there: no
    ///       spurious kink)
    /// CS:  Σ h(row_max(S + Δ·(1 − onehot)) − gather(S, y)),   Δ = 1
    ///      (the max includes the true class with Δ_y = 0, so the value is ≥ 0 and the outer
    ///       max(0, ·) is already there)
    /// ```
    /// Kinks under the default `MinNorm` policy, which the closed forms reproduce exactly:
    /// WW at `tᵢⱼ = 0` takes `relu'(0) = 0`; CS at `k` tied maxima takes `1/k` per tied class
    /// (`row_max`'s rule), including the true class when the margin is exactly met.
    ///
    /// # Errors
    /// Label errors as [`MulticlassLoss::per_example`]; engine errors on shapes.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// use losses::MulticlassLoss;
    /// # fn main() -> losses::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let s = tape.param(&[3.2, 5.1, -1.7], Shape::matrix(1, 3))?;
    /// let l = MulticlassLoss::weston_watkins().on_tape(s, &[0])?;
    /// assert!((l.item() - 2.9).abs() < 1e-12);
    /// assert_eq!(l.backward()?.wrt(s), &[-1.0, 1.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn on_tape<'t, T: Real>(&self, scores: Var<'t, T>, labels: &[usize]) -> Result<Var<'t, T>> {
        let shape = scores.shape();
        let (n, k) = (shape.rows(), shape.cols());
        if shape.rank() != 2 {
            return Err(autodiff::Error::InvalidShape {
                op: "multiclass loss",
                expected: "an [n, K] score matrix",
                shape,
            }
            .into());
        }
        check_len("labels", n, labels.len())?;
        check_classes(labels, k)?;
        let c = T::cst;
        let tape = scores.tape();
        let true_score = scores.try_gather(labels)?;
        Ok(match *self {
            MulticlassLoss::WestonWatkins {
                delta,
                squared,
                scale_by_classes,
            } => {
                if !delta.is_finite() {
                    return Err(Error::InvalidParameter {
                        name: "delta",
                        value: delta,
                        range: "finite",
                    });
                }
                let shift: Vec<T> = (0..n * k)
                    .map(|q| c(if q % k == labels[q / k] { -1.0 } else { delta }))
                    .collect();
                // An [n, 1] column goes along the rows even when n = K, where an [n] vector
                // would go along the columns.
                let t = scores
                    .try_sub(true_score.try_reshape(Shape::matrix(n, 1))?)?
                    .try_add(tape.constant(&shift, shape)?)?
                    .relu();
                let t = if squared { t.square() } else { t };
                let scale = class_scale(scale_by_classes, k);
                t.sum().scale(c(scale))
            }
            MulticlassLoss::CrammerSinger { squared } => {
                let delta: Vec<T> = (0..n * k)
                    .map(|q| c(if q % k == labels[q / k] { 0.0 } else { 1.0 }))
                    .collect();
                let best = scores
                    .try_add(tape.constant(&delta, shape)?)?
                    .try_row_max()?;
                let l = best.try_sub(true_score)?;
                if squared {
                    l.square().sum()
                } else {
                    l.sum()
                }
            }
        })
    }
}

/// Weston–Watkins' factor on each example's loss: `1/K` with `scale_by_classes`, else 1.
fn class_scale(scale_by_classes: bool, k: usize) -> f64 {
    if scale_by_classes {
        1.0 / k as f64
    } else {
        1.0
    }
}
