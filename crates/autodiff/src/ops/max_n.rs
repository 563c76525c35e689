//! `max_n`/`min_n`: the elementwise maximum or minimum of several values, each input
//! broadcast like an operand of `+ − * /`; the binary `max`/`min` and the tie conventions of
//! both are in `maxmin.rs`.
//!
//! ```text
//! max_n(x¹ … xᵏ)ᵢ: the largest; k' tied inputs share the weight:
//!   MinNorm: 1/k' each, or 0 to all if a constant is among them;  Even: 1/k' each;  First: 1 to the first
//! ```
//! The weights are recorded per output element and input in the forward pass (`mask[j·n + i]`).

use super::arith::broadcast;
use super::maxmin::beats;
use super::rule::{within, Branch, Pieces, TangentCx, Tie};
use super::{accumulate, build, info, Bc, Bcast, Op, Sink};
use crate::policy::{TieSplit, TieWeights};
use crate::tape::Values;
use crate::{Error, Operand, Real, Result, Shape, Tape, Var};

fn nary<'t, T: Real>(tape: &'t Tape<T>, xs: &[Var<'t, T>], is_max: bool) -> Result<Var<'t, T>> {
    let name = if is_max { "max_n" } else { "min_n" };
    let Some(&first) = xs.first() else {
        return Err(Error::Empty { op: name });
    };
    let mut any_needs = false;
    for &x in xs {
        x.to_var(tape, name)?;
        any_needs |= info(x).1;
    }
    // The output is the largest operand (a matrix before a vector of its length); every
    // operand must broadcast to it, so the result does not depend on their order.
    let shape = xs.iter().map(|x| x.shape()).fold(first.shape(), |a, s| {
        if (s.len(), s.rank()) > (a.len(), a.rank()) {
            s
        } else {
            a
        }
    });
    for x in xs {
        if broadcast(name, shape, x.shape())? != shape {
            return Err(Error::ShapeMismatch {
                op: name,
                lhs: shape,
                rhs: x.shape(),
            });
        }
    }
    let start = {
        let mut inner = tape.borrow_mut();
        let start = inner.links.len();
        inner.links.extend(xs.iter().map(|x| x.id));
        start
    };
    let op = if is_max {
        Op::MaxN {
            start,
            len: xs.len(),
        }
    } else {
        Op::MinN {
            start,
            len: xs.len(),
        }
    };
    Ok(build(tape, op, shape, any_needs, |p| {
        let n = shape.len();
        let tie = p.rules.nary_tie;
        let base = p.masks.len();
        p.masks.resize(base + xs.len() * n, T::zero());
        let mask = &mut p.masks[base..];
        let vals = p.vals;
        let input = |x: &Var<'t, T>| Bc::of(vals, x.id, shape);
        for i in 0..n {
            let mut best = input(&xs[0]).at(i);
            for x in &xs[1..] {
                let v = input(x).at(i);
                if beats(is_max, v, best) || v.is_nan() {
                    best = v;
                }
            }
            p.out[i] = best;
            let mut tied = 0usize;
            let mut constant_tied = false;
            for x in xs {
                if input(x).at(i) == best {
                    tied += 1;
                    constant_tied |= !vals.needs_grad(x.id);
                }
            }
            if tied == 0 {
                continue; // NaN: no gradient flows
            }
            if tied > 1 {
                p.ties.push(i);
            }
            let mut weights = TieWeights::new(tie, tied, constant_tied);
            for (j, x) in xs.iter().enumerate() {
                if input(x).at(i) == best {
                    mask[j * n + i] = weights.next();
                }
            }
        }
    }))
}

impl<T: Real> Tape<T> {
    /// Elementwise maximum of several values, broadcasting as [`Shape`] describes (every
    /// operand to the largest).
    ///
    /// ```text
    /// max_n(x¹ … xᵏ)ᵢ = maxⱼ xʲᵢ        ∂/∂xʲᵢ = [xʲ is the unique max]; k' tied inputs: policy
    /// ```
    /// Default (`MinNorm`) tie rule: `1/k'` to each of the `k'` tied inputs, or 0 to all if a
    /// constant is among them (the minimum-norm point of the local subdifferential).
    ///
    /// # Errors
    /// [`Error::Empty`] for no operand; [`Error::ShapeMismatch`]; [`Error::ForeignVar`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let (a, b, c) = (tape.param_scalar(2.0)?, tape.param_scalar(2.0)?, tape.param_scalar(1.0)?);
    /// let m = tape.try_max_n(&[a, b, c])?;
    /// let g = m.backward()?;
    /// assert_eq!((g.wrt(a)[0], g.wrt(b)[0], g.wrt(c)[0]), (0.5, 0.5, 0.0));
    /// # Ok(()) }
    /// ```
    pub fn try_max_n<'t>(&'t self, xs: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        nary(self, xs, true)
    }

    /// Elementwise maximum of several values; see [`Tape::try_max_n`].
    ///
    /// # Panics
    /// If [`Tape::try_max_n`] fails.
    #[track_caller]
    pub fn max_n<'t>(&'t self, xs: &[Var<'t, T>]) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_max_n(xs))
    }

    /// Elementwise minimum of several values; ties as in [`Tape::try_max_n`].
    ///
    /// ```text
    /// min_n(x¹ … xᵏ)ᵢ = minⱼ xʲᵢ
    /// ```
    ///
    /// # Errors
    /// As [`Tape::try_max_n`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let (a, b) = (tape.param_scalar(2.0)?, tape.param_scalar(1.0)?);
    /// assert_eq!(tape.try_min_n(&[a, b])?.item(), 1.0);
    /// # Ok(()) }
    /// ```
    pub fn try_min_n<'t>(&'t self, xs: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        nary(self, xs, false)
    }

    /// Elementwise minimum of several values; see [`Tape::try_min_n`].
    ///
    /// # Panics
    /// If [`Tape::try_min_n`] fails.
    #[track_caller]
    pub fn min_n<'t>(&'t self, xs: &[Var<'t, T>]) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_min_n(xs))
    }
}

pub(super) fn backward<T: Real>(
    s: &mut Sink<'_, T>,
    links: &[u32],
    out: Shape,
    mask: &[T],
    g: &[T],
) {
    let n = g.len();
    for (j, &x) in links.iter().enumerate() {
        let how = Bcast::of(s.vals, x, out);
        if let Some(gx) = s.grad(x) {
            let m = &mask[j * n..(j + 1) * n];
            accumulate(gx, how, n, |i| g[i] * m[i]);
        }
    }
}

/// `ẏ = Σⱼ mⱼ·ẋⱼ` over the inputs.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], out: &mut [T]) {
    let n = out.len();
    for (e, o) in out.iter_mut().enumerate() {
        *o = links
            .iter()
            .enumerate()
            .map(|(j, &x)| cx.mask[j * n + e] * cx.t(x, n).at(e))
            .sum();
    }
}

/// Certified tie among the inputs of `max_n`/`min_n`: the inputs tied with the winner (equal,
/// or within `τ·(m(xʲ) + m(winner))`; after a narrowing on an earlier direction only those
/// still weighted) with the extreme tangent are kept. One kept input decides the tie; several
/// narrow it (they share the weight evenly, which marks them for the next direction); none
/// dropped leaves it tied (with the split it had).
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, links: &[u32], is_max: bool) -> bool {
    let (vals, tv, e) = (tie.tv.vals, tie.tv, tie.e);
    let shape = vals.shape(tie.node);
    let n = shape.len();
    let best = vals.get(tie.node)[e];
    let at = |x: u32| Bc::of(vals, x, shape).at(e);
    let tan = |x: u32| tv.acc(x, shape).at(e);
    let winner = links.iter().copied().find(|&x| at(x) == best);
    let m_best = winner.and_then(|w| tie.mag(w));
    let tied: Vec<bool> = links
        .iter()
        .enumerate()
        .map(|(j, &x)| {
            tie.tied((at(x) - best).abs(), tie.mag(x), m_best)
                && (!tie.narrowed || tie.mask[j * n + e] != T::zero())
        })
        .collect();
    let mut extreme: Option<T> = None;
    for (j, &x) in links.iter().enumerate() {
        if tied[j] {
            let t = tan(x);
            extreme = Some(match extreme {
                None => t,
                Some(a) if is_max => a.max(t),
                Some(a) => a.min(t),
            });
        }
    }
    let extreme = extreme.unwrap_or(T::zero());
    let keep: Vec<bool> = links
        .iter()
        .enumerate()
        .map(|(j, &x)| tied[j] && tie.same(tan(x), extreme))
        .collect();
    let kept = keep.iter().filter(|&&k| k).count();
    let count = tied.iter().filter(|&&k| k).count();
    if kept == count {
        return false;
    }
    let constant_kept = links
        .iter()
        .zip(&keep)
        .any(|(&x, &k)| k && !vals.needs_grad(x));
    let split = if kept == 1 {
        tie.inner.rules.nary_tie
    } else {
        TieSplit::Even
    };
    let mut weights = TieWeights::new(split, kept, constant_kept);
    for (j, &k) in keep.iter().enumerate() {
        tie.mask[j * n + e] = if k { weights.next() } else { T::zero() };
    }
    tie.narrowed = kept > 1;
    kept == 1
}

/// Magnitude: the largest of the inputs' magnitudes.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], out: &mut [T]) {
    for e in cx.needed() {
        out[e] = links
            .iter()
            .fold(T::zero(), |acc, &x| acc.max(cx.m(x).at(e)));
    }
}

/// Near-tie candidates by the bounds: an input other than the winner within
/// `τ·2·maxⱼ bound(xʲ)` of it.
pub(super) fn near<T: Real>(
    vals: Values<'_, T>,
    node: u32,
    links: &[u32],
    tau: T,
    bound: impl Fn(u32) -> T,
    out: &mut Vec<usize>,
) {
    let shape = vals.shape(node);
    let u = links.iter().fold(T::zero(), |acc, &x| acc.max(bound(x)));
    let limit = T::cst(2.0) * tau * u;
    for (e, &b) in vals.get(node).iter().enumerate() {
        if links.iter().any(|&x| {
            let d = (Bc::of(vals, x, shape).at(e) - b).abs();
            d <= limit && d > T::zero()
        }) {
            out.push(e);
        }
    }
}

/// Near tie: an input `xʲ` with `0 < |xʲ − winner| ≤ τ·(m(xʲ) + m(winner))`.
pub(super) fn is_near<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], e: usize, tau: T) -> bool {
    let n = cx.need.len();
    let best = cx.y()[e];
    let Some(w) = links.iter().copied().find(|&x| cx.v(x, n).at(e) == best) else {
        return false;
    };
    let m_best = cx.m(w).at(e);
    links
        .iter()
        .any(|&x| within((cx.v(x, n).at(e) - best).abs(), tau, cx.m(x).at(e) + m_best))
}

/// The gap between the winner and the nearest other input value.
pub(super) fn distance<T: Real>(vals: Values<'_, T>, node: u32, links: &[u32], out: &mut Vec<T>) {
    let shape = vals.shape(node);
    let best = vals.get(node);
    for (i, &b) in best.iter().enumerate() {
        let d = links
            .iter()
            .map(|&x| (Bc::of(vals, x, shape).at(i) - b).abs())
            .filter(|d| *d > T::zero())
            .fold(T::infinity(), T::min);
        out.push(d);
    }
}

/// Exact-subdifferential branches of an n-ary tie: with two tied inputs `xʲ` and `xᵏ`
/// (`j < k`), branch 0 is `xᵏ` (weight 1 on it, 0 elsewhere) and branch 1 is `xʲ`; `max_n` is
/// their maximum, `min_n` their minimum. More than two tied inputs are [`Pieces::Many`].
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>, links: &[u32], is_max: bool) -> Pieces {
    let (vals, e) = (b.vals, b.e);
    let shape = vals.shape(b.node);
    let n = shape.len();
    let best = vals.get(b.node)[e];
    let tied: Vec<usize> = (0..links.len())
        .filter(|&j| Bc::of(vals, links[j], shape).at(e) == best)
        .collect();
    if tied.len() != 2 {
        return Pieces::Many { count: tied.len() };
    }
    let chosen = if b.which == 1 { tied[0] } else { tied[1] };
    for j in 0..links.len() {
        b.mask[j * n + e] = if j == chosen { T::one() } else { T::zero() };
    }
    Pieces::Two { convex: is_max }
}
