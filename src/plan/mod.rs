//! Pure planning: a node, its compiled SQL and what introspection found ([`Facts`]) become a
//! [`Plan`] of typed steps in the target's [`Dialect`]. The executor only interprets steps, so
//! `ghforge compile`, `run --dry-run` and the snapshot tests see exactly what a run sends.

pub mod dialect;

use std::fmt;

use crate::adapters::{Column, RelationType};

pub use dialect::{Capability, Dialect};

pub use crate::types::body;

/// Why a statement is in a plan; also whether it is DDL, which decides where transactions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A `pre_hook` or `post_hook` of the node.
    Hook,
    /// Drop a relation in the way (a leftover build table, a relation of another kind).
    Drop,
    /// Create the relation, or the table it is built under.
    Create,
    /// Stage new rows in a session-temporary table.
    Stage,
    /// Add or drop columns (`on_schema_change`).
    AlterColumns,
    Insert,
    Delete,
    Merge,
    /// Swap a built table into place.
    Rename,
    /// Drop what the build staged.
    Cleanup,
    /// Keep a test's failing rows (`store_failures`).
    StoreFailures,
    /// Write files (`copy ... to`).
    WriteFiles,
    /// Read a count: rows of a seed or staged model, failures of a test.
    Count,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hook => "hook",
            Self::Drop => "drop",
            Self::Create => "create",
            Self::Stage => "stage",
            Self::AlterColumns => "alter columns",
            Self::Insert => "insert",
            Self::Delete => "delete",
            Self::Merge => "merge",
            Self::Rename => "rename",
            Self::Cleanup => "cleanup",
            Self::StoreFailures => "store failures",
            Self::WriteFiles => "write files",
            Self::Count => "count",
        }
    }

    /// Whether the statement is DDL (committed on its own by warehouses without transactional
    /// DDL). Hooks are user SQL and count as DML: they stay where the user's transaction is.
    pub fn is_ddl(self) -> bool {
        match self {
            Self::Drop
            | Self::Create
            | Self::Stage
            | Self::AlterColumns
            | Self::Rename
            | Self::Cleanup
            | Self::StoreFailures => true,
            Self::Hook
            | Self::Insert
            | Self::Delete
            | Self::Merge
            | Self::WriteFiles
            | Self::Count => false,
        }
    }
}

/// One SQL statement with its purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sql {
    pub purpose: Purpose,
    pub text: String,
}

impl Sql {
    pub fn new(purpose: Purpose, text: impl Into<String>) -> Self {
        Self {
            purpose,
            text: text.into(),
        }
    }
}

/// How an external build treats the files already at its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileReplacement {
    /// Every file not written by this build (a full build).
    All,
    /// None (`incremental_strategy='append'`).
    None,
    /// Only files in the partitions this build wrote (`insert_overwrite` + `partition_by`).
    TouchedPartitions,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Begin,
    Commit,
    /// Run a statement; its reported row count may become the node's `rows_affected`.
    Execute(Sql),
    /// Run a query and keep its first row (counts).
    Query(Sql),
    /// Delete the files at the node's location that the files named by `token` replace.
    DeleteReplacedFiles {
        token: String,
        replacement: FileReplacement,
    },
}

/// What introspection found before planning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// What the node's relation is now, if it exists.
    pub existing: Option<RelationType>,
    /// Whether the model builds on its existing rows (`is_incremental()`).
    pub incremental: bool,
    /// The existing relation's columns (incremental runs).
    pub columns: Vec<Column>,
    /// The columns the model's query returns (incremental runs).
    pub query_columns: Vec<Column>,
}

/// A node's steps, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// `statements` in transactions as the dialect allows (see [`dialect`]): all in one
    /// transaction where DDL is transactional; otherwise DDL in autocommit and each run of two
    /// or more DML statements in a transaction of its own.
    pub fn transact(dialect: &dyn Dialect, statements: Vec<Sql>) -> Vec<Step> {
        if statements.is_empty() {
            return Vec::new();
        }
        if dialect.transactional_ddl() {
            let mut steps = vec![Step::Begin];
            steps.extend(statements.into_iter().map(Step::Execute));
            steps.push(Step::Commit);
            return steps;
        }
        let mut steps = Vec::new();
        let mut run: Vec<Sql> = Vec::new();
        let flush = |run: &mut Vec<Sql>, steps: &mut Vec<Step>| {
            let grouped = run.len() > 1;
            if grouped {
                steps.push(Step::Begin);
            }
            steps.extend(run.drain(..).map(Step::Execute));
            if grouped {
                steps.push(Step::Commit);
            }
        };
        for statement in statements {
            if statement.purpose.is_ddl() {
                flush(&mut run, &mut steps);
                steps.push(Step::Execute(statement));
            } else {
                run.push(statement);
            }
        }
        flush(&mut run, &mut steps);
        steps
    }
}

/// The plan as a SQL file a person reads: each statement after a comment saying its purpose.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            match step {
                Step::Begin => writeln!(f, "begin;")?,
                Step::Commit => writeln!(f, "commit;")?,
                Step::Execute(sql) => writeln!(f, "-- {}\n{};", sql.purpose.as_str(), sql.text)?,
                Step::Query(sql) => {
                    writeln!(f, "-- {} (read)\n{};", sql.purpose.as_str(), sql.text)?;
                }
                Step::DeleteReplacedFiles { token, replacement } => {
                    let which = match replacement {
                        FileReplacement::All => "every file not named `part_{token}*`",
                        FileReplacement::None => "no file (append)",
                        FileReplacement::TouchedPartitions => {
                            "older files in the partitions `part_{token}*` files were written to"
                        }
                    };
                    writeln!(f, "-- storage: delete {}", which.replace("{token}", token))?;
                }
            }
        }
        Ok(())
    }
}

/// The text of each statement (snapshot tests).
pub fn texts(statements: &[Sql]) -> Vec<&str> {
    statements.iter().map(|sql| sql.text.as_str()).collect()
}
