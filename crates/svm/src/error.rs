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
    #[error("{name} = {value:?} is out of range ({range})")]
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
    /// The data has no feature column and no bias feature, so every score is 0 and no solver
    /// has anything to fit.
    #[error("the data has no features: add feature columns, or a bias feature (liblinear's -B)")]
    NoFeatures,
    /// A value of the input is NaN or infinite, or a score computed from it is.
    #[error("row {row}: {what} {value} is not finite")]
    NonFiniteRow {
        /// What is not finite: `feature value`, `label` or `score`.
        what: &'static str,
        /// 0-based row.
        row: usize,
        /// The value.
        value: f64,
    },
    /// Training produced a number that is not finite: the data or `C` is too large for `f64`.
    #[error("{what} = {value} is not finite: the data or C is too large for f64 (scale the features down or lower C)")]
    NonFinite {
        /// What is not finite (e.g. `objective`, `weight`, `certificate`).
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// A label to score against is not one of the model's classes.
    #[error("data row {} (counting from 1): label {label} is not one of the model's classes {classes:?}", .row + 1)]
    UnknownLabel {
        /// 0-based row.
        row: usize,
        /// The label.
        label: f64,
        /// The model's classes.
        classes: Vec<f64>,
    },
    /// A model (e.g. one read from JSON) is inconsistent.
    #[error("invalid model: `{field}` {reason}")]
    InvalidModel {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The dense `rows × features` matrix would hold more than [`crate::data::MAX_DENSE_ELEMENTS`]
    /// values (or its size overflows).
    #[error("{rows} rows × {features} features is more than the {limit} values a dense matrix may hold: keep the data sparse (a LIBSVM file) or use a solver that works on sparse rows")]
    TooLarge {
        /// Rows read.
        rows: usize,
        /// Features (the largest feature index).
        features: usize,
        /// The limit, [`crate::data::MAX_DENSE_ELEMENTS`].
        limit: usize,
    },
    /// A CSR matrix is malformed.
    #[error("invalid sparse matrix: {0}")]
    InvalidMatrix(String),
    /// More feature columns than a sparse index holds.
    #[error("{features} features is more than the {limit} a feature index may reach")]
    TooManyColumns {
        /// The number asked for.
        features: usize,
        /// [`crate::data::MAX_FEATURE_INDEX`].
        limit: usize,
    },
    /// A solver cannot handle this many features (or, for Crammer–Singer, weights `k·d`).
    #[error("{solver} factors a {features} × {features} matrix; it takes at most {limit} (dual coordinate descent, the sequential dual and Nesterov factor none)")]
    TooManyFeatures {
        /// The solver.
        solver: &'static str,
        /// The order of the matrix it would factor: the features, or the weights `k·d`.
        features: usize,
        /// Its limit.
        limit: usize,
    },
    /// A solver or training mode does not handle the chosen loss.
    #[error("{solver} handles {supported}, not {loss}")]
    Unsupported {
        /// The solver or mode.
        solver: &'static str,
        /// The losses it handles, in words.
        supported: &'static str,
        /// The loss given.
        loss: String,
    },
    /// A training option applies to another solver or mode than the one chosen (e.g. the
    /// objective without its regulariser, which only the subgradient method minimises).
    #[error("{option} applies to {applies_to} only")]
    NotApplicable {
        /// The option.
        option: &'static str,
        /// The solver or mode it applies to.
        applies_to: &'static str,
    },
    /// A row index is past the end of the data set.
    #[error("row index {index} is out of range for {n} rows")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// Number of rows.
        n: usize,
    },
    /// Cross-validation needs between 2 and `n` folds.
    #[error("{k} folds for {n} rows: cross-validation needs 2 ≤ folds ≤ rows")]
    InvalidFolds {
        /// Folds asked for.
        k: usize,
        /// Rows.
        n: usize,
    },
    /// Cross-validation over an empty grid of `C`.
    #[error("the grid of C values is empty")]
    EmptyGrid,
    /// A cross-validation fold cannot be trained or scored.
    #[error("fold {fold} of {folds}: {reason}; use fewer folds")]
    Fold {
        /// 1-based fold.
        fold: usize,
        /// Number of folds.
        folds: usize,
        /// What is wrong with it.
        reason: String,
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
