//! `ghforge load --live` against a fake Events API on loopback: each event lands once, polls
//! wait for the interval and send the last ETag (304s are recorded), a burst larger than the
//! pages is a gap in the ledger, malformed items go to quarantine, 5xx and secondary limits are
//! retried, and the token appears nowhere but in the `Authorization` header.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::github_server::{Fault, GithubServer, event};

const TOKEN: &str = "ghp_secretTOKENvalue123";

/// Events `ids`, one second apart from 2024-01-01T10:00:00Z.
fn events(ids: std::ops::RangeInclusive<u64>) -> Vec<String> {
    ids.map(|id| {
        let at = chrono::DateTime::from_timestamp(1_704_103_200 + id as i64, 0).expect("time");
        event(
            id,
            &at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "octo/repo",
        )
    })
    .collect()
}

/// `load --live` on the real clock (rate-limit resets are wall-clock times, and each poll
/// stamps its rows with the time it ran).
fn poll(project: &Path, server: &GithubServer, extra: &[&str]) -> std::process::Output {
    common::ghforge(project)
        .env_remove("GHFORGE_CLOCK")
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "load",
            "--live",
            "--interval",
            "1",
            "--api-url",
            &server.url,
        ])
        .args(extra)
        .output()
        .expect("runs")
}

fn assert_ok(output: &std::process::Output, project: &Path) {
    assert!(
        output.status.success(),
        "{}",
        common::transcript(output, project)
    );
}

fn ledger(project: &Path) -> Vec<Vec<String>> {
    common::query(
        project,
        "select poll_id, status, pages, events_new, events_seen, quarantined, gap_from is not null from bronze.poll_ledger order by poll_id",
    )
}

fn row(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn live_polls_land_each_event_once_record_304s_and_gaps_and_keep_the_token_secret() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    let server = GithubServer::start(1);
    server.publish(&events(1..=150));

    // First poll: two pages (the second is short), then a 304 with the first page's ETag.
    let output = poll(project, &server, &["--max-polls", "2", "--pages", "3"]);
    assert_ok(&output, project);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Poll 1: 150 new, 0 seen"), "{stdout}");
    assert!(stdout.contains("Poll 2: not modified (304)"), "{stdout}");
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(requests[2].status, 304);
    let etag_sent = requests[2]
        .headers
        .iter()
        .any(|(name, value)| name == "if-none-match" && value == "\"v1-p1\"");
    assert!(etag_sent, "{:?}", requests[2].headers);
    assert!(
        requests[2].at - requests[1].at >= Duration::from_millis(950),
        "polled before the interval"
    );
    for request in &requests {
        assert!(
            request
                .headers
                .contains(&("authorization".to_owned(), format!("Bearer {TOKEN}"))),
            "{:?}",
            request.headers
        );
    }

    // 30 new events: one page reaches the seen ones.
    server.publish(&events(151..=180));
    let output = poll(project, &server, &["--max-polls", "1"]);
    assert_ok(&output, project);

    // A malformed item is quarantined, not lost and not fatal.
    server.publish(&[r#"{"id": "999999", "type": "WatchEvent"}"#.to_owned()]);
    server.publish(&events(181..=185));
    assert_ok(&poll(project, &server, &["--max-polls", "1"]), project);

    // A burst larger than two pages: the poll never reaches a seen event, a gap.
    server.publish(&events(186..=635));
    let output = poll(project, &server, &["--max-polls", "1", "--pages", "2"]);
    assert_ok(&output, project);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("may be missing (recorded as a gap)"),
        "{stderr}"
    );

    assert_eq!(
        ledger(project),
        [
            row(&["1", "ok", "2", "150", "0", "0", "false"]),
            row(&["2", "not_modified", "1", "0", "0", "0", "false"]),
            row(&["3", "ok", "1", "30", "70", "0", "false"]),
            row(&["4", "ok", "1", "5", "94", "1", "false"]),
            row(&["5", "gap", "2", "200", "0", "0", "true"]),
        ]
    );
    // Every polled event once in bronze; the malformed one in quarantine.
    assert_eq!(
        common::query(
            project,
            "select count(*), count(distinct id) from bronze.events"
        ),
        [row(&["385", "385"])]
    );
    assert_eq!(
        common::query(project, "select source_file, reason from bronze.quarantine"),
        [row(&["api:poll-4", "missing required field `actor`"])]
    );

    // Silver has each event once.
    for args in [&["seed"][..], &["run", "--select", "events", "--no-tests"]] {
        let output = common::ghforge(project).args(args).output().expect("runs");
        assert_ok(&output, project);
    }
    assert_eq!(
        common::query(
            project,
            "select count(*), count(distinct id) from silver.events"
        ),
        [row(&["385", "385"])]
    );

    // The token is in no output and no file of the project.
    let mut texts = vec![
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        stdout.into_owned(),
    ];
    for entry in walkdir::WalkDir::new(project).into_iter().flatten() {
        if entry.file_type().is_file() {
            texts.push(
                String::from_utf8_lossy(&std::fs::read(entry.path()).expect("read")).into_owned(),
            );
        }
    }
    assert!(texts.iter().all(|text| !text.contains(TOKEN)));
}

#[test]
fn live_polls_retry_server_errors_and_wait_out_secondary_limits() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    let server = GithubServer::start(1);
    server.publish(&events(1..=10));
    server.inject(&[Fault::Status(502), Fault::SecondaryLimit(2)]);
    let output = poll(project, &server, &["--max-polls", "1", "--retries", "3"]);
    assert_ok(&output, project);
    let requests = server.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [502, 403, 200]);
    assert!(
        requests[2].at - requests[1].at >= Duration::from_millis(1950),
        "did not wait for Retry-After"
    );
    assert_eq!(
        ledger(project),
        [row(&["1", "ok", "1", "10", "0", "0", "false"])]
    );

    // An exhausted rate limit: the next poll waits for the reset, and says so.
    server.publish(&events(11..=12));
    server.inject(&[Fault::Exhausted(3)]);
    let output = poll(project, &server, &["--max-polls", "2"]);
    assert_ok(&output, project);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("rate limit 0 left"), "{stdout}");
    let requests = server.requests();
    let last = &requests[requests.len() - 2..];
    assert!(
        last[1].at - last[0].at >= Duration::from_millis(2500),
        "polled before the rate limit reset"
    );
}

#[test]
fn enrich_fetches_each_repository_once_then_asks_only_conditionally() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path();
    common::write_files(
        project,
        &[
            ("ghforge_project.yml", "name: enrich\nversion: '1.0'\n"),
            (
                "models/top.sql",
                "{{ config(materialized='table') }}
select 'octo/a' as repo_name, 10 as events
union all select 'octo/b', 30
union all select 'octo/gone', 5
union all select '../../etc', 1",
            ),
        ],
    );
    assert_ok(
        &common::ghforge(project).arg("run").output().expect("runs"),
        project,
    );
    let server = GithubServer::start(1);
    server.repo(
        "octo/a",
        Some(r#"{"full_name":"octo/a","stargazers_count":7,"language":"Rust"}"#),
    );
    server.repo(
        "octo/b",
        Some(r#"{"full_name":"octo/b","stargazers_count":70,"language":"Go"}"#),
    );
    server.repo("octo/gone", None);
    let enrich = |extra: &[&str]| {
        common::ghforge(project)
            .env_remove("GHFORGE_CLOCK")
            .env("GITHUB_TOKEN", TOKEN)
            .args(["enrich", "--from", "top", "--api-url", &server.url])
            .args(extra)
            .output()
            .expect("runs")
    };
    // The malformed name is refused (exit 1) without a request; the others are fetched.
    let output = enrich(&[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        common::transcript(&output, project)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("2 fetched, 0 not modified, 1 gone"),
        "{stdout}"
    );
    let requested: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(requested.len(), 3, "{requested:?}");
    assert!(requested.iter().all(|p| !p.contains("..")), "{requested:?}");
    assert_eq!(
        common::query(
            project,
            "select repo_name, status, http_status, body->>'language' from bronze.repo_metadata order by repo_name"
        ),
        [
            row(&["octo/a", "ok", "200", "Rust"]),
            row(&["octo/b", "ok", "200", "Go"]),
            row(&["octo/gone", "gone", "404", "NULL"]),
        ]
    );

    // Right after: nothing is old enough to ask about.
    enrich(&[]);
    assert_eq!(server.requests().len(), 3);

    // Once older than --max-age: conditional requests only, answered 304.
    std::thread::sleep(Duration::from_millis(1100));
    let output = enrich(&["--max-age", "1s"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("0 fetched, 2 not modified, 1 gone"),
        "{stdout}"
    );
    let again = &server.requests()[3..];
    for request in again.iter().filter(|r| r.path != "/repos/octo/gone") {
        assert_eq!(request.status, 304, "{request:?}");
    }
}

#[test]
fn ctrl_c_ends_live_polling_after_the_poll_in_flight() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    let server = GithubServer::start(60);
    server.publish(&events(1..=20));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ghforge"))
        .current_dir(project)
        .env("HOME", project.join(".no-home"))
        .env("NO_COLOR", "1")
        .env_remove("GHFORGE_CLOCK")
        .args(["load", "--live", "--api-url", &server.url])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait for the first poll to be answered, then interrupt the wait for the next one.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.requests().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("exits");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Done. 1 polls: 20 new events"), "{stdout}");
    assert_eq!(
        ledger(project),
        [row(&["1", "ok", "1", "20", "0", "0", "false"])]
    );
}

#[test]
fn events_polled_live_and_loaded_from_the_archive_hour_are_one_row_each_in_silver() {
    let project = common::copy_bundled_project();
    common::gen_archive(
        project.path(),
        "2024-05-01T10",
        "2024-05-01T10",
        &["--events-per-hour", "250", "--api-pages"],
    );
    let pages = project.path().join("archive/events-api/2024-05-01T10");
    let mut newest_first = Vec::new();
    for page in 1..=3 {
        let text = std::fs::read_to_string(pages.join(format!("page-{page}.json"))).expect("page");
        let items: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON array");
        newest_first.extend(items.iter().map(serde_json::Value::to_string));
    }
    assert_eq!(newest_first.len(), 250);
    assert!(!pages.join("page-4.json").exists());
    let server = GithubServer::start(1);
    server.publish(&newest_first.into_iter().rev().collect::<Vec<_>>());

    assert_ok(
        &poll(
            project.path(),
            &server,
            &["--pages", "3", "--max-polls", "1"],
        ),
        project.path(),
    );
    for args in [
        vec!["load", "--from", "2024-05-01T10", "--source", "archive"],
        vec!["seed"],
        vec!["run", "--select", "events", "--no-tests"],
    ] {
        let output = common::ghforge(project.path())
            .args(&args)
            .output()
            .expect("runs");
        assert_ok(&output, project.path());
    }
    assert_eq!(
        common::query(
            project.path(),
            "select (select count(*) from bronze.events), (select count(*) from silver.events), \
             (select count(distinct (id, created_at)) from silver.events)",
        ),
        [row(&["500", "250", "250"])],
        "250 events twice in bronze (polled, then archived), once in silver"
    );
}
