//! The CSV reader, label in the last column. Errors are fine; a panic, an abort or a hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svm::data::{CsvOptions, Header, LabelColumn};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for header in [Header::Auto, Header::Present, Header::Absent] {
            let options = CsvOptions {
                header,
                label: LabelColumn::Last,
            };
            let _ = svm::data::read_csv(text, "fuzz", &options);
        }
    }
});
