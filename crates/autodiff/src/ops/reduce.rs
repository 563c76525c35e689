//! Sums: `sum` (all elements), `mean` (all elements), `row_sum` (each row of a matrix).
//!
//! ```text
//! sum(x)     = Σᵢ xᵢ               ∂/∂xᵢ = 1
//! mean(x)    = (1/n)·Σᵢ xᵢ         ∂/∂xᵢ = 1/n
//! row_sum(X) = (Σⱼ Xᵢⱼ)ᵢ            ∂/∂Xᵢⱼ = 1 (times the row's upstream gradient)
//! ```
//! No kinks.

use super::rule::TangentCx;
use super::{build, info, kernels, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

impl<'t, T: Real> Var<'t, T> {
    /// Sum of all elements (a scalar); 0 for an empty value.
    ///
    /// ```text
    /// sum(x) = Σᵢ xᵢ        ∂/∂xᵢ = 1
    /// ```
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, 2.0, 3.0])?;
    /// let s = x.sum();
    /// assert_eq!(s.item(), 6.0);
    /// assert_eq!(s.backward()?.wrt(x), &[1.0, 1.0, 1.0]);
    /// # Ok(()) }
    /// ```
    pub fn sum(self) -> Var<'t, T> {
        let (_, needs) = info(self);
        build(self.tape, Op::Sum(self.id), Shape::scalar(), needs, |p| {
            p.out[0] = kernels::sum(p.vals.get(self.id));
        })
    }

    /// Mean of all elements (a scalar).
    ///
    /// ```text
    /// mean(x) = (1/n)·Σᵢ xᵢ        ∂/∂xᵢ = 1/n
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
    /// let x = tape.param_vec(&[1.0, 3.0])?;
    /// let m = x.try_mean()?;
    /// assert_eq!(m.item(), 2.0);
    /// assert_eq!(m.backward()?.wrt(x), &[0.5, 0.5]);
    /// # Ok(()) }
    /// ```
    pub fn try_mean(self) -> Result<Var<'t, T>> {
        let (shape, needs) = info(self);
        if shape.is_empty() {
            return Err(Error::Empty { op: "mean" });
        }
        let n = T::cst(shape.len() as f64);
        Ok(build(
            self.tape,
            Op::Mean(self.id),
            Shape::scalar(),
            needs,
            |p| {
                p.out[0] = kernels::sum(p.vals.get(self.id)) / n;
            },
        ))
    }

    /// Mean of all elements; see [`Var::try_mean`].
    ///
    /// # Panics
    /// If the value is empty.
    #[track_caller]
    pub fn mean(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_mean())
    }

    /// Sum of each row of a matrix: `[r, c] → [r]`.
    ///
    /// ```text
    /// row_sum(X)ᵢ = Σⱼ Xᵢⱼ        ∂/∂Xᵢⱼ = 1
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidShape`] unless the value is a matrix.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
    /// assert_eq!(x.try_row_sum()?.value(), vec![3.0, 7.0]);
    /// # Ok(()) }
    /// ```
    pub fn try_row_sum(self) -> Result<Var<'t, T>> {
        let (shape, needs) = info(self);
        if shape.rank() != 2 {
            return Err(Error::InvalidShape {
                op: "row_sum",
                expected: "a matrix",
                shape,
            });
        }
        let c = shape.cols();
        Ok(build(
            self.tape,
            Op::RowSum(self.id),
            Shape::vector(shape.rows()),
            needs,
            |p| {
                let x = p.vals.get(self.id);
                for (i, o) in p.out.iter_mut().enumerate() {
                    *o = kernels::sum(&x[i * c..(i + 1) * c]);
                }
            },
        ))
    }

    /// Sum of each row; see [`Var::try_row_sum`].
    ///
    /// # Panics
    /// If the value is not a matrix.
    #[track_caller]
    pub fn row_sum(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_row_sum())
    }
}

pub(super) fn sum_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for d in gx.iter_mut() {
            *d += g[0];
        }
    }
}

/// What `mean` hands each of its `len` elements from the gradient `g` of its output: `g/len`.
#[inline]
pub(super) fn mean_share<T: Real>(g: T, len: usize) -> T {
    g / T::cst(len as f64)
}

pub(super) fn mean_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    if let Some(gx) = s.grad(x) {
        let share = mean_share(g[0], gx.len());
        for d in gx.iter_mut() {
            *d += share;
        }
    }
}

pub(super) fn row_sum_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    let c = s.vals.shape(x).cols();
    if let Some(gx) = s.grad(x) {
        for (row, &gi) in gx.chunks_exact_mut(c.max(1)).zip(g) {
            for d in row.iter_mut() {
                *d += gi;
            }
        }
    }
}

/// `ẏ = Σ ẋ` (`mean`: divided by the length).
pub(super) fn sum_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, mean: bool, out: &mut [T]) {
    let s: T = cx.tv.tan(x).map_or(T::zero(), |t| t.iter().copied().sum());
    out[0] = if mean {
        s / T::cst(cx.tv.vals.shape(x).len() as f64)
    } else {
        s
    };
}

/// `ẏᵢ = Σⱼ Ẋᵢⱼ`.
pub(super) fn row_sum_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let c = cx.tv.vals.shape(x).cols();
    let t = cx.tv.tan(x);
    for (e, o) in out.iter_mut().enumerate() {
        *o = t.map_or(T::zero(), |t| t[e * c..(e + 1) * c].iter().copied().sum());
    }
}

/// Magnitude of `sum`/`mean`: the sum (mean) of the operand's magnitudes, i.e. the tangent
/// rule with the magnitudes in place of the tangents (its coefficients are positive).
pub(super) fn sum_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, mean: bool, out: &mut [T]) {
    sum_tangent(cx, x, mean, out);
}

/// Magnitude of `row_sum`: each row's sum of magnitudes (the tangent rule, likewise).
pub(super) fn row_sum_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    row_sum_tangent(cx, x, out);
}

/// Bound of `sum`: `n·bound(x)`.
pub(super) fn sum_bound<T: Real>(vals: crate::tape::Values<'_, T>, x: u32, ux: T) -> T {
    T::cst(vals.shape(x).len() as f64) * ux
}

/// Bound of `row_sum`: the column count times `bound(x)`.
pub(super) fn row_sum_bound<T: Real>(vals: crate::tape::Values<'_, T>, x: u32, ux: T) -> T {
    T::cst(vals.shape(x).cols() as f64) * ux
}
