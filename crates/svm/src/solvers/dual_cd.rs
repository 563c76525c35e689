//! Dual coordinate descent for the hinge and squared hinge (Hsieh et al. 2008; liblinear's
//! `-s 3` and `-s 1`).

use losses::MarginLoss;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{check_iterations, check_tol, sq_norm, Certificate, Problem, Solution};
use crate::error::{Error, Result};

/// The duality gap is computed at least every `GAP_EVERY` epochs, and every `epoch/16` epochs
/// once that is longer (computing it costs about one epoch), besides whenever the shrunk
/// problem is solved.
const GAP_EVERY: usize = 10;

/// The smallest spread of projected gradients the shrunk problem is asked to reach (below it,
/// rounding decides).
const MIN_INNER_TOL: f64 = 1e-12;

/// Dual coordinate descent for the hinge (L1-loss) or squared hinge (L2-loss) SVM, on dense or
/// sparse rows, returning the best primal point seen at its checks, stopping when the duality gap is at most `tol·f(w)` (so `tol` bounds the
/// relative objective error), or after `max_epochs` epochs with `converged = false` and the
/// gap reached as the certificate.
///
/// Coordinates stuck at a bound are shrunk (skipped) as in liblinear, and all come back whenever
/// the remaining ones are solved; the gap is always taken over every example, every
/// few epochs (see `GAP_EVERY`) and whenever the shrunk problem is solved.
///
/// ```text
/// dual: min_α ½·αᵀ(Q + D)α − Σα,  0 ≤ αᵢ ≤ Uᵢ,  Qᵢⱼ = yᵢyⱼ·xᵢ·xⱼ,  w = Σ αᵢyᵢxᵢ
/// hinge: Uᵢ = Cᵢ, D = 0;   squared hinge: Uᵢ = ∞, Dᵢᵢ = 1/(2Cᵢ)
/// D(α) = Σα − ½‖w‖² − ½·Σ Dᵢᵢαᵢ²  ≤  f*  ≤  f(w)
/// ```
///
/// `Cᵢ = C·sᵢ` is example `i`'s penalty ([`Problem::c_of`]; `C` without weights).
///
/// A row with `‖xᵢ‖ = 0` under the hinge has `Qᵢᵢ = 0`: its margin is 0 at every `w`, so
/// `∂D/∂αᵢ = −1` and its optimal `αᵢ` is `Cᵢ`; it is set there at the start (it cannot move `w`)
/// and never visited, so the dual value, and with it the gap, stays exact.
///
/// # Errors
/// [`Error::InvalidParameter`] for a loss other than the hinge or squared hinge (margin 1), a
/// bad `C` or `tol`, or `max_epochs = 0`; [`Error::NoFeatures`] for `d = 0`; input errors.
///
/// # Example
/// ```
/// use losses::MarginLoss;
/// use svm::solvers::{dual_cd, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 10.0, example_weights: None };
/// let s = dual_cd(p, MarginLoss::hinge(), 1e-9, 100_000, 0)?;
/// assert!(s.converged);
/// assert!(s.certificate.value().unwrap() <= 1e-9 * s.objective);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn dual_cd(
    problem: Problem<'_>,
    loss: MarginLoss,
    tol: f64,
    max_epochs: usize,
    seed: u64,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_epochs", max_epochs)?;
    let (n, d) = (problem.n(), problem.d);
    // Per example: the box Uᵢ and the diagonal Dᵢᵢ.
    let (upper, diag): (Vec<f64>, Vec<f64>) = match loss {
        MarginLoss::Hinge { margin: 1.0 } => {
            ((0..n).map(|i| problem.c_of(i)).collect(), vec![0.0; n])
        }
        MarginLoss::SquaredHinge { margin: 1.0 } => (
            vec![f64::INFINITY; n],
            (0..n).map(|i| 0.5 / problem.c_of(i)).collect(),
        ),
        _ => {
            return Err(Error::InvalidParameter {
                name: "loss (dual coordinate descent needs the hinge or squared hinge)",
                value: f64::NAN,
                range: "hinge, squared-hinge",
            })
        }
    };
    let qii: Vec<f64> = (0..n).map(|i| problem.row(i).sq_norm() + diag[i]).collect();
    let mut alpha = vec![0.0; n];
    let mut w = vec![0.0; d];
    for i in (0..n).filter(|&i| qii[i] == 0.0) {
        // Only the hinge (D = 0) gets here, for xᵢ = 0 or a row whose squares underflow: its
        // margin is (as good as) 0 < 1 at any w, so ∂D/∂αᵢ = −1 and αᵢ = Cᵢ = Uᵢ is optimal.
        // w = Σ αᵢyᵢxᵢ is kept exact (a no-op for xᵢ = 0).
        alpha[i] = upper[i];
        problem.row(i).axpy(upper[i] * problem.y[i], &mut w);
    }
    // Shrinking (as in liblinear): `order[..active]` are the coordinates still visited. A
    // coordinate at a bound whose gradient points outward past last epoch's extreme projected
    // gradient is set aside; when the active ones are optimal to `inner_tol`, every coordinate
    // comes back. Stopping is decided by the duality gap over all examples, so shrinking can
    // slow convergence down but never end it early.
    let mut order: Vec<usize> = (0..n).collect();
    let mut active = n;
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut inner_tol = 0.1;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut history = Vec::new();
    // The primal value of the dual iterates is not monotone: the best one seen at a check is
    // kept and returned. D(α) only grows, so best f − current D is a valid gap.
    let mut best: Option<(f64, Vec<f64>)> = None;
    let mut check = |w: &[f64], alpha: &[f64]| {
        let objective = problem.value(loss, w);
        let dual = alpha.iter().sum::<f64>()
            - 0.5 * sq_norm(w)
            - 0.5
                * alpha
                    .iter()
                    .zip(&diag)
                    .map(|(a, di)| di * a * a)
                    .sum::<f64>();
        if best.as_ref().is_none_or(|(f, _)| objective < *f) {
            best = Some((objective, w.to_vec()));
        }
        let f = best.as_ref().map_or(objective, |b| b.0);
        (f, f - dual)
    };
    let mut next_check = GAP_EVERY;
    for epoch in 1..=max_epochs {
        order[..active].shuffle(&mut rng);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut s = 0;
        while s < active {
            let i = order[s];
            if qii[i] == 0.0 {
                // Fixed at αᵢ = C above.
                s += 1;
                continue;
            }
            let xi = problem.row(i);
            let yi = problem.y[i];
            let (ui, g) = (upper[i], yi * xi.dot(&w) - 1.0 + diag[i] * alpha[i]);
            let shrink = (alpha[i] == 0.0 && g > pg_max_old) || (alpha[i] == ui && g < pg_min_old);
            if shrink {
                active -= 1;
                order.swap(s, active);
                continue;
            }
            let pg = if alpha[i] == 0.0 {
                g.min(0.0)
            } else if alpha[i] == ui {
                g.max(0.0)
            } else {
                g
            };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg != 0.0 {
                let old = alpha[i];
                alpha[i] = (old - g / qii[i]).clamp(0.0, ui);
                xi.axpy((alpha[i] - old) * yi, &mut w);
            }
            s += 1;
        }
        let solved_active = pg_max - pg_min <= inner_tol;
        if solved_active && active < n {
            // The active set is solved: bring every coordinate back, and ask more next time.
            active = n;
            (pg_max_old, pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
            inner_tol = (inner_tol * 0.1).max(MIN_INNER_TOL);
        } else {
            if solved_active {
                inner_tol = (inner_tol * 0.1).max(MIN_INNER_TOL);
            }
            pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
            pg_min_old = if pg_min >= 0.0 {
                f64::NEG_INFINITY
            } else {
                pg_min
            };
        }
        if solved_active || epoch >= next_check {
            next_check = epoch + GAP_EVERY.max(epoch / 16);
            let (objective, gap) = check(&w, &alpha);
            history.push(objective);
            if gap <= tol * objective {
                return Ok(Solution {
                    w: best.map_or(w, |b| b.1),
                    objective,
                    iterations: epoch,
                    converged: true,
                    certificate: Certificate::DualityGap(gap),
                    history,
                });
            }
        }
    }
    let (objective, gap) = check(&w, &alpha);
    history.push(objective);
    Ok(Solution {
        w: best.map_or(w, |b| b.1),
        objective,
        iterations: max_epochs,
        converged: gap <= tol * objective,
        certificate: Certificate::DualityGap(gap),
        history,
    })
}
