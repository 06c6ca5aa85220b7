//! One node's whole plan: its materialization's statements, its hooks and the reads the
//! executor needs, placed in transactions as the target's dialect allows.

use std::path::Path;

use crate::plan::{Capability, Dialect, Facts, FileReplacement, Plan, Purpose, Sql, Step};
use crate::project::config::{IncrementalStrategy, Materialization, NodeConfig};
use crate::project::nodes::Node;

use super::external::{self, External};
use super::incremental::{self, IncrementalError};
use super::seed::{self, SeedError};
use super::{create_schema, table, view};

/// What is being planned, with what the executor prepared for it.
#[derive(Debug, Clone, Copy)]
pub enum NodeWork<'a> {
    /// A model: its compiled SQL and rendered hooks; for an external model, where its files go
    /// and the token that names this build's files.
    Model {
        sql: &'a str,
        pre_hooks: &'a [String],
        post_hooks: &'a [String],
        external: Option<(&'a External, &'a str)>,
    },
    /// A seed: its CSV file, and the file's text for warehouses that cannot read local files.
    Seed {
        csv: &'a Path,
        text: Option<&'a str>,
    },
    /// A data test's compiled query.
    Test { sql: &'a str },
}

/// Why a node cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{} is not supported on {dialect}", .capability.describe())]
    Unsupported {
        capability: Capability,
        dialect: &'static str,
    },
    #[error("Incremental error: {0}")]
    Incremental(#[from] IncrementalError),
    #[error("Seed error in `{file}`: {source}")]
    Seed { file: String, source: SeedError },
    #[error("Compilation error: {0}")]
    Config(String),
    #[error("materialization `{0}` is not supported by `ghforge run` yet")]
    Materialization(Materialization),
}

/// What a node needs of the warehouse that some warehouses lack.
pub fn required_capability(config: &NodeConfig) -> Option<Capability> {
    (config.materialized == Materialization::External).then_some(Capability::ExternalFiles)
}

/// Fail when the dialect lacks something `config` needs.
pub fn check_capabilities(config: &NodeConfig, dialect: &dyn Dialect) -> Result<(), PlanError> {
    match required_capability(config) {
        Some(capability) if !dialect.supports(capability) => Err(PlanError::Unsupported {
            capability,
            dialect: dialect.name(),
        }),
        _ => Ok(()),
    }
}

/// The plan of `node` given what introspection found.
pub fn node_plan(
    node: &Node,
    work: NodeWork<'_>,
    facts: &Facts,
    dialect: &dyn Dialect,
) -> Result<Plan, PlanError> {
    check_capabilities(&node.config, dialect)?;
    let relation = &node.relation;
    let steps = match work {
        NodeWork::Test { sql } => {
            let mut steps = Vec::new();
            if node.config.store_failures.unwrap_or(false) {
                steps.push(Step::Execute(Sql::new(
                    Purpose::StoreFailures,
                    create_schema(relation),
                )));
                steps.push(Step::Execute(Sql::new(
                    Purpose::StoreFailures,
                    format!(
                        "create or replace table {} as (\n{}\n)",
                        dialect.relation(relation),
                        super::body(sql)
                    ),
                )));
            }
            steps.push(Step::Query(Sql::new(
                Purpose::Count,
                crate::schema_tests::counting_sql(sql, &node.config),
            )));
            steps
        }
        NodeWork::Seed { csv, text } => {
            let column_types = &node.config.column_types;
            let statements = match text {
                Some(text) if !dialect.supports(Capability::LocalFileRead) => {
                    seed::build_from_rows(dialect, relation, text, column_types, facts.existing)
                        .map_err(|source| PlanError::Seed {
                            file: node.original_file_path.clone(),
                            source,
                        })?
                }
                _ => seed::build(dialect, relation, csv, column_types, facts.existing),
            };
            let mut steps = Plan::transact(dialect, statements);
            steps.push(Step::Query(Sql::new(
                Purpose::Count,
                format!("select count(*) from {}", dialect.relation(relation)),
            )));
            steps
        }
        NodeWork::Model {
            sql,
            pre_hooks,
            post_hooks,
            external,
        } => {
            let hooks = |texts: &[String]| -> Vec<Sql> {
                texts.iter().map(|h| Sql::new(Purpose::Hook, h)).collect()
            };
            let built = match node.config.materialized {
                Materialization::View => view::build(dialect, relation, sql, facts.existing),
                Materialization::Incremental if facts.incremental => {
                    let mut statements = vec![incremental::stage(dialect, relation, sql)];
                    statements.extend(incremental::apply(
                        dialect,
                        relation,
                        &node.config,
                        &facts.columns,
                        &facts.query_columns,
                    )?);
                    statements
                }
                Materialization::Table | Materialization::Incremental => {
                    table::build(dialect, relation, sql, facts.existing)
                }
                Materialization::External => {
                    let (target, token) = external.ok_or_else(|| {
                        PlanError::Config("an external model needs a `location`".to_owned())
                    })?;
                    return external_plan(node, sql, facts, target, token, (pre_hooks, post_hooks));
                }
                other => return Err(PlanError::Materialization(other)),
            };
            let mut statements = hooks(pre_hooks);
            statements.extend(built);
            statements.extend(hooks(post_hooks));
            Plan::transact(dialect, statements)
        }
    };
    Ok(Plan { steps })
}

/// An external model: stage its rows, count them, write them as files named by `token`, delete
/// the files they replace, then point the view at the location (DuckDB SQL: only DuckDB has the
/// capability).
fn external_plan(
    node: &Node,
    sql: &str,
    facts: &Facts,
    target: &External,
    token: &str,
    (pre_hooks, post_hooks): (&[String], &[String]),
) -> Result<Plan, PlanError> {
    let replacement = match (facts.incremental, node.config.incremental_strategy) {
        (false, _) => FileReplacement::All,
        (true, Some(IncrementalStrategy::Append)) => FileReplacement::None,
        (true, Some(IncrementalStrategy::InsertOverwrite)) if !target.partition_by.is_empty() => {
            FileReplacement::TouchedPartitions
        }
        (true, strategy) => {
            return Err(PlanError::Config(format!(
                "an incremental external model takes `incremental_strategy='append'`, or `'insert_overwrite'` with `partition_by` (got `{}`)",
                strategy.map_or("none", IncrementalStrategy::as_str)
            )));
        }
    };
    let mut steps: Vec<Step> = pre_hooks
        .iter()
        .map(|hook| Step::Execute(Sql::new(Purpose::Hook, hook)))
        .collect();
    steps.push(Step::Execute(Sql::new(
        Purpose::Stage,
        External::stage(sql),
    )));
    steps.push(Step::Query(Sql::new(
        Purpose::Count,
        format!("select count(*) from {}", external::STAGED),
    )));
    steps.push(Step::Execute(Sql::new(
        Purpose::WriteFiles,
        target.write(token),
    )));
    steps.push(Step::DeleteReplacedFiles {
        token: token.to_owned(),
        replacement,
    });
    steps.push(Step::Begin);
    steps.push(Step::Execute(Sql::new(
        Purpose::Create,
        target.view(&node.relation),
    )));
    steps.extend(
        post_hooks
            .iter()
            .map(|hook| Step::Execute(Sql::new(Purpose::Hook, hook))),
    );
    steps.push(Step::Execute(Sql::new(
        Purpose::Cleanup,
        format!("drop table if exists {}", external::STAGED),
    )));
    steps.push(Step::Commit);
    Ok(Plan { steps })
}

/// Where an external model's files go (`location`, default `<target-path>/external/<schema>/<name>`)
/// and its `partition_by` columns.
pub fn external_settings(
    node: &Node,
    target_path: &str,
) -> Result<(String, Vec<String>), PlanError> {
    let setting = |key: &str| node.config.extra.get(key);
    let location = match setting("location").and_then(serde_json::Value::as_str) {
        Some(location) => location.to_owned(),
        None => format!(
            "{target_path}/external/{}/{}",
            node.relation.schema, node.relation.identifier
        ),
    };
    let partition_by = match setting("partition_by") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(column)) => vec![column.clone()],
        Some(serde_json::Value::Array(columns)) => columns
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
        Some(other) => {
            return Err(PlanError::Config(format!(
                "`partition_by` takes a column or a list of columns, got `{other}`"
            )));
        }
    };
    Ok((location, partition_by))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::{Column, RelationType};
    use crate::plan::dialect::{DuckDb, Snowflake};
    use crate::project::nodes::{NodeId, NodeKind, Relation};

    fn node(kind: NodeKind, config: serde_json::Value) -> Node {
        let default = match kind {
            NodeKind::Seed => Materialization::Seed,
            NodeKind::Test { .. } => Materialization::Test,
            _ => Materialization::View,
        };
        Node {
            unique_id: NodeId("model.shop.orders".to_owned()),
            kind,
            name: "orders".to_owned(),
            package_name: "shop".to_owned(),
            fqn: vec!["shop".to_owned(), "orders".to_owned()],
            path: "orders.sql".to_owned(),
            original_file_path: "models/orders.sql".to_owned(),
            patch_path: None,
            raw_code: String::new(),
            checksum: String::new(),
            config: crate::project::config::from_json(default, config),
            description: String::new(),
            columns: indexmap::IndexMap::new(),
            references: Vec::new(),
            macros: Vec::new(),
            relation: Relation {
                database: "DB".to_owned(),
                schema: "marts".to_owned(),
                identifier: "orders".to_owned(),
            },
        }
    }

    fn columns(names: &[&str]) -> Vec<Column> {
        names
            .iter()
            .map(|name| Column {
                name: (*name).to_owned(),
                data_type: "BIGINT".to_owned(),
            })
            .collect()
    }

    const SQL: &str = "select id, amount from stg_orders;";

    /// Every model materialization's plan, first build and (for incrementals) a later run, on
    /// one dialect, as a person reads it.
    fn model_plans(dialect: &dyn Dialect) -> String {
        let pre = ["insert into audit values ('start')".to_owned()];
        let existing_table = Facts {
            existing: Some(RelationType::Table),
            ..Facts::default()
        };
        let later = Facts {
            existing: Some(RelationType::Table),
            incremental: true,
            columns: columns(&["id", "amount"]),
            query_columns: columns(&["id", "amount", "currency"]),
        };
        let cases: [(&str, serde_json::Value, &Facts); 6] = [
            (
                "view over a table",
                serde_json::json!({"materialized": "view"}),
                &existing_table,
            ),
            (
                "table replacing a table, with a pre-hook",
                serde_json::json!({"materialized": "table"}),
                &existing_table,
            ),
            (
                "incremental, first build",
                serde_json::json!({"materialized": "incremental"}),
                &Facts::default(),
            ),
            (
                "incremental append",
                serde_json::json!({"materialized": "incremental"}),
                &later,
            ),
            (
                "incremental delete+insert, append_new_columns",
                serde_json::json!({"materialized": "incremental", "unique_key": "id", "on_schema_change": "append_new_columns"}),
                &later,
            ),
            (
                "incremental merge",
                serde_json::json!({"materialized": "incremental", "unique_key": "id", "incremental_strategy": "merge"}),
                &later,
            ),
        ];
        cases
            .iter()
            .map(|(title, config, facts)| {
                let hooks: &[String] = if title.contains("pre-hook") {
                    &pre
                } else {
                    &[]
                };
                let work = NodeWork::Model {
                    sql: SQL,
                    pre_hooks: hooks,
                    post_hooks: &[],
                    external: None,
                };
                let plan = node_plan(&node(NodeKind::Model, config.clone()), work, facts, dialect)
                    .unwrap();
                format!("=== {title}\n{plan}")
            })
            .collect()
    }

    #[test]
    fn duckdb_model_plans() {
        insta::assert_snapshot!(model_plans(&DuckDb));
    }

    #[test]
    fn snowflake_model_plans() {
        insta::assert_snapshot!(model_plans(&Snowflake));
    }

    fn seed_and_test_plans(dialect: &dyn Dialect) -> String {
        let seed = node(NodeKind::Seed, serde_json::json!({}));
        let seed_plan = node_plan(
            &seed,
            NodeWork::Seed {
                csv: Path::new("/project/seeds/orders.csv"),
                text: Some("id,amount\n1,2.5\n2,\n"),
            },
            &Facts::default(),
            dialect,
        )
        .unwrap();
        let test = node(
            NodeKind::Test {
                metadata: None,
                attached_node: None,
                column_name: None,
            },
            serde_json::json!({"store_failures": true}),
        );
        let test_plan = node_plan(
            &test,
            NodeWork::Test {
                sql: "select * from orders where amount < 0",
            },
            &Facts::default(),
            dialect,
        )
        .unwrap();
        format!("=== seed\n{seed_plan}=== test with store_failures\n{test_plan}")
    }

    #[test]
    fn duckdb_seed_and_test_plans() {
        insta::assert_snapshot!(seed_and_test_plans(&DuckDb));
    }

    #[test]
    fn snowflake_seed_and_test_plans() {
        insta::assert_snapshot!(seed_and_test_plans(&Snowflake));
    }

    #[test]
    fn external_models_plan_on_duckdb_and_fail_at_plan_time_on_snowflake() {
        let model = node(
            NodeKind::Model,
            serde_json::json!({"materialized": "external", "incremental_strategy": "insert_overwrite"}),
        );
        let target = External {
            url: "s3://lake/gold/orders".to_owned(),
            partition_by: vec!["day".to_owned()],
        };
        let work = NodeWork::Model {
            sql: SQL,
            pre_hooks: &[],
            post_hooks: &[],
            external: Some((&target, "20260101T000000000000")),
        };
        let later = Facts {
            existing: Some(RelationType::View),
            incremental: true,
            ..Facts::default()
        };
        insta::assert_snapshot!(
            node_plan(&model, work, &later, &DuckDb)
                .unwrap()
                .to_string()
        );
        assert_eq!(
            node_plan(&model, work, &later, &Snowflake).unwrap_err(),
            PlanError::Unsupported {
                capability: Capability::ExternalFiles,
                dialect: "snowflake"
            }
        );
    }

    #[test]
    fn one_dml_statement_needs_no_transaction_on_snowflake() {
        let statements = vec![
            Sql::new(Purpose::Stage, "create temporary table s as (select 1)"),
            Sql::new(Purpose::Merge, "merge into t using s on (t.a = s.a)"),
            Sql::new(Purpose::Cleanup, "drop table if exists s"),
        ];
        let steps = Plan::transact(&Snowflake, statements.clone());
        assert!(!steps.contains(&Step::Begin), "{steps:?}");
        let steps = Plan::transact(&DuckDb, statements);
        assert_eq!(steps.first(), Some(&Step::Begin));
        assert_eq!(steps.last(), Some(&Step::Commit));
    }
}
