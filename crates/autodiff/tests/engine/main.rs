//! The engine's tests through its public API (one test binary).

mod compositions;
mod errors;
mod kinks;
mod primitives;
mod tape;
