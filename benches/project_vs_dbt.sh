#!/usr/bin/env bash
# Differential check and benchmark on the shipped GH Archive project: generated archive hours
# (default 3, 5000 events each, duplicates and malformed lines) loaded into bronze by
# `ghforge load`, plus repository metadata as `ghforge enrich` stores it for the busiest
# repositories; then the same bronze built by `ghforge build` and by `dbt build` (dbt-duckdb,
# own venv, the project unmodified but for the project file's name). Prints both wall times and
# the ratio, then checks that every silver and gold relation holds the same rows in both
# databases (doubles compared to 9 decimals: parallel sums may differ in the last bits).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
HOURS="${1:-3}"
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
LAST="2024-05-01T$(printf %02d $((HOURS - 1)))"  # HOURS: 1..24
"$BIN/ghforge" gen-archive --from 2024-05-01T00 --to "$LAST" --out "$WORK/archive" \
  --events-per-hour 5000 --faults dupes,malformed >/dev/null
for tool in ghforge dbt; do
  mkdir -p "$WORK/$tool"
  cp -r models macros seeds tests "$WORK/$tool/"
  rm -rf "$WORK/$tool/tests/snapshots"
  cp ghforge_project.yml "$WORK/$tool/dbt_project.yml"
  printf 'gharchive:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: %s.duckdb\n      threads: %s\n' \
    "$tool" "$(nproc)" >"$WORK/$tool/profiles.yml"
done
(cd "$WORK/ghforge" && "$BIN/ghforge" load --from 2024-05-01T00 --to "$LAST" --source "$WORK/archive" >/dev/null)
"$PEERS/bin/python" - "$WORK/ghforge/ghforge.duckdb" <<'PY'
import json, sys, duckdb
con = duckdb.connect(sys.argv[1])
repos = con.execute("""
    select cast(json_extract_string(repo, '$.id') as bigint) as id, max(json_extract_string(repo, '$.name')) as name
    from bronze.events group by 1 order by count(*) desc, 1 limit 60""").fetchall()
languages = ["Rust", "Python", None, "Go", "TypeScript"]
for i, (repo_id, name) in enumerate(repos):
    if i % 12 == 11:
        con.execute("insert into bronze.repo_metadata values (?, 'gone', 404, null, timestamp '2024-05-02', null)", [name])
        continue
    body = {"id": repo_id, "full_name": name, "stargazers_count": 10 * i, "forks_count": i,
            "subscribers_count": i % 7, "open_issues_count": i % 5, "language": languages[i % 5],
            "license": {"spdx_id": "MIT"} if i % 2 else None, "topics": ["cli", f"t{i}"][: i % 3],
            "created_at": "2015-03-01T10:00:00Z", "pushed_at": "2024-04-30T23:00:00Z",
            "archived": i % 9 == 0, "fork": i % 4 == 0}
    con.execute("insert into bronze.repo_metadata values (?, 'ok', 200, ?, timestamp '2024-05-02', ?)",
                [name, f'"etag-{i}"', json.dumps(body)])
PY
cp "$WORK/ghforge/ghforge.duckdb" "$WORK/dbt/dbt.duckdb"
seconds() { /usr/bin/time -f "%e" -o "$WORK/time" "$@" >"$WORK/log" 2>&1 || { tail -40 "$WORK/log"; exit 1; }; cat "$WORK/time"; }
G=$(cd "$WORK/ghforge" && seconds "$BIN/ghforge" build)
D=$(cd "$WORK/dbt" && seconds env DBT_SEND_ANONYMOUS_USAGE_STATS=false "$PEERS/bin/dbt" build --profiles-dir .)
echo "project: the shipped GH Archive project, $HOURS generated hours, $(nproc) threads (ghforge: debug build)"
printf 'ghforge build %8.2f s\ndbt build     %8.2f s   (dbt-duckdb)\n' "$G" "$D"
awk -v g="$G" -v d="$D" 'BEGIN { printf "ratio         %8.1fx faster\n", d / (g > 0 ? g : 0.01) }'
cd "$WORK"
"$PEERS/bin/python" - <<'PY'
import duckdb
con = duckdb.connect()
con.execute("attach 'ghforge/ghforge.duckdb' as g (read_only)")
con.execute("attach 'dbt/dbt.duckdb' as d (read_only)")
tables = con.execute("""select table_schema, table_name from information_schema.tables
    where table_catalog = 'd' and table_schema in ('silver', 'gold') order by 1, 2""").fetchall()
different = []
for schema, name in tables:
    columns = con.execute("""select column_name, data_type from information_schema.columns
        where table_catalog = 'd' and table_schema = ? and table_name = ? order by ordinal_position""",
        [schema, name]).fetchall()
    select = ", ".join(f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in columns)
    g, d = (f'select {select} from {db}."{schema}"."{name}"' for db in ("g", "d"))
    rows = con.execute(f"select count(*) from ({g})").fetchone()[0]
    differ = con.execute(f"select count(*) from (({g}) except all ({d})) union all select count(*) from (({d}) except all ({g}))").fetchall()
    if rows != con.execute(f"select count(*) from ({d})").fetchone()[0] or any(n for (n,) in differ):
        different.append(f"{schema}.{name}")
print(f"identical silver and gold relations: {len(tables) - len(different)} of {len(tables)}")
if different:
    print("different: " + ", ".join(different))
    raise SystemExit(1)
PY
# `docs generate` on both: the same catalog entries, relation types, columns, their order and
# types (the database is each file's own name; timestamps and ids differ by nature).
(cd "$WORK/ghforge" && "$BIN/ghforge" docs generate >"$WORK/log" 2>&1) || { tail -20 "$WORK/log"; exit 1; }
(cd "$WORK/dbt" && env DBT_SEND_ANONYMOUS_USAGE_STATS=false "$PEERS/bin/dbt" docs generate --profiles-dir . >"$WORK/log" 2>&1) || { tail -20 "$WORK/log"; exit 1; }
python3 - ghforge/ghforge-target/catalog.json dbt/ghforge-target/catalog.json <<'PY'
import json, sys
def entries(path):
    catalog = json.load(open(path))
    out = {}
    for kind in ("nodes", "sources"):
        for unique_id, entry in catalog[kind].items():
            meta = {k: v for k, v in entry["metadata"].items() if k != "database"}
            columns = [(c["index"], name, c["type"]) for name, c in entry["columns"].items()]
            out[unique_id] = (meta, sorted(columns), entry["stats"])
    return out
g, d = entries(sys.argv[1]), entries(sys.argv[2])
same = [k for k in d if g.get(k) == d[k]]
print(f"catalog.json entries equal to dbt docs generate's: {len(same)} of {len(d)} (ghforge has {len(g)})")
if len(same) != len(d) or len(g) != len(d):
    print("different: " + ", ".join(sorted(set(g) ^ set(d) | {k for k in d if g.get(k) != d[k]})))
    raise SystemExit(1)
PY
