//! Every primitive's gradient against central differences at random smooth points.
//!
//! Points within 1e-4 of a kink are skipped with `prop_assume!` (using the engine's near-tie
//! report, or, for `leaky_relu` and `norm`, the test's own distance from the kink), so the finite
//! differences see a smooth function.

use approx::relative_eq;
use autodiff::{Shape, Tape, Var};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Build = dyn for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>;

/// `L = Σᵢ rᵢ·f(x)ᵢ` with fixed weights rᵢ = 1 + i/7, so every output element matters.
fn objective(shapes: &[Shape], data: &[Vec<f64>], f: &Build) -> (f64, Vec<Vec<f64>>, bool) {
    let tape = Tape::<f64>::new();
    let xs: Vec<_> = shapes
        .iter()
        .zip(data)
        .map(|(&s, d)| tape.param(d, s).unwrap())
        .collect();
    let y = f(&tape, &xs);
    let r: Vec<f64> = (0..y.shape().len()).map(|i| 1.0 + i as f64 / 7.0).collect();
    let r = tape.constant(&r, y.shape()).unwrap();
    let loss = y.dot(r);
    let near_kink = !tape.kinks_near(1e-4).is_empty();
    let g = loss.backward().unwrap();
    let grads = xs.iter().map(|&x| g.wrt(x).to_vec()).collect();
    (loss.item(), grads, near_kink)
}

fn check(shapes: &[Shape], data: Vec<Vec<f64>>, f: &Build) -> Result<(), TestCaseError> {
    let (_, _, near_kink) = objective(shapes, &data, f);
    prop_assume!(!near_kink);
    check_at(shapes, data, f)
}

/// The same comparison with no skipping: for smooth functions, or points the caller has
/// checked to be away from every kink by its own computation.
fn check_at(shapes: &[Shape], data: Vec<Vec<f64>>, f: &Build) -> Result<(), TestCaseError> {
    let (_, grads, _) = objective(shapes, &data, f);
    let h = 1e-6;
    for (k, g) in grads.iter().enumerate() {
        for j in 0..g.len() {
            let mut plus = data.clone();
            plus[k][j] += h;
            let mut minus = data.clone();
            minus[k][j] -= h;
            let numeric =
                (objective(shapes, &plus, f).0 - objective(shapes, &minus, f).0) / (2.0 * h);
            prop_assert!(
                relative_eq!(g[j], numeric, epsilon = 1e-5, max_relative = 1e-5),
                "operand {k} element {j}: autodiff {} vs central difference {numeric}",
                g[j]
            );
        }
    }
    Ok(())
}

/// The forward-mode (tangent) rules: `L'(x; d)` from the engine's tangent pass against the
/// central difference `(L(x + h·d) − L(x − h·d))/(2h)` along a direction `d` per operand.
fn check_tangent(
    shapes: &[Shape],
    data: Vec<Vec<f64>>,
    dir: Vec<Vec<f64>>,
    f: &Build,
) -> Result<(), TestCaseError> {
    let tape = Tape::<f64>::new();
    let xs: Vec<_> = shapes
        .iter()
        .zip(&data)
        .map(|(&s, d)| tape.param(d, s).unwrap())
        .collect();
    let y = f(&tape, &xs);
    let r: Vec<f64> = (0..y.shape().len()).map(|i| 1.0 + i as f64 / 7.0).collect();
    let loss = y.dot(tape.constant(&r, y.shape()).unwrap());
    let along: Vec<_> = xs.iter().zip(&dir).map(|(&x, d)| (x, &d[..])).collect();
    let tangent = tape.directional_derivative(loss, &along).unwrap();
    let h = 1e-6;
    let moved = |sign: f64| -> Vec<Vec<f64>> {
        data.iter()
            .zip(&dir)
            .map(|(x, d)| x.iter().zip(d).map(|(v, e)| v + sign * h * e).collect())
            .collect()
    };
    let numeric =
        (objective(shapes, &moved(1.0), f).0 - objective(shapes, &moved(-1.0), f).0) / (2.0 * h);
    prop_assert!(
        relative_eq!(tangent, numeric, epsilon = 1e-5, max_relative = 1e-5),
        "tangent {tangent} vs central difference {numeric}"
    );
    Ok(())
}

/// `‖x‖ = √(Σ xᵢ²)`, the test's own distance of `norm`'s input from its kink (the zero vector).
fn euclidean(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn v(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-3.0..3.0f64, n)
}

fn pos(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.5..3.0f64, n)
}

const V4: Shape = Shape::vector(4);
const S: Shape = Shape::scalar();
/// A 3 × 2 matrix with its per-row ([3], [3, 1]) and per-column ([2], [1, 2]) operands.
const M32: Shape = Shape::matrix(3, 2);
const ROWS: Shape = Shape::vector(3);
const COLS: Shape = Shape::vector(2);

/// `min |aᵢⱼ − vᵢ|` (per row) or `min |aᵢⱼ − vⱼ|` (per column) over a `cols`-column matrix `a`,
/// computed here rather than by the engine: how close `max(a, v)` is to a tie.
fn gap(a: &[f64], v: &[f64], cols: usize, per_row: bool) -> f64 {
    a.iter()
        .enumerate()
        .map(|(e, x)| (x - v[if per_row { e / cols } else { e % cols }]).abs())
        .fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn add_sub_mul_match_central_differences(a in v(4), b in v(4), c in v(1)) {
        check(&[V4, V4, S], vec![a, b, c], &|_, x| (x[0] + x[1]) * x[2] - x[0] * x[1] + x[2] - x[1])?;
    }

    #[test]
    fn div_matches_central_differences(a in v(4), b in pos(4), c in pos(1)) {
        check(&[V4, V4, S], vec![a, b, c], &|_, x| x[0] / x[1] + x[2] / x[0].square().affine(1.0, 1.0) + x[1] / x[2])?;
    }

    #[test]
    fn affine_and_scalar_operators_match_central_differences(a in v(4)) {
        check(&[V4], vec![a], &|_, x| 2.0 - 3.0 * x[0] + x[0] / 4.0 - (-x[0]) * 0.5 + x[0].scale(1.5) + 1.0)?;
    }

    #[test]
    fn smooth_functions_match_central_differences(a in v(4), p in pos(4)) {
        check(&[V4, V4], vec![a, p], &|_, x| x[0].square() + x[0].exp() + x[1].sqrt() + x[1].ln())?;
    }

    #[test]
    fn softplus_sigmoid_and_tanh_match_central_differences(a in v(4)) {
        check(&[V4], vec![a], &|_, x| x[0].softplus() * 3.0 + x[0].sigmoid().square() - x[0].tanh() + x[0].tanh().sigmoid())?;
    }

    #[test]
    fn log1p_powi_and_powf_match_central_differences(a in v(4), p in pos(4)) {
        // log1p on (−0.4, 2.1), inside its domain x > −1; negative exponents on positive bases only.
        check(&[V4, V4], vec![a, p], &|_, x| {
            x[1].affine(1.0, -0.9).log1p() + x[0].powi(3) + x[0].powi(2) * 0.5 + x[0].powi(0) + x[1].powi(-2)
                + x[1].powf(1.5) + x[1].powf(-0.5) * 2.0 + x[1].powf(0.0)
        })?;
    }

    #[test]
    fn leaky_relu_matches_central_differences_away_from_zero(a in v(4)) {
        // The kink is at 0: skip points within 1e-4 of it (the step is 1e-6).
        prop_assume!(a.iter().all(|v| v.abs() > 1e-4));
        check_at(&[V4], vec![a], &|_, x| x[0].leaky_relu(0.1) * 3.0 + x[0].leaky_relu(-0.5).square() + x[0].leaky_relu(2.0))?;
    }

    #[test]
    fn norm_matches_central_differences_away_from_the_zero_vector(a in v(6), b in v(4)) {
        // The kink is the zero vector: skip inputs of norm within 1e-4 of it.
        prop_assume!(euclidean(&a) > 1e-4 && euclidean(&b) > 1e-4);
        check_at(&[Shape::matrix(2, 3), V4], vec![a, b], &|_, x| x[0].norm() * x[1] + x[1].norm().square())?;
    }

    #[test]
    fn tangents_of_the_activations_log1p_and_powers_match_central_differences(
        a in v(4), p in pos(4), da in v(4), dp in v(4),
    ) {
        check_tangent(&[V4, V4], vec![a, p], vec![da, dp], &|_, x| {
            x[0].softplus() + x[0].sigmoid() * 2.0 - x[0].tanh() + x[1].affine(1.0, -0.9).log1p()
                + x[0].powi(3) + x[1].powi(-2) + x[1].powf(1.5)
        })?;
    }

    #[test]
    fn tangent_of_leaky_relu_matches_central_differences_away_from_zero(a in v(4), d in v(4)) {
        prop_assume!(a.iter().all(|v| v.abs() > 1e-4));
        check_tangent(&[V4], vec![a], vec![d], &|_, x| x[0].leaky_relu(-0.5) * 3.0 + x[0].leaky_relu(2.0).square())?;
    }

    #[test]
    fn tangent_of_norm_matches_central_differences_away_from_the_zero_vector(a in v(6), b in v(4), da in v(6), db in v(4)) {
        prop_assume!(euclidean(&a) > 1e-4 && euclidean(&b) > 1e-4);
        check_tangent(&[Shape::matrix(2, 3), V4], vec![a, b], vec![da, db], &|_, x| x[0].norm() * x[1] + x[1].norm().square())?;
    }

    #[test]
    fn sum_mean_and_row_sum_match_central_differences(a in v(6)) {
        check(&[Shape::matrix(2, 3)], vec![a], &|_, x| x[0].row_sum() * x[0].mean() + x[0].sum())?;
    }

    #[test]
    fn dot_matvec_and_matmul_match_central_differences(a in v(6), b in v(3), c in v(6)) {
        check(&[Shape::matrix(2, 3), Shape::vector(3), Shape::matrix(3, 2)], vec![a, b, c], &|_, x| {
            x[0].matvec(x[1]).sum() + x[0].matmul(x[2]).sum() * x[1].dot(x[1])
        })?;
    }

    #[test]
    fn reshape_matches_central_differences(a in v(6), b in v(2)) {
        check(&[Shape::matrix(2, 3), Shape::vector(2)], vec![a, b], &|t, x| {
            let ones = t.constant(&[1.0; 3], Shape::matrix(1, 3)).unwrap();
            // Broadcast b across the columns, then mix with the matrix.
            x[0].reshape(Shape::vector(6)).square() + (x[1].reshape(Shape::matrix(2, 1)).matmul(ones) * x[0]).reshape(Shape::vector(6))
        })?;
    }

    #[test]
    fn transpose_matches_central_differences(a in v(6), b in v(6)) {
        check_at(&[Shape::matrix(2, 3), Shape::matrix(3, 2)], vec![a, b], &|_, x| {
            (x[0].transpose() * x[1]).square() + x[1].matmul(x[0]).transpose().sum() + x[1].transpose().transpose()
        })?;
    }

    #[test]
    fn slices_match_central_differences(a in v(6), b in v(12)) {
        check_at(&[Shape::vector(6), Shape::matrix(4, 3)], vec![a, b], &|_, x| {
            let (rows, tail) = (x[1].slice_rows(1, 3), x[1].slice_rows(2, 4));
            (x[0].slice(1, 4).square() * x[0].slice(3, 6)).sum() + (rows * tail).square() - x[0].slice(0, 2).dot(x[0].slice(4, 6))
        })?;
    }

    #[test]
    fn concat_matches_central_differences(a in v(2), b in v(3), m in v(6), n in v(3)) {
        check_at(&[Shape::vector(2), Shape::vector(3), Shape::matrix(2, 3), Shape::matrix(1, 3)], vec![a, b, m, n], &|t, x| {
            let c = t.concat(&[x[0], x[1], x[0]]);
            let rows = t.concat_rows(&[x[3], x[2], x[3]]);
            (c.slice(0, 5).square() * c.slice(2, 7)).sum() + rows.square().row_sum().dot(c.slice(0, 4))
        })?;
    }

    #[test]
    fn gather_matches_central_differences(a in v(6), k in prop::collection::vec(0usize..3, 2)) {
        check(&[Shape::matrix(2, 3)], vec![a], &move |_, x| x[0].gather(&k).square())?;
    }

    #[test]
    fn relu_and_abs_match_central_differences_away_from_zero(a in v(4)) {
        check(&[V4], vec![a], &|_, x| x[0].relu() * 3.0 + x[0].abs().square())?;
    }

    #[test]
    fn binary_max_and_min_match_central_differences_away_from_ties(a in v(4), b in v(4), c in v(1)) {
        check(&[V4, V4, S], vec![a, b, c], &|_, x| x[0].max(x[1]) * 2.0 + x[0].min(x[1]).square() + x[0].max(x[2]) + x[1].min(0.5))?;
    }

    // Each side in turn: matrix op vector and vector op matrix, so a wrong element mapping in
    // the forward pass, the backward sums or the tangent shows up as a wrong derivative.
    #[test]
    fn row_broadcast_arithmetic_matches_central_differences(m in v(6), r in v(3), p in pos(3), q in pos(6)) {
        check_at(&[M32, ROWS, ROWS, M32], vec![m, r, p, q], &|_, x| {
            (x[0] + x[1]) * x[1] - x[0] / x[2] + x[2] / x[3] + (x[1] - x[0]) * x[0] + x[1] * x[3]
        })?;
    }

    #[test]
    fn column_broadcast_arithmetic_matches_central_differences(m in v(6), c in v(2), p in pos(2), q in pos(6)) {
        check_at(&[M32, COLS, COLS, M32], vec![m, c, p, q], &|_, x| {
            (x[0] + x[1]) * x[1] - x[0] / x[2] + x[2] / x[3] + (x[1] - x[0]) * x[0] + x[1] * x[3]
        })?;
    }

    // [3, 1] goes along the rows and [1, 2] along the columns.
    #[test]
    fn one_column_and_one_row_matrices_broadcast_and_match_central_differences(m in v(6), r in v(3), c in v(2), p in pos(2)) {
        let (col, row) = (Shape::matrix(3, 1), Shape::matrix(1, 2));
        check_at(&[M32, col, row, row], vec![m, r, c, p], &|_, x| {
            (x[0] - x[1]) * x[2] + x[1] * x[0] / x[3] - x[2] + (x[1] + x[0])
        })?;
    }

    // Square: a [3] vector goes along the columns, a [3, 1] matrix along the rows.
    #[test]
    fn square_broadcast_matches_central_differences(m in v(9), w in v(3), p in pos(3)) {
        let square = Shape::matrix(3, 3);
        check_at(&[square, ROWS, ROWS], vec![m, w, p], &|_, x| {
            let rows = x[1].reshape(Shape::matrix(3, 1));
            (x[0] - x[1]) * x[1] + x[0] * rows / x[2] + (rows - x[0]).square()
        })?;
    }

    // Away from ties by the test's own gap; `max`/`min` on either side, per row and per column.
    #[test]
    fn broadcast_max_and_min_match_central_differences_away_from_ties(m in v(6), r in v(3), c in v(2)) {
        prop_assume!(gap(&m, &r, 2, true) > 1e-4 && gap(&m, &c, 2, false) > 1e-4);
        check_at(&[M32, ROWS, COLS], vec![m, r, c], &|_, x| {
            x[0].max(x[1]) * 2.0 + x[0].min(x[2]).square() + x[1].min(x[0]) * x[0] + x[2].max(x[0]) * 3.0
        })?;
    }

    // The n-ary forms broadcast every operand to the largest one.
    #[test]
    fn broadcast_nary_max_and_min_match_central_differences_away_from_ties(m in v(6), r in v(3), c in v(2)) {
        let rc: Vec<f64> = (0..6).map(|e| r[e / 2] - c[e % 2]).collect();
        prop_assume!(gap(&m, &r, 2, true) > 1e-4 && gap(&m, &c, 2, false) > 1e-4);
        prop_assume!(rc.iter().all(|d| d.abs() > 1e-4));
        check_at(&[M32, ROWS, COLS], vec![m, r, c], &|t, x| {
            t.max_n(&[x[1], x[0], x[2]]).square() + t.min_n(&[x[2], x[1], x[0]]) * 3.0
        })?;
    }

    #[test]
    fn clamp_matches_central_differences_away_from_bounds(a in v(4)) {
        check(&[V4], vec![a], &|_, x| x[0].clamp(-1.0, 1.5).square() + x[0].clamp(0.0, f64::INFINITY))?;
    }

    #[test]
    fn nary_max_and_min_match_central_differences(a in v(4), b in v(4), c in v(4)) {
        check(&[V4, V4, V4], vec![a, b, c], &|t, x| t.max_n(x).square() + t.min_n(x) * 3.0)?;
    }

    #[test]
    fn reductions_match_central_differences(a in v(6)) {
        check(&[Shape::matrix(2, 3)], vec![a], &|_, x| {
            x[0].row_max().square() + x[0].row_min() * 2.0 + x[0].reduce_max() - x[0].reduce_min().square()
        })?;
    }
}

#[test]
fn f32_gradients_agree_with_f64() {
    fn hinge<T: autodiff::Real>(w: &[T], x: &[T], y: &[T]) -> Vec<T> {
        let tape = Tape::<T>::new();
        let wv = tape.param_vec(w).unwrap();
        let xm = tape.constant(x, Shape::matrix(y.len(), w.len())).unwrap();
        let yv = tape.constant_vec(y).unwrap();
        let loss = (yv * xm.matvec(wv))
            .affine(-T::one(), T::one())
            .relu()
            .mean()
            + wv.square().sum();
        loss.backward().unwrap().wrt(wv).to_vec()
    }
    let (w, x, y) = (
        [0.3, -0.2],
        [1.0, 2.0, -1.0, 0.5, 2.0, 2.0],
        [1.0, -1.0, 1.0],
    );
    let g64 = hinge::<f64>(&w, &x, &y);
    let g32 = hinge::<f32>(
        &w.map(|v| v as f32),
        &x.map(|v| v as f32),
        &y.map(|v| v as f32),
    );
    // By hand: margins y·Xw = (−0.1, 0.4, 0.2), all violated:
    // ∂/∂w = −(1/3)·Σ yᵢxᵢ + 2w = −(1/3)·(1+1+2, 2−0.5+2) + (0.6, −0.4)
    let expected = [-4.0 / 3.0 + 0.6, -3.5 / 3.0 - 0.4];
    for k in 0..2 {
        assert!((g64[k] - expected[k]).abs() < 1e-12);
        assert!((f64::from(g32[k]) - expected[k]).abs() < 1e-6);
    }
}
