#!/usr/bin/env bash
# Benchmark: parse + compile a generated project of N models (default 10,000) with 5-20 refs,
# macros and config per model, plus two tests per model. Prints wall time and peak memory of
# `ghforge compile` (parse phase, DAG, compile phase, manifest and SQL files written) and of
# `ghforge ls` (parse phase and DAG only). Target: under 1 s for 10,000 models on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
N="${1:-10000}"
cargo build --quiet --bin ghforge --example gen_project
BIN="$CARGO_TARGET_DIR/debug"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$BIN/examples/gen_project" "$WORK/project" "$N" >/dev/null
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; project: $N models, $((2 * N)) tests"
measure() {
  local label=$1; shift
  local best=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null
    read -r secs kib <"$WORK/time"
    if [ -z "$best" ] || awk "BEGIN {exit !($secs < ${best%% *})}"; then best="$secs $kib"; fi
  done
  read -r secs kib <<<"$best"
  printf '%-34s wall %6.2f s   peak RSS %6.0f MiB   (best of 3)\n' "$label" "$secs" "$((kib / 1024))"
}
measure "ghforge ls (parse + DAG)" "$BIN/ghforge" ls --project-dir "$WORK/project" --output name
measure "ghforge compile (parse + compile)" "$BIN/ghforge" compile --project-dir "$WORK/project"
