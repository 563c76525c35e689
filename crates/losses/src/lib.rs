//! # losses — the hinge family, twice
//!
//! Every loss here exists as a **primitive form**, built from the [`autodiff`] engine's
//! operations so the engine differentiates it, and as a **closed form**: the hand-derived
//! piecewise value and gradient, with its kink choice stated. The closed forms' kink choices are
//! what the engine's default `MinNorm` policy gives on the primitive forms, and the tests prove
//! the two equal, including exactly at the kink.
//!
//! ```
//! use autodiff::{Data, Shape, Tape};
//! use losses::{linear_on_tape, linear_value_grad, MarginLoss};
//! # fn main() -> losses::Result<()> {
//! // Two examples; the first sits exactly on the margin (y·w·x = 1).
//! let (x, y, w) = (vec![1.0, 0.0, 0.0, 1.0], vec![1.0, -1.0], vec![1.0, 0.5]);
//! let tape = Tape::<f64>::new();
//! let xs = tape.data(&Data::new(x.clone(), Shape::matrix(2, 2))?);
//! let ys = tape.data(&Data::vector(y.clone())?);
//! let wv = tape.param_vec(&w)?;
//! let by_engine = linear_on_tape(MarginLoss::hinge(), xs, ys, wv, None)?.backward()?;
//! let by_hand = linear_value_grad(MarginLoss::hinge(), &x, 2, &y, &w, None)?;
//! assert_eq!(by_engine.wrt(wv), &by_hand.w[..]); // −y·x for example 1 only; 0 at the kink
//! # Ok(()) }
//! ```
//!
//! ## Kink conventions (the closed forms' choices = the engine's default `MinNorm` policy)
//!
//! ```text
//! hinge max(0, m − z) at z = m          ℓ' = 0        ∂ = [−1, 0]; for w: {−t·y·x : t ∈ [0, 1]}
//! Weston–Watkins at s_j − s_y + Δ = 0   weight 0      ∂ = {ξ·(e_j − e_y) : ξ ∈ [0, 1]}
//! Crammer–Singer at k tied maxima       1/k each      ∂ = conv{e_r : r tied} − e_y
//! L1 |wⱼ| at wⱼ = 0                     0             ∂ = [−1, 1]
//! squared hinge, ψ_G, ψ_M, Huberised, modified Huber, squared WW/CS at 0, all-pairs: C¹, unique
//! ```
//! Membership in the whole subdifferential: [`MarginLoss::in_subdifferential`],
//! [`linear_subdifferential`] (a [`Zonotope`]), [`MulticlassLoss::in_subdifferential`],
//! [`l1_in_subdifferential`]; use them on certified-mode gradients
//! (`autodiff::Tape::backward_certified`).
//!
//! The primitive forms (`on_tape`, `linear_on_tape`, `all_pairs_on_tape`, `l1_on_tape`, …) are
//! generic over the engine's `Real` (f32 and f64); the closed forms compute in f64.
//!
//! Modules: [`binary`] (margin losses and the linear model), [`multiclass`] (Weston–Watkins,
//! Crammer–Singer), [`all_pairs`] (the AUC surrogate with its O(n log n) closed form),
//! [`regularize`] (L1, L2 and the objective conventions).

#![warn(missing_docs)]

pub mod all_pairs;
pub mod binary;
mod error;
pub mod multiclass;
pub mod regularize;
mod zonotope;

pub use all_pairs::{all_pairs_autodiff, all_pairs_on_tape, all_pairs_value_grad};
pub use binary::{
    linear_autodiff, linear_on_tape, linear_subdifferential, linear_value_grad, normal_cdf,
    normal_pdf, LinearGrad, MarginLoss,
};
pub use error::{Error, Result};
pub use multiclass::MulticlassLoss;
pub use regularize::{l1, l1_in_subdifferential, l1_on_tape, l2, l2_on_tape, Objective};
pub use zonotope::Zonotope;
