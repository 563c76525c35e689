//! Exactly at the kink: integer data makes margins exactly m (and multiclass scores exactly
//! tied). Each test checks that the engine's default policy equals the closed form's documented
//! kink value bit for bit, and that the default and the certified results lie in the closed
//! form's subdifferential (the per-loss membership helpers: `linear_subdifferential(..)
//! .contains`, `MulticlassLoss::in_subdifferential`, `l1_in_subdifferential`).

use autodiff::{Certify, Shape, Tape};
use losses::{
    l1, l1_in_subdifferential, l1_on_tape, linear_on_tape, linear_subdifferential,
    linear_value_grad, MarginLoss, MulticlassLoss, Zonotope,
};
use proptest::prelude::*;

const TOL: f64 = 1e-9;

fn ints(n: usize, lo: i32, hi: i32) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((lo..=hi).prop_map(f64::from), n)
}

fn signs(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop::bool::ANY.prop_map(|b| if b { 1.0 } else { -1.0 }), n)
}

/// A linear problem with integer x, w and bias: every margin y·(w·x + b) is an integer, and
/// often exactly 1.
#[derive(Debug, Clone)]
struct IntProblem {
    d: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    b: Option<f64>,
}

fn integer_problem() -> impl Strategy<Value = IntProblem> {
    (2usize..9, 1usize..4).prop_flat_map(|(n, d)| {
        (
            ints(n * d, -2, 2),
            signs(n),
            ints(d, -1, 1),
            prop::option::of((-1i32..=1).prop_map(f64::from)),
        )
            .prop_map(move |(x, y, w, b)| IntProblem { d, x, y, w, b })
    })
}

impl IntProblem {
    fn margins(&self) -> Vec<f64> {
        let b = self.b.unwrap_or(0.0);
        let d = self.d;
        let dot = |i: usize| (0..d).map(|j| self.x[i * d + j] * self.w[j]).sum::<f64>();
        (0..self.y.len())
            .map(|i| self.y[i] * (dot(i) + b))
            .collect()
    }

    /// The engine's gradient (w, then b) of Σ ℓ(y·(Xw + b)): default policy, then certified
    /// with a random direction, then certified lexicographically.
    fn engine_grads(&self, loss: MarginLoss, seed: u64) -> [Vec<f64>; 3] {
        let tape = Tape::<f64>::new();
        let n = self.y.len();
        let xv = tape.constant(&self.x, Shape::matrix(n, self.d)).unwrap();
        let yv = tape.constant_vec(&self.y).unwrap();
        let wv = tape.param_vec(&self.w).unwrap();
        let bv = self.b.map(|b| tape.param_scalar(b).unwrap());
        let l = linear_on_tape(loss, xv, yv, wv, bv).unwrap();
        let flat = |of: &dyn Fn(autodiff::Var<'_, f64>) -> Vec<f64>| {
            let mut g = of(wv);
            if let Some(b) = bv {
                g.extend(of(b));
            }
            g
        };
        let plain = l.backward().unwrap();
        let random = tape
            .backward_certified(l, Certify::Random { seed })
            .unwrap();
        let lexicographic = tape.backward_certified(l, Certify::Lexicographic).unwrap();
        [
            flat(&|v| plain.wrt(v).to_vec()),
            flat(&|v| random.wrt(v).to_vec()),
            flat(&|v| lexicographic.wrt(v).to_vec()),
        ]
    }

    fn closed(&self, loss: MarginLoss) -> Vec<f64> {
        let g = linear_value_grad(loss, &self.x, self.d, &self.y, &self.w, self.b).unwrap();
        let mut flat = g.w;
        flat.extend(g.b);
        flat
    }

    fn subdifferential(&self, loss: MarginLoss) -> Zonotope {
        linear_subdifferential(loss, &self.x, self.d, &self.y, &self.w, self.b).unwrap()
    }

    /// The hinge's generators by hand: one segment `−yᵢ·(xᵢ, 1)` per example exactly on the
    /// margin (the bias entry only with a bias), in example order.
    fn hinge_generators(&self) -> Vec<Vec<f64>> {
        let d = self.d;
        self.margins()
            .iter()
            .enumerate()
            .filter(|&(_, &m)| m == 1.0)
            .map(|(i, _)| {
                let mut g: Vec<f64> = self.x[i * d..(i + 1) * d]
                    .iter()
                    .map(|&a| -self.y[i] * a)
                    .collect();
                if self.b.is_some() {
                    g.push(-self.y[i]);
                }
                g
            })
            .collect()
    }

    /// Central differences of the closed-form value in (w, b), step h.
    fn numeric_grad(&self, loss: MarginLoss, h: f64) -> Vec<f64> {
        let value = |w: &[f64], b: Option<f64>| {
            linear_value_grad(loss, &self.x, self.d, &self.y, w, b)
                .unwrap()
                .value
        };
        let mut g = Vec::new();
        for j in 0..self.d {
            let (mut up, mut down) = (self.w.clone(), self.w.clone());
            up[j] += h;
            down[j] -= h;
            g.push((value(&up, self.b) - value(&down, self.b)) / (2.0 * h));
        }
        if let Some(b) = self.b {
            g.push((value(&self.w, Some(b + h)) - value(&self.w, Some(b - h))) / (2.0 * h));
        }
        g
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_global_rejects: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn hinge_at_exact_margins_default_policy_equals_closed_form_and_every_mode_lies_in_subdifferential(
        p in integer_problem(),
        seed in 0u64..1000,
    ) {
        prop_assume!(p.margins().contains(&1.0));
        let loss = MarginLoss::hinge();
        let closed = p.closed(loss);
        let sub = p.subdifferential(loss);
        // Reference: the generators derived by hand from the margins (one per example on it).
        prop_assert_eq!(&sub.generators, &p.hinge_generators());
        let [plain, random, lexicographic] = p.engine_grads(loss, seed);
        // Default policy: relu'(0) = 0 on the margin, the closed form's documented kink value.
        prop_assert_eq!(&plain, &closed);
        for (mode, g) in [("default", &plain), ("certified random", &random), ("certified lexicographic", &lexicographic)] {
            prop_assert!(sub.contains(g, TOL), "{mode} {g:?} outside {sub:?}");
        }
    }

    #[test]
    fn c1_losses_at_their_primitive_kinks_have_one_gradient_under_every_mode(
        p in integer_problem(),
        seed in 0u64..1000,
        which in 0usize..3,
    ) {
        // Their primitive forms hit relu kinks at integer margins (1 for all, 0 = 1 − γ with
        // γ = 1, −1 for modified Huber), but the losses are C¹: the subdifferential is one point.
        let loss = [MarginLoss::squared_hinge(), MarginLoss::Huberized { gamma: 1.0 }, MarginLoss::ModifiedHuber][which];
        let closed = p.closed(loss);
        let sub = p.subdifferential(loss);
        // C¹: the closed form is the gradient, as central differences of its value confirm (an
        // independent reference). At a kink the two sides' pieces differ from second order on,
        // so the difference is off by O(h): ≤ ½·max|yx|²·h·(examples) < 1e-4 for h = 1e-6.
        for (a, b) in closed.iter().zip(p.numeric_grad(loss, 1e-6)) {
            prop_assert!((a - b).abs() < 1e-4, "{}: closed {:?} vs numeric {b}", loss.name(), closed);
        }
        for g in p.engine_grads(loss, seed) {
            prop_assert!(sub.contains(&g, 1e-12), "{}: closed {:?}, engine {:?}", loss.name(), closed, g);
        }
    }

    #[test]
    fn weston_watkins_ties_default_policy_equals_closed_form_and_every_mode_lies_in_subdifferential(
        (n, k) in (1usize..4, 2usize..4),
        s in ints(12, -1, 1),
        labels in prop::collection::vec(0usize..4, 4),
        seed in 0u64..1000,
        (squared, scale_by_classes) in (any::<bool>(), any::<bool>()),
    ) {
        let s = &s[..n * k];
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let loss = MulticlassLoss::WestonWatkins { delta: 1.0, squared, scale_by_classes };
        let (_, closed) = loss.value_grad(s, k, &labels).unwrap();
        let tape = Tape::<f64>::new();
        let sv = tape.param(s, Shape::matrix(n, k)).unwrap();
        let l = loss.on_tape(sv, &labels).unwrap();
        let plain = l.backward().unwrap().wrt(sv).to_vec();
        prop_assert_eq!(&plain, &closed);
        let random = tape.backward_certified(l, Certify::Random { seed }).unwrap().wrt(sv).to_vec();
        for g in [&plain, &random] {
            prop_assert!(loss.in_subdifferential(s, k, &labels, g, TOL).unwrap(), "{loss:?}: {g:?} at {s:?}");
        }
    }

    #[test]
    fn crammer_singer_ties_split_evenly_by_default_and_every_mode_lies_in_subdifferential(
        (n, k) in (1usize..4, 2usize..5),
        s in ints(16, -1, 1),
        labels in prop::collection::vec(0usize..5, 4),
        seed in 0u64..1000,
        squared in any::<bool>(),
    ) {
        let s = &s[..n * k];
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let loss = MulticlassLoss::CrammerSinger { squared };
        let (_, closed) = loss.value_grad(s, k, &labels).unwrap();
        let tape = Tape::<f64>::new();
        let sv = tape.param(s, Shape::matrix(n, k)).unwrap();
        let l = loss.on_tape(sv, &labels).unwrap();
        let plain = l.backward().unwrap().wrt(sv).to_vec();
        prop_assert_eq!(&plain, &closed);
        let random = tape.backward_certified(l, Certify::Random { seed }).unwrap().wrt(sv).to_vec();
        for g in [&plain, &random] {
            prop_assert!(loss.in_subdifferential(s, k, &labels, g, TOL).unwrap(), "{loss:?}: {g:?} at {s:?}");
        }
    }

    #[test]
    fn l1_at_zero_weights_default_policy_is_zero_and_every_mode_lies_in_subdifferential(
        w in ints(6, -1, 1),
        seed in 0u64..1000,
    ) {
        let tape = Tape::<f64>::new();
        let wv = tape.param_vec(&w).unwrap();
        let r = l1_on_tape(wv);
        let plain = r.backward().unwrap().wrt(wv).to_vec();
        prop_assert_eq!(&plain, &l1(&w).1);
        let random = tape.backward_certified(r, Certify::Random { seed }).unwrap().wrt(wv).to_vec();
        for g in [&plain, &random] {
            prop_assert!(l1_in_subdifferential(&w, g, TOL), "{g:?} at {w:?}");
        }
    }
}

/// The engine's derivative of `ℓ(z)` at the scalar `z` (default policy).
fn engine_derivative(loss: MarginLoss, z: f64) -> f64 {
    let tape = Tape::<f64>::new();
    let zv = tape.param_scalar(z).unwrap();
    loss.on_tape(zv).unwrap().backward().unwrap().wrt(zv)[0]
}

/// Pinned: the closed form's `ℓ'(z)` and the engine's both equal `expected`, exactly.
fn check(loss: MarginLoss, z: f64, expected: f64) {
    assert_eq!(loss.derivative(z), expected, "closed form, {loss:?} at {z}");
    assert_eq!(
        engine_derivative(loss, z),
        expected,
        "engine, {loss:?} at {z}"
    );
    assert!(loss.in_subdifferential(z, expected, 0.0));
}

#[test]
fn hinge_derivative_at_the_margin_is_zero() {
    check(MarginLoss::hinge(), 1.0, 0.0); // relu'(0) = 0; ∂ = [−1, 0]
}

#[test]
fn hinge_derivative_at_a_margin_of_two_is_zero() {
    check(MarginLoss::Hinge { margin: 2.0 }, 2.0, 0.0);
}

#[test]
fn hinge_derivative_inside_the_margin_is_minus_one() {
    check(MarginLoss::hinge(), 0.0, -1.0);
}

#[test]
fn squared_hinge_derivative_at_the_margin_is_zero() {
    check(MarginLoss::squared_hinge(), 1.0, 0.0); // −2·max(0, 1 − 1)
}

#[test]
fn huberized_derivative_at_the_junction_is_minus_one() {
    check(MarginLoss::Huberized { gamma: 1.0 }, 0.0, -1.0); // −u/γ at u = γ = 1
}

#[test]
fn huberized_derivative_at_the_margin_is_zero() {
    check(MarginLoss::Huberized { gamma: 0.5 }, 1.0, 0.0);
}

#[test]
fn modified_huber_derivative_at_minus_one_is_minus_four() {
    check(MarginLoss::ModifiedHuber, -1.0, -4.0); // −2·(1 − (−1)) = −4 from both sides
}

#[test]
fn smooth_hinges_derivative_at_the_margin_is_minus_one_half() {
    // ψ_G'(1) = −Φ(0) = −½; ψ_M'(1) = −(1 + 0/σ)/2 = −½.
    check(MarginLoss::SmoothGaussian { sigma: 0.5 }, 1.0, -0.5);
    check(MarginLoss::SmoothSqrt { sigma: 0.5 }, 1.0, -0.5);
}

#[test]
fn hinge_subdifferential_on_the_margin_is_minus_t_y_x() {
    // x₀ = (1, 2), y₀ = −1, w = (−1, 0): y·w·x = 1, on the margin; x₁ = (0, 1), y₁ = +1:
    // margin 0, violated, contributes −y₁·x₁ = (0, −1).
    let sub = linear_subdifferential(
        MarginLoss::hinge(),
        &[1.0, 2.0, 0.0, 1.0],
        2,
        &[-1.0, 1.0],
        &[-1.0, 0.0],
        None,
    )
    .unwrap();
    assert_eq!(sub.center, vec![0.0, -1.0]);
    assert_eq!(sub.generators, vec![vec![1.0, 2.0]]); // −y₀·x₀

    // The segment (0, −1) + t·(1, 2), t ∈ [0, 1].
    assert!(sub.contains(&[0.5, 0.0], 1e-12));
    assert!(sub.contains(&[1.0, 1.0], 1e-12));
    assert!(!sub.contains(&[1.5, 2.0], 1e-6)); // t = 1.5
    assert!(!sub.contains(&[0.5, -0.5], 1e-6)); // off the line
}

#[test]
fn zonotope_membership_accepts_the_hexagon_and_rejects_points_outside() {
    // (0, 0) + t₁·e₁ + t₂·e₂ + t₃·(½, ½): the unit square swept along the diagonal, a hexagon.
    let z = Zonotope {
        center: vec![0.0, 0.0],
        generators: vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.5, 0.5]],
    };
    assert!(z.contains(&[1.5, 1.5], 1e-9)); // the far corner (1, 1) + (½, ½)
    assert!(z.contains(&[0.6, 1.4], 1e-9)); // t = (0.2, 1, 0.8)
    assert!(!z.contains(&[0.2, 1.4], 1e-6)); // needs t₃ ≥ 0.8, then t₁ = 0.2 − t₃/2 < 0
    assert!(!z.contains(&[1.6, 1.5], 1e-6));
    assert!(!z.contains(&[-0.1, 0.0], 1e-6));
}

#[test]
fn crammer_singer_at_a_three_way_tie_splits_in_thirds() {
    // Scores (1, 0, 0), label 0: s + Δ = (1, 1, 1), a three-way tie exactly at the kink.
    // G = (1/3)(e₀ + e₁ + e₂) − e₀ = (−2/3, 1/3, 1/3), the row_max rule (1/k each).
    let loss = MulticlassLoss::crammer_singer();
    let (l, g) = loss.value_grad(&[1.0, 0.0, 0.0], 3, &[0]).unwrap();
    assert_eq!(l, 0.0);
    let third = 1.0 / 3.0;
    assert_eq!(g, vec![third - 1.0, third, third]);
    let tape = Tape::<f64>::new();
    let s = tape.param(&[1.0, 0.0, 0.0], Shape::matrix(1, 3)).unwrap();
    let engine = loss.on_tape(s, &[0]).unwrap().backward().unwrap();
    assert_eq!(engine.wrt(s), &g[..]);
    // e₁ − e₀ (class 1 takes it all) is in ∂ too; e₁ − ½e₀ is not (weights sum to ½).
    assert!(loss
        .in_subdifferential(&[1.0, 0.0, 0.0], 3, &[0], &[-1.0, 1.0, 0.0], 0.0)
        .unwrap());
    assert!(!loss
        .in_subdifferential(&[1.0, 0.0, 0.0], 3, &[0], &[-0.5, 1.0, 0.0], 1e-9)
        .unwrap());
}

#[test]
fn weston_watkins_at_a_tie_takes_zero_and_its_subdifferential_is_an_interval() {
    // Scores (1, 0), label 0: t = 0 − 1 + 1 = 0, the kink; relu'(0) = 0 gives G = (0, 0).
    let loss = MulticlassLoss::weston_watkins();
    let (l, g) = loss.value_grad(&[1.0, 0.0], 2, &[0]).unwrap();
    assert_eq!((l, g.clone()), (0.0, vec![0.0, 0.0]));
    let tape = Tape::<f64>::new();
    let s = tape.param(&[1.0, 0.0], Shape::matrix(1, 2)).unwrap();
    assert_eq!(
        loss.on_tape(s, &[0]).unwrap().backward().unwrap().wrt(s),
        &g[..]
    );
    // ∂ = {ξ·(e₁ − e₀) : ξ ∈ [0, 1]}.
    let inside = |g: &[f64]| {
        loss.in_subdifferential(&[1.0, 0.0], 2, &[0], g, 1e-12)
            .unwrap()
    };
    assert!(inside(&[-0.3, 0.3]));
    assert!(inside(&[-1.0, 1.0]));
    assert!(!inside(&[0.3, -0.3])); // ξ = −0.3
    assert!(!inside(&[-0.3, 0.4])); // not of the form ξ·(e₁ − e₀)
}

#[test]
fn l1_at_zero_is_zero_by_default() {
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&[0.0, 2.0, 0.0, -3.0]).unwrap();
    // ∂|w|/∂w = sign(w), 0 chosen at w = 0 (abs'(0) = 0).
    assert_eq!(
        l1_on_tape(w).backward().unwrap().wrt(w),
        &[0.0, 1.0, 0.0, -1.0]
    );
    assert!(!l1_in_subdifferential(&[0.0], &[1.5], 1e-12));
}
