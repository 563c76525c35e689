//! Elementwise `+ − * /` with broadcasting.
//!
//! ```text
//! a + b:  ∂/∂a = 1,    ∂/∂b = 1
//! a − b:  ∂/∂a = 1,    ∂/∂b = −1
//! a · b:  ∂/∂a = b,    ∂/∂b = a
//! a / b:  ∂/∂a = 1/b,  ∂/∂b = −a/b² = −(a/b)/b      (b ≠ 0 is checked in the forward pass)
//! ```
//! No kinks. Shapes broadcast by [`broadcast`]: a broadcast operand receives, per element, the
//! sum of the contributions of the output elements that read it ([`accumulate`]).

use super::rule::TangentCx;
use super::{accumulate, Bc, Bcast, Op, Sink};
use crate::tape::Values;
use crate::{Error, Real, Result, Shape, Var};

/// The shape of an elementwise result, the one broadcasting rule of every elementwise op:
///
/// ```text
/// equal shapes                     s      op s        → s
/// a scalar on either side          []     op s        → s
/// a vector along a matrix's rows   [r, c] op [r]      → [r, c]   (i, j) reads vᵢ
///   or columns                     [r, c] op [c]      → [r, c]   (i, j) reads vⱼ
/// a one-column or one-row matrix   [r, c] op [r, 1]   → [r, c]   (i, j) reads vᵢ
///                                  [r, c] op [1, c]   → [r, c]   (i, j) reads vⱼ
/// ```
/// on either side. A vector whose length is both `r` and `c` (a square matrix) goes along the
/// columns, as in numpy, which broadcasts along the last axis; an `[r, 1]` matrix (a
/// `reshape`) puts it along the rows. Anything else is a mismatch naming both shapes.
#[inline]
pub(crate) fn broadcast(op: &'static str, lhs: Shape, rhs: Shape) -> Result<Shape> {
    if lhs == rhs || rhs.is_scalar() || spans(rhs, lhs) {
        Ok(lhs)
    } else if lhs.is_scalar() || spans(lhs, rhs) {
        Ok(rhs)
    } else {
        Err(Error::ShapeMismatch { op, lhs, rhs })
    }
}

/// Whether `x` broadcasts along the rows or columns of the matrix `m`.
fn spans(x: Shape, m: Shape) -> bool {
    m.rank() == 2
        && match x.rank() {
            1 => x.len() == m.cols() || x.len() == m.rows(),
            2 => (x.rows() == 1 && x.cols() == m.cols()) || (x.cols() == 1 && x.rows() == m.rows()),
            _ => false,
        }
}

/// `out[e] = f(x(e), y(e))`, each side read as its [`Bcast`] says.
#[inline]
pub(crate) fn zip_map<T: Real>(x: Bc<'_, T>, y: Bc<'_, T>, out: &mut [T], f: impl Fn(T, T) -> T) {
    match (x.how(), y.how()) {
        (Bcast::PerRow { cols } | Bcast::PerColumn { cols }, _)
        | (_, Bcast::PerRow { cols } | Bcast::PerColumn { cols }) => {
            // Row by row: within a row each side is a slice or one repeated value.
            for (i, o) in out.chunks_exact_mut(cols.max(1)).enumerate() {
                zip_flat(x.row(i, cols), y.row(i, cols), o, &f);
            }
        }
        // Each side is all `n` values or one.
        _ => zip_flat(x.v, y.v, out, f),
    }
}

/// `out[i] = f(x[i], y[i])` with either side possibly one value repeated.
#[inline]
fn zip_flat<T: Real>(x: &[T], y: &[T], out: &mut [T], f: impl Fn(T, T) -> T) {
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
        (false, false) => out.fill(f(x[0], y[0])),
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
    // One borrow of the tape for the operands' shapes, the new node and its values.
    let mut inner = a.tape.borrow_mut();
    let ((sa, na), (sb, nb)) = {
        let (x, y) = (inner.node(a.id), inner.node(b.id));
        ((x.shape, x.needs_grad()), (y.shape, y.needs_grad()))
    };
    let shape = if sa.is_scalar() && sb.is_scalar() {
        sa
    } else {
        broadcast(name, sa, sb)?
    };
    let id = inner.push(op, shape, na || nb);
    let p = inner.parts();
    if shape.is_scalar() {
        // Two scalars (a chain of scalar ops): no broadcasting to work out.
        p.out[0] = f(p.vals.get(a.id)[0], p.vals.get(b.id)[0]);
    } else {
        let x = Bc::new(p.vals.get(a.id), Bcast::new(sa, shape));
        let y = Bc::new(p.vals.get(b.id), Bcast::new(sb, shape));
        zip_map(x, y, p.out, f);
    }
    inner.finish(id);
    drop(inner);
    Ok(a.tape.var(id))
}

impl<'t, T: Real> Var<'t, T> {
    /// Elementwise sum `a + b` (also the `+` operator), broadcasting as [`Shape`] describes.
    ///
    /// ```text
    /// (a + b)ᵢ = aᵢ + bᵢ        ∂/∂a = ∂/∂b = 1   (a broadcast side sums what it fed)
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] unless the shapes broadcast: equal, a scalar on either side, or
    /// a vector (or a one-row or one-column matrix) along a matrix's rows or columns;
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
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let a = tape.param_scalar(1.0)?;
    /// let b = tape.param_scalar(3.0)?;
    /// let g = a.try_sub(b)?.backward()?;
    /// assert_eq!((g.wrt(a)[0], g.wrt(b)[0]), (1.0, -1.0));
    ///
    /// // [2, 3] − [2]: one value per row (the length matches the rows, not the columns).
    /// let s = tape.param(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(2, 3))?;
    /// let v = tape.param_vec(&[1.0, 4.0])?;
    /// let d = s.try_sub(v)?;
    /// assert_eq!(d.value(), vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
    /// assert_eq!(d.sum().backward()?.wrt(v), &[-3.0, -3.0]); // each vᵢ fed a row of 3
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

pub(super) fn add_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, out: Shape, g: &[T]) {
    let n = g.len();
    if n == 1 {
        // One output element: both operands hold one (the additions of `accumulate`'s `Same`).
        if let Some(ga) = s.grad(a) {
            ga[0] += g[0];
        }
        if let Some(gb) = s.grad(b) {
            gb[0] += g[0];
        }
        return;
    }
    let (ha, hb) = (Bcast::of(s.vals, a, out), Bcast::of(s.vals, b, out));
    if let Some(ga) = s.grad(a) {
        accumulate(ga, ha, n, |i| g[i]);
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, hb, n, |i| g[i]);
    }
}

pub(super) fn sub_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, out: Shape, g: &[T]) {
    let n = g.len();
    if n == 1 {
        // One output element: both operands hold one (the additions of `accumulate`'s `Same`).
        if let Some(ga) = s.grad(a) {
            ga[0] += g[0];
        }
        if let Some(gb) = s.grad(b) {
            gb[0] += -g[0];
        }
        return;
    }
    let (ha, hb) = (Bcast::of(s.vals, a, out), Bcast::of(s.vals, b, out));
    if let Some(ga) = s.grad(a) {
        accumulate(ga, ha, n, |i| g[i]);
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, hb, n, |i| -g[i]);
    }
}

pub(super) fn mul_backward<T: Real>(s: &mut Sink<'_, T>, a: u32, b: u32, out: Shape, g: &[T]) {
    let n = g.len();
    if n == 1 {
        // One output element: both operands hold one (the products of `accumulate`'s `Same`).
        let (x, y) = (s.vals.get(a)[0], s.vals.get(b)[0]);
        if let Some(ga) = s.grad(a) {
            ga[0] += g[0] * y;
        }
        if let Some(gb) = s.grad(b) {
            gb[0] += g[0] * x;
        }
        return;
    }
    let (x, y) = (Bc::of(s.vals, a, out), Bc::of(s.vals, b, out));
    if let Some(ga) = s.grad(a) {
        accumulate(ga, x.how(), n, |i| g[i] * y.at(i));
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, y.how(), n, |i| g[i] * x.at(i));
    }
}

/// `q` is the node's value `a/b`.
pub(super) fn div_backward<T: Real>(
    s: &mut Sink<'_, T>,
    a: u32,
    b: u32,
    out: Shape,
    q: &[T],
    g: &[T],
) {
    let n = g.len();
    let (ha, y) = (Bcast::of(s.vals, a, out), Bc::of(s.vals, b, out));
    if let Some(ga) = s.grad(a) {
        accumulate(ga, ha, n, |i| g[i] / y.at(i));
    }
    if let Some(gb) = s.grad(b) {
        accumulate(gb, y.how(), n, |i| -g[i] * q[i] / y.at(i));
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

/// Magnitude of `a + b` and `a − b`: `m(a) + m(b)`.
pub(super) fn sum_magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let (ma, mb) = (cx.m(a), cx.m(b));
    cx.needed().for_each(|e| out[e] = ma.at(e) + mb.at(e));
}

/// Magnitude of `a·b`: `m(a)·m(b)`.
pub(super) fn mul_magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let (ma, mb) = (cx.m(a), cx.m(b));
    cx.needed().for_each(|e| out[e] = ma.at(e) * mb.at(e));
}

/// Magnitude of `y = a/b`: `(m(a) + |y|·m(b))/|b|` (the first-order errors of both operands).
pub(super) fn div_magnitude<T: Real>(cx: &TangentCx<'_, T>, a: u32, b: u32, out: &mut [T]) {
    let (ma, mb, vb, y) = (cx.m(a), cx.m(b), cx.v(b, out.len()), cx.y());
    cx.needed()
        .for_each(|e| out[e] = (ma.at(e) + y[e].abs() * mb.at(e)) / vb.at(e).abs());
}

/// Bound of `a/b`: the largest `(bound(a) + |y|·bound(b))/|b|` (one pass over the node).
pub(super) fn div_bound<T: Real>(vals: Values<'_, T>, node: u32, b: u32, ua: T, ub: T) -> T {
    let vb = Bc::of(vals, b, vals.shape(node));
    vals.get(node)
        .iter()
        .enumerate()
        .fold(T::zero(), |acc, (e, y)| {
            acc.max((ua + y.abs() * ub) / vb.at(e).abs())
        })
}

/// Bound of `a ± b`: `bound(a) + bound(b)`.
pub(super) fn sum_bound<T: Real>(u: &[T], a: u32, b: u32) -> T {
    u[a as usize] + u[b as usize]
}

/// Bound of `a·b`: `bound(a)·bound(b)`.
pub(super) fn mul_bound<T: Real>(u: &[T], a: u32, b: u32) -> T {
    u[a as usize] * u[b as usize]
}
