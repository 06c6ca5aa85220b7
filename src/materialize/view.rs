//! `view`: replace the view in place; a table of the same name is dropped first.

use crate::adapters::RelationType;
use crate::plan::{Dialect, Purpose, Sql};
use crate::project::nodes::Relation;

use super::body;

pub fn build(
    dialect: &dyn Dialect,
    relation: &Relation,
    sql: &str,
    existing: Option<RelationType>,
) -> Vec<Sql> {
    let target = dialect.relation(relation);
    let mut statements = Vec::new();
    if existing == Some(RelationType::Table) {
        statements.push(Sql::new(
            Purpose::Drop,
            format!("drop table if exists {target}"),
        ));
    }
    statements.push(Sql::new(
        Purpose::Create,
        format!("create or replace view {target} as (\n{}\n)", body(sql)),
    ));
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_over_an_existing_table() {
        let relation = Relation {
            database: "db".into(),
            schema: "silver".into(),
            identifier: "events".into(),
        };
        let plan = build(
            &crate::plan::dialect::DuckDb,
            &relation,
            "select 1 as id;\n",
            Some(RelationType::Table),
        );
        insta::assert_snapshot!(crate::plan::texts(&plan).join(";\n"), @r#"
        drop table if exists "db"."silver"."events";
        create or replace view "db"."silver"."events" as (
        select 1 as id
        )
        "#);
    }
}
