//! The accuracy targets: objectives reached against the reference optima of the data README
//! (computed by an independent interior-point QP solver to ~1e-10).

use losses::MarginLoss;
use svm::data::{builtin, Standardizer};
use svm::model::{train, SolverKind, TrainOptions};

fn relative(got: f64, want: f64) -> f64 {
    (got - want).abs() / want
}

fn breast_cancer_objective(loss: MarginLoss, c: f64) -> (f64, bool) {
    let data = builtin("breast_cancer").unwrap();
    let data = Standardizer::fit(&data).unwrap().transform(&data).unwrap();
    let r = train(
        &data,
        &TrainOptions {
            loss,
            c,
            // The relative error bound the test needs, with room for the epochs it takes.
            tol: 1e-7,
            max_iter: 100_000,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    (r.objective, r.converged)
}

#[test]
fn breast_cancer_squared_hinge_within_1e_6_of_the_optimum() {
    for (c, want) in [
        (0.1, 4.3727208498),
        (1.0, 31.5850877546),
        (10.0, 241.0592012900),
    ] {
        let (got, converged) = breast_cancer_objective(MarginLoss::squared_hinge(), c);
        assert!(converged, "C = {c}");
        assert!(
            relative(got, want) < 1e-6,
            "C = {c}: {got} vs {want} ({:e})",
            relative(got, want)
        );
    }
}

#[test]
fn breast_cancer_hinge_within_1e_6_of_the_optimum() {
    for (c, want) in [
        (0.1, 4.4489002557),
        (1.0, 26.5370382065),
        (10.0, 177.7929154506),
    ] {
        let (got, converged) = breast_cancer_objective(MarginLoss::hinge(), c);
        assert!(converged, "C = {c}");
        assert!(
            relative(got, want) < 1e-6,
            "C = {c}: {got} vs {want} ({:e})",
            relative(got, want)
        );
    }
}

#[test]
fn digits_one_vs_rest_squared_hinge_within_1e_5_of_the_optimum() {
    let data = builtin("digits").unwrap();
    for (c, want) in [(0.1, 36.539541), (1.0, 321.294093), (10.0, 3020.977701)] {
        let r = train(
            &data,
            &TrainOptions {
                loss: MarginLoss::squared_hinge(),
                c,
                tol: 1e-10,
                solver: SolverKind::Exact,
                ..TrainOptions::default()
            },
        )
        .unwrap();
        assert_eq!(r.model.weights.len(), 10);
        assert!(r.converged, "C = {c}");
        assert!(
            relative(r.objective, want) < 1e-5,
            "C = {c}: {} vs {want} ({:e})",
            r.objective,
            relative(r.objective, want)
        );
    }
}

#[test]
fn digits_one_vs_rest_hinge_within_1e_6_of_the_optimum() {
    // Reference: the shared data README, an interior-point QP solver (sum of the ten
    // one-vs-rest optima on raw pixels, C = 0.1): 29.906177.
    let data = builtin("digits").unwrap();
    let r = train(
        &data,
        &TrainOptions {
            c: 0.1,
            tol: 1e-7,
            max_iter: 1_000_000,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    assert!(r.converged);
    assert!(
        relative(r.objective, 29.906177) < 1e-6,
        "{} ({:e})",
        r.objective,
        relative(r.objective, 29.906177)
    );
}
