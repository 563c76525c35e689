//! Slicing: `slice(start, end)` of a vector and `slice_rows(start, end)` of a matrix. Both are
//! one contiguous range of the row-major values, so they are one primitive.
//!
//! ```text
//! slice(x, s, e)ₖ        = x_{s+k}          [n]    → [e − s]       ∂/∂x_{s+k}  = gₖ, 0 outside
//! slice_rows(X, s, e)ₖⱼ  = X_{s+k, j}       [r, c] → [e − s, c]    ∂/∂X_{s+k,j} = gₖⱼ, 0 outside
//! ```
//! No kinks.

use super::rule::{Need, TangentCx};
use super::{build, info, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

/// Checks `start ≤ end ≤ len`.
fn check_range(op: &'static str, start: usize, end: usize, len: usize) -> Result<()> {
    if start <= end && end <= len {
        Ok(())
    } else {
        Err(Error::InvalidRange {
            op,
            start,
            end,
            len,
        })
    }
}

/// The node reading `x`'s elements `offset .. offset + shape.len()`.
fn slice_node<'t, T: Real>(x: Var<'t, T>, offset: usize, shape: Shape, needs: bool) -> Var<'t, T> {
    let op = Op::Slice {
        x: x.id,
        start: offset,
    };
    build(x.tape, op, shape, needs, |p| {
        p.out
            .copy_from_slice(&p.vals.get(x.id)[offset..offset + shape.len()]);
    })
}

impl<'t, T: Real> Var<'t, T> {
    /// Elements `start .. end` of this vector: `[n] → [end − start]`.
    ///
    /// ```text
    /// slice(x, s, e)ₖ = x_{s+k}        ∂/∂x_{s+k} = gₖ, 0 outside the range
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless `self` is a vector ([`Var::try_slice_rows`] slices a
    /// matrix); [`Error::InvalidRange`] unless `start ≤ end ≤ n`.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, 2.0, 3.0, 4.0])?;
    /// let s = x.try_slice(1, 3)?;
    /// assert_eq!(s.value(), vec![2.0, 3.0]);
    /// assert_eq!(s.sum().backward()?.wrt(x), &[0.0, 1.0, 1.0, 0.0]);
    /// assert!(x.try_slice(3, 5).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_slice(self, start: usize, end: usize) -> Result<Var<'t, T>> {
        let (shape, needs) = info(self);
        if shape.rank() != 1 {
            return Err(Error::InvalidShape {
                op: "slice",
                expected: "a vector",
                shape,
            });
        }
        check_range("slice", start, end, shape.len())?;
        Ok(slice_node(self, start, Shape::vector(end - start), needs))
    }

    /// Elements `start .. end` of a vector; see [`Var::try_slice`].
    ///
    /// # Panics
    /// If `self` is not a vector or the range does not fit in it.
    #[track_caller]
    pub fn slice(self, start: usize, end: usize) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_slice(start, end))
    }

    /// Rows `start .. end` of this `[r, c]` matrix: `[end − start, c]`.
    ///
    /// ```text
    /// slice_rows(X, s, e)ₖⱼ = X_{s+k, j}        ∂/∂X_{s+k, j} = gₖⱼ, 0 outside the rows
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless `self` is a matrix; [`Error::InvalidRange`] unless
    /// `start ≤ end ≤ r`.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(3, 2))?;
    /// let s = x.try_slice_rows(1, 2)?;
    /// assert_eq!((s.shape(), s.value()), (Shape::matrix(1, 2), vec![3.0, 4.0]));
    /// assert_eq!(s.sum().backward()?.wrt(x), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// assert!(x.try_slice_rows(2, 1).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_slice_rows(self, start: usize, end: usize) -> Result<Var<'t, T>> {
        let (shape, needs) = info(self);
        if shape.rank() != 2 {
            return Err(Error::InvalidShape {
                op: "slice_rows",
                expected: "a matrix",
                shape,
            });
        }
        check_range("slice_rows", start, end, shape.rows())?;
        let c = shape.cols();
        let out = Shape::matrix(end - start, c);
        Ok(slice_node(self, start * c, out, needs))
    }

    /// Rows `start .. end` of a matrix; see [`Var::try_slice_rows`].
    ///
    /// # Panics
    /// If `self` is not a matrix or the range does not fit in its rows.
    #[track_caller]
    pub fn slice_rows(self, start: usize, end: usize) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_slice_rows(start, end))
    }
}

/// `∂x[start + k] += gₖ`.
pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, start: usize, g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for (d, &gi) in gx[start..start + g.len()].iter_mut().zip(g) {
            *d += gi;
        }
    }
}

/// `ẏₖ = ẋ[start + k]`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, start: usize, out: &mut [T]) {
    match cx.tv.tan(x) {
        Some(tx) => out.copy_from_slice(&tx[start..start + out.len()]),
        None => out.fill(T::zero()),
    }
}

/// Output element `k` reads input element `start + k`.
pub(super) fn need<T: Real>(need: &mut Need<'_, T>, x: u32, start: usize) {
    if let Some((off, _)) = need.slot(x) {
        let dst = &mut need.lower[off + start..off + start + need.out.len()];
        for (d, &o) in dst.iter_mut().zip(need.out) {
            *d |= o;
        }
    }
}

/// Magnitude: the operand's, moved as the tangent rule moves tangents.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, start: usize, out: &mut [T]) {
    tangent(cx, x, start, out);
}
