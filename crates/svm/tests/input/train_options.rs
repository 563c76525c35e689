//! `train` checks every option up front, on every path.

use losses::MarginLoss;
use svm::data::{builtin, Dataset};
use svm::model::{train, Multiclass, SolverKind, TrainOptions};
use svm::Error;

/// Three classes in one dimension with a bias feature possible: 0, 1, 2 at x = 0, 1, 2.
fn three_classes() -> Dataset {
    Dataset {
        x: vec![0.0, 0.1, 1.0, 1.1, 2.0, 2.1].into(),
        d: 1,
        labels: vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0],
    }
}

/// Every training path: binary, one-vs-rest, Crammer–Singer, all-pairs.
fn paths() -> Vec<(&'static str, Dataset, TrainOptions<'static>)> {
    let seed = builtin("seed").unwrap();
    let base = TrainOptions {
        max_iter: 50,
        ..TrainOptions::default()
    };
    vec![
        ("binary", seed.clone(), base),
        ("one-vs-rest", three_classes(), base),
        (
            "crammer-singer",
            three_classes(),
            TrainOptions {
                multiclass: Multiclass::CrammerSinger,
                ..base
            },
        ),
        (
            "all-pairs",
            seed,
            TrainOptions {
                all_pairs: Some(1.0),
                ..base
            },
        ),
    ]
}

/// On every path, `edit` makes `train` fail with `InvalidParameter` on `name`.
#[track_caller]
fn rejected(name: &str, edit: impl Fn(TrainOptions) -> TrainOptions) {
    for (path, data, o) in paths() {
        match train(&data, &edit(o)) {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name, "{path}"),
            Err(other) => panic!("{path}: {name}: {other}"),
            Ok(r) => panic!("{path}: {name} accepted, objective {}", r.objective),
        }
    }
}

#[test]
fn c_outside_0_to_1e100_is_rejected_on_every_path() {
    // Today −1 with Crammer–Singer or all-pairs "succeeds" with objective NaN or weights near
    // 1e154, and 0 is accepted.
    for c in [
        -1.0,
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        1.0000001e100,
        1e300,
    ] {
        rejected("C", |o| TrainOptions { c, ..o });
    }
}

#[test]
fn c_message_names_the_range() {
    let err = train(
        &builtin("seed").unwrap(),
        &TrainOptions {
            c: -1.0,
            ..TrainOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "C = -1.0 is out of range (0 < C ≤ 1e100)");
}

#[test]
fn tol_not_finite_and_positive_is_rejected_on_every_path() {
    // Today NaN, 0 and −1 run to the iteration cap.
    for tol in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        rejected("tol", |o| TrainOptions { tol, ..o });
    }
}

#[test]
fn zero_iterations_are_rejected_on_every_path() {
    rejected("max_iter", |o| TrainOptions { max_iter: 0, ..o });
}

#[test]
fn non_finite_bias_is_rejected_on_every_path() {
    for b in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        rejected("bias", |o| TrainOptions { bias: Some(b), ..o });
    }
}

#[test]
fn all_pairs_margin_not_finite_and_positive_is_rejected() {
    for m in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        rejected("all-pairs margin", |o| TrainOptions {
            all_pairs: Some(m),
            ..o
        });
    }
}

#[test]
fn c_at_the_limit_1e100_is_accepted_and_gives_finite_results() {
    let o = TrainOptions {
        c: 1e100,
        max_iter: 20,
        ..TrainOptions::default()
    };
    assert_eq!(o.validate(), Ok(()));
    for (path, data, _) in paths() {
        let o = TrainOptions {
            multiclass: Multiclass::CrammerSinger,
            all_pairs: (path == "all-pairs").then_some(1.0),
            ..o
        };
        // Whatever 20 iterations reach is finite, or an error; f(0) = C·n = 5e100 and
        // 6e100 for the hinge at w = 0 is far from overflowing.
        if let Ok(r) = train(&data, &o) {
            assert!(r.objective.is_finite(), "{path}: {}", r.objective);
        }
    }
}

#[test]
fn loss_the_path_does_not_solve_is_rejected() {
    // Pegasos used to train the hinge and label the model squared-hinge; it now trains the
    // squared hinge: its objective is the squared-hinge objective of its own weights, near the
    // optimum that Newton's method reaches (an independent solver).
    let seed = builtin("seed").unwrap();
    let squared = |solver| {
        train(
            &seed,
            &TrainOptions {
                solver,
                loss: MarginLoss::squared_hinge(),
                max_iter: 100_000,
                ..TrainOptions::default()
            },
        )
        .unwrap()
    };
    let (sgd, exact) = (squared(SolverKind::Pegasos), squared(SolverKind::Exact));
    assert_eq!(sgd.model.loss, "squared-hinge");
    let p = svm::solvers::Problem {
        x: &seed.x,
        d: seed.d,
        y: &seed.labels,
        c: 1.0,
        example_weights: None,
    };
    let own = p
        .objective(MarginLoss::squared_hinge(), &sgd.model.weights[0])
        .unwrap()
        .0;
    assert!((own - sgd.objective).abs() <= 1e-12 * own);
    assert!(
        (sgd.objective - exact.objective) / exact.objective < 0.02,
        "{} vs {}",
        sgd.objective,
        exact.objective
    );
    let err = train(
        &seed,
        &TrainOptions {
            solver: SolverKind::Pegasos,
            loss: MarginLoss::Hinge { margin: 2.0 },
            ..TrainOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pegasos handles the hinge and the squared hinge with margin 1, not hinge with margin 2"
    );
    // Crammer–Singer is the (squared) hinge with margin 1.
    let err = train(
        &three_classes(),
        &TrainOptions {
            multiclass: Multiclass::CrammerSinger,
            loss: MarginLoss::Hinge { margin: 2.0 },
            ..TrainOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Crammer–Singer training handles the hinge and the squared hinge with margin 1, not hinge with margin 2"
    );
}

#[test]
fn loss_with_a_bad_parameter_is_rejected_before_training() {
    let err = train(
        &builtin("seed").unwrap(),
        &TrainOptions {
            loss: MarginLoss::SmoothGaussian { sigma: -1.0 },
            ..TrainOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Loss(_)), "{err}");
}
