#!/usr/bin/env bash
# Benchmark: the same generated hours (default 5 x 200,000 = 1,000,000 events, full payloads)
# loaded by `ghforge load` and by the DuckDB CLI (duckdb-cli 1.5.6 from the peers venv:
# CREATE TABLE ... AS SELECT ... FROM read_json(...)). Prints events/s for both, the ratio
# (target >= 1.0) and ghforge's peak RSS. With a third argument N > 0, also loads one hour of N
# events (520,000 is about 1 GB uncompressed) and prints ghforge's peak RSS for it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
HOURS="${1:-5}"
PER_HOUR="${2:-200000}"
BIG="${3:-0}"
PEERS="${GHFORGE_PEERS_VENV:-$HOME/.cache/ghforge/peers}"
if [ ! -x "$PEERS/bin/duckdb" ]; then
  [ -x "$PEERS/bin/python" ] || python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install --quiet 'duckdb-cli==1.5.6'
fi
cargo build --quiet --bin ghforge
BIN="$CARGO_TARGET_DIR/debug/ghforge"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/project"
printf 'name: bench\nversion: "1.0"\nprofile: bench\n' >"$WORK/project/ghforge_project.yml"
LAST=$(printf '2024-05-01T%02d' $((HOURS - 1)))
"$BIN" gen-archive --from 2024-05-01T00 --to "$LAST" --out "$WORK/archive" --events-per-hour "$PER_HOUR" --era full >/dev/null
EVENTS=$((HOURS * PER_HOUR))
/usr/bin/time -f "%e %M" -o "$WORK/g" "$BIN" load --project-dir "$WORK/project" --from 2024-05-01T00 --to "$LAST" --source "$WORK/archive" >/dev/null
read -r G_SECS G_KIB <"$WORK/g"
cat >"$WORK/cli.sql" <<SQL
create table events as select * from read_json('$WORK/archive/*.json.gz', format = 'newline_delimited',
  columns = {id: 'varchar', type: 'varchar', actor: 'json', repo: 'json', org: 'json', payload: 'json', public: 'boolean', created_at: 'timestamp'});
SQL
/usr/bin/time -f "%e" -o "$WORK/d" "$PEERS/bin/duckdb" "$WORK/cli.duckdb" -f "$WORK/cli.sql" >/dev/null
D_SECS=$(tail -1 "$WORK/d")
echo "events: $EVENTS in $HOURS hours ($(du -sh "$WORK/archive" | cut -f1) gzip), $(nproc) cores"
awk -v n="$EVENTS" -v g="$G_SECS" -v d="$D_SECS" -v kib="$G_KIB" 'BEGIN {
  printf "ghforge load  %8.2f s  %10.0f events/s  peak RSS %d MiB\n", g, n / g, kib / 1024
  printf "duckdb CLI    %8.2f s  %10.0f events/s\n", d, n / d
  printf "ratio         %8.2f (target >= 1.0)\n", d / g
}'
if [ "$BIG" -gt 0 ]; then
  rm -rf "$WORK/archive" "$WORK/project/ghforge.duckdb"
  "$BIN" gen-archive --from 2024-06-01T12 --to 2024-06-01T12 --out "$WORK/big" --events-per-hour "$BIG" --era full --faults huge-lines >/dev/null
  RAW=$(zcat "$WORK/big/2024-06-01-12.json.gz" | wc -c)
  /usr/bin/time -f "%e %M" -o "$WORK/b" "$BIN" load --project-dir "$WORK/project" --hours 2024-06-01T12 --source "$WORK/big" --jobs 1 >/dev/null
  read -r B_SECS B_KIB <"$WORK/b"
  awk -v raw="$RAW" -v s="$B_SECS" -v kib="$B_KIB" -v n="$BIG" 'BEGIN {
    printf "one big hour  %8.2f s  %d events, %.0f MiB uncompressed, peak RSS %d MiB (target < 1536)\n", s, n, raw / 1048576, kib / 1024
  }'
fi
