//! The engine's error type.

use crate::{NodeId, Shape};

/// Everything that can go wrong while building a tape or differentiating it.
///
/// Messages are lowercase and name the operation that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two operands have shapes the operation cannot combine.
    #[error("{op}: shape mismatch between {lhs} and {rhs}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Shape of the left operand.
        lhs: Shape,
        /// Shape of the right operand.
        rhs: Shape,
    },
    /// An operand has a rank or size the operation does not accept.
    #[error("{op}: expected {expected}, got shape {shape}")]
    InvalidShape {
        /// The operation.
        op: &'static str,
        /// What the operation needs, in words.
        expected: &'static str,
        /// The shape it got.
        shape: Shape,
    },
    /// The data given for a leaf does not have as many elements as its shape.
    #[error("{op}: shape {shape} needs {} values, got {len}", shape.len())]
    DataLength {
        /// The operation (`param` or `constant`).
        op: &'static str,
        /// The declared shape.
        shape: Shape,
        /// The number of values given.
        len: usize,
    },
    /// A handle that belongs to another tape was passed to this one.
    #[error("{op}: variable belongs to another tape")]
    ForeignVar {
        /// The operation.
        op: &'static str,
    },
    /// `backward` was started from a node that is not a single number.
    #[error("backward: the output must hold exactly one element, got shape {shape}")]
    NotScalar {
        /// The shape of the node backward was started from.
        shape: Shape,
    },
    /// The gradients were asked for a node that is a constant, or a node of another tape.
    #[error("gradients: node {node} has no gradient (a constant, or a node of another tape)")]
    NoGradient {
        /// Index of the node on its tape.
        node: usize,
    },
    /// The gradients were asked for a node created after the backward pass that computed them.
    #[error("gradients: node {node} was created after this backward pass; run backward again")]
    StaleGradients {
        /// Index of the node on its tape.
        node: usize,
    },
    /// A shape's element count `rows × cols` does not fit in `usize`.
    #[error("shape: {rows} × {cols} elements overflow the address space")]
    ShapeOverflow {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
    },
    /// The memory for a node's values could not be allocated.
    #[error("{op}: cannot allocate {elements} values ({bytes} bytes)")]
    Allocation {
        /// The operation whose output did not fit.
        op: &'static str,
        /// Values asked for.
        elements: usize,
        /// Bytes asked for (saturating).
        bytes: usize,
    },
    /// Backward reached a custom operation whose author gave no backward rule.
    #[error("backward: custom op `{op}` has no backward rule")]
    MissingBackward {
        /// The custom operation's name.
        op: String,
    },
    /// The certified mode or a directional derivative needed the forward-mode rule of a custom
    /// operation that has none.
    #[error("tangent: custom op `{op}` has no tangent rule")]
    MissingTangent {
        /// The custom operation's name.
        op: String,
    },
    /// A custom operation reported a failure of its own.
    #[error("custom op `{op}`: {message}")]
    Custom {
        /// The custom operation's name.
        op: String,
        /// What the operation said.
        message: String,
    },
    /// An input value was NaN or infinite where a finite number is required.
    #[error("{op}: non-finite value {value} at element {index}")]
    NonFinite {
        /// The operation (`param`, `constant`, `backward`, or the op whose output overflowed).
        op: &'static str,
        /// Flat element index.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// An input lies outside the operation's domain (e.g. `ln` of a non-positive number).
    #[error("{op}: input {value} at element {index} is outside the domain ({domain})")]
    Domain {
        /// The operation.
        op: &'static str,
        /// Flat element index.
        index: usize,
        /// The offending input.
        value: f64,
        /// The domain, in words.
        domain: &'static str,
    },
    /// An index (e.g. of `gather`) is out of range.
    #[error("{op}: index {index} at row {row} is out of range for {len} columns")]
    IndexOutOfRange {
        /// The operation.
        op: &'static str,
        /// The row whose index is bad.
        row: usize,
        /// The bad index.
        index: usize,
        /// The number of valid positions.
        len: usize,
    },
    /// A sparse matrix's structure is inconsistent (offsets, column order or range).
    #[error("sparse matrix: {0}")]
    SparseStructure(String),
    /// An operation that needs at least one element or operand got none.
    #[error("{op}: empty input")]
    Empty {
        /// The operation.
        op: &'static str,
    },
    /// A parameter of an operation or of a policy is invalid (e.g. `clamp` with `lo > hi`).
    #[error("{op}: invalid {what} {value}")]
    InvalidArgument {
        /// The operation or policy.
        op: &'static str,
        /// Which argument.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A range `start..end` is reversed or runs past the end (of `slice` or `slice_rows`).
    #[error("{op}: range {start}..{end} is invalid for length {len} (need start ≤ end ≤ {len})")]
    InvalidRange {
        /// The operation.
        op: &'static str,
        /// The range's first position.
        start: usize,
        /// The range's end (exclusive).
        end: usize,
        /// The number of positions (a vector's elements, a matrix's rows).
        len: usize,
    },
    /// The exact subdifferential met a tie whose value feeds another tie (or is fed by one):
    /// the tied pieces are not independent, and their sum of segments is not the set.
    #[error(
        "subdifferential: the tie of {op} at node {node}, element {element}, is nested in \
         another tie (one feeds the other), so the set is not a sum of independent segments"
    )]
    NestedTies {
        /// The kink primitive.
        op: &'static str,
        /// The kink node.
        node: NodeId,
        /// The tied element.
        element: usize,
    },
    /// The exact subdifferential met a tie where more than two branches meet (an n-ary max or
    /// a reduction with three or more tied inputs): its set is a simplex, not a segment.
    #[error(
        "subdifferential: {count} branches of {op} tie at node {node}, element {element}; only \
         ties of two branches are supported"
    )]
    ManyPieces {
        /// The kink primitive.
        op: &'static str,
        /// The kink node.
        node: NodeId,
        /// The tied element.
        element: usize,
        /// The number of tied branches.
        count: usize,
    },
    /// The exact subdifferential met a tie that enters the output concavely (a convex kink with
    /// a negative weight, or a concave one with a positive weight): sums of such ties can
    /// cancel, and their sum of segments may be larger than the set.
    #[error(
        "subdifferential: the tie of {op} at node {node}, element {element}, enters the output \
         with weight {weight} and is not convex there (convex kinks need a weight ≥ 0, concave \
         ones ≤ 0)"
    )]
    NonConvexTie {
        /// The kink primitive.
        op: &'static str,
        /// The kink node.
        node: NodeId,
        /// The tied element.
        element: usize,
        /// The output's derivative with respect to the tied element.
        weight: f64,
    },
    /// The exact subdifferential met a tie that is not piecewise affine (`norm` at the zero
    /// vector, whose set is a ball).
    #[error("subdifferential: the tie of {op} at node {node} is curved (its set is a ball, not a segment)")]
    CurvedTie {
        /// The kink primitive.
        op: &'static str,
        /// The kink node.
        node: NodeId,
    },
}

/// `Result` with the engine's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
