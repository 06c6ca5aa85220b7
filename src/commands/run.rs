//! `ghforge run`, `seed`, `test` and `build`: build the selected nodes in the target warehouse,
//! in DAG order over `--threads` workers, then write `run_results.json`, the compiled SQL and the
//! manifest. `run` tests the models it built right after them (unless `--no-tests`); `build`
//! interleaves models, seeds and tests so a failing test skips what depends on the tested model.
//! Exit 1 when a node failed or an error-severity test failed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::adapters::Adapter;
use crate::adapters::duckdb::Access;
use crate::artifacts::{manifest, run_results};
use crate::cli::RunArgs;
use crate::compile::{CompiledNode, write_compiled, write_plans};
use crate::console::Console;
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::execute::{
    NodeResult, NodeStatus, RunOptions, describe, plan_nodes, run_nodes, run_project_hooks,
};
use crate::graph::Dag;
use crate::plan::Plan;
use crate::project::Project;
use crate::project::config::Materialization;
use crate::project::nodes::{NodeId, NodeKind, ResourceType};
use crate::settings::Settings;

use super::compile::invocation;
use super::junit;
use super::warehouse::open_adapter;
use super::{found_summary, load_and_select};

/// Which command is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Seed,
    Test,
    Build,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Seed => "seed",
            Self::Test => "test",
            Self::Build => "build",
        }
    }

    fn resource_types(self) -> &'static [ResourceType] {
        match self {
            Self::Run => &[ResourceType::Model],
            Self::Seed => &[ResourceType::Seed],
            Self::Test => &[ResourceType::Test],
            Self::Build => &[ResourceType::Model, ResourceType::Seed, ResourceType::Test],
        }
    }
}

pub fn run(settings: Settings, args: &RunArgs, kind: Kind) -> Result<i32> {
    let started = crate::clock::now();
    let loaded = load_and_select(settings, &args.selection, kind.resource_types())?;
    let console = loaded.console;
    let project = &loaded.project;
    let dag = &loaded.dag;
    console.info("FoundStats", &found_summary(project), json!({}));
    // Ephemeral models are inlined into their children; nothing of theirs runs.
    let nodes: BTreeSet<NodeId> = loaded
        .selected
        .iter()
        .filter(|id| project.nodes[*id].config.materialized != Materialization::Ephemeral)
        .cloned()
        .collect();
    check_capabilities(project, &nodes)?;
    let access = if args.dry_run {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let adapter = open_adapter(&project.target, access)?;
    let threads = args.threads.unwrap_or(project.target.threads).max(1);
    console.info(
        "ConcurrencyLine",
        &format!(
            "Concurrency: {threads} threads (target='{}')",
            project.target.name
        ),
        json!({"threads": threads, "target": project.target.name}),
    );
    if nodes.is_empty() {
        console.warn(
            "NoNodesForSelectionCriteria",
            "nothing to run: the selection matched no nodes of this kind",
        );
    }
    let options = RunOptions {
        threads,
        full_refresh: args.full_refresh,
        fail_fast: args.fail_fast,
        tests_gate_children: kind == Kind::Build,
    };
    if args.dry_run {
        return dry_run(&loaded, &nodes, adapter.as_ref(), options);
    }
    let hook_failure = |stage: &str, err: crate::execute::RunError| {
        Error::Execution(
            Diagnostic::new(
                DiagnosticKind::Execution,
                format!("`{stage}` failed: {err}"),
            )
            .in_file(&project.file.file_name)
            .hint(format!("fix the `{stage}` hooks in the project file")),
        )
    };
    let hooks = matches!(kind, Kind::Run | Kind::Build);
    if hooks {
        run_project_hooks(project, dag, &project.file.on_run_start, adapter.as_ref())
            .map_err(|err| hook_failure("on-run-start", err))?;
    }
    warn_missing_sources(project, dag, &nodes, adapter.as_ref(), &console);
    let mut results = run_nodes(project, dag, &nodes, adapter.as_ref(), options, &console);
    if kind == Kind::Run && !args.no_tests {
        let tests = tests_of_built_models(project, dag, &results);
        if !tests.is_empty() {
            results.extend(run_nodes(
                project,
                dag,
                &tests,
                adapter.as_ref(),
                options,
                &console,
            ));
        }
    }
    // A failing `on-run-end` is reported after the artifacts are written.
    let end_failure = if hooks {
        run_project_hooks(project, dag, &project.file.on_run_end, adapter.as_ref())
            .err()
            .map(|err| hook_failure("on-run-end", err))
    } else {
        None
    };
    let elapsed = crate::clock::since(started);
    let failed = summarize(&console, project, &results, elapsed);

    let target_dir = loaded.target_dir();
    let invocation = invocation();
    run_results::write(&target_dir, kind.name(), &invocation, &results, elapsed)?;
    // What ran is inspectable: compiled SQL under target/compiled and in the manifest.
    let compiled: BTreeMap<NodeId, CompiledNode> = results
        .iter()
        .filter_map(|r| {
            r.compiled_code.as_ref().map(|sql| {
                let node = CompiledNode {
                    sql: sql.clone(),
                    macros: BTreeSet::new(),
                };
                (r.unique_id.clone(), node)
            })
        })
        .collect();
    write_compiled(project, &target_dir, &compiled)?;
    let plans: BTreeMap<NodeId, &Plan> = results
        .iter()
        .filter_map(|r| r.plan.as_ref().map(|plan| (r.unique_id.clone(), plan)))
        .collect();
    write_plans(project, &target_dir, &plans)?;
    if let Some(path) = &args.junit_xml {
        junit::write(path, project, &results)?;
    }
    let manifest = manifest::build(project, dag, &compiled, &invocation);
    manifest::write(&target_dir, &manifest)?;
    drop(manifest);
    after_run(
        &loaded,
        adapter.as_ref(),
        &invocation,
        kind,
        failed || end_failure.is_some(),
    )?;
    loaded.finish();
    match end_failure {
        Some(failure) => Err(failure),
        None => Ok(i32::from(failed)),
    }
}

/// Keep the run in `<target-path>/history/` and, after a successful `run` or `build` (on
/// DuckDB or Snowflake), publish a serving snapshot for `ghforge serve`.
fn after_run(
    loaded: &super::Loaded,
    adapter: &dyn Adapter,
    invocation: &crate::artifacts::manifest::Invocation,
    kind: Kind,
    failed: bool,
) -> Result<()> {
    let target_dir = loaded.target_dir();
    if let Err(err) =
        crate::serve::publish::record_history(&target_dir, invocation, crate::serve::KEEP_HISTORY)
    {
        loaded.console.warn(
            "RunHistoryNotKept",
            &format!("cannot keep the run in the history: {err}"),
        );
    }
    if failed || !matches!(kind, Kind::Run | Kind::Build) {
        return Ok(());
    }
    super::serve::publish_snapshot(
        &loaded.project,
        adapter,
        &target_dir,
        invocation,
        kind.name(),
        loaded.console,
    )
}

/// A node whose materialization the target's warehouse cannot build is a project error before
/// anything runs (exit 2), naming the node's file.
/// Say once, before the errors it would cause, which sources the selected nodes read that the
/// warehouse does not have yet, and what lands them.
fn warn_missing_sources(
    project: &Project,
    dag: &Dag,
    nodes: &BTreeSet<NodeId>,
    adapter: &dyn Adapter,
    console: &Console,
) {
    let sources: BTreeSet<&NodeId> = nodes
        .iter()
        .flat_map(|id| dag.parents(id))
        .filter(|id| project.nodes[*id].resource_type() == ResourceType::Source)
        .collect();
    let Ok(mut session) = adapter.session() else {
        return;
    };
    for id in sources {
        let node = &project.nodes[id];
        if !matches!(session.relation_type(&node.relation), Ok(None)) {
            continue;
        }
        let readers = match nodes.iter().filter(|n| dag.parents(n).contains(id)).count() {
            1 => "1 selected node reads it and will fail".to_owned(),
            n => format!("{n} selected nodes read it and will fail"),
        };
        // The bronze tables are landed by ghforge itself.
        let relation = &node.relation;
        let bronze = relation.schema.eq_ignore_ascii_case("bronze");
        let hint = match relation.identifier.to_lowercase().as_str() {
            "events" if bronze => {
                "run `ghforge load --from <hour> [--to <hour>]` first (or `ghforge load --live`)"
            }
            "repo_metadata" if bronze => {
                "run `ghforge load` first (it creates the bronze tables), then `ghforge enrich` to fill it"
            }
            _ => "create it first, or check the source's `schema` and `identifier` in its YAML",
        };
        let name = match &node.kind {
            NodeKind::Source { source_name, .. } => format!("{source_name}.{}", node.name),
            _ => node.name.clone(),
        };
        console.warn(
            "SourceMissing",
            &format!(
                "source `{name}` ({}) does not exist in the warehouse yet; {readers}\n  hint: {hint}",
                relation.quoted()
            ),
        );
    }
}

fn check_capabilities(project: &Project, nodes: &BTreeSet<NodeId>) -> Result<()> {
    let dialect = crate::plan::dialect::of(project.target.warehouse.type_name());
    for id in nodes {
        let node = &project.nodes[id];
        if let Err(err) = crate::materialize::check_capabilities(&node.config, dialect) {
            return Err(Error::Project(
                Diagnostic::new(
                    DiagnosticKind::Config,
                    format!("`{}`: {err}", node.name),
                )
                .in_file(project.file.root.join(&node.original_file_path))
                .hint(format!(
                    "choose another materialization for `{}` on target `{}`, or exclude it (`--exclude {}`)",
                    node.name, project.target.name, node.name
                )),
            ));
        }
    }
    Ok(())
}

/// `--dry-run`: print each node's plan in DAG order and write it under `<target-path>/run/`;
/// nothing is written to the warehouse. Exit 1 when a node cannot be planned.
fn dry_run(
    loaded: &super::Loaded,
    nodes: &BTreeSet<NodeId>,
    adapter: &dyn Adapter,
    options: RunOptions,
) -> Result<i32> {
    let project = &loaded.project;
    let console = &loaded.console;
    let planned = plan_nodes(project, &loaded.dag, nodes, adapter, options).map_err(|err| {
        Error::Execution(Diagnostic::new(DiagnosticKind::Execution, err.to_string()))
    })?;
    let total = planned.len();
    let mut failed = 0;
    let mut plans = BTreeMap::new();
    for (index, (id, plan)) in planned.iter().enumerate() {
        let node = &project.nodes[id];
        let heading = format!("{} of {total} PLAN {}", index + 1, describe(node));
        match plan {
            Ok(plan) => {
                console.info(
                    "NodePlan",
                    &format!("{heading}\n{}", plan.to_string().trim_end()),
                    json!({"unique_id": id, "plan": plan.to_string()}),
                );
                plans.insert(id.clone(), plan);
            }
            Err(message) => {
                failed += 1;
                console.info(
                    "NodePlanError",
                    &format!("{heading}\n  cannot plan: {message}"),
                    json!({"unique_id": id, "error": message.to_string()}),
                );
            }
        }
    }
    write_plans(project, &loaded.target_dir(), &plans)?;
    console.info(
        "DryRunSummary",
        &format!(
            "Dry run: {} planned, {failed} could not be planned; nothing was written to the warehouse.",
            total - failed
        ),
        json!({"planned": total - failed, "failed": failed}),
    );
    Ok(i32::from(failed > 0))
}

/// Tests whose parents all exist after this run: at least one built now, none failed or
/// skipped now (dbt tests what `run` built).
fn tests_of_built_models(project: &Project, dag: &Dag, results: &[NodeResult]) -> BTreeSet<NodeId> {
    let status: BTreeMap<&NodeId, NodeStatus> =
        results.iter().map(|r| (&r.unique_id, r.status)).collect();
    let built: BTreeSet<&NodeId> = results
        .iter()
        .filter(|r| r.status == NodeStatus::Success)
        .map(|r| &r.unique_id)
        .collect();
    built
        .iter()
        .flat_map(|id| dag.children(id))
        .filter(|child| {
            project
                .nodes
                .get(*child)
                .is_some_and(|n| n.resource_type() == ResourceType::Test)
        })
        .filter(|test| {
            dag.parents(test)
                .iter()
                .all(|parent| status.get(parent).is_none_or(|s| *s == NodeStatus::Success))
        })
        .cloned()
        .collect()
}

/// Print the end-of-run summary: failures with their messages, then counts for models and
/// seeds, for tests, and dbt's overall line. Returns whether anything failed.
fn summarize(
    console: &Console,
    project: &Project,
    results: &[NodeResult],
    elapsed: std::time::Duration,
) -> bool {
    let is_test =
        |r: &&NodeResult| project.nodes[&r.unique_id].resource_type() == ResourceType::Test;
    let count = |status: NodeStatus, tests: bool| {
        results
            .iter()
            .filter(|r| r.status == status && is_test(r) == tests)
            .count()
    };
    console.info(
        "FinishedRunningStats",
        &format!(
            "Finished running {} nodes in {:.2}s.",
            results.len(),
            elapsed.as_secs_f64()
        ),
        json!({"elapsed_s": elapsed.as_secs_f64()}),
    );
    let problems: Vec<&NodeResult> = results
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                NodeStatus::Error | NodeStatus::Fail | NodeStatus::Warn
            )
        })
        .collect();
    let errors = problems
        .iter()
        .filter(|r| r.status != NodeStatus::Warn)
        .count();
    if !problems.is_empty() {
        let warnings = problems.len() - errors;
        console.info(
            "EndOfRunSummary",
            &format!("Completed with {errors} error(s) and {warnings} warning(s):"),
            json!({"errors": errors, "warnings": warnings}),
        );
        for problem in &problems {
            let node = &project.nodes[&problem.unique_id];
            let label = match problem.status {
                NodeStatus::Warn => "Warning in",
                NodeStatus::Fail => "Failure in",
                _ => "Error in",
            };
            console.info(
                "RunResultError",
                &format!(
                    "  {label} {} {} ({}):\n{}",
                    node.resource_type(),
                    node.name,
                    node.original_file_path,
                    indent(&problem.message)
                ),
                json!({"unique_id": problem.unique_id, "status": problem.status.as_str()}),
            );
        }
    }
    let models_total = results.iter().filter(|r| !is_test(r)).count();
    let tests_total = results.len() - models_total;
    if models_total > 0 {
        console.info(
            "ModelsSummary",
            &format!(
                "Models and seeds: OK={} ERROR={} SKIP={} TOTAL={models_total}",
                count(NodeStatus::Success, false),
                count(NodeStatus::Error, false),
                count(NodeStatus::Skipped, false),
            ),
            json!({}),
        );
    }
    if tests_total > 0 {
        console.info(
            "TestsSummary",
            &format!(
                "Tests: PASS={} WARN={} FAIL={} ERROR={} SKIP={} TOTAL={tests_total}",
                count(NodeStatus::Pass, true),
                count(NodeStatus::Warn, true),
                count(NodeStatus::Fail, true),
                count(NodeStatus::Error, true),
                count(NodeStatus::Skipped, true),
            ),
            json!({}),
        );
    }
    let all = |status: NodeStatus| results.iter().filter(|r| r.status == status).count();
    let pass = all(NodeStatus::Success) + all(NodeStatus::Pass);
    let warn = all(NodeStatus::Warn);
    let skip = all(NodeStatus::Skipped);
    console.info(
        "StatsLine",
        &format!(
            "Done. PASS={pass} WARN={warn} ERROR={errors} SKIP={skip} TOTAL={}",
            results.len()
        ),
        json!({"pass": pass, "warn": warn, "error": errors, "skip": skip, "total": results.len()}),
    );
    errors > 0
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
