//! Kink policies: which element of the subdifferential the engine returns at a non-differentiable
//! point.
//!
//! A policy is chosen per [`Tape`](crate::Tape) and applied during the **forward** pass, where each
//! kink operation records the local derivative it will use (its mask); backward never re-tests a
//! branch.
//!
//! # The kink table
//! ```text
//! rule                              MinNorm        Torch   Jax     Tf      Custom
//! relu'(0)                          0              0       0       0       r ∈ [0, 1]
//! abs'(0)   (also at −0.0)          0              0       1       0       a ∈ [−1, 1]
//! max/min(a, b) tie, both vary      ½ / ½          ½ / ½   ½ / ½   1 / 0   tie split
//! max/min(a, b) tie, b constant     a gets 0       ½       ½       1 (a)   tie split
//! n-ary max/min, k tied inputs      1/k each (0 if a constant ties)
//!                                                  1/k     1/k     1/k     tie split
//! reduction max/min, k tied         1/k            1/k     1/k     1/k     1/k, or first
//! clamp(z, lo, hi) at z = lo or hi  0              0       0       1       c ∈ [0, 1]
//! ```
//! `MinNorm` returns the minimum-norm element of each operation's own (local) subdifferential.
//! That makes `relu(z)`, `max(z, 0)`, `max(0, z)` and `clamp(z, 0, ∞)` agree at `z = 0`.
//!
//! Sources of the presets: PyTorch `threshold_backward` (relu: mask `x > 0`), `sgn` (abs),
//! `maximum` (ties halved), `clamp_backward` with strict bounds at a scalar bound (PyTorch
//! pull request 191142, 2026, which fixed issues 184572 and 184574 so that `clamp(x, 0, 6)` agrees
//! with `relu6`; PyTorch releases before it returned 1 there, which
//! `CustomPolicy::new(0.0, 0.0, TieSplit::Even, 1.0)` reproduces);
//! JAX's `relu` custom JVP (0 at 0), `lax.abs` JVP (`x >= 0`), `_balanced_eq` (ties halved),
//! `lax.clamp` JVP (strict bounds);
//! TensorFlow `ReluGrad` (`x > 0`), `_AbsGrad` (sign), `_MaximumMinimumGrad` (`x >= y`: all to the
//! first argument), `_ClipByValueGrad` (bounds inclusive).
//! All of them spread reduction ties evenly.
//!
//! None of these per-operation choices is a subgradient of every composition;
//! see the crate docs for the certified mode that is.

use crate::{Error, Real, Result};

/// How a tie between the arguments of a `max` or `min` is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TieSplit {
    /// The minimum-norm choice: tied inputs that need gradients share the weight evenly, unless a
    /// constant is tied too, in which case they all get 0 (the constant absorbs the weight).
    MinNorm,
    /// Every tied argument gets `1/k` (the inputs' weights sum to 1), whether or not it is a
    /// constant.
    Even,
    /// The first tied argument (in argument order, or in element order for a reduction) gets
    /// everything.
    First,
}

/// A user-defined kink policy; built with [`CustomPolicy::new`], which checks the ranges.
///
/// # Example
/// ```
/// use autodiff::{CustomPolicy, KinkPolicy, Tape, TieSplit};
/// # fn main() -> autodiff::Result<()> {
/// let policy = CustomPolicy::new(1.0, 0.0, TieSplit::First, 1.0)?; // candle-like relu'(0) = 1
/// let tape = Tape::<f64>::with_policy(KinkPolicy::Custom(policy));
/// let z = tape.param_scalar(0.0)?;
/// let g = z.relu().backward()?;
/// assert_eq!(g.wrt(z)[0], 1.0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomPolicy {
    relu_at_zero: f64,
    abs_at_zero: f64,
    tie: TieSplit,
    clamp_at_bound: f64,
}

impl CustomPolicy {
    /// A policy with `relu'(0) = relu_at_zero ∈ [0, 1]`, `abs'(0) = abs_at_zero ∈ [−1, 1]`,
    /// the given tie split for every `max`/`min`, and `clamp'(z) = clamp_at_bound ∈ [0, 1]` at a
    /// bound.
    ///
    /// All ranges are the local subdifferentials, so every choice is a valid per-operation
    /// subgradient.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if a value is outside its range or not finite.
    pub fn new(
        relu_at_zero: f64,
        abs_at_zero: f64,
        tie: TieSplit,
        clamp_at_bound: f64,
    ) -> Result<Self> {
        let check = |what, value: f64, lo: f64, hi: f64| {
            if value.is_finite() && (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(Error::InvalidArgument {
                    op: "custom policy",
                    what,
                    value,
                })
            }
        };
        check("relu_at_zero", relu_at_zero, 0.0, 1.0)?;
        check("abs_at_zero", abs_at_zero, -1.0, 1.0)?;
        check("clamp_at_bound", clamp_at_bound, 0.0, 1.0)?;
        Ok(CustomPolicy {
            relu_at_zero,
            abs_at_zero,
            tie,
            clamp_at_bound,
        })
    }
}

/// Which subgradient the engine returns at a kink; see the [module docs](self) for the table.
///
/// # Example
/// ```
/// use autodiff::{KinkPolicy, Tape};
/// # fn main() -> autodiff::Result<()> {
/// for (policy, expected) in [(KinkPolicy::MinNorm, 0.0), (KinkPolicy::Jax, 1.0)] {
///     let tape = Tape::<f64>::with_policy(policy);
///     let z = tape.param_scalar(0.0)?;
///     assert_eq!(z.abs().backward()?.wrt(z)[0], expected); // abs'(0)
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum KinkPolicy {
    /// The minimum-norm element of each operation's local subdifferential (the default).
    #[default]
    MinNorm,
    /// PyTorch's conventions.
    Torch,
    /// JAX's conventions.
    Jax,
    /// TensorFlow's conventions.
    Tf,
    /// A user-chosen rule per kink.
    Custom(CustomPolicy),
}

impl KinkPolicy {
    /// The policy's name as used by the CLI and reports: `min-norm`, `torch`, `jax`, `tf`, `custom`.
    pub fn name(&self) -> &'static str {
        match self {
            KinkPolicy::MinNorm => "min-norm",
            KinkPolicy::Torch => "torch",
            KinkPolicy::Jax => "jax",
            KinkPolicy::Tf => "tf",
            KinkPolicy::Custom(_) => "custom",
        }
    }

    pub(crate) fn rules<T: Real>(&self) -> Rules<T> {
        let (relu, abs, binary, nary, reduction, clamp) = match *self {
            KinkPolicy::MinNorm => (
                0.0,
                0.0,
                TieSplit::MinNorm,
                TieSplit::MinNorm,
                TieSplit::Even,
                0.0,
            ),
            KinkPolicy::Torch => (
                0.0,
                0.0,
                TieSplit::Even,
                TieSplit::Even,
                TieSplit::Even,
                0.0,
            ),
            KinkPolicy::Jax => (
                0.0,
                1.0,
                TieSplit::Even,
                TieSplit::Even,
                TieSplit::Even,
                0.0,
            ),
            KinkPolicy::Tf => (
                0.0,
                0.0,
                TieSplit::First,
                TieSplit::Even,
                TieSplit::Even,
                1.0,
            ),
            KinkPolicy::Custom(c) => {
                let reduction = if c.tie == TieSplit::First {
                    TieSplit::First
                } else {
                    TieSplit::Even
                };
                (
                    c.relu_at_zero,
                    c.abs_at_zero,
                    c.tie,
                    c.tie,
                    reduction,
                    c.clamp_at_bound,
                )
            }
        };
        Rules {
            relu_at_zero: T::cst(relu),
            abs_at_zero: T::cst(abs),
            binary_tie: binary,
            nary_tie: nary,
            reduction_tie: reduction,
            clamp_at_bound: T::cst(clamp),
        }
    }
}

/// The weights a tie split gives the `k` tied (or, in the certified mode, kept) entries of an n-ary
/// or reduction `max`/`min`, handed out in entry order by [`TieWeights::next`]:
/// `First` gives 1 to the first and 0 to the rest; `Even` gives `1/k` to each; `MinNorm` gives
/// `1/k` to each, or 0 to all when `k > 1` and a constant is among them.
pub(crate) struct TieWeights<T> {
    split: TieSplit,
    share: T,
    first: bool,
}

impl<T: Real> TieWeights<T> {
    pub(crate) fn new(split: TieSplit, tied: usize, constant_tied: bool) -> Self {
        let share = if split == TieSplit::MinNorm && tied > 1 && constant_tied {
            T::zero()
        } else {
            T::one() / T::cst(tied.max(1) as f64)
        };
        TieWeights {
            split,
            share,
            first: true,
        }
    }

    /// The weight of the next tied entry.
    pub(crate) fn next(&mut self) -> T {
        let first = std::mem::replace(&mut self.first, false);
        match self.split {
            TieSplit::First if first => T::one(),
            TieSplit::First => T::zero(),
            TieSplit::Even | TieSplit::MinNorm => self.share,
        }
    }
}

/// A policy resolved into the numbers the forward pass writes into masks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<T> {
    pub relu_at_zero: T,
    pub abs_at_zero: T,
    pub binary_tie: TieSplit,
    pub nary_tie: TieSplit,
    pub reduction_tie: TieSplit,
    pub clamp_at_bound: T,
}
