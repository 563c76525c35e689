//! What a primitive's rules see besides its operands, and the rules several primitives share.
//!
//! Every primitive module holds its own rules: the forward pass (its public method), `backward`
//! (reverse mode, given a [`Sink`]), `tangent` (forward mode, given a [`TangentCx`]), which
//! operand tangents a needed output tangent reads (`need`, given a [`Need`]), and, for a kink
//! primitive, how the certified mode resolves a tie ([`Tie`]) and how far an element is from
//! its kink (`distance`). [`super::dispatch`] only routes each `Op` variant to them.

use super::{Bc, Bcast, Sink};
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
