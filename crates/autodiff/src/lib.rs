//! # autodiff — subgrad's engine
//!
//! Tape-based reverse-mode automatic differentiation over dense vectors and matrices, explicit at
//! the kink: every non-differentiable primitive (`relu`, `leaky_relu`, `abs`, `max`/`min`,
//! `clamp`, max/min reductions, `norm`) documents the subgradient it returns, the rule is
//! selectable per tape ([`KinkPolicy`]), and the tape reports where exact ties happened
//! ([`Tape::kinks`]).
//!
//! ```
//! use autodiff::{KinkPolicy, Tape};
//! # fn main() -> autodiff::Result<()> {
//! // Hinge loss max(0, 1 − y·w·x) exactly at the margin: y·w·x = 1.
//! let tape = Tape::<f64>::new(); // KinkPolicy::MinNorm
//! let w = tape.param_vec(&[0.5, 0.25])?;
//! let x = tape.constant_vec(&[1.0, 2.0])?;
//! let loss = (1.0 - w.dot(x)).relu(); // y = +1
//! let grads = loss.backward()?;
//! assert_eq!(grads.wrt(w), &[0.0, 0.0]); // relu'(0) = 0: the minimum-norm subgradient
//! assert_eq!(tape.kinks().exact_count(), 1); // …and the tape says a choice was made
//! # Ok(()) }
//! ```
//!
//! ## Design
//! - [`Tape`] holds nodes in a `Vec`; [`Var`] is a `Copy` handle (a tape reference and an index).
//! - Values are up to 2-D ([`Shape`]) and live in one arena; large data can be shared without a
//!   copy ([`Data`], [`Tape::data`]).
//! - Backward is one reverse loop over the tape; gradients accumulate, so a value used twice is
//!   right.
//! - Kink operations record their branch per element (a mask) in the forward pass; backward only
//!   multiplies by it.
//! - Every fallible operation has a `try_` form returning [`Result`]; the short forms and the
//!   operators panic with the same message (documented under `# Panics`).
//! - [`CustomOp`] lets users add primitives with their own backward rule.
//! - The dense kernels (`dot`, `matvec`, `Xᵀg`) pick their instruction set at run time: AVX2 +
//!   FMA on an x86-64 CPU that has both (detected once, then cached), portable SIMD otherwise, so
//!   a default build uses the CPU's vector width; [`vector_kernels`] names the choice.
//!
//! See [`policy`] for the full kink table.

#![warn(missing_docs)]

pub mod certify;
mod custom;
mod data;
mod error;
pub mod gradcheck;
mod kink;
mod ops;
pub mod policy;
mod real;
mod shape;
mod tape;
mod var;

pub use certify::{Certified, Certify, CertifyStats, MinNorm, Subdifferential};
pub use custom::{BackwardContext, CustomOp, Inputs};
pub use data::{Data, SparseData};
pub use error::{Error, Result};
pub use kink::{KinkReport, KinkSite};
pub use ops::fuse::{Fuse, FUSE_MIN_BYTES};
pub use ops::kernels::vector_kernels;
pub use policy::{CustomPolicy, CustomPolicyBuilder, KinkPolicy, TieSplit};
pub use real::Real;
pub use shape::Shape;
pub use tape::{Gradients, Tape, TapeStats};
pub use var::{NodeId, Operand, Var};

/// The name of every primitive the engine has, as kink reports and errors print them: the
/// closed set a tape's nodes are drawn from (custom ops all report `custom`).
///
/// # Example
/// ```
/// let names = autodiff::primitives();
/// assert!(names.contains(&"relu") && names.contains(&"sparse_matvec"));
/// ```
pub fn primitives() -> &'static [&'static str] {
    &ops::NAMES
}
