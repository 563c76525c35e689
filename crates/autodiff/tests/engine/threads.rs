//! Threads: a `Tape` moves to a worker thread, and a product large enough to be split into row
//! blocks (`X·w`, `Xᵀg`, dense and sparse) gives the same bits, plain and certified, whatever
//! the number of threads of the pool it runs on; the gradients are checked against the hinge
//! gradient written out by hand.

use autodiff::{Certify, Data, Shape, SparseData, Tape};

/// Uniform values in [−1, 1) (xorshift): not integers, so a change of summation order shows.
pub(super) fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

const LAMBDA: f64 = 1e-3;

/// `∇[mean(max(0, 1 − yᵢ·xᵢ·w)) + ½λ‖w‖²]` by hand: `λw − (1/n)·Σ_{yᵢ·xᵢ·w < 1} yᵢ·xᵢ`
/// (0 on the margin, the default policy's `relu'(0)`).
fn hand_gradient(x: &[f64], y: &[f64], w: &[f64]) -> Vec<f64> {
    let (n, d) = (y.len(), w.len());
    let mut g: Vec<f64> = w.iter().map(|&wj| LAMBDA * wj).collect();
    for i in 0..n {
        let row = &x[i * d..(i + 1) * d];
        let z: f64 = row.iter().zip(w).map(|(a, b)| a * b).sum();
        if y[i] * z < 1.0 {
            for (gj, &xj) in g.iter_mut().zip(row) {
                *gj -= y[i] * xj / n as f64;
            }
        }
    }
    g
}

/// The pools the tests run on: 1, 2 and 3 threads.
fn pools() -> Vec<rayon::ThreadPool> {
    (1..=3)
        .map(|k| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .expect("a test pool")
        })
        .collect()
}

/// What one run gives: the loss, the plain gradient, the certified gradient and the tied
/// examples of the kink report, as bits.
type Run = (u64, Vec<u64>, Vec<u64>, Vec<usize>);

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The hinge job on dense `x` (n × d, row-major) or its CSR form, on the current thread.
fn run(x: &[f64], y: &[f64], w0: &[f64], sparse: bool) -> Run {
    let (n, d) = (y.len(), w0.len());
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(w0).unwrap();
    let yv = tape.data(&Data::vector(y.to_vec()).unwrap());
    let scores = if sparse {
        let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
        for i in 0..n {
            for j in 0..d {
                if x[i * d + j] != 0.0 {
                    indices.push(j as u32);
                    values.push(x[i * d + j]);
                }
            }
            indptr.push(values.len());
        }
        let m = SparseData::new(indptr, indices, values, d).unwrap();
        tape.sparse_matvec(&m, w).unwrap()
    } else {
        let m = Data::new(x.to_vec(), Shape::matrix(n, d)).unwrap();
        tape.data(&m).matvec(w)
    };
    let loss = (yv * scores).affine(-1.0, 1.0).relu().mean() + w.square().sum() * (0.5 * LAMBDA);
    let plain = loss.backward().unwrap();
    let certified = tape
        .backward_certified(loss, Certify::Random { seed: 5 })
        .unwrap();
    let tied = certified
        .report
        .sites()
        .iter()
        .flat_map(|s| s.exact.iter().copied())
        .collect();
    (
        loss.item().to_bits(),
        bits(plain.wrt(w)),
        bits(certified.wrt(w)),
        tied,
    )
}

/// Data above the split threshold (n·d ≥ 2²⁰ multiply–adds): `x` with a share `1 − density` of
/// zeros, labels ±1, and `w` scaled so that about half the examples violate the margin.
fn problem(n: usize, d: usize, density: f64, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let keep = uniform(n * d, seed);
    let x: Vec<f64> = uniform(n * d, seed + 1)
        .into_iter()
        .zip(keep)
        .map(|(v, k)| if (k + 1.0) / 2.0 < density { v } else { 0.0 })
        .collect();
    let y: Vec<f64> = uniform(n, seed + 2)
        .iter()
        .map(|&u| if u < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let w: Vec<f64> = uniform(d, seed + 3).iter().map(|v| v * 0.5).collect();
    (x, y, w)
}

fn assert_thread_count_independent(x: &[f64], y: &[f64], w: &[f64], sparse: bool) {
    let want = hand_gradient(x, y, w);
    let runs: Vec<Run> = pools()
        .iter()
        .map(|pool| pool.install(|| run(x, y, w, sparse)))
        .collect();
    for (k, r) in runs.iter().enumerate() {
        assert!(r == &runs[0], "{} threads vs 1 (sparse: {sparse})", k + 1);
    }
    // And the gradient is the hinge gradient (any summation order is within 1e-12 of it here:
    // |Σ| ≤ n terms of size ≤ 1, relative error ≤ n·ε).
    let got: Vec<f64> = runs[0].1.iter().map(|&b| f64::from_bits(b)).collect();
    for (j, (g, h)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - h).abs() <= 1e-12,
            "column {j}: {g} vs the hand gradient {h}"
        );
    }
}

#[test]
fn dense_results_do_not_depend_on_the_thread_count() {
    let (x, y, w) = problem(20_000, 64, 1.0, 11);
    assert_thread_count_independent(&x, &y, &w, false);
}

#[test]
fn sparse_results_do_not_depend_on_the_thread_count() {
    // ≈ 1.4·10⁶ stored values over 200 columns: split into blocks.
    let (x, y, w) = problem(45_000, 200, 0.16, 21);
    assert_thread_count_independent(&x, &y, &w, true);
}

#[test]
fn certified_ties_and_the_kink_report_do_not_depend_on_the_thread_count() {
    // Integer features with every tenth example exactly on the margin (yᵢ·xᵢ·w = 1): the
    // certified mode resolves those ties, and the report names them, for every pool.
    let (n, d) = (20_000, 64);
    let ints: Vec<f64> = uniform(n * d, 31)
        .iter()
        .map(|v| (v * 2.0).round())
        .collect();
    let w: Vec<f64> = (0..d)
        .map(|j| if j % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    let mut x = ints;
    let mut y = vec![1.0; n];
    for i in 0..n {
        let rest: f64 = (1..d).map(|j| w[j] * x[i * d + j]).sum();
        if i % 10 == 0 {
            // w₀ = −1: x₀ = rest − 1 makes xᵢ·w = 1.
            x[i * d] = rest - 1.0;
        } else if i % 2 == 1 {
            y[i] = -1.0;
        }
    }
    let runs: Vec<Run> = pools()
        .iter()
        .map(|pool| pool.install(|| run(&x, &y, &w, false)))
        .collect();
    // The examples on the margin, by exact integer arithmetic: every tenth, and those that
    // land there by chance.
    let margin: Vec<usize> = (0..n)
        .filter(|&i| {
            let z: f64 = (0..d).map(|j| w[j] * x[i * d + j]).sum();
            y[i] * z == 1.0
        })
        .collect();
    assert!(margin.len() >= n / 10);
    assert!(
        runs[0].3 == margin,
        "the report names the {} examples on the margin ({} reported)",
        margin.len(),
        runs[0].3.len()
    );
    for (k, r) in runs.iter().enumerate() {
        assert!(r == &runs[0], "{} threads vs 1", k + 1);
    }
}

#[test]
fn a_tape_moves_to_a_worker_thread() {
    fn is_send<S: Send>(_: &S) {}
    let tape = Tape::<f64>::new();
    is_send(&tape);
    // Built here, differentiated there: f(w) = relu(w₀ − w₁) + w₁², ∇ = (1, −1 + 2w₁) at
    // w = (3, 1), by hand: (1, 1).
    let handle = std::thread::spawn(move || {
        let w = tape.param_vec(&[3.0, 1.0]).unwrap();
        let (w0, w1) = (w.slice(0, 1), w.slice(1, 2));
        let f = (w0 - w1).relu().sum() + w1.square().sum();
        f.backward().unwrap().wrt(w).to_vec()
    });
    assert_eq!(handle.join().unwrap(), vec![1.0, 1.0]);
}
