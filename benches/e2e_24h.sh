#!/usr/bin/env bash
# End-to-end benchmark of the main job: generate 24 hours of GH Archive (default 24 x 90,000 =
# 2,160,000 events, full payloads, with duplicates and malformed lines), `ghforge load` them
# into the embedded DuckDB, then `ghforge build` the bundled medallion project (silver, gold
# and every data test). Prints wall time and peak RSS of each step with the DuckDB version and
# the thread count.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PER_HOUR="${1:-90000}"
cargo build --quiet --bin ghforge
BIN="$CARGO_TARGET_DIR/debug/ghforge"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for folder in models macros seeds tests; do cp -r "$folder" "$WORK/"; done
rm -rf "$WORK/tests/"*.rs "$WORK/tests/fixtures" "$WORK/tests/snapshots" "$WORK/tests/common" "$WORK/tests/support"
cp ghforge_project.yml profiles.yml "$WORK/"
"$BIN" gen-archive --from 2024-05-01T00 --to 2024-05-01T23 --out "$WORK/archive" --events-per-hour "$PER_HOUR" --era full --faults dupes,malformed >/dev/null
measure() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }; read -r SECS KIB <"$WORK/time"; }
measure "$BIN" load --project-dir "$WORK" --from 2024-05-01T00 --to 2024-05-01T23 --source "$WORK/archive"
LOAD_SECS=$SECS LOAD_KIB=$KIB
ROWS=$(grep -o 'loaded ([0-9]* rows' "$WORK/out" | grep -o '[0-9]*' || true)
measure "$BIN" build --project-dir "$WORK"
BUILD_SECS=$SECS BUILD_KIB=$KIB
SUMMARY=$(grep -E "Done\. PASS" "$WORK/out" | sed 's/^[0-9:]*  //')
"$BIN" debug --project-dir "$WORK" >"$WORK/debug"
VERSION=$(grep -o 'duckdb version: .*' "$WORK/debug")
THREADS=$(grep -o 'threads: [0-9]*' "$WORK/debug")
echo "24 hours, $((PER_HOUR * 24)) generated events ($ROWS bronze rows), $VERSION, $THREADS, $(nproc) cores"
awk -v ls="$LOAD_SECS" -v lk="$LOAD_KIB" -v bs="$BUILD_SECS" -v bk="$BUILD_KIB" -v rows="$ROWS" 'BEGIN {
  printf "load   %8.2f s  %10.0f events/s  peak RSS %5d MiB\n", ls, rows / ls, lk / 1024
  printf "build  %8.2f s                     peak RSS %5d MiB\n", bs, bk / 1024
  printf "total  %8.2f s\n", ls + bs
}'
echo "build: $SUMMARY"
