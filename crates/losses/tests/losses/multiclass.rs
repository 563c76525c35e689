//! Multiclass losses: the CS231n numbers, autodiff == closed form at random points.

use approx::relative_eq;
use autodiff::{Shape, Tape};
use losses::MulticlassLoss;
use proptest::prelude::*;

#[test]
fn cs231n_example_gives_2_9_0_and_12_9() {
    // Scores per image (rows) for classes (cat, car, frog); labels cat, car, frog.
    let scores = [3.2, 5.1, -1.7, 1.3, 4.9, 2.0, 2.2, 2.5, -3.1];
    let (l, _) = MulticlassLoss::weston_watkins()
        .per_example(&scores, 3, &[0, 1, 2])
        .unwrap();
    // cat: max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9; car: 0; frog: 6.3 + 6.6 = 12.9.
    for (got, want) in l.iter().zip([2.9, 0.0, 12.9]) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
    let tape = Tape::<f64>::new();
    let s = tape.param(&scores, Shape::matrix(3, 3)).unwrap();
    let total = MulticlassLoss::weston_watkins()
        .on_tape(s, &[0, 1, 2])
        .unwrap();
    assert!((total.item() - 15.8).abs() < 1e-12);
}

fn any_multiclass() -> impl Strategy<Value = MulticlassLoss> {
    prop_oneof![
        (0.5..2.0f64, any::<bool>(), any::<bool>()).prop_map(
            |(delta, squared, scale_by_classes)| {
                MulticlassLoss::WestonWatkins {
                    delta,
                    squared,
                    scale_by_classes,
                }
            }
        ),
        any::<bool>().prop_map(|squared| MulticlassLoss::CrammerSinger { squared }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn linear_multiclass_autodiff_gradient_equals_closed_form(
        loss in any_multiclass(),
        (n, d, k) in (1usize..8, 1usize..5, 2usize..6),
        seed in prop::collection::vec(-2.0..2.0f64, 8 * 5 + 5 * 6),
        labels in prop::collection::vec(0usize..6, 8),
    ) {
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let x = &seed[..n * d];
        let w = &seed[40..40 + d * k];
        let (l_hand, dw_hand) = loss.linear_value_grad(x, d, &labels, w, k).unwrap();
        let tape = Tape::<f64>::new();
        let xm = tape.constant(x, Shape::matrix(n, d)).unwrap();
        let wm = tape.param(w, Shape::matrix(d, k)).unwrap();
        let l = loss.on_tape(xm.matmul(wm), &labels).unwrap();
        let g = l.backward().unwrap();
        prop_assert!(relative_eq!(l.item(), l_hand, epsilon = 1e-12, max_relative = 1e-10));
        for q in 0..d * k {
            prop_assert!(relative_eq!(g.wrt(wm)[q], dw_hand[q], epsilon = 1e-12, max_relative = 1e-10),
                "{loss:?} ∂/∂W[{q}]: engine {} vs closed form {}", g.wrt(wm)[q], dw_hand[q]);
        }
    }
}
