//! The classic subgradient method with iterate averaging, and the settings of the first-order
//! methods beyond a tolerance and an iteration limit ([`FirstOrderOptions`]).

use autodiff::{KinkPolicy, Tape};
use losses::MarginLoss;

use super::oracle::{Form, Oracle};
use super::{sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::{Error, Result};

/// Settings of the first-order methods that a textbook run chooses: the subgradient method's
/// step, averaging, objective, stopping rule and kink policy, and Nesterov's fixed iteration
/// count. [`crate::model::TrainOptions::first_order`] holds one; the defaults are what `train`
/// has always done.
///
/// | field | used by | default |
/// | --- | --- | --- |
/// | `step` | [`subgradient_with`] | 1 |
/// | `averaging` | [`subgradient_with`] | on |
/// | `regularize` | [`subgradient_with`] | on (`½‖w‖² + C·Σ ℓ`) |
/// | `stop_loss_change` | [`subgradient_with`] | none (run every iteration) |
/// | `policy` | [`subgradient_with`] | [`KinkPolicy::MinNorm`] (`relu'(0) = 0`) |
/// | `fixed_iterations` | [`super::nesterov_with`] | off (stop at the tolerance) |
///
/// # Example
/// ```
/// use autodiff::{CustomPolicy, KinkPolicy};
/// use svm::solvers::FirstOrderOptions;
/// // The seed program: steps 0.1/k, Σ hinge without ½‖w‖², a point on the margin violated.
/// let seed = FirstOrderOptions {
///     step: 0.1,
///     regularize: false,
///     stop_loss_change: Some(0.001),
///     policy: KinkPolicy::Custom(CustomPolicy::builder().relu_at_zero(1.0).build()?),
///     ..FirstOrderOptions::default()
/// };
/// assert!(seed.validate().is_ok());
/// assert!(FirstOrderOptions { step: 0.0, ..seed }.validate().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirstOrderOptions {
    /// The subgradient method's step `η`, finite and `> 0`: the k-th step has length `η/k`.
    pub step: f64,
    /// Return the running average of the iterates `w̄ₖ = (w₀ + … + wₖ)/(k + 1)` (`true`), or
    /// the last iterate `wₖ`.
    pub averaging: bool,
    /// Minimise `½‖w‖² + C·Σ ℓ` (`true`), or `C·Σ ℓ` without the regulariser (`false`; the
    /// subgradient method only: the exact solvers need the strongly convex objective).
    pub regularize: bool,
    /// Stop after iteration `k ≥ 2` when `|f(wₖ₋₁) − f(wₖ₋₂)| < tol`: the objective at the point
    /// the subgradient is taken at changed by less than `tol` since the previous iteration
    /// (the run then reports `converged`, without a certificate). `None`: run every iteration.
    pub stop_loss_change: Option<f64>,
    /// The kink policy of the subgradient method's gradients: the engine's tape uses it, and
    /// the closed form follows its `relu'(0)` (the only kink rule a margin loss meets), so a
    /// hinge example exactly on the margin counts as violated in proportion `relu'(0)`.
    pub policy: KinkPolicy,
    /// Nesterov's method runs exactly its iteration limit, whatever its tolerance says.
    pub fixed_iterations: bool,
}

impl Default for FirstOrderOptions {
    fn default() -> Self {
        FirstOrderOptions {
            step: 1.0,
            averaging: true,
            regularize: true,
            stop_loss_change: None,
            policy: KinkPolicy::MinNorm,
            fixed_iterations: false,
        }
    }
}

impl FirstOrderOptions {
    /// Checks the numbers: `step` finite and `> 0`, a `stop_loss_change` finite and `> 0`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.step.is_finite() && self.step > 0.0) {
            return Err(Error::InvalidParameter {
                name: "step",
                value: self.step,
                range: "finite, > 0",
            });
        }
        if let Some(tol) = self
            .stop_loss_change
            .filter(|t| !(t.is_finite() && *t > 0.0))
        {
            return Err(Error::InvalidParameter {
                name: "stop_loss_change",
                value: tol,
                range: "finite, > 0",
            });
        }
        Ok(())
    }

    /// `relu'(0)` under [`FirstOrderOptions::policy`], asked of the engine itself (one `relu`
    /// at 0 differentiated on a tape with that policy), so the closed form cannot drift from
    /// the engine's rule.
    ///
    /// # Errors
    /// Engine errors (none for a valid policy).
    ///
    /// # Example
    /// ```
    /// use autodiff::{CustomPolicy, KinkPolicy};
    /// use svm::solvers::FirstOrderOptions;
    /// assert_eq!(FirstOrderOptions::default().relu_at_zero()?, 0.0);
    /// let policy = KinkPolicy::Custom(CustomPolicy::builder().relu_at_zero(1.0).build()?);
    /// assert_eq!(FirstOrderOptions { policy, ..Default::default() }.relu_at_zero()?, 1.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn relu_at_zero(&self) -> Result<f64> {
        let tape = Tape::<f64>::with_policy(self.policy);
        let z = tape.param_scalar(0.0)?;
        Ok(z.relu().backward()?.wrt(z)[0])
    }
}

/// The classic subgradient method: `w ← w − (η/k)·g/‖g‖` from `w₀ = 0`, returning the
/// running average of the iterates (for which `f(w̄ₖ) − f* = O(1/√k)`).
///
/// `subgradient_with` with [`FirstOrderOptions::default`] and the given step.
///
/// # Errors
/// Input and engine errors; [`Error::InvalidParameter`] for a `step` that is not finite and
/// `> 0`.
///
/// # Example
/// ```
/// use losses::MarginLoss;
/// use svm::solvers::{subgradient, GradientSource, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 10.0, example_weights: None };
/// let s = subgradient(p, MarginLoss::hinge(), 4.0, 2000, GradientSource::Engine)?;
/// assert!(s.objective < 10.0);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn subgradient(
    problem: Problem<'_>,
    loss: MarginLoss,
    step: f64,
    iterations: usize,
    source: GradientSource,
) -> Result<Solution> {
    let options = FirstOrderOptions {
        step,
        ..FirstOrderOptions::default()
    };
    subgradient_with(problem, loss, &options, iterations, source)
}

/// The subgradient method with its settings chosen ([`FirstOrderOptions`]): at most
/// `iterations` iterations of
///
/// ```text
/// fₖ, g = f(wₖ₋₁), a subgradient of f at wₖ₋₁    (f = ½‖w‖² + C·Σ ℓ, or C·Σ ℓ)
/// stop (optimal) if g = 0
/// wₖ = wₖ₋₁ − (η/k)·g/‖g‖
/// w̄ₖ = w̄ₖ₋₁ + (wₖ − w̄ₖ₋₁)/(k + 1)                 (w̄₀ = w₀ = 0: the mean of w₀ … wₖ)
/// stop (converged) if k ≥ 2 and |fₖ − fₖ₋₁| < stop_loss_change
/// ```
/// returning `w̄ₖ` (or `wₖ` without averaging) with its objective; `history[k − 1]` is the
/// objective of the returned point after iteration `k`. The kink rule is the policy's
/// `relu'(0)`, on the engine's tape and in the closed form alike.
///
/// # Errors
/// Input and engine errors; [`Error::InvalidParameter`] from [`FirstOrderOptions::validate`].
///
/// # Example
/// ```
/// use autodiff::{CustomPolicy, KinkPolicy};
/// use losses::MarginLoss;
/// use svm::solvers::{subgradient_with, FirstOrderOptions, GradientSource, Problem};
/// // The seed program: five points, no bias, Σ hinge, steps 0.1/k, averaged, stopped when
/// // the loss changes by less than 0.001.
/// let seed = svm::data::builtin("seed")?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0, example_weights: None };
/// let options = FirstOrderOptions {
///     step: 0.1,
///     regularize: false,
///     stop_loss_change: Some(0.001),
///     policy: KinkPolicy::Custom(CustomPolicy::builder().relu_at_zero(1.0).build()?),
///     ..FirstOrderOptions::default()
/// };
/// let s = subgradient_with(p, MarginLoss::hinge(), &options, 1000, GradientSource::Engine)?;
/// assert_eq!((s.iterations, s.converged), (201, true));
/// // The seed program's printed result.
/// assert!((s.w[0] + 0.3256856642766511).abs() < 1e-12);
/// assert!((s.w[1] - 0.2264400438249529).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn subgradient_with(
    problem: Problem<'_>,
    loss: MarginLoss,
    options: &FirstOrderOptions,
    iterations: usize,
    source: GradientSource,
) -> Result<Solution> {
    options.validate()?;
    let form = Form {
        regularize: options.regularize,
        policy: options.policy,
        relu_at_zero: options.relu_at_zero()?,
    };
    let mut oracle = Oracle::with_form(problem, loss, source, form)?;
    let d = problem.d;
    let (mut w, mut avg) = (vec![0.0; d], vec![0.0; d]);
    let value = |w: &[f64]| problem.value_with(loss, w, options.regularize);
    let mut history = Vec::with_capacity(iterations);
    let (mut previous, mut converged): (Option<f64>, bool) = (None, false);
    for k in 1..=iterations {
        let (f, g) = oracle.eval(&w)?;
        let norm = sq_norm(&g).sqrt();
        if norm == 0.0 {
            // 0 is a subgradient: w is a minimiser (and it is already in the average).
            converged = true;
            break;
        }
        for (wj, gj) in w.iter_mut().zip(&g) {
            *wj -= options.step / k as f64 * gj / norm;
        }
        for (a, wj) in avg.iter_mut().zip(&w) {
            *a += (wj - *a) / (k + 1) as f64;
        }
        history.push(value(if options.averaging { &avg } else { &w }));
        if let (Some(tol), Some(p)) = (options.stop_loss_change, previous) {
            if (f - p).abs() < tol {
                converged = true;
                break;
            }
        }
        previous = Some(f);
    }
    let w = if options.averaging { avg } else { w };
    let objective = value(&w);
    Ok(Solution {
        w,
        objective,
        iterations: history.len(),
        converged,
        certificate: Certificate::None,
        history,
    })
}
