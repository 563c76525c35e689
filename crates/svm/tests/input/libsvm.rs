//! The LIBSVM reader: linear-time columns, feature-index and dense-size limits.

use std::time::{Duration, Instant};

use svm::data::{read_libsvm, MAX_DENSE_ELEMENTS, MAX_FEATURE_INDEX};
use svm::Error;

#[test]
fn long_line_is_read_in_linear_time() {
    // One line of 400,000 features: today each field's column recounts the line from its
    // start (O(length²), 21.7 s); one pass takes well under a second.
    let mut line = String::from("1");
    for i in 1..=400_000 {
        line += &format!(" {i}:1");
    }
    let start = Instant::now();
    let d = read_libsvm(&line, "long").unwrap();
    let took = start.elapsed();
    assert_eq!(d.d, 400_000);
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The columns are still right at the end of the line: field k starts after "1" and k − 1
    // fields of their own width plus a space each.
    let bad = format!("{line} 400001:x");
    let col = line.chars().count() + 2 + "400001:".len();
    assert_eq!(
        read_libsvm(&bad, "long").unwrap_err().to_string(),
        format!("long:1:{col}: `x` is not a number")
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    // U+3000 (ideographic space, 3 bytes) is whitespace: `1`, U+3000, then `2:x` from column 3,
    // so the value `x` is at column 5.
    assert_eq!(
        read_libsvm("1\u{3000}2:x\n", "t").unwrap_err().to_string(),
        "t:1:5: `x` is not a number"
    );
}

#[test]
fn feature_index_above_the_maximum_is_a_parse_error_with_line_and_column() {
    // 2⁶³ today makes `rows × d` overflow and panic; 2⁶⁴ does not parse as usize.
    for idx in ["4294967296", "9223372036854775808", "18446744073709551616"] {
        let text = format!("1 1:1\n-1 2:1 {idx}:1\n");
        assert_eq!(
            read_libsvm(&text, "t").unwrap_err().to_string(),
            format!("t:2:8: feature index {idx} is above the largest accepted, 4294967295")
        );
    }
    assert_eq!(MAX_FEATURE_INDEX, 4_294_967_295);
}

#[test]
fn huge_indices_are_read_sparse_and_only_a_dense_copy_is_refused() {
    // One row with index u32::MAX was a 32 GiB dense matrix; read sparse it is 1 stored value.
    // 2 rows with index 2²⁷ + 1 would be 2²⁸ + 2 dense values, just past the dense limit.
    for (text, rows, features) in [
        ("1 4294967295:1\n".to_string(), 1, 4_294_967_295),
        (format!("1 1:1\n-1 {}:1\n", (1 << 27) + 1), 2, (1 << 27) + 1),
    ] {
        let data = read_libsvm(&text, "t").unwrap();
        assert_eq!((data.n(), data.d, data.x.stored()), (rows, features, rows));
        let err = data.to_dense().unwrap_err();
        assert_eq!(
            err,
            Error::TooLarge {
                rows,
                features,
                limit: MAX_DENSE_ELEMENTS
            }
        );
        assert!(err.to_string().contains("keep the data sparse"));
    }
    assert_eq!(MAX_DENSE_ELEMENTS, 1 << 28);
}

#[test]
fn byte_order_mark_at_the_start_is_ignored() {
    let d = read_libsvm("\u{feff}+1 1:2\n-1 1:3\n", "t").unwrap();
    assert_eq!(d.labels, vec![1.0, -1.0]);
}

#[test]
fn reading_line_by_line_gives_the_text_reader_result() {
    // The streaming reader (files, standard input) against the whole-text reader on the same
    // bytes: byte order mark, CRLF endings, comments, blank lines, explicit zeros, no final
    // line feed; and the same error, line and column included.
    use svm::data::read_libsvm_from;
    let text = "\u{feff}+1 1:0.5 3:2 # first\r\n\r\n# a comment\n-1 2:1 4:0\n+1 5:-3";
    let (a, b) = (
        read_libsvm(text, "t").unwrap(),
        read_libsvm_from(text.as_bytes(), "t").unwrap(),
    );
    assert_eq!((a.labels.clone(), a.d, a.x.clone()), (b.labels, b.d, b.x));
    assert_eq!((a.n(), a.d, a.x.stored()), (3, 5, 4)); // by hand: 4:0 is dropped
    let bad = "+1 1:1\n-1 2:1\n+1 3:1 2:1\n";
    assert_eq!(
        read_libsvm_from(bad.as_bytes(), "f")
            .unwrap_err()
            .to_string(),
        read_libsvm(bad, "f").unwrap_err().to_string()
    );
    assert!(read_libsvm(bad, "f")
        .unwrap_err()
        .to_string()
        .starts_with("f:3:"));
    // A line that is not UTF-8 is an input error naming the source, not a panic.
    let err = read_libsvm_from(&b"+1 1:1\n-1 2:\xff\n"[..], "f").unwrap_err();
    assert!(
        matches!(err, Error::Io { ref path, .. } if path == "f"),
        "{err}"
    );
}
