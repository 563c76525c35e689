//! `gather`: one entry per row of a matrix, picked by a column index (the true-class score of each
//! example).
//!
//! ```text
//! gather(X, k)ᵢ = Xᵢ,ₖᵢ        ∂/∂Xᵢⱼ = gᵢ if j = kᵢ, else 0
//! ```
//! No kinks: the indices are data, not a choice.

use super::rule::{Need, TangentCx};
use super::{build, info, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

impl<'t, T: Real> Var<'t, T> {
    /// Picks `X[i, index[i]]` from each row `i` of this `[r, c]` matrix: `[r, c] → [r]`.
    ///
    /// ```text
    /// gather(X, k)ᵢ = X[i, kᵢ]        ∂/∂X[i, j] = gᵢ·[j = kᵢ]
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless `self` is a matrix; [`Error::ShapeMismatch`] if there is not
    /// one index per row; [`Error::IndexOutOfRange`] if an index is `≥ c`.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let scores = tape.param(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(2, 3))?;
    /// let picked = scores.try_gather(&[2, 0])?;
    /// assert_eq!(picked.value(), vec![3.0, 4.0]);
    /// assert_eq!(picked.sum().backward()?.wrt(scores), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_gather(self, index: &[usize]) -> Result<Var<'t, T>> {
        let (shape, needs) = info(self);
        if shape.rank() != 2 {
            return Err(Error::InvalidShape {
                op: "gather",
                expected: "a matrix",
                shape,
            });
        }
        if index.len() != shape.rows() {
            return Err(Error::ShapeMismatch {
                op: "gather",
                lhs: shape,
                rhs: Shape::vector(index.len()),
            });
        }
        let c = shape.cols();
        if let Some((row, &bad)) = index.iter().enumerate().find(|(_, &k)| k >= c) {
            return Err(Error::IndexOutOfRange {
                op: "gather",
                row,
                index: bad,
                len: c,
            });
        }
        let start = self.tape.borrow().indices.len();
        let op = Op::Gather { x: self.id, start };
        Ok(build(
            self.tape,
            op,
            Shape::vector(index.len()),
            needs,
            |p| {
                p.indices.extend_from_slice(index);
                let x = p.vals.get(self.id);
                for (i, (o, &k)) in p.out.iter_mut().zip(index).enumerate() {
                    *o = x[i * c + k];
                }
            },
        ))
    }

    /// One entry per row; see [`Var::try_gather`].
    ///
    /// # Panics
    /// On a bad shape or an index out of range.
    #[track_caller]
    pub fn gather(self, index: &[usize]) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_gather(index))
    }
}

pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, index: &[usize], g: &[T]) {
    let c = s.vals.shape(x).cols();
    if let Some(gx) = s.grad(x) {
        for (i, (&k, &gi)) in index.iter().zip(g).enumerate() {
            gx[i * c + k] += gi;
        }
    }
}

/// `ẏᵢ = Ẋᵢ,index(i)`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, index: &[usize], out: &mut [T]) {
    let c = cx.tv.vals.shape(x).cols();
    let t = cx.tv.tan(x);
    for (e, o) in out.iter_mut().enumerate() {
        *o = t.map_or(T::zero(), |t| t[e * c + index[e]]);
    }
}

/// A needed output `i` reads the one gathered element of row `i`.
pub(super) fn need<T: Real>(need: &mut Need<'_, T>, x: u32, index: &[usize]) {
    if let Some((off, len)) = need.slot(x) {
        let c = len / need.out.len().max(1);
        for (i, &o) in need.out.iter().enumerate() {
            if o {
                need.lower[off + i * c + index[i]] = true;
            }
        }
    }
}

/// Magnitude: the operand's, moved as the tangent rule moves tangents.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, index: &[usize], out: &mut [T]) {
    tangent(cx, x, index, out);
}
