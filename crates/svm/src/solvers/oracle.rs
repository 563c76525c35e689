//! Gradients for the first-order solvers, from the engine or the closed form.

use std::borrow::Cow;

use autodiff::{Data, Shape, Tape};
use losses::{linear_on_tape, MarginLoss, Objective};

use super::{GradientSource, Problem};
use crate::error::Result;
use crate::matrix::Features;

/// `f(w)` and `∇f(w)` of a problem, from the engine (on a dense copy of the rows, as the engine
/// has no sparse constant yet) or from [`Problem::objective`].
pub(super) struct Oracle<'a> {
    problem: Problem<'a>,
    loss: MarginLoss,
    engine: Option<Engine>,
}

struct Engine {
    x: Data<f64>,
    y: Data<f64>,
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
            GradientSource::Engine => {
                let dense: Cow<'_, [f64]> = match problem.x {
                    Features::Dense(x) => Cow::Borrowed(x),
                    Features::Sparse(_) => {
                        let data = crate::data::Dataset {
                            x: problem.x.clone(),
                            d: problem.d,
                            labels: problem.y.to_vec(),
                        };
                        match data.to_dense()?.x {
                            Features::Dense(x) => Cow::Owned(x),
                            Features::Sparse(_) => unreachable!("to_dense is dense"),
                        }
                    }
                };
                Some(Engine {
                    x: Data::new(dense.into_owned(), Shape::matrix(problem.n(), problem.d))?,
                    y: Data::vector(problem.y.to_vec())?,
                    tape: Tape::new(),
                    grads: autodiff::Gradients::new(),
                })
            }
        };
        Ok(Oracle {
            problem,
            loss,
            engine,
        })
    }

    pub(super) fn eval(&mut self, w: &[f64]) -> Result<(f64, Vec<f64>)> {
        let Some(e) = &mut self.engine else {
            return self.problem.objective(self.loss, w);
        };
        e.tape.clear();
        let wv = e.tape.param_vec(w)?;
        let sum = linear_on_tape(self.loss, e.tape.data(&e.x), e.tape.data(&e.y), wv, None)?;
        let f = Objective::Liblinear { c: self.problem.c }.on_tape(sum, wv, self.problem.n())?;
        e.tape.backward_into(f, &mut e.grads)?;
        Ok((f.item(), e.grads.wrt(wv).to_vec()))
    }
}
