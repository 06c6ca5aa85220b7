//! `run_results.json` in dbt's v6 shape: one entry per node with status, timing, adapter
//! response and message.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::compile::write_if_changed;
use crate::error::Diagnostic;
use crate::execute::NodeResult;

use super::manifest::Invocation;

#[derive(Serialize)]
struct RunResults<'a> {
    metadata: Metadata<'a>,
    results: Vec<ResultEntry<'a>>,
    elapsed_time: f64,
    args: Args<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    dbt_schema_version: &'static str,
    dbt_version: &'static str,
    ghforge_version: &'static str,
    generated_at: &'a str,
    invocation_id: &'a str,
    env: Empty,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Args<'a> {
    which: &'a str,
}

#[derive(Serialize)]
struct TimingEntry {
    name: &'static str,
    started_at: String,
    completed_at: String,
}

#[derive(Serialize)]
struct AdapterResponse<'a> {
    #[serde(rename = "_message", skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_affected: Option<u64>,
}

#[derive(Serialize)]
struct ResultEntry<'a> {
    status: &'static str,
    timing: Vec<TimingEntry>,
    thread_id: String,
    execution_time: f64,
    adapter_response: AdapterResponse<'a>,
    message: &'a str,
    failures: Option<u64>,
    unique_id: &'a str,
    compiled: bool,
    compiled_code: Option<&'a str>,
}

fn iso(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Write `run_results.json` for `results` into `target_dir`.
pub fn write(
    target_dir: &Path,
    command: &str,
    invocation: &Invocation,
    results: &[NodeResult],
    elapsed: Duration,
) -> Result<(), Diagnostic> {
    let mut entries: Vec<ResultEntry<'_>> = results
        .iter()
        .map(|r| ResultEntry {
            status: r.status.as_str(),
            timing: r
                .timing
                .iter()
                .map(|t| TimingEntry {
                    name: t.name,
                    started_at: iso(t.started_at),
                    completed_at: iso(t.completed_at),
                })
                .collect(),
            thread_id: format!("Thread-{}", r.thread + 1),
            execution_time: r.execution_time.as_secs_f64(),
            adapter_response: AdapterResponse {
                message: r.adapter_message.as_deref(),
                rows_affected: r.rows_affected,
            },
            message: &r.message,
            failures: r.failures,
            unique_id: r.unique_id.as_str(),
            compiled: r.compiled_code.is_some(),
            compiled_code: r.compiled_code.as_deref(),
        })
        .collect();
    entries.sort_by(|a, b| a.unique_id.cmp(b.unique_id));
    let document = RunResults {
        metadata: Metadata {
            dbt_schema_version: "https://schemas.getdbt.com/dbt/run-results/v6.json",
            dbt_version: "1.9.0",
            ghforge_version: env!("CARGO_PKG_VERSION"),
            generated_at: &invocation.generated_at,
            invocation_id: &invocation.invocation_id,
            env: Empty {},
        },
        results: entries,
        elapsed_time: elapsed.as_secs_f64(),
        args: Args { which: command },
    };
    std::fs::create_dir_all(target_dir)
        .map_err(|err| crate::error::io_error(target_dir, "create", &err))?;
    let text = serde_json::to_vec_pretty(&document).unwrap_or_default();
    write_if_changed(&target_dir.join("run_results.json"), &text)
}
