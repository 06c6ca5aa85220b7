//! Executing one node in two phases. [`prepare`] looks at what exists, compiles (with the real
//! `is_incremental()`), asks what the new rows look like when it needs to, and plans; it only
//! reads, so `--dry-run` stops there. [`interpret`] then runs the plan's steps, rolling back an
//! open transaction on error.

use std::sync::{Arc, Mutex, PoisonError};

use crate::adapters::{AdapterError, RelationType, Session};
use crate::compile::Compiler;
use crate::jinja::QueryRunner;
use crate::materialize::external::External;
use crate::materialize::{NodeWork, external_settings, node_plan};
use crate::plan::{Dialect, Facts, Plan, Step};
use crate::project::Project;
use crate::project::config::Materialization;
use crate::project::nodes::{Node, NodeKind};
use crate::schema_tests::{self, TestOutcome};
use crate::storage::{Location, Storage, StorageError};
use crate::types::{QueryError, QueryTable};

use super::error::NodeError;
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
    fn query(&self, sql: &str) -> Result<QueryTable, QueryError> {
        let mut session = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        session.query(sql).map_err(|err| QueryError {
            message: err.message,
            sql: sql.to_owned(),
        })
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
        plan: None,
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
    plan: Option<Plan>,
    rows_affected: Option<u64>,
    failures: Option<u64>,
}

/// A failed node: why, with the compiled SQL and plan when it got that far.
struct Failure {
    error: NodeError,
    compiled: Option<String>,
    plan: Option<Plan>,
}

impl Failure {
    fn new(error: impl Into<NodeError>, compiled: Option<String>) -> Self {
        Self {
            error: error.into(),
            compiled,
            plan: None,
        }
    }
}

/// The context every node of a run shares.
#[derive(Clone, Copy)]
pub struct NodeContext<'a> {
    pub project: &'a Project,
    pub compiler: &'a Compiler<'a>,
    pub dialect: &'a dyn Dialect,
    pub options: RunOptions,
}

pub fn run(
    context: NodeContext<'_>,
    node: &Node,
    session: &SharedSession,
    thread: usize,
) -> NodeResult {
    let started_at = crate::clock::system_now();
    let mut timing = Vec::new();
    let outcome = execute(context, node, session, &mut timing).unwrap_or_else(|failure| Outcome {
        status: NodeStatus::Error,
        message: failure.error.to_string(),
        compiled: failure.compiled,
        plan: failure.plan,
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
        execution_time: crate::clock::system_now()
            .duration_since(started_at)
            .unwrap_or_default(),
        rows_affected: outcome.rows_affected,
        failures: outcome.failures,
        adapter_message: (status != NodeStatus::Error).then(|| "OK".to_owned()),
        compiled_code: outcome.compiled,
        plan: outcome.plan,
        thread,
    }
}

/// A node ready to run: its plan, the SQL it was compiled to, and where an external model's
/// files go.
pub struct Prepared {
    pub plan: Plan,
    pub compiled: Option<String>,
    files: Option<(Location, Box<dyn Storage>)>,
}

/// Introspect, compile and plan `node`. Reads the warehouse (and templates' `run_query` may),
/// never writes to it.
fn prepare(
    context: NodeContext<'_>,
    node: &Node,
    session: &SharedSession,
    timing: &mut Vec<Timing>,
) -> Result<Prepared, Failure> {
    let NodeContext {
        project,
        compiler,
        dialect,
        options,
    } = context;
    let db_error = |err: AdapterError| Failure::new(err, None);
    let compile_started = crate::clock::system_now();
    let runner = runner_of(session);
    if matches!(node.kind, NodeKind::Test { .. }) {
        let sql = compiler
            .compile_node(node, false, Some(runner))
            .map_err(|d| Failure::new(NodeError::Compile(d), None))?
            .sql;
        timing.push(Timing::since("compile", compile_started));
        let plan = node_plan(
            node,
            NodeWork::Test { sql: &sql },
            &Facts::default(),
            dialect,
        )
        .map_err(|err| Failure::new(err, Some(sql.clone())))?;
        return Ok(Prepared {
            plan,
            compiled: Some(sql),
            files: None,
        });
    }
    let existing = lock(session)
        .relation_type(&node.relation)
        .map_err(db_error)?;
    let full_refresh = node.config.full_refresh.unwrap_or(options.full_refresh);
    let incremental = !full_refresh
        && match node.config.materialized {
            Materialization::Incremental => existing == Some(RelationType::Table),
            // An external model with a strategy builds on the files its view reads.
            Materialization::External => {
                node.config.incremental_strategy.is_some() && existing == Some(RelationType::View)
            }
            _ => false,
        };
    let mut facts = Facts {
        existing,
        incremental,
        ..Facts::default()
    };
    if matches!(node.kind, NodeKind::Seed) {
        let csv = project.file.root.join(&node.original_file_path);
        // A warehouse that cannot read the file gets its rows in the statements.
        let text = if dialect.supports(crate::plan::Capability::LocalFileRead) {
            None
        } else {
            Some(std::fs::read_to_string(&csv).map_err(|err| {
                let error = NodeError::Io {
                    action: "read",
                    path: csv.clone(),
                    source: err,
                };
                Failure::new(error, None)
            })?)
        };
        let work = NodeWork::Seed {
            csv: &csv,
            text: text.as_deref(),
        };
        let plan = node_plan(node, work, &facts, dialect).map_err(|err| Failure::new(err, None))?;
        return Ok(Prepared {
            plan,
            compiled: None,
            files: None,
        });
    }
    let sql = compiler
        .compile_node(node, incremental, Some(runner.clone()))
        .map_err(|d| Failure::new(NodeError::Compile(d), None))?
        .sql;
    let compiled = Some(sql.clone());
    let hooks = |texts: &[String]| -> Result<Vec<String>, Failure> {
        texts
            .iter()
            .map(|hook| {
                compiler
                    .render(node, hook, incremental, Some(runner.clone()))
                    .map(|c| c.sql)
                    .map_err(|d| Failure::new(NodeError::CompileHook(d), compiled.clone()))
            })
            .collect()
    };
    let pre_hooks = hooks(&node.config.pre_hook)?;
    let post_hooks = hooks(&node.config.post_hook)?;
    timing.push(Timing::since("compile", compile_started));
    let fail = |error: NodeError| Failure::new(error, compiled.clone());
    if incremental && node.config.materialized == Materialization::Incremental {
        let mut session = lock(session);
        let db = |err: AdapterError| fail(err.into());
        facts.columns = session.columns(&node.relation).map_err(db)?;
        facts.query_columns = session.query_columns(&sql).map_err(db)?;
    }
    let mut files = None;
    let mut external = None;
    if node.config.materialized == Materialization::External {
        let (location, partition_by) =
            external_settings(node, &project.file.target_path).map_err(|err| fail(err.into()))?;
        let place = Location::parse(&location, &project.file.root)
            .map_err(|err| fail(NodeError::Location(err)))?;
        let storage = place
            .open(project.target.s3.as_ref())
            .map_err(|err| fail(err.into()))?;
        external = Some(External {
            url: storage.url("").trim_end_matches('/').to_owned(),
            partition_by,
        });
        files = Some((place, storage));
    }
    // Unique per run: the clock may be fixed (`GHFORGE_CLOCK`), the process id differs.
    let token = format!(
        "{}p{:010}",
        crate::clock::now().format("%Y%m%dT%H%M%S%6f"),
        std::process::id()
    );
    let work = NodeWork::Model {
        sql: &sql,
        pre_hooks: &pre_hooks,
        post_hooks: &post_hooks,
        external: external.as_ref().map(|target| (target, token.as_str())),
    };
    let plan = node_plan(node, work, &facts, dialect).map_err(|err| fail(err.into()))?;
    Ok(Prepared {
        plan,
        compiled,
        files,
    })
}

/// The plan `node` would run, without running it (`--dry-run`).
pub fn dry_run(
    context: NodeContext<'_>,
    node: &Node,
    session: &SharedSession,
) -> Result<Prepared, NodeError> {
    prepare(context, node, session, &mut Vec::new()).map_err(|failure| failure.error)
}

fn execute(
    context: NodeContext<'_>,
    node: &Node,
    session: &SharedSession,
    timing: &mut Vec<Timing>,
) -> Result<Outcome, Failure> {
    let prepared = prepare(context, node, session, timing)?;
    let execute_started = crate::clock::system_now();
    let failed = |error: NodeError, prepared: &Prepared| Failure {
        error,
        compiled: prepared.compiled.clone(),
        plan: Some(prepared.plan.clone()),
    };
    if let Some((Location::Local(folder), _)) = &prepared.files {
        std::fs::create_dir_all(folder).map_err(|err| {
            let error = NodeError::Io {
                action: "create",
                path: folder.clone(),
                source: err,
            };
            failed(error, &prepared)
        })?;
    }
    let storage = prepared.files.as_ref().map(|(_, storage)| storage.as_ref());
    let executed = interpret(&prepared.plan, &mut **lock(session), storage)
        .map_err(|err| failed(err.into(), &prepared))?;
    timing.push(Timing::since("execute", execute_started));
    let Prepared { plan, compiled, .. } = prepared;
    let read_count = executed
        .read
        .as_ref()
        .and_then(|row| row.first())
        .and_then(serde_json::Value::as_u64);
    if matches!(node.kind, NodeKind::Test { .. }) {
        return Ok(test_outcome(
            context.project,
            node,
            executed.read,
            compiled,
            plan,
        ));
    }
    Ok(Outcome {
        status: NodeStatus::Success,
        message: "OK".to_owned(),
        compiled,
        rows_affected: read_count.or(executed.rows_affected),
        plan: Some(plan),
        failures: None,
    })
}

/// Judge a data test by its counting row (failures, should_warn, should_error): thresholds and
/// severity.
fn test_outcome(
    project: &Project,
    node: &Node,
    row: Option<Vec<serde_json::Value>>,
    compiled: Option<String>,
    plan: Plan,
) -> Outcome {
    let row = row.unwrap_or_default();
    let failures = row.first().and_then(serde_json::Value::as_u64).unwrap_or(0);
    let flag = |i: usize| {
        row.get(i)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let outcome = schema_tests::outcome(&node.config, flag(1), flag(2));
    let stored = node.config.store_failures.unwrap_or(false);
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
    Outcome {
        status: match outcome {
            TestOutcome::Pass => NodeStatus::Pass,
            TestOutcome::Warn => NodeStatus::Warn,
            TestOutcome::Fail => NodeStatus::Fail,
        },
        message,
        compiled,
        plan: Some(plan),
        rows_affected: None,
        failures: Some(failures),
    }
}

fn lock(session: &SharedSession) -> std::sync::MutexGuard<'_, Box<dyn Session>> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("Database error: {}", .0.message)]
    Database(#[from] AdapterError),
    #[error("Storage error: {0}")]
    Storage(#[from] StorageError),
    #[error(
        "internal error: the plan deletes files but the node has no storage (please report this ghforge bug)"
    )]
    NoStorage,
}

/// What running a plan reported.
#[derive(Debug, Default)]
pub struct Executed {
    /// The largest row count a statement reported (the build or insert).
    pub rows_affected: Option<u64>,
    /// The first row of the plan's last query.
    pub read: Option<Vec<serde_json::Value>>,
}

/// Run a plan's steps in order; on an error inside a transaction, roll it back so nothing of
/// it changes.
pub fn interpret(
    plan: &Plan,
    session: &mut dyn Session,
    storage: Option<&dyn Storage>,
) -> Result<Executed, StepError> {
    let mut executed = Executed::default();
    let mut open = false;
    for step in &plan.steps {
        let result = run_step(step, session, storage, &mut executed);
        match (result, step) {
            (Ok(()), Step::Begin) => open = true,
            (Ok(()), Step::Commit) => open = false,
            (Ok(()), _) => {}
            (Err(err), _) => {
                if open {
                    let _ = session.rollback();
                }
                return Err(err);
            }
        }
    }
    Ok(executed)
}

fn run_step(
    step: &Step,
    session: &mut dyn Session,
    storage: Option<&dyn Storage>,
    executed: &mut Executed,
) -> Result<(), StepError> {
    match step {
        Step::Begin => session.begin()?,
        Step::Commit => session.commit()?,
        Step::Execute(sql) => {
            let response = session.execute(&sql.text)?;
            executed.rows_affected = executed.rows_affected.max(response.rows_affected);
        }
        Step::Query(sql) => executed.read = session.query(&sql.text)?.rows.into_iter().next(),
        Step::DeleteReplacedFiles { token, replacement } => {
            let storage = storage.ok_or(StepError::NoStorage)?;
            let keys: Vec<String> = storage
                .list("")?
                .into_iter()
                .map(|object| object.key)
                .collect();
            storage.delete(&External::replaced(&keys, token, *replacement))?;
        }
    }
    Ok(())
}
