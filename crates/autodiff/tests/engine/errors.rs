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

// Row and column broadcasting accepts a vector of the row or column count (or a one-row or
// one-column matrix); anything else still names both shapes, in the caller's order.
#[test]
fn shapes_that_do_not_broadcast_name_both_shapes() {
    let tape = Tape::<f64>::new();
    let s = tape.param(&[0.0; 18], Shape::matrix(6, 3)).unwrap();
    let v4 = tape.param_vec(&[0.0; 4]).unwrap();
    let err = s.try_sub(v4).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "sub",
            lhs: Shape::matrix(6, 3),
            rhs: Shape::vector(4)
        }
    );
    assert_eq!(
        err.to_string(),
        "sub: shape mismatch between [6, 3] and [4]"
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s - v4)).unwrap_err();
    assert_eq!(caught.downcast_ref::<String>().unwrap(), &err.to_string());
    assert_eq!(
        v4.try_max(s).unwrap_err(),
        Error::ShapeMismatch {
            op: "max",
            lhs: Shape::vector(4),
            rhs: Shape::matrix(6, 3)
        }
    );
    // A transposed matrix, matrices with a wrong side, [6, 1] against [1, 3] (no outer
    // product), and vectors of different lengths (a vector broadcasts only along a matrix).
    let pairs = [
        (Shape::matrix(6, 3), Shape::matrix(3, 6)),
        (Shape::matrix(6, 3), Shape::matrix(6, 2)),
        (Shape::matrix(6, 3), Shape::matrix(1, 6)),
        (Shape::matrix(6, 3), Shape::matrix(3, 1)),
        (Shape::matrix(6, 1), Shape::matrix(1, 3)),
        (Shape::vector(6), Shape::vector(3)),
    ];
    for (lhs, rhs) in pairs {
        let a = tape.param(&vec![1.0; lhs.len()], lhs).unwrap();
        let b = tape.param(&vec![1.0; rhs.len()], rhs).unwrap();
        let want = |op| Error::ShapeMismatch { op, lhs, rhs };
        assert_eq!(a.try_add(b).unwrap_err(), want("add"), "{lhs} + {rhs}");
        assert_eq!(a.try_mul(b).unwrap_err(), want("mul"), "{lhs} * {rhs}");
        assert_eq!(a.try_div(b).unwrap_err(), want("div"), "{lhs} / {rhs}");
        assert_eq!(a.try_min(b).unwrap_err(), want("min"), "min({lhs}, {rhs})");
        assert!(tape.try_max_n(&[a, b]).is_err(), "max_n({lhs}, {rhs})");
    }
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
fn transpose_of_a_vector_or_a_scalar_is_an_error() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 2.0]).unwrap();
    let err = v.try_transpose().unwrap_err();
    assert_eq!(
        err,
        Error::InvalidShape {
            op: "transpose",
            expected: "a matrix",
            shape: Shape::vector(2)
        }
    );
    assert_eq!(
        err.to_string(),
        "transpose: expected a matrix, got shape [2]"
    );
    let s = tape.param_scalar(1.0).unwrap();
    assert!(matches!(
        s.try_transpose(),
        Err(Error::InvalidShape {
            op: "transpose",
            ..
        })
    ));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| v.transpose()));
    let caught = caught.unwrap_err();
    assert_eq!(caught.downcast_ref::<String>().unwrap(), &err.to_string());
}

#[test]
fn slices_out_of_range_are_errors() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let m = tape.param(&[1.0; 6], Shape::matrix(3, 2)).unwrap();
    let err = v.try_slice(2, 5).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidRange {
            op: "slice",
            start: 2,
            end: 5,
            len: 4
        }
    );
    assert_eq!(
        err.to_string(),
        "slice: range 2..5 is invalid for length 4 (need start ≤ end ≤ 4)"
    );
    // Reversed, and starting past the end.
    assert!(matches!(
        v.try_slice(3, 1),
        Err(Error::InvalidRange {
            start: 3,
            end: 1,
            ..
        })
    ));
    assert!(v.try_slice(5, 5).is_err());
    assert!(v.try_slice(usize::MAX, usize::MAX).is_err());
    assert_eq!(
        m.try_slice_rows(1, 4).unwrap_err(),
        Error::InvalidRange {
            op: "slice_rows",
            start: 1,
            end: 4,
            len: 3
        }
    );
    assert!(m.try_slice_rows(2, 1).is_err());
    // Each method wants its rank.
    assert_eq!(
        m.try_slice(0, 1).unwrap_err(),
        Error::InvalidShape {
            op: "slice",
            expected: "a vector",
            shape: Shape::matrix(3, 2)
        }
    );
    assert!(matches!(
        v.try_slice_rows(0, 1),
        Err(Error::InvalidShape {
            op: "slice_rows",
            ..
        })
    ));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| v.slice(2, 5)));
    let caught = caught.unwrap_err();
    assert_eq!(caught.downcast_ref::<String>().unwrap(), &err.to_string());
}

#[test]
fn concat_of_mismatched_shapes_is_an_error() {
    let tape = Tape::<f64>::new();
    let v = tape.param_vec(&[1.0, 2.0]).unwrap();
    let m23 = tape.param(&[1.0; 6], Shape::matrix(2, 3)).unwrap();
    let m22 = tape.param(&[1.0; 4], Shape::matrix(2, 2)).unwrap();
    assert_eq!(
        tape.try_concat(&[v, m23]).unwrap_err(),
        Error::InvalidShape {
            op: "concat",
            expected: "vectors",
            shape: Shape::matrix(2, 3)
        }
    );
    let s = tape.param_scalar(1.0).unwrap();
    assert!(matches!(
        tape.try_concat(&[s]),
        Err(Error::InvalidShape { op: "concat", .. })
    ));
    let err = tape.try_concat_rows(&[m23, m23, m22]).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "concat_rows",
            lhs: Shape::matrix(2, 3),
            rhs: Shape::matrix(2, 2)
        }
    );
    assert_eq!(
        err.to_string(),
        "concat_rows: shape mismatch between [2, 3] and [2, 2]"
    );
    assert!(matches!(
        tape.try_concat_rows(&[m23, v]),
        Err(Error::InvalidShape {
            op: "concat_rows",
            ..
        })
    ));
    assert_eq!(
        tape.try_concat(&[]).unwrap_err(),
        Error::Empty { op: "concat" }
    );
    assert_eq!(
        tape.try_concat_rows(&[]).unwrap_err(),
        Error::Empty { op: "concat_rows" }
    );
    let other = Tape::<f64>::new();
    let foreign = other.param_vec(&[1.0]).unwrap();
    assert_eq!(
        tape.try_concat(&[v, foreign]).unwrap_err(),
        Error::ForeignVar { op: "concat" }
    );
    let len = tape.len();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tape.concat_rows(&[m23, m22])
    }));
    assert_eq!(
        caught.unwrap_err().downcast_ref::<String>().unwrap(),
        &err.to_string()
    );
    assert_eq!(tape.len(), len); // nothing was pushed
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

// Issue 9, item 6: a parameter pushed after backward used to index past the gradient buffer.
#[test]
fn gradient_of_a_parameter_created_after_backward_is_an_error() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(2.0).unwrap();
    let g = x.square().backward().unwrap();
    let late = tape.param_vec(&[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(g.try_wrt(late), Err(Error::StaleGradients { node: 2 }));
    assert_eq!(g.try_wrt(x).unwrap(), &[4.0]); // ∂x²/∂x = 2x = 4
}

#[test]
fn shape_element_count_overflow_is_an_error() {
    assert_eq!(
        Shape::try_matrix(1 << 63, 2),
        Err(Error::ShapeOverflow {
            rows: 1 << 63,
            cols: 2
        })
    );
    let caught = std::panic::catch_unwind(|| Shape::matrix(1 << 63, 2)).unwrap_err();
    let message = caught.downcast_ref::<&str>().unwrap();
    assert_eq!(
        *message,
        "shape: rows × cols elements overflow the address space"
    );
    // The largest representable count is accepted: usize::MAX = usize::MAX × 1.
    assert_eq!(Shape::try_matrix(usize::MAX, 1).unwrap().len(), usize::MAX);
}

/// A custom op whose output shape is whatever it was built with (a hostile or buggy author).
struct Huge(Shape);

impl autodiff::CustomOp<f64> for Huge {
    fn name(&self) -> &str {
        "huge"
    }
    fn output_shape(&self, _: &autodiff::Inputs<'_, f64>) -> autodiff::Result<Shape> {
        Ok(self.0)
    }
    fn forward(&self, _: &autodiff::Inputs<'_, f64>, out: &mut [f64]) -> autodiff::Result<()> {
        out.fill(0.0);
        Ok(())
    }
}

// 10¹² f64 values are 8 TB: far beyond this machine and any overcommit heuristic, so the
// allocation must fail and come back as an error rather than abort the process.
#[test]
fn impossible_allocations_are_errors() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    let huge = Shape::matrix(1_000_000, 1_000_000);
    let err = tape
        .custom(std::sync::Arc::new(Huge(huge)), &[x])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Allocation {
                op: "custom",
                elements: 1_000_000_000_000,
                ..
            }
        ),
        "{err}"
    );
    // The tape is unchanged and usable: the next node is node 1.
    assert_eq!(tape.len(), 1);
    assert_eq!(x.square().id().index(), 1);
    // 10⁵ × 1 by 1 × 10⁵: an outer product of 10¹⁰ values (80 GB).
    let a = tape
        .param(&vec![1.0; 100_000], Shape::matrix(100_000, 1))
        .unwrap();
    let b = tape
        .param(&vec![1.0; 100_000], Shape::matrix(1, 100_000))
        .unwrap();
    let err = a.try_matmul(b).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Allocation {
                op: "matmul",
                elements: 10_000_000_000,
                ..
            }
        ),
        "{err}"
    );
}

// One rule for every number a caller hands the engine: it must be finite, in the operator
// shorthands (`x + c`) as in `max`'s constant operand.
#[test]
fn non_finite_constants_are_rejected_by_every_operation() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    assert!(matches!(
        x.try_affine(1.0, f64::NAN),
        Err(Error::NonFinite { op: "affine", .. })
    ));
    assert!(matches!(
        x.try_max(f64::NAN),
        Err(Error::NonFinite { op: "constant", .. })
    ));
    for k in 0..3 {
        let f = || match k {
            0 => x + f64::NAN,
            1 => x * f64::INFINITY,
            _ => x - f64::NEG_INFINITY,
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        let message = caught.downcast_ref::<String>().unwrap();
        assert!(message.starts_with("affine: non-finite value"), "{message}");
    }
}

// `x / 0.0` panics with its fallible twin's message, not a message of its own.
#[test]
fn division_by_the_constant_zero_has_a_fallible_twin_with_the_same_message() {
    let tape = Tape::<f64>::new();
    let x = tape.param_scalar(1.0).unwrap();
    let err = x.try_div_scalar(0.0).unwrap_err();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| x / 0.0)).unwrap_err();
    assert_eq!(caught.downcast_ref::<String>().unwrap(), &err.to_string());
    assert_eq!((x / 4.0).item(), 0.25);
}

std::thread_local! {
    static PANIC_FILE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the file the panic was reported at.
fn panic_location(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file().to_string());
            PANIC_FILE.with(|p| *p.borrow_mut() = file);
            default(info);
        }));
    });
    assert!(std::panic::catch_unwind(f).is_err());
    PANIC_FILE.with(|p| p.borrow_mut().take()).unwrap()
}

// `#[track_caller]` on every layer: a shape mismatch names the user's line, not `var.rs`.
#[test]
fn operator_panics_point_at_the_callers_line() {
    let here = file!();
    let tape = Tape::<f64>::new();
    let a = tape.param_vec(&[1.0, 2.0]).unwrap();
    let b = tape.param_vec(&[1.0, 2.0, 3.0]).unwrap();
    let s = tape.param(&[1.0; 6], Shape::matrix(2, 3)).unwrap();
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = a + b;
        })),
        here
    );
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = a * b;
        })),
        here
    );
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = a.max(b);
        })),
        here
    );
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = a.dot(b);
        })),
        here
    );
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = s.matvec(s);
        })),
        here
    );
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = a / 0.0;
        })),
        here
    );
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = a.item();
        })),
        here
    );
    let g = a.sum().backward().unwrap();
    let c = tape.constant_scalar(1.0).unwrap();
    assert_eq!(
        panic_location(std::panic::AssertUnwindSafe(|| {
            let _ = g.wrt(c);
        })),
        here
    );
}

#[test]
fn log1p_powi_and_powf_reject_bad_input_with_typed_errors() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[0.5, -1.0]).unwrap();
    // ln(1 + x) needs x > −1: −1 is the pole.
    assert_eq!(
        x.try_log1p().unwrap_err(),
        Error::Domain {
            op: "log1p",
            index: 1,
            value: -1.0,
            domain: "x > −1",
        }
    );
    // A real power of a negative base.
    assert!(matches!(
        x.try_powf(2.0),
        Err(Error::Domain {
            op: "powf",
            index: 1,
            ..
        })
    ));
    // x^0.5 at 0 has an infinite slope; x^p for p ≥ 1 (and p = 0) is fine there.
    let z = tape.param_vec(&[1.0, 0.0]).unwrap();
    assert!(matches!(
        z.try_powf(0.5),
        Err(Error::Domain {
            op: "powf",
            index: 1,
            ..
        })
    ));
    assert_eq!(z.try_powf(2.0).unwrap().value(), vec![1.0, 0.0]);
    assert_eq!(z.try_powf(0.0).unwrap().value(), vec![1.0, 1.0]);
    assert!(matches!(
        z.try_powf(f64::NAN),
        Err(Error::InvalidArgument { op: "powf", .. })
    ));
    // 0⁻¹ is the pole of a negative integer power.
    assert!(matches!(
        z.try_powi(-1),
        Err(Error::Domain {
            op: "powi",
            index: 1,
            ..
        })
    ));
    // The panicking twins panic with the fallible form's message.
    type Shorthand = fn(autodiff::Var<'_, f64>) -> autodiff::Var<'_, f64>;
    let cases: [(Shorthand, String); 3] = [
        (|v| v.log1p(), x.try_log1p().unwrap_err().to_string()),
        (|v| v.powf(0.5), x.try_powf(0.5).unwrap_err().to_string()),
        (|v| v.powi(-1), z.try_powi(-1).unwrap_err().to_string()),
    ];
    let operands = [x, x, z];
    for ((shorthand, message), v) in cases.into_iter().zip(operands) {
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shorthand(v))).unwrap_err();
        assert_eq!(caught.downcast_ref::<String>().unwrap(), &message);
    }
}

#[test]
fn leaky_relu_rejects_a_non_finite_slope_with_a_typed_error() {
    let tape = Tape::<f64>::new();
    let x = tape.param_vec(&[1.0, 0.0]).unwrap();
    for alpha in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = x.try_leaky_relu(alpha).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    op: "leaky_relu",
                    what: "slope",
                    ..
                }
            ),
            "{err}"
        );
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| x.leaky_relu(alpha)))
            .unwrap_err();
        assert_eq!(caught.downcast_ref::<String>().unwrap(), &err.to_string());
    }
}

#[test]
fn the_tie_tolerance_must_be_finite_and_not_negative() {
    let tape = Tape::<f64>::new();
    for bad in [-1e-16, f64::NAN, f64::INFINITY] {
        let err = tape.set_tie_tolerance(bad).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    op: "set_tie_tolerance",
                    what: "tolerance",
                    ..
                }
            ),
            "{err}"
        );
    }
    // A refused value leaves the default, 4 ε; 0 and a positive value are accepted and kept
    // across `clear`.
    assert_eq!(tape.tie_tolerance(), 4.0 * f64::EPSILON);
    let mut tape = Tape::<f32>::new();
    assert_eq!(tape.tie_tolerance(), 4.0 * f32::EPSILON);
    tape.set_tie_tolerance(0.0).unwrap();
    tape.clear();
    assert_eq!(tape.tie_tolerance(), 0.0);
}
