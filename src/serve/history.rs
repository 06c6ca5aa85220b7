//! Run history as the server reads it: each run's `run_results.json`, copied under
//! `<target-path>/history/` by `run`/`build`, newest first. An unreadable file is skipped with a
//! warning, never an error of the request.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// One node of a run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeRun {
    pub unique_id: String,
    pub status: String,
    pub execution_time: f64,
    pub rows_affected: Option<u64>,
    pub failures: Option<u64>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub message: String,
}

/// One run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunRecord {
    pub invocation_id: String,
    /// `run`, `build`, `seed` or `test`.
    pub command: String,
    pub generated_at: String,
    pub elapsed_seconds: f64,
    /// `success` when no node errored or failed, else `error`.
    pub status: String,
    pub status_counts: std::collections::BTreeMap<String, u64>,
    pub nodes: Vec<NodeRun>,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn node_of(entry: &Value) -> NodeRun {
    let timing = entry["timing"].as_array();
    let execute = timing.and_then(|t| t.iter().find(|t| t["name"] == "execute"));
    let first = timing.and_then(|t| t.first());
    let last = timing.and_then(|t| t.last());
    NodeRun {
        unique_id: text(&entry["unique_id"]),
        status: text(&entry["status"]),
        execution_time: entry["execution_time"].as_f64().unwrap_or(0.0),
        rows_affected: entry["adapter_response"]["rows_affected"].as_u64(),
        failures: entry["failures"].as_u64(),
        started_at: execute
            .or(first)
            .and_then(|t| t["started_at"].as_str())
            .map(str::to_owned),
        completed_at: execute
            .or(last)
            .and_then(|t| t["completed_at"].as_str())
            .map(str::to_owned),
        message: text(&entry["message"]),
    }
}

/// A run from the text of its `run_results.json`.
pub fn parse(document: &str) -> Option<RunRecord> {
    let json: Value = serde_json::from_str(document).ok()?;
    let nodes: Vec<NodeRun> = json["results"].as_array()?.iter().map(node_of).collect();
    let mut status_counts = std::collections::BTreeMap::new();
    for node in &nodes {
        *status_counts.entry(node.status.clone()).or_insert(0) += 1;
    }
    let failed = nodes
        .iter()
        .any(|n| matches!(n.status.as_str(), "error" | "fail"));
    Some(RunRecord {
        invocation_id: text(&json["metadata"]["invocation_id"]),
        command: text(&json["args"]["which"]),
        generated_at: text(&json["metadata"]["generated_at"]),
        elapsed_seconds: json["elapsed_time"].as_f64().unwrap_or(0.0),
        status: if failed { "error" } else { "success" }.to_owned(),
        status_counts,
        nodes,
    })
}

/// The runs of `<target-path>/history/`, newest first, at most `limit`.
pub fn load(target_dir: &Path, limit: usize) -> Vec<RunRecord> {
    let files = match super::history_files(&super::history_dir(target_dir)) {
        Ok(files) => files,
        Err(err) => {
            tracing::warn!("cannot list the run history: {err}");
            return Vec::new();
        }
    };
    files
        .iter()
        .rev()
        .take(limit)
        .filter_map(|path| match std::fs::read_to_string(path) {
            Ok(text) => parse(&text).or_else(|| {
                tracing::warn!("`{}` is not a run_results.json", path.display());
                None
            }),
            Err(err) => {
                tracing::warn!("cannot read `{}`: {err}", path.display());
                None
            }
        })
        .collect()
}

/// The run `invocation_id`, if the history has it.
pub fn find(target_dir: &Path, invocation_id: &str) -> Option<RunRecord> {
    let files = super::history_files(&super::history_dir(target_dir)).ok()?;
    let suffix = format!("-{invocation_id}.json");
    let path = files
        .iter()
        .find(|p| p.to_string_lossy().ends_with(&suffix))?;
    parse(&std::fs::read_to_string(path).ok()?)
}

/// The invocation id of the newest run, for the runs endpoints' `ETag`.
pub fn newest_id(target_dir: &Path) -> Option<String> {
    let files = super::history_files(&super::history_dir(target_dir)).ok()?;
    super::invocation_of(files.last()?)
}
