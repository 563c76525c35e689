//! A primal–dual interior-point method for the Crammer–Singer multiclass SVM, hinge and squared
//! forms, with few weights (Mehrotra's predictor–corrector, as [`super::interior_point`] for the
//! binary hinge): its iteration count does not grow with `C` or the features' scale, where the
//! sequential dual method slows to a crawl.

use rayon::prelude::*;

use super::crammer_singer::MulticlassProblem;
use super::interior_point::{
    max_step, short_rows, BLOCKS, MAX_INTERIOR_POINT_FEATURES, PARALLEL_WORK, STEP_FRACTION,
};
use super::newton::{cholesky_factor, cholesky_solve_factored};
use super::{check_iterations, check_tol, sq_norm, Solution};
use crate::error::{Error, Result};

/// Whether [`crammer_singer_interior_point`] is the faster exact solver for `problem`: its
/// `k·d` weights are at most [`MAX_INTERIOR_POINT_FEATURES`], its rows are short by the
/// criterion of [`super::interior_point_suits`] (`Σᵢ nnzᵢ² ≤ 128·Σᵢ nnzᵢ`; dense: `d ≤ 128`),
/// and there are rows enough that the factorisation does not dominate an iteration:
/// `(kd)³/6 ≤ 4·k(k + 1)/2·Σᵢ nnzᵢ(nnzᵢ + 1)/2` (its multiply–adds against the normal
/// matrix's). An iteration costs the `(kd)³/6` of the factor however few the rows, where the
/// sequential dual's epochs get cheap. Measured on the first 200, 300 and 500 rows of raw
/// digits (the ratio 7.5, 5 and 2.9; C = 0.1 to 10, tol 1e-8, CPU time), the sequential dual
/// was 2–5× faster; even (hinge) to 2× faster (squared); 5× slower (hinge) to even (squared);
/// on all 1797 rows (0.8), 2–4× (squared) to 15–18× (hinge) slower.
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::{crammer_singer_interior_point_suits, MulticlassProblem};
/// let x = Features::from(vec![1.0; 3 * 4]);
/// let p = MulticlassProblem { x: &x, d: 4, labels: &[0, 1, 2], k: 3, c: 1.0, example_weights: None };
/// // 12 weights: 12³/6 = 288 multiply–adds to factor, 4·(6·3·10) = 720 to form.
/// assert!(crammer_singer_interior_point_suits(&p));
/// // 300 weights: 300³/6 = 4.5·10⁶ to factor, 4·(6·3·5050) = 363 600 to form.
/// let x = Features::from(vec![1.0; 3 * 100]);
/// assert!(!crammer_singer_interior_point_suits(&MulticlassProblem { x: &x, d: 100, ..p }));
/// // 1100 weights: past the limit.
/// let x = Features::from(vec![1.0; 11 * 100]);
/// let labels: Vec<usize> = (0..11).collect();
/// let p = MulticlassProblem { x: &x, d: 100, labels: &labels, k: 11, c: 1.0, example_weights: None };
/// assert!(!crammer_singer_interior_point_suits(&p));
/// ```
pub fn crammer_singer_interior_point_suits(problem: &MulticlassProblem<'_>) -> bool {
    let Some(kd) = weight_count(problem).filter(|&w| w <= MAX_INTERIOR_POINT_FEATURES) else {
        return false;
    };
    // kd ≤ 1024: (kd)³ ≤ 2³⁰.
    short_rows(problem.x, problem.d) && kd.pow(3) / 6 <= normal_work(problem).saturating_mul(4)
}

/// The normal matrix's multiply–adds: `k(k + 1)/2` class pairs for each of the
/// `nnzᵢ(nnzᵢ + 1)/2` feature pairs of each row.
fn normal_work(problem: &MulticlassProblem<'_>) -> usize {
    (0..problem.labels.len())
        .map(|i| {
            let l = (problem.x.row(i, problem.d).entries())
                .filter(|e| e.1 != 0.0)
                .count();
            l * (l + 1) / 2
        })
        .fold(0usize, usize::saturating_add)
        .saturating_mul(problem.k * (problem.k + 1) / 2)
}

/// `k·d`, if it does not overflow.
fn weight_count(problem: &MulticlassProblem<'_>) -> Option<usize> {
    problem.k.checked_mul(problem.d)
}

/// The class of example `i`'s `j`-th constraint (`j < k − 1`): the classes other than `y`, in
/// order.
fn other(y: usize, j: usize) -> usize {
    j + usize::from(j >= y)
}

/// Each example's `k × k` matrix `Kᵢ = Eᵢᵀ·Gᵢ⁻¹·Eᵢ`, its upper triangle packed row by row
/// (`k(k + 1)/2` values per example), with `Gᵢ = diag(sᵢ/λᵢ) + ρᵢ·eeᵀ`, `ρᵢ = pᵢ/qᵢ`, and
/// `Eᵢ`'s rows `e_y − e_m`. With `u = λᵢ/sᵢ`, `τ = Σ u`,
/// `Gᵢ⁻¹ = diag(u) − p·uuᵀ/(q + pτ)` (Sherman–Morrison), so
///
/// ```text
/// K[y][y] = q·τ/(q + pτ),   K[y][m] = −q·u_m/(q + pτ),
/// K[m][m] = u_m·(q + p·τ₋ₘ)/(q + pτ),   K[m][m'] = −p·u_m·u_m'/(q + pτ)   (m ≠ m'),
/// ```
///
/// `τ₋ₘ = Σ_{m'≠m} u_m'` summed directly: `u_m − p·u_m²/(q + pτ)` would cancel when one
/// constraint is active (`u_m → ∞`). `ρ` is kept as a fraction because the hinge's
/// `ρ = ξ/ν` grows without bound at an example whose loss is at the box (`ν → 0`).
fn k_matrices(problem: &MulticlassProblem<'_>, u: &[f64], p: &[f64], q: &[f64]) -> Vec<f64> {
    let (k, j1) = (problem.k, problem.k - 1);
    let mut out = Vec::with_capacity(problem.labels.len() * k * (k + 1) / 2);
    let (mut ki, mut others) = (vec![0.0; k * k], vec![0.0; j1]);
    for (i, &y) in problem.labels.iter().enumerate() {
        let ui = &u[i * j1..(i + 1) * j1];
        let tau: f64 = ui.iter().sum();
        sum_of_others(ui, &mut others);
        let (pi, qi) = (p[i], q[i]);
        let scale = 1.0 / (qi + pi * tau);
        ki[y * k + y] = qi * tau * scale;
        for j in 0..j1 {
            let m = other(y, j);
            ki[y * k + m] = -qi * ui[j] * scale;
            ki[m * k + y] = -qi * ui[j] * scale;
            for jj in 0..j1 {
                let mm = other(y, jj);
                ki[m * k + mm] = if j == jj {
                    ui[j] * (qi + pi * others[j]) * scale
                } else {
                    -pi * ui[j] * ui[jj] * scale
                };
            }
        }
        for a in 0..k {
            out.extend_from_slice(&ki[a * k + a..(a + 1) * k]);
        }
    }
    out
}

/// `others[j] = Σ_{j'≠j} v[j']`, by prefix and suffix sums (no cancellation).
fn sum_of_others(v: &[f64], others: &mut [f64]) {
    let mut prefix = 0.0;
    for (o, &a) in others.iter_mut().zip(v) {
        *o = prefix;
        prefix += a;
    }
    let mut suffix = 0.0;
    for (o, &a) in others.iter_mut().zip(v).rev() {
        *o += suffix;
        suffix += a;
    }
}

/// `Δλᵢ = Gᵢ⁻¹·(cᵢ + e·fᵢ/qᵢ)` and `Δξᵢ = ρᵢ·eᵀΔλᵢ − fᵢ/qᵢ` for every example (`c`,
/// `u = λ/s`: `n·(k − 1)` values; `p`, `q`, `f`: `n`), by Sherman–Morrison as
///
/// ```text
/// Δλ_m = u_m·(q·c_m + f + p·Σ_{m'≠m} u_m'·(c_m − c_m'))/(q + pτ),   Δξ = (p·uᵀc − f)/(q + pτ)
/// ```
///
/// with the differences taken directly: expanded, the hinge's terms grow as `1/ν` at an
/// example at the box (`ν → 0`) and cancel to the last digit.
fn solve_g(
    k: usize,
    u: &[f64],
    (p, q): (&[f64], &[f64]),
    c: &[f64],
    f: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let j1 = k - 1;
    let mut dl = vec![0.0; c.len()];
    let mut dxi = vec![0.0; f.len()];
    for i in 0..f.len() {
        let (ui, ci) = (&u[i * j1..(i + 1) * j1], &c[i * j1..(i + 1) * j1]);
        let tau: f64 = ui.iter().sum();
        let scale = 1.0 / (q[i] + p[i] * tau);
        for j in 0..j1 {
            let spread: f64 = (0..j1)
                .filter(|&jj| jj != j)
                .map(|jj| ui[jj] * (ci[j] - ci[jj]))
                .sum();
            dl[i * j1 + j] = ui[j] * (q[i] * ci[j] + f[i] + p[i] * spread) * scale;
        }
        let uc: f64 = ui.iter().zip(ci).map(|(a, b)| a * b).sum();
        dxi[i] = (p[i] * uc - f[i]) * scale;
    }
    (dl, dxi)
}

/// The index of the feature pair `a ≤ b` among the `d(d + 1)/2` packed row by row.
fn pair(a: usize, b: usize, d: usize) -> usize {
    a * (2 * d - a + 1) / 2 + b - a
}

/// `acc[pair(a, b)] += xᵢₐ·xᵢᵦ·Kᵢ` (each entry `k(k + 1)/2` values, `Kᵢ` packed as
/// [`k_matrices`] leaves it) for the rows in `rows` and the pairs `a ≤ b` of their non-zeros:
/// the normal matrix `Σᵢ Kᵢ ⊗ xᵢxᵢᵀ` feature pair by feature pair, so the inner loop runs over
/// contiguous class pairs, and dense and sparse rows add the same products in the same order.
fn accumulate(
    problem: &MulticlassProblem<'_>,
    rows: std::ops::Range<usize>,
    kmats: &[f64],
    acc: &mut [f64],
) {
    let (d, k) = (problem.d, problem.k);
    let kk = k * (k + 1) / 2;
    let mut nz: Vec<(usize, f64)> = Vec::new();
    for i in rows {
        nz.clear();
        nz.extend(problem.x.row(i, d).entries().filter(|e| e.1 != 0.0));
        let ki = &kmats[i * kk..(i + 1) * kk];
        for (ka, &(a, xa)) in nz.iter().enumerate() {
            let base = pair(a, a, d);
            for &(b, xb) in &nz[ka..] {
                let v = xa * xb;
                let out = &mut acc[(base + b - a) * kk..(base + b - a + 1) * kk];
                axpy(v, ki, out);
            }
        }
    }
}

/// `out += v·x`, four at a time (the loop the normal matrix spends its time in).
fn axpy(v: f64, x: &[f64], out: &mut [f64]) {
    let (mut o4, mut x4) = (out.chunks_exact_mut(4), x.chunks_exact(4));
    for (o, x) in (&mut o4).zip(&mut x4) {
        o[0] += v * x[0];
        o[1] += v * x[1];
        o[2] += v * x[2];
        o[3] += v * x[3];
    }
    for (o, x) in o4.into_remainder().iter_mut().zip(x4.remainder()) {
        *o += v * x;
    }
}

/// `I + Σᵢ Kᵢ ⊗ xᵢxᵢᵀ` (`kd × kd`, full), summed over [`BLOCKS`] row blocks (in parallel past
/// [`PARALLEL_WORK`] multiply–adds, `work`), so the result does not depend on the number of
/// threads.
fn normal_matrix(problem: &MulticlassProblem<'_>, kmats: &[f64], work: usize) -> Vec<f64> {
    let (n, d, k) = (problem.labels.len(), problem.d, problem.k);
    let (kd, kk, dd) = (k * d, k * (k + 1) / 2, d * (d + 1) / 2);
    let block = n.div_ceil(BLOCKS).max(1);
    let part = |b: usize| {
        let mut acc = vec![0.0; dd * kk];
        accumulate(
            problem,
            (b * block).min(n)..((b + 1) * block).min(n),
            kmats,
            &mut acc,
        );
        acc
    };
    let parts: Vec<Vec<f64>> = if work < PARALLEL_WORK {
        (0..BLOCKS).map(part).collect()
    } else {
        (0..BLOCKS).into_par_iter().map(part).collect()
    };
    let mut acc = vec![0.0; dd * kk];
    for part in parts {
        for (a, b) in acc.iter_mut().zip(part) {
            *a += b;
        }
    }
    // Entry (p·d + a, q·d + b) is Σᵢ Kᵢ[p][q]·xᵢₐxᵢᵦ: symmetric in (p, q) and in (a, b).
    let mut m = vec![0.0; kd * kd];
    for a in 0..d {
        for b in a..d {
            let v = &acc[pair(a, b, d) * kk..(pair(a, b, d) + 1) * kk];
            let mut pq = 0;
            for p in 0..k {
                for q in p..k {
                    let (pa, pb, qa, qb) = (p * d + a, p * d + b, q * d + a, q * d + b);
                    m[pa * kd + qb] = v[pq];
                    m[pb * kd + qa] = v[pq];
                    m[qb * kd + pa] = v[pq];
                    m[qa * kd + pb] = v[pq];
                    pq += 1;
                }
            }
        }
    }
    for r in 0..kd {
        m[r * kd + r] += 1.0;
    }
    m
}

/// Every example's `k` scores `xᵢ·w_m` (`n·k` values).
fn scores(problem: &MulticlassProblem<'_>, w: &[f64]) -> Vec<f64> {
    let (d, k) = (problem.d, problem.k);
    let mut out = Vec::with_capacity(problem.labels.len() * k);
    for i in 0..problem.labels.len() {
        let row = problem.x.row(i, d);
        out.extend((0..k).map(|m| row.dot(&w[m * d..(m + 1) * d])));
    }
    out
}

/// `A·W`: the margins `(w_y − w_m)·xᵢ` of every constraint (`n·(k − 1)` values), from
/// [`scores`].
fn margins(problem: &MulticlassProblem<'_>, scores: &[f64]) -> Vec<f64> {
    let k = problem.k;
    let mut out = Vec::with_capacity(problem.labels.len() * (k - 1));
    for (i, &y) in problem.labels.iter().enumerate() {
        let si = &scores[i * k..(i + 1) * k];
        out.extend((0..k - 1).map(|j| si[y] - si[other(y, j)]));
    }
    out
}

/// `Σᵢ Aᵢᵀ·λᵢ`: `w_p = Σᵢ αᵢₚ·xᵢ` with `α_iy = Σ_m λ_im`, `α_im = −λ_im` (`k·d` values).
fn weights_of(problem: &MulticlassProblem<'_>, lambda: &[f64]) -> Vec<f64> {
    let (d, k) = (problem.d, problem.k);
    let mut w = vec![0.0; k * d];
    for (i, &y) in problem.labels.iter().enumerate() {
        let row = problem.x.row(i, d);
        let li = &lambda[i * (k - 1)..(i + 1) * (k - 1)];
        let total: f64 = li.iter().sum();
        if total != 0.0 {
            row.axpy(total, &mut w[y * d..(y + 1) * d]);
        }
        for (j, &l) in li.iter().enumerate() {
            if l != 0.0 {
                let m = other(y, j);
                row.axpy(-l, &mut w[m * d..(m + 1) * d]);
            }
        }
    }
    w
}

/// The Crammer–Singer SVM, hinge (`squared = false`) or squared form, by a primal–dual
/// interior-point method on dense or sparse rows with `k·d ≤`
/// [`MAX_INTERIOR_POINT_FEATURES`], stopping when the duality gap is at most `tol·P(W)` (so
/// `tol` bounds the relative objective error), or after `max_iter` iterations with
/// `converged = false`.
///
/// ```text
/// hinge:   min ½‖W‖² + Σᵢ Cᵢξᵢ    s.t.  sᵢ = AᵢW + ξᵢe − 1 ≥ 0 (λᵢ ≥ 0),  ξᵢ ≥ 0 (νᵢ ≥ 0)
/// squared: min ½‖W‖² + Σᵢ Cᵢξᵢ²   s.t.  sᵢ = AᵢW + ξᵢe − 1 ≥ 0 (λᵢ ≥ 0),  ξᵢ free
///          (AᵢW)_m = (w_yᵢ − w_m)·xᵢ for the k − 1 classes m ≠ yᵢ
/// KKT:     W = Σᵢ Aᵢᵀλᵢ,  eᵀλᵢ + νᵢ = Cᵢ (squared: eᵀλᵢ = 2Cᵢξᵢ),  s∘λ = ξ∘ν = 0
/// Newton:  (I + Σᵢ Kᵢ ⊗ xᵢxᵢᵀ)·ΔW = Σᵢ Aᵢᵀ·Gᵢ⁻¹·bᵢ − r_W,   Gᵢ·Δλᵢ = bᵢ − Aᵢ·ΔW,
///          Gᵢ = diag(sᵢ/λᵢ) + ρᵢ·eeᵀ,  Kᵢ = Eᵢᵀ·Gᵢ⁻¹·Eᵢ,  ρᵢ = ξᵢ/νᵢ (squared: 1/(2Cᵢ))
/// ```
///
/// `Cᵢ = C·sᵢ` is example `i`'s penalty ([`MulticlassProblem::c_of`]; `C` without weights).
///
/// The dual variables are those of [`super::crammer_singer`]: `α_iy = Σ_m λ_im`,
/// `α_im = −λ_im`. Each iteration costs one `kd × kd` normal matrix (`O(k²·Σᵢ nnzᵢ²)`, in
/// parallel) and its Cholesky factor (`O(k³d³)`), used twice (Mehrotra's predictor and
/// corrector). The iterates need not be feasible; the certificate is taken at feasible points:
/// for the hinge `λ̂ᵢ = λᵢ·min(1, Cᵢ/eᵀλᵢ)` (so `α̂` is dual feasible), for the squared form
/// `λ̂ = λ`, and `Ŵ = Σᵢ Aᵢᵀλ̂ᵢ` give the dual value
/// `D = −½‖Ŵ‖² + Σᵢ α̂_iy` (squared: `Σᵢ (α̂_iy − α̂_iy²/(4Cᵢ))`) `≤ P*`, and the better of
/// `W` and `Ŵ` (the best seen) the primal value.
///
/// # Errors
/// Input errors and those of [`super::crammer_singer`]; [`Error::InvalidParameter`] for
/// `max_iter = 0`; [`Error::TooManyFeatures`] when `k·d >` [`MAX_INTERIOR_POINT_FEATURES`].
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::{crammer_singer_interior_point, MulticlassProblem};
/// // d = 1, x₁ = 1 (class 0), x₂ = −1 (class 1): both losses are ℓ(1 − u) for u = w₀ − w₁,
/// // and ½‖W‖² ≥ u²/4 (equal at w₀ = −w₁ = u/2), so P = u²/4 + 2C·ℓ(1 − u).
/// let x = Features::from(vec![1.0, -1.0]);
/// let p = MulticlassProblem { x: &x, d: 1, labels: &[0, 1], k: 2, c: 0.1, example_weights: None };
/// // Hinge: u/2 = 2C below the kink, u = 4C = 0.4 < 1, P* = 0.04 + 0.2·0.6 = 0.16.
/// let s = crammer_singer_interior_point(p, false, 1e-12, 100)?;
/// assert!(s.converged);
/// assert!((s.objective - 0.16).abs() < 1e-12 && (s.w[0] - 0.2).abs() < 1e-9);
/// // Squared: u/2 = 4C·(1 − u), u = 8C/(1 + 8C) = 4/9, P* = 4/81 + 0.2·25/81 = 1/9.
/// let s = crammer_singer_interior_point(p, true, 1e-12, 100)?;
/// assert!(s.converged);
/// assert!((s.objective - 1.0 / 9.0).abs() < 1e-12 && (s.w[0] - 2.0 / 9.0).abs() < 1e-9);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn crammer_singer_interior_point(
    problem: MulticlassProblem<'_>,
    squared: bool,
    tol: f64,
    max_iter: usize,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_iter", max_iter)?;
    let (n, k) = (problem.labels.len(), problem.k);
    let c: Vec<f64> = (0..n).map(|i| problem.c_of(i)).collect();
    let kd = match weight_count(&problem) {
        Some(kd) if kd <= MAX_INTERIOR_POINT_FEATURES => kd,
        _ => {
            return Err(Error::TooManyFeatures {
                solver: "crammer_singer_interior_point",
                features: weight_count(&problem).unwrap_or(usize::MAX),
                limit: MAX_INTERIOR_POINT_FEATURES,
            })
        }
    };
    let j1 = k - 1;
    let work = normal_work(&problem);
    // The start: W = 0, s = 1 and r_ξ = 0. The hinge splits C evenly between λᵢ and νᵢ
    // (ξ = 1), as the binary method does. The squared form's λ has no box to take a scale
    // from: it starts on the ray λ = β·e at the dual's maximiser along it,
    // β = n(k − 1)/(‖Σᵢ Aᵢᵀe‖² + (k − 1)²·Σᵢ 1/(2Cᵢ)), and ξᵢ = eᵀλᵢ/(2Cᵢ) (on raw digits this
    // saves 3 to 8 of 22 to 27 iterations).
    let mut w = vec![0.0; kd];
    let mut s = vec![1.0; n * j1];
    let (mut xi, mut lambda, mut nu) = if squared {
        let ray = sq_norm(&weights_of(&problem, &vec![1.0; n * j1]));
        let constraints = (n * j1) as f64;
        let spread: f64 = c.iter().map(|ci| (j1 * j1) as f64 / (2.0 * ci)).sum();
        let beta = constraints / (ray + spread);
        (
            c.iter().map(|ci| beta * j1 as f64 / (2.0 * ci)).collect(),
            vec![beta; n * j1],
            Vec::new(),
        )
    } else {
        (
            vec![1.0; n],
            (0..n * j1).map(|r| c[r / j1] / (2 * j1) as f64).collect(),
            c.iter().map(|ci| ci / 2.0).collect(),
        )
    };
    // Complementarity pairs: n(k − 1) of s∘λ, and n of ξ∘ν for the hinge.
    let pairs = (if squared { n * j1 } else { n * k }) as f64;
    let mut history = Vec::new();
    // The best primal point seen and the best dual value (both valid bounds on P*).
    let (mut best_f, mut best_w, mut lower) = (f64::INFINITY, w.clone(), f64::NEG_INFINITY);
    for _ in 0..max_iter {
        // The certificate at feasible points (see the docs).
        let hat: Vec<f64> = if squared {
            lambda.clone()
        } else {
            let mut hat = lambda.clone();
            for (li, &ci) in hat.chunks_mut(j1).zip(&c) {
                let total: f64 = li.iter().sum();
                if total > ci {
                    li.iter_mut().for_each(|l| *l *= ci / total);
                }
            }
            hat
        };
        let v = weights_of(&problem, &hat);
        let alpha_y = hat.chunks(j1).map(|li| li.iter().sum::<f64>());
        let dual = if squared {
            alpha_y
                .zip(&c)
                .map(|(a, ci)| a - a * a / (4.0 * ci))
                .sum::<f64>()
        } else {
            alpha_y.sum::<f64>()
        } - 0.5 * sq_norm(&v);
        lower = lower.max(dual);
        let fw = problem.objective_with(&w, squared);
        if fw < best_f {
            (best_f, best_w) = (fw, w.clone());
        }
        let fv = problem.objective_with(&v, squared);
        if fv < best_f {
            (best_f, best_w) = (fv, v);
        }
        history.push(best_f);
        if best_f - lower <= tol * best_f {
            return Ok(Solution::with_gap(best_w, best_f, lower, tol, history));
        }
        // Residuals of the KKT conditions.
        let z = margins(&problem, &scores(&problem, &w));
        let r_w: Vec<f64> = w
            .iter()
            .zip(weights_of(&problem, &lambda))
            .map(|(a, b)| a - b)
            .collect();
        let sum_lambda: Vec<f64> = lambda.chunks(j1).map(|li| li.iter().sum()).collect();
        let r_xi: Vec<f64> = (0..n)
            .map(|i| {
                if squared {
                    2.0 * c[i] * xi[i] - sum_lambda[i]
                } else {
                    c[i] - sum_lambda[i] - nu[i]
                }
            })
            .collect();
        let r_s: Vec<f64> = (0..n * j1)
            .map(|r| z[r] + xi[r / j1] - 1.0 - s[r])
            .collect();
        let complementarity = |s: &[f64], lambda: &[f64], xi: &[f64], nu: &[f64]| {
            let sl: f64 = s.iter().zip(lambda).map(|(a, b)| a * b).sum();
            let xn: f64 = xi.iter().zip(nu).map(|(a, b)| a * b).sum();
            (sl + xn) / pairs
        };
        let t = complementarity(&s, &lambda, &xi, &nu);
        // ρᵢ = pᵢ/qᵢ: ξᵢ/νᵢ for the hinge, 1/(2Cᵢ) for the squared form.
        let (p, q) = if squared {
            (vec![1.0; n], c.iter().map(|ci| 2.0 * ci).collect())
        } else {
            (xi.clone(), nu.clone())
        };
        let u: Vec<f64> = lambda.iter().zip(&s).map(|(l, s)| l / s).collect();
        let mut m = normal_matrix(&problem, &k_matrices(&problem, &u, &p, &q), work);
        if !cholesky_factor(&mut m, kd) {
            break;
        }
        // One Newton direction for the complementarity residuals (r_λ, r_ν).
        let direction = |r_lambda: &[f64], r_nu: &[f64]| {
            // bᵢ = cᵢ + e·fᵢ/qᵢ: cᵢ = −r_sᵢ − r_λᵢ/λᵢ, and fᵢ = r_νᵢ + ξᵢ·r_ξᵢ (hinge) or
            // r_ξᵢ (squared).
            let f: Vec<f64> = (0..n)
                .map(|i| {
                    if squared {
                        r_xi[i]
                    } else {
                        r_nu[i] + xi[i] * r_xi[i]
                    }
                })
                .collect();
            let mut cv: Vec<f64> = (0..n * j1)
                .map(|r| -r_s[r] - r_lambda[r] / lambda[r])
                .collect();
            let (g, _) = solve_g(k, &u, (&p, &q), &cv, &f);
            let rhs: Vec<f64> = weights_of(&problem, &g)
                .iter()
                .zip(&r_w)
                .map(|(a, b)| a - b)
                .collect();
            let dw = cholesky_solve_factored(&m, &rhs, kd);
            let dz = margins(&problem, &scores(&problem, &dw));
            for (a, b) in cv.iter_mut().zip(&dz) {
                *a -= b;
            }
            let (dl, dxi) = solve_g(k, &u, (&p, &q), &cv, &f);
            let ds: Vec<f64> = (0..n * j1)
                .map(|r| (-r_lambda[r] - s[r] * dl[r]) / lambda[r])
                .collect();
            let dnu: Vec<f64> = if squared {
                Vec::new()
            } else {
                (0..n)
                    .map(|i| r_xi[i] - dl[i * j1..(i + 1) * j1].iter().sum::<f64>())
                    .collect()
            };
            (dw, dl, ds, dxi, dnu)
        };
        // The squared form's ξ is free: only the hinge's (ξ, ν) bound the step.
        let bounded = |ds: &[f64], dl: &[f64], dxi: &[f64], dnu: &[f64]| {
            if squared {
                max_step(&[(&s, ds), (&lambda, dl)])
            } else {
                max_step(&[(&s, ds), (&lambda, dl), (&xi, dxi), (&nu, dnu)])
            }
        };
        // Predictor (affine scaling), then the corrector aiming at σ·t with σ = (t_aff/t)³.
        let r_lambda: Vec<f64> = s.iter().zip(&lambda).map(|(a, b)| a * b).collect();
        let r_nu: Vec<f64> = xi.iter().zip(&nu).map(|(a, b)| a * b).collect();
        let (_, dl, ds, dxi, dnu) = direction(&r_lambda, &r_nu);
        let step = bounded(&ds, &dl, &dxi, &dnu);
        let ahead = |v: &[f64], dv: &[f64]| -> Vec<f64> {
            v.iter().zip(dv).map(|(a, b)| a + step * b).collect()
        };
        let t_aff = complementarity(
            &ahead(&s, &ds),
            &ahead(&lambda, &dl),
            &ahead(&xi, &dxi),
            &ahead(&nu, &dnu),
        );
        let sigma = (t_aff / t).powi(3).min(1.0);
        let r_lambda: Vec<f64> = (0..n * j1)
            .map(|r| s[r] * lambda[r] + ds[r] * dl[r] - sigma * t)
            .collect();
        let r_nu: Vec<f64> = (0..nu.len())
            .map(|i| xi[i] * nu[i] + dxi[i] * dnu[i] - sigma * t)
            .collect();
        let (dw, dl, ds, dxi, dnu) = direction(&r_lambda, &r_nu);
        let step = (STEP_FRACTION * bounded(&ds, &dl, &dxi, &dnu)).min(1.0);
        for (a, b) in w.iter_mut().zip(&dw) {
            *a += step * b;
        }
        for r in 0..n * j1 {
            s[r] += step * ds[r];
            lambda[r] += step * dl[r];
        }
        for i in 0..n {
            xi[i] += step * dxi[i];
        }
        for (a, b) in nu.iter_mut().zip(&dnu) {
            *a += step * b;
        }
        if !(t.is_finite() && step > 0.0) {
            break;
        }
    }
    // Out of iterations, or the factorisation lost definiteness to rounding: the best point
    // with its (valid) gap.
    Ok(Solution::with_gap(best_w, best_f, lower, tol, history))
}
