//! `Data`: a validated, shared, immutable block of values, put on tapes without copying.

use std::sync::Arc;

use crate::{Error, Real, Result, Shape};

/// A block of finite values with a shape, checked once and shared by reference counting.
///
/// [`Tape::data`](crate::Tape::data) puts it on a tape as a constant without copying or
/// re-checking it: the way to use a large data matrix in a training loop that rebuilds its tape
/// every step. Cloning is an `Arc` clone.
///
/// # Example
/// ```
/// use autodiff::{Data, Shape, Tape};
/// # fn main() -> autodiff::Result<()> {
/// let x = Data::new(vec![1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
/// let tape = Tape::<f64>::new();
/// let xv = tape.data(&x);
/// let w = tape.param_vec(&[1.0, 0.0])?;
/// assert_eq!(xv.matvec(w).value(), vec![1.0, 3.0]);
/// assert!(Data::new(vec![f64::NAN], Shape::scalar()).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Data<T> {
    values: Arc<[T]>,
    shape: Shape,
}

impl<T: Real> Data<T> {
    /// Wraps `values` (row-major) with `shape` after checking the length and that every value is
    /// finite.
    ///
    /// # Errors
    /// [`Error::DataLength`] if `values` has not `shape.len()` elements; [`Error::NonFinite`] if a
    /// value is NaN or infinite.
    pub fn new(values: impl Into<Arc<[T]>>, shape: Shape) -> Result<Self> {
        let values = values.into();
        if values.len() != shape.len() {
            return Err(Error::DataLength {
                op: "data",
                shape,
                len: values.len(),
            });
        }
        check_finite("data", &values)?;
        Ok(Data { values, shape })
    }

    /// A vector; see [`Data::new`].
    ///
    /// # Errors
    /// [`Error::NonFinite`] if a value is NaN or infinite.
    pub fn vector(values: impl Into<Arc<[T]>>) -> Result<Self> {
        let values = values.into();
        let n = values.len();
        Self::new(values, Shape::vector(n))
    }

    /// The values, row-major.
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    pub(crate) fn shared(&self) -> &Arc<[T]> {
        &self.values
    }
}

/// Fails with [`Error::NonFinite`] naming the first NaN or infinite value.
pub(crate) fn check_finite<T: Real>(op: &'static str, values: &[T]) -> Result<()> {
    // One pass the compiler can vectorise; the culprit is located only on failure.
    if values.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    let index = values.iter().position(|v| !v.is_finite()).unwrap_or(0);
    Err(Error::NonFinite {
        op,
        index,
        value: values[index].to_f64_lossless(),
    })
}
