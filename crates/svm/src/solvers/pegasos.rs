//! Pegasos: stochastic subgradient descent on the λ-form of the SVM objective.

use losses::MarginLoss;
use rand::{RngExt, SeedableRng};

use super::{Certificate, GradientSource, Problem, Solution};
use crate::error::{Error, Result};

/// Pegasos (Shalev-Shwartz et al.): SGD on the λ-form `(λ/2)‖w‖² + mean ℓ(yᵢ·w·xᵢ)` with
/// `λ = 1/(nC)` (the same minimiser as the liblinear form), steps `1/(λk)`, one random example
/// per step (seeded), returning the average iterate. `loss` is the hinge or the squared hinge
/// (margin 1). Reported objectives are in the liblinear convention, for that loss.
///
/// # Errors
/// Input errors; [`Error::Unsupported`] for another loss.
///
/// # Example
/// ```
/// use losses::MarginLoss;
/// use svm::solvers::{newton, pegasos, Problem};
/// let seed = svm::data::builtin("seed")?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0, example_weights: None };
/// let s = pegasos(p, MarginLoss::squared_hinge(), 500_000, 0)?;
/// // Near the squared-hinge optimum that Newton's method certifies (an independent solver).
/// let best = newton(p, 1e-12, 100)?.objective;
/// assert!((s.objective - best) / best < 0.02, "{} vs {best}", s.objective);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn pegasos(
    problem: Problem<'_>,
    loss: MarginLoss,
    iterations: usize,
    seed: u64,
) -> Result<Solution> {
    pegasos_with(problem, loss, iterations, seed, GradientSource::ClosedForm)
}

/// [`pegasos`] with each step's subgradient of `(λ/2)‖w‖² + ℓ(yᵢ·w·xᵢ)` from the engine (a
/// one-example tape, reused) or from the closed form `λw + ℓ'(zᵢ)·yᵢ·xᵢ` (the hinge's
/// `ℓ'(1) = 0`, the engine's default policy too).
///
/// # Errors
/// As [`pegasos`].
pub fn pegasos_with(
    problem: Problem<'_>,
    loss: MarginLoss,
    iterations: usize,
    seed: u64,
    source: GradientSource,
) -> Result<Solution> {
    problem.check()?;
    let squared = match loss {
        MarginLoss::Hinge { margin: 1.0 } => false,
        MarginLoss::SquaredHinge { margin: 1.0 } => true,
        other => {
            return Err(Error::Unsupported {
                solver: "Pegasos",
                supported: "the hinge and the squared hinge with margin 1",
                loss: other.name().to_string(),
            })
        }
    };
    let (n, d) = (problem.n(), problem.d);
    let mut tape = autodiff::Tape::<f64>::new();
    let mut grads = autodiff::Gradients::new();
    let lambda = 1.0 / (n as f64 * problem.c);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut w = vec![0.0; d];
    let mut avg = vec![0.0; d];
    let mut history = Vec::new();
    let every = (iterations / 200).max(1);
    let mut dense = vec![0.0; d];
    for k in 1..=iterations {
        let i = rng.random_range(0..n);
        let xi = problem.row(i);
        let yi = problem.y[i];
        let z = yi * xi.dot(&w);
        let weight = problem.c_of(i) / problem.c;
        let eta = 1.0 / (lambda * k as f64);
        match source {
            GradientSource::ClosedForm => {
                for wj in w.iter_mut() {
                    *wj *= 1.0 - eta * lambda;
                }
                // The λ-form's loss term of example i is (Cᵢ/C)·ℓ: its weight.
                let dl = loss.derivative(z) * weight;
                if dl != 0.0 {
                    xi.axpy(-eta * dl * yi, &mut w);
                }
            }
            GradientSource::Engine => {
                dense.iter_mut().for_each(|v| *v = 0.0);
                xi.axpy(1.0, &mut dense);
                tape.clear();
                let wv = tape.param_vec(&w)?;
                let xv = tape.constant_vec(&dense)?;
                let margin = wv.try_dot(xv)? * yi;
                let hinge = (1.0 - margin).relu();
                let l = if squared { hinge.square() } else { hinge } * weight;
                let f = l + wv.square().sum() * (0.5 * lambda);
                tape.backward_into(f, &mut grads)?;
                for (wj, gj) in w.iter_mut().zip(grads.wrt(wv)) {
                    *wj -= eta * gj;
                }
            }
        }
        for (a, wj) in avg.iter_mut().zip(&w) {
            *a += (wj - *a) / k as f64;
        }
        if k % every == 0 {
            history.push(problem.value(loss, &avg));
        }
    }
    let objective = problem.value(loss, &avg);
    Ok(Solution {
        w: avg,
        objective,
        iterations,
        converged: false,
        certificate: Certificate::None,
        history,
    })
}
