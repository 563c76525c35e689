//! Engine benchmarks, each against a baseline measured in the same run:
//! - `hinge_f64`, `hinge_f32`: mean hinge loss + ½λ‖w‖² and its gradient, n = 10,000, d = 100,
//!   built from the engine's primitives (`engine`) vs a hand-written closed-form loop (`hand`, the
//!   issue's baseline: plain Rust, eight accumulators), and, for transparency, the same loop with
//!   explicit SIMD vectors like the engine's kernels (`hand_simd`);
//! - `chain`: a chain of 1,000 scalar ops, forward + backward (tape bookkeeping per op);
//! - `certified_ties`, `certified_no_ties`: the certified backward of the same hinge loss vs the
//!   plain backward, on integer data with 15 % of the examples exactly on the margin (target
//!   ≤ 2×) and on the random data above, with no tie, exact or within the tie tolerance (target
//!   ≤ 1.05×: the tolerance check is one comparison per margin); besides criterion's two
//!   estimates, the report gives the ratio measured in interleaved rounds (`paired_ratio`), which
//!   a shared machine's drift between the two groups does not bias, and the ratio of each one's
//!   fastest round (stolen time only ever adds, so it is the least disturbed figure);
//! - `scaling_f32_n…`, `scaling_f64_n…`: the hinge job at n = 10³, 10⁴, 10⁵ and 10⁶ (d = 100):
//!   `engine` (the public API, as in `hinge_*`), `hand` (the same hand loop) and `stream` (one
//!   streaming read of X: a sum of all of it with 32 independent accumulators, compiled for the
//!   widest vectors the CPU has), so the report can state the engine's distance to the hand loop
//!   (target ≤ 1.1) and to one read of X (target ≤ 2 at 10⁴, ≤ 1.5 at 10⁶) with the GB/s of
//!   both. The engine runs on a one-thread pool here, as the hand loop does. Run only these with
//!   `cargo bench -p autodiff --bench engine -- scaling`;
//! - `threads_f32_n1000000`, `threads_f64_n1000000`: the same job at n = 10⁶ on a rayon pool of
//!   one thread (`one_thread`) and of two (`two_threads`), after checking that both give the same
//!   bits; the report gives the speedup (target ≥ 1.8). Run with `-- threads`.
//!
//! - `losses_f32_n10000`, …, `losses_f64_n1000000`: the squared hinge (fused like the hinge) and
//!   Weston–Watkins with K = 10 (through `matmul`, not fused), each against its closed form
//!   written as a hand loop, at n = 10⁴ and 10⁶. Run with `-- losses`.
//!
//! The scaling groups also time the engine with fusion off (`unfused`, `Fuse::Never`): the
//! report's "unfused (unfused/engine)" column is what fusion gains in the same run.
//!
//! After the run, the ratios are printed from criterion's estimates.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use std::time::Duration;

use autodiff::{Certify, Data, Fuse, Gradients, Real, Shape, Tape};
use criterion::{Criterion, SamplingMode, Throughput};

const N: usize = 10_000;
const D: usize = 100;
const LAMBDA: f64 = 1e-3;
const CHAIN: usize = 1_000;
/// The example counts of the scaling groups.
const SCALING_N: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

/// A deterministic data set: uniform features, labels from a hidden linear model, and a weight
/// vector scaled so half the examples violate the margin.
struct Problem<T: Real> {
    x: Data<T>,
    y: Data<T>,
    w: Vec<T>,
}

fn problem<T: Real>() -> Problem<T> {
    problem_n(N)
}

/// [`problem`]'s construction for `n` examples, generated straight into `T` (no `f64` copy of a
/// large X); the scores are computed in `f64` from the `T` values.
fn problem_n<T: Real>(n: usize) -> Problem<T> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let x: Vec<T> = (0..n * D).map(|_| T::cst(uniform())).collect();
    let truth: Vec<f64> = (0..D).map(|_| uniform()).collect();
    let scores: Vec<f64> = x
        .chunks_exact(D)
        .map(|row| {
            row.iter()
                .zip(&truth)
                .map(|(&a, &t)| a.to_f64_lossless() * t)
                .sum()
        })
        .collect();
    let y: Vec<T> = scores
        .iter()
        .map(|s| T::cst(if *s >= 0.0 { 1.0 } else { -1.0 }))
        .collect();
    let mut margins: Vec<f64> = scores.iter().map(|s| s.abs()).collect();
    let (_, median, _) = margins.select_nth_unstable_by(n / 2, f64::total_cmp);
    // Just off the median, so no margin is exactly 1 (this data set has no kink).
    let scale = 0.999_999 / *median;
    Problem {
        x: Data::new(x, Shape::matrix(n, D)).unwrap(),
        y: Data::vector(y).unwrap(),
        w: truth.iter().map(|&t| T::cst(t * scale)).collect(),
    }
}

/// The hand loops' `row·w`: eight independent partial sums (portable Rust, as a user writes it).
#[inline(always)]
fn hand_dot<T: Real>(row: &[T], w: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let (cr, cw) = (row.chunks_exact(8), w.chunks_exact(8));
    let (rr, rw) = (cr.remainder(), cw.remainder());
    for (a, b) in cr.zip(cw) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (&a, &b) in rr.iter().zip(rw) {
        s += a * b;
    }
    s
}

/// The baseline: one pass over the rows, margin by an 8-accumulator dot product, and the
/// subgradient −yᵢ·xᵢ/n added while the row is hot, for rows with yᵢ·w·xᵢ < 1.
fn hand<T: Real>(x: &[T], y: &[T], w: &[T], grad: &mut [T]) -> T {
    let n = y.len();
    let inv_n = T::one() / T::cst(n as f64);
    let lambda = T::cst(LAMBDA);
    grad.fill(T::zero());
    let mut loss = T::zero();
    for (row, &yi) in x.chunks_exact(w.len()).zip(y) {
        let margin = yi * hand_dot(row, w);
        if margin < T::one() {
            loss += T::one() - margin;
            let coef = -yi * inv_n;
            for (g, &a) in grad.iter_mut().zip(row) {
                *g += coef * a;
            }
        }
    }
    let mut norm = T::zero();
    for (g, &wj) in grad.iter_mut().zip(w) {
        *g += lambda * wj;
        norm += wj * wj;
    }
    loss * inv_n + T::cst(0.5) * lambda * norm
}

/// [`hand`] with explicit SIMD vectors (`wide`), the engine kernels' width: four vector
/// accumulators for the margin, a vector update of the gradient.
macro_rules! hand_simd {
    ($name:ident, $t:ty, $v:ty, $lanes:expr) => {
        fn $name(x: &[$t], y: &[$t], w: &[$t], grad: &mut [$t]) -> $t {
            const L: usize = $lanes;
            let ld = |s: &[$t]| <$v>::new(s.try_into().unwrap());
            let inv_n = 1.0 / y.len() as $t;
            let lambda = LAMBDA as $t;
            grad.fill(0.0);
            let mut loss = 0.0;
            for (row, &yi) in x.chunks_exact(w.len()).zip(y) {
                let mut acc = [<$v>::ZERO; 4];
                let (cr, cw) = (row.chunks_exact(4 * L), w.chunks_exact(4 * L));
                let (rr, rw) = (cr.remainder(), cw.remainder());
                for (a, b) in cr.zip(cw) {
                    for k in 0..4 {
                        acc[k] += ld(&a[k * L..(k + 1) * L]) * ld(&b[k * L..(k + 1) * L]);
                    }
                }
                let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])).reduce_add();
                for (&a, &b) in rr.iter().zip(rw) {
                    s += a * b;
                }
                let margin = yi * s;
                if margin < 1.0 {
                    loss += 1.0 - margin;
                    let coef = -yi * inv_n;
                    let cv = <$v>::splat(coef);
                    let mut gc = grad.chunks_exact_mut(L);
                    for (g, a) in (&mut gc).zip(row.chunks_exact(L)) {
                        g.copy_from_slice((ld(g) + cv * ld(a)).as_array());
                    }
                    let tail = w.len() / L * L;
                    for (g, &a) in gc.into_remainder().iter_mut().zip(&row[tail..]) {
                        *g += coef * a;
                    }
                }
            }
            let mut norm = 0.0;
            for (g, &wj) in grad.iter_mut().zip(w) {
                *g += lambda * wj;
                norm += wj * wj;
            }
            loss * inv_n + 0.5 * lambda * norm
        }
    };
}
/// A hand-written loss-and-gradient loop: `(X, y, w, ∂/∂w) → loss`.
type HandLoop<T> = fn(&[T], &[T], &[T], &mut [T]) -> T;

hand_simd!(hand_simd_f64, f64, wide::f64x2, 2);
hand_simd!(hand_simd_f32, f32, wide::f32x4, 4);

fn bench_hinge<T: Real>(c: &mut Criterion, name: &str, hand_simd: HandLoop<T>) {
    let p = problem::<T>();
    let mut tape = Tape::<T>::new();
    let mut grads = Gradients::new();
    let mut hand_grad = vec![T::zero(); D];

    // Both must compute the same thing before their speed is compared.
    let engine_value = {
        let w = tape.param_vec(&p.w).unwrap();
        let loss = engine_loss(&tape, &p, w);
        tape.backward_into(loss, &mut grads).unwrap();
        let _ = grads.wrt(w);
        loss.item()
    };
    let hand_value = hand(p.x.values(), p.y.values(), &p.w, &mut hand_grad);
    let simd_value = hand_simd(p.x.values(), p.y.values(), &p.w, &mut hand_grad);
    for (what, value) in [("hand", hand_value), ("hand_simd", simd_value)] {
        let rel = ((engine_value - value) / value).abs().to_f64_lossless();
        assert!(
            rel < 1e-4,
            "{name}: engine {engine_value} vs {what} {value}"
        );
    }

    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements((N * D) as u64));
    group.bench_function("engine", |b| {
        b.iter(|| {
            tape.clear();
            let w = tape.param_vec(black_box(&p.w)).unwrap();
            let loss = engine_loss(&tape, &p, w);
            tape.backward_into(loss, &mut grads).unwrap();
            black_box((loss.item(), grads.wrt(w)[0]))
        })
    });
    group.bench_function("hand", |b| {
        b.iter(|| {
            let loss = hand(p.x.values(), p.y.values(), black_box(&p.w), &mut hand_grad);
            black_box((loss, hand_grad[0]))
        })
    });
    group.bench_function("hand_simd", |b| {
        b.iter(|| {
            let loss = hand_simd(p.x.values(), p.y.values(), black_box(&p.w), &mut hand_grad);
            black_box((loss, hand_grad[0]))
        })
    });
    group.finish();
}

/// `mean(relu(1 − y ⊙ (X·w))) + (λ/2)·Σ w²`, from the engine's primitives.
fn engine_loss<'t, T: Real>(
    tape: &'t Tape<T>,
    p: &Problem<T>,
    w: autodiff::Var<'t, T>,
) -> autodiff::Var<'t, T> {
    let x = tape.data(&p.x);
    let y = tape.data(&p.y);
    let hinge = (y * x.matvec(w)).affine(-T::one(), T::one()).relu().mean();
    hinge + w.square().sum() * T::cst(0.5 * LAMBDA)
}

/// One streaming read of `x`: its sum with 32 independent partial sums (vertical adds, so the
/// compiler vectorises them at the width it compiles for).
#[inline(always)]
fn stream_sum_lanes<T: Real>(x: &[T]) -> T {
    let mut acc = [T::zero(); 32];
    let chunks = x.chunks_exact(32);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..32 {
            acc[k] += c[k];
        }
    }
    acc.iter().copied().sum::<T>() + rest.iter().copied().sum::<T>()
}

/// [`stream_sum_lanes`] compiled for AVX2, so the baseline is the machine's read bandwidth, not
/// the build's baseline vector width.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn stream_sum_avx2<T: Real>(x: &[T]) -> T {
    stream_sum_lanes(x)
}

/// The streaming-read baseline: the sum of all of `x`, at the widest vectors the CPU has.
fn stream_sum<T: Real>(x: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected on this CPU just above.
        return unsafe { stream_sum_avx2(x) };
    }
    stream_sum_lanes(x)
}

/// This process's minor page faults so far (field 10 of `/proc/self/stat`), or `None` off Linux.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is parenthesised and may hold spaces: count after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(7)?.parse().ok()
}

/// One engine step as a user writes it: clear, the parameter, the loss, its gradient.
fn engine_step<T: Real>(tape: &mut Tape<T>, grads: &mut Gradients<T>, p: &Problem<T>) -> (T, T) {
    tape.clear();
    let w = tape.param_vec(black_box(&p.w)).unwrap();
    let loss = engine_loss(tape, p, w);
    tape.backward_into(loss, grads).unwrap();
    (loss.item(), grads.wrt(w)[0])
}

/// The scaling groups of one element type: engine, hand loop and one streaming read of X at
/// every n of [`SCALING_N`]. Returns lines for the final report (page faults per step).
fn bench_scaling<T: Real>(c: &mut Criterion, notes: &mut Vec<String>) {
    for n in SCALING_N {
        let name = format!("scaling_{}_n{n}", T::NAME);
        if !wanted(&name) {
            continue;
        }
        let p = problem_n::<T>(n);
        let mut tape = Tape::<T>::new();
        let mut grads = Gradients::new();
        let mut hand_grad = vec![T::zero(); D];
        let (engine_value, _) = engine_step(&mut tape, &mut grads, &p);
        let hand_value = hand(p.x.values(), p.y.values(), &p.w, &mut hand_grad);
        let rel = ((engine_value - hand_value) / hand_value)
            .abs()
            .to_f64_lossless();
        assert!(
            rel < 1e-3,
            "{name}: engine {engine_value} vs hand {hand_value}"
        );
        // The tape keeps its buffers across `clear`, so steady-state steps should not fault. The
        // step after the first is the first fused one (out of cache), which sizes the fusion's
        // buffers: one more step before counting.
        black_box(engine_step(&mut tape, &mut grads, &p));
        if let Some(before) = minor_faults() {
            let steps = 5;
            for _ in 0..steps {
                black_box(engine_step(&mut tape, &mut grads, &p));
            }
            let after = minor_faults().unwrap_or(before);
            notes.push(format!(
                "{name}: {:.1} minor page faults per engine step (steady state, {steps} steps; X is {} pages of 4 KiB)",
                (after - before) as f64 / steps as f64,
                n * D * std::mem::size_of::<T>() / 4096
            ));
        }

        let mut group = c.benchmark_group(&name);
        if n >= 100_000 {
            large_group::<T>(&mut group, n);
        } else {
            group.throughput(Throughput::Bytes((n * D * std::mem::size_of::<T>()) as u64));
            group
                .sample_size(20)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(1));
        }
        // One thread, as the hand loop: above the split threshold the engine would otherwise
        // spread its products over rayon's pool (measured on its own in `threads_…`).
        let single = pool(1);
        group.bench_function("engine", |b| {
            // Inside the pool for the whole measurement: one `install` per call would time the
            // hand-off to the pool's thread and back (µs, the whole job at n = 10³).
            single.install(|| b.iter(|| black_box(engine_step(&mut tape, &mut grads, &p))))
        });
        // The same step with fusion off: what fusion gains, in the same run.
        let mut unfused = Tape::<T>::new();
        unfused.set_fusion(Fuse::Never);
        group.bench_function("unfused", |b| {
            single.install(|| b.iter(|| black_box(engine_step(&mut unfused, &mut grads, &p))))
        });
        group.bench_function("hand", |b| {
            b.iter(|| {
                let loss = hand(p.x.values(), p.y.values(), black_box(&p.w), &mut hand_grad);
                black_box((loss, hand_grad[0]))
            })
        });
        group.bench_function("stream", |b| {
            b.iter(|| black_box(stream_sum(black_box(p.x.values()))))
        });
        group.finish();
    }
}

/// The classes of the Weston–Watkins groups.
const CLASSES: usize = 10;

/// The example counts of the `losses_…` groups (in cache, and out of it).
const LOSSES_N: [usize; 2] = [10_000, 1_000_000];

/// `mean(relu(1 − y ⊙ (X·w))²) + (λ/2)·Σ w²`, from the engine's primitives.
fn engine_squared<'t, T: Real>(
    tape: &'t Tape<T>,
    p: &Problem<T>,
    w: autodiff::Var<'t, T>,
) -> autodiff::Var<'t, T> {
    let x = tape.data(&p.x);
    let y = tape.data(&p.y);
    let sq = (y * x.matvec(w))
        .affine(-T::one(), T::one())
        .relu()
        .square()
        .mean();
    sq + w.square().sum() * T::cst(0.5 * LAMBDA)
}

/// The squared hinge's closed form, written as [`hand`]: `ℓ = max(0, 1 − m)²`,
/// `∂ℓ/∂w = −2·max(0, 1 − m)·y·x` (0 at the margin, like the hinge's).
fn hand_squared<T: Real>(x: &[T], y: &[T], w: &[T], grad: &mut [T]) -> T {
    let n = y.len();
    let inv_n = T::one() / T::cst(n as f64);
    let lambda = T::cst(LAMBDA);
    grad.fill(T::zero());
    let mut loss = T::zero();
    for (row, &yi) in x.chunks_exact(w.len()).zip(y) {
        let gap = T::one() - yi * hand_dot(row, w);
        if gap > T::zero() {
            loss += gap * gap;
            let coef = T::cst(-2.0) * gap * yi * inv_n;
            for (g, &a) in grad.iter_mut().zip(row) {
                *g += coef * a;
            }
        }
    }
    let mut norm = T::zero();
    for (g, &wj) in grad.iter_mut().zip(w) {
        *g += lambda * wj;
        norm += wj * wj;
    }
    loss * inv_n + T::cst(0.5) * lambda * norm
}

/// Weston–Watkins over `K = CLASSES` classes, `mean_i Σ_{k ≠ yᵢ} max(0, 1 + sᵢₖ − sᵢ,yᵢ)` with
/// `S = X·W` (`W` is `d × K`), from the engine's primitives: the true class's own term is
/// `relu(1) = 1` in every row, taken off by the final affine.
fn engine_ww<'t, T: Real>(
    tape: &'t Tape<T>,
    x: &Data<T>,
    labels: &[usize],
    w: autodiff::Var<'t, T>,
) -> autodiff::Var<'t, T> {
    let n = labels.len();
    let scores = tape.data(x).matmul(w);
    let truth = scores.gather(labels).reshape(Shape::matrix(n, 1));
    (scores - truth + T::one())
        .relu()
        .mean()
        .affine(T::cst(CLASSES as f64), -T::one())
}

/// Weston–Watkins' closed form: per row the K scores, every violated class `k` adds
/// `1 + sₖ − s_y` and moves `+xᵢ` into column k and `−xᵢ` into column y of `∂W`.
fn hand_ww<T: Real>(x: &[T], labels: &[usize], w: &[T], grad: &mut [T]) -> T {
    let (n, k) = (labels.len(), CLASSES);
    let d = w.len() / k;
    let inv_n = T::one() / T::cst(n as f64);
    grad.fill(T::zero());
    let mut loss = T::zero();
    for (row, &yi) in x.chunks_exact(d).zip(labels) {
        let mut s = [T::zero(); CLASSES];
        for (&a, wr) in row.iter().zip(w.chunks_exact(k)) {
            for c in 0..k {
                s[c] += a * wr[c];
            }
        }
        let mut coef = [T::zero(); CLASSES];
        for c in (0..k).filter(|&c| c != yi) {
            let m = T::one() + s[c] - s[yi];
            if m > T::zero() {
                loss += m;
                coef[c] += inv_n;
                coef[yi] -= inv_n;
            }
        }
        for (&a, gr) in row.iter().zip(grad.chunks_exact_mut(k)) {
            for c in 0..k {
                gr[c] += a * coef[c];
            }
        }
    }
    loss * inv_n
}

/// Squared hinge and Weston–Watkins (K = 10) at n = 10⁴ and 10⁶, each against its closed form
/// in the same run (`losses_f32_n10000`, …; run with `-- losses`). One thread, as the scaling
/// groups. Weston–Watkins goes through `matmul`, which is not fused.
fn bench_losses<T: Real>(c: &mut Criterion) {
    for n in LOSSES_N {
        let name = format!("losses_{}_n{n}", T::NAME);
        if !wanted(&name) {
            continue;
        }
        let p = problem_n::<T>(n);
        let labels: Vec<usize> = (0..n).map(|i| (i * 7 + i / 3) % CLASSES).collect();
        let wk: Vec<T> = (0..D * CLASSES)
            .map(|q| T::cst(((q * 37 % 19) as f64 - 9.0) / 90.0))
            .collect();
        let mut tape = Tape::<T>::new();
        let mut grads = Gradients::new();
        let mut hand_grad = vec![T::zero(); D];
        let mut hand_grad_k = vec![T::zero(); D * CLASSES];
        let sq_step = |tape: &mut Tape<T>, grads: &mut Gradients<T>| {
            tape.clear();
            let w = tape.param_vec(black_box(&p.w)).unwrap();
            let loss = engine_squared(tape, &p, w);
            tape.backward_into(loss, grads).unwrap();
            (loss.item(), grads.wrt(w)[0])
        };
        let ww_step = |tape: &mut Tape<T>, grads: &mut Gradients<T>| {
            tape.clear();
            let w = tape
                .param(black_box(&wk), Shape::matrix(D, CLASSES))
                .unwrap();
            let loss = engine_ww(tape, &p.x, &labels, w);
            tape.backward_into(loss, grads).unwrap();
            (loss.item(), grads.wrt(w)[0])
        };
        // Both forms agree before anything is timed (values, and one gradient entry).
        let single = pool(1);
        for (what, (e, eg), (h, hg)) in [
            (
                "squared hinge",
                single.install(|| sq_step(&mut tape, &mut grads)),
                (
                    hand_squared(p.x.values(), p.y.values(), &p.w, &mut hand_grad),
                    hand_grad[0],
                ),
            ),
            (
                "weston-watkins",
                single.install(|| ww_step(&mut tape, &mut grads)),
                (
                    hand_ww(p.x.values(), &labels, &wk, &mut hand_grad_k),
                    hand_grad_k[0],
                ),
            ),
        ] {
            let close = |a: T, b: T| {
                (a - b).abs().to_f64_lossless() <= 1e-3 * (1.0 + b.abs().to_f64_lossless())
            };
            assert!(
                close(e, h) && close(eg, hg),
                "{name} {what}: engine ({e}, {eg}) vs closed form ({h}, {hg})"
            );
        }
        let mut group = c.benchmark_group(&name);
        large_group::<T>(&mut group, n);
        group.bench_function("squared_engine", |b| {
            single.install(|| b.iter(|| black_box(sq_step(&mut tape, &mut grads))))
        });
        group.bench_function("squared_hand", |b| {
            b.iter(|| {
                let v = hand_squared(p.x.values(), p.y.values(), black_box(&p.w), &mut hand_grad);
                black_box((v, hand_grad[0]))
            })
        });
        group.bench_function("ww_engine", |b| {
            single.install(|| b.iter(|| black_box(ww_step(&mut tape, &mut grads))))
        });
        group.bench_function("ww_hand", |b| {
            b.iter(|| {
                let v = hand_ww(p.x.values(), &labels, black_box(&wk), &mut hand_grad_k);
                black_box((v, hand_grad_k[0]))
            })
        });
        group.finish();
    }
}

/// The `losses_…` lines of the report: engine / closed form per loss.
fn losses_report(dir: &Path) {
    for t in ["f32", "f64"] {
        for n in LOSSES_N {
            let group = format!("losses_{t}_n{n}");
            for (loss, target) in [("squared", "fused, ≤ 1.1"), ("ww", "matmul, not fused")] {
                let (Some(e), Some(h)) = (
                    mean_ns(dir, &group, &format!("{loss}_engine")),
                    mean_ns(dir, &group, &format!("{loss}_hand")),
                ) else {
                    continue;
                };
                println!(
                    "{group} {loss}: engine {}, closed form {}, ratio {:.2} ({target})",
                    time(e),
                    time(h),
                    e / h
                );
            }
        }
    }
}

/// The settings of a group over n ≥ 10⁵ examples (each call takes milliseconds): throughput in
/// bytes of X, flat sampling, 10 samples, 3 s of measurement at n = 10⁶ and 1 s below.
fn large_group<T: Real>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
) {
    group
        .throughput(Throughput::Bytes((n * D * std::mem::size_of::<T>()) as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if n >= 1_000_000 { 3 } else { 1 }));
}

/// A rayon pool of `threads` threads.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
}

/// The hinge job at n = 10⁶ (`threads_f32_n1000000`, `threads_f64_n1000000`) on a pool of one
/// thread and of two: the engine splits `X·w` and `Xᵀg` into fixed row blocks, so both give the
/// same bits (checked here before timing) and the second core's gain is the only difference.
fn bench_threads<T: Real>(c: &mut Criterion, notes: &mut Vec<String>) {
    let n = 1_000_000;
    let name = format!("threads_{}_n{n}", T::NAME);
    if !wanted(&name) {
        return;
    }
    let p = problem_n::<T>(n);
    let mut tape = Tape::<T>::new();
    let mut grads = Gradients::new();
    let pools = [pool(1), pool(2)];
    let runs: Vec<(T, Vec<T>)> = pools
        .iter()
        .map(|pool| {
            pool.install(|| {
                tape.clear();
                let w = tape.param_vec(&p.w).unwrap();
                let loss = engine_loss(&tape, &p, w);
                tape.backward_into(loss, &mut grads).unwrap();
                (loss.item(), grads.wrt(w).to_vec())
            })
        })
        .collect();
    let same = runs[0] == runs[1];
    assert!(same, "{name}: one and two threads differ");
    notes.push(format!(
        "{name}: loss and gradient bit-identical on 1 and 2 threads"
    ));
    let mut group = c.benchmark_group(&name);
    large_group::<T>(&mut group, n);
    for (id, pool) in ["one_thread", "two_threads"].into_iter().zip(&pools) {
        group.bench_function(id, |b| {
            pool.install(|| b.iter(|| black_box(engine_step(&mut tape, &mut grads, &p))))
        });
    }
    group.finish();
}

/// Whether a group named `name` can match the command line's filter (criterion's first free
/// argument, a substring), so the large data sets of filtered-out groups are never built.
fn wanted(name: &str) -> bool {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if FLAG_WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return name.contains(&a) || a.contains(name);
        }
    }
    true
}

/// Criterion's options that take a value as the next argument.
const FLAG_WITH_VALUE: [&str; 12] = [
    "--save-baseline",
    "--baseline",
    "--load-baseline",
    "--profile-time",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--color",
];

fn bench_chain(c: &mut Criterion) {
    let mut tape = Tape::<f64>::new();
    let mut grads = Gradients::new();
    let mut group = c.benchmark_group("chain");
    group.throughput(Throughput::Elements(CHAIN as u64));
    group.bench_function("engine", |b| {
        b.iter(|| {
            tape.clear();
            let x = tape.param_scalar(black_box(0.5)).unwrap();
            let mut y = x;
            // 4 ops per round: mul, affine, relu, sub.
            for _ in 0..CHAIN / 4 {
                y = (y * x + 0.1).relu() - x;
            }
            tape.backward_into(y, &mut grads).unwrap();
            black_box(grads.wrt(x)[0])
        })
    });
    group.finish();
    // (Empty when the group was filtered out.)
    assert!(
        tape.is_empty() || tape.len() == CHAIN + 1,
        "one node per op"
    );
}

/// Integer data where 15 % of the examples sit exactly on the margin (y·w·x = 1).
fn tied_problem() -> Problem<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |k: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % k) as i64
    };
    let w: Vec<f64> = (0..D)
        .map(|j| if j == 0 || next(2) == 0 { 1.0 } else { -1.0 })
        .collect();
    let mut x = vec![0.0; N * D];
    let mut y = vec![0.0; N];
    for i in 0..N {
        for j in 0..D {
            x[i * D + j] = (next(3) - 1) as f64;
        }
        let rest: f64 = (1..D).map(|j| w[j] * x[i * D + j]).sum();
        if i % 100 < 15 {
            x[i * D] = 1.0 - rest; // w₀ = 1, so w·xᵢ = 1 exactly
            y[i] = 1.0;
        } else {
            y[i] = if next(2) == 0 { 1.0 } else { -1.0 };
        }
    }
    Problem {
        x: Data::new(x, Shape::matrix(N, D)).unwrap(),
        y: Data::vector(y).unwrap(),
        w,
    }
}

/// Rounds of the paired certified-vs-plain measurement.
const PAIRED_ROUNDS: usize = 21;
/// Backward passes timed per participant and round.
const PAIRED_CALLS: usize = 20;

/// The certified/plain time ratio measured in interleaved rounds (`PAIRED_CALLS` plain passes,
/// then as many certified ones, the order alternating between rounds), so both see the same
/// machine state: on a shared machine two criterion groups measured seconds apart can differ by
/// more than the few per cent this ratio is about. Returns the median, minimum and maximum of
/// the per-round ratios, and the ratio of the two fastest rounds (a stolen time slice only
/// lengthens a round, so the fastest round of each is the least disturbed measurement).
fn paired_ratio(mut plain: impl FnMut(), mut certified: impl FnMut()) -> Paired {
    let time = |f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        for _ in 0..PAIRED_CALLS {
            f();
        }
        t.elapsed().as_secs_f64()
    };
    let (mut fastest_p, mut fastest_c) = (f64::INFINITY, f64::INFINITY);
    let mut ratios: Vec<f64> = (0..PAIRED_ROUNDS)
        .map(|round| {
            let (p, c) = if round % 2 == 0 {
                let p = time(&mut plain);
                (p, time(&mut certified))
            } else {
                let c = time(&mut certified);
                (time(&mut plain), c)
            };
            fastest_p = fastest_p.min(p);
            fastest_c = fastest_c.min(c);
            c / p
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    Paired {
        median: ratios[PAIRED_ROUNDS / 2],
        lo: ratios[0],
        hi: ratios[PAIRED_ROUNDS - 1],
        fastest: fastest_c / fastest_p,
    }
}

/// What [`paired_ratio`] measured.
struct Paired {
    median: f64,
    lo: f64,
    hi: f64,
    fastest: f64,
}

fn bench_certified(c: &mut Criterion, notes: &mut Vec<String>) {
    let mut grads = Gradients::new();
    for (name, p) in [
        ("certified_ties", tied_problem()),
        ("certified_no_ties", problem::<f64>()),
    ] {
        let tape = Tape::<f64>::new();
        let w = tape.param_vec(&p.w).unwrap();
        let loss = engine_loss(&tape, &p, w);
        let stats = tape
            .backward_certified_into(loss, Certify::Random { seed: 1 }, &mut grads)
            .unwrap();
        println!(
            "{name}: {} exact and {} near ties on the margin of {N} examples, {} resolved along {} direction(s)",
            stats.ties, stats.near_ties, stats.resolved, stats.passes
        );
        let mut group = c.benchmark_group(name);
        group.bench_function("plain", |b| {
            b.iter(|| {
                tape.backward_into(loss, &mut grads).unwrap();
                black_box(grads.wrt(w)[0])
            })
        });
        group.bench_function("certified", |b| {
            b.iter(|| {
                let s = tape
                    .backward_certified_into(loss, Certify::Random { seed: 1 }, &mut grads)
                    .unwrap();
                black_box((s.ties, grads.wrt(w)[0]))
            })
        });
        group.finish();
        if !wanted(name) {
            continue;
        }
        let mut certified_grads = Gradients::new();
        let Paired {
            median,
            lo,
            hi,
            fastest,
        } = paired_ratio(
            || {
                tape.backward_into(loss, &mut grads).unwrap();
                black_box(grads.wrt(w)[0]);
            },
            || {
                let s = tape
                    .backward_certified_into(
                        loss,
                        Certify::Random { seed: 1 },
                        &mut certified_grads,
                    )
                    .unwrap();
                black_box((s.ties, certified_grads.wrt(w)[0]));
            },
        );
        notes.push(format!(
            "{name}: paired certified / plain ratio {median:.3} (median of {PAIRED_ROUNDS} interleaved rounds of {PAIRED_CALLS} passes each; range {lo:.3}–{hi:.3}; fastest round / fastest round {fastest:.3})"
        ));
    }
}

fn mean_ns(dir: &Path, group: &str, id: &str) -> Option<f64> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn report(dir: &Path, notes: &[String]) {
    println!("\n== subgrad engine: ratios from this run ==");
    scaling_report(dir, notes);
    losses_report(dir);
    for group in ["hinge_f64", "hinge_f32"] {
        if let (Some(e), Some(h)) = (mean_ns(dir, group, "engine"), mean_ns(dir, group, "hand")) {
            println!(
                "{group}: engine {:.1} µs, hand-written {:.1} µs, ratio {:.3} (target ≤ 1.3)",
                e / 1e3,
                h / 1e3,
                e / h
            );
            if let Some(s) = mean_ns(dir, group, "hand_simd") {
                println!(
                    "{group}: the same hand loop with explicit SIMD {:.1} µs, engine / it {:.3}",
                    s / 1e3,
                    e / s
                );
            }
        }
    }
    if let Some(t) = mean_ns(dir, "chain", "engine") {
        println!(
            "chain of {CHAIN} scalar ops, forward + backward: {:.1} ns per op (target ≤ 15, issue 10)",
            t / CHAIN as f64
        );
    }
    for (group, target) in [("certified_ties", "≤ 2"), ("certified_no_ties", "≤ 1.05")] {
        if let (Some(cert), Some(plain)) = (
            mean_ns(dir, group, "certified"),
            mean_ns(dir, group, "plain"),
        ) {
            println!(
                "{group}: certified backward {:.1} µs, plain backward {:.1} µs, ratio {:.3} (target {target})",
                cert / 1e3,
                plain / 1e3,
                cert / plain
            );
        }
        for line in notes.iter().filter(|l| l.starts_with(&format!("{group}:"))) {
            println!("{line}");
        }
    }
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    let _ = x.relu();
    let s64 = tape.stats();
    let s32 = Tape::<f32>::new().stats();
    println!(
        "tape bookkeeping: {} bytes per node (f64), {} (f32), plus the values and masks of each node",
        s64.bytes_per_node, s32.bytes_per_node
    );
}

/// The scaling table: per element type and n, the engine, the hand loop, their ratio, the
/// engine's achieved read rate of X against one streaming read's, and their ratio.
fn scaling_report(dir: &Path, notes: &[String]) {
    for (t, size) in [("f32", 4), ("f64", 8)] {
        let mut rows = Vec::new();
        for n in SCALING_N {
            let group = format!("scaling_{t}_n{n}");
            let (Some(e), Some(h), Some(s)) = (
                mean_ns(dir, &group, "engine"),
                mean_ns(dir, &group, "hand"),
                mean_ns(dir, &group, "stream"),
            ) else {
                continue;
            };
            let gain = mean_ns(dir, &group, "unfused")
                .map_or("–".to_string(), |u| format!("{} ({:.2})", time(u), u / e));
            let bytes = (n * D * size) as f64;
            let target = match n {
                10_000 => " (≤ 2)",
                1_000_000 => " (≤ 1.5)",
                _ => "",
            };
            rows.push(format!(
                "| {n} | {} | {gain} | {} | {:.2} | {:.1} | {:.1} | {:.2}{target} |",
                time(e),
                time(h),
                e / h,
                bytes / e,
                bytes / s,
                e / s
            ));
        }
        if !rows.is_empty() {
            println!("scaling, {t}, d = {D} (hinge value + gradient; GB/s = bytes of X / time):");
            println!("| n | engine | unfused (unfused/engine) | hand | engine/hand (≤ 1.1) | engine GB/s | stream GB/s | engine/stream |");
            println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
            for r in rows {
                println!("{r}");
            }
        }
    }
    for n in notes.iter().filter(|n| n.starts_with("scaling_")) {
        println!("{n}");
    }
    for t in ["f32", "f64"] {
        let group = format!("threads_{t}_n1000000");
        let (Some(one), Some(two)) = (
            mean_ns(dir, &group, "one_thread"),
            mean_ns(dir, &group, "two_threads"),
        ) else {
            continue;
        };
        println!(
            "{group}: one thread {}, two threads {}, speedup {:.2} (target ≥ 1.8)",
            time(one),
            time(two),
            one / two
        );
    }
    for n in notes.iter().filter(|n| n.starts_with("threads_")) {
        println!("{n}");
    }
}

/// A duration in nanoseconds, in µs or ms.
fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

fn main() {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .sample_size(30)
        .configure_from_args();
    bench_hinge::<f64>(&mut c, "hinge_f64", hand_simd_f64);
    bench_hinge::<f32>(&mut c, "hinge_f32", hand_simd_f32);
    bench_chain(&mut c);
    let mut notes = Vec::new();
    bench_certified(&mut c, &mut notes);
    bench_scaling::<f32>(&mut c, &mut notes);
    bench_scaling::<f64>(&mut c, &mut notes);
    bench_threads::<f32>(&mut c, &mut notes);
    bench_threads::<f64>(&mut c, &mut notes);
    bench_losses::<f32>(&mut c);
    bench_losses::<f64>(&mut c);
    c.final_summary();
    report(&dir, &notes);
}
