//! The human report echoes rows safely: no panic on long lines, a short window around the
//! bad cell, control characters escaped, secret-looking cells masked.

use crate::workdir::Workdir;

#[test]
fn a_bad_cell_far_into_a_long_line_is_reported_without_a_panic() {
    let wd = Workdir::with_db();
    let csv = format!(
        "lastname,firstname,ring_seconds\n{},J,7\n",
        "a".repeat(65_536)
    );
    wd.write("p.csv", csv);
    let run = wd.run(&["validate", "p.csv"]);
    run.expect(1);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr_mentions("lastname is 65536 characters long"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr_mentions("(65536 characters)"),
        "the long cell is elided: {}",
        run.stderr
    );
}

#[test]
fn a_megabyte_cell_is_elided_with_its_length() {
    let wd = Workdir::with_db();
    let csv = format!(
        "firstname,lastname,userfield,ring_seconds\nAnn,Lee,{},x\n",
        "u".repeat(1_000_000)
    );
    wd.write("big.csv", csv);
    let run = wd.run(&["validate", "big.csv"]);
    run.expect(1);
    assert!(
        run.stderr.len() < 10_000,
        "a 1 MB cell does not fill the report: {} bytes",
        run.stderr.len()
    );
    assert!(
        run.stderr_mentions("(1000000 characters)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr_mentions("ring_seconds"), "{}", run.stderr);
}

#[test]
fn control_characters_in_echoed_cells_are_escaped() {
    let wd = Workdir::with_db();
    wd.write(
        "esc.csv",
        "firstname,ring_seconds\n\x1b]0;PWNED\x07\x1b[2J,x\u{202e}\n",
    );
    let run = wd.run(&["validate", "esc.csv"]);
    assert_ne!(run.code, 0);
    for raw in ['\x1b', '\x07', '\u{202e}'] {
        assert!(
            !run.stderr.contains(raw),
            "no raw {raw:?} on stderr: {:?}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J"),
        "shown escaped: {}",
        run.stderr
    );
}

#[test]
fn unknown_columns_whose_name_suggests_a_secret_are_masked() {
    let wd = Workdir::with_db();
    wd.write(
        "s.csv",
        "firstname,ring_seconds,passwd,my_pin,Secret Answer\nAnn,x,hunter2,4321,blue\n",
    );
    let run = wd.run(&["validate", "s.csv"]);
    run.expect(1);
    for secret in ["hunter2", "4321", "blue"] {
        assert!(
            !run.stderr.contains(secret),
            "{secret} leaked: {}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("x,********,********,********"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_column_name_in_a_fatal_error_is_escaped() {
    let wd = Workdir::with_db();
    wd.write("h.csv", "firstname,\x1b]0;PWNED\x07\nAnn,x\n");
    let run = wd.run(&["validate", "h.csv", "--strict"]);
    run.expect(2);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert!(
        run.stderr.contains("\\u{1b}]0;PWNED\\u{7}"),
        "{}",
        run.stderr
    );
    // Without --strict it is a warning, escaped the same way.
    let run = wd.run(&["validate", "h.csv"]);
    run.expect(0);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
}
