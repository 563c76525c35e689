//! Training (binary, or one-vs-rest for more classes), prediction, cross-validation, JSON models.

use std::time::Instant;

use losses::{MarginLoss, MulticlassLoss};
use serde::{Deserialize, Serialize};

use crate::data::{kfold, Dataset, Standardizer};
use crate::error::{Error, Result};
use crate::solvers::{
    dual_cd, nesterov, newton_with, pegasos_with, subgradient, Certificate, GradientSource,
    Problem, Solution,
};

/// Which solver [`train`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SolverKind {
    /// The exact solver with a certificate: dual coordinate descent for the hinge, Newton for
    /// the squared hinge, Nesterov for the other smooth losses.
    Exact,
    /// The classic subgradient method with iterate averaging.
    Subgradient,
    /// Pegasos SGD (hinge only).
    Pegasos,
    /// Nesterov's accelerated gradient with Armijo backtracking (smooth losses).
    Nesterov,
}

/// How more than two classes are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Multiclass {
    /// One binary problem per class (objectives summed).
    OneVsRest,
    /// One joint Crammer–Singer problem `½‖W‖² + C·Σᵢ max(0, 1 + max_{r≠yᵢ} wᵣ·xᵢ − w_yᵢ·xᵢ)`
    /// (squared when the loss is the squared hinge), solved by the subgradient method (hinge) or
    /// gradient descent with Armijo backtracking (squared), on the losses crate's gradients.
    CrammerSinger,
}

/// Training options.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Train for ranking with the all-pairs squared hinge of this margin instead of `loss`:
    /// `½‖w‖² + C·(1/(n₊n₋))·Σ_{j pos, k neg} max(0, m − w·xⱼ + w·xₖ)²` (two classes only),
    /// solved by gradient descent with Armijo backtracking on the O(n log n) closed form, and
    /// scored by AUC.
    pub all_pairs: Option<f64>,
    /// Multiclass strategy.
    pub multiclass: Multiclass,
    /// The loss.
    pub loss: MarginLoss,
    /// liblinear's `C` (`½‖w‖² + C·Σ loss`).
    pub c: f64,
    /// liblinear's `-B b`: append a constant feature `b` (regularised), or none.
    pub bias: Option<f64>,
    /// Standardise features (fitted on the training data).
    pub standardize: bool,
    /// The solver.
    pub solver: SolverKind,
    /// Tolerance of the exact solvers (relative duality gap or gradient norm).
    pub tol: f64,
    /// Iterations (epochs) at most.
    pub max_iter: usize,
    /// Seed of the stochastic parts.
    pub seed: u64,
    /// Gradients of the first-order solvers.
    pub gradient: GradientSource,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            all_pairs: None,
            multiclass: Multiclass::OneVsRest,
            loss: MarginLoss::hinge(),
            c: 1.0,
            bias: None,
            standardize: false,
            solver: SolverKind::Exact,
            tol: 1e-9,
            max_iter: 1_000_000,
            seed: 0,
            gradient: GradientSource::Engine,
        }
    }
}

/// A trained linear model (one weight vector for two classes, one per class for more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The loss's name.
    pub loss: String,
    /// The penalty `C`.
    pub c: f64,
    /// The bias feature's value, if any.
    pub bias: Option<f64>,
    /// The standardisation fitted on the training data, if any.
    pub standardizer: Option<Standardizer>,
    /// The class labels, sorted.
    pub classes: Vec<f64>,
    /// Weights: one vector (binary: positive class `classes[1]`) or one per class (one-vs-rest).
    pub weights: Vec<Vec<f64>>,
    /// Number of input features (before the bias).
    pub features: usize,
}

/// What [`train`] reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// The objective reached (summed over classes for one-vs-rest).
    pub objective: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Iterations (summed over classes).
    pub iterations: usize,
    /// Whether every sub-problem converged.
    pub converged: bool,
    /// The worst certificate value over the sub-problems (duality gap or gradient norm), if any.
    pub certificate: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The objective per iteration of the first sub-problem.
    pub history: Vec<f64>,
    /// Training AUC (two classes only).
    pub train_auc: Option<f64>,
    /// The model.
    pub model: Model,
}

fn solve(p: Problem<'_>, o: &TrainOptions) -> Result<Solution> {
    match (o.solver, o.loss) {
        (SolverKind::Exact, MarginLoss::Hinge { margin: 1.0 }) => {
            dual_cd(p, o.loss, o.tol, o.max_iter, o.seed)
        }
        (SolverKind::Exact, MarginLoss::SquaredHinge { margin: 1.0 }) => {
            newton_with(p, o.tol, o.max_iter.min(10_000), o.gradient)
        }
        (SolverKind::Exact, MarginLoss::Hinge { .. }) | (SolverKind::Subgradient, _) => {
            subgradient(p, o.loss, 1.0, o.max_iter.min(100_000), o.gradient)
        }
        (SolverKind::Exact, _) | (SolverKind::Nesterov, _) => {
            nesterov(p, o.loss, o.tol, o.max_iter.min(100_000), o.gradient)
        }
        (SolverKind::Pegasos, _) => pegasos_with(p, o.max_iter.min(10_000_000), o.seed, o.gradient),
    }
}

fn prepare(data: &Dataset, standardizer: Option<&Standardizer>, bias: Option<f64>) -> Dataset {
    let data = match standardizer {
        Some(s) => s.transform(data),
        None => data.clone(),
    };
    match bias {
        Some(b) => data.with_bias(b),
        None => data,
    }
}

/// Trains a linear model: binary for two classes (the larger label is +1), one-vs-rest for more.
///
/// # Errors
/// [`Error::Empty`], [`Error::Labels`] (a single class), [`Error::InvalidParameter`], and the
/// solvers' errors.
///
/// # Example
/// ```
/// use svm::model::{train, TrainOptions};
/// let data = svm::data::builtin("seed")?;
/// let report = train(&data, &TrainOptions { c: 10.0, bias: Some(1.0), ..TrainOptions::default() })?;
/// assert_eq!(report.train_accuracy, 1.0);
/// assert!(report.converged);
/// # Ok::<(), svm::Error>(())
/// ```
pub fn train(data: &Dataset, o: &TrainOptions) -> Result<TrainReport> {
    if data.n() == 0 {
        return Err(Error::Empty);
    }
    let start = Instant::now();
    let classes = data.classes();
    if classes.len() < 2 {
        return Err(Error::Labels("training needs at least two classes".into()));
    }
    let standardizer = o.standardize.then(|| Standardizer::fit(data));
    let prepared = prepare(data, standardizer.as_ref(), o.bias);
    if o.multiclass == Multiclass::CrammerSinger && classes.len() > 2 {
        let s = crammer_singer(&prepared, &classes, o)?;
        let model = Model {
            loss: format!("crammer-singer-{}", o.loss.name()),
            c: o.c,
            bias: o.bias,
            standardizer,
            classes,
            weights: s.w.chunks(prepared.d).map(<[f64]>::to_vec).collect(),
            features: data.d,
        };
        return single_report(s, model, data, None, start);
    }
    if let Some(margin) = o.all_pairs {
        if classes.len() != 2 {
            return Err(Error::Labels("the all-pairs loss needs two classes".into()));
        }
        let y = prepared.one_vs_rest(classes[1]);
        let s = all_pairs_descent(&prepared, &y, o.c, margin, o.tol, o.max_iter.min(100_000))?;
        let model = Model {
            loss: "all-pairs".into(),
            c: o.c,
            bias: o.bias,
            standardizer,
            classes,
            weights: vec![s.w.clone()],
            features: data.d,
        };
        return single_report(s, model, data, Some(&y), start);
    }
    let targets: Vec<Vec<f64>> = if classes.len() == 2 {
        vec![prepared.one_vs_rest(classes[1])]
    } else {
        classes.iter().map(|&c| prepared.one_vs_rest(c)).collect()
    };
    let mut weights = Vec::new();
    let (mut objective, mut iterations, mut converged) = (0.0, 0, true);
    let mut certificate: Option<f64> = None;
    let mut history = Vec::new();
    for y in &targets {
        let p = Problem {
            x: &prepared.x,
            d: prepared.d,
            y,
            c: o.c,
        };
        let s = solve(p, o)?;
        objective += s.objective;
        iterations += s.iterations;
        converged &= s.converged;
        certificate = match (certificate, s.certificate.value()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if history.is_empty() {
            history = s.history;
        }
        weights.push(s.w);
    }
    let model = Model {
        loss: o.loss.name().to_string(),
        c: o.c,
        bias: o.bias,
        standardizer,
        classes,
        weights,
        features: data.d,
    };
    let train_accuracy = model.accuracy(data)?;
    let train_auc = match model.classes.len() {
        2 => Some(auc(
            &model.scores(data)?,
            &data.one_vs_rest(model.classes[1]),
        )),
        _ => None,
    };
    Ok(TrainReport {
        objective,
        train_accuracy,
        iterations,
        converged,
        certificate,
        seconds: start.elapsed().as_secs_f64(),
        history,
        train_auc,
        model,
    })
}

/// The report of a model trained as one problem (Crammer–Singer, all-pairs), with the training
/// AUC against `auc_labels` when given.
fn single_report(
    s: Solution,
    model: Model,
    data: &Dataset,
    auc_labels: Option<&[f64]>,
    start: Instant,
) -> Result<TrainReport> {
    let train_accuracy = model.accuracy(data)?;
    let train_auc = match auc_labels {
        Some(y) => Some(auc(&model.scores(data)?, y)),
        None => None,
    };
    Ok(TrainReport {
        objective: s.objective,
        train_accuracy,
        iterations: s.iterations,
        converged: s.converged,
        certificate: s.certificate.value(),
        seconds: start.elapsed().as_secs_f64(),
        history: s.history,
        train_auc,
        model,
    })
}

/// The area under the ROC curve of `scores` for labels `±1` (Mann–Whitney, ties counted ½):
/// the probability that a random positive outscores a random negative.
///
/// ```text
/// AUC = (Σ_{positives} rank − n₊(n₊ + 1)/2) / (n₊·n₋),  ranks averaged over ties
/// ```
///
/// # Example
/// ```
/// assert_eq!(svm::model::auc(&[0.9, 0.1, 0.5, 0.5], &[1.0, -1.0, 1.0, -1.0]), 0.875);
/// ```
pub fn auc(scores: &[f64], labels: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * (i..=j).filter(|&k| labels[idx[k]] > 0.0).count() as f64;
        i = j + 1;
    }
    let np = labels.iter().filter(|&&l| l > 0.0).count() as f64;
    let nn = labels.len() as f64 - np;
    if np == 0.0 || nn == 0.0 {
        return f64::NAN;
    }
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

/// `½‖w‖² + C·L_all-pairs(X·w)` by gradient descent with Armijo backtracking, the gradient
/// `w + C·Xᵀ·∂L/∂ŷ` from the O(n log n) closed form; stops when `‖∇‖ ≤ tol·max(1, ‖∇(0)‖)`.
fn all_pairs_descent(
    data: &Dataset,
    y: &[f64],
    c: f64,
    margin: f64,
    tol: f64,
    max_iter: usize,
) -> Result<Solution> {
    let d = data.d;
    let f = |w: &[f64]| -> Result<(f64, Vec<f64>)> {
        let pred: Vec<f64> = (0..data.n())
            .map(|i| data.row(i).iter().zip(w).map(|(a, b)| a * b).sum())
            .collect();
        let (l, g) = losses::all_pairs_value_grad(&pred, y, margin)?;
        let mut grad = w.to_vec();
        for (i, gi) in g.iter().enumerate() {
            if *gi != 0.0 {
                for (o, x) in grad.iter_mut().zip(data.row(i)) {
                    *o += c * gi * x;
                }
            }
        }
        Ok((0.5 * w.iter().map(|v| v * v).sum::<f64>() + c * l, grad))
    };
    let mut w = vec![0.0; d];
    let (mut fw, mut g) = f(&w)?;
    let g0 = g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0);
    let mut history = vec![fw];
    let mut step = 1.0;
    let mut converged = false;
    for _ in 0..max_iter {
        let g2: f64 = g.iter().map(|v| v * v).sum();
        if g2.sqrt() <= tol * g0 {
            converged = true;
            break;
        }
        (w, fw, g) = armijo_step(&w, fw, &g, &mut step, &f)?;
        history.push(fw);
    }
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(Solution {
        w,
        objective: fw,
        iterations: history.len() - 1,
        converged: converged || gnorm <= tol * g0,
        certificate: Certificate::GradientNorm(gnorm),
        history,
    })
}

/// One gradient step with Armijo backtracking from `w` (objective `fw`, gradient `g`): halves
/// `step` until `f(w − step·g) ≤ fw − 10⁻⁴·step·‖g‖²`, then doubles it for the next call.
/// Returns the new point with its objective and gradient.
fn armijo_step(
    w: &[f64],
    fw: f64,
    g: &[f64],
    step: &mut f64,
    f: &impl Fn(&[f64]) -> Result<(f64, Vec<f64>)>,
) -> Result<(Vec<f64>, f64, Vec<f64>)> {
    let g2: f64 = g.iter().map(|v| v * v).sum();
    loop {
        let trial: Vec<f64> = w.iter().zip(g).map(|(a, b)| a - *step * b).collect();
        let (ft, gt) = f(&trial)?;
        if ft <= fw - 1e-4 * *step * g2 || *step < 1e-16 {
            *step *= 2.0;
            return Ok((trial, ft, gt));
        }
        *step *= 0.5;
    }
}

/// The Crammer–Singer objective `½‖W‖² + C·Σ Lᵢ` and its gradient; `w` holds the K class
/// vectors one after the other (`K × d`).
fn cs_objective(
    data: &Dataset,
    labels: &[usize],
    k: usize,
    c: f64,
    loss: MulticlassLoss,
    w: &[f64],
) -> Result<(f64, Vec<f64>)> {
    let d = data.d;
    // W as d × K (row-major) for the losses crate.
    let mut wdk = vec![0.0; d * k];
    for r in 0..k {
        for j in 0..d {
            wdk[j * k + r] = w[r * d + j];
        }
    }
    let (l, g) = loss.linear_value_grad(&data.x, d, labels, &wdk, k)?;
    let mut grad = w.to_vec();
    for r in 0..k {
        for j in 0..d {
            grad[r * d + j] += c * g[j * k + r];
        }
    }
    Ok((0.5 * w.iter().map(|v| v * v).sum::<f64>() + c * l, grad))
}

fn crammer_singer(data: &Dataset, classes: &[f64], o: &TrainOptions) -> Result<Solution> {
    let k = classes.len();
    let labels: Vec<usize> = data
        .labels
        .iter()
        .map(|l| classes.iter().position(|c| c == l).unwrap_or(0))
        .collect();
    let squared = matches!(o.loss, MarginLoss::SquaredHinge { .. });
    let loss = MulticlassLoss::CrammerSinger { squared };
    let f = |w: &[f64]| cs_objective(data, &labels, k, o.c, loss, w);
    let mut w = vec![0.0; k * data.d];
    let iterations = o.max_iter.min(5_000);
    let mut history = Vec::with_capacity(iterations);
    let (mut fw, mut g) = f(&w)?;
    let mut best = (fw, w.clone());
    if squared {
        // Gradient descent with Armijo backtracking (the squared loss is smooth).
        let mut step = 1.0;
        for _ in 0..iterations {
            let g2: f64 = g.iter().map(|v| v * v).sum();
            if g2.sqrt() <= o.tol {
                break;
            }
            (w, fw, g) = armijo_step(&w, fw, &g, &mut step, &f)?;
            history.push(fw);
        }
        best = (fw, w);
    } else {
        // The subgradient method: steps η/√k along −g/‖g‖, keeping the best iterate.
        for it in 1..=iterations {
            let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm == 0.0 {
                break;
            }
            let eta = 1.0 / (it as f64).sqrt();
            for (wj, gj) in w.iter_mut().zip(&g) {
                *wj -= eta * gj / norm;
            }
            (fw, g) = f(&w)?;
            if fw < best.0 {
                best = (fw, w.clone());
            }
            history.push(best.0);
        }
    }
    let gnorm = f(&best.1)?.1.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(Solution {
        objective: best.0,
        iterations: history.len(),
        converged: squared && gnorm <= o.tol,
        certificate: if squared {
            Certificate::GradientNorm(gnorm)
        } else {
            Certificate::None
        },
        history,
        w: best.1,
    })
}

impl Model {
    /// `data` as the model sees it: padded to the model's width (a file may omit trailing
    /// all-zero features), standardised and with the bias feature, as in training.
    fn prepared(&self, data: &Dataset) -> Result<Dataset> {
        if data.d > self.features {
            return Err(Error::Dimension {
                what: "features",
                expected: self.features,
                got: data.d,
            });
        }
        let mut padded = Dataset {
            x: Vec::with_capacity(data.n() * self.features),
            d: self.features,
            labels: data.labels.clone(),
        };
        for i in 0..data.n() {
            padded.x.extend_from_slice(data.row(i));
            padded
                .x
                .extend(std::iter::repeat_n(0.0, self.features - data.d));
        }
        Ok(prepare(&padded, self.standardizer.as_ref(), self.bias))
    }

    /// The score `w·x` of every row under every weight vector: `scores[i][class]`.
    fn all_scores(&self, data: &Dataset) -> Result<Vec<Vec<f64>>> {
        let prepared = self.prepared(data)?;
        Ok((0..prepared.n())
            .map(|i| {
                self.weights
                    .iter()
                    .map(|w| prepared.row(i).iter().zip(w).map(|(a, b)| a * b).sum())
                    .collect()
            })
            .collect())
    }

    /// Predicted labels: the sign of the score for one weight vector, the best-scoring class
    /// for several.
    ///
    /// # Errors
    /// [`Error::Dimension`] if `data` has more features than the model.
    pub fn predict(&self, data: &Dataset) -> Result<Vec<f64>> {
        Ok(self
            .all_scores(data)?
            .iter()
            .map(|s| {
                if s.len() == 1 {
                    self.classes[usize::from(s[0] >= 0.0)]
                } else {
                    let best = (0..s.len())
                        .max_by(|&a, &b| s[a].total_cmp(&s[b]))
                        .unwrap_or(0);
                    self.classes[best]
                }
            })
            .collect())
    }

    /// The binary score `w·x` of each row (the first weight vector), after the model's
    /// standardisation and bias.
    ///
    /// # Errors
    /// As [`Model::predict`].
    pub fn scores(&self, data: &Dataset) -> Result<Vec<f64>> {
        Ok(self.all_scores(data)?.iter().map(|s| s[0]).collect())
    }

    /// The fraction of rows predicted right.
    ///
    /// # Errors
    /// As [`Model::predict`].
    pub fn accuracy(&self, data: &Dataset) -> Result<f64> {
        let p = self.predict(data)?;
        let right = p.iter().zip(&data.labels).filter(|(a, b)| a == b).count();
        Ok(right as f64 / data.n().max(1) as f64)
    }

    /// The model as JSON.
    ///
    /// # Errors
    /// Never in practice (all fields serialise).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Labels(e.to_string()))
    }

    /// A model from JSON.
    ///
    /// # Errors
    /// [`Error::Parse`] if the text is not a model.
    pub fn from_json(text: &str, source: &str) -> Result<Model> {
        serde_json::from_str(text).map_err(|e| Error::Parse {
            source_name: source.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }
}

/// k-fold cross-validation over a grid of `C`: the mean validation score per `C`, accuracy, or
/// AUC when training with the all-pairs loss.
///
/// # Errors
/// As [`train`].
pub fn cross_validate(
    data: &Dataset,
    o: &TrainOptions,
    k: usize,
    grid: &[f64],
    seed: u64,
) -> Result<Vec<(f64, f64)>> {
    let folds = kfold(data.n(), k, seed);
    grid.iter()
        .map(|&c| {
            let mut total = 0.0;
            for (train_idx, val_idx) in &folds {
                let report = train(&data.subset(train_idx), &TrainOptions { c, ..*o })?;
                let val = data.subset(val_idx);
                total += if o.all_pairs.is_some() {
                    auc(
                        &report.model.scores(&val)?,
                        &val.one_vs_rest(report.model.classes[1]),
                    )
                } else {
                    report.model.accuracy(&val)?
                };
            }
            Ok((c, total / folds.len() as f64))
        })
        .collect()
}
