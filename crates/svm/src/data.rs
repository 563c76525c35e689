//! Data sets: LIBSVM and CSV readers, the embedded sets, standardisation and seeded splits.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::matrix::{Csr, Features, Row};

/// A data set: `n` rows of `d` features, dense or sparse ([`Features`]), and one label per row.
///
/// LIBSVM files are read sparse (memory `O(non-zeros)`), CSV files and the embedded sets dense;
/// every solver and prediction works on both, with the same results.
///
/// # Example
/// ```
/// let seed = svm::data::builtin("seed")?;
/// assert_eq!((seed.n(), seed.d), (5, 2));
/// assert_eq!(seed.labels, vec![1.0, 1.0, -1.0, -1.0, -1.0]);
/// assert_eq!(seed.row(0).dot(&[1.0, 1.0]), 1.0);
/// # Ok::<(), svm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Features: dense row-major `n × d`, or CSR with columns below `d`.
    pub x: Features,
    /// Number of features.
    pub d: usize,
    /// One label per row.
    pub labels: Vec<f64>,
}

impl Dataset {
    /// A dense data set from row-major values.
    ///
    /// # Errors
    /// As [`Dataset::check`].
    ///
    /// # Example
    /// ```
    /// let d = svm::data::Dataset::dense(vec![1.0, 2.0, 3.0, 4.0], 2, vec![1.0, -1.0])?;
    /// assert_eq!(d.row(1).dot(&[1.0, 1.0]), 7.0);
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn dense(x: Vec<f64>, d: usize, labels: Vec<f64>) -> Result<Dataset> {
        let data = Dataset {
            x: Features::Dense(x),
            d,
            labels,
        };
        data.check()?;
        Ok(data)
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i ≥ n`, or `x` does not hold `n` rows (see [`Dataset::check`]).
    #[track_caller]
    pub fn row(&self, i: usize) -> Row<'_> {
        self.x.row(i, self.d)
    }

    /// The column count after a bias column of `b`, checked: `b` finite, at most
    /// [`MAX_FEATURE_INDEX`] columns.
    fn with_bias_checked(&self, b: f64) -> Result<usize> {
        if !b.is_finite() {
            return Err(Error::InvalidParameter {
                name: "bias",
                value: b,
                range: "finite",
            });
        }
        self.d
            .checked_add(1)
            .filter(|&d| d <= MAX_FEATURE_INDEX)
            .ok_or(Error::TooManyColumns {
                features: self.d.saturating_add(1),
                limit: MAX_FEATURE_INDEX,
            })
    }

    /// Checks that `x` holds exactly `n` rows of `d` columns.
    fn check_shape(&self) -> Result<()> {
        check_shape(&self.x, self.d, self.n())
    }

    /// Checks the data set: `x` holds exactly `n` rows of `d` columns, and every value and
    /// label is finite. The readers only build data sets that pass; [`crate::model::train`]
    /// and prediction check the ones built by hand.
    ///
    /// # Errors
    /// [`Error::Dimension`] if the shape is wrong; [`Error::NonFiniteRow`] naming the first
    /// row with a NaN or infinite feature value or label.
    ///
    /// # Example
    /// ```
    /// use svm::data::Dataset;
    /// let bad = Dataset { x: vec![1.0, f64::NAN].into(), d: 1, labels: vec![1.0, -1.0] };
    /// assert_eq!(bad.check().unwrap_err().to_string(), "row 1: feature value NaN is not finite");
    /// ```
    pub fn check(&self) -> Result<()> {
        check_features(&self.x, self.d, self.n())?;
        if let Some(row) = self.labels.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteRow {
                what: "label",
                row,
                value: self.labels[row],
            });
        }
        Ok(())
    }

    /// The distinct labels, sorted.
    pub fn classes(&self) -> Vec<f64> {
        let mut c = self.labels.clone();
        c.sort_by(f64::total_cmp);
        c.dedup();
        c
    }

    /// Builds a data set of the same kind (dense or sparse) from `rows` rows of this one,
    /// each mapped to `(column, value)` pairs with increasing columns below `d`.
    fn rebuild<I, F>(&self, rows: I, d: usize, labels: Vec<f64>, mut row: F) -> Dataset
    where
        I: Iterator<Item = usize>,
        F: FnMut(usize, &mut Vec<(usize, f64)>),
    {
        let mut buf = Vec::new();
        let x = match &self.x {
            Features::Dense(_) => {
                let mut x = Vec::with_capacity(labels.len().saturating_mul(d));
                for i in rows {
                    buf.clear();
                    row(i, &mut buf);
                    let start = x.len();
                    x.resize(start + d, 0.0);
                    for &(j, v) in &buf {
                        x[start + j] = v;
                    }
                }
                Features::Dense(x)
            }
            Features::Sparse(_) => {
                let mut indptr = Vec::with_capacity(labels.len() + 1);
                indptr.push(0);
                let (mut indices, mut values) = (Vec::new(), Vec::new());
                for i in rows {
                    buf.clear();
                    row(i, &mut buf);
                    for &(j, v) in &buf {
                        if v != 0.0 {
                            // j < d ≤ MAX_FEATURE_INDEX + 1, checked by the callers.
                            indices.push(j as u32);
                            values.push(v);
                        }
                    }
                    indptr.push(indices.len());
                }
                Features::Sparse(Csr::from_parts_unchecked(indptr, indices, values))
            }
        };
        Dataset { x, d, labels }
    }

    /// The rows at `idx`, in that order, dense or sparse as this one.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for an index `≥ n`; [`Error::Dimension`] if the shape is
    /// wrong.
    pub fn subset(&self, idx: &[usize]) -> Result<Dataset> {
        self.check_shape()?;
        if let Some(&index) = idx.iter().find(|&&i| i >= self.n()) {
            return Err(Error::IndexOutOfRange { index, n: self.n() });
        }
        let labels = idx.iter().map(|&i| self.labels[i]).collect();
        Ok(Dataset {
            x: self.x.select_rows(idx, self.d),
            d: self.d,
            labels,
        })
    }

    /// A copy with exactly `features` columns: columns past it dropped, missing ones zero (as
    /// liblinear predicts on a file with more or fewer features than its model).
    ///
    /// # Errors
    /// [`Error::Dimension`] if the shape is wrong; [`Error::TooLarge`] if a dense copy would
    /// hold more than [`MAX_DENSE_ELEMENTS`] values; [`Error::TooManyColumns`] if `features`
    /// exceeds [`MAX_FEATURE_INDEX`].
    ///
    /// # Example
    /// ```
    /// let d = svm::data::read_libsvm("1 1:1 3:2\n-1 2:5\n", "inline")?;
    /// let two = d.with_features(2)?;
    /// assert_eq!((two.d, two.row(0).dot(&[1.0, 1.0])), (2, 1.0));
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn with_features(&self, features: usize) -> Result<Dataset> {
        self.check_shape()?;
        if features == self.d {
            return Ok(self.clone());
        }
        if features > MAX_FEATURE_INDEX {
            return Err(Error::TooManyColumns {
                features,
                limit: MAX_FEATURE_INDEX,
            });
        }
        if !self.x.is_sparse() {
            dense_len(self.n(), features)?;
        }
        Ok(
            self.rebuild(0..self.n(), features, self.labels.clone(), |i, out| {
                out.extend(self.row(i).entries().filter(|&(j, _)| j < features));
            }),
        )
    }

    /// The columns holding a stored value and the rows re-indexed onto them, when the rows are
    /// sparse and at most half of the `d` columns are used; `None` otherwise.
    ///
    /// Training on the compact copy gives the same model as on `self`: a column no row uses
    /// gets weight 0 in every solver (`w = Σ αᵢyᵢxᵢ` in the duals, and its gradient is `wⱼ`,
    /// zero from the start, in the primal methods), so only the used columns need a weight.
    /// Memory `O(non-zeros)`, time `O(nnz·log nnz)`; nothing proportional to `d`.
    ///
    /// # Example
    /// ```
    /// let d = svm::data::read_libsvm("1 1:1 30000000:1\n-1 1:1\n", "inline")?;
    /// let (compact, columns) = d.compact_columns().expect("2 of 3·10⁷ columns used");
    /// assert_eq!((columns, compact.d), (vec![0, 29_999_999], 2));
    /// assert_eq!(compact.row(0).dot(&[1.0, 10.0]), 11.0);
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn compact_columns(&self) -> Option<(Dataset, Vec<usize>)> {
        let Features::Sparse(m) = &self.x else {
            return None;
        };
        let mut used = m.indices().to_vec();
        used.sort_unstable();
        used.dedup();
        if used.len() > self.d / 2 {
            return None;
        }
        // Each index becomes its rank among the used columns; rows stay sorted (the map is
        // increasing) and in range, so the checks of `Csr::new` hold by construction.
        let indices = m
            .indices()
            .iter()
            .map(|j| used.binary_search(j).unwrap_or_default() as u32)
            .collect();
        let x = Csr::from_parts_unchecked(m.indptr().to_vec(), indices, m.values().to_vec());
        let columns = used.iter().map(|&j| j as usize).collect();
        Some((
            Dataset {
                x: Features::Sparse(x),
                d: used.len(),
                labels: self.labels.clone(),
            },
            columns,
        ))
    }

    /// A dense copy (a sparse one densified, at most [`MAX_DENSE_ELEMENTS`] values).
    ///
    /// # Errors
    /// [`Error::TooLarge`] past the limit; [`Error::Dimension`] if the shape is wrong.
    ///
    /// # Example
    /// ```
    /// let d = svm::data::read_libsvm("1 2:3\n", "inline")?;
    /// assert_eq!(d.to_dense()?.x, vec![0.0, 3.0].into());
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn to_dense(&self) -> Result<Dataset> {
        self.check_shape()?;
        if !self.x.is_sparse() {
            return Ok(self.clone());
        }
        let len = dense_len(self.n(), self.d)?;
        let mut x = vec![0.0; len];
        for i in 0..self.n() {
            for (j, v) in self.row(i).entries() {
                x[i * self.d + j] = v;
            }
        }
        Ok(Dataset {
            x: Features::Dense(x),
            d: self.d,
            labels: self.labels.clone(),
        })
    }

    /// [`Dataset::to_dense`] and, with `bias`, [`Dataset::with_bias`] in one copy (no
    /// intermediate one): the dense rows followed by a column of `b`.
    ///
    /// # Errors
    /// As [`Dataset::to_dense`] and [`Dataset::with_bias`].
    pub(crate) fn to_dense_with_bias(&self, bias: Option<f64>) -> Result<Dataset> {
        let Some(b) = bias else {
            return self.to_dense();
        };
        let with = self.with_bias_checked(b)?;
        self.check_shape()?;
        let len = dense_len(self.n(), with)?;
        let mut x = vec![0.0; len];
        for (i, row) in x.chunks_exact_mut(with).enumerate() {
            for (j, v) in self.row(i).entries() {
                row[j] = v;
            }
            row[with - 1] = b;
        }
        Ok(Dataset {
            x: Features::Dense(x),
            d: with,
            labels: self.labels.clone(),
        })
    }

    /// A sparse copy: the rows in compressed-sparse-row form with their zeros dropped (a
    /// sparse one is cloned as it is). Memory O(non-zeros) beside the input.
    ///
    /// # Errors
    /// [`Error::Dimension`] if the shape is wrong; [`Error::TooManyColumns`] past
    /// [`MAX_FEATURE_INDEX`] columns; [`Error::NonFiniteRow`] for a NaN or infinite value.
    ///
    /// # Example
    /// ```
    /// use svm::data::Dataset;
    /// let d = Dataset { x: vec![0.0, 3.0, 4.0, 0.0].into(), d: 2, labels: vec![1.0, -1.0] };
    /// let s = d.to_sparse()?;
    /// assert!(s.x.is_sparse());
    /// assert_eq!(s.x.stored(), 2);
    /// assert_eq!(s.to_dense()?, d);
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn to_sparse(&self) -> Result<Dataset> {
        self.check_shape()?;
        if self.x.is_sparse() {
            return Ok(self.clone());
        }
        if self.d > MAX_FEATURE_INDEX {
            return Err(Error::TooManyColumns {
                features: self.d,
                limit: MAX_FEATURE_INDEX,
            });
        }
        let mut indptr = Vec::with_capacity(self.n() + 1);
        indptr.push(0);
        let (mut indices, mut values) = (Vec::new(), Vec::new());
        for i in 0..self.n() {
            for (j, v) in self.row(i).entries().filter(|e| e.1 != 0.0) {
                // In range: j < d ≤ MAX_FEATURE_INDEX = u32::MAX.
                indices.push(j as u32);
                values.push(v);
            }
            indptr.push(indices.len());
        }
        Ok(Dataset {
            x: Csr::new(indptr, indices, values, self.d)?.into(),
            d: self.d,
            labels: self.labels.clone(),
        })
    }

    /// Labels as ±1 for a binary task: already ±1, or two classes mapped smaller → −1,
    /// larger → +1.
    ///
    /// # Errors
    /// [`Error::Labels`] if there are not exactly two classes.
    pub fn binary_labels(&self) -> Result<Vec<f64>> {
        let c = self.classes();
        if c.len() != 2 {
            return Err(Error::Labels(format!(
                "a binary task needs 2 classes, found {}",
                c.len()
            )));
        }
        Ok(self
            .labels
            .iter()
            .map(|&l| if l == c[1] { 1.0 } else { -1.0 })
            .collect())
    }

    /// One-vs-rest labels for `class`: +1 for it, −1 for the others.
    pub fn one_vs_rest(&self, class: f64) -> Vec<f64> {
        self.labels
            .iter()
            .map(|&l| if l == class { 1.0 } else { -1.0 })
            .collect()
    }

    /// A copy with a constant feature `b` appended to every row (liblinear's `-B b`), dense
    /// or sparse as this one.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `b` is not finite; [`Error::Dimension`] if the shape is
    /// wrong; [`Error::TooManyColumns`] past [`MAX_FEATURE_INDEX`] columns.
    pub fn with_bias(&self, b: f64) -> Result<Dataset> {
        let d = self.with_bias_checked(b)?;
        self.check_shape()?;
        if !self.x.is_sparse() {
            dense_len(self.n(), d)?;
        }
        Ok(self.rebuild(0..self.n(), d, self.labels.clone(), |i, out| {
            out.extend(self.row(i).entries());
            out.push((d - 1, b));
        }))
    }
}

/// Checks that `x` holds exactly `n` rows of `d` columns.
fn check_shape(x: &Features, d: usize, n: usize) -> Result<()> {
    match x {
        Features::Dense(x) => match n.checked_mul(d) {
            Some(len) if len == x.len() => Ok(()),
            expected => Err(Error::Dimension {
                what: "x (n·d)",
                expected: expected.unwrap_or(usize::MAX),
                got: x.len(),
            }),
        },
        Features::Sparse(m) => {
            if m.rows() != n {
                return Err(Error::Dimension {
                    what: "x (sparse rows, one per label)",
                    expected: n,
                    got: m.rows(),
                });
            }
            match m.indices().iter().max() {
                Some(&j) if j as usize >= d => Err(Error::Dimension {
                    what: "features (a sparse column is past d)",
                    expected: d,
                    got: j as usize + 1,
                }),
                _ => Ok(()),
            }
        }
    }
}

/// Checks `n` rows of `d` features: the shape, and every value finite.
pub(crate) fn check_features(x: &Features, d: usize, n: usize) -> Result<()> {
    check_shape(x, d, n)?;
    for i in 0..n {
        if let Some((_, value)) = x.row(i, d).entries().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFiniteRow {
                what: "feature value",
                row: i,
                value,
            });
        }
    }
    Ok(())
}

/// `rows · cols` if a dense matrix of that size is allowed ([`MAX_DENSE_ELEMENTS`]).
fn dense_len(rows: usize, cols: usize) -> Result<usize> {
    rows.checked_mul(cols)
        .filter(|&len| len <= MAX_DENSE_ELEMENTS)
        .ok_or(Error::TooLarge {
            rows,
            features: cols,
            limit: MAX_DENSE_ELEMENTS,
        })
}

fn parse_err(source: &str, line: usize, column: usize, message: impl Into<String>) -> Error {
    Error::Parse {
        source_name: source.to_string(),
        line,
        column,
        message: message.into(),
    }
}

fn number(source: &str, line: usize, column: usize, text: &str) -> Result<f64> {
    let v: f64 = text
        .parse()
        .map_err(|_| parse_err(source, line, column, format!("`{text}` is not a number")))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(parse_err(
            source,
            line,
            column,
            format!("`{text}` is not finite"),
        ))
    }
}

/// The most values a dense copy of a data set may hold: 2²⁸ `f64` (2 GiB).
///
/// Sparse rows list only the non-zero values, so a few short lines can stand for a huge dense
/// `rows × largest index` matrix; [`Dataset::to_dense`] (and the first-order solvers, which
/// need dense rows) return [`Error::TooLarge`] past this limit instead of allocating it.
pub const MAX_DENSE_ELEMENTS: usize = 1 << 28;

/// The largest feature index [`read_libsvm`] accepts (`u32::MAX`, as in liblinear, whose
/// indices are C `int`s).
pub const MAX_FEATURE_INDEX: usize = u32::MAX as usize;

/// A UTF-8 byte order mark, which some editors write at the start of a file.
const BOM: char = '\u{feff}';

/// Reads LIBSVM text: `label index:value …` per line, indices 1-based and increasing, zeros
/// omitted; blank lines and `#` comments are skipped; a UTF-8 byte order mark at the start is
/// ignored. `source` names the input in errors.
///
/// The result is sparse (CSR, built in one pass, memory `O(non-zeros)`; explicit zeros are
/// dropped), with `d` the largest index.
///
/// # Errors
/// [`Error::Parse`] naming the line and column of a bad label, index or value (an index above
/// [`MAX_FEATURE_INDEX`] included); [`Error::Empty`] if no row was read.
///
/// # Example
/// ```
/// let data = svm::data::read_libsvm("+1 1:0.5 3:2\n-1 2:1\n", "inline")?;
/// assert_eq!(data.d, 3);
/// assert_eq!(data.to_dense()?.x, vec![0.5, 0.0, 2.0, 0.0, 1.0, 0.0].into());
/// assert_eq!(data.x.stored(), 3); // only the non-zeros
/// let err = svm::data::read_libsvm("+1 0:1\n", "bad.libsvm").unwrap_err();
/// assert_eq!(err.to_string(), "bad.libsvm:1:4: feature index 0: indices start at 1");
/// # Ok::<(), svm::Error>(())
/// ```
pub fn read_libsvm(text: &str, source: &str) -> Result<Dataset> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut rows = LibsvmRows::default();
    for (ln, raw) in text.lines().enumerate() {
        rows.push(source, ln + 1, raw)?;
    }
    rows.finish()
}

/// [`read_libsvm`] on text read line by line from `reader` (a file, standard input), so that
/// only one line is held at a time besides the rows read so far.
///
/// # Errors
/// As [`read_libsvm`]; [`Error::Io`] if `reader` fails or a line is not UTF-8.
///
/// # Example
/// ```
/// let data = svm::data::read_libsvm_from("+1 1:0.5 3:2\r\n-1 2:1".as_bytes(), "inline")?;
/// assert_eq!((data.n(), data.d, data.x.stored()), (2, 3, 3));
/// # Ok::<(), svm::Error>(())
/// ```
pub fn read_libsvm_from(mut reader: impl std::io::BufRead, source: &str) -> Result<Dataset> {
    let mut rows = LibsvmRows::default();
    let mut buf = String::new();
    for line in 1.. {
        buf.clear();
        let read = reader.read_line(&mut buf).map_err(|e| Error::Io {
            path: source.to_string(),
            message: e.to_string(),
        })?;
        if read == 0 {
            break;
        }
        // As `str::lines`: without the line feed and a carriage return before it.
        let raw = buf.strip_suffix('\n').unwrap_or(&buf);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let raw = if line == 1 {
            raw.strip_prefix(BOM).unwrap_or(raw)
        } else {
            raw
        };
        rows.push(source, line, raw)?;
    }
    rows.finish()
}

/// The rows [`read_libsvm`] has read so far, as CSR parts.
struct LibsvmRows {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
    labels: Vec<f64>,
    d: usize,
}

impl Default for LibsvmRows {
    fn default() -> Self {
        LibsvmRows {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            labels: Vec::new(),
            d: 0,
        }
    }
}

impl LibsvmRows {
    /// Line `line` (1-based) of `source`, without its line ending: a row, or nothing for a
    /// blank or comment line.
    fn push(&mut self, source: &str, line: usize, raw: &str) -> Result<()> {
        let LibsvmRows {
            indptr,
            indices,
            values,
            labels,
            d,
        } = self;
        // Each field as (1-based character column, text).
        let mut fields: Vec<(usize, &str)> = Vec::new();
        let content = raw.split('#').next().unwrap_or("");
        // One pass over the line, counting characters as it goes, so the columns cost O(length)
        // in all (not a recount from the line's start per field).
        let mut start = None;
        for (column, (i, ch)) in (1..).zip(content.char_indices()) {
            match (ch.is_whitespace(), start) {
                (false, None) => start = Some((i, column)),
                (true, Some((s, c))) => {
                    fields.push((c, &content[s..i]));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some((s, c)) = start {
            fields.push((c, &content[s..]));
        }
        let Some(&(lcol, ltext)) = fields.first() else {
            return Ok(());
        };
        if ltext.contains(':') {
            return Err(parse_err(
                source,
                line,
                lcol,
                "missing label before the features",
            ));
        }
        labels.push(number(source, line, lcol, ltext)?);
        let mut last = 0;
        for &(col, f) in &fields[1..] {
            let (idx, val) = f
                .split_once(':')
                .ok_or_else(|| parse_err(source, line, col, format!("`{f}` is not index:value")))?;
            let index = feature_index(source, line, col, idx)?;
            if index <= last {
                return Err(parse_err(
                    source,
                    line,
                    col,
                    format!("feature index {index} after {last}: indices must increase"),
                ));
            }
            last = index;
            // The index parsed as digits (ASCII), so its byte length is its character count.
            let value = number(source, line, col + idx.len() + 1, val)?;
            if value != 0.0 {
                // index ≤ MAX_FEATURE_INDEX = u32::MAX, so index − 1 fits.
                indices.push((index - 1) as u32);
                values.push(value);
            }
            *d = (*d).max(index);
        }
        indptr.push(indices.len());
        Ok(())
    }

    /// The rows read, as a sparse data set with `d` the largest index.
    fn finish(self) -> Result<Dataset> {
        if self.labels.is_empty() {
            return Err(Error::Empty);
        }
        Ok(Dataset {
            x: Features::Sparse(Csr::from_parts_unchecked(
                self.indptr,
                self.indices,
                self.values,
            )),
            d: self.d,
            labels: self.labels,
        })
    }
}

/// A LIBSVM feature index: digits, from 1 to [`MAX_FEATURE_INDEX`].
fn feature_index(source: &str, line: usize, column: usize, idx: &str) -> Result<usize> {
    let too_large = || {
        parse_err(
            source,
            line,
            column,
            format!("feature index {idx} is above the largest accepted, {MAX_FEATURE_INDEX}"),
        )
    };
    let index: usize = idx.parse().map_err(|e: std::num::ParseIntError| {
        if *e.kind() == std::num::IntErrorKind::PosOverflow {
            too_large()
        } else {
            parse_err(
                source,
                line,
                column,
                format!("`{idx}` is not a feature index"),
            )
        }
    })?;
    if index == 0 {
        return Err(parse_err(
            source,
            line,
            column,
            "feature index 0: indices start at 1",
        ));
    }
    if index > MAX_FEATURE_INDEX {
        return Err(too_large());
    }
    Ok(index)
}

/// Which CSV column holds the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelColumn {
    /// By 0-based position.
    Index(usize),
    /// By header name (the file must have a header).
    Name(String),
    /// The last column.
    Last,
}

/// Whether the first line of a CSV file is a header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Header {
    /// Decide from the first line: every field non-numeric → a header, every field numeric →
    /// data; a line that mixes the two is an error (a data row with an empty field or a typo
    /// must not be dropped as a header), and one of the other options says which it is.
    #[default]
    Auto,
    /// The first line is a header.
    Present,
    /// There is no header: the first line is data.
    Absent,
}

/// How [`read_csv`] reads a file: the header rule and the label column.
///
/// The default is [`Header::Auto`] with the label in the last column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Whether the first line is a header.
    pub header: Header,
    /// Which column holds the label.
    pub label: LabelColumn,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: Header::Auto,
            label: LabelColumn::Last,
        }
    }
}

/// Whether `field` reads as a number (for the header rule; finiteness is checked on data).
fn is_numeric(field: &str) -> bool {
    field.trim().parse::<f64>().is_ok()
}

/// [`Header::Auto`]'s rule on the first non-blank line (`line`): `true` for a header.
fn auto_header(source: &str, line: usize, first: &str) -> Result<bool> {
    let fields: Vec<&str> = first.split(',').collect();
    let numeric = fields.iter().filter(|f| is_numeric(f)).count();
    if numeric == fields.len() {
        return Ok(false);
    }
    if numeric == 0 {
        return Ok(true);
    }
    // A mix: point at the first field of the minority kind (ties: the first non-number, as a
    // data row with a typo is the likelier mistake).
    let names = fields.len() - numeric;
    let odd_is_number = numeric < names;
    let odd = fields
        .iter()
        .position(|f| is_numeric(f) == odd_is_number)
        .unwrap_or(0);
    let column = 1 + fields[..odd]
        .iter()
        .map(|f| f.chars().count() + 1)
        .sum::<usize>();
    let what = if odd_is_number {
        "a number but other fields are not"
    } else {
        "not a number but other fields are"
    };
    Err(parse_err(
        source,
        line,
        column,
        format!(
            "`{}` (field {}) is {what}: is line {line} a header or data? \
             say which (`--header` or `--no-header`; Header::Present or Header::Absent)",
            fields[odd].trim(),
            odd + 1
        ),
    ))
}

/// Reads CSV: comma-separated numbers, one row per line; blank lines are skipped and a UTF-8
/// byte order mark at the start is ignored. `options` says whether the first line is a
/// header ([`Header::Auto`] decides from it) and which column holds the label.
///
/// # Errors
/// [`Error::Parse`] with line and column for a bad number or a ragged row, for a first line
/// that mixes names and numbers under [`Header::Auto`], and for an unknown label column (a
/// [`LabelColumn::Name`] without a header included); [`Error::Empty`] if no row was read.
///
/// # Example
/// ```
/// use svm::data::{read_csv, CsvOptions, Header, LabelColumn};
/// let by_name = CsvOptions { label: LabelColumn::Name("y".into()), ..CsvOptions::default() };
/// let data = read_csv("a,b,y\n1,2,1\n3,4,-1\n", "inline", &by_name)?;
/// assert_eq!((data.n(), data.d), (2, 2));
/// assert_eq!(data.labels, vec![1.0, -1.0]);
/// assert!(read_csv("1,2\n3\n", "ragged.csv", &CsvOptions::default()).is_err());
/// // A first row with an empty field is neither a header nor data until told.
/// let err = read_csv("1,,1\n2,3,1\n", "gap.csv", &CsvOptions::default()).unwrap_err();
/// assert!(err.to_string().starts_with("gap.csv:1:3: `` (field 2) is not a number"));
/// let absent = CsvOptions { header: Header::Absent, ..CsvOptions::default() };
/// assert!(read_csv("1,,1\n2,3,1\n", "gap.csv", &absent).is_err()); // and not a number
/// # Ok::<(), svm::Error>(())
/// ```
pub fn read_csv(text: &str, source: &str, options: &CsvOptions) -> Result<Dataset> {
    read_csv_named(text, source, options, None).map(|(data, _)| data)
}

/// Reads CSV as [`read_csv`] does, with labels that may be names (`yes`, `no`, `setosa`): the
/// class names, when the labels are names, beside the data.
///
/// The label column is read as numbers when every label is a number and `known` is `None`
/// (the names are then `None`). Otherwise every label is a name: with `known` (a model's
/// [`crate::model::Model::class_names`]) label `l` becomes the index of `l` in `known`; without
/// it the distinct names are sorted (byte order, as scikit-learn's `LabelEncoder` sorts them)
/// and label `l` becomes its index among them, so the classes are `0, 1, …` in that order.
///
/// # Errors
/// As [`read_csv`]; [`Error::Parse`] naming the line and column of a label that is not one of
/// `known`; [`Error::Labels`] for more than [`MAX_CLASS_NAMES`] distinct names.
///
/// # Example
/// ```
/// use svm::data::{read_csv_named, CsvOptions};
/// let text = "x,label\n1,yes\n2,no\n3,yes\n";
/// let (data, names) = read_csv_named(text, "inline", &CsvOptions::default(), None)?;
/// assert_eq!(names, Some(vec!["no".to_string(), "yes".to_string()]));
/// assert_eq!(data.labels, vec![1.0, 0.0, 1.0]);
/// // Against a model's names: the model's order, whatever the file's.
/// let known = ["yes".to_string(), "no".to_string()];
/// let (data, _) = read_csv_named("x,label\n4,no\n", "inline", &CsvOptions::default(), Some(&known))?;
/// assert_eq!(data.labels, vec![1.0]);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn read_csv_named(
    text: &str,
    source: &str,
    options: &CsvOptions,
    known: Option<&[String]>,
) -> Result<(Dataset, Option<Vec<String>>)> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let Some(&(first_ln, first)) = lines.peek() else {
        return Err(Error::Empty);
    };
    let first_line = first_ln + 1;
    let is_header = match options.header {
        Header::Present => true,
        Header::Absent => false,
        Header::Auto => auto_header(source, first_line, first)?,
    };
    let header: Option<Vec<&str>> = is_header.then(|| first.split(',').map(str::trim).collect());
    if is_header {
        lines.next();
    }
    let width = match (&header, lines.peek()) {
        (Some(h), _) => h.len(),
        (None, Some((_, row))) => row.split(',').count(),
        (None, None) => return Err(Error::Empty),
    };
    let label_at = match &options.label {
        LabelColumn::Index(i) if *i < width => *i,
        LabelColumn::Index(i) => {
            return Err(parse_err(
                source,
                first_line,
                1,
                format!("no column {i} (0-based) for the label: the file has {width}"),
            ))
        }
        LabelColumn::Last => width - 1,
        LabelColumn::Name(name) => {
            let Some(h) = &header else {
                return Err(parse_err(
                    source,
                    first_line,
                    1,
                    format!(
                        "the label column is named `{name}` but the file has no header \
                         (pass Header::Present if line {first_line} is one)"
                    ),
                ));
            };
            let mut at = h.iter().enumerate().filter(|(_, c)| *c == name);
            match (at.next(), at.next()) {
                (Some((i, _)), None) => i,
                (None, _) => {
                    return Err(parse_err(
                        source,
                        first_line,
                        1,
                        format!("no column named `{name}`"),
                    ))
                }
                (Some(_), Some(_)) => {
                    return Err(parse_err(
                        source,
                        first_line,
                        1,
                        format!("more than one column is named `{name}`"),
                    ))
                }
            }
        }
    };
    let mut x = Vec::new();
    // Each label's text with its line and column, decided on once every row is read.
    let mut raw_labels: Vec<(&str, usize, usize)> = Vec::new();
    for (ln, raw) in lines {
        let line = ln + 1;
        let fields: Vec<&str> = raw.split(',').collect();
        if fields.len() != width {
            return Err(parse_err(
                source,
                line,
                raw.chars().count() + 1,
                format!("{} fields, expected {width}", fields.len()),
            ));
        }
        let mut column = 1;
        for (k, f) in fields.iter().enumerate() {
            if k == label_at {
                raw_labels.push((f.trim(), line, column));
            } else {
                x.push(number(source, line, column, f.trim())?);
            }
            column += f.chars().count() + 1;
        }
    }
    if raw_labels.is_empty() {
        return Err(Error::Empty);
    }
    let numeric = known.is_none() && raw_labels.iter().all(|(t, ..)| t.parse::<f64>().is_ok());
    let (labels, names) = if numeric {
        let labels = raw_labels
            .iter()
            .map(|&(t, line, column)| number(source, line, column, t))
            .collect::<Result<Vec<f64>>>()?;
        (labels, None)
    } else {
        let names: Vec<String> = match known {
            Some(k) => k.to_vec(),
            None => {
                let mut names: Vec<&str> = raw_labels.iter().map(|(t, ..)| *t).collect();
                names.sort_unstable();
                names.dedup();
                if names.len() > MAX_CLASS_NAMES {
                    return Err(Error::Labels(format!(
                        "{} distinct label names; at most {MAX_CLASS_NAMES} classes are read by name",
                        names.len()
                    )));
                }
                names.into_iter().map(str::to_string).collect()
            }
        };
        // The names sorted with their class index: each label found by binary search.
        let mut lookup: Vec<(&str, usize)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        lookup.sort_unstable();
        let labels = raw_labels
            .iter()
            .map(
                |&(t, line, column)| match lookup.binary_search_by(|p| p.0.cmp(t)) {
                    Ok(at) => Ok(lookup[at].1 as f64),
                    Err(_) => Err(parse_err(
                        source,
                        line,
                        column,
                        format!("label `{t}` is not one of the model's classes {names:?}"),
                    )),
                },
            )
            .collect::<Result<Vec<f64>>>()?;
        (labels, Some(names))
    };
    Ok((
        Dataset {
            x: Features::Dense(x),
            d: width - 1,
            labels,
        },
        names,
    ))
}

/// The most distinct label names [`read_csv_named`] maps to classes.
pub const MAX_CLASS_NAMES: usize = 1 << 16;

/// Reads a file by extension with the default options: `.csv` as CSV ([`CsvOptions::default`]:
/// header detected, label in the last column), anything else as LIBSVM.
///
/// # Errors
/// As [`read_file_with`].
pub fn read_file(path: &std::path::Path) -> Result<Dataset> {
    read_file_with(path, &CsvOptions::default())
}

/// Reads a file by extension: `.csv` as CSV with `csv` options, anything else as LIBSVM (which
/// has no options).
///
/// # Errors
/// [`Error::Io`] if it cannot be read (or is not UTF-8); the readers' errors.
pub fn read_file_with(path: &std::path::Path, csv: &CsvOptions) -> Result<Dataset> {
    read_file_named(path, csv, None).map(|(data, _)| data)
}

/// Reads a file as [`read_file_with`] does, a CSV file's label names included (see
/// [`read_csv_named`]; a LIBSVM file's labels are numbers, so its names are `None`).
///
/// # Errors
/// As [`read_file_with`] and [`read_csv_named`].
pub fn read_file_named(
    path: &std::path::Path,
    csv: &CsvOptions,
    known: Option<&[String]>,
) -> Result<(Dataset, Option<Vec<String>>)> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| Error::Io {
        path: name.clone(),
        message: e.to_string(),
    };
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let text = std::fs::read_to_string(path).map_err(io)?;
        read_csv_named(&text, &name, csv, known)
    } else {
        // Line by line: the text is never held whole.
        let file = std::fs::File::open(path).map_err(io)?;
        Ok((
            read_libsvm_from(std::io::BufReader::new(file), &name)?,
            None,
        ))
    }
}

/// The embedded data sets: name, description with source and licence.
pub const BUILTINS: [(&str, &str); 4] = [
    ("seed", "five 2-D points, y = +1, +1, −1, −1, −1 (this project's seed problem)"),
    ("breast_cancer", "569 × 30, ±1; Breast Cancer Wisconsin (Diagnostic), UCI ML Repository, CC BY 4.0"),
    ("digits", "1797 × 64, classes 0…9; Optical Recognition of Handwritten Digits, UCI ML Repository, CC BY 4.0"),
    ("iris", "150 × 4, classes 0, 1, 2; Iris, UCI ML Repository (R. A. Fisher), CC BY 4.0"),
];

/// An embedded data set by name (see [`BUILTINS`]).
///
/// # Errors
/// [`Error::UnknownBuiltin`].
pub fn builtin(name: &str) -> Result<Dataset> {
    let text = match name {
        "seed" => {
            return Dataset::dense(
                vec![0.0, 1.0, 1.0, 2.0, 3.0, 0.0, 4.0, 1.0, 1.0, 1.0],
                2,
                vec![1.0, 1.0, -1.0, -1.0, -1.0],
            )
        }
        "breast_cancer" => include_str!("../data/breast_cancer.libsvm"),
        "digits" => include_str!("../data/digits.libsvm"),
        "iris" => include_str!("../data/iris.libsvm"),
        other => return Err(Error::UnknownBuiltin(other.to_string())),
    };
    // Stored as LIBSVM text, used dense (they are dense data).
    read_libsvm(text, &format!("builtin:{name}"))?.to_dense()
}

/// Per-feature mean and population standard deviation (ddof 0), fitted on training data.
///
/// ```text
/// dense:  x'ⱼ = (xⱼ − μⱼ)/σⱼ,   σⱼ = √(mean (xⱼ − μⱼ)²);   a constant feature (σⱼ = 0) maps to 0
/// sparse: x'ⱼ = xⱼ/σⱼ           (scaled, not centred: the zeros stay zero and unstored)
/// ```
///
/// On sparse data the fit stores `mean = 0` (scikit-learn's `StandardScaler(with_mean=False)`):
/// centring would make every zero non-zero. `σⱼ` is still the true standard deviation.
///
/// # Example
/// ```
/// use svm::data::{read_libsvm, Dataset, Standardizer};
/// let d = Dataset::dense(vec![1.0, 5.0, 3.0, 5.0], 2, vec![1.0, -1.0])?;
/// let s = Standardizer::fit(&d)?;
/// assert_eq!(s.transform(&d)?.x, vec![-1.0, 0.0, 1.0, 0.0].into());
/// // Sparse: column 1 holds 0 and 4 (σ = 2), so 4 ↦ 2; nothing is centred.
/// let sparse = read_libsvm("1 1:4\n-1 2:1\n", "inline")?;
/// let s = Standardizer::fit(&sparse)?;
/// assert_eq!((s.mean.clone(), s.std.clone()), (vec![0.0, 0.0], vec![2.0, 0.5]));
/// assert_eq!(s.transform(&sparse)?.to_dense()?.x, vec![2.0, 0.0, 0.0, 2.0].into());
/// # Ok::<(), svm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Means (all 0 when fitted on sparse data: no centring).
    pub mean: Vec<f64>,
    /// Population standard deviations.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits on `data`: the mean and population standard deviation of every column (zeros of
    /// sparse rows included), storing mean 0 for sparse data (see the type's docs).
    ///
    /// The squares are taken of `(xⱼ − μⱼ)/s`, `s` a power of two near `max |xⱼ − μⱼ|`, so
    /// values up to `f64::MAX/2` do not overflow them (and the scaling is exact).
    ///
    /// # Errors
    /// [`Error::Dimension`] if the shape is wrong; [`Error::NonFinite`] if a mean or standard
    /// deviation is not finite (a NaN or infinite value, or values beyond `±f64::MAX/2`).
    pub fn fit(data: &Dataset) -> Result<Standardizer> {
        data.check_shape()?;
        let (rows, d) = (data.n(), data.d);
        let n = rows.max(1) as f64;
        let mut mean = vec![0.0; d];
        let mut count = vec![0_usize; d];
        for i in 0..rows {
            for (j, v) in data.row(i).entries() {
                mean[j] += v / n;
                count[j] += 1;
            }
        }
        // Columns with fewer stored entries than rows hold zeros too.
        let mut largest: Vec<f64> = (0..d)
            .map(|j| if count[j] < rows { mean[j].abs() } else { 0.0 })
            .collect();
        for i in 0..rows {
            for (j, v) in data.row(i).entries() {
                largest[j] = largest[j].max((v - mean[j]).abs());
            }
        }
        let scale: Vec<f64> = largest
            .iter()
            .map(|&a| {
                if a > 0.0 && a.is_finite() {
                    2f64.powi(a.log2().floor() as i32)
                } else {
                    1.0
                }
            })
            .collect();
        let mut var: Vec<f64> = (0..d)
            .map(|j| {
                let t = mean[j] / scale[j];
                (rows - count[j]) as f64 * (t * t / n)
            })
            .collect();
        for i in 0..rows {
            for (j, v) in data.row(i).entries() {
                let t = (v - mean[j]) / scale[j];
                var[j] += t * t / n;
            }
        }
        let std: Vec<f64> = var.iter().zip(&scale).map(|(v, k)| k * v.sqrt()).collect();
        for (what, values) in [
            ("feature mean", &mean),
            ("feature standard deviation", &std),
        ] {
            if let Some(&value) = values.iter().find(|v| !v.is_finite()) {
                return Err(Error::NonFinite { what, value });
            }
        }
        if data.x.is_sparse() {
            mean.iter_mut().for_each(|m| *m = 0.0);
        }
        Ok(Standardizer { mean, std })
    }

    /// Applies to `data` (fitted on training data, applied to test data), which must have as
    /// many features as the standardiser. Sparse data stays sparse when every mean is 0 (a
    /// standardiser fitted on sparse data); otherwise it is made dense first (at most
    /// [`MAX_DENSE_ELEMENTS`] values).
    ///
    /// # Errors
    /// [`Error::Dimension`] if `std` and `mean` differ in length, `data` has another number of
    /// features, or its shape is wrong; [`Error::InvalidParameter`] for a mean that is not
    /// finite or a standard deviation that is not finite and `≥ 0`; [`Error::TooLarge`] for
    /// sparse data that would have to be centred past the dense limit.
    pub fn transform(&self, data: &Dataset) -> Result<Dataset> {
        self.check(data.d)?;
        data.check_shape()?;
        let scale = |v: f64, m: f64, s: f64| if s > 0.0 { (v - m) / s } else { 0.0 };
        let mut out = if data.x.is_sparse() && self.mean.iter().any(|&m| m != 0.0) {
            data.to_dense()?
        } else {
            data.clone()
        };
        match &mut out.x {
            Features::Dense(x) => {
                if data.d > 0 {
                    for row in x.chunks_exact_mut(data.d) {
                        for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                            *v = scale(*v, *m, *s);
                        }
                    }
                }
            }
            Features::Sparse(csr) => {
                csr.map_values(|j, v| scale(v, 0.0, self.std[j]));
            }
        }
        Ok(out)
    }

    /// Checks that the standardiser fits `features` features and holds usable numbers.
    fn check(&self, features: usize) -> Result<()> {
        if self.std.len() != self.mean.len() {
            return Err(Error::Dimension {
                what: "standardizer std (one per mean)",
                expected: self.mean.len(),
                got: self.std.len(),
            });
        }
        if features != self.mean.len() {
            return Err(Error::Dimension {
                what: "features (the standardizer's)",
                expected: self.mean.len(),
                got: features,
            });
        }
        if let Some(&value) = self.mean.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "standardizer mean",
                value,
                range: "finite",
            });
        }
        if let Some(&value) = self.std.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::InvalidParameter {
                name: "standardizer std",
                value,
                range: "finite, ≥ 0",
            });
        }
        Ok(())
    }
}

/// A seeded shuffle of `0..n`, split into a training part of `(1 − test_fraction)·n` rows and a
/// test part. A fraction outside `[0, 1]` is clamped to it, and NaN counts as 0.
///
/// # Example
/// ```
/// let (train, test) = svm::data::train_test_split(10, 0.3, 7);
/// assert_eq!((train.len(), test.len()), (7, 3));
/// assert_eq!(svm::data::train_test_split(10, 0.3, 7), (train, test)); // seeded
/// ```
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let n_test = ((n as f64) * test_fraction.clamp(0.0, 1.0)).round() as usize;
    let test = idx.split_off(n - n_test);
    (idx, test)
}

/// `k` contiguous folds of `0..n` in order, unshuffled (scikit-learn's
/// `KFold(shuffle=False)`): fold `f`'s validation part is one block of rows, the first
/// `n mod k` blocks one row longer. `k` is clamped to `1..=n`.
///
/// # Example
/// ```
/// let folds = svm::data::kfold_ordered(7, 3);
/// let validation: Vec<Vec<usize>> = folds.iter().map(|(_, v)| v.clone()).collect();
/// assert_eq!(validation, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
/// assert_eq!(folds[1].0, vec![0, 1, 2, 5, 6]);
/// ```
pub fn kfold_ordered(n: usize, k: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    let k = k.clamp(1, n.max(1));
    let mut start = 0;
    (0..k)
        .map(|f| {
            let len = n / k + usize::from(f < n % k);
            let val: Vec<usize> = (start..start + len).collect();
            let train: Vec<usize> = (0..start).chain(start + len..n).collect();
            start += len;
            (train, val)
        })
        .collect()
}

/// `k` seeded folds of `0..n`: `(train, validation)` pairs whose validation parts partition
/// the rows. `k` is clamped to `1..=n` (see [`crate::cv::cross_validate`], which rejects
/// other values instead).
///
/// # Example
/// ```
/// let folds = svm::data::kfold(10, 3, 1);
/// assert_eq!(folds.len(), 3);
/// let mut all: Vec<usize> = folds.iter().flat_map(|(_, v)| v.clone()).collect();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
pub fn kfold(n: usize, k: usize, seed: u64) -> Vec<(Vec<usize>, Vec<usize>)> {
    let k = k.clamp(1, n.max(1));
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    (0..k)
        .map(|f| {
            let val: Vec<usize> = idx
                .iter()
                .enumerate()
                .filter(|(i, _)| i % k == f)
                .map(|(_, &v)| v)
                .collect();
            let train: Vec<usize> = idx
                .iter()
                .enumerate()
                .filter(|(i, _)| i % k != f)
                .map(|(_, &v)| v)
                .collect();
            (train, val)
        })
        .collect()
}
