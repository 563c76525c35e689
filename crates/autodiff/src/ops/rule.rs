//! What a primitive's rules see besides its operands, and the rules several primitives share.
//!
//! Every primitive module holds its own rules: the forward pass (its public method), `backward`
//! (reverse mode, given a [`Sink`]), `tangent` (forward mode, given a [`TangentCx`]), which
//! operand tangents a needed output tangent reads (`need`, given a [`Need`]), and, for a kink
//! primitive, how the certified mode resolves a tie ([`Tie`]) and how far an element is from
//! its kink (`distance`). [`super::dispatch`] only routes each `Op` variant to them.
//!
//! For the certified mode's tie tolerance every primitive also has a `magnitude` rule: the scale
//! `m(y)` its rounding errors are relative to, from its operands' (`m(a + b) = m(a) + m(b)`,
//! `m(a·b) = m(a)·m(b)`, `m(f(x)) = |f'(x)|·m(x) + |f(x)|` for a smooth `f`, …; a leaf that
//! carries no gradient has `m = |value|`, a computed one its bound), computed per element over the needed elements like a
//! tangent ([`TangentCx`] with the magnitudes in place of the tangents), and a `bound` rule, a
//! number `≥ m` of every element of the node, from its operands' bounds, that costs O(1) for
//! the linear primitives so the tolerance check of a tape without near ties is one comparison
//! per kink element. A kink primitive has `near` (the elements within the tolerance by the
//! bounds: candidates) and `is_near` (the exact test with the magnitudes).

use super::{kernels, Bc, Bcast, Sink};
use crate::tape::{Inner, Values};
use crate::{Real, Shape};

/// An operand's tangent or value as an elementwise node's output elements read it (its
/// [`Bcast`]); a constant's tangent is 0.
#[derive(Clone, Copy)]
pub(crate) struct Acc<'a, T>(Option<Bc<'a, T>>);

impl<'a, T: Real> Acc<'a, T> {
    pub(crate) fn of(s: Option<&'a [T]>, how: Bcast) -> Self {
        Acc(s.map(|s| Bc::new(s, how)))
    }

    /// The element output element `e` reads (0 for a constant's tangent).
    #[inline]
    pub(crate) fn at(&self, e: usize) -> T {
        self.0.map_or(T::zero(), |b| b.at(e))
    }
}

/// Read access to every node's value and to the tangents computed so far (those of the nodes
/// below the current one).
pub(crate) struct Tangents<'a, T> {
    pub vals: Values<'a, T>,
    pub lower: &'a [T],
}

impl<T: Real> Tangents<'_, T> {
    /// The tangent of operand `id` (`None` for a constant: tangent 0).
    pub(crate) fn tan(&self, id: u32) -> Option<&[T]> {
        let node = &self.vals.nodes[id as usize];
        node.needs_grad()
            .then(|| &self.lower[node.grad..node.grad + node.shape.len()])
    }

    /// The tangent of operand `id` at output element `i`, broadcasting scalars.
    pub(crate) fn at(&self, id: u32, i: usize) -> T {
        match self.tan(id) {
            None => T::zero(),
            Some(t) if t.len() == 1 => t[0],
            Some(t) => t[i],
        }
    }

    /// The tangent of operand `id` as an elementwise output of shape `out` reads it.
    pub(crate) fn acc(&self, id: u32, out: Shape) -> Acc<'_, T> {
        Acc::of(self.tan(id), Bcast::of(self.vals, id, out))
    }
}

/// The forward-mode step of one node: the operands' tangents, its (resolved) kink mask, and
/// which of its output tangents are needed (only those must be written).
pub(crate) struct TangentCx<'a, T> {
    pub inner: &'a Inner<T>,
    /// The node being computed.
    pub node: u32,
    pub tv: Tangents<'a, T>,
    pub mask: &'a [T],
    pub need: &'a [bool],
    /// Per node, the magnitude bound (in the magnitude pass; empty elsewhere): the magnitude
    /// of a computed node that carries no gradient, whose elements have none of their own.
    pub bounds: &'a [T],
}

impl<'a, T: Real> TangentCx<'a, T> {
    /// Operand `id`'s tangent as the node's `n` output elements read it (broadcasting by the
    /// shapes, [`Bcast`]).
    pub(crate) fn t(&self, id: u32, n: usize) -> Acc<'_, T> {
        debug_assert_eq!(n, self.need.len());
        self.tv.acc(id, self.tv.vals.shape(self.node))
    }

    /// Operand `id`'s value as the node's `n` output elements read it.
    pub(crate) fn v(&self, id: u32, n: usize) -> Acc<'a, T> {
        debug_assert_eq!(n, self.need.len());
        let vals = self.tv.vals;
        Acc::of(
            Some(vals.get(id)),
            Bcast::of(vals, id, vals.shape(self.node)),
        )
    }

    /// The node's own value.
    pub(crate) fn y(&self) -> &'a [T] {
        self.tv.vals.get(self.node)
    }

    /// The output elements whose tangent is needed.
    pub(crate) fn needed(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.need.len()).filter(|&e| self.need[e])
    }
}

/// An operand's magnitudes as an output element reads them: from the magnitude buffer if the
/// operand carries a gradient slot; else its bound if it is computed (a cancellation among
/// constants rounds too) and the bounds are known; else `|value|` (a leaf is exact).
#[derive(Clone, Copy)]
pub(crate) struct Mag<'a, T> {
    buf: Option<Bc<'a, T>>,
    bound: Option<T>,
    val: Bc<'a, T>,
}

impl<T: Real> Mag<'_, T> {
    /// The magnitude output element `e` reads.
    #[inline]
    pub(crate) fn at(&self, e: usize) -> T {
        match (self.buf, self.bound) {
            (Some(b), _) => b.at(e),
            (None, Some(u)) => u,
            (None, None) => self.val.at(e).abs(),
        }
    }
}

impl<'a, T: Real> TangentCx<'a, T> {
    /// Operand `id`'s magnitudes (the pass's `tv.lower` holds magnitudes) as the node's
    /// elementwise output reads them.
    pub(crate) fn m(&self, id: u32) -> Mag<'_, T> {
        let vals = self.tv.vals;
        let how = Bcast::of(vals, id, vals.shape(self.node));
        Mag {
            buf: self.tv.tan(id).map(|s| Bc::new(s, how)),
            bound: computed_bound(vals, self.bounds, id),
            val: Bc::new(vals.get(id), how),
        }
    }

    /// Operand `id`'s magnitudes element by element, in its own layout.
    pub(crate) fn m_raw(&self, id: u32) -> Mag<'_, T> {
        let vals = self.tv.vals;
        Mag {
            buf: self.tv.tan(id).map(|s| Bc::new(s, Bcast::Same)),
            bound: computed_bound(vals, self.bounds, id),
            val: Bc::new(vals.get(id), Bcast::Same),
        }
    }

    /// The magnitude of a smooth elementwise `y = f(x)`: `|f'(x)|·m(x) + |y|` at the needed
    /// elements, `f'` given per element (first-order error propagation plus the rounding of `f`).
    pub(crate) fn smooth_magnitude(&self, x: u32, out: &mut [T], derivative: impl Fn(usize) -> T) {
        let (mx, y) = (self.m(x), self.y());
        self.needed()
            .for_each(|e| out[e] = derivative(e).abs() * mx.at(e) + y[e].abs());
    }

    /// The magnitude of an op that passes each element through with a weight of at most `k` in
    /// absolute value (`relu`, `abs`, `clamp`, `leaky_relu`, reshapes): `k·m(x)`.
    pub(crate) fn scaled_magnitude(&self, x: u32, k: T, out: &mut [T]) {
        let mx = self.m(x);
        self.needed().for_each(|e| out[e] = k * mx.at(e));
    }
}

/// The bound that stands for the magnitudes of node `id` if it is computed (not a leaf) and
/// carries no gradient, when the bounds are known.
pub(crate) fn computed_bound<T: Real>(vals: Values<'_, T>, bounds: &[T], id: u32) -> Option<T> {
    let node = &vals.nodes[id as usize];
    (!node.needs_grad() && !node.is_leaf())
        .then(|| bounds.get(id as usize).copied())
        .flatten()
}

/// The bound of a smooth elementwise `y = f(x)` from `x`'s bound `ux`: the largest
/// `|f'(x)|·ux + |y|` over the elements (one pass over the node).
pub(crate) fn smooth_bound<T: Real>(
    vals: Values<'_, T>,
    node: u32,
    ux: T,
    derivative: impl Fn(usize) -> T,
) -> T {
    vals.get(node)
        .iter()
        .enumerate()
        .fold(T::zero(), |acc, (e, y)| {
            acc.max(derivative(e).abs() * ux + y.abs())
        })
}

/// The largest `|v|` (0 for no element).
pub(crate) fn max_abs<T: Real>(v: &[T]) -> T {
    v.iter().fold(T::zero(), |acc, x| acc.max(x.abs()))
}

/// Whether `d` (a distance to a kink, not 0: exact ties are recorded already) is within
/// `tau·m`. A magnitude that overflowed says nothing, so it makes no near tie.
#[inline]
pub(crate) fn within<T: Real>(d: T, tau: T, m: T) -> bool {
    d > T::zero() && m.is_finite() && d <= tau * m
}

/// The candidates of a kink at 0 (`relu`, `abs`, `leaky_relu`): `0 < |x| ≤ τ·bound(x)`.
pub(crate) fn near_zero<T: Real>(vals: Values<'_, T>, x: u32, tau: T, ux: T, out: &mut Vec<usize>) {
    let limit = tau * ux;
    let hit = |v: &T| {
        let d = v.abs();
        d <= limit && d > T::zero()
    };
    let v = vals.get(x);
    // A branch-free count first: on a tape without near ties this is the whole cost.
    if kernels::count_near_zero(v, limit) == 0 {
        return;
    }
    out.extend((0..v.len()).filter(|&e| hit(&v[e])));
}

/// The exact test of a kink at 0: `|x| ≤ τ·m(x)`.
pub(crate) fn is_near_zero<T: Real>(cx: &TangentCx<'_, T>, x: u32, e: usize, tau: T) -> bool {
    within(cx.v(x, cx.need.len()).at(e).abs(), tau, cx.m(x).at(e))
}

/// The need marking of one node: which operand tangents its needed output tangents read.
pub(crate) struct Need<'a, T> {
    pub inner: &'a Inner<T>,
    /// The node being marked.
    pub node: u32,
    /// The needed output tangents.
    pub out: &'a [bool],
    /// The need flags of every gradient slot below the node.
    pub lower: &'a mut [bool],
}

impl<T: Real> Need<'_, T> {
    /// Operand `id`'s gradient slot (offset, length), if it carries one.
    pub(crate) fn slot(&self, id: u32) -> Option<(usize, usize)> {
        let node = &self.inner.nodes[id as usize];
        node.needs_grad().then_some((node.grad, node.shape.len()))
    }

    /// Elementwise: output element `e` reads the operand element its [`Bcast`] says (`e`, the
    /// scalar, or the entry of its row or column).
    pub(crate) fn elementwise(&mut self, id: u32) {
        if let Some((off, len)) = self.slot(id) {
            let nodes = &self.inner.nodes;
            let how = Bcast::new(nodes[id as usize].shape, nodes[self.node as usize].shape);
            let dst = &mut self.lower[off..off + len];
            match how {
                Bcast::Same => {
                    for (d, &o) in dst.iter_mut().zip(self.out) {
                        *d |= o;
                    }
                }
                Bcast::Scalar => {
                    if self.out.iter().any(|&b| b) {
                        dst.fill(true);
                    }
                }
                Bcast::PerRow { .. } | Bcast::PerColumn { .. } => {
                    for (e, &o) in self.out.iter().enumerate() {
                        if o {
                            dst[how.index(e)] = true;
                        }
                    }
                }
            }
        }
    }

    /// Every element of operand `id` (reductions, dot products, custom ops).
    pub(crate) fn all(&mut self, id: u32) {
        if let Some((off, len)) = self.slot(id) {
            self.lower[off..off + len].fill(true);
        }
    }

    /// Output element `i` reads row `i` of the matrix `id` (row reductions).
    pub(crate) fn rows(&mut self, id: u32) {
        if let Some((off, len)) = self.slot(id) {
            let c = len / self.out.len().max(1);
            for (i, &o) in self.out.iter().enumerate() {
                if o {
                    self.lower[off + i * c..off + (i + 1) * c].fill(true);
                }
            }
        }
    }
}

/// One exact tie of a kink node, to be resolved by the operands' tangents: the rule sets the
/// node's mask at the tied element and reports whether the tangents decided it (`false` when
/// they are equal: the policy's split stays).
pub(crate) struct Tie<'a, 'm, T> {
    pub inner: &'a Inner<T>,
    /// The kink node.
    pub node: u32,
    pub tv: &'a Tangents<'a, T>,
    /// The node's mask (from its offset on).
    pub mask: &'m mut [T],
    /// The tied output element.
    pub e: usize,
    /// The magnitudes (laid out like the tangents), for the tolerance of n-ary ties; `None`
    /// when they were not computed (no element was within the tolerance by the bounds, so the
    /// tied entries are the equal ones).
    pub mags: Option<&'a Tangents<'a, T>>,
    /// The relative tie tolerance τ (0 in the exact modes).
    pub tau: T,
    /// Per node, the magnitude bounds (empty when the magnitudes were not computed).
    pub bounds: &'a [T],
    /// An earlier direction narrowed this n-ary tie: the entries still tied are those with a
    /// non-zero weight (a rule that narrows a tie without deciding it sets this).
    pub narrowed: bool,
}

impl<T: Real> Tie<'_, '_, T> {
    /// Operand `id`'s magnitude at the tied element (broadcast like its values), if computed.
    pub(crate) fn mag(&self, id: u32) -> Option<T> {
        let vals = self.tv.vals;
        let how = Bcast::of(vals, id, vals.shape(self.node));
        let bound = computed_bound(vals, self.bounds, id);
        self.mags.map(|mags| match (mags.tan(id), bound) {
            (Some(m), _) => m[how.index(self.e)],
            (None, Some(u)) => u,
            (None, None) => vals.get(id)[how.index(self.e)].abs(),
        })
    }

    /// Whether an entry at distance `d` from the winner is tied with it: equal, or within
    /// `τ·(m(entry) + m(winner))` when the magnitudes are known.
    pub(crate) fn tied(&self, d: T, m_entry: Option<T>, m_winner: Option<T>) -> bool {
        match (m_entry, m_winner) {
            _ if d == T::zero() => true,
            (Some(a), Some(b)) => within(d, self.tau, a + b),
            _ => false,
        }
    }

    /// Whether two tangents are equal up to the tolerance: `|s − t| ≤ τ·(|s| + |t|)`.
    pub(crate) fn same(&self, s: T, t: T) -> bool {
        (s - t).abs() <= self.tau * (s.abs() + t.abs())
    }
}

/// The backward rule of every op whose local derivative is its mask: `∂x += mask ⊙ g`
/// (`relu`, `abs`, `clamp`, `leaky_relu`).
pub(crate) fn mask_backward<T: Real>(s: &mut Sink<'_, T>, x: u32, mask: &[T], g: &[T]) {
    if let Some(gx) = s.grad(x) {
        for ((d, &m), &gi) in gx.iter_mut().zip(mask).zip(g) {
            *d += m * gi;
        }
    }
}

/// The tangent rule of the same ops: `ẏ = mask ⊙ ẋ`.
pub(crate) fn mask_tangent<T: Real>(cx: &TangentCx<'_, T>, x: u32, out: &mut [T]) {
    match cx.tv.tan(x) {
        Some(tx) => {
            for ((o, &m), &d) in out.iter_mut().zip(cx.mask).zip(tx) {
                *o = m * d;
            }
        }
        None => out.fill(T::zero()),
    }
}

/// `|x|` per element: the kink distance of ops whose kink is at 0 (`relu`, `abs`, …).
pub(crate) fn distance_from_zero<T: Real>(vals: Values<'_, T>, x: u32, out: &mut Vec<T>) {
    out.extend(vals.get(x).iter().map(|v| v.abs()));
}

/// The branches a tied element has, for the exact subdifferential
/// (`Tape::subdifferential`): what a primitive's `branch` rule reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pieces {
    /// Two branches, each affine in the op's inputs; near the tie the op is their maximum
    /// (`convex`) or their minimum (not `convex`).
    Two {
        /// The op is the larger of its two branches near the tie.
        convex: bool,
    },
    /// More than two branches meet at the tie (a max of `count` tied inputs).
    Many {
        /// The number of tied branches.
        count: usize,
    },
    /// The op is not piecewise affine at the tie (`norm` at the zero vector).
    Curved,
}

/// One tied element whose mask a `branch` rule sets to branch 0 or 1 (for [`Pieces::Two`];
/// it leaves the mask alone otherwise).
pub(crate) struct Branch<'a, 'm, T> {
    pub vals: Values<'a, T>,
    /// The kink node.
    pub node: u32,
    /// The node's mask (from its offset on).
    pub mask: &'m mut [T],
    /// The tied output element.
    pub e: usize,
    /// The branch to select: 0 or 1.
    pub which: usize,
}

/// The `branch` rule of the ops whose local derivative is one mask entry per element: branch
/// 0 has the local derivative `lo`, branch 1 `hi` (`relu`, `abs`, `clamp`, `leaky_relu`).
pub(crate) fn mask_branch<T: Real>(
    b: &mut Branch<'_, '_, T>,
    lo: T,
    hi: T,
    convex: bool,
) -> Pieces {
    b.mask[b.e] = if b.which == 1 { hi } else { lo };
    Pieces::Two { convex }
}

/// The bound of an op whose every output element is one of its operand's elements, or a mean
/// or a one-sided pick of them (`reshape`, `transpose`, `slice`, `gather`, `mean`, `relu`, `abs`,
/// `clamp`, the reductions): the operand's bound.
pub(crate) fn operand_bound<T: Real>(u: &[T], x: u32) -> T {
    u[x as usize]
}

/// The bound of an op whose output elements are each one of several operands' (`max`, `min`,
/// `max_n`, `min_n`, `concat`): the largest operand bound.
pub(crate) fn largest_bound<T: Real>(u: &[T], xs: &[u32]) -> T {
    xs.iter().fold(T::zero(), |acc, &x| acc.max(u[x as usize]))
}
