//! The rule tables: for each `Op` variant, which function of its module holds each rule. Every
//! match here is exhaustive and has no wildcard, so a new primitive does not compile until it
//! has a row in each table. This file holds the structural tables (operands, kinks, the need
//! marking), the tangent rule and the reverse pass; `kink.rs` the tables of the kink rules
//! (tie resolution, branches, distances) and `tolerance.rs` those of the certified mode's tie
//! tolerance (magnitudes, bounds, near ties).

mod kink;
mod tolerance;

use crate::ops::rule::{self, Need, TangentCx};
use crate::ops::{
    activation, affine, arith, concat, extreme, gather, linalg, max_n, maxmin, norm, power, reduce,
    reshape, slice, smooth, transpose, Op, Sink,
};
use crate::tape::Inner;
use crate::{Real, Result};

impl<T: Real> Op<T> {
    /// Calls `f` for every operand of the op.
    pub(crate) fn for_each_input(&self, inner: &Inner<T>, mut f: impl FnMut(u32)) {
        match *self {
            Op::Leaf => {}
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Dot(a, b)
            | Op::MatVec(a, b)
            | Op::MatMul(a, b)
            | Op::Max(a, b)
            | Op::Min(a, b) => {
                f(a);
                f(b);
            }
            Op::Affine { x, .. }
            | Op::Reshape(x)
            | Op::Square(x)
            | Op::Sqrt(x)
            | Op::Exp(x)
            | Op::Ln(x)
            | Op::Softplus(x)
            | Op::Sigmoid(x)
            | Op::Tanh(x)
            | Op::Log1p(x)
            | Op::Powi { x, .. }
            | Op::Powf { x, .. }
            | Op::LeakyRelu { x, .. }
            | Op::Norm(x)
            | Op::Sum(x)
            | Op::Mean(x)
            | Op::RowSum(x)
            | Op::Gather { x, .. }
            | Op::Transpose(x)
            | Op::Slice { x, .. }
            | Op::SparseMatVec { v: x, .. }
            | Op::Relu(x)
            | Op::Abs(x)
            | Op::Clamp { x, .. }
            | Op::ReduceMax(x)
            | Op::ReduceMin(x)
            | Op::RowMax(x)
            | Op::RowMin(x) => f(x),
            Op::Concat { start, len } => {
                for &x in &inner.links[start..start + len] {
                    f(x);
                }
            }
            Op::MaxN { start, len } | Op::MinN { start, len } | Op::Custom { start, len, .. } => {
                for &x in &inner.links[start..start + len] {
                    f(x);
                }
            }
        }
    }

    /// Whether the op has kinks (records ties, has a tie resolution and a kink distance).
    pub(crate) fn is_kink(&self) -> bool {
        match self {
            Op::Relu(_)
            | Op::LeakyRelu { .. }
            | Op::Norm(_)
            | Op::Abs(_)
            | Op::Max(..)
            | Op::Min(..)
            | Op::Clamp { .. }
            | Op::MaxN { .. }
            | Op::MinN { .. }
            | Op::ReduceMax(_)
            | Op::ReduceMin(_)
            | Op::RowMax(_)
            | Op::RowMin(_) => true,
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

    /// Marks the operand tangents that the needed output tangents (`need.out`) read.
    pub(crate) fn need(&self, need: &mut Need<'_, T>) {
        let inner = need.inner;
        match *self {
            Op::Leaf => {}
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Max(a, b)
            | Op::Min(a, b) => {
                need.elementwise(a);
                need.elementwise(b);
            }
            Op::Affine { x, .. }
            | Op::Reshape(x)
            | Op::Square(x)
            | Op::Sqrt(x)
            | Op::Exp(x)
            | Op::Ln(x)
            | Op::Softplus(x)
            | Op::Sigmoid(x)
            | Op::Tanh(x)
            | Op::Log1p(x)
            | Op::Powi { x, .. }
            | Op::Powf { x, .. }
            | Op::LeakyRelu { x, .. }
            | Op::Relu(x)
            | Op::Abs(x)
            | Op::Clamp { x, .. } => need.elementwise(x),
            Op::MaxN { start, len } => inner.links[start..start + len]
                .iter()
                .for_each(|&x| need.elementwise(x)),
            Op::MinN { start, len } => inner.links[start..start + len]
                .iter()
                .for_each(|&x| need.elementwise(x)),
            Op::Norm(x) => need.all(x),
            Op::Sum(x) | Op::Mean(x) | Op::ReduceMax(x) | Op::ReduceMin(x) => need.all(x),
            Op::Dot(a, b) => {
                need.all(a);
                need.all(b);
            }
            Op::Custom { start, len, .. } => inner.links[start..start + len]
                .iter()
                .for_each(|&x| need.all(x)),
            Op::RowSum(x) | Op::RowMax(x) | Op::RowMin(x) => need.rows(x),
            Op::Gather { x, start } => {
                let n = need.out.len();
                gather::need(need, x, &inner.indices[start..start + n]);
            }
            Op::Transpose(x) => transpose::need(need, x),
            Op::Slice { x, start } => slice::need(need, x, start),
            Op::Concat { start, len } => concat::need(need, &inner.links[start..start + len]),
            Op::SparseMatVec { m, v } => linalg::sparse_matvec_need(need, m, v),
            Op::MatVec(a, v) | Op::MatMul(a, v) => linalg::product_need(need, a, v),
        }
    }

    /// The forward-mode rule: writes the node's needed output tangents into `out`.
    pub(crate) fn tangent(&self, cx: &TangentCx<'_, T>, out: &mut [T]) -> Result<()> {
        let inner = cx.inner;
        match *self {
            Op::Leaf => {}
            Op::Add(a, b) => arith::add_tangent(cx, a, b, out),
            Op::Sub(a, b) => arith::sub_tangent(cx, a, b, out),
            Op::Mul(a, b) => arith::mul_tangent(cx, a, b, out),
            Op::Div(a, b) => arith::div_tangent(cx, a, b, out),
            Op::Affine { x, scale, .. } => affine::tangent(cx, x, scale, out),
            Op::Reshape(x) => reshape::tangent(cx, x, out),
            Op::Square(x) => smooth::square_tangent(cx, x, out),
            Op::Sqrt(x) => smooth::sqrt_tangent(cx, x, out),
            Op::Exp(x) => smooth::exp_tangent(cx, x, out),
            Op::Ln(x) => smooth::ln_tangent(cx, x, out),
            Op::Softplus(x) => activation::softplus_tangent(cx, x, out),
            Op::Sigmoid(x) => activation::sigmoid_tangent(cx, x, out),
            Op::Tanh(x) => activation::tanh_tangent(cx, x, out),
            Op::Log1p(x) => smooth::log1p_tangent(cx, x, out),
            Op::Powi { x, n } => power::powi_tangent(cx, x, n, out),
            Op::Powf { x, p } => power::powf_tangent(cx, x, p, out),
            Op::LeakyRelu { x, .. } => rule::mask_tangent(cx, x, out),
            Op::Norm(x) => norm::tangent(cx, x, out),
            Op::Sum(x) => reduce::sum_tangent(cx, x, false, out),
            Op::Mean(x) => reduce::sum_tangent(cx, x, true, out),
            Op::RowSum(x) => reduce::row_sum_tangent(cx, x, out),
            Op::Dot(a, b) => linalg::dot_tangent(cx, a, b, out),
            Op::MatVec(a, x) => linalg::matvec_tangent(cx, a, x, out),
            Op::MatMul(a, b) => linalg::matmul_tangent(cx, a, b, out),
            Op::SparseMatVec { m, v } => linalg::sparse_matvec_tangent(cx, m, v, out),
            Op::Gather { x, start } => {
                gather::tangent(cx, x, &inner.indices[start..start + out.len()], out)
            }
            Op::Transpose(x) => transpose::tangent(cx, x, out),
            Op::Slice { x, start } => slice::tangent(cx, x, start, out),
            Op::Concat { start, len } => concat::tangent(cx, &inner.links[start..start + len], out),
            Op::Relu(x) | Op::Abs(x) | Op::Clamp { x, .. } => rule::mask_tangent(cx, x, out),
            Op::Max(a, b) | Op::Min(a, b) => maxmin::tangent(cx, a, b, out),
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                max_n::tangent(cx, &inner.links[start..start + len], out)
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                extreme::tangent(cx, x, out)
            }
            Op::Custom { op, start, len } => crate::custom::tangent(
                cx,
                inner.customs[op].as_ref(),
                &inner.links[start..start + len],
                out,
            )?,
        }
        Ok(())
    }
}

/// The reverse pass: one loop over the tape from `root` down to the first node.
///
/// `masks` are the kink masks to use: the tape's own, or ones resolved by the certified mode.
/// `data` holds every node's gradient at its `grad` offset; offsets grow with node index, so the
/// gradients of a node's operands all lie below its own and can be borrowed beside it.
/// `partials` is the reused buffer of the blocked `Xᵀg` products (`ops::parallel`).
pub(crate) fn backward<T: Real>(
    inner: &Inner<T>,
    root: u32,
    masks: &[T],
    data: &mut [T],
    touched: &mut [bool],
    partials: &mut Vec<T>,
) -> Result<()> {
    let vals = inner.values();
    for i in (0..=root as usize).rev() {
        let node = &inner.nodes[i];
        if !touched[i] || !node.needs_grad() {
            continue;
        }
        let n = node.shape.len();
        let (lower, upper) = data.split_at_mut(node.grad);
        let g = &upper[..n];
        // The node's own value, which only some rules read.
        let out = || vals.get(i as u32);
        let mask = &masks[node.mask..];
        // Operands come before the node, so only the flags below `i` can change.
        let mut sink = Sink {
            vals,
            lower,
            touched: &mut touched[..i],
            partials: &mut *partials,
            fusion: &inner.fusion,
        };
        let s = &mut sink;
        match node.op {
            Op::Leaf => {}
            Op::Add(a, b) => arith::add_backward(s, a, b, node.shape, g),
            Op::Sub(a, b) => arith::sub_backward(s, a, b, node.shape, g),
            Op::Mul(a, b) => arith::mul_backward(s, a, b, node.shape, g),
            Op::Div(a, b) => arith::div_backward(s, a, b, node.shape, out(), g),
            Op::Affine { x, scale, .. } => affine::backward(s, x, scale, g),
            Op::Reshape(x) => reshape::backward(s, x, g),
            Op::Square(x) => smooth::square_backward(s, x, g),
            Op::Sqrt(x) => smooth::sqrt_backward(s, x, out(), g),
            Op::Exp(x) => smooth::exp_backward(s, x, out(), g),
            Op::Ln(x) => smooth::ln_backward(s, x, g),
            Op::Softplus(x) => activation::softplus_backward(s, x, g),
            Op::Sigmoid(x) => activation::sigmoid_backward(s, x, out(), g),
            Op::Tanh(x) => activation::tanh_backward(s, x, out(), g),
            Op::Log1p(x) => smooth::log1p_backward(s, x, g),
            Op::Powi { x, n } => power::powi_backward(s, x, n, g),
            Op::Powf { x, p } => power::powf_backward(s, x, p, g),
            Op::LeakyRelu { x, .. } => rule::mask_backward(s, x, mask, g),
            Op::Norm(x) => norm::backward(s, x, mask, g),
            Op::Sum(x) => reduce::sum_backward(s, x, g),
            Op::Mean(x) => reduce::mean_backward(s, x, g),
            Op::RowSum(x) => reduce::row_sum_backward(s, x, g),
            Op::Dot(a, b) => linalg::dot_backward(s, a, b, g),
            Op::MatVec(a, v) => linalg::matvec_backward(s, i as u32, a, v, g),
            Op::MatMul(a, b) => linalg::matmul_backward(s, a, b, g),
            Op::SparseMatVec { m, v } => {
                linalg::sparse_matvec_backward(s, i as u32, &inner.sparse[m as usize], v, g)
            }
            Op::Gather { x, start } => gather::backward(s, x, &inner.indices[start..start + n], g),
            Op::Transpose(x) => transpose::backward(s, x, g),
            Op::Slice { x, start } => slice::backward(s, x, start, g),
            Op::Concat { start, len } => concat::backward(s, &inner.links[start..start + len], g),
            Op::Relu(x) | Op::Abs(x) | Op::Clamp { x, .. } => rule::mask_backward(s, x, mask, g),
            Op::Max(a, b) | Op::Min(a, b) => maxmin::backward(s, a, b, node.shape, mask, g),
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                max_n::backward(s, &inner.links[start..start + len], node.shape, mask, g)
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                extreme::backward(s, x, mask, g)
            }
            Op::Custom { op, start, len } => crate::custom::backward(
                s,
                inner.customs[op].as_ref(),
                &inner.links[start..start + len],
                out(),
                g,
            )?,
        }
    }
    Ok(())
}
