//! Shapes of tape values: scalars, vectors and row-major matrices.

use std::fmt;

use crate::{Error, Result};

/// The shape of a value on the tape: a scalar, a vector of length `n`, or an `rows × cols` matrix
/// stored row-major.
///
/// # Broadcasting
/// Elementwise operations (`+ − * /`, `max`/`min` and `max_n`/`min_n`) combine shapes by one
/// rule, on either side:
///
/// ```text
/// equal shapes                      s      op s        → s
/// a scalar                          []     op s        → s         every element reads it
/// a vector along the columns        [r, c] op [c]      → [r, c]    element (i, j) reads vⱼ
///           or along the rows       [r, c] op [r]      → [r, c]    element (i, j) reads vᵢ
/// a one-row or one-column matrix    [r, c] op [1, c]   → [r, c]    element (i, j) reads vⱼ
///                                   [r, c] op [r, 1]   → [r, c]    element (i, j) reads vᵢ
/// ```
/// For a square matrix, where a vector's length is both `r` and `c`, the vector goes along the
/// columns (element `(i, j)` reads `vⱼ`), as numpy broadcasts along the last axis; reshape it
/// to `[r, 1]` to put it along the rows. Any other pair of shapes is
/// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch), naming both. A broadcast operand's
/// gradient is the sum over the elements that read each of its entries.
///
/// # Example
/// ```
/// use autodiff::Shape;
/// let m = Shape::matrix(3, 4);
/// assert_eq!(m.len(), 12);
/// assert_eq!(m.rows(), 3);
/// assert_eq!(m.to_string(), "[3, 4]");
/// assert!(Shape::scalar().is_scalar());
/// ```
///
/// ```
/// use autodiff::{Shape, Tape};
/// # fn main() -> autodiff::Result<()> {
/// let tape = Tape::<f64>::new();
/// let m = tape.param(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))?;
/// let v = tape.param_vec(&[10.0, 20.0])?;
/// assert_eq!((m + v).value(), vec![11.0, 22.0, 13.0, 24.0]); // square: along the columns
/// let rows = v.reshape(Shape::matrix(2, 1));
/// assert_eq!((m + rows).value(), vec![11.0, 12.0, 23.0, 24.0]); // [2, 1]: along the rows
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    rows: usize,
    cols: usize,
    rank: u8,
}

impl Shape {
    /// The shape of a single number (rank 0, one element).
    pub const fn scalar() -> Self {
        Shape {
            rows: 1,
            cols: 1,
            rank: 0,
        }
    }

    /// The shape of a vector with `n` elements (rank 1).
    pub const fn vector(n: usize) -> Self {
        Shape {
            rows: n,
            cols: 1,
            rank: 1,
        }
    }

    /// The shape of a `rows × cols` matrix stored row-major (rank 2).
    ///
    /// # Panics
    /// If `rows × cols` overflows `usize`; [`Shape::try_matrix`] is the fallible twin, for sizes
    /// that come from input.
    #[track_caller]
    pub const fn matrix(rows: usize, cols: usize) -> Self {
        if rows.checked_mul(cols).is_none() {
            panic!("shape: rows × cols elements overflow the address space");
        }
        Shape {
            rows,
            cols,
            rank: 2,
        }
    }

    /// The shape of a `rows × cols` matrix, or an error if its element count overflows.
    ///
    /// # Errors
    /// [`Error::ShapeOverflow`] if `rows × cols` does not fit in `usize`.
    ///
    /// # Example
    /// ```
    /// use autodiff::Shape;
    /// assert_eq!(Shape::try_matrix(3, 4)?.len(), 12);
    /// assert!(Shape::try_matrix(1 << 63, 2).is_err());
    /// # Ok::<(), autodiff::Error>(())
    /// ```
    pub const fn try_matrix(rows: usize, cols: usize) -> Result<Self> {
        if rows.checked_mul(cols).is_none() {
            return Err(Error::ShapeOverflow { rows, cols });
        }
        Ok(Shape {
            rows,
            cols,
            rank: 2,
        })
    }

    /// Number of dimensions: 0 (scalar), 1 (vector) or 2 (matrix).
    pub const fn rank(&self) -> usize {
        self.rank as usize
    }

    /// Number of elements (it cannot overflow: the constructors check `rows × cols`).
    pub const fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether the shape holds no element (a vector of length 0 or a matrix with a zero side).
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is the rank-0 scalar shape.
    pub const fn is_scalar(&self) -> bool {
        self.rank == 0
    }

    /// Rows: the length of a vector, the row count of a matrix, 1 for a scalar.
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// Columns of a matrix; 1 for a vector or a scalar.
    pub const fn cols(&self) -> usize {
        self.cols
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rank {
            0 => write!(f, "[]"),
            1 => write!(f, "[{}]", self.rows),
            _ => write!(f, "[{}, {}]", self.rows, self.cols),
        }
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
