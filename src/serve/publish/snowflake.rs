//! The Snowflake source of a snapshot: each served relation is read through the adapter's
//! session with one `select` (every statement is checked to be one before it is sent, so
//! publishing cannot change the warehouse), its rows staged as text in an in-memory DuckDB table
//! with the appender, then cast into the snapshot file attached to that local connection, with
//! Snowflake's types mapped by [`super::types`]. The file is the same kind the DuckDB path
//! writes, so `ghforge serve` cannot tell them apart.

use duckdb::{Connection, appender_params_from_iter};

use crate::adapters::{Column, Session};
use crate::project::nodes::Relation;
use crate::types::{QueryTable, quote};

use super::types::{Mapped, fits_bigint, snapshot_column_name};
use super::{Copy, PublishError, Source};

/// The in-memory table rows are staged in, all `VARCHAR`.
const STAGING: &str = "ghforge_staging";

/// A Snowflake session to read from and the local DuckDB connection that writes the snapshot.
pub struct Fetch<'a> {
    warehouse: &'a mut dyn Session,
    local: Connection,
}

impl<'a> Fetch<'a> {
    pub fn new(warehouse: &'a mut dyn Session) -> Result<Self, PublishError> {
        let local = Connection::open_in_memory().map_err(|source| PublishError::Local {
            relation: "an in-memory staging database".to_owned(),
            source,
        })?;
        Ok(Self { warehouse, local })
    }

    /// Run a read-only `select` on Snowflake.
    fn select(&mut self, sql: &str) -> Result<QueryTable, PublishError> {
        check_read_only(sql)?;
        Ok(self.warehouse.query(sql)?)
    }

    fn local(&self, relation: &Relation, sql: &str) -> Result<(), PublishError> {
        self.local
            .execute_batch(sql)
            .map_err(|source| PublishError::Local {
                relation: relation.quoted(),
                source,
            })
    }
}

/// Refuse anything but a single `select` (or `with … select`).
pub fn check_read_only(sql: &str) -> Result<(), PublishError> {
    let text = crate::types::body(sql).trim_start().to_ascii_lowercase();
    let starts = text.starts_with("select ") || text.starts_with("with ");
    if starts && !text.contains(';') {
        Ok(())
    } else {
        Err(PublishError::NotReadOnly {
            sql: sql.to_owned(),
        })
    }
}

/// The select that describes `copy`'s columns (its names are Snowflake's, unquoted).
pub fn describe_sql(copy: &Copy<'_>) -> String {
    let columns = copy
        .columns
        .map_or_else(|| "*".to_owned(), |c| c.join(", "));
    format!("select {columns} from {}", copy.from.quoted())
}

/// The select that reads `copy`'s rows: the described columns by their exact names, decimals
/// as text, in `order_by` order.
pub fn fetch_sql(copy: &Copy<'_>, columns: &[(Column, Mapped)]) -> String {
    let list = columns
        .iter()
        .map(|(column, mapped)| mapped.fetch_expression(&quote(&column.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let order = copy
        .order_by
        .map(|o| format!(" order by {o}"))
        .unwrap_or_default();
    format!("select {list} from {}{order}", copy.from.quoted())
}

/// `create table <snapshot table> as select cast(c0 as …) as "name", … from <staging>`.
pub fn load_sql(copy: &Copy<'_>, columns: &[(Column, Mapped)], fits: &[bool]) -> String {
    let list = columns
        .iter()
        .zip(fits)
        .enumerate()
        .map(|(i, ((column, mapped), fits))| {
            format!(
                "{} AS {}",
                mapped.load_expression(&format!("c{i}"), *fits),
                quote(&snapshot_column_name(&column.name))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE TABLE {} AS SELECT {list} FROM {STAGING}",
        copy.into_sql()
    )
}

impl Source for Fetch<'_> {
    fn write(&mut self, sql: &str) -> Result<(), PublishError> {
        self.local
            .execute_batch(sql)
            .map_err(|source| PublishError::Local {
                relation: "the snapshot".to_owned(),
                source,
            })
    }

    fn exists(&mut self, relation: &Relation) -> Result<bool, PublishError> {
        Ok(self.warehouse.relation_type(relation)?.is_some())
    }

    fn column_names(&mut self, relation: &Relation) -> Result<Vec<String>, PublishError> {
        Ok(self
            .warehouse
            .columns(relation)?
            .into_iter()
            .map(|c| c.name)
            .collect())
    }

    fn copy(&mut self, copy: &Copy<'_>) -> Result<Option<u64>, PublishError> {
        let describe = describe_sql(copy);
        check_read_only(&describe)?;
        let columns: Vec<(Column, Mapped)> = self
            .warehouse
            .query_columns(&describe)?
            .into_iter()
            .map(|column| {
                let mapped = Mapped::of(&column.data_type);
                (column, mapped)
            })
            .collect();
        let table = self.select(&fetch_sql(copy, &columns))?;
        let fits: Vec<bool> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, mapped))| {
                *mapped != Mapped::WideInteger
                    || fits_bigint(table.rows.iter().filter_map(|row| row.get(i)))
            })
            .collect();
        let staging = (0..columns.len())
            .map(|i| format!("c{i} VARCHAR"))
            .collect::<Vec<_>>()
            .join(", ");
        self.local(
            copy.from,
            &format!("CREATE OR REPLACE TABLE {STAGING} ({staging})"),
        )?;
        self.stage(copy.from, &columns, &table)?;
        self.local(copy.from, &load_sql(copy, &columns, &fits))?;
        self.local(copy.from, &format!("DROP TABLE {STAGING}"))?;
        Ok(u64::try_from(table.rows.len()).ok())
    }
}

impl Fetch<'_> {
    /// Append `table`'s rows, as text, to the staging table.
    fn stage(
        &self,
        relation: &Relation,
        columns: &[(Column, Mapped)],
        table: &QueryTable,
    ) -> Result<(), PublishError> {
        let local = |source| PublishError::Local {
            relation: relation.quoted(),
            source,
        };
        let mut appender = self.local.appender(STAGING).map_err(local)?;
        for row in &table.rows {
            let texts = row
                .iter()
                .zip(columns)
                .map(|(value, (column, mapped))| {
                    mapped.text(value).map_err(|message| PublishError::Value {
                        relation: relation.quoted(),
                        column: column.name.clone(),
                        message,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            appender
                .append_row(appender_params_from_iter(texts))
                .map_err(local)?;
        }
        appender.flush().map_err(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation() -> Relation {
        Relation {
            database: "DB".to_owned(),
            schema: "silver".to_owned(),
            identifier: "events".to_owned(),
        }
    }

    #[test]
    fn the_statements_of_a_copy() {
        let relation = relation();
        let copy = Copy {
            from: &relation,
            columns: Some(&["created_at", "amount"]),
            order_by: Some("created_at"),
            schema: "_ghforge",
            table: "events",
        };
        let columns = [
            ("CREATED_AT", "TIMESTAMP_NTZ"),
            ("amount", "NUMBER(10,2)"),
            ("N", "NUMBER(38,0)"),
        ]
        .map(|(name, data_type)| {
            (
                Column {
                    name: name.to_owned(),
                    data_type: data_type.to_owned(),
                },
                Mapped::of(data_type),
            )
        });
        insta::assert_snapshot!(
            [
                describe_sql(&copy),
                fetch_sql(&copy, &columns),
                load_sql(&copy, &columns, &[true, true, false]),
            ]
            .join("\n"),
            @r#"
        select created_at, amount from "DB"."silver"."events"
        select "CREATED_AT", cast("amount" as varchar) as "amount", "N" from "DB"."silver"."events" order by created_at
        CREATE TABLE ghforge_snapshot."_ghforge"."events" AS SELECT CAST(c0 AS TIMESTAMP) AS "created_at", CAST(c1 AS DECIMAL(10,2)) AS "amount", CAST(c2 AS HUGEINT) AS "n" FROM ghforge_staging
        "#
        );
    }

    #[test]
    fn only_selects_reach_the_warehouse() {
        for sql in [
            "select 1",
            "  with x as (select 1) select * from x",
            "SELECT 1;",
        ] {
            assert!(check_read_only(sql).is_ok(), "{sql}");
        }
        for sql in [
            "insert into t select 1",
            "select 1; drop table t",
            "create table t as select 1",
            "delete from t",
        ] {
            assert!(check_read_only(sql).is_err(), "{sql}");
        }
    }
}
