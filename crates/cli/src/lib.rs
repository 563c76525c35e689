//! The library behind the `subgrad` command: the expression language of `grad`, the demo, the
//! training commands and the plots. The binary (`src/main.rs`) only parses arguments and prints;
//! everything it runs lives here, so tests and fuzz targets reach it too.

pub mod demo;
pub mod expr;
pub mod grad;
pub mod plots;
pub mod train;

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
    /// Reading data or training failed.
    #[error(transparent)]
    Svm(#[from] svm::Error),
    /// A loss rejected its input.
    #[error(transparent)]
    Loss(#[from] losses::Error),
    /// A command-line value is inconsistent with the data.
    #[error("{0}")]
    Usage(String),
    /// Serialising JSON failed.
    #[error("cannot serialise JSON: {0}")]
    Json(#[from] serde_json::Error),
}
