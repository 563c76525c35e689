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

/// The largest |f| a plot's axis holds: past it, the plotting library's tick search does not
/// end (an axis near `f64::MAX` hung `grad 'exp(x)' --at x=709 --plot`), and no picture of such
/// a function is readable anyway.
pub const MAX_PLOT_VALUE: f64 = 1e100;

/// The largest |x| a plot is drawn around: past it, `x ± 2` rounds to `x` and the axis is empty.
pub const MAX_PLOT_X: f64 = 1e12;

fn x0_of(at: &[(String, f64)], name: &str) -> f64 {
    at.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map_or(0.0, |(_, v)| *v)
}

/// The y-range of a plot of the points `pts` (and the value `value` at the point), padded, or an
/// error when they cannot be drawn: none evaluated, or some beyond [`MAX_PLOT_VALUE`].
fn plot_range(name: &str, x0: f64, value: f64, pts: &[(f64, f64)]) -> Result<(f64, f64), CliError> {
    if pts.is_empty() {
        return Err(CliError::Plot(format!(
            "f cannot be evaluated anywhere within ±2 of {name} = {x0}"
        )));
    }
    let mut ymin = value;
    let mut ymax = value;
    for &(x, y) in pts {
        if y.is_nan() || y.abs() > MAX_PLOT_VALUE {
            return Err(CliError::Plot(format!(
                "f = {y:e} at {name} = {x}: too large to plot (the axis holds |f| ≤ {MAX_PLOT_VALUE:e})"
            )));
        }
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
    // The padding keeps the range wider than the values' rounding, however large they are.
    let pad = (0.15 * (ymax - ymin))
        .max(0.5)
        .max(1e-6 * ymin.abs().max(ymax.abs()));
    Ok((ymin - pad, ymax + pad))
}

/// Draws `f` along variable `name` around the point, with the one-sided slopes (the
/// subdifferential along that variable) and the returned gradient's tangent line, as an SVG.
///
/// # Errors
/// [`CliError::Plot`] if the file cannot be written; evaluation errors as in [`run`].
pub fn plot(
    source: &str,
    at: &[(String, f64)],
    out: &GradOutput,
    name: &str,
    path: &std::path::Path,
) -> Result<(), CliError> {
    use plotters::prelude::*;
    if x0_of(at, name).abs() > MAX_PLOT_X {
        return Err(CliError::Plot(format!(
            "cannot plot around {name} = {}: the axis holds |{name}| ≤ {MAX_PLOT_X:e}",
            x0_of(at, name)
        )));
    }
    let x0 = at
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .unwrap_or(0.0);
    let e = expr::parse(source).map_err(|e| CliError::Expr {
        pointer: e.pointer(source),
        source: e,
    })?;
    let f = |t: f64| -> Option<f64> {
        let tape = Tape::<f64>::new();
        let mut vars = Vec::new();
        for v in e.variables() {
            let value = if v == name {
                t
            } else {
                at.iter().rev().find(|(n, _)| *n == v).map(|(_, x)| *x)?
            };
            vars.push((v, tape.param_scalar(value).ok()?));
        }
        expr::build(&e, &tape, &vars, &mut Origins::default())
            .ok()
            .map(|y| y.item())
    };
    let xs: Vec<f64> = (0..=400)
        .map(|k| x0 - 2.0 + 4.0 * k as f64 / 400.0)
        .collect();
    let pts: Vec<(f64, f64)> = xs.iter().filter_map(|&x| f(x).map(|y| (x, y))).collect();
    let (ylo, yhi) = plot_range(name, x0, out.value, &pts)?;
    let (lo, hi) = out.one_sided.get(name).map_or((0.0, 0.0), |p| {
        (p[0].as_f64().unwrap_or(0.0), p[1].as_f64().unwrap_or(0.0))
    });
    let g = out
        .gradient
        .get(name)
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let plot_err = |e: String| CliError::Plot(e);
    crate::plots::svg_file(path, (720, 480), |root| {
        root.fill(&WHITE).map_err(|e| plot_err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("f = {source}   along {name}"), ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(x0 - 2.0..x0 + 2.0, ylo..yhi)
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(name)
            .y_desc("f")
            .draw()
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))
            .map_err(|e| plot_err(e.to_string()))?
            .label("f")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        let y0 = out.value;
        let line =
            |slope: f64| crate::plots::clip_line(x0, y0, slope, x0 - 1.5, x0 + 1.5, ylo, yhi);
        for (slope, label) in [(lo, "left slope −f'(x; −e)"), (hi, "right slope f'(x; e)")] {
            chart
                .draw_series(LineSeries::new(
                    line(slope),
                    RGBColor(150, 150, 150).stroke_width(1),
                ))
                .map_err(|e| plot_err(e.to_string()))?
                .label(format!("{label} = {slope}"))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(150, 150, 150))
                });
        }
        let how = if out.certified {
            "certified"
        } else {
            out.policy.as_str()
        };
        chart
            .draw_series(LineSeries::new(line(g), RED.stroke_width(2)))
            .map_err(|e| plot_err(e.to_string()))?
            .label(format!("returned gradient ({how}) = {g}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .draw_series(std::iter::once(Circle::new((x0, y0), 4, BLACK.filled())))
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_err(e.to_string()))?;
        root.present().map_err(|e| plot_err(e.to_string()))
    })
}
