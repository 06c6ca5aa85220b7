#!/usr/bin/env bash
# Benchmark: the `quality` scenario project (tests that pass, warn and fail; a failing test that
# skips downstream models) built by `dbt build` (dbt-duckdb, own venv) and by `ghforge build`,
# each on a fresh DuckDB file. Prints both wall times and checks that every node ends with the
# same status (success/pass/warn/fail/skipped/error) and failure count in both run_results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PEERS="${GHFORGE_PEERS_VENV:-$HOME/.cache/ghforge/peers}"
if [ ! -x "$PEERS/bin/dbt" ]; then
  echo "installing dbt-duckdb into $PEERS ..."
  python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install --quiet dbt-duckdb 'dbt-core<1.12' 'duckdb>=1.5,<1.6'
fi
cargo build --quiet --bin ghforge
BIN="$CARGO_TARGET_DIR/debug"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for tool in ghforge dbt; do
  cp -r tests/fixtures/quality "$WORK/$tool"
  mv "$WORK/$tool/ghforge_project.yml" "$WORK/$tool/dbt_project.yml"
  printf 'quality:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: %s.duckdb\n      threads: 1\n' "$tool" >"$WORK/$tool/profiles.yml"
done
seconds() { /usr/bin/time -f "%e" -o "$WORK/time" "$@" >"$WORK/log" 2>&1 || true; tail -1 "$WORK/time"; }
G=$(cd "$WORK/ghforge" && seconds "$BIN/ghforge" build)
D=$(cd "$WORK/dbt" && seconds env DBT_SEND_ANONYMOUS_USAGE_STATS=false "$PEERS/bin/dbt" build --profiles-dir .)
printf 'ghforge build %8.2f s\ndbt build     %8.2f s\n' "$G" "$D"
"$PEERS/bin/python" - "$WORK/ghforge/target/run_results.json" "$WORK/dbt/target/run_results.json" <<'PY'
import json, sys
def statuses(path):
    results = json.load(open(path))["results"]
    return {r["unique_id"].split(".")[2]: (r["status"], r.get("failures")) for r in results}
ours, theirs = statuses(sys.argv[1]), statuses(sys.argv[2])
width = max(map(len, theirs))
same = 0
for name in sorted(set(ours) | set(theirs)):
    a, b = ours.get(name), theirs.get(name)
    # dbt reports failures only for tests; compare counts where dbt gives one.
    equal = a is not None and b is not None and a[0] == b[0] and (b[1] is None or a[1] == b[1])
    same += equal
    print(f"{name:<{width}}  ghforge={a}  dbt={b}  {'same' if equal else 'DIFFERENT'}")
print(f"same status for {same} of {len(set(ours) | set(theirs))} nodes")
sys.exit(0 if same == len(set(ours) | set(theirs)) else 1)
PY
