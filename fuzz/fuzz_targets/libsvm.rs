//! The LIBSVM reader. Errors are fine; a panic, an abort or a hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = svm::data::read_libsvm(text, "fuzz");
    }
});
