//! `train`'s options for reproducing a textbook run: the subgradient method's step, averaging,
//! objective without the regulariser, loss-change stopping rule and kink policy, Nesterov's
//! fixed iteration count, and the report of the objective in the form the run was asked in
//! (without the regulariser, or in λ-form).

use autodiff::{CustomPolicy, KinkPolicy};
use serde::Serialize;
use svm::model::{SolverKind, TrainOptions};
use svm::solvers::FirstOrderOptions;

use crate::train::TrainOutput;
use crate::CliError;

/// The textbook options of `train`, flattened into its arguments (`#[command(flatten)]`).
///
/// # Example
/// ```
/// use subgrad_cli::textbook::TextbookArgs;
/// use svm::model::{SolverKind, TrainOptions};
/// let args = TextbookArgs { step: Some(0.1), no_regularizer: true, ..TextbookArgs::default() };
/// let o = args.apply(TrainOptions { solver: SolverKind::Subgradient, ..TrainOptions::default() })?;
/// assert_eq!((o.first_order.step, o.first_order.regularize), (0.1, false));
/// # Ok::<(), subgrad_cli::CliError>(())
/// ```
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TextbookArgs {
    /// Subgradient solver: the step η, finite and > 0; the k-th step moves η/k along −g/‖g‖
    /// [default: 1].
    #[arg(long, value_name = "ETA", allow_hyphen_values = true)]
    pub step: Option<f64>,
    /// Subgradient solver: return the last iterate w_k instead of the running average
    /// (w_0 + … + w_k)/(k + 1) of the iterates from w_0 = 0.
    #[arg(long)]
    pub no_averaging: bool,
    /// Subgradient solver: minimise C·Σ loss, without the regulariser ½‖w‖² (with -C 1: Σ
    /// loss, the textbook's unregularised objective); the report's objective is then C·Σ loss.
    #[arg(long, conflicts_with = "lambda")]
    pub no_regularizer: bool,
    /// Subgradient solver: stop after iteration k ≥ 2 when the objective at the point the
    /// subgradient is taken at changed by less than TOL since the previous iteration,
    /// |f(w_{k−1}) − f(w_{k−2})| < TOL (finite, > 0); the run reports "converged" without a
    /// certificate. Without it, every --max-iter iteration runs.
    #[arg(long, value_name = "TOL", allow_hyphen_values = true)]
    pub stop_loss_change: Option<f64>,
    /// Subgradient solver: the kink policy of its gradients, relu'(0) = R in [0, 1], for the
    /// engine's tape and the closed form alike. 1 counts a hinge example exactly on the margin
    /// as violated, 0 (the default, the min-norm policy) as satisfied.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub relu_at_zero: Option<f64>,
    /// Nesterov solver: run exactly --max-iter iterations, whatever --tol says (the report
    /// still says whether the last point meets --tol).
    #[arg(long)]
    pub fixed_iterations: bool,
}

impl TextbookArgs {
    /// `options` with these settings in [`TrainOptions::first_order`].
    ///
    /// # Errors
    /// [`CliError::Usage`] for a subgradient option without `--solver subgradient`,
    /// `--fixed-iterations` without `--solver nesterov`, or `--relu-at-zero` outside `[0, 1]`;
    /// the step and the stopping tolerance are checked by training
    /// ([`FirstOrderOptions::validate`]).
    pub fn apply<'a>(&self, options: TrainOptions<'a>) -> Result<TrainOptions<'a>, CliError> {
        let subgradient_only = [
            ("--step", self.step.is_some()),
            ("--no-averaging", self.no_averaging),
            ("--no-regularizer", self.no_regularizer),
            ("--stop-loss-change", self.stop_loss_change.is_some()),
            ("--relu-at-zero", self.relu_at_zero.is_some()),
        ];
        if options.solver != SolverKind::Subgradient {
            if let Some((flag, _)) = subgradient_only.iter().find(|(_, given)| *given) {
                return Err(CliError::Usage(format!(
                    "{flag} applies to --solver subgradient only"
                )));
            }
        }
        if self.fixed_iterations && options.solver != SolverKind::Nesterov {
            return Err(CliError::Usage(
                "--fixed-iterations applies to --solver nesterov only".into(),
            ));
        }
        let policy = match self.relu_at_zero {
            None => KinkPolicy::MinNorm,
            Some(r) => {
                KinkPolicy::Custom(CustomPolicy::builder().relu_at_zero(r).build().map_err(
                    |_| {
                        CliError::Usage(format!(
                            "--relu-at-zero {r}: relu'(0) must be a number in [0, 1]"
                        ))
                    },
                )?)
            }
        };
        let defaults = FirstOrderOptions::default();
        Ok(TrainOptions {
            first_order: FirstOrderOptions {
                step: self.step.unwrap_or(defaults.step),
                averaging: !self.no_averaging,
                regularize: !self.no_regularizer,
                stop_loss_change: self.stop_loss_change,
                policy,
                fixed_iterations: self.fixed_iterations,
            },
            ..options
        })
    }
}

/// `train`'s output with the objective named as the run was asked: `objective_form` says what
/// `objective` is, and a run asked in λ-form (`--lambda`) also gets the λ-form objective.
#[derive(Debug, Serialize)]
pub struct TextbookOutput<'a> {
    /// What `train` reports.
    #[serde(flatten)]
    pub train: TrainOutput<'a>,
    /// What `objective` is: `½‖w‖² + C·Σ loss`, or `C·Σ loss` with `--no-regularizer`.
    pub objective_form: &'static str,
    /// The `--stop-loss-change` tolerance, if the subgradient method had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_loss_change: Option<f64>,
}

/// The liblinear form's name.
const LIBLINEAR_FORM: &str = "½‖w‖² + C·Σ loss";

/// The form without the regulariser.
const UNREGULARIZED_FORM: &str = "C·Σ loss";

/// `out` with the objective's form and the stopping rule (the λ-form objective of a run asked
/// with `--lambda` is `train`'s: [`crate::train::TrainOutput::with_lambda`]).
///
/// # Example
/// ```
/// use subgrad_cli::textbook::output;
/// use subgrad_cli::train::{load, output as train_output, run_train};
/// use svm::data::CsvOptions;
/// use svm::model::TrainOptions;
/// let data = load("builtin:seed", &CsvOptions::default())?;
/// let lambda = 0.1;
/// let options = TrainOptions { c: 1.0 / (2.0 * 5.0 * lambda), ..TrainOptions::default() };
/// let report = run_train(&data, &options, false)?;
/// let out = output(train_output(&data, &options, &report, None).with_lambda(Some(lambda)), &options);
/// assert_eq!(out.train.lambda_objective, Some(2.0 * lambda * report.objective));
/// assert_eq!(out.objective_form, "½‖w‖² + C·Σ loss");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn output<'a>(train: TrainOutput<'a>, options: &TrainOptions) -> TextbookOutput<'a> {
    TextbookOutput {
        train,
        objective_form: if options.first_order.regularize {
            LIBLINEAR_FORM
        } else {
            UNREGULARIZED_FORM
        },
        stop_loss_change: options
            .first_order
            .stop_loss_change
            .filter(|_| options.solver == SolverKind::Subgradient),
    }
}

/// The human-readable report: `train`'s, with the objective named as computed and the
/// λ-form objective and the stopping rule added when they apply.
pub fn render(out: &TextbookOutput<'_>) -> String {
    let mut s = crate::train::render(&out.train);
    if out.objective_form == UNREGULARIZED_FORM {
        s = s.replacen(
            &format!("objective {LIBLINEAR_FORM}"),
            &format!("objective {UNREGULARIZED_FORM} (no regulariser)"),
            1,
        );
    }
    if let Some(tol) = out.stop_loss_change {
        s += &if out.train.report.converged {
            format!(
                "stopped: the loss changed by less than {tol} between iterations (or the \
                 subgradient was 0)\n"
            )
        } else {
            format!("the loss still changed by {tol} or more at the iteration limit\n")
        };
    }
    s
}
