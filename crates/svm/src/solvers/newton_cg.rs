//! A truncated (line-search) Newton method for the squared hinge: conjugate gradient on
//! Hessian–vector products, never a `d × d` matrix (the approach of liblinear's `-s 2`, with a
//! line search in place of its trust region).

use losses::MarginLoss;

use super::line_search::{backtrack, Backtrack};
use super::{check_iterations, check_tol, sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::Result;

/// Truncated Newton for `f(w) = ½‖w‖² + C·Σ max(0, 1 − yᵢ·w·xᵢ)²`, on dense or sparse rows,
/// stopping when `‖∇f(w)‖²/2 ≤ tol·f(w)` (`f` is 1-strongly convex, so this bounds the relative
/// objective error `(f(w) − f*)/f(w)` by `tol`), or after `max_iter` Newton steps
/// (`converged = false`).
///
/// ```text
/// ∇f(w) = w − 2C·Σ_{i∈I} (1 − zᵢ)·yᵢ·xᵢ,   I = {i : zᵢ = yᵢ·w·xᵢ < 1}
/// ∇²f(w)·v = v + 2C·Σ_{i∈I} xᵢ·(xᵢ·v)     (the generalised Hessian; at zᵢ = 1 the row is out)
/// ```
///
/// Each step solves `∇²f·s = −∇f` by conjugate gradient to a residual `η·‖∇f‖`, with
/// `η = min(0.1, √(‖∇f‖/‖∇f(0)‖))` (liblinear's `eps_cg = 0.1` at first, tightening so that the
/// last steps are nearly exact), then backtracks from `t = 1` until `f(w + t·s) ≤ f(w) + 10⁻⁴·t·∇f·s`. Memory is
/// a few vectors of length `d` and the active set; each Hessian–vector product costs one pass
/// over the active rows' non-zeros.
///
/// # Errors
/// Input errors; [`crate::Error::InvalidParameter`] for a bad `C`, `tol` or `max_iter = 0`.
///
/// # Example
/// ```
/// use svm::solvers::{newton, newton_cg, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0, example_weights: None };
/// let s = newton_cg(p, 1e-12, 100)?;
/// assert!(s.converged);
/// // The certificate bounds the error: ‖∇f‖²/2 ≤ 10⁻¹²·f(w) …
/// assert!(s.certificate.error_bound().unwrap() <= 1e-12 * s.objective);
/// // … and the exact-Hessian Newton method (an independent solver) agrees.
/// let exact = newton(p, 1e-12, 100)?.objective;
/// assert!((s.objective - exact).abs() <= 1e-10 * exact);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn newton_cg(problem: Problem<'_>, tol: f64, max_iter: usize) -> Result<Solution> {
    newton_cg_with(problem, tol, max_iter, GradientSource::ClosedForm)
}

/// [`newton_cg`] with the objective and gradient from the engine or the closed form (the
/// Hessian–vector products always come from the rows).
///
/// # Errors
/// As [`newton_cg`].
pub fn newton_cg_with(
    problem: Problem<'_>,
    tol: f64,
    max_iter: usize,
    source: GradientSource,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_iter", max_iter)?;
    let mut oracle = super::oracle::Oracle::new(problem, MarginLoss::squared_hinge(), source)?;
    let mut w = vec![0.0; problem.d];
    // The rows with margin yᵢ·w·xᵢ < 1 at the last point evaluated (the accepted one).
    let mut active = Vec::new();
    let (mut f, mut g) = oracle.eval_active(&w, &mut active)?;
    let mut history = vec![f];
    let g0 = sq_norm(&g).sqrt();
    let mut iterations = 0;
    let done = |f: f64, g: &[f64]| 0.5 * sq_norm(g) <= tol * f;
    while iterations < max_iter && !done(f, &g) {
        iterations += 1;
        let hv = |v: &[f64], out: &mut Vec<f64>| {
            out.clear();
            out.extend_from_slice(v);
            for &i in &active {
                let row = problem.row(i);
                let t = row.dot(v);
                if t != 0.0 {
                    row.axpy(2.0 * problem.c_of(i) * t, out);
                }
            }
        };
        // The forcing term: liblinear's 0.1 at first, tightening as the gradient shrinks, so
        // the last steps are nearly exact Newton steps (superlinear convergence).
        let eta = (sq_norm(&g).sqrt() / g0).sqrt().min(0.1);
        let s = conjugate_gradient(&g, hv, eta);
        let gs: f64 = g.iter().zip(&s).map(|(a, b)| a * b).sum();
        if gs >= 0.0 {
            break;
        }
        match backtrack(&w, f, &s, gs, &mut |v| oracle.eval_active(v, &mut active))? {
            Backtrack::Accepted(wt, ft, gt) => (w, f, g) = (wt, ft, gt),
            // No descent left in floating point.
            Backtrack::Exhausted(..) => break,
        }
        history.push(f);
    }
    Ok(Solution {
        converged: done(f, &g),
        certificate: Certificate::GradientNorm(sq_norm(&g).sqrt()),
        w,
        objective: f,
        iterations,
        history,
    })
}

/// Conjugate gradient on `H·s = −g` (`H` symmetric positive definite, given by `hv`) to a
/// residual `eta·‖g‖`, at most `2d` steps (it ends in `d` in exact arithmetic).
fn conjugate_gradient(g: &[f64], hv: impl Fn(&[f64], &mut Vec<f64>), eta: f64) -> Vec<f64> {
    let d = g.len();
    let mut s = vec![0.0; d];
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut p = r.clone();
    let mut hp = Vec::with_capacity(d);
    let mut rr = sq_norm(&r);
    let tol = eta * sq_norm(g).sqrt();
    for _ in 0..d.saturating_mul(2).max(1) {
        if rr.sqrt() <= tol {
            break;
        }
        hv(&p, &mut hp);
        let php: f64 = p.iter().zip(&hp).map(|(a, b)| a * b).sum();
        if php <= 0.0 {
            break;
        }
        let alpha = rr / php;
        for ((sj, pj), (rj, hj)) in s.iter_mut().zip(&p).zip(r.iter_mut().zip(&hp)) {
            *sj += alpha * pj;
            *rj -= alpha * hj;
        }
        let rr_new = sq_norm(&r);
        let beta = rr_new / rr;
        for (pj, rj) in p.iter_mut().zip(&r) {
            *pj = rj + beta * *pj;
        }
        rr = rr_new;
    }
    s
}
