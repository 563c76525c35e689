//! `subgrad train`, `predict` and `cv`.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use losses::MarginLoss;
use serde::Serialize;
use svm::cv::cross_validate;
use svm::data::{builtin, read_file_with, CsvOptions, Dataset, Header, LabelColumn};
use svm::model::{train, Model, Multiclass, SolverKind, TrainOptions, TrainReport};
use svm::solvers::GradientSource;

use crate::CliError;

/// Loads `builtin:NAME` or a file (`.csv` read with `csv`, anything else as LIBSVM).
///
/// # Errors
/// [`CliError::Usage`] if `csv` is not the default and `spec` is not a `.csv` file (the
/// options would be ignored); the readers' errors.
///
/// # Example
/// ```
/// use subgrad_cli::train::load;
/// use svm::data::CsvOptions;
/// assert_eq!(load("builtin:iris", &CsvOptions::default())?.n(), 150);
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn load(spec: &str, csv: &CsvOptions) -> Result<Dataset, CliError> {
    let is_csv = Path::new(spec)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv && *csv != CsvOptions::default() {
        return Err(CliError::Usage(format!(
            "`{spec}` is not a .csv file: --header, --no-header and --label apply to CSV files only"
        )));
    }
    Ok(match spec.strip_prefix("builtin:") {
        Some(name) => builtin(name)?,
        None => read_file_with(Path::new(spec), csv)?,
    })
}

/// The CSV options from `--header`, `--no-header` and `--label COLUMN`: a column that reads as
/// a non-negative integer is a 0-based index, anything else a header name.
///
/// # Example
/// ```
/// use subgrad_cli::train::csv_options;
/// use svm::data::{Header, LabelColumn};
/// let o = csv_options(false, true, Some("0"));
/// assert_eq!((o.header, o.label), (Header::Absent, LabelColumn::Index(0)));
/// let o = csv_options(true, false, Some("species"));
/// assert_eq!((o.header, o.label), (Header::Present, LabelColumn::Name("species".into())));
/// assert_eq!(csv_options(false, false, None), svm::data::CsvOptions::default());
/// ```
pub fn csv_options(header: bool, no_header: bool, label: Option<&str>) -> CsvOptions {
    CsvOptions {
        header: match (header, no_header) {
            (true, _) => Header::Present,
            (_, true) => Header::Absent,
            _ => Header::Auto,
        },
        label: match label {
            None => LabelColumn::Last,
            Some(l) => match l.trim().parse::<usize>() {
                Ok(i) => LabelColumn::Index(i),
                Err(_) => LabelColumn::Name(l.to_string()),
            },
        },
    }
}

/// The losses `train` and `cv` accept (`--loss`): the margin losses, or the all-pairs ranking
/// loss. The smoothed losses have their smoothing fixed at 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossArg {
    /// max(0, 1 − z).
    Hinge,
    /// max(0, 1 − z)², liblinear's L2 loss.
    SquaredHinge,
    /// The Gaussian-smoothed hinge ψ_G, σ = 0.5.
    #[value(alias = "smooth-gaussian")]
    SmoothHinge,
    /// The square-root-smoothed hinge ψ_M, σ = 0.5.
    SmoothSqrt,
    /// The Huberised hinge, γ = 0.5.
    Huberized,
    /// The modified Huber loss.
    ModifiedHuber,
    /// The all-pairs squared hinge with margin 1 (the AUC surrogate, two classes).
    AllPairs,
}

impl LossArg {
    /// `options` training with this loss: [`TrainOptions::loss`] for a margin loss,
    /// [`TrainOptions::all_pairs`] with margin 1 for `all-pairs`.
    ///
    /// # Example
    /// ```
    /// use losses::MarginLoss;
    /// use subgrad_cli::train::LossArg;
    /// use svm::model::TrainOptions;
    /// let o = LossArg::SmoothHinge.apply(TrainOptions::default());
    /// assert_eq!(o.loss, MarginLoss::SmoothGaussian { sigma: 0.5 });
    /// let o = LossArg::AllPairs.apply(TrainOptions::default());
    /// assert_eq!(o.all_pairs, Some(1.0));
    /// ```
    pub fn apply(self, options: TrainOptions) -> TrainOptions {
        let loss = match self {
            LossArg::Hinge => MarginLoss::hinge(),
            LossArg::SquaredHinge => MarginLoss::squared_hinge(),
            LossArg::SmoothHinge => MarginLoss::SmoothGaussian { sigma: 0.5 },
            LossArg::SmoothSqrt => MarginLoss::SmoothSqrt { sigma: 0.5 },
            LossArg::Huberized => MarginLoss::Huberized { gamma: 0.5 },
            LossArg::ModifiedHuber => MarginLoss::ModifiedHuber,
            LossArg::AllPairs => {
                return TrainOptions {
                    all_pairs: Some(1.0),
                    ..options
                }
            }
        };
        TrainOptions { loss, ..options }
    }
}

/// The solvers `train` accepts (`--solver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SolverArg {
    /// The exact solver with a certificate (dual coordinate descent, interior point or
    /// Newton, by loss and data).
    Exact,
    /// The classic subgradient method with iterate averaging.
    Subgradient,
    /// Pegasos SGD (the hinge or the squared hinge).
    Pegasos,
    /// Nesterov's accelerated gradient (smooth losses).
    Nesterov,
}

impl From<SolverArg> for SolverKind {
    fn from(s: SolverArg) -> Self {
        match s {
            SolverArg::Exact => SolverKind::Exact,
            SolverArg::Subgradient => SolverKind::Subgradient,
            SolverArg::Pegasos => SolverKind::Pegasos,
            SolverArg::Nesterov => SolverKind::Nesterov,
        }
    }
}

/// Where the first-order solvers get their gradients (`--gradient`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GradientArg {
    /// The engine, on the loss built from primitives.
    Engine,
    /// The hand-derived closed form.
    ClosedForm,
}

impl From<GradientArg> for GradientSource {
    fn from(g: GradientArg) -> Self {
        match g {
            GradientArg::Engine => GradientSource::Engine,
            GradientArg::ClosedForm => GradientSource::ClosedForm,
        }
    }
}

/// How `train` handles more than two classes (`--multiclass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MulticlassArg {
    /// One-vs-rest: one binary problem per class.
    Ovr,
    /// One joint Crammer–Singer problem (the hinge or the squared hinge).
    CrammerSinger,
}

impl From<MulticlassArg> for Multiclass {
    fn from(m: MulticlassArg) -> Self {
        match m {
            MulticlassArg::Ovr => Multiclass::OneVsRest,
            MulticlassArg::CrammerSinger => Multiclass::CrammerSinger,
        }
    }
}

/// `train`'s result, as `--json` prints it: the library's [`TrainReport`] with its fields at the
/// top level (`objective`, `train_accuracy`, `iterations`, `converged`, `certificate`,
/// `seconds`, `history`, `train_auc`, and the trained [`Model`] under `model`), beside the data's
/// shape and what the command itself adds.
#[derive(Debug, Serialize)]
pub struct TrainOutput<'a> {
    /// Rows of the data.
    pub rows: usize,
    /// Features of the data (before any bias feature).
    pub features: usize,
    /// What training reported, the model included.
    #[serde(flatten)]
    pub report: &'a TrainReport,
    /// Where the model was written (`--model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_file: Option<PathBuf>,
    /// The iteration limit the run had (`--max-iter`).
    pub max_iter: usize,
    /// The largest |feature value| when the features were not standardised and it exceeds 10
    /// (unscaled features slow the exact solvers down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unscaled: Option<f64>,
}

/// Runs `train`.
pub fn run_train(
    data: &Dataset,
    options: &TrainOptions,
    show_progress: bool,
) -> Result<TrainReport, CliError> {
    let bar = indicatif::ProgressBar::new_spinner();
    if show_progress {
        bar.set_message(format!("training on {} × {} …", data.n(), data.d));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let report = train(data, options);
    bar.finish_and_clear();
    Ok(report?)
}

/// `report` with the data's shape, where the model was written and the run's options that
/// [`render`] needs.
///
/// # Example
/// ```
/// use subgrad_cli::train::{load, output, run_train};
/// use svm::data::CsvOptions;
/// use svm::model::TrainOptions;
/// let data = load("builtin:seed", &CsvOptions::default())?;
/// let options = TrainOptions::default();
/// let report = run_train(&data, &options, false)?;
/// let json = serde_json::to_value(output(&data, &options, &report, None))?;
/// assert_eq!((json["rows"].as_u64(), json["features"].as_u64()), (Some(5), Some(2)));
/// assert_eq!(json["objective"], report.objective);
/// assert_eq!(json["model"], serde_json::to_value(&report.model)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn output<'a>(
    data: &Dataset,
    options: &TrainOptions,
    report: &'a TrainReport,
    model_file: Option<PathBuf>,
) -> TrainOutput<'a> {
    let largest = (0..data.n())
        .flat_map(|i| data.row(i).entries())
        .map(|(_, v)| v.abs())
        .fold(0.0, f64::max);
    TrainOutput {
        rows: data.n(),
        features: data.d,
        report,
        model_file,
        max_iter: options.max_iter,
        unscaled: (!options.standardize && largest > 10.0).then_some(largest),
    }
}

/// The human-readable report.
pub fn render(out: &TrainOutput<'_>) -> String {
    let (report, model) = (out.report, &out.report.model);
    let mut s = format!(
        "{} rows × {} features\nloss {} with C = {}, classes {:?}\nobjective ½‖w‖² + C·Σ loss{} = {:.10}\n",
        out.rows,
        out.features,
        model.loss,
        model.c,
        model.classes,
        if model.classes.len() > 2 && !model.loss.starts_with("crammer-singer") {
            " (summed over one-vs-rest)"
        } else {
            ""
        },
        report.objective
    );
    s += &format!(
        "train accuracy {:.4}, {} iterations, {}, certificate {}, {:.3} s\n",
        report.train_accuracy,
        report.iterations,
        match (report.converged, report.certificate) {
            (true, _) => "converged",
            (false, None) => "first-order method (no certificate)",
            (false, Some(_)) => "stopped at the iteration limit",
        },
        report
            .certificate
            .map_or("none".to_string(), |c| format!("{c:.3e}")),
        report.seconds
    );
    if !report.converged && report.certificate.is_some() {
        s += &format!(
            "warning: the tolerance was not reached in --max-iter {} iterations; raise \
             --max-iter or --tol",
            out.max_iter
        );
        if let Some(x) = out.unscaled {
            s += &format!(
                ", or pass --standardize: the features are unscaled (largest |x| = {x}), which \
                 slows the exact solvers down"
            );
        }
        s += "\n";
    }
    if let Some(a) = report.train_auc {
        s += &format!("train AUC {a:.4}\n");
    }
    if let Some(p) = &out.model_file {
        s += &format!("model written to {}\n", p.display());
    }
    s
}

/// Writes the model as JSON, atomically (an existing file survives a failed write).
pub fn save(model: &Model, path: &Path) -> Result<(), CliError> {
    crate::write_atomic(path, model.to_json()?.as_bytes())
}

/// Reads a model.
pub fn load_model(path: &Path) -> Result<Model, CliError> {
    let text = crate::read_text(path)?;
    Model::from_json(&text, &path.display().to_string()).map_err(|e| match e {
        // A parse error already names the file.
        e @ svm::Error::Parse { .. } => CliError::Svm(e),
        source => CliError::Model {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// `cv`'s result.
#[derive(Debug, Serialize)]
pub struct CvOutput {
    /// `accuracy`, or `auc` for the all-pairs loss.
    pub score: &'static str,
    /// `(C, mean validation score)` over the grid.
    pub grid: Vec<(f64, f64)>,
    /// The best `C`.
    pub best_c: f64,
    /// Its accuracy.
    pub best_accuracy: f64,
}

/// The most values a `cv` grid may have.
pub const MAX_GRID: i64 = 64;

/// The largest |exponent| of a `cv` grid: `2^332 ≈ 1e100` is the largest `C` training accepts.
pub const MAX_GRID_EXPONENT: i32 = 332;

/// Checks the grid `C = 2^lo … 2^hi` before anything is allocated for it.
///
/// # Errors
/// [`CliError::Usage`] if `lo > hi`, an exponent is beyond ±[`MAX_GRID_EXPONENT`], or the grid
/// has more than [`MAX_GRID`] values.
///
/// # Example
/// ```
/// assert!(subgrad_cli::train::check_grid(-5, 5).is_ok());
/// assert!(subgrad_cli::train::check_grid(i32::MIN, i32::MAX).is_err());
/// ```
pub fn check_grid(lo: i32, hi: i32) -> Result<(), CliError> {
    if lo > hi {
        return Err(CliError::Usage(format!("--lo {lo} > --hi {hi}")));
    }
    if lo < -MAX_GRID_EXPONENT || hi > MAX_GRID_EXPONENT {
        return Err(CliError::Usage(format!(
            "--lo {lo} --hi {hi}: exponents must lie in ±{MAX_GRID_EXPONENT} (C = 2^e ≤ 1e100)"
        )));
    }
    let count = i64::from(hi) - i64::from(lo) + 1;
    if count > MAX_GRID {
        return Err(CliError::Usage(format!(
            "--lo {lo} --hi {hi}: the grid would have {count} values; at most {MAX_GRID}"
        )));
    }
    Ok(())
}

/// Runs k-fold cross-validation over `C = 2^lo … 2^hi`.
pub fn run_cv(
    data: &Dataset,
    options: &TrainOptions,
    folds: usize,
    lo: i32,
    hi: i32,
    seed: u64,
) -> Result<CvOutput, CliError> {
    check_grid(lo, hi)?;
    let grid: Vec<f64> = (lo..=hi).map(|e| 2f64.powi(e)).collect();
    let scores = cross_validate(data, options, folds, &grid, seed)?;
    let (best_c, best_accuracy) =
        scores
            .iter()
            .copied()
            .fold((f64::NAN, f64::NEG_INFINITY), |best, s| {
                if s.1 > best.1 {
                    s
                } else {
                    best
                }
            });
    Ok(CvOutput {
        score: if options.all_pairs.is_some() {
            "auc"
        } else {
            "accuracy"
        },
        grid: scores,
        best_c,
        best_accuracy,
    })
}
