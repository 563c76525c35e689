//! The tape (a Wengert list): nodes in a `Vec`, values in one arena, backward as one reverse loop.

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::custom::CustomOp;
use crate::data::check_finite;
use crate::ops::{self, Op};
use crate::policy::Rules;
use crate::{Data, Error, KinkPolicy, Real, Result, Shape, Var};

/// Marks a node that needs no gradient (its `grad` offset).
pub(crate) const NO_GRAD: usize = usize::MAX;

static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(1);

fn fresh_id() -> u64 {
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
}

/// The tape's storage; every buffer is cleared, never freed, by [`Tape::clear`].
pub(crate) struct Inner<T> {
    pub id: u64,
    pub policy: KinkPolicy,
    pub rules: Rules<T>,
    pub nodes: Vec<Node<T>>,
    pub arena: Vec<T>,
    pub shared: Vec<Arc<[T]>>,
    /// The largest `|value|` of each `shared` block (from [`Data`]), for the certified mode.
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

/// A reverse-mode autodiff tape over values of type `T` (`f32` or `f64`).
///
/// Operations on [`Var`] handles append nodes; [`Tape::backward`] walks the nodes once in reverse.
/// Push order is already a topological order, so backward needs no recursion, no sorting and no
/// hash map, and a chain of a million operations differentiates in constant stack space.
///
/// Values are dense and up to 2-D ([`Shape`]), so a whole data set is one node.
/// The tape's [`KinkPolicy`] decides which subgradient kinked operations use; each kink operation
/// records its branch (a mask) and its exact ties during the forward pass.
///
/// # Reuse
/// [`Tape::clear`] empties the tape but keeps every buffer, so a training loop that clears the
/// tape and reuses one [`Gradients`] with [`Tape::backward_into`] allocates nothing per step after
/// the first.
///
/// # Example
/// ```
/// use approx::assert_relative_eq;
/// use autodiff::{Shape, Tape};
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
/// let w = tape.param_vec(&[0.5, -1.0])?;
/// let y = tape.constant_vec(&[1.0, -1.0])?;
/// // mean hinge loss: mean(relu(1 − y ⊙ (X·w)))
/// let loss = (1.0 - y * x.matvec(w)).relu().mean();
/// let grads = loss.backward()?;
/// // margins: y·Xw = (−1.5, 2.5) → only the first example is violated:
/// // ∂/∂w = −(1/2)·y₀·x₀ = −½·(1, 2)
/// assert_relative_eq!(grads.wrt(w)[0], -0.5);
/// assert_relative_eq!(grads.wrt(w)[1], -1.0);
/// # Ok(()) }
/// ```
pub struct Tape<T: Real = f64> {
    pub(crate) inner: RefCell<Inner<T>>,
    /// Buffers of the certified mode, reused between calls.
    pub(crate) scratch: RefCell<crate::certify::Scratch<T>>,
}

impl<T: Real> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Real> fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("Tape")
            .field("type", &T::NAME)
            .field("policy", &inner.policy)
            .field("nodes", &inner.nodes.len())
            .field("values", &inner.arena.len())
            .finish()
    }
}

/// Sizes of a tape's buffers, for memory reports.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// let tape = Tape::<f64>::new();
/// let stats = tape.stats();
/// assert_eq!(stats.nodes, 0);
/// assert!(stats.bytes_per_node > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapeStats {
    /// Nodes on the tape.
    pub nodes: usize,
    /// Elements in the value arena (shared constants are not counted).
    pub values: usize,
    /// Elements in the mask arena.
    pub masks: usize,
    /// Fixed bookkeeping bytes per node (the node record itself).
    pub bytes_per_node: usize,
    /// Bytes held now by nodes, values, masks and tie lists (lengths, not capacities).
    pub bytes: usize,
    /// Bytes reserved by the same buffers (their capacities): what [`Tape::clear`] keeps for
    /// the next computation.
    pub capacity_bytes: usize,
}

impl<T: Real> Tape<T> {
    /// An empty tape with the default [`KinkPolicy::MinNorm`].
    ///
    /// # Example
    /// ```
    /// use autodiff::{KinkPolicy, Tape};
    /// let tape = Tape::<f32>::new();
    /// assert_eq!(tape.policy(), KinkPolicy::MinNorm);
    /// assert!(tape.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_policy(KinkPolicy::MinNorm)
    }

    /// An empty tape using `policy` at every kink.
    ///
    /// # Example
    /// ```
    /// use autodiff::{KinkPolicy, Tape};
    /// let tape = Tape::<f64>::with_policy(KinkPolicy::Torch);
    /// assert_eq!(tape.policy().name(), "torch");
    /// ```
    pub fn with_policy(policy: KinkPolicy) -> Self {
        Tape {
            inner: RefCell::new(Inner {
                id: fresh_id(),
                policy,
                rules: policy.rules(),
                nodes: Vec::new(),
                arena: Vec::new(),
                shared: Vec::new(),
                shared_bounds: Vec::new(),
                masks: Vec::new(),
                ties: Vec::new(),
                links: Vec::new(),
                indices: Vec::new(),
                sparse: Vec::new(),
                customs: Vec::new(),
                grad_len: 0,
            }),
            scratch: RefCell::new(crate::certify::Scratch::default()),
        }
    }

    /// The kink policy in force.
    ///
    /// # Example
    /// ```
    /// use autodiff::{KinkPolicy, Tape};
    /// assert_eq!(Tape::<f64>::with_policy(KinkPolicy::Tf).policy(), KinkPolicy::Tf);
    /// ```
    pub fn policy(&self) -> KinkPolicy {
        self.inner.borrow().policy
    }

    /// Empties the tape and switches to `policy` (no handle can be alive: this takes `&mut self`).
    ///
    /// # Example
    /// ```
    /// use autodiff::{KinkPolicy, Tape};
    /// let mut tape = Tape::<f64>::new();
    /// tape.set_policy(KinkPolicy::Jax);
    /// assert_eq!(tape.policy(), KinkPolicy::Jax);
    /// ```
    pub fn set_policy(&mut self, policy: KinkPolicy) {
        self.clear();
        let inner = self.inner.get_mut();
        inner.policy = policy;
        inner.rules = policy.rules();
    }

    /// Removes every node but keeps the buffers' capacity, so rebuilding the same computation
    /// allocates nothing.
    ///
    /// Taking `&mut self` means no [`Var`] of the old contents can outlive this call.
    /// [`Gradients`] computed before are detected as stale by [`Gradients::try_wrt`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let mut tape = Tape::<f64>::new();
    /// tape.param_scalar(1.0)?;
    /// tape.clear();
    /// assert!(tape.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn clear(&mut self) {
        let inner = self.inner.get_mut();
        inner.id = fresh_id();
        inner.nodes.clear();
        inner.arena.clear();
        inner.shared.clear();
        inner.shared_bounds.clear();
        inner.masks.clear();
        inner.ties.clear();
        inner.links.clear();
        inner.indices.clear();
        inner.sparse.clear();
        inner.customs.clear();
        inner.grad_len = 0;
    }

    /// Number of nodes on the tape.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(1.0)?;
    /// let _y = x.relu();
    /// assert_eq!(tape.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.inner.borrow().nodes.len()
    }

    /// Whether the tape has no node.
    ///
    /// # Example
    /// ```
    /// assert!(autodiff::Tape::<f64>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer sizes, including the bookkeeping bytes per node.
    pub fn stats(&self) -> TapeStats {
        let inner = self.inner.borrow();
        let t = std::mem::size_of::<T>();
        let bytes_per_node = std::mem::size_of::<Node<T>>();
        TapeStats {
            nodes: inner.nodes.len(),
            values: inner.arena.len(),
            masks: inner.masks.len(),
            bytes_per_node,
            bytes: inner.nodes.len() * bytes_per_node
                + (inner.arena.len() + inner.masks.len()) * t
                + inner.ties.len() * std::mem::size_of::<usize>(),
            capacity_bytes: inner.nodes.capacity() * bytes_per_node
                + (inner.arena.capacity() + inner.masks.capacity()) * t
                + inner.ties.capacity() * std::mem::size_of::<usize>(),
        }
    }

    #[inline]
    pub(crate) fn borrow(&self) -> Ref<'_, Inner<T>> {
        self.inner.borrow()
    }

    #[inline]
    pub(crate) fn borrow_mut(&self) -> RefMut<'_, Inner<T>> {
        self.inner.borrow_mut()
    }

    #[inline]
    pub(crate) fn var(&self, id: u32) -> Var<'_, T> {
        Var { tape: self, id }
    }

    fn leaf(
        &self,
        op: &'static str,
        values: &[T],
        shape: Shape,
        needs_grad: bool,
    ) -> Result<Var<'_, T>> {
        if values.len() != shape.len() {
            return Err(Error::DataLength {
                op,
                shape,
                len: values.len(),
            });
        }
        check_finite(op, values)?;
        let mut inner = self.borrow_mut();
        inner.reserve(op, shape.len())?;
        let id = inner.push(Op::Leaf, shape, needs_grad);
        inner.parts().out.copy_from_slice(values);
        Ok(self.var(id))
    }

    /// A parameter: a leaf whose gradient is computed.
    ///
    /// # Errors
    /// [`Error::DataLength`] if `values.len() != shape.len()`;
    /// [`Error::NonFinite`] if a value is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let w = tape.param(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
    /// assert!(w.requires_grad());
    /// assert!(tape.param(&[1.0], Shape::vector(2)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn param(&self, values: &[T], shape: Shape) -> Result<Var<'_, T>> {
        self.leaf("param", values, shape, true)
    }

    /// A parameter vector; see [`Tape::param`].
    ///
    /// # Errors
    /// [`Error::NonFinite`] if a value is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// assert_eq!(tape.param_vec(&[1.0, 2.0])?.shape(), Shape::vector(2));
    /// # Ok(()) }
    /// ```
    pub fn param_vec(&self, values: &[T]) -> Result<Var<'_, T>> {
        self.param(values, Shape::vector(values.len()))
    }

    /// A scalar parameter; see [`Tape::param`].
    ///
    /// # Errors
    /// [`Error::NonFinite`] if the value is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// assert_eq!(tape.param_scalar(2.5)?.item(), 2.5);
    /// assert!(tape.param_scalar(f64::NAN).is_err());
    /// # Ok(()) }
    /// ```
    pub fn param_scalar(&self, value: T) -> Result<Var<'_, T>> {
        self.param(&[value], Shape::scalar())
    }

    /// A constant (data): a leaf that needs no gradient. Its values are copied into the tape.
    ///
    /// # Errors
    /// [`Error::DataLength`] if `values.len() != shape.len()`;
    /// [`Error::NonFinite`] if a value is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&[1.0, 2.0], Shape::matrix(1, 2))?;
    /// assert!(!x.requires_grad());
    /// # Ok(()) }
    /// ```
    pub fn constant(&self, values: &[T], shape: Shape) -> Result<Var<'_, T>> {
        self.leaf("constant", values, shape, false)
    }

    /// A constant vector; see [`Tape::constant`].
    ///
    /// # Errors
    /// [`Error::NonFinite`] if a value is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// assert_eq!(tape.constant_vec(&[1.0, 2.0])?.value(), vec![1.0, 2.0]);
    /// # Ok(()) }
    /// ```
    pub fn constant_vec(&self, values: &[T]) -> Result<Var<'_, T>> {
        self.constant(values, Shape::vector(values.len()))
    }

    /// A scalar constant; see [`Tape::constant`].
    ///
    /// # Errors
    /// [`Error::NonFinite`] if the value is NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(3.0)?;
    /// let c = tape.constant_scalar(2.0)?;
    /// assert_eq!((x * c).backward()?.wrt(x)[0], 2.0);
    /// # Ok(()) }
    /// ```
    pub fn constant_scalar(&self, value: T) -> Result<Var<'_, T>> {
        self.constant(&[value], Shape::scalar())
    }

    /// A constant that shares validated [`Data`] instead of copying it: no copy and no check
    /// per call, so a tape rebuilt every training step can hold a large data matrix for free.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Data, Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let x = Data::new(vec![1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
    /// let tape = Tape::<f64>::new();
    /// assert_eq!(tape.data(&x).value(), vec![1.0, 2.0, 3.0, 4.0]);
    /// # Ok(()) }
    /// ```
    pub fn data(&self, data: &Data<T>) -> Var<'_, T> {
        let mut inner = self.borrow_mut();
        let k = inner.shared.len();
        inner.shared.push(Arc::clone(data.shared()));
        inner.shared_bounds.push(data.max_abs());
        let id = inner.nodes.len() as u32;
        let (mask, ties) = (inner.masks.len(), inner.ties.len());
        inner.nodes.push(Node {
            op: Op::Leaf,
            shape: data.shape(),
            value: Storage::Shared(k),
            grad: NO_GRAD,
            mask,
            ties: (ties, ties),
        });
        self.var(id)
    }

    /// Reverse pass from the scalar node `y`: returns `∂y/∂p` for every parameter `p`.
    ///
    /// Can be called any number of times, from any scalar node; values are not changed.
    ///
    /// # Errors
    /// [`Error::ForeignVar`] if `y` belongs to another tape; [`Error::NotScalar`] if `y` holds
    /// more than one element; [`Error::NonFinite`] if `y` or a parameter's gradient is NaN or
    /// infinite; [`Error::MissingBackward`] if a custom op on the path has no backward rule.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, -2.0])?;
    /// let y = x.square().sum(); // ∂y/∂x = 2x
    /// assert_eq!(tape.backward(y)?.wrt(x), &[2.0, -4.0]);
    /// assert!(tape.backward(x).is_err()); // not a scalar
    /// # Ok(()) }
    /// ```
    pub fn backward(&self, y: Var<'_, T>) -> Result<Gradients<T>> {
        let mut grads = Gradients::new();
        self.backward_into(y, &mut grads)?;
        Ok(grads)
    }

    /// Like [`Tape::backward`], but reuses `grads`' buffers (no allocation once they are large
    /// enough).
    ///
    /// # Errors
    /// As [`Tape::backward`].
    ///
    /// # Example
    /// ```
    /// use autodiff::{Gradients, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// let mut grads = Gradients::new();
    /// tape.backward_into(x.square(), &mut grads)?;
    /// assert_eq!(grads.wrt(x)[0], 4.0);
    /// # Ok(()) }
    /// ```
    pub fn backward_into(&self, y: Var<'_, T>, grads: &mut Gradients<T>) -> Result<()> {
        let inner = self.check_root(y, "backward")?;
        run_backward(&inner, y.id, &inner.masks, grads)
    }

    /// Borrows the tape after checking that `y` is a finite one-element node of it.
    pub(crate) fn check_root(&self, y: Var<'_, T>, op: &'static str) -> Result<Ref<'_, Inner<T>>> {
        if !std::ptr::eq(y.tape, self) {
            return Err(Error::ForeignVar { op });
        }
        let inner = self.borrow();
        let root = inner.node(y.id);
        if root.shape.len() != 1 {
            return Err(Error::NotScalar { shape: root.shape });
        }
        let value = inner.values().get(y.id)[0];
        if !value.is_finite() {
            return Err(Error::NonFinite {
                op,
                index: 0,
                value: value.to_f64_lossless(),
            });
        }
        Ok(inner)
    }
}

/// The reverse pass from `root` with the given kink masks, into `grads`.
pub(crate) fn run_backward<T: Real>(
    inner: &Inner<T>,
    root: u32,
    masks: &[T],
    grads: &mut Gradients<T>,
) -> Result<()> {
    grads.tape = inner.id;
    grads.data.clear();
    grads.data.resize(inner.grad_len, T::zero());
    grads.touched.clear();
    grads.touched.resize(inner.nodes.len(), false);
    let node = inner.node(root);
    if !node.needs_grad() {
        return Ok(());
    }
    grads.data[node.grad] = T::one();
    grads.touched[root as usize] = true;
    ops::backward(inner, root, masks, &mut grads.data, &mut grads.touched)?;
    check_param_grads(inner, grads)
}

pub(crate) fn check_param_grads<T: Real>(inner: &Inner<T>, grads: &Gradients<T>) -> Result<()> {
    for node in &inner.nodes {
        if matches!(node.op, Op::Leaf) && node.needs_grad() {
            let g = &grads.data[node.grad..node.grad + node.shape.len()];
            check_finite("backward", g)?;
        }
    }
    Ok(())
}

/// The result of a reverse pass: one gradient buffer per node that needs a gradient.
///
/// Reuse one `Gradients` across training steps with [`Tape::backward_into`].
///
/// # Example
/// ```
/// use autodiff::{Gradients, Tape};
/// # fn main() -> autodiff::Result<()> {
/// let mut tape = Tape::<f64>::new();
/// let mut grads = Gradients::new();
/// for step in 0..3 {
///     tape.clear();
///     let w = tape.param_scalar(step as f64)?;
///     let y = w * w; // ∂y/∂w = 2w
///     tape.backward_into(y, &mut grads)?;
///     assert_eq!(grads.wrt(w)[0], 2.0 * step as f64);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Gradients<T> {
    pub(crate) tape: u64,
    pub(crate) data: Vec<T>,
    pub(crate) touched: Vec<bool>,
}

impl<T: Real> Gradients<T> {
    /// Empty gradients, to be filled by [`Tape::backward_into`].
    ///
    /// # Example
    /// ```
    /// let g = autodiff::Gradients::<f64>::new();
    /// let _ = g;
    /// ```
    pub fn new() -> Self {
        Gradients {
            tape: 0,
            data: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// The gradient with respect to `x`, with `x`'s shape (row-major), or an error.
    ///
    /// Nodes that the output does not depend on have a zero gradient.
    ///
    /// # Errors
    /// [`Error::NoGradient`] if `x` is a constant (or computed only from constants), or belongs to
    /// another tape or to an earlier use of a cleared tape; [`Error::StaleGradients`] if `x` was
    /// created after the backward pass that filled these gradients.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// let c = tape.constant_scalar(1.0)?;
    /// let g = (x * c).backward()?;
    /// assert_eq!(g.try_wrt(x)?, &[1.0]);
    /// assert!(g.try_wrt(c).is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_wrt(&self, x: Var<'_, T>) -> Result<&[T]> {
        let inner = x.tape.borrow();
        let node = inner.node(x.id);
        if inner.id != self.tape || !node.needs_grad() {
            return Err(Error::NoGradient {
                node: x.id as usize,
            });
        }
        // A parameter pushed after this backward has a gradient offset past the buffer.
        self.data
            .get(node.grad..node.grad + node.shape.len())
            .ok_or(Error::StaleGradients {
                node: x.id as usize,
            })
    }

    /// The gradient with respect to `x`; see [`Gradients::try_wrt`].
    ///
    /// # Panics
    /// If [`Gradients::try_wrt`] fails: `x` is a constant or from another tape.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(2.0)?;
    /// assert_eq!((x * 3.0).backward()?.wrt(x), &[3.0]);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn wrt(&self, x: Var<'_, T>) -> &[T] {
        crate::var::unwrap_op(self.try_wrt(x))
    }
}
