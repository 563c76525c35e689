//! Bad input is a typed error: models read from JSON, prediction, training options and results,
//! data without features, cross-validation folds, the CSV and LIBSVM readers, and the rest of
//! the public API. Each test names the property; expected numbers carry their derivation.

mod api;
mod arbitrary;
mod cv;
mod features;
mod libsvm;
mod model_json;
mod predict;
mod reader_csv;
mod train_options;
mod train_results;
