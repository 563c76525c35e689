//! The engine's tests through its public API (one test binary).

// Reference formulas index by i, j, k as the math does.
#![allow(clippy::needless_range_loop)]

mod broadcast;
mod catalogue;
mod certified;
mod clarke;
mod compositions;
mod errors;
mod fusion;
mod gradcheck;
mod kinks;
mod primitives;
mod shape_ops;
mod sparse;
mod subdifferential;
mod tape;
mod threads;
