//! `subgrad grad`: differentiate an expression at a point and say what happened at the kinks.

use autodiff::{Certify, KinkPolicy, Tape};
use serde::Serialize;

use crate::expr::{self, Origins, Pieces};
use crate::subdifferential::{self, Subdifferential, Zonotope};
use crate::CliError;

/// What `grad` computed, as printed by `--json`.
#[derive(Debug, Serialize)]
pub struct GradOutput {
    /// The expression as given.
    pub expression: String,
    /// Its value at the point.
    pub value: f64,
    /// ∂f/∂name for every variable, in order of appearance.
    pub gradient: serde_json::Map<String, serde_json::Value>,
    /// The kinks the evaluation hit exactly.
    pub kinks: Vec<KinkOut>,
    /// The kink policy's name.
    pub policy: String,
    /// Whether the certified mode computed the gradient.
    pub certified: bool,
    /// The certified mode's seed, if its random direction was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// What the certified mode did, if used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<CertificationOut>,
    /// Per variable: the slopes of `f` along that variable alone, `[left, right]` =
    /// `[−f'(x; −e), f'(x; e)]`, in that order (a concave kink has left > right).
    pub one_sided: serde_json::Map<String, serde_json::Value>,
    /// The Clarke subdifferential of `f` at the point: the set that holds jointly (absent for
    /// an expression without variables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdifferential: Option<Subdifferential>,
    /// With `--subdifferential`: the engine's exact set, its minimum-norm element and whether
    /// 0 is in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonotope: Option<Zonotope>,
    /// What `--plot` drew, if asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot: Option<PlotOut>,
}

/// What `grad --plot` drew.
#[derive(Debug, Clone, Serialize)]
pub struct PlotOut {
    /// The file written.
    pub file: std::path::PathBuf,
    /// The variable along which `f` is drawn.
    pub along: String,
    /// Why that variable: `"--along"` or `"the first --at"`.
    pub chosen_by: &'static str,
    /// The other variables and the values they are held at.
    pub fixed: serde_json::Map<String, serde_json::Value>,
}

/// What `grad --certified` did to resolve the ties.
#[derive(Debug, Serialize)]
pub struct CertificationOut {
    /// `"random"` (a seeded random direction, then the coordinate directions for the ties it
    /// left) or `"lexicographic"` (the coordinate directions `e₁, e₂, …` only).
    pub mode: &'static str,
    /// Directions used (tangent passes; 0 when no tie was hit).
    pub directions: usize,
    /// Exact ties resolved.
    pub ties: usize,
    /// Near ties: kink arguments within the relative tie tolerance of their kink (rounding
    /// away from an exact tie), resolved as ties.
    pub near_ties: usize,
    /// Ties decided by a direction.
    pub resolved: usize,
    /// Ties whose branches have equal derivatives along every direction (the directions span
    /// the space): every branch gives the same gradient.
    pub flat: usize,
    /// The relative tie tolerance.
    pub tolerance: f64,
    /// The near ties resolved as ties, with their sub-expressions.
    pub near: Vec<KinkOut>,
}

/// One kink hit.
#[derive(Debug, Serialize)]
pub struct KinkOut {
    /// The primitive.
    pub op: String,
    /// The sub-expression.
    pub expr: String,
    /// First and last column of the sub-expression.
    pub columns: [usize; 2],
}

/// Parses `NAME=VALUE`.
pub fn parse_assignment(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a variable name"));
    }
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    if !value.is_finite() {
        return Err(format!("`{value}` is not finite"));
    }
    Ok((name.to_string(), value))
}

/// Checks `at` against the expression's variables: each given once, and each one of them.
///
/// # Errors
/// [`CliError::DuplicateValue`] for a variable given twice, [`CliError::UnknownVariable`] for
/// one the expression does not have.
pub fn check_assignments(at: &[(String, f64)], variables: &[String]) -> Result<(), CliError> {
    for (i, (name, _)) in at.iter().enumerate() {
        if at[..i].iter().any(|(n, _)| n == name) {
            return Err(CliError::DuplicateValue(name.clone()));
        }
        if !variables.contains(name) {
            return Err(CliError::UnknownVariable {
                name: name.clone(),
                variables: variables.to_vec(),
            });
        }
    }
    Ok(())
}

/// Differentiates `source` at `at` under `policy`, or certified by `certify` if given.
///
/// # Errors
/// [`CliError::Expr`] for parse and evaluation errors (with the column), among them a `sqrt`
/// at 0, whose derivative is infinite; [`CliError::MissingValue`], [`CliError::DuplicateValue`]
/// and [`CliError::UnknownVariable`] for `at` that does not match the variables;
/// [`CliError::Engine`] for failures of backward.
///
/// # Example
/// ```
/// use autodiff::KinkPolicy;
/// use subgrad_cli::grad;
/// use subgrad_cli::subdifferential::Subdifferential;
/// // The hinge at the margin y·w·x = 1: ∂f is the segment from 0 to −(w·x, y·x, y·w).
/// let at = [("y".to_string(), 1.0), ("w".to_string(), 0.5), ("x".to_string(), 2.0)];
/// let out = grad::run("max(0, 1 - y*w*x)", &at, KinkPolicy::MinNorm, None)?;
/// let Some(Subdifferential::Exact { shape, vertices, .. }) = out.subdifferential else {
///     panic!("not exact")
/// };
/// assert_eq!(shape, "segment");
/// assert_eq!(vertices, [vec![0.0, 0.0, 0.0], vec![-1.0, -2.0, -0.5]]);
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn run(
    source: &str,
    at: &[(String, f64)],
    policy: KinkPolicy,
    certify: Option<Certify>,
) -> Result<GradOutput, CliError> {
    run_with(source, at, policy, certify, false)
}

/// [`run`], and with `exact` also the engine's exact subdifferential (`grad
/// --subdifferential`, [`subdifferential::zonotope`]) in [`GradOutput::zonotope`].
///
/// # Errors
/// As [`run`]; with `exact`, [`CliError::NotZonotope`] for an expression outside the class.
///
/// # Example
/// ```
/// use autodiff::KinkPolicy;
/// use subgrad_cli::grad;
/// let at = [("x".to_string(), 0.0), ("y".to_string(), 0.0)];
/// // ∂(|x| + |y| + 2x)(0) = [1, 3] × [−1, 1]: its nearest point to 0 is (1, 0).
/// let out = grad::run_with("abs(x) + abs(y) + 2*x", &at, KinkPolicy::MinNorm, None, true)?;
/// let z = out.zonotope.unwrap();
/// assert_eq!(z.min_norm, vec![1.0, 0.0]);
/// assert!(!z.contains_zero);
/// let err = grad::run_with("relu(x) - relu(-x) + y", &at, KinkPolicy::MinNorm, None, true);
/// assert!(matches!(err, Err(subgrad_cli::CliError::NotZonotope { .. })));
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn run_with(
    source: &str,
    at: &[(String, f64)],
    policy: KinkPolicy,
    certify: Option<Certify>,
    exact: bool,
) -> Result<GradOutput, CliError> {
    let to_cli = |e: expr::ExprError| CliError::Expr {
        pointer: e.pointer(source),
        source: e,
    };
    let e = expr::parse(source).map_err(to_cli)?;
    let tape = Tape::<f64>::with_policy(policy);
    let names = e.variables();
    check_assignments(at, &names)?;
    let mut point = Vec::new();
    let mut vars = Vec::new();
    for name in &names {
        let value = at
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| CliError::MissingValue(name.clone()))?;
        point.push((name.clone(), value));
        vars.push((name.clone(), tape.param_scalar(value)?));
    }
    let mut origins = Origins::default();
    let built =
        expr::build_pieces(&e, &tape, &vars, &mut origins, &Pieces::new()).map_err(to_cli)?;
    if let Some(err) = expr::infinite_derivative(&e, &built) {
        return Err(to_cli(err));
    }
    let y = built.root();
    // A constant expression still gets a (zero) gradient: add 0·x for the first variable.
    let y = match vars.first() {
        Some((_, x)) if !y.requires_grad() => y + *x * 0.0,
        _ => y,
    };
    let value = y.item();
    let mut gradient = serde_json::Map::new();
    let mut one_sided = serde_json::Map::new();
    let mut subdifferential = None;
    let mut certified = None;
    if !vars.is_empty() {
        let grads = match certify {
            Some(how) => {
                let c = tape.backward_certified(y, how)?;
                certified = Some((c.stats, c.report));
                c.gradients
            }
            None => y.backward()?,
        };
        let mut g = Vec::new();
        for (name, x) in &vars {
            g.push(grads.wrt(*x)[0]);
            gradient.insert(name.clone(), grads.wrt(*x)[0].into());
            // Left then right, as they are: a concave kink (1 − |x|) has left 1 > right −1.
            // (`+ 0.0` turns −0 into 0, which is the same slope.)
            let right = tape.directional_derivative(y, &[(*x, &[1.0])])? + 0.0;
            let left = -tape.directional_derivative(y, &[(*x, &[-1.0])])? + 0.0;
            one_sided.insert(name.clone(), serde_json::json!([left, right]));
        }
        let ties = subdifferential::ties(&e, &built, &tape.kinks())?;
        subdifferential = Some(if ties.is_empty() {
            // No kink on its kink: f is smooth near the point and ∂f is the gradient alone.
            Subdifferential::Exact {
                shape: "point",
                contains_gradient: true,
                vertices: vec![g.iter().map(|v| v + 0.0).collect()],
                combinations: 1,
                realized: 1,
            }
        } else {
            subdifferential::compute(&e, &point, &ties, &g)?
        });
    }
    let params: Vec<_> = vars.iter().map(|(_, x)| *x).collect();
    let zonotope = exact
        .then(|| subdifferential::zonotope(&tape, y, &params, source, &origins))
        .transpose()?;
    let kink_out = |site: &autodiff::KinkSite| {
        let (text, columns) = subdifferential::kink_text(source, &origins, site.node, site.op);
        KinkOut {
            op: site.op.to_string(),
            expr: text,
            columns,
        }
    };
    let kinks = tape.kinks().sites().iter().map(kink_out).collect();
    let certification = certify.map(|how| {
        let (stats, report) = certified.unwrap_or_default();
        CertificationOut {
            mode: match how {
                Certify::Random { .. } => "random",
                Certify::Lexicographic => "lexicographic",
            },
            directions: stats.passes,
            ties: stats.ties,
            near_ties: stats.near_ties,
            resolved: stats.resolved,
            flat: stats.flat,
            tolerance: tape.tie_tolerance(),
            near: report
                .sites()
                .iter()
                .filter(|site| !site.near.is_empty())
                .map(kink_out)
                .collect(),
        }
    });
    let seed = match certify {
        Some(Certify::Random { seed }) => Some(seed),
        _ => None,
    };
    Ok(GradOutput {
        expression: source.to_string(),
        value,
        gradient,
        kinks,
        policy: policy.name().to_string(),
        certified: certify.is_some(),
        seed,
        certification,
        one_sided,
        subdifferential,
        zonotope,
        plot: None,
    })
}

/// `(a, b, c)` with each number as Rust prints it.
fn tuple(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// The human-readable report.
pub fn render(out: &GradOutput) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "f = {}", out.expression);
    let _ = writeln!(s, "value     {}", out.value);
    let how = if let Some(c) = &out.certification {
        let (mode, along) = match out.seed {
            Some(seed) => (
                format!("seed {seed}"),
                "a random direction, then the coordinate axes for what it left tied",
            ),
            None => (
                "lexicographic".to_string(),
                "the coordinate axes e₁, e₂, … in turn",
            ),
        };
        format!(
            "certified, {mode}: each tie resolved by the one-sided derivative along {along}, so an element of the Clarke set; {} direction(s) used",
            c.directions
        )
    } else {
        format!(
            "policy {}: at each kink hit, the policy's rule for that operation chose the local derivative",
            out.policy
        )
    };
    let _ = writeln!(s, "gradient  ({how})");
    for (name, g) in &out.gradient {
        let _ = writeln!(s, "  ∂f/∂{name} = {}", g.as_f64().unwrap_or(f64::NAN));
    }
    if out.kinks.is_empty() {
        let _ = writeln!(s, "kinks     none hit exactly: f is differentiable here");
    } else {
        let _ = writeln!(s, "kinks     hit exactly:");
        for k in &out.kinks {
            let _ = writeln!(
                s,
                "  {:<24} {} at columns {}–{}",
                k.expr, k.op, k.columns[0], k.columns[1]
            );
        }
    }
    if let Some(c) = &out.certification {
        if !c.near.is_empty() {
            let _ = writeln!(
                s,
                "near ties resolved as ties (within {:e} of the operands' magnitude of the kink):",
                c.tolerance
            );
            for k in &c.near {
                let _ = writeln!(
                    s,
                    "  {:<24} {} at columns {}–{}",
                    k.expr, k.op, k.columns[0], k.columns[1]
                );
            }
        }
        if c.flat > 0 {
            let _ = writeln!(
                s,
                "flat ties {}: equal derivatives along every direction, so every branch gives this gradient",
                c.flat
            );
        }
    }
    let names: Vec<&str> = out.gradient.keys().map(String::as_str).collect();
    let g: Vec<f64> = out
        .gradient
        .values()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect();
    let mut wrong = false;
    if let Some(set) = &out.subdifferential {
        render_set(&mut s, set, &names, &g, &mut wrong);
    }
    if let Some(z) = &out.zonotope {
        render_zonotope(&mut s, z, &names);
    }
    let _ = writeln!(
        s,
        "one-sided slopes along each variable alone, [left, right] = [−f'(x; −e), f'(x; e)]:"
    );
    for line in [
        "  f'(x; d) = lim_{t↓0} (f(x + t·d) − f(x))/t is the one-sided derivative along d; with e",
        "  the variable's axis, left is f's slope as that variable comes up to its value and right",
        "  its slope as it goes on past it, the others held fixed. Each line is one axis on its own:",
        "  together they are not a box, and a point taking one number from each line need not be a",
        "  subgradient.",
    ] {
        let _ = writeln!(s, "{line}");
    }
    for (name, pair) in &out.one_sided {
        let lo = pair[0].as_f64().unwrap_or(f64::NAN);
        let hi = pair[1].as_f64().unwrap_or(f64::NAN);
        let _ = writeln!(s, "  {name}: [{lo}, {hi}]");
    }
    if wrong && !out.certified {
        let _ = writeln!(
            s,
            "note      a per-operation rule cannot see cancellations between kinks; run with --certified"
        );
    }
    s
}

/// The subdifferential part of the report; sets `wrong` when the returned gradient is certainly
/// outside the set.
fn render_set(s: &mut String, set: &Subdifferential, names: &[&str], g: &[f64], wrong: &mut bool) {
    use std::fmt::Write;
    let coordinates = format!("({})", names.join(", "));
    let list = |s: &mut String, vertices: &[Vec<f64>]| {
        for v in vertices {
            let _ = writeln!(s, "  {}", tuple(v));
        }
    };
    let describe = |shape: &str, n: usize| match shape {
        "point" => "the single point".to_string(),
        "segment" => "the segment between".to_string(),
        _ => format!("the {shape} with these {n} vertices"),
    };
    match set {
        Subdifferential::Exact {
            shape,
            vertices,
            contains_gradient,
            combinations,
            realized,
        } => {
            let _ = writeln!(
                s,
                "subdifferential  the Clarke set ∂f at the point, in {coordinates}, is {}",
                describe(shape, vertices.len())
            );
            list(s, vertices);
            if *combinations > 1 {
                let _ = writeln!(
                    s,
                    "  exact: every point of this hull is a subgradient and nothing else is; it is spanned by the\n  gradients of f's pieces near the point ({realized} of the {combinations} combinations of the kinks' branches hold there)"
                );
            }
            if *contains_gradient {
                let _ = writeln!(s, "  it contains the returned gradient {}", tuple(g));
            } else {
                *wrong = true;
                let _ = writeln!(
                    s,
                    "  it does NOT contain the returned gradient {}: that is no subgradient of f",
                    tuple(g)
                );
            }
        }
        Subdifferential::Bounds {
            shape,
            inner,
            outer,
            contains_gradient,
            ..
        } => {
            let _ = writeln!(
                s,
                "subdifferential  the Clarke set ∂f, in {coordinates}, contains {}",
                describe(shape, inner.len())
            );
            list(s, inner);
            let _ = writeln!(
                s,
                "  and lies in the hull of these points, which adds the pieces the first-order test dropped\n  (second-order terms, which the test does not see, may still make them hold near the point):"
            );
            list(s, outer);
            let _ = writeln!(
                s,
                "  the returned gradient {} {}",
                tuple(g),
                match contains_gradient {
                    Some(true) => "is in it",
                    Some(false) => {
                        *wrong = true;
                        "is NOT in it: that is no subgradient of f"
                    }
                    None => "lies between the two: undecided",
                }
            );
        }
        Subdifferential::NotComputed { reason } => {
            let _ = writeln!(
                s,
                "subdifferential  not computed: {reason}; only the slopes along each variable below"
            );
        }
    }
}

/// The `--subdifferential` part of the report.
fn render_zonotope(s: &mut String, z: &Zonotope, names: &[&str]) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "exact set (--subdifferential)  ∂f = c + Σ tⱼ·gⱼ over t ∈ [0, 1]ᵏ, in ({}), a sum of {} segment{}:",
        names.join(", "),
        z.generators.len(),
        if z.generators.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        s,
        "  c  = {}  (each tied kink on its branch 0)",
        tuple(&z.center)
    );
    for (j, g) in z.generators.iter().enumerate() {
        let _ = writeln!(
            s,
            "  g{} = {}  from {} at columns {}–{}",
            j + 1,
            tuple(&g.direction),
            g.expr,
            g.columns[0],
            g.columns[1]
        );
    }
    let _ = writeln!(
        s,
        "  minimum-norm element {} at t = {} (at most {:.1e} from the exact one)",
        subdifferential::rounded(&z.min_norm),
        subdifferential::rounded(&z.multipliers),
        z.error_bound
    );
    if z.contains_zero {
        let _ = writeln!(
            s,
            "  0 ∈ ∂f (within {:.1e}): the point is stationary (for a convex f, a minimum)",
            z.tolerance
        );
    } else {
        let _ = writeln!(
            s,
            "  0 ∉ ∂f (farther than {:.1e}): minus the minimum-norm element is the steepest descent direction",
            z.tolerance
        );
    }
}
