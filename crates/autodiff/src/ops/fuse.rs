//! Fusion of a data product with the row-wise loss after it, so a training step reads the data
//! matrix once instead of twice.
//!
//! A margin loss `reduce(f(X·w))` — `sum` or `mean` of a chain of elementwise steps after
//! `X·w` — needs `X` twice: the forward pass reads it for `X·w`, and the backward pass reads it
//! again for `Xᵀg`. Out of cache each read is a trip to memory. Here the forward pass of `X·w`
//! also computes `Xᵀg`, block of rows by block of rows while each block is in cache, and the
//! backward pass uses that result instead of reading `X` again. Nothing in the user's code
//! changes, and the results are the unfused ones bit for bit.
//!
//! # Learn, speculate, check
//! `g` (the gradient at `X·w`) depends on the ops built after the product, which do not exist
//! yet when its forward pass runs. A training loop rebuilds the same graph every step (`clear`,
//! build, `backward`), so the tape learns it:
//! 1. **Learn.** After each backward pass ([`learn`]), for every product `X·w` (dense
//!    [`Op::MatVec`] or [`Op::SparseMatVec`]) whose vector needs a gradient, the tape records the
//!    *plan* of the nodes right after it, if they are a chain of elementwise steps ending in a
//!    reduction: each node has the previous one as an operand, and is `affine`, `relu`,
//!    `square`, or `+`, `−`, `×` with a node built before the product (one value per row, or a
//!    scalar), then `sum` or `mean`. It also records the gradient that reached the reduction
//!    (the *seed*, 1 when the loss is added into the objective as it is). Plans survive
//!    [`Tape::clear`](crate::Tape::clear); they are keyed by the product's node index.
//! 2. **Speculate.** When the next step builds a product at the same index with the same
//!    operands, its forward pass runs the plan: per block of rows it computes the rows of `X·w`
//!    (the node's value, as always), replays the chain's forward steps on them with each step's
//!    own per-element rule (`affine::value`, `relu::element`, `smooth::square_value`, …), and
//!    the chain's backward from the recorded seed (each step's local derivative, `0 + g·fₖ` as
//!    the gradient buffers accumulate; `reduce::mean_share` for `mean`), which gives a
//!    predicted `g`; then it adds `gᵢ·xᵢ` for the block's rows into the block's partial sum, with
//!    the same kernel, rows and order as the unfused backward (`kernels::transpose_add_rows`
//!    over windows of the block, then [`kernels::Carry::finish`]; `SparseData::matvec_transpose_add`
//!    row by row). The blocks are `parallel::Blocks::for_sum`'s, the backward's own.
//! 3. **Check.** The real ops then build as usual (values, masks, ties: the kink report is the
//!    unfused one), and the backward pass runs as usual up to the product. There the `g` it
//!    computed is compared with the predicted one, element by element: if they are equal, the
//!    stored partials are added into the vector's gradient in block order (what the unfused
//!    backward would have added, since `Xᵀg` depends on `X` and `g` only); if anything differs,
//!    the unfused `Xᵀg` runs. So every result — plain, certified (whose rewritten masks change
//!    `g` at ties), any policy, any seed — equals the unfused one exactly; a wrong guess costs
//!    only the in-cache work of step 2.
//!
//! A plan whose guess missed [`MAX_MISSES`] times in a row (say, a seed that changes every step)
//! is no longer run on this tape. The first step of a tape is never fused (nothing is learnt
//! yet). [`TapeStats`](crate::TapeStats) reports the products fused and the backward passes that
//! used them.
//!
//! # When
//! [`Fuse::Auto`] (the default) fuses a product whose `X` takes at least [`FUSE_MIN_BYTES`]:
//! in cache the second read is cheaper than the replay. A product with too many columns for
//! per-block partial sums (wide sparse data) is not fused on a pool of more than one thread,
//! where its unfused forward pass would still be split.
//!
//! # Cost
//! The forward pass of a fused product reads each row of `X` once from memory, and the rows with
//! `gᵢ ≠ 0` a second time from cache (a dense window is at most [`WINDOW_BYTES`] or 4 rows, a
//! sparse one [`WINDOW_ROWS`] rows); the chain's replay is a few operations per row; the check
//! reads `g` twice (n values against the product's n·d). Memory: the predicted `g` and the
//! partials (`blocks × d`), reused across steps.

use std::cell::{Cell, RefCell};

use rayon::prelude::*;

use super::kernels::{self, Carry};
use super::parallel::{self, Blocks};
use super::{affine, reduce, relu, smooth, Op};
use crate::tape::{Node, Parts, Values};
use crate::{Real, SparseData};

/// When a tape fuses a product `X·w` with the loss after it (see [`Tape::set_fusion`](crate::Tape::set_fusion)).
///
/// Fusion never changes a result, only where the time goes: from the second step of a loop that
/// reuses its tape, the forward pass of `X·w` also computes the backward's `Xᵀg`, block of rows by
/// block of rows, so `X` is read once per step instead of twice (the method and its conditions:
/// `ARCHITECTURE.md`, "Fusion").
///
/// # Example
/// ```
/// use autodiff::{Data, Fuse, Shape, Tape};
/// # fn main() -> autodiff::Result<()> {
/// let x = Data::new(vec![1.0, 2.0, -1.0, 0.5, 3.0, -2.0], Shape::matrix(3, 2))?;
/// let y = Data::vector(vec![1.0, -1.0, 1.0])?;
/// let mut tape = Tape::<f64>::new();
/// tape.set_fusion(Fuse::Always); // this small X would not be fused by `Fuse::Auto`
/// let mut grads = Vec::new();
/// for step in 0..2 {
///     tape.clear();
///     let w = tape.param_vec(&[0.5, -0.25])?;
///     let loss = (tape.data(&y) * tape.data(&x).matvec(w)).affine(-1.0, 1.0).relu().mean();
///     grads.push(tape.backward(loss)?.wrt(w).to_vec());
///     // Step 0 learns the loss after X·w; step 1's forward pass computes Xᵀg with X·w.
///     assert_eq!(tape.stats().fused_products, step);
/// }
/// assert_eq!(grads[0], grads[1]); // the same bits, fused or not
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fuse {
    /// Fuse products whose data matrix takes at least [`FUSE_MIN_BYTES`] (out of cache, where
    /// the second read costs a trip to memory). The default.
    #[default]
    Auto,
    /// Fuse every product whose plan fits, however small (for tests and measurements: in cache
    /// the replay costs more than the second read it saves).
    Always,
    /// Never fuse: every backward computes `Xᵀg` itself.
    Never,
}

/// The data-matrix size from which [`Fuse::Auto`] fuses: 16 MiB (stored values, and for sparse
/// data their column indices), half the L3 cache of the machine it was measured on. Below it
/// the unfused second pass reads `X` from cache and is the faster: at n = 10⁴, d = 100, f64
/// (X = 8 MB) a fused step took 181 µs and an unfused one 153 µs; at n = 10⁵, f32 (X = 40 MB),
/// 2.05 ms fused against 2.70 ms.
pub const FUSE_MIN_BYTES: usize = 16 << 20;

/// The most elementwise steps a plan replays.
pub(crate) const MAX_STEPS: usize = 8;

/// Plans one tape keeps (one per product).
const MAX_PLANS: usize = 16;

/// Misses in a row after which a plan is not run again on this tape.
pub(crate) const MAX_MISSES: u32 = 3;

/// The most rows of one window (a window's chain is replayed in stack buffers of this size).
const WINDOW_ROWS: usize = 256;

/// A dense window holds at most this many bytes of `X` (so it is still in the L2 cache when its
/// rows are added into the partial sum), or 4 rows if one row is larger; a sparse window is
/// [`WINDOW_ROWS`] rows.
pub(crate) const WINDOW_BYTES: usize = 128 << 10;

/// Which product a plan is for: its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Product {
    /// `matvec(a, v)`.
    Dense { a: u32, v: u32 },
    /// `sparse_matvec(inner.sparse[m], v)`.
    Sparse { m: u32, v: u32 },
}

/// One elementwise step of a chain. `other` is a node built before the product: one value per
/// element, or a scalar.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Step<T> {
    Affine {
        scale: T,
        shift: T,
    },
    Add {
        other: u32,
    },
    /// `chain − other` if `chain_first`, else `other − chain`.
    Sub {
        other: u32,
        chain_first: bool,
    },
    Mul {
        other: u32,
    },
    Relu,
    Square,
}

/// Up to [`MAX_STEPS`] steps, held inline (learning a plan allocates nothing).
#[derive(Clone, Copy, Debug)]
struct Steps<T> {
    len: usize,
    items: [Step<T>; MAX_STEPS],
}

impl<T: Copy> Steps<T> {
    fn new() -> Self {
        Steps {
            len: 0,
            items: [Step::Relu; MAX_STEPS],
        }
    }

    fn as_slice(&self) -> &[Step<T>] {
        &self.items[..self.len]
    }

    /// Appends a step; `false` if there is no room.
    fn push(&mut self, step: Step<T>) -> bool {
        let Some(slot) = self.items.get_mut(self.len) else {
            return false;
        };
        *slot = step;
        self.len += 1;
        true
    }
}

impl<T: PartialEq + Copy> PartialEq for Steps<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// The reduction that ends a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduction {
    Sum,
    Mean,
}

/// What the tape learnt about the nodes after one product.
#[derive(Clone, Debug)]
struct Plan<T> {
    /// The product's node index.
    node: u32,
    product: Product,
    steps: Steps<T>,
    reduction: Reduction,
    /// The gradient that reached the reduction.
    seed: T,
    misses: u32,
}

/// A speculated backward product: the predicted `g` and the partial sums of `Xᵀg` per block.
#[derive(Debug)]
pub(crate) struct Spec<T> {
    node: u32,
    g: Vec<T>,
    partials: Vec<T>,
    /// Whether the last backward pass found `g` as predicted (`None`: not reached yet).
    outcome: Cell<Option<bool>>,
}

/// The tape's fusion state: plans (kept by `clear`) and this step's speculated products.
#[derive(Debug)]
pub(crate) struct Fusion<T> {
    plans: RefCell<Vec<Plan<T>>>,
    /// `specs[..live]` are this step's; the rest keep their buffers for later steps.
    specs: Vec<Spec<T>>,
    live: usize,
    /// This step's products whose vector needs a gradient (node index and operands).
    products: Vec<(u32, Product)>,
    /// Backward passes since `clear` that used a speculated product.
    used: Cell<usize>,
    /// When to fuse (kept by `clear`).
    pub(crate) mode: Fuse,
}

impl<T> Default for Fusion<T> {
    fn default() -> Self {
        Fusion {
            plans: RefCell::new(Vec::new()),
            specs: Vec::new(),
            live: 0,
            products: Vec::new(),
            used: Cell::new(0),
            mode: Fuse::Auto,
        }
    }
}

impl<T: Real> Fusion<T> {
    /// Forgets this step's products (for `Tape::clear`); the plans and the buffers stay.
    pub(crate) fn clear(&mut self) {
        self.live = 0;
        self.products.clear();
        self.used.set(0);
    }

    /// Products fused in this step's forward pass.
    pub(crate) fn fused(&self) -> usize {
        self.live
    }

    /// Uses of a fused product by backward passes since `clear`.
    pub(crate) fn used(&self) -> usize {
        self.used.get()
    }

    /// The backward of product `node` into `gv`, if its forward pass speculated it and `g` is
    /// the predicted gradient (then `gv` receives exactly what the unfused `Xᵀg` would add).
    /// Returns whether it did.
    pub(crate) fn backward(&self, node: u32, g: &[T], gv: &mut [T]) -> bool {
        let Some(spec) = self.specs[..self.live].iter().find(|s| s.node == node) else {
            return false;
        };
        // Equal as numbers is enough: a ±0 difference is a row both sums skip, and equal
        // non-zero numbers have equal bits. A NaN never compares equal.
        let hit = spec.g == g;
        spec.outcome.set(Some(hit));
        if hit {
            parallel::add_in_block_order(&spec.partials, gv);
            self.used.set(self.used.get() + 1);
        }
        hit
    }
}

/// One block's index, its rows of the product's value, of the predicted `g`, and its partial.
type BlockParts<'a, T> = (usize, ((&'a mut [T], &'a mut [T]), &'a mut [T]));

/// The rows of a product, for one fused pass.
#[derive(Clone, Copy)]
enum Rows<'a, T> {
    Dense { a: &'a [T], w: &'a [T] },
    Sparse { x: &'a SparseData<T>, w: &'a [T] },
}

/// The forward pass of `matvec(a, v)` into `p.out`, fused with its plan if it has one.
pub(crate) fn dense_product<T: Real>(p: Parts<'_, T>, a: u32, v: u32) {
    let (m, w) = (p.vals.get(a), p.vals.get(v));
    let rows = Rows::Dense { a: m, w };
    if !speculate(
        p.fusion,
        p.vals,
        p.rules.relu_at_zero,
        p.out,
        Product::Dense { a, v },
        rows,
    ) {
        parallel::matvec(m, w, p.out);
    }
}

/// The forward pass of `sparse_matvec(x, v)` (`x` is `inner.sparse[m]`) into `p.out`, fused with
/// its plan if it has one.
pub(crate) fn sparse_product<T: Real>(p: Parts<'_, T>, x: &SparseData<T>, m: u32, v: u32) {
    let w = p.vals.get(v);
    let rows = Rows::Sparse { x, w };
    if !speculate(
        p.fusion,
        p.vals,
        p.rules.relu_at_zero,
        p.out,
        Product::Sparse { m, v },
        rows,
    ) {
        parallel::sparse_matvec(x, w, p.out);
    }
}

/// Registers the product being built (the last node) and, if a live plan matches it, computes
/// its value and its speculated backward. Returns whether it did (else the caller computes the
/// value).
fn speculate<T: Real>(
    fusion: &mut Fusion<T>,
    vals: Values<'_, T>,
    relu_at_zero: T,
    out: &mut [T],
    product: Product,
    rows: Rows<'_, T>,
) -> bool {
    let (Product::Dense { v, .. } | Product::Sparse { v, .. }) = product;
    let bytes = match rows {
        Rows::Dense { a, .. } => std::mem::size_of_val(a),
        Rows::Sparse { x, .. } => x.nnz().saturating_mul(std::mem::size_of::<T>() + 4),
    };
    let wanted = match fusion.mode {
        Fuse::Auto => bytes >= FUSE_MIN_BYTES,
        Fuse::Always => true,
        Fuse::Never => false,
    };
    if !wanted || !vals.needs_grad(v) {
        return false;
    }
    let node = (vals.nodes.len() - 1) as u32;
    fusion.products.push((node, product));
    let plans = fusion.plans.borrow();
    let Some(plan) = plans
        .iter()
        .find(|p| p.node == node && p.product == product && p.misses < MAX_MISSES)
    else {
        return false;
    };
    let n = out.len();
    let cols = vals.shape(v).len();
    let others_fit = plan.steps.as_slice().iter().all(|s| match *s {
        Step::Add { other } | Step::Sub { other, .. } | Step::Mul { other } => {
            let len = vals.shape(other).len();
            other < node && (len == 1 || len == n)
        }
        _ => true,
    });
    if n == 0 || cols == 0 || !others_fit {
        return false;
    }
    let (work, window) = match rows {
        Rows::Dense { .. } => (
            n.saturating_mul(cols),
            (WINDOW_BYTES / (cols * std::mem::size_of::<T>())).clamp(4, WINDOW_ROWS) / 4 * 4,
        ),
        Rows::Sparse { x, .. } => (x.nnz(), WINDOW_ROWS),
    };
    let blocks = Blocks::for_sum(n, work, cols);
    if blocks.is_none() && Blocks::for_rows(n, work).is_some() && parallel::pool_available() {
        // Too many columns for per-block partials (wide sparse data): the fused pass would run on
        // one thread where the unfused forward pass splits.
        return false;
    }
    let (per, count) = blocks.map_or((n, 1), |b| (b.rows, b.count));
    if fusion.live == fusion.specs.len() {
        fusion.specs.push(Spec {
            node,
            g: Vec::new(),
            partials: Vec::new(),
            outcome: Cell::new(None),
        });
    }
    let spec = &mut fusion.specs[fusion.live];
    spec.node = node;
    spec.outcome.set(None);
    // Both are at most the size of nodes already on the tape (the product, its vector). Every
    // element of `g` is written by the pass, so it is resized, not cleared.
    spec.g.resize(n, T::zero());
    spec.g.truncate(n);
    spec.partials.clear();
    spec.partials.resize(count * cols, T::zero());
    let share = match plan.reduction {
        Reduction::Sum => plan.seed,
        Reduction::Mean => reduce::mean_share(plan.seed, n),
    };
    let chain = Chain {
        steps: plan.steps.as_slice(),
        vals,
        relu_at_zero,
        share,
    };
    let block = |(b, ((o, g), part)): BlockParts<'_, T>| {
        fused_block(rows, &chain, b * per, window, o, g, part);
    };
    if blocks.is_some() && parallel::pool_available() {
        out.par_chunks_mut(per)
            .zip(spec.g.par_chunks_mut(per))
            .zip(spec.partials.par_chunks_mut(cols))
            .enumerate()
            .for_each(block);
    } else {
        out.chunks_mut(per)
            .zip(spec.g.chunks_mut(per))
            .zip(spec.partials.chunks_mut(cols))
            .enumerate()
            .for_each(block);
    }
    drop(plans);
    fusion.live += 1;
    true
}

/// One block of rows from row `first`: for each window of rows, the rows of `X·w` into `out`,
/// the chain's predicted `g` into `g`, and `Σ gᵢ·xᵢ` into `part` (zero on entry).
fn fused_block<T: Real>(
    rows: Rows<'_, T>,
    chain: &Chain<'_, T>,
    first: usize,
    window: usize,
    out: &mut [T],
    g: &mut [T],
    part: &mut [T],
) {
    let len = out.len();
    let cols = part.len();
    let mut carry = Carry::default();
    let mut slopes = [[T::zero(); WINDOW_ROWS]; MAX_STEPS];
    // The block's rows of a dense X (the rows the kernels index from 0).
    let block = match rows {
        Rows::Dense { a, .. } => &a[first * cols..(first + len) * cols],
        Rows::Sparse { .. } => &[],
    };
    let mut lo = 0;
    while lo < len {
        let hi = (lo + window).min(len);
        match rows {
            Rows::Dense { w, .. } => {
                kernels::matvec(&block[lo * cols..hi * cols], w, &mut out[lo..hi]);
                chain.run(first + lo, &out[lo..hi], &mut g[lo..hi], &mut slopes);
                kernels::transpose_add_rows(block, g, lo, hi, &mut carry, part);
            }
            Rows::Sparse { x, w } => {
                x.matvec(first + lo, w, None, &mut out[lo..hi]);
                chain.run(first + lo, &out[lo..hi], &mut g[lo..hi], &mut slopes);
                x.matvec_transpose_add(first + lo, &g[lo..hi], part);
            }
        }
        lo = hi;
    }
    if let Rows::Dense { .. } = rows {
        carry.finish(block, g, part);
    }
}

/// A plan's chain, ready to replay.
struct Chain<'a, T> {
    steps: &'a [Step<T>],
    vals: Values<'a, T>,
    relu_at_zero: T,
    /// What the reduction hands each element: the seed, or the seed over n for `mean`.
    share: T,
}

/// A step's other operand over one window: a scalar, or one value per row.
#[derive(Clone, Copy)]
enum Operand<'a, T> {
    Scalar(T),
    Rows(&'a [T]),
}

/// The window's per-element local derivatives of the steps that have them (`relu`'s mask,
/// `square`'s `2x`), one row per step: kept for a whole block, so not zeroed per window.
type Slopes<T> = [[T; WINDOW_ROWS]; MAX_STEPS];

impl<T: Real> Chain<'_, T> {
    /// Step `other`'s values for the rows `first..first + len`.
    fn operand(&self, other: u32, first: usize, len: usize) -> Operand<'_, T> {
        let v = self.vals.get(other);
        if v.len() == 1 {
            Operand::Scalar(v[0])
        } else {
            Operand::Rows(&v[first..first + len])
        }
    }

    /// Replays the chain on the product rows `s` (rows `first..`): the forward steps on `g`
    /// (as scratch), keeping the local derivatives that vary per element in `slopes`, then the
    /// gradient back to the product into `g`.
    fn run(&self, first: usize, s: &[T], g: &mut [T], slopes: &mut Slopes<T>) {
        let len = s.len();
        debug_assert!(len <= WINDOW_ROWS);
        let x = &mut *g;
        x.copy_from_slice(s);
        for (step, slope) in self.steps.iter().zip(slopes.iter_mut()) {
            let slope = &mut slope[..len];
            match *step {
                Step::Affine { scale, shift } => {
                    x.iter_mut()
                        .for_each(|x| *x = affine::value(scale, shift, *x));
                }
                Step::Add { other } => match self.operand(other, first, len) {
                    Operand::Scalar(o) => x.iter_mut().for_each(|x| *x += o),
                    Operand::Rows(o) => x.iter_mut().zip(o).for_each(|(x, &o)| *x += o),
                },
                Step::Sub { other, chain_first } => {
                    let sub = |x: T, o: T| if chain_first { x - o } else { o - x };
                    match self.operand(other, first, len) {
                        Operand::Scalar(o) => x.iter_mut().for_each(|x| *x = sub(*x, o)),
                        Operand::Rows(o) => {
                            x.iter_mut().zip(o).for_each(|(x, &o)| *x = sub(*x, o));
                        }
                    }
                }
                Step::Mul { other } => match self.operand(other, first, len) {
                    Operand::Scalar(o) => x.iter_mut().for_each(|x| *x *= o),
                    Operand::Rows(o) => x.iter_mut().zip(o).for_each(|(x, &o)| *x *= o),
                },
                Step::Relu => {
                    // Branch-free, as relu's own forward pass (a margin's sign is a coin toss);
                    // a window holding a 0 or a NaN takes the full rule element by element.
                    let rare = x.iter().fold(false, |r, &v| r | relu::element_fast(v).2);
                    let pairs = x.iter_mut().zip(slope.iter_mut());
                    if rare {
                        pairs.for_each(|(x, f)| (*x, *f) = relu::element(*x, self.relu_at_zero));
                    } else {
                        pairs.for_each(|(x, f)| (*x, *f, _) = relu::element_fast(*x));
                    }
                }
                Step::Square => {
                    for (x, f) in x.iter_mut().zip(slope.iter_mut()) {
                        *f = smooth::square_slope(*x);
                        *x = smooth::square_value(*x);
                    }
                }
            }
        }
        // The gradient buffers start at 0 and accumulate: the last chain node receives
        // `0 + share`, and each step hands its operand `0 + g·fₖ` (multiplication commutes
        // exactly, so `g·fₖ` is each rule's `fₖ·g` or `g·fₖ`; `+`'s `g` and `−`'s `−g` are `g·1`
        // and `g·(−1)`, exactly).
        let zero = T::zero();
        g.fill(zero + self.share);
        for (step, slope) in self.steps.iter().zip(slopes.iter()).rev() {
            let slope = &slope[..len];
            let by = |g: &mut [T], f: T| g.iter_mut().for_each(|g| *g = zero + *g * f);
            match *step {
                Step::Affine { scale, .. } => by(g, scale),
                Step::Add { .. } => by(g, T::one()),
                Step::Sub { chain_first, .. } => {
                    by(g, if chain_first { T::one() } else { -T::one() });
                }
                Step::Mul { other } => match self.operand(other, first, len) {
                    Operand::Scalar(o) => by(g, o),
                    Operand::Rows(o) => g.iter_mut().zip(o).for_each(|(g, &o)| *g = zero + *g * o),
                },
                Step::Relu | Step::Square => {
                    g.iter_mut()
                        .zip(slope)
                        .for_each(|(g, &f)| *g = zero + *g * f);
                }
            }
        }
    }
}

/// After a backward pass (gradient buffers `data`, reached flags `touched`): updates the plan of
/// every product of this step with the chain after it and the gradient that reached its
/// reduction, and counts its speculation's hit or miss.
pub(crate) fn learn<T: Real>(fusion: &Fusion<T>, nodes: &[Node<T>], data: &[T], touched: &[bool]) {
    if fusion.products.is_empty() {
        return;
    }
    let mut plans = fusion.plans.borrow_mut();
    for &(node, product) in &fusion.products {
        let outcome = fusion.specs[..fusion.live]
            .iter()
            .find(|s| s.node == node)
            .and_then(|s| s.outcome.get());
        let found = chain_after(nodes, node, data, touched);
        let Some(at) = plans.iter().position(|p| p.node == node) else {
            if let (Some((steps, reduction, seed)), true) = (found, plans.len() < MAX_PLANS) {
                plans.push(Plan {
                    node,
                    product,
                    steps,
                    reduction,
                    seed,
                    misses: 0,
                });
            }
            continue;
        };
        let plan = &mut plans[at];
        if let Some((steps, reduction, seed)) = found {
            // A different graph starts its count afresh; a new seed alone does not.
            if plan.product != product || plan.steps != steps || plan.reduction != reduction {
                plan.misses = 0;
            }
            (plan.product, plan.steps, plan.reduction, plan.seed) =
                (product, steps, reduction, seed);
        }
        // A guess counts even when the chain is gone (or the stale plan would run, and miss,
        // forever).
        match outcome {
            Some(true) => plan.misses = 0,
            Some(false) => plan.misses += 1,
            None => {}
        }
    }
}

/// The chain of elementwise steps right after node `product`, its reduction, and the gradient
/// that reached the reduction; `None` if the nodes after it are not such a chain.
fn chain_after<T: Real>(
    nodes: &[Node<T>],
    product: u32,
    data: &[T],
    touched: &[bool],
) -> Option<(Steps<T>, Reduction, T)> {
    let n = nodes[product as usize].shape.len();
    let mut tail = product;
    let mut steps = Steps::new();
    for (k, node) in nodes.iter().enumerate().skip(product as usize + 1) {
        // The operand that is not the chain, and whether the chain comes first.
        let other = |a: u32, b: u32| {
            let (o, first) = match (a == tail, b == tail) {
                (true, false) => (b, true),
                (false, true) => (a, false),
                _ => return None,
            };
            let len = nodes[o as usize].shape.len();
            (o < product && (len == 1 || len == n)).then_some((o, first))
        };
        let step = match node.op {
            Op::Sum(x) | Op::Mean(x) if x == tail => {
                let reduction = match node.op {
                    Op::Sum(_) => Reduction::Sum,
                    _ => Reduction::Mean,
                };
                if !(node.needs_grad() && touched[k]) {
                    return None;
                }
                return Some((steps, reduction, data[node.grad]));
            }
            Op::Affine { x, scale, shift } if x == tail => Step::Affine { scale, shift },
            Op::Relu(x) if x == tail => Step::Relu,
            Op::Square(x) if x == tail => Step::Square,
            Op::Add(a, b) => Step::Add {
                other: other(a, b)?.0,
            },
            Op::Sub(a, b) => {
                let (other, chain_first) = other(a, b)?;
                Step::Sub { other, chain_first }
            }
            Op::Mul(a, b) => Step::Mul {
                other: other(a, b)?.0,
            },
            _ => return None,
        };
        if node.shape.len() != n || !steps.push(step) {
            return None;
        }
        tail = k as u32;
    }
    None
}
