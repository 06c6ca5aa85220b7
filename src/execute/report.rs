//! The console lines of a node, as dbt prints them: `1 of 5 START sql table model silver.events
//! ... [RUN]` then `1 of 5 OK created sql table model silver.events ... [OK in 0.12s]`, with dbt's
//! event names (`LogStartLine`, `LogModelResult`, `LogTestResult`, `LogSeedResult`,
//! `LogSkipResult`) and `node_info` in dbt's shape.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::console::{Console, Status};
use crate::project::nodes::{Node, NodeKind};

use super::{NodeResult, NodeStatus, describe};

/// `node_info` of dbt's structured logs.
fn node_info(
    node: &Node,
    status: &str,
    started_at: Option<SystemTime>,
    finished_at: Option<SystemTime>,
) -> Value {
    let stamp = |time: Option<SystemTime>| {
        time.map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        })
        .unwrap_or_default()
    };
    let relation = &node.relation;
    json!({
        "unique_id": node.unique_id,
        "node_name": node.name,
        "node_path": node.path,
        "resource_type": node.resource_type().as_str(),
        "materialized": node.config.materialized.as_str(),
        "node_status": status,
        "node_started_at": stamp(started_at),
        "node_finished_at": stamp(finished_at),
        "node_relation": {
            "database": relation.database,
            "schema": relation.schema,
            "alias": relation.identifier,
            "relation_name": relation.quoted(),
        },
    })
}

/// `1 of 5 START sql table model silver.events ....... [RUN]`
pub fn node_start(console: &Console, index: usize, total: usize, node: &Node) {
    let info = node_info(node, "started", Some(crate::clock::system_now()), None);
    console.node_line(
        "LogStartLine",
        &format!("{index} of {total} START {}", describe(node)),
        Status::Run,
        "RUN",
        &json!({"node_info": info, "index": index, "total": total}),
    );
}

/// `1 of 5 OK created sql table model silver.events ... [OK in 0.12s]` and friends.
pub fn node_done(console: &Console, index: usize, total: usize, node: &Node, result: &NodeResult) {
    let (name, message, status, label) = line(index, total, node, result);
    let started = result.timing.first().map(|t| t.started_at);
    let finished = result
        .timing
        .last()
        .map_or_else(crate::clock::system_now, |t| t.completed_at);
    let info = node_info(node, result.status.as_str(), started, Some(finished));
    console.node_line(
        name,
        &message,
        status,
        &label,
        &json!({
            "node_info": info,
            "index": index,
            "total": total,
            "status": result.status.as_str(),
            "execution_time": result.execution_time.as_secs_f64(),
            "num_failures": result.failures,
            "message": result.message,
        }),
    );
}

/// The event name, message, status colour and bracketed label of a finished node.
fn line(
    index: usize,
    total: usize,
    node: &Node,
    result: &NodeResult,
) -> (&'static str, String, Status, String) {
    let what = describe(node);
    let (is_test, is_seed) = match node.kind {
        NodeKind::Test { .. } => (true, false),
        NodeKind::Seed => (false, true),
        _ => (false, false),
    };
    let name = match (is_test, is_seed) {
        (true, _) => "LogTestResult",
        (_, true) => "LogSeedResult",
        _ => "LogModelResult",
    };
    let seconds = result.execution_time.as_secs_f64();
    let head = format!("{index} of {total}");
    let n = result.failures.unwrap_or(0);
    match result.status {
        NodeStatus::Success => {
            let verb = if is_seed { "loaded" } else { "created" };
            let label = match result.rows_affected {
                Some(rows) if is_seed => format!("INSERT {rows} in {seconds:.2}s"),
                _ => format!("OK in {seconds:.2}s"),
            };
            (name, format!("{head} OK {verb} {what}"), Status::Ok, label)
        }
        NodeStatus::Pass => (
            name,
            format!("{head} PASS {}", node.name),
            Status::Ok,
            format!("PASS in {seconds:.2}s"),
        ),
        NodeStatus::Warn => (
            name,
            format!("{head} WARN {n} {}", node.name),
            Status::Skip,
            format!("WARN {n} in {seconds:.2}s"),
        ),
        NodeStatus::Fail => (
            name,
            format!("{head} FAIL {n} {}", node.name),
            Status::Error,
            format!("FAIL {n} in {seconds:.2}s"),
        ),
        NodeStatus::Error => {
            let creating = if is_test { "" } else { "creating " };
            (
                name,
                format!("{head} ERROR {creating}{what}"),
                Status::Error,
                format!("ERROR in {seconds:.2}s"),
            )
        }
        NodeStatus::Skipped if is_test => (
            "LogSkipResult",
            format!("{head} SKIP {what}"),
            Status::Skip,
            "SKIP".to_owned(),
        ),
        NodeStatus::Skipped => (
            "LogSkipResult",
            format!(
                "{head} SKIP relation {}.{}",
                node.relation.schema, node.relation.identifier
            ),
            Status::Skip,
            "SKIP".to_owned(),
        ),
    }
}
