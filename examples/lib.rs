//! Runnable examples for subgrad; see the `[[example]]` entries of this package.
