//! Newton's method with the exact generalised Hessian for the squared hinge (small `d`).

use losses::MarginLoss;

use super::line_search::{backtrack, Backtrack};
use super::{check_tol, sq_norm, Certificate, GradientSource, Problem, Solution};
use crate::error::{Error, Result};

/// The most features [`newton`] takes: its generalised Hessian is a dense `d × d` matrix
/// (4096² `f64` = 128 MiB) factored in `O(d³)`. [`crate::model::train`] uses [`super::newton_cg`],
/// which needs no Hessian matrix.
pub const MAX_NEWTON_FEATURES: usize = 4096;

/// Columns factored together: one pass over a row below them serves all of them.
const PANEL: usize = 4;

/// Factors a symmetric positive definite `A` (`d × d`, row-major) in place as `L·Lᵀ` (`L` in
/// the lower triangle); `false` if a pivot is not positive (`A` is not, to rounding, definite).
///
/// Left-looking, by panels of [`PANEL`] columns: `Lᵢⱼ = (Aᵢⱼ − Σ_{t<j} Lᵢₜ·Lⱼₜ)/Lⱼⱼ`, the sums
/// over the columns before a panel taken for two rows and the panel's four at once
/// ([`tile`]), so each value loaded serves several products and the sums run independently.
pub(super) fn cholesky_factor(a: &mut [f64], d: usize) -> bool {
    for j0 in (0..d).step_by(PANEL) {
        let j1 = (j0 + PANEL).min(d);
        // The panel's own rows (its diagonal block), one entry at a time.
        for j in j0..j1 {
            let (done, rest) = a.split_at_mut(j * d);
            let row_j = &mut rest[..d];
            for t in j0..j {
                let row_t = &done[t * d..t * d + t + 1];
                row_j[t] = (row_j[t] - dot(&row_j[..t], &row_t[..t])) / row_t[t];
            }
            let s = row_j[j] - dot(&row_j[..j], &row_j[..j]);
            if s <= 0.0 || !s.is_finite() {
                return false;
            }
            row_j[j] = s.sqrt();
        }
        // The rows below, two at a time (a last odd row is paired with itself).
        let (top, below) = a.split_at_mut(j1 * d);
        let panel: Vec<&[f64]> = (0..PANEL)
            .map(|c| {
                let j = (j0 + c).min(j1 - 1);
                &top[j * d..j * d + j + 1]
            })
            .collect();
        let panel = [panel[0], panel[1], panel[2], panel[3]];
        for rows in below.chunks_mut(2 * d) {
            let (r0, r1) = rows.split_at_mut(d);
            let sums = tile(
                &r0[..j0],
                if r1.is_empty() { &r0[..j0] } else { &r1[..j0] },
                panel,
            );
            for (row, s) in [r0, r1].into_iter().zip(sums) {
                if row.is_empty() {
                    continue;
                }
                for c in 0..j1 - j0 {
                    let (j, p) = (j0 + c, panel[c]);
                    let within: f64 = (j0..j).map(|t| row[t] * p[t]).sum();
                    row[j] = (row[j] - s[c] - within) / p[j];
                }
            }
        }
    }
    true
}

/// `[x·c₀, x·c₁, x·c₂, x·c₃]` for `x = r0` and `x = r1` (over `r0`'s length), in eight
/// independent sums, each loaded value serving two or four products.
fn tile(r0: &[f64], r1: &[f64], c: [&[f64]; PANEL]) -> [[f64; PANEL]; 2] {
    let len = r0.len();
    let (r1, c0, c1, c2, c3) = (
        &r1[..len],
        &c[0][..len],
        &c[1][..len],
        &c[2][..len],
        &c[3][..len],
    );
    let (mut s00, mut s01, mut s02, mut s03) = (0.0, 0.0, 0.0, 0.0);
    let (mut s10, mut s11, mut s12, mut s13) = (0.0, 0.0, 0.0, 0.0);
    for t in 0..len {
        let (x0, x1) = (r0[t], r1[t]);
        let (y0, y1, y2, y3) = (c0[t], c1[t], c2[t], c3[t]);
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
    }
    [[s00, s01, s02, s03], [s10, s11, s12, s13]]
}

/// `a·b` in eight independent sums: one running sum would make the factorisation wait on
/// the latency of every addition.
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            sums[l] += x[l] * y[l];
        }
    }
    let [s0, s1, s2, s3, s4, s5, s6, s7] = sums;
    ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)) + tail
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
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0, example_weights: None };
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
    let (n, d) = (problem.n(), problem.d);
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
                    let s = 2.0 * problem.c_of(i) * xa;
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
