//! Certified Clarke subgradients and one-sided directional derivatives.
//!
//! # The guarantee
//! Every function a tape computes from the engine's primitives is piecewise smooth: near any
//! point it is one of finitely many smooth *pieces*, selected by which branch each kink operation
//! (`relu`, `leaky_relu`, `abs`, `max`/`min` binary and n-ary, reductions, `clamp`, `norm`)
//! takes.
//! [`Tape::backward_certified`] returns the gradient of a piece that is the only one active on
//! an open set beside `x + t·q`, `0 < t < ε`, for a direction `q` (lexicographically,
//! `q = q₁ + s·q₂ + …` for small `s > 0`). That gradient is a limit of true gradients at
//! points converging to `x`, hence an element of the Clarke subdifferential ∂f(x)
//! (Kakade & Lee 2018, "Provably correct automatic subdifferentiation"; Khan & Barton's
//! lexicographic directional derivatives for the deterministic variant).
//!
//! # The method
//! 1. The forward pass already recorded, per element, the branch each kink op took and whether
//!    it was an exact tie.
//! 2. Near ties: an element whose kink argument is within `τ·m` of its kink is resolved as a
//!    tie too, `m` the magnitude of the operands that produced it (the scale of its rounding
//!    error, propagated by a rule per primitive: `m(a ± b) = m(a) + m(b)`, `m(ab) = m(a)m(b)`,
//!    `m(f(x)) = |f'(x)|·m(x) + |f(x)|`, …) and `τ` the relative tie tolerance
//!    ([`Tape::set_tie_tolerance`], 4 ε by default). Candidates come from per-node bounds of the
//!    magnitudes (O(1) for linear nodes), so a tape without near ties pays one comparison per
//!    kink element; only candidates get exact magnitudes.
//! 3. If no tie was hit (on a node the output depends on), the result *is* the ordinary
//!    backward result, bit for bit.
//! 4. Otherwise forward tangent passes compute directional derivatives along directions, over
//!    the elements the ties depend on only (for a hinge loss: the rows of `X·w` on the margin),
//!    and resolve each tie by its one-sided rule: `relu` on if the tangent is > 0 and off if
//!    < 0; `leaky_relu` likewise (slope 1 or α); `abs` takes the tangent's sign; `max`/`min`
//!    takes the larger/smaller tangent; reductions keep the tied entries with the extreme
//!    tangent; `clamp` at a bound is inside if the tangent points inside; `norm` at the zero
//!    vector takes `t/‖t‖` for the input tangent `t ≠ 0`.
//!    A tie the direction leaves undecided (a zero tangent, or comparison tangents equal up to
//!    the tolerance) goes to the next direction, lexicographically (Khan & Barton): the
//!    coordinate directions `e₁, e₂, …`, only for the ties left, through the branches already
//!    chosen, until none is left or the directions span the parameter space (a tie left then is
//!    *flat*: its branches have the same gradient, so any is valid).
//! 5. The ordinary backward runs with the resolved branches.
//!
//! [`Certify::Random`] starts with `q` uniform in `[−1, 1]ᵖ` from a seeded generator (same
//! seed, same result); [`Certify::Lexicographic`] uses the coordinate directions only.
//! [`CertifyStats`] counts the exact and near ties, the directions used and the flat ties;
//! [`Certified::report`] lists the ties, near ones apart.
//!
//! # Conditions
//! The argument holds in real arithmetic when the elements decided by value lie on their side
//! and the ties (exact or near) on their kink. It can fail when a cancellation rounds further
//! than `τ·m` (long sums: raise the tolerance), when a genuine near tie (not a rounding
//! artifact) is within `τ·m` (the result is then a subgradient at a point that close), for
//! cancellations among constants alone (a computed node without parameters counts at its bound), and
//! through custom operations, whose magnitude is a guess and which must provide
//! [`CustomOp::tangent`](crate::CustomOp::tangent) to be differentiated through in this mode
//! when they lie between a parameter and a tie. `docs/certified.md` states it in full.

mod direction;
mod directional;
mod pass;
pub mod subdifferential;

pub use direction::random_direction;
pub(crate) use pass::Scratch;
pub use subdifferential::{MinNorm, Subdifferential, TiedElement, MAX_SWEEPS};

use direction::SplitMix;
use pass::Pass;

use crate::tape::run_backward;
use crate::{Error, Gradients, KinkReport, KinkSite, NodeId, Real, Result, Tape, Var};

/// How [`Tape::backward_certified`] chooses the directions that resolve ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certify {
    /// A random direction, uniform in `[−1, 1]ᵖ`, from this seed; the ties it leaves (tangents
    /// equal up to the tolerance) are resolved by the coordinate directions `e₁, e₂, …` in
    /// turn, lexicographically.
    Random {
        /// The generator's seed.
        seed: u64,
    },
    /// The coordinate directions `e₁, e₂, …` in parameter order, until every tie is resolved:
    /// Khan & Barton's lexicographic directional derivatives with the identity as directions.
    /// Coordinates no tie depends on are skipped (their tangents at the ties are 0).
    Lexicographic,
}

/// What the certified mode did, beside the gradients.
///
/// `resolved + flat = ties + near_ties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertifyStats {
    /// Exact ties on nodes the output depends on.
    pub ties: usize,
    /// Near ties: elements within the tie tolerance of a kink but not on it, resolved as ties
    /// (see [`Tape::set_tie_tolerance`]).
    pub near_ties: usize,
    /// Ties (exact or near) decided by a direction.
    pub resolved: usize,
    /// Ties left undecided after directions spanning the whole parameter space: their branches
    /// have equal derivatives along every direction, so every branch gives the same gradient
    /// and the one the policy (or the forward pass, for a near tie) chose is valid.
    pub flat: usize,
    /// Directions used: tangent passes run (0 when there was no tie).
    pub passes: usize,
}

/// Gradients from [`Tape::backward_certified`] with the certification statistics.
#[derive(Debug, Clone)]
pub struct Certified<T> {
    /// The gradients: an element of the Clarke subdifferential.
    pub gradients: Gradients<T>,
    /// What the certification did.
    pub stats: CertifyStats,
    /// The ties it resolved, per node: `exact` lists the exact ties, `near` the near ties that
    /// were resolved as ties; the report's tolerance is the relative tie tolerance used.
    pub report: KinkReport,
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

/// The default relative tie tolerance: 4 ε of the element type.
fn default_tolerance<T: Real>() -> T {
    T::cst(4.0) * T::epsilon()
}

impl<T: Real> Tape<T> {
    /// Sets the certified mode's relative tie tolerance τ: a kink argument within
    /// `τ·m` of its kink, `m` the magnitude of the operands that produced it (see the
    /// [module docs](self)), is resolved as a tie. The default is `4 ε` (`8.9e-16` for `f64`,
    /// `4.8e-7` for `f32`); 0 makes only exact ties ties. It survives [`Tape::clear`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `tau` is negative, NaN or infinite.
    ///
    /// # Example
    /// ```
    /// use autodiff::{Certify, Tape};
    /// # fn main() -> autodiff::Result<()> {
    /// let tape = Tape::<f64>::new();
    /// let (x, y) = (tape.param_scalar(-2.0)?, tape.param_scalar(0.0)?);
    /// // 0 everywhere: the second argument is y in real arithmetic, 1 ulp off 0 here.
    /// let e = x.exp();
    /// let f = y.relu() - (y - ((e + 2.0) - 2.0) + e).relu();
    /// let certified = tape.backward_certified(f, Certify::Random { seed: 0 })?;
    /// assert_eq!((certified.wrt(x)[0], certified.wrt(y)[0]), (0.0, 0.0));
    /// assert_eq!(certified.stats.near_ties, 1); // resolved as a tie, like relu(y)
    /// tape.set_tie_tolerance(0.0)?; // exact ties only: the rounding decides the second relu
    /// assert_eq!(tape.backward_certified(f, Certify::Random { seed: 0 })?.stats.near_ties, 0);
    /// assert!(tape.set_tie_tolerance(-1.0).is_err());
    /// # Ok(()) }
    /// ```
    pub fn set_tie_tolerance(&self, tau: T) -> Result<()> {
        if !(tau >= T::zero() && tau.is_finite()) {
            return Err(Error::InvalidArgument {
                op: "set_tie_tolerance",
                what: "tolerance",
                value: tau.to_f64_lossless(),
            });
        }
        self.scratch.borrow_mut().tau = Some(tau);
        Ok(())
    }

    /// The certified mode's relative tie tolerance τ (see [`Tape::set_tie_tolerance`]).
    ///
    /// # Example
    /// ```
    /// let tape = autodiff::Tape::<f64>::new();
    /// assert_eq!(tape.tie_tolerance(), 4.0 * f64::EPSILON);
    /// ```
    pub fn tie_tolerance(&self) -> T {
        self.scratch.borrow().tau.unwrap_or_else(default_tolerance)
    }

    /// Reverse pass whose result provably lies in the Clarke subdifferential of the function
    /// the tape computes; see the [module docs](self) for the method and its conditions.
    ///
    /// With no tie (exact or within the tolerance) on the way, this is [`Tape::backward`], bit
    /// for bit.
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
    /// assert_eq!(certified.report.exact_count(), 2);
    /// # Ok(()) }
    /// ```
    pub fn backward_certified(&self, y: Var<'_, T>, how: Certify) -> Result<Certified<T>> {
        let mut gradients = Gradients::new();
        let mut report = KinkReport::default();
        let stats = self.certify(y, how, &mut gradients, Some(&mut report))?;
        Ok(Certified {
            gradients,
            stats,
            report,
        })
    }

    /// Like [`Tape::backward_certified`], reusing `grads`' buffers (and making no report).
    ///
    /// # Errors
    /// As [`Tape::backward_certified`].
    pub fn backward_certified_into(
        &self,
        y: Var<'_, T>,
        how: Certify,
        grads: &mut Gradients<T>,
    ) -> Result<CertifyStats> {
        self.certify(y, how, grads, None)
    }

    fn certify(
        &self,
        y: Var<'_, T>,
        how: Certify,
        grads: &mut Gradients<T>,
        report: Option<&mut KinkReport>,
    ) -> Result<CertifyStats> {
        let inner = self.check_root(y, "backward")?;
        let tau = self.tie_tolerance();
        let any_tie = inner.nodes[..=y.id as usize]
            .iter()
            .any(|n| n.needs_grad() && n.ties.1 > n.ties.0);
        let any_kink = tau > T::zero()
            && inner.nodes[..=y.id as usize]
                .iter()
                .any(|n| n.needs_grad() && n.op.is_kink());
        if !any_tie && !any_kink {
            if let Some(r) = report {
                *r = KinkReport::from_parts(Vec::new(), Some(tau.to_f64_lossless()));
            }
            run_backward(&inner, y.id, &inner.masks, grads)?;
            return Ok(CertifyStats::default());
        }
        let mut pass = Pass::new(
            &inner,
            y.id,
            std::mem::take(&mut *self.scratch.borrow_mut()),
        );
        let result = resolve_ties(&mut pass, how, tau);
        if let (Ok(stats), Some(r)) = (&result, report) {
            *r = report_of(&pass, tau);
            debug_assert_eq!(
                r.exact_count() + r.near_count(),
                stats.ties + stats.near_ties
            );
        }
        let result = result.and_then(|stats| {
            if stats.ties + stats.near_ties == 0 {
                run_backward(&inner, y.id, &inner.masks, grads)?;
            } else {
                run_backward(&inner, y.id, &pass.masks, grads)?;
            }
            Ok(stats)
        });
        *self.scratch.borrow_mut() = pass.into_scratch();
        result
    }
}

/// Finds the near ties and resolves every tie by the directions `how` asks for.
fn resolve_ties<T: Real>(pass: &mut Pass<'_, T>, how: Certify, tau: T) -> Result<CertifyStats> {
    pass.find_near_ties(tau);
    let (ties, near_ties) = pass.tie_count();
    let mut stats = CertifyStats {
        ties,
        near_ties,
        ..CertifyStats::default()
    };
    let total = ties + near_ties;
    if total == 0 {
        return Ok(stats);
    }
    if let Certify::Random { seed } = how {
        let mut rng = SplitMix(seed);
        pass.set_direction(|_, _| T::cst(rng.next_uniform()));
        stats.resolved += pass.tangent_pass(tau)?;
        stats.passes += 1;
    }
    if stats.resolved < total {
        // The coordinate directions the ties depend on, in parameter order: any other one has
        // a zero tangent at every tie, so skipping it changes nothing (and a flat tie costs one
        // pass per parameter element it depends on, not per parameter element).
        let coords = pass.needed_coordinates();
        pass.set_direction(|_, _| T::zero());
        let mut previous = None;
        for slot in coords {
            if let Some(p) = previous {
                pass.set_tangent(p, T::zero());
            }
            pass.set_tangent(slot, T::one());
            previous = Some(slot);
            stats.resolved += pass.tangent_pass(tau)?;
            stats.passes += 1;
            if stats.resolved == total {
                break;
            }
        }
    }
    debug_assert_eq!(stats.resolved, pass.settled());
    stats.flat = total - stats.resolved;
    Ok(stats)
}

/// The resolved ties as a kink report, per node.
fn report_of<T: Real>(pass: &Pass<'_, T>, tau: T) -> KinkReport {
    let mut sites: Vec<KinkSite> = Vec::new();
    for (node, e, near) in pass.ties() {
        if sites.last().is_none_or(|s| s.node != NodeId(node)) {
            sites.push(KinkSite {
                node: NodeId(node),
                op: pass.inner.node(node).op.name(),
                exact: Vec::new(),
                near: Vec::new(),
            });
        }
        if let Some(site) = sites.last_mut() {
            if near {
                site.near.push(e);
            } else {
                site.exact.push(e);
            }
        }
    }
    KinkReport::from_parts(sites, Some(tau.to_f64_lossless()))
}
