#!/usr/bin/env bash
# The main job, offline, on the bundled GH Archive project with the embedded DuckDB default:
# list the project's DAG, compile it, and load the seeds into `ghforge.duckdb`. (Loading archive
# hours into bronze lands with the loader issue; then this script runs the whole pipeline.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --quiet
GHFORGE="$CARGO_TARGET_DIR/debug/ghforge"
echo "== ghforge ls --select gold+ (what a gold run builds and tests)"
"$GHFORGE" ls --select "+gold.*"
echo
echo "== ghforge compile"
"$GHFORGE" compile
echo
echo "== ghforge seed (into the embedded DuckDB file ghforge.duckdb)"
"$GHFORGE" seed
echo
echo "Compiled SQL is under ghforge-target/compiled/; manifest.json and run_results.json are in ghforge-target/."
