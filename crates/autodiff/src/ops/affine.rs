//! Affine map by constants: `scale·x + shift`; negation, scaling and adding a constant are all
//! this one primitive.
//!
//! ```text
//! y = α·x + β        ∂y/∂x = α
//! ```
//! No kinks.

use super::{build, info, Op, Sink};
use crate::{Real, Var};

impl<'t, T: Real> Var<'t, T> {
    /// `scale·x + shift`, elementwise, with constant `scale` and `shift`.
    ///
    /// `-x`, `c * x`, `x * c`, `x / c`, `x + c`, `c + x`, `x - c` and `c - x` all build this node.
    ///
    /// ```text
    /// y = α·x + β        ∂y/∂x = α
    /// ```
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
    pub fn affine(self, scale: T, shift: T) -> Var<'t, T> {
        let (shape, needs) = info(self);
        let x = self.id;
        build(self.tape, Op::Affine { x, scale }, shape, needs, |p| {
            for (o, &v) in p.out.iter_mut().zip(p.vals.get(x)) {
                *o = scale * v + shift;
            }
        })
    }

    /// `c·x` for a constant `c`; same node as `x * c`.
    ///
    /// ```text
    /// y = c·x        ∂y/∂x = c
    /// ```
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
    pub fn scale(self, c: T) -> Var<'t, T> {
        self.affine(c, T::zero())
    }
}

pub(super) fn backward<T: Real>(s: &mut Sink<'_, T>, x: u32, scale: T, g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for (d, &gi) in gx.iter_mut().zip(g) {
            *d += scale * gi;
        }
    }
}
