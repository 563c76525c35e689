//! The losses crate's error type.

/// Invalid input to a loss.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A binary label is not ±1.
    #[error("label {value} of example {index} is not +1 or -1")]
    InvalidLabel {
        /// The example.
        index: usize,
        /// The label given.
        value: f64,
    },
    /// A class label is not below the number of classes.
    #[error("class {class} of example {index} is out of range for {classes} classes")]
    ClassOutOfRange {
        /// The example.
        index: usize,
        /// The class given.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// Two inputs that must agree in length do not.
    #[error("{what}: expected {expected} values, got {got}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        got: usize,
    },
    /// An input value is NaN or infinite.
    #[error("{what}: non-finite value at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// The index of the value.
        index: usize,
    },
    /// A parameter of a loss is out of its range (e.g. σ ≤ 0).
    #[error("parameter {name} = {value} is out of range ({range})")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The allowed range, in words.
        range: &'static str,
    },
    /// A set that must not be empty is (e.g. no positive example for the all-pairs loss).
    #[error("{what} is empty")]
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// The engine failed while building a loss on a tape.
    #[error(transparent)]
    Engine(#[from] autodiff::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn check_finite(what: &'static str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite { what, index }),
    }
}

pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

pub(crate) fn check_binary_labels<T: autodiff::Real>(y: &[T]) -> Result<()> {
    let (one, minus_one) = (T::cst(1.0), T::cst(-1.0));
    match y.iter().position(|&v| v != one && v != minus_one) {
        None => Ok(()),
        Some(index) => Err(Error::InvalidLabel {
            index,
            value: y[index].to_f64_lossless(),
        }),
    }
}

pub(crate) fn check_classes(labels: &[usize], classes: usize) -> Result<()> {
    match labels.iter().position(|&c| c >= classes) {
        None => Ok(()),
        Some(index) => Err(Error::ClassOutOfRange {
            index,
            class: labels[index],
            classes,
        }),
    }
}
