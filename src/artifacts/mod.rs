//! Artifacts in dbt's shapes, written to the target path: `manifest.json` (and, with the run
//! command, `run_results.json`).

pub mod manifest;
pub mod run_results;
