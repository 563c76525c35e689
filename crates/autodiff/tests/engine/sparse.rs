//! `SparseData` and `Tape::sparse_matvec`: values and gradients equal the dense `matvec` on
//! the same matrix (another kernel) and a hand loop; the certified mode sees through it; bad
//! structures are typed errors.

use autodiff::{Certify, Data, Error, Shape, SparseData, Tape};
use proptest::prelude::*;

/// A random sparse `rows × cols` matrix (about a third of the entries stored) and its dense
/// copy, integer values so every sum is exact.
fn matrix() -> impl Strategy<Value = (SparseData<f64>, Vec<f64>, usize, usize)> {
    (1usize..6, 1usize..7).prop_flat_map(|(rows, cols)| {
        proptest::collection::vec((0u8..3, -4i8..5), rows * cols).prop_map(move |cells| {
            let mut dense = vec![0.0; rows * cols];
            let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
            for r in 0..rows {
                for c in 0..cols {
                    let (keep, v) = cells[r * cols + c];
                    if keep == 0 && v != 0 {
                        dense[r * cols + c] = f64::from(v);
                        indices.push(c as u32);
                        values.push(f64::from(v));
                    }
                }
                indptr.push(indices.len());
            }
            let sparse = SparseData::new(indptr, indices, values, cols).unwrap();
            (sparse, dense, rows, cols)
        })
    })
}

proptest! {
    #[test]
    fn sparse_matvec_equals_dense_matvec_and_the_hand_loop(
        (x, dense, rows, cols) in matrix(),
        w in proptest::collection::vec(-3i8..4, 6),
        y in proptest::collection::vec(prop_oneof![Just(-1.0), Just(1.0)], 5),
    ) {
        let w: Vec<f64> = w[..cols].iter().map(|&v| f64::from(v)).collect();
        let y = &y[..rows.min(5)];
        prop_assume!(y.len() == rows);
        // The hinge sum Σ relu(1 − yᵢ·xᵢ·w) on both paths.
        let run = |sparse: bool| {
            let tape = Tape::<f64>::new();
            let wv = tape.param_vec(&w).unwrap();
            let z = if sparse {
                tape.sparse_matvec(&x, wv).unwrap()
            } else {
                let xd = Data::new(dense.clone(), Shape::matrix(rows, cols)).unwrap();
                tape.data(&xd).matvec(wv)
            };
            let yv = tape.constant_vec(y).unwrap();
            let f = (1.0 - yv * z).relu().sum();
            let g = tape.backward(f).unwrap();
            (f.item(), g.wrt(wv).to_vec())
        };
        let (fs, gs) = run(true);
        let (fd, gd) = run(false);
        prop_assert_eq!(fs, fd);
        prop_assert_eq!(&gs, &gd);
        // Hand loop: f = Σ max(0, 1 − zᵢ), ∂f/∂w = −Σ_{zᵢ<1} yᵢxᵢ (relu'(0) = 0 by default).
        let mut f = 0.0;
        let mut g = vec![0.0; cols];
        for r in 0..rows {
            let z: f64 = (0..cols).map(|c| dense[r * cols + c] * w[c]).sum::<f64>() * y[r];
            f += (1.0 - z).max(0.0);
            if z < 1.0 {
                for c in 0..cols {
                    g[c] -= y[r] * dense[r * cols + c];
                }
            }
        }
        prop_assert_eq!(fs, f);
        prop_assert_eq!(gs, g);
    }
}

#[test]
fn certified_mode_sees_through_a_sparse_product() {
    // f(w) = Σᵢ relu(xᵢ·w) − relu(−xᵢ·w) = Σᵢ xᵢ·w, so ∇f = Xᵀ·1 = column sums, at every w —
    // including w = 0, where every relu is at its kink and the default policy returns 0.
    let x = SparseData::new(vec![0, 2, 3, 3], vec![0, 2, 1], vec![1.0, -2.0, 3.0], 3).unwrap();
    let tape = Tape::<f64>::new();
    let w = tape.param_vec(&[0.0, 0.0, 0.0]).unwrap();
    let z = tape.sparse_matvec(&x, w).unwrap();
    let f = (z.relu() - (-z).relu()).sum();
    assert_eq!(tape.backward(f).unwrap().wrt(w), &[0.0, 0.0, 0.0]);
    let c = tape
        .backward_certified(f, Certify::Random { seed: 3 })
        .unwrap();
    assert_eq!(c.gradients.wrt(w), &[1.0, 3.0, -2.0]);
}

#[test]
fn bad_sparse_input_is_a_typed_error() {
    let structure = |r: Result<SparseData<f64>, Error>| match r {
        Err(Error::SparseStructure(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        structure(SparseData::new(vec![1, 1], vec![0], vec![1.0], 2)),
        "the row offsets must start at 0"
    );
    assert_eq!(
        structure(SparseData::new(vec![0, 2], vec![1, 1], vec![1.0, 1.0], 2)),
        "row 0: columns must strictly increase"
    );
    assert_eq!(
        structure(SparseData::new(vec![0, 1], vec![2], vec![1.0], 2)),
        "row 0: a column is not below 2"
    );
    assert_eq!(
        structure(SparseData::new(
            vec![0, 2, 1, 2],
            vec![0, 1],
            vec![1.0, 1.0],
            2
        )),
        "the row offsets decrease at row 1"
    );
    assert!(matches!(
        SparseData::new(vec![0, 1], vec![0], vec![f64::NAN], 2),
        Err(Error::NonFinite { index: 0, .. })
    ));
    let x = SparseData::new(vec![0, 1], vec![0], vec![1.0], 2).unwrap();
    let tape = Tape::<f64>::new();
    let short = tape.param_vec(&[1.0]).unwrap();
    assert!(matches!(
        tape.sparse_matvec(&x, short),
        Err(Error::ShapeMismatch {
            op: "sparse_matvec",
            ..
        })
    ));
    let other = Tape::<f64>::new();
    let foreign = other.param_vec(&[1.0, 1.0]).unwrap();
    assert!(matches!(
        tape.sparse_matvec(&x, foreign),
        Err(Error::ForeignVar { .. })
    ));
}
