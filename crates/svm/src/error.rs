//! The `svm` crate's error type.

/// What can go wrong reading data or training.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A data file is malformed at a line and column.
    #[error("{source_name}:{line}:{column}: {message}")]
    Parse {
        /// The file (or built-in set) name.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A data file could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The system's message.
        message: String,
    },
    /// No built-in data set has this name.
    #[error("unknown built-in data set `{0}` (known: seed, breast_cancer, digits, iris)")]
    UnknownBuiltin(String),
    /// The data set has no example.
    #[error("the data set is empty")]
    Empty,
    /// A parameter is out of range.
    #[error("{name} = {value} is out of range ({range})")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The range, in words.
        range: &'static str,
    },
    /// Labels do not fit the task (e.g. a binary loss on three classes).
    #[error("labels: {0}")]
    Labels(String),
    /// Dimensions disagree (e.g. a model for 30 features applied to 4).
    #[error("{what}: expected {expected}, got {got}")]
    Dimension {
        /// What disagrees.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Actual size.
        got: usize,
    },
    /// The losses crate rejected the input.
    #[error(transparent)]
    Loss(#[from] losses::Error),
    /// The engine rejected the input.
    #[error(transparent)]
    Engine(#[from] autodiff::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
