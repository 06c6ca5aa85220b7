//! `ghforge seed` and `ghforge run` on DuckDB: every materialization and strategy, second runs,
//! full refresh, schema changes, a failing model in the middle of the DAG, and a second process
//! on a locked database. Each test checks the database file afterwards.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

fn run(project: &Path, args: &[&str]) -> std::process::Output {
    common::ghforge(project).args(args).output().expect("runs")
}

fn statuses(project: &Path) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(project.join("target/run_results.json")).expect("run results");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["unique_id"].as_str().unwrap_or_default().to_owned(),
                r["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn seeded() -> tempfile::TempDir {
    let dir = common::copy_fixture("warehouse");
    let output = run(dir.path(), &["seed"]);
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, dir.path())
    );
    dir
}

#[test]
fn first_run_builds_every_materialization() {
    let dir = seeded();
    let project = dir.path();
    let output = run(project, &["run", "--vars", "{max_id: 3}", "--threads", "1"]);
    insta::assert_snapshot!("first_run", common::transcript(&output, project));
    let kinds = common::query(
        project,
        "select table_schema || '.' || table_name, table_type from information_schema.tables order by 1",
    );
    insta::assert_debug_snapshot!("relations_after_first_run", kinds);
    assert_eq!(
        common::query(project, "select count(*) from main.people")[0][0],
        "4"
    );
    assert_eq!(
        common::query(
            project,
            "select name_upper, initial from main_marts.people_upper order by id"
        ),
        [["ADA", "A"], ["LINUS", "L"], ["GRACE", "G"]]
    );
    assert_eq!(
        common::query(project, "select model, phase from main.hook_log"),
        [["teams", "post"]]
    );
    assert!(statuses(project).iter().all(|(_, s)| s == "success"));
    assert_eq!(
        common::query(project, "select event, target from main.run_log"),
        [["start", "dev"], ["end", "dev"]]
    );
}

#[test]
fn second_run_applies_each_incremental_strategy() {
    let dir = seeded();
    let project = dir.path();
    assert!(
        run(project, &["run", "--vars", "{max_id: 3}"])
            .status
            .success()
    );
    let output = run(
        project,
        &[
            "run",
            "--vars",
            "{max_id: 4, suffix: '!', extra: true}",
            "--exclude",
            "people_strict",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, project)
    );
    // append: only the new row was added, old rows untouched.
    assert_eq!(
        common::query(
            project,
            "select id, name from main_marts.people_append order by id"
        ),
        [["1", "Ada"], ["2", "Linus"], ["3", "Grace"], ["4", "Ken"]]
    );
    // delete+insert: every row replaced by its new version, no duplicates.
    assert_eq!(
        common::query(
            project,
            "select id, name from main_marts.people_delete_insert order by id"
        ),
        [
            ["1", "Ada!"],
            ["2", "Linus!"],
            ["3", "Grace!"],
            ["4", "Ken!"]
        ]
    );
    // merge with append_new_columns: the new column exists and is filled by the merge.
    assert_eq!(
        common::query(
            project,
            "select id, name, team from main_marts.people_merge order by id"
        ),
        [
            ["1", "Ada", "core"],
            ["2", "Linus", "kernel"],
            ["3", "Grace", "core"],
            ["4", "Ken", "unix"]
        ]
    );
}

#[test]
fn full_refresh_rebuilds_incremental_models() {
    let dir = seeded();
    let project = dir.path();
    assert!(
        run(
            project,
            &[
                "run",
                "--select",
                "stg_people",
                "people_append",
                "people_keep"
            ]
        )
        .status
        .success()
    );
    assert!(
        run(project, &["run", "--select", "people_append"])
            .status
            .success()
    );
    assert_eq!(
        common::query(project, "select count(*) from main_marts.people_append")[0][0],
        "4"
    );
    let output = run(
        project,
        &[
            "run",
            "--select",
            "stg_people",
            "people_append",
            "people_keep",
            "--full-refresh",
            "--vars",
            "{max_id: 2}",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, project)
    );
    assert_eq!(
        common::query(project, "select count(*) from main_marts.people_append")[0][0],
        "2"
    );
    // `full_refresh: false` in the model's config wins over the flag.
    assert_eq!(
        common::query(project, "select count(*) from main_marts.people_keep")[0][0],
        "4"
    );
}

#[test]
fn schema_change_fail_stops_the_model_and_keeps_its_rows() {
    let dir = seeded();
    let project = dir.path();
    assert!(
        run(project, &["run", "--vars", "{max_id: 3}"])
            .status
            .success()
    );
    let output = run(
        project,
        &[
            "run",
            "--select",
            "people_strict",
            "--vars",
            "{extra: true}",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let transcript = common::transcript(&output, project);
    assert!(
        transcript.contains("(added: `team`; removed: none) and `on_schema_change` is `fail`"),
        "{transcript}"
    );
    assert_eq!(
        common::query(project, "select count(*) from main_marts.people_strict")[0][0],
        "3"
    );
}

#[test]
fn failing_model_keeps_previous_table_and_skips_descendants() {
    let dir = seeded();
    let project = dir.path();
    assert!(run(project, &["run"]).status.success());
    let before = common::query(project, "select * from main_marts.breakable order by 1");
    let output = run(
        project,
        &["run", "--vars", "{break: true}", "--threads", "1"],
    );
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("failing_run", common::transcript(&output, project));
    assert_eq!(
        common::query(project, "select * from main_marts.breakable order by 1"),
        before
    );
    let statuses = statuses(project);
    let status = |id: &str| {
        statuses
            .iter()
            .find(|(u, _)| u == id)
            .map(|(_, s)| s.as_str())
    };
    assert_eq!(status("model.warehouse.breakable"), Some("error"));
    assert_eq!(status("model.warehouse.after_breakable"), Some("skipped"));
    assert_eq!(status("model.warehouse.teams"), Some("success"));
}

#[test]
fn a_second_process_on_a_locked_database_gets_a_clear_error() {
    let dir = seeded();
    let project = dir.path();
    let holder =
        duckdb::Connection::open(project.join("ghforge.duckdb")).expect("hold the database");
    let started = std::time::Instant::now();
    let output = run(project, &["run"]);
    drop(holder);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let transcript = common::transcript(&output, project);
    assert!(
        transcript.contains("is in use by another process"),
        "{transcript}"
    );
    assert!(
        transcript.contains("hint: wait for the other ghforge"),
        "{transcript}"
    );
    // The database is intact and usable afterwards.
    assert!(run(project, &["run"]).status.success());
}

#[test]
fn log_format_json_prints_one_object_per_event() {
    let dir = seeded();
    let project = dir.path();
    let output = run(
        project,
        &["run", "--select", "stg_people", "--log-format", "json"],
    );
    assert!(output.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| e["info"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "FoundStats",
            "ConcurrencyLine",
            "LogStartLine",
            "LogModelResult",
            "FinishedRunningStats",
            "ModelsSummary",
            "StatsLine"
        ]
    );
    assert_eq!(events[3]["data"]["status"], "success");
    assert_eq!(events[3]["data"]["node_info"]["node_status"], "success");
}
