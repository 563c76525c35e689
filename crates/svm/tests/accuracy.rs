//! The accuracy targets: objectives reached against the reference optima of
//! `crates/svm/data/README.md`, where their provenance is written (independent interior-point QP
//! solvers).

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
fn digits_one_vs_rest_squared_hinge_within_1e_6_of_the_optimum() {
    // Reference: crates/svm/data/README.md (from the shared data README), the sum of the ten
    // one-vs-rest optima on raw pixels: 36.539541 / 321.294093 / 3020.977701.
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
            relative(r.objective, want) < 1e-6,
            "C = {c}: {} vs {want} ({:e})",
            r.objective,
            relative(r.objective, want)
        );
    }
}

#[test]
fn digits_one_vs_rest_hinge_within_1e_6_of_the_optimum() {
    // Reference: crates/svm/data/README.md (from the shared data README), an interior-point QP solver (sum of the ten
    // one-vs-rest optima on raw pixels): 29.906177 / 244.591653 / 2177.604267. Large C on
    // unscaled features is where dual coordinate descent crawls (and liblinear stops 1.35
    // relative off at C = 10); the default exact solver must still get there.
    let data = builtin("digits").unwrap();
    for (c, want) in [(0.1, 29.906177), (1.0, 244.591653), (10.0, 2177.604267)] {
        let r = train(
            &data,
            &TrainOptions {
                c,
                tol: 1e-8,
                ..TrainOptions::default()
            },
        )
        .unwrap();
        assert!(r.converged, "C = {c}");
        let e = relative(r.objective, want);
        assert!(e < 1e-6, "C = {c}: {} ({e:e})", r.objective);
    }
}

/// Iris (raw features), every loss and multiclass form at C = 0.1, 1, 10: the objective within
/// 1e-6 relative of the optimum. Reference: `bench/reference_optima.py`, cvxopt's
/// interior-point QP solver on the primal (objective recomputed from its weights; duality gaps
/// ≤ 1e-8, printed beside each value).
#[test]
fn iris_every_form_within_1e_6_of_the_optimum() {
    use svm::model::Multiclass::{CrammerSinger, OneVsRest};
    let data = builtin("iris").unwrap();
    let cases = [
        (
            MarginLoss::hinge(),
            OneVsRest,
            [15.393347126952, 116.171872154061, 1015.557816785315],
        ),
        (
            MarginLoss::hinge(),
            CrammerSinger,
            [5.302511502780, 22.450058067208, 132.405472236293],
        ),
        (
            MarginLoss::squared_hinge(),
            OneVsRest,
            [15.275693419980, 125.130587921430, 1184.704133964884],
        ),
        (
            MarginLoss::squared_hinge(),
            CrammerSinger,
            [4.078534211758, 19.780832208127, 146.299393468268],
        ),
    ];
    for (loss, multiclass, optima) in cases {
        for (c, want) in [0.1, 1.0, 10.0].into_iter().zip(optima) {
            let r = train(
                &data,
                &TrainOptions {
                    loss,
                    multiclass,
                    c,
                    tol: 1e-8,
                    max_iter: 1_000_000,
                    ..TrainOptions::default()
                },
            )
            .unwrap();
            assert!(r.converged, "{loss:?} {multiclass:?} C = {c}");
            let e = relative(r.objective, want);
            assert!(
                e < 1e-6,
                "{loss:?} {multiclass:?} C = {c}: {} vs {want} ({e:e})",
                r.objective
            );
        }
    }
}

/// Digits (raw pixels, 1797 × 64, ten classes), Crammer–Singer, hinge and squared, at C = 0.1,
/// 1, 10: the objective within 1e-6 relative of the optimum, where the sequential dual needs
/// tens of thousands of epochs (the interior-point method takes k·d = 640 weights). Reference:
/// `bench/reference_optima.py`, cvxopt's interior-point QP solver on the primal (objective
/// recomputed from its weights; duality gaps ≤ 4e-10, status "unknown" at its 1e-13
/// tolerances). The hinge optimum is the same at the three C: digits is separable and its
/// hard-margin solution needs no multiplier above 0.1, so no ξᵢ > 0 pays.
#[test]
fn digits_crammer_singer_within_1e_6_of_the_optimum() {
    use svm::model::Multiclass::CrammerSinger;
    let data = builtin("digits").unwrap();
    let cases = [
        (MarginLoss::hinge(), [0.922097097896; 3]),
        (
            MarginLoss::squared_hinge(),
            [0.837969595195, 0.912548749818, 0.921128706942],
        ),
    ];
    for (loss, optima) in cases {
        for (c, want) in [0.1, 1.0, 10.0].into_iter().zip(optima) {
            let r = train(
                &data,
                &TrainOptions {
                    loss,
                    multiclass: CrammerSinger,
                    c,
                    tol: 1e-8,
                    max_iter: 1_000_000,
                    ..TrainOptions::default()
                },
            )
            .unwrap();
            assert_eq!(r.model.weights.len(), 10);
            assert!(r.converged, "{loss:?} C = {c}");
            let e = relative(r.objective, want);
            assert!(
                e < 1e-6,
                "{loss:?} C = {c}: {} vs {want} ({e:e})",
                r.objective
            );
        }
    }
}

/// Raw digits, hinge, C = 0.1, one-vs-rest through [`svm::solvers::dual_cd`] itself: the sum
/// of the ten objectives within 1e-6 relative of the optimum in 10,000 epochs per class.
/// Reference: crates/svm/data/README.md (the shared data README's independent interior-point
/// QP solver): 29.906177, the sum of the ten one-vs-rest optima (its rounding is 2e-8 relative).
///
/// On unscaled pixels plain coordinate descent crawls; the active-set step at the gap checks
/// is what meets this budget. Measured at tol 1e-7, seed 0: with the step, the slowest class
/// (8) converges in 8,110 epochs (the others in 180…5,777); without it (dual_cd.rs before the
/// step), class 8 needs 100,488 epochs, and at 10,000 epochs per class the sum is 3.5e-4
/// relative off (9.2e-6 still at 50,000).
#[test]
fn digits_dual_cd_hinge_reaches_the_optimum_in_10_000_epochs() {
    use svm::solvers::{dual_cd, Problem};
    let digits = builtin("digits").unwrap();
    let mut sum = 0.0;
    for k in 0..10 {
        let y = digits.one_vs_rest(f64::from(k));
        let p = Problem {
            x: &digits.x,
            d: digits.d,
            y: &y,
            c: 0.1,
            example_weights: None,
        };
        let s = dual_cd(p, MarginLoss::hinge(), 1e-7, 10_000, 0).unwrap();
        assert!(s.converged, "class {k}: {} epochs", s.iterations);
        sum += s.objective;
    }
    let e = relative(sum, 29.906177);
    assert!(e < 1e-6, "{sum} ({e:e})");
}
