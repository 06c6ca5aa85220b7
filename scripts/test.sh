#!/usr/bin/env bash
# Run every test of ghforge: unit tests, integration tests and snapshot tests, including the S3
# suite (a moto server on loopback), the Snowflake suite (fakesnow behind the project's own
# wrapper) and the browser suite (Debian's chromium and chromium-driver, installed with apt).
# Works on a fresh machine: the first run builds DuckDB from source (~30 minutes on 2 cores)
# and installs the two test servers into their own venvs under ~/.cache/ghforge.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/s3-emulator.sh --install
if [ -x scripts/snowflake-emulator.sh ]; then scripts/snowflake-emulator.sh --install-only; fi
scripts/browser.sh --install
cargo test --all-targets "$@"
