//! `subgrad grad --plot`: `f` drawn along one variable around the point, the others held fixed,
//! with the one-sided slopes there and the tangent of the gradient
//! [`grad::run`](crate::grad::run) returned. Plots are SVG only ([`check_format`]).

use autodiff::Tape;

use crate::expr::{self, Origins};
use crate::grad::{GradOutput, PlotOut};
use crate::CliError;

/// The variable a plot is drawn along, and why: `along` if the expression has it, else the
/// first variable given with `--at` (`at`), else the expression's first.
///
/// # Errors
/// [`CliError::PlotVariable`] if `along` is not a variable of the expression, or the expression
/// has none.
///
/// # Example
/// ```
/// use autodiff::KinkPolicy;
/// use subgrad_cli::{grad, grad_plot};
/// // `--at y=1 --at x=0`: y is given first, so the plot goes along y unless --along says.
/// let at = [("y".to_string(), 1.0), ("x".to_string(), 0.0)];
/// let out = grad::run("relu(x) * y", &at, KinkPolicy::MinNorm, None)?;
/// assert_eq!(grad_plot::variable(&out, None, &at)?, ("y".into(), "the first --at"));
/// assert_eq!(grad_plot::variable(&out, Some("x".into()), &at)?, ("x".into(), "--along"));
/// assert!(grad_plot::variable(&out, Some("z".into()), &at).is_err());
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn variable(
    out: &GradOutput,
    along: Option<String>,
    at: &[(String, f64)],
) -> Result<(String, &'static str), CliError> {
    match along {
        Some(n) if out.gradient.contains_key(&n) => Ok((n, "--along")),
        Some(n) => Err(CliError::PlotVariable(n)),
        None => match at.iter().find(|(n, _)| out.gradient.contains_key(n)) {
            Some((n, _)) => Ok((n.clone(), "the first --at")),
            None => match out.gradient.keys().next() {
                Some(n) => Ok((n.clone(), "the first variable")),
                None => Err(CliError::PlotVariable(String::from("(none)"))),
            },
        },
    }
}

/// Checks that `path` names an SVG file: plots are written as SVG only.
///
/// # Errors
/// [`CliError::PlotFormat`] for any other extension (`.png` included), or none.
pub fn check_format(path: &std::path::Path) -> Result<(), CliError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("svg") => Ok(()),
        _ => Err(CliError::PlotFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// The variables other than `name`, with the values the plot holds them at.
fn fixed(
    out: &GradOutput,
    at: &[(String, f64)],
    name: &str,
) -> serde_json::Map<String, serde_json::Value> {
    out.gradient
        .keys()
        .filter(|n| *n != name)
        .map(|n| (n.clone(), x0_of(at, n).into()))
        .collect()
}

/// Chooses the variable ([`variable`]) and draws the plot ([`draw`]); says what it drew.
///
/// # Errors
/// As [`check_format`], [`variable`] and [`draw`].
pub fn plot(
    source: &str,
    at: &[(String, f64)],
    out: &GradOutput,
    along: Option<String>,
    path: &std::path::Path,
) -> Result<PlotOut, CliError> {
    check_format(path)?;
    let (name, chosen_by) = variable(out, along, at)?;
    draw(source, at, out, &name, path)?;
    Ok(PlotOut {
        file: path.to_path_buf(),
        fixed: fixed(out, at, &name),
        along: name,
        chosen_by,
    })
}

/// The largest |f| a plot's axis holds: past it, the plotting library's tick search does not
/// end (an axis near `f64::MAX` hung `grad 'exp(x)' --at x=709 --plot`), and no picture of such
/// a function is readable anyway.
pub const MAX_PLOT_VALUE: f64 = 1e100;

/// The largest |x| a plot is drawn around: past it, `x ± 2` rounds to `x` and the axis is empty.
pub const MAX_PLOT_X: f64 = 1e12;

/// The value `at` gives `name` (the last one given), or 0.
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
/// The axis spans `name ± 2`; a point beyond ±[`MAX_PLOT_X`] or a value of `f` beyond
/// ±[`MAX_PLOT_VALUE`] on it is refused rather than drawn.
///
/// # Errors
/// [`CliError::PlotFormat`] unless `path` ends in `.svg`; [`CliError::Plot`] if the point or
/// the values are beyond those bounds, or drawing fails; [`CliError::Write`] naming `path`;
/// parse errors as in [`grad::run`](crate::grad::run).
///
/// # Example
/// ```
/// use autodiff::KinkPolicy;
/// use subgrad_cli::{grad, grad_plot, CliError};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("hinge.svg");
/// let at = [("w".to_string(), 1.0)];
/// let out = grad::run("max(0, 1 - w)", &at, KinkPolicy::MinNorm, None)?;
/// grad_plot::draw("max(0, 1 - w)", &at, &out, "w", &path)?;
/// assert!(std::fs::read_to_string(&path)?.starts_with("<svg"));
///
/// let at = [("x".to_string(), 709.0)]; // exp(709 ± 2) overflows the axis
/// let out = grad::run("exp(x)", &at, KinkPolicy::MinNorm, None)?;
/// let err = grad_plot::draw("exp(x)", &at, &out, "x", &path);
/// assert!(matches!(err, Err(CliError::Plot(_))));
///
/// let png = dir.path().join("hinge.png"); // never SVG bytes under a .png name
/// let err = grad_plot::draw("exp(x)", &at, &out, "x", &png);
/// assert!(matches!(err, Err(CliError::PlotFormat { .. })));
/// assert!(!png.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn draw(
    source: &str,
    at: &[(String, f64)],
    out: &GradOutput,
    name: &str,
    path: &std::path::Path,
) -> Result<(), CliError> {
    use plotters::prelude::*;
    check_format(path)?;
    let x0 = x0_of(at, name);
    if x0.abs() > MAX_PLOT_X {
        return Err(CliError::Plot(format!(
            "cannot plot around {name} = {x0}: the axis holds |{name}| ≤ {MAX_PLOT_X:e}"
        )));
    }
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
    let held: Vec<String> = fixed(out, at, name)
        .iter()
        .map(|(n, v)| format!("{n} = {}", v.as_f64().unwrap_or(f64::NAN)))
        .collect();
    let title = if held.is_empty() {
        format!("f = {source} along {name}")
    } else {
        format!(
            "f = {source} along {name}, with {} held fixed",
            held.join(", ")
        )
    };
    crate::plots::svg_file(path, (760, 500), |root| {
        root.fill(&WHITE).map_err(|e| plot_err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(x0 - 2.0..x0 + 2.0, ylo..yhi)
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(name)
            .y_desc("f")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
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
        let how = if out.certified {
            "certified"
        } else {
            out.policy.as_str()
        };
        chart
            .draw_series(LineSeries::new(line(g), RED.stroke_width(3)))
            .map_err(|e| plot_err(e.to_string()))?
            .label(format!("returned gradient ({how}) = {g}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(3)));
        // The two slopes in two colours, dashed and on top, so each stays visible where it
        // coincides with the returned gradient's line, and the legend tells which is which.
        for (slope, label, colour) in [
            (lo, "left slope −f'(x; −e)", RGBColor(230, 130, 0)),
            (hi, "right slope f'(x; e)", RGBColor(0, 150, 80)),
        ] {
            chart
                .draw_series(DashedLineSeries::new(
                    line(slope),
                    8,
                    5,
                    colour.stroke_width(2),
                ))
                .map_err(|e| plot_err(e.to_string()))?
                .label(format!("{label} = {slope}"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                });
        }
        chart
            .draw_series(std::iter::once(Circle::new((x0, y0), 4, BLACK.filled())))
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| plot_err(e.to_string()))?;
        root.present().map_err(|e| plot_err(e.to_string()))
    })
}
