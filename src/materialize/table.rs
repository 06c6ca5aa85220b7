//! `table`: built under a temporary name, then swapped in; the executor runs these statements
//! in one transaction, so a failing model leaves the previous table intact.

use crate::adapters::RelationType;
use crate::plan::{Dialect, Purpose, Sql};
use crate::project::nodes::Relation;

use super::{body, with_suffix};

/// Suffix of the relation a table is built under before the swap.
pub const BUILD_SUFFIX: &str = "__ghforge_tmp";

/// Create `relation` as `select_sql`'s result, replacing what exists.
pub fn build(
    dialect: &dyn Dialect,
    relation: &Relation,
    select_sql: &str,
    existing: Option<RelationType>,
) -> Vec<Sql> {
    swap_in(
        dialect,
        relation,
        &format!("as (\n{}\n)", body(select_sql)),
        existing,
    )
}

/// Create the temporary table with `definition` (`as (...)`), drop the old relation and rename.
pub fn swap_in(
    dialect: &dyn Dialect,
    relation: &Relation,
    definition: &str,
    existing: Option<RelationType>,
) -> Vec<Sql> {
    let temporary = with_suffix(relation, BUILD_SUFFIX);
    let built = dialect.relation(&temporary);
    let mut statements = vec![
        Sql::new(Purpose::Drop, format!("drop table if exists {built}")),
        Sql::new(
            Purpose::Create,
            format!("create table {built} {definition}"),
        ),
    ];
    if let Some(kind) = existing {
        statements.push(Sql::new(
            Purpose::Drop,
            format!(
                "drop {} if exists {}",
                kind.as_sql(),
                dialect.relation(relation)
            ),
        ));
    }
    statements.push(Sql::new(
        Purpose::Rename,
        dialect.rename_table(&temporary, relation),
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
        let plan = build(
            &crate::plan::dialect::DuckDb,
            &relation,
            "select 1 as n",
            Some(RelationType::View),
        );
        insta::assert_snapshot!(crate::plan::texts(&plan).join(";\n"), @r#"
        drop table if exists "db"."gold"."counts__ghforge_tmp";
        create table "db"."gold"."counts__ghforge_tmp" as (
        select 1 as n
        );
        drop view if exists "db"."gold"."counts";
        alter table "db"."gold"."counts__ghforge_tmp" rename to "counts"
        "#);
    }
}
