//! Serving the gold layer: [`publish`] writes serving snapshots at the end of a run,
//! [`snapshot`] opens the newest one read-only and follows newer ones, [`api`] answers the
//! JSON API over it, [`pages`] renders the dashboard, run monitoring and docs, and [`server`]
//! wires them into an axum server. The main database is never opened by the server.
//!
//! Layout under `<target-path>/`: `serve/<sequence>-<stamp>-<invocation_id>.duckdb` (snapshots)
//! and `history/<sequence>-<stamp>-<invocation_id>.json` (each run's `run_results.json`). The
//! zero-padded sequence, one more than the folder's largest, orders them, never the clock (which
//! may be fixed or go backwards).

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

/// `<sequence>-<generated_at, digits and T only>-<invocation_id>.duckdb`: names sort by
/// sequence.
pub fn snapshot_file_name(sequence: u64, generated_at: &str, invocation_id: &str) -> String {
    let stamp: String = generated_at
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("{sequence:010}-{stamp}-{invocation_id}{SNAPSHOT_EXTENSION}")
}

/// One more than the largest sequence among `files`' names (1 for none).
pub fn next_sequence(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|path| {
            path.file_name()?
                .to_str()?
                .split('-')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .map_or(1, |largest| largest + 1)
}

/// The invocation id in a snapshot or history file name.
pub fn invocation_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    stem.splitn(3, '-').nth(2).map(str::to_owned)
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
    fn snapshot_names_sort_by_sequence_whatever_the_clock_says() {
        let early = snapshot_file_name(9, "2026-01-02T03:04:05.000009Z", "ffff-1");
        let late = snapshot_file_name(10, "2026-01-02T03:04:05.000001Z", "0000-2");
        assert_eq!(early, "0000000009-20260102T030405000009-ffff-1.duckdb");
        assert!(early < late);
        assert_eq!(
            next_sequence(&[PathBuf::from(&early), PathBuf::from(&late)]),
            11
        );
        assert_eq!(next_sequence(&[]), 1);
        assert_eq!(invocation_of(Path::new(&late)).as_deref(), Some("0000-2"));
    }
}
