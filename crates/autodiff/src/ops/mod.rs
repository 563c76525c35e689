//! The primitives. `Op` is the closed set of node kinds. Each primitive's module holds all of its
//! rules side by side — forward pass, backward, tangent, need, and for a kink primitive its tie
//! resolution and kink distance (see [`rule`]) — and [`dispatch`] routes every variant to them
//! with exhaustive matches.

pub(crate) mod abs;
pub(crate) mod activation;
pub(crate) mod affine;
pub(crate) mod arith;
pub(crate) mod clamp;
pub(crate) mod concat;
pub(crate) mod dispatch;
pub(crate) mod extreme;
pub(crate) mod fuse;
pub(crate) mod gather;
pub(crate) mod kernels;
pub(crate) mod leaky_relu;
pub(crate) mod linalg;
pub(crate) mod max_n;
pub(crate) mod maxmin;
pub(crate) mod norm;
pub(crate) mod parallel;
pub(crate) mod power;
pub(crate) mod reduce;
pub(crate) mod relu;
pub(crate) mod reshape;
pub(crate) mod rule;
pub(crate) mod slice;
pub(crate) mod smooth;
pub(crate) mod transpose;

pub(crate) use dispatch::backward;

use crate::tape::{Parts, Values};
use crate::{Real, Shape, Tape, Var};

/// Appends a node and lets `f` compute its value (and mask and ties); the single place where
/// forward passes write to the tape.
#[inline]
pub(crate) fn build<'t, T: Real>(
    tape: &'t Tape<T>,
    op: Op<T>,
    shape: Shape,
    needs_grad: bool,
    f: impl FnOnce(Parts<'_, T>),
) -> Var<'t, T> {
    let mut inner = tape.borrow_mut();
    let id = inner.push(op, shape, needs_grad);
    f(inner.parts());
    inner.finish(id);
    tape.var(id)
}

/// [`build`] for a node with the shape and gradient need of its one operand `x` (an
/// elementwise unary op), under a single borrow of the tape.
#[inline]
pub(crate) fn build_like<'t, T: Real>(
    x: Var<'t, T>,
    op: Op<T>,
    f: impl FnOnce(Parts<'_, T>),
) -> Var<'t, T> {
    let mut inner = x.tape.borrow_mut();
    let node = inner.node(x.id);
    let (shape, needs_grad) = (node.shape, node.needs_grad());
    let id = inner.push(op, shape, needs_grad);
    f(inner.parts());
    inner.finish(id);
    drop(inner);
    x.tape.var(id)
}

/// Shape and gradient need of one operand.
#[inline]
pub(crate) fn info<T: Real>(x: Var<'_, T>) -> (Shape, bool) {
    let inner = x.tape.borrow();
    let node = inner.node(x.id);
    (node.shape, node.needs_grad())
}

/// A node kind with its operands (node ids) and constant parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op<T> {
    /// A parameter or a constant.
    Leaf,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    /// `scale·x + shift` (only the scale matters for derivatives; the shift is kept for
    /// [`fuse`], which replays the forward pass).
    Affine {
        x: u32,
        scale: T,
        shift: T,
    },
    Reshape(u32),
    Square(u32),
    Sqrt(u32),
    Exp(u32),
    Ln(u32),
    Softplus(u32),
    Sigmoid(u32),
    Tanh(u32),
    Log1p(u32),
    /// `xⁿ` with a constant integer exponent.
    Powi {
        x: u32,
        n: i32,
    },
    /// `xᵖ` with a constant real exponent.
    Powf {
        x: u32,
        p: T,
    },
    /// `leaky_relu` with the constant slope `alpha` below 0.
    LeakyRelu {
        x: u32,
        alpha: T,
    },
    /// The Euclidean norm of all elements.
    Norm(u32),
    Sum(u32),
    Mean(u32),
    RowSum(u32),
    Dot(u32, u32),
    MatVec(u32, u32),
    MatMul(u32, u32),
    /// One entry per row; the column indices are `indices[start .. start + rows]`.
    /// `X·v` for the sparse constant `inner.sparse[m]`.
    SparseMatVec {
        m: u32,
        v: u32,
    },
    Gather {
        x: u32,
        start: usize,
    },
    /// `[r, c] → [c, r]`.
    Transpose(u32),
    /// Output element `e` is element `start + e` of `x`: a range of a vector's elements or of a
    /// matrix's rows, contiguous in row-major order.
    Slice {
        x: u32,
        start: usize,
    },
    /// The operands `links[start .. start + len]`' values end to end (vectors, or the rows of
    /// matrices with equal column counts).
    Concat {
        start: usize,
        len: usize,
    },
    Relu(u32),
    Abs(u32),
    Max(u32, u32),
    Min(u32, u32),
    Clamp {
        x: u32,
        lo: T,
        hi: T,
    },
    /// Elementwise over `links[start .. start + len]`.
    MaxN {
        start: usize,
        len: usize,
    },
    MinN {
        start: usize,
        len: usize,
    },
    ReduceMax(u32),
    ReduceMin(u32),
    RowMax(u32),
    RowMin(u32),
    /// A user operation `customs[op]` over `links[start .. start + len]`.
    Custom {
        op: usize,
        start: usize,
        len: usize,
    },
}

/// Every primitive's name, indexed by [`Op::index`]: what kink reports and errors print, and
/// what [`crate::primitives`] lists (the catalogue test holds one row per entry).
pub(crate) const NAMES: [&str; 42] = [
    "leaf",
    "add",
    "sub",
    "mul",
    "div",
    "affine",
    "reshape",
    "square",
    "sqrt",
    "exp",
    "ln",
    "sum",
    "mean",
    "row_sum",
    "dot",
    "matvec",
    "matmul",
    "gather",
    "sparse_matvec",
    "relu",
    "abs",
    "max",
    "min",
    "clamp",
    "max_n",
    "min_n",
    "reduce_max",
    "reduce_min",
    "row_max",
    "row_min",
    "custom",
    "softplus",
    "sigmoid",
    "tanh",
    "log1p",
    "powi",
    "powf",
    "leaky_relu",
    "norm",
    "transpose",
    "slice",
    "concat",
];

impl<T> Op<T> {
    /// The primitive's position in [`NAMES`] (an exhaustive match: a new variant needs one).
    pub(crate) fn index(&self) -> usize {
        match self {
            Op::Leaf => 0,
            Op::Add(..) => 1,
            Op::Sub(..) => 2,
            Op::Mul(..) => 3,
            Op::Div(..) => 4,
            Op::Affine { .. } => 5,
            Op::Reshape(_) => 6,
            Op::Square(_) => 7,
            Op::Sqrt(_) => 8,
            Op::Exp(_) => 9,
            Op::Ln(_) => 10,
            Op::Softplus(_) => 31,
            Op::Sigmoid(_) => 32,
            Op::Tanh(_) => 33,
            Op::Log1p(_) => 34,
            Op::Powi { .. } => 35,
            Op::Powf { .. } => 36,
            Op::LeakyRelu { .. } => 37,
            Op::Norm(_) => 38,
            Op::Sum(_) => 11,
            Op::Mean(_) => 12,
            Op::RowSum(_) => 13,
            Op::Dot(..) => 14,
            Op::MatVec(..) => 15,
            Op::MatMul(..) => 16,
            Op::Gather { .. } => 17,
            Op::Transpose(_) => 39,
            Op::Slice { .. } => 40,
            Op::Concat { .. } => 41,
            Op::SparseMatVec { .. } => 18,
            Op::Relu(_) => 19,
            Op::Abs(_) => 20,
            Op::Max(..) => 21,
            Op::Min(..) => 22,
            Op::Clamp { .. } => 23,
            Op::MaxN { .. } => 24,
            Op::MinN { .. } => 25,
            Op::ReduceMax(_) => 26,
            Op::ReduceMin(_) => 27,
            Op::RowMax(_) => 28,
            Op::RowMin(_) => 29,
            Op::Custom { .. } => 30,
        }
    }

    /// The primitive's name, as in error messages and kink reports.
    pub(crate) fn name(&self) -> &'static str {
        NAMES[self.index()]
    }
}

/// Where a backward rule writes: the gradients of all earlier nodes.
pub(crate) struct Sink<'a, T> {
    vals: Values<'a, T>,
    lower: &'a mut [T],
    touched: &'a mut [bool],
    /// The reused partial sums of the blocked `Xᵀg` (`ops::parallel`).
    partials: &'a mut Vec<T>,
    /// The products whose `Xᵀg` the forward pass speculated ([`fuse`]).
    fusion: &'a fuse::Fusion<T>,
}

impl<'a, T: Real> Sink<'a, T> {
    /// Read access to every node's value.
    pub(crate) fn vals(&self) -> Values<'a, T> {
        self.vals
    }

    /// The gradient buffer of operand `id`, if it needs one; marks it as reached.
    #[inline]
    pub(crate) fn grad(&mut self, id: u32) -> Option<&mut [T]> {
        let node = &self.vals.nodes[id as usize];
        if !node.needs_grad() {
            return None;
        }
        self.touched[id as usize] = true;
        Some(&mut self.lower[node.grad..node.grad + node.shape.len()])
    }

    /// [`Sink::grad`] with the reusable buffer of a blocked product's partial sums.
    #[inline]
    pub(crate) fn grad_and_partials(&mut self, id: u32) -> Option<(&mut [T], &mut Vec<T>)> {
        let node = &self.vals.nodes[id as usize];
        if !node.needs_grad() {
            return None;
        }
        self.touched[id as usize] = true;
        let g = &mut self.lower[node.grad..node.grad + node.shape.len()];
        Some((g, &mut *self.partials))
    }
}

/// How the output elements of an elementwise node read one operand (its broadcasting, as
/// [`arith::broadcast`] allowed it).
///
/// ```text
/// Same:       output e reads element e                 (equal lengths)
/// Scalar:     every output reads element 0             (a scalar or any one-element operand)
/// PerRow:     output (i, j) reads element i            (a [r] vector or an [r, 1] matrix)
/// PerColumn:  output (i, j) reads element j            (a [c] vector or a [1, c] matrix)
/// ```
/// A vector whose length is both the row and the column count (a square matrix) is read per
/// column: numpy's rule, which broadcasts a vector along the last axis. An `[r, 1]` matrix
/// asks for the rows explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bcast {
    Same,
    Scalar,
    /// One value per row of a matrix with `cols` columns.
    PerRow {
        cols: usize,
    },
    /// One value per column of a matrix with `cols` columns.
    PerColumn {
        cols: usize,
    },
}

impl Bcast {
    /// How an operand of shape `x` is read by an elementwise output of shape `out`, a shape
    /// [`arith::broadcast`] gave for it.
    #[inline]
    pub(crate) fn new(x: Shape, out: Shape) -> Self {
        let cols = out.cols();
        if x.len() == out.len() {
            Bcast::Same
        } else if x.len() == 1 {
            Bcast::Scalar
        } else if (x.rank() == 1 && x.len() == cols) || (x.rank() == 2 && x.rows() == 1) {
            Bcast::PerColumn { cols }
        } else {
            Bcast::PerRow { cols }
        }
    }

    /// How operand `id` is read by an elementwise output of shape `out`.
    #[inline]
    pub(crate) fn of<T>(vals: Values<'_, T>, id: u32, out: Shape) -> Self {
        Bcast::new(vals.shape(id), out)
    }

    /// The operand element that output element `e` reads.
    #[inline]
    pub(crate) fn index(self, e: usize) -> usize {
        match self {
            Bcast::Same => e,
            Bcast::Scalar => 0,
            Bcast::PerRow { cols } => e / cols,
            Bcast::PerColumn { cols } => e % cols,
        }
    }
}

/// An operand's values as an elementwise node's output elements read them ([`Bcast`]).
#[derive(Clone, Copy)]
pub(crate) struct Bc<'a, T> {
    v: &'a [T],
    how: Bcast,
}

impl<'a, T: Copy> Bc<'a, T> {
    #[inline]
    pub(crate) fn new(v: &'a [T], how: Bcast) -> Self {
        Bc { v, how }
    }

    /// Operand `id`'s values, read by an elementwise output of shape `out`.
    #[inline]
    pub(crate) fn of(vals: Values<'a, T>, id: u32, out: Shape) -> Self {
        Bc::new(vals.get(id), Bcast::of(vals, id, out))
    }

    /// How the operand is read.
    #[inline]
    pub(crate) fn how(&self) -> Bcast {
        self.how
    }

    /// The value output element `e` reads.
    #[inline]
    pub(crate) fn at(&self, e: usize) -> T {
        self.v[self.how.index(e)]
    }

    /// What row `i` of a `cols`-column output reads: `cols` values, or one to repeat.
    #[inline]
    pub(crate) fn row(&self, i: usize, cols: usize) -> &'a [T] {
        match self.how {
            Bcast::Same => &self.v[i * cols..(i + 1) * cols],
            Bcast::Scalar => &self.v[..1],
            Bcast::PerRow { .. } => &self.v[i..=i],
            Bcast::PerColumn { .. } => self.v,
        }
    }
}

/// Adds `c(e)` for every output element `e` of `n` to the gradient `dst` of an operand read as
/// `how`: one to one, or summed over the elements that read the same operand element (all of
/// them for a scalar, a row's for a per-row vector, a column's for a per-column one).
#[inline]
pub(crate) fn accumulate<T: Real>(dst: &mut [T], how: Bcast, n: usize, c: impl Fn(usize) -> T) {
    match how {
        Bcast::Same => {
            for (e, d) in dst.iter_mut().enumerate() {
                *d += c(e);
            }
        }
        Bcast::Scalar => {
            let mut s = T::zero();
            for e in 0..n {
                s += c(e);
            }
            dst[0] += s;
        }
        Bcast::PerRow { cols } => {
            for (i, d) in dst.iter_mut().enumerate() {
                let mut s = T::zero();
                for e in i * cols..(i + 1) * cols {
                    s += c(e);
                }
                *d += s;
            }
        }
        Bcast::PerColumn { cols } => {
            // Row by row, so `c` reads its inputs in memory order.
            for row in (0..n).step_by(cols.max(1)) {
                for (j, d) in dst.iter_mut().enumerate() {
                    *d += c(row + j);
                }
            }
        }
    }
}
