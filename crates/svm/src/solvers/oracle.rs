//! Gradients for the first-order solvers, from the engine or the closed form.

use autodiff::{Data, Shape, SparseData, Tape};
use losses::{MarginLoss, Objective};

use super::{GradientSource, Problem};
use crate::error::Result;
use crate::matrix::Features;

/// `f(w)` and `∇f(w)` of a problem, from the engine (the rows as a shared dense or sparse
/// constant of the tape, no copy per evaluation) or from [`Problem::objective`].
pub(super) struct Oracle<'a> {
    problem: Problem<'a>,
    loss: MarginLoss,
    engine: Option<Engine>,
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
                tape: Tape::new(),
                grads: autodiff::Gradients::new(),
            }),
        };
        Ok(Oracle {
            problem,
            loss,
            engine,
        })
    }

    /// `(f(w), ∇f(w))`.
    pub(super) fn eval(&mut self, w: &[f64]) -> Result<(f64, Vec<f64>)> {
        let Some(e) = &mut self.engine else {
            return self.problem.objective(self.loss, w);
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
        let f = Objective::Liblinear { c: self.problem.c }.on_tape(sum, wv, self.problem.n())?;
        e.tape.backward_into(f, &mut e.grads)?;
        Ok((f.item(), e.grads.wrt(wv).to_vec()))
    }
}
