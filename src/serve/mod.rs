//! Serving the gold layer: [`publish`] writes serving snapshots at the end of a run,
//! [`snapshot`] opens the newest one read-only and follows newer ones, [`api`] answers the
//! JSON API over it, [`pages`] renders the dashboard, run monitoring and docs, and [`server`]
//! wires them into an axum server. The main database is never opened by the server.
//!
//! Layout under `<target-path>/`: `serve/<stamp>-<invocation_id>.duckdb` (snapshots; names sort
//! by time) and `history/<stamp>-<invocation_id>.json` (each run's `run_results.json`).

pub mod api;
pub mod history;
pub mod manifest;
pub mod metrics;
pub mod pages;
pub mod problem;
pub mod publish;
pub mod server;
pub mod snapshot;

use std::path::{Path, PathBuf};

/// The extension of a finished snapshot file.
pub const SNAPSHOT_EXTENSION: &str = ".duckdb";

/// How many runs `<target-path>/history/` keeps.
pub const KEEP_HISTORY: usize = 50;

pub fn serve_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("serve")
}

pub fn history_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("history")
}

/// `<generated_at, digits and T only>-<invocation_id>.duckdb`: names sort by time.
pub fn snapshot_file_name(generated_at: &str, invocation_id: &str) -> String {
    let stamp: String = generated_at
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("{stamp}-{invocation_id}{SNAPSHOT_EXTENSION}")
}

/// The finished snapshot files of `dir` (partial ones start with a dot and are skipped).
pub fn list_snapshots(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_ending(dir, SNAPSHOT_EXTENSION)
}

/// The run history files of `dir`.
pub fn history_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    files_ending(dir, ".json")
}

fn files_ending(dir: &Path, extension: &str) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.starts_with('.') && name.ends_with(extension) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The newest finished snapshot under `<target-path>/serve/`.
pub fn newest_snapshot(target_dir: &Path) -> std::io::Result<Option<PathBuf>> {
    Ok(list_snapshots(&serve_dir(target_dir))?.pop())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_sort_by_time() {
        let early = snapshot_file_name("2026-01-02T03:04:05.000001Z", "ffff");
        let late = snapshot_file_name("2026-01-02T03:04:05.000002Z", "0000");
        assert_eq!(early, "20260102T030405000001-ffff.duckdb");
        assert!(early < late);
    }
}
