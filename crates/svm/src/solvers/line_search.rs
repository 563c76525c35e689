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

/// The smallest step [`backtrack`] tries.
const MIN_STEP: f64 = 1e-12;

/// What [`backtrack`] found along a direction.
pub(crate) enum Backtrack {
    /// A step met the Armijo condition: the point, its objective and gradient.
    Accepted(Vec<f64>, f64, Vec<f64>),
    /// The step fell below [`MIN_STEP`] without meeting it: the last point tried.
    Exhausted(Vec<f64>, f64, Vec<f64>),
}

/// Backtracking along a descent direction `s` from `w` (objective `fw`, slope `∇f·s < 0`):
/// tries `t = 1, ½, ¼, …` until `f(w + t·s) ≤ fw + 10⁻⁴·t·∇f·s`, giving up once `t` is below
/// [`MIN_STEP`] (that last point is returned too; the Newton methods decide what to do).
pub(crate) fn backtrack(
    w: &[f64],
    fw: f64,
    s: &[f64],
    slope: f64,
    f: &mut impl FnMut(&[f64]) -> Result<(f64, Vec<f64>)>,
) -> Result<Backtrack> {
    let mut t = 1.0;
    loop {
        let trial: Vec<f64> = w.iter().zip(s).map(|(a, b)| a + t * b).collect();
        let (ft, gt) = f(&trial)?;
        if ft <= fw + 1e-4 * t * slope {
            return Ok(Backtrack::Accepted(trial, ft, gt));
        }
        if t < MIN_STEP {
            return Ok(Backtrack::Exhausted(trial, ft, gt));
        }
        t *= 0.5;
    }
}
