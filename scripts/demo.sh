#!/usr/bin/env bash
# The main job, offline, on the bundled GH Archive project with the embedded DuckDB default:
# list the project's DAG and compile it. (Loading and running land with the loader and run
# issues; this script grows with them.)
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
echo "Compiled SQL is under ghforge-target/compiled/, the manifest is ghforge-target/manifest.json."
