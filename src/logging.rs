//! Where `tracing` events go. Two layers:
//!
//! - **The console** (stdout; warnings on stderr): events of [`console::TARGET`] and
//!   [`console::USER_TARGET`] (the project's `log(..., info=True)`, `print`, `exceptions.warn`),
//!   and with `--log-level debug` every ghforge event, executed statements included. Text mode
//!   prints dbt-like lines `HH:MM:SS  message`; `--log-format json` prints one object per line in
//!   dbt's structured-log shape: `info.{name,level,ts,msg,invocation_id,pid,thread}` and
//!   `data` with `data.node_info.{unique_id,node_status,node_started_at,node_finished_at,
//!   materialized,resource_type,...}` for events of a node. Events inside a `node` span take its
//!   node_info.
//! - **The debug log** `<target-path>/logs/ghforge.log` (dbt's `logs/dbt.log`): every event the
//!   `GHFORGE_LOG` filter lets through (default `ghforge=debug`): each statement a warehouse
//!   session runs with its node, duration and rows, and every console line. Events before the
//!   project's folder is known are buffered, then written.
//!
//! Secrets never reach either: S3 keys and profile `settings` are applied on the raw connection
//! when a database is opened, not through a session.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::LogFormat;
use crate::console;

/// Where log lines go: memory until the file is open.
enum Sink {
    Buffer(Vec<u8>),
    File(std::fs::File),
}

#[derive(Clone)]
struct LogFile(Arc<Mutex<Sink>>);

impl Write for LogFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match &mut *self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            Sink::Buffer(buffer) => {
                buffer.extend_from_slice(bytes);
                Ok(bytes.len())
            }
            Sink::File(file) => file.write(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut *self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            Sink::Buffer(_) => Ok(()),
            Sink::File(file) => file.flush(),
        }
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = LogFile;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static FILE: OnceLock<LogFile> = OnceLock::new();

/// How the console prints.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleOptions {
    pub format: LogFormat,
    /// ANSI colours on node statuses (a terminal without `NO_COLOR`).
    pub color: bool,
    /// The most verbose level shown (`--log-level`).
    pub level: LevelFilter,
}

/// The fields of one event.
#[derive(Default)]
struct Fields {
    message: String,
    name: String,
    status: String,
    data: String,
    /// Any other field, as `key=value` text.
    other: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => value.clone_into(&mut self.message),
            "name" => value.clone_into(&mut self.name),
            "status" => value.clone_into(&mut self.status),
            "data" => value.clone_into(&mut self.data),
            other => self.other.push((other, value.to_owned())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// What a `node` span says about its node, kept in the span's extensions.
struct NodeSpan(Map<String, Value>);

impl Visit for NodeSpan {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// The console layer.
struct ConsoleLayer(ConsoleOptions);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for ConsoleLayer {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        if attributes.metadata().name() != "node" {
            return;
        }
        let mut info = NodeSpan(Map::new());
        attributes.record(&mut info);
        info.0.insert("node_status".into(), "started".into());
        info.0.insert("node_started_at".into(), timestamp().into());
        info.0.insert("node_finished_at".into(), "".into());
        info.0.remove("index");
        info.0.remove("total");
        info.0.remove("thread");
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(info);
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let metadata = event.metadata();
        let target = metadata.target();
        let level = *metadata.level();
        let own = target == console::TARGET || target == console::USER_TARGET;
        let shown = level <= self.0.level
            && (own || (target.starts_with("ghforge") && self.0.level >= LevelFilter::DEBUG));
        if !shown {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.name.is_empty() {
            fields.name = default_name(target, level).to_owned();
        }
        let node = context.event_scope(event).and_then(|scope| {
            scope
                .from_root()
                .filter(|span| span.name() == "node")
                .last()
                .and_then(|span| span.extensions().get::<NodeSpan>().map(|n| n.0.clone()))
        });
        match self.0.format {
            LogFormat::Text => self.print_text(level, own, &fields),
            LogFormat::Json => print_json(level, fields, node),
        }
    }
}

impl ConsoleLayer {
    fn print_text(&self, level: Level, own: bool, fields: &Fields) {
        let mut text = fields.message.clone();
        if !own {
            for (key, value) in &fields.other {
                text.push_str(&format!(" {key}={value}"));
            }
        }
        if self.0.color {
            text = colored(&text, &fields.status);
        }
        let clock = crate::clock::now().format("%H:%M:%S");
        let _ = if level == Level::WARN {
            writeln!(std::io::stderr().lock(), "{clock}  warning: {text}")
        } else {
            writeln!(std::io::stdout().lock(), "{clock}  {text}")
        };
    }
}

fn print_json(level: Level, fields: Fields, node: Option<Map<String, Value>>) {
    let mut data = match serde_json::from_str::<Value>(&fields.data) {
        Ok(Value::Object(data)) => data,
        _ => Map::new(),
    };
    for (key, value) in fields.other {
        data.entry(key).or_insert(Value::from(value));
    }
    if let Some(node) = node {
        data.entry("node_info").or_insert(Value::Object(node));
    }
    let line = json!({
        "info": {
            "name": fields.name,
            "code": "",
            "category": "",
            "level": level.as_str().to_ascii_lowercase(),
            "msg": fields.message,
            "ts": timestamp(),
            "invocation_id": crate::invocation::id(),
            "pid": std::process::id(),
            "thread": std::thread::current().name().unwrap_or("main"),
            "extra": {},
        },
        "data": data,
    });
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// dbt's event name for events that do not carry one.
fn default_name(target: &str, level: Level) -> &'static str {
    match (target, level) {
        (console::USER_TARGET, Level::WARN) => "JinjaLogWarning",
        (console::USER_TARGET, Level::INFO) => "JinjaLogInfo",
        (console::USER_TARGET, _) => "JinjaLogDebug",
        ("ghforge::sql", _) => "SQLQuery",
        _ => "DebugLine",
    }
}

/// The node status label `[OK in 0.12s]` in green, `[ERROR ...]` red, `[SKIP]`/`[WARN ...]`
/// yellow.
fn colored(text: &str, status: &str) -> String {
    let code = match status {
        "ok" => "\u{1b}[32m",
        "error" => "\u{1b}[31m",
        "skip" => "\u{1b}[33m",
        _ => return text.to_owned(),
    };
    match (text.rfind(" ["), text.ends_with(']')) {
        (Some(open), true) => format!(
            "{} [{code}{}\u{1b}[0m]",
            &text[..open],
            &text[open + 2..text.len() - 1]
        ),
        _ => text.to_owned(),
    }
}

fn timestamp() -> String {
    crate::clock::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Install the subscriber (once per process): the console with `options`, and the debug log
/// filtered by `file_filter` (`GHFORGE_LOG`'s value).
pub fn init(options: ConsoleOptions, file_filter: Option<&str>) {
    let file = FILE.get_or_init(|| LogFile(Arc::new(Mutex::new(Sink::Buffer(Vec::new())))));
    let filter = file_filter
        .and_then(|text| EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| EnvFilter::new("ghforge=debug"));
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_thread_names(true)
        .with_writer(file.clone())
        .with_filter(filter);
    // A second call (tests that run commands in-process) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(ConsoleLayer(options))
        .try_init();
}

/// Start writing to `<target_dir>/logs/ghforge.log`, after what was buffered. A log that cannot
/// be written is not worth failing a command for: the error is returned for the caller to warn.
pub fn open(target_dir: &Path) -> std::io::Result<()> {
    let Some(file) = FILE.get() else {
        return Ok(());
    };
    let folder = target_dir.join("logs");
    std::fs::create_dir_all(&folder)?;
    let mut opened = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(folder.join("ghforge.log"))?;
    let mut sink = file.0.lock().unwrap_or_else(PoisonError::into_inner);
    if let Sink::Buffer(buffer) = &*sink {
        opened.write_all(buffer)?;
    }
    *sink = Sink::File(opened);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bracketed_status_is_coloured() {
        assert_eq!(
            colored("1 of 2 OK created model a .... [OK in 0.10s]", "ok"),
            "1 of 2 OK created model a .... [\u{1b}[32mOK in 0.10s\u{1b}[0m]"
        );
        assert_eq!(colored("Found 2 models [x]", ""), "Found 2 models [x]");
    }
}
