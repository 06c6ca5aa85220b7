//! `table`: built under a temporary name, then swapped in; the executor runs these statements
//! in one transaction, so a failing model leaves the previous table intact.

use crate::adapters::RelationType;
use crate::project::nodes::Relation;

use super::{body, quote, with_suffix};

/// Suffix of the relation a table is built under before the swap.
pub const BUILD_SUFFIX: &str = "__ghforge_tmp";

/// Create `relation` as `select_sql`'s result, replacing what exists.
pub fn build(relation: &Relation, select_sql: &str, existing: Option<RelationType>) -> Vec<String> {
    swap_in(
        relation,
        &format!("as (\n{}\n)", body(select_sql)),
        existing,
    )
}

/// Create the temporary table with `definition` (`as (...)`), drop the old relation and rename.
pub fn swap_in(
    relation: &Relation,
    definition: &str,
    existing: Option<RelationType>,
) -> Vec<String> {
    let temporary = with_suffix(relation, BUILD_SUFFIX);
    let mut statements = vec![
        format!("drop table if exists {}", temporary.quoted()),
        format!("create table {} {definition}", temporary.quoted()),
    ];
    if let Some(kind) = existing {
        statements.push(format!(
            "drop {} if exists {}",
            kind.as_sql(),
            relation.quoted()
        ));
    }
    statements.push(format!(
        "alter table {} rename to {}",
        temporary.quoted(),
        quote(&relation.identifier)
    ));
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_built_aside_and_swapped() {
        let relation = Relation {
            database: "db".into(),
            schema: "gold".into(),
            identifier: "counts".into(),
        };
        insta::assert_snapshot!(build(&relation, "select 1 as n", Some(RelationType::View)).join(";\n"), @r#"
        drop table if exists "db"."gold"."counts__ghforge_tmp";
        create table "db"."gold"."counts__ghforge_tmp" as (
        select 1 as n
        );
        drop view if exists "db"."gold"."counts";
        alter table "db"."gold"."counts__ghforge_tmp" rename to "counts"
        "#);
    }
}
