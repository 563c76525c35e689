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
