//! SQL dialects: what differs between the warehouses when a plan is written. Plans are generated
//! in the target's own SQL; no adapter rewrites statement text afterwards.
//!
//! Transactions, from each warehouse's documented rules:
//! - **DuckDB** runs DDL inside transactions, so a node's whole plan (hooks included) is one
//!   transaction and a failure anywhere leaves the previous relation intact.
//! - **Snowflake** commits the open transaction before and after every DDL statement (CREATE,
//!   DROP, ALTER, ...), so a transaction can only hold DML. A plan is therefore written as DDL
//!   steps in autocommit, ordered so that a failure leaves the previous relation in place (the
//!   new table is built under a temporary name, and the old one is dropped and the new one
//!   renamed only once it is complete), with two or more consecutive DML statements (a
//!   delete+insert, seed batches) grouped in one explicit transaction. A single DML statement
//!   (a MERGE, one insert) is atomic by itself in autocommit and gets no transaction of its own.

use crate::project::nodes::Relation;

/// Something a plan may need that not every warehouse has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Writing a model as Parquet files to a folder or bucket (`materialized='external'`).
    ExternalFiles,
    /// Reading a seed CSV straight from the local file system inside the warehouse.
    LocalFileRead,
}

impl Capability {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ExternalFiles => "writing a model as Parquet files (`materialized='external'`)",
            Self::LocalFileRead => "reading local files",
        }
    }
}

/// The SQL of one warehouse.
pub trait Dialect: Send + Sync {
    /// `duckdb`, `snowflake`.
    fn name(&self) -> &'static str;
    fn supports(&self, capability: Capability) -> bool;
    /// Whether DDL can be part of a transaction that is rolled back as a whole.
    fn transactional_ddl(&self) -> bool;

    /// One identifier, quoted.
    fn quote(&self, identifier: &str) -> String {
        format!("\"{}\"", identifier.replace('"', "\"\""))
    }
    /// A relation, fully qualified and quoted.
    fn relation(&self, relation: &Relation) -> String {
        relation.quoted()
    }
    /// A string literal.
    fn literal(&self, text: &str) -> String;
    /// Rename table `from` to `to` (which is in the same schema).
    fn rename_table(&self, from: &Relation, to: &Relation) -> String;
    /// The session-temporary table an incremental run stages its new rows in.
    fn staging_relation(&self, relation: &Relation) -> Relation;
    /// How statements name a session-temporary table.
    fn temporary_name(&self, relation: &Relation) -> String;
    /// Create (or replace) a session-temporary table as `select_sql`.
    fn create_temporary(&self, relation: &Relation, select_sql: &str) -> String;
}

/// The relation beside `relation` with `suffix` appended to its identifier.
pub fn with_suffix(relation: &Relation, suffix: &str) -> Relation {
    Relation {
        identifier: format!("{}{suffix}", relation.identifier),
        ..relation.clone()
    }
}

const STAGING_SUFFIX: &str = "__ghforge_incr";

/// DuckDB 1.5.
#[derive(Debug, Clone, Copy, Default)]
pub struct DuckDb;

impl Dialect for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }

    fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::ExternalFiles | Capability::LocalFileRead => true,
        }
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn literal(&self, text: &str) -> String {
        format!("'{}'", text.replace('\'', "''"))
    }

    /// DuckDB keeps a renamed table in its schema and rejects a qualified new name.
    fn rename_table(&self, from: &Relation, to: &Relation) -> String {
        format!(
            "alter table {} rename to {}",
            self.relation(from),
            self.quote(&to.identifier)
        )
    }

    fn staging_relation(&self, relation: &Relation) -> Relation {
        Relation {
            database: "temp".to_owned(),
            schema: "main".to_owned(),
            identifier: format!("{}{STAGING_SUFFIX}", relation.identifier),
        }
    }

    /// Temporary tables are found by their bare name (they live in the `temp` catalog).
    fn temporary_name(&self, relation: &Relation) -> String {
        self.quote(&relation.identifier)
    }

    fn create_temporary(&self, relation: &Relation, select_sql: &str) -> String {
        format!(
            "create or replace temp table {} as (\n{}\n)",
            self.temporary_name(relation),
            super::body(select_sql)
        )
    }
}

/// Snowflake.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snowflake;

impl Dialect for Snowflake {
    fn name(&self) -> &'static str {
        "snowflake"
    }

    fn supports(&self, capability: Capability) -> bool {
        match capability {
            Capability::ExternalFiles | Capability::LocalFileRead => false,
        }
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    /// Snowflake reads `\` inside '...' as an escape, so it is doubled too.
    fn literal(&self, text: &str) -> String {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
    }

    /// An unqualified new name would move the table into the session's current schema.
    fn rename_table(&self, from: &Relation, to: &Relation) -> String {
        format!(
            "alter table {} rename to {}",
            self.relation(from),
            self.relation(to)
        )
    }

    /// Temporary tables live in a real schema on Snowflake: the target's own.
    fn staging_relation(&self, relation: &Relation) -> Relation {
        with_suffix(relation, STAGING_SUFFIX)
    }

    fn temporary_name(&self, relation: &Relation) -> String {
        self.relation(relation)
    }

    fn create_temporary(&self, relation: &Relation, select_sql: &str) -> String {
        format!(
            "create or replace temporary table {} as (\n{}\n)",
            self.temporary_name(relation),
            super::body(select_sql)
        )
    }
}

/// The dialect of a `target.type`.
pub fn of(type_name: &str) -> &'static dyn Dialect {
    match type_name {
        "snowflake" => &Snowflake,
        _ => &DuckDb,
    }
}
