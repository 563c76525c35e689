//! `train`'s textbook runs end to end: the seed program, the λ-form Nesterov workflow with a
//! fixed iteration count, and every textbook option's `--json` output and exit code.

use serde_json::Value;

use super::{json, subgrad};

fn fails_with(args: &[&str], message_part: &str) {
    let out = subgrad().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(if message_part.contains("cannot be used") {
            2
        } else {
            1
        })
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(message_part), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

fn weights(v: &Value) -> Vec<f64> {
    v["model"]["weights"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect()
}

/// The README's command for the seed program.
const SEED: &[&str] = &[
    "train",
    "builtin:seed",
    "--solver",
    "subgradient",
    "--no-regularizer",
    "--step",
    "0.1",
    "--stop-loss-change",
    "0.001",
    "--relu-at-zero",
    "1",
];

#[test]
fn the_readme_command_prints_the_seed_programs_weights() {
    for gradient in ["engine", "closed-form"] {
        let v = json(&[SEED, &["--gradient", gradient]].concat());
        // The seed program's printed result (issue 12), an independent value.
        let want = [-0.3256856642766511, 0.2264400438249529];
        for (got, want) in weights(&v).iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{gradient}: {got} vs {want}");
        }
        assert_eq!(v["iterations"], 201);
        assert_eq!(v["converged"], true);
        assert_eq!(v["certificate"], Value::Null);
        assert_eq!(v["objective_form"], "C·Σ loss");
        assert_eq!(v["stop_loss_change"], 0.001);
        assert_eq!(v["model"]["bias"], Value::Null);
    }
    let out = subgrad().args(SEED).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("objective C·Σ loss (no regulariser) = 2.57006"),
        "{text}"
    );
    assert!(text.contains("201 iterations, converged"), "{text}");
}

#[test]
fn no_averaging_returns_the_last_iterate() {
    // One step from w₀ = 0 on the seed: every margin is 0 < 1, g = Σ −yᵢxᵢ = (7, −1), so
    // w₁ = −0.1·(7, −1)/√50; averaged, (w₀ + w₁)/2 = w₁/2.
    let w1 = [-0.7 / 50f64.sqrt(), 0.1 / 50f64.sqrt()];
    let base = [&SEED[..SEED.len() - 4], &["--max-iter", "1"]].concat();
    for (extra, scale) in [(&["--no-averaging"][..], 1.0), (&[][..], 0.5)] {
        let v = json(&[&base[..], extra].concat());
        for (got, want) in weights(&v).iter().zip(w1) {
            assert!(
                (got - scale * want).abs() < 1e-15,
                "{got} vs {}",
                scale * want
            );
        }
        assert_eq!(v["iterations"], 1);
        assert_eq!(v["converged"], false);
    }
}

#[test]
fn relu_at_zero_decides_the_step_from_the_margin() {
    // x = ±1 with y = ±1: from w₀ = 0 the first step (η = 1, g = −2 normalised) lands on
    // w₁ = 1, where both examples sit exactly on the margin (z = 1). relu'(0) = 1 counts
    // them as violated, g = −2 again, w₂ = 1 + 1/2; relu'(0) = 0 finds g = 0 and stops at w₁.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("margin.libsvm");
    std::fs::write(&path, "1 1:1\n-1 1:-1\n").unwrap();
    let file = path.to_str().unwrap();
    for gradient in ["engine", "closed-form"] {
        let run = |r: &str| {
            json(&[
                "train",
                file,
                "--solver",
                "subgradient",
                "--no-regularizer",
                "--step",
                "1",
                "--no-averaging",
                "--max-iter",
                "2",
                "--relu-at-zero",
                r,
                "--gradient",
                gradient,
            ])
        };
        let violated = run("1");
        assert_eq!(
            (weights(&violated), &violated["iterations"]),
            (vec![1.5], &2.into())
        );
        let satisfied = run("0");
        assert_eq!(weights(&satisfied), vec![1.0]);
        assert_eq!(
            (&satisfied["iterations"], &satisfied["converged"]),
            (&1.into(), &true.into())
        );
    }
}

#[test]
fn the_lambda_form_nesterov_run_takes_exactly_the_iterations_asked() {
    let (lambda, n) = (0.01, 50);
    let v = json(&[
        "train",
        "builtin:breast_cancer",
        "--solver",
        "nesterov",
        "--loss",
        "squared-hinge",
        "--lambda",
        "0.01",
        "--max-iter",
        "50",
        "--fixed-iterations",
    ]);
    assert_eq!(v["iterations"], n);
    assert_eq!(v["history"].as_array().unwrap().len(), n + 1);
    assert_eq!(v["lambda"], lambda);
    // The λ-form objective recomputed from the returned weights by hand:
    // (1/n)·Σ max(0, 1 − yᵢ·w·xᵢ)² + λ‖w‖², y = +1 for the larger class.
    let data = svm::data::builtin("breast_cancer").unwrap();
    let w = weights(&v);
    let positive = v["model"]["classes"][1].as_f64().unwrap();
    let mean: f64 = (0..data.n())
        .map(|i| {
            let y = if data.labels[i] == positive {
                1.0
            } else {
                -1.0
            };
            (1.0 - y * data.row(i).dot(&w)).max(0.0).powi(2)
        })
        .sum::<f64>()
        / data.n() as f64;
    let by_hand = mean + lambda * w.iter().map(|a| a * a).sum::<f64>();
    let reported = v["lambda_objective"].as_f64().unwrap();
    assert!(
        (reported - by_hand).abs() <= 1e-10 * by_hand,
        "{reported} vs {by_hand}"
    );
    let out = subgrad()
        .args([
            "train",
            "builtin:seed",
            "--solver",
            "nesterov",
            "--loss",
            "squared-hinge",
        ])
        .args(["--lambda", "0.1", "--max-iter", "7", "--fixed-iterations"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("λ-form objective mean loss + λ‖w‖² with λ = 0.1 = "),
        "{text}"
    );
    assert!(text.contains("7 iterations"), "{text}");
}

#[test]
fn without_fixed_iterations_nesterov_stops_at_its_tolerance() {
    let args = [
        "train",
        "builtin:seed",
        "--solver",
        "nesterov",
        "--loss",
        "squared-hinge",
        "--lambda",
        "0.1",
        "--tol",
        "1e-3",
        "--max-iter",
        "500",
    ];
    let free = json(&args);
    assert!(free["iterations"].as_u64().unwrap() < 500);
    assert_eq!(free["converged"], true);
    let fixed = json(&[&args[..], &["--fixed-iterations"]].concat());
    assert_eq!(fixed["iterations"], 500);
}

#[test]
fn textbook_options_outside_their_solver_or_range_are_refused() {
    let seed = ["train", "builtin:seed"];
    let with = |extra: &[&'static str]| [&seed[..], extra].concat();
    for flag in [
        &["--step", "0.1"][..],
        &["--no-averaging"],
        &["--no-regularizer"],
        &["--stop-loss-change", "0.001"],
        &["--relu-at-zero", "1"],
    ] {
        fails_with(
            &with(flag),
            &format!("{} applies to --solver subgradient only", flag[0]),
        );
    }
    fails_with(
        &with(&["--solver", "subgradient", "--fixed-iterations"]),
        "--fixed-iterations applies to --solver nesterov only",
    );
    let sg = |extra: &[&'static str]| with(&[&["--solver", "subgradient"][..], extra].concat());
    fails_with(
        &sg(&["--relu-at-zero", "2"]),
        "relu'(0) must be a number in [0, 1]",
    );
    fails_with(&sg(&["--step", "0"]), "step = 0.0 is out of range");
    fails_with(&sg(&["--step", "-1"]), "step = -1.0 is out of range");
    fails_with(
        &sg(&["--stop-loss-change", "-1"]),
        "stop_loss_change = -1.0 is out of range",
    );
    fails_with(
        &sg(&["--no-regularizer", "--lambda", "0.1"]),
        "cannot be used",
    );
}

#[test]
fn train_help_explains_every_textbook_option() {
    let out = subgrad().args(["train", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--step <ETA>",
        "--no-averaging",
        "--no-regularizer",
        "--stop-loss-change <TOL>",
        "--relu-at-zero <R>",
        "--fixed-iterations",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}
