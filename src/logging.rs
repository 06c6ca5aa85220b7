//! The debug log: every command with a project appends to `<target-path>/logs/ghforge.log`
//! (dbt's `logs/dbt.log`), through `tracing`: each statement a warehouse session runs, with its
//! node (the `node` span), duration and rows. `GHFORGE_LOG` filters it (an `EnvFilter`, default
//! `ghforge=debug`). Events before the project's folder is known are buffered, then written.
//!
//! Secrets never reach it: S3 keys and profile `settings` are applied on the raw connection
//! when a database is opened, not through a session.
//!
//! Messages of the project's own templates (`log(..., info=True)`, `exceptions.warn`) are
//! events of target [`USER_TARGET`]; they are printed like every other console line (one JSON
//! object per line with `--log-format json`) and kept in the debug log too.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::console::Console;

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

/// The target of messages a project's templates print.
pub const USER_TARGET: &str = "ghforge::user";

/// Prints [`USER_TARGET`] events on the console.
struct UserMessages(Console);

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.0);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for UserMessages {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        // `log()` without `info=True` is for the debug log only.
        if event.metadata().target() != USER_TARGET || *event.metadata().level() > Level::INFO {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        if *event.metadata().level() == Level::WARN {
            self.0.warn("jinja_warning", &message.0);
        } else {
            self.0.info(
                "jinja_log",
                &message.0,
                serde_json::Value::Object(Default::default()),
            );
        }
    }
}

/// Install the subscriber (once per process): the debug log, and template messages on
/// `console`. `filter` is `GHFORGE_LOG`'s value.
pub fn init(filter: Option<&str>, console: Console) {
    let file = FILE.get_or_init(|| LogFile(Arc::new(Mutex::new(Sink::Buffer(Vec::new())))));
    let filter = filter
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
        .with(UserMessages(console))
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
