//! The kink-aware gradient checker: passes correct (sub)gradients at smooth points and at kinks,
//! fails wrong ones.

use std::sync::Arc;

use autodiff::gradcheck::{gradcheck, GradCheck};
use autodiff::{BackwardContext, CustomOp, Inputs, Result, Shape, Tape, Var};
use proptest::prelude::*;

#[test]
fn smooth_function_passes_with_central_differences() {
    let report = gradcheck(
        |_, w| Ok((w.square().sum() + w.try_exp()?.sum()) * 0.5),
        &[0.3, -1.2, 2.0],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(!report.at_kink);
    assert!(report.passed);
    assert!(report.checks.iter().all(|c| c.lower == c.upper));
}

/// x² whose backward rule is wrong by a factor 2.
struct BadSquare;

impl CustomOp<f64> for BadSquare {
    fn name(&self) -> &str {
        "bad_square"
    }
    fn output_shape(&self, inputs: &Inputs<'_, f64>) -> Result<Shape> {
        Ok(inputs.shape(0))
    }
    fn forward(&self, inputs: &Inputs<'_, f64>, out: &mut [f64]) -> Result<()> {
        for (o, &x) in out.iter_mut().zip(inputs.value(0)) {
            *o = x * x;
        }
        Ok(())
    }
    fn backward(&self, _: usize, cx: &BackwardContext<'_, f64>, g: &mut [f64]) -> Result<()> {
        for ((d, &x), &go) in g.iter_mut().zip(cx.inputs.value(0)).zip(cx.grad_output) {
            *d += 4.0 * x * go; // should be 2x
        }
        Ok(())
    }
}

#[test]
fn wrong_backward_rule_fails_at_a_smooth_point() {
    let report = gradcheck(
        |t, w| Ok(t.custom(Arc::new(BadSquare), &[w])?.sum()),
        &[0.5, 1.5],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(!report.passed);
}

#[test]
fn hinge_at_the_margin_passes_where_central_differences_would_fail() {
    for certified in [false, true] {
        let config = GradCheck {
            certified,
            ..GradCheck::default()
        };
        let report = gradcheck(
            |t, w| {
                let x = t.constant(&[1.0, 2.0, 2.0, -1.0], Shape::matrix(2, 2))?;
                Ok((1.0 - x.try_matvec(w)?).relu().sum())
            },
            &[1.0, 0.0], // margins (1, 2): example 0 exactly on the margin
            &config,
        )
        .unwrap();
        assert!(report.at_kink);
        assert_eq!(report.kinks.exact_count(), 1);
        assert!(
            report.passed,
            "certified = {certified}: {:?}",
            report.checks
        );
        // A central difference straddles the kink: it is not what the gradient is compared to.
        assert!(report.checks.iter().any(|c| c.lower < c.upper));
    }
}

#[test]
fn per_op_rule_on_a_cancelling_composition_fails_and_certified_passes() {
    // relu(x) − relu(−x) = x: slope 1 on both sides; MinNorm's 0 is not a subgradient.
    fn f<'t>(_: &'t Tape<f64>, w: Var<'t, f64>) -> Result<Var<'t, f64>> {
        Ok((w.relu() - (-w).relu()).sum())
    }
    let plain = gradcheck(f, &[0.0], &GradCheck::default()).unwrap();
    assert!(plain.at_kink);
    assert!(!plain.passed);
    let certified = gradcheck(
        f,
        &[0.0],
        &GradCheck {
            certified: true,
            ..GradCheck::default()
        },
    )
    .unwrap();
    assert!(certified.passed);
    assert_eq!(certified.gradient, vec![1.0]);
}

#[test]
fn nonconvex_kink_with_a_valid_off_axis_subgradient_passes() {
    // f = max(min(x, y), 0) at the origin: ∂f = conv{(0,0), (1,0), (0,1)}; the certified gradient
    // is one of the pieces, possibly one no direction through the origin alone explains.
    for seed in 0..8 {
        let report = gradcheck(
            |_, w| {
                let (a, b) = (w.try_gather_row(0)?, w.try_gather_row(1)?);
                Ok(a.min(b).max(0.0))
            },
            &[0.0, 0.0],
            &GradCheck {
                certified: true,
                seed,
                ..GradCheck::default()
            },
        )
        .unwrap();
        assert!(
            report.passed,
            "seed {seed}: {:?} {:?}",
            report.gradient, report.checks
        );
    }
}

/// Picks one element of a vector as a scalar node (via a dot with a unit vector).
trait Row<'t> {
    fn try_gather_row(self, i: usize) -> Result<Var<'t, f64>>;
}

impl<'t> Row<'t> for Var<'t, f64> {
    fn try_gather_row(self, i: usize) -> Result<Var<'t, f64>> {
        let mut e = vec![0.0; self.shape().len()];
        e[i] = 1.0;
        self.try_dot(self.tape().constant_vec(&e)?)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// No false failures at kinks: convex piecewise-linear sums of hinges of integer affine maps,
    /// at integer points (many margins exactly 0), with the MinNorm gradient (a valid subgradient
    /// of a convex sum).
    #[test]
    fn no_false_failure_at_kinks_of_convex_hinge_sums(
        a in prop::collection::vec(-2i32..=2, 6 * 3),
        b in prop::collection::vec(-2i32..=2, 6),
        x in prop::collection::vec(-1i32..=1, 3),
    ) {
        let a: Vec<f64> = a.into_iter().map(f64::from).collect();
        let b: Vec<f64> = b.into_iter().map(f64::from).collect();
        let x: Vec<f64> = x.into_iter().map(f64::from).collect();
        let report = gradcheck(
            |t, w| {
                let am = t.constant(&a, Shape::matrix(6, 3))?;
                let bv = t.constant_vec(&b)?;
                Ok((am.try_matvec(w)? + bv).relu().sum() + (w.abs().sum() * 0.5))
            },
            &x,
            &GradCheck::default(),
        ).unwrap();
        prop_assert!(report.passed, "{:?}", report.checks);
    }
}
