//! `transpose`: a matrix's rows become its columns.
//!
//! ```text
//! transpose(X)ⱼᵢ = Xᵢⱼ        (X is [r, c], Xᵀ is [c, r])        ∂/∂Xᵢⱼ = gⱼᵢ
//! ```
//! No kinks. The loops walk the matrix in square tiles, so the side read column by column
//! stays in cache while the tile's rows are walked.

use super::rule::{Need, TangentCx};
use super::{build, info, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

/// The side of a tile: a 32 × 32 tile of f64 is 8 KB, so the tile read and the tile written
/// fit in a 32 KB L1 cache together.
const TILE: usize = 32;

/// Calls `f(i, j)` for every element of an `r × c` matrix, tile by tile.
#[inline]
fn tiled(r: usize, c: usize, mut f: impl FnMut(usize, usize)) {
    for i0 in (0..r).step_by(TILE) {
        for j0 in (0..c).step_by(TILE) {
            for i in i0..(i0 + TILE).min(r) {
                for j in j0..(j0 + TILE).min(c) {
                    f(i, j);
                }
            }
        }
    }
}

impl<'t, T: Real> Var<'t, T> {
    /// The transpose `Xᵀ` of this `[r, c]` matrix: `[c, r]`.
    ///
    /// ```text
    /// Xᵀⱼᵢ = Xᵢⱼ        ∂/∂X = gᵀ
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless `self` is a matrix (a vector has no second axis: use
    /// [`Var::try_reshape`] to make it a row or a column).
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(2, 3))?;
    /// let t = x.try_transpose()?;
    /// assert_eq!(t.shape(), Shape::matrix(3, 2));
    /// assert_eq!(t.value(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// // Σ Xᵀ ⊙ W picks Wⱼᵢ for Xᵢⱼ.
    /// let w = tape.constant(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(3, 2))?;
    /// assert_eq!(t.dot(w).backward()?.wrt(x), &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    /// assert!(tape.param_vec(&[1.0, 2.0])?.try_transpose().is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_transpose(self) -> Result<Var<'t, T>> {
        let (shape, needs) = info(self);
        if shape.rank() != 2 {
            return Err(Error::InvalidShape {
                op: "transpose",
                expected: "a matrix",
                shape,
            });
        }
        let (r, c) = (shape.rows(), shape.cols());
        let out = Shape::matrix(c, r);
        Ok(build(self.tape, Op::Transpose(self.id), out, needs, |p| {
            let x = p.vals.get(self.id);
            tiled(r, c, |i, j| p.out[j * r + i] = x[i * c + j]);
        }))
    }

    /// The transpose of a matrix; see [`Var::try_transpose`].
    ///
    /// # Panics
    /// If `self` is not a matrix.
    #[track_caller]
    pub fn transpose(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_transpose())
    }
}

/// `∂X += gᵀ`.
pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    let shape = s.vals.shape(x);
    let (r, c) = (shape.rows(), shape.cols());
    if let Some(gx) = s.grad(x) {
        tiled(r, c, |i, j| gx[i * c + j] += g[j * r + i]);
    }
}

/// `Ẏ = Ẋᵀ`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let shape = cx.tv.vals.shape(x);
    let (r, c) = (shape.rows(), shape.cols());
    match cx.tv.tan(x) {
        Some(tx) => tiled(r, c, |i, j| out[j * r + i] = tx[i * c + j]),
        None => out.fill(T::zero()),
    }
}

/// Output element `(j, i)` reads input element `(i, j)`.
pub(super) fn need<T: Real>(need: &mut Need<'_, T>, x: u32) {
    let shape = need.inner.nodes[x as usize].shape;
    let (r, c) = (shape.rows(), shape.cols());
    if let Some((off, _)) = need.slot(x) {
        for (e, &o) in need.out.iter().enumerate() {
            if o {
                let (j, i) = (e / r, e % r);
                need.lower[off + i * c + j] = true;
            }
        }
    }
}

/// Magnitude: the operand's, moved as the tangent rule moves tangents.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    tangent(cx, x, out);
}
