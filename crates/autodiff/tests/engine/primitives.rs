//! Every primitive's gradient against central differences at random smooth points, and the
//! engine's near-kink report against kink locations written out here.
//!
//! A function with kinks skips points within [`NEAR`] of one with `prop_assume!`, by a distance
//! this file computes from each primitive's kink locations (below, beside [`from_points`]), never
//! by the engine's `kinks_near`: a wrong kink-distance rule in the engine cannot hide a case.
//! `kinks_near_reports_exactly_the_elements_placed_near_a_kink` checks that rule itself.

use approx::relative_eq;
use autodiff::{Shape, Tape, Var};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

type Build = dyn for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>;

/// How far from every kink a point must be for central differences with step 1e-6 to see a
/// smooth function.
const NEAR: f64 = 1e-4;

/// `L = Σᵢ rᵢ·f(x)ᵢ` with fixed weights rᵢ = 1 + i/7, so every output element matters.
fn objective(shapes: &[Shape], data: &[Vec<f64>], f: &Build) -> (f64, Vec<Vec<f64>>) {
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
    let g = loss.backward().unwrap();
    let grads = xs.iter().map(|&x| g.wrt(x).to_vec()).collect();
    (loss.item(), grads)
}

/// The engine's gradient of [`objective`] against central differences, at every element; no
/// skipping here: a test whose function has kinks first `prop_assume!`s its distance from them.
fn check(shapes: &[Shape], data: Vec<Vec<f64>>, f: &Build) -> Result<(), TestCaseError> {
    let (_, grads) = objective(shapes, &data, f);
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

// Each primitive's kink locations, written out independently of the engine:
// - `relu`, `abs`, `leaky_relu`: x = 0; `clamp(lo, hi)`: x = lo and x = hi ([`from_points`]);
// - `max(a, b)`, `min(a, b)`: a = b, elementwise after broadcasting ([`apart`], [`gap`]);
// - `max_n`, `min_n` and the max/min reductions: two candidates equal; [`spread`] takes the
//   smallest gap between any two, a stricter skip than the top two's;
// - `norm`: the zero vector ([`euclidean`]).

/// `minᵢ,ₖ |xᵢ − kₖ|`: how close any element of `x` is to any of the kink points `kinks`.
fn from_points(x: &[f64], kinks: &[f64]) -> f64 {
    x.iter()
        .flat_map(|v| kinks.iter().map(move |k| (v - k).abs()))
        .fold(f64::INFINITY, f64::min)
}

/// `minᵢ |aᵢ − bᵢ|`, with a one-element `b` standing for a scalar: how close `max(a, b)` is to a
/// tie.
fn apart(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .enumerate()
        .map(|(i, x)| (x - b[if b.len() == 1 { 0 } else { i }]).abs())
        .fold(f64::INFINITY, f64::min)
}

/// `min_{i<j} |vᵢ − vⱼ|`: how close any two of the candidates `values` are to a tie.
fn spread(values: &[f64]) -> f64 {
    let mut d = f64::INFINITY;
    for (i, a) in values.iter().enumerate() {
        for b in &values[i + 1..] {
            d = d.min((a - b).abs());
        }
    }
    d
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
        // The kink is at 0: skip points within NEAR of it (the step is 1e-6).
        prop_assume!(from_points(&a, &[0.0]) > NEAR);
        check(&[V4], vec![a], &|_, x| x[0].leaky_relu(0.1) * 3.0 + x[0].leaky_relu(-0.5).square() + x[0].leaky_relu(2.0))?;
    }

    #[test]
    fn norm_matches_central_differences_away_from_the_zero_vector(a in v(6), b in v(4)) {
        // The kink is the zero vector: skip inputs of norm within NEAR of it.
        prop_assume!(euclidean(&a) > NEAR && euclidean(&b) > NEAR);
        check(&[Shape::matrix(2, 3), V4], vec![a, b], &|_, x| x[0].norm() * x[1] + x[1].norm().square())?;
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
        prop_assume!(from_points(&a, &[0.0]) > NEAR);
        check_tangent(&[V4], vec![a], vec![d], &|_, x| x[0].leaky_relu(-0.5) * 3.0 + x[0].leaky_relu(2.0).square())?;
    }

    #[test]
    fn tangent_of_norm_matches_central_differences_away_from_the_zero_vector(a in v(6), b in v(4), da in v(6), db in v(4)) {
        prop_assume!(euclidean(&a) > NEAR && euclidean(&b) > NEAR);
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
        check(&[Shape::matrix(2, 3), Shape::matrix(3, 2)], vec![a, b], &|_, x| {
            (x[0].transpose() * x[1]).square() + x[1].matmul(x[0]).transpose().sum() + x[1].transpose().transpose()
        })?;
    }

    #[test]
    fn slices_match_central_differences(a in v(6), b in v(12)) {
        check(&[Shape::vector(6), Shape::matrix(4, 3)], vec![a, b], &|_, x| {
            let (rows, tail) = (x[1].slice_rows(1, 3), x[1].slice_rows(2, 4));
            (x[0].slice(1, 4).square() * x[0].slice(3, 6)).sum() + (rows * tail).square() - x[0].slice(0, 2).dot(x[0].slice(4, 6))
        })?;
    }

    #[test]
    fn concat_matches_central_differences(a in v(2), b in v(3), m in v(6), n in v(3)) {
        check(&[Shape::vector(2), Shape::vector(3), Shape::matrix(2, 3), Shape::matrix(1, 3)], vec![a, b, m, n], &|t, x| {
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
        prop_assume!(from_points(&a, &[0.0]) > NEAR);
        check(&[V4], vec![a], &|_, x| x[0].relu() * 3.0 + x[0].abs().square())?;
    }

    #[test]
    fn binary_max_and_min_match_central_differences_away_from_ties(a in v(4), b in v(4), c in v(1)) {
        // max(a, b), min(a, b), max(a, c) tie where the operands are equal; min(b, 0.5) at 0.5.
        prop_assume!(apart(&a, &b) > NEAR && apart(&a, &c) > NEAR && from_points(&b, &[0.5]) > NEAR);
        check(&[V4, V4, S], vec![a, b, c], &|_, x| x[0].max(x[1]) * 2.0 + x[0].min(x[1]).square() + x[0].max(x[2]) + x[1].min(0.5))?;
    }

    // Each side in turn: matrix op vector and vector op matrix, so a wrong element mapping in
    // the forward pass, the backward sums or the tangent shows up as a wrong derivative.
    #[test]
    fn row_broadcast_arithmetic_matches_central_differences(m in v(6), r in v(3), p in pos(3), q in pos(6)) {
        check(&[M32, ROWS, ROWS, M32], vec![m, r, p, q], &|_, x| {
            (x[0] + x[1]) * x[1] - x[0] / x[2] + x[2] / x[3] + (x[1] - x[0]) * x[0] + x[1] * x[3]
        })?;
    }

    #[test]
    fn column_broadcast_arithmetic_matches_central_differences(m in v(6), c in v(2), p in pos(2), q in pos(6)) {
        check(&[M32, COLS, COLS, M32], vec![m, c, p, q], &|_, x| {
            (x[0] + x[1]) * x[1] - x[0] / x[2] + x[2] / x[3] + (x[1] - x[0]) * x[0] + x[1] * x[3]
        })?;
    }

    // [3, 1] goes along the rows and [1, 2] along the columns.
    #[test]
    fn one_column_and_one_row_matrices_broadcast_and_match_central_differences(m in v(6), r in v(3), c in v(2), p in pos(2)) {
        let (col, row) = (Shape::matrix(3, 1), Shape::matrix(1, 2));
        check(&[M32, col, row, row], vec![m, r, c, p], &|_, x| {
            (x[0] - x[1]) * x[2] + x[1] * x[0] / x[3] - x[2] + (x[1] + x[0])
        })?;
    }

    // Square: a [3] vector goes along the columns, a [3, 1] matrix along the rows.
    #[test]
    fn square_broadcast_matches_central_differences(m in v(9), w in v(3), p in pos(3)) {
        let square = Shape::matrix(3, 3);
        check(&[square, ROWS, ROWS], vec![m, w, p], &|_, x| {
            let rows = x[1].reshape(Shape::matrix(3, 1));
            (x[0] - x[1]) * x[1] + x[0] * rows / x[2] + (rows - x[0]).square()
        })?;
    }

    // Away from ties by the test's own gap; `max`/`min` on either side, per row and per column.
    #[test]
    fn broadcast_max_and_min_match_central_differences_away_from_ties(m in v(6), r in v(3), c in v(2)) {
        prop_assume!(gap(&m, &r, 2, true) > NEAR && gap(&m, &c, 2, false) > NEAR);
        check(&[M32, ROWS, COLS], vec![m, r, c], &|_, x| {
            x[0].max(x[1]) * 2.0 + x[0].min(x[2]).square() + x[1].min(x[0]) * x[0] + x[2].max(x[0]) * 3.0
        })?;
    }

    // The n-ary forms broadcast every operand to the largest one.
    #[test]
    fn broadcast_nary_max_and_min_match_central_differences_away_from_ties(m in v(6), r in v(3), c in v(2)) {
        // Output element e of a 3 × 2 matrix compares mₑ, r[row] and c[column].
        prop_assume!((0..6).all(|e| spread(&[m[e], r[e / 2], c[e % 2]]) > NEAR));
        check(&[M32, ROWS, COLS], vec![m, r, c], &|t, x| {
            t.max_n(&[x[1], x[0], x[2]]).square() + t.min_n(&[x[2], x[1], x[0]]) * 3.0
        })?;
    }

    #[test]
    fn clamp_matches_central_differences_away_from_bounds(a in v(4)) {
        // The bounds of both clamps (∞ is never reached).
        prop_assume!(from_points(&a, &[-1.0, 1.5, 0.0]) > NEAR);
        check(&[V4], vec![a], &|_, x| x[0].clamp(-1.0, 1.5).square() + x[0].clamp(0.0, f64::INFINITY))?;
    }

    #[test]
    fn nary_max_and_min_match_central_differences(a in v(4), b in v(4), c in v(4)) {
        prop_assume!((0..4).all(|i| spread(&[a[i], b[i], c[i]]) > NEAR));
        check(&[V4, V4, V4], vec![a, b, c], &|t, x| t.max_n(x).square() + t.min_n(x) * 3.0)?;
    }

    #[test]
    fn reductions_match_central_differences(a in v(6)) {
        // Every reduction here picks among some of the six entries: keep all six apart.
        prop_assume!(spread(&a) > NEAR);
        check(&[Shape::matrix(2, 3)], vec![a], &|_, x| {
            x[0].row_max().square() + x[0].row_min() * 2.0 + x[0].reduce_max() - x[0].reduce_min().square()
        })?;
    }
}

/// The tolerance of the near-kink report test: offsets are drawn within `TOL / 2` of a kink
/// (near) or at least `2·TOL` from it (far), never between, so whether an element is near is
/// known by construction, whatever rounding the distance sees.
const TOL: f64 = 1e-6;

/// `(near, offset)`: a signed offset from a kink and whether it is within [`TOL`]; never 0, and
/// at least 1e-9, far above the rounding of `k + offset − k` for `|k| ≤ 6`.
fn offset() -> impl Strategy<Value = (bool, f64)> {
    let magnitude = prop_oneof![
        (1e-9..TOL / 2.0).prop_map(|m| (true, m)),
        (2.0 * TOL..0.5).prop_map(|m| (false, m)),
    ];
    (magnitude, any::<bool>())
        .prop_map(|((near, m), negative)| (near, if negative { -m } else { m }))
}

/// The elements of `y`'s node that `kinks_near(TOL)` reports near (not exactly on) a kink.
fn reported_near(tape: &Tape<f64>, y: Var<'_, f64>) -> Vec<usize> {
    let report = tape.kinks_near(TOL);
    report
        .site(y.id())
        .map(|s| s.near.clone())
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // Every kink primitive at points placed beside its kinks as written out above: the report
    // must name exactly the elements placed near, so a wrong kink-distance rule in the engine
    // (a missing bound of `clamp`, a dropped operand) fails here.
    #[test]
    fn kinks_near_reports_exactly_the_elements_placed_near_a_kink(
        offs in prop::collection::vec(offset(), 4),
        upper in prop::collection::vec(any::<bool>(), 4),
        base in v(4),
    ) {
        let want: Vec<usize> = (0..4).filter(|&i| offs[i].0).collect();
        let o: Vec<f64> = offs.iter().map(|p| p.1).collect();
        let tape = Tape::<f64>::new();
        let c = |x: &[f64]| tape.constant_vec(x).unwrap();
        // relu, abs, leaky_relu: the kink at 0.
        let at_zero = c(&o);
        for (name, y) in [("relu", at_zero.relu()), ("abs", at_zero.abs()), ("leaky_relu", at_zero.leaky_relu(0.1))] {
            prop_assert_eq!(reported_near(&tape, y), want.clone(), "{}", name);
        }
        // clamp(−1, 1.5): each element beside the bound `upper` picks (the other is ≥ 2 away).
        let x: Vec<f64> = (0..4).map(|i| if upper[i] { 1.5 } else { -1.0 } + o[i]).collect();
        prop_assert_eq!(reported_near(&tape, c(&x).clamp(-1.0, 1.5)), want.clone(), "clamp");
        // max(a, b), min(a, b) with b = a + offset.
        let a = c(&base);
        let b: Vec<f64> = (0..4).map(|i| base[i] + o[i]).collect();
        let b = c(&b);
        prop_assert_eq!(reported_near(&tape, a.max(b)), want.clone(), "max");
        prop_assert_eq!(reported_near(&tape, a.min(b)), want.clone(), "min");
        // max_n/min_n with a third operand 3 below (above) both: the tie is between a and b.
        let below: Vec<f64> = base.iter().map(|v| v - 3.0).collect();
        let above: Vec<f64> = base.iter().map(|v| v + 3.0).collect();
        prop_assert_eq!(reported_near(&tape, tape.max_n(&[c(&below), a, b])), want.clone(), "max_n");
        prop_assert_eq!(reported_near(&tape, tape.min_n(&[b, c(&above), a])), want.clone(), "min_n");
        // row_max/row_min of a 4 × 3 matrix: row i holds baseᵢ, baseᵢ + oᵢ and one entry 3 away.
        let rows = |far: f64| {
            let m: Vec<f64> = (0..4).flat_map(|i| [base[i], base[i] + o[i], base[i] + far]).collect();
            tape.constant(&m, Shape::matrix(4, 3)).unwrap()
        };
        prop_assert_eq!(reported_near(&tape, rows(-3.0).row_max()), want.clone(), "row_max");
        prop_assert_eq!(reported_near(&tape, rows(3.0).row_min()), want.clone(), "row_min");
        // reduce_max/reduce_min over (base₀, base₀ + o₀, base₀ ∓ 3): one output element.
        let first = if offs[0].0 { vec![0] } else { vec![] };
        let three = |far: f64| c(&[base[0] + far, base[0], base[0] + o[0]]);
        prop_assert_eq!(reported_near(&tape, three(-3.0).reduce_max()), first.clone(), "reduce_max");
        prop_assert_eq!(reported_near(&tape, three(3.0).reduce_min()), first.clone(), "reduce_min");
        // norm of o₀·(1, ½, −¼): ‖x‖ = |o₀|·√1.3125 ≈ 1.15·|o₀|, still below TOL (near) or
        // above 2·TOL (far).
        let x = c(&[o[0], o[0] / 2.0, -o[0] / 4.0]);
        prop_assert_eq!(reported_near(&tape, x.norm()), first, "norm");
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
