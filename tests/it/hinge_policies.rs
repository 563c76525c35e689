//! The mean hinge loss at a point where examples sit exactly on the margin: every policy's
//! answer must lie in the closed-form subdifferential, and the kink report must name exactly the
//! examples on the margin.

use autodiff::{CustomPolicy, Data, KinkPolicy, Shape, Tape, TieSplit};

const POINTS: [[f64; 2]; 5] = [[0.0, 1.0], [1.0, 2.0], [3.0, 0.0], [4.0, 1.0], [1.0, 1.0]];
const LABELS: [f64; 5] = [1.0, 1.0, -1.0, -1.0, -1.0];
const W: [f64; 2] = [-0.5, 1.0];

fn policies() -> Vec<KinkPolicy> {
    vec![
        KinkPolicy::MinNorm,
        KinkPolicy::Torch,
        KinkPolicy::Jax,
        KinkPolicy::Tf,
        KinkPolicy::Custom(CustomPolicy::new(1.0, 0.0, TieSplit::Even, 1.0).unwrap()),
    ]
}

/// Solves g = g₀ − (1/n)·(t₀·y₀·x₀ + t₃·y₃·x₃) for (t₀, t₃), the weights on the two examples
/// on the margin (x₀ = (0, 1), y₀ = +1; x₃ = (4, 1), y₃ = −1).
fn margin_weights(g: &[f64]) -> (f64, f64) {
    let n = 5.0;
    // g₀ = −(1/n)·y₄·x₄ = (1/5)·(1, 1) from the one violated example x₄ = (1, 1), y₄ = −1.
    let (r0, r1) = ((0.2 - g[0]) * n, (0.2 - g[1]) * n);
    // r = t₀·(0, 1) − t₃·(4, 1) → r0 = −4·t₃, r1 = t₀ − t₃
    let t3 = -r0 / 4.0;
    (r1 + t3, t3)
}

#[test]
fn every_policy_returns_a_hinge_subgradient_at_the_margin() {
    let x = Data::new(POINTS.concat(), Shape::matrix(5, 2)).unwrap();
    let y = Data::vector(LABELS.to_vec()).unwrap();
    for policy in policies() {
        let tape = Tape::<f64>::with_policy(policy);
        let w = tape.param_vec(&W).unwrap();
        let z = 1.0 - tape.data(&y) * tape.data(&x).matvec(w);
        for loss in [
            z.relu().mean(),
            z.max(0.0).mean(),
            tape.constant_scalar(0.0).unwrap().max(z).mean(),
        ] {
            let g = loss.backward().unwrap();
            let (t0, t3) = margin_weights(g.wrt(w));
            for t in [t0, t3] {
                assert!(
                    (-1e-12..=1.0 + 1e-12).contains(&t),
                    "{}: t = {t}",
                    policy.name()
                );
            }
            assert!((loss.item() - 0.3).abs() < 1e-15); // only x₄ contributes: (1 + 0.5)/5
        }
        let report = tape.kinks();
        assert!(report.sites().iter().all(|s| s.exact == vec![0, 3]));
        assert_eq!(report.sites().len(), 3);
    }
}
