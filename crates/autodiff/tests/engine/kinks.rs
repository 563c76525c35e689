//! Pinned, exact tests of every kink rule under every policy.
//!
//! Expected values are the conventions stated in `autodiff::policy` (and, for the presets, in the
//! frameworks' own backward rules), not outputs copied from the engine.

use autodiff::certify::random_direction;
use autodiff::{Certify, CustomPolicy, KinkPolicy, Shape, Tape, TieSplit, Var};

/// The value of one form of `relu` applied to `z`.
type ValueOf = fn(&Tape<f64>, Var<'_, f64>) -> Vec<f64>;

const PRESETS: [KinkPolicy; 4] = [
    KinkPolicy::MinNorm,
    KinkPolicy::Torch,
    KinkPolicy::Jax,
    KinkPolicy::Tf,
];

/// Builds `f` on scalar parameters `at` under `policy`; returns the gradient per parameter.
fn grad(
    policy: KinkPolicy,
    at: &[f64],
    f: impl for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
) -> Vec<f64> {
    let tape = Tape::with_policy(policy);
    let xs: Vec<_> = at.iter().map(|&v| tape.param_scalar(v).unwrap()).collect();
    let y = f(&tape, &xs);
    let g = y.backward().unwrap();
    xs.iter().map(|&x| g.wrt(x)[0]).collect()
}

/// One expected gradient per preset, in the order MinNorm, Torch, Jax, Tf.
fn check(
    at: &[f64],
    expected: [&[f64]; 4],
    f: impl for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
) {
    for (policy, want) in PRESETS.into_iter().zip(expected) {
        assert_eq!(grad(policy, at, &f), want, "policy {}", policy.name());
    }
}

#[test]
fn relu_derivative_at_zero_is_zero_under_every_preset() {
    check(&[0.0], [&[0.0], &[0.0], &[0.0], &[0.0]], |_, x| x[0].relu());
    check(&[-0.0], [&[0.0], &[0.0], &[0.0], &[0.0]], |_, x| {
        x[0].relu()
    });
}

#[test]
fn relu_derivative_off_the_kink_is_the_indicator() {
    check(&[2.0], [&[1.0], &[1.0], &[1.0], &[1.0]], |_, x| x[0].relu());
    check(&[-2.0], [&[0.0], &[0.0], &[0.0], &[0.0]], |_, x| {
        x[0].relu()
    });
}

#[test]
fn abs_derivative_at_zero_is_zero_except_jax_which_gives_one() {
    check(&[0.0], [&[0.0], &[0.0], &[1.0], &[0.0]], |_, x| x[0].abs());
    // −0.0 compares equal to 0: the same rule (JAX selects on x >= 0, true for −0.0).
    check(&[-0.0], [&[0.0], &[0.0], &[1.0], &[0.0]], |_, x| x[0].abs());
    check(&[-3.0], [&[-1.0], &[-1.0], &[-1.0], &[-1.0]], |_, x| {
        x[0].abs()
    });
}

#[test]
fn binary_max_tie_between_two_variables_splits_half_half_except_tf_first() {
    check(
        &[1.0, 1.0],
        [&[0.5, 0.5], &[0.5, 0.5], &[0.5, 0.5], &[1.0, 0.0]],
        |_, x| x[0].max(x[1]),
    );
    check(
        &[1.0, 1.0],
        [&[0.5, 0.5], &[0.5, 0.5], &[0.5, 0.5], &[1.0, 0.0]],
        |_, x| x[0].min(x[1]),
    );
}

#[test]
fn binary_max_off_the_tie_goes_to_the_winner() {
    check(&[2.0, 1.0], [&[1.0, 0.0]; 4], |_, x| x[0].max(x[1]));
    check(&[2.0, 1.0], [&[0.0, 1.0]; 4], |_, x| x[0].min(x[1]));
}

#[test]
fn max_tie_between_variable_and_constant_gives_the_variable_zero_under_min_norm() {
    // max(z, 0): MinNorm 0; PyTorch/JAX halve the tie (the constant's half is dropped); TF gives
    // everything to the first argument, here z.
    check(&[0.0], [&[0.0], &[0.5], &[0.5], &[1.0]], |_, x| {
        x[0].max(0.0)
    });
    // max(0, z): TF's first argument is now the constant, so z gets 0.
    check(&[0.0], [&[0.0], &[0.5], &[0.5], &[0.0]], |t, x| {
        t.constant_scalar(0.0).unwrap().max(x[0])
    });
    check(&[0.0], [&[0.0], &[0.5], &[0.5], &[1.0]], |_, x| {
        x[0].min(0.0)
    });
}

#[test]
fn clamp_at_a_bound_is_zero_for_min_norm_torch_and_jax_one_for_tf() {
    check(&[0.0], [&[0.0], &[0.0], &[0.0], &[1.0]], |_, x| {
        x[0].clamp(0.0, f64::INFINITY)
    });
    check(&[1.0], [&[0.0], &[0.0], &[0.0], &[1.0]], |_, x| {
        x[0].clamp(-1.0, 1.0)
    });
    check(&[0.5], [&[1.0]; 4], |_, x| x[0].clamp(-1.0, 1.0));
    check(&[3.0], [&[0.0]; 4], |_, x| x[0].clamp(-1.0, 1.0));
}

#[test]
fn reduce_max_with_k_tied_entries_gives_one_over_k_each_under_every_preset() {
    for policy in PRESETS {
        let tape = Tape::<f64>::with_policy(policy);
        let x = tape.param_vec(&[3.0, 1.0, 3.0, 3.0]).unwrap();
        let g = x.reduce_max().backward().unwrap();
        let third = 1.0 / 3.0;
        assert_eq!(g.wrt(x), &[third, 0.0, third, third], "{}", policy.name());
        let g = x.reduce_min().backward().unwrap();
        assert_eq!(g.wrt(x), &[0.0, 1.0, 0.0, 0.0]);
    }
}

#[test]
fn row_max_ties_split_within_their_row_and_weights_sum_to_one() {
    for policy in PRESETS {
        let tape = Tape::<f64>::with_policy(policy);
        let s = tape
            .param(&[1.0, 5.0, 5.0, 2.0, 0.0, 1.0], Shape::matrix(2, 3))
            .unwrap();
        let g = s.row_max().sum().backward().unwrap();
        assert_eq!(g.wrt(s), &[0.0, 0.5, 0.5, 1.0, 0.0, 0.0]);
        let g = s.row_min().sum().backward().unwrap();
        assert_eq!(g.wrt(s), &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    }
}

#[test]
fn nary_max_tie_among_variables_is_even() {
    let third = 1.0 / 3.0;
    check(&[2.0, 2.0, 2.0], [&[third; 3]; 4], |t, x| t.max_n(x));
    check(&[2.0, 2.0, 1.0], [&[0.5, 0.5, 0.0]; 4], |t, x| t.max_n(x));
    check(&[2.0, 0.0, 0.0], [&[0.0, 0.5, 0.5]; 4], |t, x| t.min_n(x));
}

#[test]
fn nary_max_tie_with_a_constant_gives_variables_zero_under_min_norm() {
    // max(a, b, 2) at a = b = 2: the local subdifferential contains 0 (all weight on the constant).
    let third = 1.0 / 3.0;
    check(
        &[2.0, 2.0],
        [
            &[0.0, 0.0],
            &[third, third],
            &[third, third],
            &[third, third],
        ],
        |t, x| t.max_n(&[x[0], x[1], t.constant_scalar(2.0).unwrap()]),
    );
}

#[test]
fn relu_max_and_clamp_forms_agree_at_zero_under_min_norm() {
    let forms: [ValueOf; 4] = [
        |_, z| z.relu().value(),
        |_, z| z.max(0.0).value(),
        |t, z| t.constant_scalar(0.0).unwrap().max(z).value(),
        |_, z| z.clamp(0.0, f64::INFINITY).value(),
    ];
    let grads: Vec<f64> = (0..4)
        .map(|k| {
            grad(KinkPolicy::MinNorm, &[0.0], |t, x| match k {
                0 => x[0].relu(),
                1 => x[0].max(0.0),
                2 => t.constant_scalar(0.0).unwrap().max(x[0]),
                _ => x[0].clamp(0.0, f64::INFINITY),
            })[0]
        })
        .collect();
    assert_eq!(grads, vec![0.0; 4]);
    // Same on a vector with elements on both sides of the kink.
    let tape = Tape::<f64>::new();
    let z = tape.param_vec(&[-1.0, 0.0, 2.0]).unwrap();
    let values: Vec<Vec<f64>> = forms.iter().map(|f| f(&tape, z)).collect();
    assert!(values.iter().all(|v| v == &[0.0, 0.0, 2.0]));
    for k in 0..4 {
        let tape = Tape::<f64>::new();
        let z = tape.param_vec(&[-1.0, 0.0, 2.0]).unwrap();
        let y = match k {
            0 => z.relu(),
            1 => z.max(0.0),
            2 => tape.constant_scalar(0.0).unwrap().max(z),
            _ => z.clamp(0.0, f64::INFINITY),
        };
        assert_eq!(
            y.sum().backward().unwrap().wrt(z),
            &[0.0, 0.0, 1.0],
            "form {k}"
        );
    }
}

#[test]
fn custom_policy_sets_each_rule() {
    let p = KinkPolicy::Custom(CustomPolicy::new(1.0, -1.0, TieSplit::First, 0.5).unwrap());
    assert_eq!(grad(p, &[0.0], |_, x| x[0].relu()), [1.0]); // candle's relu'(0) = 1
    assert_eq!(grad(p, &[0.0], |_, x| x[0].abs()), [-1.0]);
    assert_eq!(grad(p, &[1.0, 1.0], |_, x| x[0].max(x[1])), [1.0, 0.0]);
    assert_eq!(grad(p, &[1.0, 1.0], |_, x| x[1].max(x[0])), [0.0, 1.0]);
    assert_eq!(grad(p, &[0.0], |_, x| x[0].clamp(0.0, 1.0)), [0.5]);
    assert_eq!(
        grad(p, &[2.0, 2.0, 2.0], |t, x| t.max_n(x)),
        [1.0, 0.0, 0.0]
    );
    let tape = Tape::<f64>::with_policy(p);
    let x = tape.param_vec(&[3.0, 1.0, 3.0]).unwrap();
    assert_eq!(x.reduce_max().backward().unwrap().wrt(x), &[1.0, 0.0, 0.0]);

    let even = KinkPolicy::Custom(CustomPolicy::new(0.25, 0.0, TieSplit::Even, 0.0).unwrap());
    assert_eq!(grad(even, &[0.0], |_, x| x[0].relu()), [0.25]);
    assert_eq!(grad(even, &[0.0], |_, x| x[0].max(0.0)), [0.5]);
}

#[test]
fn custom_policy_rejects_values_outside_the_local_subdifferential() {
    assert!(CustomPolicy::new(1.5, 0.0, TieSplit::Even, 0.0).is_err());
    assert!(CustomPolicy::new(0.0, -2.0, TieSplit::Even, 0.0).is_err());
    assert!(CustomPolicy::new(0.0, 0.0, TieSplit::Even, f64::NAN).is_err());
}

#[test]
fn hinge_at_the_margin_follows_the_policy() {
    // ℓ(w) = max(0, 1 − y·w·x) with y·w·x = 1 exactly: ∂ℓ/∂w ∈ {−t·y·x : t ∈ [0, 1]}.
    // relu form: every preset picks t = 0; max(0, ·) form: TF picks the constant, the others ½.
    let at = [0.5, 0.25];
    let x = [1.0, 2.0];
    for (policy, t_relu, t_max) in [
        (KinkPolicy::MinNorm, 0.0, 0.0),
        (KinkPolicy::Torch, 0.0, 0.5),
        (KinkPolicy::Jax, 0.0, 0.5),
        (KinkPolicy::Tf, 0.0, 0.0),
    ] {
        let tape = Tape::<f64>::with_policy(policy);
        let w = tape.param_vec(&at).unwrap();
        let xv = tape.constant_vec(&x).unwrap();
        let margin = w.dot(xv); // y = +1
        let relu_form = (1.0 - margin).relu();
        let max_form = tape.constant_scalar(0.0).unwrap().max(1.0 - margin);
        let g_relu = relu_form.backward().unwrap();
        let g_max = max_form.backward().unwrap();
        assert_eq!(
            g_relu.wrt(w),
            &[-t_relu * x[0], -t_relu * x[1]],
            "{}",
            policy.name()
        );
        assert_eq!(
            g_max.wrt(w),
            &[-t_max * x[0], -t_max * x[1]],
            "{}",
            policy.name()
        );
    }
}

#[test]
fn kink_report_names_the_nodes_and_elements_on_the_kink() {
    let tape = Tape::<f64>::new();
    let z = tape.param_vec(&[-1.0, 0.0, 2.0, 0.0]).unwrap();
    let r = z.relu();
    let a = z.abs();
    let m = z.max(2.0);
    let loss = r.sum() + a.sum() + m.sum();
    loss.backward().unwrap();
    let report = tape.kinks();
    assert_eq!(report.sites().len(), 3);
    assert_eq!(report.site(r.id()).unwrap().exact, vec![1, 3]);
    assert_eq!(report.site(a.id()).unwrap().exact, vec![1, 3]);
    assert_eq!(report.site(m.id()).unwrap().exact, vec![2]);
    assert_eq!(report.exact_count(), 5);
    assert!(report.to_string().contains("relu: exact at [1, 3]"));
}

#[test]
fn kink_report_near_ties_use_the_tolerance() {
    let tape = Tape::<f64>::new();
    let a = tape.param_vec(&[1.0, 1.0 + 1e-10, 1.5]).unwrap();
    let b = tape.param_vec(&[1.0, 1.0, 1.0]).unwrap();
    let m = a.max(b);
    let report = tape.kinks_near(1e-8);
    let site = report.site(m.id()).unwrap();
    assert_eq!(site.exact, vec![0]);
    assert_eq!(site.near, vec![1]);
    assert!(tape.kinks().site(m.id()).unwrap().near.is_empty());
    let s = tape
        .param(&[2.0, 2.0 - 1e-12, 0.0, 7.0], Shape::matrix(2, 2))
        .unwrap();
    let rm = s.row_max();
    let report = tape.kinks_near(1e-9);
    assert_eq!(report.site(rm.id()).unwrap().near, vec![0]);
    assert!(report.site(rm.id()).unwrap().exact.is_empty());
}

#[test]
fn a_smooth_computation_reports_no_kink() {
    let tape = Tape::<f64>::new();
    let z = tape.param_vec(&[-1.0, 0.5, 2.0]).unwrap();
    let y = (z.relu() + z.abs().square()).sum();
    y.backward().unwrap();
    assert!(tape.kinks().is_empty());
    assert!(tape.kinks_near(0.1).is_empty());
    assert_eq!(tape.kinks_near(0.6).near_count(), 2); // |0.5| within 0.6, in relu and abs
}

/// PyTorch before its 2026 clamp fix: the `Torch` rules with bounds inside (`c = 1`), as the
/// policy docs state. At each kink below, the custom policy matches `Torch` except at a clamp
/// bound, where it gives 1.
#[test]
fn custom_policy_reproduces_pytorch_before_the_clamp_fix() {
    let old_torch = KinkPolicy::Custom(CustomPolicy::new(0.0, 0.0, TieSplit::Even, 1.0).unwrap());
    type F = for<'t> fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>;
    let same: [(&[f64], F); 5] = [
        (&[0.0], |_, x| x[0].relu()),
        (&[0.0], |_, x| x[0].abs()),
        (&[1.0, 1.0], |_, x| x[0].max(x[1])),
        (&[0.0], |_, x| x[0].max(0.0)),
        (&[2.0, 2.0], |_, x| x[0].min(x[1])),
    ];
    for (at, f) in same {
        assert_eq!(grad(old_torch, at, f), grad(KinkPolicy::Torch, at, f));
    }
    assert_eq!(grad(old_torch, &[0.0], |_, x| x[0].clamp(0.0, 6.0)), [1.0]);
    assert_eq!(grad(old_torch, &[6.0], |_, x| x[0].clamp(0.0, 6.0)), [1.0]);
    assert_eq!(
        grad(KinkPolicy::Torch, &[6.0], |_, x| x[0].clamp(0.0, 6.0)),
        [0.0]
    );
}

#[test]
fn leaky_relu_at_zero_is_the_min_norm_element_or_the_framework_side() {
    // The subdifferential at 0 is the interval between α and 1. MinNorm: its smallest-norm
    // element (α for 0 ≤ α ≤ 1, 0 for α < 0, 1 for α > 1); Torch and Tf select x > 0 (α);
    // Jax selects x >= 0 (1).
    check(&[0.0], [&[0.1], &[0.1], &[1.0], &[0.1]], |_, x| {
        x[0].leaky_relu(0.1)
    });
    check(&[-0.0], [&[0.1], &[0.1], &[1.0], &[0.1]], |_, x| {
        x[0].leaky_relu(0.1)
    });
    check(&[0.0], [&[0.0], &[-0.5], &[1.0], &[-0.5]], |_, x| {
        x[0].leaky_relu(-0.5)
    });
    check(&[0.0], [&[1.0], &[2.0], &[1.0], &[2.0]], |_, x| {
        x[0].leaky_relu(2.0)
    });
    // α = 0 is relu: 0 under every preset but Jax, whose leaky_relu (unlike its relu) gives 1.
    check(&[0.0], [&[0.0], &[0.0], &[1.0], &[0.0]], |_, x| {
        x[0].leaky_relu(0.0)
    });
}

#[test]
fn leaky_relu_off_the_kink_is_one_or_the_slope() {
    check(&[2.0], [&[1.0]; 4], |_, x| x[0].leaky_relu(0.1));
    check(&[-2.0], [&[0.1]; 4], |_, x| x[0].leaky_relu(0.1));
    check(&[-2.0], [&[-0.5]; 4], |_, x| x[0].leaky_relu(-0.5));
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[-2.0, 0.0, 3.0]).unwrap();
    // y = αx below 0: −2·0.25.
    assert_eq!(x.leaky_relu(0.25).value(), vec![-0.5, 0.0, 3.0]);
}

#[test]
fn leaky_relu_custom_weight_from_the_builder_is_alpha_plus_theta_times_one_minus_alpha() {
    let policy = |theta| {
        let p = CustomPolicy::builder().leaky_relu_at_zero(theta).build();
        KinkPolicy::Custom(p.unwrap())
    };
    // α + θ(1 − α): 0.5 + 0.25·0.5, −1 + 0.5·2, 3 + 0.5·(−2); θ = 0 and 1 are the endpoints.
    assert_eq!(
        grad(policy(0.25), &[0.0], |_, x| x[0].leaky_relu(0.5)),
        [0.625]
    );
    assert_eq!(
        grad(policy(0.5), &[0.0], |_, x| x[0].leaky_relu(-1.0)),
        [0.0]
    );
    assert_eq!(
        grad(policy(0.5), &[0.0], |_, x| x[0].leaky_relu(3.0)),
        [2.0]
    );
    assert_eq!(
        grad(policy(0.0), &[0.0], |_, x| x[0].leaky_relu(3.0)),
        [3.0]
    );
    assert_eq!(
        grad(policy(1.0), &[0.0], |_, x| x[0].leaky_relu(-7.0)),
        [1.0]
    );
    // Off the kink the weight plays no part.
    assert_eq!(
        grad(policy(0.5), &[-1.0], |_, x| x[0].leaky_relu(3.0)),
        [3.0]
    );
    // Not set: the MinNorm choice, which depends on α; `CustomPolicy::new` keeps it too.
    let unset = KinkPolicy::Custom(CustomPolicy::builder().build().unwrap());
    assert_eq!(grad(unset, &[0.0], |_, x| x[0].leaky_relu(0.5)), [0.5]);
    assert_eq!(grad(unset, &[0.0], |_, x| x[0].leaky_relu(-1.0)), [0.0]);
    let old = KinkPolicy::Custom(CustomPolicy::new(1.0, 0.0, TieSplit::Even, 0.0).unwrap());
    assert_eq!(grad(old, &[0.0], |_, x| x[0].leaky_relu(3.0)), [1.0]);
    // θ is a weight in [0, 1], checked by `build`.
    for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let err = CustomPolicy::builder().leaky_relu_at_zero(bad).build();
        assert!(
            matches!(
                err,
                Err(autodiff::Error::InvalidArgument {
                    what: "leaky_relu_at_zero",
                    ..
                })
            ),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn leaky_relu_records_ties_like_relu() {
    let tape = Tape::<f64>::new();
    let z = tape.param_vec(&[-1.0, 0.0, 2.0, -0.0]).unwrap();
    let y = z.leaky_relu(0.1);
    let site = tape.kinks().site(y.id()).cloned().unwrap();
    assert_eq!((site.op, site.exact), ("leaky_relu", vec![1, 3]));
    let near = tape.param_vec(&[1e-10, -1e-10, 1.0]).unwrap();
    let y = near.leaky_relu(0.1);
    assert_eq!(tape.kinks_near(1e-9).site(y.id()).unwrap().near, vec![0, 1]);
}

#[test]
fn leaky_relu_certified_takes_the_side_the_direction_enters() {
    // f(x) = leaky_relu(x) − 0.5·leaky_relu(−x) has slope 1 + 0.5α on the right and α + 0.5 on
    // the left; with α = 0.2: 1.1 for the direction +1, 0.7 for −1 (lexicographic uses +1).
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.0).unwrap();
    let f = x.leaky_relu(0.2) - 0.5 * (-x).leaky_relu(0.2);
    let certified = tape.backward_certified(f, Certify::Lexicographic).unwrap();
    assert_eq!(certified.wrt(x), &[1.1]);
    assert_eq!(certified.stats.resolved, 2);
}

#[test]
fn norm_at_the_zero_vector_is_zero_with_one_exact_tie_under_every_preset() {
    for policy in PRESETS {
        let tape = Tape::<f64>::with_policy(policy);
        let x = tape.param_vec(&[0.0, -0.0, 0.0]).unwrap();
        let n = x.norm();
        assert_eq!(n.item(), 0.0);
        assert_eq!(n.backward().unwrap().wrt(x), &[0.0; 3], "{}", policy.name());
        let report = tape.kinks();
        assert_eq!(report.exact_count(), 1);
        assert_eq!(report.site(n.id()).unwrap().exact, vec![0]);
        assert_eq!(report.site(n.id()).unwrap().op, "norm");
    }
}

#[test]
fn norm_certified_at_the_zero_vector_is_the_unit_vector_along_the_direction() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0, 0.0]).unwrap();
    let n = x.norm();
    let seed = 5;
    let certified = tape
        .backward_certified(n, Certify::Random { seed })
        .unwrap();
    assert_eq!((certified.stats.ties, certified.stats.resolved), (1, 1));
    // ‖0 + s·q‖ = s‖q‖: the gradient along the ray is q/‖q‖, a unit vector in the unit ball.
    let q = random_direction(seed, 3);
    let length = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt();
    let g = certified.wrt(x);
    for i in 0..3 {
        assert!((g[i] - q[i] / length).abs() < 1e-15, "{g:?} vs {q:?}");
    }
    assert!((g.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-15);
    // The first coordinate direction: e₁ exactly.
    let certified = tape.backward_certified(n, Certify::Lexicographic).unwrap();
    assert_eq!(certified.wrt(x), &[1.0, 0.0, 0.0]);
}

#[test]
fn norm_agrees_with_the_square_root_of_the_sum_of_squares_away_from_zero() {
    // ∂‖x‖/∂x = x/‖x‖: (0.6, −0.8) at (3, −4), by hand.
    let hand = |x: &[f64]| -> Vec<f64> {
        let length = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        x.iter().map(|v| v / length).collect()
    };
    for at in [[3.0, -4.0], [-1.5, 2.0], [1e-3, -2e-3], [7.0, 0.0]] {
        let tape = Tape::<f64>::new();
        let x = tape.param_vec(&at).unwrap();
        let by_norm = x.norm();
        let by_sqrt = x.square().sum().sqrt();
        assert!((by_norm.item() - by_sqrt.item()).abs() <= 1e-15 * by_sqrt.item());
        let g_norm = by_norm.backward().unwrap().wrt(x).to_vec();
        let g_sqrt = by_sqrt.backward().unwrap().wrt(x).to_vec();
        for ((a, b), c) in g_norm.iter().zip(&g_sqrt).zip(hand(&at)) {
            assert!((a - b).abs() < 1e-15 && (a - c).abs() < 1e-15, "{at:?}");
        }
        assert!(tape.kinks().is_empty());
    }
    // At 0 the sum-of-squares form has the infinite derivative 1/(2√0); norm has its tie.
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 0.0]).unwrap();
    let by_sqrt = x.square().sum().sqrt();
    assert!(matches!(
        by_sqrt.backward(),
        Err(autodiff::Error::NonFinite { .. })
    ));
    assert_eq!(x.norm().backward().unwrap().wrt(x), &[0.0, 0.0]);
}

#[test]
fn norm_of_huge_entries_does_not_overflow() {
    // ‖(10³⁰⁰, 10³⁰⁰)‖ = √2·10³⁰⁰, although 10⁶⁰⁰ overflows; the gradient is (1/√2, 1/√2).
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1e300, -1e300]).unwrap();
    let n = x.norm();
    assert!((n.item() / 1e300 - std::f64::consts::SQRT_2).abs() < 1e-15);
    assert!(x.square().sum().sqrt().item().is_infinite());
    let g = n.backward().unwrap();
    let r = std::f64::consts::FRAC_1_SQRT_2;
    assert!((g.wrt(x)[0] - r).abs() < 1e-15 && (g.wrt(x)[1] + r).abs() < 1e-15);
    // And tiny entries do not underflow to the zero vector: ‖(10⁻³⁰⁰, 0)‖ = 10⁻³⁰⁰.
    let tiny = tape.param_vec(&[1e-300, 0.0]).unwrap();
    assert_eq!(tiny.norm().item(), 1e-300);
}
