//! What a liblinear or scikit-learn user reaches for (issue 12): `-q`, `--max-iter`, class
//! weights, decision values, an output file, `-` for standard input, negative values after a
//! space, `cv`'s options, the reports, the score-0 convention and string labels. Each test
//! asserts on `--json` output or the exit code, against values derived beside it.

use std::io::Write as _;

use serde_json::Value;

use super::{fails_with, json, subgrad};

/// `(stdout, stderr)` of a successful run.
fn run(args: &[&str]) -> (String, String) {
    let out = subgrad().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// The seed's five points and labels (README, `crates/svm/data`).
const SEED: [([f64; 2], f64); 5] = [
    ([0.0, 1.0], 1.0),
    ([1.0, 2.0], 1.0),
    ([3.0, 0.0], -1.0),
    ([4.0, 1.0], -1.0),
    ([1.0, 1.0], -1.0),
];

#[test]
fn quiet_silences_standard_error_and_max_iter_is_documented() {
    let (_, stderr) = run(&["train", "builtin:iris", "--standardize"]);
    assert!(
        stderr.contains("warning: --standardize without --bias"),
        "{stderr}"
    );
    let (_, stderr) = run(&["train", "builtin:iris", "--standardize", "-q"]);
    assert_eq!(stderr, "");
    let (_, stderr) = run(&["train", "builtin:iris", "--standardize", "--bias", "1"]);
    assert_eq!(stderr, "");
    let v = json(&["train", "builtin:iris", "--standardize", "--quiet"]);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    let v = json(&["train", "builtin:iris", "--max-iter", "7"]);
    assert_eq!(v["max_iter"], 7);
    let (help, _) = run(&["train", "--help"]);
    assert!(help.contains("--max-iter <MAX_ITER>"), "{help}");
    assert!(help.contains("-q, --quiet"), "{help}");
    assert!(
        help.contains("a negative value (-1) means no bias"),
        "{help}"
    );
}

#[test]
fn class_weights_equal_replicated_rows() {
    // Independent derivation: C·3·ℓᵢ is ℓᵢ counted three times, so weighting class 1 by 3
    // is training on the file with each class-1 row written three times.
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        "1 1:0 2:1",
        "1 1:1 2:2",
        "-1 1:3 2:0",
        "-1 1:4 2:1",
        "-1 1:1 2:1",
        "1 1:2 2:0.5",
    ];
    let plain = write(&dir, "plain.libsvm", &(rows.join("\n") + "\n"));
    let mut tripled = String::new();
    for r in rows {
        let times = if r.starts_with("1 ") { 3 } else { 1 };
        for _ in 0..times {
            tripled += r;
            tripled += "\n";
        }
    }
    let tripled = write(&dir, "tripled.libsvm", &tripled);
    for loss in ["hinge", "squared-hinge"] {
        let a = json(&[
            "train", &plain, "--loss", loss, "--bias", "1", "--tol", "1e-12", "--weight", "1=3",
        ]);
        let b = json(&[
            "train", &tripled, "--loss", loss, "--bias", "1", "--tol", "1e-12",
        ]);
        let (fa, fb) = (f(&a["objective"]), f(&b["objective"]));
        assert!((fa - fb).abs() <= 1e-9 * fb, "{loss}: {fa} vs {fb}");
        assert_eq!(a["weighted"], true);
    }
    // Crammer–Singer on iris: class 2 weighted 2 equals its rows written twice.
    let iris = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../svm/data/iris.libsvm"
    ))
    .unwrap();
    let doubled: String = iris
        .lines()
        .flat_map(|l| std::iter::repeat_n(l, if l.starts_with("2 ") { 2 } else { 1 }))
        .map(|l| format!("{l}\n"))
        .collect();
    let doubled = write(&dir, "doubled.libsvm", &doubled);
    let cs = [
        "--multiclass",
        "crammer-singer",
        "--bias",
        "1",
        "-C",
        "0.1",
        "--tol",
        "1e-11",
        "--max-iter",
        "100000",
    ];
    let a = json(&[&["train", "builtin:iris", "--weight", "2=2"][..], &cs].concat());
    let b = json(&[&["train", &doubled][..], &cs].concat());
    let (fa, fb) = (f(&a["objective"]), f(&b["objective"]));
    assert!((fa - fb).abs() <= 1e-8 * fb, "{fa} vs {fb}");
    // Balanced on the seed (3 of −1, 2 of +1): w₋₁ = 5/(2·3), w₊₁ = 5/(2·2), scikit-learn's rule.
    let balanced = json(&[
        "train",
        "builtin:seed",
        "--bias",
        "1",
        "--class-weight",
        "balanced",
    ]);
    let (neg, pos) = (format!("-1={}", 5.0 / 6.0), format!("1={}", 5.0 / 4.0));
    let given = json(&[
        "train",
        "builtin:seed",
        "--bias",
        "1",
        "--weight",
        &neg,
        "--weight",
        &pos,
    ]);
    assert_eq!(balanced["objective"], given["objective"]);
    fails_with(
        &["train", "builtin:seed", "--weight", "7=2"],
        "the data has no class `7` (its classes: -1, 1)",
    );
    fails_with(
        &["train", "builtin:seed", "--weight", "1=0"],
        "must be a finite number > 0",
    );
    fails_with(
        &[
            "train",
            "builtin:seed",
            "--weight",
            "1=2",
            "--class-weight",
            "balanced",
        ],
        "cannot be used with",
    );
}

/// A hand-written model: `w = (1, −1)`, no bias, classes −1 and 1 (no `class_names` field, as
/// older model files).
const ZERO_MODEL: &str = r#"{"loss": "hinge", "c": 1.0, "bias": null, "standardizer": null,
  "classes": [-1.0, 1.0], "weights": [[1.0, -1.0]], "features": 2}"#;

#[test]
fn a_score_of_exactly_zero_is_the_first_class_as_in_liblinear() {
    // liblinear's predict_values: `dec_values[0] > 0 ? label[0] : label[1]`, strict; here the
    // positive side is classes[1] = 1, so w·x = 0 at x = (1, 1) predicts classes[0] = −1.
    let dir = tempfile::tempdir().unwrap();
    let model = write(&dir, "m.json", ZERO_MODEL);
    let data = write(&dir, "d.libsvm", "1 1:1 2:1\n1 1:2 2:1\n-1 1:1 2:2\n");
    let v = json(&["predict", &model, &data, "--decision-values"]);
    assert_eq!(
        v["decision_values"],
        serde_json::json!([[0.0], [1.0], [-1.0]])
    );
    assert_eq!(v["predictions"], serde_json::json!([-1.0, 1.0, -1.0]));
    // Three classes tied at x = 0 (every score is 0): the first class, as liblinear's argmax.
    let three = r#"{"loss": "hinge", "c": 1.0, "bias": null, "standardizer": null,
      "classes": [0.0, 1.0, 2.0], "weights": [[1.0], [2.0], [3.0]], "features": 1}"#;
    let three = write(&dir, "three.json", three);
    let data = write(&dir, "z.libsvm", "2 1:0\n");
    assert_eq!(
        json(&["predict", &three, &data])["predictions"],
        serde_json::json!([0.0])
    );
}

#[test]
fn decision_values_are_the_scores_w_dot_x_plus_bias() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("seed.json").display().to_string();
    run(&[
        "train",
        "builtin:seed",
        "--bias",
        "1",
        "-C",
        "10",
        "--model",
        &model,
        "-q",
    ]);
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let w: Vec<f64> = m["weights"][0].as_array().unwrap().iter().map(f).collect();
    let v = json(&["predict", &model, "builtin:seed", "--decision-values"]);
    for (i, (x, _)) in SEED.iter().enumerate() {
        // Recomputed from the saved weights: w₀x₀ + w₁x₁ + 1·w_b.
        let by_hand = w[0] * x[0] + w[1] * x[1] + w[2];
        assert!((f(&v["decision_values"][i][0]) - by_hand).abs() < 1e-12);
    }
    // One column per class for one-vs-rest, and the prediction is the best column.
    let iris = dir.path().join("iris.json").display().to_string();
    run(&["train", "builtin:iris", "--model", &iris, "-q"]);
    let v = json(&["predict", &iris, "builtin:iris", "--decision-values"]);
    let values = v["decision_values"].as_array().unwrap();
    assert_eq!(values.len(), 150);
    for (row, p) in values.iter().zip(v["predictions"].as_array().unwrap()) {
        let row: Vec<f64> = row.as_array().unwrap().iter().map(f).collect();
        assert_eq!(row.len(), 3);
        let best = (1..3).fold(0, |b, r| if row[r] > row[b] { r } else { b });
        assert_eq!(f(p), best as f64);
    }
}

#[test]
fn predictions_go_to_an_output_file_and_data_can_come_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json").display().to_string();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../svm/data/iris.libsvm");
    run(&["train", data, "--model", &model, "-q"]);
    let (stdout, stderr) = run(&["predict", &model, data]);
    assert!(stderr.starts_with("accuracy "), "{stderr}");
    let out = dir.path().join("out.txt");
    std::fs::write(&out, "old contents").unwrap();
    let (printed, stderr) = run(&["predict", &model, data, out.to_str().unwrap(), "-q"]);
    assert_eq!((printed.as_str(), stderr.as_str()), ("", ""));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout);
    // `-` reads standard input (LIBSVM; --csv for CSV), for train and predict alike.
    let text = std::fs::read_to_string(data).unwrap();
    let piped = |args: &[&str]| -> Value {
        let out = subgrad()
            .args(args)
            .arg("--json")
            .write_stdin(text.clone())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(
        piped(&["train", "-"])["objective"],
        json(&["train", data])["objective"]
    );
    assert_eq!(
        piped(&["predict", &model, "-"])["predictions"],
        json(&["predict", &model, data])["predictions"]
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("subgrad"))
        .args(["train", "-", "--csv", "--json", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"0,1,1\n1,2,1\n3,0,-1\n4,1,-1\n1,1,-1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["objective"],
        json(&["train", "builtin:seed"])["objective"]
    );
}

#[test]
fn negative_values_after_a_space_reach_the_programs_own_checks() {
    fails_with(
        &["train", "builtin:seed", "--lambda", "-1"],
        "--lambda -1 must be > 0",
    );
    fails_with(
        &["train", "builtin:seed", "--tol", "-1"],
        "--tol -1: the tolerance must be a finite number > 0",
    );
    fails_with(
        &["train", "builtin:seed", "-C", "-1"],
        "C = -1.0 is out of range",
    );
    fails_with(
        &["demo", "--step", "-1"],
        "--step -1: the step size must be a finite number > 0",
    );
    // liblinear's -B -1: no bias, after a space or an `=`.
    let none = json(&["train", "builtin:seed"]);
    for args in [&["--bias", "-1"][..], &["--bias=-1"][..]] {
        let v = json(&[&["train", "builtin:seed"][..], args].concat());
        assert_eq!(v["objective"], none["objective"]);
        assert_eq!(v["model"]["bias"], Value::Null);
    }
    let cv = json(&[
        "cv",
        "builtin:iris",
        "--bias",
        "-1",
        "--lo",
        "0",
        "--hi",
        "0",
    ]);
    assert_eq!(
        cv["grid"],
        json(&["cv", "builtin:iris", "--lo", "0", "--hi", "0"])["grid"]
    );
}

#[test]
fn cv_takes_trains_options_a_lambda_grid_unshuffled_folds_and_a_score() {
    let base = [
        "cv",
        "builtin:iris",
        "--folds",
        "3",
        "--lo",
        "0",
        "--hi",
        "0",
    ];
    // The same default loss as train (hinge): an explicit --loss hinge gives the same scores.
    assert_eq!(
        json(&base)["grid"],
        json(&[&base[..], &["--loss", "hinge"]].concat())["grid"]
    );
    for extra in [
        &["--bias", "1", "--standardize"][..],
        &["--solver", "nesterov", "--loss", "squared-hinge"][..],
        &["--multiclass", "crammer-singer"][..],
    ] {
        let v = json(&[&base[..], extra].concat());
        assert!((0.0..=1.0).contains(&f(&v["best_accuracy"])), "{extra:?}");
    }
    // λ grid: iris in 3 folds trains on m = 100 rows, so λ = 0.005 is C = 1/(2·100·0.005) = 1.
    let by_lambda = json(&[
        "cv",
        "builtin:iris",
        "--folds",
        "3",
        "--lambda-grid",
        "0.005",
    ]);
    assert_eq!(by_lambda["penalty"], "lambda");
    assert_eq!(by_lambda["best_lambda"], 0.005);
    assert_eq!(by_lambda["grid"][0][1], json(&base)["grid"][0][1]);
    // Unshuffled folds in file order: the seed's labels are +1, +1, −1, −1, −1, so the first
    // of two contiguous folds (rows 0–2) trains on rows 3–4, both −1.
    fails_with(
        &["cv", "builtin:seed", "--folds", "2", "--no-shuffle"],
        "fold 1 of 2: its training rows all have class -1",
    );
    let v = json(&[
        "cv",
        "builtin:iris",
        "--folds",
        "5",
        "--no-shuffle",
        "--lo",
        "0",
        "--hi",
        "0",
    ]);
    assert_eq!(v["shuffled"], false);
    // A choice of score; the all-pairs loss reports its AUC under best_auc.
    let bc = [
        "cv",
        "builtin:breast_cancer",
        "--standardize",
        "--bias",
        "1",
        "--folds",
        "3",
        "--lo",
        "0",
        "--hi",
        "0",
    ];
    let auc = json(&[&bc[..], &["--score", "auc"]].concat());
    assert_eq!(auc["score"], "auc");
    assert!(f(&auc["best_auc"]) > 0.95 && auc.get("best_accuracy").is_none());
    let ranker = json(&[&bc[..], &["--loss", "all-pairs"]].concat());
    assert!(f(&ranker["best_auc"]) > 0.95 && ranker.get("best_accuracy").is_none());
    fails_with(
        &["cv", "builtin:iris", "--score", "auc"],
        "the AUC scores two classes; the data has 3",
    );
    // More folds than rows: svm's typed InvalidFolds.
    fails_with(
        &["cv", "builtin:seed", "--folds", "7"],
        "7 folds for 5 rows: cross-validation needs 2 ≤ folds ≤ rows",
    );
}

#[test]
fn reports_print_the_relative_certificate_and_the_lambda_form_objective() {
    let v = json(&[
        "train",
        "builtin:breast_cancer",
        "--standardize",
        "--bias",
        "1",
    ]);
    // Binary hinge: the certificate is the duality gap, the relative one gap/f.
    let rel = f(&v["certificate"]) / f(&v["objective"]);
    assert!((f(&v["relative_certificate"]) - rel).abs() <= 1e-12 * rel.max(1e-300));
    assert!(f(&v["relative_certificate"]) <= 1e-9 && v["converged"] == true);
    let (text, _) = run(&[
        "train",
        "builtin:breast_cancer",
        "--standardize",
        "--bias",
        "1",
    ]);
    assert!(text.contains("relative certificate "), "{text}");
    assert!(
        text.contains("converged when ≤ tol 1e-9), absolute "),
        "{text}"
    );
    // Crammer–Singer is one problem; smooth-hinge keeps its CLI name.
    let (text, _) = run(&["train", "builtin:iris", "--multiclass", "crammer-singer"]);
    assert!(
        !text.contains("summed over one-vs-rest")
            && text.contains("one joint Crammer–Singer problem"),
        "{text}"
    );
    let (text, _) = run(&["train", "builtin:seed", "--loss", "smooth-hinge"]);
    assert!(text.contains("loss smooth-hinge with C = 1"), "{text}");
    assert_eq!(
        json(&["train", "builtin:seed", "--loss", "smooth-hinge"])["loss"],
        "smooth-hinge"
    );
    // The λ-form objective, recomputed from the weights: mean hinge + λ‖w‖² (bias included).
    let lambda = 0.1;
    let v = json(&[
        "train",
        "builtin:seed",
        "--bias",
        "1",
        "--lambda",
        "0.1",
        "--tol",
        "1e-12",
    ]);
    let w: Vec<f64> = v["model"]["weights"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let mean_hinge = SEED
        .iter()
        .map(|(x, y)| (1.0 - y * (w[0] * x[0] + w[1] * x[1] + w[2])).max(0.0))
        .sum::<f64>()
        / 5.0;
    let by_hand = mean_hinge + lambda * w.iter().map(|a| a * a).sum::<f64>();
    assert!(
        (f(&v["lambda_objective"]) - by_hand).abs() < 1e-12,
        "{} vs {by_hand}",
        v["lambda_objective"]
    );
    let (text, _) = run(&["train", "builtin:seed", "--bias", "1", "--lambda", "0.1"]);
    assert!(
        text.contains("λ-form objective mean loss + λ‖w‖² with λ = 0.1 = "),
        "{text}"
    );
    assert!(json(&["train", "builtin:seed"])
        .get("lambda_objective")
        .is_none());
}

#[test]
fn negative_zero_is_never_printed() {
    // A label written `-0` is the class 0; it prints as 0 in the report and in predictions.
    let dir = tempfile::tempdir().unwrap();
    let data = write(&dir, "z.libsvm", "-0 1:1\n1 1:-1\n");
    let (text, _) = run(&["train", &data]);
    assert!(
        text.contains("classes [0, 1]") && !text.contains("-0"),
        "{text}"
    );
    let model = dir.path().join("z.json").display().to_string();
    run(&["train", &data, "--model", &model, "-q"]);
    let (text, _) = run(&["predict", &model, &data, "--decision-values"]);
    assert!(!text.contains("-0 ") && !text.starts_with("-0"), "{text}");
    assert!(text.starts_with("0 "), "{text}");
}

#[test]
fn string_labels_become_named_classes_kept_in_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        &dir,
        "yn.csv",
        "a,b,y\n0,1,yes\n1,2,yes\n3,0,no\n4,1,no\n1,1,no\n",
    );
    let model = dir.path().join("yn.json").display().to_string();
    let v = json(&["train", &data, "--bias", "1", "-C", "10", "--model", &model]);
    // Sorted names: no = class 0, yes = class 1, so this is the seed with +1 = yes.
    assert_eq!(v["model"]["class_names"], serde_json::json!(["no", "yes"]));
    assert_eq!(
        v["objective"],
        json(&["train", "builtin:seed", "--bias", "1", "-C", "10"])["objective"]
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(saved["class_names"], serde_json::json!(["no", "yes"]));
    let (text, _) = run(&["predict", &model, &data]);
    assert_eq!(text, "yes\nyes\nno\nno\nno\n");
    let p = json(&["predict", &model, &data]);
    assert_eq!(
        p["labels"],
        serde_json::json!(["yes", "yes", "no", "no", "no"])
    );
    assert_eq!(p["accuracy"], 1.0);
    // A test file is read against the model's names, in the model's order.
    let test = write(&dir, "t.csv", "a,b,y\n1,1,no\n");
    assert_eq!(
        json(&["predict", &model, &test])["predictions"],
        serde_json::json!([0.0])
    );
    let bad = write(&dir, "bad.csv", "a,b,y\n1,1,maybe\n");
    fails_with(
        &["predict", &model, &bad],
        "bad.csv:2:5: label `maybe` is not one of the model's classes",
    );
    // Weights by name: yes weighted 2 equals its rows written twice.
    let twice = write(
        &dir,
        "twice.csv",
        "a,b,y\n0,1,yes\n0,1,yes\n1,2,yes\n1,2,yes\n3,0,no\n4,1,no\n1,1,no\n",
    );
    let a = json(&[
        "train", &data, "--bias", "1", "--weight", "yes=2", "--tol", "1e-12",
    ]);
    let b = json(&["train", &twice, "--bias", "1", "--tol", "1e-12"]);
    assert!((f(&a["objective"]) - f(&b["objective"])).abs() <= 1e-9 * f(&b["objective"]));
    // An old model file without `class_names` still loads.
    let old = write(&dir, "old.json", ZERO_MODEL);
    let nums = write(&dir, "n.libsvm", "1 1:2 2:1\n");
    assert_eq!(
        json(&["predict", &old, &nums])["predictions"],
        serde_json::json!([1.0])
    );
}
