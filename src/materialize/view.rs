//! `view`: replace the view in place; a table of the same name is dropped first.

use crate::adapters::RelationType;
use crate::project::nodes::Relation;

use super::body;

pub fn build(relation: &Relation, sql: &str, existing: Option<RelationType>) -> Vec<String> {
    let mut statements = Vec::new();
    if existing == Some(RelationType::Table) {
        statements.push(format!("drop table if exists {}", relation.quoted()));
    }
    statements.push(format!(
        "create or replace view {} as (\n{}\n)",
        relation.quoted(),
        body(sql)
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
        insta::assert_snapshot!(build(&relation, "select 1 as id;\n", Some(RelationType::Table)).join(";\n"), @r#"
        drop table if exists "db"."silver"."events";
        create or replace view "db"."silver"."events" as (
        select 1 as id
        )
        "#);
    }
}
