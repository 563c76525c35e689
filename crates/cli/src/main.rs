//! `subgrad`: differentiate an expression at a kink and see what happened.

use std::path::PathBuf;
use std::process::ExitCode;

use autodiff::{Certify, KinkPolicy};
use clap::{Parser, Subcommand, ValueEnum};
use subgrad_cli::train::{GradientArg, LossArg, MulticlassArg, ScoreArg, SolverArg};
use subgrad_cli::{check, demo, emit, grad, grad_plot, textbook, train, CliError};
use svm::model::{ClassWeight, TrainOptions};

/// `println!` through [`emit`]: a write error (a closed pipe) is returned, not a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        emit(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// Reverse-mode autodiff that is explicit at the kink.
#[derive(Debug, Parser)]
#[command(name = "subgrad", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How a `.csv` data file is read (LIBSVM files have no options).
#[derive(Debug, Clone, clap::Args)]
struct CsvArgs {
    /// The CSV file's first line is a header. Without --header or --no-header it is detected:
    /// all names → header, all numbers → data, a mix → an error asking which.
    #[arg(long, conflicts_with = "no_header")]
    header: bool,
    /// The CSV file has no header: its first line is data.
    #[arg(long)]
    no_header: bool,
    /// The CSV label column: a 0-based index or a header name (default: the last column).
    /// Labels that are names (yes/no) become classes sorted by name, kept in the model.
    #[arg(long, value_name = "COLUMN")]
    label: Option<String>,
    /// Read the data as CSV whatever its name (standard input `-` is otherwise LIBSVM).
    #[arg(long)]
    csv: bool,
}

impl CsvArgs {
    fn options(&self) -> svm::data::CsvOptions {
        train::csv_options(self.header, self.no_header, self.label.as_deref())
    }

    /// Loads `spec` (`-`: standard input) with these options, its label names read against
    /// `known` when given.
    fn load(
        &self,
        spec: &str,
        known: Option<&[String]>,
    ) -> Result<(svm::data::Dataset, Option<Vec<String>>), CliError> {
        train::load_named(spec, &self.options(), self.csv, known)
    }
}

/// Per-class weights, shared by `train` and `cv`.
#[derive(Debug, Clone, clap::Args)]
struct WeightArgs {
    /// liblinear's -wi: examples of class CLASS (a number, or a name for named labels) get
    /// the penalty W·C; repeat for several classes (others weigh 1). Under one-vs-rest an
    /// example keeps its class's weight in every binary problem (scikit-learn's rule).
    #[arg(
        long = "weight",
        value_name = "CLASS=W",
        allow_hyphen_values = true,
        value_parser = train::parse_weight,
        conflicts_with = "class_weight"
    )]
    weight: Vec<(String, f64)>,
    /// scikit-learn's class_weight="balanced": class c weighs n/(k·n_c).
    #[arg(long, value_enum, value_name = "MODE")]
    class_weight: Option<ClassWeightArg>,
}

/// `--class-weight` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClassWeightArg {
    /// w_c = n/(k·n_c): every class weighs as much in total.
    Balanced,
}

impl WeightArgs {
    /// The `(class, weight)` pairs of `--weight` against the data's classes.
    fn pairs(
        &self,
        data: &svm::data::Dataset,
        names: Option<&[String]>,
    ) -> Result<Vec<(f64, f64)>, CliError> {
        train::class_weights(&self.weight, data, names)
    }

    /// The class weights, `pairs` being [`WeightArgs::pairs`].
    fn class_weight<'a>(&self, pairs: &'a [(f64, f64)]) -> ClassWeight<'a> {
        match (self.class_weight, pairs.is_empty()) {
            (Some(ClassWeightArg::Balanced), _) => ClassWeight::Balanced,
            (None, false) => ClassWeight::Given(pairs),
            (None, true) => ClassWeight::Uniform,
        }
    }
}

/// The kink conventions `--policy` accepts.
/// How `grad --certified` picks its directions.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum CertifiedArg {
    /// A seeded random direction, then the coordinate axes for the ties it left.
    Random,
    /// The coordinate axes e₁, e₂, … in turn (lexicographic, deterministic).
    Lex,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PolicyArg {
    /// Minimum-norm element of each operation's subdifferential (relu'(0) = 0, ties ½/½).
    MinNorm,
    /// PyTorch's conventions.
    Torch,
    /// JAX's conventions (abs'(0) = 1).
    Jax,
    /// TensorFlow's conventions (max ties all to the first argument).
    Tf,
}

impl From<PolicyArg> for KinkPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::MinNorm => KinkPolicy::MinNorm,
            PolicyArg::Torch => KinkPolicy::Torch,
            PolicyArg::Jax => KinkPolicy::Jax,
            PolicyArg::Tf => KinkPolicy::Tf,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The showcase: train a linear SVM on the seed's five points with the classic subgradient
    /// method, print the loss and the examples on and near the margin per step, compare
    /// autodiff with the closed form, show every policy at the exact optimum, and write SVG
    /// plots.
    Demo(DemoArgs),
    /// Differentiate an expression at a point: value, gradient, kinks hit, the subdifferential,
    /// one-sided derivatives.
    ///
    /// Grammar: numbers, variables, + - * / ^, unary minus, parentheses, relu(e), abs(e),
    /// exp(e), ln(e), log1p(e), sqrt(e), square(e), softplus(e), sigmoid(e), tanh(e),
    /// leaky_relu(x, α) with a number slope, pow(x, p) (= x^p: powi for an integer constant p,
    /// powf for another constant), clamp(x, lo, hi) with number bounds, max(a, b) and
    /// min(a, b), and max/min of 3 or more arguments. Prints the value, the
    /// gradient, the kinks hit, the Clarke subdifferential (its vertices) and the one-sided
    /// slopes along each variable.
    #[command(
        after_help = "Examples:\n  subgrad grad 'relu(x) - relu(-x)' --at x=0 --certified\n  subgrad grad 'relu(x) - relu(-x)' --at x=0 --certified lex --json"
    )]
    Grad(GradArgs),
    /// Train a linear SVM (one-vs-rest for more than two classes) on a LIBSVM/CSV file or an
    /// embedded set, with liblinear's objective ½‖w‖² + C·Σ loss.
    #[command(
        after_help = "Example:\n  subgrad train builtin:breast_cancer --loss squared-hinge -C 1 --standardize"
    )]
    Train(TrainArgs),
    /// Predict with a saved model; prints the accuracy when the file has labels.
    ///
    /// A binary model predicts its second class where the score w·x is > 0 and its first
    /// where it is ≤ 0, so a score of exactly 0 is the first class (liblinear's
    /// `dec_values[0] > 0 ? label[0] : label[1]`, scikit-learn's `scores > 0`); a multiclass
    /// model predicts the best-scoring class, the first of those tied.
    Predict(PredictArgs),
    /// k-fold cross-validation over C = 2^lo … 2^hi (or a λ grid), scored by accuracy or AUC.
    Cv(CvArgs),
    /// Check every loss's autodiff gradient against its closed form, at a random point and at
    /// an exact kink, with the kink-aware gradient checker; prints a table.
    Check(CheckArgs),
}

/// `subgrad demo`'s arguments.
#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Iterations of the subgradient method (at least 1).
    #[arg(long, default_value_t = 5000)]
    iterations: usize,
    /// Step size η, a finite number > 0 (the k-th step has length η/k).
    #[arg(long, default_value_t = 4.0, allow_hyphen_values = true)]
    step: f64,
    /// Print every this many iterations (at least 1).
    #[arg(long, default_value_t = 500)]
    every: usize,
    /// Folder for the plots.
    #[arg(long, default_value = "subgrad-demo")]
    out: PathBuf,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    json: bool,
}

impl DemoArgs {
    fn run(self) -> Result<(), CliError> {
        let result = demo::run(self.iterations, self.step, self.every, &self.out)?;
        if self.json {
            out!("{}", serde_json::to_string(&result)?);
        } else {
            emit(&demo::render(&result))?;
        }
        Ok(())
    }
}

/// `subgrad grad`'s arguments.
#[derive(Debug, clap::Args)]
struct GradArgs {
    /// The expression, e.g. 'max(0, 1 - y*w*x)' (it may start with a minus: '-x').
    #[arg(allow_hyphen_values = true)]
    expression: String,
    /// A variable's value, NAME=VALUE (repeat for several variables).
    // A pair, not an enum: the parser checks the name and that the value is a finite number.
    #[arg(long = "at", value_name = "NAME=VALUE", value_parser = grad::parse_assignment)]
    at: Vec<(String, f64)>,
    /// The kink convention used by the plain gradient.
    #[arg(long, value_enum, default_value_t = PolicyArg::MinNorm)]
    policy: PolicyArg,
    /// Return a certified Clarke subgradient instead of the policy's per-op choice: ties
    /// resolved along a seeded random direction, then the coordinate axes for what it left tied
    /// (`random`, the default), or along the axes e₁, e₂, … only (`lex`, deterministic).
    /// Kink arguments within a few ulps of the operands' magnitude of their kink count as ties.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "random", value_name = "MODE")]
    certified: Option<CertifiedArg>,
    /// Seed of the certified mode's random direction (default 0; not with `--certified lex`).
    #[arg(long, requires = "certified")]
    seed: Option<u64>,
    /// Also compute the exact subdifferential with the engine, for expressions whose kinks are
    /// independent convex kinks of two branches (sums of hinges, abs, max of two, … with
    /// positive weights, plus smooth terms): its generators, its minimum-norm element and
    /// whether 0 is in it; other expressions are refused with the kink that is outside.
    #[arg(long)]
    subdifferential: bool,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    json: bool,
    /// Draw f along one variable as an SVG (the file must end in .svg): the curve, the
    /// one-sided slopes at the point and the returned gradient's tangent, the other variables
    /// held at their --at values.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// The variable to plot along (default: the first one given with --at).
    #[arg(long, value_name = "NAME", requires = "plot")]
    along: Option<String>,
}

impl GradArgs {
    fn run(self) -> Result<(), CliError> {
        let certify = match (self.certified, self.seed) {
            (None, _) => None,
            (Some(CertifiedArg::Random), seed) => Some(Certify::Random {
                seed: seed.unwrap_or(0),
            }),
            (Some(CertifiedArg::Lex), None) => Some(Certify::Lexicographic),
            (Some(CertifiedArg::Lex), Some(_)) => {
                return Err(CliError::Usage(
                    "--seed chooses the random direction; --certified lex uses none".into(),
                ))
            }
        };
        if let Some(path) = &self.plot {
            grad_plot::check_format(path)?;
        }
        let mut out = grad::run_with(
            &self.expression,
            &self.at,
            self.policy.into(),
            certify,
            self.subdifferential,
        )?;
        if let Some(path) = self.plot {
            let plot = grad_plot::plot(&self.expression, &self.at, &out, self.along, &path)?;
            if !self.json {
                let held: Vec<String> = plot
                    .fixed
                    .iter()
                    .map(|(n, v)| format!("{n} = {}", v.as_f64().unwrap_or(f64::NAN)))
                    .collect();
                let held = if held.is_empty() {
                    String::new()
                } else {
                    format!(", {} held fixed", held.join(", "))
                };
                out!(
                    "plot      {}: f along {} ({}{})",
                    path.display(),
                    plot.along,
                    plot.chosen_by,
                    held
                );
            }
            out.plot = Some(plot);
        }
        if self.json {
            out!("{}", serde_json::to_string(&out)?);
        } else {
            emit(&grad::render(&out))?;
        }
        Ok(())
    }
}

/// `subgrad train`'s arguments.
#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// FILE (LIBSVM, or .csv with the label last), - for standard input, or builtin:NAME
    /// (seed, breast_cancer, digits, iris).
    data: String,
    #[command(flatten)]
    csv: CsvArgs,
    #[command(flatten)]
    weights: WeightArgs,
    /// The loss.
    #[arg(long, value_enum, default_value_t = LossArg::Hinge)]
    loss: LossArg,
    /// liblinear's C.
    #[arg(
        short = 'C',
        default_value_t = 1.0,
        conflicts_with = "lambda",
        allow_hyphen_values = true
    )]
    c: f64,
    /// The λ-form's λ (mean loss + λ‖w‖²), converted to C = 1/(2nλ).
    #[arg(long, allow_hyphen_values = true)]
    lambda: Option<f64>,
    /// Multiclass strategy.
    #[arg(long, value_enum, default_value_t = MulticlassArg::Ovr)]
    multiclass: MulticlassArg,
    /// Standardise the features (mean 0, population std 1). Sparse (LIBSVM) data is
    /// scaled to std 1 but not centred, so it stays sparse. Without --bias the hyperplane
    /// still passes through the origin, which costs accuracy: a warning says so.
    #[arg(long)]
    standardize: bool,
    /// liblinear's -B: append a constant feature with this value; a negative value (-1)
    /// means no bias, as in liblinear.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    bias: Option<f64>,
    /// The solver.
    #[arg(long, value_enum, default_value_t = SolverArg::Exact)]
    solver: SolverArg,
    /// Gradients of the first-order solvers.
    #[arg(long, value_enum, default_value_t = GradientArg::Engine)]
    gradient: GradientArg,
    /// Tolerance of the exact solvers (finite, > 0): a bound on the relative objective
    /// error (f(w) − f*)/f(w) that the solver's certificate proves.
    #[arg(long, default_value_t = 1e-9, allow_hyphen_values = true)]
    tol: f64,
    /// Iteration limit (epochs of the dual solvers, Newton steps), as liblinear's 1000.
    #[arg(long, default_value_t = svm::model::DEFAULT_MAX_ITER)]
    max_iter: usize,
    /// Write the model as JSON.
    #[arg(long, value_name = "OUT.json")]
    model: Option<PathBuf>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    json: bool,
    /// liblinear's -q: no progress spinner and no warnings on standard error.
    #[arg(short = 'q', long)]
    quiet: bool,
    #[command(flatten)]
    textbook: textbook::TextbookArgs,
}

impl TrainArgs {
    fn run(self) -> Result<(), CliError> {
        if self.max_iter == 0 {
            return Err(CliError::Usage("--max-iter must be at least 1".into()));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(CliError::Usage(format!(
                "--tol {}: the tolerance must be a finite number > 0",
                self.tol
            )));
        }
        let (data, names) = self.csv.load(&self.data, None)?;
        let pairs = self.weights.pairs(&data, names.as_deref())?;
        let c = match self.lambda {
            Some(l) if l > 0.0 && l.is_finite() => 1.0 / (2.0 * data.n() as f64 * l),
            Some(l) => return Err(CliError::Usage(format!("--lambda {l} must be > 0"))),
            None => self.c,
        };
        let options = self.loss.apply(TrainOptions {
            multiclass: self.multiclass.into(),
            c,
            // liblinear's `-B b` with b < 0 means no bias term.
            bias: self.bias.filter(|b| *b >= 0.0),
            standardize: self.standardize,
            solver: self.solver.into(),
            tol: self.tol,
            max_iter: self.max_iter,
            gradient: self.gradient.into(),
            class_weight: self.weights.class_weight(&pairs),
            ..TrainOptions::default()
        });
        let options = self.textbook.apply(options)?;
        let mut report = train::run_train(&data, &options, !self.json && !self.quiet)?;
        report.model.class_names = names;
        if let Some(path) = &self.model {
            train::save(&report.model, path)?;
        }
        let out = train::output(&data, &options, &report, self.model).with_lambda(self.lambda);
        if !self.quiet {
            for w in &out.warnings {
                eprintln!("warning: {w}");
            }
        }
        let out = textbook::output(out, &options);
        if self.json {
            out!("{}", serde_json::to_string(&out)?);
        } else {
            emit(&textbook::render(&out))?;
        }
        Ok(())
    }
}

/// `subgrad predict`'s arguments.
#[derive(Debug, clap::Args)]
struct PredictArgs {
    /// The model (JSON from `train --model`).
    model: PathBuf,
    /// FILE, - for standard input, or builtin:NAME.
    data: String,
    /// Write the predictions here (liblinear's `predict test model output`), atomically,
    /// instead of to standard output.
    output: Option<PathBuf>,
    #[command(flatten)]
    csv: CsvArgs,
    /// Also print the decision values (scikit-learn's decision_function): one per row for a
    /// binary model (> 0: the second class), one per class for more.
    #[arg(long)]
    decision_values: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// No accuracy line on standard error.
    #[arg(short = 'q', long)]
    quiet: bool,
}

impl PredictArgs {
    fn run(self) -> Result<(), CliError> {
        let model = train::load_model(&self.model)?;
        let (rows, _) = self.csv.load(&self.data, model.class_names.as_deref())?;
        let data_err = |source| CliError::Data {
            data: self.data.clone(),
            source,
        };
        let (predictions, accuracy) = model.predict_with_accuracy(&rows).map_err(data_err)?;
        let predictions: Vec<f64> = predictions
            .into_iter()
            .map(train::no_negative_zero)
            .collect();
        let values = if self.decision_values {
            let z = train::no_negative_zero;
            let v = model.decision_values(&rows).map_err(data_err)?;
            Some(
                v.into_iter()
                    .map(|r| r.into_iter().map(z).collect::<Vec<f64>>())
                    .collect::<Vec<_>>(),
            )
        } else {
            None
        };
        // A prediction as the model names it: the class name, or the number.
        let name = |p: f64| {
            let r = model.classes.iter().position(|&c| c == p).unwrap_or(0);
            model.class_name(r)
        };
        let text = if self.json {
            let mut out = serde_json::json!({"predictions": predictions, "accuracy": accuracy});
            if model.class_names.is_some() {
                out["labels"] = predictions.iter().map(|&p| name(p)).collect();
            }
            if let Some(v) = &values {
                out["decision_values"] = serde_json::json!(v);
            }
            format!("{out}\n")
        } else {
            let mut text = String::new();
            for (i, &p) in predictions.iter().enumerate() {
                text += &name(p);
                if let Some(v) = &values {
                    for x in &v[i] {
                        text += &format!(" {x}");
                    }
                }
                text += "\n";
            }
            text
        };
        match &self.output {
            Some(path) => subgrad_cli::write_atomic(path, text.as_bytes())?,
            None => emit(&text)?,
        }
        if !self.quiet && !self.json {
            eprintln!("accuracy {accuracy:.4} on {} rows", predictions.len());
        }
        Ok(())
    }
}

/// `subgrad cv`'s arguments.
#[derive(Debug, clap::Args)]
struct CvArgs {
    /// FILE, - for standard input, or builtin:NAME.
    data: String,
    #[command(flatten)]
    csv: CsvArgs,
    #[command(flatten)]
    weights: WeightArgs,
    /// The loss (the same default as `train`).
    #[arg(long, value_enum, default_value_t = LossArg::Hinge)]
    loss: LossArg,
    /// The solver.
    #[arg(long, value_enum, default_value_t = SolverArg::Exact)]
    solver: SolverArg,
    /// Multiclass strategy.
    #[arg(long, value_enum, default_value_t = MulticlassArg::Ovr)]
    multiclass: MulticlassArg,
    /// liblinear's -B: append a constant feature with this value; a negative value means no
    /// bias.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    bias: Option<f64>,
    /// Number of folds (2 ≤ folds ≤ rows).
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Smallest exponent of the grid C = 2^lo … 2^hi.
    #[arg(long, default_value_t = -5, allow_hyphen_values = true)]
    lo: i32,
    /// Largest exponent of the grid.
    #[arg(long, default_value_t = 5, allow_hyphen_values = true)]
    hi: i32,
    /// Cross-validate over these λ values (mean loss + λ‖w‖²; each training part of m rows
    /// trains at C = 1/(2mλ)) instead of the C grid, e.g. 1e-4,1e-3,1e-2.
    #[arg(
        long,
        value_name = "L1,L2,…",
        value_delimiter = ',',
        allow_hyphen_values = true,
        conflicts_with_all = ["lo", "hi"]
    )]
    lambda_grid: Option<Vec<f64>>,
    /// Standardise (fitted on each training fold).
    #[arg(long)]
    standardize: bool,
    /// Contiguous folds in file order (scikit-learn's KFold(shuffle=False)) instead of
    /// seeded shuffled ones.
    #[arg(long, conflicts_with = "seed")]
    no_shuffle: bool,
    /// Seed of the folds.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The score (default: auc for --loss all-pairs, else accuracy).
    #[arg(long, value_enum)]
    score: Option<ScoreArg>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// No warnings on standard error.
    #[arg(short = 'q', long)]
    quiet: bool,
}

impl CvArgs {
    fn run(self) -> Result<(), CliError> {
        let grid = match &self.lambda_grid {
            Some(l) => train::CvGrid::Lambda(l.clone()),
            None => {
                train::check_grid(self.lo, self.hi)?;
                train::CvGrid::Log2C {
                    lo: self.lo,
                    hi: self.hi,
                }
            }
        };
        let (data, names) = self.csv.load(&self.data, None)?;
        let pairs = self.weights.pairs(&data, names.as_deref())?;
        let options = self.loss.apply(TrainOptions {
            standardize: self.standardize,
            // liblinear's `-B b` with b < 0 means no bias term.
            bias: self.bias.filter(|b| *b >= 0.0),
            solver: self.solver.into(),
            multiclass: self.multiclass.into(),
            class_weight: self.weights.class_weight(&pairs),
            tol: 1e-6,
            ..TrainOptions::default()
        });
        if !self.quiet && options.standardize && options.bias.is_none() {
            eprintln!("warning: {}", train::STANDARDIZE_WITHOUT_BIAS);
        }
        let out = train::run_cv(
            &data,
            &options,
            self.folds,
            &grid,
            (!self.no_shuffle, self.seed),
            self.score,
        )?;
        if self.json {
            out!("{}", serde_json::to_string(&out)?);
        } else {
            let z = train::no_negative_zero;
            let name = if out.penalty == "lambda" { "λ" } else { "C" };
            for (v, a) in &out.grid {
                out!("{name} = {:<10} {} {a:.4}", z(*v), out.score);
            }
            match out.best_lambda {
                Some(l) => out!(
                    "best λ = {} (C = {} on all rows; {} {:.4})",
                    z(l),
                    z(out.best_c),
                    out.score,
                    out.best_score()
                ),
                None => out!(
                    "best C = {} ({} {:.4})",
                    z(out.best_c),
                    out.score,
                    out.best_score()
                ),
            }
        }
        Ok(())
    }
}

/// `subgrad check`'s arguments.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl CheckArgs {
    fn run(self) -> Result<(), CliError> {
        let rows = check::run()?;
        if self.json {
            out!("{}", serde_json::to_string(&rows)?);
        } else {
            emit(&check::render(&rows))?;
        }
        Ok(())
    }
}

/// Runs the command `cli` names.
fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo(args) => args.run(),
        Command::Grad(args) => args.run(),
        Command::Train(args) => args.run(),
        Command::Predict(args) => args.run(),
        Command::Cv(args) => args.run(),
        Command::Check(args) => args.run(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`subgrad demo | head -1`) ends the program quietly, as Unix tools do.
        Err(CliError::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
