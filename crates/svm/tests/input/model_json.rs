//! `Model::from_json` validates the model (`Model::validate`).

use serde_json::{json, Value};
use svm::model::Model;
use svm::Error;

/// A valid two-class model with a bias and a standardiser: 2 features + bias = 3 weights.
fn valid() -> Value {
    json!({
        "loss": "hinge",
        "c": 1.0,
        "bias": 1.0,
        "standardizer": { "mean": [0.0, 1.0], "std": [1.0, 2.0] },
        "classes": [-1.0, 1.0],
        "weights": [[0.5, -0.25, 0.125]],
        "features": 2
    })
}

/// `valid()` with `field` set to `value`.
fn with(field: &str, value: Value) -> String {
    let mut m = valid();
    m[field] = value;
    m.to_string()
}

/// Loading `text` fails with `InvalidModel` on `field`, its message containing `fragment`.
#[track_caller]
fn rejected(text: &str, field: &str, fragment: &str) {
    match Model::from_json(text, "m.json") {
        Err(e @ Error::InvalidModel { field: f, .. }) => {
            assert_eq!(f, field, "{e}");
            let msg = e.to_string();
            assert!(msg.contains(fragment), "{msg:?} lacks {fragment:?}");
            assert!(
                msg.contains(&format!("`{field}`")),
                "{msg:?} names no field"
            );
        }
        other => panic!("{text}: expected InvalidModel on {field}, got {other:?}"),
    }
}

#[test]
fn valid_model_loads_and_round_trips() {
    let m = Model::from_json(&valid().to_string(), "m.json").unwrap();
    assert_eq!(Model::from_json(&m.to_json().unwrap(), "again").unwrap(), m);
}

#[test]
fn model_with_one_class_is_rejected_on_load() {
    rejected(
        &with("classes", json!([1.0])),
        "classes",
        "has 1 entry; a model needs at least 2",
    );
}

#[test]
fn model_with_no_class_is_rejected_on_load() {
    rejected(
        &with("classes", json!([])),
        "classes",
        "has 0 entries; a model needs at least 2",
    );
}

#[test]
fn model_with_classes_out_of_order_or_repeated_is_rejected_on_load() {
    rejected(
        &with("classes", json!([1.0, -1.0])),
        "classes",
        "strictly increasing",
    );
    rejected(
        &with("classes", json!([1.0, 1.0])),
        "classes",
        "strictly increasing",
    );
}

#[test]
fn model_with_more_weight_vectors_than_classes_is_rejected_on_load() {
    // Two classes take one weight vector (the positive class's score); three are too many.
    rejected(
        &with(
            "weights",
            json!([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]),
        ),
        "weights",
        "has 3 vectors; 2 classes need 1",
    );
    // Three classes take one vector per class.
    let mut m = valid();
    m["classes"] = json!([0.0, 1.0, 2.0]);
    m["weights"] = json!([
        [0.5, 0.5, 0.5],
        [0.5, 0.5, 0.5],
        [0.5, 0.5, 0.5],
        [0.5, 0.5, 0.5]
    ]);
    rejected(&m.to_string(), "weights", "has 4 vectors; 3 classes need 3");
}

#[test]
fn model_with_no_weight_vector_is_rejected_on_load() {
    rejected(
        &with("weights", json!([])),
        "weights",
        "has 0 vectors; 2 classes need 1",
    );
}

#[test]
fn model_with_weight_vectors_of_the_wrong_length_is_rejected_on_load() {
    // 2 features plus the bias need 3 weights.
    rejected(
        &with("weights", json!([[0.5, 0.5]])),
        "weights",
        "vector 0 has length 2, but `features` = 2 plus the bias needs 3",
    );
    let mut m = valid();
    m["bias"] = Value::Null;
    m["weights"] = json!([[0.5, 0.5, 0.5]]);
    rejected(
        &m.to_string(),
        "weights",
        "vector 0 has length 3, but `features` = 2 needs 2",
    );
}

#[test]
fn model_with_a_huge_feature_count_is_rejected_on_load_without_allocating() {
    // 10¹² features would be an 8 TB buffer when padding rows; u64::MAX + 1 (the bias)
    // overflows.
    let mut m = valid();
    m["standardizer"] = Value::Null;
    m["features"] = json!(1_000_000_000_000_u64);
    rejected(
        &m.to_string(),
        "weights",
        "vector 0 has length 3, but `features` = 1000000000000 plus the bias needs 1000000000001",
    );
    m["features"] = json!(u64::MAX);
    rejected(
        &m.to_string(),
        "features",
        "= 18446744073709551615 plus the bias feature overflows",
    );
    m["bias"] = Value::Null;
    rejected(
        &m.to_string(),
        "weights",
        "vector 0 has length 3, but `features` = 18446744073709551615 needs 18446744073709551615",
    );
}

#[test]
fn model_with_a_std_shorter_than_the_mean_is_rejected_on_load() {
    rejected(
        &with("standardizer", json!({ "mean": [0.0, 1.0], "std": [1.0] })),
        "standardizer.std",
        "has length 1, but `features` = 2",
    );
    rejected(
        &with("standardizer", json!({ "mean": [0.0], "std": [1.0, 2.0] })),
        "standardizer.mean",
        "has length 1, but `features` = 2",
    );
}

#[test]
fn model_with_a_negative_std_is_rejected_on_load() {
    rejected(
        &with(
            "standardizer",
            json!({ "mean": [0.0, 1.0], "std": [1.0, -2.0] }),
        ),
        "standardizer.std",
        "holds -2 at 1, which is negative",
    );
}

#[test]
fn model_with_c_not_positive_is_rejected_on_load() {
    rejected(&with("c", json!(0.0)), "c", "= 0 must be finite and > 0");
    rejected(&with("c", json!(-1.0)), "c", "= -1 must be finite and > 0");
}

#[test]
fn model_with_non_finite_numbers_is_rejected_by_validate() {
    // JSON has no NaN, so build such models by hand.
    let base = Model::from_json(&valid().to_string(), "m.json").unwrap();
    let cases: [(&str, Model); 4] = [
        (
            "weights",
            Model {
                weights: vec![vec![0.5, f64::NAN, 0.5]],
                ..base.clone()
            },
        ),
        (
            "bias",
            Model {
                bias: Some(f64::INFINITY),
                ..base.clone()
            },
        ),
        (
            "classes",
            Model {
                classes: vec![-1.0, f64::INFINITY],
                ..base.clone()
            },
        ),
        (
            "c",
            Model {
                c: f64::NAN,
                ..base.clone()
            },
        ),
    ];
    for (field, model) in cases {
        match model.validate() {
            Err(Error::InvalidModel { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn class_names_are_optional_and_checked() {
    // An older file without `class_names` loads with None; one with names round-trips.
    let base = Model::from_json(&valid().to_string(), "m.json").unwrap();
    assert_eq!(base.class_names, None);
    assert_eq!(base.class_name(1), base.classes[1].to_string());
    let named = Model {
        class_names: Some(vec!["no".into(), "yes".into()]),
        ..base.clone()
    };
    let back = Model::from_json(&named.to_json().unwrap(), "m.json").unwrap();
    assert_eq!(back, named);
    assert_eq!(back.class_name(1), "yes");
    for (names, reason) in [
        (vec!["only".to_string()], "has 1 names for 2 classes"),
        (vec!["a".to_string(), "a".to_string()], "names `a` twice"),
    ] {
        let bad = Model {
            class_names: Some(names),
            ..base.clone()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            format!("invalid model: `class_names` {reason}")
        );
    }
}
