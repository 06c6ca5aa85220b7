# Shared build environment for scripts and CI (source it, do not run it).
# - One persistent cargo target folder outside the clone, so the ~30-minute DuckDB C++ build is
#   done once per machine and reused by every clone, CI run and script.
# - ccache for C/C++ when available, so even a changed build script reuses compiled objects.
#   The same CC/CXX must be used every time (the DuckDB build re-runs when they change).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ghforge/target}"
if ! command -v ccache >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get install -y -qq ccache >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq ccache >/dev/null 2>&1)) || true
fi
if command -v ccache >/dev/null 2>&1; then
  export CC="ccache gcc" CXX="ccache g++"
fi
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
