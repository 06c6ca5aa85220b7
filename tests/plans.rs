//! Plans and what a run reports: `run --dry-run` prints what each node would send (first
//! builds, then every incremental strategy once the tables exist) without creating or changing
//! the database file; `--junit-xml` reports the same tests as `run_results.json`; template
//! `log()` lines stay JSON under `--log-format json`; the debug log holds every statement.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

fn run(project: &Path, args: &[&str]) -> std::process::Output {
    common::ghforge(project).args(args).output().expect("runs")
}

fn assert_ok(output: &std::process::Output, project: &Path) {
    assert!(
        output.status.success(),
        "{}",
        common::transcript(output, project)
    );
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("database file")
}

#[test]
fn dry_run_plans_first_builds_without_creating_the_database() {
    let dir = common::copy_fixture("warehouse");
    let project = dir.path();
    let output = run(project, &["build", "--dry-run", "--vars", "{max_id: 3}"]);
    assert_ok(&output, project);
    assert!(
        !project.join("ghforge.duckdb").exists(),
        "a dry run created the database file"
    );
    insta::assert_snapshot!("dry_run_first_build", common::transcript(&output, project));
    // The plans are also kept where dbt keeps what a run executes.
    let plan =
        std::fs::read_to_string(project.join("target/run/warehouse/models/marts/people_merge.sql"))
            .expect("plan file");
    assert!(plan.contains("-- rename\nalter table"), "{plan}");
}

#[test]
fn dry_run_on_built_tables_plans_each_strategy_and_leaves_the_file_untouched() {
    let dir = common::copy_fixture("warehouse");
    let project = dir.path();
    assert_ok(&run(project, &["seed"]), project);
    assert_ok(&run(project, &["run", "--vars", "{max_id: 3}"]), project);
    let database = project.join("ghforge.duckdb");
    let before = file_bytes(&database);
    let output = run(
        project,
        &[
            "run",
            "--dry-run",
            "--vars",
            "{max_id: 4, suffix: '!', extra: true}",
            "--select",
            "people_append people_delete_insert people_merge people_keep",
        ],
    );
    assert_ok(&output, project);
    assert_eq!(
        before,
        file_bytes(&database),
        "a dry run changed the database"
    );
    insta::assert_snapshot!("dry_run_incremental", common::transcript(&output, project));
    // What the dry run showed is what the run then does: the merge's new `team` column.
    assert_ok(
        &run(
            project,
            &[
                "run",
                "--vars",
                "{max_id: 4, suffix: '!', extra: true}",
                "--select",
                "+people_merge",
            ],
        ),
        project,
    );
    assert_eq!(
        common::query(
            project,
            "select count(*), count(team) from main_marts.people_merge"
        ),
        [["4", "4"]]
    );
}

#[test]
fn junit_xml_counts_the_same_tests_and_failures_as_run_results() {
    let dir = common::copy_fixture("quality");
    let project = dir.path();
    let report = project.join("reports/junit.xml");
    let output = run(
        project,
        &["build", "--junit-xml", report.to_str().expect("utf-8 path")],
    );
    let xml = std::fs::read_to_string(&report).expect("junit report");
    let text = std::fs::read_to_string(project.join("target/run_results.json")).expect("results");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let tests: Vec<(String, String)> = json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap_or_default().to_owned();
            (text("unique_id"), text("status"))
        })
        .filter(|(id, _)| id.starts_with("test."))
        .collect();
    let count = |wanted: &str| tests.iter().filter(|(_, status)| status == wanted).count();
    let (failed, errors, skipped) = (count("fail"), count("error"), count("skipped"));
    assert!(failed > 0, "the scenario has failing tests");
    assert!(
        !tests.is_empty(),
        "{}",
        common::transcript(&output, project)
    );
    assert_eq!(xml.matches("<testcase ").count(), tests.len(), "{xml}");
    assert_eq!(xml.matches("<failure").count(), failed, "{xml}");
    assert_eq!(xml.matches("<error").count(), errors, "{xml}");
    assert_eq!(xml.matches("<skipped").count(), skipped, "{xml}");
    assert!(xml.contains(&format!("tests=\"{}\"", tests.len())), "{xml}");
    assert!(xml.starts_with("<?xml"), "{xml}");
    // Every test is named by its unique id and classed by the node it tests.
    for (id, _) in &tests {
        assert!(
            xml.contains(&format!("name=\"{id}\"")),
            "{id} missing: {xml}"
        );
    }
}

#[test]
fn template_logs_are_json_lines_and_the_debug_log_holds_every_statement() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path();
    common::write_files(
        project,
        &[
            ("ghforge_project.yml", "name: logs\nversion: '1.0'\n"),
            (
                "models/a.sql",
                "{{ log('building ' ~ this.identifier, info=True) }}{{ exceptions.warn('careful') }}{{ config(materialized='table') }}select 1 as id",
            ),
            ("models/b.sql", "select * from {{ ref('a') }}"),
            (
                "models/schema.yml",
                "version: 2\nmodels:\n  - name: b\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
            ),
        ],
    );
    let output = run(project, &["build", "--log-format", "json"]);
    assert_ok(&output, project);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    // dbt's structured-log shape: `info` on every line, `data.node_info` on node lines.
    for line in &lines {
        for field in ["name", "level", "ts", "msg", "invocation_id"] {
            assert!(line["info"][field].is_string(), "no info.{field}: {line}");
        }
    }
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["info"]["msg"].as_str())
        .collect();
    assert!(messages.contains(&"building a"), "{stdout}");
    assert!(messages.contains(&"careful"), "{stdout}");
    let by_name = |name: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["info"]["name"] == name).collect()
    };
    let log_line = by_name("JinjaLogInfo");
    assert_eq!(log_line.len(), 1, "{stdout}");
    assert_eq!(
        log_line[0]["data"]["node_info"]["unique_id"],
        "model.logs.a"
    );
    assert_eq!(by_name("JinjaLogWarning")[0]["info"]["level"], "warn");
    let results: Vec<_> = by_name("LogModelResult")
        .into_iter()
        .chain(by_name("LogTestResult"))
        .collect();
    assert_eq!(results.len(), 3, "{stdout}");
    for result in results.iter().chain(&by_name("LogStartLine")) {
        let info = &result["data"]["node_info"];
        for field in [
            "unique_id",
            "node_status",
            "node_started_at",
            "node_finished_at",
            "materialized",
            "resource_type",
        ] {
            assert!(info[field].is_string(), "no node_info.{field}: {result}");
        }
    }
    let test = &by_name("LogTestResult")[0]["data"]["node_info"];
    assert_eq!(test["resource_type"], "test");
    assert_eq!(test["node_status"], "pass");
    assert_ne!(test["node_finished_at"], "");
    let log = std::fs::read_to_string(project.join("target/logs/ghforge.log")).expect("debug log");
    for statement in [
        "create table \"",
        "alter table \"",
        "create or replace view \"",
        "count(*) as failures",
        "commit",
    ] {
        assert!(
            log.contains(statement),
            "`{statement}` missing from the debug log:\n{log}"
        );
    }
    assert!(log.contains("node{unique_id=model.logs.a"), "{log}");
    assert!(log.contains("elapsed_ms="), "{log}");
}

#[test]
fn an_external_model_on_snowflake_is_a_plan_time_error_before_any_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path();
    common::write_files(
        project,
        &[
            (
                "ghforge_project.yml",
                "name: lake\nversion: '1.0'\nprofile: lake\n",
            ),
            (
                "models/daily.sql",
                "{{ config(materialized='external', location='s3://lake/daily') }}select 1 as n",
            ),
            // Nothing listens on port 9: a login attempt would fail differently.
            (
                "profiles.yml",
                "lake:\n  target: snow\n  outputs:\n    snow:\n      type: snowflake\n      account: acme\n      user: u\n      password: p\n      database: DB\n      schema: PUBLIC\n      endpoint: http://127.0.0.1:9\n",
            ),
        ],
    );
    let output = run(project, &["run"]);
    insta::assert_snapshot!(common::transcript(&output, project), @r"
    exit code: 2
    --- stdout
    00:00:00  Found 1 model, 0 seeds, 0 data tests, 0 sources, 0 macros
    --- stderr
    error[config]: `daily`: writing a model as Parquet files (`materialized='external'`) is not supported on snowflake
      --> [PROJECT]/models/daily.sql
    hint: choose another materialization for `daily` on target `snow`, or exclude it (`--exclude daily`)
    ");
}
