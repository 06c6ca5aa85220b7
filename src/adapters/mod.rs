//! Warehouses behind one narrow trait: an [`Adapter`] opens one [`Session`] per worker thread;
//! a session executes SQL, queries rows and answers what a relation (or a query) is. The SQL a
//! session runs is written in the warehouse's own dialect by the planner (`crate::plan`);
//! sessions send it as written and keep only protocol quirks. Every session's statements reach
//! the debug log through [`logged`].

pub mod duckdb;
pub mod snowflake;

use std::fmt;

use crate::project::nodes::Relation;
use crate::types::QueryTable;

/// What kind of object a relation is in the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationType {
    Table,
    View,
}

impl RelationType {
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::View => "view",
        }
    }
}

/// A column of an existing relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub data_type: String,
}

/// What the warehouse said about a statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// Rows the last statement changed, when the warehouse reports it.
    pub rows_affected: Option<u64>,
    pub message: String,
}

/// What kind of warehouse error happened, where the kind changes what the user should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterErrorKind {
    /// Another process holds the database.
    Locked,
    /// Anything else the warehouse reported.
    Other,
}

/// A warehouse error, with the statement that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterError {
    pub kind: AdapterErrorKind,
    pub message: String,
    pub sql: Option<String>,
}

impl AdapterError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            kind: AdapterErrorKind::Other,
            message: message.into(),
            sql: None,
        }
    }
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AdapterError {}

/// A warehouse connection of one worker thread.
pub trait Session: Send {
    /// Run one statement (or several separated by `;`).
    fn execute(&mut self, sql: &str) -> Result<Response, AdapterError>;
    /// Run a query and return its rows.
    fn query(&mut self, sql: &str) -> Result<QueryTable, AdapterError>;
    /// What `relation` is, if it exists.
    fn relation_type(&mut self, relation: &Relation) -> Result<Option<RelationType>, AdapterError>;
    /// The columns of an existing relation, in order.
    fn columns(&mut self, relation: &Relation) -> Result<Vec<Column>, AdapterError>;
    /// The columns `select_sql` returns, with their types, without running it to completion.
    fn query_columns(&mut self, select_sql: &str) -> Result<Vec<Column>, AdapterError>;
    fn begin(&mut self) -> Result<(), AdapterError>;
    fn commit(&mut self) -> Result<(), AdapterError>;
    fn rollback(&mut self) -> Result<(), AdapterError>;
}

/// A warehouse: its dialect and a way to open sessions.
pub trait Adapter: Send + Sync {
    /// `duckdb`, `snowflake`: `target.type` and the dispatch prefix.
    fn type_name(&self) -> &'static str;
    /// A new session for one worker thread.
    fn session(&self) -> Result<Box<dyn Session>, AdapterError>;
}

/// `session`, writing each statement it runs to the debug log (`tracing` target `ghforge::sql`):
/// the text, how long it took, the rows it changed or returned, or its error.
pub fn logged(session: Box<dyn Session>) -> Box<dyn Session> {
    Box::new(Logged(session))
}

struct Logged(Box<dyn Session>);

fn log_statement<T>(
    sql: &str,
    started: std::time::Instant,
    result: &Result<T, AdapterError>,
    rows: impl Fn(&T) -> Option<u64>,
) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(value) => tracing::debug!(
            target: "ghforge::sql",
            elapsed_ms = format_args!("{elapsed_ms:.1}"),
            rows = rows(value),
            "{sql}"
        ),
        Err(err) => tracing::debug!(
            target: "ghforge::sql",
            elapsed_ms = format_args!("{elapsed_ms:.1}"),
            error = %err.message,
            "{sql}"
        ),
    }
}

impl Session for Logged {
    fn execute(&mut self, sql: &str) -> Result<Response, AdapterError> {
        let started = std::time::Instant::now();
        let result = self.0.execute(sql);
        log_statement(sql, started, &result, |r| r.rows_affected);
        result
    }

    fn query(&mut self, sql: &str) -> Result<QueryTable, AdapterError> {
        let started = std::time::Instant::now();
        let result = self.0.query(sql);
        log_statement(sql, started, &result, |t| u64::try_from(t.rows.len()).ok());
        result
    }

    fn relation_type(&mut self, relation: &Relation) -> Result<Option<RelationType>, AdapterError> {
        tracing::debug!(target: "ghforge::sql", relation = %relation.quoted(), "introspect relation type");
        self.0.relation_type(relation)
    }

    fn columns(&mut self, relation: &Relation) -> Result<Vec<Column>, AdapterError> {
        tracing::debug!(target: "ghforge::sql", relation = %relation.quoted(), "introspect columns");
        self.0.columns(relation)
    }

    fn query_columns(&mut self, select_sql: &str) -> Result<Vec<Column>, AdapterError> {
        tracing::debug!(target: "ghforge::sql", "introspect the query's columns");
        self.0.query_columns(select_sql)
    }

    fn begin(&mut self) -> Result<(), AdapterError> {
        let started = std::time::Instant::now();
        let result = self.0.begin();
        log_statement("begin", started, &result, |()| None);
        result
    }

    fn commit(&mut self) -> Result<(), AdapterError> {
        let started = std::time::Instant::now();
        let result = self.0.commit();
        log_statement("commit", started, &result, |()| None);
        result
    }

    fn rollback(&mut self) -> Result<(), AdapterError> {
        let started = std::time::Instant::now();
        let result = self.0.rollback();
        log_statement("rollback", started, &result, |()| None);
        result
    }
}
