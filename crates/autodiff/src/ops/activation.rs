//! Smooth activations, elementwise: `softplus`, `sigmoid`, `tanh`.
//!
//! ```text
//! softplus:  y = ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|})     y' = σ(x)
//! sigmoid:   y = σ(x) = 1/(1 + e^{−x})                          y' = y(1 − y)
//! tanh:      y = tanh x                                         y' = 1 − y²
//! ```
//! All three are defined, finite and smooth on the whole line, so none has a `try_` form.
//! `softplus` and `sigmoid` are computed so that no intermediate `eˣ` overflows: `softplus(1000)`
//! is 1000 and `sigmoid(−1000)` is 0, not NaN. No kinks.

use super::rule::TangentCx;
use super::smooth::{map, unary_backward, unary_tangent};
use super::{Op, Sink};
use crate::tape::Values;
use crate::{Real, Var};

/// `σ(x) = 1/(1 + e^{−x})` without overflow: the exponential is taken of `−|x|` only.
fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        (T::one() + (-x).exp()).recip()
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|})`, which neither overflows for large `x` nor loses
/// the tiny value for very negative `x`.
fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

impl<'t, T: Real> Var<'t, T> {
    /// Elementwise softplus, a smooth `relu`.
    ///
    /// ```text
    /// softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|})        softplus'(x) = σ(x)
    /// ```
    ///
    /// # Example
    /// ```
    /// use approx::assert_relative_eq;
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[0.0, 1000.0])?;
    /// let y = x.softplus();
    /// assert_relative_eq!(y.value()[0], 2f64.ln()); // ln 2 at 0
    /// assert_eq!(y.value()[1], 1000.0); // no overflow
    /// assert_eq!(y.sum().backward()?.wrt(x), &[0.5, 1.0]); // σ(0) = ½
    /// # Ok(()) }
    /// ```
    pub fn softplus(self) -> Var<'t, T> {
        map(self, Op::Softplus(self.id), softplus)
    }

    /// Elementwise logistic sigmoid.
    ///
    /// ```text
    /// σ(x) = 1/(1 + e^{−x})        σ'(x) = σ(x)(1 − σ(x))
    /// ```
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[0.0, -1000.0])?;
    /// let y = x.sigmoid();
    /// assert_eq!(y.value(), vec![0.5, 0.0]); // no overflow at −1000
    /// assert_eq!(y.sum().backward()?.wrt(x), &[0.25, 0.0]); // ½·(1 − ½) at 0
    /// # Ok(()) }
    /// ```
    pub fn sigmoid(self) -> Var<'t, T> {
        map(self, Op::Sigmoid(self.id), sigmoid)
    }

    /// Elementwise hyperbolic tangent.
    ///
    /// ```text
    /// y = tanh x        y' = 1 − y²
    /// ```
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(0.0)?;
    /// let y = x.tanh();
    /// assert_eq!(y.item(), 0.0);
    /// assert_eq!(y.backward()?.wrt(x)[0], 1.0);
    /// # Ok(()) }
    /// ```
    pub fn tanh(self) -> Var<'t, T> {
        map(self, Op::Tanh(self.id), |v| v.tanh())
    }
}

/// `∂x += σ(x)·g` (recomputed from `x`: `1 − e^{−y}` would lose digits for very negative `x`).
pub(super) fn softplus_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    let v = s.vals().get(x);
    unary_backward(s, x, g, |i| sigmoid(v[i]));
}

/// `∂x += y(1 − y)·g`.
pub(super) fn sigmoid_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, out: &[T], g: &[T]) {
    unary_backward(s, x, g, |i| out[i] * (T::one() - out[i]));
}

/// `∂x += (1 − y²)·g`.
pub(super) fn tanh_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, out: &[T], g: &[T]) {
    unary_backward(s, x, g, |i| T::one() - out[i] * out[i]);
}

/// `ẏ = σ(x)·ẋ`.
pub(super) fn softplus_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    unary_tangent(cx, x, out, |e| sigmoid(v.at(e)));
}

/// `ẏ = y(1 − y)·ẋ`.
pub(super) fn sigmoid_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    unary_tangent(cx, x, out, |e| y[e] * (T::one() - y[e]));
}

/// `ẏ = (1 − y²)·ẋ`.
pub(super) fn tanh_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    unary_tangent(cx, x, out, |e| T::one() - y[e] * y[e]);
}

/// Magnitude of `softplus`: `σ(x)·m(x) + y`.
pub(super) fn softplus_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    cx.smooth_magnitude(x, out, |e| sigmoid(v.at(e)));
}

/// Magnitude of `σ`: `y(1 − y)·m(x) + y`.
pub(super) fn sigmoid_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    cx.smooth_magnitude(x, out, |e| y[e] * (T::one() - y[e]));
}

/// Magnitude of `tanh`: `(1 − y²)·m(x) + |y|`.
pub(super) fn tanh_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    cx.smooth_magnitude(x, out, |e| T::one() - y[e] * y[e]);
}

/// Bounds of the three: the largest `|f'(x)|·bound(x) + |y|` over the node (`f' ≤ 1` for each,
/// so `bound(x) + |y|`).
pub(super) fn bound<T: Real>(vals: Values<'_, T>, node: u32, ux: T) -> T {
    super::rule::smooth_bound(vals, node, ux, |_| T::one())
}
