//! The exact hinge solver [`crate::model::train`] uses: the interior-point method when it suits
//! the data, dual coordinate descent otherwise.

use losses::MarginLoss;

use super::dual_cd::{dual_cd_with, primal};
use super::interior_point::{interior_point_with, Fixed};
use super::{dual_cd, interior_point, interior_point_suits, Certificate, Problem, Solution};
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
/// method takes over. It first solves only
/// the examples whose margin is within 1 of the margin at the coordinate-descent point, the
/// others held at their bound, growing that set for a few rounds (`screened`: on noisy data
/// most examples are far from their margin, and each iteration's cost shrinks with them), and
/// all examples if that does not certify. On problems of at least 2²⁰ stored values the
/// screened solve is also tried (twice at most) at a gap check of the coordinate-descent phase,
/// once its expected work is below that of the epochs coordinate descent still needs at the
/// rate its gap has been falling. The screened tries together are held to about one full
/// interior-point solve's work, so a run costs at most about three times the better of dual
/// coordinate descent and the interior point. `max_iter` bounds the iterations of all together
/// (epochs plus interior-point iterations, as reported).
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
    let remaining = max_iter - budget;
    // At the gap checks: once few examples are near their margin, the screened interior point
    // (at most EARLY_TRIES times).
    let (mut tries, mut used, mut certified) = (0, 0, false);
    let (all_squares, total) = p.row_work();
    // The screened tries together may do about one full interior-point solve's work.
    let mut work = EXPECTED_ITERATIONS.saturating_mul(all_squares) / 2;
    let mut last: Option<(usize, f64)> = None;
    let mut early = |w: &[f64], z: &[f64], epochs: usize, gap: f64| -> Result<Option<Solution>> {
        // The epochs still needed, from the gap's rate of decrease since the last check.
        let previous = last.replace((epochs, gap));
        if tries == EARLY_TRIES || used >= remaining || total < EARLY_MIN_VALUES || work == 0 {
            return Ok(None);
        }
        let Some((e0, g0)) = previous.filter(|&(e0, g0)| e0 < epochs && gap < g0 && gap > 0.0)
        else {
            return Ok(None);
        };
        let rate = (gap / g0).powf(1.0 / (epochs - e0) as f64);
        let needed = ((tol / gap).ln() / rate.ln()).max(0.0);
        // The interior point's expected work on the examples near their margin (about 25
        // iterations of Σ nnzᵢ²/2 and a few passes over their rows each, and a few passes over
        // every row a round), against that of the epochs still needed (2·Σ nnzᵢ each).
        let (mut squares, mut values) = (0usize, 0usize);
        for i in (0..p.n()).filter(|&i| (z[i] - 1.0).abs() <= BAND) {
            let k = stored(p.row(i));
            squares = squares.saturating_add(k.saturating_mul(k));
            values = values.saturating_add(k);
        }
        let expected = EXPECTED_ITERATIONS as f64 * (squares as f64 / 2.0 + 6.0 * values as f64)
            + 6.0 * total as f64;
        if expected >= needed * 2.0 * total as f64 {
            return Ok(None);
        }
        tries += 1;
        let (s, spent) = screened(p, w, z.to_vec(), tol, remaining - used, &mut work)?;
        used += spent;
        certified = s.is_some();
        Ok(s.map(|s| Solution {
            iterations: used,
            ..s
        }))
    };
    let cd = dual_cd_with(p, MarginLoss::hinge(), tol, budget, seed, &mut early)?;
    if certified {
        // The hook's solution, its epochs and interior-point iterations counted.
        return Ok(cd);
    }
    if cd.converged || used >= remaining {
        return Ok(Solution {
            iterations: cd.iterations + used,
            ..cd
        });
    }
    let (screened, more) = screened(p, &cd.w, p.margins(&cd.w), tol, remaining - used, &mut work)?;
    used += more;
    if let Some(mut s) = screened {
        s.iterations = cd.iterations + used;
        return Ok(s);
    }
    let left = remaining - used.min(remaining);
    if left == 0 {
        return Ok(Solution {
            iterations: cd.iterations + used,
            ..cd
        });
    }
    let mut s = interior_point(p, tol, left)?;
    s.iterations += cd.iterations + used;
    Ok(s)
}

/// Examples whose margin `yᵢ·w·xᵢ` lies within this distance of 1 at the coordinate-descent
/// point are solved for by [`screened`]; the others are held at their bound.
const BAND: f64 = 1.0;

/// The most rounds of [`screened`].
const ROUNDS: usize = 4;

/// At a gap check of the coordinate-descent phase, [`screened`] is tried when its expected
/// work, this many interior-point iterations on the examples near their margin, is below that
/// of the epochs coordinate descent still needs at the rate its gap has been falling …
const EXPECTED_ITERATIONS: usize = 25;

/// … at most this many times, and only on problems of at least this many stored values (about
/// a millisecond an epoch): below it the whole solve takes milliseconds, and the try's fixed
/// costs (a copy of the rows near their margin, passes over every row) do not pay.
const EARLY_TRIES: usize = 2;

/// See [`EARLY_TRIES`].
const EARLY_MIN_VALUES: usize = 1 << 20;

/// The interior-point method on the examples near their margin only (chunking, with the
/// interior point as the inner solver): from `start`'s margins `zᵢ`, examples with
/// `zᵢ < 1 − BAND` are held at `αᵢ = Cᵢ`, those with `zᵢ > 1 + BAND` at 0, and the rest solved
/// for ([`interior_point_with`], on a copy of their rows); then, from the new margins, every
/// held example that is now within `BAND` of its margin or on its wrong side joins the solved
/// ones, for up to [`ROUNDS`] rounds.
///
/// The dual point (the rest's `α` joined with the held values) is feasible for the whole
/// problem, so its value is a valid lower bound, and the primal value is taken over every
/// example: the result is certified like [`interior_point`]'s, and returned once its gap is at
/// most `tol·f`. `None` (with the interior-point iterations spent) when more than half the
/// examples are to be solved for, none is, the rounds end first (a held example on the wrong
/// side of its margin makes the whole gap exceed the rest's), or `work` (multiply–adds of the
/// restricted normal matrices, taken from it round by round) runs out.
fn screened(
    p: Problem<'_>,
    start: &[f64],
    mut z: Vec<f64>,
    tol: f64,
    max_iter: usize,
    work: &mut usize,
) -> Result<(Option<Solution>, usize)> {
    let (n, d) = (p.n(), p.d);
    let mut best = (f64::INFINITY, start.to_vec());
    let (mut used, mut history) = (0, Vec::new());
    // Each example's part: solved for (`None`), or held at Cᵢ (`Some(true)`: its margin was
    // below 1) or at 0 (`Some(false)`).
    let mut held: Vec<Option<bool>> = z.iter().map(|&zi| Some(zi < 1.0)).collect();
    for _ in 0..ROUNDS {
        // Near its margin now, or held on the wrong side of it: solved for from now on (the
        // solved set only grows, as in chunking).
        for (h, &zi) in held.iter_mut().zip(&z) {
            if h.is_some_and(|at_c| (zi - 1.0).abs() <= BAND || at_c == (zi >= 1.0)) {
                *h = None;
            }
        }
        let near: Vec<usize> = (0..n).filter(|&i| held[i].is_none()).collect();
        if near.is_empty() || near.len() > n / 2 || used >= max_iter || *work == 0 {
            break;
        }
        let squares = near
            .iter()
            .map(|&i| stored(p.row(i)))
            .fold(0usize, |a, k| a.saturating_add(k.saturating_mul(k)));
        let mut fixed = Fixed {
            b: vec![0.0; d],
            constant: 0.0,
        };
        for i in (0..n).filter(|&i| held[i] == Some(true)) {
            let ci = p.c_of(i);
            p.row(i).axpy(ci * p.y[i], &mut fixed.b);
            fixed.constant += ci;
        }
        let x = p.x.select_rows(&near, d);
        let y: Vec<f64> = near.iter().map(|&i| p.y[i]).collect();
        let weights: Option<Vec<f64>> = p
            .example_weights
            .map(|s| near.iter().map(|&i| s[i]).collect());
        let rest = Problem {
            x: &x,
            d,
            y: &y,
            c: p.c,
            example_weights: weights.as_deref(),
        };
        let s = interior_point_with(rest, Some(&fixed), tol, max_iter - used)?;
        used += s.iterations;
        *work = work.saturating_sub(s.iterations.saturating_mul(squares / 2));
        let lower = s.objective - s.certificate.value().unwrap_or(f64::INFINITY);
        let f = primal(&p, MarginLoss::hinge(), &s.w, &mut z);
        if f < best.0 {
            best = (f, s.w);
        }
        history.push(best.0);
        let gap = (best.0 - lower).max(0.0);
        if gap <= tol * best.0 {
            return Ok((
                Some(Solution {
                    w: best.1,
                    objective: best.0,
                    iterations: used,
                    converged: true,
                    certificate: Certificate::DualityGap(gap),
                    history,
                }),
                used,
            ));
        }
    }
    Ok((None, used))
}

/// The values row `x` stores (all of a dense row's).
fn stored(x: crate::matrix::Row<'_>) -> usize {
    match x {
        crate::matrix::Row::Dense(v) => v.len(),
        crate::matrix::Row::Sparse { values, .. } => values.len(),
    }
}

/// Dual coordinate descent epochs costing about one interior-point solve: an epoch is ~2·nnz
/// multiply–adds, an interior-point run ~25 normal matrices of Σ nnzᵢ²/2 each.
fn coordinate_budget(p: &Problem<'_>) -> usize {
    let (squares, total) = p.row_work();
    (8 * squares / total.max(1)).max(50)
}

#[cfg(test)]
mod tests {
    use losses::MarginLoss;
    use rand::{RngExt, SeedableRng};

    use super::{screened, BAND};
    use crate::matrix::Features;
    use crate::solvers::{dual_cd, interior_point, Problem};

    /// `n` rows of `N(0, I)` in `d` columns, `y = sign(w*·x + ε/2)` with `w*, ε ~ N(0, 1)`
    /// (bench/'s problem (c), smaller): noisy labels, so many examples end at `αᵢ = C`.
    fn noisy(n: usize, d: usize) -> (Features, Vec<f64>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut normal = || {
            let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let w_star: Vec<f64> = (0..d).map(|_| normal()).collect();
        let (mut x, mut y) = (Vec::with_capacity(n * d), Vec::with_capacity(n));
        for _ in 0..n {
            let row: Vec<f64> = (0..d).map(|_| normal()).collect();
            let s: f64 = row.iter().zip(&w_star).map(|(a, b)| a * b).sum::<f64>() + 0.5 * normal();
            y.push(if s >= 0.0 { 1.0 } else { -1.0 });
            x.extend(row);
        }
        (Features::Dense(x), y)
    }

    /// The problem on rows `x` (`d` columns) with labels `y` and penalty `c`, no weights.
    fn problem<'a>(x: &'a Features, d: usize, y: &'a [f64], c: f64) -> Problem<'a> {
        Problem {
            x,
            d,
            y,
            c,
            example_weights: None,
        }
    }

    #[test]
    fn screening_reaches_the_full_interior_point_optimum_with_the_same_bits_dense_and_sparse() {
        // 20,000 × 20 noisy rows, C = 1. Reference: the interior point on every example at
        // tol 1e-11 (an independent solve of the whole problem). From coordinate descent
        // after 20 epochs, most margins are already on the right side of 1 ± BAND; the
        // screened solve must be certified to 1e-9 and agree with the reference, and a sparse
        // copy of the rows must give the same bits.
        let (dense, y) = noisy(20_000, 20);
        let sparse = crate::data::Dataset {
            x: dense.clone(),
            d: 20,
            labels: y.clone(),
        }
        .to_sparse()
        .unwrap()
        .x;
        let p = problem(&dense, 20, &y, 1.0);
        let reference = interior_point(p, 1e-11, 200).unwrap();
        assert!(reference.converged);
        let start = dual_cd(p, MarginLoss::hinge(), 1e-9, 20, 0).unwrap();
        assert!(!start.converged);
        let near = p
            .margins(&start.w)
            .iter()
            .filter(|z| (**z - 1.0).abs() <= BAND)
            .count();
        assert!(near < 20_000 / 4, "{near} examples near their margin");
        let run = |x: &Features| {
            let p = problem(x, 20, &y, 1.0);
            let mut work = usize::MAX;
            screened(p, &start.w, p.margins(&start.w), 1e-9, 200, &mut work)
                .unwrap()
                .0
                .unwrap()
        };
        let (s, t) = (run(&dense), run(&sparse));
        assert_eq!((&s.w, s.objective), (&t.w, t.objective));
        assert!(s.converged && s.certificate.value().unwrap() <= 1e-9 * s.objective);
        assert_eq!(
            p.objective(MarginLoss::hinge(), &s.w).unwrap().0,
            s.objective
        );
        let rel = (s.objective - reference.objective) / reference.objective;
        assert!(
            rel.abs() <= 1e-9,
            "{} vs {}",
            s.objective,
            reference.objective
        );
    }

    #[test]
    fn large_noisy_problems_are_screened_before_the_coordinate_budget() {
        // 60,000 × 20 noisy rows (1.2·10⁶ values, above EARLY_MIN_VALUES): coordinate descent
        // alone is far from 1e-9 after its budget of 160 epochs, and the screened interior point,
        // tried once its expected work is below that of the epochs still needed, ends the run
        // well before it. Reference: the interior point on every example at tol 1e-11.
        let (x, y) = noisy(60_000, 20);
        let p = problem(&x, 20, &y, 1.0);
        let budget = super::coordinate_budget(&p);
        assert_eq!(budget, 160);
        assert!(
            !dual_cd(p, MarginLoss::hinge(), 1e-9, budget, 0)
                .unwrap()
                .converged
        );
        let s = super::exact_hinge(p, 1e-9, 10_000, 0).unwrap();
        assert!(s.converged && s.certificate.value().unwrap() <= 1e-9 * s.objective);
        assert!(s.iterations < budget, "{} iterations", s.iterations);
        let reference = interior_point(p, 1e-11, 200).unwrap();
        assert!((s.objective - reference.objective).abs() <= 1e-9 * reference.objective);
    }

    #[test]
    fn reported_iterations_count_every_epoch_and_interior_point_iteration() {
        // The 60,000 × 20 problem with a few iterations past the coordinate budget: whatever
        // path the run takes, it reports at most max_iter, and not fewer than the budget's
        // 160 epochs it ran.
        let (x, y) = noisy(60_000, 20);
        let p = problem(&x, 20, &y, 1.0);
        for max_iter in [161, 163, 170] {
            let s = super::exact_hinge(p, 1e-12, max_iter, 0).unwrap();
            assert!(s.iterations <= max_iter, "{} > {max_iter}", s.iterations);
            if !s.converged {
                assert_eq!(s.iterations, max_iter);
            }
        }
    }

    #[test]
    fn screening_from_a_poor_start_recovers_by_growing_the_solved_set() {
        // After one epoch many examples are held on the wrong side of their margin; the rounds
        // add them to the solved set until the whole problem's gap closes (the reference: the
        // interior point on every example).
        let (x, y) = noisy(5_000, 10);
        let p = problem(&x, 10, &y, 10.0);
        let reference = interior_point(p, 1e-11, 200).unwrap();
        let start = dual_cd(p, MarginLoss::hinge(), 1e-9, 1, 0).unwrap();
        let mut work = usize::MAX;
        match screened(p, &start.w, p.margins(&start.w), 1e-9, 200, &mut work).unwrap() {
            (Some(s), _) => {
                assert!(s.certificate.value().unwrap() <= 1e-9 * s.objective);
                assert!((s.objective - reference.objective).abs() <= 1e-9 * reference.objective);
            }
            (None, used) => panic!("declined after {used} interior-point iterations"),
        }
    }
}
