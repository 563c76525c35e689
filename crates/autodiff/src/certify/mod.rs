//! Certified Clarke subgradients and one-sided directional derivatives.
//!
//! # The guarantee
//! Every function a tape computes from the engine's primitives is piecewise smooth: near any
//! point it is one of finitely many smooth *pieces*, selected by which branch each kink operation
//! (`relu`, `leaky_relu`, `abs`, `max`/`min` binary and n-ary, reductions, `clamp`, `norm`)
//! takes.
//! [`Tape::backward_certified`] returns the gradient of a piece that is active on a segment
//! `x + t·q`, `0 < t < ε`, for a direction `q`. That gradient is a limit of true gradients at
//! points converging to `x`, hence an element of the Clarke subdifferential ∂f(x)
//! (Kakade & Lee 2018, "Provably correct automatic subdifferentiation"; Khan & Barton's
//! lexicographic directional derivatives for the deterministic variant).
//!
//! # The method
//! 1. The forward pass already recorded, per element, the branch each kink op took and whether
//!    it was an exact tie.
//! 2. If no tie was hit (on a node the output depends on), the result *is* the ordinary
//!    backward result, bit for bit.
//! 3. Otherwise a forward tangent pass computes directional derivatives along `q`, over the
//!    elements the tied elements depend on only (for a hinge loss: the rows of `X·w` on the
//!    margin), and resolves each tie by its one-sided rule: `relu` on if the tangent is > 0 and
//!    off if < 0; `leaky_relu` likewise (slope 1 or α); `abs` takes the tangent's sign;
//!    `max`/`min` takes the larger/smaller tangent; reductions keep the tied entries with the
//!    extreme tangent; `clamp` at a bound is inside if the tangent points inside; `norm` at the
//!    zero vector takes `t/‖t‖` for the input tangent `t ≠ 0`.
//!    A tie whose tangents are equal has identical first-order data on its branches along `q`
//!    and is split by the tape's policy.
//! 4. The ordinary backward runs with the resolved branches.
//!
//! [`Certify::Random`] draws `q` uniformly from `[−1, 1]ᵖ` with a seeded generator (same seed,
//! same result): with probability 1 every tie whose branches differ to first order is resolved.
//! [`Certify::Lexicographic`] uses the coordinate directions `e₁, e₂, …` in turn, resolving what
//! the previous ones left tied; it is deterministic, and costs up to one tangent pass per
//! parameter element.
//!
//! # Conditions
//! The argument holds in exact arithmetic. In floating point, the tie detection is exact
//! equality: a point at distance 1e-17 from a kink is not a tie, and its gradient is the
//! ordinary one of the side it is on (which is also a limit of gradients, so still in the Clarke
//! set of the computed function up to that rounding). Tangent signs are computed in floating
//! point too: a tangent that should be 0 but rounds to ±1e-16 resolves the tie to one side,
//! which is again the gradient of a piece active nearby. `Tape::kinks_near` shows the near ties.
//! Custom operations must provide [`CustomOp::tangent`](crate::CustomOp::tangent) to be
//! differentiated through in this mode when they lie between a parameter and a tie.

mod direction;
mod directional;
mod pass;
pub mod subdifferential;

pub use direction::random_direction;
pub(crate) use pass::Scratch;
pub use subdifferential::{MinNorm, Subdifferential, TiedElement, MAX_SWEEPS};

use direction::SplitMix;
use pass::Pass;

use crate::ops::Op;
use crate::tape::run_backward;
use crate::{Gradients, Real, Result, Tape, Var};

/// How [`Tape::backward_certified`] chooses the direction that resolves ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certify {
    /// One random direction, uniform in `[−1, 1]ᵖ`, from this seed.
    Random {
        /// The generator's seed.
        seed: u64,
    },
    /// The coordinate directions in parameter order, until every tie is resolved.
    Lexicographic,
}

/// What the certified mode did, beside the gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertifyStats {
    /// Exact ties on nodes the output depends on.
    pub ties: usize,
    /// Ties resolved by a tangent (the rest had equal tangents and were split by the policy).
    pub resolved: usize,
    /// Tangent passes run (0 when there was no tie).
    pub passes: usize,
}

/// Gradients from [`Tape::backward_certified`] with the certification statistics.
#[derive(Debug, Clone)]
pub struct Certified<T> {
    /// The gradients: an element of the Clarke subdifferential.
    pub gradients: Gradients<T>,
    /// What the certification did.
    pub stats: CertifyStats,
}

impl<T: Real> Certified<T> {
    /// The certified gradient with respect to `x`; see [`Gradients::wrt`].
    ///
    /// # Panics
    /// If `x` is a constant or belongs to another tape.
    #[track_caller]
    pub fn wrt(&self, x: Var<'_, T>) -> &[T] {
        self.gradients.wrt(x)
    }
}

impl<T: Real> Tape<T> {
    /// Reverse pass whose result provably lies in the Clarke subdifferential of the function
    /// the tape computes; see the [module docs](self) for the method and its conditions.
    ///
    /// With no exact tie on the way, this is [`Tape::backward`], bit for bit.
    ///
    /// # Errors
    /// As [`Tape::backward`], and [`Error::MissingTangent`] if a custom op without a tangent
    /// rule lies between a parameter and a tie.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Certify, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param_scalar(0.0)?;
    /// let f = x.relu() - (-x).relu(); // = x, so f'(0) = 1
    /// assert_eq!(f.backward()?.wrt(x)[0], 0.0); // any per-op rule is wrong here
    /// let certified = tape.backward_certified(f, Certify::Random { seed: 7 })?;
    /// assert_eq!(certified.wrt(x)[0], 1.0);
    /// assert_eq!(certified.stats.ties, 2);
    /// # Ok(()) }
    /// ```
    pub fn backward_certified(&self, y: Var<'_, T>, how: Certify) -> Result<Certified<T>> {
        let mut gradients = Gradients::new();
        let stats = self.backward_certified_into(y, how, &mut gradients)?;
        Ok(Certified { gradients, stats })
    }

    /// Like [`Tape::backward_certified`], reusing `grads`' buffers.
    ///
    /// # Errors
    /// As [`Tape::backward_certified`].
    pub fn backward_certified_into(
        &self,
        y: Var<'_, T>,
        how: Certify,
        grads: &mut Gradients<T>,
    ) -> Result<CertifyStats> {
        let inner = self.check_root(y, "backward")?;
        let any_tie = inner.nodes[..=y.id as usize]
            .iter()
            .any(|n| n.needs_grad() && n.ties.1 > n.ties.0);
        if !any_tie {
            run_backward(&inner, y.id, &inner.masks, grads)?;
            return Ok(CertifyStats::default());
        }
        let mut pass = Pass::new(
            &inner,
            y.id,
            std::mem::take(&mut *self.scratch.borrow_mut()),
        );
        let ties: usize = pass
            .tied_nodes()
            .map(|i| inner.nodes[i].ties.1 - inner.nodes[i].ties.0)
            .sum();
        if ties == 0 {
            run_backward(&inner, y.id, &inner.masks, grads)?;
            return Ok(CertifyStats::default());
        }
        pass.mark_needs(false);
        let mut stats = CertifyStats {
            ties,
            ..CertifyStats::default()
        };
        match how {
            Certify::Random { seed } => {
                let mut rng = SplitMix(seed);
                pass.set_direction(|_, _| T::cst(rng.next_uniform()));
                stats.resolved = pass.tangent_pass()?;
                stats.passes = 1;
            }
            Certify::Lexicographic => {
                let coords: Vec<(usize, usize)> = inner
                    .nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| matches!(n.op, Op::Leaf) && n.needs_grad())
                    .flat_map(|(i, n)| (0..n.shape.len()).map(move |e| (i, e)))
                    .collect();
                for &(node, elem) in &coords {
                    pass.set_direction(|i, e| {
                        if (i, e) == (node, elem) {
                            T::one()
                        } else {
                            T::zero()
                        }
                    });
                    stats.resolved += pass.tangent_pass()?;
                    stats.passes += 1;
                    if stats.resolved == ties {
                        break;
                    }
                }
            }
        }
        let result = run_backward(&inner, y.id, &pass.masks, grads);
        *self.scratch.borrow_mut() = pass.into_scratch();
        result.map(|()| stats)
    }
}
