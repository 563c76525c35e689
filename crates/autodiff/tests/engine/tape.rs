//! Tape mechanics: accumulation, repeated backward, reuse, long chains, custom ops.

use std::sync::Arc;

use autodiff::{BackwardContext, CustomOp, Data, Error, Gradients, Inputs, Result, Shape, Tape};

#[test]
fn gradient_accumulates_when_a_value_is_used_several_times() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(3.0).unwrap();
    // y = x·x + x + x·2 → y' = 2x + 1 + 2 = 9
    let y = x * x + x + x * 2.0;
    assert_eq!(y.backward().unwrap().wrt(x)[0], 9.0);
    // A shared intermediate: u = x², y = u·u = x⁴ → y' = 4x³ = 108
    let u = x.square();
    assert_eq!((u * u).backward().unwrap().wrt(x)[0], 108.0);
    // Both operands of dot are the same node: d(x·x)/dx = 2x
    let v = tape.param_vec(&[1.0, -2.0]).unwrap();
    assert_eq!(v.dot(v).backward().unwrap().wrt(v), &[2.0, -4.0]);
}

#[test]
fn backward_can_run_twice_and_from_any_scalar_node() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(2.0).unwrap();
    let a = x.square(); // a' = 2x = 4
    let b = a * 3.0 + x; // b' = 6x + 1 = 13
    let g1 = b.backward().unwrap();
    let g2 = b.backward().unwrap();
    assert_eq!(g1.wrt(x), g2.wrt(x));
    assert_eq!(g1.wrt(x)[0], 13.0);
    assert_eq!(a.backward().unwrap().wrt(x)[0], 4.0);
    // Intermediates have gradients too: ∂b/∂a = 3.
    assert_eq!(g1.wrt(a)[0], 3.0);
}

#[test]
fn nodes_the_output_does_not_depend_on_get_zero_gradient() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(2.0).unwrap();
    let z = tape.param_vec(&[1.0, 2.0]).unwrap();
    let _unused = z.square();
    let g = (x * 5.0).backward().unwrap();
    assert_eq!(g.wrt(z), &[0.0, 0.0]);
    assert_eq!(g.wrt(x)[0], 5.0);
}

#[test]
fn a_million_op_chain_differentiates_without_stack_overflow() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(0.5).unwrap();
    let mut y = x;
    for _ in 0..1_000_000 {
        y = -y; // one affine node each; an even number of negations: y = x, dy/dx = 1
    }
    assert_eq!(tape.len(), 1_000_001);
    assert_eq!(y.backward().unwrap().wrt(x)[0], 1.0);
}

#[test]
fn cleared_tape_reuses_its_buffers_and_gives_the_same_result() {
    let mut tape = Tape::<f64>::new();
    let mut grads = Gradients::new();
    let mut results = Vec::new();
    let mut capacity_bytes = Vec::new();
    for _ in 0..3 {
        let before = tape.stats().capacity_bytes;
        tape.clear();
        // Cleared, not freed: nothing is held, everything stays reserved.
        assert_eq!(tape.stats().bytes, 0);
        assert_eq!(tape.stats().capacity_bytes, before);
        let w = tape.param_vec(&[0.5, -0.25]).unwrap();
        let x = tape
            .constant(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))
            .unwrap();
        let loss = (1.0 - x.matvec(w)).relu().sum();
        tape.backward_into(loss, &mut grads).unwrap();
        results.push(grads.wrt(w).to_vec());
        capacity_bytes.push(tape.stats().capacity_bytes);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[1], results[2]);
    // 1 − Xw = (1, 0.5) both active: ∂/∂w = −(1+3, 2+4)
    assert_eq!(results[0], vec![-4.0, -6.0]);
    // The same computation again fits in the kept buffers: no buffer grew after the first.
    assert!(capacity_bytes[0] > 0);
    assert_eq!(capacity_bytes[0], capacity_bytes[1]);
    assert_eq!(capacity_bytes[1], capacity_bytes[2]);
}

#[test]
fn gradients_of_a_cleared_tape_are_detected_as_stale() {
    let mut tape = Tape::<f64>::new();
    let g = {
        let x = tape.param_scalar(1.0).unwrap();
        x.square().backward().unwrap()
    };
    tape.clear();
    let x = tape.param_scalar(1.0).unwrap();
    assert!(matches!(g.try_wrt(x), Err(Error::NoGradient { .. })));
}

#[test]
fn shared_constants_are_not_copied_and_read_correctly() {
    let data = Data::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(3, 2)).unwrap();
    let tape = Tape::<f64>::new();
    let before = tape.stats().values;
    let x = tape.data(&data);
    assert_eq!(tape.stats().values, before);
    let w = tape.param_vec(&[1.0, 1.0]).unwrap();
    let s = x.matvec(w).sum(); // ∂/∂w = column sums (9, 12)
    assert_eq!(s.backward().unwrap().wrt(w), &[9.0, 12.0]);
    assert_eq!(x.value(), data.values());
}

#[test]
fn policy_is_per_tape_and_set_policy_clears() {
    let mut tape = Tape::<f64>::with_policy(autodiff::KinkPolicy::Jax);
    assert_eq!(tape.policy(), autodiff::KinkPolicy::Jax);
    tape.set_policy(autodiff::KinkPolicy::MinNorm);
    assert!(tape.is_empty());
    let z = tape.param_scalar(0.0).unwrap();
    assert_eq!(z.abs().backward().unwrap().wrt(z)[0], 0.0);
}

#[test]
fn stats_report_bytes_per_node() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1.0; 10]).unwrap();
    let _ = x.relu().sum();
    let s = tape.stats();
    assert_eq!(s.nodes, 3);
    assert_eq!(s.values, 10 + 10 + 1);
    assert_eq!(s.masks, 10);
    assert!(
        s.bytes_per_node >= 32 && s.bytes_per_node <= 128,
        "{}",
        s.bytes_per_node
    );
}

/// y = x³ elementwise, with its backward rule 3x².
struct Cube;

impl CustomOp<f64> for Cube {
    fn name(&self) -> &str {
        "cube"
    }
    fn output_shape(&self, inputs: &Inputs<'_, f64>) -> Result<Shape> {
        Ok(inputs.shape(0))
    }
    fn forward(&self, inputs: &Inputs<'_, f64>, out: &mut [f64]) -> Result<()> {
        for (o, &x) in out.iter_mut().zip(inputs.value(0)) {
            *o = x * x * x;
        }
        Ok(())
    }
    fn backward(&self, _i: usize, cx: &BackwardContext<'_, f64>, g: &mut [f64]) -> Result<()> {
        for ((d, &x), &go) in g.iter_mut().zip(cx.inputs.value(0)).zip(cx.grad_output) {
            *d += 3.0 * x * x * go;
        }
        Ok(())
    }
}

/// Forward only: no backward rule.
struct Opaque;

impl CustomOp<f64> for Opaque {
    fn name(&self) -> &str {
        "opaque"
    }
    fn output_shape(&self, inputs: &Inputs<'_, f64>) -> Result<Shape> {
        if inputs.len() == 1 {
            Ok(inputs.shape(0))
        } else {
            Err(Error::Custom {
                op: "opaque".into(),
                message: format!("takes one operand, got {}", inputs.len()),
            })
        }
    }
    fn forward(&self, inputs: &Inputs<'_, f64>, out: &mut [f64]) -> Result<()> {
        out.copy_from_slice(inputs.value(0));
        Ok(())
    }
}

#[test]
fn custom_op_backward_rule_is_used_and_composes() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1.0, -2.0]).unwrap();
    let op: Arc<dyn CustomOp<f64>> = Arc::new(Cube);
    let y = tape.custom(Arc::clone(&op), &[x]).unwrap();
    assert_eq!(y.value(), vec![1.0, -8.0]);
    // L = Σ (x³)·2 + Σ x³ used twice → 3·3x²
    let loss = (y * 2.0).sum() + tape.custom(op, &[x]).unwrap().sum();
    assert_eq!(loss.backward().unwrap().wrt(x), &[9.0, 36.0]);
}

#[test]
fn custom_op_without_backward_is_an_error_not_a_zero() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    let y = tape.custom(Arc::new(Opaque), &[x]).unwrap();
    assert_eq!(y.item(), 1.0);
    let err = y.backward().unwrap_err();
    assert_eq!(
        err,
        Error::MissingBackward {
            op: "opaque".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "backward: custom op `opaque` has no backward rule"
    );
    // Forward-only use on constants is fine: nothing to differentiate.
    let c = tape.constant_scalar(2.0).unwrap();
    let z = tape.custom(Arc::new(Opaque), &[c]).unwrap();
    assert!(!z.requires_grad());
}

#[test]
fn custom_op_shape_rejection_leaves_the_tape_unchanged() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    let before = tape.len();
    let err = tape.custom(Arc::new(Opaque), &[x, x]).unwrap_err();
    assert!(err.to_string().contains("takes one operand, got 2"));
    assert_eq!(tape.len(), before);
    let y = x * 2.0; // the tape still works
    assert_eq!(y.backward().unwrap().wrt(x)[0], 2.0);
}
