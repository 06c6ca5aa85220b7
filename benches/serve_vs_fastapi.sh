#!/usr/bin/env bash
# Benchmark: requests/s and p50/p99 latency of the three seed endpoints of `ghforge serve`
# (events per type in the last hour, average time between pull requests of a repository, the
# most active repositories) with 32 concurrent clients over a 24-hour gold, side by side with
# the obvious alternative a user would write: a small FastAPI + uvicorn app (own venv) running
# the same SQL on the same DuckDB snapshot file. Build profile: dev (deps at opt-level 2, ours
# at 1), as every bench of this repository.
#
#   benches/serve_vs_fastapi.sh [EVENTS_PER_HOUR=20000] [SECONDS=10] [CLIENTS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
PER_HOUR="${1:-20000}"
SECONDS_EACH="${2:-10}"
CLIENTS="${3:-32}"
VENV="${GHFORGE_CACHE:-$HOME/.cache/ghforge}/fastapi-venv"
if [ ! -x "$VENV/bin/uvicorn" ]; then
  echo "installing fastapi + uvicorn + duckdb 1.5 into $VENV ..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check fastapi 'uvicorn[standard]' 'duckdb>=1.5,<1.6'
fi
cargo build --quiet --bin ghforge --example http_load
BIN="$CARGO_TARGET_DIR/debug/ghforge"
LOAD="$CARGO_TARGET_DIR/debug/examples/http_load"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
for folder in models macros seeds; do cp -r "$folder" "$WORK/"; done
mkdir -p "$WORK/tests" && cp -r tests/project "$WORK/tests/"
cp ghforge_project.yml profiles.yml "$WORK/"
cd "$WORK"
"$BIN" gen-archive --from 2024-05-01T00 --to 2024-05-01T23 --out archive --events-per-hour "$PER_HOUR" >/dev/null
"$BIN" load --from 2024-05-01T00 --to 2024-05-01T23 --source "$WORK/archive" | tail -1
"$BIN" build | tail -2
SNAPSHOT="$(ls ghforge-target/serve/*.duckdb | tail -1)"
REPO="$("$VENV/bin/python" -c "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); print(c.sql('select repo_name from gold.repo_pr_cadence order by pr_events desc limit 1').fetchone()[0])" "$SNAPSHOT")"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

GH_PORT="$(free_port)"
"$BIN" serve --port "$GH_PORT" >serve.log 2>&1 &
PIDS+=($!)

cat >app.py <<'PY'
# The obvious FastAPI app over the same DuckDB file: one read-only connection, a cursor per
# request, the same SQL and parameters as ghforge serve.
import os
import duckdb
from fastapi import FastAPI, HTTPException, Query

db = duckdb.connect(os.environ["SNAPSHOT"], read_only=True)
app = FastAPI()

@app.get("/api/events/count")
def events_count(offset: int = Query(60, ge=1, le=43200)):
    cur = db.cursor()
    as_of = cur.execute("select max(created_at) from _ghforge.events").fetchone()[0]
    rows = cur.execute(
        "select type, count(*) as events from _ghforge.events "
        "where created_at > ?::timestamp - to_minutes(?) and created_at <= ?::timestamp "
        "group by type order by events desc, type", [as_of, offset, as_of]).fetchall()
    return {"as_of": as_of.isoformat() + "Z", "offset_minutes": offset,
            "counts": [{"type": t, "count": n} for t, n in rows]}

@app.get("/api/repository/{owner}/{name}/avg_pr_time")
def avg_pr_time(owner: str, name: str):
    repo = f"{owner}/{name}"
    row = db.cursor().execute(
        "select repo_name, pr_events, avg_seconds_between_pr_events from gold.repo_pr_cadence "
        "where lower(repo_name) = lower(?) order by pr_events desc limit 1", [repo]).fetchone()
    if row is None:
        raise HTTPException(404, f"no repository {repo}")
    return {"repo": row[0], "pull_requests": row[1], "avg_seconds_between": row[2]}

@app.get("/api/repositories/active")
def active(limit: int = Query(10, ge=1, le=1000), offset: int = Query(1440, ge=1, le=43200)):
    cur = db.cursor()
    as_of = cur.execute("select max(created_at) from _ghforge.events").fetchone()[0]
    rows = cur.execute(
        "select max_by(repo_name, created_at) as repo, count(*) as events, count(*) over () "
        "from _ghforge.events where created_at > ?::timestamp - to_minutes(?) "
        "and created_at <= ?::timestamp and repo_id is not null "
        "group by repo_id order by events desc, repo limit ?", [as_of, offset, as_of, limit]).fetchall()
    return {"as_of": as_of.isoformat() + "Z", "offset_minutes": offset,
            "total": rows[0][2] if rows else 0,
            "repositories": [{"repo": r, "events": n} for r, n, _ in rows]}
PY
PY_PORT="$(free_port)"
SNAPSHOT="$SNAPSHOT" "$VENV/bin/uvicorn" app:app --host 127.0.0.1 --port "$PY_PORT" --log-level warning >uvicorn.log 2>&1 &
PIDS+=($!)
for port in "$GH_PORT" "$PY_PORT"; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/api/events/count" >/dev/null 2>&1 && break; sleep 0.1; done
done
EVENTS="$("$VENV/bin/python" -c "import duckdb,sys; print(duckdb.connect(sys.argv[1], read_only=True).sql('select count(*) from _ghforge.events').fetchone()[0])" "$SNAPSHOT")"
echo
echo "24-hour gold: $EVENTS events, $CLIENTS clients, ${SECONDS_EACH}s per endpoint and server; $(nproc) cores; dev profile"
for path in "/api/events/count?offset=60" "/api/repository/$REPO/avg_pr_time" "/api/repositories/active?limit=10&offset=1440"; do
  echo "$path"
  printf '  ghforge serve    '; "$LOAD" "http://127.0.0.1:$GH_PORT$path" --clients "$CLIENTS" --seconds "$SECONDS_EACH"
  printf '  fastapi+uvicorn  '; "$LOAD" "http://127.0.0.1:$PY_PORT$path" --clients "$CLIENTS" --seconds "$SECONDS_EACH"
done
