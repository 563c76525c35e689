//! The sequential dual method for the squared (L2-loss) Crammer–Singer SVM (Lee & Lin 2013).

use super::crammer_singer::{sequential_dual, Form, MulticlassProblem};
use super::Solution;
use crate::error::Result;
use crate::matrix::Row;

/// The squared Crammer–Singer SVM `½‖W‖² + Σᵢ Cᵢ·max(0, max_{r≠yᵢ}(1 + wᵣ·xᵢ − w_yᵢ·xᵢ))²` by
/// the sequential dual method: each example's `k` dual variables are optimised exactly in turn
/// (seeded random order), on dense or sparse rows, until the duality gap is at most
/// `tol·P(W)` or `max_epochs` epochs have run (`converged = false`).
///
/// ```text
/// dual: min_α ½‖W‖² + Σᵢ Σ_{m≠yᵢ} αᵢₘ + Σᵢ αᵢ,yᵢ²/(4Cᵢ),   W_m = Σᵢ αᵢₘ·xᵢ,
///       Σₘ αᵢₘ = 0,  αᵢₘ ≤ 0 (m ≠ yᵢ)
/// gap:  P(W) − D(α),   D(α) = −½‖W‖² + Σᵢ αᵢ,yᵢ − Σᵢ αᵢ,yᵢ²/(4Cᵢ)
/// ```
///
/// Each sub-problem `min ½a·Σ αₘ² + Σ Bₘαₘ + α_y²/(4Cᵢ)` under those constraints has the
/// solution `αₘ = min(0, (β − Bₘ)/a)`, `α_y = (β − B_y)/(a + 1/(2Cᵢ))`, with `β` found by
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
/// let p = MulticlassProblem { x: &x, d: 1, labels: &[0, 1], k: 2, c: 0.1, example_weights: None };
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
    sequential_dual(problem, Form::Squared, tol, max_epochs, seed)
}

/// The squared form's sub-problem for one example (`a = ‖xᵢ‖²`, `ai` its `k` dual variables),
/// solved into `new` (returns `true`), or, for `xᵢ = 0`, written straight into `ai` (returns
/// `false`: W cannot move).
#[allow(clippy::too_many_arguments)]
pub(super) fn squared_step(
    xi: Row<'_>,
    y: usize,
    a: f64,
    c: f64,
    ai: &mut [f64],
    w: &[f64],
    b: &mut [f64],
    sorted: &mut Vec<f64>,
    new: &mut [f64],
) -> bool {
    let k = ai.len();
    let d = w.len() / k;
    for m in 0..k {
        let e = if m == y { 0.0 } else { 1.0 };
        b[m] = xi.dot(&w[m * d..(m + 1) * d]) + e - a * ai[m];
    }
    if a == 0.0 {
        // xᵢ = 0 (W cannot move): min Σ Bₘαₘ + α_y²/(4C) puts the mass t on the largest other
        // Bₘ: α_y = t, α_m* = −t, t = max(0, 2C·(B_m* − B_y)).
        if let Some(top) = (0..k)
            .filter(|&m| m != y)
            .max_by(|&p, &q| b[p].total_cmp(&b[q]))
        {
            let t = (2.0 * c * (b[top] - b[y])).max(0.0);
            ai.iter_mut().for_each(|v| *v = 0.0);
            ai[y] = t;
            ai[top] = -t;
        }
        return false;
    }
    // α_y's curvature includes the 1/(2C) of the squared loss.
    let ay = a + 0.5 / c;
    // β with S = the classes m ≠ y whose Bₘ > β: β·(1/a_y + |S|/a) = B_y/a_y + Σ_S Bₘ/a.
    sorted.clear();
    sorted.extend((0..k).filter(|&m| m != y).map(|m| b[m]));
    sorted.sort_by(|p, q| q.total_cmp(p));
    let (mut num, mut den) = (b[y] / ay, 1.0 / ay);
    let mut beta = num / den;
    for &bm in sorted.iter() {
        if bm <= beta {
            break;
        }
        num += bm / a;
        den += 1.0 / a;
        beta = num / den;
    }
    for m in 0..k {
        new[m] = if m == y {
            (beta - b[y]) / ay
        } else {
            ((beta - b[m]) / a).min(0.0)
        };
    }
    true
}
