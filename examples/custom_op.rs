//! A custom primitive with its own backward rule: the softplus function, used as a smooth
//! surrogate of the hinge, checked against the hinge far from the margin.
//!
//! Run: `cargo run --release -p subgrad-examples --example custom_op`

use std::sync::Arc;

use autodiff::{BackwardContext, CustomOp, Inputs, Result, Shape, Tape};

/// softplus(z) = ln(1 + eᶻ), softplus'(z) = 1/(1 + e⁻ᶻ), computed without overflow.
struct Softplus;

impl CustomOp<f64> for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }

    fn output_shape(&self, inputs: &Inputs<'_, f64>) -> Result<Shape> {
        Ok(inputs.shape(0))
    }

    fn forward(&self, inputs: &Inputs<'_, f64>, output: &mut [f64]) -> Result<()> {
        for (o, &z) in output.iter_mut().zip(inputs.value(0)) {
            *o = z.max(0.0) + (-z.abs()).exp().ln_1p();
        }
        Ok(())
    }

    fn backward(
        &self,
        _input: usize,
        cx: &BackwardContext<'_, f64>,
        grad: &mut [f64],
    ) -> Result<()> {
        for ((d, &z), &g) in grad.iter_mut().zip(cx.inputs.value(0)).zip(cx.grad_output) {
            *d += g / (1.0 + (-z).exp());
        }
        Ok(())
    }
}

fn main() -> autodiff::Result<()> {
    let tape = Tape::<f64>::new();
    let z = tape.param_vec(&[-20.0, 0.0, 20.0])?;
    let soft = tape.custom(Arc::new(Softplus), &[z])?;
    let hinge = z.relu();
    let gs = soft.sum().backward()?;
    let gh = hinge.sum().backward()?;
    println!("z          = {:?}", z.value());
    println!("softplus   = {:?}", soft.value());
    println!("relu       = {:?}", hinge.value());
    println!("softplus'  = {:?}", gs.wrt(z));
    println!("relu'      = {:?}  (relu'(0) = 0 under MinNorm)", gh.wrt(z));
    Ok(())
}
