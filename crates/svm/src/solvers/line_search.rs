//! The one line search the smooth solvers share.

use crate::error::Result;

/// One gradient step with Armijo backtracking from `w` (objective `fw`, gradient `g`): halves
/// `step` until `f(w − step·g) ≤ fw − 10⁻⁴·step·‖g‖²` (or `step < 10⁻¹⁶`), then doubles it for
/// the next call. Returns the new point with its objective and gradient.
pub(crate) fn armijo_step(
    w: &[f64],
    fw: f64,
    g: &[f64],
    step: &mut f64,
    f: &mut impl FnMut(&[f64]) -> Result<(f64, Vec<f64>)>,
) -> Result<(Vec<f64>, f64, Vec<f64>)> {
    let g2: f64 = super::sq_norm(g);
    loop {
        let trial: Vec<f64> = w.iter().zip(g).map(|(a, b)| a - *step * b).collect();
        let (ft, gt) = f(&trial)?;
        if ft <= fw - 1e-4 * *step * g2 || *step < 1e-16 {
            *step *= 2.0;
            return Ok((trial, ft, gt));
        }
        *step *= 0.5;
    }
}
