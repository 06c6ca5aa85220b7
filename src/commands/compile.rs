//! `ghforge compile`: render selected models and tests to SQL files and write the manifest.

use std::collections::BTreeMap;

use serde_json::json;

use crate::adapters::duckdb::Access;
use crate::artifacts::manifest::{self, Invocation};
use crate::cli::CompileArgs;
use crate::compile::{compile, write_compiled, write_plans};
use crate::error::Result;
use crate::execute::{RunOptions, plan_nodes};
use crate::project::nodes::ResourceType;
use crate::project::profiles::Warehouse;
use crate::settings::Settings;

use super::{found_summary, load_and_select};

pub fn run(settings: Settings, args: &CompileArgs) -> Result<i32> {
    let started = crate::clock::now();
    let loaded = load_and_select(
        settings,
        &args.selection,
        &[ResourceType::Model, ResourceType::Test],
    )?;
    let console = loaded.console;
    console.info("FoundStats", &found_summary(&loaded.project), json!({}));
    let compiled = compile(&loaded.project, &loaded.dag, &loaded.selected)?;
    let target_dir = loaded.target_dir();
    write_compiled(&loaded.project, &target_dir, &compiled)?;
    let invocation = invocation();
    let manifest = manifest::build(&loaded.project, &loaded.dag, &compiled, &invocation);
    manifest::write(&target_dir, &manifest)?;
    write_plans_of(&loaded);
    console.info(
        "CompileComplete",
        &format!(
            "Compiled {} nodes into {}/compiled in {:.2}s",
            compiled.len(),
            loaded.project.file.target_path,
            crate::clock::since(started).as_secs_f64()
        ),
        json!({"nodes": compiled.len(), "elapsed_s": crate::clock::since(started).as_secs_f64()}),
    );
    // As dbt: the compiled code of the node the first `--select` names.
    let first = args
        .selection
        .select
        .first()
        .map(|s| s.split_whitespace().next().unwrap_or(""));
    if let Some(name) = first
        && let Some((id, node)) = compiled
            .iter()
            .find(|(id, _)| loaded.project.nodes[*id].name == name)
    {
        console.info(
            "CompiledNode",
            &format!("Compiled node '{name}' is:\n{}", node.sql.trim_end()),
            json!({"node_name": name, "unique_id": id.to_string(), "compiled": node.sql}),
        );
    }
    // The process exits next: skip freeing (see `Loaded::finish`).
    std::mem::forget(manifest);
    std::mem::forget(compiled);
    loaded.finish();
    Ok(0)
}

/// `ghforge parse`: the whole project read and its manifest written, no SQL rendered.
pub fn parse(settings: Settings) -> Result<i32> {
    let started = crate::clock::now();
    let loaded = load_and_select(settings, &crate::cli::SelectionArgs::default(), &[])?;
    let console = loaded.console;
    console.info("FoundStats", &found_summary(&loaded.project), json!({}));
    let target_dir = loaded.target_dir();
    let (none, invocation) = (BTreeMap::new(), invocation());
    let manifest = manifest::build(&loaded.project, &loaded.dag, &none, &invocation);
    manifest::write(&target_dir, &manifest)?;
    let elapsed = crate::clock::since(started).as_secs_f64();
    console.info(
        "ParseComplete",
        &format!(
            "Parsed {} nodes; wrote {}/manifest.json in {elapsed:.2}s",
            loaded.project.nodes.len(),
            loaded.project.file.target_path,
        ),
        json!({"nodes": loaded.project.nodes.len(), "elapsed_s": elapsed}),
    );
    std::mem::forget(manifest);
    loaded.finish();
    Ok(0)
}

/// Next to each compiled file, the node's plan under `<target-path>/run/` (as `run` writes it),
/// on an embedded DuckDB target: introspection reads the database, read-only, so an incremental
/// model shows the strategy it would apply now. A Snowflake target is not logged in to by
/// `compile`; its plans are written by `run --dry-run`. Plans are a convenience here: a database
/// that cannot be read is a warning, not a failed compile.
fn write_plans_of(loaded: &super::Loaded) {
    let project = &loaded.project;
    let Warehouse::DuckDb(duck) = &project.target.warehouse else {
        return;
    };
    let warn = |message: String| loaded.console.warn("PlansNotWritten", &message);
    let adapter = match super::warehouse::open_duckdb(&project.target, duck, Access::ReadOnly) {
        Ok(adapter) => adapter,
        Err(err) => return warn(format!("plans not written under run/: {err}")),
    };
    let options = RunOptions {
        threads: 1,
        full_refresh: false,
        fail_fast: false,
        tests_gate_children: false,
    };
    let planned = match plan_nodes(project, &loaded.dag, &loaded.selected, &adapter, options) {
        Ok(planned) => planned,
        Err(message) => return warn(format!("plans not written under run/: {message}")),
    };
    let mut plans = BTreeMap::new();
    for (id, plan) in &planned {
        match plan {
            Ok(plan) => {
                plans.insert(id.clone(), plan);
            }
            Err(message) => warn(format!("cannot plan `{id}`: {message}")),
        }
    }
    if let Err(err) = write_plans(project, &loaded.target_dir(), &plans) {
        warn(format!("plans not written under run/: {err}"));
    }
}

/// The invocation id and timestamps for artifacts written now.
pub fn invocation() -> Invocation {
    let now = crate::clock::now();
    Invocation {
        invocation_id: crate::invocation::id().to_owned(),
        generated_at: now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        created_at: now.timestamp_micros() as f64 / 1e6,
    }
}
