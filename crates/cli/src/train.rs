//! `subgrad train`, `predict` and `cv`.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use losses::MarginLoss;
use serde::Serialize;
use svm::cv::{cross_validate, CvOptions, Penalty, Score};
use svm::data::{
    builtin, read_csv_named, read_file_named, read_libsvm_from, CsvOptions, Dataset, Header,
    LabelColumn,
};
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
    load_named(spec, csv, false, None).map(|(data, _)| data)
}

/// Loads `builtin:NAME`, `-` (standard input) or a file, with a CSV file's label names (see
/// [`svm::data::read_csv_named`]; `known` are a model's names, to read labels against).
/// `as_csv` reads a file of any name, and standard input, as CSV; standard input is otherwise
/// read as LIBSVM.
///
/// # Errors
/// As [`load`]; [`CliError::Read`] if standard input cannot be read as CSV text. LIBSVM on
/// standard input is read line by line: a failed read or a line that is not UTF-8 is the
/// reader's [`svm::Error::Io`], naming `<stdin>`.
///
/// # Example
/// ```
/// use subgrad_cli::train::load_named;
/// use svm::data::CsvOptions;
/// let (iris, names) = load_named("builtin:iris", &CsvOptions::default(), false, None)?;
/// assert_eq!((iris.n(), names), (150, None));
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
pub fn load_named(
    spec: &str,
    csv: &CsvOptions,
    as_csv: bool,
    known: Option<&[String]>,
) -> Result<(Dataset, Option<Vec<String>>), CliError> {
    let is_csv = as_csv
        || Path::new(spec)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv && *csv != CsvOptions::default() {
        return Err(CliError::Usage(format!(
            "`{spec}` is not a .csv file: --header, --no-header and --label apply to CSV files \
             only (pass --csv to read it as CSV)"
        )));
    }
    if spec == "-" && !is_csv {
        return Ok((read_libsvm_from(std::io::stdin().lock(), "<stdin>")?, None));
    }
    if spec == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(
            |source| CliError::Read {
                path: "-".into(),
                source,
            },
        )?;
        return Ok(read_csv_named(&text, "<stdin>", csv, known)?);
    }
    Ok(match spec.strip_prefix("builtin:") {
        Some(name) => (builtin(name)?, None),
        None if as_csv => {
            let text = crate::read_text(Path::new(spec))?;
            read_csv_named(&text, spec, csv, known)?
        }
        None => read_file_named(Path::new(spec), csv, known)?,
    })
}

/// Parses `CLASS=W` (`--weight`): the class as written (a number, or a name when the labels
/// are names) and a finite weight `> 0`.
///
/// # Errors
/// A message for clap when the text has no `=` or the weight is not a finite number `> 0`.
///
/// # Example
/// ```
/// use subgrad_cli::train::parse_weight;
/// assert_eq!(parse_weight("-1=2.5"), Ok(("-1".to_string(), 2.5)));
/// assert!(parse_weight("yes=0").is_err());
/// ```
pub fn parse_weight(text: &str) -> Result<(String, f64), String> {
    let (class, weight) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("`{text}`: expected CLASS=WEIGHT, e.g. -1=2"))?;
    let w: f64 = weight
        .trim()
        .parse()
        .map_err(|_| format!("`{weight}` is not a number"))?;
    if !(w.is_finite() && w > 0.0) {
        return Err(format!(
            "weight {w} of class `{class}` must be a finite number > 0"
        ));
    }
    Ok((class.trim().to_string(), w))
}

/// The `(class, weight)` pairs of `--weight CLASS=W` against the data's classes: a class is
/// its name when the labels are names (`names`), else a number.
///
/// # Errors
/// [`CliError::Usage`] for a class the data does not have.
pub fn class_weights(
    given: &[(String, f64)],
    data: &Dataset,
    names: Option<&[String]>,
) -> Result<Vec<(f64, f64)>, CliError> {
    let classes = data.classes();
    given
        .iter()
        .map(|(class, w)| {
            let value = match names {
                Some(n) => n.iter().position(|x| x == class).map(|i| i as f64),
                None => class.parse::<f64>().ok().filter(|v| classes.contains(v)),
            };
            match value {
                Some(v) => Ok((v, *w)),
                None => Err(CliError::Usage(format!(
                    "--weight {class}={w}: the data has no class `{class}` (its classes: {})",
                    match names {
                        Some(n) => n.join(", "),
                        None => classes
                            .iter()
                            .map(f64::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                ))),
            }
        })
        .collect()
}

/// `v` with `−0` as `0`, so nothing prints `-0`.
///
/// # Example
/// ```
/// assert_eq!(subgrad_cli::train::no_negative_zero(-0.0).to_string(), "0");
/// ```
pub fn no_negative_zero(v: f64) -> f64 {
    // −0 + 0 = +0 in round-to-nearest; every other value is unchanged.
    v + 0.0
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
    /// The loss's name as `--loss` spells it (`smooth-hinge`, not the losses crate's
    /// `smooth-gaussian`).
    ///
    /// # Example
    /// ```
    /// assert_eq!(subgrad_cli::train::LossArg::SmoothHinge.name(), "smooth-hinge");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            LossArg::Hinge => "hinge",
            LossArg::SquaredHinge => "squared-hinge",
            LossArg::SmoothHinge => "smooth-hinge",
            LossArg::SmoothSqrt => "smooth-sqrt",
            LossArg::Huberized => "huberized",
            LossArg::ModifiedHuber => "modified-huber",
            LossArg::AllPairs => "all-pairs",
        }
    }

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
    pub fn apply(self, options: TrainOptions<'_>) -> TrainOptions<'_> {
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
    /// The loss as `--loss` names it (`smooth-hinge`; `crammer-singer-hinge` for
    /// Crammer–Singer), where `model.loss` keeps the losses crate's name.
    pub loss: String,
    /// The tolerance the run had (`--tol`): converged means `relative_certificate ≤ tol`.
    pub tol: f64,
    /// `--lambda`, when the run was asked in the λ-form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f64>,
    /// The λ-form objective `mean loss + λ‖w‖²` (summed over one-vs-rest) = `2λ·objective`,
    /// when the run was asked in the λ-form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda_objective: Option<f64>,
    /// Whether examples were weighted (`--weight`, `--class-weight`).
    pub weighted: bool,
    /// Warnings about the options (printed on standard error unless `--quiet`), e.g.
    /// `--standardize` without `--bias`.
    pub warnings: Vec<String>,
}

/// The warning for `--standardize` without a bias: centred features leave the separating
/// hyperplane through the origin, which costs accuracy (iris 0.947 → 0.847).
pub const STANDARDIZE_WITHOUT_BIAS: &str = "--standardize without --bias: the features are \
    centred but the hyperplane still passes through the origin, which can cost accuracy (iris: \
    0.947 → 0.847); add --bias 1";

impl TrainOutput<'_> {
    /// The output of a run asked in the λ-form: `lambda` and the λ-form objective
    /// `2λ·objective` (`λ‖w‖² + mean loss = 2λ·(½‖w‖² + C·Σ loss)` for `C = 1/(2nλ)`).
    pub fn with_lambda(mut self, lambda: Option<f64>) -> Self {
        self.lambda = lambda;
        self.lambda_objective = lambda.map(|l| 2.0 * l * self.report.objective);
        self
    }
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
    let mut warnings = Vec::new();
    if options.standardize && options.bias.is_none() {
        warnings.push(STANDARDIZE_WITHOUT_BIAS.to_string());
    }
    let loss = match report.model.loss.as_str() {
        "smooth-gaussian" => "smooth-hinge".to_string(),
        other => other.to_string(),
    };
    TrainOutput {
        rows: data.n(),
        features: data.d,
        report,
        model_file,
        max_iter: options.max_iter,
        unscaled: (!options.standardize && largest > 10.0).then_some(largest),
        loss,
        tol: options.tol,
        lambda: None,
        lambda_objective: None,
        weighted: options.class_weight != svm::model::ClassWeight::Uniform,
        warnings,
    }
}

/// The human-readable report: the objective (and the λ-form's when asked in it), and the
/// relative certificate convergence is judged on beside the absolute one.
pub fn render(out: &TrainOutput<'_>) -> String {
    let (report, model) = (out.report, &out.report.model);
    let z = no_negative_zero;
    let crammer_singer = model.loss.starts_with("crammer-singer");
    let classes: Vec<String> = (0..model.classes.len())
        .map(|r| model.class_name(r))
        .collect();
    let sum = if out.weighted {
        "Σ wᵢ·loss"
    } else {
        "Σ loss"
    };
    let mut s = format!(
        "{} rows × {} features\nloss {} with C = {}, classes [{}]\nobjective {} = {:.10}\n",
        out.rows,
        out.features,
        out.loss,
        z(model.c),
        classes.join(", "),
        if crammer_singer {
            format!("½‖W‖² + C·{sum} (one joint Crammer–Singer problem)")
        } else if model.classes.len() > 2 {
            format!("½‖w‖² + C·{sum} (summed over one-vs-rest)")
        } else {
            format!("½‖w‖² + C·{sum}")
        },
        z(report.objective)
    );
    if let (Some(l), Some(f)) = (out.lambda, out.lambda_objective) {
        s += &format!(
            "λ-form objective mean loss + λ‖w‖² with λ = {} = {:.10}{}\n",
            z(l),
            z(f),
            if model.classes.len() > 2 && !crammer_singer {
                " (summed over one-vs-rest)"
            } else {
                ""
            }
        );
    }
    s += &format!(
        "train accuracy {:.4}, {} iterations, {}, {}, {:.3} s\n",
        report.train_accuracy,
        report.iterations,
        match (report.converged, report.certificate) {
            (true, _) => "converged",
            (false, None) => "first-order method (no certificate)",
            (false, Some(_)) => "stopped at the iteration limit",
        },
        match (report.relative_certificate, report.certificate) {
            (Some(r), Some(a)) => format!(
                "relative certificate {:.3e} (proved (f − f*)/f; converged when ≤ tol {:e}), \
                 absolute {:.3e}",
                z(r),
                out.tol,
                z(a)
            ),
            _ => "certificate none".to_string(),
        },
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
    /// `accuracy` or `auc`.
    pub score: &'static str,
    /// `C`, or `lambda` for `--lambda-grid`.
    pub penalty: &'static str,
    /// `(C or λ, mean validation score)` over the grid.
    pub grid: Vec<(f64, f64)>,
    /// The best `C` (with `--lambda-grid`: the `C` of the best λ on the whole data,
    /// `1/(2nλ)`).
    pub best_c: f64,
    /// The best λ, with `--lambda-grid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_lambda: Option<f64>,
    /// The best mean accuracy, when scored by accuracy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_accuracy: Option<f64>,
    /// The best mean AUC, when scored by AUC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_auc: Option<f64>,
    /// Whether the rows were shuffled before the folds were cut.
    pub shuffled: bool,
}

impl CvOutput {
    /// The best score, accuracy or AUC.
    pub fn best_score(&self) -> f64 {
        self.best_accuracy.or(self.best_auc).unwrap_or(f64::NAN)
    }
}

/// The scores `cv --score` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoreArg {
    /// The fraction of validation rows predicted right.
    Accuracy,
    /// The area under the ROC curve (two classes).
    Auc,
}

impl From<ScoreArg> for Score {
    fn from(s: ScoreArg) -> Self {
        match s {
            ScoreArg::Accuracy => Score::Accuracy,
            ScoreArg::Auc => Score::Auc,
        }
    }
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

/// What `cv` cross-validates over: `C = 2^lo … 2^hi`, or the λ values of `--lambda-grid`.
#[derive(Debug, Clone, PartialEq)]
pub enum CvGrid {
    /// `C = 2^lo … 2^hi`.
    Log2C {
        /// Smallest exponent.
        lo: i32,
        /// Largest exponent.
        hi: i32,
    },
    /// The λ values.
    Lambda(Vec<f64>),
}

/// Runs k-fold cross-validation over `grid`, with `shuffle`d (seeded) or contiguous folds,
/// scored by `score` (default: the AUC for the all-pairs loss, else the accuracy).
///
/// # Errors
/// As [`check_grid`] and [`svm::cv::cross_validate`] (whose [`svm::Error::InvalidFolds`]
/// rejects `folds` past the number of rows); [`CliError::Usage`] for an empty or too long
/// λ grid.
pub fn run_cv(
    data: &Dataset,
    options: &TrainOptions<'_>,
    folds: usize,
    grid: &CvGrid,
    (shuffle, seed): (bool, u64),
    score: Option<ScoreArg>,
) -> Result<CvOutput, CliError> {
    let (values, penalty) = match grid {
        CvGrid::Log2C { lo, hi } => {
            check_grid(*lo, *hi)?;
            ((*lo..=*hi).map(|e| 2f64.powi(e)).collect(), Penalty::C)
        }
        CvGrid::Lambda(l) => {
            if l.is_empty() || l.len() > MAX_GRID as usize {
                return Err(CliError::Usage(format!(
                    "--lambda-grid has {} values; give 1 to {MAX_GRID}",
                    l.len()
                )));
            }
            (l.clone(), Penalty::Lambda)
        }
    };
    let cv = CvOptions {
        folds,
        grid: &values,
        penalty,
        shuffle,
        seed,
        score: score.map(Into::into),
    };
    let used = cv.score_for(options);
    let scores = cross_validate(data, options, &cv)?;
    let (best_value, best) =
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
    let (best_c, best_lambda) = match penalty {
        Penalty::C => (best_value, None),
        Penalty::Lambda => (1.0 / (2.0 * data.n() as f64 * best_value), Some(best_value)),
    };
    Ok(CvOutput {
        score: match used {
            Score::Auc => "auc",
            Score::Accuracy => "accuracy",
        },
        penalty: match penalty {
            Penalty::C => "C",
            Penalty::Lambda => "lambda",
        },
        grid: scores,
        best_c,
        best_lambda,
        best_accuracy: (used == Score::Accuracy).then_some(best),
        best_auc: (used == Score::Auc).then_some(best),
        shuffled: shuffle,
    })
}
