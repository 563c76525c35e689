//! Cross-crate integration tests, through the public API only (one test binary).

mod hinge_policies;
mod losses;
