//! Nesterov's accelerated gradient for the smooth losses.

use losses::MarginLoss;

use super::oracle::Oracle;
use super::{check_tol, sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::Result;

/// Nesterov's accelerated gradient with Armijo backtracking on the step (for smooth losses:
/// squared hinge, ψ_G, ψ_M, Huberised, modified Huber); stops when
/// `‖∇f(w)‖²/2 ≤ tol·f(w)` (a bound on the relative objective error, as `f` is 1-strongly
/// convex).
///
/// # Errors
/// Input and engine errors; [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a bad `tol`.
pub fn nesterov(
    problem: Problem<'_>,
    loss: MarginLoss,
    tol: f64,
    max_iter: usize,
    source: GradientSource,
) -> Result<Solution> {
    nesterov_with(problem, loss, tol, max_iter, false, source)
}

/// [`nesterov`], or with `fixed_iterations` exactly `max_iter` iterations whatever `tol` says
/// (a textbook run of N steps; `converged` still reports whether the final point meets
/// `tol`).
///
/// # Errors
/// As [`nesterov`].
///
/// # Example
/// ```
/// use losses::MarginLoss;
/// use svm::solvers::{nesterov_with, GradientSource, Problem};
/// let seed = svm::data::builtin("seed")?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0, example_weights: None };
/// let s = nesterov_with(p, MarginLoss::squared_hinge(), 1e-9, 7, true, GradientSource::ClosedForm)?;
/// assert_eq!((s.iterations, s.history.len()), (7, 8));
/// # Ok::<(), svm::Error>(())
/// ```
pub fn nesterov_with(
    problem: Problem<'_>,
    loss: MarginLoss,
    tol: f64,
    max_iter: usize,
    fixed_iterations: bool,
    source: GradientSource,
) -> Result<Solution> {
    check_tol(tol)?;
    let mut oracle = Oracle::new(problem, loss, source)?;
    let norm = |g: &[f64]| g.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut w = vec![0.0; problem.d];
    let mut v = w.clone();
    let (mut f, mut gw) = oracle.eval(&w)?;
    let done = |f: f64, g: &[f64]| 0.5 * sq_norm(g) <= tol * f;
    let (mut step, mut theta) = (1.0, 1.0_f64);
    let mut history = vec![f];
    for _ in 0..max_iter {
        if !fixed_iterations && done(f, &gw) {
            break;
        }
        // A gradient step from the extrapolated point v, with backtracking until
        // f(v − s·g) ≤ f(v) − (s/2)‖g‖².
        let (fv, gv) = oracle.eval(&v)?;
        let gv2 = norm(&gv).powi(2);
        let next = loop {
            let trial: Vec<f64> = v.iter().zip(&gv).map(|(a, b)| a - step * b).collect();
            if oracle.eval(&trial)?.0 <= fv - 0.5 * step * gv2 || step < 1e-16 {
                break trial;
            }
            step *= 0.5;
        };
        let theta_next = (1.0 + (1.0 + 4.0 * theta * theta).sqrt()) / 2.0;
        let momentum = (theta - 1.0) / theta_next;
        v = next
            .iter()
            .zip(&w)
            .map(|(a, b)| a + momentum * (a - b))
            .collect();
        w = next;
        theta = theta_next;
        step *= 1.5;
        let (fw, g) = oracle.eval(&w)?;
        // Restart the momentum when the objective goes up.
        if fw > f {
            v = w.clone();
            theta = 1.0;
        }
        f = fw;
        gw = g;
        history.push(f);
    }
    let gn = norm(&gw);
    Ok(Solution {
        w,
        objective: f,
        iterations: history.len() - 1,
        converged: done(f, &gw),
        certificate: Certificate::GradientNorm(gn),
        history,
    })
}
