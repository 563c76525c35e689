//! Gradients of random compositions against a hand-written chain rule: a forward-mode dual-number
//! evaluator written here, independent of the engine, and hand-derived loss gradients.

use approx::relative_eq;
use autodiff::{Shape, Tape, Var};
use proptest::prelude::*;

pub(crate) const VARS: usize = 3;

#[derive(Debug, Clone)]
pub(crate) enum E {
    X(usize),
    C(f64),
    Add(Box<E>, Box<E>),
    Sub(Box<E>, Box<E>),
    Mul(Box<E>, Box<E>),
    /// a / (1 + b²), always defined.
    Div(Box<E>, Box<E>),
    Neg(Box<E>),
    Square(Box<E>),
    Relu(Box<E>),
    Abs(Box<E>),
    Max(Box<E>, Box<E>),
    Min(Box<E>, Box<E>),
    Clamp(Box<E>),
}

pub(crate) fn expr() -> impl Strategy<Value = E> {
    let leaf = prop_oneof![(0..VARS).prop_map(E::X), (-2.0..2.0f64).prop_map(E::C)];
    leaf.prop_recursive(5, 40, 2, |inner| {
        let b = || inner.clone().prop_map(Box::new);
        prop_oneof![
            (b(), b()).prop_map(|(a, c)| E::Add(a, c)),
            (b(), b()).prop_map(|(a, c)| E::Sub(a, c)),
            (b(), b()).prop_map(|(a, c)| E::Mul(a, c)),
            (b(), b()).prop_map(|(a, c)| E::Div(a, c)),
            b().prop_map(E::Neg),
            b().prop_map(E::Square),
            b().prop_map(E::Relu),
            b().prop_map(E::Abs),
            (b(), b()).prop_map(|(a, c)| E::Max(a, c)),
            (b(), b()).prop_map(|(a, c)| E::Min(a, c)),
            b().prop_map(E::Clamp),
        ]
    })
}

/// A value with its derivative along each variable.
#[derive(Clone, Copy)]
pub(crate) struct Dual {
    pub(crate) v: f64,
    pub(crate) d: [f64; VARS],
}

impl Dual {
    fn map(self, v: f64, k: f64) -> Dual {
        Dual {
            v,
            d: self.d.map(|x| k * x),
        }
    }
    fn zip(a: Dual, b: Dual, v: f64, ka: f64, kb: f64) -> Dual {
        let mut d = [0.0; VARS];
        for i in 0..VARS {
            d[i] = ka * a.d[i] + kb * b.d[i];
        }
        Dual { v, d }
    }
}

/// The chain rule by hand; `kink` collects the distance to the nearest kink met.
pub(crate) fn dual(e: &E, x: &[f64; VARS], kink: &mut f64) -> Dual {
    match e {
        E::X(i) => {
            let mut d = [0.0; VARS];
            d[*i] = 1.0;
            Dual { v: x[*i], d }
        }
        E::C(c) => Dual {
            v: *c,
            d: [0.0; VARS],
        },
        E::Add(a, b) => {
            let (a, b) = (dual(a, x, kink), dual(b, x, kink));
            Dual::zip(a, b, a.v + b.v, 1.0, 1.0)
        }
        E::Sub(a, b) => {
            let (a, b) = (dual(a, x, kink), dual(b, x, kink));
            Dual::zip(a, b, a.v - b.v, 1.0, -1.0)
        }
        E::Mul(a, b) => {
            let (a, b) = (dual(a, x, kink), dual(b, x, kink));
            Dual::zip(a, b, a.v * b.v, b.v, a.v)
        }
        E::Div(a, b) => {
            let (a, b) = (dual(a, x, kink), dual(b, x, kink));
            let q = 1.0 + b.v * b.v;
            // d(a/q) = da/q − a·2b·db/q²
            Dual::zip(a, b, a.v / q, 1.0 / q, -a.v * 2.0 * b.v / (q * q))
        }
        E::Neg(a) => {
            let a = dual(a, x, kink);
            a.map(-a.v, -1.0)
        }
        E::Square(a) => {
            let a = dual(a, x, kink);
            a.map(a.v * a.v, 2.0 * a.v)
        }
        E::Relu(a) => {
            let a = dual(a, x, kink);
            *kink = kink.min(a.v.abs());
            if a.v > 0.0 {
                a
            } else {
                a.map(0.0, 0.0)
            }
        }
        E::Abs(a) => {
            let a = dual(a, x, kink);
            *kink = kink.min(a.v.abs());
            a.map(a.v.abs(), a.v.signum())
        }
        E::Max(a, b) | E::Min(a, b) => {
            let (a, b) = (dual(a, x, kink), dual(b, x, kink));
            *kink = kink.min((a.v - b.v).abs());
            let a_wins = if matches!(e, E::Max(..)) {
                a.v > b.v
            } else {
                a.v < b.v
            };
            if a_wins {
                a
            } else {
                b
            }
        }
        E::Clamp(a) => {
            let a = dual(a, x, kink);
            *kink = kink.min((a.v + 1.0).abs()).min((a.v - 1.0).abs());
            if a.v > 1.0 {
                a.map(1.0, 0.0)
            } else if a.v < -1.0 {
                a.map(-1.0, 0.0)
            } else {
                a
            }
        }
    }
}

pub(crate) fn build<'t>(e: &E, t: &'t Tape<f64>, xs: &[Var<'t, f64>]) -> Var<'t, f64> {
    match e {
        E::X(i) => xs[*i],
        E::C(c) => t.constant_scalar(*c).unwrap(),
        E::Add(a, b) => build(a, t, xs) + build(b, t, xs),
        E::Sub(a, b) => build(a, t, xs) - build(b, t, xs),
        E::Mul(a, b) => build(a, t, xs) * build(b, t, xs),
        E::Div(a, b) => build(a, t, xs) / (1.0 + build(b, t, xs).square()),
        E::Neg(a) => -build(a, t, xs),
        E::Square(a) => build(a, t, xs).square(),
        E::Relu(a) => build(a, t, xs).relu(),
        E::Abs(a) => build(a, t, xs).abs(),
        E::Max(a, b) => build(a, t, xs).max(build(b, t, xs)),
        E::Min(a, b) => build(a, t, xs).min(build(b, t, xs)),
        E::Clamp(a) => build(a, t, xs).clamp(-1.0, 1.0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_global_rejects: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn random_composition_gradient_matches_hand_chain_rule(e in expr(), x in prop::array::uniform3(-2.0..2.0f64)) {
        let mut kink = f64::INFINITY;
        let want = dual(&e, &x, &mut kink);
        prop_assume!(kink > 1e-9);
        let tape = Tape::<f64>::new();
        let xs: Vec<_> = x.iter().map(|&v| tape.param_scalar(v).unwrap()).collect();
        // `+ 0·x₀` makes the output depend on a parameter even when e is constant.
        let y = build(&e, &tape, &xs) + xs[0] * 0.0;
        prop_assert!(relative_eq!(y.item(), want.v, epsilon = 1e-12, max_relative = 1e-12));
        let g = y.backward().unwrap();
        for i in 0..VARS {
            prop_assert!(
                relative_eq!(g.wrt(xs[i])[0], want.d[i], epsilon = 1e-9, max_relative = 1e-9),
                "∂/∂x{i}: engine {} vs chain rule {}", g.wrt(xs[i])[0], want.d[i]
            );
        }
    }

    #[test]
    fn mean_hinge_gradient_matches_closed_form(
        (n, d) in (1usize..12, 1usize..6),
        seed in prop::collection::vec(-2.0..2.0f64, 12 * 6 + 12 + 6),
        lambda in 0.0..1.0f64,
    ) {
        let x: Vec<f64> = seed[..n * d].to_vec();
        let y: Vec<f64> = seed[72..72 + n].iter().map(|v| if *v >= 0.0 { 1.0 } else { -1.0 }).collect();
        let w: Vec<f64> = seed[84..84 + d].to_vec();
        // L(w) = (1/n)·Σᵢ max(0, 1 − yᵢ·w·xᵢ) + (λ/2)·‖w‖²
        // ∂L/∂w = −(1/n)·Σ_{i: yᵢ·w·xᵢ < 1} yᵢ·xᵢ + λ·w   (margin exactly 1: the relu'(0) = 0 branch)
        let mut want: Vec<f64> = w.iter().map(|wj| lambda * wj).collect();
        for i in 0..n {
            let m: f64 = y[i] * (0..d).map(|j| x[i * d + j] * w[j]).sum::<f64>();
            if m < 1.0 {
                for j in 0..d {
                    want[j] -= y[i] * x[i * d + j] / n as f64;
                }
            }
        }
        let tape = Tape::<f64>::new();
        let wv = tape.param_vec(&w).unwrap();
        let xm = tape.constant(&x, Shape::matrix(n, d)).unwrap();
        let yv = tape.constant_vec(&y).unwrap();
        let loss = (1.0 - yv * xm.matvec(wv)).relu().mean() + wv.square().sum() * (lambda / 2.0);
        let g = loss.backward().unwrap();
        for j in 0..d {
            prop_assert!(relative_eq!(g.wrt(wv)[j], want[j], epsilon = 1e-12, max_relative = 1e-10));
        }
    }

    #[test]
    fn multiclass_hinge_gradient_matches_closed_form(
        seed in prop::collection::vec(-2.0..2.0f64, 5 * 3 + 3 * 4),
        labels in prop::collection::vec(0usize..4, 5),
    ) {
        // Crammer–Singer-style: L(W) = Σᵢ max(0, 1 + max_{r} (sᵢᵣ − [r = yᵢ]) − s_{i,yᵢ}) with S = X·W.
        // Closed form away from ties: ∂L/∂W = Xᵀ·G, Gᵢ = (e_{r*} − e_{yᵢ}) when the hinge is active.
        let (n, d, k) = (5, 3, 4);
        let x = &seed[..n * d];
        let w = &seed[n * d..];
        let mut s = vec![0.0; n * k];
        for i in 0..n {
            for r in 0..k {
                s[i * k + r] = (0..d).map(|j| x[i * d + j] * w[j * k + r]).sum();
            }
        }
        let mut g_scores = vec![0.0; n * k];
        let mut tie = false;
        for i in 0..n {
            let shifted: Vec<f64> = (0..k).map(|r| s[i * k + r] + if r == labels[i] { 0.0 } else { 1.0 }).collect();
            let best = shifted.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            tie |= shifted.iter().filter(|&&v| (v - best).abs() < 1e-9).count() > 1;
            let r_star = shifted.iter().position(|&v| v == best).unwrap();
            let arg = best - s[i * k + labels[i]];
            tie |= arg.abs() < 1e-9;
            if arg > 0.0 {
                g_scores[i * k + r_star] += 1.0;
                g_scores[i * k + labels[i]] -= 1.0;
            }
        }
        prop_assume!(!tie);
        let mut want = vec![0.0; d * k];
        for i in 0..n {
            for j in 0..d {
                for r in 0..k {
                    want[j * k + r] += x[i * d + j] * g_scores[i * k + r];
                }
            }
        }
        let tape = Tape::<f64>::new();
        let xm = tape.constant(x, Shape::matrix(n, d)).unwrap();
        let wm = tape.param(w, Shape::matrix(d, k)).unwrap();
        let delta: Vec<f64> = (0..n * k).map(|q| if q % k == labels[q / k] { 0.0 } else { 1.0 }).collect();
        let scores = xm.matmul(wm);
        let shifted = scores + tape.constant(&delta, Shape::matrix(n, k)).unwrap();
        let loss = (shifted.row_max() - scores.gather(&labels)).relu().sum();
        let g = loss.backward().unwrap();
        for q in 0..d * k {
            prop_assert!(relative_eq!(g.wrt(wm)[q], want[q], epsilon = 1e-12, max_relative = 1e-10));
        }
    }
}
