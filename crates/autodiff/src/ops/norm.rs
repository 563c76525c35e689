//! `norm(x) = ‖x‖`, the Euclidean norm of all elements (a scalar).
//!
//! ```text
//! ‖x‖ = √(Σᵢ xᵢ²)        ∂‖x‖/∂xᵢ = xᵢ/‖x‖ for x ≠ 0
//! at x = 0 the Clarke subdifferential is the unit ball {g : ‖g‖ ≤ 1}; every policy returns its
//! minimum-norm element 0 (PyTorch's norm backward does the same)
//! ```
//! The zero vector is recorded as a tie at output element 0; a value with no element has norm 0
//! and no tie (there is nothing to choose).
//! Unlike `(x * x).sum().sqrt()`, whose derivative `1/(2√0)` at 0 is infinite (backward reports
//! `Error::NonFinite`), `norm` is differentiable through the zero vector, and it does not
//! overflow for huge entries: the sum is taken of `xᵢ/s`, `s = maxᵢ |xᵢ|`.

use super::rule::{self, Pieces, TangentCx, Tie};
use super::{build, info, Op, Sink};
use crate::tape::Values;
use crate::{Real, Shape, Var};

/// `‖v‖` without overflow or underflow: `s·√(Σ (vᵢ/s)²)` with `s = maxᵢ |vᵢ|` (0 for the zero or
/// empty vector; NaN if an element is NaN, ∞ if one is infinite).
fn euclidean<T: Real>(v: &[T]) -> T {
    let scale = v.iter().fold(T::zero(), |s, &e| {
        let a = e.abs();
        if a > s || a.is_nan() {
            a
        } else {
            s
        }
    });
    if scale == T::zero() || !scale.is_finite() {
        return scale;
    }
    let sum: T = v
        .iter()
        .map(|&e| {
            let r = e / scale;
            r * r
        })
        .sum();
    scale * sum.sqrt()
}

impl<'t, T: Real> Var<'t, T> {
    /// The Euclidean norm of all elements (a scalar).
    ///
    /// ```text
    /// ‖x‖ = √(Σᵢ xᵢ²)        ∂‖x‖/∂xᵢ = xᵢ/‖x‖
    ///                        at x = 0: 0, the minimum-norm element of the unit ball
    /// ```
    ///
    /// The zero vector is recorded as a kink at output element 0. The norm is computed without
    /// overflow for entries near the largest finite number.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[3.0, -4.0])?;
    /// let n = x.norm();
    /// assert_eq!(n.item(), 5.0);
    /// assert_eq!(n.backward()?.wrt(x), &[0.6, -0.8]); // x/‖x‖
    /// let zero = tape.param_vec(&[0.0, 0.0])?;
    /// assert_eq!(zero.norm().backward()?.wrt(zero), &[0.0, 0.0]); // not NaN
    /// # Ok(()) }
    /// ```
    pub fn norm(self) -> Var<'t, T> {
        let (_, needs) = info(self);
        build(self.tape, Op::Norm(self.id), Shape::scalar(), needs, |p| {
            let x = p.vals.get(self.id);
            let y = euclidean(x);
            p.out[0] = y;
            let base = p.masks.len();
            p.masks.resize(base + x.len(), T::zero());
            if y == T::zero() {
                // The mask stays 0: the minimum-norm element of the unit ball.
                if !x.is_empty() {
                    p.ties.push(0);
                }
            } else {
                for (m, &v) in p.masks[base..].iter_mut().zip(x) {
                    *m = v / y;
                }
            }
        })
    }
}

/// `∂xᵢ += mᵢ·g` with the mask `m = x/‖x‖` (0 at the tie).
pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, mask: &[T], g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for (d, &m) in gx.iter_mut().zip(mask) {
            *d += m * g[0];
        }
    }
}

/// `ẏ = Σᵢ mᵢ·ẋᵢ`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    out[0] = cx.tv.tan(x).map_or(T::zero(), |t| {
        t.iter().zip(cx.mask).map(|(&ti, &m)| m * ti).sum()
    });
}

/// Certified tie at `x = 0`: along the input tangent `t ≠ 0`, `‖0 + s·t‖ = s‖t‖`, whose gradient
/// (the limit of `x/‖x‖` along the ray) is `t/‖t‖`, a unit vector in the unit ball. With `t = 0`
/// the tie stays (mask 0).
pub(super) fn resolve<T: Real>(tie: &mut Tie<'_, '_, T>, x: u32) -> bool {
    let Some(t) = tie.tv.tan(x) else {
        return false;
    };
    let length = euclidean(t);
    if length == T::zero() {
        return false;
    }
    for (m, &ti) in tie.mask.iter_mut().zip(t) {
        *m = ti / length;
    }
    true
}

/// The distance from the kink: `‖x‖` itself.
pub(super) fn distance<T: Real>(vals: Values<'_, T>, node: u32, out: &mut Vec<T>) {
    out.extend_from_slice(vals.get(node));
}

/// The zero vector is no piecewise-affine kink: the subdifferential there is the unit ball, not
/// a zonotope, so the exact subdifferential refuses it.
pub(super) fn branch() -> Pieces {
    Pieces::Curved
}

/// Magnitude: `‖m(x)‖`.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    let mx = cx.m_raw(x);
    let n = cx.tv.vals.shape(x).len();
    out[0] = (0..n).map(|k| mx.at(k) * mx.at(k)).sum::<T>().sqrt();
}

/// Bound: `√n·bound(x)`.
pub(super) fn bound<T: Real>(vals: Values<'_, T>, x: u32, ux: T) -> T {
    T::cst(vals.shape(x).len() as f64).sqrt() * ux
}

/// Near-tie candidate by the bound: `0 < ‖x‖ ≤ τ·√n·bound(x)`.
pub(super) fn near<T: Real>(
    vals: Values<'_, T>,
    node: u32,
    x: u32,
    tau: T,
    ux: T,
    out: &mut Vec<usize>,
) {
    if rule::within(vals.get(node)[0], tau, bound(vals, x, ux)) {
        out.push(0);
    }
}

/// Near tie: `0 < ‖x‖ ≤ τ·‖m(x)‖`.
pub(super) fn is_near<T: Real>(cx: &TangentCx<'_, T>, x: u32, tau: T) -> bool {
    let mx = cx.m_raw(x);
    let n = cx.tv.vals.shape(x).len();
    let m = (0..n).map(|k| mx.at(k) * mx.at(k)).sum::<T>().sqrt();
    rule::within(cx.y()[0], tau, m)
}
