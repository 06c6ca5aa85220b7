//! Data tests on DuckDB: each kind passes, warns and fails (thresholds, `where`, `limit`,
//! severity), custom generic tests with arguments, singular tests, `store_failures`,
//! `ghforge test` with indirect selection, tests after `ghforge run`, and `ghforge build`
//! skipping what depends on a model whose test failed.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

fn run(project: &Path, args: &[&str]) -> std::process::Output {
    common::ghforge(project).args(args).output().expect("runs")
}

/// `(name, status, failures)` of every result, by name.
fn results(project: &Path) -> Vec<(String, String, Option<u64>)> {
    common::results_in(&project.join("target"))
}

fn project_with_models() -> tempfile::TempDir {
    let dir = common::copy_fixture("quality");
    assert!(run(dir.path(), &["seed"]).status.success());
    assert!(run(dir.path(), &["run", "--no-tests"]).status.success());
    dir
}

#[test]
fn build_tests_models_and_skips_what_depends_on_a_failed_test() {
    let dir = common::copy_fixture("quality");
    let project = dir.path();
    let output = run(project, &["build", "--threads", "1"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("build", common::transcript(&output, project));
    insta::assert_debug_snapshot!("build_results", results(project));
}

#[test]
fn store_failures_keeps_the_failing_rows() {
    let dir = common::copy_fixture("quality");
    let project = dir.path();
    run(project, &["build"]);
    let connection = duckdb::Connection::open(project.join("ghforge.duckdb")).expect("open");
    let row: (i64, i64) = connection
        .query_row(
            "select unique_field, n_records from main_dbt_test__audit.unique_stg_events_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("stored failures");
    assert_eq!(row, (4, 2));
}

#[test]
fn test_command_reports_each_status_and_exits_1_on_failure() {
    let dir = project_with_models();
    let project = dir.path();
    let output = run(project, &["test"]);
    assert_eq!(output.status.code(), Some(1));
    let transcript = common::transcript(&output, project);
    assert!(
        transcript.contains("Tests: PASS=4 WARN=3 FAIL=1 ERROR=0 SKIP=0 TOTAL=8"),
        "{transcript}"
    );
    assert!(
        transcript.contains("FAIL 1 unique_stg_events_id"),
        "{transcript}"
    );
    assert!(
        transcript.contains(
            "compiled SQL: target/compiled/quality/models/schema.yml/unique_stg_events_id.sql"
        ),
        "{transcript}"
    );
    assert!(
        project
            .join("target/compiled/quality/models/schema.yml/unique_stg_events_id.sql")
            .is_file()
    );
}

#[test]
fn warnings_alone_exit_0() {
    let dir = project_with_models();
    let output = run(
        dir.path(),
        &["test", "--select", "test_name:accepted_values"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::transcript(&output, dir.path())
    );
    let statuses: Vec<(String, String)> = results(dir.path())
        .into_iter()
        .map(|(n, s, _)| (n, s))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "accepted_values_stg_events_type__PushEvent__WatchEvent".to_owned(),
                "warn".to_owned()
            ),
            ("types_in_the_first_events".to_owned(), "pass".to_owned()),
        ]
    );
}

#[test]
fn run_tests_the_models_it_built() {
    let dir = common::copy_fixture("quality");
    let project = dir.path();
    assert!(run(project, &["seed"]).status.success());
    let output = run(
        project,
        &["run", "--select", "actors", "repo_counts", "stg_events"],
    );
    assert_eq!(output.status.code(), Some(1));
    let names: Vec<String> = results(project).into_iter().map(|(n, _, _)| n).collect();
    assert!(names.contains(&"unique_stg_events_id".to_owned()));
    assert!(names.contains(&"relationships_actors_actor__actor__ref_stg_events_".to_owned()));
    let output = run(project, &["run", "--select", "repo_counts", "--no-tests"]);
    assert!(output.status.success());
    assert_eq!(results(project).len(), 1);
}

#[test]
fn indirect_selection_decides_which_tests_of_a_model_run() {
    let dir = project_with_models();
    let project = dir.path();
    let tests_for = |mode: &str| {
        let output = run(
            project,
            &["test", "--select", "actors", "--indirect-selection", mode],
        );
        assert!(output.status.code().is_some());
        if common::transcript(&output, project).contains("nothing to run") {
            return Vec::new();
        }
        results(project)
            .into_iter()
            .map(|(n, _, _)| n)
            .collect::<Vec<_>>()
    };
    let relationships = "relationships_actors_actor__actor__ref_stg_events_".to_owned();
    assert_eq!(tests_for("eager"), std::slice::from_ref(&relationships));
    assert!(tests_for("cautious").is_empty());
    assert_eq!(tests_for("buildable"), [relationships]);
    assert!(tests_for("empty").is_empty());
}

/// Two `relationships` tests into `repos` from two models that both read `repos` used to hold
/// each other's models back in `build`: a cycle that skipped everything and exited 0. dbt's
/// rule holds a node back only by tests whose every parent is upstream of it.
#[test]
fn regression_build_tests_sharing_a_parent_do_not_deadlock() {
    let dir = tempfile::tempdir().expect("temp");
    common::write_files(
        dir.path(),
        &[
            ("ghforge_project.yml", "name: gates\nversion: \"1.0\"\n"),
            ("models/repos.sql", "select 1 as id union all select 2"),
            (
                "models/stars.sql",
                "select id as repo_id from {{ ref('repos') }}",
            ),
            (
                "models/forks.sql",
                "select id as repo_id from {{ ref('repos') }}",
            ),
            (
                "models/schema.yml",
                "version: 2
models:
  - name: repos
    columns:
      - name: id
        data_tests: [unique]
  - name: stars
    columns:
      - name: repo_id
        data_tests:
          - relationships: {to: ref('repos'), field: id}
  - name: forks
    columns:
      - name: repo_id
        data_tests:
          - relationships: {to: ref('repos'), field: id}
",
            ),
        ],
    );
    let output = run(dir.path(), &["build"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::transcript(&output, dir.path())
    );
    let statuses: Vec<String> = results(dir.path())
        .into_iter()
        .map(|(name, status, _)| format!("{name} {status}"))
        .collect();
    assert_eq!(statuses.len(), 6, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| s.ends_with(" success") || s.ends_with(" pass")),
        "{statuses:?}"
    );
}
