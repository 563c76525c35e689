//! Row and column broadcasting of the elementwise ops: values and gradients against explicit
//! loops and against the `reshape` + `matmul` construction it replaces, the square-matrix rule,
//! and the certified mode and the kink report through a broadcast tie.

use autodiff::certify::random_direction;
use autodiff::{Certify, Shape, Tape, Var};

const N: usize = 6;
const K: usize = 3;

/// A `[6, 3]` score matrix, its per-row and per-column operands, and weights `w` for
/// `L = Σᵢⱼ wᵢⱼ·dᵢⱼ`, so that every element of the result counts. All are multiples of ¼, so
/// every sum below is exact in any order.
fn scores() -> Vec<f64> {
    (0..N * K).map(|q| ((q * q) % 7) as f64 - 2.5).collect()
}

fn weights() -> Vec<f64> {
    (0..N * K).map(|q| 1.0 + q as f64 / 4.0).collect()
}

/// `L = Σ w ⊙ d` and its gradients with respect to `s` and `v`.
fn loss_grads<'t>(d: Var<'t, f64>, s: Var<'t, f64>, v: Var<'t, f64>) -> (Vec<f64>, Vec<f64>) {
    let w = d.tape().constant(&weights(), d.shape()).unwrap();
    let g = d.dot(w).backward().unwrap();
    (g.wrt(s).to_vec(), g.wrt(v).to_vec())
}

// Issue 13: `s - sy` for [6, 3] − [6] used to be a shape mismatch (and `-` panicked).
#[test]
fn matrix_minus_a_vector_of_its_row_count_subtracts_from_each_row() {
    let (s, w) = (scores(), weights());
    let v: Vec<f64> = (0..N).map(|i| i as f64 * 1.5 - 3.0).collect();
    let tape = Tape::<f64>::new();
    let sv = tape.param(&s, Shape::matrix(N, K)).unwrap();
    let vv = tape.param_vec(&v).unwrap();
    let d = sv - vv;
    assert_eq!(d.shape(), Shape::matrix(N, K));
    // dᵢⱼ = sᵢⱼ − vᵢ, by explicit loops.
    let want: Vec<f64> = (0..N * K).map(|q| s[q] - v[q / K]).collect();
    assert_eq!(d.value(), want);
    // ∂L/∂s = w;  ∂L/∂vᵢ = −Σⱼ wᵢⱼ.
    let (gs, gv) = loss_grads(d, sv, vv);
    assert_eq!(gs, w);
    let want_v: Vec<f64> = (0..N)
        .map(|i| -(0..K).map(|j| w[i * K + j]).sum::<f64>())
        .collect();
    assert_eq!(gv, want_v);

    // The construction it replaces: v as an [n, 1] column times a [1, k] row of ones.
    let tape = Tape::<f64>::new();
    let sv = tape.param(&s, Shape::matrix(N, K)).unwrap();
    let vv = tape.param_vec(&v).unwrap();
    let ones = tape.constant(&[1.0; K], Shape::matrix(1, K)).unwrap();
    let d = sv - vv.reshape(Shape::matrix(N, 1)).matmul(ones);
    assert_eq!(d.value(), want);
    assert_eq!(loss_grads(d, sv, vv), (w, want_v));
}

#[test]
fn matrix_minus_a_vector_of_its_column_count_subtracts_from_each_column() {
    let (s, w) = (scores(), weights());
    let v = [0.5, -1.0, 2.25];
    let tape = Tape::<f64>::new();
    let sv = tape.param(&s, Shape::matrix(N, K)).unwrap();
    let vv = tape.param_vec(&v).unwrap();
    let d = sv - vv;
    // dᵢⱼ = sᵢⱼ − vⱼ.
    let want: Vec<f64> = (0..N * K).map(|q| s[q] - v[q % K]).collect();
    assert_eq!(d.value(), want);
    // ∂L/∂vⱼ = −Σᵢ wᵢⱼ.
    let (gs, gv) = loss_grads(d, sv, vv);
    assert_eq!(gs, w);
    let want_v: Vec<f64> = (0..K)
        .map(|j| -(0..N).map(|i| w[i * K + j]).sum::<f64>())
        .collect();
    assert_eq!(gv, want_v);

    // A column of ones [n, 1] times v as a [1, k] row.
    let tape = Tape::<f64>::new();
    let sv = tape.param(&s, Shape::matrix(N, K)).unwrap();
    let vv = tape.param_vec(&v).unwrap();
    let ones = tape.constant(&[1.0; N], Shape::matrix(N, 1)).unwrap();
    let d = sv - ones.matmul(vv.reshape(Shape::matrix(1, K)));
    assert_eq!(d.value(), want);
    assert_eq!(loss_grads(d, sv, vv), (w, want_v));
}

// The vector on the left: dᵢⱼ = vᵢ − sᵢⱼ, ∂L/∂vᵢ = +Σⱼ wᵢⱼ, ∂L/∂s = −w.
#[test]
fn a_vector_minus_a_matrix_broadcasts_the_same_way() {
    let (s, w) = (scores(), weights());
    let v: Vec<f64> = (0..N).map(|i| 2.0 - i as f64).collect();
    let tape = Tape::<f64>::new();
    let sv = tape.param(&s, Shape::matrix(N, K)).unwrap();
    let vv = tape.param_vec(&v).unwrap();
    let d = vv - sv;
    let want: Vec<f64> = (0..N * K).map(|q| v[q / K] - s[q]).collect();
    assert_eq!(d.value(), want);
    let (gs, gv) = loss_grads(d, sv, vv);
    assert_eq!(gs, w.iter().map(|x| -x).collect::<Vec<_>>());
    let want_v: Vec<f64> = (0..N).map(|i| (0..K).map(|j| w[i * K + j]).sum()).collect();
    assert_eq!(gv, want_v);
}

// Products and quotients: ∂(s ⊙ v)/∂vᵢ = Σⱼ wᵢⱼ·sᵢⱼ; ∂(s / v)/∂vⱼ = −Σᵢ wᵢⱼ·sᵢⱼ/vⱼ².
#[test]
fn products_and_quotients_sum_their_broadcast_gradients() {
    let (s, w) = (scores(), weights());
    let rows: Vec<f64> = (0..N).map(|i| i as f64 - 2.5).collect();
    let cols = [2.0, -4.0, 0.5];
    let tape = Tape::<f64>::new();
    let sv = tape.param(&s, Shape::matrix(N, K)).unwrap();
    let rv = tape.param_vec(&rows).unwrap();
    let cv = tape.param_vec(&cols).unwrap();
    let p = sv * rv;
    assert_eq!(
        p.value(),
        (0..N * K).map(|q| s[q] * rows[q / K]).collect::<Vec<_>>()
    );
    let (_, g) = loss_grads(p, sv, rv);
    let want: Vec<f64> = (0..N)
        .map(|i| (0..K).map(|j| w[i * K + j] * s[i * K + j]).sum())
        .collect();
    assert_eq!(g, want);
    let q = sv / cv;
    assert_eq!(
        q.value(),
        (0..N * K).map(|e| s[e] / cols[e % K]).collect::<Vec<_>>()
    );
    let (_, g) = loss_grads(q, sv, cv);
    let want: Vec<f64> = (0..K)
        .map(|j| {
            -(0..N)
                .map(|i| w[i * K + j] * s[i * K + j] / cols[j] / cols[j])
                .sum::<f64>()
        })
        .collect();
    for (a, b) in g.iter().zip(&want) {
        assert!(
            (a - b).abs() <= 1e-15 * b.abs().max(1.0),
            "{g:?} vs {want:?}"
        );
    }
}

// The rule for a square matrix, where a [3] vector fits both axes: along the columns (numpy);
// an [n, 1] matrix asks for the rows, a [1, n] matrix for the columns.
#[test]
fn on_a_square_matrix_a_vector_goes_along_the_columns() {
    let tape = Tape::<f64>::new();
    let m = tape
        .param(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
            Shape::matrix(3, 3),
        )
        .unwrap();
    let v = tape.param_vec(&[10.0, 20.0, 30.0]).unwrap();
    let by_columns = vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0, 17.0, 28.0, 39.0];
    let by_rows = vec![11.0, 12.0, 13.0, 24.0, 25.0, 26.0, 37.0, 38.0, 39.0];
    assert_eq!((m + v).value(), by_columns);
    assert_eq!((v + m).value(), by_columns);
    assert_eq!((m + v.reshape(Shape::matrix(1, 3))).value(), by_columns);
    assert_eq!((m + v.reshape(Shape::matrix(3, 1))).value(), by_rows);
    assert_eq!((v.reshape(Shape::matrix(3, 1)) + m).value(), by_rows);
    // The gradient follows the same rule: ∂Σ(m ⊙ v)/∂vⱼ = Σᵢ mᵢⱼ (column sums) …
    let g = (m * v).sum().backward().unwrap();
    assert_eq!(g.wrt(v), &[12.0, 15.0, 18.0]);
    // … and through [3, 1]: the row sums.
    let g = (m * v.reshape(Shape::matrix(3, 1)))
        .sum()
        .backward()
        .unwrap();
    assert_eq!(g.wrt(v), &[6.0, 15.0, 24.0]);
}

// A vector and a one-column or one-row matrix of its length have equal lengths: elementwise.
#[test]
fn a_vector_and_a_matrix_of_its_length_combine_elementwise() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 2.0, 3.0]).unwrap();
    let col = tape
        .param(&[10.0, 20.0, 30.0], Shape::matrix(3, 1))
        .unwrap();
    let row = tape
        .param(&[10.0, 20.0, 30.0], Shape::matrix(1, 3))
        .unwrap();
    let a = v + col;
    assert_eq!(
        (a.shape(), a.value()),
        (Shape::matrix(3, 1), vec![11.0, 22.0, 33.0])
    );
    let b = row * v;
    assert_eq!(
        (b.shape(), b.value()),
        (Shape::matrix(1, 3), vec![10.0, 40.0, 90.0])
    );
    let g = b.sum().backward().unwrap();
    assert_eq!(g.wrt(v), &[10.0, 20.0, 30.0]);
}

/// M = [[2, 2, 0], [5, 1, 1]] against v = (2, 1) per row: ties at elements 0, 1, 4, 5; element
/// 2 is v's, element 3 is M's.
fn tied<'t>(tape: &'t Tape<f64>) -> (Var<'t, f64>, Var<'t, f64>) {
    let m = tape
        .param(&[2.0, 2.0, 0.0, 5.0, 1.0, 1.0], Shape::matrix(2, 3))
        .unwrap();
    let v = tape.param_vec(&[2.0, 1.0]).unwrap();
    (m, v)
}

#[test]
fn broadcast_max_records_a_tie_per_element_and_splits_each() {
    let tape = Tape::<f64>::new();
    let (m, v) = tied(&tape);
    let y = m.max(v);
    assert_eq!(y.value(), vec![2.0, 2.0, 2.0, 5.0, 1.0, 1.0]);
    assert_eq!(tape.kinks().sites()[0].exact, vec![0, 1, 4, 5]);
    // MinNorm, both vary: ½ / ½ at each tie; vᵢ receives its row's weights.
    let g = y.sum().backward().unwrap();
    assert_eq!(g.wrt(m), &[0.5, 0.5, 0.0, 1.0, 0.5, 0.5]);
    assert_eq!(g.wrt(v), &[0.5 + 0.5 + 1.0, 0.5 + 0.5]);
    // Just beside the ties: none exact, the same four elements near (|Mᵢⱼ − vᵢ| = 1e-12).
    let tape = Tape::<f64>::new();
    let m = tape
        .param(&[2.0, 2.0, 0.0, 5.0, 1.0, 1.0], Shape::matrix(2, 3))
        .unwrap();
    let v = tape.param_vec(&[2.0 + 1e-12, 1.0 + 1e-12]).unwrap();
    m.max(v);
    assert!(tape.kinks().is_empty());
    assert_eq!(tape.kinks_near(1e-9).sites()[0].near, vec![0, 1, 4, 5]);
}

#[test]
fn certified_mode_resolves_each_broadcast_max_tie_by_its_tangents() {
    let tape = Tape::<f64>::new();
    let (m, v) = tied(&tape);
    let y = m.max(v).sum();
    let c = tape
        .backward_certified(y, Certify::Random { seed: 5 })
        .unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (4, 4));
    // The direction over the parameters in tape order: M's six elements, then v's two.
    let q = random_direction(5, 8);
    let (qm, qv) = (&q[..6], &q[6..]);
    // At a tie M wins iff its tangent is larger: q_M[e] > q_v[row of e].
    let mut want_m = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut want_v = [1.0, 0.0]; // element 2 is v₀'s
    for e in [0, 1, 4, 5] {
        if qm[e] > qv[e / 3] {
            want_m[e] = 1.0;
        } else {
            want_v[e / 3] += 1.0;
        }
    }
    assert_eq!(c.wrt(m), &want_m[..]);
    assert_eq!(c.wrt(v), &want_v[..]);
}

// The tie sits in `relu(2v − M)` with `2v = v + v`, so its tangent needs the tangent of `v + v`
// (an inner node, which computes only its needed elements) at the broadcast element: vᵢ per
// row, vⱼ per column. v is created first, so the lexicographic directions try its coordinates
// first; along each, every tie it feeds has tangent +2 and turns on. Marking the wrong element
// of `v + v` as needed leaves its tangent unset there, and the ties would be left to M's
// coordinates, which turn them off.
#[test]
fn certified_mode_follows_tangents_through_a_per_row_broadcast() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 0.5]).unwrap();
    let m = tape
        .param(&[2.0, 2.0, 0.0, 5.0, 1.0, 1.0], Shape::matrix(2, 3))
        .unwrap();
    // 2v − M = [[0, 0, 2], [−4, 0, 0]]: ties at 0, 1, 4, 5.
    let y = ((v + v) - m).relu().sum();
    let plain = y.backward().unwrap();
    assert_eq!(plain.wrt(m), &[0.0, 0.0, -1.0, 0.0, 0.0, 0.0]); // relu'(0) = 0
    assert_eq!(plain.wrt(v), &[2.0, 0.0]);
    let c = tape.backward_certified(y, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (4, 4));
    // On: 0, 1, 2, 4, 5. ∂M = −[on];  ∂vᵢ = 2·(on elements in row i).
    assert_eq!(c.wrt(m), &[-1.0, -1.0, -1.0, 0.0, -1.0, -1.0]);
    assert_eq!(c.wrt(v), &[6.0, 4.0]);

    // Ties in row 0 only, so only element 0 of v + v is needed (marking element 1 instead
    // would leave them to M's coordinates): 2v − M = [[0, 0, 2], [−4, −2, −1]].
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 0.5]).unwrap();
    let m = tape
        .param(&[2.0, 2.0, 0.0, 5.0, 3.0, 2.0], Shape::matrix(2, 3))
        .unwrap();
    let y = ((v + v) - m).relu().sum();
    let c = tape.backward_certified(y, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (2, 2));
    assert_eq!(c.wrt(m), &[-1.0, -1.0, -1.0, 0.0, 0.0, 0.0]);
    assert_eq!(c.wrt(v), &[6.0, 0.0]);
}

#[test]
fn certified_mode_follows_tangents_through_a_per_column_broadcast() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 1.5, 0.5]).unwrap();
    let m = tape
        .param(&[2.0, 0.0, 1.0, 5.0, 3.0, 1.0], Shape::matrix(2, 3))
        .unwrap();
    // 2v − M = [[0, 3, 0], [−3, 0, 0]]: ties at 0, 2, 4, 5.
    let y = ((v + v) - m).relu().sum();
    assert_eq!(y.backward().unwrap().wrt(v), &[0.0, 2.0, 0.0]);
    let c = tape.backward_certified(y, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (4, 4));
    // On: 0, 1, 2, 4, 5; per column j the on elements are {0}, {1, 4}, {2, 5}.
    assert_eq!(c.wrt(m), &[-1.0, -1.0, -1.0, 0.0, -1.0, -1.0]);
    assert_eq!(c.wrt(v), &[2.0, 4.0, 4.0]);

    // Ties in column 0 only: 2v − M = [[0, 3, 1], [0, −0.5, −1]].
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 1.5, 0.5]).unwrap();
    let m = tape
        .param(&[2.0, 0.0, 0.0, 2.0, 3.5, 2.0], Shape::matrix(2, 3))
        .unwrap();
    let y = ((v + v) - m).relu().sum();
    assert_eq!(y.backward().unwrap().wrt(v), &[0.0, 2.0, 2.0]);
    let c = tape.backward_certified(y, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (2, 2));
    assert_eq!(c.wrt(m), &[-1.0, -1.0, -1.0, -1.0, 0.0, 0.0]);
    assert_eq!(c.wrt(v), &[4.0, 2.0, 2.0]);
}

// max_n reads every operand as broadcast to the largest, whatever the order of the operands.
#[test]
fn nary_max_broadcasts_each_operand_to_the_largest() {
    let tape = Tape::<f64>::new();
    let r = tape.param_vec(&[1.0, 4.0]).unwrap();
    let m = tape
        .param(&[0.0, 3.0, 2.0, 5.0, 0.0, 1.0], Shape::matrix(2, 3))
        .unwrap();
    let c = tape.param_vec(&[2.5, -1.0, 1.5]).unwrap();
    // max(rᵢ, Mᵢⱼ, cⱼ): row 0: max(1, 0, 2.5) = 2.5 (c), max(1, 3, −1) = 3 (M), max(1, 2, 1.5) = 2
    // (M); row 1: 5 (M), 4 (r), 4 (r).
    let y = tape.max_n(&[r, m, c]);
    assert_eq!(y.shape(), Shape::matrix(2, 3));
    assert_eq!(y.value(), vec![2.5, 3.0, 2.0, 5.0, 4.0, 4.0]);
    let g = y.sum().backward().unwrap();
    assert_eq!(g.wrt(m), &[0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
    assert_eq!(g.wrt(r), &[0.0, 2.0]);
    assert_eq!(g.wrt(c), &[1.0, 0.0, 0.0]);
    assert_eq!(tape.max_n(&[c, r, m]).value(), y.value());
}

// Empty matrices broadcast too: nothing to compute, and the vector's gradient stays 0.
#[test]
fn broadcasting_over_an_empty_matrix_gives_an_empty_result() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 2.0, 3.0]).unwrap();
    let no_rows = tape.param(&[], Shape::matrix(0, 3)).unwrap();
    let no_cols = tape.param(&[], Shape::matrix(3, 0)).unwrap();
    let a = no_rows * v;
    let b = no_cols - v;
    assert_eq!(
        (a.shape(), b.shape()),
        (Shape::matrix(0, 3), Shape::matrix(3, 0))
    );
    let g = (a.sum() + b.sum() + v.sum()).backward().unwrap();
    assert_eq!(g.wrt(v), &[1.0, 1.0, 1.0]);
}
