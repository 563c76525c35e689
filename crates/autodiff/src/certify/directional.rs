//! One-sided directional derivatives and the subdifferential along a line, by the tangent pass.

use super::pass::Pass;
use crate::{Error, Real, Result, Tape, Var};

impl<T: Real> Tape<T> {
    /// The one-sided directional derivative `f'(x; d) = lim_{t↓0} (f(x + t·d) − f(x))/t` of the
    /// scalar `y` along `d`, given per parameter (parameters not listed move by 0).
    ///
    /// Exact one-sided rules at ties: `relu → max(ṫ, 0)`, `leaky_relu_α → ṫ if ṫ > 0, else αṫ`,
    /// `abs → |ṫ|`, `max → max(ṫa, ṫb)`, `min → min`, reductions → the extreme tangent among
    /// the tied entries, `clamp` at a bound → the tangent if it points inside, else 0,
    /// `norm` at the zero vector → `‖ṫ‖`.
    ///
    /// # Errors
    /// [`Error::ForeignVar`], [`Error::NotScalar`]; [`Error::DataLength`] if a direction's length
    /// differs from its parameter's; [`Error::NoGradient`] if a listed node is not a parameter;
    /// [`Error::MissingTangent`] for a custom op without a tangent rule.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(0.0)?;
    /// let f = x.abs();
    /// assert_eq!(tape.directional_derivative(f, &[(x, &[1.0])])?, 1.0);
    /// assert_eq!(tape.directional_derivative(f, &[(x, &[-1.0])])?, 1.0); // |·| is a V
    /// # Ok(()) }
    /// ```
    pub fn directional_derivative(
        &self,
        y: Var<'_, T>,
        direction: &[(Var<'_, T>, &[T])],
    ) -> Result<T> {
        let inner = self.check_root(y, "directional_derivative")?;
        let mut dir: Vec<Option<&[T]>> = vec![None; inner.nodes.len()];
        for &(x, d) in direction {
            if !std::ptr::eq(x.tape, self) {
                return Err(Error::ForeignVar {
                    op: "directional_derivative",
                });
            }
            let node = inner.node(x.id);
            if !node.is_param() {
                return Err(Error::NoGradient {
                    node: x.id as usize,
                });
            }
            if d.len() != node.shape.len() {
                return Err(Error::DataLength {
                    op: "directional_derivative",
                    shape: node.shape,
                    len: d.len(),
                });
            }
            dir[x.id as usize] = Some(d);
        }
        if !inner.node(y.id).needs_grad() {
            return Ok(T::zero());
        }
        let mut pass = Pass::new(
            &inner,
            y.id,
            std::mem::take(&mut *self.scratch.borrow_mut()),
        );
        pass.copy_masks();
        pass.mark_needs(true);
        pass.set_direction(|i, e| dir[i].map_or(T::zero(), |d| d[e]));
        let result = pass.tangent_pass(T::zero());
        let value = pass.tan[inner.node(y.id).grad];
        *self.scratch.borrow_mut() = pass.into_scratch();
        result.map(|_| value)
    }

    /// The exact subdifferential of `t ↦ f(x + t·d)` at `t = 0`, as the interval
    /// `[−f'(x; −d), f'(x; d)]` (for a convex kink; for a concave one the ends come reversed and
    /// are returned in increasing order).
    ///
    /// # Errors
    /// As [`Tape::directional_derivative`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param_scalar(1.0)?;
    /// let hinge = (1.0 - w).relu(); // max(0, 1 − w) at the margin w = 1
    /// assert_eq!(tape.subdifferential_interval(hinge, &[(w, &[1.0])])?, (-1.0, 0.0));
    /// # Ok(()) }
    /// ```
    pub fn subdifferential_interval(
        &self,
        y: Var<'_, T>,
        direction: &[(Var<'_, T>, &[T])],
    ) -> Result<(T, T)> {
        let right = self.directional_derivative(y, direction)?;
        let negated: Vec<Vec<T>> = direction
            .iter()
            .map(|(_, d)| d.iter().map(|&v| -v).collect())
            .collect();
        let back: Vec<(Var<'_, T>, &[T])> = direction
            .iter()
            .zip(&negated)
            .map(|(&(x, _), d)| (x, &d[..]))
            .collect();
        let left = -self.directional_derivative(y, &back)?;
        Ok(if left <= right {
            (left, right)
        } else {
            (right, left)
        })
    }
}
