//! How each materialization turns compiled SQL into statements. Pure functions: relations,
//! compiled SQL and warehouse facts in, SQL text out, so every plan is snapshot-testable without
//! a database. The executor creates the schemas of a run first (concurrent `create schema` in
//! DuckDB conflict), then runs each node's statements inside one transaction.

pub mod external;
pub mod incremental;
pub mod seed;
pub mod table;
pub mod view;

use crate::project::nodes::Relation;

/// `create schema if not exists` for the relation's schema.
pub fn create_schema(relation: &Relation) -> String {
    let schema = Relation {
        identifier: String::new(),
        ..relation.clone()
    };
    let quoted = schema.quoted();
    // `quoted()` of an empty identifier ends in `.""`; drop it.
    format!(
        "create schema if not exists {}",
        quoted.trim_end_matches(".\"\"")
    )
}

/// The relation with `suffix` appended to its identifier (temporary build targets).
pub fn with_suffix(relation: &Relation, suffix: &str) -> Relation {
    Relation {
        identifier: format!("{}{suffix}", relation.identifier),
        ..relation.clone()
    }
}

/// Compiled SQL without trailing semicolons, ready to be wrapped in `as (...)`.
pub fn body(sql: &str) -> &str {
    sql.trim_end_matches(|c: char| c == ';' || c.is_whitespace())
}

/// Quote one identifier with double quotes.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
