//! Criterion: subgrad's dual CD (tol 1e-3 and 1e-6) against liblinear `-s 3` at its default
//! eps 0.1, hinge, no bias, problems (a) standardised breast_cancer and (d) sparse
//! 50,000 × 100,000. Data built before the timed loops.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use subgrad_bench::{
    capture_liblinear_output, liblinear_train, problem_a, problem_d, subgrad_train, Bench, Loss,
};

fn compare(c: &mut Criterion, b: &Bench, group: &str, samples: usize, secs: u64) {
    let mut g = c.benchmark_group(group);
    g.sample_size(samples)
        .measurement_time(Duration::from_secs(secs));
    g.bench_function("liblinear -s 3 -e 0.1", |bench| {
        bench.iter(|| {
            black_box(
                liblinear_train(&b.ll, Loss::Hinge, Loss::Hinge.liblinear_default_eps(), b.c)
                    .unwrap(),
            )
        })
    });
    for tol in [1e-3, 1e-6] {
        g.bench_function(format!("subgrad dual_cd tol {tol:e}"), |bench| {
            bench.iter(|| black_box(subgrad_train(b, Loss::Hinge, tol, 100_000).unwrap()))
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    capture_liblinear_output();
    let a = problem_a().expect("problem (a)");
    compare(c, &a, "hinge (a) breast_cancer", 50, 5);
    let d = problem_d().expect("problem (d)");
    compare(c, &d, "hinge (d) sparse 50000x100000", 10, 20);
}

criterion_group!(liblinear_vs_subgrad, benches);
criterion_main!(liblinear_vs_subgrad);
