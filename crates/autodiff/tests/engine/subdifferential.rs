//! `Tape::subdifferential`: the zonotope of independent convex ties against sets derived by
//! hand, its minimum-norm element against hand-solved cases and a brute-force grid, the
//! demo's optimum, and the refusals outside the class.

use autodiff::certify::{Subdifferential, MAX_SWEEPS};
use autodiff::{Certify, Error, Shape, Tape};
use proptest::prelude::*;

fn zonotope(center: &[f64], generators: &[&[f64]]) -> Subdifferential<f64> {
    Subdifferential {
        center: center.to_vec(),
        generators: generators.iter().map(|g| g.to_vec()).collect(),
        ties: Vec::new(),
    }
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

#[test]
fn hinge_at_its_margin_plus_half_square_is_the_segment_from_w_to_w_minus_one() {
    let tape = Tape::<f64>::new();
    let w = tape.param_scalar(1.0).unwrap();
    let f = (1.0 - w).relu() + w.square() * 0.5;
    let sub = tape.subdifferential(f, &[w]).unwrap();
    // ∂f(1) = 1 + [−1, 0]: centre w = 1 (relu on branch 0), generator −1.
    assert_eq!(sub.center, vec![1.0]);
    assert_eq!(sub.generators, vec![vec![-1.0]]);
    assert_eq!(sub.ties.len(), 1);
    assert_eq!(sub.ties[0].op, "relu");
    assert!(sub.contains_zero(1e-12));
}

#[test]
fn no_tie_gives_the_gradient_alone() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[2.0, -3.0]).unwrap();
    let f = x.relu().sum() + x.square().sum();
    let sub = tape.subdifferential(f, &[x]).unwrap();
    // ∂f = {(1 + 4, 0 − 6)}: relu'(2) = 1, relu'(−3) = 0, plus 2x.
    assert_eq!(sub.center, vec![5.0, -6.0]);
    assert!(sub.generators.is_empty());
    assert!(!sub.contains_zero(1e-9));
}

#[test]
fn abs_of_two_variables_at_zero_is_the_square() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    let y = tape.param_scalar(0.0).unwrap();
    let f = x.abs() + y.abs();
    let sub = tape.subdifferential(f, &[x, y]).unwrap();
    // ∂(|x| + |y|)(0) = [−1, 1]²: centre (−1, −1) (branch −x, −y), generators 2·e₁, 2·e₂.
    assert_eq!(sub.center, vec![-1.0, -1.0]);
    assert_eq!(sub.generators, vec![vec![2.0, 0.0], vec![0.0, 2.0]]);
    let m = sub.min_norm();
    assert!(close(&m.point, &[0.0, 0.0], 1e-15));
    assert!(close(&m.multipliers, &[0.5, 0.5], 1e-15));
}

#[test]
fn concave_kinks_with_negative_weights_are_convex() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    // −min(x, 0) = max(−x, 0) = relu(−x): ∂ at 0 is [−1, 0].
    let f = -x.min(0.0);
    let sub = tape.subdifferential(f, &[x]).unwrap();
    assert_eq!(sub.center, vec![0.0]); // branch 0: the constant 0
    assert_eq!(sub.generators, vec![vec![-1.0]]); // branch 1: −x
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    // −clamp(x, 0, 1) at the upper bound = −min(x, 1) nearby: slopes −1 (left) and 0 (right).
    let f = -x.clamp(0.0, 1.0);
    let sub = tape.subdifferential(f, &[x]).unwrap();
    assert_eq!(
        (sub.center.clone(), sub.generators.clone()),
        (vec![0.0], vec![vec![-1.0]])
    );
}

#[test]
fn leaky_relu_is_convex_below_slope_one_and_refused_above() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    let sub = tape.subdifferential(x.leaky_relu(0.25), &[x]).unwrap();
    // ∂ = [0.25, 1]: centre α, generator 1 − α.
    assert_eq!((sub.center, sub.generators), (vec![0.25], vec![vec![0.75]]));
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    // α = 2: leaky_relu is min(x, 2x) near 0, concave, entering with weight +1.
    let err = tape.subdifferential(x.leaky_relu(2.0), &[x]).unwrap_err();
    assert!(matches!(err, Error::NonConvexTie { op: "leaky_relu", weight, .. } if weight == 1.0));
}

#[test]
fn a_max_of_three_with_two_tied_is_a_segment_between_the_tied_gradients() {
    let tape = Tape::<f64>::new();
    let a = tape.param_scalar(2.0).unwrap();
    let b = tape.param_scalar(2.0).unwrap();
    let c = tape.param_scalar(1.0).unwrap();
    let f = tape.max_n(&[a, b, c]);
    let sub = tape.subdifferential(f, &[a, b, c]).unwrap();
    // ∂max(a, b, c) at a = b > c: the segment between e_a and e_b; branch 0 is the later, b.
    assert_eq!(sub.center, vec![0.0, 1.0, 0.0]);
    assert_eq!(sub.generators, vec![vec![1.0, -1.0, 0.0]]);
}

#[test]
fn row_max_ties_of_two_are_segments() {
    let tape = Tape::<f64>::new();
    let s = tape
        .param(&[1.0, 3.0, 3.0, 0.0, 5.0, 2.0], Shape::matrix(2, 3))
        .unwrap();
    let f = s.row_max().sum();
    let sub = tape.subdifferential(f, &[s]).unwrap();
    // Row 0 ties entries 1 and 2; row 1 has the single maximiser 1.
    assert_eq!(sub.center, vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    assert_eq!(sub.generators, vec![vec![0.0, 1.0, -1.0, 0.0, 0.0, 0.0]]);
    assert_eq!((sub.ties[0].op, sub.ties[0].element), ("row_max", 0));
}

#[test]
fn min_norm_of_a_box_corner_is_found_with_its_multipliers() {
    // Z = (3, 0) + t₁·(−1, 1) + t₂·(−1, −1): its x-coordinate is 3 − t₁ − t₂ ≥ 1, equal to 1
    // only at t = (1, 1), where y = 0: the nearest point is (1, 0), derived by hand.
    let z = zonotope(&[3.0, 0.0], &[&[-1.0, 1.0], &[-1.0, -1.0]]);
    let m = z.min_norm();
    assert!(close(&m.point, &[1.0, 0.0], 1e-12), "{m:?}");
    assert!(close(&m.multipliers, &[1.0, 1.0], 1e-12));
    assert!(m.error_bound <= 1e-6);
    assert!(!z.contains_zero(0.99)); // the distance is 1
    assert!(z.contains_zero(1.0 + 1e-12));
}

#[test]
fn min_norm_on_an_edge_of_a_skew_parallelogram() {
    // Z = (2, 1) + t₁·(0, −2) + t₂·(−1, −1) = {(2 − t₂, 1 − 2t₁ − t₂)}. By hand: x ≥ 1, with
    // equality only at t₂ = 1, where y = −2t₁ ∈ [−2, 0]; so the nearest point is (1, 0), at
    // t = (0, 1), on an edge.
    let z = zonotope(&[2.0, 1.0], &[&[0.0, -2.0], &[-1.0, -1.0]]);
    let m = z.min_norm();
    assert!(close(&m.point, &[1.0, 0.0], 1e-12), "{m:?}");
    assert!(close(&m.multipliers, &[0.0, 1.0], 1e-12));
}

/// The smallest ‖c + G·t‖ over a grid of step `1/steps` in `[0, 1]ᵏ` (brute force).
fn grid_min(z: &Subdifferential<f64>, steps: usize) -> f64 {
    let k = z.generators.len();
    let mut idx = vec![0usize; k];
    let mut best = f64::INFINITY;
    loop {
        let mut p = z.center.clone();
        for (g, &i) in z.generators.iter().zip(&idx) {
            let t = i as f64 / steps as f64;
            for (pj, gj) in p.iter_mut().zip(g) {
                *pj += t * gj;
            }
        }
        best = best.min(p.iter().map(|v| v * v).sum::<f64>().sqrt());
        let mut j = 0;
        loop {
            if j == k {
                return best;
            }
            idx[j] += 1;
            if idx[j] <= steps {
                break;
            }
            idx[j] = 0;
            j += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn min_norm_matches_a_brute_force_grid(
        center in prop::collection::vec(-3.0..3.0f64, 3),
        generators in prop::collection::vec(prop::collection::vec(-3.0..3.0f64, 3), 1..=3),
    ) {
        let z = Subdifferential { center, generators, ties: Vec::new() };
        let m = z.min_norm();
        let norm = m.point.iter().map(|v| v * v).sum::<f64>().sqrt();
        let steps = 60;
        let grid = grid_min(&z, steps);
        // The grid's points are in the set, so the minimum is at most the grid's; and every
        // point of the set is within ½·Σ‖gⱼ‖/steps of a grid point, so it is at least that
        // much below the grid's.
        let spacing: f64 = z.generators.iter()
            .map(|g| g.iter().map(|v| v * v).sum::<f64>().sqrt())
            .sum::<f64>() / (2.0 * steps as f64);
        prop_assert!(norm <= grid + 1e-9, "descent {norm} above the grid's {grid}");
        prop_assert!(norm >= grid - spacing - 1e-9, "descent {norm} far below the grid's {grid}");
        prop_assert!(m.multipliers.iter().all(|t| (0.0..=1.0).contains(t)));
        prop_assert!(m.sweeps <= MAX_SWEEPS);
        // The point is c + G·t for the multipliers returned.
        let mut p = z.center.clone();
        for (g, t) in z.generators.iter().zip(&m.multipliers) {
            for (pj, gj) in p.iter_mut().zip(g) { *pj += t * gj; }
        }
        prop_assert!(close(&p, &m.point, 1e-12));
        prop_assert_eq!(z.contains_zero(1e-9), norm <= 1e-9);
    }
}

/// The demo's objective `½‖w‖² + C·Σᵢ relu(1 − yᵢ·(w·xᵢ + b))` on its five points.
fn demo_set(c: f64) -> Subdifferential<f64> {
    let points = [0.0, 1.0, 1.0, 2.0, 3.0, 0.0, 4.0, 1.0, 1.0, 1.0];
    let labels = [1.0, 1.0, -1.0, -1.0, -1.0];
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&[-2.0, 2.0]).unwrap();
    let b = tape.param_scalar(-1.0).unwrap();
    let x = tape.constant(&points, Shape::matrix(5, 2)).unwrap();
    let y = tape.constant_vec(&labels).unwrap();
    let hinge = (1.0 - y * (x.matvec(w) + b)).relu();
    let f = w.square().sum() * 0.5 + hinge.sum() * c;
    tape.subdifferential(f, &[w, b]).unwrap()
}

#[test]
fn the_demo_optimum_has_zero_in_its_subdifferential_with_the_dual_multipliers() {
    let c = 10.0;
    let sub = demo_set(c);
    // By hand (crates/cli/src/demo.rs): x₀, x₁, x₄ on the margin; no margin violated, so the
    // centre is (w, 0) = (−2, 2, 0); generator i is C·(−yᵢ·xᵢ, −yᵢ).
    assert_eq!(sub.center, vec![-2.0, 2.0, 0.0]);
    assert_eq!(
        sub.generators,
        vec![
            vec![0.0, -10.0, -10.0],
            vec![-10.0, -20.0, -10.0],
            vec![10.0, 10.0, 10.0]
        ]
    );
    let elements: Vec<usize> = sub.ties.iter().map(|t| t.element).collect();
    assert_eq!(elements, [0, 1, 4]);
    assert!(sub.contains_zero(1e-9));
    let m = sub.min_norm();
    // The multipliers are αᵢ/C with the hand-derived α = (2, 2, 4) (unique: the generators are
    // independent).
    assert!(close(&m.multipliers, &[0.2, 0.2, 0.4], 1e-12), "{m:?}");
    assert!(m.point.iter().all(|v| v.abs() <= 1e-12));
}

#[test]
fn with_a_small_penalty_the_same_point_is_not_optimal() {
    // C = 1: 0 = c + Σ tᵢ·gᵢ needs t = α/C = (2, 2, 4), outside [0, 1]³ (and t is unique).
    let sub = demo_set(1.0);
    assert!(!sub.contains_zero(1e-6));
    let m = sub.min_norm();
    let norm = m.point.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(norm > 0.1);
    // The minimum-norm element is a subgradient no other element beats: its negation is a
    // descent direction, and a small step along it lowers the objective (checked on the tape).
    let points = [0.0, 1.0, 1.0, 2.0, 3.0, 0.0, 4.0, 1.0, 1.0, 1.0];
    let labels = [1.0, 1.0, -1.0, -1.0, -1.0];
    let objective = |wb: [f64; 3]| {
        let mut f = 0.5 * (wb[0] * wb[0] + wb[1] * wb[1]);
        for (p, y) in points.chunks(2).zip(labels) {
            f += (1.0 - y * (wb[0] * p[0] + wb[1] * p[1] + wb[2])).max(0.0);
        }
        f
    };
    let s = 1e-4 / norm;
    let moved = [
        -2.0 - s * m.point[0],
        2.0 - s * m.point[1],
        -1.0 - s * m.point[2],
    ];
    assert!(objective(moved) < objective([-2.0, 2.0, -1.0]));
}

#[test]
fn certified_gradients_lie_in_the_set() {
    let sub = demo_set(10.0);
    let points = [0.0, 1.0, 1.0, 2.0, 3.0, 0.0, 4.0, 1.0, 1.0, 1.0];
    let labels = [1.0, 1.0, -1.0, -1.0, -1.0];
    for seed in 0..8 {
        let tape = Tape::<f64>::new();
        let w = tape.param_vec(&[-2.0, 2.0]).unwrap();
        let b = tape.param_scalar(-1.0).unwrap();
        let x = tape.constant(&points, Shape::matrix(5, 2)).unwrap();
        let y = tape.constant_vec(&labels).unwrap();
        let f = w.square().sum() * 0.5 + (1.0 - y * (x.matvec(w) + b)).relu().sum() * 10.0;
        let g = tape
            .backward_certified(f, Certify::Random { seed })
            .unwrap();
        let p = [g.wrt(w)[0], g.wrt(w)[1], g.wrt(b)[0]];
        // p ∈ Z ⇔ 0 ∈ Z − p.
        let shifted = Subdifferential {
            center: sub.center.iter().zip(&p).map(|(c, q)| c - q).collect(),
            generators: sub.generators.clone(),
            ties: Vec::new(),
        };
        assert!(shifted.contains_zero(1e-9), "seed {seed}: {p:?}");
    }
}

#[test]
fn nested_ties_are_refused() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    let f = x.relu().relu(); // the inner tie feeds the outer one
    let err = tape.subdifferential(f, &[x]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NestedTies {
                op: "relu",
                element: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn three_tied_branches_are_refused() {
    let tape = Tape::<f64>::new();
    let a = tape.param_vec(&[1.0, 1.0, 1.0]).unwrap();
    let err = tape.subdifferential(a.reduce_max(), &[a]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ManyPieces {
                op: "reduce_max",
                count: 3,
                ..
            }
        ),
        "{err}"
    );
    let (p, q, r) = (
        tape.param_scalar(0.0).unwrap(),
        tape.param_scalar(0.0).unwrap(),
        tape.param_scalar(0.0).unwrap(),
    );
    let err = tape
        .subdifferential(tape.max_n(&[p, q, r]), &[p])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ManyPieces {
                op: "max_n",
                count: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_tie_entering_with_a_negative_sign_is_refused() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    // relu(x) − relu(−x) = x: the sum of the two segments, [−1, 1] + …, would be too large.
    let f = x.relu() - (-x).relu();
    let err = tape.subdifferential(f, &[x]).unwrap_err();
    assert!(
        matches!(err, Error::NonConvexTie { op: "relu", weight, .. } if weight == -1.0),
        "{err}"
    );
    // A concave kink with a positive weight: min(x, 0) at 0.
    let err = tape.subdifferential(x.min(0.0), &[x]).unwrap_err();
    assert!(
        matches!(err, Error::NonConvexTie { op: "min", .. }),
        "{err}"
    );
}

#[test]
fn a_tie_whose_branches_agree_is_no_obstacle() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    // max(x, x) − … enters with weight −1, but its branches have the same gradient.
    let f = x.square() - x.max(x);
    let sub = tape.subdifferential(f, &[x]).unwrap();
    // ∂(x² − x) at 0 = {−1}: the tie adds no generator.
    assert_eq!(sub.center, vec![-1.0]);
    assert!(sub.generators.is_empty() && sub.ties.is_empty());
}

#[test]
fn the_norm_at_zero_is_refused_as_curved() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0]).unwrap();
    let err = tape.subdifferential(x.norm(), &[x]).unwrap_err();
    assert!(matches!(err, Error::CurvedTie { op: "norm", .. }), "{err}");
}

#[test]
fn bad_wrt_is_a_typed_error() {
    let tape = Tape::<f64>::new();
    let other = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    let c = tape.constant_scalar(1.0).unwrap();
    let z = other.param_scalar(0.0).unwrap();
    let f = x.relu();
    assert!(matches!(
        tape.subdifferential(f, &[c]),
        Err(Error::NoGradient { .. })
    ));
    assert!(matches!(
        tape.subdifferential(f, &[x * 2.0]),
        Err(Error::NoGradient { .. })
    ));
    assert!(matches!(
        tape.subdifferential(f, &[z]),
        Err(Error::ForeignVar { .. })
    ));
    // relu(x) + x at 0: centre relu'(0) = 0 plus 1.
    let centre = tape.subdifferential(x.relu() + x, &[x]).unwrap().center;
    assert_eq!(centre, vec![1.0]);
    let v = tape.param_vec(&[0.0, 1.0]).unwrap();
    assert!(matches!(
        tape.subdifferential(v, &[v]),
        Err(Error::NotScalar { .. })
    ));
}
