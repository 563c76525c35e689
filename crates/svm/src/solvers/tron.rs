//! A trust-region truncated Newton method for the squared hinge (Lin & Moré 1999; the method
//! of liblinear's `-s 2`): conjugate gradient on Hessian–vector products, never a `d × d`
//! matrix.

use losses::MarginLoss;

use super::{check_iterations, check_tol, sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::Result;

/// Trust-region Newton–CG for `f(w) = ½‖w‖² + C·Σ max(0, 1 − yᵢ·w·xᵢ)²`, on dense or sparse rows,
/// stopping when `‖∇f(w)‖²/2 ≤ tol·f(w)` (`f` is 1-strongly convex, so this bounds the relative
/// objective error `(f(w) − f*)/f(w)` by `tol`), or after `max_iter` Newton steps
/// (`converged = false`).
///
/// ```text
/// ∇f(w) = w − 2C·Σ_{i∈I} (1 − zᵢ)·yᵢ·xᵢ,   I = {i : zᵢ = yᵢ·w·xᵢ < 1}
/// ∇²f(w)·v = v + 2C·Σ_{i∈I} xᵢ·(xᵢ·v)     (the generalised Hessian; at zᵢ = 1 the row is out)
/// ```
///
/// Each step solves `∇²f·s = −∇f` by conjugate gradient inside the trust region `‖s‖ ≤ Δ`, to a
/// residual `0.1·‖∇f‖`, and `Δ` grows or shrinks with the ratio of actual to predicted
/// reduction (the rule and constants of Lin & Moré).
///
/// # Errors
/// Input errors; [`crate::Error::InvalidParameter`] for a bad `C`, `tol` or `max_iter = 0`.
///
/// # Example
/// ```
/// use svm::solvers::{tron, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0 };
/// let s = tron(p, 1e-12, 100)?;
/// assert!(s.converged);
/// // The certificate bounds the error: ‖∇f‖²/2 ≤ 10⁻¹²·f(w).
/// assert!(s.certificate.error_bound().unwrap() <= 1e-12 * s.objective);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn tron(problem: Problem<'_>, tol: f64, max_iter: usize) -> Result<Solution> {
    tron_with(problem, tol, max_iter, GradientSource::ClosedForm)
}

/// [`tron`] with the objective and gradient from the engine or the closed form (the
/// Hessian–vector products always come from the rows).
///
/// # Errors
/// As [`tron`].
pub fn tron_with(
    problem: Problem<'_>,
    tol: f64,
    max_iter: usize,
    source: GradientSource,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_iter", max_iter)?;
    let loss = MarginLoss::squared_hinge();
    let mut oracle = super::oracle::Oracle::new(problem, loss, source)?;
    let (eta0, eta1, eta2) = (1e-4, 0.25, 0.75);
    let (sigma1, sigma2, sigma3): (f64, f64, f64) = (0.25, 0.5, 4.0);
    let d = problem.d;
    let mut w = vec![0.0; d];
    let (mut f, mut g) = oracle.eval(&w)?;
    let mut active = active_set(&problem, &w);
    let mut delta = sq_norm(&g).sqrt();
    let mut history = vec![f];
    let mut iterations = 0;
    let done = |f: f64, g: &[f64]| 0.5 * sq_norm(g) <= tol * f;
    while iterations < max_iter && !done(f, &g) {
        iterations += 1;
        let hv = |v: &[f64]| -> Vec<f64> {
            let mut out = v.to_vec();
            for &i in &active {
                let row = problem.row(i);
                let t = row.dot(v);
                if t != 0.0 {
                    row.axpy(2.0 * problem.c * t, &mut out);
                }
            }
            out
        };
        let (s, r) = trust_region_cg(&g, delta, hv);
        let trial: Vec<f64> = w.iter().zip(&s).map(|(a, b)| a + b).collect();
        let gs: f64 = g.iter().zip(&s).map(|(a, b)| a * b).sum();
        let sr: f64 = s.iter().zip(&r).map(|(a, b)| a * b).sum();
        let predicted = -0.5 * (gs - sr);
        let (f_new, g_new) = oracle.eval(&trial)?;
        let actual = f - f_new;
        let snorm = sq_norm(&s).sqrt();
        if iterations == 1 {
            delta = delta.min(snorm);
        }
        let alpha = if f_new - f - gs <= 0.0 {
            sigma3
        } else {
            sigma1.max(-0.5 * (gs / (f_new - f - gs)))
        };
        delta = if actual < eta0 * predicted {
            (alpha.max(sigma1) * snorm).min(sigma2 * delta)
        } else if actual < eta1 * predicted {
            (sigma1 * delta).max((alpha * snorm).min(sigma2 * delta))
        } else if actual < eta2 * predicted {
            (sigma1 * delta).max((alpha * snorm).min(sigma3 * delta))
        } else {
            delta.max((alpha * snorm).min(sigma3 * delta))
        };
        if actual > eta0 * predicted {
            w = trial;
            f = f_new;
            g = g_new;
            active = active_set(&problem, &w);
            history.push(f);
        }
        // No progress is possible in floating point any more.
        if actual == 0.0 && predicted <= 0.0 {
            break;
        }
    }
    let gnorm = sq_norm(&g).sqrt();
    Ok(Solution {
        converged: done(f, &g),
        w,
        objective: f,
        iterations,
        certificate: Certificate::GradientNorm(gnorm),
        history,
    })
}

/// The rows with margin `yᵢ·w·xᵢ < 1`.
fn active_set(problem: &Problem<'_>, w: &[f64]) -> Vec<usize> {
    (0..problem.n())
        .filter(|&i| problem.y[i] * problem.row(i).dot(w) < 1.0)
        .collect()
}

/// Conjugate gradient on `H·s = −g` inside `‖s‖ ≤ Δ`, to a residual `0.1·‖g‖`; returns `s` and
/// the residual `r = −g − H·s`.
fn trust_region_cg(g: &[f64], delta: f64, hv: impl Fn(&[f64]) -> Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let d = g.len();
    let mut s = vec![0.0; d];
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut p = r.clone();
    let mut rr = sq_norm(&r);
    let cg_tol = 0.1 * sq_norm(g).sqrt();
    // CG ends in at most d steps in exact arithmetic; the cap guards against rounding.
    for _ in 0..d.max(1).saturating_mul(20) {
        if rr.sqrt() <= cg_tol {
            break;
        }
        let hp = hv(&p);
        let php: f64 = p.iter().zip(&hp).map(|(a, b)| a * b).sum();
        if php <= 0.0 {
            break;
        }
        let alpha = rr / php;
        let next: Vec<f64> = s.iter().zip(&p).map(|(a, b)| a + alpha * b).collect();
        if sq_norm(&next).sqrt() > delta {
            // Go to the boundary along p: ‖s + τp‖ = Δ.
            let sp: f64 = s.iter().zip(&p).map(|(a, b)| a * b).sum();
            let (ss, pp) = (sq_norm(&s), sq_norm(&p));
            let dsq = delta * delta;
            let rad = (sp * sp + pp * (dsq - ss)).max(0.0).sqrt();
            let tau = if sp >= 0.0 {
                (dsq - ss) / (sp + rad)
            } else {
                (rad - sp) / pp
            };
            for ((sj, pj), (rj, hj)) in s.iter_mut().zip(&p).zip(r.iter_mut().zip(&hp)) {
                *sj += tau * pj;
                *rj -= tau * hj;
            }
            return (s, r);
        }
        s = next;
        for (rj, hj) in r.iter_mut().zip(&hp) {
            *rj -= alpha * hj;
        }
        let rr_new = sq_norm(&r);
        let beta = rr_new / rr;
        for (pj, rj) in p.iter_mut().zip(&r) {
            *pj = rj + beta * *pj;
        }
        rr = rr_new;
    }
    (s, r)
}
