//! Each loss's primitive form (autodiff) against its closed form, n = 10,000, d = 100 (K = 10 for
//! multiclass), measured in the same run; and the all-pairs squared hinge's O(n log n) closed
//! form at n = 1,000,000 beside the naive O(n²) engine form at n = 2,000 and 10,000.
//! The ratios are printed at the end from criterion's estimates.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use autodiff::{Data, Gradients, Shape, Tape};
use criterion::Criterion;
use losses::{
    all_pairs_autodiff, all_pairs_value_grad, linear_on_tape, linear_value_grad, MarginLoss,
    MulticlassLoss,
};

const N: usize = 10_000;
const D: usize = 100;
const K: usize = 10;

fn uniform(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

struct Problem {
    x: Vec<f64>,
    y: Vec<f64>,
    labels: Vec<usize>,
    w: Vec<f64>,
    wk: Vec<f64>,
}

fn problem() -> Problem {
    let mut s = 0x1234_5678_9abc_def1_u64;
    let x: Vec<f64> = (0..N * D).map(|_| uniform(&mut s)).collect();
    let truth: Vec<f64> = (0..D).map(|_| uniform(&mut s)).collect();
    let y: Vec<f64> = (0..N)
        .map(|i| {
            if (0..D).map(|j| x[i * D + j] * truth[j]).sum::<f64>() >= 0.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    let labels: Vec<usize> = (0..N).map(|i| i % K).collect();
    // Scaled so roughly half the margins are below 1.
    let w: Vec<f64> = truth.iter().map(|t| t * 0.35).collect();
    let wk: Vec<f64> = (0..D * K).map(|_| uniform(&mut s) * 0.05).collect();
    Problem {
        x,
        y,
        labels,
        w,
        wk,
    }
}

/// Median times of `a` and `b` and the median of the per-round ratios a/b, timed alternately
/// (a, b, a, b, …) so that load from other processes on a shared machine hits both alike.
fn paired_ratio<A, B>(
    a: &mut impl FnMut() -> A,
    b: &mut impl FnMut() -> B,
    rounds: usize,
) -> [f64; 3] {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut ta, mut tb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        black_box(a());
        let da = start.elapsed().as_secs_f64();
        let start = Instant::now();
        black_box(b());
        let db = start.elapsed().as_secs_f64();
        ta.push(da);
        tb.push(db);
        ratio.push(da / db);
    }
    [median(ta), median(tb), median(ratio)]
}

type Paired = Vec<(&'static str, [f64; 3])>;

fn bench_binary(c: &mut Criterion, p: &Problem, paired: &mut Paired) {
    let xd = Data::new(p.x.clone(), Shape::matrix(N, D)).unwrap();
    let yd = Data::vector(p.y.clone()).unwrap();
    let mut tape = Tape::<f64>::new();
    let mut grads = Gradients::new();
    for loss in [
        MarginLoss::hinge(),
        MarginLoss::squared_hinge(),
        MarginLoss::SmoothGaussian { sigma: 0.5 },
        MarginLoss::SmoothSqrt { sigma: 0.5 },
        MarginLoss::Huberized { gamma: 0.5 },
        MarginLoss::ModifiedHuber,
    ] {
        let mut autodiff = || {
            tape.clear();
            let w = tape.param_vec(&p.w).unwrap();
            let l = linear_on_tape(loss, tape.data(&xd), tape.data(&yd), w, None).unwrap();
            tape.backward_into(l, &mut grads).unwrap();
            black_box((l.item(), grads.wrt(w)[0]))
        };
        let mut closed = || {
            let g = linear_value_grad(loss, &p.x, D, &p.y, black_box(&p.w), None).unwrap();
            black_box((g.value, g.w[0]))
        };
        let mut group = c.benchmark_group(format!("loss_{}", loss.name()));
        group.sample_size(20);
        group.bench_function("autodiff", |b| b.iter(&mut autodiff));
        group.bench_function("closed", |b| b.iter(&mut closed));
        group.finish();
        paired.push((loss.name(), paired_ratio(&mut autodiff, &mut closed, 41)));
    }
}

fn bench_multiclass(c: &mut Criterion, p: &Problem, paired: &mut Paired) {
    let xd = Data::new(p.x.clone(), Shape::matrix(N, D)).unwrap();
    let mut tape = Tape::<f64>::new();
    let mut grads = Gradients::new();
    for (name, loss) in [
        ("weston-watkins", MulticlassLoss::weston_watkins()),
        ("crammer-singer", MulticlassLoss::crammer_singer()),
    ] {
        let mut autodiff = || {
            tape.clear();
            let w = tape.param(&p.wk, Shape::matrix(D, K)).unwrap();
            let l = loss.on_tape(tape.data(&xd).matmul(w), &p.labels).unwrap();
            tape.backward_into(l, &mut grads).unwrap();
            black_box((l.item(), grads.wrt(w)[0]))
        };
        let mut closed = || {
            let (l, g) = loss
                .linear_value_grad(&p.x, D, &p.labels, black_box(&p.wk), K)
                .unwrap();
            black_box((l, g[0]))
        };
        let mut group = c.benchmark_group(format!("loss_{name}"));
        group.sample_size(20);
        group.bench_function("autodiff", |b| b.iter(&mut autodiff));
        group.bench_function("closed", |b| b.iter(&mut closed));
        group.finish();
        paired.push((name, paired_ratio(&mut autodiff, &mut closed, 21)));
    }
}

fn bench_all_pairs(c: &mut Criterion) {
    let mut s = 0xfeed_beef_u64;
    let mut data = |n: usize| {
        let pred: Vec<f64> = (0..n).map(|_| uniform(&mut s)).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
            .collect();
        (pred, y)
    };
    let mut group = c.benchmark_group("all_pairs");
    group.sample_size(10);
    let (p, y) = data(1_000_000);
    group.bench_function("fast_n1000000", |b| {
        b.iter(|| black_box(all_pairs_value_grad(&p, &y, 1.0).unwrap().0))
    });
    for n in [2_000usize, 10_000] {
        let (p, y) = data(n);
        group.bench_function(format!("fast_n{n}"), |b| {
            b.iter(|| black_box(all_pairs_value_grad(&p, &y, 1.0).unwrap().0))
        });
        group.bench_function(format!("naive_n{n}"), |b| {
            b.iter(|| black_box(all_pairs_autodiff(&p, &y, 1.0).unwrap().0))
        });
    }
    group.finish();
}

fn mean_ns(dir: &Path, group: &str, id: &str) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join(group).join(id).join("new").join("estimates.json"))
        .ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    // The median: robust to bursts of load from other processes on a shared machine.
    json["median"]["point_estimate"].as_f64()
}

fn report(dir: &Path, paired: &Paired) {
    println!("\n== losses: autodiff / closed form, n = {N}, d = {D} (K = {K}), target ≤ 1.5 ==");
    for name in [
        "hinge",
        "squared-hinge",
        "smooth-gaussian",
        "smooth-sqrt",
        "huberized",
        "modified-huber",
        "weston-watkins",
        "crammer-singer",
    ] {
        let group = format!("loss_{name}");
        if let (Some(a), Some(c)) = (
            mean_ns(dir, &group, "autodiff"),
            mean_ns(dir, &group, "closed"),
        ) {
            println!(
                "{name:<16} autodiff {:>8.1} µs  closed {:>8.1} µs  ratio {:.3}",
                a / 1e3,
                c / 1e3,
                a / c
            );
        }
    }
    println!("== the same, timed in alternation (median of per-round ratios; robust to load) ==");
    for (name, [a, c, r]) in paired {
        println!(
            "{name:<16} autodiff {:>8.1} µs  closed {:>8.1} µs  ratio {r:.3}",
            a * 1e6,
            c * 1e6
        );
    }
    println!("== all-pairs squared hinge, loss + gradient ==");
    for id in [
        "fast_n1000000",
        "fast_n2000",
        "naive_n2000",
        "fast_n10000",
        "naive_n10000",
    ] {
        if let Some(t) = mean_ns(dir, "all_pairs", id) {
            println!("{id:<16} {:>10.3} ms", t / 1e6);
        }
    }
}

fn main() {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    let p = problem();
    let mut paired = Paired::new();
    bench_binary(&mut c, &p, &mut paired);
    bench_multiclass(&mut c, &p, &mut paired);
    bench_all_pairs(&mut c);
    c.final_summary();
    report(&dir, &paired);
}
