//! The `subgrad` binary end to end: every command, `--json` parsed and checked, bad input gives
//! a clear message and a non-zero exit, never a panic.

use assert_cmd::Command;
use serde_json::Value;

#[path = "cli/liblinear.rs"]
mod liblinear;
#[path = "cli/textbook.rs"]
mod textbook;

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
fn grad_subdifferential_of_the_hinge_plus_half_square_at_its_minimum_contains_zero() {
    let v = json(&[
        "grad",
        "max(0, 1 - w) + 0.5*w^2",
        "--at",
        "w=1",
        "--subdifferential",
    ]);
    let z = &v["zonotope"];
    // By hand: ∂f(1) = 1 + [−1, 0] = [0, 1]; the set is the segment from c to c + g.
    let c = z["center"][0].as_f64().unwrap();
    let g = z["generators"][0]["direction"][0].as_f64().unwrap();
    let mut ends = [c, c + g];
    ends.sort_by(f64::total_cmp);
    assert_eq!(ends, [0.0, 1.0]);
    assert_eq!(z["generators"][0]["expr"], "max(0, 1 - w)");
    assert_eq!(z["generators"][0]["columns"], serde_json::json!([1, 13]));
    assert_eq!(z["min_norm"], serde_json::json!([0.0]));
    assert_eq!(z["contains_zero"], true);
}

#[test]
fn grad_subdifferential_gives_the_min_norm_element_off_the_minimum() {
    let v = json(&[
        "grad",
        "abs(x) + abs(y) + 2*x",
        "--at",
        "x=0",
        "--at",
        "y=0",
        "--subdifferential",
    ]);
    let z = &v["zonotope"];
    // By hand: ∂f(0, 0) = [1, 3] × [−1, 1], nearest to 0 at (1, 0): t = (0, ½) on the
    // generators 2·e_x, 2·e_y from the centre (1, −1).
    assert_eq!(z["center"], serde_json::json!([1.0, -1.0]));
    assert_eq!(
        z["generators"][0]["direction"],
        serde_json::json!([2.0, 0.0])
    );
    assert_eq!(
        z["generators"][1]["direction"],
        serde_json::json!([0.0, 2.0])
    );
    assert_eq!(z["min_norm"], serde_json::json!([1.0, 0.0]));
    assert_eq!(z["multipliers"], serde_json::json!([0.0, 0.5]));
    assert_eq!(z["contains_zero"], false);
    let text = subgrad()
        .args([
            "grad",
            "abs(x) + abs(y) + 2*x",
            "--at",
            "x=0",
            "--at",
            "y=0",
        ])
        .arg("--subdifferential")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("minimum-norm element (1, 0) at t = (0, 0.5)"),
        "{text}"
    );
    assert!(text.contains("0 ∉ ∂f"), "{text}");
    // Without the flag there is no exact set in the output.
    let v = json(&["grad", "abs(x)", "--at", "x=0"]);
    assert!(v.get("zonotope").is_none());
}

#[test]
fn grad_subdifferential_refuses_kinks_outside_its_class() {
    for (expression, at, part) in [
        (
            "relu(x) - relu(-x)",
            "x=0",
            "`relu(-x)` (columns 11–18) is outside the class",
        ),
        ("relu(relu(x))", "x=0", "is nested in another tie"),
        ("max(x, 2*x, 0)", "x=0", "3 branches of max_n tie"),
    ] {
        fails_with(&["grad", expression, "--at", at, "--subdifferential"], part);
        fails_with(
            &[
                "grad",
                expression,
                "--at",
                at,
                "--subdifferential",
                "--json",
            ],
            part,
        );
    }
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
fn grad_certified_resolves_a_tie_broken_by_rounding_as_a_tie() {
    // Issue 11: both functions are 0 everywhere (the second relu's argument is y in real
    // arithmetic, 1 ulp off 0 in floating point), so the only subgradient is (0, 0).
    for (expression, seed) in [
        ("relu(y) - relu((y - ((exp(x) + 2) - 2)) + exp(x))", "0"),
        ("relu(y) - relu((y + ((exp(x) + 2) - 2)) - exp(x))", "3"),
    ] {
        let v = json(&[
            "grad",
            expression,
            "--at",
            "x=-2",
            "--at",
            "y=0",
            "--certified",
            "--seed",
            seed,
        ]);
        assert_eq!(
            (v["gradient"]["x"].as_f64(), v["gradient"]["y"].as_f64()),
            (Some(0.0), Some(0.0))
        );
        let c = &v["certification"];
        assert_eq!(c["mode"], "random");
        assert_eq!(
            (c["ties"].as_u64(), c["near_ties"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(c["near"][0]["op"], "relu");
        assert_eq!(c["tolerance"].as_f64(), Some(4.0 * f64::EPSILON));
    }
}

#[test]
fn grad_certified_takes_a_further_direction_where_the_tangent_is_zero() {
    // Issue 11: relu(u) − relu(−u) = u with u = x + 5.598066241544075·y, gradient
    // (1, 5.598066241544075) at any point; seed 0's direction is tangent to the kink.
    let e = "relu(x - (-5.598066241544075 * y)) - relu(-(x - (-5.598066241544075 * y)))";
    let base = ["grad", e, "--at", "x=0", "--at", "y=0"];
    let mut runs: Vec<Vec<&str>> = ["0", "1", "2", "3", "17"]
        .iter()
        .map(|&seed| [&base[..], &["--certified", "--seed", seed]].concat())
        .collect();
    runs.push([&base[..], &["--certified", "lex"]].concat());
    runs.push([&base[..], &["--certified=lex"]].concat());
    for args in &runs {
        let v = json(args);
        assert_eq!(v["gradient"]["x"].as_f64(), Some(1.0), "{args:?}");
        assert_eq!(
            v["gradient"]["y"].as_f64(),
            Some(5.598066241544075),
            "{args:?}"
        );
    }
    // The default seed needs the random direction and e₁; lex needs e₁ alone.
    assert_eq!(json(&runs[0])["certification"]["directions"], 2);
    let lex = json(&runs[5]);
    assert_eq!(lex["certification"]["mode"], "lexicographic");
    assert_eq!(lex["certification"]["directions"], 1);
    assert!(lex.get("seed").is_none());
}

#[test]
fn grad_certified_lex_refuses_a_seed() {
    fails_with(
        &[
            "grad",
            "relu(x)",
            "--at",
            "x=0",
            "--certified",
            "lex",
            "--seed",
            "2",
        ],
        "--certified lex uses none",
    );
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
fn option_values_are_checked_by_clap_which_lists_the_possible_values() {
    fails_with(
        &["train", "builtin:seed", "--solver", "newton"],
        "invalid value 'newton' for '--solver <SOLVER>'\n  \
         [possible values: exact, subgradient, pegasos, nesterov]",
    );
    fails_with(
        &["train", "builtin:seed", "--loss", "quadratic"],
        "[possible values: hinge, squared-hinge, smooth-hinge, smooth-sqrt, huberized, \
         modified-huber, all-pairs]",
    );
    fails_with(
        &["train", "builtin:seed", "--gradient", "autodiff"],
        "[possible values: engine, closed-form]",
    );
    fails_with(
        &["train", "builtin:seed", "--multiclass", "ovo"],
        "[possible values: ovr, crammer-singer]",
    );
    // `smooth-gaussian` stays accepted as another name of `smooth-hinge`.
    let a = json(&["train", "builtin:seed", "--loss", "smooth-gaussian"]);
    let b = json(&["train", "builtin:seed", "--loss", "smooth-hinge"]);
    assert_eq!(a["objective"], b["objective"]);
    // The help lists them too: `-h` on one line, `--help` one per line with what it means.
    let short = subgrad().args(["train", "-h"]).output().unwrap();
    let short = String::from_utf8_lossy(&short.stdout);
    assert!(
        short.contains("[possible values: exact, subgradient, pegasos, nesterov]"),
        "{short}"
    );
    let long = subgrad().args(["cv", "--help"]).output().unwrap();
    let long = String::from_utf8_lossy(&long.stdout);
    assert!(long.contains("Possible values:\n"), "{long}");
    assert!(long.contains("- all-pairs:"), "{long}");
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
fn demo_proves_the_optimum_with_the_dual_multipliers() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&[
        "demo",
        "--iterations",
        "10",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let o = &v["optimality"];
    assert_eq!(o["proved"], true);
    assert_eq!(o["contains_zero"], true);
    assert_eq!(o["margin_examples"], serde_json::json!([0, 1, 4]));
    // By hand (demo.rs): α = (2, 2, 4) for x₀, x₁, x₄ and C = 10, so t = α/C = (0.2, 0.2, 0.4);
    // the generators C·(−yᵢ·xᵢ, −yᵢ) and the centre (w*, 0) = (−2, 2, 0).
    let t: Vec<f64> = o["multipliers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (got, want) in t.iter().zip([0.2, 0.2, 0.4]) {
        assert!((got - want).abs() <= 1e-12, "t = {t:?}");
    }
    assert_eq!(o["center"], serde_json::json!([-2.0, 2.0, 0.0]));
    assert_eq!(
        o["generators"],
        serde_json::json!([
            [0.0, -10.0, -10.0],
            [-10.0, -20.0, -10.0],
            [10.0, 10.0, 10.0]
        ])
    );
    let text = subgrad()
        .args([
            "demo",
            "--iterations",
            "10",
            "--out",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("PROVED optimal"), "{text}");
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
    // The certificate is ‖∇f‖; f − f* ≤ ‖∇f‖²/2 (1-strong convexity) ≤ tol·f, tol = 1e-9.
    let g = v["certificate"].as_f64().unwrap();
    assert!(0.5 * g * g <= 1e-9 * f, "{g}");
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
fn train_json_is_the_library_report_with_the_objective_of_the_report_line() {
    let args = ["train", "builtin:iris", "--standardize", "--model"];
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let v = json(&[&args[..], &[model.to_str().unwrap()]].concat());
    let text = subgrad().args(args).arg(&model).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    // objective ½‖w‖² + C·Σ loss (summed over one-vs-rest) = 162.3547701614
    let line = text
        .lines()
        .find(|l| l.starts_with("objective "))
        .unwrap_or_else(|| panic!("no objective line in {text}"));
    let printed = line.rsplit(" = ").next().unwrap();
    let objective = v["objective"].as_f64().unwrap();
    assert_eq!(format!("{objective:.10}"), printed, "{line}");
    // The report's model is the model written to --model, field for field.
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(v["model"], written);
    assert_eq!(v["model_file"], model.to_str().unwrap());
    assert_eq!(v["model"]["classes"], serde_json::json!([0.0, 1.0, 2.0]));
    assert!(v["train_auc"].is_null()); // three classes: no AUC
    assert_eq!(
        v["history"].as_array().map(|h| h.is_empty()),
        Some(false),
        "{v}"
    );
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
    assert_eq!(a["model"]["c"], 1.0);
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
        "invalid value 'quadratic' for '--loss <LOSS>'",
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
    // Every loss the library has (the six binary margin losses and the two multiclass ones),
    // each at a random point and at a kink, once.
    let losses = [
        "hinge",
        "squared-hinge",
        "smooth-gaussian",
        "smooth-sqrt",
        "huberized",
        "modified-huber",
        "weston-watkins",
        "crammer-singer",
    ];
    let mut got: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["loss"].as_str().unwrap().into(),
                r["point"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = losses
        .iter()
        .flat_map(|l| {
            [
                (l.to_string(), "kink".into()),
                (l.to_string(), "random".into()),
            ]
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
    // The losses with a kink in their primitive form hit one at their kink point (hand count:
    // hinge and squared hinge at the two margins on 1, …); the smooth ψ losses hit none.
    for r in &rows {
        let kinks = r["kinks"].as_u64().unwrap();
        match (r["loss"].as_str().unwrap(), r["point"].as_str().unwrap()) {
            ("smooth-gaussian" | "smooth-sqrt", _) | (_, "random") => assert_eq!(kinks, 0, "{r}"),
            _ => assert!(kinks > 0, "{r}"),
        }
    }
    assert!(rows
        .iter()
        .all(|r| r["gradcheck"] == true && r["max_difference"].as_f64().unwrap() < 1e-12));
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
    assert_eq!(v["model"]["loss"], "all-pairs");
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
    // Issue 12: the AUC is reported under its own name.
    assert!(cv["best_auc"].as_f64().unwrap() > 0.95);
}

// Issue 9, item 1: the release binary overflowed its stack at 7,148 nested parentheses and
// 11,139 unary minuses; 20,000 levels (about 40 KB of argument) must work.
#[test]
fn deeply_nested_expressions_are_differentiated() {
    let n = 20_000;
    let parens = format!("{}x{}", "(".repeat(n), ")".repeat(n));
    let out = json(&["grad", &parens, "--at", "x=3"]);
    assert_eq!(out["value"], 3.0); // ((…x…)) = x
    assert_eq!(out["gradient"]["x"], 1.0);
    let minuses = format!("{}x", "-".repeat(n)); // an even count: −(−(…x)) = x
    let out = json(&["grad", &minuses, "--at", "x=3"]);
    assert_eq!(out["value"], 3.0);
    let relus = format!("{}x{}", "relu(".repeat(n), ")".repeat(n));
    let out = json(&["grad", &relus, "--at", "x=3"]);
    assert_eq!(out["gradient"]["x"], 1.0); // relu'(3) = 1 at every level
}

// Issue 9, item 9: constant expressions never reached backward's finiteness check.
#[test]
fn non_finite_values_are_errors_with_a_column() {
    fails_with(&["grad", "1e308*10 - 1e308*10"], "column 1");
    fails_with(&["grad", "1 + 1e200*1e200"], "overflows to infinity");
}

// Issue 9, item 5: `demo --every 1 | head -1` panicked on the closed pipe (exit 101).
#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("subgrad");
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(bin)
        .args(["demo", "--every", "1", "--iterations", "300", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// Issue 9, item 7: the plotting library looped forever on an axis near f64::MAX.
#[test]
fn plots_of_huge_values_are_refused_not_hung() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.svg");
    let out = subgrad()
        .args(["grad", "exp(x)", "--at", "x=709", "--plot"])
        .arg(&path)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too large to plot"));
    assert!(!path.exists());
}

// Issue 9, items 4 and 8: a 4·10⁹-value grid was allocated; bad tolerances ran to the cap.
#[test]
fn grid_and_tolerance_are_validated_before_any_work() {
    fails_with(
        &[
            "cv",
            "builtin:iris",
            "--lo",
            "-2147483648",
            "--hi",
            "2147483647",
        ],
        "exponents must lie in",
    );
    fails_with(
        &["cv", "builtin:iris", "--lo", "-40", "--hi", "40"],
        "at most 64",
    );
    fails_with(&["cv", "builtin:seed", "--folds", "6"], "2 ≤ folds ≤ rows");
    for tol in ["nan", "0", "-1"] {
        fails_with(
            &["train", "builtin:seed", "--tol", tol],
            "tolerance must be",
        );
    }
    fails_with(&["demo", "--step", "0"], "step size must be");
    fails_with(&["demo", "--step", "-1"], "step size must be");
}

// Issue 9, item 11: `std::fs::write` truncated the old model before a failing write.
#[test]
fn a_failed_model_write_leaves_the_old_model_intact() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    std::fs::write(&model, "previous model").unwrap();
    // The target is a folder's path inside a missing folder: the write cannot happen.
    let missing = dir.path().join("no-such-folder").join("m.json");
    fails_with(
        &[
            "train",
            "builtin:seed",
            "--model",
            missing.to_str().unwrap(),
        ],
        "no-such-folder",
    );
    // A model that cannot be read names its path, and says read, not write.
    let absent = dir.path().join("absent.json");
    fails_with(
        &["predict", absent.to_str().unwrap(), "builtin:seed"],
        &format!("cannot read {}", absent.display()),
    );
    // A successful write replaces the file whole.
    let out = subgrad()
        .args(["train", "builtin:seed", "-C", "10", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(
        text.starts_with('{') && text.contains("\"weights\""),
        "{text}"
    );
}

// liblinear's `-B -1` means no bias; `--bias -1` after a space is a value, not a flag.
#[test]
fn negative_bias_means_no_bias() {
    let with = json(&["train", "builtin:seed", "--bias", "-1"]);
    let without = json(&["train", "builtin:seed"]);
    assert_eq!(with["objective"], without["objective"]);
}

/// `tests/data/issue9/NAME`.
fn bad(name: &str) -> String {
    format!("{}/tests/data/issue9/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn invalid_models_are_rejected_on_load_naming_the_file_and_field() {
    // Each of these panicked, aborted on an allocation or was silently accepted before the
    // models were validated (issue 9, item 2). Expected messages: the field and the reason.
    for (file, message) in [
        (
            "model-one-class.json",
            "`classes` has 1 entry; a model needs at least 2",
        ),
        (
            "model-no-class.json",
            "`classes` has 0 entries; a model needs at least 2",
        ),
        (
            "model-extra-weights.json",
            "`weights` has 3 vectors; 2 classes need 1",
        ),
        (
            "model-short-std.json",
            "`standardizer.std` has length 1, but `features` = 2",
        ),
        (
            "model-negative-std.json",
            "`standardizer.std` holds -1 at 1, which is negative",
        ),
        (
            "model-huge-features.json",
            "`features` = 1000000000000 needs 1000000000000",
        ),
        (
            "model-max-features.json",
            "`features` = 18446744073709551615 needs",
        ),
        (
            "model-short-weights.json",
            "vector 0 has length 1, but `features` = 2 needs 2",
        ),
    ] {
        let path = bad(file);
        let out = subgrad()
            .args(["predict", &path, "builtin:seed"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&path), "{file}: {stderr}");
        assert!(stderr.contains(message), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    }
}

#[test]
fn data_without_features_is_an_error_under_every_multiclass_strategy() {
    // Issue 9, item 3: crammer-singer panicked ("chunk size must be non-zero") and binary
    // training reported objective 0 where the true objective at w = 0 is n·C.
    let file = bad("no-features.libsvm");
    for strategy in ["ovr", "crammer-singer"] {
        fails_with(
            &["train", &file, "--multiclass", strategy],
            "the data has no features",
        );
    }
}

#[test]
fn labels_outside_the_models_classes_are_reported_with_the_file_and_row() {
    // Issue 9, item 13: a 30-feature ±1 model scored 4-feature data labelled 0–2 and printed
    // "accuracy 0.3333".
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.json");
    let model = model.to_str().unwrap();
    subgrad()
        .args([
            "train",
            "builtin:breast_cancer",
            "--standardize",
            "--loss",
            "squared-hinge",
        ])
        .args(["--model", model])
        .assert()
        .success();
    let data = bad("three-classes-4-features.libsvm");
    fails_with(
        &["predict", model, &data],
        &format!("{data}: data row 1 (counting from 1): label 2 is not one of the model's classes"),
    );
}

#[test]
fn csv_header_rule_and_label_column_are_explicit() {
    // Issue 9, item 12. A UTF-8 BOM before a numeric first row: both rows are data.
    let v = json(&["train", &bad("bom.csv")]);
    assert_eq!(v["rows"], 2);
    // A first row with an empty field or a typo is neither dropped nor guessed.
    for file in ["empty-field.csv", "typo.csv"] {
        fails_with(
            &["train", &bad(file)],
            "is line 1 a header or data? say which (`--header` or `--no-header`",
        );
    }
    // --no-header: the first line is data, so its empty field is a bad number at column 3.
    fails_with(
        &["train", &bad("empty-field.csv"), "--no-header"],
        "empty-field.csv:1:3: `` is not a number",
    );
    // The label column by name or by index, not silently the last column: `y` holds ±1
    // while the last column holds 2 and 3.
    for label in ["y", "0"] {
        let v = json(&["train", &bad("label-first.csv"), "--label", label]);
        assert_eq!(
            v["model"]["classes"],
            serde_json::json!([-1.0, 1.0]),
            "--label {label}"
        );
    }
    let v = json(&["train", &bad("label-first.csv")]);
    assert_eq!(v["model"]["classes"], serde_json::json!([2.0, 3.0]));
    fails_with(
        &["train", &bad("label-first.csv"), "--label", "z"],
        "no column named `z`",
    );
    fails_with(
        &["train", &bad("label-first.csv"), "--label", "7"],
        "no column 7 (0-based) for the label: the file has 3",
    );
    fails_with(
        &["train", &bad("no-features.libsvm"), "--label", "0"],
        "apply to CSV files only",
    );
    fails_with(
        &["train", &bad("bom.csv"), "--header", "--no-header"],
        "cannot be used with",
    );
}

#[test]
fn an_iteration_limit_is_reported_with_what_to_do() {
    // Three epochs per class on raw digits (dual coordinate descent, which the exact hinge
    // path runs first) cannot close the duality gap.
    let v = json(&["train", "builtin:digits", "--max-iter", "3"]);
    assert_eq!(v["converged"], false);
    assert_eq!(v["iterations"], 30); // ten one-vs-rest problems × 3
    assert_eq!(v["unscaled"], 16.0); // raw pixel values 0…16
    let out = subgrad()
        .args(["train", "builtin:digits", "--max-iter", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("stopped at the iteration limit"), "{text}");
    assert!(
        text.contains("raise --max-iter or --tol, or pass --standardize"),
        "{text}"
    );
    fails_with(
        &["train", "builtin:seed", "--max-iter", "0"],
        "--max-iter must be at least 1",
    );
}

#[test]
fn a_sparse_file_with_a_huge_index_trains_to_the_hand_derived_optimum() {
    // x₁ = e₁ + e_K (+1), x₂ = e₁ (−1), K = 3·10⁷, hinge, C = 1: α = (1, 1), w = e_K,
    // f = ½ + 1 = 1.5 (derivation in crates/svm/tests/sparse.rs).
    let file = format!(
        "{}/tests/data/huge-index.libsvm",
        env!("CARGO_MANIFEST_DIR")
    );
    let v = json(&["train", &file]);
    assert_eq!(v["features"], 30_000_000);
    assert_eq!(v["converged"], true);
    // The default --tol 1e-9 certifies f within 1e-9 relative.
    assert!((v["objective"].as_f64().unwrap() - 1.5).abs() <= 1.5e-9);
}

// Issue 12, the learner: `grad` states the set that holds at a kink, not a box of intervals.

/// The JSON of `grad EXPR --at …` at the given point.
fn grad_at(expression: &str, at: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["grad", expression];
    for a in at {
        args.extend(["--at", a]);
    }
    args.extend(extra);
    json(&args)
}

/// The text report of `grad`.
fn grad_text(args: &[&str]) -> String {
    let out = subgrad().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn grad_hinge_at_the_margin_is_a_segment_not_a_box() {
    let v = grad_at("max(0, 1 - y*w*x)", &["y=1", "w=0.5", "x=2"], &[]);
    let set = &v["subdifferential"];
    // The pieces near y·w·x = 1 are 0 and 1 − y·w·x, with gradients 0 and
    // −(w·x, y·x, y·w) = −(1, 2, 0.5); both hold on an open set, so ∂f is the segment between.
    assert_eq!(set["status"], "exact");
    assert_eq!(set["shape"], "segment");
    assert_eq!(
        set["vertices"],
        serde_json::json!([[0.0, 0.0, 0.0], [-1.0, -2.0, -0.5]])
    );
    assert_eq!(set["contains_gradient"], true); // MinNorm returns 0, an end of the segment
    assert_eq!(
        (set["combinations"].clone(), set["realized"].clone()),
        (2.into(), 2.into())
    );
    // The per-axis slopes stay, left then right: along w alone, −y·x = −2 then 0.
    assert_eq!(v["one_sided"]["w"], serde_json::json!([-2.0, 0.0]));
    let text = grad_text(&[
        "grad",
        "max(0, 1 - y*w*x)",
        "--at",
        "y=1",
        "--at",
        "w=0.5",
        "--at",
        "x=2",
    ]);
    assert!(
        text.contains("is the segment between\n  (0, 0, 0)\n  (-1, -2, -0.5)"),
        "{text}"
    );
    assert!(text.contains("not a box"), "{text}");
    // The notation is explained once.
    assert_eq!(text.matches("[−f'(x; −e), f'(x; e)]").count(), 1, "{text}");
    assert_eq!(
        text.matches("is the one-sided derivative along d").count(),
        1,
        "{text}"
    );
}

#[test]
fn one_sided_slopes_are_left_then_right_as_they_are() {
    // abs(abs(x) − 1) = 1 − |x| near 0: slope +1 coming from the left, −1 going on to the right.
    let v = grad_at("abs(abs(x) - 1)", &["x=0"], &[]);
    assert_eq!(v["one_sided"]["x"], serde_json::json!([1.0, -1.0]));
    // The pieces |x − 1| and |−x − 1| have slopes −1 and 1 at 0: ∂f is the segment between.
    assert_eq!(
        v["subdifferential"]["vertices"],
        serde_json::json!([[-1.0], [1.0]])
    );
    // A convex kink keeps left ≤ right: relu at 0 is [0, 1].
    assert_eq!(
        grad_at("relu(x)", &["x=0"], &[])["one_sided"]["x"],
        serde_json::json!([0.0, 1.0])
    );
}

#[test]
fn certified_mode_does_not_say_a_rule_chose() {
    let args = ["grad", "abs(abs(x) - 1)", "--at", "x=0", "--certified"];
    let text = grad_text(&args);
    assert!(!text.contains("rule chose"), "{text}");
    assert!(text.contains("certified, seed 0"), "{text}");
    let text = grad_text(&args[..4]);
    assert!(
        text.contains("the policy's rule for that operation chose"),
        "{text}"
    );
}

#[test]
fn the_set_says_whether_it_holds_the_returned_gradient() {
    // relu(x) − relu(−x) = x: of the four branch pairs only x − 0 and 0 − (−x) hold near 0
    // (x > 0 and x < 0); both have slope 1, so ∂f = {1}. MinNorm's 0 is outside it.
    let v = grad_at("relu(x) - relu(-x)", &["x=0"], &[]);
    let set = &v["subdifferential"];
    assert_eq!(set["status"], "exact");
    assert_eq!(set["shape"], "point");
    assert_eq!(set["vertices"], serde_json::json!([[1.0]]));
    assert_eq!(
        (set["combinations"].clone(), set["realized"].clone()),
        (4.into(), 2.into())
    );
    assert_eq!(set["contains_gradient"], false);
    let v = grad_at("relu(x) - relu(-x)", &["x=0"], &["--certified"]);
    assert_eq!(v["subdifferential"]["contains_gradient"], true);
}

#[test]
fn independent_kinks_give_a_polygon_whose_axis_slopes_need_not_bound_it() {
    // |x| + |y| at 0: the four sign pieces, the square with vertices (±1, ±1), in cyclic order.
    let v = grad_at("abs(x) + abs(y)", &["x=0", "y=0"], &[]);
    assert_eq!(v["subdifferential"]["shape"], "polygon");
    assert_eq!(
        v["subdifferential"]["vertices"],
        serde_json::json!([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    );
    // max(0, min(x, y)) at 0: the pieces 0, x and y all hold on open sets, so ∂f is the
    // triangle 0, (1, 0), (0, 1), although f(t, 0) = 0 has slopes [0, 0] along x alone.
    let v = grad_at("max(0, min(x, y))", &["x=0", "y=0"], &[]);
    assert_eq!(
        v["subdifferential"]["vertices"],
        serde_json::json!([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    );
    assert_eq!(v["one_sided"]["x"], serde_json::json!([0.0, 0.0]));
}

#[test]
fn curved_switches_give_bounds_not_a_claim_of_exactness() {
    // relu(y) − relu(y − x²) at 0, coordinates (y, x) in order of appearance: both switches
    // have gradient (1, 0), so to first order only the pieces y − (y − x²) = x² and 0 (gradient
    // 0) hold; y (1, 0) and −(y − x²) (−1, 0) are dropped. But y > 0 > y − x² holds on the cusp
    // 0 < y < x² (the second switch is curved), so the set is only bounded: it holds 0 and lies
    // in the segment (−1, 0)–(1, 0). (It is in fact the segment 0–(1, 0).)
    let v = grad_at("relu(y) - relu(y - square(x))", &["x=0", "y=0"], &[]);
    let set = &v["subdifferential"];
    assert_eq!(set["status"], "bounds");
    assert_eq!(set["inner"], serde_json::json!([[0.0, 0.0]]));
    assert_eq!(set["outer"], serde_json::json!([[-1.0, 0.0], [1.0, 0.0]]));
    assert_eq!(set["contains_gradient"], true); // MinNorm's 0 is the inner point
}

#[test]
fn too_many_kinks_fall_back_to_the_axis_slopes() {
    // Eleven independent relus at 0: 2¹¹ = 2048 combinations, above the limit of 1024.
    let names: Vec<String> = (0..11).map(|i| format!("v{i}")).collect();
    let expression = names
        .iter()
        .map(|n| format!("relu({n})"))
        .collect::<Vec<_>>()
        .join(" + ");
    let at: Vec<String> = names.iter().map(|n| format!("{n}=0")).collect();
    let at: Vec<&str> = at.iter().map(String::as_str).collect();
    let v = grad_at(&expression, &at, &[]);
    assert_eq!(v["subdifferential"]["status"], "not-computed");
    assert!(v["subdifferential"]["reason"]
        .as_str()
        .unwrap()
        .contains("1024"));
    assert_eq!(v["one_sided"]["v3"], serde_json::json!([0.0, 1.0]));
}

#[test]
fn powers_follow_arithmetic_and_name_their_construction() {
    // x³ at 2: 8, derivative 3x² = 12 (powi: exact).
    let v = grad_at("x^3", &["x=2"], &[]);
    assert_eq!(
        (v["value"].as_f64(), v["gradient"]["x"].as_f64()),
        (Some(8.0), Some(12.0))
    );
    // x^−1 = 1/x at 2: 0.5, derivative −1/x² = −0.25.
    let v = grad_at("x^-1", &["x=2"], &[]);
    assert_eq!(
        (v["value"].as_f64(), v["gradient"]["x"].as_f64()),
        (Some(0.5), Some(-0.25))
    );
    // −x² is −(x²); 2^3^2 is 2^9 = 512; x² at 0 has derivative 0.
    assert_eq!(grad_at("-x^2", &["x=3"], &[])["value"], -9.0);
    assert_eq!(grad_at("2^3^2 + 0*x", &["x=1"], &[])["value"], 512.0);
    assert_eq!(grad_at("x^2", &["x=0"], &[])["gradient"]["x"], 0.0);
    // A real constant exponent is powf: √4 = 2 with derivative 1/(2√4) = 0.25, to rounding.
    let v = grad_at("pow(x, 0.5)", &["x=4"], &[]);
    assert!((v["value"].as_f64().unwrap() - 2.0).abs() < 1e-15);
    assert!((v["gradient"]["x"].as_f64().unwrap() - 0.25).abs() < 1e-15);
    // … which needs x > 0, said at the `^` (column 2).
    fails_with(
        &["grad", "x^0.5", "--at", "x=-1"],
        "column 2: `^` with a non-integer exponent (0.5) is powf, defined for x > 0",
    );
    // An exponent with variables is exp(p·ln x), also for x > 0 only.
    fails_with(
        &["grad", "x^y", "--at", "x=0", "--at", "y=2"],
        "an exponent with variables",
    );
}

#[test]
fn clamp_is_in_the_grammar_with_its_kink_rule() {
    // clamp(x, 0, 1) at the upper bound 1: MinNorm takes 0, TF 1 (the kink table); the slopes
    // are 1 from the left and 0 to the right.
    let v = grad_at("clamp(x, 0, 1)", &["x=1"], &[]);
    assert_eq!(v["value"], 1.0);
    assert_eq!(v["gradient"]["x"], 0.0);
    assert_eq!(v["kinks"][0]["op"], "clamp");
    assert_eq!(v["one_sided"]["x"], serde_json::json!([1.0, 0.0]));
    assert_eq!(
        v["subdifferential"]["vertices"],
        serde_json::json!([[1.0], [0.0]])
    );
    assert_eq!(
        grad_at("clamp(x, 0, 1)", &["x=1"], &["--policy", "tf"])["gradient"]["x"],
        1.0
    );
    // Bounds are numbers, possibly computed: 1/2 is fine, a variable is not.
    assert_eq!(grad_at("clamp(x, -1, 1/2)", &["x=3"], &[])["value"], 0.5);
    fails_with(
        &["grad", "clamp(x, 0, y)", "--at", "x=1", "--at", "y=2"],
        "column 13: clamp's bounds must be numbers",
    );
    fails_with(&["grad", "clamp(x, 1, 0)", "--at", "x=1"], "clamp");
}

#[test]
fn names_and_assignments_are_checked() {
    fails_with(
        &["grad", "log(x)", "--at", "x=1"],
        "unknown function `log` (did you mean `ln`?)",
    );
    fails_with(
        &["grad", "rleu(x)", "--at", "x=1"],
        "(did you mean `relu`?)",
    );
    fails_with(
        &["grad", "clip(x, 0, 1)", "--at", "x=1"],
        "(did you mean `clamp`?)",
    );
    fails_with(
        &["grad", "x", "--at", "x=1", "--at", "y=2"],
        "--at y: `y` is not a variable of the expression (its variables: x)",
    );
    fails_with(
        &["grad", "x", "--at", "x=1", "--at", "x=2"],
        "`x` is given twice with --at",
    );
    fails_with(&["grad", "2", "--at", "x=1"], "(its variables: none)");
}

#[test]
fn sqrt_at_zero_names_its_infinite_derivative_and_column() {
    // d/dx √x = 1/(2√x) is infinite at 0; the sqrt starts at column 5.
    fails_with(
        &["grad", "1 + sqrt(x)", "--at", "x=0"],
        "column 5: the derivative of sqrt is infinite at 0 (its argument, columns 10–10, is 0 here)",
    );
    let out = subgrad()
        .args(["grad", "sqrt(x)", "--at", "x=0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("non-finite"));
}

#[test]
fn plot_goes_along_the_chosen_variable_and_says_what_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hinge.svg");
    let path = path.to_str().unwrap();
    // w is given first, so the default is w.
    let v = grad_at(
        "max(0, 1 - y*w*x)",
        &["w=0.5", "y=1", "x=2"],
        &["--plot", path],
    );
    assert_eq!(v["plot"]["along"], "w");
    assert_eq!(v["plot"]["chosen_by"], "the first --at");
    assert_eq!(v["plot"]["fixed"], serde_json::json!({"y": 1.0, "x": 2.0}));
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(
        svg.contains("along w, with y = 1, x = 2 held fixed"),
        "{svg}"
    );
    // Along w the slopes are −y·x = −2 and 0; along x they are −y·w = −0.5 and 0.
    // (The SVG escapes the prime as &apos;.)
    assert!(svg.contains("left slope −f&apos;(x; −e) = -2"), "{svg}");
    let v = grad_at(
        "max(0, 1 - y*w*x)",
        &["w=0.5", "y=1", "x=2"],
        &["--plot", path, "--along", "x"],
    );
    assert_eq!(v["plot"]["along"], "x");
    let along_x = std::fs::read_to_string(path).unwrap();
    assert!(
        along_x.contains("left slope −f&apos;(x; −e) = -0.5"),
        "{along_x}"
    );
    assert!(
        along_x.contains("with y = 1, w = 0.5 held fixed"),
        "{along_x}"
    );
    // The two slopes have two colours (orange, green).
    assert!(svg.contains("#E68200") && svg.contains("#009650"), "{svg}");
}

#[test]
fn plot_refuses_a_png_file_instead_of_writing_svg_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("hinge.png");
    let out = subgrad()
        .args(["grad", "max(0, 1 - w)", "--at", "w=1", "--plot"])
        .arg(&png)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plots are written as SVG only"), "{stderr}");
    assert!(!png.exists());
}

#[test]
fn demo_rejects_empty_runs_and_zero_steps_with_the_option_named() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    for (args, message) in [
        (["--iterations", "0"], "--iterations 0: must be at least 1"),
        (["--every", "0"], "--every 0: must be at least 1"),
        (
            ["--step", "0"],
            "--step 0: the step size must be a finite number > 0",
        ),
        (["--step", "nan"], "--step NaN: the step size must be"),
    ] {
        let out = subgrad()
            .arg("demo")
            .args(args)
            .args(["--out", out_dir])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: no row is printed");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(message),
            "{args:?}"
        );
    }
    // Nothing was written either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn demo_shows_the_examples_on_and_near_the_margin_and_draws_small_regions() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&["demo", "--out", dir.path().to_str().unwrap()]);
    let steps = v["steps"].as_array().unwrap();
    // w = 0, b = 0 at k = 1: every margin is 0, far from 1.
    assert_eq!(steps[0]["near_margin"], serde_json::json!([]));
    // From k = 500 on, the support vectors x₀, x₁, x₄ stay within 0.01 of the margin, and the
    // rounded iterates never put one exactly on it (measured: none of the 5,000 steps does).
    for st in &steps[1..] {
        assert_eq!(st["near_margin"], serde_json::json!([0, 1, 4]), "{st}");
        assert_eq!(st["on_margin"], serde_json::json!([]), "{st}");
    }
    assert_eq!(v["near_margin_tolerance"], 0.01);
    // The regions are two polygons: 570 KB of 6,401 rectangles before, about 10 KB now.
    let svg = std::fs::read_to_string(dir.path().join("decision_regions.svg")).unwrap();
    assert!(svg.len() < 40_000, "{} bytes", svg.len());
    assert_eq!(svg.matches("<polygon").count(), 2);
    assert!(!svg.contains("<rect x") || svg.matches("<rect").count() < 20);
    for legend in [
        "predicted +1",
        "decision boundary",
        "label −1",
        "on the margin at the exact optimum",
    ] {
        assert!(svg.contains(legend), "{legend}");
    }
}

// Issue 13: the engine's newer primitives in the grammar, differentiated at their kinks.

#[test]
fn leaky_relu_at_its_kink_follows_each_policy_and_reports_the_segment() {
    // leaky_relu(x, α) at 0 has the one-sided slopes α (left) and 1 (right), so its Clarke set
    // is the segment between α and 1. The kink table: MinNorm takes that segment's
    // minimum-norm element (α for 0 ≤ α ≤ 1, 0 when the segment holds 0), Torch and Tf α
    // (their `x > 0` branch test), Jax 1 (its `x >= 0`).
    for (alpha, minimum_norm) in [("0.1", 0.1), ("-0.5", 0.0)] {
        let slope: f64 = alpha.parse().unwrap();
        let expression = format!("leaky_relu(x, {alpha})");
        for (policy, want) in [
            ("min-norm", minimum_norm),
            ("torch", slope),
            ("jax", 1.0),
            ("tf", slope),
        ] {
            let v = grad_at(&expression, &["x=0"], &["--policy", policy]);
            assert_eq!(v["value"], 0.0, "{expression} {policy}");
            assert_eq!(v["gradient"]["x"], want, "{expression} {policy}");
            assert_eq!(v["kinks"][0]["op"], "leaky_relu", "{expression}");
            assert_eq!(v["one_sided"]["x"], serde_json::json!([slope, 1.0]));
            let set = &v["subdifferential"];
            assert_eq!(set["status"], "exact");
            assert_eq!(set["shape"], "segment");
            assert_eq!(set["vertices"], serde_json::json!([[1.0], [slope]]));
            assert_eq!(set["contains_gradient"], true, "{expression} {policy}");
        }
        // Certified: one of the two one-sided slopes, a vertex of the segment.
        let g = grad_at(&expression, &["x=0"], &["--certified"])["gradient"]["x"]
            .as_f64()
            .unwrap();
        assert!(g == 1.0 || g == slope, "{expression}: certified {g}");
    }
    // The slope must be a number: a variable slope is refused at its column.
    fails_with(
        &["grad", "leaky_relu(x, y)", "--at", "x=0", "--at", "y=1"],
        "column 15: leaky_relu's slope must be a number",
    );
    fails_with(&["grad", "leaky_relu(x)", "--at", "x=0"], "2 arguments");
}

#[test]
fn two_leaky_relus_that_cancel_have_the_derivative_of_their_sum() {
    // leaky_relu(x, ½) − leaky_relu(−x, ½) is x + x/2 = 1.5·x on both sides of 0 (x > 0:
    // x − (−x/2); x < 0: x/2 − (−x)), so ∂f(0) = {1.5}; MinNorm's per-op ½ + ½ = 1 is outside.
    let v = grad_at("leaky_relu(x, 0.5) - leaky_relu(-x, 0.5)", &["x=0"], &[]);
    assert_eq!(v["gradient"]["x"], 1.0);
    assert_eq!(v["one_sided"]["x"], serde_json::json!([1.5, 1.5]));
    let set = &v["subdifferential"];
    assert_eq!(
        (set["status"].as_str(), set["vertices"].clone()),
        (Some("exact"), serde_json::json!([[1.5]]))
    );
    assert_eq!(set["contains_gradient"], false);
}

#[test]
fn softplus_sigmoid_tanh_and_log1p_are_smooth_with_their_closed_form_derivatives() {
    // At 0: softplus' = σ(0) = ½, σ' = σ(1 − σ) = ¼, tanh' = 1 − tanh² = 1, log1p' = 1/(1 + 0)
    // = 1, so f' = 2.75; f(0) = ln 2 + ½ + 0 + 0.
    let v = grad_at(
        "softplus(x) + sigmoid(x) + tanh(x) + log1p(x)",
        &["x=0"],
        &[],
    );
    assert_eq!(v["gradient"]["x"], 2.75);
    let value = v["value"].as_f64().unwrap();
    assert!((value - (2f64.ln() + 0.5)).abs() < 1e-15, "{value}");
    assert_eq!(v["kinks"], serde_json::json!([]));
    assert_eq!(v["one_sided"]["x"], serde_json::json!([2.75, 2.75]));
    // At x = 1: tanh'(1) = 1 − tanh²(1), log1p'(1) = ½, written out here.
    let v = grad_at("tanh(x) + log1p(x)", &["x=1"], &[]);
    let want = 1.0 - 1f64.tanh().powi(2) + 0.5;
    let got = v["gradient"]["x"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    // log1p's domain is x > −1, said at its column.
    fails_with(&["grad", "1 + log1p(x)", "--at", "x=-1"], "column 5: log1p");
    // Names from other libraries get the grammar's.
    fails_with(
        &["grad", "logistic(x)", "--at", "x=0"],
        "did you mean `sigmoid`?",
    );
}

#[test]
fn integer_exponents_are_powi_and_other_constant_exponents_powf() {
    // x³ + x^1.5 at 4: 64 + 8 = 72, and 3·4² + 1.5·√4 = 51.
    let v = grad_at("x^3 + pow(x, 1.5)", &["x=4"], &[]);
    assert_eq!(v["value"], 72.0);
    assert_eq!(v["gradient"]["x"], 51.0);
    // powi at 0 and below: x² + x³ at 0 has derivative 0; at −2: 2·(−2) + 3·4 = 8.
    assert_eq!(grad_at("x^2 + x^3", &["x=0"], &[])["gradient"]["x"], 0.0);
    assert_eq!(grad_at("x^2 + x^3", &["x=-2"], &[])["gradient"]["x"], 8.0);
    // powf with p > 1 is differentiable at 0 (1.5·0^0.5 = 0), which exp(p·ln x) was not.
    let v = grad_at("x^1.5", &["x=0"], &[]);
    assert_eq!(
        (v["value"].as_f64(), v["gradient"]["x"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    // Outside the domains, an error at the `^`: the pole of x^-1, powf's infinite slope at 0
    // for p < 1, and a negative base with a non-integer exponent.
    fails_with(
        &["grad", "x^-1", "--at", "x=0"],
        "column 2: `^`: x^-1 is 1/x^1",
    );
    fails_with(
        &["grad", "x^0.5", "--at", "x=0"],
        "column 2: `^` with a non-integer exponent (0.5) is powf, defined for x > 0",
    );
    fails_with(&["grad", "x^2.5", "--at", "x=-1"], "defined for x ≥ 0");
    // A kink raised to a power: relu(x)² at 0 is relu(x)·relu(x), differentiable with
    // derivative 2·relu(0)·relu'(0) = 0 on both sides.
    let v = grad_at("relu(x)^2", &["x=0"], &[]);
    assert_eq!(v["gradient"]["x"], 0.0);
    assert_eq!(v["subdifferential"]["vertices"], serde_json::json!([[0.0]]));
}
