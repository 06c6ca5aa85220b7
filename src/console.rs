//! What commands print: dbt-like human lines (`HH:MM:SS  1 of 5 START ...`) or one JSON object
//! per event (`--log-format json`). Colour unless `NO_COLOR` is set.

use std::io::Write;

use serde_json::{Value, json};

use crate::cli::LogFormat;
use crate::execute::{NodeResult, NodeStatus, describe};
use crate::project::nodes::Node;

/// The console of one command invocation.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub format: LogFormat,
    pub color: bool,
}

/// The bracketed status at the end of a node line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Run,
    Ok,
    Error,
    Skip,
}

/// Width dbt pads node lines to, before the status.
const LINE_WIDTH: usize = 80;

impl Console {
    /// An informational event: `text` for humans, `fields` added to the JSON form.
    pub fn info(&self, event: &str, text: &str, fields: Value) {
        self.emit(event, "info", text, fields);
    }

    /// A warning, printed to stderr in text mode.
    pub fn warn(&self, event: &str, text: &str) {
        match self.format {
            LogFormat::Text => {
                let _ = writeln!(std::io::stderr(), "{}  warning: {text}", clock());
            }
            LogFormat::Json => self.emit(event, "warn", text, json!({})),
        }
    }

    /// `1 of 5 START sql table model silver.events ....... [RUN]`
    pub fn node_start(&self, index: usize, total: usize, what: &str) {
        let text = self.padded(
            &format!("{index} of {total} START {what}"),
            Status::Run,
            "RUN",
        );
        self.emit(
            "node_start",
            "info",
            &text,
            json!({"index": index, "total": total}),
        );
    }

    /// `1 of 5 OK created sql table model silver.events ... [OK in 0.12s]` and friends.
    pub fn node_done(&self, index: usize, total: usize, node: &Node, result: &NodeResult) {
        let what = describe(node);
        let is_test = matches!(node.kind, crate::project::nodes::NodeKind::Test { .. });
        let seconds = result.execution_time.as_secs_f64();
        let (message, status, label) = match result.status {
            NodeStatus::Success => {
                let verb = if matches!(node.kind, crate::project::nodes::NodeKind::Seed) {
                    "loaded"
                } else {
                    "created"
                };
                let label = match result.rows_affected {
                    Some(rows) if matches!(node.kind, crate::project::nodes::NodeKind::Seed) => {
                        format!("INSERT {rows} in {seconds:.2}s")
                    }
                    _ => format!("OK in {seconds:.2}s"),
                };
                (
                    format!("{index} of {total} OK {verb} {what}"),
                    Status::Ok,
                    label,
                )
            }
            NodeStatus::Pass => (
                format!("{index} of {total} PASS {}", node.name),
                Status::Ok,
                format!("PASS in {seconds:.2}s"),
            ),
            NodeStatus::Warn => {
                let n = result.failures.unwrap_or(0);
                (
                    format!("{index} of {total} WARN {n} {}", node.name),
                    Status::Skip,
                    format!("WARN {n} in {seconds:.2}s"),
                )
            }
            NodeStatus::Fail => {
                let n = result.failures.unwrap_or(0);
                (
                    format!("{index} of {total} FAIL {n} {}", node.name),
                    Status::Error,
                    format!("FAIL {n} in {seconds:.2}s"),
                )
            }
            NodeStatus::Error if is_test => (
                format!("{index} of {total} ERROR {what}"),
                Status::Error,
                format!("ERROR in {seconds:.2}s"),
            ),
            NodeStatus::Error => (
                format!("{index} of {total} ERROR creating {what}"),
                Status::Error,
                format!("ERROR in {seconds:.2}s"),
            ),
            NodeStatus::Skipped if is_test => (
                format!("{index} of {total} SKIP {what}"),
                Status::Skip,
                "SKIP".to_owned(),
            ),
            NodeStatus::Skipped => (
                format!(
                    "{index} of {total} SKIP relation {}.{}",
                    node.relation.schema, node.relation.identifier
                ),
                Status::Skip,
                "SKIP".to_owned(),
            ),
        };
        let text = self.padded(&message, status, &label);
        self.emit(
            "node_finished",
            if status == Status::Error {
                "error"
            } else {
                "info"
            },
            &text,
            json!({
                "unique_id": result.unique_id,
                "status": result.status.as_str(),
                "execution_time": seconds,
                "message": result.message,
            }),
        );
    }

    fn padded(&self, message: &str, status: Status, label: &str) -> String {
        let dots = LINE_WIDTH
            .saturating_sub(message.chars().count() + 2)
            .max(3);
        let label = if self.color && self.format == LogFormat::Text {
            let code = match status {
                Status::Run => "",
                Status::Ok => "\u{1b}[32m",
                Status::Error => "\u{1b}[31m",
                Status::Skip => "\u{1b}[33m",
            };
            if code.is_empty() {
                label.to_owned()
            } else {
                format!("{code}{label}\u{1b}[0m")
            }
        } else {
            label.to_owned()
        };
        format!("{message} {} [{label}]", ".".repeat(dots))
    }

    fn emit(&self, event: &str, level: &str, text: &str, fields: Value) {
        let mut out = std::io::stdout().lock();
        let _ = match self.format {
            LogFormat::Text => writeln!(out, "{}  {text}", clock()),
            LogFormat::Json => {
                let mut object = json!({
                    "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    "event": event,
                    "level": level,
                    "msg": text,
                });
                if let (Value::Object(target), Value::Object(extra)) = (&mut object, fields) {
                    target.extend(extra);
                }
                writeln!(out, "{object}")
            }
        };
    }
}

fn clock() -> String {
    chrono::Utc::now().format("%H:%M:%S").to_string()
}
