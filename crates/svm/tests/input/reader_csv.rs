//! The CSV reader: byte order mark, the header rule, the label column.

use svm::data::{read_csv, read_file, read_file_with, CsvOptions, Dataset, Header, LabelColumn};
use svm::Error;

fn opts(header: Header, label: LabelColumn) -> CsvOptions {
    CsvOptions { header, label }
}

/// Reads `text` with `o`.
fn csv(text: &str, o: &CsvOptions) -> Result<Dataset, Error> {
    read_csv(text, "t.csv", o)
}

/// The error reading `text` with `o`, as text.
#[track_caller]
fn csv_err(text: &str, o: &CsvOptions) -> String {
    csv(text, o).unwrap_err().to_string()
}

#[test]
fn byte_order_mark_at_the_start_is_ignored() {
    // Today "\u{feff}1" is not a number, so the first data row is dropped as a header.
    let d = csv("\u{feff}1,2\n3,4\n", &CsvOptions::default()).unwrap();
    assert_eq!((d.x, d.labels), (vec![1.0, 3.0].into(), vec![2.0, 4.0]));
    // Before a header, the first name is `a`, not `\u{feff}a`.
    let by_a = opts(Header::Auto, LabelColumn::Name("a".into()));
    let d = csv("\u{feff}a,b\n1,2\n", &by_a).unwrap();
    assert_eq!((d.x, d.labels), (vec![2.0].into(), vec![1.0]));
}

#[test]
fn first_row_with_an_empty_field_is_an_error_not_a_header() {
    // Today `1,,1` is taken for a header and silently dropped.
    assert_eq!(
        csv_err("1,,1\n2,3,1\n", &CsvOptions::default()),
        "t.csv:1:3: `` (field 2) is not a number but other fields are: is line 1 a header or \
         data? say which (`--header` or `--no-header`; Header::Present or Header::Absent)"
    );
}

#[test]
fn first_row_with_a_typo_is_an_error_naming_the_column() {
    let msg = csv_err("1,2x,1\n2,3,1\n", &CsvOptions::default());
    assert!(
        msg.starts_with("t.csv:1:3: `2x` (field 2) is not a number"),
        "{msg}"
    );
    // A header with one numeric name: the number is the odd one out (column 3).
    let msg = csv_err("a,10,y\n1,2,1\n", &CsvOptions::default());
    assert!(
        msg.starts_with("t.csv:1:3: `10` (field 2) is a number"),
        "{msg}"
    );
}

#[test]
fn header_rule_auto_takes_names_as_a_header_and_numbers_as_data() {
    let d = csv("x1,x2,y\n2,1,1\n", &CsvOptions::default()).unwrap();
    assert_eq!((d.n(), d.d), (1, 2));
    let d = csv("2,1,1\n3,4,-1\n", &CsvOptions::default()).unwrap();
    assert_eq!((d.n(), d.d), (2, 2));
}

#[test]
fn header_options_override_the_rule() {
    // Present: a numeric first line is still the header.
    let present = opts(Header::Present, LabelColumn::Last);
    let d = csv("1,2,3\n4,5,6\n", &present).unwrap();
    assert_eq!((d.x, d.labels), (vec![4.0, 5.0].into(), vec![6.0]));
    // ... and a mixed one too.
    let d = csv("1,,1\n2,3,1\n", &present).unwrap();
    assert_eq!(d.n(), 1);
    // Absent: the first line is data, so names in it are bad numbers.
    let absent = opts(Header::Absent, LabelColumn::Last);
    assert_eq!(
        csv_err("a,b\n1,2\n", &absent),
        "t.csv:1:1: `a` is not a number"
    );
    assert_eq!(csv_err("1,,1\n", &absent), "t.csv:1:3: `` is not a number");
    // Present with only the header: no row.
    assert_eq!(csv("a,b\n", &present).unwrap_err(), Error::Empty);
}

#[test]
fn label_column_by_index_or_name_is_honoured() {
    let first = opts(Header::Auto, LabelColumn::Index(0));
    let d = csv("1,2,3\n4,5,6\n", &first).unwrap();
    assert_eq!(
        (d.x, d.labels),
        (vec![2.0, 3.0, 5.0, 6.0].into(), vec![1.0, 4.0])
    );
    let middle = opts(Header::Auto, LabelColumn::Name("y".into()));
    let d = csv("a,y,b\n1,2,3\n", &middle).unwrap();
    assert_eq!((d.x, d.labels), (vec![1.0, 3.0].into(), vec![2.0]));
    let past = opts(Header::Auto, LabelColumn::Index(3));
    assert_eq!(
        csv_err("1,2,3\n", &past),
        "t.csv:1:1: no column 3 (0-based) for the label: the file has 3"
    );
}

#[test]
fn label_column_by_name_needs_a_header_with_that_name_once() {
    let by_y = opts(Header::Auto, LabelColumn::Name("y".into()));
    assert_eq!(
        csv_err("1,2\n3,4\n", &by_y),
        "t.csv:1:1: the label column is named `y` but the file has no header (pass \
         Header::Present if line 1 is one)"
    );
    assert_eq!(
        csv_err("a,b\n1,2\n", &by_y),
        "t.csv:1:1: no column named `y`"
    );
    assert_eq!(
        csv_err("y,y\n1,2\n", &by_y),
        "t.csv:1:1: more than one column is named `y`"
    );
}

#[test]
fn ragged_row_error_column_counts_characters() {
    // "é,2" is 3 characters (4 bytes): the column after it is 4.
    let absent = opts(Header::Absent, LabelColumn::Last);
    let msg = csv_err("1,2,3\né,2\n", &absent);
    assert_eq!(msg, "t.csv:2:4: 2 fields, expected 3");
}

#[test]
fn read_file_with_passes_the_options_and_read_file_uses_the_default() {
    let dir = std::env::temp_dir().join(format!("svm-csv-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.csv");
    std::fs::write(&path, "1,2,3\n4,5,6\n").unwrap();
    let d = read_file(&path).unwrap();
    assert_eq!(d.labels, vec![3.0, 6.0]);
    let d = read_file_with(&path, &opts(Header::Present, LabelColumn::Index(0))).unwrap();
    assert_eq!((d.x, d.labels), (vec![5.0, 6.0].into(), vec![4.0]));
    std::fs::remove_dir_all(&dir).unwrap();
}
