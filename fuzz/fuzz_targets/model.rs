//! Loading a JSON model and predicting with it on the embedded data sets.
//! Errors are fine (a model whose width does not match the data is rejected); a panic, an abort
//! or a hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use svm::data::{builtin, Dataset};
use svm::model::Model;

/// Loaded once: the data sets are fixed, only the model varies.
static DATA: LazyLock<[Dataset; 2]> =
    LazyLock::new(|| [builtin("iris").unwrap(), builtin("seed").unwrap()]);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = Model::from_json(text, "fuzz") else {
        return;
    };
    for set in DATA.iter() {
        let _ = model.predict(set);
    }
});
