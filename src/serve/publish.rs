//! Publishing a serving snapshot: the served relations (gold by default; a model's
//! `serve: true|false` config, or `+serve` in the project file, chooses) copied with the run's
//! own connection into a new DuckDB file under `<target-path>/serve/`, written completely and
//! then renamed into place, so `ghforge serve` never opens the main database. Beside the served
//! relations a snapshot holds, in schema `_ghforge`: `snapshot` (which run, when, how fresh),
//! `served` (what it serves), `events` (a narrow copy of the events model: the API's minute
//! windows need event times) and `load_ledger` (the loader's ledger, for monitoring).
//! The newest two snapshots are kept.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::adapters::{AdapterError, Session};
use crate::artifacts::manifest::Invocation;
use crate::project::Project;
use crate::project::config::Materialization;
use crate::project::nodes::{NodeKind, Relation};

use super::{SNAPSHOT_EXTENSION, serve_dir, snapshot_file_name};

/// How many snapshots stay under `<target-path>/serve/`.
pub const KEEP_SNAPSHOTS: usize = 2;

/// The catalog name the snapshot file is attached under while it is written.
const ATTACHED: &str = "ghforge_snapshot";

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

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn quote(part: &str) -> String {
    format!("\"{}\"", part.replace('"', "\"\""))
}

/// The relation inside the attached snapshot.
fn in_snapshot(schema: &str, identifier: &str) -> String {
    format!("{ATTACHED}.{}.{}", quote(schema), quote(identifier))
}

/// Publish a snapshot of `project`'s served relations through `session` (a session of the
/// run's own DuckDB database), tagged with `invocation`.
pub fn publish(
    project: &Project,
    session: &mut dyn Session,
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
    session.execute(&format!(
        "ATTACH {} AS {ATTACHED}",
        literal(&partial.display().to_string())
    ))?;
    let written = write_contents(project, session, invocation, command);
    let detached = session.execute(&format!("DETACH {ATTACHED}"));
    let relations = match (written, detached) {
        (Ok(relations), Ok(_)) => relations,
        (Err(err), _) | (Ok(_), Err(err)) => {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(wal_of(&partial));
            return Err(err.into());
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
    session: &mut dyn Session,
    invocation: &Invocation,
    command: &str,
) -> Result<Vec<Relation>, AdapterError> {
    session.execute(&format!("CREATE SCHEMA {ATTACHED}._ghforge"))?;
    session.execute(&format!(
        "CREATE TABLE {} (unique_id varchar, schema_name varchar, table_name varchar)",
        in_snapshot("_ghforge", "served")
    ))?;
    let mut copied = Vec::new();
    for served in served_models(project) {
        let relation = &served.relation;
        if session.relation_type(relation)?.is_none() {
            continue;
        }
        session.execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {ATTACHED}.{}",
            quote(&relation.schema)
        ))?;
        session.execute(&format!(
            "CREATE TABLE {} AS SELECT * FROM {}",
            in_snapshot(&relation.schema, &relation.identifier),
            relation.quoted()
        ))?;
        session.execute(&format!(
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
        Some(events) if has_event_columns(session, events)? => {
            session.execute(&format!(
                "CREATE TABLE {} AS SELECT created_at, type, repo_id, repo_name, actor_id FROM {} ORDER BY created_at",
                in_snapshot("_ghforge", "events"),
                events.quoted()
            ))?;
            format!(
                "(SELECT max(created_at) FROM {})",
                in_snapshot("_ghforge", "events")
            )
        }
        _ => "CAST(NULL AS timestamp)".to_owned(),
    };
    let latest_hour = match ledger_relation(project) {
        Some(ledger) if session.relation_type(&ledger)?.is_some() => {
            session.execute(&format!(
                "CREATE TABLE {} AS SELECT * FROM {} ORDER BY hour",
                in_snapshot("_ghforge", "load_ledger"),
                ledger.quoted()
            ))?;
            format!(
                "(SELECT max(hour) FROM {} WHERE status = 'loaded')",
                in_snapshot("_ghforge", "load_ledger")
            )
        }
        _ => "CAST(NULL AS timestamp)".to_owned(),
    };
    session.execute(&format!(
        "CREATE TABLE {} AS SELECT {} AS invocation_id, {} AS command, CAST({} AS timestamp) AS generated_at, now()::timestamp AS published_at, {latest_event} AS latest_created_at, {latest_hour} AS latest_loaded_hour",
        in_snapshot("_ghforge", "snapshot"),
        literal(&invocation.invocation_id),
        literal(command),
        literal(invocation.generated_at.trim_end_matches('Z')),
    ))?;
    Ok(copied)
}

/// Whether `events` exists with the columns the API's minute windows read.
fn has_event_columns(session: &mut dyn Session, events: &Relation) -> Result<bool, AdapterError> {
    if session.relation_type(events)?.is_none() {
        return Ok(false);
    }
    let columns = session.columns(events)?;
    Ok(EVENT_COLUMNS
        .iter()
        .all(|wanted| columns.iter().any(|c| c.name.eq_ignore_ascii_case(wanted))))
}

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
