#!/usr/bin/env bash
# Start a local Snowflake emulator for tests: fakesnow behind tests/support/snowflake_server.py,
# which fixes what snowflake-connector-rs needs (JSON rowsets, error bodies, login parameters).
#
#   scripts/snowflake-emulator.sh [--port N] [--verbose] [--exit-on-stdin-eof]
#   scripts/snowflake-emulator.sh --install-only
#
# - Creates, once per machine, the venv ${GHFORGE_CACHE:-$HOME/.cache/ghforge}/fakesnow-venv with
#   the pinned packages (fakesnow needs Python duckdb 2.0, so it shares a venv with nothing else).
#   Concurrent callers wait on a lock instead of installing twice.
# - Then replaces itself (exec) with the server on 127.0.0.1, so the caller's child process IS the
#   server and killing it stops the server.
# - The first line on stdout is the port, printed once the server answers requests (--port 0,
#   the default, lets the OS pick a free one). Everything else goes to stderr.
# - --exit-on-stdin-eof: the server stops when its stdin closes. A Rust test that spawns it with
#   `Stdio::piped()` stdin gets a server that dies with the test process, even on a panic.
#
# Environment: GHFORGE_CACHE (cache folder), PYTHON (interpreter for the venv, default python3).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${GHFORGE_CACHE:-$HOME/.cache/ghforge}"
venv="$cache/fakesnow-venv"
# The 5.x Python connector breaks fakesnow 0.12.1; keep both pins together.
requirements=('fakesnow[server]==0.12.1' 'snowflake-connector-python>=4,<5')

port=0
install_only=false
server_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --install-only) install_only=true; shift ;;
    --verbose|--exit-on-stdin-eof) server_args+=("$1"); shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "snowflake-emulator: unknown argument \`$1\`" >&2; exit 2 ;;
  esac
done

# Install into the venv unless its stamp already lists exactly these requirements.
ensure_venv() {
  local stamp="$venv/.ghforge-requirements"
  local wanted
  wanted="$(printf '%s\n' "${requirements[@]}")"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  mkdir -p "$cache"
  (
    flock 9
    # Another caller may have finished the install while this one waited for the lock.
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
      exit 0
    fi
    echo "snowflake-emulator: creating $venv" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
    printf '%s\n' "$wanted" > "$stamp"
  ) 9>"$cache/fakesnow-venv.lock" 1>&2
}

ensure_venv
if $install_only; then
  exit 0
fi

exec "$venv/bin/python" "$repo/tests/support/snowflake_server.py" \
  --host 127.0.0.1 --port "$port" ${server_args[@]+"${server_args[@]}"}
