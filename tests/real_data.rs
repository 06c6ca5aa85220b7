//! The real sample beside the repository (`../shared/data/gharchive-real/`, pseudonymised
//! public events): every line lands in bronze (byte-identical duplicates kept, counts equal to
//! `zcat | wc -l`), silver keeps one row per distinct event, and the bundled project builds with
//! all its tests passing. Without the sample (a clone used elsewhere) the test says so and stops.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

#[test]
fn real_sample_loads_whole_and_builds_green() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sample = root.join("../shared/data/gharchive-real");
    if !sample.is_dir() {
        eprintln!(
            "note: {} is not here; the real-data suite runs where shared/ sits beside the repository",
            sample.display()
        );
        return;
    }
    let dir = common::copy_bundled_project();
    let source = sample.canonicalize().expect("sample path");
    let output = common::ghforge(dir.path())
        .args(["load", "--hours", "2025-05-11T23,2025-05-15T07", "--source"])
        .arg(&source)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, dir.path())
    );
    let expected: usize = ["2025-05-11-23.json.gz", "2025-05-15-7.json.gz"]
        .iter()
        .map(|f| common::line_count(&sample.join(f)))
        .sum();
    let connection = || duckdb::Connection::open(dir.path().join("ghforge.duckdb")).expect("open");
    let count = |sql: &str| -> i64 {
        connection()
            .query_row(sql, [], |r| r.get(0))
            .expect("count")
    };
    assert_eq!(
        count("select count(*) from bronze.events") as usize,
        expected
    );
    assert_eq!(count("select count(*) from bronze.quarantine"), 0);
    let distinct =
        count("select count(*) from (select distinct id, created_at from bronze.events)");
    let output = common::ghforge(dir.path())
        .arg("build")
        .output()
        .expect("runs");
    let transcript = common::transcript(&output, dir.path());
    assert!(output.status.success(), "{transcript}");
    assert!(
        transcript.contains("ERROR=0") && transcript.contains("FAIL=0"),
        "{transcript}"
    );
    assert_eq!(count("select count(*) from silver.events"), distinct);
    assert_eq!(
        count("select sum(events) from gold.hourly_summary"),
        distinct
    );
}
