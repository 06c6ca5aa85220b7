//! `GET /metrics` in Prometheus' text format: the last run (duration, status, per-node
//! durations and rows) from the run history, the loader's ledger (hours by status, rows loaded,
//! quarantined lines per hour) from the snapshot's copy of it, and the snapshot's freshness.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api::AppState;
use super::history::{self, RunRecord};
use super::snapshot::{Snapshot, SnapshotError};

/// A label value escaped as the text format wants it.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The last run's families.
pub fn run_metrics(out: &mut String, run: &RunRecord) {
    let labels = format!(
        "command=\"{}\",invocation_id=\"{}\"",
        label(&run.command),
        label(&run.invocation_id)
    );
    family(
        out,
        "ghforge_last_run_duration_seconds",
        "gauge",
        "Wall time of the last run.",
    );
    let _ = writeln!(
        out,
        "ghforge_last_run_duration_seconds{{{labels}}} {}",
        run.elapsed_seconds
    );
    family(
        out,
        "ghforge_last_run_success",
        "gauge",
        "1 when no node of the last run errored or failed.",
    );
    let ok = u8::from(run.status == "success");
    let _ = writeln!(out, "ghforge_last_run_success{{{labels}}} {ok}");
    family(
        out,
        "ghforge_last_run_nodes",
        "gauge",
        "Nodes of the last run by status.",
    );
    for (status, count) in &run.status_counts {
        let _ = writeln!(
            out,
            "ghforge_last_run_nodes{{status=\"{}\"}} {count}",
            label(status)
        );
    }
    family(
        out,
        "ghforge_node_duration_seconds",
        "gauge",
        "Execution time of each node in the last run.",
    );
    for node in &run.nodes {
        let _ = writeln!(
            out,
            "ghforge_node_duration_seconds{{unique_id=\"{}\",status=\"{}\"}} {}",
            label(&node.unique_id),
            label(&node.status),
            node.execution_time
        );
    }
    family(
        out,
        "ghforge_node_rows_affected",
        "gauge",
        "Rows each node wrote in the last run.",
    );
    for node in &run.nodes {
        if let Some(rows) = node.rows_affected {
            let _ = writeln!(
                out,
                "ghforge_node_rows_affected{{unique_id=\"{}\"}} {rows}",
                label(&node.unique_id)
            );
        }
    }
}

/// The ledger's families, from the snapshot's `_ghforge.load_ledger`.
fn ledger_metrics(out: &mut String, snapshot: &Snapshot) -> Result<(), SnapshotError> {
    if !snapshot.has("_ghforge.load_ledger") {
        return Ok(());
    }
    let by_status: Vec<(String, i64, i64, i64)> = snapshot.with_connection(|c| {
        let mut statement = c.prepare_cached(
            "select coalesce(status, 'unknown'), count(*), coalesce(sum(rows), 0)::bigint, \
                        coalesce(sum(quarantined), 0)::bigint \
                 from _ghforge.load_ledger group by all order by 1",
        )?;
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect()
    })?;
    family(
        out,
        "ghforge_load_hours",
        "gauge",
        "Archive hours in the loader's ledger by status.",
    );
    for (status, hours, _, _) in &by_status {
        let _ = writeln!(
            out,
            "ghforge_load_hours{{status=\"{}\"}} {hours}",
            label(status)
        );
    }
    family(
        out,
        "ghforge_load_rows",
        "gauge",
        "Event lines loaded into bronze.",
    );
    let rows: i64 = by_status.iter().map(|s| s.2).sum();
    let _ = writeln!(out, "ghforge_load_rows {rows}");
    family(
        out,
        "ghforge_load_quarantined_lines",
        "gauge",
        "Lines quarantined, in total and per hour that had any.",
    );
    let quarantined: i64 = by_status.iter().map(|s| s.3).sum();
    let _ = writeln!(out, "ghforge_load_quarantined_lines {quarantined}");
    let per_hour: Vec<(String, i64)> = snapshot
        .with_connection(|c| {
            let mut statement = c.prepare_cached(
                "select strftime(hour, '%Y-%m-%dT%H:%M:%SZ'), quarantined from _ghforge.load_ledger \
                 where quarantined > 0 order by hour",
            )?;
            statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        })
        .unwrap_or_default();
    for (hour, lines) in per_hour {
        let _ = writeln!(
            out,
            "ghforge_load_quarantined_lines{{hour=\"{hour}\"}} {lines}"
        );
    }
    Ok(())
}

fn snapshot_metrics(out: &mut String, snapshot: &Snapshot) {
    family(
        out,
        "ghforge_snapshot_info",
        "gauge",
        "The snapshot being served (always 1).",
    );
    let _ = writeln!(
        out,
        "ghforge_snapshot_info{{invocation_id=\"{}\",command=\"{}\"}} 1",
        label(&snapshot.info.invocation_id),
        label(&snapshot.info.command)
    );
    let seconds = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
    };
    if let Some(latest) = seconds(&snapshot.info.latest_created_at) {
        family(
            out,
            "ghforge_latest_event_timestamp_seconds",
            "gauge",
            "The latest event time in the served data.",
        );
        let _ = writeln!(out, "ghforge_latest_event_timestamp_seconds {latest}");
    }
    if let Some(hour) = seconds(&snapshot.info.latest_loaded_hour) {
        family(
            out,
            "ghforge_latest_loaded_hour_timestamp_seconds",
            "gauge",
            "The latest hour the ledger has as loaded.",
        );
        let _ = writeln!(out, "ghforge_latest_loaded_hour_timestamp_seconds {hour}");
    }
}

/// The whole exposition.
pub fn render(target_dir: &std::path::Path, snapshot: &Snapshot) -> String {
    let mut out = String::new();
    snapshot_metrics(&mut out, snapshot);
    if let Some(run) = history::load(target_dir, 1).first() {
        run_metrics(&mut out, run);
    }
    if let Err(err) = ledger_metrics(&mut out, snapshot) {
        tracing::warn!("cannot read the ledger of the snapshot: {err}");
    }
    out
}

pub async fn handler(State(state): State<AppState>) -> Response {
    let snapshot = state.current.get();
    let target_dir = state.target_dir.clone();
    match tokio::task::spawn_blocking(move || render(&target_dir, &snapshot)).await {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(err) => super::problem::Problem::Internal(err.to_string()).into_response(),
    }
}
