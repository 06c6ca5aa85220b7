//! `/runs`: run monitoring. The last runs, then one run (`?run=<invocation_id>`, default the
//! newest) as a timeline of its nodes with status counts and the slowest nodes, then the
//! loader's ledger from the snapshot: hours loaded, missing and failed, events/s and
//! quarantined lines per hour.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{escape, freshness, layout, url_escape};
use crate::serve::api::AppState;
use crate::serve::history::{self, RunRecord};
use crate::serve::snapshot::{Snapshot, SnapshotError};

const RUNS_SHOWN: usize = 20;

pub async fn page(
    State(state): State<AppState>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let snapshot = state.current.get();
    let target_dir = state.target_dir.clone();
    let chosen = query.get("run").cloned();
    let rendered = tokio::task::spawn_blocking(move || {
        let runs = history::load(&target_dir, RUNS_SHOWN);
        let run = match &chosen {
            Some(id) => history::find(&target_dir, id),
            None => runs.first().cloned(),
        };
        let ledger = ledger_section(&snapshot).unwrap_or_else(|err| {
            format!(
                "<p>The ledger cannot be read: {}</p>",
                escape(&err.to_string())
            )
        });
        let mut body = format!("<h1>Runs</h1>{}", freshness(&snapshot.info));
        body.push_str(&runs_table(&runs));
        let status = match (&run, &chosen) {
            (Some(run), _) => {
                body.push_str(&run_section(run));
                StatusCode::OK
            }
            (None, Some(id)) => {
                let _ = write!(
                    body,
                    "<p id=\"no-run\">No run `{}` in the history.</p>",
                    escape(id)
                );
                StatusCode::NOT_FOUND
            }
            (None, None) => {
                body.push_str("<p id=\"no-run\">No runs yet.</p>");
                StatusCode::OK
            }
        };
        body.push_str(&ledger);
        let script = run.as_ref().map(timeline_script).unwrap_or_default();
        (status, layout("Runs", &body, &script))
    })
    .await;
    match rendered {
        Ok(page) => page.into_response(),
        Err(err) => crate::serve::problem::Problem::Internal(err.to_string()).into_response(),
    }
}

fn runs_table(runs: &[RunRecord]) -> String {
    let mut out = String::from(
        "<section class=\"card\"><h2>Last runs</h2><table id=\"runs\"><tr><th>when</th><th>command</th>\
         <th>status</th><th class=\"num\">seconds</th><th>nodes</th><th>invocation</th></tr>",
    );
    for run in runs {
        let counts: Vec<String> = run
            .status_counts
            .iter()
            .map(|(status, n)| format!("{}={n}", escape(status)))
            .collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"status-{status}\">{status}</td><td class=\"num\">{:.2}</td>\
             <td>{}</td><td><a href=\"/runs?run={}\">{}</a></td></tr>",
            escape(&run.generated_at),
            escape(&run.command),
            run.elapsed_seconds,
            counts.join(" "),
            url_escape(&run.invocation_id),
            escape(&run.invocation_id),
            status = escape(&run.status),
        );
    }
    out.push_str("</table></section>");
    out
}

fn run_section(run: &RunRecord) -> String {
    // The timeline's box is sized here: one row per node (Chart.js fills its parent's height).
    let timed = run.nodes.iter().filter(|n| n.started_at.is_some()).count();
    let mut out = format!(
        "<section class=\"card\"><h2>Run <code id=\"run-id\">{}</code> ({}, {:.2}s)</h2>\
         <div style=\"position:relative;height:{}px\"><canvas id=\"chart-timeline\"></canvas></div>",
        escape(&run.invocation_id),
        escape(&run.command),
        run.elapsed_seconds,
        timed * 14 + 60
    );
    let mut slowest: Vec<_> = run.nodes.iter().collect();
    slowest.sort_by(|a, b| b.execution_time.total_cmp(&a.execution_time));
    out.push_str("<h2>Slowest nodes</h2><table id=\"slowest\"><tr><th>node</th><th class=\"num\">seconds</th></tr>");
    for node in slowest.iter().take(10) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{:.3}</td></tr>",
            escape(&node.unique_id),
            node.execution_time
        );
    }
    out.push_str(
        "</table><h2>Nodes</h2><table id=\"run-nodes\"><tr><th>node</th><th>status</th>\
                   <th class=\"num\">seconds</th><th class=\"num\">rows</th><th>message</th></tr>",
    );
    for node in &run.nodes {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"status-{status}\">{status}</td><td class=\"num\">{:.3}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&node.unique_id),
            node.execution_time,
            node.rows_affected
                .map(|r| r.to_string())
                .unwrap_or_default(),
            escape(&node.message),
            status = escape(&node.status),
        );
    }
    out.push_str("</table></section>");
    out
}

/// The timeline: one floating bar per node from its start to its end, in seconds since the
/// run's first node started. The data is inlined as JSON (no user text reaches the script).
fn timeline_script(run: &RunRecord) -> String {
    let seconds = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_micros() as f64 / 1e6)
    };
    let mut spans: Vec<(String, f64, f64)> = run
        .nodes
        .iter()
        .filter_map(|n| {
            Some((
                n.unique_id.clone(),
                seconds(&n.started_at)?,
                seconds(&n.completed_at)?,
            ))
        })
        .collect();
    spans.sort_by(|a, b| a.1.total_cmp(&b.1));
    let start = spans.first().map_or(0.0, |s| s.1);
    let labels: Vec<&str> = spans.iter().map(|s| s.0.as_str()).collect();
    let data: Vec<[f64; 2]> = spans.iter().map(|s| [s.1 - start, s.2 - start]).collect();
    let json = serde_json::json!({"labels": labels, "data": data})
        .to_string()
        .replace("</", "<\\/");
    format!(
        "<script src=\"/assets/chart.umd.min.js\"></script><script>(function(){{\
         const d = {json};\
         const short = (id) => {{ const p = id.split('.'); const t = p[0] + ' ' + (p[2] || id); return t.length > 48 ? t.slice(0, 47) + '…' : t; }};\
         new Chart(document.getElementById('chart-timeline'), {{type: 'bar', data: {{labels: d.labels, datasets: [{{label: 'seconds since the first node started', data: d.data, backgroundColor: '#0969da'}}]}},\
           options: {{animation: false, indexAxis: 'y', responsive: true, maintainAspectRatio: false,\
             scales: {{y: {{ticks: {{autoSkip: false, font: {{size: 9}}, callback: function (v) {{ return short(this.getLabelForValue(v)); }}}}}}}}}}}});\
         document.body.dataset.ready = 'true';}})();</script>"
    )
}

/// The ledger's hours as a table with a status summary.
fn ledger_section(snapshot: &Snapshot) -> Result<String, SnapshotError> {
    if !snapshot.has("_ghforge.load_ledger") {
        return Ok("<p id=\"ledger\">This snapshot has no loader ledger.</p>".to_owned());
    }
    type LedgerRow = (
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<f64>,
    );
    let rows: Vec<LedgerRow> = snapshot.with_connection(|c| {
        let mut statement = c.prepare_cached(
            "select strftime(hour, '%Y-%m-%dT%H'), coalesce(status, ''), rows, quarantined, bytes, \
                    epoch(finished_at) - epoch(started_at) from _ghforge.load_ledger order by hour desc",
        )?;
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
            .collect()
    })?;
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &rows {
        *by_status.entry(row.1.as_str()).or_default() += 1;
    }
    let summary: Vec<String> = by_status
        .iter()
        .map(|(s, n)| format!("{}: {n}", escape(s)))
        .collect();
    let mut out = format!(
        "<section class=\"card\"><h2>Loader ledger</h2><p id=\"ledger-summary\">hours {}</p>\
         <table id=\"ledger\"><tr><th>hour</th><th>status</th><th class=\"num\">rows</th>\
         <th class=\"num\">quarantined</th><th class=\"num\">MiB</th><th class=\"num\">events/s</th></tr>",
        summary.join(", ")
    );
    for (hour, status, lines, quarantined, bytes, seconds) in &rows {
        let rate = match (lines, seconds) {
            (Some(lines), Some(seconds)) if *seconds > 0.0 => {
                format!("{:.0}", *lines as f64 / seconds)
            }
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"status-{status}\">{status}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{rate}</td></tr>",
            escape(hour),
            lines.map(|v| v.to_string()).unwrap_or_default(),
            quarantined.map(|v| v.to_string()).unwrap_or_default(),
            bytes
                .map(|b| format!("{:.1}", b as f64 / 1_048_576.0))
                .unwrap_or_default(),
            status = escape(status),
        );
    }
    out.push_str("</table></section>");
    Ok(out)
}
