#!/usr/bin/env bash
# A real S3 server on loopback for the tests: moto_server (moto 5.2.5) in its own venv, plus
# DuckDB's httpfs extension file (duckdb-extension-httpfs 1.5.5, the build of the DuckDB that
# ghforge embeds) so DuckDB can read and write s3:// offline.
#
#   scripts/s3-emulator.sh --install      create the venv (idempotent), print nothing else
#   scripts/s3-emulator.sh --httpfs       print the path of httpfs.duckdb_extension
#   scripts/s3-emulator.sh [--port N]     start moto_server on 127.0.0.1 (a free port by default)
#                                         and print `PORT` once it answers; the process becomes
#                                         the server, so killing it stops the server
set -euo pipefail
VENV="${GHFORGE_CACHE:-$HOME/.cache/ghforge}/s3-venv"
if [ ! -x "$VENV/bin/moto_server" ] || [ ! -d "$VENV/lib" ] || ! ls "$VENV"/lib/python3*/site-packages/duckdb_extension_httpfs >/dev/null 2>&1; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'duckdb-extension-httpfs==1.5.5' >&2
fi
case "${1:-}" in
  --install) exit 0 ;;
  --httpfs)
    ls "$VENV"/lib/python3*/site-packages/duckdb_extension_httpfs/extensions/v1.5.5/httpfs.duckdb_extension
    exit 0
    ;;
esac
PORT=0
if [ "${1:-}" = "--port" ]; then PORT="$2"; fi
if [ "$PORT" = 0 ]; then
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
# Print the port once the server answers, from a watcher in the background, while the server
# itself takes this process's place: whoever started the script can stop the server by
# killing it.
(
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/')" 2>/dev/null; then
      echo "$PORT"
      exit 0
    fi
    sleep 0.1
  done
  echo "moto_server did not answer on port $PORT" >&2
) &
exec "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1
