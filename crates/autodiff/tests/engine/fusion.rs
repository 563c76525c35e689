//! Fusion: from the second step of a training loop that reuses its tape, the forward pass of
//! `X·w` also computes the backward's `Xᵀg` (`ops::fuse`). Every result must equal the unfused
//! one exactly — a fresh tape, which has learnt nothing and so never fuses, is the reference —
//! plain and certified, under every policy, dense and sparse, for any thread count, with the
//! same kink report; and the fused path must really have run (`TapeStats`).

use autodiff::{
    Certify, CustomPolicy, Data, Fuse, Gradients, KinkPolicy, Shape, SparseData, Tape, Var,
};
use proptest::prelude::*;

use super::threads::uniform;

/// The losses a user writes over `s = X·w` (and labels `y`, a bias `b`).
#[derive(Clone, Copy, Debug)]
enum Loss {
    /// `mean(relu(1 − y ⊙ s)) + ½λ‖w‖²` (the benchmark's job).
    HingeMean,
    /// `Σ relu(1 − y ⊙ (s + b))²` (`losses::linear_on_tape`'s squared hinge with a bias).
    SquaredHingeBias,
    /// `Σ relu(b − 3·relu(s − y))`: `sub` with the chain on either side.
    SubChain,
    /// `Σ relu(1 − y ⊙ s) + Σ relu(−s)`: the product feeds two chains, so its `g` has two
    /// parts; the plan (the first chain) misses, and the backward computes `Xᵀg` itself.
    SharedProduct,
    /// `C·Σ relu(1 − y ⊙ s)` with C = 2.5 after the sum: the seed is not 1 but is the same each
    /// step, so the plan learns it.
    ScaledSum,
    /// `(Σ relu(1 − y ⊙ s))²`: the seed changes every step, so the guess misses and the
    /// backward computes `Xᵀg` itself.
    SquaredSum,
}

const LOSSES: [Loss; 6] = [
    Loss::HingeMean,
    Loss::SquaredHingeBias,
    Loss::SubChain,
    Loss::SharedProduct,
    Loss::ScaledSum,
    Loss::SquaredSum,
];

/// Small integers in `[−k, k]` (xorshift): products of them are exact, so margins land exactly
/// on the kink often.
fn ints(n: usize, k: i64, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) % (2 * k as u64 + 1)) as f64 - k as f64
        })
        .collect()
}

/// A problem: `x` (n × d, with zeros), labels ±1, and two weight vectors (two steps).
struct Problem {
    n: usize,
    d: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    w: [Vec<f64>; 2],
}

fn problem(n: usize, d: usize, seed: u64) -> Problem {
    let x = ints(n * d, 2, seed);
    let y = ints(n, 1, seed + 1)
        .iter()
        .map(|&v| if v < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let w = [ints(d, 1, seed + 2), ints(d, 1, seed + 3)];
    Problem { n, d, x, y, w }
}

/// `x` as CSR (its zeros not stored).
fn csr(p: &Problem) -> SparseData<f64> {
    let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
    for i in 0..p.n {
        for j in 0..p.d {
            let v = p.x[i * p.d + j];
            if v != 0.0 {
                indices.push(j as u32);
                values.push(v);
            }
        }
        indptr.push(values.len());
    }
    SparseData::new(indptr, indices, values, p.d).unwrap()
}

/// The loss of step `k` on `tape`; returns it with `w` and `b`.
fn build<'t>(
    tape: &'t Tape<f64>,
    p: &Problem,
    sparse: Option<&SparseData<f64>>,
    loss: Loss,
    k: usize,
) -> (Var<'t, f64>, Var<'t, f64>, Var<'t, f64>) {
    let y = tape.data(&Data::vector(p.y.clone()).unwrap());
    let b = tape.param_scalar(0.5 * k as f64 - 0.5).unwrap();
    let w = tape.param_vec(&p.w[k]).unwrap();
    let s = match sparse {
        Some(m) => tape.sparse_matvec(m, w).unwrap(),
        None => tape
            .data(&Data::new(p.x.clone(), Shape::matrix(p.n, p.d)).unwrap())
            .matvec(w),
    };
    let out = match loss {
        Loss::HingeMean => (y * s).affine(-1.0, 1.0).relu().mean() + w.square().sum() * 5e-4,
        Loss::SquaredHingeBias => (y * (s + b)).affine(-1.0, 1.0).relu().square().sum(),
        Loss::SubChain => (b - (s - y).relu() * 3.0).relu().sum(),
        Loss::SharedProduct => (y * s).affine(-1.0, 1.0).relu().sum() + (-s).relu().sum(),
        Loss::ScaledSum => (y * s).affine(-1.0, 1.0).relu().sum() * 2.5,
        Loss::SquaredSum => (y * s).affine(-1.0, 1.0).relu().sum().square(),
    };
    (out, w, b)
}

/// Everything a step gives, as bits: loss, plain ∂w and ∂b, certified ∂w, the kink report's
/// tied elements per site.
#[derive(Debug, PartialEq)]
struct Outcome {
    loss: u64,
    gw: Vec<u64>,
    gb: u64,
    certified: Vec<u64>,
    ties: Vec<(usize, Vec<usize>)>,
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn outcome(tape: &Tape<f64>, loss: Var<'_, f64>, w: Var<'_, f64>, b: Var<'_, f64>) -> Outcome {
    let mut grads = Gradients::new();
    tape.backward_into(loss, &mut grads).unwrap();
    let (gw, gb) = (bits(grads.wrt(w)), grads.wrt(b)[0].to_bits());
    let certified = tape
        .backward_certified(loss, Certify::Random { seed: 3 })
        .unwrap();
    let ties = tape
        .kinks()
        .sites()
        .iter()
        .map(|s| (s.node.index(), s.exact.clone()))
        .collect();
    Outcome {
        loss: loss.item().to_bits(),
        gw,
        gb,
        certified: bits(certified.wrt(w)),
        ties,
    }
}

/// Step 1 on a fresh tape (the reference: unfused), and step 1 on a tape that ran step 0 first
/// (fused when the plan fits). Returns both outcomes and the second tape's fusion counts.
fn fused_and_unfused(
    p: &Problem,
    sparse: bool,
    loss: Loss,
    policy: KinkPolicy,
) -> (Outcome, Outcome, (usize, usize)) {
    let m = sparse.then(|| csr(p));
    let reference = {
        let mut tape = Tape::with_policy(policy);
        tape.set_fusion(Fuse::Always);
        let (l, w, b) = build(&tape, p, m.as_ref(), loss, 1);
        let out = outcome(&tape, l, w, b);
        assert_eq!(tape.stats().fused_products, 0, "a fresh tape does not fuse");
        out
    };
    let mut tape = Tape::with_policy(policy);
    tape.set_fusion(Fuse::Always);
    {
        let (l, _, _) = build(&tape, p, m.as_ref(), loss, 0);
        l.backward().unwrap();
    }
    tape.clear();
    let (l, w, b) = build(&tape, p, m.as_ref(), loss, 1);
    let fused = outcome(&tape, l, w, b);
    let stats = tape.stats();
    (
        fused,
        reference,
        (stats.fused_products, stats.fused_backward),
    )
}

/// relu'(0) = 1: a policy whose kink choice differs from the default at every tie.
fn relu_one() -> KinkPolicy {
    KinkPolicy::Custom(CustomPolicy::builder().relu_at_zero(1.0).build().unwrap())
}

#[test]
fn every_loss_fuses_or_falls_back_with_the_unfused_bits() {
    let p = problem(517, 13, 7);
    for sparse in [false, true] {
        for loss in LOSSES {
            for policy in [KinkPolicy::MinNorm, relu_one()] {
                let (fused, reference, (products, used)) =
                    fused_and_unfused(&p, sparse, loss, policy);
                let what = format!("{loss:?}, sparse {sparse}, {}", policy.name());
                assert_eq!(fused, reference, "{what}");
                // Every loss here is a chain the plan recognises: the product is fused.
                assert_eq!(products, 1, "{what}: fused products");
                match loss {
                    // A seed that changes each step: the guess misses, both backward passes
                    // (plain and certified) compute Xᵀg themselves.
                    Loss::SquaredSum | Loss::SharedProduct => assert_eq!(used, 0, "{what}"),
                    // The plain backward uses the fused product (the certified one too where no
                    // tie changed g).
                    _ => assert!(used >= 1, "{what}: fused backward passes {used}"),
                }
            }
        }
    }
}

#[test]
fn the_data_has_ties_on_the_margin() {
    // The check above means something at kinks only if margins sit exactly on them: count
    // them by exact integer arithmetic (the hinge's margin y·x·w = 1).
    let p = problem(517, 13, 7);
    let on_margin = (0..p.n)
        .filter(|&i| {
            let z: f64 = (0..p.d).map(|j| p.x[i * p.d + j] * p.w[1][j]).sum();
            p.y[i] * z == 1.0
        })
        .count();
    assert!(on_margin >= 20, "{on_margin} examples on the margin");
}

#[test]
fn a_graph_that_changes_is_not_fused_wrongly() {
    // Step 0 learns the hinge; step 1 builds the squared hinge at the same product: the guess
    // is wrong, and the result is still the unfused one.
    let p = problem(300, 9, 3);
    let reference = {
        let tape = Tape::new();
        let (l, w, b) = build(&tape, &p, None, Loss::SubChain, 1);
        outcome(&tape, l, w, b)
    };
    let mut tape = Tape::new();
    tape.set_fusion(Fuse::Always);
    let (l, _, _) = build(&tape, &p, None, Loss::HingeMean, 0);
    l.backward().unwrap();
    tape.clear();
    let (l, w, b) = build(&tape, &p, None, Loss::SubChain, 1);
    assert_eq!(outcome(&tape, l, w, b), reference);
}

#[test]
fn a_plan_that_keeps_missing_is_dropped() {
    let p = problem(200, 7, 5);
    let mut tape = Tape::new();
    tape.set_fusion(Fuse::Always);
    let mut fused = Vec::new();
    for k in 0..8 {
        tape.clear();
        let (l, _, _) = build(&tape, &p, None, Loss::SquaredSum, k % 2);
        fused.push(tape.stats().fused_products);
        l.backward().unwrap();
    }
    // Step 0 learns, steps 1–3 guess and miss (ops::fuse::MAX_MISSES = 3), then no more.
    assert_eq!(fused, [0, 1, 1, 1, 0, 0, 0, 0]);
}

#[test]
fn fused_blocks_give_the_same_bits_on_every_pool() {
    // Above the split threshold (20,000 × 64 ≥ 2²⁰), so both the unfused and the fused products
    // run in row blocks; 1, 2 and 3 threads, dense and sparse (a third of the entries kept).
    let (n, d) = (20_000, 64);
    let x: Vec<f64> = uniform(n * d, 41)
        .into_iter()
        .zip(uniform(n * d, 42))
        .map(|(v, k)| if k < -0.33 { v } else { 0.0 })
        .collect();
    let y = uniform(n, 43)
        .iter()
        .map(|&u| if u < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let w = [uniform(d, 44), uniform(d, 45)];
    let p = Problem { n, d, x, y, w };
    for sparse in [false, true] {
        let runs: Vec<_> = (1..=3)
            .map(|threads| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| fused_and_unfused(&p, sparse, Loss::HingeMean, KinkPolicy::MinNorm))
            })
            .collect();
        for (k, (fused, reference, (products, used))) in runs.iter().enumerate() {
            assert_eq!(fused, reference, "{} threads, sparse {sparse}", k + 1);
            assert_eq!(fused, &runs[0].0, "{} threads vs 1, sparse {sparse}", k + 1);
            assert_eq!((*products, *used >= 1), (1, true));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random shapes (down to one row and one column, and row counts around the kernels' row
    /// groups and windows), dense and sparse, every loss and both policies.
    #[test]
    fn fused_equals_unfused_on_random_shapes(
        n in 1usize..700,
        d in 1usize..40,
        seed in 0u64..1000,
        sparse in any::<bool>(),
        loss in 0usize..LOSSES.len(),
        one in any::<bool>(),
    ) {
        let p = problem(n, d, seed);
        let policy = if one { relu_one() } else { KinkPolicy::MinNorm };
        let (fused, reference, (products, _)) = fused_and_unfused(&p, sparse, LOSSES[loss], policy);
        prop_assert_eq!(products, 1);
        prop_assert_eq!(fused, reference);
    }
}

#[test]
fn auto_fuses_only_products_out_of_cache_and_never_means_never() {
    // Auto: a product whose X is below FUSE_MIN_BYTES is not fused, one above it is (dense: 8
    // bytes a value; sparse: 12 bytes a stored value). Never: not even that one.
    let rows_above = autodiff::FUSE_MIN_BYTES / (8 * 16) + 1;
    for (n, mode, want) in [
        (1000, Fuse::Auto, 0),
        (rows_above, Fuse::Auto, 1),
        (rows_above, Fuse::Never, 0),
    ] {
        let p = problem(n, 16, 9);
        let mut tape = Tape::new();
        tape.set_fusion(mode);
        let x = Data::new(p.x.clone(), Shape::matrix(n, 16)).unwrap();
        let y = Data::vector(p.y.clone()).unwrap();
        let mut fused = Vec::new();
        for k in 0..2 {
            tape.clear();
            let w = tape.param_vec(&p.w[k]).unwrap();
            let loss = (tape.data(&y) * tape.data(&x).matvec(w))
                .affine(-1.0, 1.0)
                .relu()
                .sum();
            fused.push(tape.stats().fused_products);
            loss.backward().unwrap();
        }
        assert_eq!(fused, [0, want], "n = {n}, {mode:?}");
    }
}

#[test]
fn a_plan_whose_chain_is_gone_stops_being_run() {
    // Step 0 learns relu's chain; every later step puts sigmoid after the affine, which is no
    // chain: the stale plan guesses, misses, and after MAX_MISSES (3) is not run again.
    let p = problem(200, 7, 5);
    let mut tape = Tape::new();
    tape.set_fusion(Fuse::Always);
    let x = Data::new(p.x.clone(), Shape::matrix(p.n, p.d)).unwrap();
    let mut fused = Vec::new();
    for k in 0..7 {
        tape.clear();
        let w = tape.param_vec(&p.w[k % 2]).unwrap();
        let s = tape.data(&x).matvec(w).affine(-1.0, 1.0);
        let l = if k == 0 { s.relu() } else { s.sigmoid() }.mean();
        fused.push(tape.stats().fused_products);
        l.backward().unwrap();
    }
    assert_eq!(fused, [0, 1, 1, 1, 0, 0, 0]);
}

#[test]
fn products_with_no_columns_differentiate() {
    // A 3 × 0 matrix times an empty vector, dense and sparse, fused or not: the gradient is
    // empty and nothing panics (the sum over rows has no column to add into).
    for mode in [Fuse::Never, Fuse::Always] {
        let mut tape = Tape::<f64>::new();
        tape.set_fusion(mode);
        for _ in 0..2 {
            tape.clear();
            let w = tape.param_vec(&[]).unwrap();
            let m = tape.constant(&[], Shape::matrix(3, 0)).unwrap();
            let dense = m.matvec(w).affine(-1.0, 1.0).relu().sum();
            let x = SparseData::new(vec![0, 0, 0, 0], vec![], vec![], 0).unwrap();
            let sparse = tape
                .sparse_matvec(&x, w)
                .unwrap()
                .affine(-1.0, 1.0)
                .relu()
                .sum();
            let g = tape.backward(dense + sparse).unwrap();
            assert!(g.wrt(w).is_empty());
            // relu(1) summed over 3 rows, twice.
            assert_eq!((dense + sparse).item(), 6.0);
        }
    }
}

#[test]
fn wide_sparse_products_keep_their_parallel_forward_pass() {
    // 2²⁰ stored values over 2¹⁶ columns: enough work to split the forward pass into row blocks,
    // too many columns for per-block partial sums of Xᵀg. On a pool of two threads such a
    // product is not fused (the fused pass would be serial); on one thread it is.
    let (n, cols, per_row) = (1 << 14, 1 << 16, 64);
    let mut indptr = vec![0];
    let mut indices = Vec::with_capacity(n * per_row);
    for i in 0..n {
        indices.extend((0..per_row).map(|k| ((i * 131 + k * 1021) % cols) as u32));
        let row = &mut indices[i * per_row..];
        row.sort_unstable();
        indptr.push(indices.len());
    }
    let values = uniform(n * per_row, 77);
    let x = SparseData::new(indptr, indices, values, cols).unwrap();
    let w0 = uniform(cols, 78);
    for (threads, want) in [(1, 1), (2, 0)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let fused = pool.install(|| {
            let mut tape = Tape::<f64>::new();
            tape.set_fusion(Fuse::Always);
            let mut fused = 0;
            for _ in 0..2 {
                tape.clear();
                let w = tape.param_vec(&w0).unwrap();
                let l = tape
                    .sparse_matvec(&x, w)
                    .unwrap()
                    .affine(-1.0, 1.0)
                    .relu()
                    .sum();
                fused = tape.stats().fused_products;
                l.backward().unwrap();
            }
            fused
        });
        assert_eq!(fused, want, "{threads} threads");
    }
}
