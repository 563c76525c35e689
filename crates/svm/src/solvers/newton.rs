//! Newton's method with the exact generalised Hessian for the squared hinge (small `d`).

use losses::MarginLoss;

use super::line_search::{backtrack, Backtrack};
use super::{check_tol, sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::{Error, Result};

/// The most features [`newton`] takes: its generalised Hessian is a dense `d × d` matrix
/// (4096² `f64` = 128 MiB) factored in `O(d³)`. [`crate::model::train`] uses [`super::newton_cg`],
/// which needs no Hessian matrix.
pub const MAX_NEWTON_FEATURES: usize = 4096;

/// Factors a symmetric positive definite `A` (`d × d`, row-major) in place as `L·Lᵀ` (`L` in
/// the lower triangle); `false` if a pivot is not positive (`A` is not, to rounding, definite).
pub(super) fn cholesky_factor(a: &mut [f64], d: usize) -> bool {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if s <= 0.0 || !s.is_finite() {
            return false;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        for i in j + 1..d {
            let mut t = a[i * d + j];
            for k in 0..j {
                t -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = t / l;
        }
    }
    true
}

/// Solves `L·Lᵀ·x = b` with the factor left by [`cholesky_factor`].
pub(super) fn cholesky_solve_factored(l: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut z = b.to_vec();
    for i in 0..d {
        for k in 0..i {
            z[i] -= l[i * d + k] * z[k];
        }
        z[i] /= l[i * d + i];
    }
    for i in (0..d).rev() {
        for k in i + 1..d {
            z[i] -= l[k * d + i] * z[k];
        }
        z[i] /= l[i * d + i];
    }
    z
}

/// Solves `A·x = b` for a symmetric positive definite `A` by Cholesky (`A` is overwritten).
fn cholesky_solve(a: &mut [f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    cholesky_factor(a, d).then(|| cholesky_solve_factored(a, b, d))
}

/// Newton's method for the squared hinge: the generalised Hessian `I + 2C·Σ_{zᵢ<1} xᵢxᵢᵀ` is
/// factored exactly (Cholesky), with Armijo backtracking; stops when
/// `‖∇f(w)‖²/2 ≤ tol·f(w)` (a bound on the relative objective error). The objective is piecewise quadratic, so the method ends in
/// few iterations once the active set settles.
///
/// # Errors
/// Input errors; [`Error::InvalidParameter`] for a bad `C` or `tol`;
/// [`Error::TooManyFeatures`] past [`MAX_NEWTON_FEATURES`].
///
/// # Example
/// ```
/// use svm::solvers::{newton, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0 };
/// let s = newton(p, 1e-12, 100)?;
/// assert!(s.converged);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn newton(problem: Problem<'_>, tol: f64, max_iter: usize) -> Result<Solution> {
    newton_with(problem, tol, max_iter, GradientSource::ClosedForm)
}

/// [`newton`] with the objective and gradient from the engine or the closed form (the
/// generalised Hessian is always formed from the data).
///
/// # Errors
/// As [`newton`].
pub fn newton_with(
    problem: Problem<'_>,
    tol: f64,
    max_iter: usize,
    source: GradientSource,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    if problem.d > MAX_NEWTON_FEATURES {
        return Err(Error::TooManyFeatures {
            solver: "Newton's method",
            features: problem.d,
            limit: MAX_NEWTON_FEATURES,
        });
    }
    let loss = MarginLoss::squared_hinge();
    let mut oracle = super::oracle::Oracle::new(problem, loss, source)?;
    let (n, d, c) = (problem.n(), problem.d, problem.c);
    let mut w = vec![0.0; d];
    let (mut f, mut g) = oracle.eval(&w)?;
    let done = |f: f64, g: &[f64]| 0.5 * sq_norm(g) <= tol * f;
    let mut history = vec![f];
    for it in 1..=max_iter {
        let gnorm = sq_norm(&g).sqrt();
        if done(f, &g) {
            return Ok(Solution {
                w,
                objective: f,
                iterations: it - 1,
                converged: true,
                certificate: Certificate::GradientNorm(gnorm),
                history,
            });
        }
        let mut h = vec![0.0; d * d];
        for j in 0..d {
            h[j * d + j] = 1.0;
        }
        for i in 0..n {
            let xi = problem.row(i);
            if problem.y[i] * xi.dot(&w) < 1.0 {
                for (a, xa) in xi.entries().filter(|e| e.1 != 0.0) {
                    let s = 2.0 * c * xa;
                    for (b, xb) in xi.entries() {
                        h[a * d + b] += s * xb;
                    }
                }
            }
        }
        let rhs: Vec<f64> = g.iter().map(|v| -v).collect();
        let Some(p) = cholesky_solve(&mut h, &rhs, d) else {
            break;
        };
        let slope: f64 = g.iter().zip(&p).map(|(a, b)| a * b).sum();
        // Newton's method takes even an exhausted step (the direction is exact).
        match backtrack(&w, f, &p, slope, &mut |v| oracle.eval(v))? {
            Backtrack::Accepted(wt, ft, gt) | Backtrack::Exhausted(wt, ft, gt) => {
                (w, f, g) = (wt, ft, gt);
            }
        }
        history.push(f);
    }
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(Solution {
        w,
        objective: f,
        iterations: history.len() - 1,
        converged: done(f, &g),
        certificate: Certificate::GradientNorm(gnorm),
        history,
    })
}
