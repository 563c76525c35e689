//! Engine + losses through their public APIs: the liblinear objective of a hinge-loss SVM on
//! integer data with examples exactly on the margin. The engine's plain gradient equals the
//! closed form, the certified one lies in the closed-form subdifferential, and the gradient
//! checker passes at the kink.

use autodiff::gradcheck::{gradcheck, GradCheck};
use autodiff::{Certify, Data, Shape, Tape};
use losses::{linear_on_tape, MarginLoss, Objective};

// Four 2-D examples; with w = (1, 0): margins y·w·x = 1, 1, 2, 0 → x₀, x₁ exactly on the margin,
// x₃ violated.
const X: [f64; 8] = [1.0, 0.0, -1.0, 3.0, 2.0, 1.0, 0.0, 1.0];
const Y: [f64; 4] = [1.0, -1.0, 1.0, 1.0];
const W: [f64; 2] = [1.0, 0.0];
const C: f64 = 2.0;

#[test]
fn svm_objective_at_the_margin_plain_certified_and_checked() {
    let objective = Objective::Liblinear { c: C };
    let x = Data::new(X.to_vec(), Shape::matrix(4, 2)).unwrap();
    let y = Data::vector(Y.to_vec()).unwrap();
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&W).unwrap();
    let hinge = linear_on_tape(MarginLoss::hinge(), tape.data(&x), tape.data(&y), w, None).unwrap();
    let f = objective.on_tape(hinge, w, 4).unwrap();
    let (value, closed) = objective
        .value_grad(MarginLoss::hinge(), &X, 2, &Y, &W)
        .unwrap();
    // ½‖w‖² + C·(0 + 0 + 0 + 1) = 0.5 + 2; ∂ = w − C·y₃·x₃ = (1, 0) − 2·(0, 1) = (1, −2).
    assert_eq!(value, 2.5);
    assert_eq!(closed, vec![1.0, -2.0]);
    assert_eq!(f.item(), value);
    assert_eq!(f.backward().unwrap().wrt(w), &closed[..]);
    assert_eq!(tape.kinks().exact_count(), 2);

    // ∂f = closed − C·(t₀·y₀·x₀ + t₁·y₁·x₁), t ∈ [0, 1]²: with y₀x₀ = (1, 0), y₁x₁ = (1, −3),
    // g = (1 − 2t₀ − 2t₁, −2 + 6t₁).
    for seed in 0..10 {
        let g = tape
            .backward_certified(f, Certify::Random { seed })
            .unwrap()
            .wrt(w)
            .to_vec();
        let t1 = (g[1] + 2.0) / 6.0;
        let t0 = (1.0 - g[0] - 2.0 * t1) / 2.0;
        for t in [t0, t1] {
            assert!((-1e-12..=1.0 + 1e-12).contains(&t), "seed {seed}: {g:?}");
        }
    }

    let report = gradcheck(
        |t, w| {
            let x = t.constant(&X, Shape::matrix(4, 2))?;
            let y = t.constant_vec(&Y)?;
            let h = linear_on_tape(MarginLoss::hinge(), x, y, w, None).map_err(|e| match e {
                losses::Error::Engine(e) => e,
                other => panic!("{other}"),
            })?;
            Ok(w.square().sum() * 0.5 + h * C)
        },
        &W,
        &GradCheck::default(),
    )
    .unwrap();
    assert!(report.at_kink);
    assert!(report.passed, "{:?}", report.checks);
}

/// Multiclass and all-pairs losses composed with the engine's own ops on one tape, in f32 and
/// f64: a linear multiclass model on zero-copy `Data`, Crammer–Singer plus an L1 penalty,
/// against the closed forms; and the naive all-pairs form against the O(n log n) one.
#[test]
fn multiclass_with_l1_on_a_data_tape_equals_the_closed_forms() {
    use losses::{all_pairs_on_tape, all_pairs_value_grad, l1, l1_on_tape, MulticlassLoss};

    // Three examples, d = 2, K = 3; W = 0 puts every score at 0, so s_r + Δ_r is 1 for the two
    // wrong classes and 0 for the true one: a two-way tie in every row, L = 1 − 0 = 1 per row,
    // G row = ½ on each wrong class and −1 on the true one (row_max's 1/k split).
    let (x, labels) = ([1.0, 2.0, -1.0, 0.0, 3.0, 1.0], [0usize, 1, 2]);
    let w0 = [0.0; 6];
    let loss = MulticlassLoss::crammer_singer();
    let (value, dw) = loss.linear_value_grad(&x, 2, &labels, &w0, 3).unwrap();
    assert_eq!(value, 3.0);
    let (_, l1_grad) = l1(&w0);
    for precision in ["f64", "f32"] {
        let (engine_value, engine_grad) = if precision == "f64" {
            let data = Data::new(x.to_vec(), Shape::matrix(3, 2)).unwrap();
            let tape = Tape::<f64>::new();
            let w = tape.param(&w0, Shape::matrix(2, 3)).unwrap();
            let f = loss.on_tape(tape.data(&data).matmul(w), &labels).unwrap() + l1_on_tape(w);
            let g = f.backward().unwrap();
            (f.item(), g.wrt(w).to_vec())
        } else {
            let data = Data::new(x.map(|v| v as f32).to_vec(), Shape::matrix(3, 2)).unwrap();
            let tape = Tape::<f32>::new();
            let w = tape.param(&[0.0f32; 6], Shape::matrix(2, 3)).unwrap();
            let f = loss.on_tape(tape.data(&data).matmul(w), &labels).unwrap() + l1_on_tape(w);
            let g = f.backward().unwrap();
            let grad = g.wrt(w).iter().map(|&v| f64::from(v)).collect();
            (f64::from(f.item()), grad)
        };
        assert_eq!(engine_value, value, "{precision}");
        // ∂/∂W = Xᵀ·G + 0 (abs'(0) = 0 at W = 0).
        for q in 0..6 {
            let want = dw[q] + l1_grad[q];
            assert!(
                (engine_grad[q] - want).abs() < 1e-6,
                "{precision} ∂/∂W[{q}]"
            );
        }
    }

    // All pairs: positives (0.5, 2.0), negatives (0.0, 1.5), m = 1. Active pairs:
    // (0.5, 0.0): 0.5² ; (0.5, 1.5): 2² ; (2.0, 1.5): 0.5² ; (2.0, 0.0): max(0, −1) = 0.
    // L = (0.25 + 4 + 0.25)/4 = 1.125.
    let (l, g) = all_pairs_value_grad(&[0.5, 0.0, 2.0, 1.5], &[1.0, -1.0, 1.0, -1.0], 1.0).unwrap();
    assert_eq!(l, 1.125);
    let tape = Tape::<f64>::new();
    let (pos, neg) = (
        tape.param_vec(&[0.5, 2.0]).unwrap(),
        tape.param_vec(&[0.0, 1.5]).unwrap(),
    );
    let naive = all_pairs_on_tape(pos, neg, 1.0).unwrap();
    assert_eq!(naive.item(), l);
    let grads = naive.backward().unwrap();
    // ∂/∂ŷ₀ = −(2/4)(0.5 + 2) = −1.25; ∂/∂ŷ₂ = −(2/4)(0.5) = −0.25;
    // ∂/∂ŷ₁ = (2/4)(0.5) = 0.25; ∂/∂ŷ₃ = (2/4)(2 + 0.5) = 1.25.
    assert_eq!(g, vec![-1.25, 0.25, -0.25, 1.25]);
    assert_eq!(grads.wrt(pos), &[g[0], g[2]]);
    assert_eq!(grads.wrt(neg), &[g[1], g[3]]);
}
