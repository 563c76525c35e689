//! Bad input gives typed errors that name the operation, never a panic in the `try_` forms.

use autodiff::{Error, Shape, Tape};

#[test]
fn errors_are_send_sync_and_static() {
    fn assert_bounds<E: std::error::Error + Send + Sync + 'static>() {}
    assert_bounds::<Error>();
}

#[test]
fn shape_mismatch_names_the_op_and_both_shapes() {
    let tape = Tape::<f64>::new();
    let a = tape.param_vec(&[1.0, 2.0]).unwrap();
    let b = tape.param_vec(&[1.0, 2.0, 3.0]).unwrap();
    let err = a.try_add(b).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "add",
            lhs: Shape::vector(2),
            rhs: Shape::vector(3)
        }
    );
    assert_eq!(err.to_string(), "add: shape mismatch between [2] and [3]");
    assert!(a.try_mul(b).is_err() && a.try_sub(b).is_err() && a.try_div(b).is_err());
    assert!(a.try_dot(b).is_err() && a.try_max(b).is_err() && a.try_min(b).is_err());
    assert!(tape.try_max_n(&[a, b]).is_err());
}

#[test]
fn operator_panics_with_the_same_message() {
    let tape = Tape::<f64>::new();
    let a = tape.param_vec(&[1.0, 2.0]).unwrap();
    let b = tape.param_vec(&[1.0, 2.0, 3.0]).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a + b)).unwrap_err();
    let message = caught.downcast_ref::<String>().unwrap();
    assert_eq!(message, "add: shape mismatch between [2] and [3]");
}

#[test]
fn linear_algebra_shape_errors() {
    let tape = Tape::<f64>::new();
    let m = tape.constant(&[1.0; 6], Shape::matrix(2, 3)).unwrap();
    let v2 = tape.param_vec(&[1.0; 2]).unwrap();
    assert!(matches!(
        m.try_matvec(v2),
        Err(Error::ShapeMismatch { op: "matvec", .. })
    ));
    assert!(matches!(
        v2.try_matvec(v2),
        Err(Error::InvalidShape { op: "matvec", .. })
    ));
    assert!(matches!(
        m.try_matmul(m),
        Err(Error::ShapeMismatch { op: "matmul", .. })
    ));
    assert!(matches!(
        v2.try_row_max(),
        Err(Error::InvalidShape { op: "row_max", .. })
    ));
    assert!(matches!(
        v2.try_row_sum(),
        Err(Error::InvalidShape { op: "row_sum", .. })
    ));
    assert!(matches!(
        m.try_gather(&[0]),
        Err(Error::ShapeMismatch { op: "gather", .. })
    ));
    assert_eq!(
        m.try_gather(&[0, 3]).unwrap_err(),
        Error::IndexOutOfRange {
            op: "gather",
            row: 1,
            index: 3,
            len: 3
        }
    );
}

#[test]
fn leaves_reject_wrong_lengths_and_non_finite_values() {
    let tape = Tape::<f64>::new();
    assert_eq!(
        tape.param(&[1.0, 2.0], Shape::matrix(2, 2)).unwrap_err(),
        Error::DataLength {
            op: "param",
            shape: Shape::matrix(2, 2),
            len: 2
        }
    );
    let err = tape.constant_vec(&[1.0, f64::NAN]).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            op: "constant",
            index: 1,
            ..
        }
    ));
    assert!(tape.param_scalar(f64::INFINITY).is_err());
    assert!(tape.param_vec(&[0.0]).unwrap().try_max(f64::NAN).is_err());
}

#[test]
fn domain_errors_name_the_element() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1.0, -1.0]).unwrap();
    assert!(matches!(
        x.try_ln(),
        Err(Error::Domain {
            op: "ln",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        x.try_sqrt(),
        Err(Error::Domain {
            op: "sqrt",
            index: 1,
            ..
        })
    ));
    let z = tape.constant_vec(&[2.0, 0.0]).unwrap();
    assert!(matches!(
        x.try_div(z),
        Err(Error::Domain {
            op: "div",
            index: 1,
            ..
        })
    ));
    let big = tape.param_vec(&[1.0, 800.0]).unwrap();
    assert!(matches!(
        big.try_exp(),
        Err(Error::Domain {
            op: "exp",
            index: 1,
            ..
        })
    ));
    let f32_tape = Tape::<f32>::new();
    assert!(f32_tape.param_scalar(100.0f32).unwrap().try_exp().is_err());
}

#[test]
fn backward_needs_a_finite_scalar_output() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1.0, 2.0]).unwrap();
    assert_eq!(
        x.backward().unwrap_err(),
        Error::NotScalar {
            shape: Shape::vector(2)
        }
    );
    // sqrt'(0) = +∞ reaching a parameter is reported, not returned.
    let z = tape.param_scalar(0.0).unwrap();
    assert!(matches!(
        z.sqrt().backward(),
        Err(Error::NonFinite { op: "backward", .. })
    ));
    // Overflow to ∞ in the forward pass is caught at the output.
    let big = tape.param_scalar(1e200).unwrap();
    assert!(matches!(
        big.square().backward(),
        Err(Error::NonFinite { op: "backward", .. })
    ));
}

#[test]
fn handles_of_another_tape_are_rejected() {
    let t1 = Tape::<f64>::new();
    let t2 = Tape::<f64>::new();
    let a = t1.param_scalar(1.0).unwrap();
    let b = t2.param_scalar(1.0).unwrap();
    assert_eq!(a.try_add(b).unwrap_err(), Error::ForeignVar { op: "add" });
    assert_eq!(
        t1.backward(b).unwrap_err(),
        Error::ForeignVar { op: "backward" }
    );
    assert!(t1.try_max_n(&[a, b]).is_err());
    let g = a.square().backward().unwrap();
    assert!(g.try_wrt(b).is_err());
}

#[test]
fn gradients_of_constants_are_an_error() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    let c = tape.constant_scalar(2.0).unwrap();
    let g = (x * c).backward().unwrap();
    assert_eq!(g.wrt(x)[0], 2.0);
    assert!(matches!(g.try_wrt(c), Err(Error::NoGradient { .. })));
}

#[test]
fn empty_reductions_and_bad_bounds_are_errors() {
    let tape = Tape::<f64>::new();
    let e = tape.param_vec(&[]).unwrap();
    assert_eq!(e.sum().item(), 0.0);
    assert_eq!(e.try_mean().unwrap_err(), Error::Empty { op: "mean" });
    assert_eq!(
        e.try_reduce_max().unwrap_err(),
        Error::Empty { op: "reduce_max" }
    );
    assert_eq!(
        tape.try_max_n(&[]).unwrap_err(),
        Error::Empty { op: "max_n" }
    );
    let x = tape.param_scalar(0.0).unwrap();
    assert!(x.try_clamp(1.0, 0.0).is_err());
    assert!(x.try_clamp(f64::NAN, 0.0).is_err());
}
