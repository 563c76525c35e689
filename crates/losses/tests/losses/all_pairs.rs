//! All-pairs squared hinge: the O(n log n) closed form == the naive O(n²) engine form.

use approx::relative_eq;
use losses::{all_pairs_autodiff, all_pairs_value_grad};
use proptest::prelude::*;

fn check(pred: &[f64], y: &[f64], margin: f64) -> Result<(), TestCaseError> {
    let (l_fast, g_fast) = all_pairs_value_grad(pred, y, margin).unwrap();
    let (l_naive, g_naive) = all_pairs_autodiff(pred, y, margin).unwrap();
    prop_assert!(
        relative_eq!(l_fast, l_naive, epsilon = 1e-10, max_relative = 1e-9),
        "{l_fast} vs {l_naive}"
    );
    for i in 0..pred.len() {
        prop_assert!(
            relative_eq!(g_fast[i], g_naive[i], epsilon = 1e-10, max_relative = 1e-9),
            "∂/∂ŷ{i}: {} vs {}",
            g_fast[i],
            g_naive[i]
        );
    }
    Ok(())
}

fn labels(n: usize) -> impl Strategy<Value = Vec<f64>> {
    // At least one of each class: the first two are fixed +1, −1.
    prop::collection::vec(
        prop::bool::ANY.prop_map(|b| if b { 1.0 } else { -1.0 }),
        n - 2,
    )
    .prop_map(|mut v| {
        v.insert(0, 1.0);
        v.insert(1, -1.0);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Integer predictions: many ties, and many pairs exactly at m − ŷⱼ + ŷₖ = 0.
    #[test]
    fn fast_equals_naive_on_integer_predictions_with_ties(
        (pred, y) in (2usize..60).prop_flat_map(|n| (prop::collection::vec((-3i32..=3).prop_map(f64::from), n), labels(n))),
    ) {
        check(&pred, &y, 1.0)?;
    }

    #[test]
    fn fast_equals_naive_on_real_predictions(
        (pred, y) in (2usize..60).prop_flat_map(|n| (prop::collection::vec(-3.0..3.0f64, n), labels(n))),
        margin in 0.1..2.0f64,
    ) {
        check(&pred, &y, margin)?;
    }
}

#[test]
fn fast_equals_naive_at_n_2000_with_ties() {
    let n = 2000;
    let pred: Vec<f64> = (0..n)
        .map(|i| ((i * 37 % 23) as f64 - 11.0) / 4.0)
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| if (i * 7) % 3 == 0 { 1.0 } else { -1.0 })
        .collect();
    check(&pred, &y, 1.0).unwrap();
}

#[test]
fn a_single_pair_by_hand() {
    // ŷ₊ = 0.5, ŷ₋ = 0.2, m = 1: (1 − 0.5 + 0.2)² = 0.49; ∂/∂ŷ₊ = −1.4, ∂/∂ŷ₋ = +1.4.
    let (l, g) = all_pairs_value_grad(&[0.5, 0.2], &[1.0, -1.0], 1.0).unwrap();
    assert!((l - 0.49).abs() < 1e-15);
    assert!((g[0] + 1.4).abs() < 1e-15 && (g[1] - 1.4).abs() < 1e-15);
    // Well separated: ŷ₊ − ŷ₋ ≥ m, no loss.
    assert_eq!(
        all_pairs_value_grad(&[3.0, 0.0], &[1.0, -1.0], 1.0).unwrap(),
        (0.0, vec![0.0, 0.0])
    );
}
