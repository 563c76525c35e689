//! Elementwise `+ − * /` with scalar broadcasting.
//!
//! ```text
//! a + b:  ∂/∂a = 1,    ∂/∂b = 1
//! a − b:  ∂/∂a = 1,    ∂/∂b = −1
//! a · b:  ∂/∂a = b,    ∂/∂b = a
//! a / b:  ∂/∂a = 1/b,  ∂/∂b = −a/b² = −(a/b)/b      (b ≠ 0 is checked in the forward pass)
//! ```
//! No kinks. A broadcast scalar operand receives the sum of its contributions.

use super::rule::TangentCx;
use super::{accumulate, build, info, Bc, Op, Sink};
use crate::{Error, Real, Result, Shape, Var};

/// The shape of an elementwise result: equal shapes, or a scalar on either side.
pub(crate) fn broadcast(op: &'static str, lhs: Shape, rhs: Shape) -> Result<Shape> {
    if lhs == rhs || rhs.is_scalar() {
        Ok(lhs)
    } else if lhs.is_scalar() {
        Ok(rhs)
    } else {
        Err(Error::ShapeMismatch { op, lhs, rhs })
    }
}

/// `out[i] = f(x[i], y[i])` with either side possibly a broadcast scalar.
#[inline]
pub(crate) fn zip_map<T: Real>(x: &[T], y: &[T], out: &mut [T], f: impl Fn(T, T) -> T) {
    let n = out.len();
    match (x.len() == n, y.len() == n) {
        (true, true) => {
            for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
                *o = f(a, b);
            }
        }
        (false, true) => {
            let a = x[0];
            for (o, &b) in out.iter_mut().zip(y) {
                *o = f(a, b);
            }
        }
        (true, false) => {
            let b = y[0];
            for (o, &a) in out.iter_mut().zip(x) {
                *o = f(a, b);
            }
        }
        (false, false) => {
            if n == 1 {
                out[0] = f(x[0], y[0]);
            }
        }
    }
}

fn binary<'t, T: Real>(
    a: Var<'t, T>,
    b: Var<'t, T>,
    name: &'static str,
    op: Op<T>,
    f: impl Fn(T, T) -> T,
) -> Result<Var<'t, T>> {
    a.same_tape(b, name)?;
    let ((sa, na), (sb, nb)) = (info(a), info(b));
    let shape = broadcast(name, sa, sb)?;
    Ok(build(a.tape, op, shape, na || nb, |p| {
        zip_map(p.vals.get(a.id), p.vals.get(b.id), p.out, f)
    }))
}

impl<'t, T: Real> Var<'t, T> {
    /// Elementwise sum `a + b` (also the `+` operator).
    ///
    /// ```text
    /// (a + b)ᵢ = aᵢ + bᵢ        ∂/∂a = ∂/∂b = 1
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] unless the shapes are equal or one is a scalar;
    /// [`Error::ForeignVar`] if `b` belongs to another tape.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_vec(&[1.0, 2.0])?;
    /// let b = tape.param_scalar(10.0)?;
    /// let s = a.try_add(b)?.sum(); // b is broadcast, so ∂s/∂b = 2
    /// assert_eq!(s.backward()?.wrt(b)[0], 2.0);
    /// assert!(a.try_add(tape.param_vec(&[1.0, 2.0, 3.0])?).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_add(self, b: Var<'t, T>) -> Result<Var<'t, T>> {
        binary(self, b, "add", Op::Add(self.id, b.id), |x, y| x + y)
    }

    /// Elementwise difference `a − b` (also the `-` operator).
    ///
    /// ```text
    /// (a − b)ᵢ = aᵢ − bᵢ        ∂/∂a = 1, ∂/∂b = −1
    /// ```
    ///
    /// # Errors
    /// As [`Var::try_add`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_scalar(1.0)?;
    /// let b = tape.param_scalar(3.0)?;
    /// let g = a.try_sub(b)?.backward()?;
    /// assert_eq!((g.wrt(a)[0], g.wrt(b)[0]), (1.0, -1.0));
    /// # Ok(()) }
    /// ```
    pub fn try_sub(self, b: Var<'t, T>) -> Result<Var<'t, T>> {
        binary(self, b, "sub", Op::Sub(self.id, b.id), |x, y| x - y)
    }

    /// Elementwise product `a ⊙ b` (also the `*` operator).
    ///
    /// ```text
    /// (a ⊙ b)ᵢ = aᵢ·bᵢ          ∂/∂a = b, ∂/∂b = a
    /// ```
    ///
    /// # Errors
    /// As [`Var::try_add`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_scalar(2.0)?;
    /// let b = tape.param_scalar(5.0)?;
    /// let g = a.try_mul(b)?.backward()?;
    /// assert_eq!((g.wrt(a)[0], g.wrt(b)[0]), (5.0, 2.0));
    /// # Ok(()) }
    /// ```
    pub fn try_mul(self, b: Var<'t, T>) -> Result<Var<'t, T>> {
        binary(self, b, "mul", Op::Mul(self.id, b.id), |x, y| x * y)
    }

    /// Elementwise quotient `a / b` (also the `/` operator).
    ///
    /// ```text
    /// (a / b)ᵢ = aᵢ / bᵢ        ∂/∂a = 1/b, ∂/∂b = −a/b²
    /// ```
    ///
    /// # Errors
    /// As [`Var::try_add`], and [`Error::Domain`] if an element of `b` is 0.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_scalar(1.0)?;
    /// let b = tape.param_scalar(2.0)?;
    /// let g = a.try_div(b)?.backward()?;
    /// assert_eq!((g.wrt(a)[0], g.wrt(b)[0]), (0.5, -0.25));
    /// assert!(a.try_div(tape.constant_scalar(0.0)?).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_div(self, b: Var<'t, T>) -> Result<Var<'t, T>> {
        self.same_tape(b, "div")?;
        {
            let inner = self.tape.borrow();
            let y = inner.values().get(b.id);
            if let Some(index) = y.iter().position(|v| *v == T::zero()) {
                return Err(Error::Domain {
                    op: "div",
                    index,
                    value: 0.0,
                    domain: "divisor ≠ 0",
                });
            }
        }
        binary(self, b, "div", Op::Div(self.id, b.id), |x, y| x / y)
    }
}

pub(super) fn add_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, g: &[T]) {
    let n = g.len();
    if let Some(ga) = s.grad(a) {
        accumulate(ga, n, |i| g[i]);
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, n, |i| g[i]);
    }
}

pub(super) fn sub_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, g: &[T]) {
    let n = g.len();
    if let Some(ga) = s.grad(a) {
        accumulate(ga, n, |i| g[i]);
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, n, |i| -g[i]);
    }
}

pub(super) fn mul_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, g: &[T]) {
    let n = g.len();
    let (x, y) = (Bc::new(s.vals.get(a), n), Bc::new(s.vals.get(b), n));
    if let Some(ga) = s.grad(a) {
        accumulate(ga, n, |i| g[i] * y.at(i));
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, n, |i| g[i] * x.at(i));
    }
}

pub(super) fn div_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, out: &[T], g: &[T]) {
    let n = g.len();
    let y = Bc::new(s.vals.get(b), n);
    if let Some(ga) = s.grad(a) {
        accumulate(ga, n, |i| g[i] / y.at(i));
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, n, |i| -g[i] * out[i] / y.at(i));
    }
}

/// `ẏ = ȧ + ḃ`.
pub(super) fn add_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let n = out.len();
    let (ta, tb) = (cx.t(a, n), cx.t(b, n));
    cx.needed().for_each(|e| out[e] = ta.at(e) + tb.at(e));
}

/// `ẏ = ȧ − ḃ`.
pub(super) fn sub_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let n = out.len();
    let (ta, tb) = (cx.t(a, n), cx.t(b, n));
    cx.needed().for_each(|e| out[e] = ta.at(e) - tb.at(e));
}

/// `ẏ = ȧ·b + a·ḃ`; data times a variable of the same shape (e.g. `y ⊙ X·w`) in one pass.
pub(super) fn mul_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let n = out.len();
    let vals = cx.tv.vals;
    match (cx.tv.tan(a), cx.tv.tan(b), vals.get(a), vals.get(b)) {
        (None, Some(tb), va, _) if tb.len() == n && va.len() == n => {
            for ((o, &x), &d) in out.iter_mut().zip(va).zip(tb) {
                *o = x * d;
            }
        }
        (Some(ta), None, _, vb) if ta.len() == n && vb.len() == n => {
            for ((o, &x), &d) in out.iter_mut().zip(vb).zip(ta) {
                *o = x * d;
            }
        }
        _ => {
            let (ta, tb, va, vb) = (cx.t(a, n), cx.t(b, n), cx.v(a, n), cx.v(b, n));
            cx.needed()
                .for_each(|e| out[e] = ta.at(e) * vb.at(e) + va.at(e) * tb.at(e));
        }
    }
}

/// `ẏ = (ȧ − y·ḃ)/b`.
pub(super) fn div_tangent<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let n = out.len();
    let (ta, tb, vb, y) = (cx.t(a, n), cx.t(b, n), cx.v(b, n), cx.y());
    cx.needed()
        .for_each(|e| out[e] = (ta.at(e) - y[e] * tb.at(e)) / vb.at(e));
}
