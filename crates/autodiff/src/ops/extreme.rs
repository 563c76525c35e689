//! Reductions by `max`/`min`: of all elements (`reduce_max`, `reduce_min`, a scalar) or of each
//! row of a matrix (`row_max`, `row_min`).
//!
//! ```text
//! reduce_max(x) = maxᵢ xᵢ          ∂/∂xᵢ = 1 for the unique maximiser, 0 elsewhere
//! row_max(X)ᵢ   = maxⱼ Xᵢⱼ
//! k tied maximisers: 1/k each (every preset; weights sum to 1), or all to the first
//! (a custom policy with TieSplit::First)
//! ```
//! A tie is recorded as a kink at the output element (the row).

use super::rule::{computed_bound, within, Branch, Pieces, TangentCx, Tie};
use super::{build, info, Op, Sink};
use crate::policy::TieWeights;
use crate::tape::Values;
use crate::{Error, Real, Result, Shape, Var};

fn reduce<'t, T: Real>(x: Var<'t, T>, is_max: bool, by_row: bool) -> Result<Var<'t, T>> {
    let name = match (is_max, by_row) {
        (true, false) => "reduce_max",
        (false, false) => "reduce_min",
        (true, true) => "row_max",
        (false, true) => "row_min",
    };
    let (shape, needs) = info(x);
    if by_row && shape.rank() != 2 {
        return Err(Error::InvalidShape {
            op: name,
            expected: "a matrix",
            shape,
        });
    }
    let (rows, cols, out_shape) = if by_row {
        (shape.rows(), shape.cols(), Shape::vector(shape.rows()))
    } else {
        (1, shape.len(), Shape::scalar())
    };
    if cols == 0 {
        return Err(Error::Empty { op: name });
    }
    let op = match (is_max, by_row) {
        (true, false) => Op::ReduceMax(x.id),
        (false, false) => Op::ReduceMin(x.id),
        (true, true) => Op::RowMax(x.id),
        (false, true) => Op::RowMin(x.id),
    };
    Ok(build(x.tape, op, out_shape, needs, |p| {
        let v = p.vals.get(x.id);
        let base = p.masks.len();
        p.masks.resize(base + v.len(), T::zero());
        let mask = &mut p.masks[base..];
        for i in 0..rows {
            let row = &v[i * cols..(i + 1) * cols];
            let mut best = row[0];
            for &e in &row[1..] {
                if (if is_max { e > best } else { e < best }) || e.is_nan() {
                    best = e;
                }
            }
            p.out[i] = best;
            let tied = row.iter().filter(|&&e| e == best).count();
            if tied > 1 {
                p.ties.push(i);
            }
            let mut weights = TieWeights::new(p.rules.reduction_tie, tied, false);
            let m = &mut mask[i * cols..(i + 1) * cols];
            for (w, &e) in m.iter_mut().zip(row) {
                if e == best {
                    *w = weights.next();
                }
            }
        }
    }))
}

impl<'t, T: Real> Var<'t, T> {
    /// Largest element (a scalar).
    ///
    /// ```text
    /// reduce_max(x) = maxᵢ xᵢ        ∂/∂xᵢ = 1/k for each of the k tied maximisers
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] if the value has no element.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[3.0, 1.0, 3.0])?;
    /// let m = x.try_reduce_max()?;
    /// assert_eq!(m.item(), 3.0);
    /// assert_eq!(m.backward()?.wrt(x), &[0.5, 0.0, 0.5]);
    /// # Ok(()) }
    /// ```
    pub fn try_reduce_max(self) -> Result<Var<'t, T>> {
        reduce(self, true, false)
    }

    /// Largest element; see [`Var::try_reduce_max`].
    ///
    /// # Panics
    /// If the value is empty.
    #[track_caller]
    pub fn reduce_max(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_reduce_max())
    }

    /// Smallest element (a scalar); ties as in [`Var::try_reduce_max`].
    ///
    /// ```text
    /// reduce_min(x) = minᵢ xᵢ
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] if the value has no element.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[3.0, 1.0])?;
    /// assert_eq!(x.try_reduce_min()?.backward()?.wrt(x), &[0.0, 1.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_reduce_min(self) -> Result<Var<'t, T>> {
        reduce(self, false, false)
    }

    /// Smallest element; see [`Var::try_reduce_min`].
    ///
    /// # Panics
    /// If the value is empty.
    #[track_caller]
    pub fn reduce_min(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_reduce_min())
    }

    /// Largest entry of each row of a matrix: `[r, c] → [r]`.
    ///
    /// ```text
    /// row_max(X)ᵢ = maxⱼ Xᵢⱼ        ∂/∂Xᵢⱼ = gᵢ/k for each of the k tied maximisers of row i
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless the value is a matrix; [`Error::Empty`] if it has no column.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let s = tape.param(&[1.0, 4.0, 2.0, 2.0], Shape::matrix(2, 2))?;
    /// let m = s.try_row_max()?;
    /// assert_eq!(m.value(), vec![4.0, 2.0]);
    /// assert_eq!(m.sum().backward()?.wrt(s), &[0.0, 1.0, 0.5, 0.5]);
    /// # Ok(()) }
    /// ```
    pub fn try_row_max(self) -> Result<Var<'t, T>> {
        reduce(self, true, true)
    }

    /// Largest entry of each row; see [`Var::try_row_max`].
    ///
    /// # Panics
    /// If the value is not a matrix with at least one column.
    #[track_caller]
    pub fn row_max(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_row_max())
    }

    /// Smallest entry of each row of a matrix; ties as in [`Var::try_row_max`].
    ///
    /// ```text
    /// row_min(X)ᵢ = minⱼ Xᵢⱼ
    /// ```
    ///
    /// # Errors
    /// As [`Var::try_row_max`].
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let s = tape.param(&[1.0, 4.0], Shape::matrix(1, 2))?;
    /// assert_eq!(s.try_row_min()?.value(), vec![1.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_row_min(self) -> Result<Var<'t, T>> {
        reduce(self, false, true)
    }

    /// Smallest entry of each row; see [`Var::try_row_min`].
    ///
    /// # Panics
    /// If the value is not a matrix with at least one column.
    #[track_caller]
    pub fn row_min(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_row_min())
    }
}

pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, mask: &[T], g: &[T]) {
    if let Some(gx) = s.grad(x) {
        let cols = gx.len() / g.len().max(1);
        for (i, &gi) in g.iter().enumerate() {
            if gi == T::zero() {
                continue;
            }
            let row = &mut gx[i * cols..(i + 1) * cols];
            for (d, &m) in row.iter_mut().zip(&mask[i * cols..(i + 1) * cols]) {
                *d += gi * m;
            }
        }
    }
}

/// `ẏᵢ = Σⱼ mᵢⱼ·Ẋᵢⱼ` over the row (the whole input for `reduce_*`).
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let n = out.len();
    let cols = cx.tv.vals.shape(x).len() / n.max(1);
    let t = cx.tv.tan(x);
    for (e, o) in out.iter_mut().enumerate() {
        *o = t.map_or(T::zero(), |t| {
            (0..cols)
                .map(|c| cx.mask[e * cols + c] * t[e * cols + c])
                .sum()
        });
    }
}

/// Certified tie in a row: the entries tied with the extreme (equal, or within
/// `τ·(m(entry) + m(winner))`; after a narrowing on an earlier direction only those still
/// weighted) with the extreme tangent are kept. One kept entry decides the tie; several narrow
/// it (even weights mark them for the next direction); none dropped leaves it tied.
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, x: u32, is_max: bool) -> bool {
    let (vals, e) = (tie.tv.vals, tie.e);
    let v = vals.get(x);
    let cols = v.len() / vals.shape(tie.node).len().max(1);
    let row = &v[e * cols..(e + 1) * cols];
    let best = vals.get(tie.node)[e];
    let tx = tie.tv.tan(x);
    let t = |c: usize| tx.map_or(T::zero(), |t| t[e * cols + c]);
    let bound = computed_bound(vals, tie.bounds, x);
    let m = |c: usize| {
        tie.mags.map(|mags| match (mags.tan(x), bound) {
            (Some(m), _) => m[e * cols + c],
            (None, Some(u)) => u,
            (None, None) => row[c].abs(),
        })
    };
    let m_best = row.iter().position(|&val| val == best).and_then(m);
    let tied: Vec<bool> = (0..cols)
        .map(|c| {
            tie.tied((row[c] - best).abs(), m(c), m_best)
                && (!tie.narrowed || tie.mask[e * cols + c] != T::zero())
        })
        .collect();
    let mut extreme: Option<T> = None;
    for (c, _) in tied.iter().enumerate().filter(|(_, &k)| k) {
        let tc = t(c);
        extreme = Some(match extreme {
            None => tc,
            Some(a) if is_max => a.max(tc),
            Some(a) => a.min(tc),
        });
    }
    let extreme = extreme.unwrap_or(T::zero());
    let keep: Vec<bool> = (0..cols)
        .map(|c| tied[c] && tie.same(t(c), extreme))
        .collect();
    let kept = keep.iter().filter(|&&k| k).count();
    if kept == tied.iter().filter(|&&k| k).count() {
        return false;
    }
    let split = if kept == 1 {
        tie.inner.rules.reduction_tie
    } else {
        crate::TieSplit::Even
    };
    let mut weights = TieWeights::new(split, kept, false);
    for (c, &k) in keep.iter().enumerate() {
        tie.mask[e * cols + c] = if k { weights.next() } else { T::zero() };
    }
    tie.narrowed = kept > 1;
    kept == 1
}

/// Magnitude: the largest magnitude in the row (the whole input for `reduce_*`).
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let n = out.len();
    let cols = cx.tv.vals.shape(x).len() / n.max(1);
    let mx = cx.m_raw(x);
    for e in cx.needed() {
        out[e] = (0..cols).fold(T::zero(), |acc, c| acc.max(mx.at(e * cols + c)));
    }
}

/// Near-tie candidates by the bound: an entry of the row other than the extreme within
/// `τ·2·bound(x)` of it.
pub(super) fn near<T: Real>(
    vals: Values<'_, T>,
    node: u32,
    x: u32,
    tau: T,
    ux: T,
    out: &mut Vec<usize>,
) {
    let v = vals.get(x);
    let best = vals.get(node);
    let cols = v.len() / best.len().max(1);
    let limit = T::cst(2.0) * tau * ux;
    for (i, &b) in best.iter().enumerate() {
        if v[i * cols..(i + 1) * cols].iter().any(|&w| {
            let d = (w - b).abs();
            d <= limit && d > T::zero()
        }) {
            out.push(i);
        }
    }
}

/// Near tie: an entry `v` of the row with `0 < |v − extreme| ≤ τ·(m(v) + m(extreme))`.
pub(super) fn is_near<T: Real>(cx: &TangentCx<'_, T>, x: u32, e: usize, tau: T) -> bool {
    let v = cx.tv.vals.get(x);
    let cols = v.len() / cx.need.len().max(1);
    let row = &v[e * cols..(e + 1) * cols];
    let best = cx.y()[e];
    let mx = cx.m_raw(x);
    let Some(w) = row.iter().position(|&val| val == best) else {
        return false;
    };
    let m_best = mx.at(e * cols + w);
    (0..cols).any(|c| within((row[c] - best).abs(), tau, mx.at(e * cols + c) + m_best))
}

/// The gap between the extreme and the nearest other entry of the row.
pub(super) fn distance<T: Real>(vals: Values<'_, T>, node: u32, x: u32, out: &mut Vec<T>) {
    let v = vals.get(x);
    let best = vals.get(node);
    let cols = v.len() / best.len().max(1);
    for (i, &b) in best.iter().enumerate() {
        let d = v[i * cols..(i + 1) * cols]
            .iter()
            .map(|&e| (e - b).abs())
            .filter(|d| *d > T::zero())
            .fold(T::infinity(), T::min);
        out.push(d);
    }
}

/// Exact-subdifferential branches of a tied row: with two tied entries `j < k`, branch 0 is
/// entry `k` (weight 1 on it, 0 on the rest of the row) and branch 1 is entry `j`; a max
/// reduction is their maximum, a min reduction their minimum. More than two tied entries are
/// [`Pieces::Many`].
pub(super) fn branch<T: Real>(b: &mut Branch<'_, '_, T>, x: u32, is_max: bool) -> Pieces {
    let (vals, e) = (b.vals, b.e);
    let v = vals.get(x);
    let cols = v.len() / vals.shape(b.node).len().max(1);
    let best = vals.get(b.node)[e];
    let row = &v[e * cols..(e + 1) * cols];
    let tied: Vec<usize> = (0..cols).filter(|&c| row[c] == best).collect();
    if tied.len() != 2 {
        return Pieces::Many { count: tied.len() };
    }
    let chosen = if b.which == 1 { tied[0] } else { tied[1] };
    for c in 0..cols {
        b.mask[e * cols + c] = if c == chosen { T::one() } else { T::zero() };
    }
    Pieces::Two { convex: is_max }
}
