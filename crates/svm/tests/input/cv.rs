//! Cross-validation: fold counts, one-class folds, finite scores.

use svm::cv::{cross_validate, CvOptions, Penalty, Score};
use svm::data::{builtin, Dataset};
use svm::model::TrainOptions;
use svm::Error;

/// 40 rows on a line, x = (i, 1), label +1 for i ≥ 20: separable by w·x = x₁ − 19.5.
fn line() -> Dataset {
    Dataset {
        x: (0..40)
            .flat_map(|i| [f64::from(i), 1.0])
            .collect::<Vec<f64>>()
            .into(),
        d: 2,
        labels: (0..40).map(|i| if i >= 20 { 1.0 } else { -1.0 }).collect(),
    }
}

fn all_pairs() -> TrainOptions<'static> {
    TrainOptions {
        all_pairs: Some(1.0),
        standardize: true,
        ..TrainOptions::default()
    }
}

#[test]
fn all_pairs_fold_with_one_class_is_an_error_naming_the_fold() {
    // Five rows in five folds: every validation part is one row, so one class, and its AUC
    // is undefined (today every score, and best C, is NaN).
    let seed = builtin("seed").unwrap();
    let err = cross_validate(
        &seed,
        &all_pairs(),
        &CvOptions {
            folds: 5,
            grid: &[1.0],
            seed: 0,
            ..CvOptions::default()
        },
    )
    .unwrap_err();
    match &err {
        Error::Fold {
            fold: 1, folds: 5, ..
        } => {}
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with("fold 1 of 5: its validation rows all have class"),
        "{msg}"
    );
    assert!(
        msg.ends_with("so their AUC is undefined; use fewer folds"),
        "{msg}"
    );
}

#[test]
fn fold_count_outside_2_to_n_is_rejected() {
    let seed = builtin("seed").unwrap();
    for k in [0, 1, 6, usize::MAX] {
        let err = cross_validate(
            &seed,
            &TrainOptions::default(),
            &CvOptions {
                folds: k,
                grid: &[1.0],
                seed: 0,
                ..CvOptions::default()
            },
        )
        .unwrap_err();
        assert_eq!(err, Error::InvalidFolds { k, n: 5 });
    }
    assert_eq!(
        Error::InvalidFolds { k: 1, n: 5 }.to_string(),
        "1 folds for 5 rows: cross-validation needs 2 ≤ folds ≤ rows"
    );
}

#[test]
fn empty_grid_and_bad_c_in_the_grid_are_rejected_before_training() {
    let data = line();
    assert_eq!(
        cross_validate(
            &data,
            &TrainOptions::default(),
            &CvOptions {
                folds: 2,
                grid: &[],
                seed: 0,
                ..CvOptions::default()
            }
        )
        .unwrap_err(),
        Error::EmptyGrid
    );
    assert!(matches!(
        cross_validate(
            &data,
            &TrainOptions::default(),
            &CvOptions {
                folds: 2,
                grid: &[1.0, -1.0],
                seed: 0,
                ..CvOptions::default()
            }
        ),
        Err(Error::InvalidParameter { name: "C", .. })
    ));
}

#[test]
fn training_part_with_one_class_is_an_error_naming_the_fold() {
    // Three rows, two of class 1 and one of class 2, in three folds: whichever fold holds a
    // class-1 row trains on one row of each; the fold holding the class-2 row trains on class
    // 1 alone.
    let data = Dataset {
        x: vec![0.0, 1.0, 2.0].into(),
        d: 1,
        labels: vec![1.0, 1.0, 2.0],
    };
    let err = cross_validate(
        &data,
        &TrainOptions::default(),
        &CvOptions {
            folds: 3,
            grid: &[1.0],
            seed: 0,
            ..CvOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Fold { folds: 3, reason, .. } if reason == "its training rows all have class 1"),
        "{err}"
    );
}

#[test]
fn cross_validation_scores_are_finite() {
    let data = line();
    let auc = cross_validate(
        &data,
        &all_pairs(),
        &CvOptions {
            folds: 2,
            grid: &[0.5, 1.0, 2.0],
            seed: 3,
            ..CvOptions::default()
        },
    )
    .unwrap();
    let acc = cross_validate(
        &data,
        &TrainOptions::default(),
        &CvOptions {
            folds: 4,
            grid: &[0.5, 1.0, 2.0],
            seed: 3,
            ..CvOptions::default()
        },
    )
    .unwrap();
    for (c, score) in auc.iter().chain(&acc) {
        assert!((0.0..=1.0).contains(score), "C = {c}: {score}");
    }
    // Separable by a line through the ordered x₁: a standardised ranker orders every pair.
    assert!(auc.iter().all(|&(_, s)| s == 1.0), "{auc:?}");
}

#[test]
fn unshuffled_folds_are_contiguous_blocks_in_file_order() {
    // `line()` holds its 20 negatives first: two contiguous folds train each on one class
    // (fold 1 validates rows 0–19, so trains on the positives only), which shuffled folds
    // do not.
    let data = line();
    let ordered = CvOptions {
        folds: 2,
        shuffle: false,
        ..CvOptions::default()
    };
    let err = cross_validate(&data, &TrainOptions::default(), &ordered).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fold 1 of 2: its training rows all have class 1; use fewer folds"
    );
    let shuffled = CvOptions {
        folds: 2,
        ..CvOptions::default()
    };
    assert!(cross_validate(&data, &TrainOptions::default(), &shuffled).is_ok());
}

#[test]
fn a_lambda_grid_trains_each_part_at_c_one_over_2m_lambda() {
    // Iris in 3 folds: every training part has m = 100 rows, so λ = 0.005 is C = 1/(2·100·0.005)
    // = 1 and λ = 0.05 is C = 0.1, the same runs scored the same.
    let iris = builtin("iris").unwrap();
    let o = TrainOptions::default();
    let by_lambda = CvOptions {
        folds: 3,
        grid: &[0.005, 0.05],
        penalty: Penalty::Lambda,
        ..CvOptions::default()
    };
    let by_c = CvOptions {
        grid: &[1.0, 0.1],
        penalty: Penalty::C,
        ..by_lambda
    };
    let a = cross_validate(&iris, &o, &by_lambda).unwrap();
    let b = cross_validate(&iris, &o, &by_c).unwrap();
    assert_eq!(a, vec![(0.005, b[0].1), (0.05, b[1].1)]);
    let bad = CvOptions {
        grid: &[-1.0],
        ..by_lambda
    };
    assert!(matches!(
        cross_validate(&iris, &o, &bad),
        Err(Error::InvalidParameter { name: "lambda", .. })
    ));
    // The AUC scores two classes only.
    let auc = CvOptions {
        score: Some(Score::Auc),
        ..by_c
    };
    assert!(matches!(
        cross_validate(&iris, &o, &auc),
        Err(Error::Labels(_))
    ));
}
