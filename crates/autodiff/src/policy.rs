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
//! leaky_relu_α'(0), θ = weight of 1  min-norm (*)    α       1       α       α + θ(1 − α), θ ∈ [0, 1]
//! norm(x) at x = 0 (the unit ball)  0              0       0       0       0
//! ```
//! (*) The minimum-norm element of `[min(α, 1), max(α, 1)]`: `α` for `0 ≤ α ≤ 1`, `0` for `α < 0`,
//! `1` for `α > 1` (that is, `α` clamped into `[0, 1]`), computed from `α` in the forward pass.
//! `MinNorm` returns the minimum-norm element of each operation's own (local) subdifferential.
//! That makes `relu(z)`, `max(z, 0)`, `max(0, z)` and `clamp(z, 0, ∞)` agree at `z = 0`.
//!
//! Sources of the presets: PyTorch `threshold_backward` (relu: mask `x > 0`), `sgn` (abs),
//! `maximum` (ties halved), `clamp_backward` with strict bounds at a scalar bound (PyTorch
//! pull request 191142, 2026, which fixed issues 184572 and 184574 so that `clamp(x, 0, 6)` agrees
//! with `relu6`; PyTorch releases before it returned 1 there, which
//! `CustomPolicy::builder().tie(TieSplit::Even).clamp_at_bound(1.0)` reproduces);
//! JAX's `relu` custom JVP (0 at 0), `lax.abs` JVP (`x >= 0`), `_balanced_eq` (ties halved),
//! `lax.clamp` JVP (strict bounds);
//! TensorFlow `ReluGrad` (`x > 0`), `_AbsGrad` (sign), `_MaximumMinimumGrad` (`x >= y`: all to the
//! first argument), `_ClipByValueGrad` (bounds inclusive).
//! All of them spread reduction ties evenly.
//! `leaky_relu`: PyTorch's `leaky_relu_backward_kernel` (`aten/src/ATen/native/cpu/Activation.cpp`:
//! `a > 0 ? grad : grad * negval`, so α at 0), JAX's `jax.nn.leaky_relu`
//! (`jax/_src/nn/functions.py`: `jnp.where(x >= 0, x, negative_slope * x)`, so 1 at 0), and
//! TensorFlow's `LeakyReluGrad` functor (`tensorflow/core/kernels/relu_op_functor.h`:
//! `(features > 0).select(gradients, gradients * alpha)`, so α at 0).
//! `norm` at 0 is not a policy rule: every preset (and every custom policy) returns the
//! minimum-norm element 0 of the unit ball, as PyTorch's `norm_backward` does for p = 2
//! (`(self / norm).masked_fill_(norm == 0, 0)` in `torch/csrc/autograd/FunctionsManual.cpp`);
//! JAX's `jnp.linalg.norm` and TensorFlow's `tf.norm` are `sqrt(Σ x·x̄)`, whose chain rule gives
//! NaN there.
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

/// A user-defined kink policy, built by name with [`CustomPolicy::builder`] (every rule not set
/// keeps its `MinNorm` value, so a rule added in a later version breaks no caller), or with
/// [`CustomPolicy::new`] for the four original rules; both check the ranges.
///
/// # Example
/// ```
/// use autodiff::{CustomPolicy, KinkPolicy, Tape, TieSplit};
/// # fn main() -> autodiff::Result<()> {
/// let policy = CustomPolicy::builder().relu_at_zero(1.0).tie(TieSplit::First).build()?; // candle-like
/// assert_eq!(policy, CustomPolicy::new(1.0, 0.0, TieSplit::First, 0.0)?);
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
    /// `None`: the minimum-norm element, which depends on `α`.
    leaky_relu_at_zero: Option<f64>,
}

/// Builds a [`CustomPolicy`] rule by rule; see [`CustomPolicy::builder`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CustomPolicyBuilder {
    policy: CustomPolicy,
}

impl CustomPolicyBuilder {
    /// `relu'(0) ∈ [0, 1]` (default 0).
    pub fn relu_at_zero(mut self, value: f64) -> Self {
        self.policy.relu_at_zero = value;
        self
    }

    /// `abs'(0) ∈ [−1, 1]` (default 0).
    pub fn abs_at_zero(mut self, value: f64) -> Self {
        self.policy.abs_at_zero = value;
        self
    }

    /// The tie split of every `max`/`min` (default [`TieSplit::MinNorm`]; reductions split
    /// evenly unless this is [`TieSplit::First`]).
    pub fn tie(mut self, split: TieSplit) -> Self {
        self.policy.tie = split;
        self
    }

    /// `clamp'` at a bound, `∈ [0, 1]` (default 0).
    pub fn clamp_at_bound(mut self, value: f64) -> Self {
        self.policy.clamp_at_bound = value;
        self
    }

    /// The weight `θ ∈ [0, 1]` of the positive side in `leaky_relu_α'(0) = α + θ(1 − α)`
    /// (default: the minimum-norm element of `[min(α, 1), max(α, 1)]`, which depends on `α`).
    ///
    /// # Example
    /// ```
    /// use autodiff::{CustomPolicy, KinkPolicy, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let jax_like = CustomPolicy::builder().leaky_relu_at_zero(1.0).build()?;
    /// let tape = Tape::<f64>::with_policy(KinkPolicy::Custom(jax_like));
    /// let z = tape.param_scalar(0.0)?;
    /// assert_eq!(z.try_leaky_relu(0.1)?.backward()?.wrt(z)[0], 1.0);
    /// # Ok(()) }
    /// ```
    pub fn leaky_relu_at_zero(mut self, theta: f64) -> Self {
        self.policy.leaky_relu_at_zero = Some(theta);
        self
    }

    /// The policy, its ranges checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first rule outside its range or not finite.
    ///
    /// # Example
    /// ```
    /// use autodiff::CustomPolicy;
    /// assert!(CustomPolicy::builder().abs_at_zero(1.0).build().is_ok());
    /// assert!(CustomPolicy::builder().relu_at_zero(2.0).build().is_err()); // not in [0, 1]
    /// ```
    pub fn build(self) -> Result<CustomPolicy> {
        let p = self.policy;
        let policy = CustomPolicy::new(p.relu_at_zero, p.abs_at_zero, p.tie, p.clamp_at_bound)?;
        if let Some(theta) = p.leaky_relu_at_zero {
            check_range("leaky_relu_at_zero", theta, 0.0, 1.0)?;
        }
        Ok(CustomPolicy {
            leaky_relu_at_zero: p.leaky_relu_at_zero,
            ..policy
        })
    }
}

/// `Ok` if `value` is finite and in `[lo, hi]`, else [`Error::InvalidArgument`] naming the rule.
fn check_range(what: &'static str, value: f64, lo: f64, hi: f64) -> Result<()> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            op: "custom policy",
            what,
            value,
        })
    }
}

impl CustomPolicy {
    /// A builder starting from the `MinNorm` rules; set the rules by name and call
    /// [`CustomPolicyBuilder::build`].
    pub fn builder() -> CustomPolicyBuilder {
        CustomPolicyBuilder {
            policy: CustomPolicy {
                relu_at_zero: 0.0,
                abs_at_zero: 0.0,
                tie: TieSplit::MinNorm,
                clamp_at_bound: 0.0,
                leaky_relu_at_zero: None,
            },
        }
    }

    /// A policy with `relu'(0) = relu_at_zero ∈ [0, 1]`, `abs'(0) = abs_at_zero ∈ [−1, 1]`,
    /// the given tie split for every `max`/`min`, and `clamp'(z) = clamp_at_bound ∈ [0, 1]` at a
    /// bound; every later rule (`leaky_relu` at 0) keeps its `MinNorm` value (set it with
    /// [`CustomPolicy::builder`]).
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
        check_range("relu_at_zero", relu_at_zero, 0.0, 1.0)?;
        check_range("abs_at_zero", abs_at_zero, -1.0, 1.0)?;
        check_range("clamp_at_bound", clamp_at_bound, 0.0, 1.0)?;
        Ok(CustomPolicy {
            relu_at_zero,
            abs_at_zero,
            tie,
            clamp_at_bound,
            leaky_relu_at_zero: None,
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
        // Each preset by name, one rule per field (see the kink table in the module docs).
        let rules: Rules<f64> = match *self {
            KinkPolicy::MinNorm => Rules::MIN_NORM,
            KinkPolicy::Torch => Rules {
                binary_tie: TieSplit::Even,
                nary_tie: TieSplit::Even,
                leaky_relu_at_zero: Some(0.0),
                ..Rules::MIN_NORM
            },
            KinkPolicy::Jax => Rules {
                abs_at_zero: 1.0,
                binary_tie: TieSplit::Even,
                nary_tie: TieSplit::Even,
                leaky_relu_at_zero: Some(1.0),
                ..Rules::MIN_NORM
            },
            KinkPolicy::Tf => Rules {
                binary_tie: TieSplit::First,
                nary_tie: TieSplit::Even,
                clamp_at_bound: 1.0,
                leaky_relu_at_zero: Some(0.0),
                ..Rules::MIN_NORM
            },
            KinkPolicy::Custom(c) => Rules {
                relu_at_zero: c.relu_at_zero,
                abs_at_zero: c.abs_at_zero,
                binary_tie: c.tie,
                nary_tie: c.tie,
                reduction_tie: if c.tie == TieSplit::First {
                    TieSplit::First
                } else {
                    TieSplit::Even
                },
                clamp_at_bound: c.clamp_at_bound,
                leaky_relu_at_zero: c.leaky_relu_at_zero,
            },
        };
        Rules {
            relu_at_zero: T::cst(rules.relu_at_zero),
            abs_at_zero: T::cst(rules.abs_at_zero),
            binary_tie: rules.binary_tie,
            nary_tie: rules.nary_tie,
            reduction_tie: rules.reduction_tie,
            clamp_at_bound: T::cst(rules.clamp_at_bound),
            leaky_relu_at_zero: rules.leaky_relu_at_zero.map(T::cst),
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

/// A policy resolved into the numbers the forward pass writes into masks: one named field per
/// kink rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<T> {
    /// `relu'(0)`.
    pub relu_at_zero: T,
    /// `abs'(0)`.
    pub abs_at_zero: T,
    /// How a binary `max`/`min` tie is split.
    pub binary_tie: TieSplit,
    /// How an n-ary `max_n`/`min_n` tie is split.
    pub nary_tie: TieSplit,
    /// How a reduction's tie is split.
    pub reduction_tie: TieSplit,
    /// `clamp'` at a bound.
    pub clamp_at_bound: T,
    /// The weight `θ` of the positive side in `leaky_relu_α'(0) = α + θ(1 − α)`; `None` for the
    /// minimum-norm element, which the forward pass computes from `α`.
    pub leaky_relu_at_zero: Option<T>,
}

impl Rules<f64> {
    /// The minimum-norm rules, from which the other presets differ by name.
    const MIN_NORM: Rules<f64> = Rules {
        relu_at_zero: 0.0,
        abs_at_zero: 0.0,
        binary_tie: TieSplit::MinNorm,
        nary_tie: TieSplit::MinNorm,
        reduction_tie: TieSplit::Even,
        clamp_at_bound: 0.0,
        leaky_relu_at_zero: None,
    };
}
