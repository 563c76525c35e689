//! The tape (a Wengert list): nodes in a `Vec`, values in one arena, backward as one reverse loop.
//!
//! `mod.rs` holds [`Tape`] itself (construction, policy, clearing, sizes, leaves), `storage.rs`
//! the buffers behind it ([`Inner`], [`Node`], [`Values`], [`Parts`]) and `backward.rs` the
//! reverse pass and its result, [`Gradients`].

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::sync::Arc;

use crate::data::check_finite;
use crate::ops::Op;
use crate::{Data, Error, KinkPolicy, Real, Result, Shape, Var};

mod backward;
mod storage;

pub(crate) use backward::run_backward;
pub use backward::Gradients;
use storage::fresh_id;
pub(crate) use storage::{Inner, Node, Parts, Storage, Values, NO_GRAD};

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
    /// Products `X·w` whose forward pass also computed their backward `Xᵀg`, read `X` once for
    /// both (fusion, from the second step of a training loop that reuses the tape; see
    /// `ARCHITECTURE.md`, "Fusion").
    pub fused_products: usize,
    /// Backward passes since [`Tape::clear`] that used such a precomputed `Xᵀg` (its `g` was the
    /// one predicted; otherwise the backward computes `Xᵀg` itself, with the same result).
    pub fused_backward: usize,
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
                fusion: Default::default(),
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

    /// When this tape fuses a data product with the loss after it ([`Fuse::Auto`](crate::Fuse::Auto) unless set).
    ///
    /// # Example
    /// ```
    /// use autodiff::{Fuse, Tape};
    /// assert_eq!(Tape::<f64>::new().fusion(), Fuse::Auto);
    /// ```
    pub fn fusion(&self) -> crate::Fuse {
        self.inner.borrow().fusion.mode
    }

    /// Sets when this tape fuses `X·w` with the loss after it (see [`Fuse`](crate::Fuse)). Results are the
    /// same bits in every mode; only the time differs. Kept by [`Tape::clear`].
    ///
    /// # Example
    /// ```
    /// use autodiff::{Fuse, Tape};
    /// let mut tape = Tape::<f64>::new();
    /// tape.set_fusion(Fuse::Never);
    /// assert_eq!(tape.fusion(), Fuse::Never);
    /// ```
    pub fn set_fusion(&mut self, mode: crate::Fuse) {
        self.inner.get_mut().fusion.mode = mode;
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
        inner.fusion.clear();
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
            fused_products: inner.fusion.fused(),
            fused_backward: inner.fusion.used(),
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
}
