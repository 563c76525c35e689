//! The engine's whole subdifferential (`Tape::subdifferential`, built from the tape) against
//! the closed forms' zonotopes (an independent derivation): the hinge's from
//! `linear_subdifferential`, L1's, Weston–Watkins' and Crammer–Singer's written out next to
//! the tests, on integer data whose margins and scores tie exactly.

use autodiff::{Error, Shape, Tape};
use losses::{l1_on_tape, linear_on_tape, linear_subdifferential, MarginLoss, MulticlassLoss};
use proptest::prelude::*;

fn ints(n: usize, lo: i32, hi: i32) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((lo..=hi).prop_map(f64::from), n)
}

/// The generators in a canonical order (the set does not depend on their order).
fn sorted(mut g: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    g.sort_by(|a, b| a.partial_cmp(b).expect("finite generators"));
    g
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn hinge_plus_l1_tape_set_equals_the_closed_form_zonotope(
        (n, d) in (1usize..8, 1usize..4),
        x in ints(32, -2, 2),
        y in prop::collection::vec(prop::bool::ANY.prop_map(|b| if b { 1.0 } else { -1.0 }), 8),
        w in ints(4, -1, 1),
        b in prop::option::of((-1i32..=1).prop_map(f64::from)),
        lambda in prop::sample::select(vec![0.0, 0.5, 2.0]),
    ) {
        let (x, y, w) = (&x[..n * d], &y[..n], &w[..d]);
        let tape = Tape::<f64>::new();
        let xv = tape.constant(x, Shape::matrix(n, d)).unwrap();
        let yv = tape.constant_vec(y).unwrap();
        let wv = tape.param_vec(w).unwrap();
        let bv = b.map(|b| tape.param_scalar(b).unwrap());
        let hinge = linear_on_tape(MarginLoss::hinge(), xv, yv, wv, bv).unwrap();
        let f = hinge + l1_on_tape(wv) * lambda;
        let mut wrt = vec![wv];
        wrt.extend(bv);
        let sub = tape.subdifferential(f, &wrt).unwrap();
        // The hinge's closed form: centre = its gradient with 0 at each margin, one generator
        // −yᵢ·(xᵢ, 1) per example on the margin.
        let closed = linear_subdifferential(MarginLoss::hinge(), x, d, y, w, b).unwrap();
        // L1 by hand: ∂λ‖w‖₁ = λ·sign(wⱼ) off zero, λ·[−1, 1] at zero; with branch 0 = −w at
        // a zero the centre takes −λ there and the generator is 2λ·eⱼ.
        let mut center = closed.center.clone();
        // An example with xᵢ = 0 (and no bias) has the zero generator, which adds nothing;
        // the engine leaves it out.
        let mut generators: Vec<Vec<f64>> = closed
            .generators
            .iter()
            .filter(|g| g.iter().any(|&v| v != 0.0))
            .cloned()
            .collect();
        if lambda != 0.0 {
            for (j, &wj) in w.iter().enumerate() {
                center[j] += lambda * if wj == 0.0 { -1.0 } else { wj.signum() };
                if wj == 0.0 {
                    let mut g = vec![0.0; center.len()];
                    g[j] = 2.0 * lambda;
                    generators.push(g);
                }
            }
        }
        // Integer data: every number is computed exactly, so the sets agree bit for bit.
        prop_assert_eq!(&sub.center, &center);
        prop_assert_eq!(sorted(sub.generators.clone()), sorted(generators));
    }

    #[test]
    fn weston_watkins_tape_set_equals_the_closed_form_zonotope(
        (n, d, k) in (1usize..5, 1usize..3, 2usize..4),
        x in ints(8, -1, 1),
        w in ints(6, -1, 1),
        labels in prop::collection::vec(0usize..3, 4),
        (squared, scale_by_classes) in (any::<bool>(), any::<bool>()),
    ) {
        let (x, w) = (&x[..n * d], &w[..d * k]);
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let loss = MulticlassLoss::WestonWatkins { delta: 1.0, squared, scale_by_classes };
        let tape = Tape::<f64>::new();
        let xv = tape.constant(x, Shape::matrix(n, d)).unwrap();
        let wv = tape.param(w, Shape::matrix(d, k)).unwrap();
        let l = loss.on_tape(xv.matmul(wv), &labels).unwrap();
        let sub = tape.subdifferential(l, &[wv]).unwrap();
        // By hand, S = X·W and tᵢⱼ = sᵢⱼ − sᵢ,yᵢ + 1 (j ≠ yᵢ), with c = 1/K or 1: the centre is
        // ∂W = Xᵀ·G with Gᵢⱼ = c·[tᵢⱼ > 0] (or 2c·tᵢⱼ₊ squared), Gᵢ,yᵢ = −Σⱼ Gᵢⱼ; each tie
        // tᵢⱼ = 0 of the unsquared loss adds the generator c·xᵢ ⊗ (eⱼ − e_yᵢ); the squared loss
        // is C¹ (no generator).
        let c = if scale_by_classes { 1.0 / k as f64 } else { 1.0 };
        let s: Vec<f64> = (0..n * k)
            .map(|q| (0..d).map(|a| x[(q / k) * d + a] * w[a * k + q % k]).sum())
            .collect();
        let mut g = vec![0.0; n * k];
        let mut generators = Vec::new();
        for i in 0..n {
            let yi = labels[i];
            for j in (0..k).filter(|&j| j != yi) {
                let t = s[i * k + j] - s[i * k + yi] + 1.0;
                let gij = if squared { 2.0 * c * t.max(0.0) } else if t > 0.0 { c } else { 0.0 };
                g[i * k + j] += gij;
                g[i * k + yi] -= gij;
                if t == 0.0 && !squared {
                    let mut gen = vec![0.0; d * k];
                    for a in 0..d {
                        gen[a * k + j] += c * x[i * d + a];
                        gen[a * k + yi] -= c * x[i * d + a];
                    }
                    if gen.iter().any(|&v| v != 0.0) {
                        generators.push(gen);
                    }
                }
            }
        }
        let center: Vec<f64> = (0..d * k)
            .map(|q| (0..n).map(|i| x[i * d + q / k] * g[i * k + q % k]).sum())
            .collect();
        for (a, b) in sub.center.iter().zip(&center) {
            prop_assert!((a - b).abs() <= 1e-12, "centre {:?} vs {center:?}", sub.center);
        }
        let (ours, theirs) = (sorted(sub.generators.clone()), sorted(generators));
        prop_assert_eq!(ours.len(), theirs.len());
        for (p, q) in ours.iter().zip(&theirs) {
            prop_assert!(p.iter().zip(q).all(|(a, b)| (a - b).abs() <= 1e-12), "{ours:?} vs {theirs:?}");
        }
    }

    #[test]
    fn crammer_singer_tape_set_equals_the_closed_form_zonotope(
        (n, d, k) in (1usize..5, 1usize..3, 2usize..5),
        x in ints(8, -1, 1),
        w in ints(8, -1, 1),
        labels in prop::collection::vec(0usize..4, 4),
    ) {
        let (x, w) = (&x[..n * d], &w[..d * k]);
        let labels: Vec<usize> = labels[..n].iter().map(|c| c % k).collect();
        let loss = MulticlassLoss::CrammerSinger { squared: false };
        let tape = Tape::<f64>::new();
        let xv = tape.constant(x, Shape::matrix(n, d)).unwrap();
        let wv = tape.param(w, Shape::matrix(d, k)).unwrap();
        let l = loss.on_tape(xv.matmul(wv), &labels).unwrap();
        // By hand: Lᵢ = max_r (sᵢᵣ + [r ≠ yᵢ]) − sᵢ,yᵢ. A row whose maximum is taken by one
        // entry r has Gᵢ = e_r − e_yᵢ; by two, r₁ < r₂, the segment between them: centre
        // e_r₂ − e_yᵢ (the later entry, branch 0), generator xᵢ ⊗ (e_r₁ − e_r₂); by three or
        // more, a simplex, which the engine refuses.
        let s: Vec<f64> = (0..n * k)
            .map(|q| (0..d).map(|a| x[(q / k) * d + a] * w[a * k + q % k]).sum())
            .collect();
        let mut g = vec![0.0; n * k];
        let mut generators = Vec::new();
        let mut many = false;
        for i in 0..n {
            let yi = labels[i];
            let shifted = |r: usize| s[i * k + r] + if r == yi { 0.0 } else { 1.0 };
            let best = (0..k).map(shifted).fold(f64::NEG_INFINITY, f64::max);
            let tied: Vec<usize> = (0..k).filter(|&r| shifted(r) == best).collect();
            many |= tied.len() > 2;
            let last = *tied.last().unwrap();
            g[i * k + last] += 1.0;
            g[i * k + yi] -= 1.0;
            if tied.len() == 2 {
                let mut gen = vec![0.0; d * k];
                for a in 0..d {
                    gen[a * k + tied[0]] += x[i * d + a];
                    gen[a * k + tied[1]] -= x[i * d + a];
                }
                if gen.iter().any(|&v| v != 0.0) {
                    generators.push(gen);
                }
            }
        }
        let result = tape.subdifferential(l, &[wv]);
        if many {
            prop_assert!(matches!(result, Err(Error::ManyPieces { op: "row_max", .. })), "{result:?}");
            return Ok(());
        }
        let sub = result.unwrap();
        let center: Vec<f64> = (0..d * k)
            .map(|q| (0..n).map(|i| x[i * d + q / k] * g[i * k + q % k]).sum())
            .collect();
        // Integer data: exact.
        prop_assert_eq!(&sub.center, &center);
        prop_assert_eq!(sorted(sub.generators.clone()), sorted(generators));
    }
}
