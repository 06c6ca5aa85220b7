//! What commands say to the person (or CI job) running them. Each line is a `tracing` event of
//! target [`TARGET`] with a dbt event name (`LogStartLine`, `LogModelResult`, `StatsLine`, ...),
//! its text and its structured data; the console layer of `logging` prints it as a dbt-like
//! human line or as one dbt-shaped JSON object (`--log-format json`), and the debug log keeps it.

use serde_json::Value;
use tracing::Level;

use crate::cli::LogFormat;

/// The target of console events.
pub const TARGET: &str = "ghforge::console";

/// The target of messages a project's templates print (`log`, `print`, `exceptions.warn`).
pub const USER_TARGET: &str = "ghforge::user";

/// The console of one command invocation.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// How lines are printed (decides whether a progress bar may be drawn).
    pub format: LogFormat,
}

/// The bracketed status at the end of a node line, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Run,
    Ok,
    Error,
    Skip,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Skip => "skip",
        }
    }
}

/// Width dbt pads node lines to, before the status.
const LINE_WIDTH: usize = 80;

impl Console {
    /// An informational event `name`: `text` for people, `data` for `--log-format json`.
    pub fn info(&self, name: &str, text: &str, data: Value) {
        emit(Level::INFO, name, text, None, &data);
    }

    /// A warning: on stderr as `warning: ...` in text mode.
    pub fn warn(&self, name: &str, text: &str) {
        emit(Level::WARN, name, text, None, &Value::Null);
    }

    /// A node line, `message .... [label]`, its label coloured by `status` on a terminal.
    /// `data` holds `node_info` in dbt's shape.
    pub fn node_line(&self, name: &str, message: &str, status: Status, label: &str, data: &Value) {
        let dots = LINE_WIDTH
            .saturating_sub(message.chars().count() + 2)
            .max(3);
        let text = format!("{message} {} [{label}]", ".".repeat(dots));
        let level = if status == Status::Error {
            Level::ERROR
        } else {
            Level::INFO
        };
        emit(level, name, &text, Some(status), data);
    }
}

fn emit(level: Level, name: &str, text: &str, status: Option<Status>, data: &Value) {
    let status = status.map_or("", Status::as_str);
    let data = if data.is_null() {
        String::new()
    } else {
        data.to_string()
    };
    // `event!` needs its level as a constant.
    macro_rules! event_at {
        ($level:expr) => {
            tracing::event!(target: TARGET, $level, name, status, data = %data, "{text}")
        };
    }
    match level {
        Level::ERROR => event_at!(Level::ERROR),
        Level::WARN => event_at!(Level::WARN),
        Level::DEBUG => event_at!(Level::DEBUG),
        Level::TRACE => event_at!(Level::TRACE),
        _ => event_at!(Level::INFO),
    }
}
