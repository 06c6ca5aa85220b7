//! Why a node failed, by phase: each variant keeps its source and prints as dbt words it
//! (`Compilation error: ...`, `Database error: ...`), which is the node's `message` in
//! `run_results.json` and in the end-of-run summary.

use std::path::PathBuf;

use crate::adapters::AdapterError;
use crate::error::Diagnostic;
use crate::materialize::PlanError;
use crate::storage::StorageError;

use super::node::StepError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Introspection (relation type, columns) failed.
    #[error("Database error: {}", .0.message)]
    Introspect(#[from] AdapterError),
    #[error("Compilation error: {0}")]
    Compile(Diagnostic),
    #[error("Compilation error in a hook: {0}")]
    CompileHook(Diagnostic),
    /// An external model's `location` is not a folder or `s3://` URL.
    #[error("Compilation error: `location`: {0}")]
    Location(String),
    #[error("Storage error: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Step(#[from] StepError),
}

/// Why work outside any one node failed: opening a connection, compiling the ephemeral models
/// a selection needs, or a project hook (`on-run-start`, `on-run-end`).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("Database error: cannot open a connection: {0}")]
    Connect(AdapterError),
    #[error("{0}")]
    Compile(Diagnostic),
    #[error("Database error in a project hook: {}", .0.message)]
    Hook(AdapterError),
}
