//! `relu(x) = max(x, 0)`, elementwise.
//!
//! ```text
//! relu(x) = x if x > 0, else 0
//! relu'(x) = 1 if x > 0;  0 if x < 0;  at x = 0 (and −0.0) the policy's value r ∈ [0, 1]
//! ```
//! Every policy preset uses `r = 0` (the minimum-norm element of `[0, 1]`, and the PyTorch, JAX and
//! TensorFlow convention; candle uses 1, available through a custom policy).
//! `relu` is its own primitive rather than `max(x, 0)`: a binary-max rule that splits ties
//! ½ / ½ (JAX, PyTorch) would otherwise give ½ at 0.

use super::rule::{self, Branch, Pieces, TangentCx, Tie};
use super::{build_like, Op};
use crate::tape::Values;
use crate::{Real, Var};

impl<'t, T: Real> Var<'t, T> {
    /// Rectified linear unit, elementwise.
    ///
    /// ```text
    /// relu(x) = max(x, 0)        relu'(x) = [x > 0], and relu'(0) = r from the policy (0 by default)
    /// ```
    ///
    /// Elements exactly at 0 are recorded as kinks (see [`Tape::kinks`](crate::Tape::kinks)).
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[-1.0, 0.0, 2.0])?;
    /// let y = x.relu();
    /// assert_eq!(y.value(), vec![0.0, 0.0, 2.0]);
    /// assert_eq!(y.sum().backward()?.wrt(x), &[0.0, 0.0, 1.0]); // relu'(0) = 0
    /// # Ok(()) }
    /// ```
    pub fn relu(self) -> Var<'t, T> {
        build_like(self, Op::Relu(self.id), |p| {
            let x = p.vals.get(self.id);
            let at_zero = p.rules.relu_at_zero;
            let base = p.masks.len();
            p.masks.resize(base + x.len(), T::zero());
            let mask = &mut p.masks[base..];
            // Branch-free pass for the common case (the sign of a hinge margin is a coin toss
            // for the branch predictor); the rare zeros and NaNs redo it element by element.
            let mut special = false;
            for ((o, m), &v) in p.out.iter_mut().zip(mask.iter_mut()).zip(x) {
                let rare;
                (*o, *m, rare) = element_fast(v);
                special |= rare;
            }
            if !special {
                return;
            }
            for (i, ((o, m), &v)) in p.out.iter_mut().zip(mask.iter_mut()).zip(x).enumerate() {
                (*o, *m) = element(v, at_zero);
                if v == T::zero() {
                    p.ties.push(i);
                }
            }
        })
    }
}

/// The branch-free part of [`element`]: its output and mask for every `v` but 0 and NaN, and
/// whether `v` is one of those (then `element` decides).
#[inline(always)]
pub(super) fn element_fast<T: Real>(v: T) -> (T, T, bool) {
    let pos = v > T::zero();
    let out = if pos { v } else { T::zero() };
    let mask = if pos { T::one() } else { T::zero() };
    (out, mask, !(pos || v < T::zero()))
}

/// One element of the forward pass: the output and the local derivative (the mask) of `v`,
/// with `r` the policy's derivative at 0. The branch-free loop above computes the same for
/// every element that is neither 0 nor NaN; `ops::fuse` replays this.
///
/// A NaN propagates to the output with derivative 0 (backward rejects a non-finite loss).
#[inline(always)]
pub(super) fn element<T: Real>(v: T, r: T) -> (T, T) {
    if v > T::zero() {
        (v, T::one())
    } else if v < T::zero() {
        (T::zero(), T::zero())
    } else if v == T::zero() {
        (T::zero(), r)
    } else {
        (v, T::zero())
    }
}

/// Certified tie at `x = 0`: on if the tangent is > 0, off if < 0 (the one-sided slopes).
/// Backward and tangent are the shared mask rules (`rule::mask_backward`, `rule::mask_tangent`);
/// the kink distance is `|x|`.
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, x: u32) -> bool {
    let t = tie.tv.at(x, tie.e);
    if t > T::zero() {
        tie.mask[tie.e] = T::one();
    } else if t < T::zero() {
        tie.mask[tie.e] = T::zero();
    }
    t != T::zero()
}

/// Exact-subdifferential branches at `x = 0`: branch 0 is the constant 0 (local derivative 0),
/// branch 1 is `x` (1); `relu` is their maximum.
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>) -> Pieces {
    rule::mask_branch(b, T::zero(), T::one(), true)
}

/// Magnitude: `m(x)` (the output is `x` or an exact 0).
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
