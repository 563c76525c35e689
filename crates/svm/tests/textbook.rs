//! Textbook runs: the subgradient method's settings (`FirstOrderOptions`) and Nesterov's
//! fixed iteration count, checked against hand derivations and the seed program's output.

use autodiff::{CustomPolicy, KinkPolicy};
use losses::MarginLoss;
use svm::data::builtin;
use svm::model::{train, SolverKind, TrainOptions};
use svm::solvers::{nesterov_with, subgradient_with, FirstOrderOptions, GradientSource, Problem};
use svm::Error;

/// The seed program's printed result (issue 12): its averaged `w` after it stopped.
const SEED_W: [f64; 2] = [-0.3256856642766511, 0.2264400438249529];

/// A policy with `relu'(0) = r` (every other rule `MinNorm`).
fn relu_at_zero(r: f64) -> KinkPolicy {
    KinkPolicy::Custom(CustomPolicy::builder().relu_at_zero(r).build().unwrap())
}

/// The seed program's settings: steps 0.1/k, averaging, Σ hinge (no regulariser), stop when
/// the loss changes by less than 0.001, a point on the margin counted as violated.
fn seed_options() -> FirstOrderOptions {
    FirstOrderOptions {
        step: 0.1,
        averaging: true,
        regularize: false,
        stop_loss_change: Some(0.001),
        policy: relu_at_zero(1.0),
        fixed_iterations: false,
    }
}

const SOURCES: [GradientSource; 2] = [GradientSource::Engine, GradientSource::ClosedForm];

#[test]
fn the_seed_program_is_reproduced_by_both_gradient_sources() {
    let seed = builtin("seed").unwrap();
    let p = Problem {
        x: &seed.x,
        d: seed.d,
        y: &seed.labels,
        c: 1.0,
        example_weights: None,
    };
    for source in SOURCES {
        let s = subgradient_with(p, MarginLoss::hinge(), &seed_options(), 1000, source).unwrap();
        // 201 steps, the average of the 202 points w₀ = 0, …, w₂₀₁: the seed program's loss
        // at its iterates falls by 0.2/k per step here (‖g‖ = 2), first below 0.001 between
        // w₁₉₉ and w₂₀₀ (see the README's derivation).
        assert_eq!((s.iterations, s.converged), (201, true), "{source:?}");
        for (got, want) in s.w.iter().zip(SEED_W) {
            assert!((got - want).abs() < 1e-12, "{source:?}: {got} vs {want}");
        }
        // The objective is Σ hinge at the returned point, recomputed here by hand.
        let by_hand: f64 = (0..5)
            .map(|i| (1.0 - seed.labels[i] * seed.row(i).dot(&s.w)).max(0.0))
            .sum();
        assert!((s.objective - by_hand).abs() < 1e-12);
    }
}

#[test]
fn train_reproduces_the_seed_program() {
    let seed = builtin("seed").unwrap();
    let report = train(
        &seed,
        &TrainOptions {
            solver: SolverKind::Subgradient,
            first_order: seed_options(),
            ..TrainOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.iterations, 201);
    for (got, want) in report.model.weights[0].iter().zip(SEED_W) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
}

/// The seed's five points: Σ −yᵢ·xᵢ = −(0,1) − (1,2) + (3,0) + (4,1) + (1,1) = (7, −1).
const SEED_PULL: [f64; 2] = [7.0, -1.0];

#[test]
fn one_step_with_and_without_averaging_matches_the_hand_derivation() {
    let seed = builtin("seed").unwrap();
    let p = Problem {
        x: &seed.x,
        d: seed.d,
        y: &seed.labels,
        c: 1.0,
        example_weights: None,
    };
    // At w₀ = 0 every margin is 0 < 1: g = C·Σ −yᵢxᵢ = (7, −1), ‖g‖ = √50, so
    // w₁ = −0.1·(7, −1)/√50 and the average of w₀ and w₁ is w₁/2.
    let norm = 50f64.sqrt();
    let w1 = [-0.1 * SEED_PULL[0] / norm, -0.1 * SEED_PULL[1] / norm];
    for source in SOURCES {
        for averaging in [false, true] {
            let options = FirstOrderOptions {
                averaging,
                ..seed_options()
            };
            let s = subgradient_with(p, MarginLoss::hinge(), &options, 1, source).unwrap();
            let scale = if averaging { 0.5 } else { 1.0 };
            for (got, want) in s.w.iter().zip(w1) {
                assert!(
                    (got - scale * want).abs() < 1e-15,
                    "{got} vs {}",
                    scale * want
                );
            }
            assert_eq!((s.iterations, s.converged), (1, false));
        }
    }
}

#[test]
fn the_kink_policy_decides_a_step_from_points_on_the_kink() {
    // The hinge with margin 0, max(0, −z), at w₀ = 0: every example sits on the kink z = 0.
    // relu'(0) = 1 counts them all as violated: g = Σ −yᵢxᵢ = (7, −1), one step of 1/√50 along
    // −g. relu'(0) = 0 counts none: g = 0, w₀ is returned as a minimiser at once.
    let seed = builtin("seed").unwrap();
    let p = Problem {
        x: &seed.x,
        d: seed.d,
        y: &seed.labels,
        c: 1.0,
        example_weights: None,
    };
    let loss = MarginLoss::Hinge { margin: 0.0 };
    let norm = 50f64.sqrt();
    for source in SOURCES {
        let violated = FirstOrderOptions {
            averaging: false,
            stop_loss_change: None,
            ..seed_options()
        };
        let s = subgradient_with(p, loss, &violated, 1, source).unwrap();
        assert_eq!(s.w, vec![-0.1 * 7.0 / norm, 0.1 / norm], "{source:?}");
        let satisfied = FirstOrderOptions {
            policy: relu_at_zero(0.0),
            ..violated
        };
        let s = subgradient_with(p, loss, &satisfied, 10, source).unwrap();
        assert_eq!((s.w, s.iterations, s.converged), (vec![0.0, 0.0], 0, true));
    }
}

#[test]
fn the_closed_form_follows_the_policy_at_the_hinge_kink() {
    // x = (1, 2), y = (1, 1), w = 1: example 0 on the margin; by hand ∂(Σ hinge) =
    // −relu'(0)·y₀·x₀ = −r.
    let x = svm::matrix::Features::from(vec![1.0, 2.0]);
    let p = Problem {
        x: &x,
        d: 1,
        y: &[1.0, 1.0],
        c: 1.0,
        example_weights: None,
    };
    for r in [0.0, 0.25, 1.0] {
        let (f, g) = p
            .objective_with(MarginLoss::hinge(), &[1.0], false, r)
            .unwrap();
        assert_eq!((f, g), (0.0, vec![-r]));
        // With the regulariser: ½·1² and ∂ = w − r.
        let (f, g) = p
            .objective_with(MarginLoss::hinge(), &[1.0], true, r)
            .unwrap();
        assert_eq!((f, g), (0.5, vec![1.0 - r]));
    }
}

#[test]
fn bad_first_order_settings_are_typed_errors() {
    let seed = builtin("seed").unwrap();
    let name = |o: FirstOrderOptions| match train(
        &seed,
        &TrainOptions {
            solver: SolverKind::Subgradient,
            first_order: o,
            ..TrainOptions::default()
        },
    ) {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    for step in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            name(FirstOrderOptions {
                step,
                ..seed_options()
            }),
            "step"
        );
    }
    for tol in [0.0, -1e-3, f64::NAN] {
        let o = FirstOrderOptions {
            stop_loss_change: Some(tol),
            ..seed_options()
        };
        assert_eq!(name(o), "stop_loss_change");
    }
    // The exact solvers minimise the regularised objective only; the fixed count is Nesterov's.
    for (solver, first_order) in [
        (SolverKind::Exact, seed_options()),
        (
            SolverKind::Subgradient,
            FirstOrderOptions {
                fixed_iterations: true,
                ..FirstOrderOptions::default()
            },
        ),
    ] {
        let o = TrainOptions {
            solver,
            first_order,
            ..TrainOptions::default()
        };
        assert!(
            matches!(train(&seed, &o), Err(Error::NotApplicable { .. })),
            "{solver:?}"
        );
    }
}

#[test]
fn nesterov_runs_exactly_the_fixed_iteration_count() {
    let seed = builtin("seed").unwrap();
    let p = Problem {
        x: &seed.x,
        d: seed.d,
        y: &seed.labels,
        c: 1.0,
        example_weights: None,
    };
    let loss = MarginLoss::squared_hinge();
    let free = nesterov_with(p, loss, 1e-6, 1000, false, GradientSource::ClosedForm).unwrap();
    assert!(
        free.converged && free.iterations < 300,
        "{}",
        free.iterations
    );
    let fixed = nesterov_with(p, loss, 1e-6, 300, true, GradientSource::ClosedForm).unwrap();
    assert_eq!((fixed.iterations, fixed.history.len()), (300, 301));
    // Past the tolerance the extra iterations do not make the objective worse than the
    // certified bound allows: f − f* ≤ ‖∇f‖²/2 ≤ 1e-6·f at the free run's end.
    assert!(fixed.objective <= free.objective * (1.0 + 1e-6));
}
