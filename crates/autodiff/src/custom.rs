//! User-defined operations with a forward pass and, optionally, a backward rule.

use std::sync::Arc;

use crate::ops::{Op, Sink};
use crate::tape::{Values, NO_GRAD};
use crate::{Error, Real, Result, Shape, Tape, Var};

/// The operands of a custom operation, as read-only slices.
#[derive(Clone, Copy)]
pub struct Inputs<'a, T> {
    vals: Values<'a, T>,
    ids: &'a [u32],
}

impl<'a, T: Real> Inputs<'a, T> {
    /// Number of operands.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there is no operand.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The value of operand `i`, row-major.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    #[track_caller]
    pub fn value(&self, i: usize) -> &'a [T] {
        self.vals.get(self.ids[i])
    }

    /// The shape of operand `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    #[track_caller]
    pub fn shape(&self, i: usize) -> Shape {
        self.vals.shape(self.ids[i])
    }
}

/// What a custom backward rule sees: the operands, the forward output and the upstream gradient.
pub struct BackwardContext<'a, T> {
    /// The operands.
    pub inputs: Inputs<'a, T>,
    /// The operation's output from the forward pass.
    pub output: &'a [T],
    /// `∂L/∂output`, same shape as the output.
    pub grad_output: &'a [T],
}

/// A user-defined primitive: its output shape, its forward pass and (optionally) its backward rule.
///
/// Register an instance with [`Tape::custom`]. The engine calls [`CustomOp::backward`] once per
/// operand that needs a gradient; a type that does not override it makes backward fail with
/// [`Error::MissingBackward`] instead of returning a silently wrong gradient.
///
/// An op is `Send + Sync` (it is shared through an `Arc` and only read), so a [`Tape`] holding
/// custom ops can be moved to a worker thread like any other.
///
/// # Example
/// ```
/// use std::sync::Arc;
/// use approx::assert_relative_eq;
/// use autodiff::{BackwardContext, CustomOp, Inputs, Result, Shape, Tape};
///
/// /// softplus(x) = ln(1 + eˣ), softplus'(x) = 1/(1 + e⁻ˣ)
/// struct Softplus;
///
/// impl CustomOp<f64> for Softplus {
///     fn name(&self) -> &str {
///         "softplus"
///     }
///     fn output_shape(&self, inputs: &Inputs<'_, f64>) -> Result<Shape> {
///         Ok(inputs.shape(0))
///     }
///     fn forward(&self, inputs: &Inputs<'_, f64>, output: &mut [f64]) -> Result<()> {
///         for (o, &x) in output.iter_mut().zip(inputs.value(0)) {
///             *o = x.max(0.0) + (-x.abs()).exp().ln_1p();
///         }
///         Ok(())
///     }
///     fn backward(&self, _input: usize, cx: &BackwardContext<'_, f64>, grad: &mut [f64]) -> Result<()> {
///         for ((d, &x), &g) in grad.iter_mut().zip(cx.inputs.value(0)).zip(cx.grad_output) {
///             *d += g / (1.0 + (-x).exp());
///         }
///         Ok(())
///     }
/// }
///
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let x = tape.param_scalar(0.0)?;
/// let y = tape.custom(Arc::new(Softplus), &[x])?;
/// assert_relative_eq!(y.item(), 2f64.ln());
/// assert_relative_eq!(y.backward()?.wrt(x)[0], 0.5);
/// # Ok(()) }
/// ```
pub trait CustomOp<T: Real>: Send + Sync {
    /// The operation's name, for errors and reports.
    fn name(&self) -> &str;

    /// The output shape for these operands, or an error if they are not acceptable.
    ///
    /// # Errors
    /// Whatever the operation rejects; [`Error::Custom`] carries a free-form message.
    fn output_shape(&self, inputs: &Inputs<'_, T>) -> Result<Shape>;

    /// Writes the output (`output.len()` is the output shape's length).
    ///
    /// # Errors
    /// Whatever the operation rejects; the node is then removed from the tape.
    fn forward(&self, inputs: &Inputs<'_, T>, output: &mut [T]) -> Result<()>;

    /// Adds `∂L/∂(operand input)` into `grad_input` (accumulate with `+=`: an operand can be used
    /// twice).
    ///
    /// # Errors
    /// The default implementation returns [`Error::MissingBackward`].
    fn backward(
        &self,
        input: usize,
        cx: &BackwardContext<'_, T>,
        grad_input: &mut [T],
    ) -> Result<()> {
        let _ = (input, cx, grad_input);
        Err(Error::MissingBackward {
            op: self.name().to_owned(),
        })
    }

    /// Forward-mode rule, used only by the certified mode and directional derivatives: adds
    /// `(∂output/∂operand input)·input_tangent` into `output_tangent` (accumulate with `+=`).
    ///
    /// # Errors
    /// The default implementation returns [`Error::MissingTangent`].
    fn tangent(
        &self,
        input: usize,
        inputs: &Inputs<'_, T>,
        input_tangent: &[T],
        output: &[T],
        output_tangent: &mut [T],
    ) -> Result<()> {
        let _ = (input, inputs, input_tangent, output, output_tangent);
        Err(Error::MissingTangent {
            op: self.name().to_owned(),
        })
    }
}

impl<T: Real> Tape<T> {
    /// Applies a user-defined operation to `inputs`.
    ///
    /// The result needs a gradient if any operand does; backward then calls the op's
    /// [`CustomOp::backward`]. Kinks inside a custom op are not tracked by the kink report.
    ///
    /// # Errors
    /// [`Error::ForeignVar`] if an operand belongs to another tape; [`Error::Allocation`] if the
    /// output's values cannot be allocated; whatever the op's `output_shape` or `forward`
    /// returns.
    pub fn custom<'t>(
        &'t self,
        op: Arc<dyn CustomOp<T>>,
        inputs: &[Var<'t, T>],
    ) -> Result<Var<'t, T>> {
        for x in inputs {
            if !std::ptr::eq(x.tape, self) {
                return Err(Error::ForeignVar { op: "custom" });
            }
        }
        let mut inner = self.borrow_mut();
        let start = inner.links.len();
        inner.links.extend(inputs.iter().map(|x| x.id));
        let shape = {
            let ids = &inner.links[start..];
            let view = Inputs {
                vals: inner.values(),
                ids,
            };
            op.output_shape(&view)
        };
        let shape = match shape.and_then(|s| inner.reserve("custom", s.len()).map(|()| s)) {
            Ok(s) => s,
            Err(e) => {
                inner.links.truncate(start);
                return Err(e);
            }
        };
        let needs = inputs.iter().any(|x| inner.node(x.id).needs_grad());
        let k = inner.customs.len();
        let node_op = Op::Custom {
            op: k,
            start,
            len: inputs.len(),
        };
        let id = inner.push(node_op, shape, needs);
        let result = {
            let p = inner.parts();
            let view = Inputs {
                vals: p.vals,
                ids: &p.links[start..],
            };
            op.forward(&view, p.out)
        };
        if let Err(e) = result {
            let node = inner.nodes.pop().expect("just pushed");
            if node.grad != NO_GRAD {
                inner.grad_len = node.grad;
            }
            let off = inner.arena.len() - shape.len();
            inner.arena.truncate(off);
            inner.links.truncate(start);
            return Err(e);
        }
        inner.customs.push(op);
        inner.finish(id);
        Ok(self.var(id))
    }
}

pub(crate) fn backward<T: Real>(
    s: &mut Sink<'_, T>,
    op: &dyn CustomOp<T>,
    links: &[u32],
    out: &[T],
    g: &[T],
) -> Result<()> {
    let cx = BackwardContext {
        inputs: Inputs {
            vals: s.vals(),
            ids: links,
        },
        output: out,
        grad_output: g,
    };
    for (j, &x) in links.iter().enumerate() {
        if let Some(gx) = s.grad(x) {
            op.backward(j, &cx, gx)?;
        }
    }
    Ok(())
}

/// `ẏ = Σⱼ (∂y/∂xⱼ)·ẋⱼ` by the op's [`CustomOp::tangent`], one input at a time.
pub(crate) fn tangent<T: Real>(
    cx: &crate::ops::rule::TangentCx<'_, T>,
    op: &dyn CustomOp<T>,
    links: &[u32],
    output_tangent: &mut [T],
) -> Result<()> {
    output_tangent.fill(T::zero());
    let inputs = Inputs {
        vals: cx.tv.vals,
        ids: links,
    };
    for (j, &x) in links.iter().enumerate() {
        if let Some(t) = cx.tv.tan(x) {
            op.tangent(j, &inputs, t, cx.y(), output_tangent)?;
        }
    }
    Ok(())
}

/// The magnitude of a custom op's output, which the engine cannot derive: `|y| + Σⱼ maxₖ m(xʲ)ₖ`
/// (every input's largest magnitude, as if the output depended on each with weight 1).
pub(crate) fn magnitude<T: Real>(
    cx: &crate::ops::rule::TangentCx<'_, T>,
    links: &[u32],
    out: &mut [T],
) {
    let total: T = links
        .iter()
        .map(|&x| {
            let mx = cx.m_raw(x);
            (0..cx.tv.vals.shape(x).len()).fold(T::zero(), |acc, k| acc.max(mx.at(k)))
        })
        .sum();
    let y = cx.y();
    for e in cx.needed() {
        out[e] = y[e].abs() + total;
    }
}

/// The bound of the same: `max |y| + Σⱼ bound(xʲ)`.
pub(crate) fn bound<T: Real>(vals: Values<'_, T>, node: u32, links: &[u32], u: &[T]) -> T {
    crate::ops::rule::max_abs(vals.get(node)) + links.iter().map(|&x| u[x as usize]).sum::<T>()
}
