//! The expression language of `subgrad grad`: parse, build on a tape, differentiate.
//! Errors are fine; a panic, an abort or a hang is a bug.
#![no_main]

use autodiff::{Certify, Tape, Var};
use libfuzzer_sys::fuzz_target;
use subgrad_cli::expr::{self, Origins};

/// Inputs past this length only slow the fuzzer down without reaching new code.
const MAX_LEN: usize = 4096;

/// The values given to the variables: the kinks of relu, abs, max and min sit at 0 and at ties,
/// so small integers reach them far more often than random floats would.
const VALUES: [f64; 5] = [0.0, 1.0, -1.0, 0.0, 2.0];

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_LEN {
        return;
    }
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = expr::parse(src) else {
        return;
    };
    let tape = Tape::<f64>::new();
    // Which variable gets which value depends on the input, so ties and kinks move around.
    let shift = data.iter().map(|&b| usize::from(b)).sum::<usize>();
    let mut vars: Vec<(String, Var<'_, f64>)> = Vec::new();
    for (i, name) in e.variables().into_iter().enumerate() {
        let value = VALUES[(i + shift) % VALUES.len()];
        let Ok(v) = tape.param_scalar(value) else {
            return;
        };
        vars.push((name, v));
    }
    let Ok(y) = expr::build(&e, &tape, &vars, &mut Origins::default()) else {
        return;
    };
    if y.requires_grad() {
        let _ = y.backward();
        let _ = tape.backward_certified(y, Certify::Random { seed: 0 });
    }
});
