//! `abs(x) = |x|`, elementwise.
//!
//! ```text
//! abs'(x) = sign(x) for x ≠ 0;  at x = 0 (and −0.0) the policy's value a ∈ [−1, 1]
//! ```
//! `MinNorm`, `Torch` and `Tf` use `a = 0` (PyTorch `sgn`, TensorFlow `sign`); `Jax` uses `a = 1`
//! (its JVP selects on `x >= 0`, true for −0.0 too).

use super::rule::{self, Branch, Pieces, TangentCx, Tie};
use super::{build, info, Op};
use crate::tape::Values;
use crate::{Real, Var};

impl<'t, T: Real> Var<'t, T> {
    /// Absolute value, elementwise.
    ///
    /// ```text
    /// |x|        abs'(x) = sign(x), and abs'(0) = a from the policy (0 by default)
    /// ```
    ///
    /// Elements exactly at 0 (either sign) are recorded as kinks.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[-2.0, -0.0, 3.0])?;
    /// let g = x.abs().sum().backward()?;
    /// assert_eq!(g.wrt(x), &[-1.0, 0.0, 1.0]);
    /// # Ok(()) }
    /// ```
    pub fn abs(self) -> Var<'t, T> {
        let (shape, needs) = info(self);
        build(self.tape, Op::Abs(self.id), shape, needs, |p| {
            let x = p.vals.get(self.id);
            let at_zero = p.rules.abs_at_zero;
            let base = p.masks.len();
            p.masks.resize(base + x.len(), T::zero());
            let mask = &mut p.masks[base..];
            for (i, ((o, m), &v)) in p.out.iter_mut().zip(mask.iter_mut()).zip(x).enumerate() {
                *o = v.abs();
                *m = if v > T::zero() {
                    T::one()
                } else if v < T::zero() {
                    -T::one()
                } else if v == T::zero() {
                    p.ties.push(i);
                    at_zero
                } else {
                    T::zero()
                };
            }
        })
    }
}

/// Certified tie at `x = 0`: the tangent's sign. Backward and tangent are the shared mask
/// rules; the kink distance is `|x|`.
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, x: u32) -> bool {
    let t = tie.tv.at(x, tie.e);
    if t != T::zero() {
        tie.mask[tie.e] = t.signum();
    }
    t != T::zero()
}

/// Exact-subdifferential branches at `x = 0`: branch 0 is `−x` (local derivative −1), branch 1
/// is `x` (1); `|x|` is their maximum.
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>) -> Pieces {
    rule::mask_branch(b, -T::one(), T::one(), true)
}

/// Magnitude: `m(x)`.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    cx.scaled_magnitude(x, T::one(), out);
}

/// Near-tie candidates by the bound: `0 < |x| ≤ τ·bound(x)`.
pub(super) fn near<T: Real>(vals: Values<'_, T>, x: u32, tau: T, ux: T, out: &mut Vec<usize>) {
    rule::near_zero(vals, x, tau, ux, out);
}

/// Near tie: `0 < |x| ≤ τ·m(x)`.
pub(super) fn is_near<T: Real>(cx: &TangentCx<'_, T>, x: u32, e: usize, tau: T) -> bool {
    rule::is_near_zero(cx, x, e, tau)
}
