//! `ghforge docs generate`: `catalog.json` in dbt's v1 format from the warehouse's information
//! schema (tables and views with their columns' types in order; a seed and the source over it
//! both listed; ephemeral and unbuilt models left out), and the static docs site under
//! `<target-path>/docs/` with a page per node, types from the catalog and lineage in the page.

#![expect(
    clippy::expect_used,
    reason = "tests fail loudly when their setup fails"
)]

mod common;

use std::path::Path;

use serde_json::Value;

const PROJECT: &[(&str, &str)] = &[
    (
        "ghforge_project.yml",
        "name: docs_site\nversion: \"1.0\"\n\n\
         models:\n  docs_site:\n    +materialized: table\n    staging:\n      +materialized: view\n\
         seeds:\n  docs_site:\n    +schema: raw\n",
    ),
    (
        "seeds/raw_people.csv",
        "id,name,score\n1,ada,1.5\n2,bob,2.5\n",
    ),
    (
        "models/sources.yml",
        "version: 2\nsources:\n  - name: crm\n    schema: main_raw\n    tables:\n      \
         - name: people\n        identifier: raw_people\n",
    ),
    (
        "models/staging/stg_people.sql",
        "select id, upper(name) as name, score from {{ source('crm', 'people') }}",
    ),
    (
        "models/people_scores.sql",
        "select id, name, cast(score * 2 as decimal(10, 2)) as doubled, \
         timestamp '2024-05-01 00:00:00' as scored_at from {{ ref('stg_people') }}",
    ),
    (
        "models/scored.sql",
        "{{ config(materialized='ephemeral') }} select * from {{ ref('people_scores') }}",
    ),
    (
        "models/top.sql",
        "select max(doubled) as best from {{ ref('scored') }}",
    ),
    (
        "models/schema.yml",
        "version: 2\nmodels:\n  - name: people_scores\n    description: Each person's doubled score.\n    \
         columns:\n      - name: id\n        description: The person.\n        data_tests: [unique, not_null]\n",
    ),
];

fn ok(project: &Path, args: &[&str]) -> String {
    let output = common::ghforge(project).args(args).output().expect("runs");
    let transcript = common::transcript(&output, project);
    assert!(output.status.success(), "{transcript}");
    transcript
}

fn catalog(project: &Path) -> Value {
    let text = std::fs::read_to_string(project.join("target/catalog.json")).expect("catalog.json");
    serde_json::from_str(&text).expect("catalog.json is JSON")
}

/// A column as the catalog lists it: (index, name, type).
type Column = (i64, String, String);

/// (unique id, relation type, columns) of a catalog's nodes and sources.
fn entries(catalog: &Value) -> Vec<(String, String, Vec<Column>)> {
    let mut out = Vec::new();
    for kind in ["nodes", "sources"] {
        for (id, entry) in catalog[kind].as_object().expect("an object") {
            let columns = entry["columns"]
                .as_object()
                .expect("columns")
                .iter()
                .map(|(name, c)| {
                    let index = c["index"].as_i64().expect("an index");
                    (
                        index,
                        name.clone(),
                        c["type"].as_str().expect("a type").to_owned(),
                    )
                })
                .collect();
            let kind = entry["metadata"]["type"].as_str().expect("a type");
            out.push((id.clone(), kind.to_owned(), columns));
        }
    }
    out
}

#[test]
fn catalog_lists_built_relations_with_their_column_types_and_the_site_has_a_page_per_node() {
    let project = tempfile::tempdir().expect("temp dir");
    let project = project.path();
    common::write_files(project, PROJECT);
    ok(project, &["seed"]);
    ok(project, &["build"]);
    let log = ok(project, &["docs", "generate"]);
    insta::assert_snapshot!(log, @r"
    exit code: 0
    --- stdout
    00:00:00  Found 4 models, 1 seed, 2 data tests, 1 source, 0 macros
    00:00:00  Building catalog
    00:00:00  Catalog written to target/catalog.json (5 relations)
    00:00:00  Docs site written to target/docs/index.html (9 pages) in [TIME]
    --- stderr
    ");

    let catalog = catalog(project);
    assert_eq!(
        catalog["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/catalog/v1.json"
    );
    assert!(catalog["errors"].is_null());
    insta::assert_debug_snapshot!(entries(&catalog));
    assert_eq!(
        catalog["nodes"]["model.docs_site.people_scores"]["metadata"]["schema"],
        "main"
    );

    let site = project.join("target/docs");
    let index = std::fs::read_to_string(site.join("index.html")).expect("index.html");
    for page in [
        "model.docs_site.people_scores.html",
        "model.docs_site.scored.html",
        "seed.docs_site.raw_people.html",
        "source.docs_site.crm.people.html",
    ] {
        assert!(
            index.contains(&format!("href=\"{page}\"")),
            "{page} in {index}"
        );
        assert!(site.join(page).is_file(), "{page}");
    }
    let page = std::fs::read_to_string(site.join("model.docs_site.people_scores.html"))
        .expect("the model's page");
    for expected in [
        "Each person&#39;s doubled score.",
        "DECIMAL(10,2)",
        "TIMESTAMP",
        "unique",
        "href=\"model.docs_site.stg_people.html\"",
        "href=\"model.docs_site.scored.html\"",
        "href=\"source.docs_site.crm.people.html\"",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
}

#[test]
fn docs_generate_before_any_build_lists_only_what_exists_and_empty_catalog_lists_nothing() {
    let project = tempfile::tempdir().expect("temp dir");
    let project = project.path();
    common::write_files(project, PROJECT);
    ok(project, &["seed"]);
    ok(project, &["docs", "generate"]);
    let ids: Vec<String> = entries(&catalog(project))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        ids,
        ["seed.docs_site.raw_people", "source.docs_site.crm.people"]
    );

    ok(project, &["docs", "generate", "--empty-catalog"]);
    assert!(entries(&catalog(project)).is_empty());
    assert!(
        project
            .join("target/docs/model.docs_site.top.html")
            .is_file()
    );
}

#[test]
fn docs_generate_before_any_build_says_to_build_first() {
    let project = tempfile::tempdir().expect("temp dir");
    let project = project.path();
    common::write_files(project, PROJECT);
    let log = ok(project, &["docs", "generate"]);
    insta::assert_snapshot!(log);
    assert!(entries(&catalog(project)).is_empty());
}

#[test]
fn docs_generate_on_a_file_that_is_not_a_database_says_what_to_do() {
    let project = tempfile::tempdir().expect("temp dir");
    let project = project.path();
    common::write_files(project, PROJECT);
    common::write_files(
        project,
        &[
            (
                "profiles.yml",
                "docs_site:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: notes.duckdb\n",
            ),
            ("notes.duckdb", "these are notes, not a DuckDB database\n"),
        ],
    );
    let output = common::ghforge(project)
        .args(["docs", "generate"])
        .output()
        .expect("runs");
    insta::assert_snapshot!(common::transcript(&output, project));
    assert!(!project.join("target/catalog.json").exists());
}
