//! Affine map by constants: `scale·x + shift`; negation, scaling and adding a constant are all
//! this one primitive.
//!
//! ```text
//! y = α·x + β        ∂y/∂x = α
//! ```
//! No kinks.

use super::rule::TangentCx;
use super::{build_like, Op, Sink};
use crate::tape::Values;
use crate::{Error, Real, Result, Var};

impl<'t, T: Real> Var<'t, T> {
    /// `scale·x + shift`, elementwise, with constant `scale` and `shift`.
    ///
    /// `-x`, `c * x`, `x * c`, `x / c`, `x + c`, `c + x`, `x - c` and `c - x` all build this node.
    ///
    /// ```text
    /// y = α·x + β        ∂y/∂x = α
    /// ```
    ///
    /// # Errors
    /// [`Error::NonFinite`] if `scale` or `shift` is NaN or infinite: like every number a caller
    /// hands the engine (leaf values, `max`/`min` constants, clamp bounds), they must be finite.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// let y = x.try_affine(-3.0, 1.0)?; // the node `1.0 - 3.0 * x` builds
    /// assert_eq!(y.item(), -5.0);
    /// assert_eq!(y.backward()?.wrt(x)[0], -3.0);
    /// assert!(x.try_affine(1.0, f64::NAN).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_affine(self, scale: T, shift: T) -> Result<Var<'t, T>> {
        for (index, v) in [scale, shift].into_iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    op: "affine",
                    index,
                    value: v.to_f64_lossless(),
                });
            }
        }
        let x = self.id;
        Ok(build_like(self, Op::Affine { x, scale, shift }, |p| {
            for (o, &v) in p.out.iter_mut().zip(p.vals.get(x)) {
                *o = value(scale, shift, v);
            }
        }))
    }

    /// `scale·x + shift`; see [`Var::try_affine`].
    ///
    /// # Panics
    /// If `scale` or `shift` is NaN or infinite, with [`Var::try_affine`]'s message.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// let y = 1.0 - 3.0 * x; // affine(−3, 1)
    /// assert_eq!(y.item(), -5.0);
    /// assert_eq!(y.backward()?.wrt(x)[0], -3.0);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn affine(self, scale: T, shift: T) -> Var<'t, T> {
        crate::var::unwrap_op(self.try_affine(scale, shift))
    }

    /// `x / c` for a constant `c`: the affine node with scale `1/c`.
    ///
    /// ```text
    /// y = x / c        ∂y/∂x = 1/c
    /// ```
    ///
    /// # Errors
    /// [`Error::Domain`] if `c` is 0; [`Error::NonFinite`] if `c` is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(3.0)?;
    /// assert_eq!(x.try_div_scalar(2.0)?.item(), 1.5); // same node as x / 2.0
    /// assert_eq!(
    ///     x.try_div_scalar(0.0).unwrap_err().to_string(),
    ///     "div: input 0 at element 0 is outside the domain (a nonzero divisor)"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn try_div_scalar(self, c: T) -> Result<Var<'t, T>> {
        if c == T::zero() {
            return Err(Error::Domain {
                op: "div",
                index: 0,
                value: 0.0,
                domain: "a nonzero divisor",
            });
        }
        if !c.is_finite() {
            return Err(Error::NonFinite {
                op: "div",
                index: 0,
                value: c.to_f64_lossless(),
            });
        }
        self.try_affine(T::one() / c, T::zero())
    }

    /// `c·x` for a constant `c`; same node as `x * c`.
    ///
    /// ```text
    /// y = c·x        ∂y/∂x = c
    /// ```
    ///
    /// # Panics
    /// If `c` is NaN or infinite (see [`Var::try_affine`]).
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, 2.0])?;
    /// assert_eq!(x.scale(0.5).value(), vec![0.5, 1.0]);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn scale(self, c: T) -> Var<'t, T> {
        self.affine(c, T::zero())
    }
}

/// One element of the forward pass: `scale·v + shift` (also what `ops::fuse` replays).
#[inline(always)]
pub(super) fn value<T: Real>(scale: T, shift: T, v: T) -> T {
    scale * v + shift
}

/// `∂x += scale·g`: the local derivative is `scale` (`ops::fuse` uses the same factor).
pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, scale: T, g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for (d, &gi) in gx.iter_mut().zip(g) {
            *d += scale * gi;
        }
    }
}

/// `ẏ = scale·ẋ`.
pub(super) fn tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, scale: T, out: &mut [T]) {
    match cx.tv.tan(x) {
        Some(tx) => {
            for (o, &d) in out.iter_mut().zip(tx) {
                *o = scale * d;
            }
        }
        None => out.fill(T::zero()),
    }
}

/// `|β|`, read back from the first element as `y₀ − α·x₀` (the node does not store `β`; the
/// rounding of that subtraction is far below the tolerance it feeds).
fn shift<T: Real>(vals: Values<'_, T>, node: u32, x: u32, scale: T) -> T {
    match (vals.get(node).first(), vals.get(x).first()) {
        (Some(&y), Some(&v)) => (y - scale * v).abs(),
        _ => T::zero(),
    }
}

/// Magnitude: `|α|·m(x) + |β|`.
pub(super) fn magnitude<T: Real>(cx: &TangentCx<'_, T>, x: u32, scale: T, out: &mut [T]) {
    let b = shift(cx.tv.vals, cx.node, x, scale);
    let mx = cx.m(x);
    cx.needed()
        .for_each(|e| out[e] = scale.abs() * mx.at(e) + b);
}

/// Bound: `|α|·bound(x) + |β|`.
pub(super) fn bound<T: Real>(vals: Values<'_, T>, node: u32, x: u32, scale: T, ux: T) -> T {
    scale.abs() * ux + shift(vals, node, x, scale)
}
