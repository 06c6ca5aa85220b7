#!/usr/bin/env bash
# Run every test of ghforge: unit tests, integration tests and snapshot tests.
# Works on a fresh machine: the first run builds DuckDB from source (~30 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo test --all-targets "$@"
