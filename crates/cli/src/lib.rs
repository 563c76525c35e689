//! The library behind the `subgrad` command: one module per command (`demo`, `grad`, `check`,
//! and `train` for `train`, `predict` and `cv`), the expression language of `grad` (`expr`),
//! `train`'s options for textbook runs (`textbook`), the plot of `grad --plot` (`grad_plot`), `grad`'s Clarke set (`subdifferential`, with the
//! hull geometry in `hull`) and the demo's plots with the SVG helpers (`plots`).
//! The binary (`src/main.rs`) only parses arguments and prints; everything it runs lives here,
//! so tests and fuzz targets reach it too.

pub mod check;
pub mod demo;
pub mod expr;
pub mod grad;
pub mod grad_plot;
pub mod hull;
pub mod plots;
pub mod subdifferential;
pub mod textbook;
pub mod train;

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed to
/// disk, then renamed over `path`. A failed write (a full disk, a file-size limit) leaves an
/// existing file at `path` untouched, never truncated.
///
/// # Errors
/// [`CliError::Write`] naming `path`.
///
/// # Example
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.json");
/// subgrad_cli::write_atomic(&path, b"{}")?;
/// assert_eq!(std::fs::read(&path)?, b"{}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write as _;
    let fail = |source| CliError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Reads a text file, naming it in the error.
///
/// # Errors
/// [`CliError::Read`] naming `path`.
pub fn read_text(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// [`CliError::Stdout`]; a closed pipe (`subgrad demo | head -1`) is
/// `CliError::Stdout` with [`std::io::ErrorKind::BrokenPipe`], which the binary turns into a
/// quiet exit, as Unix tools do.
pub fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)
}

/// `a, b, c`, or `none`.
fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

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
    /// A variable was given two `--at` values.
    #[error("`{0}` is given twice with --at: give each variable one value")]
    DuplicateValue(String),
    /// An `--at` names a variable the expression does not have.
    #[error("--at {name}: `{name}` is not a variable of the expression (its variables: {})", list_or_none(.variables))]
    UnknownVariable {
        /// The name given.
        name: String,
        /// The expression's variables, in order of appearance.
        variables: Vec<String>,
    },
    /// A plot file whose extension is not `.svg`.
    #[error(
        "cannot write {}: plots are written as SVG only, so give a file ending in .svg \
         (PNG would need a raster font compiled into the binary and an image encoder, which \
         this build leaves out; convert the SVG instead, e.g. `rsvg-convert -o plot.png plot.svg`)",
        .path.display()
    )]
    PlotFormat {
        /// The file asked for.
        path: std::path::PathBuf,
    },
    /// A numeric option is outside its range.
    #[error("{option} {value}: {expected}")]
    OutOfRange {
        /// The option, e.g. `--step`.
        option: &'static str,
        /// The value given.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// `grad --subdifferential` met a kink outside the class whose exact set it computes.
    #[error(
        "--subdifferential: the kink `{expr}` (columns {}–{}) is outside the class whose set is \
         computed exactly (independent convex kinks of two branches): {source}",
        .columns[0], .columns[1]
    )]
    NotZonotope {
        /// The tied sub-expression.
        expr: String,
        /// Its first and last column.
        columns: [usize; 2],
        /// The engine's reason.
        source: autodiff::Error,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] autodiff::Error),
    /// Writing to standard output failed (other than a closed pipe, which ends the program
    /// quietly).
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    /// A file or folder could not be written; an existing file of that name is left as it was.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path.
        path: std::path::PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: std::path::PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// Drawing a plot failed.
    #[error("cannot draw the plot: {0}")]
    Plot(String),
    /// A plot was asked along a variable the expression does not have.
    #[error("cannot plot along `{0}`: not a variable of the expression")]
    PlotVariable(String),
    /// A model file was read but is not a valid model.
    #[error("{path}: {source}")]
    Model {
        /// The model file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        source: svm::Error,
    },
    /// A data set cannot be used with a model (e.g. a label the model does not know).
    #[error("{data}: {source}")]
    Data {
        /// The data set as given on the command line.
        data: String,
        /// What is wrong.
        source: svm::Error,
    },
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
