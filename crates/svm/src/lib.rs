//! # svm — data and linear-SVM solvers for subgrad's showcase
//!
//! [`data`]: LIBSVM and CSV readers with errors naming file, line and column; the embedded data
//! sets; standardisation; seeded splits and folds. [`matrix`]: dense and sparse (CSR) features
//! and the row kernels the solvers share. [`solvers`]: dual coordinate descent and
//! Newton's method (with optimality certificates) to reach the exact optimum, and the first-order
//! methods (subgradient, Pegasos, Nesterov) driven by the engine's or the closed-form gradients.
//! [`model`]: training with one-vs-rest for several classes, prediction and JSON models.
//! [`cv`]: k-fold cross-validation over a grid of `C`. [`metrics`]: the AUC.

#![warn(missing_docs)]

pub mod cv;
pub mod data;
mod error;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod solvers;

pub use error::{Error, Result};
