//! The kink rules' tables: tie resolution (certified mode), branches (exact subdifferential)
//! and distances (near-kink reports).

use crate::ops::rule::{self, Branch, Pieces, Tie};
use crate::ops::{abs, clamp, extreme, leaky_relu, max_n, maxmin, norm, relu, Op};
use crate::tape::{Inner, Values};
use crate::Real;

impl<T: Real> Op<T> {
    /// The certified resolution of one exact tie; `false` if the tangents leave it tied (or the
    /// op has no kinks, so records no tie).
    pub(crate) fn resolve(&self, tie: &mut Tie<'_, '_, T>) -> bool {
        let inner = tie.inner;
        match *self {
            Op::Relu(x) => relu::resolve(tie, x),
            Op::LeakyRelu { x, alpha } => leaky_relu::resolve(tie, x, alpha),
            Op::Norm(x) => norm::resolve(tie, x),
            Op::Abs(x) => abs::resolve(tie, x),
            Op::Clamp { x, lo, hi } => clamp::resolve(tie, x, lo, hi),
            Op::Max(a, b) => maxmin::resolve(tie, a, b, true),
            Op::Min(a, b) => maxmin::resolve(tie, a, b, false),
            Op::MaxN { start, len } => max_n::resolve(tie, &inner.links[start..start + len], true),
            Op::MinN { start, len } => max_n::resolve(tie, &inner.links[start..start + len], false),
            Op::ReduceMax(x) | Op::RowMax(x) => extreme::resolve(tie, x, true),
            Op::ReduceMin(x) | Op::RowMin(x) => extreme::resolve(tie, x, false),
            Op::Leaf
            | Op::Add(..)
            | Op::Sub(..)
            | Op::Mul(..)
            | Op::Div(..)
            | Op::Affine { .. }
            | Op::Reshape(_)
            | Op::Square(_)
            | Op::Sqrt(_)
            | Op::Exp(_)
            | Op::Ln(_)
            | Op::Softplus(_)
            | Op::Sigmoid(_)
            | Op::Tanh(_)
            | Op::Log1p(_)
            | Op::Powi { .. }
            | Op::Powf { .. }
            | Op::Sum(_)
            | Op::Mean(_)
            | Op::RowSum(_)
            | Op::Dot(..)
            | Op::MatVec(..)
            | Op::MatMul(..)
            | Op::SparseMatVec { .. }
            | Op::Gather { .. }
            | Op::Transpose(_)
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::Custom { .. } => false,
        }
    }

    /// The branches of a tied element for the exact subdifferential; for [`Pieces::Two`] it
    /// also sets the mask at the element to branch `b.which`. `None` for an op without kinks
    /// (it records no ties).
    pub(crate) fn branch(&self, inner: &Inner<T>, b: &mut Branch<'_, '_, T>) -> Option<Pieces> {
        Some(match *self {
            Op::Relu(_) => relu::branch(b),
            Op::LeakyRelu { alpha, .. } => leaky_relu::branch(b, alpha),
            Op::Norm(_) => norm::branch(),
            Op::Abs(_) => abs::branch(b),
            Op::Clamp { x, lo, hi } => clamp::branch(b, x, lo, hi),
            Op::Max(..) => maxmin::branch(b, true),
            Op::Min(..) => maxmin::branch(b, false),
            Op::MaxN { start, len } => max_n::branch(b, &inner.links[start..start + len], true),
            Op::MinN { start, len } => max_n::branch(b, &inner.links[start..start + len], false),
            Op::ReduceMax(x) | Op::RowMax(x) => extreme::branch(b, x, true),
            Op::ReduceMin(x) | Op::RowMin(x) => extreme::branch(b, x, false),
            Op::Leaf
            | Op::Add(..)
            | Op::Sub(..)
            | Op::Mul(..)
            | Op::Div(..)
            | Op::Affine { .. }
            | Op::Reshape(_)
            | Op::Square(_)
            | Op::Sqrt(_)
            | Op::Exp(_)
            | Op::Ln(_)
            | Op::Softplus(_)
            | Op::Sigmoid(_)
            | Op::Tanh(_)
            | Op::Log1p(_)
            | Op::Powi { .. }
            | Op::Powf { .. }
            | Op::Sum(_)
            | Op::Mean(_)
            | Op::RowSum(_)
            | Op::Dot(..)
            | Op::MatVec(..)
            | Op::MatMul(..)
            | Op::SparseMatVec { .. }
            | Op::Gather { .. }
            | Op::Transpose(_)
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::Custom { .. } => return None,
        })
    }

    /// Each output element's distance from the op's kink, into `out` (left empty for an op
    /// without kinks).
    pub(crate) fn distance(&self, inner: &Inner<T>, node: u32, out: &mut Vec<T>) {
        let vals: Values<'_, T> = inner.values();
        out.clear();
        match *self {
            Op::Relu(x) | Op::Abs(x) => rule::distance_from_zero(vals, x, out),
            Op::LeakyRelu { x, .. } => rule::distance_from_zero(vals, x, out),
            Op::Norm(_) => norm::distance(vals, node, out),
            Op::Clamp { x, lo, hi } => clamp::distance(vals, x, lo, hi, out),
            Op::Max(a, b) | Op::Min(a, b) => maxmin::distance(vals, node, a, b, out),
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                max_n::distance(vals, node, &inner.links[start..start + len], out)
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                extreme::distance(vals, node, x, out)
            }
            Op::Leaf
            | Op::Add(..)
            | Op::Sub(..)
            | Op::Mul(..)
            | Op::Div(..)
            | Op::Affine { .. }
            | Op::Reshape(_)
            | Op::Square(_)
            | Op::Sqrt(_)
            | Op::Exp(_)
            | Op::Ln(_)
            | Op::Softplus(_)
            | Op::Sigmoid(_)
            | Op::Tanh(_)
            | Op::Log1p(_)
            | Op::Powi { .. }
            | Op::Powf { .. }
            | Op::Sum(_)
            | Op::Mean(_)
            | Op::RowSum(_)
            | Op::Dot(..)
            | Op::MatVec(..)
            | Op::MatMul(..)
            | Op::SparseMatVec { .. }
            | Op::Gather { .. }
            | Op::Transpose(_)
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::Custom { .. } => {}
        }
    }
}
