//! `incremental`: the first build (or a full refresh) is a table build; later runs stage the new
//! rows in a session-temporary table, reconcile the schema (`on_schema_change`) and apply a
//! strategy: `append`, `delete+insert` (default with a `unique_key`) or `merge`.

use crate::adapters::Column;
use crate::plan::{Dialect, Purpose, Sql};
use crate::project::config::{IncrementalStrategy, NodeConfig, OnSchemaChange};
use crate::project::nodes::Relation;

/// The statement that stages the model's new rows.
pub fn stage(dialect: &dyn Dialect, relation: &Relation, select_sql: &str) -> Sql {
    Sql::new(
        Purpose::Stage,
        dialect.create_temporary(&dialect.staging_relation(relation), select_sql),
    )
}

/// The strategy in force: the configured one, else `delete+insert` with a unique key, else
/// `append`.
pub fn strategy(config: &NodeConfig) -> IncrementalStrategy {
    config
        .incremental_strategy
        .unwrap_or(if config.unique_key.is_empty() {
            IncrementalStrategy::Append
        } else {
            IncrementalStrategy::DeleteInsert
        })
}

/// Why an incremental model cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncrementalError {
    #[error(
        "the new rows' columns differ from `{relation}` (added: {added}; removed: {removed}) and `on_schema_change` is `fail`"
    )]
    SchemaChanged {
        relation: String,
        added: String,
        removed: String,
    },
    #[error("incremental strategy `{0}` needs a `unique_key`")]
    NeedsUniqueKey(&'static str),
    #[error("incremental strategy `{0}` is not supported by this adapter")]
    Unsupported(&'static str),
}

/// Statements that reconcile the schema and apply the new rows from the staging table, given
/// the target's and the staged rows' columns.
pub fn apply(
    dialect: &dyn Dialect,
    relation: &Relation,
    config: &NodeConfig,
    existing: &[Column],
    staged: &[Column],
) -> Result<Vec<Sql>, IncrementalError> {
    let quote = |identifier: &str| dialect.quote(identifier);
    let target = dialect.relation(relation);
    let staging = dialect.temporary_name(&dialect.staging_relation(relation));
    let has =
        |columns: &[Column], name: &str| columns.iter().any(|c| c.name.eq_ignore_ascii_case(name));
    let added: Vec<&Column> = staged.iter().filter(|c| !has(existing, &c.name)).collect();
    let removed: Vec<&Column> = existing.iter().filter(|c| !has(staged, &c.name)).collect();
    let mut statements = Vec::new();
    let mut columns: Vec<&str> = staged
        .iter()
        .filter(|c| has(existing, &c.name))
        .map(|c| c.name.as_str())
        .collect();
    match config.on_schema_change {
        OnSchemaChange::Ignore => {}
        OnSchemaChange::Fail if added.is_empty() && removed.is_empty() => {}
        OnSchemaChange::Fail => {
            let names = |list: &[&Column]| {
                if list.is_empty() {
                    "none".to_owned()
                } else {
                    list.iter()
                        .map(|c| format!("`{}`", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            return Err(IncrementalError::SchemaChanged {
                relation: target,
                added: names(&added),
                removed: names(&removed),
            });
        }
        OnSchemaChange::AppendNewColumns | OnSchemaChange::SyncAllColumns => {
            for column in &added {
                statements.push(Sql::new(
                    Purpose::AlterColumns,
                    format!(
                        "alter table {target} add column {} {}",
                        quote(&column.name),
                        column.data_type
                    ),
                ));
                columns.push(&column.name);
            }
            if config.on_schema_change == OnSchemaChange::SyncAllColumns {
                for column in &removed {
                    statements.push(Sql::new(
                        Purpose::AlterColumns,
                        format!("alter table {target} drop column {}", quote(&column.name)),
                    ));
                }
            }
        }
    }
    let column_list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = Sql::new(
        Purpose::Insert,
        format!("insert into {target} ({column_list}) select {column_list} from {staging}"),
    );
    // A key is quoted as the table spells it: on Snowflake an unquoted `id` column is `ID`.
    let keys: Vec<String> = config
        .unique_key
        .iter()
        .map(|k| {
            let spelled = existing
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(k))
                .map_or(k.as_str(), |c| c.name.as_str());
            quote(spelled)
        })
        .collect();
    match strategy(config) {
        IncrementalStrategy::Append => statements.push(insert),
        IncrementalStrategy::DeleteInsert => {
            if keys.is_empty() {
                return Err(IncrementalError::NeedsUniqueKey("delete+insert"));
            }
            let matches = keys
                .iter()
                .map(|k| format!("{target}.{k} = {staging}.{k}"))
                .collect::<Vec<_>>()
                .join(" and ");
            statements.push(Sql::new(
                Purpose::Delete,
                format!("delete from {target} using {staging} where {matches}"),
            ));
            statements.push(insert);
        }
        IncrementalStrategy::Merge => {
            if keys.is_empty() {
                return Err(IncrementalError::NeedsUniqueKey("merge"));
            }
            let on = keys
                .iter()
                .map(|k| format!("t.{k} = s.{k}"))
                .collect::<Vec<_>>()
                .join(" and ");
            let updates = columns
                .iter()
                .filter(|c| !config.unique_key.iter().any(|k| k.eq_ignore_ascii_case(c)))
                .map(|c| format!("{} = s.{}", quote(c), quote(c)))
                .collect::<Vec<_>>();
            let values = columns
                .iter()
                .map(|c| format!("s.{}", quote(c)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut merge = format!("merge into {target} as t using {staging} as s on ({on})");
            if !updates.is_empty() {
                merge.push_str(&format!(
                    "\nwhen matched then update set {}",
                    updates.join(", ")
                ));
            }
            merge.push_str(&format!(
                "\nwhen not matched then insert ({column_list}) values ({values})"
            ));
            statements.push(Sql::new(Purpose::Merge, merge));
        }
        IncrementalStrategy::InsertOverwrite => {
            return Err(IncrementalError::Unsupported("insert_overwrite"));
        }
    }
    statements.push(Sql::new(
        Purpose::Cleanup,
        format!("drop table if exists {staging}"),
    ));
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::dialect::DuckDb;
    use crate::project::config::Materialization;

    fn config(json: serde_json::Value) -> NodeConfig {
        crate::project::config::from_json(Materialization::View, json)
    }

    fn columns(names: &[&str]) -> Vec<Column> {
        names
            .iter()
            .map(|n| Column {
                name: (*n).to_owned(),
                data_type: "INTEGER".to_owned(),
            })
            .collect()
    }

    fn relation() -> Relation {
        Relation {
            database: "db".into(),
            schema: "silver".into(),
            identifier: "events".into(),
        }
    }

    #[test]
    fn strategies_and_schema_changes() {
        let existing = columns(&["id", "created_at", "gone"]);
        let staged = columns(&["id", "created_at", "fresh"]);
        let plans: Vec<String> = [
            serde_json::json!({"materialized": "incremental"}),
            serde_json::json!({"materialized": "incremental", "unique_key": ["id", "created_at"]}),
            serde_json::json!({"materialized": "incremental", "unique_key": "id", "incremental_strategy": "merge", "on_schema_change": "append_new_columns"}),
            serde_json::json!({"materialized": "incremental", "on_schema_change": "sync_all_columns"}),
        ]
        .into_iter()
        .map(|c| {
            let plan = apply(&DuckDb, &relation(), &config(c), &existing, &staged).unwrap();
            crate::plan::texts(&plan).join(";\n")
        })
        .collect();
        insta::assert_snapshot!(plans.join("\n---\n"));
    }

    #[test]
    fn fail_on_schema_change_names_the_columns() {
        let err = apply(
            &DuckDb,
            &relation(),
            &config(serde_json::json!({"materialized": "incremental", "on_schema_change": "fail"})),
            &columns(&["id", "gone"]),
            &columns(&["id", "fresh"]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the new rows' columns differ from `\"db\".\"silver\".\"events\"` (added: `fresh`; removed: `gone`) and `on_schema_change` is `fail`"
        );
    }
}
