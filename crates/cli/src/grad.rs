//! `subgrad grad`: differentiate an expression at a point and say what happened at the kinks.

use autodiff::{Certify, KinkPolicy, Tape};
use serde::Serialize;

use crate::expr::{self, Origins};
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
    /// The certified mode's seed, if used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Per variable: the one-sided derivatives along it, `[−f'(x; −e), f'(x; e)]`.
    pub one_sided: serde_json::Map<String, serde_json::Value>,
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

/// Differentiates `source` at `at` under `policy`, certified if `seed` is given.
///
/// # Errors
/// [`CliError::Expr`] for parse and evaluation errors (with the column), [`CliError::Engine`]
/// for failures of backward.
pub fn run(
    source: &str,
    at: &[(String, f64)],
    policy: KinkPolicy,
    seed: Option<u64>,
) -> Result<GradOutput, CliError> {
    let to_cli = |e: expr::ExprError| CliError::Expr {
        pointer: e.pointer(source),
        source: e,
    };
    let e = expr::parse(source).map_err(to_cli)?;
    let tape = Tape::<f64>::with_policy(policy);
    let names = e.variables();
    let mut vars = Vec::new();
    for name in &names {
        let value = at
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| CliError::MissingValue(name.clone()))?;
        vars.push((name.clone(), tape.param_scalar(value)?));
    }
    let mut origins = Origins::default();
    let y = expr::build(&e, &tape, &vars, &mut origins).map_err(to_cli)?;
    // A constant expression still gets a (zero) gradient: add 0·x for the first variable.
    let y = match vars.first() {
        Some((_, x)) if !y.requires_grad() => y + *x * 0.0,
        _ => y,
    };
    let value = y.item();
    let mut gradient = serde_json::Map::new();
    let mut one_sided = serde_json::Map::new();
    if !vars.is_empty() {
        let grads = match seed {
            Some(seed) => {
                tape.backward_certified(y, Certify::Random { seed })?
                    .gradients
            }
            None => y.backward()?,
        };
        for (name, x) in &vars {
            gradient.insert(name.clone(), grads.wrt(*x)[0].into());
            let (lo, hi) = tape.subdifferential_interval(y, &[(*x, &[1.0])])?;
            one_sided.insert(name.clone(), serde_json::json!([lo, hi]));
        }
    }
    let chars: Vec<char> = source.chars().collect();
    let kinks = tape
        .kinks()
        .sites()
        .iter()
        .map(|site| {
            let span = origins.span(site.node);
            let (text, columns) = match span {
                Some(s) => (
                    chars[s.start - 1..s.end - 1].iter().collect(),
                    [s.start, s.end - 1],
                ),
                None => (site.op.to_string(), [0, 0]),
            };
            KinkOut {
                op: site.op.to_string(),
                expr: text,
                columns,
            }
        })
        .collect();
    Ok(GradOutput {
        expression: source.to_string(),
        value,
        gradient,
        kinks,
        policy: policy.name().to_string(),
        certified: seed.is_some(),
        seed,
        one_sided,
    })
}

/// The human-readable report.
pub fn render(out: &GradOutput) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "f = {}", out.expression);
    let _ = writeln!(s, "value     {}", out.value);
    let how = if out.certified {
        format!(
            "certified (seed {}): a Clarke subgradient",
            out.seed.unwrap_or(0)
        )
    } else {
        format!("policy {}", out.policy)
    };
    let _ = writeln!(s, "gradient  ({how})");
    for (name, g) in &out.gradient {
        let _ = writeln!(s, "  ∂f/∂{name} = {}", g.as_f64().unwrap_or(f64::NAN));
    }
    if out.kinks.is_empty() {
        let _ = writeln!(
            s,
            "kinks     none: f is differentiable here along the evaluation"
        );
    } else {
        let _ = writeln!(s, "kinks     hit exactly (a rule chose the subgradient):");
        for k in &out.kinks {
            let _ = writeln!(
                s,
                "  {:<24} {} at columns {}–{}",
                k.expr, k.op, k.columns[0], k.columns[1]
            );
        }
    }
    let _ = writeln!(
        s,
        "one-sided derivatives along each variable, [−f'(x; −e), f'(x; e)]:"
    );
    let mut outside = false;
    for (name, pair) in &out.one_sided {
        let lo = pair[0].as_f64().unwrap_or(f64::NAN);
        let hi = pair[1].as_f64().unwrap_or(f64::NAN);
        let g = out.gradient[name].as_f64().unwrap_or(f64::NAN);
        let inside = g >= lo - 1e-12 && g <= hi + 1e-12;
        outside |= !inside;
        let mark = if inside {
            "contains"
        } else {
            "does NOT contain"
        };
        let _ = writeln!(s, "  {name}: [{lo}, {hi}]  {mark} ∂f/∂{name}");
    }
    if outside && !out.certified {
        let _ = writeln!(
            s,
            "note      a per-operation rule cannot see cancellations between kinks; run with --certified"
        );
    }
    s
}
