//! The sequential dual method for the Crammer–Singer multiclass SVM (Keerthi et al. 2008; the
//! method of liblinear's `-s 4`).

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{check_iterations, check_tol, sq_norm, Certificate, Solution};
use crate::error::{Error, Result};
use crate::matrix::Features;

/// How often (in epochs) the duality gap is computed.
const GAP_EVERY: usize = 10;

/// Visits at rest (all variables 0, unmoved) after which an example is shrunk.
const SHRINK_AFTER: u8 = 2;

/// A multiclass problem: rows `x` (`n × d`), class indices `labels` in `0..k`, penalty `C`,
/// and optionally one weight `sᵢ > 0` per example, so that example `i`'s loss is counted with
/// `Cᵢ = C·sᵢ` (as in [`super::Problem`]).
#[derive(Debug, Clone, Copy)]
pub struct MulticlassProblem<'a> {
    /// The rows.
    pub x: &'a Features,
    /// Number of features.
    pub d: usize,
    /// Each row's class, `0..k`.
    pub labels: &'a [usize],
    /// Number of classes (≥ 2).
    pub k: usize,
    /// The penalty, `0 < C ≤` [`MAX_C`](super::MAX_C).
    pub c: f64,
    /// One weight per example (finite, `> 0`; example `i` gets the penalty `C·sᵢ`), or `None`
    /// for weight 1 everywhere.
    pub example_weights: Option<&'a [f64]>,
}

impl MulticlassProblem<'_> {
    pub(super) fn check(&self) -> Result<()> {
        super::check_c(self.c)?;
        if self.labels.is_empty() {
            return Err(Error::Empty);
        }
        if self.d == 0 {
            return Err(Error::NoFeatures);
        }
        if self.k < 2 {
            return Err(Error::Labels(
                "Crammer–Singer needs at least two classes".into(),
            ));
        }
        if let Some(i) = self.labels.iter().position(|&l| l >= self.k) {
            return Err(Error::Labels(format!(
                "class index {} of example {i} is not below k = {}",
                self.labels[i], self.k
            )));
        }
        crate::data::check_features(self.x, self.d, self.labels.len())?;
        super::check_example_weights(self.example_weights, self.c, self.labels.len())
    }

    /// Example `i`'s penalty `Cᵢ = C·sᵢ` (`C` without weights).
    ///
    /// # Panics
    /// If `i ≥ n` with weights (a programmer error; the solvers check the weights' length
    /// first).
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Features;
    /// let x = Features::from(vec![1.0, 2.0]);
    /// let p = svm::solvers::MulticlassProblem {
    ///     x: &x, d: 1, labels: &[0, 1], k: 2, c: 2.0, example_weights: Some(&[0.5, 3.0]),
    /// };
    /// assert_eq!((p.c_of(0), p.c_of(1)), (1.0, 6.0));
    /// ```
    #[track_caller]
    pub fn c_of(&self, i: usize) -> f64 {
        match self.example_weights {
            Some(s) => self.c * s[i],
            None => self.c,
        }
    }

    /// `P(W) = ½‖W‖² + Σᵢ Cᵢ·max(0, max_{r≠yᵢ} (1 + wᵣ·xᵢ − w_yᵢ·xᵢ))`, `W` the `k` class
    /// vectors one after the other, `Cᵢ` = [`MulticlassProblem::c_of`].
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Features;
    /// use svm::solvers::MulticlassProblem;
    /// let x = Features::from(vec![1.0, 2.0]);
    /// let p = MulticlassProblem { x: &x, d: 1, labels: &[0, 1], k: 2, c: 1.0, example_weights: None };
    /// // At W = 0 every example has loss 1: P = 2·C.
    /// assert_eq!(p.objective(&[0.0, 0.0]), 2.0);
    /// ```
    pub fn objective(&self, w: &[f64]) -> f64 {
        self.objective_with(w, false)
    }

    /// The objective of the hinge (`squared = false`) or of the squared form
    /// `½‖W‖² + Σᵢ Cᵢ·max(0, max_{r≠yᵢ} (1 + wᵣ·xᵢ − w_yᵢ·xᵢ))²`.
    pub(super) fn objective_with(&self, w: &[f64], squared: bool) -> f64 {
        let d = self.d;
        let mut loss = 0.0;
        for (i, &y) in self.labels.iter().enumerate() {
            let row = self.x.row(i, d);
            let scores: Vec<f64> = (0..self.k)
                .map(|m| row.dot(&w[m * d..(m + 1) * d]))
                .collect();
            let worst = (0..self.k)
                .filter(|&m| m != y)
                .map(|m| 1.0 + scores[m] - scores[y])
                .fold(0.0, f64::max);
            loss += self.c_of(i) * if squared { worst * worst } else { worst };
        }
        0.5 * sq_norm(w) + loss
    }
}

/// Crammer–Singer by the sequential dual method: for each example in turn (seeded random order)
/// its `k` dual variables are optimised exactly, on dense or sparse rows, until the duality gap
/// is at most `tol·P(W)` (so `tol` bounds the relative objective error) or `max_epochs` epochs
/// have run (`converged = false`).
///
/// ```text
/// dual: min_α ½‖W‖² + Σᵢ Σ_{m≠yᵢ} αᵢₘ,   W_m = Σᵢ αᵢₘ·xᵢ,   Σₘ αᵢₘ = 0,   αᵢₘ ≤ Cᵢ·[m = yᵢ]
/// gap:  P(W) − D(α),   D(α) = −½‖W‖² + Σᵢ αᵢ,yᵢ
/// ```
///
/// A row with `xᵢ = 0` (its loss is 1 whatever `W`) is set at the start to
/// `αᵢ,yᵢ = Cᵢ`, `αᵢ,m = −Cᵢ` for one other class: optimal, and it cannot move `W`.
///
/// # Errors
/// [`Error::InvalidParameter`] for a bad `C`, `tol` or `max_epochs = 0`; [`Error::Labels`] for
/// a class index not below `k` or `k < 2`; input errors.
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// use svm::solvers::{crammer_singer, MulticlassProblem};
/// // Three points on a line, one per class.
/// let x = Features::from(vec![-1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
/// let p = MulticlassProblem { x: &x, d: 2, labels: &[0, 1, 2], k: 3, c: 10.0, example_weights: None };
/// let s = crammer_singer(p, 1e-10, 10_000, 0)?;
/// assert!(s.converged);
/// assert!(s.certificate.value().unwrap() <= 1e-10 * s.objective);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn crammer_singer(
    problem: MulticlassProblem<'_>,
    tol: f64,
    max_epochs: usize,
    seed: u64,
) -> Result<Solution> {
    sequential_dual(problem, Form::Hinge, tol, max_epochs, seed)
}

/// The Crammer–Singer loss a [`sequential_dual`] run solves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `max(0, 1 + max_{r≠y} wᵣ·x − w_y·x)`.
    Hinge,
    /// Its square (Lee & Lin).
    Squared,
}

/// Scratch of one sub-problem, `k` values each.
struct Scratch {
    g: Vec<f64>,
    b: Vec<f64>,
    sorted: Vec<f64>,
    new: Vec<f64>,
}

/// The sequential dual method shared by [`crammer_singer`] and
/// [`super::crammer_singer_squared`]: the setup, the seeded epochs, the gap checks every
/// `max(GAP_EVERY, epoch/16)` epochs (and whenever an epoch moves nothing), shrinking, and
/// the result; only each example's sub-problem differs.
pub(super) fn sequential_dual(
    problem: MulticlassProblem<'_>,
    form: Form,
    tol: f64,
    max_epochs: usize,
    seed: u64,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    check_iterations("max_epochs", max_epochs)?;
    let (n, d, k) = (problem.labels.len(), problem.d, problem.k);
    let squared = form == Form::Squared;
    let row = |i: usize| problem.x.row(i, d);
    let sq: Vec<f64> = (0..n).map(|i| row(i).sq_norm()).collect();
    let mut alpha = vec![0.0; n * k];
    let mut w = vec![0.0; k * d];
    if form == Form::Hinge {
        for i in (0..n).filter(|&i| sq[i] == 0.0) {
            let (y, c) = (problem.labels[i], problem.c_of(i));
            alpha[i * k + y] = c;
            alpha[i * k + (y + 1) % k] = -c;
        }
    }
    // The hinge's zero rows are fixed above; the squared form solves them in its sub-problem.
    let mut order: Vec<usize> = (0..n).filter(|&i| squared || sq[i] > 0.0).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut scratch = Scratch {
        g: vec![0.0; k],
        b: vec![0.0; k],
        sorted: Vec::with_capacity(k),
        new: vec![0.0; k],
    };
    let mut history = Vec::new();
    let gap_of = |w: &[f64], alpha: &[f64]| {
        let primal = problem.objective_with(w, squared);
        let dual = -0.5 * sq_norm(w)
            + (0..n)
                .map(|i| {
                    let a = alpha[i * k + problem.labels[i]];
                    if squared {
                        a - a * a / (4.0 * problem.c_of(i))
                    } else {
                        a
                    }
                })
                .sum::<f64>();
        (primal, dual)
    };
    // The primal value of the dual iterates is not monotone: the best one seen at a check is
    // returned, with the gap to the current dual value (which only grows).
    let mut best: (f64, Vec<f64>) = (f64::INFINITY, Vec::new());
    let mut check = |w: &[f64], alpha: &[f64]| {
        let (primal, dual) = gap_of(w, alpha);
        if primal < best.0 {
            best = (primal, w.to_vec());
        }
        (best.0, best.0 - dual)
    };
    // Shrinking: an example whose variables are all 0 and stay 0 when visited (outside the
    // margin, not a support vector) twice in a row is set aside, `order[..active]` being the
    // ones still visited. Every example comes back at each gap check, which is always taken
    // over all of them, so shrinking can slow convergence but never end it early.
    let mut rest = vec![0u8; n];
    let mut active = order.len();
    let mut next_check = GAP_EVERY;
    for epoch in 1..=max_epochs {
        order[..active].shuffle(&mut rng);
        let mut s = 0;
        let mut moved_any = false;
        while s < active {
            let i = order[s];
            let (xi, y, c) = (row(i), problem.labels[i], problem.c_of(i));
            let ai = &mut alpha[i * k..(i + 1) * k];
            let changed = match form {
                Form::Hinge => hinge_step(xi, y, sq[i], c, ai, &w, &mut scratch),
                Form::Squared => super::crammer_singer_squared::squared_step(
                    xi,
                    y,
                    sq[i],
                    c,
                    ai,
                    &w,
                    &mut scratch.b,
                    &mut scratch.sorted,
                    &mut scratch.new,
                ),
            };
            let mut moved = false;
            if changed {
                for m in 0..k {
                    let delta = scratch.new[m] - ai[m];
                    if delta != 0.0 {
                        xi.axpy(delta, &mut w[m * d..(m + 1) * d]);
                        ai[m] = scratch.new[m];
                        moved = true;
                    }
                }
            }
            moved_any |= moved;
            if !moved && ai.iter().all(|&v| v == 0.0) {
                rest[i] += 1;
                if rest[i] >= SHRINK_AFTER {
                    active -= 1;
                    order.swap(s, active);
                    continue;
                }
            } else {
                rest[i] = 0;
            }
            s += 1;
        }
        // Nothing moved: the active examples are solved, so check now.
        if epoch >= next_check || !moved_any {
            next_check = epoch + GAP_EVERY.max(epoch / 16);
            let (primal, gap) = check(&w, &alpha);
            history.push(primal);
            if gap <= tol * primal {
                return Ok(Solution {
                    w: std::mem::take(&mut best.1),
                    objective: primal,
                    iterations: epoch,
                    converged: true,
                    certificate: Certificate::DualityGap(gap),
                    history,
                });
            }
            active = order.len();
            rest.iter_mut().for_each(|r| *r = 0);
        }
    }
    let (primal, gap) = check(&w, &alpha);
    history.push(primal);
    Ok(Solution {
        w: best.1,
        objective: primal,
        iterations: max_epochs,
        converged: gap <= tol * primal,
        certificate: Certificate::DualityGap(gap),
        history,
    })
}

/// The hinge's sub-problem for one example (`a = ‖xᵢ‖² > 0`, `ai` its `k` dual variables):
/// `min ½·a·Σ αₘ² + Σ Bₘαₘ, Σ αₘ = 0, αₘ ≤ C·[m = y]`, solved exactly into `scratch.new`:
/// `αₘ = min(C·[m = y], (β − Bₘ)/a)` with `β` found by sorting. Returns `false` (nothing to
/// change) when the variables are optimal already.
fn hinge_step(
    xi: crate::matrix::Row<'_>,
    y: usize,
    a: f64,
    c: f64,
    ai: &[f64],
    w: &[f64],
    scratch: &mut Scratch,
) -> bool {
    let k = ai.len();
    let d = w.len() / k;
    let Scratch { g, b, sorted, new } = scratch;
    for m in 0..k {
        g[m] = xi.dot(&w[m * d..(m + 1) * d]) + if m == y { 0.0 } else { 1.0 };
    }
    // Optimal already: the largest gradient is no larger than the smallest one of a variable
    // that can still grow.
    let max_g = g.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min_g = (0..k)
        .filter(|&m| ai[m] < if m == y { c } else { 0.0 })
        .map(|m| g[m])
        .fold(f64::INFINITY, f64::min);
    if max_g - min_g <= 1e-12 {
        return false;
    }
    sorted.clear();
    for m in 0..k {
        b[m] = g[m] - a * ai[m];
        sorted.push(b[m]);
    }
    sorted[y] += a * c;
    sorted.sort_by(|p, q| q.total_cmp(p));
    let mut beta = sorted[0] - a * c;
    let mut r = 1;
    while r < k && beta < r as f64 * sorted[r] {
        beta += sorted[r];
        r += 1;
    }
    beta /= r as f64;
    for m in 0..k {
        let cap = if m == y { c } else { 0.0 };
        new[m] = cap.min((beta - b[m]) / a);
    }
    true
}
