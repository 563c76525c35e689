//! `subgrad`: differentiate an expression at a kink and see what happened.

mod demo;
mod expr;
mod grad;
mod plots;

use std::process::ExitCode;

use autodiff::KinkPolicy;
use clap::{Parser, Subcommand, ValueEnum};

/// Errors of the command-line tool.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The expression could not be parsed or evaluated.
    #[error("{source}\n{pointer}")]
    Expr {
        /// The error, with its column.
        source: expr::ExprError,
        /// The expression with a caret under the column.
        pointer: String,
    },
    /// A variable of the expression has no `--at` value.
    #[error("no value for `{0}`: give --at {0}=VALUE")]
    MissingValue(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] autodiff::Error),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    /// Drawing a plot failed.
    #[error("cannot draw the plot: {0}")]
    Plot(String),
    /// A plot was asked along a variable the expression does not have.
    #[error("cannot plot along `{0}`: not a variable of the expression")]
    PlotVariable(String),
    /// Serialising JSON failed.
    #[error("cannot serialise JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Reverse-mode autodiff that is explicit at the kink.
#[derive(Debug, Parser)]
#[command(name = "subgrad", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The kink conventions `--policy` accepts.
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
    /// method, print the loss and the kinks hit per step, compare autodiff with the closed form,
    /// show every policy at the exact optimum, and write SVG plots.
    Demo {
        /// Iterations of the subgradient method.
        #[arg(long, default_value_t = 5000)]
        iterations: usize,
        /// Step size η (the k-th step has length η/k).
        #[arg(long, default_value_t = 4.0)]
        step: f64,
        /// Print every this many iterations.
        #[arg(long, default_value_t = 500)]
        every: usize,
        /// Folder for the plots.
        #[arg(long, default_value = "subgrad-demo")]
        out: std::path::PathBuf,
        /// Print one JSON object instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// Differentiate an expression at a point: value, gradient, kinks hit, one-sided derivatives.
    ///
    /// Grammar: numbers, variables, + - * /, unary minus, parentheses, relu(e), abs(e), exp(e),
    /// ln(e), sqrt(e), square(e), max(a, b) and min(a, b), and max/min of 3 or more arguments.
    #[command(after_help = "Example:\n  subgrad grad 'relu(x) - relu(-x)' --at x=0 --certified")]
    Grad {
        /// The expression, e.g. 'max(0, 1 - y*w*x)'.
        expression: String,
        /// A variable's value, NAME=VALUE (repeat for several variables).
        #[arg(long = "at", value_name = "NAME=VALUE", value_parser = grad::parse_assignment)]
        at: Vec<(String, f64)>,
        /// The kink convention used by the plain gradient.
        #[arg(long, value_enum, default_value = "min-norm")]
        policy: PolicyArg,
        /// Return a certified Clarke subgradient instead of the policy's per-op choice.
        #[arg(long)]
        certified: bool,
        /// Seed of the certified mode's random direction.
        #[arg(long, default_value_t = 0, requires = "certified")]
        seed: u64,
        /// Print one JSON object instead of the report.
        #[arg(long)]
        json: bool,
        /// Draw f along one variable (the first by default) as an SVG: the curve, the one-sided
        /// slopes at the point and the returned gradient's tangent.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<std::path::PathBuf>,
        /// The variable to plot along.
        #[arg(long, value_name = "NAME", requires = "plot")]
        along: Option<String>,
    },
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo {
            iterations,
            step,
            every,
            out,
            json,
        } => {
            let result = demo::run(iterations.max(1), step, every.max(1), &out)?;
            if json {
                println!("{}", serde_json::to_string(&result)?);
            } else {
                print!("{}", demo::render(&result));
            }
        }
        Command::Grad {
            expression,
            at,
            policy,
            certified,
            seed,
            json,
            plot,
            along,
        } => {
            let out = grad::run(&expression, &at, policy.into(), certified.then_some(seed))?;
            if let Some(path) = plot {
                let name = match along {
                    Some(n) if out.gradient.contains_key(&n) => n,
                    Some(n) => return Err(CliError::PlotVariable(n)),
                    None => match out.gradient.keys().next() {
                        Some(n) => n.clone(),
                        None => return Err(CliError::PlotVariable(String::from("(none)"))),
                    },
                };
                grad::plot(&expression, &at, &out, &name, &path)?;
                if !json {
                    println!("plot      {}", path.display());
                }
            }
            if json {
                println!("{}", serde_json::to_string(&out)?);
            } else {
                print!("{}", grad::render(&out));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
