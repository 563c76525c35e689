//! The first-order solvers, Crammer–Singer, and the data layer.

use losses::MarginLoss;
use svm::data::{
    builtin, kfold, read_csv, read_libsvm, train_test_split, CsvOptions, LabelColumn, Standardizer,
};
use svm::matrix::Features;
use svm::model::{train, Multiclass, TrainOptions};
use svm::solvers::{nesterov, newton_cg, pegasos, subgradient, GradientSource, Problem};

fn breast_cancer() -> (Features, usize, Vec<f64>) {
    let d = builtin("breast_cancer").unwrap();
    let s = Standardizer::fit(&d).unwrap().transform(&d).unwrap();
    (s.x, s.d, s.labels)
}

#[test]
fn nesterov_reaches_the_newton_cg_optimum_of_the_squared_hinge() {
    let (x, d, y) = breast_cancer();
    let p = Problem {
        x: &x,
        d,
        y: &y,
        c: 0.1,
        example_weights: None,
    };
    let exact = newton_cg(p, 1e-14, 1000).unwrap();
    let acc = nesterov(
        p,
        MarginLoss::squared_hinge(),
        1e-6,
        20_000,
        GradientSource::ClosedForm,
    )
    .unwrap();
    let rel = (acc.objective - exact.objective) / exact.objective;
    assert!(
        (0.0..1e-6).contains(&rel),
        "{} vs {}",
        acc.objective,
        exact.objective
    );
}

#[test]
fn engine_and_closed_form_gradients_drive_the_same_iterates() {
    let (x, d, y) = breast_cancer();
    let p = Problem {
        x: &x,
        d,
        y: &y,
        c: 1.0,
        example_weights: None,
    };
    let a = subgradient(p, MarginLoss::hinge(), 1.0, 300, GradientSource::Engine).unwrap();
    let b = subgradient(p, MarginLoss::hinge(), 1.0, 300, GradientSource::ClosedForm).unwrap();
    assert!(
        (a.objective - b.objective).abs() < 1e-9 * b.objective,
        "{} vs {}",
        a.objective,
        b.objective
    );
    for (u, v) in a.w.iter().zip(&b.w) {
        assert!((u - v).abs() < 1e-9);
    }
}

#[test]
fn newton_cg_and_pegasos_give_the_same_result_on_engine_and_closed_form_gradients() {
    use svm::solvers::{newton_cg_with, pegasos_with};
    let (x, d, y) = breast_cancer();
    let p = Problem {
        x: &x,
        d,
        y: &y,
        c: 1.0,
        example_weights: None,
    };
    let a = newton_cg_with(p, 1e-14, 1000, GradientSource::Engine).unwrap();
    let b = newton_cg_with(p, 1e-14, 1000, GradientSource::ClosedForm).unwrap();
    assert!(a.converged && b.converged);
    assert!(
        ((a.objective - 31.5850877546) / 31.5850877546).abs() < 1e-6,
        "{}",
        a.objective
    );
    assert!((a.objective - b.objective).abs() < 1e-9);
    let a = pegasos_with(p, MarginLoss::hinge(), 2000, 5, GradientSource::Engine).unwrap();
    let b = pegasos_with(p, MarginLoss::hinge(), 2000, 5, GradientSource::ClosedForm).unwrap();
    for (u, v) in a.w.iter().zip(&b.w) {
        assert!((u - v).abs() < 1e-9 * (1.0 + v.abs()), "{u} vs {v}");
    }
}

#[test]
fn subgradient_and_pegasos_approach_the_hinge_optimum() {
    // Reference optimum at C = 1: 26.5370382065 (data README).
    let (x, d, y) = breast_cancer();
    let p = Problem {
        x: &x,
        d,
        y: &y,
        c: 1.0,
        example_weights: None,
    };
    let sg = subgradient(
        p,
        MarginLoss::hinge(),
        1.0,
        3000,
        GradientSource::ClosedForm,
    )
    .unwrap();
    let pg = pegasos(p, MarginLoss::hinge(), 200_000, 3).unwrap();
    for (name, f) in [("subgradient", sg.objective), ("pegasos", pg.objective)] {
        assert!(
            (26.5370382065 - 1e-6..26.5370382065 * 1.10).contains(&f),
            "{name}: {f}"
        );
    }
    // The subgradient method's averaged iterate does not get worse over the last half.
    assert!(sg.history[2999] <= sg.history[1500] + 1e-9);
}

#[test]
fn crammer_singer_reports_the_objective_of_its_weights_and_classifies_iris() {
    let iris = builtin("iris").unwrap();
    // The rows as trained: standardised, with the bias feature appended.
    let rows = Standardizer::fit(&iris)
        .unwrap()
        .transform(&iris)
        .unwrap()
        .with_bias(1.0)
        .unwrap();
    for loss in [MarginLoss::hinge(), MarginLoss::squared_hinge()] {
        let r = train(
            &iris,
            &TrainOptions {
                multiclass: Multiclass::CrammerSinger,
                loss,
                c: 1.0,
                standardize: true,
                bias: Some(1.0),
                max_iter: 2000,
                ..TrainOptions::default()
            },
        )
        .unwrap();
        assert_eq!(r.model.weights.len(), 3);
        // The objective recomputed here from the returned weights, by the definition
        // ½‖W‖² + C·Σᵢ ξᵢ (or ξᵢ²), ξᵢ = max(0, max_{m≠yᵢ} 1 + wₘ·xᵢ − w_yᵢ·xᵢ).
        let w = &r.model.weights;
        let mut loss_sum = 0.0;
        for i in 0..rows.n() {
            let y = r
                .model
                .classes
                .iter()
                .position(|&c| c == rows.labels[i])
                .unwrap();
            let score = |m: usize| rows.row(i).dot(&w[m]);
            let xi = (0..3)
                .filter(|&m| m != y)
                .map(|m| 1.0 + score(m) - score(y))
                .fold(0.0, f64::max);
            loss_sum += if loss == MarginLoss::hinge() {
                xi
            } else {
                xi * xi
            };
        }
        let norm: f64 = w.iter().flatten().map(|v| v * v).sum();
        let f = 0.5 * norm + loss_sum;
        assert!(
            (f - r.objective).abs() <= 1e-9 * f,
            "{}: {f} vs {}",
            loss.name(),
            r.objective
        );
        // The history ends at the point returned (its last entry is the reported objective).
        assert_eq!(r.history.last(), Some(&r.objective), "{}", loss.name());
        assert!(
            r.train_accuracy > 0.9,
            "{}: {}",
            loss.name(),
            r.train_accuracy
        );
    }
}

#[test]
fn readers_agree_on_the_same_data_and_standardize_to_mean_0_std_1() {
    let a = read_libsvm("1 1:2 3:-1\n-1 2:4\n", "a").unwrap();
    let b = read_csv(
        "f1,f2,f3,label\n2,0,-1,1\n0,4,0,-1\n",
        "b",
        &CsvOptions {
            label: LabelColumn::Name("label".into()),
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(a.to_dense().unwrap(), b.to_dense().unwrap());
    let bc = builtin("breast_cancer").unwrap();
    let s = Standardizer::fit(&bc).unwrap().transform(&bc).unwrap();
    for j in 0..s.d {
        let col: Vec<f64> = (0..s.n())
            .map(|i| s.row(i).entries().nth(j).unwrap().1)
            .collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / col.len() as f64;
        assert!(
            mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12,
            "feature {j}"
        );
    }
    assert_eq!((bc.n(), bc.d), (569, 30));
    assert_eq!(builtin("digits").unwrap().n(), 1797);
}

#[test]
fn splits_and_folds_are_seeded_partitions() {
    let (tr, te) = train_test_split(100, 0.25, 9);
    let mut all: Vec<usize> = tr.iter().chain(&te).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(te.len(), 25);
    assert_ne!(train_test_split(100, 0.25, 10).1, te);
    for (train, val) in kfold(10, 4, 2) {
        assert_eq!(train.len() + val.len(), 10);
        assert!(val.iter().all(|v| !train.contains(v)));
    }
}

#[test]
fn malformed_input_is_a_typed_error_naming_the_place() {
    for (text, msg) in [
        ("1 1:2\nabc 1:1\n", "t:2:1: `abc` is not a number"),
        ("1 1:2 1:3\n", "t:1:7: feature index 1 after 1"),
        ("1 1:nan\n", "not finite"),
        ("1:2\n", "missing label"),
        ("1 a:2\n", "not a feature index"),
        ("", "empty"),
    ] {
        let err = read_libsvm(text, "t").unwrap_err().to_string();
        assert!(err.contains(msg), "{text:?}: {err}");
    }
    assert!(read_csv("1,2\n1\n", "c", &CsvOptions::default())
        .unwrap_err()
        .to_string()
        .contains("c:2"));
    let by_y = CsvOptions {
        label: LabelColumn::Name("y".into()),
        ..CsvOptions::default()
    };
    assert!(read_csv("a,b\n1,2\n", "c", &by_y).is_err());
    assert!(builtin("nope").is_err());
}

#[test]
fn auc_counts_ordered_pairs_with_ties_as_half() {
    use svm::metrics::auc;
    // Positives 0.9, 0.5; negatives 0.1, 0.5: pairs (0.9>0.1, 0.9>0.5, 0.5>0.1, 0.5=0.5 → ½) → 3.5/4.
    assert_eq!(
        auc(&[0.9, 0.1, 0.5, 0.5], &[1.0, -1.0, 1.0, -1.0]).unwrap(),
        0.875
    );
    assert_eq!(auc(&[1.0, 2.0], &[-1.0, 1.0]).unwrap(), 1.0);
    assert_eq!(auc(&[1.0, 2.0], &[1.0, -1.0]).unwrap(), 0.0);
}

#[test]
fn interior_point_reaches_the_qp_optimum_and_refuses_wide_problems() {
    // Reference: the shared data README (an independent interior-point QP solver, ~1e-10):
    // standardized breast_cancer, hinge, C = 10: 177.7929154506 — where dual coordinate
    // descent needs thousands of epochs.
    let data = svm::data::builtin("breast_cancer").unwrap();
    let data = svm::data::Standardizer::fit(&data)
        .unwrap()
        .transform(&data)
        .unwrap();
    let p = svm::solvers::Problem {
        x: &data.x,
        d: data.d,
        y: &data.labels,
        c: 10.0,
        example_weights: None,
    };
    assert!(svm::solvers::interior_point_suits(&p));
    let s = svm::solvers::interior_point(p, 1e-11, 200).unwrap();
    assert!(
        s.converged && s.iterations < 60,
        "{} iterations",
        s.iterations
    );
    assert!(
        (s.objective - 177.7929154506).abs() < 1e-7,
        "{}",
        s.objective
    );
    // Its certificate is a true duality gap: f(w) recomputed is the reported objective.
    let (f, _) = p.objective(losses::MarginLoss::hinge(), &s.w).unwrap();
    assert_eq!(f, s.objective);
    // d past the limit is a typed error, not a 1025² allocation per iteration.
    let d = svm::solvers::MAX_INTERIOR_POINT_FEATURES + 1;
    let x = svm::matrix::Features::from(vec![0.0; d]);
    let wide = svm::solvers::Problem {
        x: &x,
        d,
        y: &[1.0],
        c: 1.0,
        example_weights: None,
    };
    assert!(matches!(
        svm::solvers::interior_point(wide, 1e-6, 10),
        Err(svm::Error::TooManyFeatures { .. })
    ));
}

#[test]
fn interior_point_gives_the_same_bits_on_dense_and_sparse_rows() {
    // The dense normal matrix goes four rows at a time (and on AVX2 where present), the sparse
    // one row by row skipping zeros; each element's additions are the same, in the same order,
    // so the weights must be bit-for-bit equal. Raw digits (about half zeros), 0 against the
    // rest; the reference is the same solver on the dense copy.
    let digits = svm::data::builtin("digits").unwrap();
    let y: Vec<f64> = digits
        .labels
        .iter()
        .map(|&l| if l == 0.0 { 1.0 } else { -1.0 })
        .collect();
    let sparse = digits.to_sparse().unwrap();
    let run = |x: &svm::matrix::Features| {
        let p = svm::solvers::Problem {
            x,
            d: digits.d,
            y: &y,
            c: 0.1,
            example_weights: None,
        };
        assert!(svm::solvers::interior_point_suits(&p));
        svm::solvers::interior_point(p, 1e-9, 200).unwrap()
    };
    let (a, b) = (run(&digits.x), run(&sparse.x));
    assert!(a.converged, "{} iterations", a.iterations);
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.w, b.w);
    assert_eq!(a.objective, b.objective);
}

#[test]
fn crammer_singer_interior_point_reaches_the_sequential_dual_optimum_dense_and_sparse() {
    use svm::solvers::{
        crammer_singer, crammer_singer_interior_point, crammer_singer_squared, MulticlassProblem,
    };
    // Raw iris, where the sequential dual needs up to 80 000 epochs at this tolerance: both
    // certify a relative error ≤ 1e-11, so their objectives agree to 2e-11 (asserted: 1e-9).
    let iris = builtin("iris").unwrap();
    let labels: Vec<usize> = iris.labels.iter().map(|&l| l as usize).collect();
    let sparse_iris = iris.to_sparse().unwrap();
    assert!(sparse_iris.x.is_sparse());
    for squared in [false, true] {
        for c in [0.1, 1.0, 10.0] {
            let p = MulticlassProblem {
                x: &iris.x,
                d: iris.d,
                labels: &labels,
                k: 3,
                c,
                example_weights: None,
            };
            let ipm = crammer_singer_interior_point(p, squared, 1e-11, 200).unwrap();
            let sd = if squared {
                crammer_singer_squared(p, 1e-11, 10_000_000, 0)
            } else {
                crammer_singer(p, 1e-11, 10_000_000, 0)
            }
            .unwrap();
            assert!(ipm.converged && sd.converged, "squared {squared} C = {c}");
            assert!(ipm.iterations < 50, "{} iterations", ipm.iterations);
            let e = (ipm.objective - sd.objective).abs() / sd.objective;
            assert!(e < 1e-9, "squared {squared} C = {c}: {e:e}");
            // Skipping the zeros skips only products with 0: the same iterates, bit for bit.
            let sp = MulticlassProblem {
                x: &sparse_iris.x,
                ..p
            };
            let ips = crammer_singer_interior_point(sp, squared, 1e-11, 200).unwrap();
            assert_eq!(ips.w, ipm.w, "squared {squared} C = {c}");
            assert_eq!(
                (ips.objective, ips.iterations),
                (ipm.objective, ipm.iterations)
            );
        }
    }
    // k·d past the limit is a typed error, not a 1026² allocation per iteration.
    let d = svm::solvers::MAX_INTERIOR_POINT_FEATURES / 2 + 1;
    let x = Features::from(vec![0.0; 2 * d]);
    let wide = MulticlassProblem {
        x: &x,
        d,
        labels: &[0, 1],
        k: 2,
        c: 1.0,
        example_weights: None,
    };
    assert!(!svm::solvers::crammer_singer_interior_point_suits(&wide));
    assert!(matches!(
        crammer_singer_interior_point(wide, false, 1e-6, 10),
        Err(svm::Error::TooManyFeatures {
            features: 1026,
            limit: 1024,
            ..
        })
    ));
}

#[test]
fn crammer_singer_interior_point_converges_with_examples_at_the_box() {
    // Raw digits, hinge, C = 0.01: most examples end with their loss at the box (eᵀλᵢ = C,
    // νᵢ → 0, so ρᵢ = ξᵢ/νᵢ → ∞). Sherman–Morrison expanded in ρ lost every digit there and
    // stalled at a relative gap of 1.8e-7; kept as a fraction it converges.
    let digits = builtin("digits").unwrap();
    let labels: Vec<usize> = digits.labels.iter().map(|&l| l as usize).collect();
    let p = svm::solvers::MulticlassProblem {
        x: &digits.x,
        d: digits.d,
        labels: &labels,
        k: 10,
        c: 0.01,
        example_weights: None,
    };
    let s = svm::solvers::crammer_singer_interior_point(p, false, 1e-8, 60).unwrap();
    assert!(
        s.converged && s.iterations < 40,
        "{} iterations",
        s.iterations
    );
    let gap = s.certificate.value().unwrap();
    assert!(gap <= 1e-8 * s.objective, "{gap:e}");
    // The certificate is about the weights returned: P(W) recomputed is the objective.
    assert_eq!(p.objective(&s.w), s.objective);
}
