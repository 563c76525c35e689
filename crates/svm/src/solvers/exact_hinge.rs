//! The exact hinge solver [`crate::model::train`] uses: the interior-point method when it suits
//! the data, dual coordinate descent otherwise.

use losses::MarginLoss;

use super::{dual_cd, interior_point, interior_point_suits, Problem, Solution};
use crate::error::Result;

/// The hinge SVM `½‖w‖² + C·Σᵢ max(0, 1 − yᵢ·w·xᵢ)` to relative accuracy `tol` (certified by a
/// duality gap): by [`interior_point`] when [`interior_point_suits`] the problem (few features:
/// its iteration count does not grow with `C` or the features' scale), else by [`dual_cd`]
/// (`seed` orders its coordinates). `max_iter` bounds the iterations of the one that runs;
/// should the interior-point method break down to rounding before it, dual coordinate descent
/// takes over with the same budget (the report then counts both).
///
/// # Errors
/// As [`interior_point`] and [`dual_cd`].
///
/// # Example
/// ```
/// use svm::solvers::{exact_hinge, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 10.0 };
/// let s = exact_hinge(p, 1e-9, 1000, 0)?;
/// assert!(s.converged && s.certificate.value().unwrap() <= 1e-9 * s.objective);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn exact_hinge(p: Problem<'_>, tol: f64, max_iter: usize, seed: u64) -> Result<Solution> {
    if interior_point_suits(&p) {
        let s = interior_point(p, tol, max_iter)?;
        if s.converged || s.iterations >= max_iter {
            return Ok(s);
        }
        let mut cd = dual_cd(p, MarginLoss::hinge(), tol, max_iter, seed)?;
        cd.iterations += s.iterations;
        return Ok(cd);
    }
    dual_cd(p, MarginLoss::hinge(), tol, max_iter, seed)
}
