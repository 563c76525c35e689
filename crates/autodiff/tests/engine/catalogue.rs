//! The primitive catalogue: one row per primitive the engine has (`autodiff::primitives()`), each
//! with its gradient under every policy preset, its certified result and its kink report (exact
//! and near), all derived by hand beside the row. A primitive without a row fails
//! `every_primitive_has_a_row`, so a new one cannot land unchecked.

use std::sync::Arc;

use autodiff::certify::random_direction;
use autodiff::{
    BackwardContext, Certify, CustomOp, Inputs, KinkPolicy, Result, Shape, SparseData, Tape, Var,
};

const SEED: u64 = 11;

type Build = for<'t> fn(&'t Tape<f64>, Var<'t, f64>) -> Var<'t, f64>;

/// One primitive's row. `x` is the one parameter (`shape`), `f` builds a scalar from it through
/// the primitive. For a kink primitive `x` sits on a tie and `near` within 1e-12 of it.
struct Row {
    name: &'static str,
    x: &'static [f64],
    shape: Shape,
    f: Build,
    /// `∂f/∂x` under MinNorm, Torch, Jax and Tf.
    grads: [&'static [f64]; 4],
    /// The certified gradient, given the direction `q` the seed draws.
    certified: fn(&[f64]) -> Vec<f64>,
    /// Tied output elements of the primitive's node (empty for a smooth primitive).
    exact: &'static [usize],
    near: Option<&'static [f64]>,
}

/// `x·eᵢ` as a scalar: one entry of a vector parameter, through `dot`.
fn pick<'t>(t: &'t Tape<f64>, x: Var<'t, f64>, i: usize) -> Var<'t, f64> {
    let mut e = vec![0.0; x.shape().len()];
    e[i] = 1.0;
    x.dot(t.constant_vec(&e).unwrap())
}

fn same(g: &'static [f64]) -> [&'static [f64]; 4] {
    [g, g, g, g]
}

/// `2x`, with its backward and tangent (the catalogue's custom op).
struct Double;

impl CustomOp<f64> for Double {
    fn name(&self) -> &str {
        "double"
    }
    fn output_shape(&self, inputs: &Inputs<'_, f64>) -> Result<Shape> {
        Ok(inputs.shape(0))
    }
    fn forward(&self, inputs: &Inputs<'_, f64>, output: &mut [f64]) -> Result<()> {
        for (o, &x) in output.iter_mut().zip(inputs.value(0)) {
            *o = 2.0 * x;
        }
        Ok(())
    }
    fn backward(&self, _: usize, cx: &BackwardContext<'_, f64>, grad: &mut [f64]) -> Result<()> {
        for (d, &g) in grad.iter_mut().zip(cx.grad_output) {
            *d += 2.0 * g;
        }
        Ok(())
    }
    fn tangent(
        &self,
        _: usize,
        _: &Inputs<'_, f64>,
        input_tangent: &[f64],
        _: &[f64],
        output_tangent: &mut [f64],
    ) -> Result<()> {
        for (o, &t) in output_tangent.iter_mut().zip(input_tangent) {
            *o += 2.0 * t;
        }
        Ok(())
    }
}

// A table: one row per line group reads better than rustfmt's one field per line.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    let v = |n| Shape::vector(n);
    let m = |r, c| Shape::matrix(r, c);
    let plain = |_: &[f64]| Vec::new(); // smooth: the certified result is the plain gradient
    // Certified one-sided choices along q (hand-derived from each rule):
    // the side whose tangent wins, one-hot.
    fn larger(q: &[f64]) -> Vec<f64> {
        if q[0] > q[1] {
            vec![1.0, 0.0]
        } else {
            vec![0.0, 1.0]
        }
    }
    fn smaller(q: &[f64]) -> Vec<f64> {
        if q[0] < q[1] {
            vec![1.0, 0.0]
        } else {
            vec![0.0, 1.0]
        }
    }
    vec![
        // Smooth primitives: derivative by hand at the point, the same under every policy.
        Row { name: "leaf", x: &[3.0], shape: Shape::scalar(), f: |_, x| x,
              grads: same(&[1.0]), certified: plain, exact: &[], near: None },
        Row { name: "add", x: &[1.0, 2.0], shape: v(2), f: |t, x| pick(t, x, 0) + pick(t, x, 1),
              grads: same(&[1.0, 1.0]), certified: plain, exact: &[], near: None },
        Row { name: "sub", x: &[1.0, 2.0], shape: v(2), f: |t, x| pick(t, x, 0) - pick(t, x, 1),
              grads: same(&[1.0, -1.0]), certified: plain, exact: &[], near: None },
        // ∂(ab) = (b, a) at (1, 2).
        Row { name: "mul", x: &[1.0, 2.0], shape: v(2), f: |t, x| pick(t, x, 0) * pick(t, x, 1),
              grads: same(&[2.0, 1.0]), certified: plain, exact: &[], near: None },
        // ∂(a/b) = (1/b, −a/b²) at (1, 2).
        Row { name: "div", x: &[1.0, 2.0], shape: v(2), f: |t, x| pick(t, x, 0) / pick(t, x, 1),
              grads: same(&[0.5, -0.25]), certified: plain, exact: &[], near: None },
        Row { name: "affine", x: &[1.0, 2.0], shape: v(2), f: |_, x| x.affine(3.0, 1.0).sum(),
              grads: same(&[3.0, 3.0]), certified: plain, exact: &[], near: None },
        Row { name: "reshape", x: &[1.0, 2.0, 3.0, 4.0], shape: v(4),
              f: |_, x| x.reshape(Shape::matrix(2, 2)).row_sum().sum(),
              grads: same(&[1.0; 4]), certified: plain, exact: &[], near: None },
        Row { name: "square", x: &[3.0], shape: v(1), f: |_, x| x.square().sum(),
              grads: same(&[6.0]), certified: plain, exact: &[], near: None },
        Row { name: "sqrt", x: &[4.0], shape: v(1), f: |_, x| x.sqrt().sum(),
              grads: same(&[0.25]), certified: plain, exact: &[], near: None },
        Row { name: "exp", x: &[0.0], shape: v(1), f: |_, x| x.exp().sum(),
              grads: same(&[1.0]), certified: plain, exact: &[], near: None },
        Row { name: "ln", x: &[2.0], shape: v(1), f: |_, x| x.ln().sum(),
              grads: same(&[0.5]), certified: plain, exact: &[], near: None },
        // softplus' = σ(0) = 1/(1 + e⁰) = ½.
        Row { name: "softplus", x: &[0.0], shape: v(1), f: |_, x| x.softplus().sum(),
              grads: same(&[0.5]), certified: plain, exact: &[], near: None },
        // σ' = σ(1 − σ) = ½·½ at 0.
        Row { name: "sigmoid", x: &[0.0], shape: v(1), f: |_, x| x.sigmoid().sum(),
              grads: same(&[0.25]), certified: plain, exact: &[], near: None },
        // tanh' = 1 − tanh² = 1 at 0.
        Row { name: "tanh", x: &[0.0], shape: v(1), f: |_, x| x.tanh().sum(),
              grads: same(&[1.0]), certified: plain, exact: &[], near: None },
        // 1/(1 + x) at x = 1.
        Row { name: "log1p", x: &[1.0], shape: v(1), f: |_, x| x.log1p().sum(),
              grads: same(&[0.5]), certified: plain, exact: &[], near: None },
        // 3x² at x = 2.
        Row { name: "powi", x: &[2.0], shape: v(1), f: |_, x| x.powi(3).sum(),
              grads: same(&[12.0]), certified: plain, exact: &[], near: None },
        // 1.5·x^0.5 at x = 4: 1.5·2.
        Row { name: "powf", x: &[4.0], shape: v(1), f: |_, x| x.powf(1.5).sum(),
              grads: same(&[3.0]), certified: plain, exact: &[], near: None },
        Row { name: "sum", x: &[1.0, 2.0], shape: v(2), f: |_, x| x.sum(),
              grads: same(&[1.0, 1.0]), certified: plain, exact: &[], near: None },
        Row { name: "mean", x: &[1.0, 3.0], shape: v(2), f: |_, x| x.mean(),
              grads: same(&[0.5, 0.5]), certified: plain, exact: &[], near: None },
        // Σᵢ rᵢ·Σⱼ Xᵢⱼ with r = (1, 2): ∂X = (1, 1, 2, 2).
        Row { name: "row_sum", x: &[1.0, 2.0, 3.0, 4.0], shape: m(2, 2),
              f: |t, x| x.row_sum().dot(t.constant_vec(&[1.0, 2.0]).unwrap()),
              grads: same(&[1.0, 1.0, 2.0, 2.0]), certified: plain, exact: &[], near: None },
        Row { name: "dot", x: &[1.0, 2.0], shape: v(2),
              f: |t, x| x.dot(t.constant_vec(&[3.0, 4.0]).unwrap()),
              grads: same(&[3.0, 4.0]), certified: plain, exact: &[], near: None },
        // Σ A·v with v = (1, −1): ∂Aᵢⱼ = vⱼ.
        Row { name: "matvec", x: &[1.0, 2.0, 3.0, 4.0], shape: m(2, 2),
              f: |t, x| x.matvec(t.constant_vec(&[1.0, -1.0]).unwrap()).sum(),
              grads: same(&[1.0, -1.0, 1.0, -1.0]), certified: plain, exact: &[], near: None },
        // Σ A·B with B = (1, 2)ᵀ: ∂Aᵢⱼ = Bⱼ.
        Row { name: "matmul", x: &[1.0, 2.0, 3.0, 4.0], shape: m(2, 2),
              f: |t, x| x.matmul(t.constant(&[1.0, 2.0], Shape::matrix(2, 1)).unwrap()).sum(),
              grads: same(&[1.0, 2.0, 1.0, 2.0]), certified: plain, exact: &[], near: None },
        // X₀₁ + X₁₀.
        Row { name: "gather", x: &[1.0, 2.0, 3.0, 4.0], shape: m(2, 2),
              f: |_, x| x.gather(&[1, 0]).sum(),
              grads: same(&[0.0, 1.0, 1.0, 0.0]), certified: plain, exact: &[], near: None },
        // Σ X·v for X = [[1, 0, 2], [0, 3, 0]]: ∂v = the column sums (1, 3, 2).
        Row { name: "sparse_matvec", x: &[1.0, 1.0, 1.0], shape: v(3),
              f: |t, x| {
                  let s = SparseData::new(vec![0, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0], 3);
                  t.sparse_matvec(&s.unwrap(), x).unwrap().sum()
              },
              grads: same(&[1.0, 3.0, 2.0]), certified: plain, exact: &[], near: None },
        // Σ Xᵀ ⊙ W = Σᵢⱼ Xᵢⱼ·Wⱼᵢ for W = [[1, 2], [3, 4], [5, 6]]: ∂Xᵢⱼ = Wⱼᵢ, so row i of
        // ∂X is column i of W: (1, 3, 5), (2, 4, 6).
        Row { name: "transpose", x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape: m(2, 3),
              f: |t, x| x.transpose().dot(t.constant(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], Shape::matrix(3, 2)).unwrap()),
              grads: same(&[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]), certified: plain, exact: &[], near: None },
        // (x₁, x₂)·(10, 20): ∂x = (0, 10, 20, 0).
        Row { name: "slice", x: &[1.0, 2.0, 3.0, 4.0], shape: v(4),
              f: |t, x| x.slice(1, 3).dot(t.constant_vec(&[10.0, 20.0]).unwrap()),
              grads: same(&[0.0, 10.0, 20.0, 0.0]), certified: plain, exact: &[], near: None },
        // (x₀, x₁, 5, x₀, x₁)·(1, 2, 3, 4, 5): x sits at 0..2 and 3..5, ∂x = (1 + 4, 2 + 5).
        Row { name: "concat", x: &[1.0, 2.0], shape: v(2),
              f: |t, x| t.concat(&[x, t.constant_vec(&[5.0]).unwrap(), x])
                  .dot(t.constant_vec(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap()),
              grads: same(&[5.0, 7.0]), certified: plain, exact: &[], near: None },
        Row { name: "custom", x: &[1.0], shape: v(1),
              f: |t, x| t.custom(Arc::new(Double), &[x]).unwrap().sum(),
              grads: same(&[2.0]), certified: plain, exact: &[], near: None },
        // Kink primitives on a tie: the kink table of `policy.rs`, and the certified rule of
        // each primitive's module along the seeded direction q.
        Row { name: "relu", x: &[0.0], shape: v(1), f: |_, x| x.relu().sum(),
              grads: same(&[0.0]), certified: |q| vec![f64::from(u8::from(q[0] > 0.0))],
              exact: &[0], near: Some(&[1e-12]) },
        // α = 0.1: the interval [0.1, 1]; MinNorm its smallest element α, Torch and Tf α (x > 0
        // selects), Jax 1 (x >= 0 selects); the rows for α < 0 and α > 1 are in
        // `leaky_relu_slope_rows`. Certified: slope 1 along q > 0, α along q < 0.
        Row { name: "leaky_relu", x: &[0.0], shape: v(1), f: |_, x| x.leaky_relu(0.1).sum(),
              grads: [&[0.1], &[0.1], &[1.0], &[0.1]],
              certified: |q| vec![if q[0] > 0.0 { 1.0 } else { 0.1 }],
              exact: &[0], near: Some(&[1e-12]) },
        // At the zero vector: every preset 0 (the unit ball's minimum-norm element); certified
        // q/‖q‖ (the gradient of ‖s·q‖ = s‖q‖ along the ray); near: ‖x‖ = 1e-12.
        Row { name: "norm", x: &[0.0, 0.0], shape: v(2), f: |_, x| x.norm(),
              grads: same(&[0.0, 0.0]), certified: unit,
              exact: &[0], near: Some(&[1e-12, 0.0]) },
        Row { name: "abs", x: &[0.0], shape: v(1), f: |_, x| x.abs().sum(),
              grads: [&[0.0], &[0.0], &[1.0], &[0.0]], certified: |q| vec![q[0].signum()],
              exact: &[0], near: Some(&[1e-12]) },
        Row { name: "max", x: &[1.0, 1.0], shape: v(2),
              f: |t, x| pick(t, x, 0).max(pick(t, x, 1)),
              grads: [&[0.5, 0.5], &[0.5, 0.5], &[0.5, 0.5], &[1.0, 0.0]], certified: larger,
              exact: &[0], near: Some(&[1.0, 1.0 + 1e-12]) },
        Row { name: "min", x: &[1.0, 1.0], shape: v(2),
              f: |t, x| pick(t, x, 0).min(pick(t, x, 1)),
              grads: [&[0.5, 0.5], &[0.5, 0.5], &[0.5, 0.5], &[1.0, 0.0]], certified: smaller,
              exact: &[0], near: Some(&[1.0, 1.0 + 1e-12]) },
        // At the lower bound: inside iff the tangent is > 0.
        Row { name: "clamp", x: &[0.0], shape: v(1), f: |_, x| x.clamp(0.0, 1.0).sum(),
              grads: [&[0.0], &[0.0], &[0.0], &[1.0]],
              certified: |q| vec![f64::from(u8::from(q[0] > 0.0))],
              exact: &[0], near: Some(&[1e-12]) },
        Row { name: "max_n", x: &[1.0, 1.0], shape: v(2),
              f: |t, x| t.max_n(&[pick(t, x, 0), pick(t, x, 1)]),
              grads: same(&[0.5, 0.5]), certified: larger,
              exact: &[0], near: Some(&[1.0, 1.0 + 1e-12]) },
        Row { name: "min_n", x: &[1.0, 1.0], shape: v(2),
              f: |t, x| t.min_n(&[pick(t, x, 0), pick(t, x, 1)]),
              grads: same(&[0.5, 0.5]), certified: smaller,
              exact: &[0], near: Some(&[1.0, 1.0 + 1e-12]) },
        Row { name: "reduce_max", x: &[2.0, 2.0, 1.0], shape: v(3), f: |_, x| x.reduce_max(),
              grads: same(&[0.5, 0.5, 0.0]), certified: |q| [larger(q), vec![0.0]].concat(),
              exact: &[0], near: Some(&[2.0, 2.0 + 1e-12, 1.0]) },
        Row { name: "reduce_min", x: &[1.0, 1.0, 2.0], shape: v(3), f: |_, x| x.reduce_min(),
              grads: same(&[0.5, 0.5, 0.0]), certified: |q| [smaller(q), vec![0.0]].concat(),
              exact: &[0], near: Some(&[1.0, 1.0 + 1e-12, 2.0]) },
        // Row 0 tied, row 1 decided (its larger entry is the second).
        Row { name: "row_max", x: &[2.0, 2.0, 1.0, 3.0], shape: m(2, 2),
              f: |_, x| x.row_max().sum(),
              grads: same(&[0.5, 0.5, 0.0, 1.0]), certified: |q| [larger(q), vec![0.0, 1.0]].concat(),
              exact: &[0], near: Some(&[2.0, 2.0 + 1e-12, 1.0, 3.0]) },
        Row { name: "row_min", x: &[1.0, 1.0, 3.0, 2.0], shape: m(2, 2),
              f: |_, x| x.row_min().sum(),
              grads: same(&[0.5, 0.5, 0.0, 1.0]), certified: |q| [smaller(q), vec![0.0, 1.0]].concat(),
              exact: &[0], near: Some(&[1.0, 1.0 + 1e-12, 3.0, 2.0]) },
    ]
}

/// `q/‖q‖`, with `‖q‖ = s·√(Σ (qᵢ/s)²)`, `s = maxᵢ |qᵢ|`: the scaled form `norm` documents (the
/// textbook `√(Σ qᵢ²)` can differ in the last bit).
fn unit(q: &[f64]) -> Vec<f64> {
    let s = q.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let length = s * q.iter().map(|v| (v / s) * (v / s)).sum::<f64>().sqrt();
    q.iter().map(|v| v / length).collect()
}

/// `leaky_relu` at 0 for the slopes whose minimum-norm element is not `α`: the interval between
/// `α` and 1 contains 0 when `α < 0` (MinNorm 0) and lies above 1 when `α > 1` (MinNorm 1).
/// Torch and Tf still give `α`, Jax 1; certified: 1 along q > 0, `α` along q < 0. Checked like
/// the catalogue's rows, but not counted as rows (one row per primitive).
#[rustfmt::skip]
fn leaky_relu_slope_rows() -> Vec<Row> {
    vec![
        Row { name: "leaky_relu", x: &[0.0], shape: Shape::vector(1),
              f: |_, x| x.leaky_relu(-0.5).sum(),
              grads: [&[0.0], &[-0.5], &[1.0], &[-0.5]],
              certified: |q| vec![if q[0] > 0.0 { 1.0 } else { -0.5 }],
              exact: &[0], near: Some(&[1e-12]) },
        Row { name: "leaky_relu", x: &[0.0], shape: Shape::vector(1),
              f: |_, x| x.leaky_relu(2.0).sum(),
              grads: [&[1.0], &[2.0], &[1.0], &[2.0]],
              certified: |q| vec![if q[0] > 0.0 { 1.0 } else { 2.0 }],
              exact: &[0], near: Some(&[1e-12]) },
    ]
}

#[test]
fn every_primitive_has_a_row() {
    let rows = rows();
    for name in autodiff::primitives() {
        assert_eq!(
            rows.iter().filter(|r| r.name == *name).count(),
            1,
            "primitive `{name}` needs exactly one catalogue row"
        );
    }
    assert_eq!(rows.len(), autodiff::primitives().len());
}

#[test]
fn every_primitive_gives_its_pinned_gradient_under_every_policy() {
    let policies = [
        KinkPolicy::MinNorm,
        KinkPolicy::Torch,
        KinkPolicy::Jax,
        KinkPolicy::Tf,
    ];
    for row in rows().into_iter().chain(leaky_relu_slope_rows()) {
        for (policy, want) in policies.iter().zip(row.grads) {
            let tape = Tape::<f64>::with_policy(*policy);
            let x = tape.param(row.x, row.shape).unwrap();
            let g = (row.f)(&tape, x).backward().unwrap();
            assert_eq!(g.wrt(x), want, "{} under {}", row.name, policy.name());
        }
    }
}

#[test]
fn every_primitive_certifies_by_its_one_sided_rule_and_reports_its_kinks() {
    for row in rows().into_iter().chain(leaky_relu_slope_rows()) {
        let tape = Tape::<f64>::new();
        let x = tape.param(row.x, row.shape).unwrap();
        let y = (row.f)(&tape, x);
        let plain = y.backward().unwrap().wrt(x).to_vec();
        let certified = tape
            .backward_certified(y, Certify::Random { seed: SEED })
            .unwrap();
        // The direction the seed draws, over the one parameter (the tape's only parameter).
        let q = random_direction(SEED, row.x.len());
        let mut want = (row.certified)(&q);
        if want.is_empty() {
            want = plain.clone();
        }
        assert_eq!(certified.wrt(x), want, "{} certified along {q:?}", row.name);
        let report = tape.kinks();
        if row.exact.is_empty() {
            assert!(report.is_empty(), "{}: {report}", row.name);
            assert_eq!(certified.stats.ties, 0, "{}", row.name);
            continue;
        }
        let site = report.sites().iter().find(|s| s.op == row.name);
        let site = site.unwrap_or_else(|| panic!("{}: no exact kink in {report}", row.name));
        assert_eq!(site.exact, row.exact, "{}", row.name);
        assert_eq!(certified.stats.ties, row.exact.len(), "{}", row.name);
        // Beside the tie: no exact tie, the same elements reported near.
        let near = row.near.expect("a kink row has a near point");
        let tape = Tape::<f64>::new();
        let x = tape.param(near, row.shape).unwrap();
        (row.f)(&tape, x);
        assert!(tape.kinks().is_empty(), "{}", row.name);
        let report = tape.kinks_near(1e-9);
        let site = report.sites().iter().find(|s| s.op == row.name);
        let site = site.unwrap_or_else(|| panic!("{}: no near kink in {report}", row.name));
        assert_eq!(site.near, row.exact, "{} near", row.name);
    }
}

/// Each row's `m(f(x))`, the magnitude the certified mode's tie tolerance is relative to, by
/// hand from the rules in `ops/rule.rs` (`m(a ± b) = m(a) + m(b)`, `m(ab) = m(a)m(b)`,
/// `m(f(x)) = |f'(x)|·m(x) + |f(x)|`, a constant's `m` its `|value|`, a parameter's too; `pick`
/// is a dot with a unit vector, so `m = |xᵢ|`).
#[rustfmt::skip]
fn magnitudes() -> Vec<(&'static str, f64)> {
    vec![
        ("leaf", 3.0),
        ("add", 3.0),                         // |1| + |2|
        ("sub", 3.0),                         // |1| + |2|
        ("mul", 2.0),                         // 1·2
        ("div", 1.0),                         // (m(a) + |a/b|·m(b))/|b| = (1 + ½·2)/2
        ("affine", 11.0),                     // Σ (3·m(x) + |1|) = 4 + 7
        ("reshape", 10.0),                    // Σ |xᵢ|
        ("square", 9.0),                      // m(x)² = 3²
        ("sqrt", 3.0),                        // m(x)/(2y) + y = 4/4 + 2
        ("exp", 1.0),                         // y·(m(x) + 1) = 1·(0 + 1)
        ("ln", 1.0 + std::f64::consts::LN_2), // m(x)/x + |ln x| at 2
        ("softplus", std::f64::consts::LN_2), // σ(0)·0 + ln 2
        ("sigmoid", 0.5),                     // ¼·0 + ½
        ("tanh", 0.0),                        // 1·0 + 0: tanh(0) is exact
        ("log1p", 0.5 + std::f64::consts::LN_2), // m(x)/(1 + x) + ln 2 at 1
        ("powi", 32.0),                       // |3·2²|·2 + 2³
        ("powf", 20.0),                       // |1.5·4^0.5|·4 + 4^1.5
        ("sum", 3.0),
        ("mean", 2.0),                        // (1 + 3)/2
        ("row_sum", 17.0),                    // (1 + 2)·1 + (3 + 4)·2
        ("dot", 11.0),                        // 1·3 + 2·4
        ("matvec", 10.0),                     // (1 + 2) + (3 + 4): |A|·|v|
        ("matmul", 16.0),                     // (1 + 4) + (3 + 8)
        ("gather", 5.0),                      // X₀₁ + X₁₀
        ("sparse_matvec", 6.0),               // |X|·1: (1 + 2) + 3
        ("transpose", 86.0),                  // Σ Xᵢⱼ·Wⱼᵢ, all positive
        ("slice", 80.0),                      // 2·10 + 3·20
        ("concat", 34.0),                     // (1, 2, 5, 1, 2)·(1, 2, 3, 4, 5)
        ("custom", 3.0),                      // |2x| + maxₖ m(x)ₖ (the custom rule)
        ("relu", 0.0),                        // m(x) at x = 0
        ("leaky_relu", 0.0),
        ("norm", 0.0),                        // ‖m(x)‖ at the zero vector
        ("abs", 0.0),
        ("max", 1.0),                         // max(m(a), m(b))
        ("min", 1.0),
        ("clamp", 0.0),
        ("max_n", 1.0),
        ("min_n", 1.0),
        ("reduce_max", 2.0),                  // the largest entry magnitude
        ("reduce_min", 2.0),                  // the largest too: the error of any entry
        ("row_max", 5.0),                     // 2 + 3
        ("row_min", 4.0),                     // 1 + 3
    ]
}

#[test]
fn every_primitive_propagates_its_magnitude_to_the_tie_tolerance() {
    let table = magnitudes();
    for row in rows() {
        let entries: Vec<f64> = table
            .iter()
            .filter(|(name, _)| *name == row.name)
            .map(|&(_, m)| m)
            .collect();
        assert_eq!(entries.len(), 1, "`{}` needs one magnitude", row.name);
        let tape = Tape::<f64>::new();
        let x = tape.param(row.x, row.shape).unwrap();
        let y = (row.f)(&tape, x);
        assert_magnitude(&tape, y, entries[0], row.name);
    }
}

/// Checks that the scalar `y` has magnitude `m`, through the tie tolerance: `relu(y − c)` with
/// `c = y + δ` has its argument `δ' ≈ −δ` from the kink and magnitude `M = m + |c|`, so it is a
/// near tie exactly when `τ ≥ δ'/M`.
fn assert_magnitude<'t>(tape: &'t Tape<f64>, y: Var<'t, f64>, m: f64, what: &str) {
    let v = y.item();
    let c = v + 1e-6 * (1.0 + v.abs());
    let arg = y - c;
    let z = arg.relu();
    let total = m + c.abs();
    let distance = arg.item().abs();
    for (factor, near) in [(1.02, true), (0.98, false)] {
        tape.set_tie_tolerance(factor * distance / total).unwrap();
        let certified = tape.backward_certified(z, Certify::Lexicographic).unwrap();
        let found = certified.report.site(z.id()).is_some_and(|s| s.near == [0]);
        assert_eq!(found, near, "{what}: τ = {factor}·δ/M, M = {total}");
    }
}

#[test]
fn broadcast_operands_propagate_their_magnitudes_elementwise() {
    let tape = Tape::<f64>::new();
    let x = tape
        .param(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))
        .unwrap();
    // Along the rows (a vector of the column count): Σᵢⱼ (|Xᵢⱼ| + |vⱼ|) = 10 + 2·(10 + 20).
    let v = tape.param_vec(&[10.0, 20.0]).unwrap();
    assert_magnitude(&tape, (x + v).sum(), 70.0, "matrix + row vector");
    // A scalar: Σ |Xᵢⱼ|·3.
    let s = tape.param_scalar(3.0).unwrap();
    assert_magnitude(&tape, (x * s).sum(), 30.0, "matrix · scalar");
    // One value per row ([2, 1]): Σ max(|Xᵢⱼ|, |cᵢ|) = (5 + 5) + (3 + 4).
    let c = tape.param(&[5.0, 0.0], Shape::matrix(2, 1)).unwrap();
    assert_magnitude(&tape, x.max(c).sum(), 17.0, "max with a column");
    // Division by a row vector: Σ (m(a) + |a/b|·m(b))/|b| = Σ 2|a|/|b|
    // = 2·(1/10 + 2/20 + 3/10 + 4/20).
    assert_magnitude(&tape, (x / v).sum(), 1.4, "matrix / row vector");
}
