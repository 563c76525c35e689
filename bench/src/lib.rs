//! Shared pieces of the liblinear comparison: the four problems (built outside any timed
//! region), a thin binding to liblinear's `train()` on a prebuilt problem, and the subgrad
//! solver calls.
//!
//! liblinear is timed through its C entry point `train()` on feature nodes built beforehand,
//! so the timed region holds its solver only, as subgrad's holds `exact_hinge`/`newton_cg` on
//! prebuilt rows. (The `liblinear` crate's `Builder::build_model` first copies the whole
//! training input into fresh feature-node vectors, an `O(nnz)` copy that is not liblinear's
//! solver; the crate's API is still used, for the high-accuracy reference run.)

use std::error::Error;
use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::Mutex;
use std::time::Instant;

use liblinear::util::TrainingInput;
use liblinear::{FeatureNode, LibLinearModel};
use losses::MarginLoss;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use svm::matrix::{Csr, Features};
use svm::solvers::{exact_hinge, newton_cg, Problem, Solution};

/// Boxed errors (svm's, and liblinear's `failure` errors as text).
pub type BoxResult<T> = Result<T, Box<dyn Error>>;

/// The loss being compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Hinge: subgrad `exact_hinge` (interior point for few features, else dual CD) vs
    /// liblinear `-s 3` (dual CD).
    Hinge,
    /// Squared hinge: subgrad `newton_cg` vs liblinear `-s 2` (primal TRON).
    SquaredHinge,
}

impl Loss {
    /// subgrad's margin loss.
    pub fn margin_loss(self) -> MarginLoss {
        match self {
            Loss::Hinge => MarginLoss::hinge(),
            Loss::SquaredHinge => MarginLoss::squared_hinge(),
        }
    }

    /// liblinear's solver type number (`-s`).
    pub fn liblinear_solver(self) -> i32 {
        match self {
            Loss::Hinge => 3,
            Loss::SquaredHinge => 2,
        }
    }

    /// liblinear's default stopping tolerance for that solver (`train` without `-e`).
    pub fn liblinear_default_eps(self) -> f64 {
        match self {
            Loss::Hinge => 0.1,
            Loss::SquaredHinge => 0.01,
        }
    }

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Hinge => "hinge",
            Loss::SquaredHinge => "sq. hinge",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// liblinear's C interface (linear.h of liblinear 2.30, the version the crate vendors). The
// symbols come from the static library the `liblinear` crate builds and links.

#[repr(C)]
struct LlProblem {
    l: i32,
    n: i32,
    y: *const f64,
    x: *const *const FeatureNode,
    bias: f64,
}

#[repr(C)]
struct LlParameter {
    solver_type: i32,
    eps: f64,
    c: f64,
    nr_weight: i32,
    weight_label: *const i32,
    weight: *const f64,
    p: f64,
    init_sol: *const f64,
}

#[repr(C)]
struct LlModel {
    param: LlParameter,
    nr_class: i32,
    nr_feature: i32,
    w: *mut f64,
    label: *mut i32,
    bias: f64,
}

extern "C" {
    fn train(prob: *const LlProblem, param: *const LlParameter) -> *mut LlModel;
    fn check_parameter(prob: *const LlProblem, param: *const LlParameter) -> *const c_char;
    fn free_and_destroy_model(model: *mut *mut LlModel);
    fn set_print_string_function(func: Option<extern "C" fn(*const c_char)>);
}

/// What liblinear printed during the last training run(s) (its `info()` output).
static LOG: Mutex<String> = Mutex::new(String::new());

extern "C" fn capture(s: *const c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: liblinear passes a NUL-terminated buffer, valid for the call.
    let text = unsafe { CStr::from_ptr(s) }.to_string_lossy();
    if let Ok(mut log) = LOG.lock() {
        log.push_str(&text);
    }
}

/// Silences liblinear's printing and captures it instead (iteration counts and warnings).
pub fn capture_liblinear_output() {
    liblinear::toggle_liblinear_stdout_output(false);
    // SAFETY: `capture` is a valid `void (*)(const char*)` for the whole program.
    unsafe { set_print_string_function(Some(capture)) };
}

fn take_log() -> String {
    LOG.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}

/// A problem in liblinear's layout: feature nodes (1-based, zeros dropped, `-1`-terminated).
pub struct LlData {
    rows: Vec<Vec<FeatureNode>>,
    ptrs: Vec<*const FeatureNode>,
    y: Vec<f64>,
    n: i32,
}

impl LlData {
    fn new(x: &Features, d: usize, y: &[f64]) -> LlData {
        let rows: Vec<Vec<FeatureNode>> = (0..y.len())
            .map(|i| {
                let mut r: Vec<FeatureNode> = x
                    .row(i, d)
                    .entries()
                    .filter(|&(_, v)| v != 0.0)
                    .map(|(j, v)| FeatureNode {
                        index: j as i32 + 1,
                        value: v,
                    })
                    .collect();
                r.push(FeatureNode {
                    index: -1,
                    value: 0.0,
                });
                r
            })
            .collect();
        // Each row's buffer stays where it is when `rows` moves.
        let ptrs = rows.iter().map(|r| r.as_ptr()).collect();
        LlData {
            rows,
            ptrs,
            y: y.to_vec(),
            n: d as i32,
        }
    }

    /// The rows as the `liblinear` crate's sparse input (1-based indices).
    pub fn training_input(&self) -> BoxResult<TrainingInput> {
        let features = self
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .take_while(|f| f.index > 0)
                    .map(|f| (f.index as u32, f.value))
                    .collect()
            })
            .collect();
        TrainingInput::from_sparse_features(self.y.clone(), features)
            .map_err(|e| format!("liblinear input: {e}").into())
    }
}

/// One liblinear training run.
#[derive(Debug, Clone)]
pub struct LlRun {
    /// Weights for the +1 class, `d` of them.
    pub w: Vec<f64>,
    /// Wall time of `train()` alone, seconds.
    pub seconds: f64,
    /// Outer iterations it reported (dual CD epochs; TRON's Newton iterations).
    pub iterations: Option<usize>,
    /// Whether it reported reaching its iteration limit.
    pub hit_cap: bool,
    /// Other warnings it printed.
    pub warnings: Vec<String>,
}

fn parse_log(log: &str, solver: i32) -> (Option<usize>, bool, Vec<String>) {
    let hit_cap = log.contains("reaching max");
    let iterations = if solver == 2 {
        // TRON prints one `iter N act ...` line per Newton iteration.
        Some(
            log.lines()
                .filter(|l| l.trim_start().starts_with("iter "))
                .count(),
        )
    } else {
        log.rsplit("#iter = ")
            .next()
            .filter(|_| log.contains("#iter = "))
            .and_then(|t| {
                t.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|s| s.parse().ok())
            })
    };
    let warnings = log
        .lines()
        .filter(|l| l.contains("WARNING") && !l.contains("reaching max"))
        .map(|l| l.trim().to_string())
        .collect();
    (iterations, hit_cap, warnings)
}

/// liblinear's `train()` on the prebuilt problem, no bias, timed alone.
///
/// # Errors
/// A parameter liblinear rejects, or a NULL model.
pub fn liblinear_train(data: &LlData, loss: Loss, eps: f64, c: f64) -> BoxResult<LlRun> {
    let prob = LlProblem {
        l: data.y.len() as i32,
        n: data.n,
        y: data.y.as_ptr(),
        x: data.ptrs.as_ptr(),
        bias: -1.0,
    };
    let param = LlParameter {
        solver_type: loss.liblinear_solver(),
        eps,
        c,
        nr_weight: 0,
        weight_label: std::ptr::null(),
        weight: std::ptr::null(),
        p: 0.1,
        init_sol: std::ptr::null(),
    };
    // SAFETY: `prob` points into `data`, alive for the call; `param` has no weights.
    let bad = unsafe { check_parameter(&prob, &param) };
    if !bad.is_null() {
        // SAFETY: liblinear returns a static NUL-terminated message.
        let msg = unsafe { CStr::from_ptr(bad) }
            .to_string_lossy()
            .into_owned();
        return Err(format!("liblinear parameter: {msg}").into());
    }
    take_log();
    let start = Instant::now();
    // SAFETY: as above; the model is freed below.
    let mut model = unsafe { train(&prob, &param) };
    let seconds = start.elapsed().as_secs_f64();
    if model.is_null() {
        return Err("liblinear train() returned NULL".into());
    }
    // SAFETY: a binary model: `w` holds `nr_feature` values for `label[0]`.
    let w = unsafe {
        let m = &*model;
        let sign = if *m.label == 1 { 1.0 } else { -1.0 };
        let nf = m.nr_feature as usize;
        let mut w: Vec<f64> = std::slice::from_raw_parts(m.w, nf)
            .iter()
            .map(|v| sign * v)
            .collect();
        w.resize(data.n as usize, 0.0);
        free_and_destroy_model(&mut model);
        w
    };
    let (iterations, hit_cap, warnings) = parse_log(&take_log(), loss.liblinear_solver());
    Ok(LlRun {
        w,
        seconds,
        iterations,
        hit_cap,
        warnings,
    })
}

/// The same training through the `liblinear` crate's own API (`Builder::build_model`),
/// weights read with `feature_coefficient` for the +1 class; the time includes the crate's
/// copy of the input.
///
/// # Errors
/// liblinear's errors, as text.
pub fn liblinear_crate_train(data: &LlData, loss: Loss, eps: f64, c: f64) -> BoxResult<LlRun> {
    let input = data.training_input()?;
    let solver = match loss {
        Loss::Hinge => liblinear::SolverType::L2R_L1LOSS_SVC_DUAL,
        Loss::SquaredHinge => liblinear::SolverType::L2R_L2LOSS_SVC,
    };
    let mut builder = liblinear::Builder::new();
    builder.problem().input_data(input).bias(-1.0);
    builder
        .parameters()
        .solver_type(solver)
        .stopping_criterion(eps)
        .constraints_violation_cost(c);
    take_log();
    let start = Instant::now();
    let model = builder
        .build_model()
        .map_err(|e| format!("liblinear: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let k = model
        .labels()
        .iter()
        .position(|&l| l == 1)
        .ok_or("liblinear model has no +1 class")? as i32;
    let w = (1..=data.n)
        .map(|j| model.feature_coefficient(j, k))
        .collect();
    let (iterations, hit_cap, warnings) = parse_log(&take_log(), loss.liblinear_solver());
    Ok(LlRun {
        w,
        seconds,
        iterations,
        hit_cap,
        warnings,
    })
}

// ---------------------------------------------------------------------------------------------
// subgrad

/// One subgrad run.
#[derive(Debug, Clone)]
pub struct SgRun {
    /// The solution.
    pub solution: Solution,
    /// Wall time of the solver call, seconds.
    pub seconds: f64,
}

/// subgrad's solver for `loss`: `exact_hinge` (seed 0) for the hinge, `newton_cg` for the squared
/// hinge, with `tol` bounding `(f(w) − f*)/f(w)`.
///
/// # Errors
/// svm's errors.
pub fn subgrad_train(b: &Bench, loss: Loss, tol: f64, max_iter: usize) -> BoxResult<SgRun> {
    let p = b.problem();
    let start = Instant::now();
    let solution = match loss {
        Loss::Hinge => exact_hinge(p, tol, max_iter, 0)?,
        Loss::SquaredHinge => newton_cg(p, tol, max_iter)?,
    };
    Ok(SgRun {
        solution,
        seconds: start.elapsed().as_secs_f64(),
    })
}

// ---------------------------------------------------------------------------------------------
// The problems

/// A binary problem, no bias, in both layouts.
pub struct Bench {
    /// Key: a, b, c or d.
    pub key: char,
    /// Description.
    pub name: String,
    /// Rows for subgrad.
    pub x: Features,
    /// Columns.
    pub d: usize,
    /// Labels ±1.
    pub y: Vec<f64>,
    /// The penalty.
    pub c: f64,
    /// The same rows for liblinear.
    pub ll: LlData,
}

impl Bench {
    fn new(key: char, name: String, x: Features, d: usize, y: Vec<f64>, c: f64) -> Bench {
        let ll = LlData::new(&x, d, &y);
        Bench {
            key,
            name,
            x,
            d,
            y,
            c,
            ll,
        }
    }

    /// subgrad's problem.
    pub fn problem(&self) -> Problem<'_> {
        Problem {
            x: &self.x,
            d: self.d,
            y: &self.y,
            c: self.c,
            example_weights: None,
        }
    }

    /// `½‖w‖² + C·Σ loss(yᵢ·w·xᵢ)`, the primal objective both tools minimise.
    ///
    /// # Errors
    /// svm's errors.
    pub fn objective(&self, loss: Loss, w: &[f64]) -> BoxResult<f64> {
        Ok(self.problem().objective(loss.margin_loss(), w)?.0)
    }

    /// Rows × columns and stored non-zeros.
    pub fn shape(&self) -> String {
        let nnz: usize = self.ll.rows.iter().map(|r| r.len() - 1).sum();
        format!("{} × {}, {} non-zeros", self.y.len(), self.d, nnz)
    }
}

/// A standard normal by Box–Muller (one of the pair).
fn normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// (a) standardised breast_cancer, C = 1.
///
/// # Errors
/// svm's errors.
pub fn problem_a() -> BoxResult<Bench> {
    let raw = svm::data::builtin("breast_cancer")?;
    let data = svm::data::Standardizer::fit(&raw)?.transform(&raw)?;
    let y = data.binary_labels()?;
    Ok(Bench::new(
        'a',
        "(a) breast_cancer, standardised, C = 1".into(),
        data.x,
        data.d,
        y,
        1.0,
    ))
}

/// (b) raw digits, class 0 vs rest, C = 0.1.
///
/// # Errors
/// svm's errors.
pub fn problem_b() -> BoxResult<Bench> {
    let data = svm::data::builtin("digits")?;
    let y = data.one_vs_rest(0.0);
    Ok(Bench::new(
        'b',
        "(b) digits raw, 0 vs rest, C = 0.1".into(),
        data.x,
        data.d,
        y,
        0.1,
    ))
}

/// (c) dense 100,000 × 100: `x ~ N(0, I)`, `y = sign(w*·x + 0.5·ε)`, `w* ~ N(0, I)`,
/// `ε ~ N(0, 1)`, from `StdRng::seed_from_u64(1)` (w* first, then each row and its ε); C = 1.
pub fn problem_c() -> Bench {
    const N: usize = 100_000;
    const D: usize = 100;
    let mut rng = StdRng::seed_from_u64(1);
    let w_star: Vec<f64> = (0..D).map(|_| normal(&mut rng)).collect();
    let mut x = Vec::with_capacity(N * D);
    let mut y = Vec::with_capacity(N);
    for _ in 0..N {
        let row: Vec<f64> = (0..D).map(|_| normal(&mut rng)).collect();
        let s: f64 = row.iter().zip(&w_star).map(|(a, b)| a * b).sum();
        let noisy = s + 0.5 * normal(&mut rng);
        y.push(if noisy >= 0.0 { 1.0 } else { -1.0 });
        x.extend(row);
    }
    Bench::new(
        'c',
        "(c) dense Gaussian, noisy linear labels, C = 1".into(),
        Features::Dense(x),
        D,
        y,
        1.0,
    )
}

/// (d) sparse 50,000 × 100,000, 50 non-zeros per row at distinct uniform columns, values
/// uniform in (0, 1]; `y = sign(w*·x)` with `w*` 10 % dense (N(0, 1) entries); a row that
/// meets none of `w*`'s non-zeros gets a random label. `StdRng::seed_from_u64(1)`; C = 1.
///
/// # Errors
/// svm's errors.
pub fn problem_d() -> BoxResult<Bench> {
    const N: usize = 50_000;
    const D: usize = 100_000;
    const NNZ: usize = 50;
    let mut rng = StdRng::seed_from_u64(1);
    let w_star: Vec<f64> = (0..D)
        .map(|_| {
            if rng.random::<f64>() < 0.1 {
                normal(&mut rng)
            } else {
                0.0
            }
        })
        .collect();
    let mut indptr = Vec::with_capacity(N + 1);
    let mut indices = Vec::with_capacity(N * NNZ);
    let mut values = Vec::with_capacity(N * NNZ);
    let mut y = Vec::with_capacity(N);
    indptr.push(0);
    for _ in 0..N {
        let mut cols = rand::seq::index::sample(&mut rng, D, NNZ).into_vec();
        cols.sort_unstable();
        let mut s = 0.0;
        for &j in &cols {
            let v = 1.0 - rng.random::<f64>(); // (0, 1]
            s += v * w_star[j];
            indices.push(j as u32);
            values.push(v);
        }
        indptr.push(indices.len());
        let label = if s > 0.0 {
            1.0
        } else if s < 0.0 {
            -1.0
        } else if rng.random::<bool>() {
            1.0
        } else {
            -1.0
        };
        y.push(label);
    }
    let x = Csr::new(indptr, indices, values, D)?;
    Ok(Bench::new(
        'd',
        "(d) sparse 50 nnz/row, sparse-w* labels, C = 1".into(),
        Features::Sparse(x),
        D,
        y,
        1.0,
    ))
}

/// The problem with key `a`…`d`.
///
/// # Errors
/// An unknown key; svm's errors.
pub fn problem(key: char) -> BoxResult<Bench> {
    match key {
        'a' => problem_a(),
        'b' => problem_b(),
        'c' => Ok(problem_c()),
        'd' => problem_d(),
        other => Err(format!("unknown problem {other:?} (a, b, c, d)").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Squared hinge: liblinear's TRON converges here, so both paths into liblinear (raw
    /// `train()` and the crate's `build_model`) must match subgrad's optimum.
    #[test]
    fn both_tools_agree_on_breast_cancer_squared_hinge() -> BoxResult<()> {
        capture_liblinear_output();
        let b = problem_a()?;
        let f = subgrad_train(&b, Loss::SquaredHinge, 1e-12, 100)?
            .solution
            .objective;
        let raw = liblinear_train(&b.ll, Loss::SquaredHinge, 1e-8, b.c)?;
        let via_crate = liblinear_crate_train(&b.ll, Loss::SquaredHinge, 1e-8, b.c)?;
        for w in [&raw.w, &via_crate.w] {
            let fl = b.objective(Loss::SquaredHinge, w)?;
            assert!((fl - f).abs() <= 1e-8 * f, "{fl} vs {f}");
        }
        Ok(())
    }

    /// Hinge: liblinear's dual CD stops at its 1000-epoch cap on this problem, so only check
    /// that it never goes below subgrad's certified lower bound `f − gap`.
    #[test]
    fn liblinear_hinge_respects_the_certified_bound() -> BoxResult<()> {
        capture_liblinear_output();
        let b = problem_a()?;
        let s = subgrad_train(&b, Loss::Hinge, 1e-10, 100_000)?.solution;
        let lower = s.objective - s.certificate.error_bound().ok_or("no certificate")?;
        let run = liblinear_train(&b.ll, Loss::Hinge, 1e-8, b.c)?;
        assert!(b.objective(Loss::Hinge, &run.w)? >= lower);
        Ok(())
    }
}
