//! The reverse pass: `Tape::backward`, the one reverse loop behind it, and [`Gradients`].

use std::cell::Ref;

use super::Inner;
use crate::data::check_finite;
use crate::ops;
use crate::{Error, Real, Result, Tape, Var};

impl<T: Real> Tape<T> {
    /// Reverse pass from the scalar node `y`: returns `∂y/∂p` for every parameter `p`.
    ///
    /// Can be called any number of times, from any scalar node; values are not changed.
    ///
    /// # Errors
    /// [`Error::ForeignVar`] if `y` belongs to another tape; [`Error::NotScalar`] if `y` holds
    /// more than one element; [`Error::NonFinite`] if `y` or a parameter's gradient is NaN or
    /// infinite; [`Error::MissingBackward`] if a custom op on the path has no backward rule.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, -2.0])?;
    /// let y = x.square().sum(); // ∂y/∂x = 2x
    /// assert_eq!(tape.backward(y)?.wrt(x), &[2.0, -4.0]);
    /// assert!(tape.backward(x).is_err()); // not a scalar
    /// # Ok(()) }
    /// ```
    pub fn backward(&self, y: Var<'_, T>) -> Result<Gradients<T>> {
        let mut grads = Gradients::new();
        self.backward_into(y, &mut grads)?;
        Ok(grads)
    }

    /// Like [`Tape::backward`], but reuses `grads`' buffers (no allocation once they are large
    /// enough).
    ///
    /// # Errors
    /// As [`Tape::backward`].
    ///
    /// # Example
    /// ```
    /// use autodiff::{Gradients, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// let mut grads = Gradients::new();
    /// tape.backward_into(x.square(), &mut grads)?;
    /// assert_eq!(grads.wrt(x)[0], 4.0);
    /// # Ok(()) }
    /// ```
    pub fn backward_into(&self, y: Var<'_, T>, grads: &mut Gradients<T>) -> Result<()> {
        let inner = self.check_root(y, "backward")?;
        run_backward(&inner, y.id, &inner.masks, grads)
    }

    /// Borrows the tape after checking that `y` is a finite one-element node of it.
    pub(crate) fn check_root(&self, y: Var<'_, T>, op: &'static str) -> Result<Ref<'_, Inner<T>>> {
        if !std::ptr::eq(y.tape, self) {
            return Err(Error::ForeignVar { op });
        }
        let inner = self.borrow();
        let root = inner.node(y.id);
        if root.shape.len() != 1 {
            return Err(Error::NotScalar { shape: root.shape });
        }
        let value = inner.values().get(y.id)[0];
        if !value.is_finite() {
            return Err(Error::NonFinite {
                op,
                index: 0,
                value: value.to_f64_lossless(),
            });
        }
        Ok(inner)
    }
}

/// The reverse pass from `root` with the given kink masks, into `grads`.
pub(crate) fn run_backward<T: Real>(
    inner: &Inner<T>,
    root: u32,
    masks: &[T],
    grads: &mut Gradients<T>,
) -> Result<()> {
    grads.tape = inner.id;
    grads.data.clear();
    grads.data.resize(inner.grad_len, T::zero());
    grads.touched.clear();
    grads.touched.resize(inner.nodes.len(), false);
    let node = inner.node(root);
    if !node.needs_grad() {
        return Ok(());
    }
    grads.data[node.grad] = T::one();
    grads.touched[root as usize] = true;
    ops::backward(
        inner,
        root,
        masks,
        &mut grads.data,
        &mut grads.touched,
        &mut grads.partials,
    )?;
    ops::fuse::learn(&inner.fusion, &inner.nodes, &grads.data, &grads.touched);
    check_param_grads(inner, grads)
}

pub(crate) fn check_param_grads<T: Real>(inner: &Inner<T>, grads: &Gradients<T>) -> Result<()> {
    for node in &inner.nodes {
        if node.is_param() {
            let g = &grads.data[node.grad..node.grad + node.shape.len()];
            check_finite("backward", g)?;
        }
    }
    Ok(())
}

/// The result of a reverse pass: one gradient buffer per node that needs a gradient.
///
/// Reuse one `Gradients` across training steps with [`Tape::backward_into`].
///
/// # Example
/// ```
/// use autodiff::{Gradients, Tape};
/// # fn main() -> autodiff::Result<()> {
/// let mut tape = Tape::<f64>::new();
/// let mut grads = Gradients::new();
/// for step in 0..3 {
///     tape.clear();
///     let w = tape.param_scalar(step as f64)?;
///     let y = w * w; // ∂y/∂w = 2w
///     tape.backward_into(y, &mut grads)?;
///     assert_eq!(grads.wrt(w)[0], 2.0 * step as f64);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Gradients<T> {
    pub(crate) tape: u64,
    pub(crate) data: Vec<T>,
    pub(crate) touched: Vec<bool>,
    /// The partial sums of the blocked `Xᵀg` products, kept for the next pass.
    pub(crate) partials: Vec<T>,
}

impl<T: Real> Gradients<T> {
    /// Empty gradients, to be filled by [`Tape::backward_into`].
    ///
    /// # Example
    /// ```
    /// let g = autodiff::Gradients::<f64>::new();
    /// let _ = g;
    /// ```
    pub fn new() -> Self {
        Gradients {
            tape: 0,
            data: Vec::new(),
            touched: Vec::new(),
            partials: Vec::new(),
        }
    }

    /// The gradient with respect to `x`, with `x`'s shape (row-major), or an error.
    ///
    /// Nodes that the output does not depend on have a zero gradient.
    ///
    /// # Errors
    /// [`Error::NoGradient`] if `x` is a constant (or computed only from constants), or belongs to
    /// another tape or to an earlier use of a cleared tape; [`Error::StaleGradients`] if `x` was
    /// created after the backward pass that filled these gradients.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// let c = tape.constant_scalar(1.0)?;
    /// let g = (x * c).backward()?;
    /// assert_eq!(g.try_wrt(x)?, &[1.0]);
    /// assert!(g.try_wrt(c).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_wrt(&self, x: Var<'_, T>) -> Result<&[T]> {
        let inner = x.tape.borrow();
        let node = inner.node(x.id);
        if inner.id != self.tape || !node.needs_grad() {
            return Err(Error::NoGradient {
                node: x.id as usize,
            });
        }
        // A parameter pushed after this backward has a gradient offset past the buffer.
        self.data
            .get(node.grad..node.grad + node.shape.len())
            .ok_or(Error::StaleGradients {
                node: x.id as usize,
            })
    }

    /// The gradient with respect to `x`; see [`Gradients::try_wrt`].
    ///
    /// # Panics
    /// If [`Gradients::try_wrt`] fails: `x` is a constant or from another tape.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// assert_eq!((x * 3.0).backward()?.wrt(x), &[3.0]);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn wrt(&self, x: Var<'_, T>) -> &[T] {
        crate::var::unwrap_op(self.try_wrt(x))
    }
}
