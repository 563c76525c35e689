//! Arbitrary input to the readers and the model loader, bounded so it runs in `cargo test`:
//! nothing panics, and every parse error points inside the input (the libFuzzer targets in
//! `fuzz/` do the same for longer).

use proptest::prelude::*;
use svm::data::{read_csv, read_libsvm, CsvOptions, Header, LabelColumn};
use svm::model::Model;
use svm::Error;

/// Line `line`, column `column` (1-based, in characters) lies inside `text`.
fn inside(text: &str, line: usize, column: usize) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .nth(line - 1)
        .is_some_and(|l| column >= 1 && column <= l.chars().count() + 1)
}

/// Tokens that LIBSVM and CSV text is made of, and the ways it goes wrong.
fn soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("1".to_string()),
        Just("-1".to_string()),
        Just("+1".to_string()),
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("#".to_string()),
        Just("1e308".to_string()),
        Just("1e999".to_string()),
        Just("nan".to_string()),
        Just("4294967296".to_string()),
        Just("18446744073709551616".to_string()),
        Just("0".to_string()),
        Just("\u{feff}".to_string()),
        Just("é".to_string()),
        (1u32..200).prop_map(|i| format!("{i}:0.5")),
        "[a-z]{1,3}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn libsvm_reader_never_panics_and_points_inside(text in soup()) {
        match read_libsvm(&text, "t") {
            Ok(d) => {
                prop_assert!(d.check().is_ok());
                prop_assert_eq!(d.labels.len(), d.n());
            }
            Err(Error::Parse { line, column, .. }) => prop_assert!(inside(&text, line, column)),
            Err(Error::Empty) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn csv_reader_never_panics_and_points_inside(
        text in soup(),
        header in prop_oneof![Just(Header::Auto), Just(Header::Present), Just(Header::Absent)],
        label in prop_oneof![
            Just(LabelColumn::Last),
            (0usize..4).prop_map(LabelColumn::Index),
            Just(LabelColumn::Name("y".into())),
        ],
    ) {
        let options = CsvOptions { header, label };
        match read_csv(&text, "t", &options) {
            Ok(d) => prop_assert!(d.check().is_ok()),
            Err(Error::Parse { line, column, .. }) => prop_assert!(inside(&text, line, column)),
            Err(Error::Empty) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn model_loader_never_panics_on_mutated_models(
        classes in proptest::collection::vec(-3i32..3, 0..4),
        weights in proptest::collection::vec(proptest::collection::vec(-1e308f64..1e308, 0..4), 0..4),
        features in prop_oneof![Just(0u64), Just(2), Just(3), Just(u64::MAX), Just(1 << 40)],
        std in proptest::collection::vec(-1.0f64..2.0, 0..4),
    ) {
        let json = serde_json::json!({
            "loss": "hinge", "c": 1.0, "bias": null,
            "standardizer": { "mean": vec![0.0; std.len()], "std": std },
            "classes": classes, "weights": weights, "features": features,
        })
        .to_string();
        if let Ok(m) = Model::from_json(&json, "m.json") {
            // A model that loads predicts without panicking.
            let data = svm::data::builtin("seed").unwrap();
            let _ = m.predict(&data);
        }
    }
}
