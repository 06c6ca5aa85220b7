#!/usr/bin/env bash
# Benchmark: the same generated project of N small models (default 200; views, tables and
# incremental models with 1-3 refs each, so the warehouse work stays small and the tools' own
# overhead shows) built on a fresh DuckDB file by `ghforge run` and by
# `dbt run` (dbt-duckdb, installed into its own venv by this script). Prints both wall times and
# the ratio (target: ghforge at least 20x faster), then checks that every relation holds the
# same rows in both databases.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
N="${1:-200}"
PEERS="${GHFORGE_PEERS_VENV:-$HOME/.cache/ghforge/peers}"
if [ ! -x "$PEERS/bin/dbt" ]; then
  echo "installing dbt-duckdb into $PEERS ..."
  python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install --quiet dbt-duckdb 'dbt-core<1.12' 'duckdb>=1.5,<1.6'
fi
cargo build --quiet --bin ghforge --example gen_project
BIN="$CARGO_TARGET_DIR/debug"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
P="$WORK/project"
"$BIN/examples/gen_project" "$P" "$N" 1 3 >/dev/null
mv "$P/ghforge_project.yml" "$P/dbt_project.yml"
cat >"$P/profiles.yml" <<YML
big:
  target: ghforge
  outputs:
    ghforge:
      type: duckdb
      path: ghforge.duckdb
      threads: $(nproc)
    dbt:
      type: duckdb
      path: dbt.duckdb
      threads: $(nproc)
YML
seconds() { /usr/bin/time -f "%e" -o "$WORK/time" "$@" >"$WORK/log" 2>&1 || { cat "$WORK/log"; exit 1; }; cat "$WORK/time"; }
cd "$P"
G=$(seconds "$BIN/ghforge" run --target ghforge)
D=$(seconds env DBT_SEND_ANONYMOUS_USAGE_STATS=false "$PEERS/bin/dbt" run --profiles-dir . --target dbt)
DBT_VERSION=$("$PEERS/bin/dbt" --version 2>/dev/null | awk '/installed/ {print $3; exit}')
echo "project: $N models, $(nproc) threads, DuckDB $("$PEERS/bin/python" -c 'import duckdb; print(duckdb.__version__)') (dbt side)"
printf 'ghforge run   %8.2f s\n' "$G"
printf 'dbt run       %8.2f s   (dbt-core %s, dbt-duckdb)\n' "$D" "$DBT_VERSION"
awk -v g="$G" -v d="$D" 'BEGIN { printf "ratio         %8.1fx faster (target >= 20x)\n", d / (g > 0 ? g : 0.01) }'
"$PEERS/bin/python" - <<'PY'
import duckdb
con = duckdb.connect()
# Attached under their own names, so views that name their catalog still resolve.
con.execute("attach 'ghforge.duckdb' (read_only)")
con.execute("attach 'dbt.duckdb' (read_only)")
names = [r[0] for r in con.execute(
    "select table_name from information_schema.tables where table_catalog = 'dbt' and table_schema = 'main' order by 1").fetchall()]
different = []
for name in names:
    rows = con.execute(f'select count(*) from ghforge.main."{name}"').fetchone()[0]
    extra = con.execute(f'select count(*) from (select * from ghforge.main."{name}" except all select * from dbt.main."{name}")').fetchone()[0]
    missing = con.execute(f'select count(*) from (select * from dbt.main."{name}" except all select * from ghforge.main."{name}")').fetchone()[0]
    if extra or missing or rows != con.execute(f'select count(*) from dbt.main."{name}"').fetchone()[0]:
        different.append(name)
print(f"identical relations: {len(names) - len(different)} of {len(names)}")
if different:
    print("different: " + ", ".join(different[:20]))
    raise SystemExit(1)
PY
