//! `Var`, the `Copy` handle to a node, and its operator overloads.

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::{Error, Gradients, Real, Result, Shape, Tape};

/// Identifies a node on its tape (its position in push order).
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let x = tape.param_scalar(1.0)?;
/// assert_eq!(x.id().index(), 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's position on the tape.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// A handle to a value on a [`Tape`]: `Copy`, two words, valid while the tape is borrowed.
///
/// Arithmetic operators build new nodes: `+ − * /` are elementwise, broadcasting a scalar, or a
/// vector along a matrix's rows or columns, as [`Shape`] describes; a plain number (`T`) on
/// either side is folded into the node.
///
/// # Panics
/// The operators panic on a shape mismatch or on handles from different tapes, with the message
/// of the [`Error`] that the fallible twins ([`Var::try_add`], [`Var::try_sub`], [`Var::try_mul`],
/// [`Var::try_div`]) return.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let x = tape.param_scalar(3.0)?;
/// let y = x * x + 2.0 * x; // y = x² + 2x, y' = 2x + 2
/// assert_eq!(y.item(), 15.0);
/// assert_eq!(y.backward()?.wrt(x)[0], 8.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct Var<'t, T: Real = f64> {
    pub(crate) tape: &'t Tape<T>,
    pub(crate) id: u32,
}

impl<T: Real> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.tape.borrow();
        let node = inner.node(self.id);
        write!(f, "Var(%{} {} {}", self.id, node.op.name(), node.shape)?;
        let v = inner.values().get(self.id);
        if v.len() <= 8 {
            write!(f, " {v:?})")
        } else {
            write!(f, " [{}, {}, …])", v[0], v[1])
        }
    }
}

impl<'t, T: Real> Var<'t, T> {
    /// The tape this handle belongs to.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(1.0)?;
    /// assert!(std::ptr::eq(x.tape(), &tape));
    /// # Ok(()) }
    /// ```
    pub fn tape(self) -> &'t Tape<T> {
        self.tape
    }

    /// The node's identity on its tape.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(1.0)?;
    /// let y = x.relu();
    /// assert_eq!(tape.kinks_near(2.0).sites()[0].node, y.id());
    /// # Ok(()) }
    /// ```
    pub fn id(self) -> NodeId {
        NodeId(self.id)
    }

    /// The node's shape.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Shape, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, 2.0])?;
    /// assert_eq!(x.sum().shape(), Shape::scalar());
    /// # Ok(()) }
    /// ```
    pub fn shape(self) -> Shape {
        self.tape.borrow().node(self.id).shape
    }

    /// Whether a gradient flows to this node (it depends on a parameter).
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let c = tape.constant_scalar(1.0)?;
    /// let x = tape.param_scalar(1.0)?;
    /// assert!(!(c * 2.0).requires_grad());
    /// assert!((c * x).requires_grad());
    /// # Ok(()) }
    /// ```
    pub fn requires_grad(self) -> bool {
        self.tape.borrow().node(self.id).needs_grad()
    }

    /// A copy of the node's value, row-major.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[-1.0, 2.0])?;
    /// assert_eq!(x.relu().value(), vec![0.0, 2.0]);
    /// # Ok(()) }
    /// ```
    pub fn value(self) -> Vec<T> {
        self.tape.borrow().values().get(self.id).to_vec()
    }

    /// The single element of a one-element node.
    ///
    /// # Errors
    /// [`Error::NotScalar`] if the node holds more or fewer than one element.
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_vec(&[1.0, 2.0])?;
    /// assert_eq!(x.sum().try_item()?, 3.0);
    /// assert!(x.try_item().is_err());
    /// # Ok(()) }
    /// ```
    pub fn try_item(self) -> Result<T> {
        let inner = self.tape.borrow();
        let v = inner.values().get(self.id);
        if v.len() == 1 {
            Ok(v[0])
        } else {
            Err(Error::NotScalar {
                shape: inner.node(self.id).shape,
            })
        }
    }

    /// The single element of a one-element node.
    ///
    /// # Panics
    /// If the node does not hold exactly one element (see [`Var::try_item`]).
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// assert_eq!(tape.param_scalar(4.0)?.sqrt().item(), 2.0);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn item(self) -> T {
        unwrap_op(self.try_item())
    }

    /// Reverse pass from this scalar node; see [`Tape::backward`].
    ///
    /// # Errors
    /// As [`Tape::backward`].
    ///
    /// # Example
    /// ```
    /// use autodiff::Tape;
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(3.0)?;
    /// assert_eq!(x.square().backward()?.wrt(x)[0], 6.0);
    /// # Ok(()) }
    /// ```
    pub fn backward(self) -> Result<Gradients<T>> {
        self.tape.backward(self)
    }

    /// Checks that `other` lives on the same tape.
    pub(crate) fn same_tape(self, other: Var<'_, T>, op: &'static str) -> Result<()> {
        if std::ptr::eq(self.tape, other.tape) {
            Ok(())
        } else {
            Err(Error::ForeignVar { op })
        }
    }
}

/// Something that can stand on either side of a `max`/`min`: a [`Var`] or a plain number, which
/// becomes a scalar constant node.
///
/// # Example
/// ```
/// use autodiff::Tape;
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let z = tape.param_vec(&[-1.0, 2.0])?;
/// assert_eq!(z.max(0.0).value(), vec![0.0, 2.0]);
/// # Ok(()) }
/// ```
pub trait Operand<'t, T: Real> {
    /// This operand as a node of `tape`.
    ///
    /// # Errors
    /// [`Error::ForeignVar`] for a handle of another tape; [`Error::NonFinite`] for a NaN or
    /// infinite number.
    fn to_var(self, tape: &'t Tape<T>, op: &'static str) -> Result<Var<'t, T>>;
}

impl<'t, T: Real> Operand<'t, T> for Var<'t, T> {
    fn to_var(self, tape: &'t Tape<T>, op: &'static str) -> Result<Var<'t, T>> {
        if std::ptr::eq(self.tape, tape) {
            Ok(self)
        } else {
            Err(Error::ForeignVar { op })
        }
    }
}

impl<'t, T: Real> Operand<'t, T> for T {
    fn to_var(self, tape: &'t Tape<T>, _op: &'static str) -> Result<Var<'t, T>> {
        tape.constant_scalar(self)
    }
}

/// The panicking shorthands' unwrap: the panic names the caller's line (`#[track_caller]` on
/// every layer up to the public method) and carries the `try_` twin's error message.
#[track_caller]
pub(crate) fn unwrap_op<V>(r: Result<V>) -> V {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

macro_rules! var_var_op {
    ($trait:ident, $method:ident, $try:ident) => {
        impl<'t, T: Real> $trait for Var<'t, T> {
            type Output = Var<'t, T>;
            #[track_caller]
            fn $method(self, rhs: Var<'t, T>) -> Var<'t, T> {
                unwrap_op(self.$try(rhs))
            }
        }
    };
}
var_var_op!(Add, add, try_add);
var_var_op!(Sub, sub, try_sub);
var_var_op!(Mul, mul, try_mul);
var_var_op!(Div, div, try_div);

impl<'t, T: Real> Add<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    /// `x + c`, an affine node.
    ///
    /// # Panics
    /// If `c` is NaN or infinite (see [`Var::try_affine`]).
    #[track_caller]
    fn add(self, c: T) -> Var<'t, T> {
        self.affine(T::one(), c)
    }
}

impl<'t, T: Real> Sub<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    /// `x − c`, an affine node.
    ///
    /// # Panics
    /// If `c` is NaN or infinite (see [`Var::try_affine`]).
    #[track_caller]
    fn sub(self, c: T) -> Var<'t, T> {
        self.affine(T::one(), -c)
    }
}

impl<'t, T: Real> Mul<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    /// `c·x`, an affine node.
    ///
    /// # Panics
    /// If `c` is NaN or infinite (see [`Var::try_affine`]).
    #[track_caller]
    fn mul(self, c: T) -> Var<'t, T> {
        self.affine(c, T::zero())
    }
}

impl<'t, T: Real> Div<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    /// `x / c`, an affine node with scale `1/c`.
    ///
    /// # Panics
    /// If `c` is 0, NaN or infinite, with the message of [`Var::try_div_scalar`], its fallible
    /// twin.
    #[track_caller]
    fn div(self, c: T) -> Var<'t, T> {
        unwrap_op(self.try_div_scalar(c))
    }
}

impl<'t, T: Real> Neg for Var<'t, T> {
    type Output = Var<'t, T>;
    /// `−x`, an affine node with scale −1.
    #[track_caller]
    fn neg(self) -> Var<'t, T> {
        self.affine(-T::one(), T::zero())
    }
}

macro_rules! scalar_lhs_ops {
    ($($t:ty),*) => {$(
        impl<'t> Add<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn add(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.affine(1.0, self)
            }
        }
        impl<'t> Sub<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn sub(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.affine(-1.0, self)
            }
        }
        impl<'t> Mul<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            #[track_caller]
            fn mul(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.affine(self, 0.0)
            }
        }
        impl<'t> Div<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            /// `c / x`.
            ///
            /// # Panics
            /// If `self` is not finite or an element of `x` is 0 (see [`Var::try_div`]).
            #[track_caller]
            fn div(self, x: Var<'t, $t>) -> Var<'t, $t> {
                let c = unwrap_op(x.tape.constant_scalar(self));
                unwrap_op(c.try_div(x))
            }
        }
    )*};
}
scalar_lhs_ops!(f32, f64);
