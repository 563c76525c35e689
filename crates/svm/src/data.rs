//! Data sets: LIBSVM and CSV readers, the embedded sets, standardisation and seeded splits.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A dense data set: `n` rows of `d` features (row-major) and one label per row.
///
/// # Example
/// ```
/// let seed = svm::data::builtin("seed")?;
/// assert_eq!((seed.n(), seed.d), (5, 2));
/// assert_eq!(seed.labels, vec![1.0, 1.0, -1.0, -1.0, -1.0]);
/// # Ok::<(), svm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Features, row-major `n × d`.
    pub x: Vec<f64>,
    /// Number of features.
    pub d: usize,
    /// One label per row.
    pub labels: Vec<f64>,
}

impl Dataset {
    /// Number of rows.
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The distinct labels, sorted.
    pub fn classes(&self) -> Vec<f64> {
        let mut c = self.labels.clone();
        c.sort_by(f64::total_cmp);
        c.dedup();
        c
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.d);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            x,
            d: self.d,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
        }
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

    /// A copy with a constant feature `b` appended to every row (liblinear's `-B b`).
    pub fn with_bias(&self, b: f64) -> Dataset {
        let mut x = Vec::with_capacity(self.n() * (self.d + 1));
        for i in 0..self.n() {
            x.extend_from_slice(self.row(i));
            x.push(b);
        }
        Dataset {
            x,
            d: self.d + 1,
            labels: self.labels.clone(),
        }
    }
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

/// Reads LIBSVM text: `label index:value …` per line, indices 1-based and increasing, zeros
/// omitted; blank lines and `#` comments are skipped. `source` names the input in errors.
///
/// # Errors
/// [`Error::Parse`] naming the line and column of a bad label, index or value;
/// [`Error::Empty`] if no row was read.
///
/// # Example
/// ```
/// let data = svm::data::read_libsvm("+1 1:0.5 3:2\n-1 2:1\n", "inline")?;
/// assert_eq!(data.d, 3);
/// assert_eq!(data.x, vec![0.5, 0.0, 2.0, 0.0, 1.0, 0.0]);
/// let err = svm::data::read_libsvm("+1 0:1\n", "bad.libsvm").unwrap_err();
/// assert_eq!(err.to_string(), "bad.libsvm:1:4: feature index 0: indices start at 1");
/// # Ok::<(), svm::Error>(())
/// ```
pub fn read_libsvm(text: &str, source: &str) -> Result<Dataset> {
    let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut labels = Vec::new();
    let mut d = 0;
    for (ln, raw) in text.lines().enumerate() {
        let line = ln + 1;
        let content = raw.split('#').next().unwrap_or("");
        if content.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::new();
        let mut start = None;
        for (i, ch) in content.char_indices() {
            match (ch.is_whitespace(), start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    fields.push((s, &content[s..i]));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            fields.push((s, &content[s..]));
        }
        let col = |byte: usize| content[..byte].chars().count() + 1;
        let (lpos, ltext) = fields[0];
        if ltext.contains(':') {
            return Err(parse_err(
                source,
                line,
                col(lpos),
                "missing label before the features",
            ));
        }
        labels.push(number(source, line, col(lpos), ltext)?);
        let mut row = Vec::new();
        let mut last = 0;
        for &(pos, f) in &fields[1..] {
            let (idx, val) = f.split_once(':').ok_or_else(|| {
                parse_err(source, line, col(pos), format!("`{f}` is not index:value"))
            })?;
            let index: usize = idx.parse().map_err(|_| {
                parse_err(
                    source,
                    line,
                    col(pos),
                    format!("`{idx}` is not a feature index"),
                )
            })?;
            if index == 0 {
                return Err(parse_err(
                    source,
                    line,
                    col(pos),
                    "feature index 0: indices start at 1",
                ));
            }
            if index <= last {
                return Err(parse_err(
                    source,
                    line,
                    col(pos),
                    format!("feature index {index} after {last}: indices must increase"),
                ));
            }
            last = index;
            let value = number(source, line, col(pos) + idx.len() + 1, val)?;
            row.push((index - 1, value));
            d = d.max(index);
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::Empty);
    }
    let mut x = vec![0.0; rows.len() * d];
    for (i, row) in rows.iter().enumerate() {
        for &(j, v) in row {
            x[i * d + j] = v;
        }
    }
    Ok(Dataset { x, d, labels })
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

/// Reads CSV: comma-separated numbers, one row per line; a first line that is not all numbers
/// is a header. The label column is chosen by `label`.
///
/// # Errors
/// [`Error::Parse`] with line and column for a bad number or a ragged row, or an unknown label
/// column; [`Error::Empty`] if no row was read.
///
/// # Example
/// ```
/// use svm::data::{read_csv, LabelColumn};
/// let data = read_csv("a,b,y\n1,2,1\n3,4,-1\n", "inline", &LabelColumn::Name("y".into()))?;
/// assert_eq!((data.n(), data.d), (2, 2));
/// assert_eq!(data.labels, vec![1.0, -1.0]);
/// assert!(read_csv("1,2\n3\n", "ragged.csv", &LabelColumn::Last).is_err());
/// # Ok::<(), svm::Error>(())
/// ```
pub fn read_csv(text: &str, source: &str, label: &LabelColumn) -> Result<Dataset> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let mut header: Option<Vec<String>> = None;
    if let Some((_, first)) = lines.peek() {
        if first.split(',').any(|f| f.trim().parse::<f64>().is_err()) {
            header = Some(first.split(',').map(|f| f.trim().to_string()).collect());
            lines.next();
        }
    }
    let mut width = header.as_ref().map(Vec::len);
    let mut x = Vec::new();
    let mut labels = Vec::new();
    let mut label_at = None;
    for (ln, raw) in lines {
        let line = ln + 1;
        let fields: Vec<&str> = raw.split(',').collect();
        let w = *width.get_or_insert(fields.len());
        if fields.len() != w {
            return Err(parse_err(
                source,
                line,
                raw.len() + 1,
                format!("{} fields, expected {w}", fields.len()),
            ));
        }
        let li = *label_at.get_or_insert(match label {
            LabelColumn::Index(i) if *i < w => *i,
            LabelColumn::Index(i) => {
                return Err(parse_err(
                    source,
                    line,
                    1,
                    format!("no column {i} (the file has {w})"),
                ))
            }
            LabelColumn::Last => w - 1,
            LabelColumn::Name(name) => header
                .as_ref()
                .and_then(|h| h.iter().position(|c| c == name))
                .ok_or_else(|| parse_err(source, 1, 1, format!("no column named `{name}`")))?,
        });
        let mut column = 1;
        for (k, f) in fields.iter().enumerate() {
            let v = number(source, line, column, f.trim())?;
            if k == li {
                labels.push(v);
            } else {
                x.push(v);
            }
            column += f.chars().count() + 1;
        }
    }
    let Some(w) = width.filter(|_| !labels.is_empty()) else {
        return Err(Error::Empty);
    };
    Ok(Dataset {
        x,
        d: w - 1,
        labels,
    })
}

/// Reads a file by extension: `.csv` as CSV with the label in the last column, anything else
/// as LIBSVM.
///
/// # Errors
/// [`Error::Io`] if it cannot be read; the readers' errors.
pub fn read_file(path: &std::path::Path) -> Result<Dataset> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let name = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        read_csv(&text, &name, &LabelColumn::Last)
    } else {
        read_libsvm(&text, &name)
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
            return Ok(Dataset {
                x: vec![0.0, 1.0, 1.0, 2.0, 3.0, 0.0, 4.0, 1.0, 1.0, 1.0],
                d: 2,
                labels: vec![1.0, 1.0, -1.0, -1.0, -1.0],
            })
        }
        "breast_cancer" => include_str!("../data/breast_cancer.libsvm"),
        "digits" => include_str!("../data/digits.libsvm"),
        "iris" => include_str!("../data/iris.libsvm"),
        other => return Err(Error::UnknownBuiltin(other.to_string())),
    };
    read_libsvm(text, &format!("builtin:{name}"))
}

/// Per-feature mean and population standard deviation (ddof 0), fitted on training data.
///
/// ```text
/// x'ⱼ = (xⱼ − μⱼ)/σⱼ,   σⱼ = √(mean (xⱼ − μⱼ)²);   a constant feature (σⱼ = 0) maps to 0
/// ```
///
/// # Example
/// ```
/// use svm::data::{Dataset, Standardizer};
/// let d = Dataset { x: vec![1.0, 5.0, 3.0, 5.0], d: 2, labels: vec![1.0, -1.0] };
/// let s = Standardizer::fit(&d);
/// assert_eq!(s.transform(&d).x, vec![-1.0, 0.0, 1.0, 0.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Means.
    pub mean: Vec<f64>,
    /// Population standard deviations.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits on `data`.
    pub fn fit(data: &Dataset) -> Standardizer {
        let (n, d) = (data.n().max(1) as f64, data.d);
        let mut mean = vec![0.0; d];
        for i in 0..data.n() {
            for (m, v) in mean.iter_mut().zip(data.row(i)) {
                *m += v / n;
            }
        }
        let mut var = vec![0.0; d];
        for i in 0..data.n() {
            for ((s, v), m) in var.iter_mut().zip(data.row(i)).zip(&mean) {
                *s += (v - m) * (v - m) / n;
            }
        }
        Standardizer {
            mean,
            std: var.iter().map(|v| v.sqrt()).collect(),
        }
    }

    /// Applies to `data` (fitted on training data, applied to test data).
    pub fn transform(&self, data: &Dataset) -> Dataset {
        let mut out = data.clone();
        for i in 0..data.n() {
            for j in 0..data.d.min(self.mean.len()) {
                let v = &mut out.x[i * data.d + j];
                *v = if self.std[j] > 0.0 {
                    (*v - self.mean[j]) / self.std[j]
                } else {
                    0.0
                };
            }
        }
        out
    }
}

/// A seeded shuffle of `0..n`, split into a training part of `(1 − test_fraction)·n` rows and a
/// test part.
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

/// `k` seeded folds of `0..n`: `(train, validation)` pairs whose validation parts partition
/// the rows.
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
