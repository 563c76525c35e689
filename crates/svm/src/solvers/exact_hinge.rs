//! The exact hinge solver [`crate::model::train`] uses: the interior-point method when it suits
//! the data, dual coordinate descent otherwise.

use losses::MarginLoss;

use super::{dual_cd, interior_point, interior_point_suits, Problem, Solution};
use crate::error::Result;

/// The hinge SVM `½‖w‖² + C·Σᵢ max(0, 1 − yᵢ·w·xᵢ)` to relative accuracy `tol` (certified by a
/// duality gap), by the faster of two exact solvers without knowing which in advance:
///
/// - [`dual_cd`] (`seed` orders its coordinates) is fast on well-conditioned problems, and
///   slows down with large `C` and unscaled features;
/// - [`interior_point`] needs tens of iterations whatever `C` and the scaling, each costing
///   about `Σᵢ nnzᵢ²/2` multiply–adds — affordable when [`interior_point_suits`] the problem.
///
/// When it suits, dual coordinate descent runs first for as many epochs as the interior-point
/// method is expected to cost (`8·Σnnzᵢ²/Σnnzᵢ` epochs, at least 50), then the interior-point
/// method takes over: never much more than twice the better of the two. `max_iter` bounds the
/// iterations of both together (epochs plus interior-point iterations, as reported).
///
/// # Errors
/// As [`interior_point`] and [`dual_cd`].
///
/// # Example
/// ```
/// use svm::solvers::{exact_hinge, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 10.0, example_weights: None };
/// let s = exact_hinge(p, 1e-9, 1000, 0)?;
/// assert!(s.converged && s.certificate.value().unwrap() <= 1e-9 * s.objective);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn exact_hinge(p: Problem<'_>, tol: f64, max_iter: usize, seed: u64) -> Result<Solution> {
    if !interior_point_suits(&p) {
        return dual_cd(p, MarginLoss::hinge(), tol, max_iter, seed);
    }
    let budget = coordinate_budget(&p).min(max_iter);
    let cd = dual_cd(p, MarginLoss::hinge(), tol, budget, seed)?;
    if cd.converged || budget == max_iter {
        return Ok(cd);
    }
    let mut s = interior_point(p, tol, max_iter - budget)?;
    s.iterations += cd.iterations;
    Ok(s)
}

/// Dual coordinate descent epochs costing about one interior-point solve: an epoch is ~2·nnz
/// multiply–adds, an interior-point run ~25 normal matrices of Σ nnzᵢ²/2 each.
fn coordinate_budget(p: &Problem<'_>) -> usize {
    let (squares, total) = p.row_work();
    (8 * squares / total.max(1)).max(50)
}
