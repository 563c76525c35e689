//! Gradient descent on the all-pairs squared hinge (a ranking objective).

use super::line_search::armijo_step;
use super::{check_tol, sq_norm, Certificate, Problem, Solution};
use crate::error::{Error, Result};

/// `½‖w‖² + C·L(X·w)` with `L` the all-pairs squared hinge of margin `m`,
/// `L(ŷ) = (1/(n₊n₋))·Σ_{j pos, k neg} max(0, m − ŷⱼ + ŷₖ)²` ([`losses::all_pairs_value_grad`],
/// O(n log n)), by gradient descent with Armijo backtracking; the gradient is
/// `w + C·Xᵀ·∂L/∂ŷ`. Stops when `‖∇f(w)‖²/2 ≤ tol·f(w)` (a bound on the relative objective
/// error, `f` being 1-strongly convex) or after `max_iter` steps. `L` is differentiable
/// (a squared hinge), so there is no kink to resolve.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for a bad `tol`; the loss's errors (labels other than ±1,
/// a class with no example, a bad margin); [`crate::Error::Unsupported`] for per-example weights
/// (a pair has no single example to weigh).
///
/// # Example
/// ```
/// use svm::solvers::{all_pairs, Problem};
/// let seed = svm::data::builtin("seed")?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0, example_weights: None };
/// let s = all_pairs(p, 1.0, 1e-9, 1000)?;
/// assert!(s.converged);
/// // Every positive example outscores every negative one on these separable points.
/// let score = |i: usize| seed.row(i).dot(&s.w);
/// let (pos, neg): (Vec<usize>, Vec<usize>) = (0..seed.n()).partition(|&i| seed.labels[i] > 0.0);
/// assert!(pos.iter().all(|&j| neg.iter().all(|&k| score(j) > score(k))));
/// # Ok::<(), svm::Error>(())
/// ```
pub fn all_pairs(problem: Problem<'_>, margin: f64, tol: f64, max_iter: usize) -> Result<Solution> {
    check_tol(tol)?;
    let Problem {
        x,
        d,
        y,
        c,
        example_weights,
    } = problem;
    if example_weights.is_some() {
        return Err(Error::Unsupported {
            solver: "the all-pairs loss",
            supported: "unweighted examples",
            loss: "per-example weights".into(),
        });
    }
    let n = problem.n();
    let mut f = |w: &[f64]| -> Result<(f64, Vec<f64>)> {
        let pred: Vec<f64> = (0..n).map(|i| x.row(i, d).dot(w)).collect();
        let (l, g) = losses::all_pairs_value_grad(&pred, y, margin)?;
        let mut grad = w.to_vec();
        for (i, gi) in g.iter().enumerate() {
            if *gi != 0.0 {
                x.row(i, d).axpy(c * gi, &mut grad);
            }
        }
        Ok((0.5 * sq_norm(w) + c * l, grad))
    };
    let mut w = vec![0.0; d];
    let (mut fw, mut g) = f(&w)?;
    let done = |f: f64, g: &[f64]| 0.5 * sq_norm(g) <= tol * f;
    let mut history = vec![fw];
    let mut step = 1.0;
    let mut converged = false;
    for _ in 0..max_iter {
        if done(fw, &g) {
            converged = true;
            break;
        }
        (w, fw, g) = armijo_step(&w, fw, &g, &mut step, &mut f)?;
        history.push(fw);
    }
    Ok(Solution {
        certificate: Certificate::GradientNorm(sq_norm(&g).sqrt()),
        converged: converged || done(fw, &g),
        iterations: history.len() - 1,
        objective: fw,
        w,
        history,
    })
}
