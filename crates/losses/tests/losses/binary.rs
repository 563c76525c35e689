//! Binary losses: autodiff == closed form at random points; the closed forms against central
//! differences and known values.

use approx::relative_eq;
use losses::{linear_autodiff, linear_value_grad, normal_cdf, normal_pdf, MarginLoss};
use proptest::prelude::*;

pub fn any_loss() -> impl Strategy<Value = MarginLoss> {
    prop_oneof![
        (0.5..2.0f64).prop_map(|margin| MarginLoss::Hinge { margin }),
        (0.5..2.0f64).prop_map(|margin| MarginLoss::SquaredHinge { margin }),
        (0.1..2.0f64).prop_map(|sigma| MarginLoss::SmoothGaussian { sigma }),
        (0.1..2.0f64).prop_map(|sigma| MarginLoss::SmoothSqrt { sigma }),
        (0.1..2.0f64).prop_map(|gamma| MarginLoss::Huberized { gamma }),
        Just(MarginLoss::ModifiedHuber),
    ]
}

fn problem() -> impl Strategy<Value = (usize, Vec<f64>, Vec<f64>, Vec<f64>, Option<f64>)> {
    (1usize..12, 1usize..6).prop_flat_map(|(n, d)| {
        (
            Just(d),
            prop::collection::vec(-2.0..2.0f64, n * d),
            prop::collection::vec(prop::bool::ANY.prop_map(|b| if b { 1.0 } else { -1.0 }), n),
            prop::collection::vec(-2.0..2.0f64, d),
            prop::option::of(-1.0..1.0f64),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn linear_model_autodiff_gradient_equals_closed_form(loss in any_loss(), (d, x, y, w, b) in problem()) {
        let by_engine = linear_autodiff(loss, &x, d, &y, &w, b).unwrap();
        let by_hand = linear_value_grad(loss, &x, d, &y, &w, b).unwrap();
        prop_assert!(relative_eq!(by_engine.value, by_hand.value, epsilon = 1e-12, max_relative = 1e-10));
        for j in 0..d {
            prop_assert!(relative_eq!(by_engine.w[j], by_hand.w[j], epsilon = 1e-12, max_relative = 1e-10),
                "{}: ∂/∂w{j} engine {} vs closed form {}", loss.name(), by_engine.w[j], by_hand.w[j]);
        }
        if let (Some(e), Some(h)) = (by_engine.b, by_hand.b) {
            prop_assert!(relative_eq!(e, h, epsilon = 1e-12, max_relative = 1e-10));
        }
    }

    #[test]
    fn closed_form_derivative_matches_central_differences_away_from_kinks(loss in any_loss(), z in -3.0..3.0f64) {
        if let MarginLoss::Hinge { margin } = loss {
            prop_assume!((z - margin).abs() > 1e-3);
        }
        let h = 1e-6;
        let numeric = (loss.value(z + h) - loss.value(z - h)) / (2.0 * h);
        prop_assert!(relative_eq!(loss.derivative(z), numeric, epsilon = 1e-6, max_relative = 1e-5),
            "{} at {z}: {} vs {numeric}", loss.name(), loss.derivative(z));
    }
}

#[test]
fn known_values_of_each_loss() {
    // hinge and squared hinge at z = 0 with margin 1: 1 and 1.
    assert_eq!(MarginLoss::hinge().value(0.0), 1.0);
    assert_eq!(MarginLoss::squared_hinge().value(-1.0), 4.0); // (1 − (−1))²
                                                              // ψ_M at z = 1 (u = 0): (0 + σ)/2; slope −½.
    let m = MarginLoss::SmoothSqrt { sigma: 0.4 };
    assert!((m.value(1.0) - 0.2).abs() < 1e-15);
    assert!((m.derivative(1.0) + 0.5).abs() < 1e-15);
    // ψ_G at z = 1 (v = 0): Φ(0)·0 + σ·φ(0) = σ/√(2π); slope −Φ(0) = −½.
    let g = MarginLoss::SmoothGaussian { sigma: 0.5 };
    assert!((g.value(1.0) - 0.5 * normal_pdf(0.0)).abs() < 1e-15);
    assert!((g.derivative(1.0) + 0.5).abs() < 1e-15);
    // ψ_G tends to the hinge as σ → 0 away from the kink.
    let sharp = MarginLoss::SmoothGaussian { sigma: 1e-3 };
    assert!((sharp.value(-1.0) - 2.0).abs() < 1e-9 && sharp.value(3.0).abs() < 1e-9);
    // Huberised at the junction z = 1 − γ: γ²/(2γ) = γ/2 from both pieces, slope −1.
    let hub = MarginLoss::Huberized { gamma: 0.5 };
    assert!((hub.value(0.5) - 0.25).abs() < 1e-15);
    assert_eq!(hub.derivative(0.5), -1.0);
    assert_eq!(hub.value(2.0), 0.0);
    assert_eq!(hub.value(-1.0), 2.0 - 0.25); // 1 − z − γ/2
                                             // Modified Huber at z = −1: (1 + 1)² = 4 = −4·(−1), slope −4 from both sides.
    assert_eq!(MarginLoss::ModifiedHuber.value(-1.0), 4.0);
    assert_eq!(MarginLoss::ModifiedHuber.value(-2.0), 8.0);
    assert_eq!(MarginLoss::ModifiedHuber.derivative(-1.0), -4.0);
}

#[test]
fn hinge_linear_gradient_is_minus_y_x_while_violated_and_zero_beyond() {
    // x₀ = (1, 2), y₀ = +1; x₁ = (2, 0), y₁ = −1; x₂ = (0, 4), y₂ = +1; w = (0.5, 0.5).
    // Margins y·w·x = 1.5, −1, 2: only x₁ is violated, so ∂/∂w = −y₁·x₁ = (2, 0), value 1 − (−1) = 2.
    let x = [1.0, 2.0, 2.0, 0.0, 0.0, 4.0];
    let g = linear_value_grad(
        MarginLoss::hinge(),
        &x,
        2,
        &[1.0, -1.0, 1.0],
        &[0.5, 0.5],
        None,
    )
    .unwrap();
    assert_eq!(g.w, vec![2.0, 0.0]);
    assert_eq!(g.value, 2.0);
}

#[test]
fn normal_cdf_is_accurate_in_both_tails() {
    // Φ(−5) = 2.866515718791939e-7, Φ(−10) = 7.619853024160527e-24 (tabulated values);
    // 1 − Φ(v) = Φ(−v) by symmetry.
    for (v, want) in [
        (-5.0, 2.866_515_718_791_939e-7),
        (-10.0, 7.619_853_024_160_527e-24),
    ] {
        let got = normal_cdf(v);
        assert!(
            relative_eq!(got, want, max_relative = 1e-12),
            "Φ({v}) = {got}"
        );
        assert!(relative_eq!(1.0 - normal_cdf(-v), want, epsilon = 1e-16));
    }
    assert_eq!(normal_cdf(40.0), 1.0);
    assert_eq!(normal_cdf(-40.0), 0.0);
}

#[test]
fn smooth_gaussian_tends_to_the_hinge_far_from_the_margin() {
    // ψ_G(z; σ) = Φ(v)(1 − z) + σ·φ(v): for v = (1 − z)/σ ≫ 0 it is 1 − z, for v ≪ 0 it is 0.
    let psi = MarginLoss::SmoothGaussian { sigma: 0.1 };
    assert!(relative_eq!(psi.value(-2.0), 3.0, max_relative = 1e-15));
    assert!(psi.value(4.0).abs() < 1e-150);
    assert!(relative_eq!(
        psi.derivative(-2.0),
        -1.0,
        max_relative = 1e-15
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn margin_losses_on_an_f32_tape_match_the_f64_closed_form(loss in any_loss(), z in prop::collection::vec(-3.0..3.0f32, 1..6)) {
        if let MarginLoss::Hinge { margin } = loss {
            // f32 rounding of m − z must not cross the kink.
            prop_assume!(z.iter().all(|&v| (f64::from(v) - margin).abs() > 1e-3));
        }
        let tape = autodiff::Tape::<f32>::new();
        let zv = tape.param_vec(&z).unwrap();
        let l = loss.on_tape(zv).unwrap().sum();
        let g = l.backward().unwrap();
        let want: f64 = z.iter().map(|&v| loss.value(f64::from(v))).sum();
        prop_assert!(relative_eq!(f64::from(l.item()), want, epsilon = 1e-4, max_relative = 1e-4));
        for (i, &v) in z.iter().enumerate() {
            prop_assert!(relative_eq!(f64::from(g.wrt(zv)[i]), loss.derivative(f64::from(v)), epsilon = 1e-4, max_relative = 1e-4),
                "{} at {v}", loss.name());
        }
    }
}
