//! subgrad vs liblinear 2.30: reference optima, liblinear at its default tolerance, subgrad
//! to relative errors 1e-3 and 1e-6; each timing 3 times (min / median / max), printed as
//! markdown tables.
//!
//! `cargo run --release` (all problems) or `cargo run --release -- a d` (some of them).
//! Relative error throughout: `(f(w) − f*)/f(w)` with `f* = min(subgrad at tol 1e-12,
//! liblinear at eps 1e-10)`, `f(w) = ½‖w‖² + C·Σ loss` recomputed from the weights.

use std::time::Instant;

use subgrad_bench::{
    capture_liblinear_output, liblinear_crate_train, liblinear_train, problem, subgrad_train,
    Bench, BoxResult, LlRun, Loss, SgRun,
};

const RUNS: usize = 3;
/// Iteration limits for subgrad: dual CD epochs (reference run, timed runs), Newton steps.
const REF_EPOCHS: usize = 50_000;
const MAX_EPOCHS: usize = 20_000;
const MAX_NEWTON: usize = 1_000;

fn max_iter(loss: Loss, reference: bool) -> usize {
    match (loss, reference) {
        (Loss::Hinge, true) => REF_EPOCHS,
        (Loss::Hinge, false) => MAX_EPOCHS,
        (Loss::SquaredHinge, _) => MAX_NEWTON,
    }
}

/// min / median / max of `RUNS` times, in milliseconds.
fn spread(mut t: Vec<f64>) -> (f64, f64, f64) {
    t.sort_by(f64::total_cmp);
    (t[0] * 1e3, t[t.len() / 2] * 1e3, t[t.len() - 1] * 1e3)
}

fn ms(t: f64) -> String {
    if t >= 100.0 {
        format!("{t:.0}")
    } else if t >= 10.0 {
        format!("{t:.1}")
    } else {
        format!("{t:.2}")
    }
}

fn times(t: (f64, f64, f64)) -> String {
    format!("{} / {} / {}", ms(t.0), ms(t.1), ms(t.2))
}

fn errs(e: &[f64]) -> String {
    let lo = e.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = e.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (hi - lo).abs() <= 1e-3 * hi.abs() {
        format!("{hi:.1e}")
    } else {
        format!("{lo:.1e}–{hi:.1e}")
    }
}

struct Reference {
    sg: SgRun,
    ll: LlRun,
    ll_objective: f64,
    fstar: f64,
}

struct Timing {
    ll_default: Vec<LlRun>,
    ll_err: Vec<f64>,
    ll_crate: LlRun,
    sg3: Vec<SgRun>,
    sg3_err: Vec<f64>,
    sg6: Vec<SgRun>,
    sg6_err: Vec<f64>,
}

struct Row {
    problem: String,
    loss: Loss,
    reference: Reference,
    timing: Timing,
}

fn rel(f: f64, fstar: f64) -> f64 {
    (f - fstar) / f
}

fn reference(b: &Bench, loss: Loss) -> BoxResult<Reference> {
    let sg = subgrad_train(b, loss, 1e-12, max_iter(loss, true))?;
    eprintln!(
        "  {} ref subgrad: f = {:.12e}, {} iterations, converged {}, bound {:?}, {:.2} s",
        loss.name(),
        sg.solution.objective,
        sg.solution.iterations,
        sg.solution.converged,
        sg.solution.certificate.error_bound(),
        sg.seconds
    );
    let ll = liblinear_crate_train(&b.ll, loss, 1e-10, b.c)?;
    let ll_objective = b.objective(loss, &ll.w)?;
    eprintln!(
        "  {} ref liblinear: f = {ll_objective:.12e}, {:?} iterations, cap {}, {:.2} s {:?}",
        loss.name(),
        ll.iterations,
        ll.hit_cap,
        ll.seconds,
        ll.warnings
    );
    let fstar = sg.solution.objective.min(ll_objective);
    Ok(Reference {
        sg,
        ll,
        ll_objective,
        fstar,
    })
}

fn timing(b: &Bench, loss: Loss, fstar: f64) -> BoxResult<Timing> {
    let eps = loss.liblinear_default_eps();
    let mut ll_default = Vec::new();
    let mut ll_err = Vec::new();
    for _ in 0..RUNS {
        let run = liblinear_train(&b.ll, loss, eps, b.c)?;
        ll_err.push(rel(b.objective(loss, &run.w)?, fstar));
        ll_default.push(run);
    }
    let ll_crate = liblinear_crate_train(&b.ll, loss, eps, b.c)?;
    let go = |tol: f64| -> BoxResult<(Vec<SgRun>, Vec<f64>)> {
        let mut runs = Vec::new();
        let mut e = Vec::new();
        for _ in 0..RUNS {
            let run = subgrad_train(b, loss, tol, max_iter(loss, false))?;
            // Recomputed from the weights, as for liblinear.
            e.push(rel(b.objective(loss, &run.solution.w)?, fstar));
            if !run.solution.converged {
                eprintln!("  WARNING: subgrad at tol {tol:e} did not converge");
            }
            runs.push(run);
        }
        Ok((runs, e))
    };
    let (sg3, sg3_err) = go(1e-3)?;
    let (sg6, sg6_err) = go(1e-6)?;
    eprintln!(
        "  {} liblinear default {:.1} ms, subgrad 1e-3 {:.1} ms, 1e-6 {:.1} ms",
        loss.name(),
        spread(ll_default.iter().map(|r| r.seconds).collect()).1,
        spread(sg3.iter().map(|r| r.seconds).collect()).1,
        spread(sg6.iter().map(|r| r.seconds).collect()).1,
    );
    Ok(Timing {
        ll_default,
        ll_err,
        ll_crate,
        sg3,
        sg3_err,
        sg6,
        sg6_err,
    })
}

fn iters_ll(r: &LlRun) -> String {
    let n = r.iterations.map_or("?".into(), |n| n.to_string());
    if r.hit_cap {
        format!("{n} (cap)")
    } else {
        n
    }
}

fn iters_sg(r: &SgRun) -> String {
    let n = r.solution.iterations.to_string();
    if r.solution.converged {
        n
    } else {
        format!("{n} (limit)")
    }
}

fn print_tables(rows: &[Row]) {
    println!("\n### Reference optima (no bias)\n");
    println!(
        "| problem | loss | f* subgrad (tol 1e-12) | iters | certified rel. err | time s | f liblinear (eps 1e-10) | iters | time s | rel. diff |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let f = &r.reference;
        let fs = f.sg.solution.objective;
        println!(
            "| {} | {} | {:.10e} | {} | ≤ {:.1e} | {:.2} | {:.10e} | {} | {:.2} | {:.1e} |",
            r.problem,
            r.loss.name(),
            fs,
            iters_sg(&f.sg),
            f.sg.solution.certificate.error_bound().unwrap_or(f64::NAN) / fs,
            f.sg.seconds,
            f.ll_objective,
            iters_ll(&f.ll),
            f.ll.seconds,
            (f.ll_objective - fs) / fs,
        );
    }
    println!(
        "\nrel. diff = (f_liblinear − f_subgrad)/f_subgrad. Iterations: dual CD epochs \
         (subgrad counts epochs, liblinear outer passes), Newton steps for the squared hinge \
         (subgrad newton_cg, liblinear TRON); `(cap)`: liblinear \
         reported its iteration limit (1000); `(limit)`: subgrad stopped at its limit \
         ({REF_EPOCHS} epochs for the reference, {MAX_EPOCHS} for the timed runs). certified \
         rel. err: subgrad's certificate (duality gap, or ‖∇f‖²/2) over f, a bound on \
         (f − f_opt)/f for the reference point."
    );

    println!("\n### Times (ms, min / median / max of {RUNS} runs)\n");
    println!(
        "| problem | loss | liblinear default eps | rel. err | iters | via crate API (1 run) | subgrad tol 1e-3 | rel. err | subgrad tol 1e-6 | rel. err | iters | ratio sg(1e-6)/ll(default) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let t = &r.timing;
        let ll = spread(t.ll_default.iter().map(|x| x.seconds).collect());
        let s3 = spread(t.sg3.iter().map(|x| x.seconds).collect());
        let s6 = spread(t.sg6.iter().map(|x| x.seconds).collect());
        let solver = format!(
            "-s {} -e {}",
            r.loss.liblinear_solver(),
            r.loss.liblinear_default_eps()
        );
        println!(
            "| {} | {} | {} ({solver}) | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            r.problem,
            r.loss.name(),
            times(ll),
            errs(&t.ll_err),
            iters_ll(&t.ll_default[0]),
            ms(t.ll_crate.seconds * 1e3),
            times(s3),
            errs(&t.sg3_err),
            times(s6),
            errs(&t.sg6_err),
            iters_sg(&t.sg6[0]),
            s6.1 / ll.1,
        );
    }
    println!(
        "\nrel. err = (f(w) − f*)/f(w), f* = min of the two reference values, f recomputed \
         from each run's weights as ½‖w‖² + C·Σ loss. liblinear timed around its C `train()` \
         on prebuilt feature nodes; \"via crate API\" is `Builder::build_model`, which also \
         copies the input. subgrad: dual_cd (seed 0) for the hinge, newton_cg for the squared \
         hinge. ratio = median subgrad(1e-6) / median liblinear(default)."
    );
}

fn main() -> BoxResult<()> {
    capture_liblinear_output();
    let keys: Vec<char> = {
        let args: String = std::env::args().skip(1).collect();
        if args.is_empty() {
            "abcd".chars().collect()
        } else {
            args.chars().filter(char::is_ascii_alphabetic).collect()
        }
    };
    let mut rows = Vec::new();
    for key in keys {
        let start = Instant::now();
        let b = problem(key)?;
        eprintln!(
            "{}: {} (built in {:.2} s, not timed)",
            b.name,
            b.shape(),
            start.elapsed().as_secs_f64()
        );
        for loss in [Loss::Hinge, Loss::SquaredHinge] {
            let reference = reference(&b, loss)?;
            let timing = timing(&b, loss, reference.fstar)?;
            rows.push(Row {
                problem: b.name.clone(),
                loss,
                reference,
                timing,
            });
        }
    }
    print_tables(&rows);
    Ok(())
}
