//! Exactly at the kink: integer data makes margins exactly m. The engine's default policy must
//! equal the closed form's documented kink value, and every certified result must lie in the
//! closed form's subdifferential (here checked against its vertices: the certified gradient is
//! the gradient of one piece, so it is a vertex).

use autodiff::{Certify, Shape, Tape};
use losses::{l1_on_tape, linear_on_tape, linear_value_grad, MarginLoss, MulticlassLoss};
use proptest::prelude::*;

fn ints(n: usize, lo: i32, hi: i32) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((lo..=hi).prop_map(f64::from), n)
}

fn signs(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop::bool::ANY.prop_map(|b| if b { 1.0 } else { -1.0 }), n)
}

/// (n, d, x, y, w) with integer x and w: integer margins, often exactly 1.
fn integer_problem() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>, Vec<f64>)> {
    (2usize..9, 1usize..4).prop_flat_map(|(n, d)| {
        (
            Just(n),
            Just(d),
            ints(n * d, -2, 2),
            signs(n),
            ints(d, -1, 1),
        )
    })
}

fn margins(x: &[f64], d: usize, y: &[f64], w: &[f64]) -> Vec<f64> {
    y.iter()
        .enumerate()
        .map(|(i, yi)| yi * (0..d).map(|j| x[i * d + j] * w[j]).sum::<f64>())
        .collect()
}

/// Engine gradient (default policy, or certified with `seed`) of Σ ℓ(y·Xw).
fn engine_grad(
    loss: MarginLoss,
    x: &[f64],
    d: usize,
    y: &[f64],
    w: &[f64],
    seed: Option<u64>,
) -> Vec<f64> {
    let tape = Tape::<f64>::new();
    let xv = tape.constant(x, Shape::matrix(y.len(), d)).unwrap();
    let yv = tape.constant_vec(y).unwrap();
    let wv = tape.param_vec(w).unwrap();
    let l = linear_on_tape(loss, xv, yv, wv, None).unwrap();
    match seed {
        None => l.backward().unwrap().wrt(wv).to_vec(),
        Some(seed) => tape
            .backward_certified(l, Certify::Random { seed })
            .unwrap()
            .wrt(wv)
            .to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, max_global_rejects: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn hinge_at_exact_margins_default_policy_equals_closed_form_and_certified_is_a_vertex(
        (n, d, x, y, w) in integer_problem(),
        seed in 0u64..1000,
    ) {
        let m = margins(&x, d, &y, &w);
        let tied: Vec<usize> = (0..n).filter(|&i| m[i] == 1.0).collect();
        prop_assume!(!tied.is_empty());
        let closed = linear_value_grad(MarginLoss::hinge(), &x, d, &y, &w, None).unwrap();
        // Default policy: relu'(0) = 0, the closed form's documented kink value — exactly.
        prop_assert_eq!(engine_grad(MarginLoss::hinge(), &x, d, &y, &w, None), closed.w.clone());
        // ∂ = closed − Σ_{i tied} tᵢ·yᵢ·xᵢ, tᵢ ∈ [0, 1]; a certified result is one vertex.
        let cert = engine_grad(MarginLoss::hinge(), &x, d, &y, &w, Some(seed));
        let vertex = (0u32..(1 << tied.len())).any(|mask| {
            (0..d).all(|j| {
                let v = closed.w[j] - tied.iter().enumerate()
                    .filter(|(b, _)| mask & (1 << b) != 0)
                    .map(|(_, &i)| y[i] * x[i * d + j])
                    .sum::<f64>();
                (v - cert[j]).abs() < 1e-9
            })
        });
        prop_assert!(vertex, "certified {:?} is not a vertex of the subdifferential (closed {:?}, tied {:?})", cert, closed.w, tied);
    }

    #[test]
    fn smooth_losses_at_primitive_kinks_have_one_gradient_under_every_mode(
        (_n, d, x, y, w) in integer_problem(),
        seed in 0u64..1000,
        which in 0usize..3,
    ) {
        // Their primitive forms hit relu kinks at integer margins (1 for all, 0 = 1 − γ with
        // γ = 1, −1 for modified Huber), but the losses are C¹: the gradient is unique.
        let loss = [MarginLoss::squared_hinge(), MarginLoss::Huberized { gamma: 1.0 }, MarginLoss::ModifiedHuber][which];
        let closed = linear_value_grad(loss, &x, d, &y, &w, None).unwrap();
        let plain = engine_grad(loss, &x, d, &y, &w, None);
        let cert = engine_grad(loss, &x, d, &y, &w, Some(seed));
        for j in 0..d {
            prop_assert!((plain[j] - closed.w[j]).abs() < 1e-12 && (cert[j] - closed.w[j]).abs() < 1e-12,
                "{}: closed {:?}, plain {:?}, certified {:?}", loss.name(), closed.w, plain, cert);
        }
    }

    #[test]
    fn weston_watkins_ties_default_equals_closed_form_and_certified_is_a_vertex(
        (n, k) in (1usize..4, 2usize..4),
        s in ints(12, -1, 1),
        labels in prop::collection::vec(0usize..4, 4),
        seed in 0u64..1000,
    ) {
        let s = &s[..n * k];
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let loss = MulticlassLoss::weston_watkins();
        let (_, closed) = loss.value_grad(s, k, &labels).unwrap();
        let tape = Tape::<f64>::new();
        let sv = tape.param(s, Shape::matrix(n, k)).unwrap();
        let l = loss.on_tape(sv, &labels).unwrap();
        prop_assert_eq!(l.backward().unwrap().wrt(sv).to_vec(), closed.clone());
        // Tied pairs (i, j ≠ yᵢ) with s_ij − s_iy + 1 = 0 may carry t ∈ [0, 1]: +t at j, −t at yᵢ.
        let tied: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (0..k).map(move |j| (i, j)))
            .filter(|&(i, j)| j != labels[i] && s[i * k + j] - s[i * k + labels[i]] + 1.0 == 0.0)
            .collect();
        let cert = tape.backward_certified(l, Certify::Random { seed }).unwrap().wrt(sv).to_vec();
        let vertex = (0u32..(1 << tied.len())).any(|mask| {
            let mut g = closed.clone();
            for (b, &(i, j)) in tied.iter().enumerate() {
                if mask & (1 << b) != 0 {
                    g[i * k + j] += 1.0;
                    g[i * k + labels[i]] -= 1.0;
                }
            }
            g.iter().zip(&cert).all(|(a, c)| (a - c).abs() < 1e-12)
        });
        prop_assert!(vertex, "certified {:?}, closed {:?}, tied {:?}", cert, closed, tied);
    }

    #[test]
    fn crammer_singer_ties_split_evenly_and_certified_picks_one_tied_class(
        (n, k) in (1usize..4, 2usize..5),
        s in ints(16, -1, 1),
        labels in prop::collection::vec(0usize..5, 4),
        seed in 0u64..1000,
    ) {
        let s = &s[..n * k];
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let loss = MulticlassLoss::crammer_singer();
        let (_, closed) = loss.value_grad(s, k, &labels).unwrap();
        let tape = Tape::<f64>::new();
        let sv = tape.param(s, Shape::matrix(n, k)).unwrap();
        let l = loss.on_tape(sv, &labels).unwrap();
        prop_assert_eq!(l.backward().unwrap().wrt(sv).to_vec(), closed.clone());
        let cert = tape.backward_certified(l, Certify::Random { seed }).unwrap().wrt(sv).to_vec();
        for i in 0..n {
            let y = labels[i];
            let shifted = |r: usize| s[i * k + r] + if r == y { 0.0 } else { 1.0 };
            let best = (0..k).map(shifted).fold(f64::NEG_INFINITY, f64::max);
            // One tied class r gets the whole weight: row = e_r − e_y (0 when r = y).
            let ok = (0..k).filter(|&r| shifted(r) == best).any(|r| {
                (0..k).all(|c| {
                    let want = f64::from(u8::from(c == r)) - f64::from(u8::from(c == y));
                    (cert[i * k + c] - want).abs() < 1e-12
                })
            });
            prop_assert!(ok, "row {i}: certified {:?}", &cert[i * k..(i + 1) * k]);
        }
    }
}

#[test]
fn crammer_singer_at_a_three_way_tie_splits_in_thirds() {
    // Scores (1, 0, 0), label 0: s + Δ = (1, 1, 1), a three-way tie at the kink.
    // G = (1/3)(e₀ + e₁ + e₂) − e₀ = (−2/3, 1/3, 1/3).
    let (l, g) = MulticlassLoss::crammer_singer()
        .value_grad(&[1.0, 0.0, 0.0], 3, &[0])
        .unwrap();
    assert_eq!(l, 0.0);
    let third = 1.0 / 3.0;
    assert_eq!(g, vec![third - 1.0, third, third]);
}

#[test]
fn l1_at_zero_is_zero_by_default_and_a_sign_when_certified() {
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&[0.0, 2.0, 0.0]).unwrap();
    let r = l1_on_tape(w);
    assert_eq!(r.backward().unwrap().wrt(w), &[0.0, 1.0, 0.0]);
    let c = tape
        .backward_certified(r, Certify::Random { seed: 5 })
        .unwrap();
    let g = c.wrt(w);
    assert!(
        g[0].abs() == 1.0 && g[2].abs() == 1.0 && g[1] == 1.0,
        "{g:?}"
    );
}
