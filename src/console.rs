//! What commands print: human lines or one JSON object per event (`--log-format json`).

use std::io::Write;

use serde_json::{Value, json};

use crate::cli::LogFormat;

/// The console of one command invocation.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub format: LogFormat,
    pub color: bool,
}

impl Console {
    /// An informational event: `text` for humans, `fields` added to the JSON form.
    pub fn info(&self, event: &str, text: &str, fields: Value) {
        self.emit(event, "info", text, fields);
    }

    /// A warning, printed to stderr in text mode.
    pub fn warn(&self, event: &str, text: &str) {
        match self.format {
            LogFormat::Text => {
                let _ = writeln!(std::io::stderr(), "warning: {text}");
            }
            LogFormat::Json => self.emit(event, "warn", text, json!({})),
        }
    }

    fn emit(&self, event: &str, level: &str, text: &str, fields: Value) {
        let mut out = std::io::stdout().lock();
        let _ = match self.format {
            LogFormat::Text => writeln!(out, "{text}"),
            LogFormat::Json => {
                let mut object = json!({"event": event, "level": level, "msg": text});
                if let (Value::Object(target), Value::Object(extra)) = (&mut object, fields) {
                    target.extend(extra);
                }
                writeln!(out, "{object}")
            }
        };
    }
}
