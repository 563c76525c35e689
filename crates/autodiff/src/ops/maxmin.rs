//! Elementwise `max`/`min` of two values, and the tie conventions it shares with
//! `Tape::max_n`/`Tape::min_n` (in `max_n.rs`).
//!
//! ```text
//! max(a, b)ᵢ = aᵢ if aᵢ > bᵢ, bᵢ if aᵢ < bᵢ          ∂/∂a = [a wins], ∂/∂b = [b wins]
//! at a tie aᵢ = bᵢ the weights (wₐ, w_b) come from the policy's tie split:
//!   MinNorm: (½, ½) if both need gradients; 0 to the one that does if the other is a constant
//!   Even:    (½, ½)          First: (1, 0)
//! max_n(x¹ … xᵏ)ᵢ: the largest; k' tied inputs share the weight:
//!   MinNorm: 1/k' each, or 0 to all if a constant is among them;  Even: 1/k' each;  First: 1 to the first
//! ```
//! `min` is the same with the comparisons reversed. Weights are recorded per output element in
//! the forward pass, so a broadcast operand (a scalar, or a vector along a matrix's rows or
//! columns, as for `+ − * /`) has its own weight at each element it feeds and receives their
//! sum. With `MinNorm`, `max(z, 0)` and `max(0, z)` give `z` the weight 0 at `z = 0`, like
//! `relu`.

use super::arith::broadcast;
use super::rule::{within, Branch, Pieces, TangentCx, Tie};
use super::{accumulate, build, info, Bc, Bcast, Op, Sink};
use crate::policy::TieSplit;
use crate::tape::Values;
use crate::{Operand, Real, Result, Shape, Var};

/// `a` strictly beats `b`: greater for max, smaller for min.
#[inline]
pub(super) fn beats<T: Real>(is_max: bool, a: T, b: T) -> bool {
    if is_max {
        a > b
    } else {
        a < b
    }
}

fn binary<'t, T: Real>(a: Var<'t, T>, b: impl Operand<'t, T>, is_max: bool) -> Result<Var<'t, T>> {
    let name = if is_max { "max" } else { "min" };
    let b = b.to_var(a.tape, name)?;
    let ((sa, na), (sb, nb)) = (info(a), info(b));
    let shape = broadcast(name, sa, sb)?;
    let op = if is_max {
        Op::Max(a.id, b.id)
    } else {
        Op::Min(a.id, b.id)
    };
    Ok(build(a.tape, op, shape, na || nb, |p| {
        let half = T::cst(0.5);
        let tie_weight = match p.rules.binary_tie {
            TieSplit::MinNorm if na && nb => half,
            // Only `a` varies: the constant `b` takes the weight, `a` gets 0.
            TieSplit::MinNorm if na => T::zero(),
            // Only `b` varies (or neither): `a` takes the weight, `b` gets 0.
            TieSplit::MinNorm => T::one(),
            TieSplit::Even => half,
            TieSplit::First => T::one(),
        };
        let n = shape.len();
        let x = Bc::new(p.vals.get(a.id), Bcast::new(sa, shape));
        let y = Bc::new(p.vals.get(b.id), Bcast::new(sb, shape));
        let base = p.masks.len();
        p.masks.resize(base + n, T::zero());
        let mask = &mut p.masks[base..];
        for (i, (o, m)) in p.out.iter_mut().zip(mask.iter_mut()).enumerate() {
            let (u, v) = (x.at(i), y.at(i));
            if beats(is_max, u, v) {
                *o = u;
                *m = T::one();
            } else if beats(is_max, v, u) {
                *o = v;
                *m = T::zero();
            } else if u == v {
                *o = u;
                *m = tie_weight;
                p.ties.push(i);
            } else {
                *o = u + v; // NaN
                *m = T::zero();
            }
        }
    }))
}

impl<'t, T: Real> Var<'t, T> {
    /// Elementwise maximum of `self` and `b` (a [`Var`] or a number), broadcasting as
    /// [`Shape`] describes.
    ///
    /// ```text
    /// max(a, b)ᵢ        ∂/∂a = [aᵢ > bᵢ], ∂/∂b = [bᵢ > aᵢ]; ties split by the policy
    /// ```
    /// Default (`MinNorm`) tie rule: ½ / ½ when both vary; when one side is a constant, the
    /// variable gets 0. Ties are recorded as kinks.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) unless the shapes broadcast (as for [`Var::try_add`]);
    /// [`Error::ForeignVar`](crate::Error::ForeignVar); [`Error::NonFinite`](crate::Error::NonFinite) for a NaN or infinite number.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_scalar(1.0)?;
    /// let b = tape.param_scalar(1.0)?;
    /// let g = a.try_max(b)?.backward()?;
    /// assert_eq!((g.wrt(a)[0], g.wrt(b)[0]), (0.5, 0.5)); // tie, both vary: ½ / ½
    /// let z = tape.param_scalar(0.0)?;
    /// assert_eq!(z.try_max(0.0)?.backward()?.wrt(z)[0], 0.0); // tie with a constant: 0
    /// # Ok(()) }
    /// ```
    pub fn try_max(self, b: impl Operand<'t, T>) -> Result<Var<'t, T>> {
        binary(self, b, true)
    }

    /// Elementwise maximum; see [`Var::try_max`].
    ///
    /// # Panics
    /// On a shape mismatch, a handle of another tape or a non-finite number.
    #[track_caller]
    pub fn max(self, b: impl Operand<'t, T>) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_max(b))
    }

    /// Elementwise minimum of `self` and `b`, broadcasting as [`Shape`] describes; ties as in
    /// [`Var::try_max`].
    ///
    /// ```text
    /// min(a, b)ᵢ        ∂/∂a = [aᵢ < bᵢ], ∂/∂b = [bᵢ < aᵢ]; ties split by the policy
    /// ```
    ///
    /// # Errors
    /// As [`Var::try_max`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_vec(&[1.0, 5.0])?;
    /// let m = a.try_min(2.0)?;
    /// assert_eq!(m.value(), vec![1.0, 2.0]);
    /// assert_eq!(m.sum().backward()?.wrt(a), &[1.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_min(self, b: impl Operand<'t, T>) -> Result<Var<'t, T>> {
        binary(self, b, false)
    }

    /// Elementwise minimum; see [`Var::try_min`].
    ///
    /// # Panics
    /// On a shape mismatch, a handle of another tape or a non-finite number.
    #[track_caller]
    pub fn min(self, b: impl Operand<'t, T>) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_min(b))
    }
}

pub(super) fn backward<T: Real>(
    s: &mut Sink<'_, T>,
    a: u32,
    b: u32,
    out: Shape,
    mask: &[T],
    g: &[T],
) {
    let n = g.len();
    let (ha, hb) = (Bcast::of(s.vals, a, out), Bcast::of(s.vals, b, out));
    if let Some(ga) = s.grad(a) {
        accumulate(ga, ha, n, |i| g[i] * mask[i]);
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, hb, n, |i| g[i] * (T::one() - mask[i]));
    }
}

/// `ẏ = m·ȧ + (1 − m)·ḃ` with the (resolved) mask `m`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let n = out.len();
    let (ta, tb, mask) = (cx.t(a, n), cx.t(b, n), cx.mask);
    cx.needed()
        .for_each(|e| out[e] = mask[e] * ta.at(e) + (T::one() - mask[e]) * tb.at(e));
}

/// Certified tie `a = b` (or within the tolerance): the side with the larger (max) or smaller
/// (min) tangent wins; tangents equal up to the tolerance leave it tied.
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, a: u32, b: u32, is_max: bool) -> bool {
    let (e, out) = (tie.e, tie.tv.vals.shape(tie.node));
    let (ta, tb) = (tie.tv.acc(a, out).at(e), tie.tv.acc(b, out).at(e));
    if tie.same(ta, tb) {
        return false;
    }
    tie.mask[e] = if (ta > tb) == is_max {
        T::one()
    } else {
        T::zero()
    };
    true
}

/// Magnitude: `max(m(a), m(b))` (the output is one of them).
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let (ma, mb) = (cx.m(a), cx.m(b));
    cx.needed().for_each(|e| out[e] = ma.at(e).max(mb.at(e)));
}

/// Near-tie candidates by the bounds: `0 < |a − b| ≤ τ·(bound(a) + bound(b))`.
#[allow(clippy::too_many_arguments)]
pub(super) fn near<T: Real>(
    vals: Values<'_, T>,
    node: u32,
    a: u32,
    b: u32,
    tau: T,
    ua: T,
    ub: T,
    out: &mut Vec<usize>,
) {
    let shape = vals.shape(node);
    let (u, v) = (Bc::of(vals, a, shape), Bc::of(vals, b, shape));
    let limit = tau * (ua + ub);
    for e in 0..shape.len() {
        let d = (u.at(e) - v.at(e)).abs();
        if d <= limit && d > T::zero() {
            out.push(e);
        }
    }
}

/// Near tie: `0 < |a − b| ≤ τ·(m(a) + m(b))`.
pub(super) fn is_near<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, e: usize, tau: T) -> bool {
    let n = cx.need.len();
    let d = (cx.v(a, n).at(e) - cx.v(b, n).at(e)).abs();
    within(d, tau, cx.m(a).at(e) + cx.m(b).at(e))
}

/// `|a − b|` per element.
pub(super) fn distance<T: Real>(vals: Values<'_, T>, node: u32, a: u32, b: u32, out: &mut Vec<T>) {
    let shape = vals.shape(node);
    let (u, v) = (Bc::of(vals, a, shape), Bc::of(vals, b, shape));
    out.extend((0..shape.len()).map(|i| (u.at(i) - v.at(i)).abs()));
}

/// Exact-subdifferential branches of a binary tie `a = b`: branch 0 is `b` (mask 0), branch 1
/// is `a` (mask 1); `max` is their maximum (convex), `min` their minimum.
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>, is_max: bool) -> Pieces {
    b.mask[b.e] = if b.which == 1 { T::one() } else { T::zero() };
    Pieces::Two { convex: is_max }
}
