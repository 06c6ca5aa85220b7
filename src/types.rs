//! What layers share, depending on nothing else in the crate: what a query returns and why it
//! failed (the adapters produce them, templates' `run_query` reads them), and the two SQL text
//! rules every layer that writes SQL follows.

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

/// `sql` without its trailing semicolons and whitespace, to nest it in another statement.
pub fn body(sql: &str) -> &str {
    sql.trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

/// A double-quoted identifier, as DuckDB and Snowflake both read it.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
