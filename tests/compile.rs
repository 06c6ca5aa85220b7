//! `ghforge compile` on fixture projects: compiled SQL of every node (ephemeral CTEs,
//! incremental guards, macros, dispatch, generic and custom tests) and the manifest.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

/// Every compiled file under `target/compiled`, path then contents, in path order.
fn compiled_files(target: &Path) -> String {
    let mut files: Vec<_> = walkdir::WalkDir::new(target.join("compiled"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(target).expect("under target");
            let sql = std::fs::read_to_string(path).expect("read compiled");
            format!("=== {}\n{}\n", relative.display(), sql.trim())
        })
        .collect()
}

fn manifest(target: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(target.join("manifest.json")).expect("manifest written");
    serde_json::from_str(&text).expect("manifest is JSON")
}

#[test]
fn shop_compiles_to_the_expected_sql() {
    let dir = common::copy_fixture("shop");
    let output = common::ghforge(dir.path())
        .arg("compile")
        .output()
        .expect("runs");
    insta::assert_snapshot!(
        "shop_compile_output",
        common::transcript(&output, dir.path())
    );
    insta::assert_snapshot!(
        "shop_compiled_sql",
        compiled_files(&dir.path().join("target"))
    );
}

#[test]
fn compile_prints_the_compiled_code_of_the_node_the_selection_names() {
    let dir = common::copy_fixture("shop");
    let output = common::ghforge(dir.path())
        .args(["compile", "--select", "stg_customers"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed = &stdout[stdout
        .find("Compiled node")
        .expect("the compiled node is printed")..];
    insta::assert_snapshot!(printed, @r#"
    Compiled node 'stg_customers' is:
    select id as customer_id, first_name, last_name
    from "ghforge"."main_raw"."raw_customers"
    "#);
}

#[test]
fn parse_writes_the_manifest_without_compiled_code() {
    let dir = common::copy_fixture("shop");
    let output = common::ghforge(dir.path())
        .arg("parse")
        .output()
        .expect("runs");
    insta::assert_snapshot!(common::transcript(&output, dir.path()), @r"
    exit code: 0
    --- stdout
    00:00:00  Found 7 models, 3 seeds, 11 data tests, 2 sources, 2 macros
    00:00:00  Parsed 23 nodes; wrote target/manifest.json in [TIME]
    --- stderr
    ");
    let text = std::fs::read_to_string(dir.path().join("target/manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let customers = &manifest["nodes"]["model.shop.customers"];
    assert!(
        customers["raw_code"]
            .as_str()
            .is_some_and(|sql| !sql.is_empty())
    );
    assert!(
        customers
            .get("compiled_code")
            .is_none_or(serde_json::Value::is_null)
    );
    assert!(!dir.path().join("target/compiled").exists());
}

#[test]
fn shop_manifest_follows_dbt_shape() {
    let dir = common::copy_fixture("shop");
    common::ghforge(dir.path())
        .arg("compile")
        .assert()
        .success();
    let manifest = manifest(&dir.path().join("target"));
    insta::assert_json_snapshot!("shop_manifest_orders", manifest["nodes"]["model.shop.orders"], {
        ".created_at" => "[created_at]",
        ".compiled_path" => "[compiled_path]",
    });
    let relationships = manifest["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .find(|n| n["name"] == "relationships_orders_customer_id__customer_id__ref_customers_")
        .expect("relationships test");
    insta::assert_json_snapshot!("shop_manifest_relationships_test", relationships, {
        ".created_at" => "[created_at]",
        ".compiled_path" => "[compiled_path]",
    });
    insta::assert_json_snapshot!("shop_manifest_source", manifest["sources"]["source.shop.shop_raw.orders"], {
        ".created_at" => "[created_at]",
    });
    insta::assert_json_snapshot!(
        "shop_manifest_maps",
        (&manifest["parent_map"], &manifest["child_map"])
    );
    let metadata = &manifest["metadata"];
    assert_eq!(metadata["project_name"], "shop");
    assert_eq!(metadata["adapter_type"], "duckdb");
    assert!(
        metadata["generated_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
}

#[test]
fn manifest_is_stable_between_runs() {
    let dir = common::copy_fixture("shop");
    let strip = |mut value: serde_json::Value| {
        value["metadata"]["generated_at"] = serde_json::Value::Null;
        value["metadata"]["invocation_id"] = serde_json::Value::Null;
        let text = value.to_string();
        // created_at is a timestamp of the run.
        let mut out = String::new();
        for part in text.split("\"created_at\":") {
            if out.is_empty() && !text.starts_with("\"created_at\":") {
                out.push_str(part);
                continue;
            }
            out.push_str("\"created_at\":0");
            out.push_str(&part[part.find([',', '}']).unwrap_or(part.len())..]);
        }
        out
    };
    common::ghforge(dir.path())
        .arg("compile")
        .assert()
        .success();
    let first = strip(manifest(&dir.path().join("target")));
    common::ghforge(dir.path())
        .arg("compile")
        .assert()
        .success();
    let second = strip(manifest(&dir.path().join("target")));
    assert_eq!(first, second);
}

#[test]
fn vars_from_the_command_line_override_the_project() {
    let dir = common::copy_fixture("shop");
    common::ghforge(dir.path())
        .args([
            "compile",
            "--select",
            "revenue",
            "--vars",
            "{currency: EUR}",
        ])
        .assert()
        .success();
    let sql = std::fs::read_to_string(
        dir.path()
            .join("target/compiled/shop/models/marts/finance/revenue.sql"),
    )
    .expect("compiled");
    assert!(sql.contains("'EUR' as currency"), "{sql}");
}

#[test]
fn profiles_select_the_target_and_env_vars_render() {
    let dir = common::copy_fixture("shop");
    common::write_files(
        dir.path(),
        &[(
            "profiles.yml",
            "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n      schema: analytics\n    ci:\n      type: duckdb\n      path: \"{{ env_var('SHOP_DB', 'fallback') }}.duckdb\"\n      schema: \"{{ env_var('SHOP_SCHEMA') }}\"\n",
        )],
    );
    common::ghforge(dir.path())
        .args(["compile", "--select", "stg_orders", "--target", "ci"])
        .env("SHOP_SCHEMA", "ci_42")
        .assert()
        .success();
    let sql = std::fs::read_to_string(
        dir.path()
            .join("target/compiled/shop/models/staging/stg_orders.sql"),
    )
    .expect("compiled");
    assert!(
        sql.contains("from \"fallback\".\"raw\".\"raw_orders\""),
        "{sql}"
    );
    let manifest = manifest(&dir.path().join("target"));
    assert_eq!(
        manifest["nodes"]["model.shop.stg_orders"]["schema"],
        "ci_42"
    );
    assert_eq!(
        manifest["nodes"]["model.shop.customers"]["schema"],
        "ci_42_marts"
    );
}

#[test]
fn dbt_project_yml_is_read_the_same_way() {
    let dir = common::copy_fixture("shop");
    std::fs::rename(
        dir.path().join("ghforge_project.yml"),
        dir.path().join("dbt_project.yml"),
    )
    .expect("rename");
    let output = common::ghforge(dir.path())
        .args(["ls", "--select", "tag:finance"])
        .output()
        .expect("runs");
    insta::assert_snapshot!(
        "dbt_project_yml_ls",
        common::transcript(&output, dir.path())
    );
}

#[test]
fn the_bundled_gharchive_project_compiles() {
    let dir = common::copy_bundled_project();
    let output = common::ghforge(dir.path())
        .arg("compile")
        .output()
        .expect("runs");
    insta::assert_snapshot!(
        "gharchive_compile_output",
        common::transcript(&output, dir.path())
    );
    insta::assert_snapshot!(
        "gharchive_compiled_sql",
        compiled_files(&dir.path().join("ghforge-target"))
    );
}

/// `{{ target.name }}` in the project file rendered as an empty string: the project file was
/// rendered before the profile was read.
#[test]
fn regression_target_renders_in_the_project_file() {
    let dir = common::copy_fixture("shop");
    let project_file = dir.path().join("ghforge_project.yml");
    let text = std::fs::read_to_string(&project_file).expect("read");
    std::fs::write(
        &project_file,
        text.replace("+schema: marts", "+schema: \"marts_{{ target.name }}\""),
    )
    .expect("write");
    common::ghforge(dir.path())
        .args(["compile", "--select", "customers"])
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join("target/manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        manifest["nodes"]["model.shop.customers"]["schema"],
        "main_marts_dev"
    );
}

#[test]
fn a_project_test_overrides_the_built_in_one() {
    let dir = common::copy_fixture("shop");
    common::write_files(
        dir.path(),
        &[(
            "macros/not_null.sql",
            "{% test not_null(model, column_name) %}\nselect {{ column_name }} as overridden from {{ model }} where {{ column_name }} is null\n{% endtest %}",
        )],
    );
    common::ghforge(dir.path())
        .args(["compile", "--select", "test_name:not_null"])
        .assert()
        .success();
    let sql =
        std::fs::read_to_string(dir.path().join(
            "target/compiled/shop/models/marts/schema.yml/not_null_customers_customer_id.sql",
        ))
        .expect("compiled");
    assert_eq!(
        sql.trim(),
        "select customer_id as overridden from \"ghforge\".\"main_marts\".\"customers\" where customer_id is null"
    );
}
