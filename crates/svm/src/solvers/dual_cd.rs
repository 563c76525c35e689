//! Dual coordinate descent for the hinge and squared hinge (Hsieh et al. 2008; liblinear's
//! `-s 3` and `-s 1`).

use losses::MarginLoss;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::face_cg::polish_cg;
use super::newton::{cholesky_factor, cholesky_solve_factored, dot};
use super::{check_iterations, check_tol, sq_norm, Certificate, Problem, Solution};
use crate::error::{Error, Result};
use crate::matrix::Row;

/// The duality gap is computed at least every `GAP_EVERY` epochs, and every `epoch/16` epochs
/// once that is longer (computing it costs about one epoch), besides whenever the shrunk
/// problem is solved.
const GAP_EVERY: usize = 10;

/// An epoch visits rows in a shuffled order, which the hardware prefetchers cannot follow: the
/// row this many visits ahead is prefetched.
const PREFETCH_AHEAD: usize = 4;

/// The smallest spread of projected gradients the shrunk problem is asked to reach (below it,
/// rounding decides).
const MIN_INNER_TOL: f64 = 1e-12;

/// Dual coordinate descent for the hinge (L1-loss) or squared hinge (L2-loss) SVM, on dense or
/// sparse rows, returning the best primal point seen at its checks, stopping when the duality
/// gap is at most `tol·f(w)` (so `tol` bounds the relative objective error), or after `max_epochs` epochs with `converged = false` and the
/// gap reached as the certificate.
///
/// Coordinates stuck at a bound are shrunk (skipped) as in liblinear, and all come back whenever
/// the remaining ones are solved; the gap is always taken over every example, every
/// few epochs (see `GAP_EVERY`) and whenever the shrunk problem is solved.
///
/// At each gap check that has not converged, an active-set step guesses which coordinates are
/// free at the optimum (those a projected Newton step leaves inside their box) and solves the
/// dual on them with the others at their bounds, revising the guess for a few rounds (a
/// primal–dual active-set iteration): by a Cholesky solve of size `|F|` up to 2048 free
/// coordinates, and beyond by conjugate gradients on products with `Q_FF` (two passes over the
/// free rows each, on two threads above about a million stored values, with the same bits on
/// any number of threads), to a gap of `tol·f/2`. When the guess is right the gap closes at
/// once; the step is kept only when it raises the dual value, and it is tried only while the
/// work of the steps that did not shrink the gap tenfold stays below the epochs' (so it at
/// most doubles a run that it does not shorten); after each such conjugate-gradient step in a
/// row it also waits 1, 3, 7, … checks.
///
/// Epochs visit the examples in a shuffled order, so each one prefetches the row it will
/// visit four steps later (the hardware cannot guess it).
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
    dual_cd_with(problem, loss, tol, max_epochs, seed, &mut |_, _, _, _| {
        Ok(None)
    })
}

/// A caller's step at [`dual_cd_with`]'s gap checks: from the current `w` and its margins
/// `yᵢ·w·xᵢ`, after the given number of epochs, with the relative gap reached, a certified
/// solution to return in place of going on (its iterations are added to the epochs), or `None`.
pub(super) type Hook<'h> = dyn FnMut(&[f64], &[f64], usize, f64) -> Result<Option<Solution>> + 'h;

/// [`dual_cd`], calling `hook` at every gap check that has not converged.
///
/// # Errors
/// As [`dual_cd`], and `hook`'s.
pub(super) fn dual_cd_with(
    problem: Problem<'_>,
    loss: MarginLoss,
    tol: f64,
    max_epochs: usize,
    seed: u64,
    hook: &mut Hook<'_>,
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
    // Work in stored values touched: by the epochs, and by the active-set steps.
    let total = nonzeros(&problem);
    let mut cd_work = 0usize;
    let mut polish_work = 0usize;
    // Checks to pass over before the next active-set step, and the conjugate-gradient steps in
    // a row that did not pay (each doubles the wait).
    let (mut wait, mut misses) = (0usize, 0u32);
    let coords = Coordinates {
        upper: &upper,
        diag: &diag,
        qii: &qii,
    };
    // `free_cap`, computed the first time a polish needs it.
    let mut cap = None;
    let mut check = |w: &mut Vec<f64>, alpha: &mut Vec<f64>, z: &mut Vec<f64>, cd_work: usize| {
        let objective = primal(&problem, loss, w, z);
        let mut dual = dual_value(alpha, w, &diag);
        if best.as_ref().is_none_or(|(f, _)| objective < *f) {
            best = Some((objective, w.clone()));
        }
        let f = best.as_ref().map_or(objective, |b| b.0);
        let mut adopted = false;
        let due = wait == 0;
        wait = wait.saturating_sub(1);
        if f - dual > tol * f && polish_work <= cd_work && due {
            // Not there yet: try the exact solve on the free coordinates the margins predict,
            // as long as the steps that did not pay for themselves have cost no more than the
            // epochs so far.
            let (found, spent, by_cg) = polish(
                &problem,
                &coords,
                alpha,
                w,
                z,
                total,
                &mut cap,
                0.5 * tol * f,
            );
            let mut paid = false;
            if let Some((a, v)) = found {
                let d_new = dual_value(&a, &v, &diag);
                // The new point's margins, which become z if it is adopted: z always holds
                // the margins of the current w.
                let mut zv = vec![0.0; z.len()];
                let f_new = primal(&problem, loss, &v, &mut zv);
                if best.as_ref().is_none_or(|(f, _)| f_new < *f) {
                    best = Some((f_new, v.clone()));
                }
                if d_new > dual {
                    let f_now = best.as_ref().map_or(f_new, |b| b.0);
                    paid = f_now - d_new <= PAID * (f - dual);
                    (*alpha, *w, *z, dual) = (a, v, zv, d_new);
                    adopted = true;
                }
            }
            if paid {
                misses = 0;
            } else {
                polish_work = polish_work.saturating_add(spent);
                if by_cg {
                    misses = misses.saturating_add(1);
                    wait = (1usize << misses.min(16)) - 1;
                }
            }
        }
        let f = best.as_ref().map_or(objective, |b| b.0);
        (f, f - dual, adopted)
    };
    let mut z = vec![0.0; n];
    let mut next_check = GAP_EVERY;
    for epoch in 1..=max_epochs {
        order[..active].shuffle(&mut rng);
        cd_work = cd_work.saturating_add(2 * active * (total / n.max(1)).max(1));
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut s = 0;
        while s < active {
            let i = order[s];
            if let Some(&k) = order[..active].get(s + PREFETCH_AHEAD) {
                problem.row(k).prefetch();
            }
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
            let (objective, gap, adopted) = check(&mut w, &mut alpha, &mut z, cd_work);
            history.push(objective);
            if adopted {
                // α moved as a whole: every coordinate is visited again.
                active = n;
                (pg_max_old, pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
            }
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
            if let Some(mut s) = hook(&w, &z, epoch, gap / objective)? {
                s.iterations += epoch;
                return Ok(s);
            }
        }
    }
    let (objective, gap, _) = check(&mut w, &mut alpha, &mut z, cd_work);
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

/// `f(w)`, leaving the margins `zᵢ = yᵢ·w·xᵢ` in `z`.
pub(super) fn primal(problem: &Problem<'_>, loss: MarginLoss, w: &[f64], z: &mut [f64]) -> f64 {
    problem.margins_into(w, z);
    let sum: f64 = z
        .iter()
        .enumerate()
        .map(|(i, &zi)| problem.c_of(i) * loss.value(zi))
        .sum();
    0.5 * sq_norm(w) + sum
}

/// `w = Σ αᵢyᵢxᵢ`, over the non-zero `αᵢ` in index order.
fn weights_of(problem: &Problem<'_>, alpha: &[f64]) -> Vec<f64> {
    let mut w = vec![0.0; problem.d];
    for (i, &a) in alpha.iter().enumerate().filter(|(_, a)| **a != 0.0) {
        problem.row(i).axpy(a * problem.y[i], &mut w);
    }
    w
}

/// `D(α) = Σα − ½‖w‖² − ½·Σ Dᵢᵢαᵢ²` for `w = Σ αᵢyᵢxᵢ`.
fn dual_value(alpha: &[f64], w: &[f64], diag: &[f64]) -> f64 {
    alpha.iter().sum::<f64>()
        - 0.5 * sq_norm(w)
        - 0.5
            * alpha
                .iter()
                .zip(diag)
                .map(|(a, di)| di * a * a)
                .sum::<f64>()
}

/// An active-set step that shrinks the gap by at least this factor has paid for itself: its
/// work is not counted against the next ones.
const PAID: f64 = 0.1;

/// The most free coordinates [`polish`] solves for at once (its matrix is `m × m`).
const MAX_FREE: usize = 2048;

/// The most rounds of [`polish`]'s active-set iteration.
const POLISH_ROUNDS: usize = 8;

/// The cost one [`polish`] may take, in epochs of coordinate descent (passes over the stored
/// values).
const POLISH_EPOCHS: usize = 24;

/// Up to this many values (`m·d`), [`polish`] copies its free rows into a dense block.
const DENSE_BLOCK: usize = 1 << 22;

/// What [`polish`] found: a dual point `α` in the box and its `w = Σ αᵢyᵢxᵢ`.
pub(super) type Polished = (Vec<f64>, Vec<f64>);

/// Where a coordinate sits in [`polish`]'s active-set guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// `αᵢ = 0`.
    Lower,
    /// `0 < αᵢ < Uᵢ`, solved for.
    Free,
    /// `αᵢ = Uᵢ`.
    Upper,
}

/// The active-set step (a primal–dual active-set iteration on the dual, started from the
/// coordinate-descent iterate): the coordinates a projected Newton step would leave strictly
/// inside their box are solved for exactly, the others fixed at their bound, and the guess
/// is revised from the result until it repeats.
///
/// With margins `zᵢ = yᵢ·w·xᵢ`, the dual gradient is `gᵢ = zᵢ − 1 + Dᵢᵢαᵢ`; coordinate `i` is
/// guessed at 0 where `αᵢ − gᵢ/Qᵢᵢ ≤ 0`, at `Uᵢ` where it is `≥ Uᵢ`, and free (set `F`)
/// otherwise. On `F` the gradient is set to zero with the others fixed:
///
/// ```text
/// (Q_FF + D_F)·α_F = 1 − Y_F·X_F·w₀,   w₀ = Σ_{αᵢ = Uᵢ} Uᵢyᵢxᵢ
/// ```
///
/// When a guess repeats, its `α` satisfies every optimality condition (up to rounding) and the
/// gap closes. Returns the last `α` clamped to the box with its `w = Σ αᵢyᵢxᵢ`, recomputed from
/// scratch (the caller keeps it only if the dual value improved); `None` when there is
/// nothing to solve, the solve would cost more than about [`POLISH_EPOCHS`] epochs, or the
/// matrix is singular at the first round.
///
/// A first guess of more than [`MAX_FREE`] free coordinates (after capping at [`free_cap`]) is
/// handed to [`polish_cg`], which solves each face by conjugate gradients to the gap `target`;
/// the flag says so.
///
/// `cap` holds [`free_cap`] once it has been needed (it is the same for every call of a run).
#[allow(clippy::too_many_arguments)]
fn polish(
    problem: &Problem<'_>,
    coords: &Coordinates<'_>,
    alpha: &[f64],
    w: &[f64],
    z: &[f64],
    total: usize,
    cap: &mut Option<usize>,
    target: f64,
) -> (Option<Polished>, usize, bool) {
    let free = (0..problem.n())
        .filter(|&i| {
            let t = alpha[i] - (z[i] - 1.0 + coords.diag[i] * alpha[i]) / coords.qii[i];
            coords.qii[i] > 0.0 && t > 0.0 && t < coords.upper[i]
        })
        .count();
    if free > MAX_FREE {
        let cap = *cap.get_or_insert_with(|| free_cap(problem, coords.upper));
        if free.min(cap) > MAX_FREE {
            let (found, spent) = polish_cg(problem, coords, alpha, w, z, total, cap, target);
            return (found, spent, true);
        }
    }
    // First as guessed; if that does not settle, with the free set capped at the rank bound
    // (see `guess_sides`).
    let (found, spent, exact, guessed) = polish_with(problem, coords, alpha, z, total, usize::MAX);
    if exact {
        return (found, spent, false);
    }
    let cap = *cap.get_or_insert_with(|| free_cap(problem, coords.upper));
    if guessed <= cap {
        // The guess was within the bound: capping would change nothing.
        return (found, spent, false);
    }
    let (capped, more, exact, _) = polish_with(problem, coords, alpha, z, total, cap);
    let spent = spent.saturating_add(more);
    if exact || found.is_none() {
        (capped, spent, false)
    } else {
        (found, spent, false)
    }
}

/// One [`polish`] attempt with at most `cap` free coordinates per guess; also says whether the
/// guess repeated (the result is then optimal up to rounding) and how many coordinates the
/// first guess left free.
fn polish_with(
    problem: &Problem<'_>,
    coords: &Coordinates<'_>,
    alpha: &[f64],
    z: &[f64],
    total: usize,
    cap: usize,
) -> (Option<Polished>, usize, bool, usize) {
    let Coordinates { upper, diag, qii } = *coords;
    let n = problem.n();
    let mut budget = POLISH_EPOCHS.saturating_mul(total.max(1));
    let mut spent = total;
    let mut sides = vec![Side::Lower; n];
    guess_sides(upper, diag, qii, alpha, z, cap, &mut sides);
    let guessed = sides.iter().filter(|s| **s == Side::Free).count();
    let mut next = vec![0.0; n];
    let mut margins = vec![0.0; n];
    let mut last: Option<Vec<f64>> = None;
    for _ in 0..POLISH_ROUNDS {
        let free: Vec<usize> = (0..n).filter(|&i| sides[i] == Side::Free).collect();
        let m = free.len();
        let row_len = free
            .iter()
            .map(|&i| row_nonzeros(problem.row(i)))
            .sum::<usize>()
            / m.max(1);
        let cost = m
            .saturating_mul(m)
            .saturating_mul(row_len.max(1))
            .saturating_add(m.saturating_mul(m).saturating_mul(m) / 3)
            .saturating_add(2 * total);
        if m == 0 || m > MAX_FREE || cost > budget {
            break;
        }
        budget -= cost;
        spent = spent.saturating_add(cost);
        for (i, (a, side)) in next.iter_mut().zip(&sides).enumerate() {
            *a = match side {
                Side::Lower | Side::Free => 0.0,
                Side::Upper => upper[i],
            };
        }
        let mut w = weights_of(problem, &next);
        let rhs: Vec<f64> = free
            .iter()
            .map(|&i| 1.0 - problem.y[i] * problem.row(i).dot(&w))
            .collect();
        let mut g = gram(problem, &free);
        for (a, &i) in free.iter().enumerate() {
            g[a * m + a] += diag[i];
        }
        if !cholesky_factor(&mut g, m) {
            break;
        }
        let solved = cholesky_solve_factored(&g, &rhs, m);
        if solved.iter().any(|a| !a.is_finite()) {
            break;
        }
        for (&i, &a) in free.iter().zip(&solved) {
            next[i] = a;
            problem.row(i).axpy(a * problem.y[i], &mut w);
        }
        problem.margins_into(&w, &mut margins);
        let before = sides.clone();
        guess_sides(upper, diag, qii, &next, &margins, cap, &mut sides);
        let clamped: Vec<f64> = next
            .iter()
            .zip(upper)
            .map(|(a, u)| a.clamp(0.0, *u))
            .collect();
        if sides == before && clamped == next {
            // The guess repeats: every condition holds, and w is this α's.
            return (Some((clamped, w)), spent, true, guessed);
        }
        last = Some(clamped);
    }
    let Some(next) = last else {
        return (None, spent, false, guessed);
    };
    let w = weights_of(problem, &next);
    (Some((next, w)), spent.saturating_add(total), false, guessed)
}

/// [`polish`]'s guess of each coordinate's side: with the dual gradient
/// `gᵢ = zᵢ − 1 + Dᵢᵢαᵢ`, the bound a projected Newton step `αᵢ − gᵢ/Qᵢᵢ` reaches or passes, else
/// free (a row with `Qᵢᵢ = 0` stays at its bound `Uᵢ`).
///
/// At most `cap` coordinates are guessed free: those whose rows lie nearest their margin
/// (smallest `|gᵢ|/√Qᵢᵢ`, the distance of `xᵢ` to the hyperplane `yᵢ·w·x = 1` for the hinge);
/// the others go to the bound their gradient points to (`Uᵢ` for `gᵢ < 0`, else 0). For the
/// hinge, a free set of more rows than the columns they span makes `Q_FF` singular, so a
/// coordinate-descent iterate with thousands of not-yet-settled coordinates would otherwise
/// never be polished.
pub(super) fn guess_sides(
    upper: &[f64],
    diag: &[f64],
    qii: &[f64],
    alpha: &[f64],
    z: &[f64],
    cap: usize,
    sides: &mut [Side],
) {
    let grad = |i: usize| z[i] - 1.0 + diag[i] * alpha[i];
    for (i, side) in sides.iter_mut().enumerate() {
        let t = alpha[i] - grad(i) / qii[i];
        *side = if qii[i] == 0.0 || t >= upper[i] {
            Side::Upper
        } else if t > 0.0 {
            Side::Free
        } else {
            Side::Lower
        };
    }
    let mut free: Vec<usize> = (0..sides.len())
        .filter(|&i| sides[i] == Side::Free)
        .collect();
    if free.len() <= cap {
        return;
    }
    // Free implies Qᵢᵢ > 0, so the distance is finite.
    let distance = |i: usize| grad(i).abs() / qii[i].sqrt();
    free.select_nth_unstable_by(cap, |&a, &b| distance(a).total_cmp(&distance(b)));
    for &i in &free[cap..] {
        sides[i] = if grad(i) < 0.0 && upper[i].is_finite() {
            Side::Upper
        } else {
            Side::Lower
        };
    }
}

/// The largest free set [`polish`] guesses: for the hinge, the number of columns any row uses
/// (a bound on the rank of `Q_FF`; counted up to `n`, which no guess exceeds); unbounded for the squared hinge,
/// whose `Q_FF + D_F` is positive definite at any size (and whose free rows are all the
/// rows with a positive loss).
fn free_cap(problem: &Problem<'_>, upper: &[f64]) -> usize {
    if upper.iter().any(|u| !u.is_finite()) {
        return usize::MAX;
    }
    let mut used = vec![false; problem.d];
    let mut count = 0;
    for i in 0..problem.n() {
        for (j, v) in problem.row(i).entries() {
            if let Some(u) = used.get_mut(j).filter(|u| v != 0.0 && !**u) {
                *u = true;
                count += 1;
                if count == problem.n() {
                    // No guess has more free rows than there are rows: the bound binds no
                    // further.
                    return count;
                }
            }
        }
    }
    count
}

/// The per-coordinate constants of the dual: the box `Uᵢ`, the diagonal `Dᵢᵢ` and
/// `Qᵢᵢ = ‖xᵢ‖² + Dᵢᵢ`.
#[derive(Clone, Copy)]
pub(super) struct Coordinates<'a> {
    pub(super) upper: &'a [f64],
    pub(super) diag: &'a [f64],
    pub(super) qii: &'a [f64],
}

/// `Q_FF` (`m × m`, row-major): `yᵢyₖ·xᵢ·xₖ` over the rows `free`.
fn gram(problem: &Problem<'_>, free: &[usize]) -> Vec<f64> {
    let (m, d) = (free.len(), problem.d);
    let mut g = vec![0.0; m * m];
    if m.saturating_mul(d) <= DENSE_BLOCK {
        // The rows as a dense block, so each product runs on independent sums.
        let mut block = vec![0.0; m * d];
        for (a, &i) in free.iter().enumerate() {
            for (j, v) in problem.row(i).entries() {
                block[a * d + j] = v;
            }
        }
        for a in 0..m {
            let ra = &block[a * d..(a + 1) * d];
            for b in a..m {
                let q =
                    problem.y[free[a]] * problem.y[free[b]] * dot(ra, &block[b * d..(b + 1) * d]);
                g[a * m + b] = q;
                g[b * m + a] = q;
            }
        }
    } else {
        // Each row scattered into a dense buffer, against the sparse rows after it.
        let mut dense = vec![0.0; d];
        for (a, &i) in free.iter().enumerate() {
            let xi = problem.row(i);
            for (j, v) in xi.entries() {
                dense[j] = v;
            }
            for (b, &k) in free.iter().enumerate().skip(a) {
                let q = problem.y[i] * problem.y[k] * problem.row(k).dot(&dense);
                g[a * m + b] = q;
                g[b * m + a] = q;
            }
            for (j, _) in xi.entries() {
                dense[j] = 0.0;
            }
        }
    }
    g
}

/// The non-zero values of a row: work is counted in them, so that dense and sparse copies of
/// the same rows take the same decisions (and give the same result, bit for bit).
pub(super) fn row_nonzeros(row: Row<'_>) -> usize {
    let values = match row {
        Row::Dense(x) => x,
        Row::Sparse { values, .. } => values,
    };
    values.iter().filter(|v| **v != 0.0).count()
}

/// The non-zero values of all rows.
fn nonzeros(problem: &Problem<'_>) -> usize {
    (0..problem.n()).map(|i| row_nonzeros(problem.row(i))).sum()
}

#[cfg(test)]
mod tests {
    use super::{guess_sides, Side};

    #[test]
    fn the_free_guess_keeps_the_rows_nearest_their_margin() {
        // Hinge (D = 0, U = 1), α = ½ everywhere, Qᵢᵢ = 1: the Newton step αᵢ − (zᵢ − 1) stays
        // inside (0, 1) for |zᵢ − 1| < ½, so all four rows are guessed free uncapped. Capped at
        // two, the two with the smallest |zᵢ − 1| stay free (rows 1 and 2: 0.1 and 0.2, by
        // hand); row 0 (z = 0.6 < 1, gradient −0.4) goes to U and row 3 (z = 1.3) to 0.
        let z = [0.6, 1.1, 0.8, 1.3];
        let (upper, diag, qii, alpha) = ([1.0; 4], [0.0; 4], [1.0; 4], [0.5; 4]);
        let mut sides = [Side::Lower; 4];
        guess_sides(&upper, &diag, &qii, &alpha, &z, usize::MAX, &mut sides);
        assert_eq!(sides, [Side::Free; 4]);
        guess_sides(&upper, &diag, &qii, &alpha, &z, 2, &mut sides);
        assert_eq!(sides, [Side::Upper, Side::Free, Side::Free, Side::Lower]);
    }
}
