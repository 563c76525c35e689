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
    /// The largest `|value|`, found in the same pass as the finiteness check (the certified
    /// mode's magnitude bound of the data, so it never rescans it).
    max_abs: T,
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
        let max_abs = crate::ops::rule::max_abs(&values);
        Ok(Data {
            values,
            shape,
            max_abs,
        })
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

    pub(crate) fn max_abs(&self) -> T {
        self.max_abs
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

/// A constant compressed-sparse-row matrix, shared by reference count like [`Data`]: row `i`
/// holds the values `values[indptr[i]..indptr[i+1]]` in the columns
/// `indices[indptr[i]..indptr[i+1]]` (0-based, strictly increasing). Checked once at
/// construction; every tape it is used on borrows it without copying.
///
/// Use it with [`crate::Tape::sparse_matvec`]: `X·w` and its backward `Xᵀg` cost one pass over
/// the non-zeros, as a hand-written sparse loop.
///
/// # Example
/// ```
/// use autodiff::{SparseData, Tape};
/// # fn main() -> autodiff::Result<()> {
/// // [[1, 0, 2], [0, 3, 0]]
/// let x = SparseData::new(vec![0, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0], 3)?;
/// let tape = Tape::<f64>::new();
/// let w = tape.param_vec(&[1.0, 1.0, 1.0])?;
/// let f = tape.sparse_matvec(&x, w)?.sum();
/// let g = tape.backward(f)?;
/// assert_eq!(g.wrt(w), &[1.0, 3.0, 2.0]); // Xᵀ·1: the column sums
/// assert!(SparseData::new(vec![0, 2], vec![1, 1], vec![1.0, 1.0], 3).is_err()); // repeated column
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SparseData<T> {
    indptr: Arc<[usize]>,
    indices: Arc<[u32]>,
    values: Arc<[T]>,
    cols: usize,
    /// `maxᵢ Σⱼ |Xᵢⱼ|`, the certified mode's magnitude bound of `X·v` per unit of `v`'s.
    row_abs_sum_max: T,
}

impl<T: Real> SparseData<T> {
    /// Checks and wraps a CSR matrix of `cols` columns: `indptr` starts at 0, never decreases
    /// and ends at `indices.len() = values.len()`; each row's columns strictly increase and
    /// lie below `cols`; every value is finite.
    ///
    /// # Errors
    /// [`Error::SparseStructure`] naming the first inconsistency; [`Error::NonFinite`] for a
    /// NaN or infinite value (its position in `values`).
    pub fn new(indptr: Vec<usize>, indices: Vec<u32>, values: Vec<T>, cols: usize) -> Result<Self> {
        let bad = |m: String| Err(Error::SparseStructure(m));
        if indptr.first() != Some(&0) {
            return bad("the row offsets must start at 0".into());
        }
        if indices.len() != values.len() || indptr.last() != Some(&values.len()) {
            return bad(format!(
                "the row offsets end at {:?}, with {} columns and {} values",
                indptr.last(),
                indices.len(),
                values.len()
            ));
        }
        for (row, w) in indptr.windows(2).enumerate() {
            if w[1] < w[0] {
                return bad(format!("the row offsets decrease at row {row}"));
            }
            let idx = &indices[w[0]..w[1]];
            if idx.windows(2).any(|p| p[1] <= p[0]) {
                return bad(format!("row {row}: columns must strictly increase"));
            }
            if idx.last().is_some_and(|&j| j as usize >= cols) {
                return bad(format!("row {row}: a column is not below {cols}"));
            }
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                op: "sparse data",
                index,
                value: values[index].to_f64_lossless(),
            });
        }
        let row_abs_sum_max = indptr.windows(2).fold(T::zero(), |acc, w| {
            acc.max(values[w[0]..w[1]].iter().map(|v| v.abs()).sum())
        });
        Ok(SparseData {
            row_abs_sum_max,
            indptr: indptr.into(),
            indices: indices.into(),
            values: values.into(),
            cols,
        })
    }

    /// Number of rows.
    ///
    /// # Example
    /// ```
    /// let x = autodiff::SparseData::new(vec![0, 1, 1], vec![2], vec![5.0_f64], 3)?;
    /// assert_eq!((x.rows(), x.cols(), x.nnz()), (2, 3, 1));
    /// # Ok::<(), autodiff::Error>(())
    /// ```
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns (see [`SparseData::rows`] for an example).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of stored values (see [`SparseData::rows`] for an example).
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn row_abs_sum_max(&self) -> T {
        self.row_abs_sum_max
    }

    /// Row `i` as (columns, values).
    #[inline]
    pub(crate) fn row(&self, i: usize) -> (&[u32], &[T]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    /// `out[i] = x_{first+i}·v` for the rows `first..first + out.len()` (or only where
    /// `need[first + i]`): every row from `first = 0`, a block of rows for `ops::parallel`.
    pub(crate) fn matvec(&self, first: usize, v: &[T], need: Option<&[bool]>, out: &mut [T]) {
        for (i, o) in out.iter_mut().enumerate() {
            if need.is_none_or(|n| n[first + i]) {
                let (idx, val) = self.row(first + i);
                let mut s = T::zero();
                for (&j, &x) in idx.iter().zip(val) {
                    s += x * v[j as usize];
                }
                *o = s;
            }
        }
    }

    /// `gv += Σᵢ g[i]·x_{first+i}` over the rows `first..first + g.len()`: `Xᵀ·g` from
    /// `first = 0` with every row, a block's partial sum for `ops::parallel`.
    pub(crate) fn matvec_transpose_add(&self, first: usize, g: &[T], gv: &mut [T]) {
        for (i, &gi) in g.iter().enumerate() {
            if gi != T::zero() {
                let (idx, val) = self.row(first + i);
                for (&j, &x) in idx.iter().zip(val) {
                    gv[j as usize] += gi * x;
                }
            }
        }
    }
}
