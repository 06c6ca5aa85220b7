//! `ghforge load` over HTTP from a loopback stand-in for data.gharchive.org that injects faults:
//! a 404 is a missing hour (a warning, exit 0), 5xx answers, slow answers and bodies cut short
//! are retried with backoff until the hour lands, and an hour that keeps failing is reported,
//! fails alone and makes the exit code 1 while the other hours land.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::archive_server::{ArchiveServer, Fault};

/// A project and an archive of three generated hours (`2024-06-01-0..2`, 200 events each),
/// served over HTTP.
fn setup() -> (tempfile::TempDir, ArchiveServer) {
    let dir = tempfile::tempdir().expect("temp");
    common::write_files(
        dir.path(),
        &[("ghforge_project.yml", "name: http_test\nversion: \"1.0\"\n")],
    );
    common::gen_archive(
        dir.path(),
        "2024-06-01T00",
        "2024-06-01T02",
        &["--events-per-hour", "200"],
    );
    let server = ArchiveServer::start(&dir.path().join("archive"));
    (dir, server)
}

fn load(project: &Path, server: &ArchiveServer, extra: &[&str]) -> (Option<i32>, String) {
    let output = common::ghforge(project)
        .args([
            "load",
            "--from",
            "2024-06-01T00",
            "--to",
            "2024-06-01T03",
            "--source",
            &server.url,
        ])
        .args(extra)
        .output()
        .expect("runs");
    (
        output.status.code(),
        common::transcript(&output, project).replace(&server.url, "[SERVER]"),
    )
}

fn ledger(project: &Path) -> Vec<Vec<String>> {
    common::query(
        project,
        "select strftime(hour, '%H'), status, rows from bronze.load_ledger order by hour",
    )
}

fn rows_per_hour_match_the_files(project: &Path) {
    for hour in 0..3 {
        let rows = common::query(
            project,
            &format!(
                "select count(*) from bronze.events where hour = timestamp '2024-06-01 {hour:02}:00:00'"
            ),
        );
        let lines = common::line_count(&project.join(format!("archive/2024-06-01-{hour}.json.gz")));
        assert_eq!(rows[0][0], lines.to_string(), "hour {hour}");
    }
}

#[test]
fn a_404_is_a_missing_hour_and_the_others_land() {
    let (dir, server) = setup();
    let (code, transcript) = load(dir.path(), &server, &[]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(
        transcript.contains("warning: 2024-06-01T03 is missing from the source"),
        "{transcript}"
    );
    assert_eq!(
        ledger(dir.path()),
        [
            ["00", "loaded", "200"],
            ["01", "loaded", "200"],
            ["02", "loaded", "200"],
            ["03", "missing", "0"]
        ]
    );
    assert_eq!(
        server.requests("2024-06-01-3.json.gz"),
        1,
        "a 404 is never retried"
    );
    rows_per_hour_match_the_files(dir.path());
    // The ledger names the URL each hour came from.
    assert_eq!(
        common::query(
            dir.path(),
            "select source_file from bronze.load_ledger where hour = timestamp '2024-06-01 00:00:00'"
        )[0][0],
        format!("{}/2024-06-01-0.json.gz", server.url)
    );
}

#[test]
fn server_errors_slow_answers_and_cut_bodies_are_retried_until_the_hour_lands() {
    let (dir, server) = setup();
    server.inject("2024-06-01-0.json.gz", &[Fault::Status(500)]);
    server.inject(
        "2024-06-01-1.json.gz",
        &[Fault::Slow(Duration::from_secs(3))],
    );
    server.inject(
        "2024-06-01-2.json.gz",
        &[Fault::CutShort, Fault::Status(503)],
    );
    let (code, transcript) = load(dir.path(), &server, &["--timeout", "1"]);
    assert_eq!(code, Some(0), "{transcript}");
    assert_eq!(server.requests("2024-06-01-0.json.gz"), 2);
    assert_eq!(server.requests("2024-06-01-1.json.gz"), 2);
    assert_eq!(server.requests("2024-06-01-2.json.gz"), 3);
    for expected in [
        "2024-06-01T00: attempt 1 failed, retried: `[SERVER]/2024-06-01-0.json.gz`: HTTP 500",
        "2024-06-01T01: attempt 1 failed, retried: `[SERVER]/2024-06-01-1.json.gz`:",
        "2024-06-01T02: attempt 1 failed, retried: `[SERVER]/2024-06-01-2.json.gz`:",
        "2024-06-01T02: attempt 2 failed, retried: `[SERVER]/2024-06-01-2.json.gz`: HTTP 503",
    ] {
        assert!(transcript.contains(expected), "{expected}\n{transcript}");
    }
    assert!(
        transcript.contains("timed out") || transcript.contains("timeout"),
        "the slow answer is reported as a timeout\n{transcript}"
    );
    rows_per_hour_match_the_files(dir.path());
    assert_eq!(
        common::query(dir.path(), "select count(*) from bronze.events")[0][0],
        "600",
        "retried hours land once"
    );
}

#[test]
fn an_hour_that_keeps_failing_fails_alone_after_its_retries_and_exits_1() {
    let (dir, server) = setup();
    server.inject(
        "2024-06-01-1.json.gz",
        &[Fault::Status(502), Fault::Status(502), Fault::Status(502)],
    );
    let (code, transcript) = load(dir.path(), &server, &["--retries", "2"]);
    assert_eq!(code, Some(1), "{transcript}");
    assert_eq!(server.requests("2024-06-01-1.json.gz"), 3);
    assert!(
        transcript.contains(
            "2024-06-01T01 failed: `[SERVER]/2024-06-01-1.json.gz`: HTTP 502 Bad Gateway (gave up after 3 attempts)"
        ),
        "{transcript}"
    );
    assert_eq!(
        ledger(dir.path()),
        [
            ["00", "loaded", "200"],
            ["01", "failed", "0"],
            ["02", "loaded", "200"],
            ["03", "missing", "0"]
        ]
    );
    // The rerun picks up the failed hour alone.
    let (code, transcript) = load(dir.path(), &server, &[]);
    assert_eq!(code, Some(0), "{transcript}");
    assert_eq!(server.requests("2024-06-01-0.json.gz"), 1);
    assert_eq!(server.requests("2024-06-01-1.json.gz"), 4);
    rows_per_hour_match_the_files(dir.path());
}

#[test]
fn a_truncated_gzip_served_whole_is_retried_then_reported_as_damaged() {
    let (dir, server) = setup();
    let file = dir.path().join("archive/2024-06-01-2.json.gz");
    let bytes = std::fs::read(&file).expect("read");
    std::fs::write(&file, &bytes[..bytes.len() * 2 / 3]).expect("truncate");
    let (code, transcript) = load(dir.path(), &server, &["--retries", "1"]);
    assert_eq!(code, Some(1), "{transcript}");
    assert_eq!(server.requests("2024-06-01-2.json.gz"), 2);
    assert!(
        transcript.contains("2024-06-01T02 failed: `[SERVER]/2024-06-01-2.json.gz` is damaged (truncated or not gzip)"),
        "{transcript}"
    );
    assert_eq!(
        common::query(
            dir.path(),
            "select count(*) from bronze.events where hour = timestamp '2024-06-01 02:00:00'"
        )[0][0],
        "0",
        "nothing of a damaged hour lands"
    );
}
