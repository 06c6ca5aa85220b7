#!/usr/bin/env bash
# Vendor Chart.js from the npm registry into assets/vendor/ (the dashboard embeds it in the
# binary with include_bytes!, so pages never load anything from another host).
# Usage: scripts/vendor-chartjs.sh [version]   (default: the pinned version below)
set -euo pipefail
version="${1:-4.6.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
tarball="$(npm pack --silent "chart.js@$version")"
tar -xzf "$tarball"
install -m 0644 package/dist/chart.umd.min.js "$root/assets/vendor/chart.umd.min.js"
install -m 0644 package/LICENSE.md "$root/assets/vendor/chart.js.LICENSE.md"
echo "chart.js@$version ($(sha256sum "$tarball" | cut -c1-16)…) -> assets/vendor/"
