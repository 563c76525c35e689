//! The rest of the public API: malformed data sets, standardisers, subsets, the bias feature,
//! AUC and the solvers' own parameters are errors, not panics.

use losses::MarginLoss;
use svm::data::{builtin, Dataset, Standardizer};
use svm::metrics::auc;
use svm::model::{train, TrainOptions};
use svm::solvers::{dual_cd, nesterov, newton_cg, subgradient, GradientSource, Problem, MAX_C};
use svm::Error;

#[test]
fn errors_are_send_sync_and_static() {
    fn bounds<E: std::error::Error + Send + Sync + 'static>() {}
    bounds::<Error>();
}

#[test]
fn data_set_with_x_of_the_wrong_length_is_an_error_not_a_panic() {
    // Two labels, d = 2, three values: row 1 would slice past the end.
    let bad = Dataset {
        x: vec![1.0, 2.0, 3.0].into(),
        d: 2,
        labels: vec![1.0, -1.0],
    };
    let shape = Error::Dimension {
        what: "x (n·d)",
        expected: 4,
        got: 3,
    };
    assert_eq!(bad.check().unwrap_err(), shape);
    assert_eq!(train(&bad, &TrainOptions::default()).unwrap_err(), shape);
    assert_eq!(bad.subset(&[1]).unwrap_err(), shape);
    assert_eq!(bad.with_bias(1.0).unwrap_err(), shape);
    assert_eq!(Standardizer::fit(&bad).unwrap_err(), shape);
}

#[test]
fn data_set_with_non_finite_values_is_rejected_by_train() {
    let nan_label = Dataset {
        x: vec![1.0, 2.0].into(),
        d: 1,
        labels: vec![1.0, f64::NAN],
    };
    let msg = train(&nan_label, &TrainOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "row 1: label NaN is not finite");
    let inf_x = Dataset {
        x: vec![1.0, f64::INFINITY].into(),
        d: 1,
        labels: vec![1.0, -1.0],
    };
    let msg = train(&inf_x, &TrainOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "row 1: feature value inf is not finite");
}

#[test]
fn subset_with_an_index_past_the_end_is_an_error() {
    let seed = builtin("seed").unwrap();
    assert_eq!(
        seed.subset(&[0, 5]).unwrap_err(),
        Error::IndexOutOfRange { index: 5, n: 5 }
    );
    // Rows 4 and 0 of the seed set: (1, 1) labelled −1 and (0, 1) labelled +1.
    let s = seed.subset(&[4, 0]).unwrap();
    assert_eq!(
        (s.x, s.labels),
        (vec![1.0, 1.0, 0.0, 1.0].into(), vec![-1.0, 1.0])
    );
}

#[test]
fn bias_that_is_not_finite_is_an_error() {
    let seed = builtin("seed").unwrap();
    assert!(matches!(
        seed.with_bias(f64::NAN),
        Err(Error::InvalidParameter { name: "bias", .. })
    ));
    let b = seed.with_bias(2.0).unwrap();
    assert_eq!(b.d, 3);
    assert_eq!(
        b.row(4).entries().map(|e| e.1).collect::<Vec<_>>(),
        [1.0, 1.0, 2.0]
    );
}

#[test]
fn standardizer_with_a_shorter_std_is_an_error_not_a_panic() {
    let data = Dataset {
        x: vec![1.0, 2.0, 3.0, 4.0].into(),
        d: 2,
        labels: vec![1.0, -1.0],
    };
    let short = Standardizer {
        mean: vec![0.0, 0.0],
        std: vec![1.0],
    };
    assert!(matches!(
        short.transform(&data),
        Err(Error::Dimension {
            expected: 2,
            got: 1,
            ..
        })
    ));
    // Another width than the data's, and a negative std.
    let narrow = Standardizer {
        mean: vec![0.0],
        std: vec![1.0],
    };
    assert!(matches!(
        narrow.transform(&data),
        Err(Error::Dimension {
            expected: 1,
            got: 2,
            ..
        })
    ));
    let negative = Standardizer {
        mean: vec![0.0, 0.0],
        std: vec![1.0, -1.0],
    };
    assert!(matches!(
        negative.transform(&data),
        Err(Error::InvalidParameter {
            name: "standardizer std",
            ..
        })
    ));
}

#[test]
fn standardizer_fits_huge_values_without_overflow() {
    // x = ±1e200: μ = 0, σ = √((1e200² + 1e200²)/2) = 1e200; today the squares overflow to
    // σ = inf and the transform maps every value to 0.
    let data = Dataset {
        x: vec![1e200, -1e200].into(),
        d: 1,
        labels: vec![1.0, -1.0],
    };
    let s = Standardizer::fit(&data).unwrap();
    assert_eq!((s.mean, s.std.clone()), (vec![0.0], vec![1e200]));
    let s = Standardizer {
        mean: vec![0.0],
        std: s.std,
    };
    assert_eq!(s.transform(&data).unwrap().x, vec![1.0, -1.0].into());
    // Values 1e308 apart overflow x − μ itself: an error, not σ = inf.
    let far = Dataset {
        x: vec![1.7e308, -1.7e308, 1.7e308].into(),
        d: 1,
        labels: vec![1.0, -1.0, 1.0],
    };
    assert!(matches!(
        Standardizer::fit(&far),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn auc_of_one_class_or_mismatched_lengths_is_an_error() {
    // Today: NaN for one class, and an index panic for fewer labels than scores.
    assert!(matches!(
        auc(&[0.1, 0.2], &[1.0, 1.0]),
        Err(Error::Labels(_))
    ));
    assert!(matches!(
        auc(&[0.1, 0.2], &[1.0]),
        Err(Error::Dimension {
            expected: 2,
            got: 1,
            ..
        })
    ));
    assert!(matches!(
        auc(&[0.1, f64::NAN], &[1.0, -1.0]),
        Err(Error::NonFiniteRow { row: 1, .. })
    ));
    assert!(matches!(
        auc(&[0.1, 0.2], &[1.0, 0.0]),
        Err(Error::Labels(_))
    ));
}

#[test]
fn solvers_reject_bad_tolerances_iterations_steps_and_c() {
    let seed = builtin("seed").unwrap();
    let problem = |c| Problem {
        x: &seed.x,
        d: seed.d,
        y: &seed.labels,
        c,
        example_weights: None,
    };
    let p = problem(1.0);
    let hinge = MarginLoss::hinge();
    let name = |r: Result<_, Error>| match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{:?}", other.map(|s: svm::solvers::Solution| s.objective)),
    };
    // Zero epochs today return objective inf as a result.
    assert_eq!(name(dual_cd(p, hinge, 1e-9, 0, 0)), "max_epochs");
    for tol in [f64::NAN, 0.0, -1.0] {
        assert_eq!(name(dual_cd(p, hinge, tol, 10, 0)), "tol");
        assert_eq!(name(newton_cg(p, tol, 10)), "tol");
        assert_eq!(
            name(nesterov(
                p,
                MarginLoss::squared_hinge(),
                tol,
                10,
                GradientSource::ClosedForm
            )),
            "tol"
        );
    }
    assert_eq!(
        name(subgradient(
            p,
            hinge,
            f64::NAN,
            10,
            GradientSource::ClosedForm
        )),
        "step"
    );
    for c in [0.0, -1.0, f64::NAN, MAX_C * 2.0] {
        assert_eq!(name(dual_cd(problem(c), hinge, 1e-9, 10, 0)), "C");
    }
}

#[test]
fn newton_cg_takes_many_features_without_a_dense_hessian() {
    // Two rows of d = 100,000 features (x₀ = e₀, x₁ = −e₀): a d × d Hessian would be 80 GB.
    let d = 100_000;
    let mut x = vec![0.0; 2 * d];
    x[0] = 1.0;
    x[d] = -1.0;
    let y = [1.0, -1.0];
    let features = x.clone().into();
    let p = Problem {
        x: &features,
        d,
        y: &y,
        c: 1.0,
        example_weights: None,
    };
    // f(w) = ½w₀² + 2C·max(0, 1 − w₀)² (both rows have margin w₀): 0 = w₀ − 4C(1 − w₀), so
    // w₀ = 4C/(1 + 4C) = 0.8 and f = ½·0.64 + 2·0.04 = 0.4 (C = 1).
    let s = newton_cg(p, 1e-12, 100).unwrap();
    assert!(s.converged);
    assert!((s.objective - 0.4).abs() < 1e-10, "{}", s.objective);
    let data = Dataset {
        x: x.into(),
        d,
        labels: y.to_vec(),
    };
    let r = train(
        &data,
        &TrainOptions {
            loss: MarginLoss::squared_hinge(),
            ..TrainOptions::default()
        },
    )
    .unwrap();
    assert!(r.converged);
    assert!((r.objective - 0.4).abs() < 1e-8, "{}", r.objective);
    // f − f* = ½(1 + 4C)·(w₀ − 0.8)², so a gap of 1e-9 leaves w₀ within about 3e-5.
    let w0 = r.model.weights[0][0];
    assert!((w0 - 0.8).abs() < 1e-4, "{w0}");
}
