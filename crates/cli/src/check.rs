//! `subgrad check`: every loss's autodiff gradient against its closed form, at a random point
//! and at an exact kink, with the kink-aware gradient checker.

use autodiff::gradcheck::{gradcheck, GradCheck};
use losses::{linear_autodiff, linear_value_grad, MarginLoss, MulticlassLoss};
use serde::Serialize;

use crate::CliError;

/// A check point: its kind, `x` (4 × 2), `y` and `w`.
type CheckPoint = (&'static str, Vec<f64>, Vec<f64>, Vec<f64>);

/// One row of `check`.
#[derive(Debug, Serialize)]
pub struct CheckRow {
    /// The loss.
    pub loss: String,
    /// `random` or `kink`.
    pub point: String,
    /// Largest |autodiff − closed form| over the gradient.
    pub max_difference: f64,
    /// The kink-aware gradient checker's verdict on the engine gradient.
    pub gradcheck: bool,
    /// Exact ties hit.
    pub kinks: usize,
}

/// Checks every margin loss (on a 4 × 2 linear model) and both multiclass losses (on a 2 × 3
/// score matrix): the engine's gradient against the closed form, at a random point and at an
/// integer point with margins exactly on the kink, plus the kink-aware gradient checker.
///
/// # Errors
/// The losses' and the engine's errors (none occur on these fixed points).
///
/// # Example
/// ```
/// let rows = subgrad_cli::check::run()?;
/// assert_eq!(rows.len(), 16); // (6 margin + 2 multiclass losses) × (random, kink)
/// assert!(rows.iter().all(|r| r.gradcheck && r.max_difference < 1e-12));
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn run() -> Result<Vec<CheckRow>, CliError> {
    let mut rows = Vec::new();
    // Random point (no ties) and an integer point: w = (1, 0), margins y·w·x = 1, 1, 2, 0.
    let points: [CheckPoint; 2] = [
        (
            "random",
            vec![0.31, -1.2, 0.77, 0.05, -0.4, 1.9, 1.1, 0.6],
            vec![1.0, -1.0, 1.0, -1.0],
            vec![0.37, -0.52],
        ),
        (
            "kink",
            vec![1.0, 0.0, -1.0, 3.0, 2.0, 1.0, 0.0, 1.0],
            vec![1.0, -1.0, 1.0, 1.0],
            vec![1.0, 0.0],
        ),
    ];
    let all = [
        MarginLoss::hinge(),
        MarginLoss::squared_hinge(),
        MarginLoss::SmoothGaussian { sigma: 0.5 },
        MarginLoss::SmoothSqrt { sigma: 0.5 },
        MarginLoss::Huberized { gamma: 1.0 },
        MarginLoss::ModifiedHuber,
    ];
    for loss in all {
        for (point, x, y, w) in &points {
            let engine = linear_autodiff(loss, x, 2, y, w, None)?;
            let closed = linear_value_grad(loss, x, 2, y, w, None)?;
            let diff = engine
                .w
                .iter()
                .zip(&closed.w)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let report = gradcheck(
                |t, wv| {
                    let xv = t.constant(x, autodiff::Shape::matrix(4, 2))?;
                    let yv = t.constant_vec(y)?;
                    let z = yv.try_mul(xv.try_matvec(wv)?)?;
                    let l = loss.on_tape(z).map_err(|e| match e {
                        losses::Error::Engine(e) => e,
                        other => autodiff::Error::Custom {
                            op: "loss".into(),
                            message: other.to_string(),
                        },
                    })?;
                    Ok(l.sum())
                },
                w,
                &GradCheck::default(),
            )?;
            rows.push(CheckRow {
                loss: loss.name().to_string(),
                point: point.to_string(),
                max_difference: diff,
                gradcheck: report.passed,
                kinks: report.kinks.exact_count(),
            });
        }
    }
    // Multiclass on scores with a tie (s₁ − s₀ + 1 = 0 for example 0) and a random point.
    for (name, loss) in [
        ("weston-watkins", MulticlassLoss::weston_watkins()),
        ("crammer-singer", MulticlassLoss::crammer_singer()),
    ] {
        for (point, s) in [
            ("random", vec![0.3, 1.7, -0.2, 0.9, 0.1, 0.4]),
            ("kink", vec![1.0, 0.0, -1.0, 0.0, 2.0, 2.0]),
        ] {
            let labels = [0usize, 1];
            let (_, closed) = loss.value_grad(&s, 3, &labels)?;
            let tape = autodiff::Tape::<f64>::new();
            let sv = tape.param(&s, autodiff::Shape::matrix(2, 3))?;
            let l = loss.on_tape(sv, &labels)?;
            let g = l.backward()?;
            let diff = g
                .wrt(sv)
                .iter()
                .zip(&closed)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let report = gradcheck(
                |t, v| {
                    let m = v.try_reshape(autodiff::Shape::matrix(2, 3))?;
                    let _ = t;
                    loss.on_tape(m, &labels)
                        .map_err(|e| autodiff::Error::Custom {
                            op: "loss".into(),
                            message: e.to_string(),
                        })
                },
                &s,
                &GradCheck::default(),
            )?;
            rows.push(CheckRow {
                loss: name.to_string(),
                point: point.to_string(),
                max_difference: diff,
                gradcheck: report.passed,
                kinks: report.kinks.exact_count(),
            });
        }
    }
    Ok(rows)
}

/// The check table, one line per row.
pub fn render(rows: &[CheckRow]) -> String {
    let mut s = format!(
        "{:<16} {:<7} {:>16} {:>6} {:>10}\n",
        "loss", "point", "|autodiff − cf|", "kinks", "gradcheck"
    );
    for r in rows {
        s += &format!(
            "{:<16} {:<7} {:>16.2e} {:>6} {:>10}\n",
            r.loss,
            r.point,
            r.max_difference,
            r.kinks,
            if r.gradcheck { "pass" } else { "FAIL" }
        );
    }
    s
}
