//! Elementwise `max`/`min` of two values (binary) or of several (`Tape::max_n`, `Tape::min_n`).
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
use crate::policy::{TieSplit, TieWeights};
use crate::tape::Values;
use crate::{Error, Operand, Real, Result, Shape, Tape, Var};

/// `a` strictly beats `b`: greater for max, smaller for min.
#[inline]
fn beats<T: Real>(is_max: bool, a: T, b: T) -> bool {
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
    /// [`Error::ShapeMismatch`] unless the shapes broadcast (as for [`Var::try_add`]);
    /// [`Error::ForeignVar`]; [`Error::NonFinite`] for a NaN or infinite number.
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

pub(super) fn nary_backward<T: Real>(
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

/// `ẏ = Σⱼ mⱼ·ẋⱼ` over the inputs.
pub(super) fn nary_tangent<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], out: &mut [T]) {
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
pub(super) fn nary_resolve<T: Real>(tie: &mut Tie<'_, '_, T>, links: &[u32], is_max: bool) -> bool {
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
pub(super) fn nary_magnitude<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], out: &mut [T]) {
    for e in cx.needed() {
        out[e] = links
            .iter()
            .fold(T::zero(), |acc, &x| acc.max(cx.m(x).at(e)));
    }
}

/// Near-tie candidates by the bounds: an input other than the winner within
/// `τ·2·maxⱼ bound(xʲ)` of it.
pub(super) fn nary_near<T: Real>(
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
pub(super) fn nary_is_near<T: Real>(
    cx: &TangentCx<'_, T>,
    links: &[u32],
    e: usize,
    tau: T,
) -> bool {
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
pub(super) fn nary_distance<T: Real>(
    vals: Values<'_, T>,
    node: u32,
    links: &[u32],
    out: &mut Vec<T>,
) {
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

/// Exact-subdifferential branches of a binary tie `a = b`: branch 0 is `b` (mask 0), branch 1
/// is `a` (mask 1); `max` is their maximum (convex), `min` their minimum.
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>, is_max: bool) -> Pieces {
    b.mask[b.e] = if b.which == 1 { T::one() } else { T::zero() };
    Pieces::Two { convex: is_max }
}

/// Exact-subdifferential branches of an n-ary tie: with two tied inputs `xʲ` and `xᵏ`
/// (`j < k`), branch 0 is `xᵏ` (weight 1 on it, 0 elsewhere) and branch 1 is `xʲ`; `max_n` is
/// their maximum, `min_n` their minimum. More than two tied inputs are [`Pieces::Many`].
pub(super) fn nary_branch<T: Real>(
    b: &mut Branch<'_, '_, T>,
    links: &[u32],
    is_max: bool,
) -> Pieces {
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
