//! The passes of the certified mode, none of which knows a primitive: the reverse *need*
//! marking (which tangents the tied elements depend on), the forward tangent pass, and the tie
//! resolution; each asks the node's `Op` for its rule (`need`, `tangent`, `resolve`).

use crate::ops::rule::{Need, TangentCx, Tangents, Tie};
use crate::ops::Op;
use crate::tape::Inner;
use crate::{Real, Result};

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
pub(super) struct Pass<'a, T: Real> {
    pub(super) inner: &'a Inner<T>,
    pub(super) root: u32,
    /// Nodes the root depends on.
    ancestor: Vec<bool>,
    /// Per gradient-slot element: is its tangent needed?
    need: Vec<bool>,
    /// Per node: is any of its tangent needed?
    active: Vec<bool>,
    /// Tangents, laid out like the gradients.
    pub(super) tan: Vec<T>,
    /// Kink masks, resolved at ties.
    pub(super) masks: Vec<T>,
    /// Per tie entry (index into the tape's tie list): resolved by a tangent yet?
    settled: Vec<bool>,
}

impl<'a, T: Real> Pass<'a, T> {
    /// Sets up a pass in the buffers of `scratch` (reused across calls: no allocation once warm).
    pub(super) fn new(inner: &'a Inner<T>, root: u32, scratch: Scratch<T>) -> Self {
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
                inner.nodes[i]
                    .op
                    .for_each_input(inner, |x| ancestor[x as usize] = true);
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
    pub(super) fn into_scratch(self) -> Scratch<T> {
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
    pub(super) fn tied_nodes(&self) -> impl Iterator<Item = usize> + '_ {
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
    pub(super) fn mark_needs(&mut self, seed_root: bool) {
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
            node.op.need(&mut Need {
                inner,
                node: i as u32,
                out,
                lower,
            });
        }
    }

    /// Sets the leaves' tangents to a direction given per parameter element.
    pub(super) fn set_direction(&mut self, mut dir: impl FnMut(usize, usize) -> T) {
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
    pub(super) fn tangent_pass(&mut self) -> Result<usize> {
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
            let tv = Tangents { vals, lower };
            settled += resolve(
                inner,
                i,
                &tv,
                &mut self.masks,
                &mut self.settled,
                &self.need,
            );
            let cx = TangentCx {
                inner,
                node: i as u32,
                tv,
                mask: &self.masks[node.mask..],
                need: &self.need[node.grad..node.grad + n],
            };
            node.op.tangent(&cx, out)?;
        }
        Ok(settled)
    }
}

/// Resolves node `i`'s unsettled, needed ties by its op's rule; returns how many it settled.
fn resolve<T: Real>(
    inner: &Inner<T>,
    i: usize,
    tv: &Tangents<'_, T>,
    masks: &mut [T],
    settled: &mut [bool],
    need: &[bool],
) -> usize {
    let node = &inner.nodes[i];
    let (t0, t1) = node.ties;
    let mut count = 0;
    for (k, &e) in inner.ties.iter().enumerate().take(t1).skip(t0) {
        if settled[k] || !need[node.grad + e] {
            continue;
        }
        let mut tie = Tie {
            inner,
            node: i as u32,
            tv,
            mask: &mut masks[node.mask..],
            e,
        };
        if node.op.resolve(&mut tie) {
            settled[k] = true;
            count += 1;
        }
    }
    count
}
