//! The losses' tests through the public API (one test binary).

// Reference formulas index by i, j, k as the math does.
#![allow(clippy::needless_range_loop)]

mod all_pairs;
mod binary;
mod cs231n;
mod errors;
mod kinks;
mod multiclass;
mod regularize;
mod zonotope;
