//! Smooth elementwise functions: `square`, `sqrt`, `exp`, `ln`, `log1p`, and the helpers the
//! other smooth elementwise families (`activation`, `power`) share.
//!
//! ```text
//! square:  y = x²          y' = 2x
//! sqrt:    y = √x          y' = 1/(2√x)   domain x ≥ 0; at x = 0 the derivative is +∞, which
//!                                          backward reports as Error::NonFinite if it reaches a parameter
//! exp:     y = eˣ          y' = eˣ        an input whose eˣ overflows is Error::Domain
//! ln:      y = ln x        y' = 1/x       domain x > 0
//! log1p:   y = ln(1 + x)   y' = 1/(1 + x) domain x > −1; accurate for small |x|
//! ```
//! No kinks.

use super::rule::TangentCx;
use super::{build, info, Op, Sink};
use crate::{Error, Real, Result, Var};

/// Fails with [`Error::Domain`] naming the first element of `x` for which `ok` is false.
pub(super) fn check_domain<T: Real>(
    x: Var<'_, T>,
    op: &'static str,
    domain: &'static str,
    ok: impl Fn(T) -> bool,
) -> Result<()> {
    let inner = x.tape.borrow();
    let v = inner.values().get(x.id);
    match v.iter().position(|&e| !ok(e)) {
        None => Ok(()),
        Some(index) => Err(Error::Domain {
            op,
            index,
            value: v[index].to_f64_lossless(),
            domain,
        }),
    }
}

/// Pushes `op`, whose value is `f` applied to every element of `x`.
pub(super) fn map<'t, T: Real>(x: Var<'t, T>, op: Op<T>, f: impl Fn(T) -> T) -> Var<'t, T> {
    let (shape, needs) = info(x);
    build(x.tape, op, shape, needs, |p| {
        for (o, &v) in p.out.iter_mut().zip(p.vals.get(x.id)) {
            *o = f(v);
        }
    })
}

impl<'t, T: Real> Var<'t, T> {
    /// Elementwise square.
    ///
    /// ```text
    /// y = x²        y' = 2x
    /// ```
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(3.0)?;
    /// assert_eq!(x.square().backward()?.wrt(x)[0], 6.0);
    /// # Ok(()) }
    /// ```
    pub fn square(self) -> Var<'t, T> {
        map(self, Op::Square(self.id), square_value)
    }

    /// Elementwise square root.
    ///
    /// ```text
    /// y = √x        y' = 1/(2√x)      (x ≥ 0)
    /// ```
    ///
    /// # Errors
    /// [`Error::Domain`] if an element is negative.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(4.0)?;
    /// assert_eq!(x.try_sqrt()?.backward()?.wrt(x)[0], 0.25);
    /// assert!(tape.param_scalar(-1.0)?.try_sqrt().is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_sqrt(self) -> Result<Var<'t, T>> {
        check_domain(self, "sqrt", "x ≥ 0", |v| v >= T::zero())?;
        Ok(map(self, Op::Sqrt(self.id), |v| v.sqrt()))
    }

    /// Elementwise square root; see [`Var::try_sqrt`].
    ///
    /// # Panics
    /// If an element is negative.
    #[track_caller]
    pub fn sqrt(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_sqrt())
    }

    /// Elementwise exponential.
    ///
    /// ```text
    /// y = eˣ        y' = eˣ
    /// ```
    ///
    /// # Errors
    /// [`Error::Domain`] if a result would overflow to infinity.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(0.0)?;
    /// assert_eq!(x.try_exp()?.backward()?.wrt(x)[0], 1.0);
    /// assert!(tape.param_scalar(1000.0)?.try_exp().is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_exp(self) -> Result<Var<'t, T>> {
        // eˣ is finite for every x below 80 in both f32 and f64; only larger inputs are tried.
        let limit = T::cst(80.0);
        check_domain(self, "exp", "eˣ finite", |v| {
            v < limit || v.exp().is_finite()
        })?;
        Ok(map(self, Op::Exp(self.id), |v| v.exp()))
    }

    /// Elementwise exponential; see [`Var::try_exp`].
    ///
    /// # Panics
    /// If a result overflows.
    #[track_caller]
    pub fn exp(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_exp())
    }

    /// Elementwise natural logarithm.
    ///
    /// ```text
    /// y = ln x        y' = 1/x      (x > 0)
    /// ```
    ///
    /// # Errors
    /// [`Error::Domain`] if an element is not positive.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// assert_eq!(x.try_ln()?.backward()?.wrt(x)[0], 0.5);
    /// assert!(tape.param_scalar(0.0)?.try_ln().is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_ln(self) -> Result<Var<'t, T>> {
        check_domain(self, "ln", "x > 0", |v| v > T::zero())?;
        Ok(map(self, Op::Ln(self.id), |v| v.ln()))
    }

    /// Elementwise natural logarithm; see [`Var::try_ln`].
    ///
    /// # Panics
    /// If an element is not positive.
    #[track_caller]
    pub fn ln(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_ln())
    }

    /// Elementwise `ln(1 + x)`, accurate for small `|x|` (where `(1 + x).ln()` loses the digits
    /// of `x`).
    ///
    /// ```text
    /// y = ln(1 + x)        y' = 1/(1 + x)      (x > −1)
    /// ```
    ///
    /// # Errors
    /// [`Error::Domain`] if an element is −1 or below.
    ///
    /// # Example
    /// ```
    /// use approx::assert_relative_eq;
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(1.0)?;
    /// let y = x.try_log1p()?;
    /// assert_relative_eq!(y.item(), 2f64.ln());
    /// assert_eq!(y.backward()?.wrt(x)[0], 0.5);
    /// assert!(tape.param_scalar(-1.0)?.try_log1p().is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_log1p(self) -> Result<Var<'t, T>> {
        check_domain(self, "log1p", "x > −1", |v| v > -T::one())?;
        Ok(map(self, Op::Log1p(self.id), |v| v.ln_1p()))
    }

    /// Elementwise `ln(1 + x)`; see [`Var::try_log1p`].
    ///
    /// # Panics
    /// If an element is −1 or below.
    #[track_caller]
    pub fn log1p(self) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_log1p())
    }
}

/// `∂x += f'(x)·g` per element, `f'` given per element.
pub(super) fn unary_backward<T: Real>(
    s: &mut Sink<'_, T>,
    x: u32,
    g: &[T],
    d: impl Fn(usize) -> T,
) {
    if let Some(gx) = s.grad(x) {
        for (i, (o, &gi)) in gx.iter_mut().zip(g).enumerate() {
            *o += gi * d(i);
        }
    }
}

/// `v²`, one element of `square`'s forward pass (also what `ops::fuse` replays).
#[inline(always)]
pub(super) fn square_value<T: Real>(v: T) -> T {
    v * v
}

/// `2v`, `square`'s local derivative at `v`.
#[inline(always)]
pub(super) fn square_slope<T: Real>(v: T) -> T {
    T::cst(2.0) * v
}

pub(super) fn square_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    let v = s.vals.get(x);
    unary_backward(s, x, g, |i| square_slope(v[i]));
}

pub(super) fn sqrt_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, out: &[T], g: &[T]) {
    let half = T::cst(0.5);
    unary_backward(s, x, g, |i| half / out[i]);
}

pub(super) fn exp_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, out: &[T], g: &[T]) {
    unary_backward(s, x, g, |i| out[i]);
}

pub(super) fn ln_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    let v = s.vals.get(x);
    unary_backward(s, x, g, |i| v[i].recip());
}

pub(super) fn log1p_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, g: &[T]) {
    let v = s.vals.get(x);
    unary_backward(s, x, g, |i| (T::one() + v[i]).recip());
}

/// `ẏ = f'(x)·ẋ` at the needed elements, `f'` given per element.
pub(super) fn unary_tangent<T: Real>(
    cx: &TangentCx<'_, T>,
    x: u32,
    out: &mut [T],
    derivative: impl Fn(usize) -> T,
) {
    let tx = cx.t(x, out.len());
    cx.needed().for_each(|e| out[e] = derivative(e) * tx.at(e));
}

/// `ẏ = 2x·ẋ`.
pub(super) fn square_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    unary_tangent(cx, x, out, |e| T::cst(2.0) * v.at(e));
}

/// `ẏ = ẋ/(2y)`.
pub(super) fn sqrt_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    unary_tangent(cx, x, out, |e| T::cst(0.5) / y[e]);
}

/// `ẏ = y·ẋ`.
pub(super) fn exp_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    unary_tangent(cx, x, out, |e| y[e]);
}

/// `ẏ = ẋ/x`.
pub(super) fn ln_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    unary_tangent(cx, x, out, |e| v.at(e).recip());
}

/// `ẏ = ẋ/(1 + x)`.
pub(super) fn log1p_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    unary_tangent(cx, x, out, |e| (T::one() + v.at(e)).recip());
}

/// Magnitude of `x²`: `m(x)²` (as `x·x`).
pub(super) fn square_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let mx = cx.m(x);
    cx.needed().for_each(|e| out[e] = mx.at(e) * mx.at(e));
}

/// Magnitude of `√x`: `m(x)/(2y) + y`, and `√m(x)` at `y = 0` (where the derivative is infinite).
pub(super) fn sqrt_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let (mx, y) = (cx.m(x), cx.y());
    cx.needed()
        .for_each(|e| out[e] = sqrt_scale(mx.at(e), y[e]));
}

fn sqrt_scale<T: Real>(mx: T, y: T) -> T {
    if y > T::zero() {
        mx / (T::cst(2.0) * y) + y
    } else {
        mx.sqrt()
    }
}

/// Bound of `√x`.
pub(super) fn sqrt_bound<T: Real>(vals: crate::tape::Values<'_, T>, node: u32, ux: T) -> T {
    vals.get(node)
        .iter()
        .fold(T::zero(), |acc, &y| acc.max(sqrt_scale(ux, y)))
}

/// Magnitude of `eˣ`: `y·(m(x) + 1)`.
pub(super) fn exp_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let y = cx.y();
    cx.smooth_magnitude(x, out, |e| y[e]);
}

/// Magnitude of `ln x`: `m(x)/|x| + |y|`.
pub(super) fn ln_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    cx.smooth_magnitude(x, out, |e| v.at(e).recip());
}

/// Magnitude of `ln(1 + x)`: `m(x)/|1 + x| + |y|`.
pub(super) fn log1p_magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let v = cx.v(x, out.len());
    cx.smooth_magnitude(x, out, |e| (T::one() + v.at(e)).recip());
}

/// Bound of `x²`: `bound(x)²`.
pub(super) fn square_bound<T: Real>(u: &[T], x: u32) -> T {
    u[x as usize] * u[x as usize]
}

/// Bound of `eˣ`: `max y·(bound(x) + 1)`.
pub(super) fn exp_bound<T: Real>(vals: crate::tape::Values<'_, T>, node: u32, ux: T) -> T {
    super::rule::max_abs(vals.get(node)) * (ux + T::one())
}

/// Bound of `ln x`: the largest `bound(x)/|x| + |y|` (one pass over the node).
pub(super) fn ln_bound<T: Real>(vals: crate::tape::Values<'_, T>, node: u32, x: u32, ux: T) -> T {
    let v = vals.get(x);
    super::rule::smooth_bound(vals, node, ux, |e| v[e].recip())
}

/// Bound of `ln(1 + x)`: the largest `bound(x)/|1 + x| + |y|` (one pass over the node).
pub(super) fn log1p_bound<T: Real>(
    vals: crate::tape::Values<'_, T>,
    node: u32,
    x: u32,
    ux: T,
) -> T {
    let v = vals.get(x);
    super::rule::smooth_bound(vals, node, ux, |e| (T::one() + v[e]).recip())
}
