//! Invalid input gives a typed error.

use autodiff::{Shape, Tape};
use losses::{
    all_pairs_value_grad, linear_value_grad, Error, MarginLoss, MulticlassLoss, Objective,
};

#[test]
fn errors_are_send_sync_and_static() {
    fn bounds<E: std::error::Error + Send + Sync + 'static>() {}
    bounds::<Error>();
}

#[test]
fn binary_labels_must_be_plus_or_minus_one() {
    let err = linear_value_grad(
        MarginLoss::hinge(),
        &[1.0, 2.0],
        1,
        &[1.0, 0.0],
        &[1.0],
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::InvalidLabel {
            index: 1,
            value: 0.0
        }
    );
    assert_eq!(err.to_string(), "label 0 of example 1 is not +1 or -1");
    assert!(matches!(
        all_pairs_value_grad(&[1.0, 2.0], &[1.0, 2.0], 1.0),
        Err(Error::InvalidLabel { index: 1, .. })
    ));
}

#[test]
fn class_labels_must_be_in_range() {
    let err = MulticlassLoss::weston_watkins()
        .value_grad(&[1.0, 2.0], 2, &[2])
        .unwrap_err();
    assert_eq!(
        err,
        Error::ClassOutOfRange {
            index: 0,
            class: 2,
            classes: 2
        }
    );
    let tape = Tape::<f64>::new();
    let s = tape.param(&[1.0, 2.0], Shape::matrix(1, 2)).unwrap();
    assert!(MulticlassLoss::crammer_singer().on_tape(s, &[5]).is_err());
}

#[test]
fn lengths_must_agree() {
    let err = linear_value_grad(
        MarginLoss::hinge(),
        &[1.0, 2.0, 3.0],
        2,
        &[1.0],
        &[1.0, 1.0],
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::LengthMismatch {
            what: "x (n·d)",
            expected: 2,
            got: 3
        }
    );
    assert!(linear_value_grad(MarginLoss::hinge(), &[1.0], 1, &[1.0], &[1.0, 1.0], None).is_err());
    assert!(MulticlassLoss::weston_watkins()
        .value_grad(&[1.0, 2.0, 3.0], 2, &[0])
        .is_err());
    assert!(all_pairs_value_grad(&[1.0], &[1.0, -1.0], 1.0).is_err());
}

#[test]
fn non_finite_values_and_bad_parameters_are_rejected() {
    let err =
        linear_value_grad(MarginLoss::hinge(), &[f64::NAN], 1, &[1.0], &[1.0], None).unwrap_err();
    assert_eq!(
        err,
        Error::NonFinite {
            what: "x",
            index: 0
        }
    );
    assert!(MulticlassLoss::weston_watkins()
        .value_grad(&[1.0, f64::INFINITY], 2, &[0])
        .is_err());
    assert!(all_pairs_value_grad(&[1.0, f64::NAN], &[1.0, -1.0], 1.0).is_err());
    for bad in [
        MarginLoss::SmoothGaussian { sigma: 0.0 },
        MarginLoss::SmoothSqrt { sigma: -1.0 },
        MarginLoss::Huberized { gamma: f64::NAN },
        MarginLoss::Hinge {
            margin: f64::INFINITY,
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(Error::InvalidParameter { .. })),
            "{bad:?}"
        );
    }
    assert!(Objective::Liblinear { c: 0.0 }
        .value_grad(MarginLoss::hinge(), &[1.0], 1, &[1.0], &[0.0])
        .is_err());
    assert!(Objective::Lambda { lambda: -1.0 }
        .value_grad(MarginLoss::hinge(), &[1.0], 1, &[1.0], &[0.0])
        .is_err());
}

#[test]
fn all_pairs_needs_both_classes() {
    assert_eq!(
        all_pairs_value_grad(&[1.0, 2.0], &[1.0, 1.0], 1.0).unwrap_err(),
        Error::Empty {
            what: "the negative examples"
        }
    );
    assert_eq!(
        all_pairs_value_grad(&[1.0], &[-1.0], 1.0).unwrap_err(),
        Error::Empty {
            what: "the positive examples"
        }
    );
}

#[test]
fn tape_forms_reject_bad_labels_and_lengths() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(&[1.0, 2.0], Shape::matrix(2, 1)).unwrap();
    let w = tape.param_vec(&[1.0]).unwrap();
    let bad = tape.constant_vec(&[1.0, 0.5]).unwrap();
    assert_eq!(
        losses::linear_on_tape(MarginLoss::hinge(), x, bad, w, None).unwrap_err(),
        Error::InvalidLabel {
            index: 1,
            value: 0.5
        }
    );
    let short = tape.constant_vec(&[1.0]).unwrap();
    assert!(matches!(
        losses::linear_on_tape(MarginLoss::hinge(), x, short, w, None),
        Err(Error::Engine(_))
    ));
    let s = tape
        .param(&[1.0, 2.0, 3.0, 4.0], Shape::matrix(2, 2))
        .unwrap();
    assert_eq!(
        MulticlassLoss::weston_watkins()
            .on_tape(s, &[0])
            .unwrap_err(),
        Error::LengthMismatch {
            what: "labels",
            expected: 2,
            got: 1
        }
    );
    assert!(matches!(
        MulticlassLoss::weston_watkins().on_tape(tape.param_vec(&[1.0]).unwrap(), &[0]),
        Err(Error::Engine(_))
    ));
}

#[test]
fn membership_checks_reject_bad_input() {
    assert_eq!(
        MulticlassLoss::crammer_singer()
            .in_subdifferential(&[1.0, 2.0], 2, &[0], &[0.0], 0.0)
            .unwrap_err(),
        Error::LengthMismatch {
            what: "g (n·K)",
            expected: 2,
            got: 1
        }
    );
    assert_eq!(
        losses::linear_subdifferential(MarginLoss::hinge(), &[1.0], 1, &[-2.0], &[1.0], None)
            .unwrap_err(),
        Error::InvalidLabel {
            index: 0,
            value: -2.0
        }
    );
    assert_eq!(
        linear_value_grad(
            MarginLoss::hinge(),
            &[1.0],
            1,
            &[1.0],
            &[1.0],
            Some(f64::NAN)
        )
        .unwrap_err(),
        Error::NonFinite {
            what: "b",
            index: 0
        }
    );
    assert!(matches!(
        MulticlassLoss::WestonWatkins {
            delta: f64::NAN,
            squared: false,
            scale_by_classes: false
        }
        .value_grad(&[1.0, 2.0], 2, &[0]),
        Err(Error::InvalidParameter { name: "delta", .. })
    ));
}
