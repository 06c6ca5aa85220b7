//! Running selected nodes on a warehouse: a topological scheduler over N worker threads (one
//! warehouse session each). A failed node marks its descendants skipped; the rest go on, unless
//! `--fail-fast` stops scheduling.

mod error;
mod node;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::adapters::Adapter;
use crate::compile::Compiler;
use crate::console::Console;
use crate::graph::Dag;
use crate::project::Project;
use crate::project::nodes::NodeId;

pub use error::{NodeError, RunError};
pub use node::{NodeContext, describe};

/// How a node ended, with dbt's status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeStatus {
    /// A model or seed was built.
    Success,
    /// A data test found no failing rows (or fewer than its thresholds).
    Pass,
    /// A data test crossed `warn_if` (or `error_if` with severity `warn`).
    Warn,
    /// A data test crossed `error_if` with severity `error`.
    Fail,
    Error,
    Skipped,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }

    /// Whether the node's descendants must be skipped.
    pub fn blocks_descendants(self) -> bool {
        matches!(self, Self::Error | Self::Fail)
    }
}

/// One phase of a node's execution (`compile`, `execute`).
#[derive(Debug, Clone)]
pub struct Timing {
    pub name: &'static str,
    pub started_at: SystemTime,
    pub completed_at: SystemTime,
}

impl Timing {
    /// A phase that started at `started_at` and ends now.
    pub fn since(name: &'static str, started_at: SystemTime) -> Self {
        Self {
            name,
            started_at,
            completed_at: crate::clock::system_now(),
        }
    }
}

/// The result of one node.
#[derive(Debug, Clone)]
pub struct NodeResult {
    pub unique_id: NodeId,
    pub status: NodeStatus,
    pub message: String,
    pub timing: Vec<Timing>,
    pub execution_time: Duration,
    pub rows_affected: Option<u64>,
    /// Failing rows a data test found.
    pub failures: Option<u64>,
    pub adapter_message: Option<String>,
    pub compiled_code: Option<String>,
    /// The plan the node ran (or was about to run when it failed).
    pub plan: Option<crate::plan::Plan>,
    pub thread: usize,
}

/// What a run was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub threads: usize,
    pub full_refresh: bool,
    pub fail_fast: bool,
    /// `build`: a model's children also wait for the model's tests (and are skipped when one
    /// fails).
    pub tests_gate_children: bool,
}

/// Parents and children among the nodes of a run, looking through ephemeral models (which do
/// not run but stand between nodes that do).
struct RunGraph {
    parents: BTreeMap<NodeId, BTreeSet<NodeId>>,
    children: BTreeMap<NodeId, BTreeSet<NodeId>>,
}

impl RunGraph {
    fn new(
        project: &Project,
        dag: &Dag,
        nodes: &BTreeSet<NodeId>,
        tests_gate_children: bool,
    ) -> Self {
        let mut parents: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
        let mut children: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
        for id in nodes {
            let mut found = BTreeSet::new();
            let mut stack: Vec<&NodeId> = dag.parents(id).iter().collect();
            let mut seen = BTreeSet::new();
            while let Some(parent) = stack.pop() {
                if !seen.insert(parent) {
                    continue;
                }
                if nodes.contains(parent) {
                    found.insert(parent.clone());
                } else if project.nodes[parent].config.materialized
                    == crate::project::config::Materialization::Ephemeral
                {
                    stack.extend(dag.parents(parent));
                }
            }
            for parent in &found {
                children
                    .entry(parent.clone())
                    .or_default()
                    .insert(id.clone());
            }
            parents.insert(id.clone(), found);
        }
        if tests_gate_children {
            // dbt's rule (`Linker.add_test_edges`): a test holds back a node when every node
            // the test depends on is upstream of that node. So a `relationships` test between
            // a parent and its child does not hold back the child, and no two tests can wait
            // on each other.
            let is_test = |id: &NodeId| {
                project.nodes[id].resource_type() == crate::project::nodes::ResourceType::Test
            };
            let tests: Vec<NodeId> = nodes.iter().filter(|id| is_test(id)).cloned().collect();
            let mut upstream_of: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
            for test in &tests {
                let depends_on: BTreeSet<NodeId> = dag.parents(test).iter().cloned().collect();
                let tested: Vec<NodeId> =
                    parents.get(test).into_iter().flatten().cloned().collect();
                for model in tested {
                    let candidates: Vec<NodeId> = children
                        .get(&model)
                        .into_iter()
                        .flatten()
                        .filter(|c| !is_test(c))
                        .cloned()
                        .collect();
                    for child in candidates {
                        let upstream = upstream_of
                            .entry(child.clone())
                            .or_insert_with(|| dag.reach(&[child.clone()].into(), true, None));
                        if depends_on.is_subset(upstream)
                            && parents
                                .entry(child.clone())
                                .or_default()
                                .insert(test.clone())
                        {
                            children.entry(test.clone()).or_default().insert(child);
                        }
                    }
                }
            }
        }
        Self { parents, children }
    }

    fn children(&self, id: &NodeId) -> impl Iterator<Item = &NodeId> {
        self.children.get(id).into_iter().flatten()
    }
}

struct Schedule {
    /// Unfinished parents (inside the run) per node.
    waiting: BTreeMap<NodeId, usize>,
    /// Ready nodes, by their position in the topological order.
    ready: BTreeSet<(usize, NodeId)>,
    running: usize,
    stop: bool,
    results: Vec<NodeResult>,
}

/// Run `nodes` (models, seeds and tests, in any order) and return one result per node, in
/// completion order. Log lines are numbered by topological position (`N of M`).
pub fn run_nodes(
    project: &Project,
    dag: &Dag,
    nodes: &BTreeSet<NodeId>,
    adapter: &dyn Adapter,
    options: RunOptions,
    console: &Console,
) -> Vec<NodeResult> {
    let order: Vec<NodeId> = dag
        .topological_order()
        .into_iter()
        .filter(|id| nodes.contains(id))
        .collect();
    let position: BTreeMap<&NodeId, usize> =
        order.iter().enumerate().map(|(i, id)| (id, i)).collect();
    let total = order.len();
    let compiler = Compiler::new(project, dag);
    let prepared = compiler.prepare_ephemerals(nodes);
    let context = NodeContext {
        project,
        compiler: &compiler,
        dialect: crate::plan::dialect::of(adapter.type_name()),
        options,
    };
    let mut schedule = Schedule {
        waiting: BTreeMap::new(),
        ready: BTreeSet::new(),
        running: 0,
        stop: false,
        results: Vec::new(),
    };
    let graph = RunGraph::new(project, dag, nodes, options.tests_gate_children);
    for id in &order {
        let parents = graph.parents.get(id).map_or(0, BTreeSet::len);
        if parents == 0 {
            schedule.ready.insert((position[id], id.clone()));
        } else {
            schedule.waiting.insert(id.clone(), parents);
        }
    }
    let fail_all = |message: String| -> Vec<NodeResult> {
        order
            .iter()
            .map(|id| node::failed_to_start(&project.nodes[id], 0, &message))
            .collect()
    };
    if let Err(err) = prepared {
        // An ephemeral model failed to compile: nothing that inlines it can run.
        return fail_all(err.to_string());
    }
    if let Err(err) = create_schemas(project, nodes, adapter) {
        return fail_all(format!("Database error: {err}"));
    }
    let threads = options.threads.clamp(1, total.max(1));
    // One session per worker, opened before any node runs.
    let sessions: Result<Vec<node::SharedSession>, _> = (0..threads)
        .map(|_| adapter.session().map(|s| Arc::new(Mutex::new(s))))
        .collect();
    let sessions = match sessions {
        Ok(sessions) => sessions,
        Err(err) => return fail_all(format!("Database error: cannot open a connection: {err}")),
    };
    let shared = (Mutex::new(schedule), Condvar::new());
    std::thread::scope(|scope| {
        for (thread, session) in sessions.into_iter().enumerate() {
            let shared = &shared;
            let position = &position;
            let graph = &graph;
            // Named as dbt names its threads (`thread` in JSON log lines).
            let spawned = std::thread::Builder::new()
                .name(format!("Thread-{} (worker)", thread + 1))
                .spawn_scoped(scope, move || {
                    worker(
                        thread, session, shared, context, graph, console, total, position,
                    )
                });
            // The other workers take this one's share of the nodes.
            if let Err(err) = spawned {
                tracing::error!("cannot start worker thread {}: {err}", thread + 1);
            }
        }
    });
    let (mutex, _) = shared;
    let mut schedule = mutex.into_inner().unwrap_or_else(PoisonError::into_inner);
    // Anything still waiting was stopped by `--fail-fast`; without a stop it could never be
    // scheduled, which is a bug to report loudly rather than a silent skip.
    let stopped = schedule.stop;
    for id in std::mem::take(&mut schedule.waiting).into_keys() {
        let node = &project.nodes[&id];
        schedule.results.push(if stopped {
            node::skipped(node, "skipped because the run stopped (--fail-fast)")
        } else {
            node::failed_to_start(
                node,
                0,
                "could not be scheduled: its dependencies never finished (a dependency cycle through tests; please report this ghforge bug)",
            )
        });
    }
    schedule.results
}

#[expect(
    clippy::too_many_arguments,
    reason = "the scheduler's shared context, passed once per worker"
)]
fn worker(
    thread: usize,
    session: node::SharedSession,
    shared: &(Mutex<Schedule>, Condvar),
    context: NodeContext<'_>,
    graph: &RunGraph,
    console: &Console,
    total: usize,
    position: &BTreeMap<&NodeId, usize>,
) {
    let (mutex, ready_signal) = shared;
    let NodeContext {
        project, options, ..
    } = context;
    loop {
        let next = {
            let mut schedule = mutex.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if schedule.stop && schedule.running == 0 {
                    break None;
                }
                if !schedule.stop
                    && let Some(entry) = schedule.ready.pop_first()
                {
                    schedule.running += 1;
                    break Some(entry);
                }
                if schedule.ready.is_empty() && schedule.running == 0 {
                    break None;
                }
                schedule = ready_signal
                    .wait(schedule)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let Some((index, id)) = next else {
            ready_signal.notify_all();
            break;
        };
        let node = &project.nodes[&id];
        let _span = tracing::debug_span!(
            "node",
            unique_id = %id,
            node_name = %node.name,
            node_path = %node.path,
            resource_type = node.resource_type().as_str(),
            materialized = node.config.materialized.as_str(),
            index = index + 1,
            total,
            thread
        )
        .entered();
        report::node_start(console, index + 1, total, node);
        // A panic in one node must not leave the others waiting for ever: it becomes an error.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            node::run(context, node, &session, thread)
        }))
        .unwrap_or_else(|_| {
            node::failed_to_start(
                node,
                thread,
                "internal error: ghforge panicked while running this node",
            )
        });
        report::node_done(console, index + 1, total, node, &result);
        let mut schedule = mutex.lock().unwrap_or_else(PoisonError::into_inner);
        schedule.running -= 1;
        let failed = result.status.blocks_descendants();
        schedule.results.push(result);
        if failed {
            if options.fail_fast {
                schedule.stop = true;
            }
            skip_descendants(&mut schedule, graph, &id, project, console, total, position);
        } else {
            for child in graph.children(&id) {
                if let Some(count) = schedule.waiting.get_mut(child) {
                    *count -= 1;
                    if *count == 0 {
                        schedule.waiting.remove(child);
                        schedule.ready.insert((position[child], child.clone()));
                    }
                }
            }
        }
        if schedule.stop && schedule.running == 0 {
            // Fail fast: everything not run is skipped.
            let pending: Vec<NodeId> = schedule
                .ready
                .iter()
                .map(|(_, id)| id.clone())
                .chain(schedule.waiting.keys().cloned())
                .collect();
            schedule.ready.clear();
            schedule.waiting.clear();
            for id in pending {
                let node = &project.nodes[&id];
                let result = node::skipped(
                    node,
                    "skipped because an earlier node failed and --fail-fast is set",
                );
                report::node_done(console, position[&id] + 1, total, node, &result);
                schedule.results.push(result);
            }
        }
        drop(schedule);
        ready_signal.notify_all();
    }
}

fn skip_descendants(
    schedule: &mut Schedule,
    graph: &RunGraph,
    failed: &NodeId,
    project: &Project,
    console: &Console,
    total: usize,
    position: &BTreeMap<&NodeId, usize>,
) {
    let failed_name = &project.nodes[failed].name;
    let mut stack: Vec<&NodeId> = graph.children(failed).collect();
    let mut seen = BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        stack.extend(graph.children(id));
        if schedule.waiting.remove(id).is_none() {
            continue;
        }
        let node = &project.nodes[id];
        let result = node::skipped(node, &format!("skipped because `{failed_name}` failed"));
        report::node_done(console, position[id] + 1, total, node, &result);
        schedule.results.push(result);
    }
}

/// A node's plan, or why it could not be planned.
pub type PlannedNode = (NodeId, Result<crate::plan::Plan, NodeError>);

/// The plan of each of `nodes` (but ephemeral models) in DAG order, without running any
/// (`--dry-run`, `compile`): one session, introspection only. A node that cannot be planned
/// gives its error instead.
pub fn plan_nodes(
    project: &Project,
    dag: &Dag,
    nodes: &BTreeSet<NodeId>,
    adapter: &dyn Adapter,
    options: RunOptions,
) -> Result<Vec<PlannedNode>, RunError> {
    let compiler = Compiler::new(project, dag);
    compiler
        .prepare_ephemerals(nodes)
        .map_err(RunError::Compile)?;
    let context = NodeContext {
        project,
        compiler: &compiler,
        dialect: crate::plan::dialect::of(adapter.type_name()),
        options,
    };
    let session: node::SharedSession =
        Arc::new(Mutex::new(adapter.session().map_err(RunError::Connect)?));
    // Ephemeral models are inlined into their children: they have no plan of their own.
    Ok(dag
        .topological_order()
        .into_iter()
        .filter(|id| nodes.contains(id))
        .filter(|id| {
            project.nodes[id].config.materialized
                != crate::project::config::Materialization::Ephemeral
        })
        .map(|id| {
            let plan = node::dry_run(context, &project.nodes[&id], &session).map(|p| p.plan);
            (id, plan)
        })
        .collect())
}

/// Run the project's `on-run-start` or `on-run-end` hooks, in order, on one session.
pub fn run_project_hooks(
    project: &Project,
    dag: &Dag,
    hooks: &[String],
    adapter: &dyn Adapter,
) -> Result<(), RunError> {
    if hooks.is_empty() {
        return Ok(());
    }
    let compiler = Compiler::new(project, dag);
    let mut session = adapter.session().map_err(RunError::Connect)?;
    for hook in hooks {
        let sql = compiler
            .render_project_hook(hook, None)
            .map_err(RunError::Compile)?;
        if !sql.trim().is_empty() {
            session.execute(&sql).map_err(RunError::Hook)?;
        }
    }
    Ok(())
}

/// Create every schema the run writes to, once, before the workers start.
fn create_schemas(
    project: &Project,
    nodes: &BTreeSet<NodeId>,
    adapter: &dyn Adapter,
) -> Result<(), crate::adapters::AdapterError> {
    let statements: BTreeSet<String> = nodes
        .iter()
        .map(|id| crate::materialize::create_schema(&project.nodes[id].relation))
        .collect();
    let mut session = adapter.session()?;
    for statement in statements {
        session.execute(&statement)?;
    }
    Ok(())
}
