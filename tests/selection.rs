//! dbt's node selection grammar, evaluated on the `shop` fixture project: every method and
//! graph operator, set operations, exclusion and the indirect selection modes.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ghforge::cli::{GlobalArgs, LogFormat, LogLevel, SelectionArgs};
use ghforge::commands::load_and_select;
use ghforge::graph::selector::IndirectSelection;
use ghforge::settings::Settings;

fn settings(project: &Path) -> Settings {
    let args = GlobalArgs {
        project_dir: Some(project.to_path_buf()),
        profiles_dir: None,
        target: None,
        vars: None,
        log_format: LogFormat::Text,
        log_level: LogLevel::Info,
    };
    Settings::resolve(&args, Arc::new(|_| None), None).expect("settings resolve")
}

/// The selected nodes as `type:name`, sorted.
fn select_in(
    project: &Path,
    select: &str,
    exclude: &str,
    indirect: IndirectSelection,
    state: Option<&Path>,
) -> Vec<String> {
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let selection = SelectionArgs {
        select: words(select),
        exclude: words(exclude),
        state: state.map(Path::to_path_buf),
        indirect_selection: indirect,
    };
    let loaded = load_and_select(settings(project), &selection, &[]).expect("selection evaluates");
    let mut names: Vec<String> = loaded
        .selected
        .iter()
        .map(|id| {
            let node = &loaded.project.nodes[id];
            format!("{}:{}", node.resource_type(), node.name)
        })
        .collect();
    names.sort();
    names
}

const CASES: &[(&str, &str)] = &[
    // fqn (the default method) and its wildcards
    ("customers", ""),
    ("fqn:customers", ""),
    ("shop.marts.customers", ""),
    ("marts.finance.revenue", ""),
    ("shop.staging", ""),
    ("staging.*", ""),
    ("shop.marts.*", ""),
    ("*.finance.*", ""),
    ("stg_*", ""),
    ("orders", ""),
    // graph operators
    ("+customers", ""),
    ("customers+", ""),
    ("1+orders", ""),
    ("stg_orders+1", ""),
    ("2+revenue", ""),
    ("@stg_orders", ""),
    ("raw_customers+", ""),
    ("order_items", ""),
    // path, file
    ("path:models/staging", ""),
    ("models/marts/finance", ""),
    ("path:models/staging/stg_orders.sql", ""),
    ("path:models/marts/schema.yml", ""),
    ("file:customers.sql", ""),
    ("stg_orders.sql", ""),
    ("file:stg_*", ""),
    // tag, config, resource_type, package
    ("tag:nightly", ""),
    ("tag:staging", ""),
    ("tag:fin*", ""),
    ("tag:raw", ""),
    ("config.materialized:table", ""),
    ("config.materialized:incremental", ""),
    ("config.schema:marts", ""),
    ("config.tags:core", ""),
    ("config.severity:warn", ""),
    ("resource_type:seed", ""),
    ("resource_type:source", ""),
    ("package:shop,resource_type:model", ""),
    // source, test_type, test_name
    ("source:shop_raw", ""),
    ("source:shop_raw.orders", ""),
    ("source:shop_raw+", ""),
    ("source:shop.shop_raw.ev*", ""),
    ("test_type:generic,test_name:accepted_values", ""),
    ("test_type:singular", ""),
    ("test_name:unique", ""),
    ("test_name:is_positive", ""),
    // set operations and exclusion
    ("tag:staging,config.materialized:view", ""),
    ("customers revenue", ""),
    ("+revenue", "stg_payments"),
    ("marts", "tag:nightly"),
    ("", "resource_type:test source:*"),
    ("tag:nightly,resource_type:model stg_customers", ""),
];

#[test]
fn selection_grammar_matches_dbt() {
    let project = common::fixture("shop");
    let results: BTreeMap<String, Vec<String>> = CASES
        .iter()
        .map(|(select, exclude)| {
            let key = if exclude.is_empty() {
                format!("--select {select}")
            } else {
                format!("--select {select} --exclude {exclude}")
            };
            (
                key,
                select_in(&project, select, exclude, IndirectSelection::Eager, None),
            )
        })
        .collect();
    assert!(results.len() >= 40);
    insta::assert_yaml_snapshot!(results);
}

#[test]
fn indirect_selection_modes() {
    let project = common::fixture("shop");
    let results: BTreeMap<String, Vec<String>> = [
        IndirectSelection::Eager,
        IndirectSelection::Cautious,
        IndirectSelection::Buildable,
        IndirectSelection::Empty,
    ]
    .into_iter()
    .map(|mode| {
        (
            format!("{mode:?} orders"),
            select_in(&project, "orders", "", mode, None),
        )
    })
    .chain([
        (
            "Cautious +orders".to_owned(),
            select_in(&project, "+orders", "", IndirectSelection::Cautious, None),
        ),
        (
            "Buildable orders+".to_owned(),
            select_in(&project, "orders+", "", IndirectSelection::Buildable, None),
        ),
    ])
    .collect();
    insta::assert_yaml_snapshot!(results);
}

#[test]
fn state_selection_compares_with_a_previous_manifest() {
    let dir = common::copy_fixture("shop");
    let project = dir.path();
    let state = tempfile::tempdir().expect("state dir");
    common::ghforge(project)
        .args(["compile"])
        .assert()
        .success();
    std::fs::copy(
        project.join("target/manifest.json"),
        state.path().join("manifest.json"),
    )
    .expect("copy manifest");
    // Change one model's SQL, one model's config, and add a model.
    let revenue = project.join("models/marts/finance/revenue.sql");
    let sql = std::fs::read_to_string(&revenue).expect("read");
    std::fs::write(&revenue, sql.replace("sum(p.amount)", "sum(p.amount) * 1")).expect("write");
    let customers = project.join("models/marts/customers.sql");
    let sql = std::fs::read_to_string(&customers).expect("read");
    std::fs::write(
        &customers,
        sql.replace(
            "tags=['nightly', 'pii']",
            "tags=['nightly', 'pii'], materialized='view'",
        ),
    )
    .expect("write");
    common::write_files(project, &[("models/marts/new_model.sql", "select 1 as x")]);

    let select = |selector: &str| {
        select_in(
            project,
            selector,
            "",
            IndirectSelection::Empty,
            Some(state.path()),
        )
    };
    assert_eq!(select("state:new"), ["model:new_model"]);
    assert_eq!(
        select("state:modified.body"),
        ["model:customers", "model:new_model", "model:revenue"]
    );
    assert_eq!(
        select("state:modified.configs"),
        ["model:customers", "model:new_model"]
    );
    assert_eq!(
        select("state:modified"),
        ["model:customers", "model:new_model", "model:revenue"]
    );
    assert_eq!(
        select("state:modified+,resource_type:model"),
        ["model:customers", "model:new_model", "model:revenue"]
    );
    assert!(select("state:unmodified").contains(&"model:orders".to_owned()));
    assert!(!select("state:unmodified").contains(&"model:revenue".to_owned()));
    assert_eq!(select("state:old,resource_type:seed").len(), 3);
}

#[test]
fn ls_prints_selector_names_paths_and_json() {
    let project = common::fixture("shop");
    let run = |args: &[&str]| {
        let output = common::ghforge(&project)
            .arg("ls")
            .args(args)
            .output()
            .expect("runs");
        common::transcript(&output, &project)
    };
    insta::assert_snapshot!("ls_selector", run(&["--select", "+customers"]));
    insta::assert_snapshot!(
        "ls_name_resource_type",
        run(&["--resource-type", "seed", "source", "--output", "name"])
    );
    insta::assert_snapshot!("ls_path", run(&["-s", "tag:finance", "--output", "path"]));
    // As dbt: a warning per criterion that matches nothing (graph operators included), exit 0;
    // ghforge adds the nearest node name.
    insta::assert_snapshot!(
        "ls_unmatched_criteria",
        run(&[
            "-s",
            "+custmers tag:nope orders",
            "--exclude",
            "tag:also_nope"
        ])
    );
    insta::assert_snapshot!(
        "ls_json",
        run(&[
            "-s",
            "orders",
            "--resource-type",
            "model",
            "--output",
            "json"
        ])
    );
}
