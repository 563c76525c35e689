//! Data with zero features, and rows that are all zero.

use losses::MarginLoss;
use svm::data::{builtin, read_libsvm, Dataset};
use svm::model::{train, Multiclass, SolverKind, TrainOptions};
use svm::solvers::{dual_cd, Certificate, Problem};
use svm::Error;

#[test]
fn data_without_features_is_rejected_on_every_path_without_a_bias() {
    // Rows with only labels: d = 0. Today Crammer–Singer panics ("chunk size must be
    // non-zero") and binary training reports objective 0 where the truth is n·C.
    let two = read_libsvm("1\n-1\n1\n", "labels.libsvm").unwrap();
    let three = read_libsvm("0\n1\n2\n", "labels.libsvm").unwrap();
    assert_eq!((two.d, three.d), (0, 0));
    let base = TrainOptions::default();
    let cases = [
        (&two, base),
        (
            &two,
            TrainOptions {
                loss: MarginLoss::squared_hinge(),
                ..base
            },
        ),
        (
            &two,
            TrainOptions {
                solver: SolverKind::Pegasos,
                ..base
            },
        ),
        (
            &two,
            TrainOptions {
                solver: SolverKind::Subgradient,
                ..base
            },
        ),
        (
            &two,
            TrainOptions {
                all_pairs: Some(1.0),
                ..base
            },
        ),
        (&three, base),
        (
            &three,
            TrainOptions {
                multiclass: Multiclass::CrammerSinger,
                ..base
            },
        ),
    ];
    for (data, o) in cases {
        let err = train(data, &o).unwrap_err();
        assert_eq!(err, Error::NoFeatures, "{o:?}");
        assert_eq!(
            err.to_string(),
            "the data has no features: add feature columns, or a bias feature (liblinear's -B)"
        );
    }
    // The solvers say the same.
    let p = Problem {
        x: &Vec::new().into(),
        d: 0,
        y: &two.labels,
        c: 1.0,
        example_weights: None,
    };
    assert_eq!(
        dual_cd(p, MarginLoss::hinge(), 1e-9, 100, 0).unwrap_err(),
        Error::NoFeatures
    );
}

#[test]
fn data_without_features_trains_with_a_bias_feature() {
    // Rows x = (b) = (1) with labels +1, −1: f(w) = ½w² + C·(max(0, 1 − w) + max(0, 1 + w)),
    // and for |w| ≤ 1 the hinges sum to 2, so the minimum is at w = 0 with f = 2C = 4 (C = 2).
    let data = read_libsvm("1\n-1\n", "labels.libsvm").unwrap();
    for loss in [MarginLoss::hinge(), MarginLoss::squared_hinge()] {
        // Squared hinge: ½w² + C·((1 − w)² + (1 + w)²) = ½w² + C·(2 + 2w²), minimum 2C at 0.
        let r = train(
            &data,
            &TrainOptions {
                c: 2.0,
                bias: Some(1.0),
                loss,
                ..TrainOptions::default()
            },
        )
        .unwrap();
        assert!(r.converged, "{}", loss.name());
        assert!(
            (r.objective - 4.0).abs() < 1e-8,
            "{}: {}",
            loss.name(),
            r.objective
        );
        assert_eq!(r.model.weights.len(), 1);
        assert!(r.model.weights[0][0].abs() < 1e-8);
    }
}

/// The seed set plus one all-zero row labelled `label`.
fn seed_with_zero_row(label: f64) -> Dataset {
    let mut data = builtin("seed").unwrap();
    if let svm::matrix::Features::Dense(x) = &mut data.x {
        x.extend([0.0, 0.0]);
    }
    data.labels.push(label);
    data
}

#[test]
fn all_zero_row_adds_c_to_the_hinge_optimum_and_dual_cd_converges() {
    // The seed set without bias, C = 10: the hard-margin optimum, with w = (a, b) constrained
    // by b ≥ 1, a + 2b ≥ 1 (positives (0, 1), (1, 2)) and a + b ≤ −1, 3a ≤ −1, 4a + b ≤ −1
    // (negatives), is the vertex of a + 2b = 1 and a + b = −1: w = (−3, 2), ½‖w‖² = 6.5, with
    // w = α₁·(1, 2) − α₂·(1, 1) → α = (5, 8) ≤ C. A zero row's margin is 0 at any w, so its
    // hinge adds 1·C = 10: f* = 16.5. Today the solver leaves its α at 0, the gap stays C and it
    // runs to the iteration cap.
    for label in [1.0, -1.0] {
        let r = train(
            &seed_with_zero_row(label),
            &TrainOptions {
                c: 10.0,
                max_iter: 10_000,
                ..TrainOptions::default()
            },
        )
        .unwrap();
        assert!(r.converged, "label {label}: {} epochs", r.iterations);
        assert!(r.iterations < 10_000);
        assert!((r.objective - 16.5).abs() < 1e-6, "{}", r.objective);
        // The gap bounds f(w) − f* (≥ 0 up to rounding): the zero row is counted in the dual.
        let gap = r.certificate.unwrap();
        assert!((-1e-12..=1e-9 * 16.5).contains(&gap), "gap {gap}");
        let w = &r.model.weights[0];
        assert!(
            (w[0] + 3.0).abs() < 1e-6 && (w[1] - 2.0).abs() < 1e-6,
            "{w:?}"
        );
    }
}

#[test]
fn all_zero_row_adds_c_to_the_squared_hinge_optimum() {
    // The squared hinge of a zero row is (1 − 0)² = 1 at any w, so it adds C to the seed set's
    // optimum (whatever that is) and leaves w unchanged: compare Newton and dual coordinate
    // descent against the seed set alone.
    let c = 1.0;
    let alone = train(
        &builtin("seed").unwrap(),
        &TrainOptions {
            c,
            loss: MarginLoss::squared_hinge(),
            tol: 1e-12,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    let data = seed_with_zero_row(1.0);
    let with = train(
        &data,
        &TrainOptions {
            c,
            loss: MarginLoss::squared_hinge(),
            tol: 1e-12,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    assert!((with.objective - (alone.objective + c)).abs() < 1e-9);
    let p = Problem {
        x: &data.x,
        d: data.d,
        y: &data.labels,
        c,
        example_weights: None,
    };
    let s = dual_cd(p, MarginLoss::squared_hinge(), 1e-12, 100_000, 0).unwrap();
    assert!(s.converged);
    assert!((s.objective - (alone.objective + c)).abs() < 1e-9);
    assert!(matches!(s.certificate, Certificate::DualityGap(g) if g >= -1e-12));
}
