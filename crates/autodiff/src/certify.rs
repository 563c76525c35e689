//! Certified Clarke subgradients and one-sided directional derivatives.
//!
//! # The guarantee
//! Every function a tape computes from the engine's primitives is piecewise smooth: near any
//! point it is one of finitely many smooth *pieces*, selected by which branch each kink operation
//! (`relu`, `abs`, `max`/`min` binary and n-ary, reductions, `clamp`) takes.
//! [`Tape::backward_certified`] returns the gradient of a piece that is active on a segment
//! `x + t·q`, `0 < t < ε`, for a direction `q`. That gradient is a limit of true gradients at
//! points converging to `x`, hence an element of the Clarke subdifferential ∂f(x)
//! (Kakade & Lee 2018, "Provably correct automatic subdifferentiation"; Khan & Barton's
//! lexicographic directional derivatives for the deterministic variant).
//!
//! # The method
//! 1. The forward pass already recorded, per element, the branch each kink op took and whether
//!    it was an exact tie.
//! 2. If no tie was hit (on a node the output depends on), the result *is* the ordinary
//!    backward result, bit for bit.
//! 3. Otherwise a forward tangent pass computes directional derivatives along `q`, over the
//!    elements the tied elements depend on only (for a hinge loss: the rows of `X·w` on the
//!    margin), and resolves each tie by its one-sided rule: `relu` on if the tangent is > 0 and
//!    off if < 0; `abs` takes the tangent's sign; `max`/`min` takes the larger/smaller tangent;
//!    reductions keep the tied entries with the extreme tangent; `clamp` at a bound is inside if
//!    the tangent points inside.
//!    A tie whose tangents are equal has identical first-order data on its branches along `q`
//!    and is split by the tape's policy.
//! 4. The ordinary backward runs with the resolved branches.
//!
//! [`Certify::Random`] draws `q` uniformly from `[−1, 1]ᵖ` with a seeded generator (same seed,
//! same result): with probability 1 every tie whose branches differ to first order is resolved.
//! [`Certify::Lexicographic`] uses the coordinate directions `e₁, e₂, …` in turn, resolving what
//! the previous ones left tied; it is deterministic, and costs up to one tangent pass per
//! parameter element.
//!
//! # Conditions
//! The argument holds in exact arithmetic. In floating point, the tie detection is exact
//! equality: a point at distance 1e-17 from a kink is not a tie, and its gradient is the
//! ordinary one of the side it is on (which is also a limit of gradients, so still in the Clarke
//! set of the computed function up to that rounding). Tangent signs are computed in floating
//! point too: a tangent that should be 0 but rounds to ±1e-16 resolves the tie to one side,
//! which is again the gradient of a piece active nearby. `Tape::kinks_near` shows the near ties.
//! Custom operations must provide [`CustomOp::tangent`](crate::CustomOp::tangent) to be
//! differentiated through in this mode when they lie between a parameter and a tie.

use crate::ops::{kernels, Op};
use crate::policy::TieWeights;
use crate::tape::{run_backward, Inner, Values};
use crate::{Error, Gradients, Real, Result, Tape, Var};

/// How [`Tape::backward_certified`] chooses the direction that resolves ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certify {
    /// One random direction, uniform in `[−1, 1]ᵖ`, from this seed.
    Random {
        /// The generator's seed.
        seed: u64,
    },
    /// The coordinate directions in parameter order, until every tie is resolved.
    Lexicographic,
}

/// What the certified mode did, beside the gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertifyStats {
    /// Exact ties on nodes the output depends on.
    pub ties: usize,
    /// Ties resolved by a tangent (the rest had equal tangents and were split by the policy).
    pub resolved: usize,
    /// Tangent passes run (0 when there was no tie).
    pub passes: usize,
}

/// Gradients from [`Tape::backward_certified`] with the certification statistics.
#[derive(Debug, Clone)]
pub struct Certified<T> {
    /// The gradients: an element of the Clarke subdifferential.
    pub gradients: Gradients<T>,
    /// What the certification did.
    pub stats: CertifyStats,
}

impl<T: Real> Certified<T> {
    /// The certified gradient with respect to `x`; see [`Gradients::wrt`].
    ///
    /// # Panics
    /// If `x` is a constant or belongs to another tape.
    #[track_caller]
    pub fn wrt(&self, x: Var<'_, T>) -> &[T] {
        self.gradients.wrt(x)
    }
}

/// The direction [`Certify::Random`] `{ seed }` draws: `p` numbers uniform in `[−1, 1]`, one per
/// parameter element, parameters in tape order. Public so a result can be reproduced or checked
/// (e.g. against the gradient at `x + t·q`).
///
/// # Example
/// ```
/// let q = autodiff::certify::random_direction(7, 3);
/// assert_eq!(q.len(), 3);
/// assert!(q.iter().all(|v| (-1.0..=1.0).contains(v)));
/// assert_eq!(q, autodiff::certify::random_direction(7, 3)); // seeded
/// ```
pub fn random_direction(seed: u64, p: usize) -> Vec<f64> {
    let mut rng = SplitMix(seed);
    (0..p).map(|_| rng.next_uniform()).collect()
}

/// SplitMix64: a small, well-mixed generator, so the engine needs no `rand` dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next_uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// Calls `f` for every operand of `op`.
fn for_each_input<T>(inner: &Inner<T>, op: &Op<T>, mut f: impl FnMut(u32)) {
    match *op {
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
        | Op::Sum(x)
        | Op::Mean(x)
        | Op::RowSum(x)
        | Op::Gather { x, .. }
        | Op::SparseMatVec { v: x, .. }
        | Op::Relu(x)
        | Op::Abs(x)
        | Op::Clamp { x, .. }
        | Op::ReduceMax(x)
        | Op::ReduceMin(x)
        | Op::RowMax(x)
        | Op::RowMin(x) => f(x),
        Op::MaxN { start, len } | Op::MinN { start, len } | Op::Custom { start, len, .. } => {
            for &x in &inner.links[start..start + len] {
                f(x);
            }
        }
    }
}

/// Buffers of the certified mode, kept by the tape between calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch<T> {
    ancestor: Vec<bool>,
    need: Vec<bool>,
    active: Vec<bool>,
    tan: Vec<T>,
    masks: Vec<T>,
    settled: Vec<bool>,
}

/// Scratch state of one certification or directional-derivative computation.
struct Pass<'a, T: Real> {
    inner: &'a Inner<T>,
    root: u32,
    /// Nodes the root depends on.
    ancestor: Vec<bool>,
    /// Per gradient-slot element: is its tangent needed?
    need: Vec<bool>,
    /// Per node: is any of its tangent needed?
    active: Vec<bool>,
    /// Tangents, laid out like the gradients.
    tan: Vec<T>,
    /// Kink masks, resolved at ties.
    masks: Vec<T>,
    /// Per tie entry (index into the tape's tie list): resolved by a tangent yet?
    settled: Vec<bool>,
}

impl<'a, T: Real> Pass<'a, T> {
    /// Sets up a pass in the buffers of `scratch` (reused across calls: no allocation once warm).
    fn new(inner: &'a Inner<T>, root: u32, scratch: Scratch<T>) -> Self {
        let Scratch {
            mut ancestor,
            mut need,
            mut active,
            mut tan,
            mut masks,
            mut settled,
        } = scratch;
        let refill = |v: &mut Vec<bool>, n: usize| {
            v.clear();
            v.resize(n, false);
        };
        refill(&mut ancestor, inner.nodes.len());
        refill(&mut need, inner.grad_len);
        refill(&mut active, inner.nodes.len());
        refill(&mut settled, inner.ties.len());
        // Tangents are written before they are read at every needed element, so a buffer of the
        // right length is reused without zeroing (stale entries sit only where nothing reads).
        if tan.len() != inner.grad_len {
            tan.clear();
            tan.resize(inner.grad_len, T::zero());
        }
        masks.clear();
        masks.extend_from_slice(&inner.masks);
        ancestor[root as usize] = true;
        for i in (0..=root as usize).rev() {
            if ancestor[i] {
                for_each_input(inner, &inner.nodes[i].op, |x| ancestor[x as usize] = true);
            }
        }
        Pass {
            inner,
            root,
            ancestor,
            need,
            active,
            tan,
            masks,
            settled,
        }
    }

    /// Hands the buffers back for the next pass.
    fn into_scratch(self) -> Scratch<T> {
        Scratch {
            ancestor: self.ancestor,
            need: self.need,
            active: self.active,
            tan: self.tan,
            masks: self.masks,
            settled: self.settled,
        }
    }

    /// Kink nodes with exact ties that the root depends on and that carry gradient.
    fn tied_nodes(&self) -> impl Iterator<Item = usize> + '_ {
        self.inner.nodes[..=self.root as usize]
            .iter()
            .enumerate()
            .filter(move |(i, n)| self.ancestor[*i] && n.needs_grad() && n.ties.1 > n.ties.0)
            .map(|(i, _)| i)
    }

    fn slot(&self, id: u32) -> Option<(usize, usize)> {
        let node = self.inner.node(id);
        node.needs_grad().then(|| (node.grad, node.shape.len()))
    }

    /// Marks the tangents the tied elements (or the whole root) depend on.
    fn mark_needs(&mut self, seed_root: bool) {
        let inner = self.inner;
        if seed_root {
            if let Some((off, _)) = self.slot(self.root) {
                self.need[off] = true;
            }
        }
        let tied: Vec<usize> = self.tied_nodes().collect();
        for i in tied {
            let node = &inner.nodes[i];
            for &e in &inner.ties[node.ties.0..node.ties.1] {
                self.need[node.grad + e] = true;
            }
        }
        for i in (0..=self.root as usize).rev() {
            let node = &inner.nodes[i];
            if !self.ancestor[i] || !node.needs_grad() {
                continue;
            }
            let n = node.shape.len();
            let (lower, upper) = self.need.split_at_mut(node.grad);
            let out = &upper[..n];
            if !out.iter().any(|&b| b) {
                continue;
            }
            self.active[i] = true;
            propagate_need(inner, &node.op, out, lower);
        }
    }

    /// Sets the leaves' tangents to a direction given per parameter element.
    fn set_direction(&mut self, mut dir: impl FnMut(usize, usize) -> T) {
        let inner = self.inner;
        for (i, node) in inner.nodes.iter().enumerate() {
            if matches!(node.op, Op::Leaf) && node.needs_grad() {
                for e in 0..node.shape.len() {
                    self.tan[node.grad + e] = dir(i, e);
                }
            }
        }
    }

    /// One forward tangent pass; resolves the unsettled ties it can. Returns how many it settled.
    fn tangent_pass(&mut self) -> Result<usize> {
        let inner = self.inner;
        let vals = inner.values();
        let mut settled = 0;
        for i in 0..=self.root as usize {
            if !self.active[i] {
                continue;
            }
            let node = &inner.nodes[i];
            if matches!(node.op, Op::Leaf) {
                continue;
            }
            let n = node.shape.len();
            let (lower, upper) = self.tan.split_at_mut(node.grad);
            let out = &mut upper[..n];
            let tv = TanView { vals, lower };
            settled += resolve(
                inner,
                i,
                &tv,
                &mut self.masks,
                &mut self.settled,
                &self.need[node.grad..node.grad + n],
            );
            tangent(
                inner,
                i,
                &tv,
                &self.masks[node.mask..],
                &self.need[node.grad..node.grad + n],
                out,
            )?;
        }
        Ok(settled)
    }
}

/// An operand's tangent or value with scalar broadcasting resolved once; a constant's tangent
/// is 0.
#[derive(Clone, Copy)]
struct Acc<'a, T> {
    s: &'a [T],
    step: usize,
}

impl<'a, T: Real> Acc<'a, T> {
    fn of(s: Option<&'a [T]>, n: usize) -> Self {
        match s {
            None => Acc { s: &[], step: 0 },
            Some(s) => Acc {
                s,
                step: usize::from(s.len() == n && n != 1),
            },
        }
    }

    #[inline]
    fn at(&self, e: usize) -> T {
        if self.s.is_empty() {
            T::zero()
        } else {
            self.s[e * self.step]
        }
    }
}

/// Read access to values and already-computed tangents.
struct TanView<'a, T> {
    vals: Values<'a, T>,
    lower: &'a [T],
}

impl<T: Real> TanView<'_, T> {
    /// The tangent of operand `id` (None for a constant: tangent 0).
    fn tan(&self, id: u32) -> Option<&[T]> {
        let node = &self.vals.nodes[id as usize];
        node.needs_grad()
            .then(|| &self.lower[node.grad..node.grad + node.shape.len()])
    }

    /// Tangent of operand `id` at output element `i`, broadcasting scalars.
    fn at(&self, id: u32, i: usize) -> T {
        match self.tan(id) {
            None => T::zero(),
            Some(t) if t.len() == 1 => t[0],
            Some(t) => t[i],
        }
    }
}

fn any(v: &[bool]) -> bool {
    v.iter().any(|&b| b)
}

/// Need propagation: which operand tangents an op's needed output tangents read.
fn propagate_need<T: Real>(inner: &Inner<T>, op: &Op<T>, out: &[bool], lower: &mut [bool]) {
    let n = out.len();
    let slot = |id: u32| {
        let node = &inner.nodes[id as usize];
        node.needs_grad().then_some((node.grad, node.shape.len()))
    };
    let elementwise = |id: u32, lower: &mut [bool]| {
        if let Some((off, len)) = slot(id) {
            let dst = &mut lower[off..off + len];
            if len == n {
                for (d, &o) in dst.iter_mut().zip(out) {
                    *d |= o;
                }
            } else if any(out) {
                dst.fill(true);
            }
        }
    };
    match *op {
        Op::Leaf => {}
        Op::Add(a, b)
        | Op::Sub(a, b)
        | Op::Mul(a, b)
        | Op::Div(a, b)
        | Op::Max(a, b)
        | Op::Min(a, b) => {
            elementwise(a, lower);
            elementwise(b, lower);
        }
        Op::Affine { x, .. }
        | Op::Reshape(x)
        | Op::Square(x)
        | Op::Sqrt(x)
        | Op::Exp(x)
        | Op::Ln(x)
        | Op::Relu(x)
        | Op::Abs(x)
        | Op::Clamp { x, .. } => elementwise(x, lower),
        Op::MaxN { start, len } | Op::MinN { start, len } => {
            for &x in &inner.links[start..start + len] {
                elementwise(x, lower);
            }
        }
        Op::Sum(x) | Op::Mean(x) | Op::ReduceMax(x) | Op::ReduceMin(x) => {
            if let Some((off, len)) = slot(x) {
                lower[off..off + len].fill(true);
            }
        }
        Op::Dot(a, b) => {
            for x in [a, b] {
                if let Some((off, len)) = slot(x) {
                    lower[off..off + len].fill(true);
                }
            }
        }
        Op::Custom { start, len, .. } => {
            for &x in &inner.links[start..start + len] {
                if let Some((off, l)) = slot(x) {
                    lower[off..off + l].fill(true);
                }
            }
        }
        Op::RowSum(x) | Op::RowMax(x) | Op::RowMin(x) => {
            if let Some((off, len)) = slot(x) {
                let c = len / n.max(1);
                for (i, &o) in out.iter().enumerate() {
                    if o {
                        lower[off + i * c..off + (i + 1) * c].fill(true);
                    }
                }
            }
        }
        Op::Gather { x, start } => {
            if let Some((off, len)) = slot(x) {
                let c = len / n.max(1);
                for (i, &o) in out.iter().enumerate() {
                    if o {
                        lower[off + i * c + inner.indices[start + i]] = true;
                    }
                }
            }
        }
        Op::SparseMatVec { m, v } => {
            // A needed row needs the tangent of exactly its stored columns.
            if let Some((off, _)) = slot(v) {
                let x = &inner.sparse[m as usize];
                for r in (0..n).filter(|&r| out[r]) {
                    for &j in x.row(r).0 {
                        lower[off + j as usize] = true;
                    }
                }
            }
        }
        Op::MatVec(a, v) | Op::MatMul(a, v) => {
            let rows = inner.nodes[a as usize].shape.rows();
            let per_row = n / rows.max(1);
            if let Some((off, len)) = slot(a) {
                let c = len / rows.max(1);
                for r in 0..rows {
                    if any(&out[r * per_row..(r + 1) * per_row]) {
                        lower[off + r * c..off + (r + 1) * c].fill(true);
                    }
                }
            }
            if let Some((off, len)) = slot(v) {
                lower[off..off + len].fill(true);
            }
        }
    }
}

/// Resolves node `i`'s unsettled ties by the operands' tangents; returns how many it settled.
fn resolve<T: Real>(
    inner: &Inner<T>,
    i: usize,
    tv: &TanView<'_, T>,
    masks: &mut [T],
    settled: &mut [bool],
    need: &[bool],
) -> usize {
    let node = &inner.nodes[i];
    let (t0, t1) = node.ties;
    if t1 == t0 {
        return 0;
    }
    let vals = tv.vals;
    let rules = &inner.rules;
    let m = &mut masks[node.mask..];
    let mut count = 0;
    for (k, &e) in inner.ties.iter().enumerate().take(t1).skip(t0) {
        if settled[k] || !need[e] {
            continue;
        }
        let decided = match node.op {
            Op::Relu(x) => {
                let t = tv.at(x, e);
                if t > T::zero() {
                    m[e] = T::one();
                } else if t < T::zero() {
                    m[e] = T::zero();
                }
                t != T::zero()
            }
            Op::Abs(x) => {
                let t = tv.at(x, e);
                if t != T::zero() {
                    m[e] = t.signum();
                }
                t != T::zero()
            }
            Op::Clamp { x, lo, hi } => {
                let t = tv.at(x, e);
                let v = vals.get(x)[e];
                if lo == hi {
                    m[e] = T::zero(); // a constant function
                    true
                } else if t == T::zero() {
                    false
                } else {
                    let inside = if v == lo {
                        t > T::zero()
                    } else {
                        t < T::zero()
                    };
                    m[e] = if inside { T::one() } else { T::zero() };
                    true
                }
            }
            Op::Max(a, b) | Op::Min(a, b) => {
                let (ta, tb) = (tv.at(a, e), tv.at(b, e));
                let is_max = matches!(node.op, Op::Max(..));
                if ta == tb {
                    false
                } else {
                    m[e] = if (ta > tb) == is_max {
                        T::one()
                    } else {
                        T::zero()
                    };
                    true
                }
            }
            Op::MaxN { start, len } | Op::MinN { start, len } => {
                let links = &inner.links[start..start + len];
                let n = node.shape.len();
                let best = vals.get(i as u32)[e];
                let is_max = matches!(node.op, Op::MaxN { .. });
                let at = |x: u32| {
                    let v = vals.get(x);
                    if v.len() == 1 {
                        v[0]
                    } else {
                        v[e]
                    }
                };
                let extreme = links
                    .iter()
                    .filter(|&&x| at(x) == best)
                    .map(|&x| tv.at(x, e))
                    .fold(None, |acc: Option<T>, t| {
                        Some(match acc {
                            None => t,
                            Some(a) if is_max => a.max(t),
                            Some(a) => a.min(t),
                        })
                    })
                    .unwrap_or(T::zero());
                let keep = |x: u32| at(x) == best && tv.at(x, e) == extreme;
                let kept = links.iter().filter(|&&x| keep(x)).count();
                let tied = links.iter().filter(|&&x| at(x) == best).count();
                let constant_kept = links.iter().any(|&x| keep(x) && !vals.needs_grad(x));
                let mut weights = TieWeights::new(rules.nary_tie, kept, constant_kept);
                for (j, &x) in links.iter().enumerate() {
                    m[j * n + e] = if keep(x) { weights.next() } else { T::zero() };
                }
                kept < tied
            }
            Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
                let v = vals.get(x);
                let cols = v.len() / node.shape.len().max(1);
                let row = &v[e * cols..(e + 1) * cols];
                let best = vals.get(i as u32)[e];
                let is_max = matches!(node.op, Op::ReduceMax(_) | Op::RowMax(_));
                let t = |c: usize| tv.tan(x).map_or(T::zero(), |t| t[e * cols + c]);
                let mut extreme: Option<T> = None;
                for (c, &val) in row.iter().enumerate() {
                    if val == best {
                        let tc = t(c);
                        extreme = Some(match extreme {
                            None => tc,
                            Some(a) if is_max => a.max(tc),
                            Some(a) => a.min(tc),
                        });
                    }
                }
                let extreme = extreme.unwrap_or(T::zero());
                let keep = |c: usize| row[c] == best && t(c) == extreme;
                let kept = (0..cols).filter(|&c| keep(c)).count();
                let tied = row.iter().filter(|&&val| val == best).count();
                let mut weights = TieWeights::new(rules.reduction_tie, kept, false);
                for c in 0..cols {
                    m[e * cols + c] = if keep(c) { weights.next() } else { T::zero() };
                }
                kept < tied
            }
            _ => false,
        };
        if decided {
            settled[k] = true;
            count += 1;
        }
    }
    count
}

/// The forward-mode rule of node `i`: writes its tangent from its operands' tangents, using the
/// (resolved) masks of kink ops.
fn tangent<T: Real>(
    inner: &Inner<T>,
    i: usize,
    tv: &TanView<'_, T>,
    mask: &[T],
    need: &[bool],
    out: &mut [T],
) -> Result<()> {
    let node = &inner.nodes[i];
    let vals = tv.vals;
    let n = out.len();
    let y = vals.get(i as u32);
    // Operand accessors resolved once (broadcast step, constant tangent 0), and only the needed
    // elements computed: the others are never read.
    let t = |id: u32| Acc::of(tv.tan(id), n);
    let v = |id: u32| Acc::of(Some(vals.get(id)), n);
    let needed = (0..n).filter(|&e| need[e]);
    match node.op {
        Op::Leaf => {}
        Op::Add(a, b) => {
            let (ta, tb) = (t(a), t(b));
            needed.for_each(|e| out[e] = ta.at(e) + tb.at(e));
        }
        Op::Sub(a, b) => {
            let (ta, tb) = (t(a), t(b));
            needed.for_each(|e| out[e] = ta.at(e) - tb.at(e));
        }
        Op::Mul(a, b) => match (tv.tan(a), tv.tan(b), vals.get(a), vals.get(b)) {
            // Data times a variable of the same shape (e.g. y ⊙ X·w): one vectorised pass.
            (None, Some(tb), va, _) if tb.len() == n && va.len() == n => {
                for ((o, &x), &d) in out.iter_mut().zip(va).zip(tb) {
                    *o = x * d;
                }
            }
            (Some(ta), None, _, vb) if ta.len() == n && vb.len() == n => {
                for ((o, &x), &d) in out.iter_mut().zip(vb).zip(ta) {
                    *o = x * d;
                }
            }
            _ => {
                let (ta, tb, va, vb) = (t(a), t(b), v(a), v(b));
                needed.for_each(|e| out[e] = ta.at(e) * vb.at(e) + va.at(e) * tb.at(e));
            }
        },
        Op::Div(a, b) => {
            let (ta, tb, vb) = (t(a), t(b), v(b));
            needed.for_each(|e| out[e] = (ta.at(e) - y[e] * tb.at(e)) / vb.at(e));
        }
        Op::Affine { x, scale } => match tv.tan(x) {
            Some(tx) => {
                for (o, &d) in out.iter_mut().zip(tx) {
                    *o = scale * d;
                }
            }
            None => out.fill(T::zero()),
        },
        Op::Reshape(x) => match tv.tan(x) {
            Some(tx) => out.copy_from_slice(tx),
            None => out.fill(T::zero()),
        },
        Op::Square(x) => {
            let (tx, vx) = (t(x), v(x));
            needed.for_each(|e| out[e] = T::cst(2.0) * vx.at(e) * tx.at(e));
        }
        Op::Sqrt(x) => {
            let tx = t(x);
            needed.for_each(|e| out[e] = T::cst(0.5) * tx.at(e) / y[e]);
        }
        Op::Exp(x) => {
            let tx = t(x);
            needed.for_each(|e| out[e] = y[e] * tx.at(e));
        }
        Op::Ln(x) => {
            let (tx, vx) = (t(x), v(x));
            needed.for_each(|e| out[e] = tx.at(e) / vx.at(e));
        }
        Op::Sum(x) | Op::Mean(x) => {
            let s: T = tv.tan(x).map_or(T::zero(), |t| t.iter().copied().sum());
            let len = vals.shape(x).len();
            out[0] = if matches!(node.op, Op::Mean(_)) {
                s / T::cst(len as f64)
            } else {
                s
            };
        }
        Op::RowSum(x) => {
            let c = vals.shape(x).cols();
            let t = tv.tan(x);
            for (e, o) in out.iter_mut().enumerate() {
                *o = t.map_or(T::zero(), |t| t[e * c..(e + 1) * c].iter().copied().sum());
            }
        }
        Op::Dot(a, b) => {
            let mut s = T::zero();
            if let Some(ta) = tv.tan(a) {
                s += kernels::dot(ta, vals.get(b));
            }
            if let Some(tb) = tv.tan(b) {
                s += kernels::dot(vals.get(a), tb);
            }
            out[0] = s;
        }
        Op::MatVec(a, x) => {
            let c = vals.shape(a).cols();
            let (am, xv) = (vals.get(a), vals.get(x));
            let (ta, tx) = (tv.tan(a), tv.tan(x));
            // The needed rows, four at a time through the blocked kernel.
            match tx {
                Some(tx) => kernels::matvec_rows(am, tx, need, out),
                None => out.fill(T::zero()),
            }
            if let Some(ta) = ta {
                for (row, o) in out.iter_mut().enumerate().filter(|&(e, _)| need[e]) {
                    *o += kernels::dot(&ta[row * c..(row + 1) * c], xv);
                }
            }
        }
        Op::MatMul(a, b) => {
            let (sa, sb) = (vals.shape(a), vals.shape(b));
            let (k, m) = (sa.cols(), sb.cols());
            let (am, bm) = (vals.get(a), vals.get(b));
            let (ta, tb) = (tv.tan(a), tv.tan(b));
            for r in 0..sa.rows() {
                if !any(&need[r * m..(r + 1) * m]) {
                    continue;
                }
                let row = &mut out[r * m..(r + 1) * m];
                row.fill(T::zero());
                for kk in 0..k {
                    if let Some(ta) = ta {
                        kernels::axpy(ta[r * k + kk], &bm[kk * m..(kk + 1) * m], row);
                    }
                    if let Some(tb) = tb {
                        kernels::axpy(am[r * k + kk], &tb[kk * m..(kk + 1) * m], row);
                    }
                }
            }
        }
        Op::SparseMatVec { m, v } => match tv.tan(v) {
            Some(tv) => inner.sparse[m as usize].matvec(tv, Some(need), out),
            None => out.fill(T::zero()),
        },
        Op::Gather { x, start } => {
            let c = vals.shape(x).cols();
            for (e, o) in out.iter_mut().enumerate() {
                *o = tv
                    .tan(x)
                    .map_or(T::zero(), |t| t[e * c + inner.indices[start + e]]);
            }
        }
        Op::Relu(x) | Op::Abs(x) | Op::Clamp { x, .. } => match tv.tan(x) {
            Some(tx) => {
                for ((o, &m), &d) in out.iter_mut().zip(mask).zip(tx) {
                    *o = m * d;
                }
            }
            None => out.fill(T::zero()),
        },
        Op::Max(a, b) | Op::Min(a, b) => {
            let (ta, tb) = (t(a), t(b));
            needed.for_each(|e| out[e] = mask[e] * ta.at(e) + (T::one() - mask[e]) * tb.at(e));
        }
        Op::MaxN { start, len } | Op::MinN { start, len } => {
            let links = &inner.links[start..start + len];
            for (e, o) in out.iter_mut().enumerate() {
                *o = links
                    .iter()
                    .enumerate()
                    .map(|(j, &x)| mask[j * n + e] * tv.at(x, e))
                    .sum();
            }
        }
        Op::ReduceMax(x) | Op::ReduceMin(x) | Op::RowMax(x) | Op::RowMin(x) => {
            let len = vals.shape(x).len();
            let cols = len / n.max(1);
            let t = tv.tan(x);
            for (e, o) in out.iter_mut().enumerate() {
                *o = t.map_or(T::zero(), |t| {
                    (0..cols)
                        .map(|c| mask[e * cols + c] * t[e * cols + c])
                        .sum()
                });
            }
        }
        Op::Custom { op, start, len } => {
            let links = &inner.links[start..start + len];
            out.fill(T::zero());
            let custom = inner.customs[op].as_ref();
            for (j, &x) in links.iter().enumerate() {
                if let Some(t) = tv.tan(x) {
                    crate::custom::tangent(custom, vals, links, j, t, y, out)?;
                }
            }
        }
    }
    Ok(())
}

impl<T: Real> Tape<T> {
    /// Reverse pass whose result provably lies in the Clarke subdifferential of the function
    /// the tape computes; see the [module docs](self) for the method and its conditions.
    ///
    /// With no exact tie on the way, this is [`Tape::backward`], bit for bit.
    ///
    /// # Errors
    /// As [`Tape::backward`], and [`Error::MissingTangent`] if a custom op without a tangent
    /// rule lies between a parameter and a tie.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Certify, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(0.0)?;
    /// let f = x.relu() - (-x).relu(); // = x, so f'(0) = 1
    /// assert_eq!(f.backward()?.wrt(x)[0], 0.0); // any per-op rule is wrong here
    /// let certified = tape.backward_certified(f, Certify::Random { seed: 7 })?;
    /// assert_eq!(certified.wrt(x)[0], 1.0);
    /// assert_eq!(certified.stats.ties, 2);
    /// # Ok(()) }
    /// ```
    pub fn backward_certified(&self, y: Var<'_, T>, how: Certify) -> Result<Certified<T>> {
        let mut gradients = Gradients::new();
        let stats = self.backward_certified_into(y, how, &mut gradients)?;
        Ok(Certified { gradients, stats })
    }

    /// Like [`Tape::backward_certified`], reusing `grads`' buffers.
    ///
    /// # Errors
    /// As [`Tape::backward_certified`].
    pub fn backward_certified_into(
        &self,
        y: Var<'_, T>,
        how: Certify,
        grads: &mut Gradients<T>,
    ) -> Result<CertifyStats> {
        let inner = self.check_root(y, "backward")?;
        let any_tie = inner.nodes[..=y.id as usize]
            .iter()
            .any(|n| n.needs_grad() && n.ties.1 > n.ties.0);
        if !any_tie {
            run_backward(&inner, y.id, &inner.masks, grads)?;
            return Ok(CertifyStats::default());
        }
        let mut pass = Pass::new(
            &inner,
            y.id,
            std::mem::take(&mut *self.scratch.borrow_mut()),
        );
        let ties: usize = pass
            .tied_nodes()
            .map(|i| inner.nodes[i].ties.1 - inner.nodes[i].ties.0)
            .sum();
        if ties == 0 {
            run_backward(&inner, y.id, &inner.masks, grads)?;
            return Ok(CertifyStats::default());
        }
        pass.mark_needs(false);
        let mut stats = CertifyStats {
            ties,
            ..CertifyStats::default()
        };
        match how {
            Certify::Random { seed } => {
                let mut rng = SplitMix(seed);
                pass.set_direction(|_, _| T::cst(rng.next_uniform()));
                stats.resolved = pass.tangent_pass()?;
                stats.passes = 1;
            }
            Certify::Lexicographic => {
                let coords: Vec<(usize, usize)> = inner
                    .nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| matches!(n.op, Op::Leaf) && n.needs_grad())
                    .flat_map(|(i, n)| (0..n.shape.len()).map(move |e| (i, e)))
                    .collect();
                for &(node, elem) in &coords {
                    pass.set_direction(|i, e| {
                        if (i, e) == (node, elem) {
                            T::one()
                        } else {
                            T::zero()
                        }
                    });
                    stats.resolved += pass.tangent_pass()?;
                    stats.passes += 1;
                    if stats.resolved == ties {
                        break;
                    }
                }
            }
        }
        let result = run_backward(&inner, y.id, &pass.masks, grads);
        *self.scratch.borrow_mut() = pass.into_scratch();
        result.map(|()| stats)
    }

    /// The one-sided directional derivative `f'(x; d) = lim_{t↓0} (f(x + t·d) − f(x))/t` of the
    /// scalar `y` along `d`, given per parameter (parameters not listed move by 0).
    ///
    /// Exact one-sided rules at ties: `relu → max(ṫ, 0)`, `abs → |ṫ|`, `max → max(ṫa, ṫb)`,
    /// `min → min`, reductions → the extreme tangent among the tied entries, `clamp` at a bound →
    /// the tangent if it points inside, else 0.
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
            if !matches!(node.op, Op::Leaf) || !node.needs_grad() {
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
        pass.mark_needs(true);
        pass.set_direction(|i, e| dir[i].map_or(T::zero(), |d| d[e]));
        let result = pass.tangent_pass();
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
