//! The tables of the certified mode's tie tolerance: magnitude rules, their cheap bounds,
//! near-tie candidates and the exact near-tie test.

use crate::ops::rule::{self, TangentCx};
use crate::ops::{
    abs, activation, affine, arith, clamp, concat, extreme, gather, leaky_relu, linalg, max_n,
    maxmin, norm, power, reduce, relu, reshape, slice, smooth, transpose, Op,
};
use crate::tape::Inner;
use crate::Real;

impl<T: Real> Op<T> {
    /// The magnitude rule: writes the node's needed output magnitudes into `out`, `cx.tv.lower`
    /// holding the operands' magnitudes (see [`rule`]).
    pub(crate) fn magnitude(&self, cx: &TangentCx<'_, T>, out: &mut [T]) {
        let inner = cx.inner;
        match *self {
            Op::Leaf => {}
            Op::Add(a, b) | Op::Sub(a, b) => arith::sum_magnitude(cx, a, b, out),
            Op::Mul(a, b) => arith::mul_magnitude(cx, a, b, out),
            Op::Div(a, b) => arith::div_magnitude(cx, a, b, out),
            Op::Affine { x, scale, .. } => affine::magnitude(cx, x, scale, out),
            Op::Reshape(x) => reshape::magnitude(cx, x, out),
            Op::Square(x) => smooth::square_magnitude(cx, x, out),
            Op::Sqrt(x) => smooth::sqrt_magnitude(cx, x, out),
            Op::Exp(x) => smooth::exp_magnitude(cx, x, out),
            Op::Ln(x) => smooth::ln_magnitude(cx, x, out),
            Op::Softplus(x) => activation::softplus_magnitude(cx, x, out),
            Op::Sigmoid(x) => activation::sigmoid_magnitude(cx, x, out),
            Op::Tanh(x) => activation::tanh_magnitude(cx, x, out),
            Op::Log1p(x) => smooth::log1p_magnitude(cx, x, out),
            Op::Powi { x, n } => power::powi_magnitude(cx, x, n, out),
            Op::Powf { x, p } => power::powf_magnitude(cx, x, p, out),
            Op::LeakyRelu { x, alpha } => leaky_relu::magnitude(cx, x, alpha, out),
            Op::Norm(x) => norm::magnitude(cx, x, out),
            Op::Sum(x) => reduce::sum_magnitude(cx, x, false, out),
            Op::Mean(x) => reduce::sum_magnitude(cx, x, true, out),
            Op::RowSum(x) => reduce::row_sum_magnitude(cx, x, out),
            Op::Dot(a, b) => linalg::dot_magnitude(cx, a, b, out),
            Op::MatVec(a, x) => linalg::matvec_magnitude(cx, a, x, out),
            Op::MatMul(a, b) => linalg::matmul_magnitude(cx, a, b, out),
            Op::SparseMatVec { m, v } => linalg::sparse_matvec_magnitude(cx, m, v, out),
            Op::Gather { x, start } => {
                gather::magnitude(cx, x, &inner.indices[start..start + out.len()], out)
            }
            Op::Transpose(x) => transpose::magnitude(cx, x, out),
            Op::Slice { x, start } => slice::magnitude(cx, x, start, out),
            Op::Concat { start, len } => {
                concat::magnitude(cx, &inner.links[start..start + len], out)
            }
            Op::Relu(x) => relu::magnitude(cx, x, out),
            Op::Abs(x) => abs::magnitude(cx, x, out),
            Op::Clamp { x, .. } => clamp::magnitude(cx, x, out),
            Op::Max(a, b) | Op::Min(a, b) => maxmin::magnitude(cx, a, b, out),
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                max_n::magnitude(cx, &inner.links[start..start + len], out)
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                extreme::magnitude(cx, x, out)
            }
            Op::Custom { start, len, .. } => {
                crate::custom::magnitude(cx, &inner.links[start..start + len], out)
            }
        }
    }

    /// The bound rule: a number at least every element's magnitude, from the operands' bounds
    /// `u` (indexed by node; O(1) for the linear primitives). Not called for leaves.
    pub(crate) fn bound(&self, inner: &Inner<T>, node: u32, u: &[T]) -> T {
        let vals = inner.values();
        let ub = |id: u32| u[id as usize];
        match *self {
            Op::Leaf => rule::max_abs(vals.get(node)),
            Op::Add(a, b) | Op::Sub(a, b) => arith::sum_bound(u, a, b),
            Op::Mul(a, b) => arith::mul_bound(u, a, b),
            Op::Div(a, b) => arith::div_bound(vals, node, b, ub(a), ub(b)),
            Op::Affine { x, scale, .. } => affine::bound(vals, node, x, scale, ub(x)),
            Op::Reshape(x)
            | Op::Relu(x)
            | Op::Abs(x)
            | Op::Clamp { x, .. }
            | Op::Mean(x)
            | Op::Gather { x, .. }
            | Op::Transpose(x)
            | Op::Slice { x, .. }
            | Op::ReduceMax(x)
            | Op::ReduceMin(x)
            | Op::RowMax(x)
            | Op::RowMin(x) => rule::operand_bound(u, x),
            Op::Max(a, b) | Op::Min(a, b) => rule::largest_bound(u, &[a, b]),
            Op::Square(x) => smooth::square_bound(u, x),
            Op::Sqrt(x) => smooth::sqrt_bound(vals, node, ub(x)),
            Op::Exp(x) => smooth::exp_bound(vals, node, ub(x)),
            Op::Ln(x) => smooth::ln_bound(vals, node, x, ub(x)),
            Op::Log1p(x) => smooth::log1p_bound(vals, node, x, ub(x)),
            Op::Softplus(x) | Op::Sigmoid(x) | Op::Tanh(x) => activation::bound(vals, node, ub(x)),
            Op::Powi { x, n } => power::powi_bound(vals, node, x, n, ub(x)),
            Op::Powf { x, p } => power::powf_bound(vals, node, x, p, ub(x)),
            Op::LeakyRelu { x, alpha } => leaky_relu::bound(alpha, ub(x)),
            Op::Norm(x) => norm::bound(vals, x, ub(x)),
            Op::Sum(x) => reduce::sum_bound(vals, x, ub(x)),
            Op::RowSum(x) => reduce::row_sum_bound(vals, x, ub(x)),
            Op::Dot(a, b) => linalg::dot_bound(vals, a, ub(a), ub(b)),
            Op::MatVec(a, b) | Op::MatMul(a, b) => linalg::product_bound(vals, a, ub(a), ub(b)),
            Op::SparseMatVec { m, v } => {
                linalg::sparse_matvec_bound(&inner.sparse[m as usize], ub(v))
            }
            Op::Concat { start, len } | Op::MaxN { start, len } | Op::MinN { start, len } => {
                rule::largest_bound(u, &inner.links[start..start + len])
            }
            Op::Custom { start, len, .. } => {
                crate::custom::bound(vals, node, &inner.links[start..start + len], u)
            }
        }
    }

    /// Near-tie candidates of a kink op by the bounds `u`: pushes the output elements that
    /// might lie within the tolerance `tau` of the kink (not those exactly on it).
    pub(crate) fn near(&self, inner: &Inner<T>, node: u32, u: &[T], tau: T, out: &mut Vec<usize>) {
        let vals = inner.values();
        let ub = |id: u32| u[id as usize];
        match *self {
            Op::Relu(x) => relu::near(vals, x, tau, ub(x), out),
            Op::LeakyRelu { x, .. } => leaky_relu::near(vals, x, tau, ub(x), out),
            Op::Abs(x) => abs::near(vals, x, tau, ub(x), out),
            Op::Norm(x) => norm::near(vals, node, x, tau, ub(x), out),
            Op::Clamp { x, lo, hi } => clamp::near(vals, x, lo, hi, tau, ub(x), out),
            Op::Max(a, b) | Op::Min(a, b) => maxmin::near(vals, node, a, b, tau, ub(a), ub(b), out),
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                max_n::near(vals, node, &inner.links[start..start + len], tau, ub, out)
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                extreme::near(vals, node, x, tau, ub(x), out)
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

    /// The exact near-tie test of output element `e` with the operands' magnitudes
    /// (`cx.tv.lower`); `false` for an op without kinks.
    pub(crate) fn is_near(&self, cx: &TangentCx<'_, T>, e: usize, tau: T) -> bool {
        let inner = cx.inner;
        match *self {
            Op::Relu(x) => relu::is_near(cx, x, e, tau),
            Op::LeakyRelu { x, .. } => leaky_relu::is_near(cx, x, e, tau),
            Op::Abs(x) => abs::is_near(cx, x, e, tau),
            Op::Norm(x) => norm::is_near(cx, x, tau),
            Op::Clamp { x, lo, hi } => clamp::is_near(cx, x, lo, hi, e, tau),
            Op::Max(a, b) | Op::Min(a, b) => maxmin::is_near(cx, a, b, e, tau),
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                max_n::is_near(cx, &inner.links[start..start + len], e, tau)
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                extreme::is_near(cx, x, e, tau)
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
            | Op::Custom { .. } => false,
        }
    }
}
