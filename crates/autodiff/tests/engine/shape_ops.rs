//! The shape primitives — `transpose`, `slice`/`slice_rows`, `concat`/`concat_rows` — against
//! explicit loops, and the certified mode's need marking through them.

use autodiff::{Certify, Shape, Tape};

/// `Xᵢⱼ = i − 2j` (distinct, exact) for an `r × c` matrix.
fn ramp(r: usize, c: usize) -> Vec<f64> {
    (0..r * c)
        .map(|q| (q / c) as f64 - 2.0 * (q % c) as f64)
        .collect()
}

// 40 × 70 spans several 32 × 32 tiles with ragged edges on both axes.
#[test]
fn transpose_of_a_large_matrix_matches_the_loop_and_its_gradient_is_the_transpose() {
    let (r, c) = (40, 70);
    let x = ramp(r, c);
    let tape = Tape::<f64>::new();
    let xv = tape.param(&x, Shape::matrix(r, c)).unwrap();
    let t = xv.transpose();
    assert_eq!(t.shape(), Shape::matrix(c, r));
    // Xᵀⱼᵢ = Xᵢⱼ.
    let want: Vec<f64> = (0..c * r).map(|q| x[(q % r) * c + q / r]).collect();
    assert_eq!(t.value(), want);
    // Σ Xᵀ ⊙ W with Wⱼᵢ = q: ∂Xᵢⱼ = Wⱼᵢ.
    let w: Vec<f64> = (0..c * r).map(|q| q as f64).collect();
    let g = t
        .dot(tape.constant(&w, Shape::matrix(c, r)).unwrap())
        .backward()
        .unwrap();
    let want: Vec<f64> = (0..r * c).map(|q| w[(q % c) * r + q / c]).collect();
    assert_eq!(g.wrt(xv), &want[..]);
    assert_eq!(t.transpose().value(), x);
}

// The ties sit in relu((X + X)ᵀ) at X₀₀ and X₀₂ (output elements 0 and 4): their tangents
// need the tangents of X + X at input elements 0 and 2 (`add` computes only the needed ones).
// Along the coordinate directions X₀₀ and X₀₂ each has tangent +2 and turns on; a wrong need
// mapping would leave the sum's tangent unset there and the tie at relu'(0) = 0.
#[test]
fn certified_mode_follows_tangents_through_a_transpose() {
    let tape = Tape::<f64>::new();
    let x = tape
        .param(&[0.0, 1.0, 0.0, 2.0, -1.0, 3.0], Shape::matrix(2, 3))
        .unwrap();
    let y = (x + x).transpose().relu().sum();
    assert_eq!(
        y.backward().unwrap().wrt(x),
        &[0.0, 2.0, 0.0, 2.0, 0.0, 2.0]
    );
    let c = tape.backward_certified(y, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (2, 2));
    assert_eq!(c.wrt(x), &[2.0, 2.0, 2.0, 2.0, 0.0, 2.0]);
}

#[test]
fn slices_are_the_loop_ranges_and_their_gradient_is_zero_outside() {
    let tape = Tape::<f64>::new();
    let x: Vec<f64> = (0..7).map(|i| i as f64 * 1.5 - 4.0).collect();
    let xv = tape.param_vec(&x).unwrap();
    let s = xv.slice(2, 6);
    assert_eq!((s.shape(), s.value()), (Shape::vector(4), x[2..6].to_vec()));
    // Σ wₖ·x₂₊ₖ with w = (1, 2, 3, 4): ∂x = (0, 0, 1, 2, 3, 4, 0).
    let w = tape.constant_vec(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let g = s.dot(w).backward().unwrap();
    assert_eq!(g.wrt(xv), &[0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0]);
    // Empty and full ranges.
    assert_eq!(xv.slice(3, 3).shape(), Shape::vector(0));
    assert_eq!(xv.slice(0, 7).value(), x);

    let m = ramp(5, 3);
    let mv = tape.param(&m, Shape::matrix(5, 3)).unwrap();
    let rows = mv.slice_rows(1, 4);
    assert_eq!(
        (rows.shape(), rows.value()),
        (Shape::matrix(3, 3), m[3..12].to_vec())
    );
    // Σᵢ (i + 1)·rowsum(rows)ᵢ: rows 1, 2, 3 of M get 1, 2, 3; rows 0 and 4 get 0.
    let r = tape.constant_vec(&[1.0, 2.0, 3.0]).unwrap();
    let g = rows.row_sum().dot(r).backward().unwrap();
    let want: Vec<f64> = (0..15).map(|q| [0.0, 1.0, 2.0, 3.0, 0.0][q / 3]).collect();
    assert_eq!(g.wrt(mv), &want[..]);
    assert_eq!(mv.slice_rows(5, 5).shape(), Shape::matrix(0, 3));
}

// The tie sits in relu(slice(x + x, 2, 4)) at output element 1, which reads element 3 of x + x.
#[test]
fn certified_mode_follows_tangents_through_a_slice() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.0, 1.0, -1.0, 0.0, 2.0]).unwrap();
    let y = (x + x).slice(2, 4).relu().sum();
    assert_eq!(y.backward().unwrap().wrt(x), &[0.0; 5]);
    let c = tape.backward_certified(y, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (1, 1));
    assert_eq!(c.wrt(x), &[0.0, 0.0, 0.0, 2.0, 0.0]);
}

#[test]
fn concat_lays_operands_end_to_end_and_splits_the_gradient_back() {
    let tape = Tape::<f64>::new();
    let a = tape.param_vec(&[1.0, 2.0]).unwrap();
    let b = tape.param_vec(&[3.0, 4.0, 5.0]).unwrap();
    let k = tape.constant_vec(&[9.0]).unwrap();
    let e = tape.param_vec(&[]).unwrap();
    let c = tape.concat(&[b, k, a, e, b]);
    assert_eq!(c.value(), vec![3.0, 4.0, 5.0, 9.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    // Σ wₖ·cₖ with wₖ = k + 1: b sits at 0..3 and 6..9, a at 4..6.
    let w: Vec<f64> = (1..=9).map(f64::from).collect();
    let g = c.dot(tape.constant_vec(&w).unwrap()).backward().unwrap();
    assert_eq!(g.wrt(a), &[5.0, 6.0]);
    assert_eq!(g.wrt(b), &[1.0 + 7.0, 2.0 + 8.0, 3.0 + 9.0]);
    assert_eq!(g.wrt(e), &[] as &[f64]);

    let top = tape.param(&ramp(2, 3), Shape::matrix(2, 3)).unwrap();
    let bottom = tape.param(&ramp(1, 3), Shape::matrix(1, 3)).unwrap();
    let m = tape.concat_rows(&[top, bottom, top]);
    assert_eq!(m.shape(), Shape::matrix(5, 3));
    assert_eq!(m.value(), [ramp(2, 3), ramp(1, 3), ramp(2, 3)].concat());
    // Σᵢ (i + 1)·rowsum(m)ᵢ: top is rows 0–1 and 3–4, bottom is row 2.
    let r = tape.constant_vec(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let g = m.row_sum().dot(r).backward().unwrap();
    assert_eq!(g.wrt(top), &[5.0, 5.0, 5.0, 7.0, 7.0, 7.0]);
    assert_eq!(g.wrt(bottom), &[3.0, 3.0, 3.0]);
}

// The tie sits in relu(concat(x, y + y)) at output element 3, which is element 1 of y + y.
#[test]
fn certified_mode_follows_tangents_through_a_concat() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1.0, -1.0]).unwrap();
    let y = tape.param_vec(&[2.0, 0.0]).unwrap();
    let f = tape.concat(&[x, y + y]).relu().sum();
    assert_eq!(f.backward().unwrap().wrt(y), &[2.0, 0.0]);
    let c = tape.backward_certified(f, Certify::Lexicographic).unwrap();
    assert_eq!((c.stats.ties, c.stats.resolved), (1, 1));
    assert_eq!(c.wrt(x), &[1.0, 0.0]);
    assert_eq!(c.wrt(y), &[2.0, 2.0]);
}
