//! Broken projects: each case is a small project (written into a temporary folder) with one
//! mistake; `ghforge compile` must exit 2 and say what is wrong, where, and what to do.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

const PROJECT: &str = "name: broken\nversion: \"1.0\"\n";

/// Write the base project plus `files`, run `ghforge` with `args`, return the transcript.
fn run_case(files: &[(&str, &str)], args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    if !files.iter().any(|(path, _)| *path == "ghforge_project.yml") {
        common::write_files(root, &[("ghforge_project.yml", PROJECT)]);
    }
    common::write_files(root, files);
    let args: Vec<&str> = if args.is_empty() {
        vec!["compile"]
    } else {
        args.to_vec()
    };
    let output = common::ghforge(root).args(&args).output().expect("runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        common::transcript(&output, root)
    );
    common::transcript(&output, root)
}

fn check(name: &str, files: &[(&str, &str)], args: &[&str]) {
    insta::assert_snapshot!(name, run_case(files, args));
}

#[test]
fn project_file_with_bad_yaml() {
    check(
        "bad_yaml_project_file",
        &[("ghforge_project.yml", "name: broken\nprofile: [broken\n")],
        &[],
    );
}

#[test]
fn project_file_with_unknown_key() {
    check(
        "unknown_project_key",
        &[(
            "ghforge_project.yml",
            "name: broken\nmodel_paths: [models]\n",
        )],
        &[],
    );
}

#[test]
fn empty_project_file() {
    check("empty_project_file", &[("ghforge_project.yml", "")], &[]);
}

#[test]
fn folder_without_a_project_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = common::ghforge(dir.path())
        .arg("ls")
        .output()
        .expect("runs");
    insta::assert_snapshot!("no_project_file", common::transcript(&output, dir.path()));
}

#[test]
fn schema_yaml_with_bad_indentation() {
    check(
        "bad_schema_yaml",
        &[
            ("models/a.sql", "select 1 as id"),
            (
                "models/schema.yml",
                "version: 2\nmodels:\n  - name: a\n   columns: []\n",
            ),
        ],
        &[],
    );
}

#[test]
fn jinja_syntax_error() {
    check(
        "jinja_syntax_error",
        &[("models/a.sql", "select 1 as id\nfrom {{ ref('b' }}\n")],
        &[],
    );
}

#[test]
fn unknown_ref_suggests_the_closest_model() {
    check(
        "unknown_ref",
        &[
            ("models/events.sql", "select 1 as id"),
            (
                "models/counts.sql",
                "select count(*) as n\nfrom {{ ref('evnts') }}\n",
            ),
        ],
        &[],
    );
}

#[test]
fn unknown_source() {
    check(
        "unknown_source",
        &[
            (
                "models/sources.yml",
                "version: 2\nsources:\n  - name: gharchive\n    tables:\n      - name: events\n",
            ),
            (
                "models/a.sql",
                "select * from {{ source('gharchive', 'event') }}",
            ),
        ],
        &[],
    );
}

#[test]
fn cycle_prints_its_path() {
    check(
        "cycle",
        &[
            ("models/a.sql", "select * from {{ ref('c') }}"),
            ("models/b.sql", "select * from {{ ref('a') }}"),
            ("models/c.sql", "select * from {{ ref('b') }}"),
        ],
        &[],
    );
}

#[test]
fn unknown_macro() {
    check(
        "unknown_macro",
        &[
            (
                "macros/money.sql",
                "{% macro cents_to_dollars(c) %}{{ c }} / 100{% endmacro %}",
            ),
            (
                "models/a.sql",
                "select {{ cents_to_dolars('amount') }} as amount",
            ),
        ],
        &[],
    );
}

#[test]
fn missing_env_var_in_profiles() {
    check(
        "missing_env_var",
        &[(
            "profiles.yml",
            "broken:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('GHFORGE_TEST_UNSET_DB_PATH') }}\"\n",
        )],
        &[],
    );
}

#[test]
fn duplicate_model_name() {
    check(
        "duplicate_model_name",
        &[
            ("models/silver/events.sql", "select 1 as id"),
            ("models/gold/events.sql", "select 2 as id"),
        ],
        &[],
    );
}

#[test]
fn unknown_selector_method() {
    check(
        "bad_selector_method",
        &[("models/a.sql", "select 1 as id")],
        &["ls", "--select", "tags:nightly"],
    );
}

#[test]
fn at_operator_with_plus() {
    check(
        "bad_selector_at_plus",
        &[("models/a.sql", "select 1 as id")],
        &["ls", "--select", "@a+"],
    );
}

#[test]
fn unknown_materialization() {
    check(
        "unknown_materialization",
        &[(
            "models/a.sql",
            "{{ config(materialized='tabel') }}\nselect 1 as id",
        )],
        &[],
    );
}

#[test]
fn required_var_missing() {
    check(
        "missing_var",
        &[(
            "models/a.sql",
            "select * from events\nwhere day >= '{{ var(\"start_day\") }}'",
        )],
        &[],
    );
}

#[test]
fn compiler_error_raised_by_a_macro() {
    check(
        "raise_compiler_error",
        &[
            (
                "macros/guard.sql",
                "{% macro require_positive(n) %}\n{% if n <= 0 %}\n{{ exceptions.raise_compiler_error('n must be positive, got ' ~ n) }}\n{% endif %}\n{{ n }}\n{% endmacro %}",
            ),
            ("models/a.sql", "select {{ require_positive(-1) }} as n"),
        ],
        &[],
    );
}

#[test]
fn unknown_target() {
    check(
        "unknown_target",
        &[(
            "profiles.yml",
            "broken:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n",
        )],
        &["compile", "--target", "prod"],
    );
}

#[test]
fn vars_that_are_not_a_map() {
    check(
        "bad_vars",
        &[("models/a.sql", "select 1")],
        &["compile", "--vars", "[1, 2]"],
    );
}

#[test]
fn macro_defined_twice() {
    check(
        "duplicate_macro",
        &[
            ("macros/a.sql", "{% macro money(c) %}{{ c }}{% endmacro %}"),
            (
                "macros/b.sql",
                "\n{% macro money(c) %}{{ c }} / 100{% endmacro %}",
            ),
        ],
        &[],
    );
}

#[test]
fn macro_file_with_syntax_error() {
    check(
        "macro_syntax_error",
        &[(
            "macros/a.sql",
            "{% macro money(c) %}\n{{ c }\n{% endmacro %}",
        )],
        &[],
    );
}

#[test]
fn ref_to_a_disabled_model() {
    check(
        "ref_to_disabled_model",
        &[
            (
                "models/old.sql",
                "{{ config(enabled=false) }}\nselect 1 as id",
            ),
            ("models/new.sql", "select * from {{ ref('old') }}"),
        ],
        &[],
    );
}

#[test]
fn unknown_test_severity() {
    check(
        "bad_test_severity",
        &[
            ("models/a.sql", "select 1 as id"),
            (
                "models/schema.yml",
                "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: id\n        data_tests:\n          - unique:\n              config:\n                severity: fatal\n",
            ),
        ],
        &[],
    );
}

#[test]
fn unknown_profile_key() {
    check(
        "unknown_profile_key",
        &[(
            "profiles.yml",
            "broken:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      pth: dev.duckdb\n",
        )],
        &[],
    );
}

#[test]
fn state_selector_without_state() {
    check(
        "state_without_manifest",
        &[("models/a.sql", "select 1 as id")],
        &["ls", "--select", "state:modified"],
    );
}

#[test]
fn project_dir_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = common::ghforge(dir.path())
        .args(["compile", "--project-dir", "no/such/folder"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let transcript = common::transcript(&output, dir.path());
    assert!(
        transcript.contains("project folder `no/such/folder` cannot be opened"),
        "{transcript}"
    );
    assert!(
        transcript.contains("hint: pass an existing folder with `--project-dir`"),
        "{transcript}"
    );
}

#[test]
fn usage_error_exits_2() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = common::ghforge(project)
        .args(["compile", "--no-such-flag"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

/// Two singular tests of the same name in different folders got one id and one of them was
/// dropped without a word.
#[test]
fn regression_duplicate_singular_test_names_are_an_error() {
    check(
        "duplicate_test_name",
        &[
            ("models/a.sql", "select 1 as id"),
            (
                "tests/one/check_a.sql",
                "select * from {{ ref('a') }} where id < 0",
            ),
            (
                "tests/two/check_a.sql",
                "select * from {{ ref('a') }} where id > 1",
            ),
        ],
        &[],
    );
}

#[test]
fn regression_a_named_profile_found_nowhere_is_an_error_not_a_local_file() {
    check(
        "named_profile_nowhere",
        &[(
            "ghforge_project.yml",
            "name: broken\nversion: \"1.0\"\nprofile: analytics_snowflake\n",
        )],
        &[],
    );
}

#[test]
fn regression_only_the_selected_target_of_a_profile_is_rendered() {
    let profiles = "broken:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n    \
                    prod:\n      type: duckdb\n      path: \"{{ env_var('GHFORGE_TEST_UNSET_PROD_PATH') }}\"\n";
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    common::write_files(
        root,
        &[("ghforge_project.yml", PROJECT), ("profiles.yml", profiles)],
    );
    let output = common::ghforge(root).arg("debug").output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        common::transcript(&output, root)
    );
    // The other target still fails where it is used.
    check(
        "unset_env_var_in_the_selected_target",
        &[("profiles.yml", profiles)],
        &["compile", "--target", "prod"],
    );
}

#[test]
fn profiles_are_found_in_dbt_profiles_dir_and_in_home_dbt() {
    let profiles = "broken:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: from_dbt.duckdb\n";
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let elsewhere = tempfile::tempdir().expect("temp dir");
    common::write_files(
        root,
        &[(
            "ghforge_project.yml",
            "name: broken\nversion: \"1.0\"\nprofile: broken\n",
        )],
    );
    common::write_files(elsewhere.path(), &[("profiles.yml", profiles)]);
    let debug = |command: &mut assert_cmd::Command| {
        let output = command.arg("debug").output().expect("runs");
        let transcript = common::transcript(&output, root);
        assert!(output.status.success(), "{transcript}");
        transcript
    };
    let from_env = debug(common::ghforge(root).env("DBT_PROFILES_DIR", elsewhere.path()));
    assert!(from_env.contains("from_dbt.duckdb"), "{from_env}");
    common::write_files(root, &[(".no-home/.dbt/profiles.yml", profiles)]);
    let from_home = debug(&mut common::ghforge(root));
    assert!(from_home.contains("from_dbt.duckdb"), "{from_home}");
}
