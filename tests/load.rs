//! `ghforge load` from a local mirror: every good line lands once per hour (duplicates kept),
//! bad lines are quarantined with their line number and reason, hours are recorded in the
//! ledger (loaded, missing, failed), loaded hours are skipped unless `--force`, a damaged hour
//! fails alone, and the pre-2015 Timeline format is refused.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

const PROJECT: &str = "name: bronze_test\nversion: \"1.0\"\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp");
    common::write_files(dir.path(), &[("ghforge_project.yml", PROJECT)]);
    dir
}

fn ghforge(project: &Path, args: &[&str]) -> std::process::Output {
    common::ghforge(project).args(args).output().expect("runs")
}

const EVENT: &str = r#"{"id":"7","type":"WatchEvent","actor":{"id":1,"login":"a"},"repo":{"id":2,"name":"a/b"},"payload":{"action":"started"},"public":true,"created_at":"2024-03-01T05:10:00Z"}"#;

#[test]
fn good_lines_land_and_bad_lines_are_quarantined_line_by_line() {
    let dir = project();
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(&archive).expect("mkdir");
    let two = format!("{EVENT}{EVENT}");
    common::gz_lines(
        &archive.join("2024-03-01-5.json.gz"),
        &[
            EVENT.as_bytes(),
            b"{\"id\":\"8\",\0}",
            EVENT.as_bytes(),
            two.as_bytes(),
            b"{\"id\":\"9\",\"type\":\"Push\xffEvent\"}",
            &EVENT.as_bytes()[..50],
            br#"{"id":"10","type":"PushEvent","actor":{},"repo":{}}"#,
        ],
    );
    let output = ghforge(
        dir.path(),
        &["load", "--from", "2024-03-01T05", "--source", "archive"],
    );
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, dir.path())
    );
    // Both byte-identical copies stay in bronze; silver deduplicates.
    assert_eq!(
        common::query(
            dir.path(),
            "select id, line_number, strftime(created_at, '%Y-%m-%d %H:%M:%S'), strftime(hour, '%H') from bronze.events order by line_number"
        ),
        [
            ["7", "1", "2024-03-01 05:10:00", "05"],
            ["7", "3", "2024-03-01 05:10:00", "05"]
        ]
    );
    let quarantine = common::query(
        dir.path(),
        "select line_number, reason from bronze.quarantine order by line_number",
    );
    let reasons: Vec<(&str, &str)> = quarantine
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(reasons.len(), 5);
    assert_eq!(reasons[0], ("2", "NUL bytes in the line"));
    assert!(
        reasons[1].0 == "4"
            && reasons[1]
                .1
                .starts_with("invalid JSON: trailing characters")
    );
    assert_eq!(reasons[2], ("5", "invalid UTF-8"));
    assert!(reasons[3].0 == "6" && reasons[3].1.starts_with("invalid JSON: EOF while parsing"));
    assert_eq!(reasons[4], ("7", "missing required field `created_at`"));
    assert_eq!(
        common::query(
            dir.path(),
            "select status, rows, quarantined from bronze.load_ledger"
        ),
        [["loaded", "2", "5"]]
    );
    // The raw bytes are kept as received.
    assert_eq!(
        common::query(
            dir.path(),
            "select octet_length(raw) from bronze.quarantine where line_number = 2"
        )[0][0],
        "12"
    );
}

#[test]
fn loaded_hours_are_skipped_missing_ones_recorded_and_force_reloads_exactly_once() {
    let dir = project();
    common::gen_archive(
        dir.path(),
        "2024-02-01T00",
        "2024-02-01T01",
        &["--events-per-hour", "200", "--faults", "dupes"],
    );
    let output = ghforge(
        dir.path(),
        &[
            "load",
            "--from",
            "2024-02-01T00",
            "--to",
            "2024-02-01T02",
            "--source",
            "archive",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, dir.path())
    );
    let transcript = common::transcript(&output, dir.path());
    assert!(
        transcript.contains("2024-02-01T02 is missing from the source"),
        "{transcript}"
    );
    let count = |dir: &Path| common::query(dir, "select count(*) from bronze.events")[0][0].clone();
    let first = count(dir.path());
    let lines: usize = ["2024-02-01-0.json.gz", "2024-02-01-1.json.gz"]
        .iter()
        .map(|f| common::line_count(&dir.path().join("archive").join(f)))
        .sum();
    assert_eq!(
        first,
        lines.to_string(),
        "every line lands, duplicates included"
    );
    let again = ghforge(
        dir.path(),
        &[
            "load",
            "--from",
            "2024-02-01T00",
            "--to",
            "2024-02-01T01",
            "--source",
            "archive",
        ],
    );
    assert!(common::transcript(&again, dir.path()).contains("2 skipped"));
    assert_eq!(count(dir.path()), first);
    let forced = ghforge(
        dir.path(),
        &[
            "load",
            "--from",
            "2024-02-01T00",
            "--to",
            "2024-02-01T01",
            "--source",
            "archive",
            "--force",
        ],
    );
    assert!(forced.status.success());
    assert_eq!(
        count(dir.path()),
        first,
        "a reload replaces the hour, it does not add to it"
    );
    assert_eq!(
        common::query(
            dir.path(),
            "select strftime(hour, '%H'), status from bronze.load_ledger order by hour"
        ),
        [["00", "loaded"], ["01", "loaded"], ["02", "missing"]]
    );
}

#[test]
fn a_damaged_hour_fails_alone_and_exits_1() {
    let dir = project();
    common::gen_archive(
        dir.path(),
        "2024-02-01T00",
        "2024-02-01T01",
        &["--events-per-hour", "300"],
    );
    let damaged = dir.path().join("archive/2024-02-01-1.json.gz");
    let bytes = std::fs::read(&damaged).expect("read");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).expect("truncate");
    let output = ghforge(
        dir.path(),
        &[
            "load",
            "--from",
            "2024-02-01T00",
            "--to",
            "2024-02-01T01",
            "--source",
            "archive",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let transcript = common::transcript(&output, dir.path());
    assert!(
        transcript.contains("2024-02-01T01 failed:")
            && transcript.contains("is damaged (truncated or not gzip)"),
        "{transcript}"
    );
    assert_eq!(
        common::query(
            dir.path(),
            "select count(*) from bronze.events where hour = timestamp '2024-02-01 01:00:00'"
        )[0][0],
        "0"
    );
    assert_eq!(
        common::query(dir.path(), "select count(*) from bronze.events")[0][0],
        "300"
    );
    assert_eq!(
        common::query(
            dir.path(),
            "select strftime(hour, '%H'), status from bronze.load_ledger order by hour"
        ),
        [["00", "loaded"], ["01", "failed"]]
    );
}

#[test]
fn the_timeline_format_is_refused() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("archive")).expect("mkdir");
    common::gz_lines(
        &dir.path().join("archive/2012-04-01-3.json.gz"),
        &[br#"{"type":"PushEvent","actor":"bob","repository":{"name":"x"},"created_at":"2012-04-01T03:00:00-07:00","payload":{"shas":[]}}"#],
    );
    let output = ghforge(
        dir.path(),
        &["load", "--hours", "2012-04-01T03", "--source", "archive"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        common::transcript(&output, dir.path())
            .contains("pre-2015 Timeline format, which ghforge does not load")
    );
}

#[test]
fn a_load_killed_mid_way_completes_on_rerun_with_every_line_exactly_once() {
    let dir = project();
    common::gen_archive(
        dir.path(),
        "2024-07-01T00",
        "2024-07-01T03",
        &["--events-per-hour", "15000", "--faults", "dupes"],
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ghforge"))
        .current_dir(dir.path())
        .args([
            "load",
            "--from",
            "2024-07-01T00",
            "--to",
            "2024-07-01T03",
            "--source",
            "archive",
            "--jobs",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Let it land some of the hours, then kill -9.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().expect("kill");
    child.wait().expect("wait");
    let rerun = ghforge(
        dir.path(),
        &[
            "load",
            "--from",
            "2024-07-01T00",
            "--to",
            "2024-07-01T03",
            "--source",
            "archive",
        ],
    );
    assert!(
        rerun.status.success(),
        "{}",
        common::transcript(&rerun, dir.path())
    );
    for hour in 0..4 {
        let rows = common::query(
            dir.path(),
            &format!(
                "select count(*) from bronze.events where hour = timestamp '2024-07-01 {hour:02}:00:00'"
            ),
        );
        let expected = common::line_count(
            &dir.path()
                .join(format!("archive/2024-07-01-{hour}.json.gz")),
        );
        assert_eq!(rows[0][0], expected.to_string(), "hour {hour}");
    }
}

#[test]
fn regression_a_misspelt_source_folder_is_a_usage_error_not_every_hour_missing() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("archive")).expect("mkdir");
    let output = ghforge(
        dir.path(),
        &["load", "--from", "2024-03-01T05", "--source", "archiv"],
    );
    insta::assert_snapshot!(common::transcript(&output, dir.path()));
    assert!(!dir.path().join("ghforge.duckdb").exists());
}
