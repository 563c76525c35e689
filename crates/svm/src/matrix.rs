//! Feature matrices: dense row-major or compressed sparse rows (CSR), and a borrowed row of
//! either kind with the three kernels every solver needs (`w·x`, `w += a·x`, `‖x‖²`).
//!
//! A LIBSVM file becomes a [`Csr`] matrix (memory `O(non-zeros)`); CSV and the embedded sets
//! are dense. Solvers see rows only through [`Row`], so each is written once for both.

use crate::error::{Error, Result};

/// A compressed-sparse-row matrix: row `i` holds the non-zeros
/// `indices[indptr[i]..indptr[i+1]]` (0-based columns, strictly increasing) with
/// `values[indptr[i]..indptr[i+1]]`.
///
/// # Example
/// ```
/// use svm::matrix::Csr;
/// // [[1, 0, 2], [0, 0, 0], [0, 3, 0]]
/// let m = Csr::new(vec![0, 2, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0], 3)?;
/// assert_eq!((m.rows(), m.nnz()), (3, 3));
/// assert_eq!(m.row(0).dot(&[1.0, 1.0, 1.0]), 3.0);
/// assert!(Csr::new(vec![0, 2], vec![1, 0], vec![1.0, 1.0], 2).is_err()); // not increasing
/// # Ok::<(), svm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

impl Csr {
    /// A CSR matrix of `cols` columns, checked: `indptr` starts at 0, never decreases and ends
    /// at `indices.len() = values.len()`; each row's indices strictly increase and lie below
    /// `cols`; every value is finite.
    ///
    /// # Errors
    /// [`Error::InvalidMatrix`] naming what is wrong; [`Error::NonFiniteRow`] for a NaN or
    /// infinite value.
    pub fn new(
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f64>,
        cols: usize,
    ) -> Result<Csr> {
        let bad = |reason: String| Err(Error::InvalidMatrix(reason));
        if indptr.first() != Some(&0) {
            return bad("indptr must start with 0".into());
        }
        if indices.len() != values.len() || indptr.last() != Some(&indices.len()) {
            return bad(format!(
                "indptr ends at {:?}, with {} indices and {} values",
                indptr.last(),
                indices.len(),
                values.len()
            ));
        }
        for (row, w) in indptr.windows(2).enumerate() {
            if w[1] < w[0] {
                return bad(format!("indptr decreases at row {row}"));
            }
            let idx = &indices[w[0]..w[1]];
            if let Some(p) = idx.windows(2).position(|p| p[1] <= p[0]) {
                return bad(format!(
                    "row {row}: column {} after {}: columns must increase",
                    idx[p + 1],
                    idx[p]
                ));
            }
            if let Some(&j) = idx.last().filter(|&&j| j as usize >= cols) {
                return bad(format!("row {row}: column {j} ≥ {cols} columns"));
            }
            if let Some(k) = values[w[0]..w[1]].iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFiniteRow {
                    what: "feature value",
                    row,
                    value: values[w[0] + k],
                });
            }
        }
        Ok(Csr {
            indptr,
            indices,
            values,
        })
    }

    /// Number of rows.
    ///
    /// # Example
    /// ```
    /// let m = svm::matrix::Csr::new(vec![0, 1, 1], vec![2], vec![5.0], 3)?;
    /// assert_eq!((m.rows(), m.nnz()), (2, 1));
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of stored non-zeros (see [`Csr::rows`] for an example).
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i ≥ rows()` (a programmer error: see [`Csr::rows`]).
    #[track_caller]
    pub fn row(&self, i: usize) -> Row<'_> {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        Row::Sparse {
            indices: &self.indices[a..b],
            values: &self.values[a..b],
        }
    }

    /// The row offsets (`rows() + 1` of them).
    ///
    /// # Example
    /// ```
    /// let m = svm::matrix::Csr::new(vec![0, 1, 1], vec![2], vec![5.0], 3)?;
    /// assert_eq!((m.indptr(), m.indices(), m.values()), (&[0, 1, 1][..], &[2][..], &[5.0][..]));
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// The column of each non-zero (see [`Csr::indptr`] for an example).
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// The non-zero values (see [`Csr::indptr`] for an example).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Replaces each stored value `v` in column `j` by `f(j, v)` (the pattern stays fixed).
    pub(crate) fn map_values(&mut self, mut f: impl FnMut(usize, f64) -> f64) {
        for (v, &j) in self.values.iter_mut().zip(&self.indices) {
            *v = f(j as usize, *v);
        }
    }

    /// Builds row by row without re-checking (for the crate's readers, which check as they go).
    pub(crate) fn from_parts_unchecked(
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f64>,
    ) -> Csr {
        debug_assert_eq!(indptr.last(), Some(&indices.len()));
        Csr {
            indptr,
            indices,
            values,
        }
    }
}

/// The features of a data set: dense row-major `n × d`, or sparse rows.
///
/// # Example
/// ```
/// use svm::matrix::Features;
/// let dense = Features::from(vec![1.0, 0.0, 0.0, 2.0]);
/// assert_eq!(dense.row(1, 2).dot(&[3.0, 4.0]), 8.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Features {
    /// Row-major values, `n·d` of them.
    Dense(Vec<f64>),
    /// Compressed sparse rows.
    Sparse(Csr),
}

impl From<Vec<f64>> for Features {
    fn from(v: Vec<f64>) -> Self {
        Features::Dense(v)
    }
}

impl From<Csr> for Features {
    fn from(m: Csr) -> Self {
        Features::Sparse(m)
    }
}

impl Features {
    /// Row `i` of a matrix with `d` columns.
    ///
    /// # Panics
    /// If `i` is past the last row.
    #[track_caller]
    pub fn row(&self, i: usize, d: usize) -> Row<'_> {
        match self {
            Features::Dense(x) => Row::Dense(&x[i * d..(i + 1) * d]),
            Features::Sparse(m) => m.row(i),
        }
    }

    /// Stored values: `n·d` dense, the non-zeros sparse.
    ///
    /// # Example
    /// ```
    /// let d = svm::data::read_libsvm("1 1:1 9:2\n", "inline")?;
    /// assert_eq!((d.x.stored(), d.to_dense()?.x.stored()), (2, 9));
    /// assert!(d.x.is_sparse() && d.x.as_dense().is_none());
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn stored(&self) -> usize {
        match self {
            Features::Dense(x) => x.len(),
            Features::Sparse(m) => m.nnz(),
        }
    }

    /// Whether the rows are sparse (see [`Features::stored`] for an example).
    pub fn is_sparse(&self) -> bool {
        matches!(self, Features::Sparse(_))
    }

    /// The dense values if dense (see [`Features::stored`] for an example).
    pub fn as_dense(&self) -> Option<&[f64]> {
        match self {
            Features::Dense(x) => Some(x),
            Features::Sparse(_) => None,
        }
    }

    /// The rows at `rows` (each `< n`) of a matrix with `d` columns, in that order and in this
    /// layout; a sparse copy keeps only the non-zero values.
    ///
    /// # Panics
    /// If an index is past the last row.
    #[track_caller]
    pub(crate) fn select_rows(&self, rows: &[usize], d: usize) -> Features {
        match self {
            Features::Dense(x) => {
                let mut out = Vec::with_capacity(rows.len().saturating_mul(d));
                for &i in rows {
                    out.extend_from_slice(&x[i * d..(i + 1) * d]);
                }
                Features::Dense(out)
            }
            Features::Sparse(m) => {
                let mut indptr = Vec::with_capacity(rows.len() + 1);
                indptr.push(0);
                let (mut indices, mut values) = (Vec::new(), Vec::new());
                for &i in rows {
                    if let Row::Sparse {
                        indices: idx,
                        values: val,
                    } = m.row(i)
                    {
                        for (&j, &v) in idx.iter().zip(val).filter(|(_, v)| **v != 0.0) {
                            indices.push(j);
                            values.push(v);
                        }
                    }
                    indptr.push(indices.len());
                }
                // The rows of a valid matrix, in order: still sorted, in range and finite.
                Features::Sparse(Csr::from_parts_unchecked(indptr, indices, values))
            }
        }
    }
}

/// One row, dense or sparse. Indices at or past a weight vector's length are skipped by
/// [`Row::dot`] and [`Row::axpy`] (a feature the model does not know contributes nothing, as
/// in liblinear).
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// All `d` values.
    Dense(&'a [f64]),
    /// The non-zeros.
    Sparse {
        /// Their columns, increasing.
        indices: &'a [u32],
        /// Their values.
        values: &'a [f64],
    },
}

impl<'a> Row<'a> {
    /// `w·x`, summed in four partial sums: column `j` goes to sum `j mod 4`, and the result
    /// is `(s₀ + s₁) + (s₂ + s₃)`.
    ///
    /// A single running sum waits for each addition before the next (about four cycles
    /// each); four independent ones overlap. Because the partial sum of a column depends on
    /// its index alone, a sparse row gives the same bits as the same row stored dense:
    /// skipping a zero only skips adding a ±0 product, which leaves a sum unchanged.
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Row;
    /// let x = Row::Sparse { indices: &[0, 5], values: &[2.0, 7.0] };
    /// assert_eq!(x.dot(&[3.0, 1.0]), 6.0); // column 5 is past w: skipped
    /// let dense = Row::Dense(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    /// assert_eq!(dense.dot(&[1.0; 5]), 15.0);
    /// ```
    #[inline]
    pub fn dot(&self, w: &[f64]) -> f64 {
        let mut acc = [0.0f64; 4];
        match *self {
            Row::Dense(x) => return dense_dot(x, w),
            Row::Sparse { indices, values } => {
                for (&j, &v) in indices.iter().zip(values) {
                    if let Some(wj) = w.get(j as usize) {
                        acc[j as usize & 3] += v * wj;
                    }
                }
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }

    /// `w += a·x` (columns past `w` skipped).
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Row;
    /// let mut w = [1.0, 1.0];
    /// Row::Sparse { indices: &[1], values: &[3.0] }.axpy(2.0, &mut w);
    /// assert_eq!(w, [1.0, 7.0]);
    /// ```
    #[inline]
    pub fn axpy(&self, a: f64, w: &mut [f64]) {
        match *self {
            Row::Dense(x) => dense_axpy(a, x, w),
            Row::Sparse { indices, values } => {
                for (&j, &v) in indices.iter().zip(values) {
                    if let Some(wj) = w.get_mut(j as usize) {
                        *wj += a * v;
                    }
                }
            }
        }
    }

    /// Asks the CPU to start loading the row's stored values (and column indices) into cache —
    /// the first KiB of each —
    /// for a caller about to visit rows in an order the hardware cannot predict (dual
    /// coordinate descent's shuffled epochs). A hint only: no effect on any result.
    ///
    /// # Example
    /// ```
    /// let x = svm::matrix::Row::Dense(&[1.0, 2.0]);
    /// x.prefetch();
    /// assert_eq!(x.dot(&[1.0, 1.0]), 3.0);
    /// ```
    #[inline]
    pub fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            fn lines<T>(s: &[T]) {
                // The first 16 lines (1 KiB): a long row's rest is streamed by the hardware
                // prefetchers once its first lines are read, and all of it would crowd L1.
                let bytes = std::mem::size_of_val(s).min(16 * 64);
                let start = s.as_ptr().cast::<i8>();
                let mut off = 0;
                while off < bytes {
                    // SAFETY: SSE is part of x86-64; a prefetch reads nothing and never
                    // faults, and `off` stays inside the slice.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(off)) };
                    off += 64;
                }
            }
            match *self {
                Row::Dense(x) => lines(x),
                Row::Sparse { indices, values } => {
                    lines(indices);
                    lines(values);
                }
            }
        }
    }

    /// `‖x‖²`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(svm::matrix::Row::Dense(&[3.0, 4.0]).sq_norm(), 25.0);
    /// ```
    #[inline]
    pub fn sq_norm(&self) -> f64 {
        let v = match *self {
            Row::Dense(x) => x,
            Row::Sparse { values, .. } => values,
        };
        v.iter().map(|a| a * a).sum()
    }

    /// The stored `(column, value)` pairs (every column for a dense row).
    ///
    /// # Example
    /// ```
    /// use svm::matrix::Row;
    /// let x = Row::Sparse { indices: &[0, 4], values: &[1.0, 2.0] };
    /// assert_eq!(x.entries().collect::<Vec<_>>(), [(0, 1.0), (4, 2.0)]);
    /// assert_eq!(Row::Dense(&[0.0, 5.0]).entries().collect::<Vec<_>>(), [(0, 0.0), (1, 5.0)]);
    /// ```
    pub fn entries(self) -> impl Iterator<Item = (usize, f64)> + 'a {
        let (dense, idx, val): (&[f64], &[u32], &[f64]) = match self {
            Row::Dense(x) => (x, &[], &[]),
            Row::Sparse { indices, values } => (&[], indices, values),
        };
        dense
            .iter()
            .copied()
            .enumerate()
            .chain(idx.iter().map(|&j| j as usize).zip(val.iter().copied()))
    }
}

/// [`Row::dot`] of a dense row: four partial sums by column index `j mod 4`, added as
/// `(s₀ + s₁) + (s₂ + s₃)` — the sparse row's order, so both give the same bits. Compiled for
/// AVX2 when the CPU has it (the four sums are then one vector; the same operations, so the
/// same bits).
#[inline]
fn dense_dot(x: &[f64], w: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected on this CPU just above.
        return unsafe { dense_dot_avx2(x, w) };
    }
    dense_dot_with(x, w)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dense_dot_avx2(x: &[f64], w: &[f64]) -> f64 {
    dense_dot_with(x, w)
}

#[inline(always)]
fn dense_dot_with(x: &[f64], w: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let m = x.len().min(w.len());
    let (x, w) = (&x[..m], &w[..m]);
    let (xc, wc) = (x.chunks_exact(4), w.chunks_exact(4));
    let done = m / 4 * 4;
    for (a, b) in xc.zip(wc) {
        for k in 0..4 {
            acc[k] += a[k] * b[k];
        }
    }
    for (k, (a, b)) in x[done..].iter().zip(&w[done..]).enumerate() {
        acc[k] += a * b;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// [`Row::axpy`] of a dense row (elementwise, so the same bits at any vector width), AVX2 when
/// the CPU has it.
#[inline]
fn dense_axpy(a: f64, x: &[f64], w: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected on this CPU just above.
        return unsafe { dense_axpy_avx2(a, x, w) };
    }
    dense_axpy_with(a, x, w);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dense_axpy_avx2(a: f64, x: &[f64], w: &mut [f64]) {
    dense_axpy_with(a, x, w);
}

#[inline(always)]
fn dense_axpy_with(a: f64, x: &[f64], w: &mut [f64]) {
    for (wj, xj) in w.iter_mut().zip(x) {
        *wj += a * xj;
    }
}
