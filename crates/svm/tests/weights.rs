//! Per-example and per-class weights (liblinear's `-wi`, scikit-learn's `class_weight`).
//!
//! The independent derivation: with an integer weight `sᵢ`, `Cᵢ·ℓ = C·sᵢ·ℓ` is the unweighted
//! objective on the data with example `i` repeated `sᵢ` times, so every exact solver must reach
//! the same optimum on the weighted data as on the replicated data; and the objective a solver
//! reports is recomputed here by hand from the weights.

use losses::MarginLoss;
use svm::data::{builtin, Dataset};
use svm::model::{train, ClassWeight, Multiclass, TrainOptions};
use svm::solvers::{
    crammer_singer, crammer_singer_interior_point, crammer_singer_squared, dual_cd, interior_point,
    nesterov, newton, newton_cg, pegasos_with, subgradient, GradientSource, MulticlassProblem,
    Problem, Solution,
};
use svm::Error;

/// Iris with a bias feature, and its integer weights `sᵢ = 1 + (i mod 3)`.
fn iris() -> (Dataset, Vec<f64>) {
    let data = builtin("iris").unwrap().with_bias(1.0).unwrap();
    let weights = (0..data.n()).map(|i| (1 + i % 3) as f64).collect();
    (data, weights)
}

/// `data` with row `i` repeated `weights[i]` times.
fn replicated(data: &Dataset, weights: &[f64]) -> Dataset {
    let idx: Vec<usize> = (0..data.n())
        .flat_map(|i| std::iter::repeat_n(i, weights[i] as usize))
        .collect();
    data.subset(&idx).unwrap()
}

/// Versicolor (class 1, not linearly separable from the others) against the rest.
fn binary_labels(data: &Dataset) -> Vec<f64> {
    data.one_vs_rest(1.0)
}

/// `½‖w‖² + Σᵢ C·sᵢ·ℓ(yᵢ·w·xᵢ)`, written out from the definition.
fn weighted_objective(
    data: &Dataset,
    y: &[f64],
    s: &[f64],
    c: f64,
    loss: MarginLoss,
    w: &[f64],
) -> f64 {
    let reg: f64 = w.iter().map(|v| v * v).sum::<f64>() / 2.0;
    let sum: f64 = (0..data.n())
        .map(|i| c * s[i] * loss.value(y[i] * data.row(i).dot(w)))
        .sum();
    reg + sum
}

/// Both objectives agree to `rel` relative error.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn every_binary_exact_solver_reaches_the_replicated_optimum_and_reports_the_weighted_objective() {
    let (data, s) = iris();
    let y = binary_labels(&data);
    let rep = replicated(&data, &s);
    let yr = binary_labels(&rep);
    let c = 0.5;
    let weighted = Problem {
        x: &data.x,
        d: data.d,
        y: &y,
        c,
        example_weights: Some(&s),
    };
    let plain = Problem {
        x: &rep.x,
        d: rep.d,
        y: &yr,
        c,
        example_weights: None,
    };
    type Run = fn(Problem<'_>) -> Solution;
    let runs: [(&str, MarginLoss, Run); 6] = [
        ("dual CD, hinge", MarginLoss::hinge(), |p| {
            dual_cd(p, MarginLoss::hinge(), 1e-12, 100_000, 0).unwrap()
        }),
        ("dual CD, squared hinge", MarginLoss::squared_hinge(), |p| {
            dual_cd(p, MarginLoss::squared_hinge(), 1e-12, 100_000, 0).unwrap()
        }),
        ("interior point", MarginLoss::hinge(), |p| {
            interior_point(p, 1e-12, 200).unwrap()
        }),
        ("Newton", MarginLoss::squared_hinge(), |p| {
            newton(p, 1e-12, 200).unwrap()
        }),
        ("Newton-CG", MarginLoss::squared_hinge(), |p| {
            newton_cg(p, 1e-12, 1000).unwrap()
        }),
        ("Nesterov", MarginLoss::squared_hinge(), |p| {
            nesterov(
                p,
                MarginLoss::squared_hinge(),
                1e-10,
                100_000,
                GradientSource::ClosedForm,
            )
            .unwrap()
        }),
    ];
    for (name, loss, run) in runs {
        let a = run(weighted);
        let b = run(plain);
        assert!(a.converged && b.converged, "{name}");
        // The same strictly convex problem: the optima agree to the certified tolerance.
        assert!(
            close(a.objective, b.objective, 1e-9),
            "{name}: {} vs {}",
            a.objective,
            b.objective
        );
        // The reported objective is the weighted one, recomputed from its definition.
        let by_hand = weighted_objective(&data, &y, &s, c, loss, &a.w);
        assert!(
            close(a.objective, by_hand, 1e-12),
            "{name}: {} vs {by_hand}",
            a.objective
        );
    }
}

#[test]
fn the_engine_sums_the_weighted_losses_as_the_closed_form_does() {
    let (data, s) = iris();
    let y = binary_labels(&data);
    let p = Problem {
        x: &data.x,
        d: data.d,
        y: &y,
        c: 0.5,
        example_weights: Some(&s),
    };
    // Both sources minimise the same smooth objective: the same certified optimum.
    let a = nesterov(
        p,
        MarginLoss::squared_hinge(),
        1e-10,
        100_000,
        GradientSource::Engine,
    )
    .unwrap();
    let b = newton(p, 1e-12, 200).unwrap();
    assert!(
        a.converged && close(a.objective, b.objective, 1e-8),
        "{} vs {}",
        a.objective,
        b.objective
    );
    // The subgradient method takes the same steps on the weighted and the replicated data
    // (the same gradient, summed in another order).
    let rep = replicated(&data, &s);
    let yr = binary_labels(&rep);
    let plain = Problem {
        x: &rep.x,
        d: rep.d,
        y: &yr,
        c: 0.5,
        example_weights: None,
    };
    let sg = subgradient(p, MarginLoss::hinge(), 1.0, 200, GradientSource::Engine).unwrap();
    let sr = subgradient(
        plain,
        MarginLoss::hinge(),
        1.0,
        200,
        GradientSource::ClosedForm,
    )
    .unwrap();
    assert!(
        close(sg.objective, sr.objective, 1e-9),
        "{} vs {}",
        sg.objective,
        sr.objective
    );
    let by_hand = weighted_objective(&data, &y, &s, 0.5, MarginLoss::hinge(), &sg.w);
    assert!(close(sg.objective, by_hand, 1e-12));
}

#[test]
fn pegasos_reports_the_weighted_objective() {
    let (data, s) = iris();
    let y = binary_labels(&data);
    let p = Problem {
        x: &data.x,
        d: data.d,
        y: &y,
        c: 0.5,
        example_weights: Some(&s),
    };
    for source in [GradientSource::Engine, GradientSource::ClosedForm] {
        let sol = pegasos_with(p, MarginLoss::hinge(), 3000, 0, source).unwrap();
        let by_hand = weighted_objective(&data, &y, &s, 0.5, MarginLoss::hinge(), &sol.w);
        assert!(close(sol.objective, by_hand, 1e-12));
    }
}

/// `½‖W‖² + Σᵢ C·sᵢ·ℓᵢ` of Crammer–Singer, written out from the definition.
fn cs_objective(
    data: &Dataset,
    labels: &[usize],
    s: &[f64],
    c: f64,
    squared: bool,
    w: &[f64],
) -> f64 {
    let (d, k) = (data.d, w.len() / data.d);
    let mut total = w.iter().map(|v| v * v).sum::<f64>() / 2.0;
    for i in 0..data.n() {
        let score = |m: usize| data.row(i).dot(&w[m * d..(m + 1) * d]);
        let y = labels[i];
        let worst = (0..k)
            .filter(|&m| m != y)
            .map(|m| 1.0 + score(m) - score(y))
            .fold(0.0, f64::max);
        total += c * s[i] * if squared { worst * worst } else { worst };
    }
    total
}

#[test]
fn crammer_singer_solvers_reach_the_replicated_optimum() {
    let (data, s) = iris();
    let labels: Vec<usize> = data.labels.iter().map(|&l| l as usize).collect();
    let rep = replicated(&data, &s);
    let rep_labels: Vec<usize> = rep.labels.iter().map(|&l| l as usize).collect();
    let c = 0.1;
    let weighted = MulticlassProblem {
        x: &data.x,
        d: data.d,
        labels: &labels,
        k: 3,
        c,
        example_weights: Some(&s),
    };
    let plain = MulticlassProblem {
        x: &rep.x,
        d: rep.d,
        labels: &rep_labels,
        k: 3,
        c,
        example_weights: None,
    };
    type Run = fn(MulticlassProblem<'_>) -> Solution;
    let runs: [(&str, bool, Run); 4] = [
        ("sequential dual", false, |p| {
            crammer_singer(p, 1e-11, 200_000, 0).unwrap()
        }),
        ("sequential dual, squared", true, |p| {
            crammer_singer_squared(p, 1e-11, 200_000, 0).unwrap()
        }),
        ("interior point", false, |p| {
            crammer_singer_interior_point(p, false, 1e-11, 200).unwrap()
        }),
        ("interior point, squared", true, |p| {
            crammer_singer_interior_point(p, true, 1e-11, 200).unwrap()
        }),
    ];
    for (name, squared, run) in runs {
        let a = run(weighted);
        let b = run(plain);
        assert!(a.converged && b.converged, "{name}");
        assert!(
            close(a.objective, b.objective, 1e-8),
            "{name}: {} vs {}",
            a.objective,
            b.objective
        );
        let by_hand = cs_objective(&data, &labels, &s, c, squared, &a.w);
        assert!(
            close(a.objective, by_hand, 1e-12),
            "{name}: {} vs {by_hand}",
            a.objective
        );
    }
}

#[test]
fn class_weights_train_as_replicated_classes_under_every_strategy() {
    let data = builtin("iris").unwrap();
    // Class 0 counts twice, class 2 three times, class 1 once.
    let pairs = [(0.0, 2.0), (2.0, 3.0)];
    let s: Vec<f64> = data
        .labels
        .iter()
        .map(|&l| [2.0, 1.0, 3.0][l as usize])
        .collect();
    let rep = replicated(&data, &s);
    for (multiclass, loss) in [
        (Multiclass::OneVsRest, MarginLoss::hinge()),
        (Multiclass::OneVsRest, MarginLoss::squared_hinge()),
        (Multiclass::CrammerSinger, MarginLoss::hinge()),
        (Multiclass::CrammerSinger, MarginLoss::squared_hinge()),
    ] {
        let o = TrainOptions {
            multiclass,
            loss,
            c: 0.2,
            bias: Some(1.0),
            tol: 1e-11,
            max_iter: 100_000,
            ..TrainOptions::default()
        };
        let weighted = train(
            &data,
            &TrainOptions {
                class_weight: ClassWeight::Given(&pairs),
                ..o
            },
        )
        .unwrap();
        let plain = train(&rep, &o).unwrap();
        assert!(weighted.converged && plain.converged);
        assert!(
            close(weighted.objective, plain.objective, 1e-8),
            "{multiclass:?} {loss:?}: {} vs {}",
            weighted.objective,
            plain.objective
        );
    }
}

#[test]
fn balanced_weights_are_n_over_k_times_the_class_count() {
    // 5 rows: 3 of class 1, 2 of class −1, so w₁ = 5/(2·3) and w₋₁ = 5/(2·2) (scikit-learn's
    // `compute_class_weight("balanced")`).
    let labels = [1.0, -1.0, 1.0, 1.0, -1.0];
    let w = ClassWeight::Balanced
        .example_weights(&labels)
        .unwrap()
        .unwrap();
    let (a, b) = (5.0 / 6.0, 5.0 / 4.0);
    assert_eq!(w, vec![a, b, a, a, b]);
    // Each class then weighs n/k = 2.5 in total.
    assert!(close(3.0 * a, 2.5, 1e-15) && close(2.0 * b, 2.5, 1e-15));
    // Balanced training on the seed: the objective recomputed from those weights.
    let seed = builtin("seed").unwrap();
    let o = TrainOptions {
        class_weight: ClassWeight::Balanced,
        bias: Some(1.0),
        c: 2.0,
        tol: 1e-12,
        ..TrainOptions::default()
    };
    let report = train(&seed, &o).unwrap();
    let s = ClassWeight::Balanced
        .example_weights(&seed.labels)
        .unwrap()
        .unwrap();
    let biased = seed.with_bias(1.0).unwrap();
    let y = seed.one_vs_rest(report.model.classes[1]);
    let by_hand = weighted_objective(
        &biased,
        &y,
        &s,
        2.0,
        MarginLoss::hinge(),
        &report.model.weights[0],
    );
    assert!(
        close(report.objective, by_hand, 1e-12),
        "{} vs {by_hand}",
        report.objective
    );
}

#[test]
fn bad_weights_are_typed_errors() {
    let (data, _) = iris();
    let y = binary_labels(&data);
    let p = Problem {
        x: &data.x,
        d: data.d,
        y: &y,
        c: 1.0,
        example_weights: None,
    };
    let short = [1.0; 3];
    assert!(matches!(
        dual_cd(
            Problem {
                example_weights: Some(&short),
                ..p
            },
            MarginLoss::hinge(),
            1e-6,
            10,
            0
        ),
        Err(Error::Dimension {
            what: "example weights",
            expected: 150,
            got: 3
        })
    ));
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut s = vec![1.0; 150];
        s[7] = bad;
        let err = newton_cg(
            Problem {
                example_weights: Some(&s),
                ..p
            },
            1e-6,
            10,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    name: "example weight",
                    ..
                }
            ),
            "{err}"
        );
    }
    let iris = builtin("iris").unwrap();
    let train_with = |w: ClassWeight<'_>| {
        train(
            &iris,
            &TrainOptions {
                class_weight: w,
                ..TrainOptions::default()
            },
        )
    };
    assert!(matches!(
        train_with(ClassWeight::Given(&[(1.0, -2.0)])),
        Err(Error::InvalidParameter {
            name: "class weight",
            ..
        })
    ));
    let err = train_with(ClassWeight::Given(&[(7.0, 2.0)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "labels: a weight is given for class 7, which no example has"
    );
    let err = train_with(ClassWeight::Given(&[(1.0, 2.0), (1.0, 3.0)])).unwrap_err();
    assert_eq!(err.to_string(), "labels: class 1 is given two weights");
    let all_pairs = TrainOptions {
        all_pairs: Some(1.0),
        class_weight: ClassWeight::Balanced,
        ..TrainOptions::default()
    };
    assert!(matches!(
        train(&builtin("seed").unwrap(), &all_pairs),
        Err(Error::Unsupported { .. })
    ));
}
