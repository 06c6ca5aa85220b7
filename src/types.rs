//! Types shared across layers, depending on nothing else in the crate: what a query returns
//! and why it failed, as the adapters produce them and templates (`run_query`) read them.

/// A query result: column names and rows of JSON values (templates see it agate-like).
#[derive(Debug, Clone, Default)]
pub struct QueryTable {
    pub column_names: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// A query the warehouse refused, in its own words, with the statement.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub message: String,
    pub sql: String,
}
