//! `ghforge run` and `ghforge seed`: build the selected models (or load the selected seeds) in
//! the target warehouse, in DAG order over `--threads` workers, then write `run_results.json`
//! and the manifest. Exit 1 when a node failed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::json;

use crate::adapters::duckdb::{DuckDbAdapter, LOCK_WAIT};
use crate::adapters::{Adapter, AdapterErrorKind};
use crate::artifacts::{manifest, run_results};
use crate::cli::RunArgs;
use crate::compile::{CompiledNode, write_compiled};
use crate::error::{Diagnostic, DiagnosticKind, Error, Result};
use crate::execute::{NodeStatus, RunOptions, run_nodes, run_project_hooks};
use crate::project::config::Materialization;
use crate::project::nodes::{NodeId, ResourceType};
use crate::project::profiles::Warehouse;
use crate::settings::Settings;

use super::compile::invocation;
use super::{found_summary, load_and_select};

/// Which command is running: the resource type it builds and its name in artifacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Seed,
}

pub fn run(settings: Settings, args: &RunArgs, kind: Kind) -> Result<i32> {
    let started = Instant::now();
    let threads_flag = args.threads;
    let resource = match kind {
        Kind::Run => ResourceType::Model,
        Kind::Seed => ResourceType::Seed,
    };
    let loaded = load_and_select(settings, &args.selection, &[resource])?;
    let console = loaded.console;
    let project = &loaded.project;
    console.info("found", &found_summary(project), json!({}));
    // Ephemeral models are inlined into their children; nothing of theirs runs.
    let nodes: BTreeSet<NodeId> = loaded
        .selected
        .iter()
        .filter(|id| project.nodes[*id].config.materialized != Materialization::Ephemeral)
        .cloned()
        .collect();
    let adapter = open_adapter(&project.target)?;
    let threads = threads_flag.unwrap_or(project.target.threads).max(1);
    console.info(
        "concurrency",
        &format!(
            "Concurrency: {threads} threads (target='{}')",
            project.target.name
        ),
        json!({"threads": threads, "target": project.target.name}),
    );
    if nodes.is_empty() {
        console.warn(
            "no_nodes",
            "nothing to run: the selection matched no nodes of this kind",
        );
    }
    let options = RunOptions {
        threads,
        full_refresh: args.full_refresh,
        fail_fast: args.fail_fast,
    };
    let hook_failure = |stage: &str, message: String| {
        Error::Execution(
            Diagnostic::new(
                DiagnosticKind::Execution,
                format!("`{stage}` failed: {message}"),
            )
            .in_file(&project.file.file_name)
            .hint(format!("fix the `{stage}` hooks in the project file")),
        )
    };
    if kind == Kind::Run {
        run_project_hooks(
            project,
            &loaded.dag,
            &project.file.on_run_start,
            adapter.as_ref(),
        )
        .map_err(|message| hook_failure("on-run-start", message))?;
    }
    let results = run_nodes(
        project,
        &loaded.dag,
        &nodes,
        adapter.as_ref(),
        options,
        &console,
    );
    // A failing `on-run-end` is reported after the artifacts are written.
    let end_failure = match kind {
        Kind::Run => run_project_hooks(
            project,
            &loaded.dag,
            &project.file.on_run_end,
            adapter.as_ref(),
        )
        .err()
        .map(|message| hook_failure("on-run-end", message)),
        Kind::Seed => None,
    };
    let elapsed = started.elapsed();
    let count = |status: NodeStatus| results.iter().filter(|r| r.status == status).count();
    let (pass, error, skip) = (
        count(NodeStatus::Success),
        count(NodeStatus::Error),
        count(NodeStatus::Skipped),
    );
    let noun = match kind {
        Kind::Run => "models",
        Kind::Seed => "seeds",
    };
    console.info(
        "finished",
        &format!(
            "Finished running {} {noun} in {:.2}s.",
            results.len(),
            elapsed.as_secs_f64()
        ),
        json!({"elapsed_s": elapsed.as_secs_f64()}),
    );
    let failures: Vec<_> = results
        .iter()
        .filter(|r| r.status == NodeStatus::Error)
        .collect();
    if !failures.is_empty() {
        console.info(
            "errors",
            &format!(
                "Completed with {} error{}:",
                failures.len(),
                if failures.len() == 1 { "" } else { "s" }
            ),
            json!({}),
        );
        for failure in &failures {
            let node = &project.nodes[&failure.unique_id];
            console.info(
                "error_detail",
                &format!(
                    "  {} {} ({}):\n{}",
                    node.resource_type(),
                    node.name,
                    node.original_file_path,
                    indent(&failure.message)
                ),
                json!({"unique_id": failure.unique_id}),
            );
        }
    }
    console.info(
        "summary",
        &format!(
            "Done. PASS={pass} WARN=0 ERROR={error} SKIP={skip} TOTAL={}",
            results.len()
        ),
        json!({"pass": pass, "warn": 0, "error": error, "skip": skip, "total": results.len()}),
    );
    let target_dir = loaded.target_dir();
    let invocation = invocation();
    let command = match kind {
        Kind::Run => "run",
        Kind::Seed => "seed",
    };
    run_results::write(&target_dir, command, &invocation, &results, elapsed)?;
    // What ran is inspectable: compiled SQL under target/compiled and in the manifest.
    let compiled: BTreeMap<NodeId, CompiledNode> = results
        .iter()
        .filter_map(|r| {
            r.compiled_code.as_ref().map(|sql| {
                let node = CompiledNode {
                    sql: sql.clone(),
                    macros: std::collections::BTreeSet::new(),
                };
                (r.unique_id.clone(), node)
            })
        })
        .collect();
    write_compiled(project, &target_dir, &compiled)?;
    let manifest = manifest::build(project, &loaded.dag, &compiled, &invocation);
    manifest::write(&target_dir, &manifest)?;
    drop(manifest);
    loaded.finish();
    match end_failure {
        Some(failure) => Err(failure),
        None => Ok(i32::from(error > 0)),
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn open_adapter(target: &crate::project::profiles::Target) -> Result<Box<dyn Adapter>> {
    match &target.warehouse {
        Warehouse::DuckDb(duck) => DuckDbAdapter::open(duck, LOCK_WAIT)
            .map(|a| Box::new(a) as Box<dyn Adapter>)
            .map_err(|err| {
                let hint = match err.kind {
                    AdapterErrorKind::Locked => "wait for the other ghforge (or DuckDB) process to finish, or point the profile's `path` elsewhere",
                    AdapterErrorKind::Other => "check the target's `path`, `settings` and `extensions` in profiles.yml",
                };
                Error::Execution(Diagnostic::new(DiagnosticKind::Execution, err.message).hint(hint))
            }),
        Warehouse::Snowflake(_) => Err(Error::Project(
            Diagnostic::new(DiagnosticKind::Profile, format!("target `{}` is a Snowflake target, which `ghforge run` cannot build yet", target.name))
                .hint("use a `type: duckdb` target"),
        )),
    }
}
