//! Integration tests live in `it/` (one test binary, public API only).
//!
//! The README's Rust examples are compiled and run as doctests of this crate, so they stay true.

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
