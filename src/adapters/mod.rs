//! Warehouses behind one narrow trait: an [`Adapter`] opens one [`Session`] per worker thread;
//! a session executes SQL, queries rows and answers what a relation is. Warehouse quirks stay
//! inside each implementation; a capability one lacks is an [`AdapterError`], never a panic.

pub mod duckdb;
pub mod snowflake;

use std::fmt;

use crate::jinja::objects::QueryTable;
use crate::project::nodes::Relation;

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

/// The SQL dialect of a warehouse, for the few plans whose statements differ (seeds: DuckDB
/// reads the CSV file itself, Snowflake gets the rows as literals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    Snowflake,
}

/// A warehouse connection of one worker thread.
pub trait Session: Send {
    /// The dialect the session speaks.
    fn dialect(&self) -> Dialect;
    /// Run one statement (or several separated by `;`).
    fn execute(&mut self, sql: &str) -> Result<Response, AdapterError>;
    /// Run a query and return its rows.
    fn query(&mut self, sql: &str) -> Result<QueryTable, AdapterError>;
    /// What `relation` is, if it exists.
    fn relation_type(&mut self, relation: &Relation) -> Result<Option<RelationType>, AdapterError>;
    /// The columns of an existing relation, in order.
    fn columns(&mut self, relation: &Relation) -> Result<Vec<Column>, AdapterError>;
    fn begin(&mut self) -> Result<(), AdapterError>;
    fn commit(&mut self) -> Result<(), AdapterError>;
    fn rollback(&mut self) -> Result<(), AdapterError>;
}

/// A warehouse: its dialect and a way to open sessions.
pub trait Adapter: Send + Sync {
    /// `duckdb`, `snowflake`: `target.type` and the dispatch prefix.
    fn type_name(&self) -> &'static str;
    /// Quote an identifier for this warehouse.
    fn quote(&self, identifier: &str) -> String {
        format!("\"{}\"", identifier.replace('"', "\"\""))
    }
    /// A new session for one worker thread.
    fn session(&self) -> Result<Box<dyn Session>, AdapterError>;
}
