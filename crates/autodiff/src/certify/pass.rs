//! The passes of the certified mode, none of which knows a primitive: the magnitude bounds and
//! the near-tie candidates, the reverse *need* marking (which tangents the tied elements depend
//! on), the forward magnitude pass and the exact near-tie test, the forward tangent pass and the
//! tie resolution; each asks the node's `Op` for its rule (`bound`, `near`, `need`, `magnitude`,
//! `is_near`, `tangent`, `resolve`).

use crate::ops::rule::{Need, TangentCx, Tangents, Tie};
use crate::tape::{Inner, Storage};
use crate::{Real, Result};

/// Buffers of the certified mode, kept by the tape between calls, and its tie tolerance.
#[derive(Debug, Default)]
pub(crate) struct Scratch<T> {
    ancestor: Vec<bool>,
    need: Vec<bool>,
    active: Vec<bool>,
    tan: Vec<T>,
    mag: Vec<T>,
    bounds: Vec<T>,
    masks: Vec<T>,
    entries: Vec<Entry>,
    candidates: Vec<usize>,
    /// The relative tie tolerance τ; `None` for the default, 4 ε.
    pub(super) tau: Option<T>,
}

/// One tie to resolve: a kink node's output element, exact or within the tolerance.
#[derive(Debug, Clone, Copy)]
struct Entry {
    node: u32,
    e: usize,
    /// Within the tolerance, not exactly on the kink.
    near: bool,
    /// Decided by a direction.
    settled: bool,
    /// Narrowed (an n-ary tie whose still-tied entries are the weighted ones).
    narrowed: bool,
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
    /// Magnitudes, laid out like the gradients (computed only at needed elements).
    mag: Vec<T>,
    /// Per node: a bound of its elements' magnitudes (computed for the ancestors only).
    bounds: Vec<T>,
    /// Kink masks, resolved at ties.
    pub(super) masks: Vec<T>,
    /// The ties to resolve, in node order.
    entries: Vec<Entry>,
    candidates: Vec<usize>,
    tau: Option<T>,
    /// Whether `mag` holds the magnitudes of the needed elements.
    mags_ready: bool,
}

impl<'a, T: Real> Pass<'a, T> {
    /// Sets up a pass in the buffers of `scratch` (reused across calls: no allocation once warm).
    pub(super) fn new(inner: &'a Inner<T>, root: u32, scratch: Scratch<T>) -> Self {
        let Scratch {
            mut ancestor,
            mut need,
            mut active,
            mut tan,
            mut mag,
            bounds,
            masks,
            mut entries,
            candidates,
            tau,
        } = scratch;
        let refill = |v: &mut Vec<bool>, n: usize| {
            v.clear();
            v.resize(n, false);
        };
        refill(&mut ancestor, inner.nodes.len());
        // `need` and `active` are filled by `mark_needs`, which a tape without ties never runs.
        need.clear();
        active.clear();
        // Tangents and magnitudes are written before they are read at every needed element, so
        // a buffer of the right length is reused without zeroing (stale entries sit only where
        // nothing reads).
        for buf in [&mut tan, &mut mag] {
            if buf.len() != inner.grad_len {
                buf.clear();
                buf.resize(inner.grad_len, T::zero());
            }
        }
        ancestor[root as usize] = true;
        for i in (0..=root as usize).rev() {
            if ancestor[i] {
                inner.nodes[i]
                    .op
                    .for_each_input(inner, |x| ancestor[x as usize] = true);
            }
        }
        entries.clear();
        let mut pass = Pass {
            inner,
            root,
            ancestor,
            need,
            active,
            tan,
            mag,
            bounds,
            masks,
            entries,
            candidates,
            tau,
            mags_ready: false,
        };
        let tied: Vec<usize> = pass.tied_nodes().collect();
        for i in tied {
            let node = &inner.nodes[i];
            for &e in &inner.ties[node.ties.0..node.ties.1] {
                pass.entries.push(Entry::new(i as u32, e, false));
            }
        }
        pass
    }

    /// Hands the buffers (and the tolerance) back for the next pass.
    pub(super) fn into_scratch(self) -> Scratch<T> {
        Scratch {
            ancestor: self.ancestor,
            need: self.need,
            active: self.active,
            tan: self.tan,
            mag: self.mag,
            bounds: self.bounds,
            masks: self.masks,
            entries: self.entries,
            candidates: self.candidates,
            tau: self.tau,
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

    /// Exact ties and near ties to resolve.
    pub(super) fn tie_count(&self) -> (usize, usize) {
        let near = self.entries.iter().filter(|t| t.near).count();
        (self.entries.len() - near, near)
    }

    /// Ties decided by a direction.
    pub(super) fn settled(&self) -> usize {
        self.entries.iter().filter(|t| t.settled).count()
    }

    /// The ties as `(node, element, near)`, in node order.
    pub(super) fn ties(&self) -> impl Iterator<Item = (u32, usize, bool)> + '_ {
        self.entries.iter().map(|t| (t.node, t.e, t.near))
    }

    fn slot(&self, id: u32) -> Option<(usize, usize)> {
        let node = self.inner.node(id);
        node.needs_grad().then(|| (node.grad, node.shape.len()))
    }

    /// Finds the near ties within the relative tolerance `tau` and adds them to the ties; then
    /// marks the tangents every tie depends on. The candidates come from the magnitude bounds
    /// (one comparison per element of each kink node the root depends on); only they have
    /// their magnitudes computed, over the elements they depend on, and the exact test decides.
    pub(super) fn find_near_ties(&mut self, tau: T) {
        let inner = self.inner;
        let root = self.root as usize;
        let mut all = std::mem::take(&mut self.entries);
        // A candidate that is an exact tie already (an n-ary tie with a further entry close to
        // the winner) adds no entry but needs the magnitudes for its resolution.
        let mut mags_needed = false;
        if tau > T::zero() {
            self.compute_bounds();
            let exact = all.len();
            let mut k = 0;
            for i in 0..=root {
                let node = &inner.nodes[i];
                if !self.ancestor[i] || !node.needs_grad() || !node.op.is_kink() {
                    continue;
                }
                self.candidates.clear();
                node.op
                    .near(inner, i as u32, &self.bounds, tau, &mut self.candidates);
                // Exact ties (in node order, like the candidates) are already entries.
                while k < exact && (all[k].node as usize) < i {
                    k += 1;
                }
                let first = k;
                while k < exact && all[k].node as usize == i {
                    k += 1;
                }
                for &e in &self.candidates {
                    if all[first..k].iter().any(|t| t.e == e) {
                        mags_needed = true;
                    } else {
                        all.push(Entry::new(i as u32, e, true));
                    }
                }
            }
            // Node order, exact before near within a node (the sort is stable).
            all.sort_by_key(|t| t.node);
        }
        let has_near = all.iter().any(|t| t.near);
        self.entries = all;
        if self.entries.is_empty() {
            return;
        }
        self.copy_masks();
        self.mark_needs(false);
        if has_near || mags_needed {
            self.magnitude_pass();
            self.mags_ready = true;
            let mut entries = std::mem::take(&mut self.entries);
            entries.retain(|t| !t.near || self.is_near(t.node, t.e, tau));
            self.entries = entries;
        }
    }

    /// Starts the resolved masks from the forward pass's.
    pub(super) fn copy_masks(&mut self) {
        self.masks.clear();
        self.masks.extend_from_slice(&self.inner.masks);
    }

    /// Every ancestor's magnitude bound, in node order.
    fn compute_bounds(&mut self) {
        let inner = self.inner;
        let vals = inner.values();
        self.bounds.clear();
        self.bounds.resize(inner.nodes.len(), T::zero());
        for i in 0..=self.root as usize {
            if !self.ancestor[i] {
                continue;
            }
            let node = &inner.nodes[i];
            self.bounds[i] = match node.value {
                Storage::Shared(k) => inner.shared_bounds[k],
                Storage::Arena(_) if node.is_leaf() => {
                    crate::ops::rule::max_abs(vals.get(i as u32))
                }
                Storage::Arena(_) => node.op.bound(inner, i as u32, &self.bounds),
            };
        }
    }

    /// The magnitudes of the needed elements, forward.
    fn magnitude_pass(&mut self) {
        let inner = self.inner;
        let vals = inner.values();
        for i in 0..=self.root as usize {
            if !self.active[i] {
                continue;
            }
            let node = &inner.nodes[i];
            let n = node.shape.len();
            let (lower, upper) = self.mag.split_at_mut(node.grad);
            let out = &mut upper[..n];
            if node.is_leaf() {
                for (o, v) in out.iter_mut().zip(vals.get(i as u32)) {
                    *o = v.abs();
                }
                continue;
            }
            let cx = TangentCx {
                inner,
                node: i as u32,
                tv: Tangents { vals, lower },
                mask: &self.masks[node.mask..],
                need: &self.need[node.grad..node.grad + n],
                bounds: &self.bounds,
            };
            node.op.magnitude(&cx, out);
        }
    }

    /// The exact near-tie test of element `e` of kink node `i`, with the magnitudes.
    fn is_near(&self, i: u32, e: usize, tau: T) -> bool {
        let inner = self.inner;
        let node = inner.node(i);
        let n = node.shape.len();
        let cx = TangentCx {
            inner,
            node: i,
            tv: Tangents {
                vals: inner.values(),
                lower: &self.mag,
            },
            mask: &self.masks[node.mask..],
            need: &self.need[node.grad..node.grad + n],
            bounds: &self.bounds,
        };
        node.op.is_near(&cx, e, tau)
    }

    /// Marks the tangents the ties (or the whole root) depend on.
    pub(super) fn mark_needs(&mut self, seed_root: bool) {
        let inner = self.inner;
        self.need.clear();
        self.need.resize(inner.grad_len, false);
        self.active.clear();
        self.active.resize(inner.nodes.len(), false);
        if seed_root {
            if let Some((off, _)) = self.slot(self.root) {
                self.need[off] = true;
            }
        }
        for t in &self.entries {
            self.need[inner.node(t.node).grad + t.e] = true;
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
            if node.is_param() {
                for e in 0..node.shape.len() {
                    self.tan[node.grad + e] = dir(i, e);
                }
            }
        }
    }

    /// The gradient slots of the parameter elements the ties depend on, in parameter order.
    pub(super) fn needed_coordinates(&self) -> Vec<usize> {
        let inner = self.inner;
        let mut out = Vec::new();
        for node in &inner.nodes[..=self.root as usize] {
            if node.is_param() {
                let slots = node.grad..node.grad + node.shape.len();
                out.extend(slots.filter(|&k| self.need[k]));
            }
        }
        out
    }

    /// Sets one parameter element's tangent (by its gradient slot).
    pub(super) fn set_tangent(&mut self, slot: usize, value: T) {
        self.tan[slot] = value;
    }

    /// One forward tangent pass; resolves the unsettled ties it can, with tangents equal up to
    /// `tau` counting as equal. Returns how many it settled.
    pub(super) fn tangent_pass(&mut self, tau: T) -> Result<usize> {
        let inner = self.inner;
        let vals = inner.values();
        let mags = Tangents {
            vals,
            lower: &self.mag,
        };
        let mut settled = 0;
        let mut k = 0;
        for i in 0..=self.root as usize {
            if !self.active[i] {
                continue;
            }
            let node = &inner.nodes[i];
            if node.is_leaf() {
                continue;
            }
            let n = node.shape.len();
            let (lower, upper) = self.tan.split_at_mut(node.grad);
            let out = &mut upper[..n];
            let tv = Tangents { vals, lower };
            while k < self.entries.len() && (self.entries[k].node as usize) < i {
                k += 1;
            }
            while k < self.entries.len() && self.entries[k].node as usize == i {
                let t = &mut self.entries[k];
                k += 1;
                if t.settled {
                    continue;
                }
                let mut tie = Tie {
                    inner,
                    node: i as u32,
                    tv: &tv,
                    mask: &mut self.masks[node.mask..],
                    e: t.e,
                    mags: self.mags_ready.then_some(&mags),
                    tau,
                    bounds: if self.mags_ready { &self.bounds } else { &[] },
                    narrowed: t.narrowed,
                };
                if node.op.resolve(&mut tie) {
                    t.settled = true;
                    settled += 1;
                }
                t.narrowed = tie.narrowed;
            }
            let cx = TangentCx {
                inner,
                node: i as u32,
                tv,
                mask: &self.masks[node.mask..],
                need: &self.need[node.grad..node.grad + n],
                bounds: &[],
            };
            node.op.tangent(&cx, out)?;
        }
        Ok(settled)
    }
}

impl Entry {
    fn new(node: u32, e: usize, near: bool) -> Self {
        Entry {
            node,
            e,
            near,
            settled: false,
            narrowed: false,
        }
    }
}
