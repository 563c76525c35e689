//! Solvers for the linear SVM primal `f(w) = ½‖w‖² + C·Σᵢ ℓ(yᵢ·w·xᵢ)` (liblinear's convention;
//! a bias is an appended constant feature, regularised like the rest).
//!
//! | solver | losses | certificate |
//! | --- | --- | --- |
//! | [`dual_cd`] (Hsieh et al. 2008) | hinge, squared hinge | duality gap `f(w) − D(α)` |
//! | [`newton`] (generalised Hessian, Cholesky, Armijo) | squared hinge | `‖∇f(w)‖` |
//! | [`subgradient`] (steps `η/k` along `−g/‖g‖`, iterate averaging) | any | none (best objective) |
//! | [`pegasos`] (SGD, λ-form) | hinge | none |
//! | [`nesterov`] (accelerated gradient, Armijo backtracking) | smooth: squared hinge, ψ_G, ψ_M, … | `‖∇f(w)‖` |
//!
//! Every solver but dual coordinate descent (which works on the dual) can take its gradients
//! from the engine or from the closed forms ([`GradientSource`]: `subgradient`, `nesterov`,
//! `newton_with`, `pegasos_with`), so the two can be compared; `train --gradient` selects it.

use autodiff::{Data, Shape, Tape};
use losses::{linear_on_tape, MarginLoss, Objective};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::error::{Error, Result};

/// The largest penalty `C` the solvers (and [`crate::model::train`]) accept: 10¹⁰⁰.
///
/// The objective `½‖w‖² + C·Σ ℓ` and the solvers' squared norms must stay below `f64::MAX`
/// (≈ 1.8·10³⁰⁸). For the hinge the optimum is `w = Σ αᵢyᵢxᵢ` with `0 ≤ αᵢ ≤ C`, so
/// `‖w‖² ≤ C²·(Σ‖xᵢ‖)²`: with `C ≤ 10¹⁰⁰`, `C² ≤ 10²⁰⁰` leaves a factor 10¹⁰⁸ for the data, where
/// a `C` past 10¹⁵⁴ would overflow `C²` itself. Results that still overflow are reported as
/// [`Error::NonFinite`] by `train`, never as a success.
pub const MAX_C: f64 = 1e100;

/// The most features [`newton`] takes: its generalised Hessian is a dense `d × d` matrix
/// (4096² `f64` = 128 MiB) factored in `O(d³)`. [`crate::model::train`] uses dual coordinate
/// descent for the squared hinge beyond it.
pub const MAX_NEWTON_FEATURES: usize = 4096;

/// Checks a stopping tolerance: finite and `> 0`.
fn check_tol(tol: f64) -> Result<()> {
    if tol.is_finite() && tol > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "tol",
            value: tol,
            range: "finite, > 0",
        })
    }
}

/// Checks an iteration budget: at least 1.
fn check_iterations(name: &'static str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            value: 0.0,
            range: "≥ 1",
        })
    }
}

/// A training problem: rows `x` (`n × d`), labels `y = ±1`, penalty `C`.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// Features, row-major.
    pub x: &'a [f64],
    /// Number of features.
    pub d: usize,
    /// Labels ±1.
    pub y: &'a [f64],
    /// The penalty, `0 < C ≤` [`MAX_C`].
    pub c: f64,
}

impl Problem<'_> {
    fn n(&self) -> usize {
        self.y.len()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    fn check(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0 && self.c <= MAX_C) {
            return Err(Error::InvalidParameter {
                name: "C",
                value: self.c,
                range: "0 < C ≤ 1e100",
            });
        }
        if self.n() == 0 {
            return Err(Error::Empty);
        }
        if self.d == 0 {
            return Err(Error::NoFeatures);
        }
        match self.n().checked_mul(self.d) {
            Some(len) if len == self.x.len() => {}
            expected => {
                return Err(Error::Dimension {
                    what: "x (n·d)",
                    expected: expected.unwrap_or(usize::MAX),
                    got: self.x.len(),
                })
            }
        }
        if let Some(k) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteRow {
                what: "feature value",
                row: k / self.d,
                value: self.x[k],
            });
        }
        if let Some(i) = self.y.iter().position(|&v| v != 1.0 && v != -1.0) {
            return Err(Error::Labels(format!(
                "label {} of example {i} is not ±1",
                self.y[i]
            )));
        }
        Ok(())
    }

    /// `f(w) = ½‖w‖² + C·Σ ℓ(yᵢ·w·xᵢ)` and its gradient, closed form.
    ///
    /// # Errors
    /// Input errors from the losses crate.
    pub fn objective(&self, loss: MarginLoss, w: &[f64]) -> Result<(f64, Vec<f64>)> {
        Ok(Objective::Liblinear { c: self.c }.value_grad(loss, self.x, self.d, self.y, w)?)
    }
}

/// Where a first-order solver gets its gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GradientSource {
    /// The engine, on the loss built from primitives (default policy).
    Engine,
    /// The hand-derived closed form.
    ClosedForm,
}

/// An optimality certificate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Certificate {
    /// `f(w) − D(α) ≥ f(w) − f*` (dual coordinate descent).
    DualityGap(f64),
    /// `‖∇f(w)‖` (smooth losses).
    GradientNorm(f64),
    /// No certificate (subgradient methods).
    None,
}

impl Certificate {
    /// The certificate's number (duality gap or gradient norm), if there is one.
    ///
    /// # Example
    /// ```
    /// use svm::solvers::Certificate;
    /// assert_eq!(Certificate::DualityGap(1e-9).value(), Some(1e-9));
    /// assert_eq!(Certificate::None.value(), None);
    /// ```
    pub fn value(self) -> Option<f64> {
        match self {
            Certificate::DualityGap(v) | Certificate::GradientNorm(v) => Some(v),
            Certificate::None => None,
        }
    }
}

/// A solver's result.
#[derive(Debug, Clone, Serialize)]
pub struct Solution {
    /// The weights.
    pub w: Vec<f64>,
    /// `f(w)`.
    pub objective: f64,
    /// Iterations (epochs for dual coordinate descent).
    pub iterations: usize,
    /// Whether the stopping tolerance was reached.
    pub converged: bool,
    /// The optimality certificate.
    pub certificate: Certificate,
    /// The objective after each iteration.
    pub history: Vec<f64>,
}

/// Gradients for the first-order solvers, from the engine or the closed form.
struct Oracle<'a> {
    problem: Problem<'a>,
    loss: MarginLoss,
    source: GradientSource,
    x: Data<f64>,
    y: Data<f64>,
    tape: Tape<f64>,
    grads: autodiff::Gradients<f64>,
}

impl<'a> Oracle<'a> {
    fn new(problem: Problem<'a>, loss: MarginLoss, source: GradientSource) -> Result<Self> {
        problem.check()?;
        loss.validate()?;
        Ok(Oracle {
            problem,
            loss,
            source,
            x: Data::new(problem.x.to_vec(), Shape::matrix(problem.n(), problem.d))?,
            y: Data::vector(problem.y.to_vec())?,
            tape: Tape::new(),
            grads: autodiff::Gradients::new(),
        })
    }

    fn eval(&mut self, w: &[f64]) -> Result<(f64, Vec<f64>)> {
        match self.source {
            GradientSource::ClosedForm => self.problem.objective(self.loss, w),
            GradientSource::Engine => {
                self.tape.clear();
                let wv = self.tape.param_vec(w)?;
                let sum = linear_on_tape(
                    self.loss,
                    self.tape.data(&self.x),
                    self.tape.data(&self.y),
                    wv,
                    None,
                )?;
                let f = Objective::Liblinear { c: self.problem.c }.on_tape(
                    sum,
                    wv,
                    self.problem.n(),
                )?;
                self.tape.backward_into(f, &mut self.grads)?;
                Ok((f.item(), self.grads.wrt(wv).to_vec()))
            }
        }
    }
}

/// Dual coordinate descent for the hinge (L1-loss) or squared hinge (L2-loss) SVM, stopping when
/// the duality gap is at most `tol·max(1, f(w))`.
///
/// Coordinates stuck at a bound are shrunk (skipped) as in liblinear, and all come back whenever
/// the remaining ones are solved; the gap is always taken over every example.
///
/// ```text
/// dual: min_α ½·αᵀ(Q + D)α − Σα,  0 ≤ αᵢ ≤ U,  Qᵢⱼ = yᵢyⱼ·xᵢ·xⱼ,  w = Σ αᵢyᵢxᵢ
/// hinge: U = C, D = 0;   squared hinge: U = ∞, Dᵢᵢ = 1/(2C)
/// D(α) = Σα − ½‖w‖² − ½·Σ Dᵢᵢαᵢ²  ≤  f*  ≤  f(w)
/// ```
///
/// A row with `‖xᵢ‖ = 0` under the hinge has `Qᵢᵢ = 0`: its margin is 0 at every `w`, so
/// `∂D/∂αᵢ = −1` and its optimal `αᵢ` is `C`; it is set there at the start (it cannot move `w`)
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
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 10.0 };
/// let s = dual_cd(p, MarginLoss::hinge(), 1e-9, 100_000, 0)?;
/// assert!(s.converged);
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
    let (upper, diag) = match loss {
        MarginLoss::Hinge { margin: 1.0 } => (problem.c, 0.0),
        MarginLoss::SquaredHinge { margin: 1.0 } => (f64::INFINITY, 0.5 / problem.c),
        _ => {
            return Err(Error::InvalidParameter {
                name: "loss (dual coordinate descent needs the hinge or squared hinge)",
                value: f64::NAN,
                range: "hinge, squared-hinge",
            })
        }
    };
    let (n, d) = (problem.n(), problem.d);
    let qii: Vec<f64> = (0..n)
        .map(|i| problem.row(i).iter().map(|v| v * v).sum::<f64>() + diag)
        .collect();
    let mut alpha = vec![0.0; n];
    let mut w = vec![0.0; d];
    for i in (0..n).filter(|&i| qii[i] == 0.0) {
        // Only the hinge (D = 0) gets here, for xᵢ = 0 or a row whose squares underflow: its
        // margin is (as good as) 0 < 1 at any w, so ∂D/∂αᵢ = −1 and αᵢ = C = U is optimal.
        // w = Σ αᵢyᵢxᵢ is kept exact (a no-op for xᵢ = 0).
        alpha[i] = upper;
        for (wj, xj) in w.iter_mut().zip(problem.row(i)) {
            *wj += upper * problem.y[i] * xj;
        }
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
    let mut gap = f64::INFINITY;
    let mut objective = f64::INFINITY;
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
            let g = yi * xi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() - 1.0 + diag * alpha[i];
            let shrink =
                (alpha[i] == 0.0 && g > pg_max_old) || (alpha[i] == upper && g < pg_min_old);
            if shrink {
                active -= 1;
                order.swap(s, active);
                continue;
            }
            let pg = if alpha[i] == 0.0 {
                g.min(0.0)
            } else if alpha[i] == upper {
                g.max(0.0)
            } else {
                g
            };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg != 0.0 {
                let old = alpha[i];
                alpha[i] = (old - g / qii[i]).clamp(0.0, upper);
                let delta = (alpha[i] - old) * yi;
                for (wj, xj) in w.iter_mut().zip(xi) {
                    *wj += delta * xj;
                }
            }
            s += 1;
        }
        if pg_max - pg_min <= inner_tol && active < n {
            // The active set is solved: bring every coordinate back, and ask more next time.
            active = n;
            (pg_max_old, pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
            inner_tol *= 0.1;
        } else {
            pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
            pg_min_old = if pg_min >= 0.0 {
                f64::NEG_INFINITY
            } else {
                pg_min
            };
        }
        objective = problem.objective(loss, &w)?.0;
        let norm2: f64 = w.iter().map(|v| v * v).sum();
        let dual = alpha.iter().sum::<f64>()
            - 0.5 * norm2
            - 0.5 * diag * alpha.iter().map(|a| a * a).sum::<f64>();
        gap = objective - dual;
        history.push(objective);
        if gap <= tol * objective.max(1.0) {
            return Ok(Solution {
                w,
                objective,
                iterations: epoch,
                converged: true,
                certificate: Certificate::DualityGap(gap),
                history,
            });
        }
    }
    Ok(Solution {
        w,
        objective,
        iterations: max_epochs,
        converged: false,
        certificate: Certificate::DualityGap(gap),
        history,
    })
}

/// Solves `A·x = b` for a symmetric positive definite `A` (`d × d`, row-major) by Cholesky.
fn cholesky_solve(a: &mut [f64], b: &[f64], d: usize) -> Option<Vec<f64>> {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if s <= 0.0 {
            return None;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        for i in j + 1..d {
            let mut t = a[i * d + j];
            for k in 0..j {
                t -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = t / l;
        }
    }
    let mut z = b.to_vec();
    for i in 0..d {
        for k in 0..i {
            z[i] -= a[i * d + k] * z[k];
        }
        z[i] /= a[i * d + i];
    }
    for i in (0..d).rev() {
        for k in i + 1..d {
            z[i] -= a[k * d + i] * z[k];
        }
        z[i] /= a[i * d + i];
    }
    Some(z)
}

/// Newton's method for the squared hinge: the generalised Hessian `I + 2C·Σ_{zᵢ<1} xᵢxᵢᵀ` is
/// factored exactly (Cholesky), with Armijo backtracking; stops when
/// `‖∇f(w)‖ ≤ tol·max(1, ‖∇f(0)‖)`. The objective is piecewise quadratic, so the method ends in
/// few iterations once the active set settles.
///
/// # Errors
/// Input errors; [`Error::InvalidParameter`] for a bad `C` or `tol`;
/// [`Error::TooManyFeatures`] past [`MAX_NEWTON_FEATURES`].
///
/// # Example
/// ```
/// use svm::solvers::{newton, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 1.0 };
/// let s = newton(p, 1e-10, 100)?;
/// assert!(s.converged);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn newton(problem: Problem<'_>, tol: f64, max_iter: usize) -> Result<Solution> {
    newton_with(problem, tol, max_iter, GradientSource::ClosedForm)
}

/// [`newton`] with the objective and gradient from the engine or the closed form (the
/// generalised Hessian is always formed from the data).
///
/// # Errors
/// As [`newton`].
pub fn newton_with(
    problem: Problem<'_>,
    tol: f64,
    max_iter: usize,
    source: GradientSource,
) -> Result<Solution> {
    problem.check()?;
    check_tol(tol)?;
    if problem.d > MAX_NEWTON_FEATURES {
        return Err(Error::TooManyFeatures {
            solver: "Newton's method",
            features: problem.d,
            limit: MAX_NEWTON_FEATURES,
        });
    }
    let loss = MarginLoss::squared_hinge();
    let mut oracle = Oracle::new(problem, loss, source)?;
    let (n, d, c) = (problem.n(), problem.d, problem.c);
    let mut w = vec![0.0; d];
    let (mut f, mut g) = oracle.eval(&w)?;
    let g0 = g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0);
    let mut history = vec![f];
    for it in 1..=max_iter {
        let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if gnorm <= tol * g0 {
            return Ok(Solution {
                w,
                objective: f,
                iterations: it - 1,
                converged: true,
                certificate: Certificate::GradientNorm(gnorm),
                history,
            });
        }
        let mut h = vec![0.0; d * d];
        for j in 0..d {
            h[j * d + j] = 1.0;
        }
        for i in 0..n {
            let xi = problem.row(i);
            let z = problem.y[i] * xi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
            if z < 1.0 {
                for a in 0..d {
                    if xi[a] != 0.0 {
                        let s = 2.0 * c * xi[a];
                        for b in 0..d {
                            h[a * d + b] += s * xi[b];
                        }
                    }
                }
            }
        }
        let rhs: Vec<f64> = g.iter().map(|v| -v).collect();
        let Some(p) = cholesky_solve(&mut h, &rhs, d) else {
            break;
        };
        let slope: f64 = g.iter().zip(&p).map(|(a, b)| a * b).sum();
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = w.iter().zip(&p).map(|(a, b)| a + t * b).collect();
            let (ft, gt) = oracle.eval(&trial)?;
            if ft <= f + 1e-4 * t * slope || t < 1e-12 {
                w = trial;
                f = ft;
                g = gt;
                break;
            }
            t *= 0.5;
        }
        history.push(f);
    }
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(Solution {
        w,
        objective: f,
        iterations: history.len() - 1,
        converged: gnorm <= tol * g0,
        certificate: Certificate::GradientNorm(gnorm),
        history,
    })
}

/// The classic subgradient method: `w ← w − (η/k)·g/‖g‖`, returning the running average of the
/// iterates (for which `f(w̄ₖ) − f* = O(1/√k)`).
///
/// # Errors
/// Input and engine errors; [`Error::InvalidParameter`] for a `step` that is not finite and
/// `> 0`.
///
/// # Example
/// ```
/// use losses::MarginLoss;
/// use svm::solvers::{subgradient, GradientSource, Problem};
/// let seed = svm::data::builtin("seed")?.with_bias(1.0)?;
/// let p = Problem { x: &seed.x, d: seed.d, y: &seed.labels, c: 10.0 };
/// let s = subgradient(p, MarginLoss::hinge(), 4.0, 2000, GradientSource::Engine)?;
/// assert!(s.objective < 10.0);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn subgradient(
    problem: Problem<'_>,
    loss: MarginLoss,
    step: f64,
    iterations: usize,
    source: GradientSource,
) -> Result<Solution> {
    if !(step.is_finite() && step > 0.0) {
        return Err(Error::InvalidParameter {
            name: "step",
            value: step,
            range: "finite, > 0",
        });
    }
    let mut oracle = Oracle::new(problem, loss, source)?;
    let d = problem.d;
    let (mut w, mut avg) = (vec![0.0; d], vec![0.0; d]);
    let mut history = Vec::with_capacity(iterations);
    for k in 1..=iterations {
        let (_, g) = oracle.eval(&w)?;
        for (a, wj) in avg.iter_mut().zip(&w) {
            *a += (wj - *a) / k as f64;
        }
        history.push(problem.objective(loss, &avg)?.0);
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        for (wj, gj) in w.iter_mut().zip(&g) {
            *wj -= step / k as f64 * gj / norm;
        }
    }
    let objective = problem.objective(loss, &avg)?.0;
    Ok(Solution {
        w: avg,
        objective,
        iterations: history.len(),
        converged: false,
        certificate: Certificate::None,
        history,
    })
}

/// Pegasos (Shalev-Shwartz et al.): SGD on the λ-form `(λ/2)‖w‖² + mean hinge` with
/// `λ = 1/(nC)` (the same minimiser as the liblinear form), steps `1/(λk)`, one random example
/// per step (seeded). Reported objectives are in the liblinear convention.
///
/// # Errors
/// Input errors.
pub fn pegasos(problem: Problem<'_>, iterations: usize, seed: u64) -> Result<Solution> {
    pegasos_with(problem, iterations, seed, GradientSource::ClosedForm)
}

/// [`pegasos`] with each step's subgradient of `(λ/2)‖w‖² + max(0, 1 − yᵢ·w·xᵢ)` from the engine
/// (a one-example tape, reused) or from the closed form `λw − [yᵢ·w·xᵢ < 1]·yᵢ·xᵢ`.
///
/// # Errors
/// As [`pegasos`].
pub fn pegasos_with(
    problem: Problem<'_>,
    iterations: usize,
    seed: u64,
    source: GradientSource,
) -> Result<Solution> {
    problem.check()?;
    let (n, d) = (problem.n(), problem.d);
    let mut tape = Tape::<f64>::new();
    let mut grads = autodiff::Gradients::new();
    let lambda = 1.0 / (n as f64 * problem.c);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut w = vec![0.0; d];
    let mut avg = vec![0.0; d];
    let mut history = Vec::new();
    let every = (iterations / 200).max(1);
    for k in 1..=iterations {
        let i = rng.random_range(0..n);
        let xi = problem.row(i);
        let z = problem.y[i] * xi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
        let eta = 1.0 / (lambda * k as f64);
        match source {
            GradientSource::ClosedForm => {
                for wj in w.iter_mut() {
                    *wj *= 1.0 - eta * lambda;
                }
                if z < 1.0 {
                    for (wj, xj) in w.iter_mut().zip(xi) {
                        *wj += eta * problem.y[i] * xj;
                    }
                }
            }
            GradientSource::Engine => {
                tape.clear();
                let wv = tape.param_vec(&w)?;
                let xv = tape.constant_vec(xi)?;
                let margin = wv.try_dot(xv)? * problem.y[i];
                let f = (1.0 - margin).relu() + wv.square().sum() * (0.5 * lambda);
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
            history.push(problem.objective(MarginLoss::hinge(), &avg)?.0);
        }
    }
    let objective = problem.objective(MarginLoss::hinge(), &avg)?.0;
    Ok(Solution {
        w: avg,
        objective,
        iterations,
        converged: false,
        certificate: Certificate::None,
        history,
    })
}

/// Nesterov's accelerated gradient with Armijo backtracking on the step (for smooth losses:
/// squared hinge, ψ_G, ψ_M, Huberised, modified Huber); stops when
/// `‖∇f(w)‖ ≤ tol·max(1, ‖∇f(0)‖)`.
///
/// # Errors
/// Input and engine errors; [`Error::InvalidParameter`] for a bad `tol`.
pub fn nesterov(
    problem: Problem<'_>,
    loss: MarginLoss,
    tol: f64,
    max_iter: usize,
    source: GradientSource,
) -> Result<Solution> {
    check_tol(tol)?;
    let mut oracle = Oracle::new(problem, loss, source)?;
    let norm = |g: &[f64]| g.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut w = vec![0.0; problem.d];
    let mut v = w.clone();
    let (mut f, mut gw) = oracle.eval(&w)?;
    let g0 = norm(&gw).max(1.0);
    let (mut step, mut theta) = (1.0, 1.0_f64);
    let mut history = vec![f];
    for _ in 0..max_iter {
        if norm(&gw) <= tol * g0 {
            break;
        }
        // A gradient step from the extrapolated point v, with backtracking until
        // f(v − s·g) ≤ f(v) − (s/2)‖g‖².
        let (fv, gv) = oracle.eval(&v)?;
        let gv2 = norm(&gv).powi(2);
        let next = loop {
            let trial: Vec<f64> = v.iter().zip(&gv).map(|(a, b)| a - step * b).collect();
            if oracle.eval(&trial)?.0 <= fv - 0.5 * step * gv2 || step < 1e-16 {
                break trial;
            }
            step *= 0.5;
        };
        let theta_next = (1.0 + (1.0 + 4.0 * theta * theta).sqrt()) / 2.0;
        let momentum = (theta - 1.0) / theta_next;
        v = next
            .iter()
            .zip(&w)
            .map(|(a, b)| a + momentum * (a - b))
            .collect();
        w = next;
        theta = theta_next;
        step *= 1.5;
        let (fw, g) = oracle.eval(&w)?;
        // Restart the momentum when the objective goes up.
        if fw > f {
            v = w.clone();
            theta = 1.0;
        }
        f = fw;
        gw = g;
        history.push(f);
    }
    let gn = norm(&gw);
    Ok(Solution {
        w,
        objective: f,
        iterations: history.len() - 1,
        converged: gn <= tol * g0,
        certificate: Certificate::GradientNorm(gn),
        history,
    })
}
