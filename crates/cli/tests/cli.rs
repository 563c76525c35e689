//! The `subgrad` binary end to end: every command, `--json` parsed and checked, bad input gives
//! a clear message and a non-zero exit, never a panic.

use assert_cmd::Command;
use serde_json::Value;

fn subgrad() -> Command {
    Command::cargo_bin("subgrad").unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = subgrad().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails_with(args: &[&str], message_part: &str) {
    let out = subgrad().args(args).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(message_part), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn grad_json_has_the_documented_fields() {
    let v = json(&["grad", "relu(x) - relu(-x)", "--at", "x=0"]);
    assert_eq!(v["value"], 0.0);
    assert_eq!(v["gradient"]["x"], 0.0); // MinNorm: relu'(0) = 0 twice
    assert_eq!(v["policy"], "min-norm");
    assert_eq!(v["certified"], false);
    assert_eq!(v["kinks"].as_array().unwrap().len(), 2);
    assert_eq!(v["kinks"][1]["expr"], "relu(-x)");
    assert_eq!(v["one_sided"]["x"], serde_json::json!([1.0, 1.0])); // f = x
}

#[test]
fn grad_certified_returns_the_true_derivative_of_a_cancellation() {
    let v = json(&[
        "grad",
        "relu(x) - relu(-x)",
        "--at",
        "x=0",
        "--certified",
        "--seed",
        "3",
    ]);
    assert_eq!(v["gradient"]["x"], 1.0);
    assert_eq!(v["certified"], true);
    assert_eq!(v["seed"], 3);
}

#[test]
fn grad_policies_differ_at_a_tie() {
    // max(a, b) at a tie: ½/½ for MinNorm, Torch and JAX; all to the first argument in TF.
    for (policy, ga, gb) in [
        ("min-norm", 0.5, 0.5),
        ("torch", 0.5, 0.5),
        ("jax", 0.5, 0.5),
        ("tf", 1.0, 0.0),
    ] {
        let v = json(&[
            "grad",
            "max(a, b)",
            "--at",
            "a=1",
            "--at",
            "b=1",
            "--policy",
            policy,
        ]);
        assert_eq!(
            (v["gradient"]["a"].as_f64(), v["gradient"]["b"].as_f64()),
            (Some(ga), Some(gb)),
            "{policy}"
        );
    }
    // abs'(0): JAX 1, the others 0.
    assert_eq!(
        json(&["grad", "abs(x)", "--at", "x=0", "--policy", "jax"])["gradient"]["x"],
        1.0
    );
    assert_eq!(
        json(&["grad", "abs(x)", "--at", "x=0", "--policy", "torch"])["gradient"]["x"],
        0.0
    );
}

#[test]
fn grad_hinge_at_the_margin_reports_the_kink_and_its_one_sided_slopes() {
    // max(0, 1 − y·w·x) with y·w·x = 1: ∂/∂w ∈ [−y·x, 0] = [−2, 0].
    let v = json(&[
        "grad",
        "max(0, 1 - y*w*x)",
        "--at",
        "y=1",
        "--at",
        "w=0.5",
        "--at",
        "x=2",
    ]);
    assert_eq!(v["value"], 0.0);
    assert_eq!(v["gradient"]["w"], 0.0);
    assert_eq!(v["one_sided"]["w"], serde_json::json!([-2.0, 0.0]));
    assert_eq!(v["kinks"][0]["op"], "max");
    let keys: Vec<&String> = v["gradient"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["y", "w", "x"]); // order of appearance
}

#[test]
fn grad_nary_max_is_a_reduction_over_its_arguments() {
    let v = json(&[
        "grad",
        "max(a, b, c)",
        "--at",
        "a=2",
        "--at",
        "b=2",
        "--at",
        "c=1",
    ]);
    assert_eq!(v["value"], 2.0);
    assert_eq!(
        v["gradient"],
        serde_json::json!({"a": 0.5, "b": 0.5, "c": 0.0})
    );
}

#[test]
fn grad_report_explains_a_wrong_per_op_gradient() {
    let out = subgrad()
        .args(["grad", "relu(x) - relu(-x)", "--at", "x=0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("does NOT contain"), "{text}");
    assert!(text.contains("--certified"), "{text}");
}

#[test]
fn grad_writes_a_plot() {
    let dir = std::env::temp_dir().join(format!("subgrad-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hinge.svg");
    subgrad()
        .args(["grad", "max(0, 1 - w)", "--at", "w=1", "--plot"])
        .arg(&path)
        .assert()
        .success();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("returned gradient"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn grad_bad_input_is_a_clear_error() {
    fails_with(
        &["grad", "relu(x", "--at", "x=1"],
        "column 7: expected `,` or `)`",
    );
    fails_with(&["grad", "foo(x)", "--at", "x=1"], "unknown function `foo`");
    fails_with(&["grad", "x + y", "--at", "x=1"], "no value for `y`");
    fails_with(&["grad", "ln(x)", "--at", "x=-1"], "ln");
    fails_with(&["grad", "x", "--at", "x"], "not NAME=VALUE");
    fails_with(&["grad", "x", "--at", "x=abc"], "not a number");
    fails_with(
        &["grad", "x", "--at", "x=1", "--policy", "pytorch"],
        "invalid value 'pytorch'",
    );
    fails_with(
        &[
            "grad",
            "x",
            "--at",
            "x=1",
            "--plot",
            "/tmp/x.svg",
            "--along",
            "q",
        ],
        "cannot plot along `q`",
    );
    fails_with(&["frobnicate"], "unrecognized subcommand");
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["grad", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = subgrad().args(&cmd).output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

#[test]
fn demo_trains_towards_the_hand_derived_optimum_and_writes_three_plots() {
    let dir = std::env::temp_dir().join(format!("subgrad-demo-test-{}", std::process::id()));
    let v = json(&[
        "demo",
        "--iterations",
        "3000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    // The optimum by hand: w = (−2, 2), b = −1, f = ½‖w‖² = 4; the method converges like 1/√k.
    assert_eq!(v["optimum"], 4.0);
    let f = v["objective"].as_f64().unwrap();
    assert!((4.0..4.1).contains(&f), "{f}");
    let avg: Vec<f64> = v["averaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(
        (avg[0] + 2.0).abs() < 0.1 && (avg[1] - 2.0).abs() < 0.1 && (avg[2] + 1.0).abs() < 0.1,
        "{avg:?}"
    );
    // Autodiff equals the closed form at every step.
    assert!(v["max_closed_form_gap"].as_f64().unwrap() < 1e-12);
    // At the optimum, x₀, x₁, x₄ are exactly on the margin; MinNorm drops their terms: ∂f = (w, 0).
    assert_eq!(v["optimum_on_margin"], serde_json::json!([0, 1, 4]));
    assert_eq!(
        v["at_optimum"][0],
        serde_json::json!(["min-norm", [-2.0, 2.0, 0.0]])
    );
    let plots = v["plots"].as_array().unwrap();
    assert_eq!(plots.len(), 3);
    for p in plots {
        let svg = std::fs::read_to_string(p.as_str().unwrap()).unwrap();
        assert!(svg.starts_with("<svg"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn demo_certified_gradient_at_the_optimum_is_in_the_subdifferential() {
    let dir = std::env::temp_dir().join(format!("subgrad-demo-cert-{}", std::process::id()));
    let v = json(&["demo", "--iterations", "10", "--out", dir.to_str().unwrap()]);
    // ∂f(w*, b*) = {(w* − C·Σ tᵢ yᵢ xᵢ, −C·Σ tᵢ yᵢ) : t ∈ [0, 1]³} over x₀ = (0, 1), x₁ = (1, 2)
    // (y = +1) and x₄ = (1, 1) (y = −1). Solve for t from the certified result and check the box.
    let cert = v["at_optimum"][4].clone();
    assert_eq!(cert[0], "certified");
    let g: Vec<f64> = cert[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let c = 10.0;
    // g₀ = −2 − C·(t₁ − t₄), g₁ = 2 − C·(t₀ + 2t₁ − t₄), g_b = −C·(t₀ + t₁ − t₄)
    let a = (-2.0 - g[0]) / c; // t₁ − t₄
    let bb = (2.0 - g[1]) / c; // t₀ + 2t₁ − t₄
    let cc = -g[2] / c; // t₀ + t₁ − t₄
    let t1 = bb - cc;
    let t4 = t1 - a;
    let t0 = cc - t1 + t4;
    for t in [t0, t1, t4] {
        assert!((-1e-12..=1.0 + 1e-12).contains(&t), "t = {t0}, {t1}, {t4}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_breast_cancer_reaches_the_reference_optimum_and_predict_reuses_the_model() {
    let dir = std::env::temp_dir().join(format!("subgrad-train-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.json");
    let v = json(&[
        "train",
        "builtin:breast_cancer",
        "--loss",
        "squared-hinge",
        "-C",
        "1",
        "--standardize",
        "--model",
        model.to_str().unwrap(),
    ]);
    // Reference optimum from the data README (interior-point QP to ~1e-10): 31.5850877546.
    let f = v["objective"].as_f64().unwrap();
    assert!(((f - 31.5850877546) / 31.5850877546).abs() < 1e-6, "{f}");
    assert_eq!(v["converged"], true);
    assert!(v["certificate"].as_f64().unwrap() < 1e-6);
    assert!(v["train_accuracy"].as_f64().unwrap() > 0.95);
    for key in ["iterations", "seconds"] {
        assert!(v[key].is_number(), "{key}");
    }
    let p = json(&["predict", model.to_str().unwrap(), "builtin:breast_cancer"]);
    assert_eq!(p["accuracy"], v["train_accuracy"]);
    assert_eq!(p["predictions"].as_array().unwrap().len(), 569);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_lambda_form_converts_to_c() {
    // λ = 1/(2nC): on the 5 seed points, λ = 0.1 is C = 1.
    let a = json(&[
        "train",
        "builtin:seed",
        "--loss",
        "squared-hinge",
        "--lambda",
        "0.1",
    ]);
    let b = json(&[
        "train",
        "builtin:seed",
        "--loss",
        "squared-hinge",
        "-C",
        "1",
    ]);
    assert_eq!(a["C"], 1.0);
    assert!((a["objective"].as_f64().unwrap() - b["objective"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn train_reads_libsvm_and_csv_files() {
    let dir = std::env::temp_dir().join(format!("subgrad-files-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let libsvm = dir.join("d.libsvm");
    std::fs::write(&libsvm, "+1 1:2 2:1\n-1 1:-1 2:-2\n+1 1:1.5\n-1 2:-1\n").unwrap();
    let csv = dir.join("d.csv");
    std::fs::write(&csv, "x1,x2,y\n2,1,1\n-1,-2,-1\n1.5,0,1\n0,-1,-1\n").unwrap();
    let a = json(&["train", libsvm.to_str().unwrap(), "--loss", "squared-hinge"]);
    let b = json(&["train", csv.to_str().unwrap(), "--loss", "squared-hinge"]);
    assert_eq!(a["train_accuracy"], 1.0);
    assert_eq!(a["objective"], b["objective"]); // the same data in two formats
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_files_name_the_line_and_column() {
    let dir = std::env::temp_dir().join(format!("subgrad-bad-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.libsvm");
    std::fs::write(&bad, "+1 1:2\n-1 1:x\n").unwrap();
    fails_with(
        &["train", bad.to_str().unwrap()],
        "bad.libsvm:2:6: `x` is not a number",
    );
    std::fs::write(&bad, "+1 2:1 1:2\n").unwrap();
    fails_with(&["train", bad.to_str().unwrap()], "indices must increase");
    let ragged = dir.join("r.csv");
    std::fs::write(&ragged, "1,2,1\n3,-1\n").unwrap();
    fails_with(&["train", ragged.to_str().unwrap()], "r.csv:2");
    fails_with(
        &["train", dir.join("missing.libsvm").to_str().unwrap()],
        "cannot read",
    );
    fails_with(
        &["train", "builtin:nope"],
        "unknown built-in data set `nope`",
    );
    fails_with(
        &["train", "builtin:seed", "--loss", "quadratic"],
        "unknown loss `quadratic`",
    );
    fails_with(&["train", "builtin:seed", "-C", "-1"], "C = -1");
    fails_with(
        &["predict", bad.to_str().unwrap(), "builtin:seed"],
        "bad.libsvm",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cv_scores_a_log2_grid() {
    let v = json(&[
        "cv",
        "builtin:iris",
        "--lo",
        "-1",
        "--hi",
        "1",
        "--folds",
        "3",
        "--standardize",
    ]);
    let grid = v["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 3);
    assert_eq!(grid[0][0], 0.5);
    assert!(v["best_accuracy"].as_f64().unwrap() > 0.7);
}

#[test]
fn check_table_has_every_loss_at_random_and_kink_points_and_all_pass() {
    let out = subgrad().args(["check", "--json"]).output().unwrap();
    assert!(out.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 16);
    assert!(rows
        .iter()
        .all(|r| r["gradcheck"] == true && r["max_difference"].as_f64().unwrap() < 1e-12));
    assert!(rows
        .iter()
        .filter(|r| r["point"] == "kink")
        .any(|r| r["kinks"].as_u64().unwrap() > 0));
}

#[test]
fn all_pairs_loss_trains_a_ranker_and_cv_scores_it_by_auc() {
    let v = json(&[
        "train",
        "builtin:breast_cancer",
        "--loss",
        "all-pairs",
        "--standardize",
        "-C",
        "10",
    ]);
    assert_eq!(v["loss"], "all-pairs");
    assert_eq!(v["converged"], true);
    assert!(v["train_auc"].as_f64().unwrap() > 0.98);
    let cv = json(&[
        "cv",
        "builtin:breast_cancer",
        "--loss",
        "all-pairs",
        "--standardize",
        "--lo",
        "0",
        "--hi",
        "1",
        "--folds",
        "3",
    ]);
    assert_eq!(cv["score"], "auc");
    assert!(cv["best_accuracy"].as_f64().unwrap() > 0.95);
}
