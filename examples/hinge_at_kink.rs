//! The hinge loss exactly at the margin, under every kink policy.
//!
//! Five 2-D points, a weight vector that puts two of them exactly on the margin (y·w·x = 1) and
//! one inside it: the loss is not differentiable there, and each framework convention returns a
//! different element of the subdifferential. The kink report names the examples on the margin.
//!
//! Run: `cargo run --release -p subgrad-examples --example hinge_at_kink`

use autodiff::{Certify, CustomPolicy, Data, KinkPolicy, Shape, Tape, TieSplit};

fn main() -> autodiff::Result<()> {
    // The seed's points and labels.
    let points = [[0.0, 1.0], [1.0, 2.0], [3.0, 0.0], [4.0, 1.0], [1.0, 1.0]];
    let labels = [1.0, 1.0, -1.0, -1.0, -1.0];
    let w0 = [-0.5, 1.0];
    let x = Data::new(points.concat(), Shape::matrix(5, 2))?;
    let y = Data::vector(labels.to_vec())?;
    let n = labels.len() as f64;

    println!("mean hinge loss L(w) = (1/n)·Σᵢ max(0, 1 − yᵢ·w·xᵢ) at w = {w0:?}");
    println!("margins yᵢ·w·xᵢ:");
    let mut on_margin = Vec::new();
    let mut violated = Vec::new();
    for (i, (p, l)) in points.iter().zip(labels).enumerate() {
        let m = l * (p[0] * w0[0] + p[1] * w0[1]);
        let state = if m < 1.0 {
            violated.push(i);
            "inside the margin: contributes −y·x/n"
        } else if m == 1.0 {
            on_margin.push(i);
            "exactly on the margin: contributes −t·y·x/n for any t ∈ [0, 1]"
        } else {
            "outside: contributes 0"
        };
        println!("  x{i} = {p:?}, y = {l:+}: {m:+.2}  {state}");
    }

    // The closed form's ends: t = 0 and t = 1 for every example on the margin.
    let grad_with = |ts: f64| {
        let mut g = [0.0; 2];
        for &i in violated.iter() {
            for j in 0..2 {
                g[j] -= labels[i] * points[i][j] / n;
            }
        }
        for &i in on_margin.iter() {
            for j in 0..2 {
                g[j] -= ts * labels[i] * points[i][j] / n;
            }
        }
        g
    };
    println!(
        "closed form: ∂L(w) = {{ g₀ − (1/n)·Σ_{{i on the margin}} tᵢ·yᵢ·xᵢ : tᵢ ∈ [0, 1] }}, \
         from g₀ = {:?} (all tᵢ = 0) to {:?} (all tᵢ = 1)\n",
        grad_with(0.0),
        grad_with(1.0)
    );

    let candle_like = KinkPolicy::Custom(CustomPolicy::new(1.0, 0.0, TieSplit::Even, 1.0)?);
    println!(
        "{:<10} {:<28} {:<28}",
        "policy", "relu(1 − y·Xw) form", "max(0, 1 − y·Xw) form"
    );
    let policies = [
        KinkPolicy::MinNorm,
        KinkPolicy::Torch,
        KinkPolicy::Jax,
        KinkPolicy::Tf,
        candle_like,
    ];
    // The custom policy here reproduces candle's relu'(0) = 1.
    let name = |p: KinkPolicy| match p {
        KinkPolicy::Custom(_) => "candle",
        other => other.name(),
    };
    for policy in policies {
        let tape = Tape::<f64>::with_policy(policy);
        let w = tape.param_vec(&w0)?;
        let z = 1.0 - tape.data(&y) * tape.data(&x).matvec(w);
        let relu_form = z.relu().mean();
        let max_form = tape.constant_scalar(0.0)?.max(z).mean();
        let g_relu = relu_form.backward()?.wrt(w).to_vec();
        let g_max = max_form.backward()?.wrt(w).to_vec();
        let name = name(policy);
        println!(
            "{name:<10} {:<28} {:<28}",
            format!("{g_relu:?}"),
            format!("{g_max:?}")
        );
        if policy == KinkPolicy::MinNorm {
            println!("           loss = {}", relu_form.item());
            for line in tape.kinks().to_string().lines() {
                println!("           kink: {line}");
            }
        }
    }

    println!(
        "\nrelu(x) − relu(−x) is x, so its derivative at 0 is 1. Per-op rules cannot see that:"
    );
    for policy in policies {
        let tape = Tape::<f64>::with_policy(policy);
        let v = tape.param_scalar(0.0)?;
        let f = v.relu() - (-v).relu();
        let name = name(policy);
        println!("  {name:<8} gives {}", f.backward()?.wrt(v)[0]);
    }
    let tape = Tape::<f64>::new();
    let v = tape.param_scalar(0.0)?;
    let f = v.relu() - (-v).relu();
    let certified = tape.backward_certified(f, Certify::Random { seed: 0 })?;
    println!(
        "  certified gives {} ({} ties resolved by a random direction: a Clarke subgradient)",
        certified.wrt(v)[0],
        certified.stats.resolved
    );

    // The hinge at the margin, certified: each example on the margin is resolved to the side
    // the direction q moves it to, so the result is the gradient of a piece next to w.
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&w0)?;
    let loss = (1.0 - tape.data(&y) * tape.data(&x).matvec(w))
        .relu()
        .mean();
    let certified = tape.backward_certified(loss, Certify::Random { seed: 0 })?;
    println!(
        "\ncertified hinge gradient at w = {w0:?}: {:?} (one of the closed form's corners)",
        certified.wrt(w)
    );
    Ok(())
}
