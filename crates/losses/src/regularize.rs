//! Regularisers and the two objective conventions.
//!
//! ```text
//! L2(w) = ½‖w‖²      ∇ = w
//! L1(w) = ‖w‖₁       ∂ = sign(w), and at wⱼ = 0 the interval [−1, 1]; 0 is chosen (abs'(0) = 0)
//! liblinear:  F(w) = ½‖w‖² + C·Σᵢ ℓ(zᵢ)
//! λ-form:     F(w) = (1/n)·Σᵢ ℓ(zᵢ) + λ‖w‖²
//! The two have the same minimiser when λ = 1/(2nC):  (1/n)·Σ ℓ + λ‖w‖² = (1/(nC))·(C·Σ ℓ + ½‖w‖²).
//! ```

use autodiff::{Real, Var};

use crate::binary::{linear_value_grad, LinearGrad, MarginLoss};
use crate::error::{Error, Result};

/// `½‖w‖²` and its gradient `w` (smooth: no kink).
///
/// ```text
/// ½‖w‖² = ½·Σⱼ wⱼ²      ∇ = w
/// ```
///
/// # Example
/// ```
/// assert_eq!(losses::l2(&[3.0, 4.0]), (12.5, vec![3.0, 4.0]));
/// ```
pub fn l2(w: &[f64]) -> (f64, Vec<f64>) {
    (0.5 * w.iter().map(|v| v * v).sum::<f64>(), w.to_vec())
}

/// `‖w‖₁` and its subgradient `sign(w)`, 0 at `wⱼ = 0` (the minimum-norm choice, as `abs'(0) = 0`).
///
/// ```text
/// ‖w‖₁ = Σⱼ |wⱼ|      ∂/∂wⱼ = sign(wⱼ);  at wⱼ = 0 the subdifferential is [−1, 1], 0 is chosen
/// ```
///
/// # Example
/// ```
/// assert_eq!(losses::l1(&[-2.0, 0.0, 1.0]), (3.0, vec![-1.0, 0.0, 1.0]));
/// ```
pub fn l1(w: &[f64]) -> (f64, Vec<f64>) {
    let g = w
        .iter()
        .map(|&v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        })
        .collect();
    (w.iter().map(|v| v.abs()).sum(), g)
}

/// `½‖w‖²` from primitives.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let w = tape.param_vec(&[3.0, 4.0])?;
/// let r = losses::l2_on_tape(w);
/// assert_eq!(r.item(), 12.5);
/// assert_eq!(r.backward()?.wrt(w), &[3.0, 4.0]);
/// # Ok(()) }
/// ```
pub fn l2_on_tape<T: Real>(w: Var<'_, T>) -> Var<'_, T> {
    w.square().sum().scale(T::cst(0.5))
}

/// `‖w‖₁` from primitives (`abs`, kinked at 0).
///
/// ```text
/// sum(abs(w)),   abs'(0) = 0 under the default MinNorm policy (as l1 chooses)
/// ```
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let w = tape.param_vec(&[-2.0, 0.0])?;
/// assert_eq!(losses::l1_on_tape(w).backward()?.wrt(w), &[-1.0, 0.0]);
/// # Ok(()) }
/// ```
pub fn l1_on_tape<T: Real>(w: Var<'_, T>) -> Var<'_, T> {
    w.abs().sum()
}

/// Whether `g` lies in the subdifferential of `‖w‖₁` at `w`, up to `tol` per entry.
///
/// ```text
/// ∂‖w‖₁ = { g : gⱼ = sign(wⱼ) if wⱼ ≠ 0,  gⱼ ∈ [−1, 1] if wⱼ = 0 }
/// ```
///
/// # Panics
/// If `g` and `w` differ in length.
///
/// # Example
/// ```
/// assert!(losses::l1_in_subdifferential(&[0.0, -2.0], &[0.25, -1.0], 0.0));
/// assert!(!losses::l1_in_subdifferential(&[0.0, -2.0], &[0.25, 1.0], 0.0));
/// ```
pub fn l1_in_subdifferential(w: &[f64], g: &[f64], tol: f64) -> bool {
    assert_eq!(w.len(), g.len(), "w and g lengths differ");
    w.iter().zip(g).all(|(&wj, &gj)| {
        if wj == 0.0 {
            gj.abs() <= 1.0 + tol
        } else {
            (gj - wj.signum()).abs() <= tol
        }
    })
}

/// The objective convention.
///
/// # Example
/// ```
/// use losses::Objective;
/// // liblinear's C = 1 on 100 examples has the same minimiser as λ = 1/(2·100·1) = 0.005.
/// assert_eq!(Objective::Liblinear { c: 1.0 }.to_lambda(100), Objective::Lambda { lambda: 0.005 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// `½‖w‖² + C·Σᵢ ℓ(zᵢ)`.
    Liblinear {
        /// The penalty `C > 0`.
        c: f64,
    },
    /// `(1/n)·Σᵢ ℓ(zᵢ) + λ‖w‖²`.
    Lambda {
        /// The regularisation `λ ≥ 0`.
        lambda: f64,
    },
}

impl Objective {
    /// The λ-form with the same minimiser on `n` examples (`λ = 1/(2nC)`).
    pub fn to_lambda(self, n: usize) -> Objective {
        match self {
            Objective::Liblinear { c } => Objective::Lambda {
                lambda: 1.0 / (2.0 * n as f64 * c),
            },
            other => other,
        }
    }

    /// Checks `C > 0` or `λ ≥ 0` (finite).
    pub(crate) fn validate(&self) -> Result<()> {
        let (name, value, ok) = match *self {
            Objective::Liblinear { c } => ("C", c, c.is_finite() && c > 0.0),
            Objective::Lambda { lambda } => ("lambda", lambda, lambda.is_finite() && lambda >= 0.0),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name,
                value,
                range: if name == "C" { "> 0" } else { "≥ 0" },
            })
        }
    }

    /// The objective and its gradient for a linear model without bias, closed form.
    ///
    /// # Errors
    /// As [`linear_value_grad`], and [`Error::InvalidParameter`] for `C ≤ 0` or `λ < 0`.
    ///
    /// # Example
    /// ```
    /// use losses::{MarginLoss, Objective};
    /// # fn main() -> losses::Result<()> {
    /// // w = 0: every margin is 0, hinge 1 each: ½·0 + C·n = 2·1.
    /// let (f, g) = Objective::Liblinear { c: 2.0 }.value_grad(MarginLoss::hinge(), &[1.0], 1, &[1.0], &[0.0])?;
    /// assert_eq!((f, g), (2.0, vec![-2.0]));
    /// # Ok(()) }
    /// ```
    pub fn value_grad(
        &self,
        loss: MarginLoss,
        x: &[f64],
        d: usize,
        y: &[f64],
        w: &[f64],
    ) -> Result<(f64, Vec<f64>)> {
        self.validate()?;
        let LinearGrad { value, w: gw, .. } = linear_value_grad(loss, x, d, y, w, None)?;
        let n = y.len().max(1) as f64;
        let norm2: f64 = w.iter().map(|v| v * v).sum();
        Ok(match *self {
            Objective::Liblinear { c } => (
                0.5 * norm2 + c * value,
                gw.iter().zip(w).map(|(g, wj)| wj + c * g).collect(),
            ),
            Objective::Lambda { lambda } => (
                value / n + lambda * norm2,
                gw.iter()
                    .zip(w)
                    .map(|(g, wj)| g / n + 2.0 * lambda * wj)
                    .collect(),
            ),
        })
    }

    /// The objective on a tape, from the summed loss node `loss_sum` (`Σ ℓ`), the weights and
    /// the number of examples.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `C ≤ 0` or `λ < 0`.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// use losses::Objective;
    /// # fn main() -> losses::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param_vec(&[1.0])?;
    /// let loss_sum = tape.constant_scalar(3.0)?;
    /// let f = Objective::Lambda { lambda: 0.5 }.on_tape(loss_sum, w, 3)?;
    /// assert_eq!(f.item(), 1.0 + 0.5);
    /// # Ok(()) }
    /// ```
    pub fn on_tape<'t, T: Real>(
        &self,
        loss_sum: Var<'t, T>,
        w: Var<'t, T>,
        n: usize,
    ) -> Result<Var<'t, T>> {
        self.validate()?;
        Ok(match *self {
            Objective::Liblinear { c } => l2_on_tape(w).try_add(loss_sum.scale(T::cst(c)))?,
            Objective::Lambda { lambda } => loss_sum
                .scale(T::cst(1.0 / n.max(1) as f64))
                .try_add(w.square().sum().scale(T::cst(lambda)))?,
        })
    }
}
