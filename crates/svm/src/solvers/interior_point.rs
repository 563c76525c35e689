//! A primal–dual interior-point method for the hinge SVM with few features (Ferris & Munson
//! 2002; Mehrotra's predictor–corrector): its iteration count does not grow with `C` or with
//! the conditioning of unscaled features, where dual coordinate descent slows to a crawl.

use rayon::prelude::*;

use super::newton::{cholesky_factor, cholesky_solve_factored, dot};
use super::{check_iterations, check_tol, sq_norm, Problem, Solution};
use crate::error::{Error, Result};
use crate::matrix::{Features, Row};

/// The most features [`interior_point`] takes: each iteration forms and factors the dense
/// `d × d` matrix `I + Xᵀ·diag(δ)⁻¹·X` (1024² `f64` = 8 MiB, `O(n·d² + d³)` time).
pub const MAX_INTERIOR_POINT_FEATURES: usize = 1024;

/// The rows are split into this many blocks, each accumulating its own part of the normal
/// matrix (in parallel), summed in block order, so the result does not depend on the number
/// of threads.
pub(super) const BLOCKS: usize = 4;

/// The mean stored values per row (weighted by row length) up to which [`suits`] prefers the
/// interior-point method to dual coordinate descent: an iteration then costs about as much as
/// 128/2 epochs of coordinate descent, and it needs tens of iterations where coordinate
/// descent needs hundreds to thousands of epochs at tight tolerances.
const MAX_ROW_WORK: usize = 128;

/// Whether [`interior_point`] is the faster exact hinge solver for `problem`: `d ≤`
/// [`MAX_INTERIOR_POINT_FEATURES`] and `Σᵢ nnzᵢ² ≤ 128·Σᵢ nnzᵢ` (dense rows: `d ≤ 128`), so one
/// iteration's normal matrix costs at most 64 passes over the data.
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::{interior_point_suits, Problem};
/// let x = Features::from(vec![0.0; 2 * 100]);
/// assert!(interior_point_suits(&Problem { x: &x, d: 100, y: &[1.0, -1.0], c: 1.0, example_weights: None }));
/// let x = Features::from(vec![0.0; 2 * 200]);
/// assert!(!interior_point_suits(&Problem { x: &x, d: 200, y: &[1.0, -1.0], c: 1.0, example_weights: None }));
/// ```
pub fn interior_point_suits(problem: &Problem<'_>) -> bool {
    problem.d <= MAX_INTERIOR_POINT_FEATURES && short_rows(problem.x, problem.d)
}

/// Whether the rows are short enough for an interior-point iteration to pay:
/// `Σᵢ nnzᵢ² ≤ 128·Σᵢ nnzᵢ` (dense rows: `d ≤ 128`), shared with
/// [`super::crammer_singer_interior_point_suits`].
pub(super) fn short_rows(x: &Features, d: usize) -> bool {
    let (squares, total) = match x {
        Features::Dense(_) => (d.saturating_mul(d), d),
        Features::Sparse(m) => {
            let lengths = m.indptr().windows(2).map(|w| w[1] - w[0]);
            (
                lengths
                    .clone()
                    .map(|l| l * l)
                    .fold(0, usize::saturating_add),
                lengths.sum(),
            )
        }
    };
    squares <= MAX_ROW_WORK.saturating_mul(total)
}

/// Below this many multiply–adds (`n·d²`) the normal matrix is formed on one thread.
pub(super) const PARALLEL_WORK: usize = 1 << 21;

/// Fraction of the distance to the boundary a step may travel.
pub(super) const STEP_FRACTION: f64 = 0.995;

/// `m += Σ_{i ∈ rows} xᵢxᵢᵀ/δᵢ`, upper triangle only (`m` is `d × d`, row-major).
///
/// Every element is the same sequence of additions, row after row, for dense and sparse rows
/// alike (a sparse row skips its zeros, which add +0 to a sum that cannot be −0), so the two
/// give the same bits. Dense rows go four at a time ([`dense_rows4`]): each element of `m` is
/// loaded and stored once per four rows, with the four additions still in row order.
fn accumulate(problem: &Problem<'_>, rows: std::ops::Range<usize>, delta: &[f64], m: &mut [f64]) {
    let d = problem.d;
    let mut i = rows.start;
    if let Features::Dense(x) = problem.x {
        while i + 4 <= rows.end {
            let r = [i, i + 1, i + 2, i + 3];
            let xs = r.map(|k| &x[k * d..(k + 1) * d]);
            dense_rows4(xs, r.map(|k| 1.0 / delta[k]), m);
            i += 4;
        }
    }
    for (i, &di) in delta.iter().enumerate().take(rows.end).skip(i) {
        let s = 1.0 / di;
        match problem.row(i) {
            Row::Dense(x) => {
                for a in 0..d {
                    let va = s * x[a];
                    if va != 0.0 {
                        let out = &mut m[a * d + a..a * d + d];
                        for (o, xb) in out.iter_mut().zip(&x[a..]) {
                            *o += va * xb;
                        }
                    }
                }
            }
            Row::Sparse { indices, values } => {
                for (ka, (&a, &xa)) in indices.iter().zip(values).enumerate() {
                    let (a, va) = (a as usize, s * xa);
                    for (&b, &xb) in indices[ka..].iter().zip(&values[ka..]) {
                        m[a * d + b as usize] += va * xb;
                    }
                }
            }
        }
    }
}

/// Four dense rows' `sᵣ·xᵣxᵣᵀ` into the upper triangle of `m`, each element updated as
/// `(((m + v₀x₀) + v₁x₁) + v₂x₂) + v₃x₃` — the one-row loop's additions in the same order (a
/// zero `vᵣ` adds +0, which changes nothing) — compiled for AVX2 when the CPU has it (the
/// element order, hence the result, is the same at every vector width).
fn dense_rows4(x: [&[f64]; 4], s: [f64; 4], m: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected on this CPU just above.
        return unsafe { dense_rows4_avx2(x, s, m) };
    }
    dense_rows4_with(x, s, m);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dense_rows4_avx2(x: [&[f64]; 4], s: [f64; 4], m: &mut [f64]) {
    dense_rows4_with(x, s, m);
}

#[inline(always)]
fn dense_rows4_with(x: [&[f64]; 4], s: [f64; 4], m: &mut [f64]) {
    let d = x[0].len();
    for a in 0..d {
        let v = [
            s[0] * x[0][a],
            s[1] * x[1][a],
            s[2] * x[2][a],
            s[3] * x[3][a],
        ];
        if v == [0.0; 4] {
            continue;
        }
        let out = &mut m[a * d + a..a * d + d];
        let (x0, x1, x2, x3) = (&x[0][a..], &x[1][a..], &x[2][a..], &x[3][a..]);
        for ((((o, &p0), &p1), &p2), &p3) in out.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
            *o = (((*o + v[0] * p0) + v[1] * p1) + v[2] * p2) + v[3] * p3;
        }
    }
}

/// `I + Σᵢ xᵢxᵢᵀ/δᵢ`, full (both triangles), summed over [`BLOCKS`] row blocks in parallel.
fn normal_matrix(problem: &Problem<'_>, delta: &[f64]) -> Vec<f64> {
    let d = problem.d;
    // Threads pay off only past about a million multiply–adds.
    let parallel = problem.n().saturating_mul(d).saturating_mul(d) >= PARALLEL_WORK;
    let mut m = block_sum(problem.n(), d * d, parallel, |rows, m| {
        accumulate(problem, rows, delta, m);
    });
    for a in 0..d {
        m[a * d + a] += 1.0;
        for b in a + 1..d {
            m[b * d + a] = m[a * d + b];
        }
    }
    m
}

/// `Xᵀ·v` (`d` values), over the normal matrix's row blocks ([`block_sum`]), in parallel above
/// [`PARALLEL_WORK`]` / 64` multiply–adds; dense or sparse, the same bits (a sparse row skips
/// only additions of ±0).
fn xt(problem: &Problem<'_>, v: &[f64]) -> Vec<f64> {
    let (n, d) = (problem.n(), problem.d);
    block_sum(
        n,
        d,
        n.saturating_mul(d) >= PARALLEL_WORK / 64,
        |rows, out| {
            for (i, &vi) in v.iter().enumerate().take(rows.end).skip(rows.start) {
                if vi != 0.0 {
                    problem.row(i).axpy(vi, out);
                }
            }
        },
    )
}

/// `Σ_b part(rows of block b)` over [`BLOCKS`] fixed blocks of the `n` rows, each `part` adding
/// into its own zeroed `len` values, the partials added in block order: the blocks depend on `n`
/// alone, so the sum is the same bits on any number of threads (and serially).
fn block_sum(
    n: usize,
    len: usize,
    parallel: bool,
    part: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync,
) -> Vec<f64> {
    let block = n.div_ceil(BLOCKS).max(1);
    let one = |b: usize| {
        let mut out = vec![0.0; len];
        part((b * block).min(n)..((b + 1) * block).min(n), &mut out);
        out
    };
    let parts: Vec<Vec<f64>> = if parallel {
        (0..BLOCKS).into_par_iter().map(one).collect()
    } else {
        (0..BLOCKS).map(one).collect()
    };
    let mut sum = vec![0.0; len];
    for p in parts {
        for (a, b) in sum.iter_mut().zip(p) {
            *a += b;
        }
    }
    sum
}

/// The largest step `t ≤ 1` keeping `v + t·dv ≥ 0` for every pair.
pub(super) fn max_step(pairs: &[(&[f64], &[f64])]) -> f64 {
    let mut t: f64 = 1.0;
    for &(v, dv) in pairs {
        for (&a, &da) in v.iter().zip(dv) {
            if da < 0.0 {
                t = t.min(-a / da);
            }
        }
    }
    t
}

/// The hinge SVM `½‖w‖² + C·Σᵢ max(0, 1 − yᵢ·w·xᵢ)` by a primal–dual interior-point method on
/// dense or sparse rows with `d ≤` [`MAX_INTERIOR_POINT_FEATURES`], stopping when the duality
/// gap is at most `tol·f(w)` (so `tol` bounds the relative objective error), or after
/// `max_iter` iterations with `converged = false`.
///
/// ```text
/// primal: min ½‖w‖² + Σ Cᵢξᵢ   s.t.  s = Y·X·w + ξ − 1 ≥ 0,  ξ ≥ 0    (multipliers α, μ ≥ 0)
/// KKT:    w = Xᵀ·Y·α,  αᵢ + μᵢ = Cᵢ,  s∘α = ξ∘μ = 0
/// Newton: (I + Xᵀ·Δ⁻¹·X)·Δw = Xᵀ·Y·Δ⁻¹·r − r_w,   Δ = diag(ξ/μ + s/α)
/// ```
///
/// Each iteration costs one `d × d` normal matrix (`O(n·d²)`, in parallel) and its Cholesky
/// factor (`O(d³)`), used twice (Mehrotra's predictor and corrector). The iterates need not be
/// feasible; the certificate is taken at feasible points: `α̂ᵢ = clamp(αᵢ, 0, Cᵢ)` gives the dual
/// value `D(α̂) = Σα̂ − ½‖Xᵀ·Y·α̂‖² ≤ f*`, and the better of `w` and `Xᵀ·Y·α̂` the primal value.
///
/// # Errors
/// Input errors; [`Error::InvalidParameter`] for a bad `C`, `tol` or `max_iter = 0`;
/// [`Error::TooManyFeatures`] past [`MAX_INTERIOR_POINT_FEATURES`].
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::{interior_point, Problem};
/// // d = 1, x = (1, −1), y = (1, −1): f(w) = ½w² + 2C·max(0, 1 − w), least at w = 2C for
/// // C < ½; at C = 0.1 w* = 0.2 and f* = 0.02 + 0.16 = 0.18.
/// let x = Features::from(vec![1.0, -1.0]);
/// let s = interior_point(Problem { x: &x, d: 1, y: &[1.0, -1.0], c: 0.1, example_weights: None }, 1e-12, 100)?;
/// assert!(s.converged);
/// assert!((s.objective - 0.18).abs() < 1e-12 && (s.w[0] - 0.2).abs() < 1e-9);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn interior_point(problem: Problem<'_>, tol: f64, max_iter: usize) -> Result<Solution> {
    interior_point_with(problem, None, tol, max_iter)
}

/// The part of a hinge problem fixed outside [`interior_point_with`]'s rows: examples held at
/// `αᵢ = Cᵢ` (their margin below 1), which add `b = Σ Cᵢyᵢxᵢ` to `w = Xᵀ·Y·α` and the
/// linear term `Σ Cᵢ(1 − yᵢ·w·xᵢ) = constant − b·w` to the objective.
pub(super) struct Fixed {
    /// `b = Σ Cᵢyᵢxᵢ` over the fixed examples (`d` values).
    pub(super) b: Vec<f64>,
    /// `Σ Cᵢ` over them.
    pub(super) constant: f64,
}

/// [`interior_point`] on `problem`'s rows together with the examples `fixed` holds at their
/// box (`None`: no others), minimising
///
/// ```text
/// ½‖w‖² − b·w + constant + Σᵢ Cᵢ·max(0, 1 − yᵢ·w·xᵢ)   (i over problem's rows)
/// ```
///
/// whose dual at `α` is the whole problem's dual at `α` joined with `Cᵢ` on the fixed
/// examples: the reported gap's lower end is a lower bound on the whole problem's optimum,
/// and the objective, equal to the whole problem's at `w` while every fixed example stays below
/// its margin, is never above it.
pub(super) fn interior_point_with(
    problem: Problem<'_>,
    fixed: Option<&Fixed>,
    tol: f64,
    max_iter: usize,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_iter", max_iter)?;
    let (n, d) = (problem.n(), problem.d);
    // Cᵢ = C·sᵢ, example i's penalty.
    let c: Vec<f64> = (0..n).map(|i| problem.c_of(i)).collect();
    if d > MAX_INTERIOR_POINT_FEATURES {
        return Err(Error::TooManyFeatures {
            solver: "interior_point",
            features: d,
            limit: MAX_INTERIOR_POINT_FEATURES,
        });
    }
    let y = problem.y;
    let mut w = vec![0.0; d];
    let (mut xi, mut s) = (vec![1.0; n], vec![1.0; n]);
    let mut alpha: Vec<f64> = c.iter().map(|ci| ci / 2.0).collect();
    let mut mu = alpha.clone();
    let mut history = Vec::new();
    // The best primal point seen and the best dual value (both valid bounds on f*).
    let (mut best_f, mut best_w, mut lower) = (f64::INFINITY, w.clone(), f64::NEG_INFINITY);
    let hinge = |z: &[f64]| {
        z.iter()
            .zip(&c)
            .map(|(m, ci)| ci * (1.0 - m).max(0.0))
            .sum::<f64>()
    };
    // The fixed examples' part: w = b + Xᵀ·Y·α, and constant − b·w in the objective.
    let (b, constant) = fixed.map_or((None, 0.0), |f| (Some(&f.b[..]), f.constant));
    let plus_b = |mut v: Vec<f64>| {
        if let Some(b) = b {
            v.iter_mut().zip(b).for_each(|(a, bj)| *a += bj);
        }
        v
    };
    let linear = |w: &[f64]| constant - b.map_or(0.0, |b| dot(b, w));
    for _ in 0..max_iter {
        let z = problem.margins(&w);
        // The certificate at feasible points (see the docs).
        let hat: Vec<f64> = alpha
            .iter()
            .zip(y)
            .zip(&c)
            .map(|((a, b), ci)| a.clamp(0.0, *ci) * b)
            .collect();
        let v = plus_b(xt(&problem, &hat));
        lower = lower.max(hat.iter().map(|a| a.abs()).sum::<f64>() + constant - 0.5 * sq_norm(&v));
        let fw = 0.5 * sq_norm(&w) + hinge(&z) + linear(&w);
        if fw < best_f {
            (best_f, best_w) = (fw, w.clone());
        }
        let fv = 0.5 * sq_norm(&v) + hinge(&problem.margins(&v)) + linear(&v);
        if fv < best_f {
            (best_f, best_w) = (fv, v);
        }
        history.push(best_f);
        if best_f - lower <= tol * best_f {
            return Ok(Solution::with_gap(best_w, best_f, lower, tol, history));
        }
        // Residuals of the KKT conditions.
        let ya: Vec<f64> = alpha.iter().zip(y).map(|(a, b)| a * b).collect();
        let xtya = plus_b(xt(&problem, &ya));
        let r_w: Vec<f64> = w.iter().zip(&xtya).map(|(a, b)| a - b).collect();
        let r_xi: Vec<f64> = (0..n).map(|i| c[i] - alpha[i] - mu[i]).collect();
        let r_s: Vec<f64> = (0..n).map(|i| z[i] + xi[i] - 1.0 - s[i]).collect();
        let t = (0..n).map(|i| s[i] * alpha[i] + xi[i] * mu[i]).sum::<f64>() / (2 * n) as f64;
        let delta: Vec<f64> = (0..n).map(|i| xi[i] / mu[i] + s[i] / alpha[i]).collect();
        let mut m = normal_matrix(&problem, &delta);
        if !cholesky_factor(&mut m, d) {
            break;
        }
        // One Newton direction for the complementarity residuals (r_α, r_μ).
        let direction = |r_alpha: &[f64], r_mu: &[f64]| {
            let r: Vec<f64> = (0..n)
                .map(|i| -r_s[i] + (r_mu[i] + xi[i] * r_xi[i]) / mu[i] - r_alpha[i] / alpha[i])
                .collect();
            let scaled: Vec<f64> = (0..n).map(|i| y[i] * r[i] / delta[i]).collect();
            let rhs: Vec<f64> = xt(&problem, &scaled)
                .iter()
                .zip(&r_w)
                .map(|(a, b)| a - b)
                .collect();
            let dw = cholesky_solve_factored(&m, &rhs, d);
            let dz = problem.margins(&dw);
            let da: Vec<f64> = (0..n).map(|i| (r[i] - dz[i]) / delta[i]).collect();
            let ds: Vec<f64> = (0..n)
                .map(|i| (-r_alpha[i] - s[i] * da[i]) / alpha[i])
                .collect();
            let dxi: Vec<f64> = (0..n)
                .map(|i| (-r_mu[i] - xi[i] * r_xi[i] + xi[i] * da[i]) / mu[i])
                .collect();
            let dmu: Vec<f64> = (0..n).map(|i| r_xi[i] - da[i]).collect();
            (dw, da, ds, dxi, dmu)
        };
        // Predictor (affine scaling), then the corrector aiming at σ·t with σ = (t_aff/t)³.
        let r_alpha: Vec<f64> = (0..n).map(|i| s[i] * alpha[i]).collect();
        let r_mu: Vec<f64> = (0..n).map(|i| xi[i] * mu[i]).collect();
        let (_, da, ds, dxi, dmu) = direction(&r_alpha, &r_mu);
        let step = max_step(&[(&s, &ds), (&xi, &dxi), (&alpha, &da), (&mu, &dmu)]);
        let t_aff = (0..n)
            .map(|i| {
                (s[i] + step * ds[i]) * (alpha[i] + step * da[i])
                    + (xi[i] + step * dxi[i]) * (mu[i] + step * dmu[i])
            })
            .sum::<f64>()
            / (2 * n) as f64;
        let sigma = (t_aff / t).powi(3).min(1.0);
        let r_alpha: Vec<f64> = (0..n)
            .map(|i| s[i] * alpha[i] + ds[i] * da[i] - sigma * t)
            .collect();
        let r_mu: Vec<f64> = (0..n)
            .map(|i| xi[i] * mu[i] + dxi[i] * dmu[i] - sigma * t)
            .collect();
        let (dw, da, ds, dxi, dmu) = direction(&r_alpha, &r_mu);
        let step = STEP_FRACTION * max_step(&[(&s, &ds), (&xi, &dxi), (&alpha, &da), (&mu, &dmu)]);
        let step = step.min(1.0);
        for (a, b) in w.iter_mut().zip(&dw) {
            *a += step * b;
        }
        for i in 0..n {
            s[i] += step * ds[i];
            xi[i] += step * dxi[i];
            alpha[i] += step * da[i];
            mu[i] += step * dmu[i];
        }
        if !(t.is_finite() && step > 0.0) {
            break;
        }
    }
    // Out of iterations, or the factorisation lost definiteness to rounding: the best point
    // with its (valid) gap.
    Ok(Solution::with_gap(best_w, best_f, lower, tol, history))
}
