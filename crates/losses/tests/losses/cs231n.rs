//! The CS231n form of Weston–Watkins (`svm_loss_vectorized`): the mean over examples plus
//! `reg·Σ W²`, by hand, and engine-built == closed form at random points and at exact kinks.

use approx::relative_eq;
use autodiff::{Shape, Tape};
use losses::multiclass::Reduction;
use losses::{Error, MulticlassLoss, Objective};
use proptest::prelude::*;

/// CS231n's three images (rows) scored for (cat, car, frog); labels cat, car, frog.
const SCORES: [f64; 9] = [3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1];
const LABELS: [usize; 3] = [0, 1, 2];

/// `∂/∂S` of the mean, by hand: cat: t_car = 5.1 − 3.2 + 1 = 2.9 > 0, t_frog = −3.9;
/// car: t_cat = −2.6, t_frog = −1.9; frog: t_cat = 6.3 > 0, t_car = 6.6 > 0. Each positive
/// t adds 1/3 to its class and takes 1/3 from the true class.
const MEAN_GRAD: [f64; 9] = [
    -1.0 / 3.0,
    1.0 / 3.0,
    0.0,
    0.0,
    0.0,
    0.0,
    1.0 / 3.0,
    1.0 / 3.0,
    -2.0 / 3.0,
];

#[test]
fn cs231n_toy_scores_mean_and_gradient_match_the_hand_computation() {
    let ww = MulticlassLoss::weston_watkins();
    let (l, g) = ww
        .value_grad_reduced(&SCORES, 3, &LABELS, Reduction::Mean)
        .unwrap();
    // (2.9 + 0 + 12.9)/3, CS231n's "5.27".
    assert!((l - 15.8 / 3.0).abs() < 1e-12, "{l}");
    for (got, want) in g.iter().zip(MEAN_GRAD) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    let tape = Tape::<f64>::new();
    let s = tape.param(&SCORES, Shape::matrix(3, 3)).unwrap();
    let mean = ww.on_tape_reduced(s, &LABELS, Reduction::Mean).unwrap();
    assert!((mean.item() - 15.8 / 3.0).abs() < 1e-12);
    assert_eq!(mean.backward().unwrap().wrt(s), &g[..]);
    // The sum is unchanged by the new reduction: 15.8.
    let (sum, _) = ww
        .value_grad_reduced(&SCORES, 3, &LABELS, Reduction::Sum)
        .unwrap();
    assert!((sum - 15.8).abs() < 1e-12);
}

#[test]
fn cs231n_objective_with_identity_features_matches_the_hand_computation() {
    // X = I₃ makes S = X·W = W. With reg = 0.1: F = 15.8/3 + 0.1·Σ W², Σ W² = 89.54
    // (10.24 + 26.01 + 2.89 + 1.69 + 24.01 + 4 + 4.84 + 6.25 + 9.61), and
    // ∂F/∂W = Xᵀ·G/n + 2·reg·W = MEAN_GRAD + 0.2·W.
    let x = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let reg = Objective::Lambda { lambda: 0.1 };
    let ww = MulticlassLoss::weston_watkins();
    let (f, dw) = ww
        .linear_objective(reg, &x, 3, &LABELS, &SCORES, 3)
        .unwrap();
    assert!((f - (15.8 / 3.0 + 8.954)).abs() < 1e-12, "{f}");
    for q in 0..9 {
        let want = MEAN_GRAD[q] + 0.2 * SCORES[q];
        assert!(
            (dw[q] - want).abs() < 1e-15,
            "∂W[{q}] = {} vs {want}",
            dw[q]
        );
    }
    let tape = Tape::<f64>::new();
    let xm = tape.constant(&x, Shape::matrix(3, 3)).unwrap();
    let wm = tape.param(&SCORES, Shape::matrix(3, 3)).unwrap();
    let on_tape = ww.linear_objective_on_tape(reg, xm, wm, &LABELS).unwrap();
    assert!((on_tape.item() - f).abs() < 1e-12);
    let g = on_tape.backward().unwrap();
    for q in 0..9 {
        assert!((g.wrt(wm)[q] - dw[q]).abs() < 1e-15);
    }
}

#[test]
fn a_tie_counts_zero_as_cs231ns_margins_mask() {
    // x = e₀ scored (1, 0) for class 0: t = 0 − 1 + 1 = 0, the kink; `margins > 0` is false,
    // so no gradient; only the regulariser's 2·reg·W remains.
    let ww = MulticlassLoss::weston_watkins();
    let reg = Objective::Lambda { lambda: 0.25 };
    let w = [1.0, 0.0, 0.0, 0.0]; // d = 2, K = 2: S = x·W = (1, 0)
    let (f, dw) = ww
        .linear_objective(reg, &[1.0, 0.0], 2, &[0], &w, 2)
        .unwrap();
    assert_eq!((f, dw.clone()), (0.25, vec![0.5, 0.0, 0.0, 0.0]));
    let tape = Tape::<f64>::new();
    let xm = tape.constant(&[1.0, 0.0], Shape::matrix(1, 2)).unwrap();
    let wm = tape.param(&w, Shape::matrix(2, 2)).unwrap();
    let on_tape = ww.linear_objective_on_tape(reg, xm, wm, &[0]).unwrap();
    assert_eq!(on_tape.item(), 0.25);
    assert_eq!(on_tape.backward().unwrap().wrt(wm), &dw[..]);
}

#[test]
fn bad_reductions_and_objectives_are_typed_errors() {
    let ww = MulticlassLoss::weston_watkins();
    assert!(matches!(
        ww.value_grad_reduced(&[], 3, &[], Reduction::Mean),
        Err(Error::Empty { .. })
    ));
    let bad = Objective::Lambda { lambda: -1.0 };
    assert!(matches!(
        ww.linear_objective(bad, &[1.0], 1, &[0], &[0.0, 0.0], 2),
        Err(Error::InvalidParameter { name: "lambda", .. })
    ));
}

fn any_objective() -> impl Strategy<Value = Objective> {
    prop_oneof![
        (0.0..1.0f64).prop_map(|lambda| Objective::Lambda { lambda }),
        (0.1..10.0f64).prop_map(|c| Objective::Liblinear { c }),
    ]
}

fn any_weston_watkins() -> impl Strategy<Value = MulticlassLoss> {
    (any::<bool>(), any::<bool>()).prop_map(|(squared, scale_by_classes)| {
        MulticlassLoss::WestonWatkins {
            delta: 1.0,
            squared,
            scale_by_classes,
        }
    })
}

/// `(F, ∂F/∂W)` by the engine.
fn engine(
    loss: MulticlassLoss,
    objective: Objective,
    x: &[f64],
    (n, d, k): (usize, usize, usize),
    labels: &[usize],
    w: &[f64],
) -> (f64, Vec<f64>) {
    let tape = Tape::<f64>::new();
    let xm = tape.constant(x, Shape::matrix(n, d)).unwrap();
    let wm = tape.param(w, Shape::matrix(d, k)).unwrap();
    let f = loss
        .linear_objective_on_tape(objective, xm, wm, labels)
        .unwrap();
    (f.item(), f.backward().unwrap().wrt(wm).to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn engine_built_objective_equals_closed_form(
        loss in any_weston_watkins(),
        objective in any_objective(),
        (n, d, k) in (1usize..8, 1usize..5, 2usize..6),
        values in prop::collection::vec(-2.0..2.0f64, 8 * 5 + 5 * 6),
        labels in prop::collection::vec(0usize..6, 8),
    ) {
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let (x, w) = (&values[..n * d], &values[40..40 + d * k]);
        let (f, dw) = loss.linear_objective(objective, x, d, &labels, w, k).unwrap();
        let (fe, dwe) = engine(loss, objective, x, (n, d, k), &labels, w);
        prop_assert!(relative_eq!(fe, f, epsilon = 1e-12, max_relative = 1e-10));
        for q in 0..d * k {
            prop_assert!(relative_eq!(dwe[q], dw[q], epsilon = 1e-12, max_relative = 1e-10),
                "{loss:?} {objective:?} ∂W[{q}]: engine {} vs closed form {}", dwe[q], dw[q]);
        }
    }

    /// Integer features and weights make every score an integer, so with Δ = 1 many
    /// `t = s_j − s_y + 1` are exactly 0: both forms must take the stated rule (0) there.
    #[test]
    fn engine_built_objective_equals_closed_form_at_exact_kinks(
        loss in any_weston_watkins(),
        objective in any_objective(),
        (n, d, k) in (1usize..8, 1usize..5, 2usize..6),
        values in prop::collection::vec(-2i32..=2, 8 * 5 + 5 * 6),
        labels in prop::collection::vec(0usize..6, 8),
    ) {
        let values: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let (x, w) = (&values[..n * d], &values[40..40 + d * k]);
        let (f, dw) = loss.linear_objective(objective, x, d, &labels, w, k).unwrap();
        let (fe, dwe) = engine(loss, objective, x, (n, d, k), &labels, w);
        prop_assert!(relative_eq!(fe, f, epsilon = 1e-12, max_relative = 1e-12));
        for q in 0..d * k {
            prop_assert!(relative_eq!(dwe[q], dw[q], epsilon = 1e-12, max_relative = 1e-12),
                "{loss:?} {objective:?} ∂W[{q}]: engine {} vs closed form {}", dwe[q], dw[q]);
        }
    }
}
