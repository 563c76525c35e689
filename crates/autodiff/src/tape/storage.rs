//! The tape's storage: flat buffers, the node record, and the split views a step reads and writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::custom::CustomOp;
use crate::ops::Op;
use crate::policy::Rules;
use crate::{Error, KinkPolicy, Real, Result, Shape};

/// Marks a node that needs no gradient (its `grad` offset).
pub(crate) const NO_GRAD: usize = usize::MAX;

static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(1);

pub(super) fn fresh_id() -> u64 {
    NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed)
}

/// Where a node's value lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Storage {
    /// `len` elements of the value arena, from this offset.
    Arena(usize),
    /// An `Arc` the user handed over (zero-copy data).
    Shared(usize),
}

/// One entry of the tape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<T> {
    pub op: Op<T>,
    pub shape: Shape,
    pub value: Storage,
    /// Offset of this node's gradient in [`Gradients`], or [`NO_GRAD`].
    pub grad: usize,
    /// Offset of this node's kink mask (local derivative weights) in the mask arena.
    pub mask: usize,
    /// Range of this node's exact-tie element indices in the tie arena.
    pub ties: (usize, usize),
}

impl<T> Node<T> {
    pub(crate) fn needs_grad(&self) -> bool {
        self.grad != NO_GRAD
    }

    /// A leaf: a constant or a parameter, whose value the caller gave (`Op::Leaf`).
    pub(crate) fn is_leaf(&self) -> bool {
        matches!(self.op, Op::Leaf)
    }

    /// A parameter: a leaf that carries a gradient (what gradients are taken with respect to).
    pub(crate) fn is_param(&self) -> bool {
        self.is_leaf() && self.needs_grad()
    }
}

/// Read access to node values during a forward or backward step.
#[derive(Clone, Copy)]
pub(crate) struct Values<'a, T> {
    pub arena: &'a [T],
    pub shared: &'a [Arc<[T]>],
    pub nodes: &'a [Node<T>],
}

impl<'a, T> Values<'a, T> {
    #[inline]
    pub(crate) fn get(&self, id: u32) -> &'a [T] {
        let node = &self.nodes[id as usize];
        match node.value {
            Storage::Arena(off) => &self.arena[off..off + node.shape.len()],
            Storage::Shared(k) => &self.shared[k][..],
        }
    }

    #[inline]
    pub(crate) fn shape(&self, id: u32) -> Shape {
        self.nodes[id as usize].shape
    }

    #[inline]
    pub(crate) fn needs_grad(&self, id: u32) -> bool {
        self.nodes[id as usize].needs_grad()
    }
}

/// What a forward step may write: the new node's output, its mask and its tie list.
pub(crate) struct Parts<'a, T> {
    pub out: &'a mut [T],
    pub vals: Values<'a, T>,
    pub masks: &'a mut Vec<T>,
    pub ties: &'a mut Vec<usize>,
    pub indices: &'a mut Vec<usize>,
    pub links: &'a [u32],
    pub rules: &'a Rules<T>,
    pub fusion: &'a mut crate::ops::fuse::Fusion<T>,
}

/// The tape's storage; every buffer is cleared, never freed, by [`Tape::clear`](crate::Tape::clear).
pub(crate) struct Inner<T> {
    pub id: u64,
    pub policy: KinkPolicy,
    pub rules: Rules<T>,
    pub nodes: Vec<Node<T>>,
    pub arena: Vec<T>,
    pub shared: Vec<Arc<[T]>>,
    /// The largest `|value|` of each `shared` block (from [`Data`](crate::Data)), for the certified mode.
    pub shared_bounds: Vec<T>,
    pub masks: Vec<T>,
    pub ties: Vec<usize>,
    /// Operand lists of n-ary and custom nodes.
    pub links: Vec<u32>,
    /// Index lists of `gather` nodes.
    pub indices: Vec<usize>,
    /// The sparse constants of `sparse_matvec` nodes.
    pub sparse: Vec<crate::SparseData<T>>,
    pub customs: Vec<Arc<dyn CustomOp<T>>>,
    pub grad_len: usize,
    /// What the tape learnt about its products and this step's fused ones (`ops::fuse`).
    pub fusion: crate::ops::fuse::Fusion<T>,
}

impl<T: Real> Inner<T> {
    #[inline]
    pub(crate) fn values(&self) -> Values<'_, T> {
        Values {
            arena: &self.arena,
            shared: &self.shared,
            nodes: &self.nodes,
        }
    }

    #[inline]
    pub(crate) fn node(&self, id: u32) -> &Node<T> {
        &self.nodes[id as usize]
    }

    /// Makes room in the arena for `len` more values, or returns a typed error: called before
    /// pushing a node whose size is not bounded by an existing operand's (leaves, `matmul`,
    /// custom ops), so an impossible allocation is an error, not an abort.
    pub(crate) fn reserve(&mut self, op: &'static str, len: usize) -> Result<()> {
        let fail = || Error::Allocation {
            op,
            elements: len,
            bytes: len.saturating_mul(std::mem::size_of::<T>()),
        };
        self.arena.len().checked_add(len).ok_or_else(fail)?;
        self.arena.try_reserve(len).map_err(|_| fail())
    }

    /// Appends a node whose value will be computed into the arena; returns its id.
    #[inline]
    pub(crate) fn push(&mut self, op: Op<T>, shape: Shape, needs_grad: bool) -> u32 {
        let len = shape.len();
        let off = self.arena.len();
        self.arena.resize(off + len, T::zero());
        let grad = if needs_grad {
            let g = self.grad_len;
            self.grad_len += len;
            g
        } else {
            NO_GRAD
        };
        let id = self.nodes.len() as u32;
        let ties = self.ties.len();
        self.nodes.push(Node {
            op,
            shape,
            value: Storage::Arena(off),
            grad,
            mask: self.masks.len(),
            ties: (ties, ties),
        });
        id
    }

    /// Splits the storage so the last node's output can be written while inputs are read.
    #[inline]
    pub(crate) fn parts(&mut self) -> Parts<'_, T> {
        let node = self.nodes.last().expect("parts() follows push()");
        let off = match node.value {
            Storage::Arena(off) => off,
            Storage::Shared(_) => unreachable!("computed nodes live in the arena"),
        };
        let (arena, out) = self.arena.split_at_mut(off);
        Parts {
            out,
            vals: Values {
                arena,
                shared: &self.shared,
                nodes: &self.nodes,
            },
            masks: &mut self.masks,
            ties: &mut self.ties,
            indices: &mut self.indices,
            links: &self.links,
            rules: &self.rules,
            fusion: &mut self.fusion,
        }
    }

    /// Closes the last node's tie range.
    #[inline]
    pub(crate) fn finish(&mut self, id: u32) -> u32 {
        let end = self.ties.len();
        self.nodes[id as usize].ties.1 = end;
        id
    }
}
