//! Prediction: non-finite scores and unknown labels are errors naming the row; rows with fewer
//! features than the model are padded with zeros.

use svm::data::{Dataset, Standardizer};
use svm::model::Model;
use svm::Error;

fn binary(weights: Vec<f64>, features: usize, bias: Option<f64>) -> Model {
    Model {
        loss: "hinge".into(),
        c: 1.0,
        bias,
        standardizer: None,
        classes: vec![-1.0, 1.0],
        weights: vec![weights],
        features,
        columns: None,
        class_names: None,
    }
}

#[test]
fn non_finite_score_is_an_error_naming_the_row() {
    // Row 1: 1e308·10 − 1e308·10 = inf − inf = NaN (today it predicts class −1).
    let m = binary(vec![1e308, -1e308], 2, None);
    let data = Dataset {
        x: vec![0.0, 0.0, 10.0, 10.0].into(),
        d: 2,
        labels: vec![1.0, -1.0],
    };
    for result in [m.predict(&data).map(drop), m.scores(&data).map(drop)] {
        match result {
            Err(Error::NonFiniteRow {
                what: "score",
                row: 1,
                value,
            }) => assert!(value.is_nan()),
            other => panic!("{other:?}"),
        }
    }
    let msg = m.accuracy(&data).unwrap_err().to_string();
    assert_eq!(msg, "row 1: score NaN is not finite");
    // Row 0: 1e308·2 + 1e308·2 = inf.
    let m = binary(vec![1e308, 1e308], 2, None);
    let data = Dataset {
        x: vec![2.0, 2.0].into(),
        d: 2,
        labels: vec![1.0],
    };
    assert_eq!(
        m.predict(&data).unwrap_err(),
        Error::NonFiniteRow {
            what: "score",
            row: 0,
            value: f64::INFINITY
        }
    );
}

#[test]
fn accuracy_with_a_label_outside_the_classes_is_an_error_naming_row_and_label() {
    // A ±1 model on 0/1/2 labels: today "accuracy 0.3333".
    let m = binary(vec![1.0], 1, None);
    let data = Dataset {
        x: vec![1.0, -1.0, 2.0].into(),
        d: 1,
        labels: vec![1.0, 0.0, 2.0],
    };
    let err = m.accuracy(&data).unwrap_err();
    assert_eq!(
        err,
        Error::UnknownLabel {
            row: 1,
            label: 0.0,
            classes: vec![-1.0, 1.0]
        }
    );
    assert_eq!(
        err.to_string(),
        "data row 2 (counting from 1): label 0 is not one of the model's classes [-1.0, 1.0]"
    );
    // Prediction itself does not need labels.
    assert_eq!(m.predict(&data).unwrap(), vec![1.0, -1.0, 1.0]);
}

#[test]
fn accuracy_of_no_row_is_an_error() {
    let m = binary(vec![1.0], 1, None);
    let empty = Dataset {
        x: vec![].into(),
        d: 1,
        labels: vec![],
    };
    assert_eq!(m.accuracy(&empty).unwrap_err(), Error::Empty);
    assert_eq!(m.predict(&empty).unwrap(), Vec::<f64>::new());
}

#[test]
fn rows_with_fewer_features_than_the_model_are_padded_with_zeros() {
    // w = (1, 2, 3), bias feature 2 with weight 0.5; rows (1, 1) and (−5, 0), x₃ = 0:
    // 1 + 2 + 0 + 2·0.5 = 4 and −5 + 0 + 0 + 1 = −4.
    let m = binary(vec![1.0, 2.0, 3.0, 0.5], 3, Some(2.0));
    let data = Dataset {
        x: vec![1.0, 1.0, -5.0, 0.0].into(),
        d: 2,
        labels: vec![1.0, -1.0],
    };
    assert_eq!(m.scores(&data).unwrap(), vec![4.0, -4.0]);
    assert_eq!(m.predict(&data).unwrap(), vec![1.0, -1.0]);
    assert_eq!(m.accuracy(&data).unwrap(), 1.0);
    // With a standardiser μ = (0, 0, 1), σ = (1, 1, 2): the padded x₃ = 0 becomes
    // (0 − 1)/2 = −0.5, so row 0 scores 1 + 2 + 3·(−0.5) + 1 = 2.5.
    let m = Model {
        standardizer: Some(Standardizer {
            mean: vec![0.0, 0.0, 1.0],
            std: vec![1.0, 1.0, 2.0],
        }),
        ..m
    };
    assert_eq!(m.scores(&data).unwrap(), vec![2.5, -5.5]);
    // More features than the model: the extra ones are ignored, as in liblinear.
    let wide = Dataset {
        x: vec![1.0; 4].into(),
        d: 4,
        labels: vec![1.0],
    };
    let narrow = Dataset {
        x: vec![1.0; 3].into(),
        d: 3,
        labels: vec![1.0],
    };
    assert_eq!(m.scores(&wide).unwrap(), m.scores(&narrow).unwrap());
    let short_std = Model {
        standardizer: Some(Standardizer {
            mean: vec![0.0],
            std: vec![],
        }),
        ..binary(vec![1.0], 1, None)
    };
    assert!(matches!(
        short_std.scores(&data),
        Err(Error::InvalidModel {
            field: "standardizer.std",
            ..
        })
    ));
}
