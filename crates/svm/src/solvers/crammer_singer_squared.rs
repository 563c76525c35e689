//! The sequential dual method for the squared (L2-loss) Crammer–Singer SVM (Lee & Lin 2013).

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::crammer_singer::MulticlassProblem;
use super::{check_iterations, check_tol, sq_norm, Certificate, Solution};
use crate::error::Result;

/// The squared Crammer–Singer SVM `½‖W‖² + C·Σᵢ max(0, max_{r≠yᵢ}(1 + wᵣ·xᵢ − w_yᵢ·xᵢ))²` by
/// the sequential dual method: each example's `k` dual variables are optimised exactly in turn
/// (seeded random order), on dense or sparse rows, until the duality gap is at most
/// `tol·P(W)` or `max_epochs` epochs have run (`converged = false`).
///
/// ```text
/// dual: min_α ½‖W‖² + Σᵢ Σ_{m≠yᵢ} αᵢₘ + (1/4C)·Σᵢ αᵢ,yᵢ²,   W_m = Σᵢ αᵢₘ·xᵢ,
///       Σₘ αᵢₘ = 0,  αᵢₘ ≤ 0 (m ≠ yᵢ)
/// gap:  P(W) − D(α),   D(α) = −½‖W‖² + Σᵢ αᵢ,yᵢ − (1/4C)·Σᵢ αᵢ,yᵢ²
/// ```
///
/// Each sub-problem `min ½a·Σ αₘ² + Σ Bₘαₘ + α_y²/(4C)` under those constraints has the
/// solution `αₘ = min(0, (β − Bₘ)/a)`, `α_y = (β − B_y)/(a + 1/(2C))`, with `β` found by
/// walking the `Bₘ` in decreasing order.
///
/// # Errors
/// As [`super::crammer_singer`].
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::{crammer_singer_squared, MulticlassProblem};
/// // d = 1, x₁ = 1 (class 0), x₂ = −1 (class 1): P = u²/4 + 2C·(1 − u)² for u = w₀ − w₁ < 1,
/// // least at u = 8C/(1 + 8C); at C = 0.1, u = 4/9 and P* = 1/9.
/// let x = Features::from(vec![1.0, -1.0]);
/// let p = MulticlassProblem { x: &x, d: 1, labels: &[0, 1], k: 2, c: 0.1 };
/// let s = crammer_singer_squared(p, 1e-12, 10_000, 0)?;
/// assert!(s.converged);
/// assert!((s.objective - 1.0 / 9.0).abs() < 1e-12);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn crammer_singer_squared(
    problem: MulticlassProblem<'_>,
    tol: f64,
    max_epochs: usize,
    seed: u64,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_epochs", max_epochs)?;
    let (n, d, k, c) = (problem.labels.len(), problem.d, problem.k, problem.c);
    let row = |i: usize| problem.x.row(i, d);
    let sq: Vec<f64> = (0..n).map(|i| row(i).sq_norm()).collect();
    let mut alpha = vec![0.0; n * k];
    let mut w = vec![0.0; k * d];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut b, mut sorted) = (vec![0.0; k], Vec::with_capacity(k));
    let mut history = Vec::new();
    let gap_of = |w: &[f64], alpha: &[f64]| {
        let primal = problem.objective_with(w, true);
        let dual = -0.5 * sq_norm(w)
            + (0..n)
                .map(|i| {
                    let a = alpha[i * k + problem.labels[i]];
                    a - a * a / (4.0 * c)
                })
                .sum::<f64>();
        (primal, primal - dual)
    };
    for epoch in 1..=max_epochs {
        order.shuffle(&mut rng);
        for &i in &order {
            let (xi, y, a) = (row(i), problem.labels[i], sq[i]);
            let ai = &mut alpha[i * k..(i + 1) * k];
            for m in 0..k {
                let e = if m == y { 0.0 } else { 1.0 };
                b[m] = xi.dot(&w[m * d..(m + 1) * d]) + e - a * ai[m];
            }
            if a == 0.0 {
                // xᵢ = 0 (W cannot move): min Σ Bₘαₘ + α_y²/(4C) puts the mass t on the
                // largest other Bₘ: α_y = t, α_m* = −t, t = max(0, 2C·(B_m* − B_y)).
                let Some(top) = (0..k)
                    .filter(|&m| m != y)
                    .max_by(|&p, &q| b[p].total_cmp(&b[q]))
                else {
                    continue;
                };
                let t = (2.0 * c * (b[top] - b[y])).max(0.0);
                ai.iter_mut().for_each(|v| *v = 0.0);
                ai[y] = t;
                ai[top] = -t;
                continue;
            }
            // α_y's curvature includes the 1/(2C) of the squared loss.
            let ay = a + 0.5 / c;
            // β with S = the classes m ≠ y whose Bₘ > β: β·(1/a_y + |S|/a) = B_y/a_y + Σ_S Bₘ/a.
            sorted.clear();
            sorted.extend((0..k).filter(|&m| m != y).map(|m| b[m]));
            sorted.sort_by(|p, q| q.total_cmp(p));
            let (mut num, mut den) = (b[y] / ay, 1.0 / ay);
            let mut beta = num / den;
            for &bm in &sorted {
                if bm <= beta {
                    break;
                }
                num += bm / a;
                den += 1.0 / a;
                beta = num / den;
            }
            for m in 0..k {
                let new = if m == y {
                    (beta - b[y]) / ay
                } else {
                    ((beta - b[m]) / a).min(0.0)
                };
                let delta = new - ai[m];
                if delta != 0.0 {
                    xi.axpy(delta, &mut w[m * d..(m + 1) * d]);
                    ai[m] = new;
                }
            }
        }
        if epoch % 2 == 0 {
            let (primal, gap) = gap_of(&w, &alpha);
            history.push(primal);
            if gap <= tol * primal {
                return Ok(Solution {
                    w,
                    objective: primal,
                    iterations: epoch,
                    converged: true,
                    certificate: Certificate::DualityGap(gap),
                    history,
                });
            }
        }
    }
    let (primal, gap) = gap_of(&w, &alpha);
    history.push(primal);
    Ok(Solution {
        w,
        objective: primal,
        iterations: max_epochs,
        converged: gap <= tol * primal,
        certificate: Certificate::DualityGap(gap),
        history,
    })
}
