//! The expression language of `subgrad grad`: parse, build on a tape, differentiate.
//! Errors are fine; a panic, an abort or a hang is a bug.
#![no_main]

use autodiff::{Certify, Tape, Var};
use libfuzzer_sys::fuzz_target;
use subgrad_cli::expr::{self, Origins};

/// Long enough for nesting deeper than a recursive parser survives (about 7,000 levels, 14 KB),
/// so a regression to recursion crashes here; run with `-max_len=65536` to let libFuzzer grow
/// inputs that far.
const MAX_LEN: usize = 65536;

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
