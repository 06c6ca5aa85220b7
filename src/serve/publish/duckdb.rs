//! The DuckDB source of a snapshot: the run's own session, with the snapshot file attached to
//! it, so each copy is one `create table … as select` inside DuckDB and no row leaves the engine.

use crate::adapters::Session;
use crate::project::nodes::Relation;

use super::{Copy, PublishError, Source};

/// A session of the run's own DuckDB database.
pub struct RunSession<'a> {
    session: &'a mut dyn Session,
}

impl<'a> RunSession<'a> {
    pub fn new(session: &'a mut dyn Session) -> Self {
        Self { session }
    }
}

/// `create table <snapshot table> as select <columns> from <relation> [order by …]`.
pub fn copy_sql(copy: &Copy<'_>) -> String {
    let columns = copy
        .columns
        .map_or_else(|| "*".to_owned(), |c| c.join(", "));
    let order = copy
        .order_by
        .map(|o| format!(" ORDER BY {o}"))
        .unwrap_or_default();
    format!(
        "CREATE TABLE {} AS SELECT {columns} FROM {}{order}",
        copy.into_sql(),
        copy.from.quoted()
    )
}

impl Source for RunSession<'_> {
    fn write(&mut self, sql: &str) -> Result<(), PublishError> {
        self.session.execute(sql)?;
        Ok(())
    }

    fn exists(&mut self, relation: &Relation) -> Result<bool, PublishError> {
        Ok(self.session.relation_type(relation)?.is_some())
    }

    fn column_names(&mut self, relation: &Relation) -> Result<Vec<String>, PublishError> {
        Ok(self
            .session
            .columns(relation)?
            .into_iter()
            .map(|c| c.name)
            .collect())
    }

    fn copy(&mut self, copy: &Copy<'_>) -> Result<Option<u64>, PublishError> {
        Ok(self.session.execute(&copy_sql(copy))?.rows_affected)
    }
}
