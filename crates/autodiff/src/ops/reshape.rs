//! `reshape`: the same values, row-major, under another shape of the same length.
//!
//! ```text
//! reshape(x)ᵢ = xᵢ        ∂/∂xᵢ = gᵢ
//! ```
//! No kinks. `v.reshape([n, 1])` is how a vector asks to be broadcast along a matrix's rows
//! when its length fits both sides (see [`Shape`]); `v.reshape([n, 1]).matmul(ones[1, k])`
//! builds the repeated matrix itself.

use super::rule::TangentCx;
use super::{build, info, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

impl<'t, T: Real> Var<'t, T> {
    /// The same values under `shape` (which must have the same number of elements).
    ///
    /// ```text
    /// reshape(x)ᵢ = xᵢ        ∂/∂x = g
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the lengths differ.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let v = tape.param_vec(&[1.0, 2.0])?;
    /// let ones = tape.constant(&[1.0; 3], Shape::matrix(1, 3))?;
    /// let m = v.try_reshape(Shape::matrix(2, 1))?.matmul(ones); // v in every column
    /// assert_eq!(m.value(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(m.sum().backward()?.wrt(v), &[3.0, 3.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_reshape(self, shape: Shape) -> Result<Var<'t, T>> {
        let (old, needs) = info(self);
        if old.len() != shape.len() {
            return Err(Error::ShapeMismatch {
                op: "reshape",
                lhs: old,
                rhs: shape,
            });
        }
        Ok(build(self.tape, Op::Reshape(self.id), shape, needs, |p| {
            p.out.copy_from_slice(p.vals.get(self.id));
        }))
    }

    /// The same values under another shape; see [`Var::try_reshape`].
    ///
    /// # Panics
    /// If the lengths differ.
    #[track_caller]
    pub fn reshape(self, shape: Shape) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_reshape(shape))
    }
}

pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for (d, &gi) in gx.iter_mut().zip(g) {
            *d += gi;
        }
    }
}

/// `ẏ = ẋ` (same elements, same order).
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    match cx.tv.tan(x) {
        Some(tx) => out.copy_from_slice(tx),
        None => out.fill(T::zero()),
    }
}

/// Magnitude: the operand's, element for element (the tangent rule's copy).
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    cx.scaled_magnitude(x, T::one(), out);
}
