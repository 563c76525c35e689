//! Concatenation: [`Tape::concat`] of vectors end to end and [`Tape::concat_rows`] of matrices
//! with equal column counts, one under another. Both lay the operands' row-major values end to
//! end, so they are one primitive; the operands are stored in `links`, like `max_n`'s.
//!
//! ```text
//! concat(x¹ … xᵏ)         = (x¹₁ … x¹ₙ₁, x²₁ …, …, xᵏₙₖ)        ∂/∂xᵐ = g on xᵐ's range
//! concat_rows(X¹ … Xᵏ)    = [X¹; X²; …; Xᵏ]    [Σ rᵐ, c]          ∂/∂Xᵐ = g on Xᵐ's rows
//! ```
//! No kinks. An operand listed twice receives both of its ranges' gradients.

use super::rule::{Need, TangentCx};
use super::{build, info, Op, Sink};
use crate::{Error, Operand, Real, Result, Shape, Tape, Var};

/// Checks the operands and pushes the node: vectors end to end, or (`rows`) matrices stacked.
fn join<'t, T: Real>(
    tape: &'t Tape<T>,
    xs: &[Var<'t, T>],
    op: &'static str,
    rows: bool,
) -> Result<Var<'t, T>> {
    let Some(&first) = xs.first() else {
        return Err(Error::Empty { op });
    };
    let (mut len, mut row_count, mut any_needs) = (0usize, 0usize, false);
    for &x in xs {
        x.to_var(tape, op)?;
        let (shape, needs) = info(x);
        let expected = if rows { 2 } else { 1 };
        if shape.rank() != expected {
            return Err(Error::InvalidShape {
                op,
                expected: if rows { "matrices" } else { "vectors" },
                shape,
            });
        }
        if rows && shape.cols() != first.shape().cols() {
            return Err(Error::ShapeMismatch {
                op,
                lhs: first.shape(),
                rhs: shape,
            });
        }
        // Saturating: a sum past usize::MAX is refused by the reservation below.
        len = len.saturating_add(shape.len());
        row_count = row_count.saturating_add(shape.rows());
        any_needs |= needs;
    }
    let shape = if rows {
        Shape::try_matrix(row_count, first.shape().cols())?
    } else {
        Shape::vector(len)
    };
    let start = {
        let mut inner = tape.borrow_mut();
        // The output is not bounded by one operand's size (one operand may be listed many
        // times), so its memory is reserved, and an impossible size is an error.
        inner.reserve(op, shape.len())?;
        let start = inner.links.len();
        inner.links.extend(xs.iter().map(|x| x.id));
        start
    };
    let node = Op::Concat {
        start,
        len: xs.len(),
    };
    Ok(build(tape, node, shape, any_needs, |p| {
        let mut at = 0;
        for x in xs {
            let v = p.vals.get(x.id);
            p.out[at..at + v.len()].copy_from_slice(v);
            at += v.len();
        }
    }))
}

impl<T: Real> Tape<T> {
    /// The vectors `xs` end to end: `[n¹], …, [nᵏ] → [n¹ + … + nᵏ]`.
    ///
    /// ```text
    /// concat(x¹ … xᵏ) = (x¹, …, xᵏ)        ∂/∂xᵐ = the slice of g where xᵐ sits
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no operand; [`Error::InvalidShape`] for an operand that is not a
    /// vector ([`Tape::try_concat_rows`] stacks matrices); [`Error::ForeignVar`];
    /// [`Error::Allocation`] if the result does not fit in memory.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let (a, b) = (tape.param_vec(&[1.0, 2.0])?, tape.param_vec(&[3.0])?);
    /// let c = tape.try_concat(&[a, b, a])?;
    /// assert_eq!(c.value(), vec![1.0, 2.0, 3.0, 1.0, 2.0]);
    /// let w = tape.constant_vec(&[1.0, 2.0, 3.0, 4.0, 5.0])?;
    /// let g = c.dot(w).backward()?;
    /// assert_eq!((g.wrt(a), g.wrt(b)), (&[1.0 + 4.0, 2.0 + 5.0][..], &[3.0][..]));
    /// # Ok(()) }
    /// ```
    pub fn try_concat<'t>(&'t self, xs: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        join(self, xs, "concat", false)
    }

    /// The vectors `xs` end to end; see [`Tape::try_concat`].
    ///
    /// # Panics
    /// If [`Tape::try_concat`] fails.
    #[track_caller]
    pub fn concat<'t>(&'t self, xs: &[Var<'t, T>]) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_concat(xs))
    }

    /// The matrices `xs`, all with `c` columns, one under another: `[r¹, c], …, [rᵏ, c] →
    /// [r¹ + … + rᵏ, c]`.
    ///
    /// ```text
    /// concat_rows(X¹ … Xᵏ) = [X¹; …; Xᵏ]        ∂/∂Xᵐ = the rows of g where Xᵐ sits
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no operand; [`Error::InvalidShape`] for an operand that is not a
    /// matrix; [`Error::ShapeMismatch`] (naming the first operand's shape and the offending
    /// one) if the column counts differ; [`Error::ForeignVar`]; [`Error::ShapeOverflow`] or
    /// [`Error::Allocation`] if the result does not fit in memory.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param(&[1.0, 2.0], Shape::matrix(1, 2))?;
    /// let b = tape.param(&[3.0, 4.0, 5.0, 6.0], Shape::matrix(2, 2))?;
    /// let m = tape.try_concat_rows(&[b, a])?;
    /// assert_eq!((m.shape(), m.value()), (Shape::matrix(3, 2), vec![3.0, 4.0, 5.0, 6.0, 1.0, 2.0]));
    /// let g = m.row_sum().dot(tape.constant_vec(&[1.0, 2.0, 3.0])?).backward()?;
    /// assert_eq!(g.wrt(a), &[3.0, 3.0]); // a is the third row
    /// assert!(tape.try_concat_rows(&[a, tape.param(&[1.0; 3], Shape::matrix(1, 3))?]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_concat_rows<'t>(&'t self, xs: &[Var<'t, T>]) -> Result<Var<'t, T>> {
        join(self, xs, "concat_rows", true)
    }

    /// The matrices `xs` one under another; see [`Tape::try_concat_rows`].
    ///
    /// # Panics
    /// If [`Tape::try_concat_rows`] fails.
    #[track_caller]
    pub fn concat_rows<'t>(&'t self, xs: &[Var<'t, T>]) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_concat_rows(xs))
    }
}

/// Operand `m` receives the slice of `g` where its values sit.
pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, links: &[u32], g: &[T]) {
    let mut at = 0;
    for &x in links {
        let len = s.vals.shape(x).len();
        if let Some(gx) = s.grad(x) {
            for (d, &gi) in gx.iter_mut().zip(&g[at..at + len]) {
                *d += gi;
            }
        }
        at += len;
    }
}

/// `ẏ = (ẋ¹, …, ẋᵏ)`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], out: &mut [T]) {
    let mut at = 0;
    for &x in links {
        let len = cx.tv.vals.shape(x).len();
        let dst = &mut out[at..at + len];
        match cx.tv.tan(x) {
            Some(tx) => dst.copy_from_slice(tx),
            None => dst.fill(T::zero()),
        }
        at += len;
    }
}

/// The output elements in operand `m`'s range read its elements one to one.
pub(super) fn need<T: Real>(need: &mut Need<'_, T>, links: &[u32]) {
    let mut at = 0;
    for &x in links {
        let len = need.inner.nodes[x as usize].shape.len();
        if let Some((off, _)) = need.slot(x) {
            let out = &need.out[at..at + len];
            for (d, &o) in need.lower[off..off + len].iter_mut().zip(out) {
                *d |= o;
            }
        }
        at += len;
    }
}

/// Magnitude: each operand's, in its range (`|value|` for a constant operand).
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, links: &[u32], out: &mut [T]) {
    let mut at = 0;
    for &x in links {
        let len = cx.tv.vals.shape(x).len();
        let mx = cx.m_raw(x);
        for (k, o) in out[at..at + len].iter_mut().enumerate() {
            *o = mx.at(k);
        }
        at += len;
    }
}
