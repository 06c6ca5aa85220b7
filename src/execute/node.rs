//! Executing one model or seed: look at what exists, compile (with the real
//! `is_incremental()`), plan statements with its materialization, run them in one transaction
//! between the pre- and post-hooks.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use crate::adapters::{AdapterError, Dialect, RelationType, Session};
use crate::compile::Compiler;
use crate::jinja::QueryRunner;
use crate::jinja::objects::QueryTable;
use crate::materialize::external::{self, External};
use crate::materialize::{incremental, seed, table, view};
use crate::project::Project;
use crate::project::config::{IncrementalStrategy, Materialization};
use crate::project::nodes::{Node, NodeKind};
use crate::schema_tests::{self, TestOutcome};
use crate::storage::Location;

use super::{NodeResult, NodeStatus, RunOptions, Timing};

/// A worker's session, shared with `run_query` in the templates it compiles.
pub type SharedSession = Arc<Mutex<Box<dyn Session>>>;

#[derive(Debug)]
struct SessionRunner(SharedSessionDebug);

struct SharedSessionDebug(SharedSession);

impl std::fmt::Debug for SharedSessionDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}

impl QueryRunner for SessionRunner {
    fn query(&self, sql: &str) -> Result<QueryTable, String> {
        let mut session = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        session.query(sql).map_err(|err| err.message)
    }
}

/// `run_query`/`statement` in templates run on the worker's own session.
fn runner_of(session: &SharedSession) -> Arc<dyn QueryRunner> {
    Arc::new(SessionRunner(SharedSessionDebug(session.clone())))
}

/// `sql table model silver.events`, as the log lines say it.
pub fn describe(node: &Node) -> String {
    let what = match (&node.kind, node.config.materialized) {
        (NodeKind::Seed, _) => "seed file".to_owned(),
        (NodeKind::Test { .. }, _) => return format!("test {}", node.name),
        (_, materialized) => format!("sql {materialized} model"),
    };
    format!(
        "{what} {}.{}",
        node.relation.schema, node.relation.identifier
    )
}

pub fn skipped(node: &Node, message: &str) -> NodeResult {
    NodeResult {
        unique_id: node.unique_id.clone(),
        status: NodeStatus::Skipped,
        message: message.to_owned(),
        timing: Vec::new(),
        execution_time: std::time::Duration::ZERO,
        rows_affected: None,
        failures: None,
        adapter_message: None,
        compiled_code: None,
        thread: 0,
    }
}

pub fn failed_to_start(node: &Node, thread: usize, message: &str) -> NodeResult {
    NodeResult {
        status: NodeStatus::Error,
        thread,
        ..skipped(node, message)
    }
}

/// What one node's execution produced, before timing is attached.
struct Outcome {
    status: NodeStatus,
    message: String,
    compiled: Option<String>,
    rows_affected: Option<u64>,
    failures: Option<u64>,
}

pub fn run(
    project: &Project,
    node: &Node,
    compiler: &Compiler<'_>,
    session: &SharedSession,
    options: RunOptions,
    thread: usize,
) -> NodeResult {
    let started = Instant::now();
    let started_at = SystemTime::now();
    let mut timing = Vec::new();
    let outcome = match node.kind {
        NodeKind::Test { .. } => test(project, node, compiler, session, &mut timing),
        _ => execute(project, node, compiler, session, options, &mut timing),
    };
    let outcome = outcome.unwrap_or_else(|(message, compiled)| Outcome {
        status: NodeStatus::Error,
        message,
        compiled,
        rows_affected: None,
        failures: None,
    });
    let status = outcome.status;
    if timing.is_empty() {
        timing.push(Timing::since("execute", started_at));
    }
    NodeResult {
        unique_id: node.unique_id.clone(),
        status,
        message: outcome.message,
        timing,
        execution_time: started.elapsed(),
        rows_affected: outcome.rows_affected,
        failures: outcome.failures,
        adapter_message: (status != NodeStatus::Error).then(|| "OK".to_owned()),
        compiled_code: outcome.compiled,
        thread,
    }
}

type Failure = (String, Option<String>);

fn execute(
    project: &Project,
    node: &Node,
    compiler: &Compiler<'_>,
    session: &SharedSession,
    options: RunOptions,
    timing: &mut Vec<Timing>,
) -> Result<Outcome, Failure> {
    let db_error =
        |err: AdapterError| -> Failure { (format!("Database error: {}", err.message), None) };
    let existing = lock(session)
        .relation_type(&node.relation)
        .map_err(db_error)?;
    let full_refresh = node.config.full_refresh.unwrap_or(options.full_refresh);
    let is_incremental = !full_refresh
        && match node.config.materialized {
            Materialization::Incremental => existing == Some(RelationType::Table),
            // An external model with a strategy builds on the files its view reads.
            Materialization::External => {
                node.config.incremental_strategy.is_some() && existing == Some(RelationType::View)
            }
            _ => false,
        };

    let compile_started = SystemTime::now();
    let runner = runner_of(session);
    let compiled = match node.kind {
        NodeKind::Seed => None,
        _ => Some(
            compiler
                .compile_node(node, is_incremental, Some(runner.clone()))
                .map_err(|d| (format!("Compilation error: {d}"), None))?
                .sql,
        ),
    };
    let hooks = |texts: &[String]| -> Result<Vec<String>, Failure> {
        texts
            .iter()
            .map(|hook| {
                compiler
                    .render(node, hook, is_incremental, Some(runner.clone()))
                    .map(|c| c.sql)
                    .map_err(|d| {
                        (
                            format!("Compilation error in a hook: {d}"),
                            compiled.clone(),
                        )
                    })
            })
            .collect()
    };
    let pre_hooks = hooks(&node.config.pre_hook)?;
    let post_hooks = hooks(&node.config.post_hook)?;
    timing.push(Timing::since("compile", compile_started));

    let execute_started = SystemTime::now();
    let fail = |err: AdapterError| -> Failure {
        (format!("Database error: {}", err.message), compiled.clone())
    };
    let mut session = lock(session);
    let plan = match (&node.kind, node.config.materialized, compiled.as_deref()) {
        (NodeKind::Seed, _, _) => {
            let csv = project.file.root.join(&node.original_file_path);
            match session.dialect() {
                Dialect::DuckDb => {
                    seed::build(&node.relation, &csv, &node.config.column_types, existing)
                }
                // Snowflake cannot read a local file: the rows travel in the statements.
                Dialect::Snowflake => {
                    let text = std::fs::read_to_string(&csv)
                        .map_err(|err| (format!("cannot read `{}`: {err}", csv.display()), None))?;
                    seed::build_from_rows(
                        &node.relation,
                        &text,
                        &node.config.column_types,
                        existing,
                    )
                    .map_err(|err| {
                        (
                            format!("Seed error in `{}`: {err}", node.original_file_path),
                            None,
                        )
                    })?
                }
            }
        }
        (_, Materialization::View, Some(sql)) => view::build(&node.relation, sql, existing),
        (_, Materialization::Incremental, Some(sql)) if is_incremental => {
            for statement in incremental::stage(&node.relation, sql) {
                session.execute(&statement).map_err(fail)?;
            }
            let target = session.columns(&node.relation).map_err(fail)?;
            let staged = session
                .columns(&incremental::staging_relation(&node.relation))
                .map_err(fail)?;
            incremental::apply(&node.relation, &node.config, &target, &staged)
                .map_err(|err| (format!("Incremental error: {err}"), compiled.clone()))?
        }
        (_, Materialization::Table | Materialization::Incremental, Some(sql)) => {
            table::build(&node.relation, sql, existing)
        }
        (_, Materialization::External, Some(sql)) => {
            let rows = build_external(
                project,
                node,
                sql,
                is_incremental,
                &mut **session,
                (pre_hooks, post_hooks),
            )
            .map_err(|message| (message, compiled.clone()))?;
            timing.push(Timing::since("execute", execute_started));
            return Ok(Outcome {
                status: NodeStatus::Success,
                message: "OK".to_owned(),
                compiled,
                rows_affected: Some(rows),
                failures: None,
            });
        }
        (_, other, _) => {
            return Err((
                format!("materialization `{other}` is not supported by `ghforge run` yet"),
                compiled.clone(),
            ));
        }
    };
    // Hooks run inside the node's transaction, as dbt runs them by default.
    let statements: Vec<String> = pre_hooks
        .into_iter()
        .chain(plan)
        .chain(post_hooks)
        .collect();
    let mut rows_affected = in_transaction(&mut **session, &statements).map_err(fail)?;
    if matches!(node.kind, NodeKind::Seed) {
        let count = session
            .query(&format!("select count(*) from {}", node.relation.quoted()))
            .map_err(fail)?;
        rows_affected = count
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(serde_json::Value::as_u64);
    }
    timing.push(Timing::since("execute", execute_started));
    Ok(Outcome {
        status: NodeStatus::Success,
        message: "OK".to_owned(),
        compiled,
        rows_affected,
        failures: None,
    })
}

/// Run a data test: compile it, keep its failing rows when `store_failures` is on, count them
/// and judge the count by the thresholds and severity.
fn test(
    project: &Project,
    node: &Node,
    compiler: &Compiler<'_>,
    session: &SharedSession,
    timing: &mut Vec<Timing>,
) -> Result<Outcome, Failure> {
    let compile_started = SystemTime::now();
    let runner = runner_of(session);
    let sql = compiler
        .compile_node(node, false, Some(runner))
        .map_err(|d| (format!("Compilation error: {d}"), None))?
        .sql;
    timing.push(Timing::since("compile", compile_started));
    let execute_started = SystemTime::now();
    let fail = |err: AdapterError| -> Failure {
        (
            format!("Database error: {}", err.message),
            Some(sql.clone()),
        )
    };
    let mut session = lock(session);
    let stored = node.config.store_failures.unwrap_or(false);
    if stored {
        for statement in schema_tests::store_failures_sql(&node.relation, &sql) {
            session.execute(&statement).map_err(fail)?;
        }
    }
    let counts = session
        .query(&schema_tests::counting_sql(&sql, &node.config))
        .map_err(fail)?;
    timing.push(Timing::since("execute", execute_started));
    let row = counts.rows.first().cloned().unwrap_or_default();
    let failures = row.first().and_then(serde_json::Value::as_u64).unwrap_or(0);
    let flag = |i: usize| {
        row.get(i)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let outcome = schema_tests::outcome(&node.config, flag(1), flag(2));
    let compiled_path = std::path::Path::new(&project.file.target_path)
        .join(crate::compile::compiled_path(project, node));
    let message = match outcome {
        TestOutcome::Pass => "PASS".to_owned(),
        TestOutcome::Warn | TestOutcome::Fail => {
            let failing = outcome == TestOutcome::Fail;
            let mut message = format!(
                "Got {failures} result{}, configured to {} if {}; compiled SQL: {}",
                if failures == 1 { "" } else { "s" },
                if failing { "fail" } else { "warn" },
                if failing {
                    &node.config.error_if
                } else {
                    &node.config.warn_if
                },
                compiled_path.display()
            );
            if stored {
                message.push_str(&format!(
                    "; failing rows: select * from {}",
                    node.relation.quoted()
                ));
            }
            message
        }
    };
    Ok(Outcome {
        status: match outcome {
            TestOutcome::Pass => NodeStatus::Pass,
            TestOutcome::Warn => NodeStatus::Warn,
            TestOutcome::Fail => NodeStatus::Fail,
        },
        message,
        compiled: Some(sql),
        rows_affected: None,
        failures: Some(failures),
    })
}

/// Build an external model: stage its rows, write them as files named by a fresh token, delete
/// the files they replace (all older ones, or on an incremental run only those of the touched
/// partitions), then point the view at the location. Returns the rows written.
fn build_external(
    project: &Project,
    node: &Node,
    sql: &str,
    is_incremental: bool,
    session: &mut dyn Session,
    (pre_hooks, post_hooks): (Vec<String>, Vec<String>),
) -> Result<u64, String> {
    let setting = |key: &str| node.config.extra.get(key);
    let location = match setting("location").and_then(serde_json::Value::as_str) {
        Some(location) => location.to_owned(),
        None => format!(
            "{}/external/{}/{}",
            project.file.target_path, node.relation.schema, node.relation.identifier
        ),
    };
    let partition_by: Vec<String> = match setting("partition_by") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(column)) => vec![column.clone()],
        Some(serde_json::Value::Array(columns)) => columns
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
        Some(other) => {
            return Err(format!(
                "Compilation error: `partition_by` takes a column or a list of columns, got `{other}`"
            ));
        }
    };
    let mode = match (is_incremental, node.config.incremental_strategy) {
        (false, _) => external::Mode::Full,
        (true, Some(IncrementalStrategy::Append)) => external::Mode::Append,
        (true, Some(IncrementalStrategy::InsertOverwrite)) if !partition_by.is_empty() => {
            external::Mode::OverwritePartitions
        }
        (true, strategy) => {
            return Err(format!(
                "Compilation error: an incremental external model takes `incremental_strategy='append'`, or `'insert_overwrite'` with `partition_by` (got `{}`)",
                strategy.map_or("none", IncrementalStrategy::as_str)
            ));
        }
    };
    let place = Location::parse(&location, &project.file.root)
        .map_err(|err| format!("Compilation error: `location`: {err}"))?;
    if let Location::Local(folder) = &place {
        std::fs::create_dir_all(folder)
            .map_err(|err| format!("cannot create `{}`: {err}", folder.display()))?;
    }
    let storage = place
        .open(project.target.s3.as_ref())
        .map_err(|err| format!("Storage error: {err}"))?;
    let plan = External {
        url: storage.url("").trim_end_matches('/').to_owned(),
        partition_by,
    };
    let token = chrono::Utc::now().format("%Y%m%dT%H%M%S%6f").to_string();
    let db = |err: AdapterError| format!("Database error: {}", err.message);
    for statement in pre_hooks.iter().chain([&External::stage(sql)]) {
        session.execute(statement).map_err(db)?;
    }
    let rows = session
        .query(&format!("select count(*) from {}", external::STAGED))
        .map_err(db)?
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    session.execute(&plan.write(&token)).map_err(db)?;
    let keys: Vec<String> = storage
        .list("")
        .map_err(|err| format!("Storage error: {err}"))?
        .into_iter()
        .map(|object| object.key)
        .collect();
    storage
        .delete(&plan.replaced(&keys, &token, mode))
        .map_err(|err| format!("Storage error: {err}"))?;
    let mut statements = vec![plan.view(&node.relation)];
    statements.extend(post_hooks);
    statements.push(format!("drop table if exists {}", external::STAGED));
    in_transaction(session, &statements).map_err(db)?;
    Ok(rows)
}

fn lock(session: &SharedSession) -> std::sync::MutexGuard<'_, Box<dyn Session>> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Run `statements` in one transaction; on error roll back so nothing changes. Returns the
/// largest row count a statement reported (the build or insert).
fn in_transaction(
    session: &mut dyn Session,
    statements: &[String],
) -> Result<Option<u64>, AdapterError> {
    session.begin()?;
    let mut rows = None;
    for statement in statements {
        match session.execute(statement) {
            Ok(response) => rows = rows.max(response.rows_affected),
            Err(err) => {
                let _ = session.rollback();
                return Err(err);
            }
        }
    }
    session.commit()?;
    Ok(rows)
}
