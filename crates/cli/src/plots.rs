//! SVG plots of the showcase: decision regions, loss curves, and the hinge with its
//! subdifferential at the kink.

use std::path::Path;

use plotters::prelude::*;

use crate::CliError;

/// Draws an SVG in memory with `draw` (which must `present` it), then writes it to `path`
/// atomically, so a failed write never leaves half a picture over an existing one.
///
/// # Errors
/// What `draw` returns; [`CliError::Write`] naming `path`.
pub fn svg_file(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, size).into_drawing_area())?;
    crate::write_atomic(path, svg.as_bytes())
}

fn err<E: std::fmt::Display>(e: E) -> CliError {
    CliError::Plot(e.to_string())
}

/// The part of the convex polygon `poly` where `sign·(w·p + b) ≥ 0` (one Sutherland–Hodgman
/// step: walk the edges, keep the inside vertices and add the crossings).
pub fn clip_halfplane(poly: &[(f64, f64)], w: [f64; 2], b: f64, sign: f64) -> Vec<(f64, f64)> {
    let side = |p: (f64, f64)| sign * (w[0] * p.0 + w[1] * p.1 + b);
    let mut out = Vec::new();
    for (k, &p) in poly.iter().enumerate() {
        let q = poly[(k + 1) % poly.len()];
        let (sp, sq) = (side(p), side(q));
        if sp >= 0.0 {
            out.push(p);
        }
        if (sp >= 0.0) != (sq >= 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

/// Decision regions of the linear classifier `sign(w·x + b)` over 2-D points, with the points
/// (filled: +1, hollow: −1), the separating line and the margins `w·x + b = ±1`; the points in
/// `on_margin` are ringed, and a legend says what each mark is.
///
/// The two regions are two polygons (the plot's rectangle cut by the line `w·x + b = 0`), so
/// the file stays a few kilobytes.
///
/// # Errors
/// [`CliError::Plot`] if drawing or writing fails.
#[allow(clippy::too_many_arguments)]
pub fn decision_regions(
    path: &Path,
    title: &str,
    points: &[[f64; 2]],
    labels: &[f64],
    w: [f64; 2],
    b: f64,
    on_margin: &[usize],
    on_margin_means: &str,
) -> Result<(), CliError> {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in points {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    // Room around the points, and on the right for the legend.
    let (x0, x1, y0, y1) = (x0 - 1.0, x1 + 3.5, y0 - 1.0, y1 + 1.0);
    let positive = RGBColor(214, 230, 250);
    let negative = RGBColor(250, 222, 214);
    svg_file(path, (800, 560), |root| {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let rect = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
        for (sign, colour, label) in [
            (1.0, positive, "predicted +1: w·x + b ≥ 0"),
            (-1.0, negative, "predicted −1: w·x + b < 0"),
        ] {
            let region = clip_halfplane(&rect, w, b, sign);
            chart
                .draw_series(std::iter::once(Polygon::new(region, colour.filled())))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], colour.filled())
                });
        }
        chart
            .configure_mesh()
            .x_desc("x₁ (first feature)")
            .y_desc("x₂ (second feature)")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        // Lines w·x + b = c for c = 0, ±1: the segment of each inside the plot's rectangle.
        for (c, width, label) in [
            (0.0, 2, "decision boundary w·x + b = 0"),
            (1.0, 1, "margins w·x + b = ±1"),
            (-1.0, 1, ""),
        ] {
            let line = if w[1] != 0.0 {
                // x₂ = (c − b − w₁·x₁)/w₂: through (0, (c − b)/w₂) with slope −w₁/w₂.
                clip_line(0.0, (c - b) / w[1], -w[0] / w[1], x0, x1, y0, y1)
            } else if w[0] != 0.0 {
                let x = (c - b) / w[0];
                if (x0..=x1).contains(&x) {
                    vec![(x, y0), (x, y1)]
                } else {
                    Vec::new()
                }
            } else {
                Vec::new()
            };
            let series = chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(width)))
                .map_err(err)?;
            if !label.is_empty() {
                series.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(width))
                });
            }
        }
        let (plus, minus): (Vec<_>, Vec<_>) = points
            .iter()
            .zip(labels)
            .map(|(p, &y)| ((p[0], p[1]), y))
            .partition(|(_, y)| *y > 0.0);
        chart
            .draw_series(
                plus.into_iter()
                    .map(|(at, _)| Circle::new(at, 6, BLUE.filled())),
            )
            .map_err(err)?
            .label("label +1")
            .legend(|(x, y)| Circle::new((x + 8, y), 6, BLUE.filled()));
        chart
            .draw_series(
                minus
                    .into_iter()
                    .map(|(at, _)| Circle::new(at, 6, RED.stroke_width(2))),
            )
            .map_err(err)?
            .label("label −1")
            .legend(|(x, y)| Circle::new((x + 8, y), 6, RED.stroke_width(2)));
        chart
            .draw_series(
                on_margin
                    .iter()
                    .map(|&i| Circle::new((points[i][0], points[i][1]), 11, BLACK.stroke_width(1))),
            )
            .map_err(err)?
            .label(on_margin_means)
            .legend(|(x, y)| Circle::new((x + 8, y), 9, BLACK.stroke_width(1)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    })
}

/// A positive quantity (an optimality gap) against iteration, on a log scale, one line per
/// named series; values are floored at 1e-12.
///
/// # Errors
/// [`CliError::Plot`] if drawing or writing fails.
pub fn gap_curve(
    path: &Path,
    title: &str,
    y_desc: &str,
    series: &[(&str, Vec<f64>)],
) -> Result<(), CliError> {
    let floor = 1e-12;
    let n = series
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let hi = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(floor * 10.0, f64::max);
    let lo = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| *v > 0.0)
        .fold(hi, f64::min)
        .max(floor);
    svg_file(path, (720, 440), |root| {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(1..n, (lo * 0.5..hi * 2.0).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        let colors = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
        for (k, (name, v)) in series.iter().enumerate() {
            let color = colors[k % colors.len()];
            let pts = v
                .iter()
                .enumerate()
                .map(move |(i, &y)| (i + 1, y.max(floor)));
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    })
}

/// The hinge `max(0, 1 − z)` as a function of the margin `z`, with its subdifferential at the
/// kink `z = 1` drawn as the fan of supporting lines of slopes in `[−1, 0]`, and the slope the
/// given policy picks.
///
/// # Errors
/// [`CliError::Plot`] if drawing or writing fails.
pub fn hinge_subgradients(path: &Path, picked: f64, picked_by: &str) -> Result<(), CliError> {
    svg_file(path, (640, 440), |root| {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "hinge max(0, 1 − z): the subgradients at the kink z = 1",
                ("sans-serif", 18),
            )
            .margin(16)
            .x_label_area_size(32)
            .y_label_area_size(40)
            .build_cartesian_2d(-1.0..3.0, -0.5..2.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("margin z = y·w·x")
            .y_desc("loss")
            .draw()
            .map_err(err)?;
        // Each slope s ∈ [−1, 0] gives a supporting line through (1, 0): ℓ(z) ≥ s·(z − 1).
        for k in 0..=10 {
            let s = -(k as f64) / 10.0;
            let line = clip_line(1.0, 0.0, s, -1.0, 3.0, -0.5, 2.5);
            chart
                .draw_series(LineSeries::new(
                    line,
                    RGBColor(170, 170, 170).stroke_width(1),
                ))
                .map_err(err)?;
        }
        let hinge = (0..=200)
            .map(|k| -1.0 + 4.0 * k as f64 / 200.0)
            .map(|z: f64| (z, (1.0 - z).max(0.0)));
        chart
            .draw_series(LineSeries::new(hinge, BLUE.stroke_width(3)))
            .map_err(err)?
            .label("max(0, 1 − z)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_series(LineSeries::new(
                clip_line(1.0, 0.0, picked, -1.0, 3.0, -0.5, 2.5),
                RED.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("slope picked by {picked_by}: {picked}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (0.0, 0.0)],
                RGBColor(170, 170, 170),
            )))
            .map_err(err)?
            .label("slopes in the subdifferential [−1, 0]")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(170, 170, 170)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)
    })
}

/// The segment of the line through `(x0, y0)` with `slope` inside the box.
pub fn clip_line(
    x0: f64,
    y0: f64,
    slope: f64,
    xl: f64,
    xh: f64,
    yl: f64,
    yh: f64,
) -> Vec<(f64, f64)> {
    let (mut a, mut b) = (xl - x0, xh - x0);
    if slope != 0.0 {
        let (t1, t2) = ((yl - y0) / slope, (yh - y0) / slope);
        a = a.max(t1.min(t2));
        b = b.min(t1.max(t2));
    }
    if a > b {
        return Vec::new();
    }
    vec![(x0 + a, y0 + a * slope), (x0 + b, y0 + b * slope)]
}
