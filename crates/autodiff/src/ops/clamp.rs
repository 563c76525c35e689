//! `clamp(x, lo, hi) = min(max(x, lo), hi)` with constant bounds, elementwise.
//!
//! ```text
//! clamp'(x) = 1 if lo < x < hi;  0 if x < lo or x > hi;  at x = lo or x = hi the policy's c ∈ [0, 1]
//! ```
//! `MinNorm`, `Torch` and `Jax` use `c = 0` (the bound is a constant, so the minimum-norm element
//! of `[0, 1]`; `lax.clamp` and PyTorch's `clamp_backward` at a scalar bound use strict bounds).
//! `Tf` uses `c = 1` (TensorFlow's `clip_by_value` gradient treats the bounds as inside, as
//! PyTorch did before 2026).
//! With `MinNorm`, `clamp(z, 0, ∞)` agrees with `relu(z)` at `z = 0`.

use super::rule::{self, Branch, Pieces, TangentCx, Tie};
use super::{build, info, Op};
use crate::tape::Values;
use crate::{Error, Real, Result, Var};

impl<'t, T: Real> Var<'t, T> {
    /// Clamps every element into `[lo, hi]`; `lo` may be `−∞` and `hi` may be `+∞`.
    ///
    /// ```text
    /// clamp(x) = min(max(x, lo), hi)        clamp'(x) = [lo < x < hi]; at a bound: c from the policy
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if a bound is NaN or `lo > hi`.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[-1.0, 0.0, 0.5, 2.0])?;
    /// let y = x.try_clamp(0.0, 1.0)?;
    /// assert_eq!(y.value(), vec![0.0, 0.0, 0.5, 1.0]);
    /// assert_eq!(y.sum().backward()?.wrt(x), &[0.0, 0.0, 1.0, 0.0]); // at the bound 0: 0
    /// # Ok(()) }
    /// ```
    pub fn try_clamp(self, lo: T, hi: T) -> Result<Var<'t, T>> {
        for (what, v) in [("lower bound", lo), ("upper bound", hi)] {
            if v.is_nan() {
                return Err(Error::InvalidArgument {
                    op: "clamp",
                    what,
                    value: v.to_f64_lossless(),
                });
            }
        }
        if lo > hi {
            return Err(Error::InvalidArgument {
                op: "clamp",
                what: "lower bound (above the upper bound)",
                value: lo.to_f64_lossless(),
            });
        }
        let (shape, needs) = info(self);
        Ok(build(
            self.tape,
            Op::Clamp { x: self.id, lo, hi },
            shape,
            needs,
            |p| {
                let x = p.vals.get(self.id);
                let at_bound = p.rules.clamp_at_bound;
                let base = p.masks.len();
                p.masks.resize(base + x.len(), T::zero());
                let mask = &mut p.masks[base..];
                for (i, ((o, m), &v)) in p.out.iter_mut().zip(mask.iter_mut()).zip(x).enumerate() {
                    if v > lo && v < hi {
                        *o = v;
                        *m = T::one();
                    } else if v == lo || v == hi {
                        *o = v;
                        *m = at_bound;
                        p.ties.push(i);
                    } else if v < lo {
                        *o = lo;
                        *m = T::zero();
                    } else if v > hi {
                        *o = hi;
                        *m = T::zero();
                    } else {
                        *o = v; // NaN
                        *m = T::zero();
                    }
                }
            },
        ))
    }

    /// Clamps into `[lo, hi]`; see [`Var::try_clamp`].
    ///
    /// # Panics
    /// If a bound is NaN or `lo > hi`.
    #[track_caller]
    pub fn clamp(self, lo: T, hi: T) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_clamp(lo, hi))
    }
}

/// Certified tie at a bound: inside (mask 1) if the tangent points inside, else 0; with
/// `lo = hi` the function is constant (0). Backward and tangent are the shared mask rules.
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, x: u32, lo: T, hi: T) -> bool {
    let e = tie.e;
    let t = tie.tv.at(x, e);
    let v = tie.tv.vals.get(x)[e];
    if lo == hi {
        tie.mask[e] = T::zero();
        true
    } else if t == T::zero() {
        false
    } else {
        let inside = if nearer(v, lo, hi) == lo {
            t > T::zero()
        } else {
            t < T::zero()
        };
        tie.mask[e] = if inside { T::one() } else { T::zero() };
        true
    }
}

/// The distance to the nearer bound.
pub(super) fn distance<T: Real>(vals: Values<'_, T>, x: u32, lo: T, hi: T, out: &mut Vec<T>) {
    out.extend(
        vals.get(x)
            .iter()
            .map(|&v| (v - lo).abs().min((v - hi).abs())),
    );
}

/// Exact-subdifferential branches at a bound: branch 0 is the bound (local derivative 0),
/// branch 1 is `x` (1). At `lo` the clamp is `max(x, lo)` nearby (convex), at `hi` it is
/// `min(x, hi)` (concave); with `lo = hi` it is constant, and both branches are the constant.
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>, x: u32, lo: T, hi: T) -> Pieces {
    let v = b.vals.get(x)[b.e];
    if lo == hi {
        return rule::mask_branch(b, T::zero(), T::zero(), true);
    }
    rule::mask_branch(b, T::zero(), T::one(), v == lo)
}

/// Magnitude: `m(x)` (the output is `x` or an exact bound).
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    cx.scaled_magnitude(x, T::one(), out);
}

/// The bound nearer to `v`.
fn nearer<T: Real>(v: T, lo: T, hi: T) -> T {
    if (v - lo).abs() <= (v - hi).abs() {
        lo
    } else {
        hi
    }
}

/// Near-tie candidates by the bound: the distance to the nearer bound `b` is positive and at
/// most `τ·(bound(x) + |b|)` (none when `lo = hi`: the output is constant).
#[allow(clippy::too_many_arguments)]
pub(super) fn near<T: Real>(
    vals: Values<'_, T>,
    x: u32,
    lo: T,
    hi: T,
    tau: T,
    ux: T,
    out: &mut Vec<usize>,
) {
    if lo == hi {
        return;
    }
    let limit = tau * (ux + lo.abs().max(hi.abs()));
    for (e, &v) in vals.get(x).iter().enumerate() {
        let d = (v - nearer(v, lo, hi)).abs();
        if d <= limit && d > T::zero() {
            out.push(e);
        }
    }
}

/// Near tie: `0 < |x − b| ≤ τ·(m(x) + |b|)` for the nearer bound `b`.
pub(super) fn is_near<T: Real>(
    cx: &TangentCx<'_, T>,
    x: u32,
    lo: T,
    hi: T,
    e: usize,
    tau: T,
) -> bool {
    let v = cx.v(x, cx.need.len()).at(e);
    let b = nearer(v, lo, hi);
    lo != hi && rule::within((v - b).abs(), tau, cx.m(x).at(e) + b.abs())
}
