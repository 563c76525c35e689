//! Powers with a constant exponent, elementwise: `powi` (integer `n`) and `powf` (real `p`).
//!
//! ```text
//! powi:  y = xⁿ      y' = n·xⁿ⁻¹    any x, but x ≠ 0 when n < 0 (the pole); n = 0 gives y' = 0
//! powf:  y = xᵖ      y' = p·xᵖ⁻¹    p finite; x ≥ 0, and x > 0 when p < 1 (p ≠ 0), where
//!                                    the derivative (or the value) at 0 is infinite;
//!                                    p = 0 gives y = 1 and y' = 0
//! ```
//! A negative base with a real exponent is outside `powf`'s domain even when `p` happens to be an
//! integer: use `powi` for integer exponents of any sign of `x`. No kinks.

use super::rule::TangentCx;
use super::smooth::{check_domain, map, unary_backward, unary_tangent};
use super::{Op, Sink};
use crate::tape::Values;
use crate::{Error, Real, Result, Var};

/// `n·xⁿ⁻¹`, and 0 for `n = 0` (the derivative of the constant 1, also at `x = 0`).
fn powi_derivative<T: Real>(x: T, n: i32) -> T {
    let factor = T::cst(f64::from(n));
    if n == 0 {
        T::zero()
    } else if let Some(m) = n.checked_sub(1) {
        factor * x.powi(m)
    } else {
        // n = i32::MIN: xⁿ⁻¹ = xⁿ / x, and x ≠ 0 in the domain of a negative n.
        factor * x.powi(n) / x
    }
}

/// `p·xᵖ⁻¹`, and 0 for `p = 0`.
fn powf_derivative<T: Real>(x: T, p: T) -> T {
    if p == T::zero() {
        T::zero()
    } else {
        p * x.powf(p - T::one())
    }
}

impl<'t, T: Real> Var<'t, T> {
    /// Elementwise integer power.
    ///
    /// ```text
    /// y = xⁿ        y' = n·xⁿ⁻¹      (y' = 0 for n = 0; x ≠ 0 when n < 0)
    /// ```
    ///
    /// # Errors
    /// [`Error::Domain`] if `n < 0` and an element is 0.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[-2.0, 0.0])?;
    /// let y = x.try_powi(3)?;
    /// assert_eq!(y.value(), vec![-8.0, 0.0]);
    /// assert_eq!(y.sum().backward()?.wrt(x), &[12.0, 0.0]); // 3x²
    /// assert!(x.try_powi(-1).is_err()); // 0⁻¹
    /// # Ok(()) }
    /// ```
    pub fn try_powi(self, n: i32) -> Result<Var<'t, T>> {
        if n < 0 {
            check_domain(self, "powi", "x ≠ 0 for a negative exponent", |v| {
                v != T::zero()
            })?;
        }
        Ok(map(self, Op::Powi { x: self.id, n }, |v| v.powi(n)))
    }

    /// Elementwise integer power; see [`Var::try_powi`].
    ///
    /// # Panics
    /// If `n < 0` and an element is 0.
    #[track_caller]
    pub fn powi(self, n: i32) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_powi(n))
    }

    /// Elementwise real power of a non-negative base.
    ///
    /// ```text
    /// y = xᵖ        y' = p·xᵖ⁻¹      (x ≥ 0, and x > 0 when p < 1 and p ≠ 0; y' = 0 for p = 0)
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `p` is NaN or infinite; [`Error::Domain`] if an element is
    /// negative, or 0 while `p < 1` and `p ≠ 0` (the derivative there is infinite).
    ///
    /// # Example
    /// ```
    /// use approx::assert_relative_eq;
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[4.0, 0.0])?;
    /// let y = x.try_powf(1.5)?;
    /// assert_relative_eq!(y.value()[0], 8.0);
    /// let g = y.sum().backward()?;
    /// assert_relative_eq!(g.wrt(x)[0], 3.0); // 1.5·√x
    /// assert_eq!(g.wrt(x)[1], 0.0);
    /// assert!(x.try_powf(0.5).is_err()); // infinite slope at 0
    /// assert!(tape.param_scalar(-1.0)?.try_powf(2.0).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_powf(self, p: T) -> Result<Var<'t, T>> {
        if !p.is_finite() {
            return Err(Error::InvalidArgument {
                op: "powf",
                what: "exponent",
                value: p.to_f64_lossless(),
            });
        }
        if p < T::one() && p != T::zero() {
            check_domain(self, "powf", "x > 0 for an exponent below 1", |v| {
                v > T::zero()
            })?;
        } else {
            check_domain(self, "powf", "x ≥ 0", |v| v >= T::zero())?;
        }
        Ok(map(self, Op::Powf { x: self.id, p }, |v| v.powf(p)))
    }

    /// Elementwise real power; see [`Var::try_powf`].
    ///
    /// # Panics
    /// If `p` is not finite, an element is negative, or an element is 0 while `p < 1`, `p ≠ 0`.
    #[track_caller]
    pub fn powf(self, p: T) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_powf(p))
    }
}

/// `∂x += n·xⁿ⁻¹·g`.
pub(super) fn powi_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, n: i32, g: &[T]) {
    let v = s.vals().get(x);
    unary_backward(s, x, g, |i| powi_derivative(v[i], n));
}

/// `∂x += p·xᵖ⁻¹·g`.
pub(super) fn powf_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, p: T, g: &[T]) {
    let v = s.vals().get(x);
    unary_backward(s, x, g, |i| powf_derivative(v[i], p));
}

/// `ẏ = n·xⁿ⁻¹·ẋ`.
pub(super) fn powi_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, n: i32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    unary_tangent(cx, x, out, |e| powi_derivative(v.at(e), n));
}

/// `ẏ = p·xᵖ⁻¹·ẋ`.
pub(super) fn powf_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, p: T, out: &mut [T]) {
    let v = cx.v(x, out.len());
    unary_tangent(cx, x, out, |e| powf_derivative(v.at(e), p));
}

/// Magnitude of `xⁿ`: `|n·xⁿ⁻¹|·m(x) + |y|`.
pub(super) fn powi_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, n: i32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    cx.smooth_magnitude(x, out, |e| powi_derivative(v.at(e), n));
}

/// Magnitude of `xᵖ`: `|p·xᵖ⁻¹|·m(x) + |y|`.
pub(super) fn powf_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, p: T, out: &mut [T]) {
    let v = cx.v(x, out.len());
    cx.smooth_magnitude(x, out, |e| powf_derivative(v.at(e), p));
}

/// Bound of `xⁿ` (one pass over the node).
pub(super) fn powi_bound<T: Real>(vals: Values<'_, T>, node: u32, x: u32, n: i32, ux: T) -> T {
    let v = vals.get(x);
    super::rule::smooth_bound(vals, node, ux, |e| powi_derivative(v[e], n))
}

/// Bound of `xᵖ` (one pass over the node).
pub(super) fn powf_bound<T: Real>(vals: Values<'_, T>, node: u32, x: u32, p: T, ux: T) -> T {
    let v = vals.get(x);
    super::rule::smooth_bound(vals, node, ux, |e| powf_derivative(v[e], p))
}
