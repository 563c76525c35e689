//! Training (binary, or one-vs-rest for more classes), prediction, cross-validation, JSON models.

use std::time::Instant;

use losses::MarginLoss;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Standardizer};
use crate::error::{Error, Result};
use crate::metrics::auc;
use crate::solvers::{
    all_pairs, crammer_singer as cs_dual, crammer_singer_interior_point,
    crammer_singer_interior_point_suits, crammer_singer_squared, exact_hinge, nesterov_with,
    newton_cg_with, pegasos_with, subgradient, subgradient_with, FirstOrderOptions, GradientSource,
    MulticlassProblem, Problem, Solution, MAX_C,
};

/// Which solver [`train`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SolverKind {
    /// The exact solver with a certificate: dual coordinate descent for the hinge (the
    /// interior-point method for few features and short rows), the truncated Newton method
    /// (conjugate gradient, no `d × d` matrix) for the squared hinge, Nesterov for the other
    /// smooth losses; Crammer–Singer as [`Multiclass::CrammerSinger`] says.
    Exact,
    /// The classic subgradient method with iterate averaging.
    Subgradient,
    /// Pegasos SGD (the hinge or the squared hinge with margin 1).
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
    /// (squared when the loss is the squared hinge), solved exactly with a duality-gap
    /// certificate, on dense or sparse rows: by the primal–dual interior-point method when the
    /// `k·d` weights are at most 1024 and the rows short and many enough
    /// ([`crate::solvers::crammer_singer_interior_point_suits`]), else (or should it stop
    /// short) by the sequential dual method (Keerthi et al. 2008 for the hinge, Lee & Lin 2013
    /// for the squared form).
    /// The loss must be the hinge or the squared hinge with margin 1; the solver option is not
    /// used. With two classes, training is binary.
    CrammerSinger,
}

/// Per-class weights (liblinear's `-wi`, scikit-learn's `class_weight`): every example of class
/// `c` gets the penalty `C·w_c` instead of `C`, in every solver and for every multiclass
/// strategy:
///
/// ```text
/// f(w) = ½‖w‖² + C·Σᵢ w_{yᵢ}·ℓ(yᵢ·w·xᵢ)
/// balanced: w_c = n/(k·n_c)   (n rows, k classes, n_c rows of class c; scikit-learn's rule)
/// ```
///
/// Under one-vs-rest an example keeps its class's weight in every binary problem (as
/// scikit-learn's per-example weights do); liblinear's `-wi` instead weights only the positive
/// side of each one-vs-rest problem. With two classes the two agree.
///
/// # Example
/// ```
/// use svm::model::ClassWeight;
/// // Three rows of class 1, one of class −1: balanced weights 4/(2·3) and 4/(2·1).
/// let w = ClassWeight::Balanced.example_weights(&[1.0, 1.0, 1.0, -1.0])?.unwrap();
/// assert_eq!(w, vec![2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 2.0]);
/// // Classes without a given weight keep 1.
/// let w = ClassWeight::Given(&[(-1.0, 5.0)]).example_weights(&[1.0, -1.0])?.unwrap();
/// assert_eq!(w, vec![1.0, 5.0]);
/// # Ok::<(), svm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ClassWeight<'a> {
    /// Every class weighs 1.
    #[default]
    Uniform,
    /// `w_c = n/(k·n_c)`: each class weighs as much in total.
    Balanced,
    /// `(class, weight)` pairs, each weight finite and `> 0`; unlisted classes weigh 1.
    Given(&'a [(f64, f64)]),
}

impl ClassWeight<'_> {
    /// Checks the given weights: finite and `> 0`, each class listed once.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a weight; [`Error::Labels`] for a class listed twice or
    /// not finite.
    pub fn validate(&self) -> Result<()> {
        let ClassWeight::Given(pairs) = self else {
            return Ok(());
        };
        for (r, &(class, weight)) in pairs.iter().enumerate() {
            if !class.is_finite() {
                return Err(Error::Labels(format!(
                    "class weight for class {class}, which is not finite"
                )));
            }
            if !(weight.is_finite() && weight > 0.0) {
                return Err(Error::InvalidParameter {
                    name: "class weight",
                    value: weight,
                    range: "finite, > 0",
                });
            }
            if pairs[..r].iter().any(|p| p.0 == class) {
                return Err(Error::Labels(format!("class {class} is given two weights")));
            }
        }
        Ok(())
    }

    /// Each example's weight `w_{yᵢ}` for the labels `labels`, or `None` for
    /// [`ClassWeight::Uniform`].
    ///
    /// # Errors
    /// As [`ClassWeight::validate`]; [`Error::Labels`] for a given weight whose class no label
    /// has (a misspelt class would silently weigh nothing).
    pub fn example_weights(&self, labels: &[f64]) -> Result<Option<Vec<f64>>> {
        self.validate()?;
        match self {
            ClassWeight::Uniform => Ok(None),
            ClassWeight::Balanced => {
                let mut classes: Vec<f64> = labels.to_vec();
                classes.sort_by(f64::total_cmp);
                classes.dedup();
                let counts: Vec<usize> = classes
                    .iter()
                    .map(|c| labels.iter().filter(|l| *l == c).count())
                    .collect();
                let (n, k) = (labels.len() as f64, classes.len() as f64);
                Ok(Some(
                    labels
                        .iter()
                        .map(|l| {
                            let c = classes.binary_search_by(|p| p.total_cmp(l)).unwrap_or(0);
                            n / (k * counts[c] as f64)
                        })
                        .collect(),
                ))
            }
            ClassWeight::Given(pairs) => {
                if let Some(&(class, _)) = pairs.iter().find(|p| !labels.contains(&p.0)) {
                    return Err(Error::Labels(format!(
                        "a weight is given for class {class}, which no example has"
                    )));
                }
                Ok(Some(
                    labels
                        .iter()
                        .map(|l| pairs.iter().find(|p| p.0 == *l).map_or(1.0, |p| p.1))
                        .collect(),
                ))
            }
        }
    }
}

/// Training options.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions<'a> {
    /// Train for ranking with the all-pairs squared hinge of this margin instead of `loss`:
    /// `½‖w‖² + C·(1/(n₊n₋))·Σ_{j pos, k neg} max(0, m − w·xⱼ + w·xₖ)²` (two classes only),
    /// solved by gradient descent with Armijo backtracking on the O(n log n) closed form, and
    /// scored by AUC.
    pub all_pairs: Option<f64>,
    /// Multiclass strategy.
    pub multiclass: Multiclass,
    /// The loss.
    pub loss: MarginLoss,
    /// liblinear's `C` (`½‖w‖² + C·Σ loss`): `0 < C ≤` [`MAX_C`] = 10¹⁰⁰, past which the
    /// objective and the solvers' squared norms overflow `f64`.
    pub c: f64,
    /// liblinear's `-B b`: append a constant feature `b` (finite, regularised), or none.
    pub bias: Option<f64>,
    /// Standardise features (fitted on the training data).
    pub standardize: bool,
    /// The solver.
    pub solver: SolverKind,
    /// Tolerance of the exact solvers, finite and `> 0`: a bound on the relative objective
    /// error `(f(w) − f*)/f(w)` that the certificate proves (see [`crate::solvers`]).
    pub tol: f64,
    /// Iterations (epochs for the dual solvers, Newton steps for the Newton methods) at
    /// most, `≥ 1`; training stops there with `converged = false` and the certificate reached.
    pub max_iter: usize,
    /// Seed of the stochastic parts.
    pub seed: u64,
    /// Gradients of the first-order solvers.
    pub gradient: GradientSource,
    /// Per-class weights (liblinear's `-wi`, scikit-learn's `class_weight`).
    pub class_weight: ClassWeight<'a>,
    /// The first-order methods' own settings (the subgradient method's step, averaging,
    /// objective, stopping rule and kink policy; Nesterov's fixed iteration count); the
    /// defaults are `train`'s usual runs. `regularize: false` needs
    /// [`SolverKind::Subgradient`] on a binary or one-vs-rest problem, `fixed_iterations`
    /// needs [`SolverKind::Nesterov`] ([`Error::NotApplicable`] otherwise).
    pub first_order: FirstOrderOptions,
}

/// The default iteration limit: 1000 epochs or Newton steps, as liblinear's.
///
/// # Example
/// ```
/// assert_eq!(svm::model::TrainOptions::default().max_iter, svm::model::DEFAULT_MAX_ITER);
/// ```
pub const DEFAULT_MAX_ITER: usize = 1000;

impl Default for TrainOptions<'_> {
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
            max_iter: DEFAULT_MAX_ITER,
            seed: 0,
            gradient: GradientSource::Engine,
            class_weight: ClassWeight::Uniform,
            first_order: FirstOrderOptions::default(),
        }
    }
}

impl TrainOptions<'_> {
    /// Checks every option, whatever the training path: `0 < C ≤` [`MAX_C`], `tol` finite and
    /// `> 0`, `max_iter ≥ 1`, a finite bias, a finite all-pairs margin `> 0`, and the loss's
    /// own parameter. [`train`] calls it first.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the option; [`Error::Loss`] for the loss.
    ///
    /// # Example
    /// ```
    /// use svm::model::TrainOptions;
    /// let err = TrainOptions { c: 0.0, ..TrainOptions::default() }.validate().unwrap_err();
    /// assert_eq!(err.to_string(), "C = 0.0 is out of range (0 < C ≤ 1e100)");
    /// ```
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value, range| Err(Error::InvalidParameter { name, value, range });
        if !(self.c.is_finite() && self.c > 0.0 && self.c <= MAX_C) {
            return bad("C", self.c, "0 < C ≤ 1e100");
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return bad("tol", self.tol, "finite, > 0");
        }
        if self.max_iter == 0 {
            return bad("max_iter", 0.0, "≥ 1");
        }
        if let Some(b) = self.bias.filter(|b| !b.is_finite()) {
            return bad("bias", b, "finite");
        }
        if let Some(m) = self.all_pairs.filter(|m| !(m.is_finite() && *m > 0.0)) {
            return bad("all-pairs margin", m, "finite, > 0");
        }
        self.loss.validate()?;
        self.class_weight.validate()?;
        self.first_order.validate()?;
        Ok(())
    }
}

/// The loss's name, with its margin when it is not 1.
fn loss_label(loss: MarginLoss) -> String {
    match loss {
        MarginLoss::Hinge { margin } | MarginLoss::SquaredHinge { margin } if margin != 1.0 => {
            format!("{} with margin {margin}", loss.name())
        }
        _ => loss.name().to_string(),
    }
}

/// Checks that the path `train` takes for `classes` classes handles the loss.
fn check_path(o: &TrainOptions, classes: usize) -> Result<()> {
    let joint = o.all_pairs.is_some() || (o.multiclass == Multiclass::CrammerSinger && classes > 2);
    if !o.first_order.regularize && (joint || o.solver != SolverKind::Subgradient) {
        return Err(Error::NotApplicable {
            option: "the objective without the regulariser",
            applies_to: "the subgradient solver on binary or one-vs-rest problems",
        });
    }
    if o.first_order.fixed_iterations && (joint || o.solver != SolverKind::Nesterov) {
        return Err(Error::NotApplicable {
            option: "a fixed iteration count",
            applies_to: "the Nesterov solver on binary or one-vs-rest problems",
        });
    }
    if o.all_pairs.is_some() {
        if o.class_weight != ClassWeight::Uniform {
            return Err(Error::Unsupported {
                solver: "the all-pairs loss",
                supported: "unweighted classes",
                loss: "class weights".into(),
            });
        }
        return Ok(());
    }
    if o.multiclass == Multiclass::CrammerSinger && classes > 2 {
        if o.loss != MarginLoss::hinge() && o.loss != MarginLoss::squared_hinge() {
            return Err(Error::Unsupported {
                solver: "Crammer–Singer training",
                supported: "the hinge and the squared hinge with margin 1",
                loss: loss_label(o.loss),
            });
        }
        return Ok(());
    }
    if o.solver == SolverKind::Pegasos
        && o.loss != MarginLoss::hinge()
        && o.loss != MarginLoss::squared_hinge()
    {
        return Err(Error::Unsupported {
            solver: "Pegasos",
            supported: "the hinge and the squared hinge with margin 1",
            loss: loss_label(o.loss),
        });
    }
    Ok(())
}

/// `value` if it is finite, else [`Error::NonFinite`] naming `what`.
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NonFinite { what, value })
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
    /// Weights: one vector (binary: positive class `classes[1]`, predicted where the score is
    /// `> 0`) or one per class (one-vs-rest, Crammer–Singer).
    pub weights: Vec<Vec<f64>>,
    /// Number of input features (before the bias).
    pub features: usize,
    /// The input feature each weight belongs to, strictly increasing, when the model keeps
    /// only the columns its training rows used (sparse data using at most half of its
    /// columns: see [`Dataset::compact_columns`]); every other feature's weight is 0. `None`:
    /// weight `j` is feature `j`. The standardiser, if any, then holds one entry per column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<usize>>,
    /// The classes' names when the training labels were names (a CSV file's `yes`/`no`): name
    /// `r` is class `classes[r]` (then `r` itself). `None` (and absent from older model files):
    /// the classes are their numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
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
    /// The worst relative certificate over the sub-problems, what convergence is judged on:
    /// the bound on `f(w) − f*` the certificate proves divided by `f(w)` — `gap/f` for the
    /// duality gap, `‖∇f‖²/(2f)` for the gradient norm ([`crate::solvers::Certificate::error_bound`]); the run
    /// converged when it is at most `tol`. `None` without a certificate.
    pub relative_certificate: Option<f64>,
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
            exact_hinge(p, o.tol, o.max_iter, o.seed)
        }
        (SolverKind::Exact, MarginLoss::SquaredHinge { margin: 1.0 }) => {
            // The exact solvers use the closed form (`gradient` selects the first-order
            // methods' source), so dense and sparse rows give bit-identical results.
            newton_cg_with(p, o.tol, o.max_iter, GradientSource::ClosedForm)
        }
        (SolverKind::Exact, MarginLoss::Hinge { .. }) => {
            subgradient(p, o.loss, 1.0, o.max_iter.min(100_000), o.gradient)
        }
        (SolverKind::Subgradient, _) => subgradient_with(
            p,
            o.loss,
            &o.first_order,
            o.max_iter.min(100_000),
            o.gradient,
        ),
        (SolverKind::Exact, _) => {
            nesterov_with(p, o.loss, o.tol, o.max_iter.min(100_000), false, o.gradient)
        }
        (SolverKind::Nesterov, _) => nesterov_with(
            p,
            o.loss,
            o.tol,
            o.max_iter.min(100_000),
            o.first_order.fixed_iterations,
            o.gradient,
        ),
        (SolverKind::Pegasos, _) => pegasos_with(
            p,
            o.loss,
            o.max_iter.saturating_mul(p.n()).min(10_000_000),
            o.seed,
            o.gradient,
        ),
    }
}

/// The training rows: `data` itself when there is nothing to do (no copy of X), else one
/// transformed copy.
///
/// Sparse rows that store at least two thirds of their entries (a LIBSVM file of dense data,
/// the bias column counted) are trained on one dense copy, with the bias column if any: it is
/// no larger than the rows (8 bytes an entry against 12 a stored value) and has the faster
/// kernels, and the exact solvers give the same bits on both layouts. Not when standardising,
/// whose scaled copy of sparse rows stays sparse.
fn prepare<'a>(
    data: &'a Dataset,
    standardizer: Option<&Standardizer>,
    bias: Option<f64>,
) -> Result<std::borrow::Cow<'a, Dataset>> {
    use std::borrow::Cow;
    let scaled = match standardizer {
        Some(s) => Cow::Owned(s.transform(data)?),
        None => Cow::Borrowed(data),
    };
    // Entries and stored values with the bias column.
    let extra = usize::from(bias.is_some());
    let entries = scaled.n().saturating_mul(scaled.d.saturating_add(extra));
    let stored = scaled.x.stored().saturating_add(scaled.n() * extra);
    if standardizer.is_none()
        && scaled.x.is_sparse()
        && stored.saturating_mul(3) >= entries.saturating_mul(2)
    {
        match scaled.to_dense_with_bias(bias) {
            Ok(dense) => return Ok(Cow::Owned(dense)),
            // Past MAX_DENSE_ELEMENTS the copy is refused: train on the sparse rows.
            Err(Error::TooLarge { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match bias {
        Some(b) => Cow::Owned(scaled.with_bias(b)?),
        None => scaled,
    })
}

/// Trains a linear model: binary for two classes (the larger label is +1), one-vs-rest for more.
///
/// Every option is checked first ([`TrainOptions::validate`]), whatever the path; after solving,
/// the objective, every weight, the certificate and the history must be finite, so a success
/// never carries a NaN or an infinity.
///
/// Data with no features is rejected rather than trained (its `w` would be empty and every
/// score 0): add features or a bias feature.
///
/// # Errors
/// [`Error::InvalidParameter`] and [`Error::Loss`] for a bad option; [`Error::Dimension`] and
/// [`Error::NonFiniteRow`] for malformed data ([`Dataset::check`]); [`Error::Empty`];
/// [`Error::Labels`] (a single class, or the all-pairs loss on more than two);
/// [`Error::NoFeatures`] for `d = 0` without a bias; [`Error::Unsupported`] for a loss the
/// path does not handle (Pegasos and Crammer–Singer); [`Error::NonFinite`] if the result
/// overflows; the solvers' errors.
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
    o.validate()?;
    data.check()?;
    if data.n() == 0 {
        return Err(Error::Empty);
    }
    let start = Instant::now();
    let classes = data.classes();
    if classes.len() < 2 {
        return Err(Error::Labels("training needs at least two classes".into()));
    }
    if data.d == 0 && o.bias.is_none() {
        return Err(Error::NoFeatures);
    }
    check_path(o, classes.len())?;
    // Cᵢ = C·w_{yᵢ}: one weight per example, or none.
    let example_weights = o.class_weight.example_weights(&data.labels)?;
    // Sparse rows using few of their columns are trained on those columns only (the others'
    // weights are 0 exactly), so neither w nor the model grows with the largest index.
    let compacted = data.compact_columns();
    let (rows, columns) = match &compacted {
        Some((rows, columns)) => (rows, Some(columns.clone())),
        None => (data, None),
    };
    let standardizer = o.standardize.then(|| Standardizer::fit(rows)).transpose()?;
    let prepared = prepare(rows, standardizer.as_ref(), o.bias)?;
    if o.multiclass == Multiclass::CrammerSinger && classes.len() > 2 && o.all_pairs.is_none() {
        let s = crammer_singer(&prepared, &classes, example_weights.as_deref(), o)?;
        let model = Model {
            loss: format!("crammer-singer-{}", o.loss.name()),
            c: o.c,
            bias: o.bias,
            standardizer,
            classes,
            weights: s.w.chunks(prepared.d).map(<[f64]>::to_vec).collect(),
            features: data.d,
            columns: columns.clone(),
            class_names: None,
        };
        return single_report(s, model, data, None, start);
    }
    if let Some(margin) = o.all_pairs {
        if classes.len() != 2 {
            return Err(Error::Labels("the all-pairs loss needs two classes".into()));
        }
        let y = prepared.one_vs_rest(classes[1]);
        let p = Problem {
            x: &prepared.x,
            d: prepared.d,
            y: &y,
            c: o.c,
            example_weights: None,
        };
        let s = all_pairs(p, margin, o.tol, o.max_iter.min(100_000))?;
        let model = Model {
            loss: "all-pairs".into(),
            c: o.c,
            bias: o.bias,
            standardizer,
            classes,
            weights: vec![s.w.clone()],
            features: data.d,
            columns: columns.clone(),
            class_names: None,
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
    let mut relative_certificate: Option<f64> = None;
    let mut history = Vec::new();
    // The one-vs-rest problems are independent: solved in parallel (rayon), combined in class
    // order, so the result does not depend on the number of threads.
    let solutions: Vec<Solution> = {
        use rayon::prelude::*;
        targets
            .par_iter()
            .map(|y| {
                let p = Problem {
                    x: &prepared.x,
                    d: prepared.d,
                    y,
                    c: o.c,
                    example_weights: example_weights.as_deref(),
                };
                let s = solve(p, o)?;
                check_solution(&s)?;
                Ok(s)
            })
            .collect::<Result<_>>()?
    };
    for s in solutions {
        objective += s.objective;
        iterations += s.iterations;
        converged &= s.converged;
        certificate = match (certificate, s.certificate.value()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        relative_certificate = match (relative_certificate, relative(&s)) {
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
        columns,
        class_names: None,
    };
    let train_accuracy = model.accuracy(data)?;
    let train_auc = match model.classes.len() {
        2 => Some(auc(
            &model.scores(data)?,
            &data.one_vs_rest(model.classes[1]),
        )?),
        _ => None,
    };
    Ok(TrainReport {
        objective: finite("objective", objective)?,
        train_accuracy,
        iterations,
        converged,
        certificate,
        relative_certificate,
        seconds: start.elapsed().as_secs_f64(),
        history,
        train_auc,
        model,
    })
}

/// A solution's certified bound on `f(w) − f*` relative to `f(w)` (0 for `f = 0`).
fn relative(s: &Solution) -> Option<f64> {
    s.certificate.error_bound().map(|b| {
        if s.objective > 0.0 {
            b / s.objective
        } else {
            0.0
        }
    })
}

/// Checks that a solver's objective, weights, certificate and history are finite.
fn check_solution(s: &Solution) -> Result<()> {
    finite("objective", s.objective)?;
    for &w in &s.w {
        finite("weight", w)?;
    }
    if let Some(c) = s.certificate.value() {
        finite("certificate", c)?;
    }
    for &h in &s.history {
        finite("objective in the history", h)?;
    }
    Ok(())
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
    check_solution(&s)?;
    let train_accuracy = model.accuracy(data)?;
    let train_auc = match auc_labels {
        Some(y) => Some(auc(&model.scores(data)?, y)?),
        None => None,
    };
    Ok(TrainReport {
        objective: s.objective,
        train_accuracy,
        iterations: s.iterations,
        converged: s.converged,
        certificate: s.certificate.value(),
        relative_certificate: relative(&s),
        seconds: start.elapsed().as_secs_f64(),
        history: s.history,
        train_auc,
        model,
    })
}

fn crammer_singer(
    data: &Dataset,
    classes: &[f64],
    example_weights: Option<&[f64]>,
    o: &TrainOptions,
) -> Result<Solution> {
    let k = classes.len();
    let labels: Vec<usize> = data
        .labels
        .iter()
        .map(|l| classes.iter().position(|c| c == l).unwrap_or(0))
        .collect();
    let squared = matches!(o.loss, MarginLoss::SquaredHinge { .. });
    let p = MulticlassProblem {
        x: &data.x,
        d: data.d,
        labels: &labels,
        k,
        c: o.c,
        example_weights,
    };
    let sequential = |p| {
        if squared {
            crammer_singer_squared(p, o.tol, o.max_iter, o.seed)
        } else {
            cs_dual(p, o.tol, o.max_iter, o.seed)
        }
    };
    // Few weights, short rows and enough of them: the interior-point method, whose iteration
    // count does not grow with C or the features' scale; the sequential dual otherwise, and
    // should the interior-point method stop short (its iterations count in the report).
    if crammer_singer_interior_point_suits(&p) {
        let s = crammer_singer_interior_point(p, squared, o.tol, o.max_iter)?;
        if s.converged {
            return Ok(s);
        }
        let mut sd = sequential(p)?;
        sd.iterations += s.iterations;
        return Ok(sd);
    }
    sequential(p)
}

impl Model {
    /// Checks that the model is consistent, as [`Model::from_json`] does on load and
    /// prediction does before scoring: `classes` has at least 2 entries, finite and strictly
    /// increasing; `weights` holds 1 vector for 2 classes and one per class for more, each of
    /// `features + 1` values with a bias and `features` without (computed without overflow),
    /// all finite; `c` is finite and `> 0`; the bias is finite; a standardiser has one finite
    /// mean and one finite `std ≥ 0` per feature.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the field.
    ///
    /// # Example
    /// ```
    /// use svm::model::Model;
    /// let model = Model {
    ///     loss: "hinge".into(), c: 1.0, bias: None, standardizer: None,
    ///     classes: vec![1.0], weights: vec![vec![0.5]], features: 1, columns: None,
    ///     class_names: None,
    /// };
    /// assert_eq!(
    ///     model.validate().unwrap_err().to_string(),
    ///     "invalid model: `classes` has 1 entry; a model needs at least 2"
    /// );
    /// ```
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: String| Err(Error::InvalidModel { field, reason });
        let k = self.classes.len();
        if k < 2 {
            let entries = if k == 1 { "entry" } else { "entries" };
            return bad(
                "classes",
                format!("has {k} {entries}; a model needs at least 2"),
            );
        }
        if let Some(c) = self.classes.iter().find(|c| !c.is_finite()) {
            return bad("classes", format!("holds {c}, which is not finite"));
        }
        if let Some(w) = self.classes.windows(2).find(|w| w[0] >= w[1]) {
            return bad(
                "classes",
                format!(
                    "must be strictly increasing, but {} comes before {}",
                    w[0], w[1]
                ),
            );
        }
        if let Some(names) = &self.class_names {
            if names.len() != k {
                return bad(
                    "class_names",
                    format!("has {} names for {k} classes", names.len()),
                );
            }
            if let Some(r) = (1..k).find(|&r| names[..r].contains(&names[r])) {
                return bad("class_names", format!("names `{}` twice", names[r]));
            }
        }
        let vectors = if k == 2 { 1 } else { k };
        if self.weights.len() != vectors {
            return bad(
                "weights",
                format!(
                    "has {} vectors; {k} classes need {vectors}",
                    self.weights.len()
                ),
            );
        }
        if let Some(columns) = &self.columns {
            if let Some(p) = columns.windows(2).position(|w| w[1] <= w[0]) {
                return bad(
                    "columns",
                    format!(
                        "must be strictly increasing, but {} comes before {}",
                        columns[p],
                        columns[p + 1]
                    ),
                );
            }
            if let Some(&j) = columns.last().filter(|&&j| j >= self.features) {
                return bad(
                    "columns",
                    format!("holds {j}, but `features` = {}", self.features),
                );
            }
        }
        let stored = self.stored_features();
        let with_bias = usize::from(self.bias.is_some());
        let Some(width) = stored.checked_add(with_bias) else {
            return bad(
                "features",
                format!("= {} plus the bias feature overflows", self.features),
            );
        };
        for (r, w) in self.weights.iter().enumerate() {
            if w.len() != width {
                return bad(
                    "weights",
                    format!(
                        "vector {r} has length {}, but {}{} needs {width}",
                        w.len(),
                        self.width_source(),
                        if with_bias == 1 { " plus the bias" } else { "" }
                    ),
                );
            }
            if let Some(j) = w.iter().position(|v| !v.is_finite()) {
                return bad(
                    "weights",
                    format!("vector {r} holds {} at {j}, which is not finite", w[j]),
                );
            }
        }
        if !(self.c.is_finite() && self.c > 0.0) {
            return bad("c", format!("= {} must be finite and > 0", self.c));
        }
        if let Some(b) = self.bias.filter(|b| !b.is_finite()) {
            return bad("bias", format!("= {b} is not finite"));
        }
        if let Some(s) = &self.standardizer {
            for (field, values) in [("standardizer.mean", &s.mean), ("standardizer.std", &s.std)] {
                if values.len() != stored {
                    return bad(
                        field,
                        format!("has length {}, but {}", values.len(), self.width_source()),
                    );
                }
                if let Some(j) = values.iter().position(|v| !v.is_finite()) {
                    return bad(
                        field,
                        format!("holds {} at {j}, which is not finite", values[j]),
                    );
                }
            }
            if let Some(j) = s.std.iter().position(|&v| v < 0.0) {
                return bad(
                    "standardizer.std",
                    format!("holds {} at {j}, which is negative", s.std[j]),
                );
            }
        }
        Ok(())
    }

    /// The number of features with a stored weight: `columns.len()` when the model keeps
    /// only its training rows' columns, else `features`.
    ///
    /// # Example
    /// ```
    /// let d = svm::data::read_libsvm("1 1:1 30000000:1\n-1 1:1\n", "inline")?;
    /// let model = svm::model::train(&d, &Default::default())?.model;
    /// assert_eq!((model.features, model.stored_features()), (30_000_000, 2));
    /// // w* = e_K (hand-derived: the dual optimum is α = (1, 1)), to the default tolerance.
    /// assert!((model.weight(0, 29_999_999) - 1.0).abs() < 1e-4);
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn stored_features(&self) -> usize {
        self.columns.as_ref().map_or(self.features, Vec::len)
    }

    /// Weight vector `r`'s weight on input feature `j` (0 for a feature the model does not
    /// store, and for `j ≥ features`); see [`Model::stored_features`] for an example.
    ///
    /// # Panics
    /// If `r` is not a weight vector's index (a programmer error: `r < weights.len()`).
    #[track_caller]
    pub fn weight(&self, r: usize, j: usize) -> f64 {
        let w = &self.weights[r];
        match &self.columns {
            None => w
                .get(j)
                .filter(|_| j < self.features)
                .copied()
                .unwrap_or(0.0),
            Some(c) => c.binary_search(&j).map_or(0.0, |k| w[k]),
        }
    }

    /// How validation names the expected weight width.
    fn width_source(&self) -> String {
        match &self.columns {
            None => format!("`features` = {}", self.features),
            Some(c) => format!("`columns` holds {}", c.len()),
        }
    }

    /// The score `w·x` of every row under every weight vector: `scores[i][class]`.
    ///
    /// Each row is seen as in training: padded with zeros to the model's width (a file may
    /// omit trailing all-zero features), standardised, with the bias feature; one row at a
    /// time, so no `n × features` copy is made.
    fn all_scores(&self, data: &Dataset) -> Result<Vec<Vec<f64>>> {
        self.validate()?;
        data.check()?;
        // The standardiser and the bias folded into each weight vector:
        // w·((x − μ)/σ) + b·w_b = Σⱼ (wⱼ/σⱼ)·xⱼ + (b·w_b − Σⱼ wⱼμⱼ/σⱼ), with 0 for σⱼ = 0 as in
        // `Standardizer::transform`. Columns past the model's features are skipped by
        // `Row::dot`, missing ones are zero.
        let folded: Vec<(Vec<f64>, f64)> = self
            .weights
            .iter()
            .map(|w| {
                let stored = self.stored_features();
                let mut v = w[..stored].to_vec();
                let mut offset = match self.bias {
                    Some(b) => b * w[stored],
                    None => 0.0,
                };
                if let Some(s) = &self.standardizer {
                    for (j, vj) in v.iter_mut().enumerate() {
                        if s.std[j] > 0.0 {
                            *vj /= s.std[j];
                            offset -= *vj * s.mean[j];
                        } else {
                            *vj = 0.0;
                        }
                    }
                }
                (v, offset)
            })
            .collect();
        let mut scores = Vec::with_capacity(data.n());
        for i in 0..data.n() {
            let xi = data.row(i);
            let s: Vec<f64> = match &self.columns {
                None => folded.iter().map(|(w, o)| xi.dot(w) + o).collect(),
                Some(columns) => {
                    // Each stored entry's weight found by binary search: O(nnz·log k).
                    let mut s: Vec<f64> = folded.iter().map(|(_, o)| *o).collect();
                    for (j, x) in xi.entries() {
                        if let Ok(k) = columns.binary_search(&j) {
                            for (sr, (w, _)) in s.iter_mut().zip(&folded) {
                                *sr += x * w[k];
                            }
                        }
                    }
                    s
                }
            };
            if let Some(&value) = s.iter().find(|v| !v.is_finite()) {
                return Err(Error::NonFiniteRow {
                    what: "score",
                    row: i,
                    value,
                });
            }
            scores.push(s);
        }
        Ok(scores)
    }

    /// Predicted labels: for one weight vector `classes[1]` where the score is `> 0` and
    /// `classes[0]` where it is `≤ 0`; for several the best-scoring class, the first of those
    /// tied for the best.
    ///
    /// A score of exactly 0 goes to `classes[0]`, as liblinear's `predict_values`
    /// (`dec_values[0] > 0 ? label[0] : label[1]`, its first label being its +1 side) and
    /// scikit-learn's `predict` (`scores > 0` picks `classes_[1]`) do: the positive class is
    /// predicted by the step `[s > 0]`, which is also the default kink policy's `relu'(0) = 0`
    /// (a margin exactly 0 counts for neither side's gradient).
    ///
    /// # Example
    /// ```
    /// use svm::model::Model;
    /// let model = Model {
    ///     loss: "hinge".into(), c: 1.0, bias: None, standardizer: None,
    ///     classes: vec![-1.0, 1.0], weights: vec![vec![1.0]], features: 1, columns: None,
    ///     class_names: None,
    /// };
    /// let data = svm::data::Dataset::dense(vec![-1.0, 0.0, 1.0], 1, vec![1.0; 3])?;
    /// assert_eq!(model.predict(&data)?, vec![-1.0, -1.0, 1.0]);
    /// # Ok::<(), svm::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidModel`] (see [`Model::validate`]); [`Error::Dimension`] if `data` has
    /// more features than the model; [`Error::NonFiniteRow`] for malformed data or a score that
    /// is not finite (e.g. weights near `f64::MAX`), naming the row.
    pub fn predict(&self, data: &Dataset) -> Result<Vec<f64>> {
        Ok(self
            .all_scores(data)?
            .iter()
            .map(|s| {
                if s.len() == 1 {
                    self.classes[usize::from(s[0] > 0.0)]
                } else {
                    // The first of the tied best, as liblinear (`max_by` would take the last).
                    let best = (1..s.len()).fold(0, |b, r| if s[r] > s[b] { r } else { b });
                    self.classes[best]
                }
            })
            .collect())
    }

    /// The decision values of each row (scikit-learn's `decision_function`, liblinear's
    /// `predict_values`): `scores[i]` holds one value `w·x` for a binary model (positive for
    /// `classes[1]`) and one per class for more (`scores[i][r]` for `classes[r]`), after the
    /// model's standardisation and bias.
    ///
    /// # Errors
    /// As [`Model::predict`].
    ///
    /// # Example
    /// ```
    /// use svm::model::{train, TrainOptions};
    /// let iris = svm::data::builtin("iris")?;
    /// let model = train(&iris, &TrainOptions::default())?.model;
    /// let values = model.decision_values(&iris)?;
    /// assert_eq!((values.len(), values[0].len()), (150, 3));
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn decision_values(&self, data: &Dataset) -> Result<Vec<Vec<f64>>> {
        self.all_scores(data)
    }

    /// The name of class `r` of the model: its name from [`Model::class_names`], else its
    /// number.
    ///
    /// # Panics
    /// If `r ≥ classes.len()` (a programmer error).
    #[track_caller]
    pub fn class_name(&self, r: usize) -> String {
        match &self.class_names {
            Some(names) => names[r].clone(),
            // −0 + 0 = +0: a label read as −0 prints as 0.
            None => (self.classes[r] + 0.0).to_string(),
        }
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
    /// [`Error::Empty`] for no row; [`Error::UnknownLabel`] for a label that is not one of the
    /// model's classes (it could never be predicted right), naming the row; as
    /// [`Model::predict`].
    pub fn accuracy(&self, data: &Dataset) -> Result<f64> {
        self.predict_with_accuracy(data).map(|(_, a)| a)
    }

    /// The predicted class of each row and the fraction predicted right, scoring each row once
    /// (what `predict` followed by `accuracy` computes, at half the cost).
    ///
    /// # Errors
    /// As [`Model::accuracy`].
    ///
    /// # Example
    /// ```
    /// use svm::data::builtin;
    /// use svm::model::{train, TrainOptions};
    /// let data = builtin("seed")?;
    /// let model = train(&data, &TrainOptions::default())?.model;
    /// let (predicted, accuracy) = model.predict_with_accuracy(&data)?;
    /// assert_eq!(predicted, model.predict(&data)?);
    /// assert_eq!(accuracy, model.accuracy(&data)?);
    /// # Ok::<(), svm::Error>(())
    /// ```
    pub fn predict_with_accuracy(&self, data: &Dataset) -> Result<(Vec<f64>, f64)> {
        if data.n() == 0 {
            return Err(Error::Empty);
        }
        let p = self.predict(data)?;
        if let Some(row) = data.labels.iter().position(|l| !self.classes.contains(l)) {
            return Err(Error::UnknownLabel {
                row,
                label: data.labels[row],
                classes: self.classes.clone(),
            });
        }
        let right = p.iter().zip(&data.labels).filter(|(a, b)| a == b).count();
        let accuracy = right as f64 / data.n() as f64;
        Ok((p, accuracy))
    }

    /// The model as JSON.
    ///
    /// # Errors
    /// Never in practice (all fields serialise).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Labels(e.to_string()))
    }

    /// A model from JSON, checked with [`Model::validate`].
    ///
    /// # Errors
    /// [`Error::Parse`] if the text is not a model; [`Error::InvalidModel`] if it is not a
    /// consistent one.
    pub fn from_json(text: &str, source: &str) -> Result<Model> {
        let model: Model = serde_json::from_str(text).map_err(|e| Error::Parse {
            source_name: source.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        model.validate()?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::prepare;
    use crate::data::{builtin, read_libsvm};

    #[test]
    fn sparse_rows_storing_two_thirds_of_their_entries_train_dense() {
        // breast_cancer stores every entry: its sparse copy is trained dense, the same values.
        let dense = builtin("breast_cancer").unwrap();
        let sparse = dense.to_sparse().unwrap();
        let prepared = prepare(&sparse, None, None).unwrap();
        assert!(!prepared.x.is_sparse());
        assert_eq!(prepared.x, dense.x);
        // Digits stores about half of its entries (counted by hand from the file: under 2/3).
        let digits = builtin("digits").unwrap().to_sparse().unwrap();
        assert!(digits.x.stored() * 3 < digits.n() * digits.d * 2);
        assert!(prepare(&digits, None, None).unwrap().x.is_sparse());
        // Exactly two of three entries, by hand: the boundary trains dense; one of three does
        // not.
        let two = read_libsvm("1 1:1 3:2\n-1 2:1 3:1\n", "t").unwrap();
        assert_eq!((two.x.stored(), two.n() * two.d), (4, 6));
        assert!(!prepare(&two, None, None).unwrap().x.is_sparse());
        let one = read_libsvm("1 1:1\n-1 3:1\n", "t").unwrap();
        assert!(prepare(&one, None, None).unwrap().x.is_sparse());
        // With a bias of 2 the bias column counts as stored (4 of 8 entries with one, 5 of 8
        // with two): one dense copy, the same values as with_bias then to_dense.
        let biased = prepare(&two, None, Some(2.0)).unwrap();
        assert!(!biased.x.is_sparse());
        assert_eq!(biased.x, two.with_bias(2.0).unwrap().to_dense().unwrap().x);
        assert!(prepare(&one, None, Some(2.0)).unwrap().x.is_sparse());
    }
}
