//! Gradients for the first-order solvers, from the engine or the closed form.

use autodiff::{Data, KinkPolicy, Shape, SparseData, Tape};
use losses::{MarginLoss, Objective};

use super::{GradientSource, Problem};
use crate::error::Result;
use crate::matrix::Features;

/// `f(w)` and `∇f(w)` of a problem, from the engine (the rows as a shared dense or sparse
/// constant of the tape, no copy per evaluation) or from [`Problem::objective`].
pub(super) struct Oracle<'a> {
    problem: Problem<'a>,
    loss: MarginLoss,
    form: Form,
    engine: Option<Engine>,
}

/// Which objective an [`Oracle`] differentiates, and by which kink rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct Form {
    /// `½‖w‖² + C·Σ ℓ` (`true`) or `C·Σ ℓ`.
    pub(super) regularize: bool,
    /// The engine tape's policy.
    pub(super) policy: KinkPolicy,
    /// `relu'(0)` under `policy`, which the closed form uses at the hinge's kink.
    pub(super) relu_at_zero: f64,
}

impl Default for Form {
    fn default() -> Self {
        Form {
            regularize: true,
            policy: KinkPolicy::MinNorm,
            relu_at_zero: 0.0,
        }
    }
}

/// The rows as the engine holds them.
enum Rows {
    Dense(Data<f64>),
    Sparse(SparseData<f64>),
}

struct Engine {
    x: Rows,
    y: Data<f64>,
    /// The per-example weights `sᵢ`, if any.
    weights: Option<Data<f64>>,
    tape: Tape<f64>,
    grads: autodiff::Gradients<f64>,
}

impl<'a> Oracle<'a> {
    pub(super) fn new(
        problem: Problem<'a>,
        loss: MarginLoss,
        source: GradientSource,
    ) -> Result<Self> {
        Self::with_form(problem, loss, source, Form::default())
    }

    /// An oracle for `form`'s objective and kink rule.
    pub(super) fn with_form(
        problem: Problem<'a>,
        loss: MarginLoss,
        source: GradientSource,
        form: Form,
    ) -> Result<Self> {
        problem.check()?;
        loss.validate()?;
        let engine = match source {
            GradientSource::ClosedForm => None,
            GradientSource::Engine => Some(Engine {
                x: match problem.x {
                    Features::Dense(x) => Rows::Dense(Data::new(
                        x.clone(),
                        Shape::try_matrix(problem.n(), problem.d)?,
                    )?),
                    Features::Sparse(m) => Rows::Sparse(SparseData::new(
                        m.indptr().to_vec(),
                        m.indices().to_vec(),
                        m.values().to_vec(),
                        problem.d,
                    )?),
                },
                y: Data::vector(problem.y.to_vec())?,
                weights: problem
                    .example_weights
                    .map(|s| Data::vector(s.to_vec()))
                    .transpose()?,
                tape: Tape::with_policy(form.policy),
                grads: autodiff::Gradients::new(),
            }),
        };
        Ok(Oracle {
            problem,
            loss,
            form,
            engine,
        })
    }

    /// [`Oracle::eval`], also leaving in `active` the rows whose loss derivative is not zero
    /// (in the same pass for the closed form; from the margins for the engine).
    pub(super) fn eval_active(
        &mut self,
        w: &[f64],
        active: &mut Vec<usize>,
    ) -> Result<(f64, Vec<f64>)> {
        if self.engine.is_some() {
            let out = self.eval(w)?;
            let margins = self.problem.margins(w);
            active.clear();
            active.extend((0..margins.len()).filter(|&i| self.loss.derivative(margins[i]) != 0.0));
            return Ok(out);
        }
        let Form {
            regularize,
            relu_at_zero,
            ..
        } = self.form;
        self.problem
            .objective_collecting(self.loss, w, regularize, relu_at_zero, Some(active))
    }

    /// `(f(w), ∇f(w))`.
    pub(super) fn eval(&mut self, w: &[f64]) -> Result<(f64, Vec<f64>)> {
        let Some(e) = &mut self.engine else {
            let Form {
                regularize,
                relu_at_zero,
                ..
            } = self.form;
            return self
                .problem
                .objective_with(self.loss, w, regularize, relu_at_zero);
        };
        e.tape.clear();
        let wv = e.tape.param_vec(w)?;
        // The loss's primitive form on the margins zᵢ = yᵢ·xᵢ·w.
        let s = match &e.x {
            Rows::Dense(x) => e.tape.data(x).try_matvec(wv)?,
            Rows::Sparse(x) => e.tape.sparse_matvec(x, wv)?,
        };
        let z = e.tape.data(&e.y).try_mul(s)?;
        let per_example = self.loss.on_tape(z)?;
        // Σ sᵢ·ℓ(zᵢ): with C outside, C·Σ sᵢ·ℓ = Σ Cᵢ·ℓ.
        let sum = match &e.weights {
            Some(s) => e.tape.data(s).try_mul(per_example)?.sum(),
            None => per_example.sum(),
        };
        let f = if self.form.regularize {
            Objective::Liblinear { c: self.problem.c }.on_tape(sum, wv, self.problem.n())?
        } else {
            sum.scale(self.problem.c)
        };
        e.tape.backward_into(f, &mut e.grads)?;
        Ok((f.item(), e.grads.wrt(wv).to_vec()))
    }
}
