//! `ghforge serve` on a Snowflake target: the shipped project loaded and built on the fakesnow
//! emulator publishes a local snapshot (its types mapped from Snowflake's), and `ghforge serve`
//! answers from it over HTTP on loopback with numbers computed here from the emulator's
//! `silver.events` rows and `gold` tables — while the profile points at a port where nothing
//! listens, so no request can have reached the warehouse. `ghforge publish` on the Snowflake
//! target writes the next snapshot and the server switches to it.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;
#[path = "common/snowflake_emulator.rs"]
mod emulator;
#[path = "common/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::Server;

const PASSWORD: &str = "sf-serve-Pa55word";
const DATABASE: &str = "T_SERVE";
const HOURS: &str = "2024-05-01T00,2024-05-01T01,2024-05-01T02";

/// `profiles.yml` of the bundled project with one Snowflake target at `endpoint`.
fn profile(endpoint: &str) -> String {
    format!(
        "gharchive:\n  target: snow\n  outputs:\n    snow:\n      type: snowflake\n      account: ghforge-test\n      user: ghforge\n      password: \"{PASSWORD}\"\n      role: SYSADMIN\n      warehouse: WH\n      database: {DATABASE}\n      schema: PUBLIC\n      threads: 4\n      query_tag: ghforge-tests\n      endpoint: {endpoint}\n"
    )
}

fn ok(project: &Path, args: &[&str]) -> String {
    let output = common::ghforge(project)
        .env_remove("GHFORGE_CLOCK")
        .args(args)
        .output()
        .expect("runs");
    let transcript = common::transcript(&output, project);
    assert!(output.status.success(), "{transcript}");
    transcript
}

fn snapshots(project: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(project.join("ghforge-target/serve"))
        .expect("serve folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "duckdb"))
        .collect();
    files.sort();
    files
}

/// Rows of a DuckDB query on a snapshot file, every value as text.
fn snapshot_rows(path: &Path, sql: &str) -> Vec<Vec<String>> {
    let config = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .expect("config");
    let connection = duckdb::Connection::open_with_flags(path, config).expect("open snapshot");
    let mut statement = connection.prepare(sql).expect("prepare");
    let mut rows = statement.query([]).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        out.push(
            (0..row.as_ref().column_count())
                .map(|i| row.get::<_, String>(i).expect("text"))
                .collect(),
        );
    }
    out
}

/// One event as the emulator holds it in `silver.events`.
struct Event {
    created_at: chrono::NaiveDateTime,
    kind: String,
    repo_id: Option<i64>,
    repo_name: String,
}

fn silver_events(session: &mut dyn ghforge::adapters::Session) -> Vec<Event> {
    let rows = session
        .query(&format!(
            "select created_at, type, repo_id, repo_name from \"{DATABASE}\".\"silver\".\"events\""
        ))
        .expect("silver events")
        .rows;
    rows.into_iter()
        .map(|row| Event {
            created_at: chrono::NaiveDateTime::parse_from_str(
                row[0].as_str().expect("created_at"),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .expect("timestamp"),
            kind: row[1].as_str().expect("type").to_owned(),
            repo_id: row[2].as_i64(),
            repo_name: row[3].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The events in `(latest - offset minutes, latest]`.
fn window(events: &[Event], offset: i64) -> Vec<&Event> {
    let latest = events.iter().map(|e| e.created_at).max().expect("events");
    let start = latest - chrono::Duration::minutes(offset);
    events
        .iter()
        .filter(|e| e.created_at > start && e.created_at <= latest)
        .collect()
}

/// `[type, count]`, most first, ties by type.
fn expected_counts(events: &[Event], offset: i64) -> Vec<Value> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for event in window(events, offset) {
        *counts.entry(&event.kind).or_default() += 1;
    }
    let mut counts: Vec<(&str, i64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .into_iter()
        .map(|(kind, n)| json!([kind, n]))
        .collect()
}

/// `([repo, events] of the `limit` most active, how many had events)`.
fn expected_active(events: &[Event], offset: i64, limit: usize) -> (Vec<Value>, usize) {
    let mut repos: BTreeMap<i64, (chrono::NaiveDateTime, String, i64)> = BTreeMap::new();
    for event in window(events, offset) {
        let Some(id) = event.repo_id else { continue };
        let entry = repos
            .entry(id)
            .or_insert((event.created_at, event.repo_name.clone(), 0));
        if event.created_at > entry.0 {
            entry.0 = event.created_at;
            entry.1 = event.repo_name.clone();
        }
        entry.2 += 1;
    }
    let mut ranked: Vec<(String, i64)> = repos.into_values().map(|(_, r, n)| (r, n)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total = ranked.len();
    (
        ranked
            .into_iter()
            .take(limit)
            .map(|(repo, n)| json!([repo, n]))
            .collect(),
        total,
    )
}

#[test]
fn serve_answers_a_snowflake_build_from_its_published_snapshot_without_the_warehouse() {
    let dir = common::copy_bundled_project();
    let project = dir.path();
    let endpoint = format!("http://127.0.0.1:{}", emulator::port());
    std::fs::write(project.join("profiles.yml"), profile(&endpoint)).expect("write profiles");
    common::gen_archive(
        project,
        "2024-05-01T00",
        "2024-05-01T02",
        &["--events-per-hour", "300"],
    );
    ok(project, &["load", "--hours", HOURS, "--source", "archive"]);
    let started = Instant::now();
    let transcript = ok(project, &["build"]);
    eprintln!("build on the emulator: {:.1?}", started.elapsed());
    assert!(
        transcript.contains("Published serving snapshot `ghforge-target/serve/"),
        "{transcript}"
    );
    let published = snapshots(project);
    assert_eq!(published.len(), 1, "{published:?}");
    let snapshot = &published[0];

    // What it serves and how Snowflake's types arrived.
    let served = snapshot_rows(
        snapshot,
        "select schema_name || '.' || table_name from _ghforge.served order by 1",
    );
    assert_eq!(served.len(), 17, "{served:?}");
    assert!(
        served.iter().all(|row| row[0].starts_with("gold.")),
        "{served:?}"
    );
    let types = snapshot_rows(
        snapshot,
        "select table_name || '.' || column_name || ' ' || data_type from information_schema.columns \
         where table_schema = '_ghforge' and table_name in ('events', 'load_ledger', 'snapshot') \
            or (table_schema = 'gold' and table_name = 'event_type_metrics') \
         order by table_schema, table_name, ordinal_position",
    );
    let types: Vec<String> = types.into_iter().map(|row| row[0].clone()).collect();
    insta::assert_snapshot!(types.join("\n"));
    assert_eq!(
        snapshot_rows(
            snapshot,
            "select command, strftime(latest_loaded_hour, '%Y-%m-%dT%H') from _ghforge.snapshot"
        ),
        [["build", "2024-05-01T02"]]
    );

    // Expected answers from the emulator, before the profile loses it.
    let mut session = emulator::session(DATABASE, PASSWORD);
    let events = silver_events(session.as_mut());
    assert_eq!(events.len(), 900);
    let type_totals: Vec<Value> = session
        .query(&format!(
            "select type, events from \"{DATABASE}\".\"gold\".\"event_type_metrics\" order by events desc, type"
        ))
        .expect("gold")
        .rows
        .into_iter()
        .map(Value::from)
        .collect();
    let latest = events.iter().map(|e| e.created_at).max().expect("events");

    // Serving never logs in: the profile now points where nothing listens.
    std::fs::write(project.join("profiles.yml"), profile("http://127.0.0.1:9")).expect("profiles");
    let server = Server::start(project);
    for offset in [1, 15, 60, 240] {
        let answer = server.json(&format!("/api/events/count?offset={offset}"));
        let counts: Vec<Value> = answer["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| json!([c["type"], c["count"]]))
            .collect();
        assert_eq!(counts, expected_counts(&events, offset), "offset {offset}");
        assert_eq!(
            answer["as_of"],
            json!(latest.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        );
    }
    for (limit, offset) in [(10, 1440), (1, 30), (1000, 120)] {
        let answer = server.json(&format!(
            "/api/repositories/active?limit={limit}&offset={offset}"
        ));
        let got: Vec<Value> = answer["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|r| json!([r["repo"], r["events"]]))
            .collect();
        let (expected, total) = expected_active(&events, offset, limit);
        assert_eq!(got, expected, "limit {limit} offset {offset}");
        assert_eq!(answer["total"], json!(total));
    }
    let totals: Vec<Value> = server.json("/api/events/types")["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| json!([t["type"], t["events"]]))
        .collect();
    assert_eq!(totals, type_totals);
    let info = server.json("/api/snapshot");
    assert_eq!(info["command"], "build");
    assert_eq!(info["latest_loaded_hour"], "2024-05-01T02:00:00Z");
    let build_etag = info["invocation_id"].clone();

    // `ghforge publish` on the Snowflake target: the next snapshot, served within seconds.
    std::fs::write(project.join("profiles.yml"), profile(&endpoint)).expect("profiles");
    let started = Instant::now();
    ok(project, &["publish"]);
    eprintln!(
        "ghforge publish of the gold layer from the emulator: {:.1?}",
        started.elapsed()
    );
    assert_eq!(snapshots(project).len(), 2);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = server.json("/api/snapshot");
        if info["command"] == "publish" {
            assert_ne!(info["invocation_id"], build_etag);
            break;
        }
        assert!(Instant::now() < deadline, "the server kept serving {info}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        server.json("/api/events/count?offset=60")["counts"]
            .as_array()
            .expect("counts")
            .len(),
        expected_counts(&events, 60).len()
    );
}
