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

/// Decision regions of the linear classifier `sign(w·x + b)` over 2-D points, with the points
/// (filled: +1, hollow: −1), the separating line and the margins `w·x + b = ±1`; points exactly
/// on a margin are ringed.
///
/// # Errors
/// [`CliError::Plot`] if drawing or writing fails.
pub fn decision_regions(
    path: &Path,
    title: &str,
    points: &[[f64; 2]],
    labels: &[f64],
    w: [f64; 2],
    b: f64,
    on_margin: &[usize],
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
    let (x0, x1, y0, y1) = (x0 - 1.0, x1 + 1.0, y0 - 1.0, y1 + 1.0);
    svg_file(path, (640, 560), |root| {
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(32)
            .y_label_area_size(40)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("x₁")
            .y_desc("x₂")
            .draw()
            .map_err(err)?;
        // Regions: a grid of small cells coloured by the sign of the score.
        let n = 80;
        let (dx, dy) = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
        let cells = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| {
                let (cx, cy) = (x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy);
                let score = w[0] * cx + w[1] * cy + b;
                let color = if score >= 0.0 {
                    RGBColor(214, 230, 250)
                } else {
                    RGBColor(250, 222, 214)
                };
                Rectangle::new(
                    [
                        (x0 + i as f64 * dx, y0 + j as f64 * dy),
                        (x0 + (i + 1) as f64 * dx, y0 + (j + 1) as f64 * dy),
                    ],
                    color.filled(),
                )
            });
        chart.draw_series(cells).map_err(err)?;
        // Lines w·x + b = c for c = −1, 0, 1, drawn across the x range (or vertically).
        for (c, style) in [
            (0.0, BLACK.stroke_width(2)),
            (1.0, BLACK.stroke_width(1)),
            (-1.0, BLACK.stroke_width(1)),
        ] {
            let line: Vec<(f64, f64)> = if w[1].abs() > 1e-12 {
                (0..=100)
                    .map(|k| x0 + (x1 - x0) * k as f64 / 100.0)
                    .map(|x| (x, (c - b - w[0] * x) / w[1]))
                    .filter(|(_, y)| *y >= y0 && *y <= y1)
                    .collect()
            } else if w[0].abs() > 1e-12 {
                let x = (c - b) / w[0];
                vec![(x, y0), (x, y1)]
            } else {
                Vec::new()
            };
            chart
                .draw_series(LineSeries::new(line, style))
                .map_err(err)?;
        }
        for (i, (p, &y)) in points.iter().zip(labels).enumerate() {
            let at = (p[0], p[1]);
            if y > 0.0 {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 6, BLUE.filled())))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 6, RED.stroke_width(2))))
                    .map_err(err)?;
            }
            if on_margin.contains(&i) {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 11, BLACK.stroke_width(1))))
                    .map_err(err)?;
            }
        }
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
