//! The classic subgradient method with iterate averaging.

use losses::MarginLoss;

use super::oracle::Oracle;
use super::{sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::{Error, Result};

/// The classic subgradient method: `w ← w − (η/k)·g/‖g‖`, returning the running average of the
/// iterates (for which `f(w̄ₖ) − f* = O(1/√k)`).
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
    if !(step.is_finite() && step > 0.0) {
        return Err(Error::InvalidParameter {
            name: "step",
            value: step,
            range: "finite, > 0",
        });
    }
    let mut oracle = Oracle::new(problem, loss, source)?;
    let d = problem.d;
    let (mut w, mut avg) = (vec![0.0; d], vec![0.0; d]);
    let mut history = Vec::with_capacity(iterations);
    for k in 1..=iterations {
        let (_, g) = oracle.eval(&w)?;
        for (a, wj) in avg.iter_mut().zip(&w) {
            *a += (wj - *a) / k as f64;
        }
        history.push(problem.value(loss, &avg));
        let norm = sq_norm(&g).sqrt();
        if norm == 0.0 {
            break;
        }
        for (wj, gj) in w.iter_mut().zip(&g) {
            *wj -= step / k as f64 * gj / norm;
        }
    }
    let objective = problem.value(loss, &avg);
    Ok(Solution {
        w: avg,
        objective,
        iterations: history.len(),
        converged: false,
        certificate: Certificate::None,
        history,
    })
}
