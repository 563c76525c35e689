//! `leaky_relu_α(x) = max(x, 0) + α·min(x, 0)`, elementwise, with a constant finite slope `α`.
//!
//! ```text
//! leaky_relu_α(x)  = x if x > 0, αx if x < 0
//! leaky_relu_α'(x) = 1 if x > 0;  α if x < 0;
//!                    at x = 0 (and −0.0) α + θ(1 − α) for the policy's θ ∈ [0, 1]
//! ```
//! The subdifferential at 0 is the interval between `α` and 1, whatever the sign of `α`.
//! `Torch` and `Tf` use `θ = 0` (derivative `α`: their backward selects on `x > 0`), `Jax` uses
//! `θ = 1` (derivative 1: `jnp.where(x >= 0, …)`), and `MinNorm` the minimum-norm element of
//! `[min(α, 1), max(α, 1)]`: `α` clamped into `[0, 1]` (so `α` for `0 ≤ α ≤ 1`, 0 for `α < 0`,
//! 1 for `α > 1`). With `α = 0` every preset agrees with `relu`.

use super::rule::{self, Branch, Pieces, TangentCx, Tie};
use super::{build, info, Op};
use crate::tape::Values;
use crate::{Error, Real, Result, Var};

/// `leaky_relu_α'(0)` for the policy's weight `θ` of the positive side, or the minimum-norm
/// element of `[min(α, 1), max(α, 1)]` when the policy says so (`None`).
fn at_zero<T: Real>(alpha: T, theta: Option<T>) -> T {
    match theta {
        // α + θ(1 − α), written so that θ = 0 gives α and θ = 1 gives 1 exactly.
        Some(theta) => (T::one() - theta) * alpha + theta,
        None => alpha.max(T::zero()).min(T::one()),
    }
}

impl<'t, T: Real> Var<'t, T> {
    /// Leaky rectified linear unit with slope `alpha` below 0, elementwise.
    ///
    /// ```text
    /// leaky_relu_α(x) = x if x > 0, αx otherwise
    /// leaky_relu_α'(x) = [x > 0] + α·[x < 0], and at 0 the policy's α + θ(1 − α)
    ///                    (MinNorm: α clamped into [0, 1]; Torch, Tf: α; Jax: 1)
    /// ```
    ///
    /// Elements exactly at 0 (either sign) are recorded as kinks.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `alpha` is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[-2.0, 0.0, 3.0])?;
    /// let y = x.try_leaky_relu(0.25)?;
    /// assert_eq!(y.value(), vec![-0.5, 0.0, 3.0]);
    /// // At 0 the minimum-norm element of [0.25, 1] is 0.25.
    /// assert_eq!(y.sum().backward()?.wrt(x), &[0.25, 0.25, 1.0]);
    /// assert!(x.try_leaky_relu(f64::NAN).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_leaky_relu(self, alpha: T) -> Result<Var<'t, T>> {
        if !alpha.is_finite() {
            return Err(Error::InvalidArgument {
                op: "leaky_relu",
                what: "slope",
                value: alpha.to_f64_lossless(),
            });
        }
        let (shape, needs) = info(self);
        let op = Op::LeakyRelu { x: self.id, alpha };
        Ok(build(self.tape, op, shape, needs, |p| {
            let x = p.vals.get(self.id);
            let tied = at_zero(alpha, p.rules.leaky_relu_at_zero);
            let base = p.masks.len();
            p.masks.resize(base + x.len(), T::zero());
            let mask = &mut p.masks[base..];
            for (i, ((o, m), &v)) in p.out.iter_mut().zip(mask.iter_mut()).zip(x).enumerate() {
                if v > T::zero() {
                    *o = v;
                    *m = T::one();
                } else if v < T::zero() {
                    *o = alpha * v;
                    *m = alpha;
                } else if v == T::zero() {
                    *o = T::zero();
                    *m = tied;
                    p.ties.push(i);
                } else {
                    // NaN propagates to the output; backward rejects a non-finite loss.
                    *o = v;
                    *m = T::zero();
                }
            }
        }))
    }

    /// Leaky rectified linear unit; see [`Var::try_leaky_relu`].
    ///
    /// # Panics
    /// If `alpha` is NaN or infinite.
    #[track_caller]
    pub fn leaky_relu(self, alpha: T) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_leaky_relu(alpha))
    }
}

/// Certified tie at `x = 0`: the positive side (1) if the tangent is > 0, the negative side (`α`)
/// if < 0 (the one-sided slopes). Backward and tangent are the shared mask rules
/// (`rule::mask_backward`, `rule::mask_tangent`); the kink distance is `|x|`.
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, x: u32, alpha: T) -> bool {
    let t = tie.tv.at(x, tie.e);
    if t > T::zero() {
        tie.mask[tie.e] = T::one();
    } else if t < T::zero() {
        tie.mask[tie.e] = alpha;
    }
    t != T::zero()
}

/// Exact-subdifferential branches at `x = 0`: branch 0 is `αx` (local derivative `α`), branch 1
/// is `x` (1); `leaky_relu_α` is their maximum for `α ≤ 1` and their minimum for `α > 1`.
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>, alpha: T) -> Pieces {
    rule::mask_branch(b, alpha, T::one(), alpha <= T::one())
}

/// Magnitude: `max(1, |α|)·m(x)`.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, alpha: T, out: &mut [T]) {
    cx.scaled_magnitude(x, T::one().max(alpha.abs()), out);
}

/// Near-tie candidates by the bound: `0 < |x| ≤ τ·bound(x)`.
pub(super) fn near<T: Real>(vals: Values<'_, T>, x: u32, tau: T, ux: T, out: &mut Vec<usize>) {
    rule::near_zero(vals, x, tau, ux, out);
}

/// Near tie: `0 < |x| ≤ τ·m(x)`.
pub(super) fn is_near<T: Real>(cx: &TangentCx<'_, T>, x: u32, e: usize, tau: T) -> bool {
    rule::is_near_zero(cx, x, e, tau)
}

/// Bound: `max(1, |α|)·bound(x)`.
pub(super) fn bound<T: Real>(alpha: T, ux: T) -> T {
    T::one().max(alpha.abs()) * ux
}
