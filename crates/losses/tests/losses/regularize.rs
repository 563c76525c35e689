//! Regularisers and objectives: autodiff == closed form; the two conventions agree up to the
//! documented scale when λ = 1/(2nC).

use approx::relative_eq;
use autodiff::{Shape, Tape};
use losses::{l1, l1_on_tape, l2, l2_on_tape, linear_on_tape, MarginLoss, Objective};
use proptest::prelude::*;

use crate::binary::any_loss;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn l1_and_l2_autodiff_equal_closed_forms(w in prop::collection::vec(-3.0..3.0f64, 1..8)) {
        let tape = Tape::<f64>::new();
        let wv = tape.param_vec(&w).unwrap();
        let (r1, r2) = (l1_on_tape(wv), l2_on_tape(wv));
        let (v1, g1) = l1(&w);
        let (v2, g2) = l2(&w);
        prop_assert!(relative_eq!(r1.item(), v1, max_relative = 1e-12));
        prop_assert!(relative_eq!(r2.item(), v2, max_relative = 1e-12));
        // ∂‖w‖₁ = sign(w) and ∇½‖w‖² = w: exact.
        prop_assert_eq!(r1.backward().unwrap().wrt(wv).to_vec(), g1);
        prop_assert_eq!(r2.backward().unwrap().wrt(wv).to_vec(), g2);
    }

    #[test]
    fn objectives_autodiff_equal_closed_form_in_both_conventions(
        loss in any_loss(),
        (n, d) in (1usize..10, 1usize..5),
        values in prop::collection::vec(-2.0..2.0f64, 10 * 5 + 5),
        labels in prop::collection::vec(any::<bool>(), 10),
        (c, lambda) in (0.1..10.0f64, 0.0..1.0f64),
    ) {
        let x = &values[..n * d];
        let w = &values[50..50 + d];
        let y: Vec<f64> = labels[..n].iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        for objective in [Objective::Liblinear { c }, Objective::Lambda { lambda }] {
            let (f, g) = objective.value_grad(loss, x, d, &y, w).unwrap();
            let tape = Tape::<f64>::new();
            let wv = tape.param_vec(w).unwrap();
            let xv = tape.constant(x, Shape::matrix(n, d)).unwrap();
            let yv = tape.constant_vec(&y).unwrap();
            let sum = linear_on_tape(loss, xv, yv, wv, None).unwrap();
            let fv = objective.on_tape(sum, wv, n).unwrap();
            let gv = fv.backward().unwrap();
            prop_assert!(relative_eq!(fv.item(), f, epsilon = 1e-12, max_relative = 1e-10));
            for j in 0..d {
                prop_assert!(relative_eq!(gv.wrt(wv)[j], g[j], epsilon = 1e-12, max_relative = 1e-10),
                    "{objective:?} {}: ∂/∂w{j} {} vs {}", loss.name(), gv.wrt(wv)[j], g[j]);
            }
        }
    }

    #[test]
    fn lambda_form_is_liblinear_scaled_by_one_over_n_c(
        loss in any_loss(),
        (n, d) in (1usize..10, 1usize..5),
        values in prop::collection::vec(-2.0..2.0f64, 10 * 5 + 5),
        labels in prop::collection::vec(any::<bool>(), 10),
        c in 0.1..10.0f64,
    ) {
        let x = &values[..n * d];
        let w = &values[50..50 + d];
        let y: Vec<f64> = labels[..n].iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        let liblinear = Objective::Liblinear { c };
        let lambda_form = liblinear.to_lambda(n);
        // λ = 1/(2nC) and (1/n)·Σℓ + λ‖w‖² = (1/(nC))·(C·Σℓ + ½‖w‖²): same minimiser.
        let lambda = match lambda_form {
            Objective::Lambda { lambda } => lambda,
            other => panic!("to_lambda gave {other:?}"),
        };
        prop_assert!(relative_eq!(lambda, 1.0 / (2.0 * n as f64 * c), max_relative = 1e-15));
        let (f1, g1) = liblinear.value_grad(loss, x, d, &y, w).unwrap();
        let (f2, g2) = lambda_form.value_grad(loss, x, d, &y, w).unwrap();
        let scale = 1.0 / (n as f64 * c);
        prop_assert!(relative_eq!(f2, scale * f1, epsilon = 1e-12, max_relative = 1e-10));
        for j in 0..d {
            prop_assert!(relative_eq!(g2[j], scale * g1[j], epsilon = 1e-12, max_relative = 1e-10));
        }
    }
}

#[test]
fn objective_values_by_hand() {
    // x = (1, 0), (0, 2); y = +1, −1; w = (0.5, 0.5): margins 0.5 and −1, hinge 0.5 + 2 = 2.5;
    // ‖w‖² = 0.5; Σ −y·x over the violated = (−1, 0) + (0, 2) = (−1, 2).
    let (x, y, w) = ([1.0, 0.0, 0.0, 2.0], [1.0, -1.0], [0.5, 0.5]);
    let hinge = MarginLoss::hinge();
    // liblinear, C = 2: ½·0.5 + 2·2.5 = 5.25; ∇ = w + C·(−1, 2) = (−1.5, 4.5).
    let (f, g) = Objective::Liblinear { c: 2.0 }
        .value_grad(hinge, &x, 2, &y, &w)
        .unwrap();
    assert_eq!((f, g), (5.25, vec![-1.5, 4.5]));
    // λ = 0.1: 2.5/2 + 0.1·0.5 = 1.3; ∇ = (−1, 2)/2 + 2·0.1·w = (−0.4, 1.1).
    let (f, g) = Objective::Lambda { lambda: 0.1 }
        .value_grad(hinge, &x, 2, &y, &w)
        .unwrap();
    assert!((f - 1.3).abs() < 1e-15);
    assert!((g[0] + 0.4).abs() < 1e-15 && (g[1] - 1.1).abs() < 1e-15);
}
