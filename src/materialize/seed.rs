//! Seeds: a CSV loaded with DuckDB's `read_csv` (a bulk COPY-speed read, not row inserts), with
//! `column_types` overriding detected types, swapped in like a table.

use std::path::Path;

use indexmap::IndexMap;

use crate::adapters::RelationType;
use crate::project::nodes::Relation;

use super::table::swap_in;

pub fn build(
    relation: &Relation,
    csv: &Path,
    column_types: &IndexMap<String, String>,
    existing: Option<RelationType>,
) -> Vec<String> {
    let path = csv.to_string_lossy().replace('\'', "''");
    let mut options = vec!["header = true".to_owned(), "auto_detect = true".to_owned()];
    if !column_types.is_empty() {
        let types: Vec<String> = column_types
            .iter()
            .map(|(column, ty)| {
                format!(
                    "'{}': '{}'",
                    column.replace('\'', "''"),
                    ty.replace('\'', "''")
                )
            })
            .collect();
        options.push(format!("types = {{{}}}", types.join(", ")));
    }
    swap_in(
        relation,
        &format!(
            "as select * from read_csv('{path}', {})",
            options.join(", ")
        ),
        existing,
    )
}
