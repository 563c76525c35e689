//! Integration tests live in `it/` (one test binary, public API only).
