//! The certified mode on a catalogue of compositions at kinks, each with its Clarke
//! subdifferential derived by hand; a property test on random compositions at integer points;
//! seeded determinism; directional derivatives.

use autodiff::certify::random_direction;
use autodiff::{Certify, Shape, Tape, Var};
use proptest::prelude::*;

use crate::compositions::{build, dual, expr, VARS};

/// Is `g` in the convex hull of `vertices`? Exact for small sets: by Carathéodory, some subset of
/// at most dim + 1 vertices holds `g` as a convex combination; each subset is a small linear
/// least-squares solve.
fn in_hull(g: &[f64], vertices: &[Vec<f64>]) -> bool {
    let dim = g.len();
    let k = vertices.len();
    for mask in 1u32..(1 << k) {
        let subset: Vec<&Vec<f64>> = (0..k)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| &vertices[i])
            .collect();
        let m = subset.len();
        if m > dim + 1 {
            continue;
        }
        // Unknowns λ (m); equations: Σ λᵢ vᵢ = g (dim rows) and Σ λᵢ = 1, via normal equations.
        let rows = dim + 1;
        let a = |r: usize, c: usize| if r < dim { subset[c][r] } else { 1.0 };
        let b = |r: usize| if r < dim { g[r] } else { 1.0 };
        let mut ata = vec![vec![0.0; m]; m];
        let mut atb = vec![0.0; m];
        for i in 0..m {
            for j in 0..m {
                ata[i][j] = (0..rows).map(|r| a(r, i) * a(r, j)).sum();
            }
            atb[i] = (0..rows).map(|r| a(r, i) * b(r)).sum();
        }
        let Some(lambda) = solve(ata, atb) else {
            continue;
        };
        let residual: f64 = (0..rows)
            .map(|r| ((0..m).map(|c| a(r, c) * lambda[c]).sum::<f64>() - b(r)).powi(2))
            .sum();
        if residual < 1e-18 && lambda.iter().all(|&l| l >= -1e-12) {
            return true;
        }
    }
    false
}

/// Gaussian elimination with partial pivoting; None if singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for r in col + 1..n {
            let f = a[r][col] / a[col][col];
            for c in col..n {
                a[r][c] -= f * a[col][c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        x[r] = (b[r] - (r + 1..n).map(|c| a[r][c] * x[c]).sum::<f64>()) / a[r][r];
    }
    Some(x)
}

type Build = dyn for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>;

/// One catalogue entry: f at the point, its Clarke set as hull vertices, and what the default
/// MinNorm policy returns (`None` when it is in the set; `Some(wrong)` pins the known wrong value).
struct Case {
    name: &'static str,
    at: Vec<f64>,
    clarke: Vec<Vec<f64>>,
    min_norm_wrong: Option<Vec<f64>>,
    f: Box<Build>,
}

fn case(
    name: &'static str,
    at: &[f64],
    clarke: &[&[f64]],
    min_norm_wrong: Option<&[f64]>,
    f: Box<Build>,
) -> Case {
    Case {
        name,
        at: at.to_vec(),
        clarke: clarke.iter().map(|v| v.to_vec()).collect(),
        min_norm_wrong: min_norm_wrong.map(<[f64]>::to_vec),
        f,
    }
}

fn gradients(c: &Case, how: Option<Certify>) -> Vec<f64> {
    let tape = Tape::<f64>::new();
    let xs: Vec<_> =
        c.at.iter()
            .map(|&v| tape.param_scalar(v).unwrap())
            .collect();
    let y = (c.f)(&tape, &xs);
    let g = match how {
        None => y.backward().unwrap(),
        Some(h) => tape.backward_certified(y, h).unwrap().gradients,
    };
    xs.iter().map(|&x| g.wrt(x)[0]).collect()
}

fn zero(t: &Tape<f64>) -> Var<'_, f64> {
    t.constant_scalar(0.0).unwrap()
}

#[rustfmt::skip]
fn catalogue() -> Vec<Case> {
    vec![
        // relu at 0: pieces 0 (x < 0) and x (x > 0) → [0, 1].
        case("relu", &[0.0], &[&[0.0], &[1.0]], None, Box::new(|_, x| x[0].relu())),
        // |x| at 0 → [−1, 1].
        case("abs", &[0.0], &[&[-1.0], &[1.0]], None, Box::new(|_, x| x[0].abs())),
        // relu(x) − relu(−x) = x → {1}; per-op rules give 0 − 0.
        case("relu(x) - relu(-x)", &[0.0], &[&[1.0]], Some(&[0.0]), Box::new(|_, x| x[0].relu() - (-x[0]).relu())),
        // 2·relu(x) − |x| = x → {1}; MinNorm gives 0.
        case("2 relu(x) - |x|", &[0.0], &[&[1.0]], Some(&[0.0]), Box::new(|_, x| x[0].relu() * 2.0 - x[0].abs())),
        // max(max(x,0),0) − max(x,0) ≡ 0 → {0}; MinNorm is right (PyTorch and JAX give −¼).
        case("max(max(x,0),0) - max(x,0)", &[0.0], &[&[0.0]], None, Box::new(|_, x| x[0].max(0.0).max(0.0) - x[0].max(0.0))),
        // −relu(x) → [−1, 0].
        case("-relu(x)", &[0.0], &[&[-1.0], &[0.0]], None, Box::new(|_, x| -x[0].relu())),
        // relu(x)² is C¹ with derivative 0 at 0.
        case("relu(x)^2", &[0.0], &[&[0.0]], None, Box::new(|_, x| x[0].relu().square())),
        // relu(−x) → [−1, 0].
        case("relu(-x)", &[0.0], &[&[-1.0], &[0.0]], None, Box::new(|_, x| (-x[0]).relu())),
        // |x| − |x| ≡ 0.
        case("|x| - |x|", &[0.0], &[&[0.0]], None, Box::new(|_, x| x[0].abs() - x[0].abs())),
        // relu(x) + relu(−x) = |x| → [−1, 1].
        case("relu(x) + relu(-x)", &[0.0], &[&[-1.0], &[1.0]], None, Box::new(|_, x| x[0].relu() + (-x[0]).relu())),
        // max(x, −x) = |x| → [−1, 1].
        case("max(x, -x)", &[0.0], &[&[-1.0], &[1.0]], None, Box::new(|_, x| x[0].max(-x[0]))),
        // min(x, 2x): slope 1 for x > 0, 2 for x < 0 → [1, 2].
        case("min(x, 2x)", &[0.0], &[&[1.0], &[2.0]], None, Box::new(|_, x| x[0].min(x[0] * 2.0))),
        // max(x, 2x) − x: slope 1 for x > 0, 0 for x < 0 → [0, 1].
        case("max(x, 2x) - x", &[0.0], &[&[0.0], &[1.0]], None, Box::new(|_, x| x[0].max(x[0] * 2.0) - x[0])),
        // max(x, 0) + min(x, 0) = x → {1}; MinNorm gives 0 + 0.
        case("max(x,0) + min(x,0)", &[0.0], &[&[1.0]], Some(&[0.0]), Box::new(|_, x| x[0].max(0.0) + x[0].min(0.0))),
        // clamp(x, 0, 1) at the lower bound → [0, 1].
        case("clamp(x,0,1) at 0", &[0.0], &[&[0.0], &[1.0]], None, Box::new(|_, x| x[0].clamp(0.0, 1.0))),
        // clamp(x, −1, 1) at the upper bound → [0, 1].
        case("clamp(x,-1,1) at 1", &[1.0], &[&[0.0], &[1.0]], None, Box::new(|_, x| x[0].clamp(-1.0, 1.0))),
        // clamp(x,0,1) − clamp(−x,0,1) = x near 0 → {1}; MinNorm gives 0.
        case("clamp(x,0,1) - clamp(-x,0,1)", &[0.0], &[&[1.0]], Some(&[0.0]), Box::new(|_, x| x[0].clamp(0.0, 1.0) - (-x[0]).clamp(0.0, 1.0))),
        // max_n(x, 0, −x) = |x| → [−1, 1].
        case("max_n(x, 0, -x)", &[0.0], &[&[-1.0], &[1.0]], None, Box::new(move |t, x| t.max_n(&[x[0], zero(t), -x[0]]))),
        // relu(relu(x)) = relu(x) → [0, 1].
        case("relu(relu(x))", &[0.0], &[&[0.0], &[1.0]], None, Box::new(|_, x| x[0].relu().relu())),
        // |relu(x) − relu(−x)| = |x| → [−1, 1].
        case("|relu(x) - relu(-x)|", &[0.0], &[&[-1.0], &[1.0]], None, Box::new(|_, x| (x[0].relu() - (-x[0]).relu()).abs())),
        // clamp(x, 0, ∞) − relu(x) ≡ 0.
        case("clamp(x,0,inf) - relu(x)", &[0.0], &[&[0.0]], None, Box::new(|_, x| x[0].clamp(0.0, f64::INFINITY) - x[0].relu())),
        // Hinge max(0, 1 − x) at the margin x = 1 → [−1, 0].
        case("hinge at margin", &[1.0], &[&[-1.0], &[0.0]], None, Box::new(|_, x| (1.0 - x[0]).relu())),
        // max(x, y) at a tie → conv{(1, 0), (0, 1)}.
        case("max(x, y)", &[0.0, 0.0], &[&[1.0, 0.0], &[0.0, 1.0]], None, Box::new(|_, x| x[0].max(x[1]))),
        // max(x, y) + min(x, y) = x + y → {(1, 1)}; MinNorm's ½/½ + ½/½ is right.
        case("max + min", &[0.0, 0.0], &[&[1.0, 1.0]], None, Box::new(|_, x| x[0].max(x[1]) + x[0].min(x[1]))),
        // max(x, y) − min(x, y) = |x − y| → conv{(1, −1), (−1, 1)}.
        case("max - min", &[0.0, 0.0], &[&[1.0, -1.0], &[-1.0, 1.0]], None, Box::new(|_, x| x[0].max(x[1]) - x[0].min(x[1]))),
        // relu(x − y) − relu(y − x) = x − y → {(1, −1)}; MinNorm gives (0, 0).
        case("relu(x-y) - relu(y-x)", &[1.0, 1.0], &[&[1.0, -1.0]], Some(&[0.0, 0.0]), Box::new(|_, x| (x[0] - x[1]).relu() - (x[1] - x[0]).relu())),
        // max_n(x, y, z) at a three-way tie → conv{e₁, e₂, e₃}.
        case("max_n(x, y, z)", &[0.0, 0.0, 0.0], &[&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0], &[0.0, 0.0, 1.0]], None, Box::new(|t, x| t.max_n(x))),
        // Product of kinked terms: relu(x)·relu(y) is C¹ at (0, 0) with gradient 0.
        case("relu(x) relu(y)", &[0.0, 0.0], &[&[0.0, 0.0]], None, Box::new(|_, x| x[0].relu() * x[1].relu())),
        // relu(x)·(1 + relu(y)): gradient (1 + relu(y), ·) for x > 0, 0 for x < 0 → conv{(0,0),(1,0)}.
        case("relu(x)(1 + relu(y))", &[0.0, 0.0], &[&[0.0, 0.0], &[1.0, 0.0]], None, Box::new(|_, x| x[0].relu() * (1.0 + x[1].relu()))),
        // 3·(relu(x) − relu(−x)) + |y| = 3x + |y| → {3} × [−1, 1]; MinNorm gives (0, 0).
        case("3 x + |y| via relus", &[0.0, 0.0], &[&[3.0, -1.0], &[3.0, 1.0]], Some(&[0.0, 0.0]), Box::new(|_, x| (x[0].relu() - (-x[0]).relu()) * 3.0 + x[1].abs())),
        // (relu(x) − relu(−x))·(relu(y) − relu(−y)) = x·y → gradient (y, x) = (0, 0) at the origin.
        case("x y via relus", &[0.0, 0.0], &[&[0.0, 0.0]], None, Box::new(|_, x| (x[0].relu() - (-x[0]).relu()) * (x[1].relu() - (-x[1]).relu()))),
        // max(max(a, b), b) = max(a, b) with a tie at both levels → conv{(1, 0), (0, 1)}.
        case("max(max(a,b),b)", &[0.0, 0.0], &[&[1.0, 0.0], &[0.0, 1.0]], None, Box::new(|_, x| x[0].max(x[1]).max(x[1]))),
        // max(v₀, v₁) − v₀ = relu(v₁ − v₀) → conv{(0, 0), (−1, 1)}.
        case("max(a,b) - a", &[0.0, 0.0], &[&[0.0, 0.0], &[-1.0, 1.0]], None, Box::new(|_, x| x[0].max(x[1]) - x[0])),
        // Multiclass (Weston–Watkins) with tied classes: scores (s₀, s₁, s₂) = (1, 0, 0), label 0:
        // Σ_{j≠0} relu(sⱼ − s₀ + 1), both terms at 0 → {(−t₁−t₂, t₁, t₂) : t ∈ [0, 1]²}.
        case("weston-watkins tied", &[1.0, 0.0, 0.0], &[&[0.0, 0.0, 0.0], &[-1.0, 1.0, 0.0], &[-1.0, 0.0, 1.0], &[-2.0, 1.0, 1.0]], None,
            Box::new(|_, s| (s[1] - s[0] + 1.0).relu() + (s[2] - s[0] + 1.0).relu())),
        // Crammer–Singer max(0, 1 + max(s₁, s₂) − s₀) at (1, 0, 0): max(0, 1 + s₁ − s₀, 1 + s₂ − s₀)
        // → conv{(0, 0, 0), (−1, 1, 0), (−1, 0, 1)}.
        case("crammer-singer tied", &[1.0, 0.0, 0.0], &[&[0.0, 0.0, 0.0], &[-1.0, 1.0, 0.0], &[-1.0, 0.0, 1.0]], None,
            Box::new(|_, s| (s[1].max(s[2]) + 1.0 - s[0]).relu())),
        // Crammer–Singer as one n-ary max: max(s₀, s₁ + 1, s₂ + 1) − s₀, a three-way tie → same set.
        case("crammer-singer max_n", &[1.0, 0.0, 0.0], &[&[0.0, 0.0, 0.0], &[-1.0, 1.0, 0.0], &[-1.0, 0.0, 1.0]], None,
            Box::new(|t, s| t.max_n(&[s[0] + 0.0, s[1] + 1.0, s[2] + 1.0]) - s[0])),
        // Nested hinge: relu(1 − relu(1 − x)) at x = 0: inner relu active (1 − x = 1 > 0), outer at 0
        // → pieces 0 (x < 0) and x (x > 0) → [0, 1].
        case("nested hinge", &[0.0], &[&[0.0], &[1.0]], None, Box::new(|_, x| (1.0 - (1.0 - x[0]).relu()).relu())),
        // Difference of hinges: relu(1 − x) − relu(x − 1) = 1 − x → {−1}; MinNorm gives 0.
        case("hinge - reverse hinge", &[1.0], &[&[-1.0]], Some(&[0.0]), Box::new(|_, x| (1.0 - x[0]).relu() - (x[0] - 1.0).relu())),
        // max(x, y)·2 − |x − y| = x + y → {(1, 1)}; MinNorm: (1, 1) − (0, 0) = (1, 1), right.
        case("2 max - |x - y|", &[0.0, 0.0], &[&[1.0, 1.0]], None, Box::new(|_, x| x[0].max(x[1]) * 2.0 - (x[0] - x[1]).abs())),
        // min(x, y) + |x − y|/2·2 − max(x, y) ≡ 0 → {(0, 0)}: per-op: (½,½) + (0,0) − (½,½) = 0, right.
        case("min + |x-y| - max", &[0.0, 0.0], &[&[0.0, 0.0]], None, Box::new(|_, x| x[0].min(x[1]) + (x[0] - x[1]).abs() - x[0].max(x[1]))),
    ]
}

#[test]
fn catalogue_has_at_least_thirty_compositions() {
    assert!(catalogue().len() >= 30);
}

#[test]
fn certified_gradient_lies_in_the_clarke_set_for_every_catalogue_case() {
    for c in catalogue() {
        for how in [
            Certify::Random { seed: 1 },
            Certify::Random { seed: 2 },
            Certify::Random { seed: 12345 },
            Certify::Lexicographic,
        ] {
            let g = gradients(&c, Some(how));
            assert!(
                in_hull(&g, &c.clarke),
                "{}: certified {:?} with {how:?} not in {:?}",
                c.name,
                g,
                c.clarke
            );
        }
    }
}

#[test]
fn min_norm_policy_is_right_or_wrong_exactly_where_the_catalogue_says() {
    for c in catalogue() {
        let g = gradients(&c, None);
        match &c.min_norm_wrong {
            // A per-op rule cannot see the cancellation: the known wrong value, outside the set.
            Some(wrong) => {
                assert_eq!(&g, wrong, "{}", c.name);
                assert!(!in_hull(&g, &c.clarke), "{}", c.name);
            }
            None => assert!(
                in_hull(&g, &c.clarke),
                "{}: MinNorm {:?} not in {:?}",
                c.name,
                g,
                c.clarke
            ),
        }
    }
}

#[test]
fn without_ties_certified_is_plain_backward_bit_for_bit() {
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&[0.3, -0.7]).unwrap();
    let x = tape
        .constant(&[1.0, 2.0, -1.5, 0.5], Shape::matrix(2, 2))
        .unwrap();
    let loss = (1.0 - x.matvec(w)).relu().mean() + w.abs().sum();
    let plain = loss.backward().unwrap();
    let certified = tape
        .backward_certified(loss, Certify::Random { seed: 9 })
        .unwrap();
    assert_eq!(certified.stats.ties, 0);
    assert_eq!(certified.stats.passes, 0);
    let (a, b) = (plain.wrt(w), certified.wrt(w));
    assert!(a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits()));
}

#[test]
fn same_seed_gives_the_same_result_bit_for_bit() {
    let run = |seed| {
        let tape = Tape::<f64>::new();
        let v = tape.param_vec(&[0.0, 1.0, -1.0, 0.0]).unwrap();
        let loss = v.abs().sum() + v.relu().sum() + v.max(0.0).sum();
        tape.backward_certified(loss, Certify::Random { seed })
            .unwrap()
            .wrt(v)
            .to_vec()
    };
    let a = run(42);
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        run(42).iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    // Elements at 0 are genuinely ambiguous: each resolves to one side, ±1 for |·| plus 1 or 0
    // twice for the relu and max terms; off the kink the ordinary derivatives (1+1+1, −1).
    assert!([-1.0, 3.0].contains(&a[0]) && [-1.0, 3.0].contains(&a[3]));
    assert_eq!((a[1], a[2]), (3.0, -1.0));
    // Some seed resolves element 0 the other way.
    assert!((0..20).map(run).any(|b| b[0] != a[0]));
}

#[test]
fn hinge_with_examples_on_the_margin_resolves_each_by_the_direction() {
    // Margins y·w·x for x = (1, 0), (0, 1), (1, 1), y = +1 and w = (1, 1): (1, 1, 2): two on the margin.
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&[1.0, 1.0]).unwrap();
    let x = tape
        .constant(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], Shape::matrix(3, 2))
        .unwrap();
    let loss = (1.0 - x.matvec(w)).relu().sum();
    for seed in 0..16 {
        let c = tape
            .backward_certified(loss, Certify::Random { seed })
            .unwrap();
        let q = random_direction(seed, 2);
        // Example i is violated along q iff its margin decreases: xᵢ·q < 0; then −xᵢ joins.
        let want = [
            -(if q[0] < 0.0 { 1.0 } else { 0.0 }),
            -(if q[1] < 0.0 { 1.0 } else { 0.0 }),
        ];
        assert_eq!(c.wrt(w), &want, "seed {seed}, q = {q:?}");
        assert_eq!(c.stats.ties, 2);
        assert_eq!(c.stats.resolved, 2);
    }
}

#[test]
fn lexicographic_mode_is_deterministic_and_resolves_along_coordinates() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0]).unwrap();
    // f = |x₀| + |x₁|: along e₀ the first tie resolves (+1), the second needs e₁ (+1).
    let f = x.abs().sum();
    let c = tape.backward_certified(f, Certify::Lexicographic).unwrap();
    assert_eq!(c.wrt(x), &[1.0, 1.0]);
    assert_eq!(c.stats.passes, 2);
    assert_eq!(c.stats.resolved, 2);
}

#[test]
fn directional_derivatives_follow_the_one_sided_rules() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0]).unwrap();
    let (a, b) = (x.gather_first(), x.gather_second());
    let cases: Vec<(Var<'_, f64>, [f64; 2], f64)> = vec![
        (a.relu(), [1.0, 0.0], 1.0), // max(ṫ, 0)
        (a.relu(), [-1.0, 0.0], 0.0),
        (a.abs(), [-2.0, 0.0], 2.0), // |ṫ|
        (a.max(b), [1.0, 3.0], 3.0), // max(ṫa, ṫb)
        (a.min(b), [1.0, 3.0], 1.0), // min(ṫa, ṫb)
        (x.reduce_max(), [-1.0, -2.0], -1.0),
        (a.clamp(0.0, 1.0), [-1.0, 0.0], 0.0), // pointing outside the bound
        (a.clamp(0.0, 1.0), [0.5, 0.0], 0.5),  // pointing inside
        (a.relu() - (-a).relu(), [-2.0, 0.0], -2.0),
    ];
    for (k, (f, d, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            tape.directional_derivative(f, &[(x, &d)]).unwrap(),
            want,
            "case {k}"
        );
    }
    // The subdifferential of t ↦ |t| is [−1, 1]; of a hinge at its margin, [−1, 0].
    assert_eq!(
        tape.subdifferential_interval(a.abs(), &[(x, &[1.0, 0.0])])
            .unwrap(),
        (-1.0, 1.0)
    );
    assert_eq!(
        tape.subdifferential_interval((-a).relu(), &[(x, &[1.0, 0.0])])
            .unwrap(),
        (-1.0, 0.0)
    );
}

#[test]
fn directional_derivative_of_leaky_relu_at_zero_is_one_sided() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0]).unwrap();
    let a = x.gather_first();
    // leaky_relu_α at 0: slope 1 to the right, α to the left: f'(0; ṫ) = ṫ if ṫ > 0, else αṫ.
    for (alpha, d, want) in [
        (0.1, 2.0, 2.0),
        (0.1, -2.0, -0.2),
        (-0.5, -2.0, 1.0),
        (3.0, -1.0, -3.0),
    ] {
        let f = a.leaky_relu(alpha);
        assert_eq!(
            tape.directional_derivative(f, &[(x, &[d, 0.0])]).unwrap(),
            want,
            "α = {alpha}, ṫ = {d}"
        );
    }
}

#[test]
fn directional_derivative_of_norm_at_the_zero_vector_is_the_length_of_the_direction() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0]).unwrap();
    // ‖0 + t·d‖ = t‖d‖: f'(0; d) = ‖d‖ = 5 for d = (3, −4), whichever way it points.
    let n = x.norm();
    assert_eq!(
        tape.directional_derivative(n, &[(x, &[3.0, -4.0])])
            .unwrap(),
        5.0
    );
    assert_eq!(
        tape.directional_derivative(n, &[(x, &[-3.0, 4.0])])
            .unwrap(),
        5.0
    );
    // ‖·‖ is a cone: its subdifferential along d is [−‖d‖, ‖d‖].
    assert_eq!(
        tape.subdifferential_interval(n, &[(x, &[0.0, 2.0])])
            .unwrap(),
        (-2.0, 2.0)
    );
}

/// Elements of a length-2 parameter as scalar nodes (test helpers).
trait Pick<'t> {
    fn gather_first(self) -> Var<'t, f64>;
    fn gather_second(self) -> Var<'t, f64>;
}

impl<'t> Pick<'t> for Var<'t, f64> {
    fn gather_first(self) -> Var<'t, f64> {
        let e = self.tape().constant_vec(&[1.0, 0.0]).unwrap();
        self.dot(e)
    }
    fn gather_second(self) -> Var<'t, f64> {
        let e = self.tape().constant_vec(&[0.0, 1.0]).unwrap();
        self.dot(e)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_global_rejects: 100_000, ..ProptestConfig::default() })]

    /// At integer points (many exact ties), the certified gradient equals the gradient at
    /// x + t·q on the same piece, computed by the independent dual-number chain rule.
    #[test]
    fn certified_gradient_is_the_gradient_of_the_piece_along_the_direction(
        e in expr(),
        x in prop::array::uniform3(-2i32..=2),
        seed in 0u64..1000,
    ) {
        let x = x.map(f64::from);
        let tape = Tape::<f64>::new();
        let xs: Vec<_> = x.iter().map(|&v| tape.param_scalar(v).unwrap()).collect();
        let y = build(&e, &tape, &xs) + xs[0] * 0.0;
        let c = tape.backward_certified(y, Certify::Random { seed }).unwrap();
        let q = random_direction(seed, VARS);
        let t = 1e-9;
        let moved = [x[0] + t * q[0], x[1] + t * q[1], x[2] + t * q[2]];
        let mut kink = f64::INFINITY;
        let want = dual(&e, &moved, &mut kink);
        prop_assume!(kink > 0.0);
        for i in 0..VARS {
            let got = c.wrt(xs[i])[0];
            let scale = want.d[i].abs().max(1.0);
            prop_assert!((got - want.d[i]).abs() <= 1e-5 * scale,
                "∂/∂x{i}: certified {got} vs piece gradient {} (ties {:?})", want.d[i], c.stats);
        }
    }
}
