//! `subgrad demo`: the showcase on the seed's five points.
//!
//! A linear SVM `f(w, b) = ½‖w‖² + C·Σᵢ max(0, 1 − yᵢ·(w·xᵢ + b))` trained by the classic
//! subgradient method (normalised steps `η/k`, iterate averaging), with the engine's gradient
//! checked against the closed form at every step, and the kinks hit reported. Then the exact
//! optimum, where three points sit exactly on the margin: its exact subdifferential, which
//! contains 0 with the hand-derived multipliers (the proof of optimality), and the gradient
//! every kink policy returns there.

use std::path::{Path, PathBuf};

use autodiff::{Certify, Data, KinkPolicy, Shape, Tape};
use serde::Serialize;

use crate::{plots, CliError};

/// The seed's points.
pub const POINTS: [[f64; 2]; 5] = [[0.0, 1.0], [1.0, 2.0], [3.0, 0.0], [4.0, 1.0], [1.0, 1.0]];
/// The seed's labels.
pub const LABELS: [f64; 5] = [1.0, 1.0, -1.0, -1.0, -1.0];
/// The penalty `C`; any `C ≥ 4` makes the soft-margin optimum the hard-margin one.
pub const C: f64 = 10.0;
/// The optimum, derived by hand: support vectors x₀, x₁ (y = +1) and x₄ (y = −1) on the margin
/// give `w·(x₁ − x₀) = 0`, `w·x₄ + b = −1`, `w·x₀ + b = 1`, so `w = (−2, 2)`, `b = −1`,
/// `f = ½‖w‖² = 4`, with multipliers `α = (2, 2, 4)` (all `≤ C`).
pub const OPTIMUM: ([f64; 2], f64, f64) = ([-2.0, 2.0], -1.0, 4.0);

/// The hand-derived dual variables of the margin examples x₀, x₁, x₄ divided by `C`:
/// `tᵢ = αᵢ/C` with `α = (2, 2, 4)` ([`OPTIMUM`]). They are the multipliers with which
/// `0 = (w, 0) + Σᵢ tᵢ·C·(−yᵢ·xᵢ, −yᵢ)`: the optimality condition `0 ∈ ∂f(w*, b*)`.
pub const MULTIPLIERS: [f64; 3] = [0.2, 0.2, 0.4];

/// The engine's proof that [`OPTIMUM`] is optimal: its exact subdifferential there
/// (`Tape::subdifferential`) contains 0, with the margin examples' multipliers.
#[derive(Debug, Clone, Serialize)]
pub struct Optimality {
    /// The examples whose hinge is tied (on the margin), one generator each.
    pub margin_examples: Vec<usize>,
    /// The centre of `∂f(w*, b*)`, `(∂w₁, ∂w₂, ∂b)`, every margin term on its 0 branch.
    pub center: Vec<f64>,
    /// The generators `C·(−yᵢ·xᵢ, −yᵢ)`, one per margin example.
    pub generators: Vec<Vec<f64>>,
    /// The minimum-norm element of `∂f(w*, b*)`.
    pub min_norm: Vec<f64>,
    /// Its multipliers `tᵢ` (the dual variables `αᵢ/C`).
    pub multipliers: Vec<f64>,
    /// The hand-derived multipliers ([`MULTIPLIERS`]).
    pub expected: Vec<f64>,
    /// Largest `|tᵢ − αᵢ/C|`.
    pub multiplier_gap: f64,
    /// Whether 0 is in `∂f(w*, b*)` (within [`OPTIMALITY_TOLERANCE`]).
    pub contains_zero: bool,
    /// Both hold: 0 is in the set, and the multipliers are the hand-derived ones (within
    /// [`OPTIMALITY_TOLERANCE`]); `f` is convex, so `(w*, b*)` is a minimum.
    pub proved: bool,
}

/// The tolerance of [`Optimality`]'s checks.
pub const OPTIMALITY_TOLERANCE: f64 = 1e-9;

/// How close to the margin an example counts as *near* it in the table: `|1 − yᵢ·(w·xᵢ + b)| ≤
/// NEAR_MARGIN`. The iterates of the subgradient method are rounded floating-point numbers that
/// almost never put an example *exactly* on the margin (none of the 5,000 default steps does),
/// so the exact column alone is empty; the near one shows the examples the method is holding
/// at the margin, the support vectors x₀, x₁, x₄.
pub const NEAR_MARGIN: f64 = 0.01;

/// One recorded training step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Iteration (1-based).
    pub k: usize,
    /// Objective at the iterate.
    pub objective: f64,
    /// Objective at the running average of the iterates.
    pub averaged_objective: f64,
    /// Examples exactly on the margin at the iterate (kinks hit: the rule chose their term).
    pub on_margin: Vec<usize>,
    /// Examples within [`NEAR_MARGIN`] of the margin but not on it.
    pub near_margin: Vec<usize>,
    /// Largest |autodiff − closed form| over the gradient's entries.
    pub closed_form_gap: f64,
}

/// The outcome, as printed by `--json`.
#[derive(Debug, Serialize)]
pub struct DemoOutput {
    /// Steps run.
    pub iterations: usize,
    /// Sampled steps (every `report_every`).
    pub steps: Vec<Step>,
    /// The distance to the margin within which an example is reported near it.
    pub near_margin_tolerance: f64,
    /// The averaged iterate `(w₁, w₂, b)`.
    pub averaged: [f64; 3],
    /// Its objective.
    pub objective: f64,
    /// The optimum's objective (4).
    pub optimum: f64,
    /// Largest |autodiff − closed form| seen over all steps.
    pub max_closed_form_gap: f64,
    /// At the optimum: the gradient under each policy and certified, `(name, [∂w₁, ∂w₂, ∂b])`.
    pub at_optimum: Vec<(String, [f64; 3])>,
    /// Examples exactly on the margin at the optimum.
    pub optimum_on_margin: Vec<usize>,
    /// The proof that the optimum is optimal: `0 ∈ ∂f(w*, b*)` with the multipliers.
    pub optimality: Optimality,
    /// The plots written.
    pub plots: Vec<PathBuf>,
}

/// What [`engine`] computed at one point.
struct Evaluation {
    objective: f64,
    gradient: [f64; 3],
    /// Examples exactly on the margin.
    on_margin: Vec<usize>,
    /// Examples within [`NEAR_MARGIN`] of it, not on it.
    near_margin: Vec<usize>,
}

/// Objective and gradient by the engine, with the examples on and near the margin.
fn engine(
    policy: KinkPolicy,
    x: &Data<f64>,
    y: &Data<f64>,
    wb: [f64; 3],
    certified: bool,
) -> Result<Evaluation, CliError> {
    let tape = Tape::<f64>::with_policy(policy);
    let w = tape.param_vec(&wb[..2])?;
    let b = tape.param_scalar(wb[2])?;
    let margins = tape.data(y) * (tape.data(x).matvec(w) + b);
    let hinge = (1.0 - margins).relu();
    let f = w.square().sum() * 0.5 + hinge.sum() * C;
    let grads = if certified {
        tape.backward_certified(f, Certify::Random { seed: 0 })?
            .gradients
    } else {
        f.backward()?
    };
    let gw = grads.wrt(w);
    // The relu's distance to its kink is |1 − yᵢ·(w·xᵢ + b)|, the distance to the margin.
    let (on_margin, near_margin) = tape
        .kinks_near(NEAR_MARGIN)
        .site(hinge.id())
        .map(|s| (s.exact.clone(), s.near.clone()))
        .unwrap_or_default();
    Ok(Evaluation {
        objective: f.item(),
        gradient: [gw[0], gw[1], grads.wrt(b)[0]],
        on_margin,
        near_margin,
    })
}

/// The exact subdifferential of `f` at [`OPTIMUM`] by the engine, and whether it proves the
/// optimum (0 in it, with the hand-derived multipliers).
fn optimality(x: &Data<f64>, y: &Data<f64>) -> Result<Optimality, CliError> {
    let (w_opt, b_opt, _) = OPTIMUM;
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&w_opt)?;
    let b = tape.param_scalar(b_opt)?;
    let margins = tape.data(y) * (tape.data(x).matvec(w) + b);
    let f = w.square().sum() * 0.5 + (1.0 - margins).relu().sum() * C;
    let set = tape.subdifferential(f, &[w, b])?;
    let nearest = set.min_norm();
    let margin_examples: Vec<usize> = set.ties.iter().map(|t| t.element).collect();
    let multiplier_gap = if nearest.multipliers.len() == MULTIPLIERS.len() {
        nearest
            .multipliers
            .iter()
            .zip(MULTIPLIERS)
            .map(|(t, e)| (t - e).abs())
            .fold(0.0, f64::max)
    } else {
        f64::INFINITY
    };
    let contains_zero = set.contains_zero(OPTIMALITY_TOLERANCE);
    Ok(Optimality {
        proved: contains_zero
            && margin_examples == [0, 1, 4]
            && multiplier_gap <= OPTIMALITY_TOLERANCE,
        margin_examples,
        center: set.center,
        generators: set.generators,
        min_norm: nearest.point.iter().map(|v| v + 0.0).collect(),
        multipliers: nearest.multipliers,
        expected: MULTIPLIERS.to_vec(),
        multiplier_gap,
        contains_zero,
    })
}

/// The closed form: `∂f/∂w = w − C·Σ_{i: yᵢ(w·xᵢ+b) < 1} yᵢ·xᵢ`, `∂f/∂b = −C·Σ yᵢ` over the same
/// examples; at a margin of exactly 1 the example contributes 0 (relu'(0) = 0, the MinNorm rule).
fn closed_form(wb: [f64; 3]) -> (f64, [f64; 3]) {
    let mut g = [wb[0], wb[1], 0.0];
    let mut f = 0.5 * (wb[0] * wb[0] + wb[1] * wb[1]);
    for (p, &y) in POINTS.iter().zip(&LABELS) {
        let m = y * (wb[0] * p[0] + wb[1] * p[1] + wb[2]);
        if m < 1.0 {
            f += C * (1.0 - m);
            g[0] -= C * y * p[0];
            g[1] -= C * y * p[1];
            g[2] -= C * y;
        }
    }
    (f, g)
}

/// Runs the demo; writes the plots into `out_dir`.
///
/// # Errors
/// [`CliError::OutOfRange`] if `iterations` or `report_every` is 0 or `step` is not a finite
/// number > 0 (checked before anything runs or is written); engine, plot or I/O failures.
///
/// # Example
/// ```
/// use subgrad_cli::{demo, CliError};
/// let dir = tempfile::tempdir()?;
/// let err = demo::run(100, 0.0, 10, dir.path());
/// assert!(matches!(err, Err(CliError::OutOfRange { option: "--step", .. })));
/// let err = demo::run(0, 4.0, 10, dir.path());
/// assert!(matches!(err, Err(CliError::OutOfRange { option: "--iterations", .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run(
    iterations: usize,
    step: f64,
    report_every: usize,
    out_dir: &Path,
) -> Result<DemoOutput, CliError> {
    for (option, value) in [("--iterations", iterations), ("--every", report_every)] {
        if value == 0 {
            return Err(CliError::OutOfRange {
                option,
                value: 0.0,
                expected: "must be at least 1",
            });
        }
    }
    if !(step.is_finite() && step > 0.0) {
        return Err(CliError::OutOfRange {
            option: "--step",
            value: step,
            expected: "the step size must be a finite number > 0",
        });
    }
    let x = Data::new(POINTS.concat(), Shape::matrix(5, 2))?;
    let y = Data::vector(LABELS.to_vec())?;
    let mut wb = [0.0; 3];
    let mut avg = [0.0; 3];
    let mut steps = Vec::new();
    let mut curve = Vec::with_capacity(iterations);
    let mut avg_curve = Vec::with_capacity(iterations);
    let mut max_gap: f64 = 0.0;
    for k in 1..=iterations {
        let Evaluation {
            objective: f,
            gradient: g,
            on_margin,
            near_margin,
        } = engine(KinkPolicy::MinNorm, &x, &y, wb, false)?;
        let (fc, gc) = closed_form(wb);
        let gap = g
            .iter()
            .zip(&gc)
            .map(|(a, b)| (a - b).abs())
            .fold((f - fc).abs(), f64::max);
        max_gap = max_gap.max(gap);
        // Averaging the iterates: the average converges at the O(1/√k) rate of the method.
        for j in 0..3 {
            avg[j] += (wb[j] - avg[j]) / k as f64;
        }
        let fa = closed_form(avg).0;
        curve.push(f);
        avg_curve.push(fa);
        if k == 1 || k % report_every == 0 || k == iterations {
            steps.push(Step {
                k,
                objective: f,
                averaged_objective: fa,
                on_margin,
                near_margin,
                closed_form_gap: gap,
            });
        }
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            break;
        }
        for j in 0..3 {
            wb[j] -= step / k as f64 * g[j] / norm;
        }
    }
    let objective = closed_form(avg).0;

    let (w_opt, b_opt, f_opt) = OPTIMUM;
    let at = [w_opt[0], w_opt[1], b_opt];
    let mut at_optimum = Vec::new();
    let mut optimum_on_margin = Vec::new();
    for policy in [
        KinkPolicy::MinNorm,
        KinkPolicy::Torch,
        KinkPolicy::Jax,
        KinkPolicy::Tf,
    ] {
        let eval = engine(policy, &x, &y, at, false)?;
        at_optimum.push((policy.name().to_string(), eval.gradient));
        optimum_on_margin = eval.on_margin;
    }
    let eval = engine(KinkPolicy::MinNorm, &x, &y, at, true)?;
    at_optimum.push(("certified".to_string(), eval.gradient));
    let optimality = optimality(&x, &y)?;

    std::fs::create_dir_all(out_dir).map_err(|source| CliError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let regions = out_dir.join("decision_regions.svg");
    plots::decision_regions(
        &regions,
        "subgradient descent on the seed's points (averaged iterate)",
        &POINTS,
        &LABELS,
        [avg[0], avg[1]],
        avg[2],
        &optimum_on_margin,
        "on the margin at the exact optimum",
    )?;
    let loss = out_dir.join("loss.svg");
    let gap = |v: Vec<f64>| v.into_iter().map(|f| f - f_opt).collect::<Vec<_>>();
    plots::gap_curve(
        &loss,
        "subgradient method: f − f* (C = 10, f* = 4) vs iteration",
        "f − f*",
        &[
            ("iterate", gap(curve)),
            ("averaged iterate", gap(avg_curve)),
        ],
    )?;
    let hinge = out_dir.join("hinge_subgradients.svg");
    plots::hinge_subgradients(&hinge, 0.0, "MinNorm (relu'(0) = 0)")?;
    Ok(DemoOutput {
        iterations,
        steps,
        near_margin_tolerance: NEAR_MARGIN,
        averaged: avg,
        objective,
        optimum: f_opt,
        max_closed_form_gap: max_gap,
        at_optimum,
        optimum_on_margin,
        optimality,
        plots: vec![regions, loss, hinge],
    })
}

/// The human-readable report.
pub fn render(out: &DemoOutput) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "subgrad demo: a linear SVM on five points, f(w, b) = ½‖w‖² + C·Σ max(0, 1 − y·(w·x + b)), C = {C}");
    for (i, (p, y)) in POINTS.iter().zip(LABELS).enumerate() {
        let _ = writeln!(s, "  x{i} = ({}, {})  y = {y:+}", p[0], p[1]);
    }
    let _ = writeln!(
        s,
        "\nclassic subgradient descent, step η/k along −g/‖g‖, iterate averaging:"
    );
    let _ = writeln!(
        s,
        "  examples on the margin yᵢ·(w·xᵢ + b) = 1 at the iterate: exactly (a kink, where the rule chose"
    );
    let _ = writeln!(
        s,
        "  their term; rounded iterates almost never land there) | within {} of it (not exactly)",
        out.near_margin_tolerance
    );
    let _ = writeln!(
        s,
        "  {:>6}  {:>12}  {:>12}  {:>16}  on the margin: exactly | near",
        "k", "f(iterate)", "f(average)", "|autodiff − cf|"
    );
    let names = |v: &[usize]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter()
                .map(|i| format!("x{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    for st in &out.steps {
        let _ = writeln!(
            s,
            "  {:>6}  {:>12.6}  {:>12.6}  {:>16.2e}  {} | {}",
            st.k,
            st.objective,
            st.averaged_objective,
            st.closed_form_gap,
            names(&st.on_margin),
            names(&st.near_margin)
        );
    }
    let _ = writeln!(
        s,
        "averaged iterate: w = ({:.4}, {:.4}), b = {:.4}, f = {:.6} (optimum {}: gap {:.2e})",
        out.averaged[0],
        out.averaged[1],
        out.averaged[2],
        out.objective,
        out.optimum,
        out.objective - out.optimum
    );
    let _ = writeln!(
        s,
        "autodiff and the closed-form gradient agreed to {:.1e} at every step",
        out.max_closed_form_gap
    );
    let (w, b, _) = OPTIMUM;
    let _ = writeln!(
        s,
        "\nat the exact optimum w = ({}, {}), b = {b}: examples {:?} sit exactly on the margin (kinks).",
        w[0], w[1], out.optimum_on_margin
    );
    let o = &out.optimality;
    let list = |v: &[f64]| crate::subdifferential::rounded(v);
    let _ = writeln!(
        s,
        "its exact subdifferential (Tape::subdifferential), in (∂w₁, ∂w₂, ∂b): ∂f = c + Σ tᵢ·gᵢ, t ∈ [0, 1]³,"
    );
    let _ = writeln!(
        s,
        "  c = {}  (w, and 0 from each margin term)",
        list(&o.center)
    );
    for (i, g) in o.margin_examples.iter().zip(&o.generators) {
        let _ = writeln!(s, "  g for x{i} = {}  (C·(−yᵢ·xᵢ, −yᵢ))", list(g));
    }
    let _ = writeln!(
        s,
        "  minimum-norm element {} at t = {}; hand-derived t = α/C = {} (largest gap {:.1e})",
        list(&o.min_norm),
        list(&o.multipliers),
        list(&o.expected),
        o.multiplier_gap
    );
    if o.proved {
        let _ = writeln!(
            s,
            "  0 ∈ ∂f(w*, b*) with the margin examples' multipliers α/C: f is convex, so the hand-derived optimum is PROVED optimal."
        );
    } else {
        let _ = writeln!(
            s,
            "  NOT proved: 0 ∈ ∂f is {}, and the multipliers differ from α/C by {:.1e}.",
            o.contains_zero, o.multiplier_gap
        );
    }
    let _ = writeln!(s, "yet each rule picks one element of ∂f, and none is 0:");
    for (name, g) in &out.at_optimum {
        let _ = writeln!(s, "  {name:<10} ∂f = ({}, {}, {})", g[0], g[1], g[2]);
    }
    let _ = writeln!(s, "every one is a valid subgradient; none is 0: a subgradient method does not stop at the optimum.");
    let _ = writeln!(s, "\nplots:");
    for p in &out.plots {
        let _ = writeln!(s, "  {}", p.display());
    }
    s
}
