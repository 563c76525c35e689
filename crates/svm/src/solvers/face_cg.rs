//! The active-set step of [`super::dual_cd`] for free sets too large for a Cholesky solve: the
//! face is solved by conjugate gradients on products with `Q_FF`, never forming it.

use rayon::prelude::*;

use super::dual_cd::{guess_sides, row_nonzeros, Coordinates, Polished, Side};
use super::newton::dot;
use super::{Problem, PARALLEL_MARGINS};

/// The most active-set rounds of one [`polish_cg`].
const ROUNDS: usize = 16;

/// While the guess is still being revised, a round's face solve stops after this many
/// conjugate-gradient steps (then the guess is revised from where they got to); once a guess
/// repeats, its face is solved to the target.
const LOOSE_STEPS: usize = 5;

/// A round after which at most this many coordinates change sides counts as settling, however
/// many changed the round before.
const SETTLED: usize = 16;

/// The work one [`polish_cg`] may take, in epochs of coordinate descent (passes over the
/// stored values, one epoch being two).
const EPOCHS: usize = 48;

/// The active-set step ([`super::dual_cd`]'s primal–dual active-set iteration) with each face
/// `(Q_FF + D_F)·α_F = 1 − Y_F·X_F·w_B` solved by conjugate gradients (`Face::solve`), from the
/// coordinate-descent
/// iterate `alpha` (with its `w = Σ αᵢyᵢxᵢ` and margins `z`).
///
/// A round: guess each coordinate's side from `(α, z)` ([`guess_sides`], at most `cap` free),
/// move the bounded ones to their bound, run conjugate gradients on the free ones (at most
/// [`LOOSE_STEPS`] while the guess keeps changing), clamp the result into the box and take the
/// margins of the new `w`. When a guess repeats, nothing was clamped and the free rows' share of
/// the gap is at most `target`, every other row's share is zero (at its bound on the right side
/// of its margin) and the step ends. `w` is kept up to date by the rounds (each conjugate-gradient
/// step adds its direction's `Σ pᵢyᵢxᵢ`, computed for the product anyway) and recomputed from
/// scratch at the end ([`scatter`], in index order; two halves above [`PARALLEL_MARGINS`]
/// stored values).
///
/// Returns the point reached — `None` if the first guess has no free coordinate or no round
/// could run within the budget of [`EPOCHS`] — and the work spent, in stored values touched.
#[allow(clippy::too_many_arguments)]
pub(super) fn polish_cg(
    problem: &Problem<'_>,
    coords: &Coordinates<'_>,
    alpha: &[f64],
    w: &[f64],
    z: &[f64],
    total: usize,
    cap: usize,
    target: f64,
) -> (Option<Polished>, usize) {
    let Coordinates { upper, diag, qii } = *coords;
    let n = problem.n();
    let mut budget = EPOCHS.saturating_mul(2).saturating_mul(total.max(1));
    let start = budget;
    let (mut a, mut w, mut z) = (alpha.to_vec(), w.to_vec(), z.to_vec());
    let mut sides = vec![Side::Lower; n];
    guess_sides(upper, diag, qii, &a, &z, cap, &mut sides);
    let mut loose = true;
    let mut moved = false;
    let mut last_changed = usize::MAX;
    for _ in 0..ROUNDS {
        // The bounded coordinates to their bound, w following.
        let mut stale = false;
        for (i, side) in sides.iter().enumerate() {
            let bound = match side {
                Side::Lower => 0.0,
                Side::Upper => upper[i],
                Side::Free => continue,
            };
            if a[i] != bound {
                problem.row(i).axpy((bound - a[i]) * problem.y[i], &mut w);
                a[i] = bound;
                stale = true;
            }
        }
        let free: Vec<usize> = (0..n).filter(|&i| sides[i] == Side::Free).collect();
        if free.is_empty() {
            break;
        }
        let stored: usize = free.iter().map(|&i| row_nonzeros(problem.row(i))).sum();
        // The face's residual 1 − Y_F·X_F·w − D_F·α_F is minus the dual gradient; the margins
        // are taken afresh if a coordinate moved to its bound.
        let residual = |i: usize| {
            let zi = if stale {
                problem.y[i] * problem.row(i).dot(&w)
            } else {
                z[i]
            };
            1.0 - zi - diag[i] * a[i]
        };
        let r: Vec<f64> = if stale && stored >= PARALLEL_MARGINS {
            free.par_iter().map(|&i| residual(i)).collect()
        } else {
            free.iter().map(|&i| residual(i)).collect()
        };
        if stale {
            budget = budget.saturating_sub(stored);
        }
        let x: Vec<f64> = free.iter().map(|&i| a[i]).collect();
        let steps = if loose { LOOSE_STEPS } else { usize::MAX };
        let face = Face {
            problem,
            coords,
            free: &free,
            stored,
        };
        let Some((x, reached)) = face.solve(x, r, &mut w, target, steps, &mut budget) else {
            break;
        };
        moved = true;
        let mut clamped = false;
        for (&i, &xi) in free.iter().zip(&x) {
            let c = xi.clamp(0.0, upper[i]);
            if c != xi {
                problem.row(i).axpy((c - xi) * problem.y[i], &mut w);
                clamped = true;
            }
            a[i] = c;
        }
        problem.margins_into(&w, &mut z);
        budget = budget.saturating_sub(total);
        let before = sides.clone();
        guess_sides(upper, diag, qii, &a, &z, cap, &mut sides);
        let changed = sides.iter().zip(&before).filter(|(s, b)| s != b).count();
        if changed == 0 && !clamped {
            if reached {
                break;
            }
            loose = false;
        } else if changed > SETTLED && (changed > last_changed / 2 || changed > free.len() / 2) {
            // The guess is not settling (it moved more than half the free rows, or not half as
            // many as the round before): leave it to coordinate descent.
            break;
        }
        last_changed = changed;
        if budget == 0 {
            break;
        }
    }
    let spent = start - budget + total;
    if !moved {
        return (None, spent);
    }
    // w from scratch, as the face products sum it.
    let rows: Vec<usize> = (0..n).filter(|&i| a[i] != 0.0).collect();
    let coefficients: Vec<f64> = rows.iter().map(|&i| a[i]).collect();
    let stored: usize = rows.iter().map(|&i| row_nonzeros(problem.row(i))).sum();
    let mut half = vec![0.0; problem.d];
    scatter(
        problem,
        &rows,
        &coefficients,
        &mut w,
        &mut half,
        stored >= PARALLEL_MARGINS,
    );
    (Some((a, w)), spent)
}

/// `u = Σₖ vₖyᵢₖxᵢₖ` over the rows `rows`, in their order; with `parallel`, as two fixed halves
/// on rayon's pool (the second summed in `half`), added at the end — the same bits on any
/// number of threads.
fn scatter(
    problem: &Problem<'_>,
    rows: &[usize],
    v: &[f64],
    u: &mut [f64],
    half: &mut [f64],
    parallel: bool,
) {
    let part = |rows: &[usize], v: &[f64], u: &mut [f64]| {
        u.fill(0.0);
        for (&a, &i) in v.iter().zip(rows) {
            if a != 0.0 {
                problem.row(i).axpy(a * problem.y[i], u);
            }
        }
    };
    if !parallel {
        return part(rows, v, u);
    }
    let mid = rows.len() / 2;
    rayon::join(
        || part(&rows[..mid], &v[..mid], u),
        || part(&rows[mid..], &v[mid..], half),
    );
    for (a, b) in u.iter_mut().zip(&*half) {
        *a += b;
    }
}

/// One face of the dual: the free rows `free` (holding `stored` values) of `problem`.
struct Face<'a> {
    problem: &'a Problem<'a>,
    coords: &'a Coordinates<'a>,
    free: &'a [usize],
    stored: usize,
}

impl Face<'_> {
    /// `out = (Q_FF + D_F)·v`, leaving `u = Σ vₖyᵢₖxᵢₖ` (`d` values): two passes over the
    /// free rows. Above [`PARALLEL_MARGINS`] stored values the scatter runs as two fixed halves
    /// added at the end, and the row products in parallel — the same bits on any number of
    /// threads.
    fn product(&self, v: &[f64], u: &mut [f64], half: &mut [f64], out: &mut [f64]) {
        let Face { problem, free, .. } = *self;
        let diag = self.coords.diag;
        let parallel = self.stored >= PARALLEL_MARGINS;
        scatter(problem, free, v, u, half, parallel);
        let gather = |u: &[f64], k: usize| {
            let i = free[k];
            problem.y[i] * problem.row(i).dot(u) + diag[i] * v[k]
        };
        let u = &*u;
        if parallel {
            out.par_iter_mut()
                .enumerate()
                .for_each(|(k, o)| *o = gather(u, k));
        } else {
            for (k, o) in out.iter_mut().enumerate() {
                *o = gather(u, k);
            }
        }
    }

    /// Conjugate gradients on `(Q_FF + D_F)·x = b`, preconditioned with the diagonal `Qᵢᵢ`,
    /// from `x` with residual `r = b − (Q_FF + D_F)·x`, adding each step's change of
    /// `Σ xₖyᵢₖxᵢₖ` to `w`.
    ///
    /// Stops when the free rows' share of the duality gap (estimated from the residual) is at
    /// most `target` (then says so), after `steps` steps, when a step would pass the `budget`
    /// (stored values touched, taken from it), or when a direction has no curvature (a
    /// singular face); `None` if not even one step fits the budget.
    fn solve(
        &self,
        mut x: Vec<f64>,
        mut r: Vec<f64>,
        w: &mut [f64],
        target: f64,
        steps: usize,
        budget: &mut usize,
    ) -> Option<(Vec<f64>, bool)> {
        let Coordinates { upper, diag, qii } = *self.coords;
        let free = self.free;
        let (m, d) = (free.len(), self.problem.d);
        let cost = self.stored.saturating_mul(2).saturating_add(d);
        // The free rows' gap terms Cᵢ·ℓ(zᵢ) + αᵢ(zᵢ − 1) + ½Dᵢᵢαᵢ² (see `dual_cd`), with the
        // slack 1 − zᵢ = rᵢ + Dᵢᵢαᵢ read off the residual; each is zero at the solution.
        let share = |x: &[f64], r: &[f64]| -> f64 {
            x.iter()
                .zip(r)
                .zip(free)
                .map(|((&a, &ri), &i)| {
                    let slack = ri + diag[i] * a;
                    let loss = if upper[i].is_finite() {
                        upper[i] * slack.max(0.0)
                    } else {
                        slack.max(0.0).powi(2) / (2.0 * diag[i])
                    };
                    (loss - a * slack + 0.5 * diag[i] * a * a).abs()
                })
                .sum()
        };
        let mut pre: Vec<f64> = r.iter().zip(free).map(|(ri, &i)| ri / qii[i]).collect();
        let mut p = pre.clone();
        let mut rz = dot(&r, &pre);
        let (mut u, mut half, mut ap) = (vec![0.0; d], vec![0.0; d], vec![0.0; m]);
        let mut reached = share(&x, &r) <= target;
        let mut taken = 0;
        while !reached && taken < steps {
            let Some(left) = budget.checked_sub(cost) else {
                break;
            };
            *budget = left;
            self.product(&p, &mut u, &mut half, &mut ap);
            let curvature = dot(&p, &ap);
            if !(curvature > 0.0 && rz.is_finite()) {
                break;
            }
            let step = rz / curvature;
            for (((xk, rk), pk), apk) in x.iter_mut().zip(&mut r).zip(&p).zip(&ap) {
                *xk += step * pk;
                *rk -= step * apk;
            }
            for (wj, uj) in w.iter_mut().zip(&u) {
                *wj += step * uj;
            }
            taken += 1;
            for ((zk, rk), &i) in pre.iter_mut().zip(&r).zip(free) {
                *zk = rk / qii[i];
            }
            let rz_next = dot(&r, &pre);
            let beta = rz_next / rz;
            rz = rz_next;
            for (pk, zk) in p.iter_mut().zip(&pre) {
                *pk = zk + beta * *pk;
            }
            reached = share(&x, &r) <= target;
        }
        (taken > 0 || reached).then_some((x, reached))
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use super::{polish_cg, Face};
    use crate::matrix::{Csr, Features};
    use crate::solvers::dual_cd::{row_nonzeros, Coordinates};
    use crate::solvers::{dual_cd, Problem, PARALLEL_MARGINS};
    use losses::MarginLoss;

    /// `n` rows of `k` non-zeros in (0, 1] at distinct uniform columns of `d`, labelled by the
    /// sign of a uniform `w*` (so the data are separable and most rows end up on the margin):
    /// the sparse rows, the same rows dense, and the labels.
    fn sparse_problem(n: usize, d: usize, k: usize, seed: u64) -> (Features, Features, Vec<f64>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let w_star: Vec<f64> = (0..d).map(|_| rng.random::<f64>() - 0.5).collect();
        let (mut indptr, mut indices, mut values, mut y) = (vec![0], vec![], vec![], vec![]);
        let mut dense = vec![0.0; n * d];
        for i in 0..n {
            let mut cols = rand::seq::index::sample(&mut rng, d, k).into_vec();
            cols.sort_unstable();
            let mut s = 0.0;
            for &j in &cols {
                let v = 1.0 - rng.random::<f64>();
                s += v * w_star[j];
                indices.push(j as u32);
                values.push(v);
                dense[i * d + j] = v;
            }
            indptr.push(indices.len());
            y.push(if s >= 0.0 { 1.0 } else { -1.0 });
        }
        let sparse = Csr::new(indptr, indices, values, d).unwrap();
        (Features::Sparse(sparse), Features::Dense(dense), y)
    }

    /// The per-coordinate constants of the hinge (`U = C`, `D = 0`) or squared hinge
    /// (`U = ∞`, `D = 1/2C`) at `C = 1`.
    fn constants(p: &Problem<'_>, squared: bool) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = p.n();
        let (upper, diag) = if squared {
            (vec![f64::INFINITY; n], vec![0.5; n])
        } else {
            (vec![1.0; n], vec![0.0; n])
        };
        let qii = (0..n).map(|i| p.row(i).sq_norm() + diag[i]).collect();
        (upper, diag, qii)
    }

    #[test]
    fn face_products_match_the_gram_matrix_on_one_and_two_threads() {
        // 2100 rows × 512 stored values: above PARALLEL_MARGINS, so the scatter runs as two
        // halves. Reference: entries of (Q_FF + D_F)·v from the definition,
        // Σₗ yₖyₗ(xₖ·xₗ)vₗ + Dₖvₖ, with each xₖ·xₗ taken on dense copies of the two rows.
        let (x, _, y) = sparse_problem(2100, 4096, 512, 3);
        let p = Problem {
            x: &x,
            d: 4096,
            y: &y,
            c: 1.0,
            example_weights: None,
        };
        let (upper, diag, qii) = constants(&p, true);
        let coords = Coordinates {
            upper: &upper,
            diag: &diag,
            qii: &qii,
        };
        for free in [
            (0..2100).collect::<Vec<usize>>(),
            (0..2100).step_by(3).collect(),
        ] {
            let stored: usize = free.iter().map(|&i| row_nonzeros(p.row(i))).sum();
            assert_eq!(stored >= PARALLEL_MARGINS, free.len() == 2100);
            let face = Face {
                problem: &p,
                coords: &coords,
                free: &free,
                stored,
            };
            let m = free.len();
            let mut rng = rand::rngs::StdRng::seed_from_u64(4);
            let v: Vec<f64> = (0..m).map(|_| rng.random::<f64>() - 0.5).collect();
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (mut u, mut half, mut out) = (vec![0.0; 4096], vec![0.0; 4096], vec![0.0; m]);
                pool.install(|| face.product(&v, &mut u, &mut half, &mut out));
                out
            };
            let out = run(1);
            assert_eq!(out, run(2), "bits differ between one and two threads");
            let dense = |i: usize| {
                let mut row = vec![0.0; 4096];
                for (j, value) in p.row(i).entries() {
                    row[j] = value;
                }
                row
            };
            for k in [0, m / 2, m - 1] {
                let xk = dense(free[k]);
                let mut want = diag[free[k]] * v[k];
                for (l, &i) in free.iter().enumerate() {
                    let q: f64 = p.row(i).entries().map(|(j, value)| value * xk[j]).sum();
                    want += y[free[k]] * y[i] * q * v[l];
                }
                assert!(
                    (out[k] - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{k}: {} vs {want}",
                    out[k]
                );
            }
        }
    }

    #[test]
    fn polish_cg_reaches_the_dual_optimum_with_the_same_bits_dense_and_sparse() {
        // 600 separable rows in 1500 columns, 10 values each, from α = 0: the active-set
        // rounds must find the optimum that dual coordinate descent certifies to 1e-12 (the
        // reference: its duality gap bounds its own error), and the dense copy of the rows
        // must give the same bits.
        let (sparse, dense, y) = sparse_problem(600, 1500, 10, 5);
        for (loss, squared) in [
            (MarginLoss::hinge(), false),
            (MarginLoss::squared_hinge(), true),
        ] {
            let p = Problem {
                x: &sparse,
                d: 1500,
                y: &y,
                c: 1.0,
                example_weights: None,
            };
            let reference = dual_cd(p, loss, 1e-12, 1_000_000, 0).unwrap();
            assert!(reference.converged);
            let (upper, diag, qii) = constants(&p, squared);
            let coords = Coordinates {
                upper: &upper,
                diag: &diag,
                qii: &qii,
            };
            let zero = (vec![0.0; 600], vec![0.0; 1500], vec![0.0; 600]);
            let total: usize = (0..600).map(|i| row_nonzeros(p.row(i))).sum();
            let target = 1e-10 * reference.objective;
            let run = |x: &Features| {
                let p = Problem {
                    x,
                    d: 1500,
                    y: &y,
                    c: 1.0,
                    example_weights: None,
                };
                polish_cg(
                    &p,
                    &coords,
                    &zero.0,
                    &zero.1,
                    &zero.2,
                    total,
                    usize::MAX,
                    target,
                )
            };
            let ((found, _), (found_dense, _)) = (run(&sparse), run(&dense));
            let (alpha, w) = found.unwrap();
            assert_eq!(Some((alpha.clone(), w.clone())), found_dense, "{loss:?}");
            assert!(alpha
                .iter()
                .zip(&upper)
                .all(|(a, u)| (0.0..=*u).contains(a)));
            let (f, _) = p.objective(loss, &w).unwrap();
            let rel = (f - reference.objective) / reference.objective;
            assert!(
                rel.abs() <= 1e-9,
                "{loss:?}: f = {f}, reference {}",
                reference.objective
            );
        }
    }
}
