//! `train` never reports a success with a non-finite objective, weight or certificate.

use losses::MarginLoss;
use proptest::prelude::*;
use svm::data::{builtin, Dataset};
use svm::model::{train, ClassWeight, Multiclass, SolverKind, TrainOptions};
use svm::solvers::GradientSource;
use svm::Error;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -3.0..3.0_f64,
        1 => Just(0.0),
        1 => prop_oneof![Just(1e150), Just(-1e150), Just(1e300), Just(-1e300), Just(1e-200)],
    ]
}

fn data() -> impl Strategy<Value = Dataset> {
    (1_usize..=7, 0_usize..=3, any::<bool>()).prop_flat_map(|(n, d, three)| {
        let label = if three {
            prop_oneof![Just(0.0), Just(1.0), Just(2.0)].boxed()
        } else {
            prop_oneof![Just(-1.0), Just(1.0)].boxed()
        };
        (
            prop::collection::vec(value(), n * d),
            prop::collection::vec(label, n),
        )
            .prop_map(move |(x, labels)| Dataset {
                x: x.into(),
                d,
                labels,
            })
    })
}

fn options() -> impl Strategy<Value = TrainOptions<'static>> {
    let loss = prop_oneof![
        Just(MarginLoss::hinge()),
        Just(MarginLoss::squared_hinge()),
        Just(MarginLoss::SmoothGaussian { sigma: 0.5 }),
        Just(MarginLoss::Huberized { gamma: 0.5 }),
        Just(MarginLoss::ModifiedHuber),
    ];
    let solver = prop_oneof![
        Just(SolverKind::Exact),
        Just(SolverKind::Subgradient),
        Just(SolverKind::Pegasos),
        Just(SolverKind::Nesterov),
    ];
    let bias = prop_oneof![Just(None), Just(Some(1.0)), Just(Some(1e150))];
    (
        (
            loss,
            solver,
            bias,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            -300.0..=100.0_f64,
            -12.0..-1.0_f64,
            1_usize..=200,
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (loss, solver, bias, cs, all_pairs, standardize),
                (log_c, log_tol, max_iter, seed),
            )| {
                TrainOptions {
                    all_pairs: all_pairs.then_some(1.0),
                    multiclass: if cs {
                        Multiclass::CrammerSinger
                    } else {
                        Multiclass::OneVsRest
                    },
                    loss,
                    c: 10f64.powf(log_c).min(1e100),
                    bias,
                    standardize,
                    solver,
                    tol: 10f64.powf(log_tol),
                    max_iter,
                    seed,
                    gradient: if seed % 2 == 0 {
                        GradientSource::Engine
                    } else {
                        GradientSource::ClosedForm
                    },
                    class_weight: ClassWeight::Uniform,
                    first_order: svm::solvers::FirstOrderOptions::default(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn train_result_is_an_error_or_entirely_finite(data in data(), o in options()) {
        if let Ok(r) = train(&data, &o) {
            prop_assert!(r.objective.is_finite(), "objective {}", r.objective);
            for w in r.model.weights.iter().flatten() {
                prop_assert!(w.is_finite(), "weight {w}");
            }
            if let Some(c) = r.certificate {
                prop_assert!(c.is_finite(), "certificate {c}");
            }
            prop_assert!(r.history.iter().all(|h| h.is_finite()));
            prop_assert!((0.0..=1.0).contains(&r.train_accuracy));
            if let Some(a) = r.train_auc {
                prop_assert!((0.0..=1.0).contains(&a));
            }
        }
    }
}

#[test]
fn train_whose_certificate_overflows_is_an_error_not_a_success() {
    // The seed set scaled by 1e150 with C = 1e100: Newton's Hessian I + 2C·Σ xᵢxᵢᵀ has entries
    // 2·1e100·1e300 = inf, and the gradient norm it reports is inf. Today that is a success.
    let mut data = builtin("seed").unwrap();
    if let svm::matrix::Features::Dense(x) = &mut data.x {
        x.iter_mut().for_each(|v| *v *= 1e150);
    }
    let o = TrainOptions {
        c: 1e100,
        loss: MarginLoss::squared_hinge(),
        max_iter: 100,
        ..TrainOptions::default()
    };
    let err = train(&data, &o).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { .. } | Error::Engine(_)),
        "{err:?}"
    );
}
