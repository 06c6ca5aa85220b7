//! Publishing a serving snapshot: the served relations (gold by default; a model's
//! `serve: true|false` config, or `+serve` in the project file, chooses) copied into a new DuckDB
//! file under `<target-path>/serve/`, written completely and then renamed into place, so
//! `ghforge serve` never opens the main database. Beside the served relations a snapshot holds,
//! in schema `_ghforge`: `snapshot` (which run, when, how fresh), `served` (what it serves),
//! `events` (a narrow copy of the events model: the API's minute windows need event times) and
//! `load_ledger` (the loader's ledger, for monitoring). The newest two snapshots are kept.
//!
//! One writer serves both warehouses; a [`Source`] is the one part that differs, how rows reach
//! the file. On DuckDB ([`duckdb::RunSession`]) the snapshot is attached to the run's own session
//! and each copy is a `create table … as select`. On Snowflake ([`snowflake::Fetch`]) the
//! relations are read through the adapter's session with `select` statements only and appended
//! to the snapshot on a local DuckDB connection, with Snowflake's types mapped to DuckDB's
//! ([`types`]). Serving a Snowflake target is therefore serving a local copy made at publish
//! time: every answer is cached per published run by construction, a request never reaches the
//! warehouse, and nothing a request sends can write to it.

pub mod duckdb;
pub mod snowflake;
pub mod types;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::adapters::AdapterError;
use crate::artifacts::manifest::Invocation;
use crate::project::Project;
use crate::project::config::Materialization;
use crate::project::nodes::{NodeKind, Relation};
use crate::types::quote;

use super::{SNAPSHOT_EXTENSION, serve_dir, snapshot_file_name};

/// How many snapshots stay under `<target-path>/serve/`.
pub const KEEP_SNAPSHOTS: usize = 2;

/// The catalog name the snapshot file is attached under while it is written.
pub const ATTACHED: &str = "ghforge_snapshot";

/// Why a snapshot could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the warehouse refused a statement while publishing: {0}")]
    Warehouse(#[from] AdapterError),
    #[error("writing the local snapshot copy of `{relation}` failed: {source}")]
    Local {
        relation: String,
        source: ::duckdb::Error,
    },
    #[error("a value of column `{column}` of `{relation}` cannot be copied: {message}")]
    Value {
        relation: String,
        column: String,
        message: String,
    },
    #[error("publishing would send `{sql}` to the warehouse, which is not a read-only `select`")]
    NotReadOnly { sql: String },
}

impl PublishError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Io { .. } => {
                "check that `<target-path>/serve/` is writable and the disk has room; the run itself succeeded and `ghforge publish` retries the snapshot"
            }
            Self::Warehouse(_) => {
                "the run itself succeeded; check that the target's role may read the served relations (and `bronze.load_ledger`), then `ghforge publish` retries the snapshot"
            }
            Self::Local { .. } => {
                "the run itself succeeded; check the disk under `<target-path>/serve/`; a value that does not fit the DuckDB type it maps to is a bug to report; `ghforge publish` retries the snapshot"
            }
            Self::Value { .. } => {
                "the run itself succeeded; the value is not what the column's Snowflake type promises, so report it; `ghforge publish` retries the snapshot"
            }
            Self::NotReadOnly { .. } => "this is a bug in ghforge; please report it",
        }
    }
}

/// What a published snapshot holds.
#[derive(Debug, Clone)]
pub struct Published {
    pub path: PathBuf,
    pub relations: Vec<Relation>,
}

/// A relation the snapshot copies, with the unique id of the node it comes from.
#[derive(Debug, Clone)]
pub struct Served {
    pub unique_id: String,
    pub relation: Relation,
}

/// One table a snapshot copies from the warehouse: `columns` of `from` (all of them when
/// `None`), in `order_by` order, into `<schema>.<table>` of the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Copy<'a> {
    pub from: &'a Relation,
    pub columns: Option<&'a [&'a str]>,
    pub order_by: Option<&'a str>,
    pub schema: &'a str,
    pub table: &'a str,
}

impl Copy<'_> {
    /// The table inside the attached snapshot.
    pub fn into_sql(&self) -> String {
        in_snapshot(self.schema, self.table)
    }
}

/// How rows reach the snapshot: the one part the DuckDB and Snowflake paths do not share.
pub trait Source {
    /// Run DuckDB `sql` on the connection the snapshot file is attached to as [`ATTACHED`].
    fn write(&mut self, sql: &str) -> Result<(), PublishError>;
    /// Whether `relation` exists in the warehouse.
    fn exists(&mut self, relation: &Relation) -> Result<bool, PublishError>;
    /// The column names of an existing `relation`.
    fn column_names(&mut self, relation: &Relation) -> Result<Vec<String>, PublishError>;
    /// Create and fill the table of `copy` in the snapshot; the rows copied, when known.
    fn copy(&mut self, copy: &Copy<'_>) -> Result<Option<u64>, PublishError>;
}

/// The models a snapshot serves: `serve: true` ones, and without a `serve` config those in
/// schema `gold`. Ephemeral models have no relation to copy.
pub fn served_models(project: &Project) -> Vec<Served> {
    project
        .nodes
        .values()
        .filter(|node| matches!(node.kind, NodeKind::Model | NodeKind::Seed))
        .filter(|node| node.config.enabled)
        .filter(|node| node.config.materialized != Materialization::Ephemeral)
        .filter(|node| match node.config.extra.get("serve") {
            Some(Value::Bool(serve)) => *serve,
            Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
            _ => node.relation.schema == "gold",
        })
        .map(|node| Served {
            unique_id: node.unique_id.as_str().to_owned(),
            relation: node.relation.clone(),
        })
        .collect()
}

/// The events model the API's minute windows read (`ref('events')`), when the project has one.
fn events_relation(project: &Project) -> Option<Relation> {
    project
        .nodes
        .values()
        .find(|node| matches!(node.kind, NodeKind::Model) && node.name == "events")
        .map(|node| node.relation.clone())
}

/// The loader's ledger, next to the `events` source table (`bronze.load_ledger`).
fn ledger_relation(project: &Project) -> Option<Relation> {
    project
        .nodes
        .values()
        .find(|node| matches!(node.kind, NodeKind::Source { .. }) && node.name == "events")
        .map(|node| Relation {
            identifier: "load_ledger".to_owned(),
            ..node.relation.clone()
        })
}

/// A DuckDB string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The relation inside the attached snapshot.
pub fn in_snapshot(schema: &str, identifier: &str) -> String {
    format!("{ATTACHED}.{}.{}", quote(schema), quote(identifier))
}

/// Publish a snapshot of `project`'s served relations, read through `source`, tagged with
/// `invocation`.
pub fn publish(
    project: &Project,
    source: &mut dyn Source,
    target_dir: &Path,
    invocation: &Invocation,
    command: &str,
) -> Result<Published, PublishError> {
    let dir = serve_dir(target_dir);
    std::fs::create_dir_all(&dir).map_err(|source| PublishError::Io {
        action: "create",
        path: dir.clone(),
        source,
    })?;
    let existing = super::list_snapshots(&dir).map_err(|source| PublishError::Io {
        action: "list",
        path: dir.clone(),
        source,
    })?;
    let name = snapshot_file_name(
        super::next_sequence(&existing),
        &invocation.generated_at,
        &invocation.invocation_id,
    );
    let final_path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    remove_if_present(&partial)?;
    source.write(&format!(
        "ATTACH {} AS {ATTACHED}",
        literal(&partial.display().to_string())
    ))?;
    let written = write_contents(project, source, invocation, command);
    let detached = source.write(&format!("DETACH {ATTACHED}"));
    let relations = match (written, detached) {
        (Ok(relations), Ok(())) => relations,
        (Err(err), _) | (Ok(_), Err(err)) => {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(wal_of(&partial));
            return Err(err);
        }
    };
    std::fs::rename(&partial, &final_path).map_err(|source| PublishError::Io {
        action: "rename into place",
        path: final_path.clone(),
        source,
    })?;
    prune(&dir, KEEP_SNAPSHOTS)?;
    Ok(Published {
        path: final_path,
        relations,
    })
}

fn wal_of(path: &Path) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(".wal");
    PathBuf::from(text)
}

fn remove_if_present(path: &Path) -> Result<(), PublishError> {
    for file in [path.to_path_buf(), wal_of(path)] {
        match std::fs::remove_file(&file) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(PublishError::Io {
                    action: "remove",
                    path: file,
                    source: err,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Copy the served relations, the narrow events table, the ledger and the metadata into the
/// attached snapshot. Returns the relations copied.
fn write_contents(
    project: &Project,
    source: &mut dyn Source,
    invocation: &Invocation,
    command: &str,
) -> Result<Vec<Relation>, PublishError> {
    source.write(&format!("CREATE SCHEMA {ATTACHED}._ghforge"))?;
    source.write(&format!(
        "CREATE TABLE {} (unique_id varchar, schema_name varchar, table_name varchar)",
        in_snapshot("_ghforge", "served")
    ))?;
    let mut copied = Vec::new();
    for served in served_models(project) {
        let relation = &served.relation;
        if !source.exists(relation)? {
            continue;
        }
        source.write(&format!(
            "CREATE SCHEMA IF NOT EXISTS {ATTACHED}.{}",
            quote(&relation.schema)
        ))?;
        source.copy(&Copy {
            from: relation,
            columns: None,
            order_by: None,
            schema: &relation.schema,
            table: &relation.identifier,
        })?;
        source.write(&format!(
            "INSERT INTO {} VALUES ({}, {}, {})",
            in_snapshot("_ghforge", "served"),
            literal(&served.unique_id),
            literal(&relation.schema),
            literal(&relation.identifier)
        ))?;
        copied.push(relation.clone());
    }
    let events = events_relation(project);
    let latest_event = match &events {
        Some(events) if has_event_columns(source, events)? => {
            source.copy(&Copy {
                from: events,
                columns: Some(&EVENT_COLUMNS),
                order_by: Some("created_at"),
                schema: "_ghforge",
                table: "events",
            })?;
            format!(
                "(SELECT max(created_at) FROM {})",
                in_snapshot("_ghforge", "events")
            )
        }
        _ => "CAST(NULL AS timestamp)".to_owned(),
    };
    let latest_hour = match ledger_relation(project) {
        Some(ledger) if source.exists(&ledger)? => {
            source.copy(&Copy {
                from: &ledger,
                columns: None,
                order_by: Some("hour"),
                schema: "_ghforge",
                table: "load_ledger",
            })?;
            format!(
                "(SELECT max(hour) FROM {} WHERE status = 'loaded')",
                in_snapshot("_ghforge", "load_ledger")
            )
        }
        _ => "CAST(NULL AS timestamp)".to_owned(),
    };
    source.write(&format!(
        "CREATE TABLE {} AS SELECT {} AS invocation_id, {} AS command, CAST({} AS timestamp) AS generated_at, now()::timestamp AS published_at, {latest_event} AS latest_created_at, {latest_hour} AS latest_loaded_hour",
        in_snapshot("_ghforge", "snapshot"),
        literal(&invocation.invocation_id),
        literal(command),
        literal(invocation.generated_at.trim_end_matches('Z')),
    ))?;
    Ok(copied)
}

/// Whether `events` exists with the columns the API's minute windows read.
fn has_event_columns(source: &mut dyn Source, events: &Relation) -> Result<bool, PublishError> {
    if !source.exists(events)? {
        return Ok(false);
    }
    let columns = source.column_names(events)?;
    Ok(EVENT_COLUMNS
        .iter()
        .all(|wanted| columns.iter().any(|c| c.eq_ignore_ascii_case(wanted))))
}

/// The narrow copy of the events model: what the API's minute windows read.
const EVENT_COLUMNS: [&str; 5] = ["created_at", "type", "repo_id", "repo_name", "actor_id"];

/// Remove all but the newest `keep` snapshots of `dir`.
pub fn prune(dir: &Path, keep: usize) -> Result<(), PublishError> {
    let mut snapshots = super::list_snapshots(dir).map_err(|source| PublishError::Io {
        action: "list",
        path: dir.to_path_buf(),
        source,
    })?;
    snapshots.sort();
    let excess = snapshots.len().saturating_sub(keep);
    for old in snapshots.into_iter().take(excess) {
        remove_if_present(&old)?;
    }
    Ok(())
}

/// Copy the run's `run_results.json` into `<target-path>/history/`, named so that names sort
/// by time; the newest `keep` stay.
pub fn record_history(
    target_dir: &Path,
    invocation: &Invocation,
    keep: usize,
) -> Result<PathBuf, PublishError> {
    let dir = super::history_dir(target_dir);
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
    let existing = super::history_files(&dir).map_err(io("list", &dir))?;
    let name = snapshot_file_name(
        super::next_sequence(&existing),
        &invocation.generated_at,
        &invocation.invocation_id,
    )
    .replace(SNAPSHOT_EXTENSION, ".json");
    let from = target_dir.join("run_results.json");
    let to = dir.join(name);
    std::fs::copy(&from, &to).map_err(io("copy", &from))?;
    let mut entries = super::history_files(&dir).map_err(io("list", &dir))?;
    entries.sort();
    let excess = entries.len().saturating_sub(keep);
    for old in entries.into_iter().take(excess) {
        let _ = std::fs::remove_file(old);
    }
    Ok(to)
}
