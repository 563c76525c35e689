//! Solvers for the linear SVM primal `f(w) = ½‖w‖² + C·Σᵢ ℓ(yᵢ·w·xᵢ)` (liblinear's convention;
//! a bias is an appended constant feature, regularised like the rest), one file each, on dense
//! or sparse rows alike ([`crate::matrix::Row`]).
//!
//! | solver | losses | certificate |
//! | --- | --- | --- |
//! | [`dual_cd`] (Hsieh et al. 2008, shrinking) | hinge, squared hinge | duality gap `f(w) − D(α)` |
//! | [`interior_point`] (primal–dual, Mehrotra; `d ≤ 1024`) | hinge | duality gap |
//! | [`newton`] (exact generalised Hessian, Cholesky, Armijo; `d ≤ 4096`) | squared hinge | `‖∇f(w)‖` |
//! | [`newton_cg`] (truncated Newton: CG on Hessian–vector products, line search; cf. liblinear's `-s 2`) | squared hinge | `‖∇f(w)‖` |
//! | [`crammer_singer`] (sequential dual, Keerthi et al. 2008; liblinear's `-s 4`) | multiclass hinge | duality gap |
//! | [`crammer_singer_squared`] (sequential dual, Lee & Lin 2013) | multiclass squared hinge | duality gap |
//! | [`crammer_singer_interior_point`] (primal–dual, Mehrotra; `k·d ≤ 1024`) | multiclass hinge and squared hinge | duality gap |
//! | [`subgradient`] (steps `η/k` along `−g/‖g‖`, iterate averaging; [`subgradient_with`]: the settings of [`FirstOrderOptions`]) | any | none |
//! | [`pegasos`] (SGD, λ-form) | hinge, squared hinge | none |
//! | [`nesterov`] (accelerated gradient, Armijo backtracking) | smooth: squared hinge, ψ_G, ψ_M, … | `‖∇f(w)‖` |
//! | [`all_pairs`] (gradient descent, Armijo backtracking) | all-pairs squared hinge (ranking) | `‖∇f(w)‖` |
//!
//! **Tolerances read as accuracy.** Every exact solver stops when its certificate bounds the
//! relative objective error by `tol`: `f(w) − D(α) ≤ tol·f(w)` for the duals, and
//! `‖∇f(w)‖²/2 ≤ tol·f(w)` for the smooth solvers (`f` is 1-strongly convex, so
//! `f(w) − f* ≤ ‖∇f(w)‖²/2`).
//!
//! The first-order methods can take their gradients from the engine or from the closed forms
//! ([`GradientSource`]), so the two can be compared; `train --gradient` selects it. The engine
//! path needs dense rows and densifies sparse ones up to [`crate::data::MAX_DENSE_ELEMENTS`].

mod all_pairs;
mod crammer_singer;
mod crammer_singer_interior_point;
mod crammer_singer_squared;
mod dual_cd;
mod exact_hinge;
mod face_cg;
mod interior_point;
mod line_search;
mod nesterov;
mod newton;
mod newton_cg;
mod oracle;
mod pegasos;
mod subgradient;

pub use all_pairs::all_pairs;
pub use crammer_singer::{crammer_singer, MulticlassProblem};
pub use crammer_singer_interior_point::{
    crammer_singer_interior_point, crammer_singer_interior_point_suits,
};
pub use crammer_singer_squared::crammer_singer_squared;
pub use dual_cd::dual_cd;
pub use exact_hinge::exact_hinge;
pub use interior_point::{interior_point, interior_point_suits, MAX_INTERIOR_POINT_FEATURES};
pub use nesterov::{nesterov, nesterov_with};
pub use newton::{newton, newton_with, MAX_NEWTON_FEATURES};
pub use newton_cg::{newton_cg, newton_cg_with};
pub use pegasos::{pegasos, pegasos_with};
pub use subgradient::{subgradient, subgradient_with, FirstOrderOptions};

use losses::MarginLoss;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::matrix::{Features, Row};

/// The largest penalty `C` the solvers (and [`crate::model::train`]) accept: 10¹⁰⁰.
///
/// The objective `½‖w‖² + C·Σ ℓ` and the solvers' squared norms must stay below `f64::MAX`
/// (≈ 1.8·10³⁰⁸). For the hinge the optimum is `w = Σ αᵢyᵢxᵢ` with `0 ≤ αᵢ ≤ C`, so
/// `‖w‖² ≤ C²·(Σ‖xᵢ‖)²`: with `C ≤ 10¹⁰⁰`, `C² ≤ 10²⁰⁰` leaves a factor 10¹⁰⁸ for the data, where
/// a `C` past 10¹⁵⁴ would overflow `C²` itself. Results that still overflow are reported as
/// [`Error::NonFinite`] by `train`, never as a success.
pub const MAX_C: f64 = 1e100;

/// Checks a stopping tolerance: finite and `> 0`.
fn check_tol(tol: f64) -> Result<()> {
    if tol.is_finite() && tol > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "tol",
            value: tol,
            range: "finite, > 0",
        })
    }
}

/// Checks a penalty: `0 < C ≤` [`MAX_C`].
fn check_c(c: f64) -> Result<()> {
    if c.is_finite() && c > 0.0 && c <= MAX_C {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "C",
            value: c,
            range: "0 < C ≤ 1e100",
        })
    }
}

/// Checks an iteration budget: at least 1.
fn check_iterations(name: &'static str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            value: 0.0,
            range: "≥ 1",
        })
    }
}

/// `‖v‖²`.
fn sq_norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum()
}

/// Stored values from which [`Problem::margins`] spreads its rows over rayon's pool (about a
/// millisecond of work on one core).
pub(crate) const PARALLEL_MARGINS: usize = 1 << 20;

/// A training problem: rows `x` (`n × d`, dense or sparse), labels `y = ±1`, penalty `C`, and
/// optionally one weight `sᵢ > 0` per example (liblinear's `-wi`, scikit-learn's
/// `class_weight` and `sample_weight`), so that example `i` has the penalty `Cᵢ = C·sᵢ`:
///
/// ```text
/// f(w) = ½‖w‖² + Σᵢ Cᵢ·ℓ(yᵢ·w·xᵢ),   Cᵢ = C·sᵢ   (Cᵢ = C without weights)
/// ```
///
/// Every solver minimises this objective; with integer weights it equals the unweighted
/// objective on the data with example `i` repeated `sᵢ` times.
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::Problem;
/// let x = Features::from(vec![1.0, 0.0, 0.0, 1.0]);
/// let p = Problem { x: &x, d: 2, y: &[1.0, -1.0], c: 1.0, example_weights: None };
/// // f(0) = ½·0 + C·Σ max(0, 1 − 0) = 2, ∇f(0) = −C·Σ yᵢxᵢ = (−1, 1).
/// assert_eq!(p.objective(losses::MarginLoss::hinge(), &[0.0, 0.0])?, (2.0, vec![-1.0, 1.0]));
/// // Weights 3 and 1: f(0) = 3·1 + 1·1 = 4, ∇f(0) = −(3·x₀ − x₁) = (−3, 1).
/// let weighted = Problem { example_weights: Some(&[3.0, 1.0]), ..p };
/// assert_eq!(weighted.objective(losses::MarginLoss::hinge(), &[0.0, 0.0])?, (4.0, vec![-3.0, 1.0]));
/// # Ok::<(), svm::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// The rows.
    pub x: &'a Features,
    /// Number of features.
    pub d: usize,
    /// Labels ±1.
    pub y: &'a [f64],
    /// The penalty, `0 < C ≤` [`MAX_C`].
    pub c: f64,
    /// One weight per example (finite, `> 0`; example `i` gets the penalty `C·sᵢ`), or `None`
    /// for weight 1 everywhere.
    pub example_weights: Option<&'a [f64]>,
}

impl Problem<'_> {
    /// Number of examples.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Example `i`'s penalty `Cᵢ = C·sᵢ` (`C` without weights).
    ///
    /// # Panics
    /// If `i ≥ n` with weights (a programmer error; [`Problem`]'s solvers check the weights'
    /// length first).
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Features;
    /// let x = Features::from(vec![1.0, 2.0]);
    /// let p = svm::solvers::Problem { x: &x, d: 1, y: &[1.0, -1.0], c: 2.0, example_weights: Some(&[0.5, 3.0]) };
    /// assert_eq!((p.c_of(0), p.c_of(1)), (1.0, 6.0));
    /// ```
    #[track_caller]
    pub fn c_of(&self, i: usize) -> f64 {
        match self.example_weights {
            Some(s) => self.c * s[i],
            None => self.c,
        }
    }

    /// `(Σᵢ nnzᵢ², Σᵢ nnzᵢ)` per row (a dense row counts `d`): what one interior-point
    /// normal matrix and one coordinate-descent epoch cost, up to constant factors.
    pub(crate) fn row_work(&self) -> (usize, usize) {
        match self.x {
            Features::Dense(_) => (self.n() * self.d * self.d, self.n() * self.d),
            Features::Sparse(m) => {
                let lengths = m.indptr().windows(2).map(|w| w[1] - w[0]);
                (lengths.clone().map(|l| l * l).sum(), lengths.sum())
            }
        }
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i ≥ n` or the rows do not match `n` (see the solvers' input checks).
    #[track_caller]
    pub fn row(&self, i: usize) -> Row<'_> {
        self.x.row(i, self.d)
    }

    fn check(&self) -> Result<()> {
        check_c(self.c)?;
        if self.n() == 0 {
            return Err(Error::Empty);
        }
        if self.d == 0 {
            return Err(Error::NoFeatures);
        }
        crate::data::check_features(self.x, self.d, self.n())?;
        if let Some(i) = self.y.iter().position(|&v| v != 1.0 && v != -1.0) {
            return Err(Error::Labels(format!(
                "label {} of example {i} is not ±1",
                self.y[i]
            )));
        }
        check_example_weights(self.example_weights, self.c, self.n())
    }

    /// The margins `zᵢ = yᵢ·w·xᵢ`.
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Features;
    /// let x = Features::from(vec![1.0, 2.0]);
    /// let p = svm::solvers::Problem { x: &x, d: 1, y: &[1.0, -1.0], c: 1.0, example_weights: None };
    /// assert_eq!(p.margins(&[3.0]), vec![3.0, -6.0]);
    /// ```
    pub fn margins(&self, w: &[f64]) -> Vec<f64> {
        let mut z = vec![0.0; self.n()];
        self.margins_into(w, &mut z);
        z
    }

    /// [`Problem::margins`] written into `z` (of length `n`), for a caller that reuses it.
    ///
    /// Rows are independent, so above [`PARALLEL_MARGINS`] stored values they are computed in
    /// blocks on rayon's pool, with the same bits.
    pub(crate) fn margins_into(&self, w: &[f64], z: &mut [f64]) {
        let rows = |first: usize, z: &mut [f64]| {
            for (k, zi) in z.iter_mut().enumerate() {
                *zi = self.y[first + k] * self.row(first + k).dot(w);
            }
        };
        let stored = match self.x {
            Features::Dense(v) => v.len(),
            Features::Sparse(m) => m.nnz(),
        };
        if stored < PARALLEL_MARGINS || z.is_empty() {
            return rows(0, z);
        }
        let per = z.len().div_ceil(64).max(1);
        z.par_chunks_mut(per)
            .enumerate()
            .for_each(|(b, z)| rows(b * per, z));
    }

    /// `f(w) = ½‖w‖² + Σ Cᵢ·ℓ(yᵢ·w·xᵢ)` and its gradient `w + Σ Cᵢ·ℓ'(zᵢ)·yᵢ·xᵢ`, closed form
    /// (`ℓ'` is the loss's documented derivative, its convention at a kink included).
    ///
    /// # Errors
    /// [`Error::Loss`] for a loss with a bad parameter.
    pub fn objective(&self, loss: MarginLoss, w: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.objective_with(loss, w, true, 0.0)
    }

    /// [`Problem::objective`] with or without the regulariser (`f(w) = C·Σ ℓ(zᵢ)` when
    /// `regularize` is `false`) and with the kink rule `relu'(0) = relu_at_zero`: the hinge
    /// `relu(m − z)` then has `ℓ'(m) = −relu_at_zero` at its kink, as the engine computes under
    /// a policy with that rule (the other margin losses are C¹, their derivative does not
    /// depend on it).
    ///
    /// # Errors
    /// [`Error::Loss`] for a loss with a bad parameter.
    ///
    /// # Example
    /// ```
    /// use losses::MarginLoss;
    /// use svm::matrix::Features;
    /// use svm::solvers::Problem;
    /// let x = Features::from(vec![1.0, 2.0]);
    /// let p = Problem { x: &x, d: 1, y: &[1.0, 1.0], c: 1.0, example_weights: None };
    /// // w = 1: example 0 is on the margin (z = 1), example 1 beyond it (z = 2). Counted as
    /// // violated (relu'(0) = 1): ∂ = −y₀·x₀ = −1; f = Σ hinge = 0, no ½‖w‖².
    /// assert_eq!(p.objective_with(MarginLoss::hinge(), &[1.0], false, 1.0)?, (0.0, vec![-1.0]));
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn objective_with(
        &self,
        loss: MarginLoss,
        w: &[f64],
        regularize: bool,
        relu_at_zero: f64,
    ) -> Result<(f64, Vec<f64>)> {
        self.objective_collecting(loss, w, regularize, relu_at_zero, None)
    }

    /// [`Problem::objective_with`], also leaving in `active` (when given) the rows whose loss
    /// derivative is not zero, in order — for the squared hinge, those with `yᵢ·w·xᵢ < 1`, the
    /// rows of the generalised Hessian — found in the same pass.
    pub(crate) fn objective_collecting(
        &self,
        loss: MarginLoss,
        w: &[f64],
        regularize: bool,
        relu_at_zero: f64,
        mut active: Option<&mut Vec<usize>>,
    ) -> Result<(f64, Vec<f64>)> {
        loss.validate()?;
        if let Some(a) = active.as_deref_mut() {
            a.clear();
        }
        let mut g = if regularize {
            w.to_vec()
        } else {
            vec![0.0; w.len()]
        };
        let mut sum = 0.0;
        for i in 0..self.n() {
            let row = self.row(i);
            let z = self.y[i] * row.dot(w);
            let ci = self.c_of(i);
            sum += ci * loss.value(z);
            let dz = match loss {
                MarginLoss::Hinge { margin } if z == margin => -relu_at_zero,
                _ => loss.derivative(z),
            };
            if dz != 0.0 {
                row.axpy(ci * dz * self.y[i], &mut g);
                if let Some(a) = active.as_deref_mut() {
                    a.push(i);
                }
            }
        }
        let reg = if regularize { 0.5 * sq_norm(w) } else { 0.0 };
        Ok((reg + sum, g))
    }

    /// `f(w)` alone (no gradient).
    fn value(&self, loss: MarginLoss, w: &[f64]) -> f64 {
        self.value_with(loss, w, true)
    }

    /// `f(w)` alone, with or without the regulariser.
    fn value_with(&self, loss: MarginLoss, w: &[f64], regularize: bool) -> f64 {
        let sum: f64 = (0..self.n())
            .map(|i| self.c_of(i) * loss.value(self.y[i] * self.row(i).dot(w)))
            .sum();
        let reg = if regularize { 0.5 * sq_norm(w) } else { 0.0 };
        reg + sum
    }
}

/// Checks per-example weights: one per example, each finite and `> 0`, and every `C·sᵢ` in
/// `(0,` [`MAX_C`]`]`.
pub(crate) fn check_example_weights(weights: Option<&[f64]>, c: f64, n: usize) -> Result<()> {
    let Some(s) = weights else {
        return Ok(());
    };
    if s.len() != n {
        return Err(Error::Dimension {
            what: "example weights",
            expected: n,
            got: s.len(),
        });
    }
    if let Some(&v) = s.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(Error::InvalidParameter {
            name: "example weight",
            value: v,
            range: "finite, > 0",
        });
    }
    if let Some(&v) = s
        .iter()
        .find(|&&v| !(c * v).is_finite() || c * v > MAX_C || c * v <= 0.0)
    {
        return Err(Error::InvalidParameter {
            name: "C · example weight",
            value: c * v,
            range: "0 < C·weight ≤ 1e100",
        });
    }
    Ok(())
}

/// Where a first-order solver gets its gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GradientSource {
    /// The engine, on the loss built from primitives (default policy).
    Engine,
    /// The hand-derived closed form.
    ClosedForm,
}

/// An optimality certificate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Certificate {
    /// `f(w) − D(α) ≥ f(w) − f*` (the dual solvers).
    DualityGap(f64),
    /// `‖∇f(w)‖` (smooth losses; `f(w) − f* ≤ ‖∇f(w)‖²/2`).
    GradientNorm(f64),
    /// No certificate (subgradient methods).
    None,
}

impl Certificate {
    /// The certificate's number (duality gap or gradient norm), if there is one.
    ///
    /// # Example
    /// ```
    /// use svm::solvers::Certificate;
    /// assert_eq!(Certificate::DualityGap(1e-9).value(), Some(1e-9));
    /// assert_eq!(Certificate::None.value(), None);
    /// ```
    pub fn value(self) -> Option<f64> {
        match self {
            Certificate::DualityGap(v) | Certificate::GradientNorm(v) => Some(v),
            Certificate::None => None,
        }
    }

    /// The bound on `f(w) − f*` the certificate gives: the gap itself, or `‖∇f‖²/2`.
    ///
    /// # Example
    /// ```
    /// use svm::solvers::Certificate;
    /// assert_eq!(Certificate::GradientNorm(0.5).error_bound(), Some(0.125));
    /// ```
    pub fn error_bound(self) -> Option<f64> {
        match self {
            Certificate::DualityGap(v) => Some(v),
            Certificate::GradientNorm(v) => Some(0.5 * v * v),
            Certificate::None => None,
        }
    }
}

/// A solver's result.
#[derive(Debug, Clone, Serialize)]
pub struct Solution {
    /// The weights (for Crammer–Singer the class vectors one after the other).
    pub w: Vec<f64>,
    /// `f(w)`.
    pub objective: f64,
    /// Iterations (epochs for the dual solvers).
    pub iterations: usize,
    /// Whether the stopping tolerance was reached (`false`: stopped at the iteration limit).
    pub converged: bool,
    /// The optimality certificate.
    pub certificate: Certificate,
    /// The objective after each iteration (or each check, for the dual solvers).
    pub history: Vec<f64>,
}

impl Solution {
    /// The solution at `w` with objective `f` proved by a dual lower bound `lower ≤ f*`: the
    /// certificate is the duality gap `max(0, f − lower)`, converged when it is `≤ tol·f`;
    /// one iteration per `history` entry.
    pub(crate) fn with_gap(w: Vec<f64>, f: f64, lower: f64, tol: f64, history: Vec<f64>) -> Self {
        let gap = (f - lower).max(0.0);
        Solution {
            w,
            objective: f,
            iterations: history.len(),
            converged: gap <= tol * f,
            certificate: Certificate::DualityGap(gap),
            history,
        }
    }
}
