#!/usr/bin/env bash
# The main job, offline, on the bundled GH Archive project with the embedded DuckDB default
# (`ghforge.duckdb` in the repository): generate three realistic archive hours (with duplicate
# and malformed lines), load them into bronze, then build silver and gold and test them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --quiet
GHFORGE="$CARGO_TARGET_DIR/debug/ghforge"
ARCHIVE=ghforge-target/archive
echo "== ghforge gen-archive (3 hours into $ARCHIVE)"
"$GHFORGE" gen-archive --from 2024-05-01T00 --to 2024-05-01T02 --out "$ARCHIVE" --events-per-hour 5000 --faults dupes,malformed
echo
echo "== ghforge load (bronze.events, bronze.quarantine, bronze.load_ledger)"
"$GHFORGE" load --from 2024-05-01T00 --to 2024-05-01T02 --source "$ARCHIVE"
echo
echo "== ghforge build (seeds, silver and gold models, and their tests)"
"$GHFORGE" build
echo
echo "Tables are in ghforge.duckdb; compiled SQL, manifest.json and run_results.json in ghforge-target/."
